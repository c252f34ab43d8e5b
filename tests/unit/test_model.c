/*
 * tests/unit/test_model.c - src/model on its own: models built by hand (no
 * loader), validation's verdicts and where it places each error, device-rule
 * matching, the read-only views, and clone (a deep copy that survives its
 * original, all or nothing when memory runs out).
 *
 * Depends on: model, util, catalog (src/ internals); io only to load the worked
 * example for the clone and view tests.
 */
#include "failing_alloc.h"
#include "helpers.h"
#include "model/model.h"

/* ---------------------------------------------------------------- models by hand */

static urbac_model *hand_model(void)
{
  urbac_model *m = urbac__model_new();
  assert_non_null(m);
  m->tenant = urbac__strdup("hand");
  m->source = urbac__strdup("hand.yaml");
  return m;
}

static void *push_obj(urbac__cow *arr, urbac__obj_kind kind)
{
  void *o = urbac__obj_new(kind);
  assert_non_null(o);
  assert_int_equal(urbac__model_push(arr, o), URBAC_OK);
  return o;
}
#define PUSH(m, arr, kind) push_obj(&(m)->arr, kind)

static urbac__loc at(uint32_t line) { return (urbac__loc){line, 5}; }

static void add_user(urbac_model *m, const char *id, uint32_t line)
{
  urbac__user *u = PUSH(m, users, URBAC__OBJ_USER);
  u->id = urbac__strdup(id);
  u->enabled = true;
  u->loc = at(line);
}

static urbac__group *add_group(urbac_model *m, const char *id, uint32_t line)
{
  urbac__group *g = PUSH(m, groups, URBAC__OBJ_GROUP);
  g->id = urbac__strdup(id);
  g->loc = at(line);
  return g;
}

static void member(urbac__refs *r, const char *name, urbac__ref_kind kind, uint32_t line, uint32_t col)
{
  assert_int_equal(urbac__refs_add(r, name, strlen(name), kind, (urbac__loc){line, col}), URBAC_OK);
}

static urbac__devgroup *add_dg(urbac_model *m, const char *id, uint32_t rank, uint32_t line)
{
  urbac__devgroup *g = PUSH(m, dgs, URBAC__OBJ_DG);
  g->id = urbac__strdup(id);
  g->rank = rank;
  g->ungrouped = strcmp(id, URBAC__UNGROUPED_ID) == 0;
  g->loc = at(line);
  return g;
}

static urbac__assignment *add_assignment(urbac__role *r, const char *name, uint32_t line)
{
  assert_int_equal(URBAC_GROW(r->asg, r->cap_asg, r->nasg + 1), URBAC_OK);
  urbac__assignment *a = &r->asg[r->nasg++];
  memset(a, 0, sizeof *a);
  a->name = urbac__strdup(name);
  a->loc = at(line);
  return a;
}

static urbac__assignment *add_role(urbac_model *m, const char *name, const char *asg, uint32_t line)
{
  urbac__role *r = PUSH(m, roles, URBAC__OBJ_ROLE);
  r->name = urbac__strdup(name);
  r->imported_wl = URBAC__NOT_IMPORTED;
  r->loc = at(line);
  return add_assignment(r, asg, line + 1);
}

/* Validates `m` and returns its errors as "CODE@line:col message\n...". */
static char *verdict(urbac_model *m, urbac_err want)
{
  urbac_diag *d = urbac_diag_new();
  assert_int_equal(urbac__model_validate(m, d), want);
  size_t cap = 4096, len = 0;
  char *out = calloc(1, cap);
  for (size_t i = 0; i < urbac_diag_count(d); i++) {
    const urbac_error *e = urbac_diag_get(d, i);
    assert_string_equal(e->file, "hand.yaml");
    len += (size_t)snprintf(out + len, cap - len, "%s@%u:%u %s\n", urbac_err_name(e->code), e->line,
                            e->column, e->message);
  }
  urbac_diag_free(d);
  return out;
}

static void assert_verdict(urbac_model *m, urbac_err want, const char *expected)
{
  char *got = verdict(m, want);
  if (strcmp(got, expected) != 0)
    print_error("got:\n%s\nwanted:\n%s\n", got, expected);
  assert_string_equal(got, expected);
  free(got);
}

/* ---------------------------------------------------------------- validation */

static void test_valid_model_resolves(void **state)
{
  (void)state;
  urbac_model *m = hand_model();
  add_user(m, "ann", 3);
  add_user(m, "ben", 4);
  urbac__group *outer = add_group(m, "outer", 6);
  member(&outer->members, "inner", URBAC__REF_GROUP, 6, 20);
  member(&outer->members, "ann", URBAC__REF_USER, 6, 27);
  urbac__group *inner = add_group(m, "inner", 7);
  member(&inner->members, "ben", URBAC__REF_USER, 7, 20);
  add_dg(m, "servers", 1, 9);
  urbac__devgroup *ug = add_dg(m, URBAC__UNGROUPED_ID, 0, 10);
  member(&ug->access, "outer", URBAC__REF_GROUP, 10, 30);
  urbac__assignment *a = add_role(m, "r", "a", 12);
  member(&a->principals, "inner", URBAC__REF_GROUP, 13, 20);
  member(&a->dgs, "servers", URBAC__REF_DG, 13, 40);
  assert_verdict(m, URBAC_OK, "");
  /* every reference holds the index it names; the maps answer by id */
  assert_int_equal(urbac__group_at(m, 0)->members.v[0].idx, 1);
  assert_int_equal(urbac__group_at(m, 0)->members.v[1].idx, 0);
  assert_int_equal(urbac__group_at(m, 1)->members.v[0].idx, 1);
  assert_int_equal(urbac__dg_at(m, 1)->access.v[0].idx, 0);
  assert_int_equal(urbac__role_at(m, 0)->asg[0].principals.v[0].idx, 1);
  assert_int_equal(urbac__role_at(m, 0)->asg[0].dgs.v[0].idx, 0);
  assert_int_equal(m->ungrouped, 1);
  uint32_t idx;
  assert_true(urbac__smap_get(&m->user_map, "ben", 3, &idx));
  assert_int_equal(idx, 1);
  assert_false(urbac__smap_get(&m->group_map, "ann", 3, &idx));
  assert_true(urbac__smap_get(&m->dg_map, "ungrouped", 9, &idx));
  assert_int_equal(idx, 1);
  urbac_model_free(m);
}

static void test_every_error_at_once(void **state)
{
  (void)state;
  urbac_model *m = hand_model();
  add_user(m, "ann", 3);
  add_user(m, "ann", 4);
  urbac__group *g = add_group(m, "ops", 6);
  member(&g->members, "nobody", URBAC__REF_USER, 6, 20);
  member(&g->members, "ops2", URBAC__REF_USER, 6, 28); /* a group written without group: */
  add_group(m, "ops2", 7);
  add_dg(m, "a", 2, 9);
  add_dg(m, "b", 2, 10);
  urbac__devgroup *c = add_dg(m, "c", 3, 11);
  member(&c->access, "ghosts", URBAC__REF_GROUP, 11, 40);
  urbac__assignment *a = add_role(m, "r", "x", 13);
  member(&a->principals, "ann", URBAC__REF_USER, 14, 20);
  member(&a->dgs, "lab", URBAC__REF_DG, 14, 40);
  add_assignment(urbac__role_at(m, 0), "x", 15);
  add_role(m, "r", "y", 17);
  urbac__legacy_members *q1 = PUSH(m, eop, URBAC__OBJ_LEGACY_MEMBERS),
                        *q2 = PUSH(m, eop, URBAC__OBJ_LEGACY_MEMBERS);
  q1->loc = at(20);
  q2->loc = at(21); /* both row 0 of the catalog */
  assert_verdict(
      m, URBAC_EINVAL,
      "EDUPLICATE@4:5 duplicate user id 'ann' (first defined at line 3)\n"
      "EDUPLICATE@17:5 duplicate role name 'r' (first defined at line 13)\n"
      "EDUPLICATE@21:5 EOP role group 'Security reader' is listed twice (first at line 20)\n"
      "EDANGLING@6:20 group 'ops' names unknown user 'nobody'\n"
      "EDANGLING@6:28 group 'ops' names unknown user 'ops2' (a group of that id exists: write group:ops2)\n"
      "EDANGLING@11:40 userAccess of device group 'c' names unknown group 'ghosts'\n"
      "EDUPLICATE@15:5 duplicate assignment name in the role 'x' (first defined at line 14)\n"
      "EDANGLING@14:40 assignment 'x' of role 'r' names unknown device group 'lab'\n"
      "ERANK@10:5 device group 'b' has rank 2, already held by 'a'\n");
  urbac_model_free(m);
}

static void test_cycles_named_in_full(void **state)
{
  (void)state;
  urbac_model *m = hand_model();
  /* a -> b -> c -> a, and d a member of itself */
  static const char *const ids[] = {"a", "b", "c", "d"};
  static const char *const next[] = {"b", "c", "a", "d"};
  for (uint32_t i = 0; i < 4; i++)
    add_group(m, ids[i], 3 + i);
  for (uint32_t i = 0; i < 4; i++)
    member(&urbac__group_at(m, i)->members, next[i], URBAC__REF_GROUP, 3 + i, 30);
  assert_verdict(m, URBAC_EINVAL,
                 "ECYCLE@5:30 group membership cycle: a -> b -> c -> a\n"
                 "ECYCLE@6:30 group membership cycle: d -> d\n");
  urbac_model_free(m);
}

static void test_empty_model_is_valid(void **state)
{
  (void)state;
  urbac_model *m = hand_model();
  assert_verdict(m, URBAC_OK, "");
  assert_int_equal(urbac_model_count(m, URBAC_OBJ_USER), 0);
  assert_null(urbac_model_id(m, URBAC_OBJ_USER, 0));
  urbac_model_free(m);
}

static void test_reference_limits(void **state)
{
  (void)state;
  urbac__refs r = {0};
  urbac__strs s = {0};
  /* names are copied with their length: no NUL needed, embedded bytes kept */
  assert_int_equal(urbac__refs_add(&r, "ann-and-more", 3, URBAC__REF_USER, at(1)), URBAC_OK);
  assert_string_equal(r.v[0].name, "ann");
  assert_int_equal(urbac__strs_add(&s, "tagged", 3), URBAC_OK);
  assert_string_equal(s.v[0], "tag");
  /* at URBAC_MAX_OBJECTS a list refuses more (the count stands in for the items) */
  size_t n = r.n;
  r.n = URBAC_MAX_OBJECTS;
  assert_int_equal(urbac__refs_add(&r, "x", 1, URBAC__REF_USER, at(1)), URBAC_ELIMIT);
  r.n = n;
  n = s.n;
  s.n = URBAC_MAX_OBJECTS;
  assert_int_equal(urbac__strs_add(&s, "x", 1), URBAC_ELIMIT);
  s.n = n;
  urbac__refs_free(&r);
  urbac__strs_free(&s);
  assert_int_equal(r.n, 0);
  assert_null(s.v);
}

/* ---------------------------------------------------------------- device rules */

static void rule(urbac__devgroup *g, unsigned prop, unsigned op, const char *value)
{
  g->rules[prop].present = true;
  assert_int_equal(urbac__strs_add(&g->rules[prop].values[op], value, strlen(value)), URBAC_OK);
}

static void test_device_rules(void **state)
{
  (void)state;
  urbac_model *m = hand_model();
  urbac__devgroup *g = add_dg(m, "g", 1, 1);
  char id[] = "srv-01", name[] = "web-01", domain[] = "corp.example", longer[] = "corp.example.org",
       os[] = "Windows11", short_os[] = "dows";
  urbac__device dev = {.id = id, .name = NULL, .domain = domain, .os = os};
  assert_false(urbac__dg_matches(g, &dev)); /* no rules: matches nothing */
  rule(g, URBAC__PROP_NAME, URBAC__OP_STARTS, "SRV-");
  assert_true(urbac__dg_matches(g, &dev)); /* the id stands in for a missing name, case-insensitively */
  dev.name = name;
  assert_false(urbac__dg_matches(g, &dev));
  rule(g, URBAC__PROP_NAME, URBAC__OP_ENDS, "-01"); /* values of one property: any */
  assert_true(urbac__dg_matches(g, &dev));
  rule(g, URBAC__PROP_DOMAIN, URBAC__OP_EQUALS, "CORP.example"); /* properties: all */
  assert_true(urbac__dg_matches(g, &dev));
  dev.domain = longer;
  assert_false(urbac__dg_matches(g, &dev));
  dev.domain = NULL; /* a missing value matches no rule */
  assert_false(urbac__dg_matches(g, &dev));
  dev.domain = domain;
  rule(g, URBAC__PROP_OS, URBAC__OP_CONTAINS, "dows1");
  assert_true(urbac__dg_matches(g, &dev));
  dev.os = short_os; /* shorter than the pattern */
  assert_false(urbac__dg_matches(g, &dev));
  dev.os = os;
  rule(g, URBAC__PROP_TAGS, URBAC__OP_EQUALS, "lab");
  assert_false(urbac__dg_matches(g, &dev)); /* no tags */
  assert_int_equal(urbac__strs_add(&dev.tags, "prod", 4), URBAC_OK);
  assert_int_equal(urbac__strs_add(&dev.tags, "LAB", 3), URBAC_OK);
  assert_true(urbac__dg_matches(g, &dev)); /* any tag */
  urbac__strs_free(&dev.tags);
  urbac_model_free(m);
}

/* ---------------------------------------------------------------- views */

static urbac_model *worked(void)
{
  char *yaml = slurp(URBAC_EXAMPLES_DIR "/worked.yaml");
  urbac_model *m = NULL;
  assert_int_equal(urbac_tenant_load_buffer(yaml, strlen(yaml), "worked.yaml", &m, NULL), URBAC_OK);
  free(yaml);
  return m;
}

static void test_views(void **state)
{
  (void)state;
  urbac_model *m = worked();
  char buf[256];
  assert_string_equal(urbac_model_tenant(m), "worked");
  assert_int_equal(urbac_model_mode(m, 2), URBAC_MODE_UNIFIED);
  assert_int_equal(urbac_model_mode(m, 0), URBAC_MODE_LEGACY);
  assert_int_equal(urbac_model_mode(m, 99), URBAC_MODE_LEGACY);
  assert_int_equal(urbac_model_count(m, URBAC_OBJ_USER), 6);
  assert_int_equal(urbac_model_count(m, URBAC_OBJ_DEVICE_GROUP), 4); /* ungrouped included */
  assert_string_equal(urbac_model_id(m, URBAC_OBJ_DEVICE_GROUP, 3), "ungrouped");
  assert_string_equal(urbac_model_id(m, URBAC_OBJ_ROLE, 0), "Identity responders");
  assert_null(urbac_model_id(m, URBAC_OBJ_GROUP, 5));
  assert_int_equal(urbac_model_count(m, (urbac_object_kind)42), 0);
  /* device groups' ranks, and which devices their rules match, whatever the rank */
  assert_int_equal(urbac_model_device_group_rank(m, 0), 1);
  assert_int_equal(urbac_model_device_group_rank(m, 3), 0); /* ungrouped */
  assert_int_equal(urbac_model_device_group_rank(m, 4), 0); /* out of range */
  assert_true(urbac_model_device_matches(m, 0, 0));         /* servers: srv-01 */
  assert_true(urbac_model_device_matches(m, 2, 0));         /* lab: srv-01 too (rank 1 wins there) */
  assert_true(urbac_model_device_matches(m, 1, 1));         /* laptops: lap-07, tagged corp */
  assert_false(urbac_model_device_matches(m, 1, 2));        /* lap-08 lacks the tag */
  assert_false(urbac_model_device_matches(m, 3, 2));        /* ungrouped has no rules */
  assert_false(urbac_model_device_matches(m, 0, 4));
  assert_false(urbac_model_device_matches(m, 4, 0));
  urbac_role_info r;
  assert_true(urbac_model_role(m, 0, &r));
  assert_string_equal(r.description, "");
  assert_int_equal(r.permissions, 2);
  assert_int_equal(r.assignments, 1);
  assert_null(r.imported_workload);
  assert_false(urbac_model_role(m, 1, &r));
  assert_int_equal(urbac_model_role_permission(m, 0, 1, buf, sizeof buf),
                   strlen("Configuration \\ System settings (read)"));
  assert_string_equal(buf, "Configuration \\ System settings (read)");
  assert_int_equal(urbac_model_role_permission(m, 0, 2, buf, sizeof buf), 0);
  assert_int_equal(urbac_model_role_permission(m, 0, 0, buf, 0), 0);
  urbac_assignment_info a;
  assert_true(urbac_model_assignment(m, 0, 0, &a));
  assert_string_equal(a.name, "idt");
  assert_int_equal(a.principals, 1);
  assert_false(a.all_sources);
  assert_int_equal(a.workloads, 1u << 2);
  assert_false(urbac_model_assignment(m, 0, 1, &a));
  assert_false(urbac_model_assignment(m, 1, 0, &a));
  bool is_group = false;
  assert_string_equal(urbac_model_assignment_principal(m, 0, 0, 0, &is_group), "idt");
  assert_true(is_group);
  assert_null(urbac_model_assignment_principal(m, 0, 0, 1, &is_group));
  assert_null(urbac_model_assignment_device_group(m, 0, 0, 0));
  urbac_model_free(m);
}

/* ---------------------------------------------------------------- clone */

static char *save(const urbac_model *m)
{
  char *out = NULL;
  size_t len;
  assert_int_equal(urbac_tenant_save_buffer(m, URBAC_FORMAT_YAML, &out, &len, NULL), URBAC_OK);
  return out;
}

static void test_clone_is_deep(void **state)
{
  (void)state;
  urbac_model *m = worked(), *c = NULL;
  char *before = save(m);
  assert_int_equal(urbac_model_clone(m, &c, NULL), URBAC_OK);
  /* nothing shared: every string and array is the copy's own */
  assert_ptr_not_equal(c->users.pages[0], m->users.pages[0]);
  assert_ptr_not_equal(urbac__user_at(c, 0)->id, urbac__user_at(m, 0)->id);
  assert_ptr_not_equal(urbac__group_at(c, 1)->members.v, urbac__group_at(m, 1)->members.v);
  assert_ptr_not_equal(urbac__role_at(c, 0)->asg[0].principals.v[0].name,
                       urbac__role_at(m, 0)->asg[0].principals.v[0].name);
  assert_ptr_not_equal(urbac__dg_at(c, 0)->rules[URBAC__PROP_NAME].values[URBAC__OP_STARTS].v,
                       urbac__dg_at(m, 0)->rules[URBAC__PROP_NAME].values[URBAC__OP_STARTS].v);
  assert_ptr_not_equal(c->user_map.slots.pages[0], m->user_map.slots.pages[0]);
  /* changing the copy leaves the original */
  urbac__user_at(c, 0)->id[0] = 'X';
  assert_string_equal(urbac__user_at(m, 0)->id, "ann");
  urbac__user_at(c, 0)->id[0] = 'a';
  /* the copy outlives its original (ASan would see a shared pointer) and saves the same */
  urbac_model_free(m);
  char *after = save(c);
  assert_string_equal(after, before);
  uint32_t idx;
  assert_true(urbac__smap_get(&c->user_map, "dan", 3, &idx)); /* its maps point into its own strings */
  assert_string_equal(urbac__user_at(c, idx)->id, "dan");
  urbac_free(before);
  urbac_free(after);
  urbac_model_free(c);
}

static void test_clone_out_of_memory(void **state)
{
  (void)state;
  urbac_model *m = worked();
  failing_alloc_on();
  urbac_err err = URBAC_ENOMEM;
  long n;
  for (n = 1; err == URBAC_ENOMEM; n++) {
    urbac_model *c = (urbac_model *)&err; /* set to NULL on failure */
    alloc_live = alloc_calls = 0;
    alloc_fail_at = n;
    err = urbac_model_clone(m, &c, NULL);
    if (err) {
      assert_int_equal(err, URBAC_ENOMEM);
      assert_null(c);
      assert_int_equal(alloc_live, 0); /* all or nothing */
    }
    urbac_model_free(c);
  }
  failing_alloc_off();
  assert_int_equal(err, URBAC_OK);
  assert_true(n > 50); /* every allocation of a real clone was failed once */
  urbac_model_free(m);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_valid_model_resolves),
      cmocka_unit_test(test_every_error_at_once),
      cmocka_unit_test(test_cycles_named_in_full),
      cmocka_unit_test(test_empty_model_is_valid),
      cmocka_unit_test(test_reference_limits),
      cmocka_unit_test(test_device_rules),
      cmocka_unit_test(test_views),
      cmocka_unit_test(test_clone_is_deep),
      cmocka_unit_test(test_clone_out_of_memory),
  };
  return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
