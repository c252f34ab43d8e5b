/*
 * tests/unit/test_edit.c - urbac_model_edit() against the full loader, and
 * urbac_snapshot_update() against the whole compile.
 *
 * Random tenants (random_tenant.h) take thousands of random small changes of
 * every kind of object: a reference added (to something that exists, or not, or
 * making a cycle), removed, a user disabled, an object added, replaced or deleted
 * (named by something or not), a workload switched. Each change is applied twice,
 * independently: by urbac_model_edit() on the current model, and as a list of
 * objects (replace in place, delete, append) loaded whole by the tenant-file
 * loader. Both must agree on whether the change is valid; when it is, both models
 * save to the same text and compile to the same effective permissions for every
 * user, and the base model saves as before (unchanged). The snapshot is carried
 * along by urbac_snapshot_update() only, edit after edit: its every user's
 * effective permissions equal those of a whole compile of the loaded tenant, and
 * users it does not list as changed have the same permissions as before. The
 * base is freed first or the edit is dropped first, at random: both orders are
 * run (under ASan too).
 */
#include <jansson.h>

#include "helpers.h"
#include "io/objects.h"
#include "model/model.h"

#include "random_tenant.h"

static char *save(const urbac_model *m)
{
  char *out = NULL;
  size_t len;
  assert_int_equal(urbac_tenant_save_buffer(m, URBAC_FORMAT_JSON, &out, &len, NULL), URBAC_OK);
  return out;
}

static int effective_line(void *ctx, const urbac_effective_entry *e)
{
  char g[256];
  urbac_grant_format(e->grant, g, sizeof g);
  json_array_append_new(ctx, json_sprintf("%zu %s %s", e->workload, g, e->scope));
  return 0;
}

/* User u's effective permissions in `s`, as JSON. */
static json_t *user_lines(const urbac_snapshot *s, uint32_t u)
{
  json_t *lines = json_array();
  urbac_effective(s, u, effective_line, lines);
  return lines;
}

/* Every user's effective permissions, by user id, as JSON text. */
static char *snapshot_decisions(const urbac_snapshot *s)
{
  const urbac_model *m = urbac_snapshot_model(s);
  json_t *all = json_object();
  for (uint32_t u = 0; u < urbac_model_count(m, URBAC_OBJ_USER); u++) {
    const char *id = urbac_snapshot_user_id(s, u);
    if (*id) /* not a deleted user's slot */
      json_object_set_new(all, id, user_lines(s, u));
  }
  char *text = json_dumps(all, JSON_SORT_KEYS);
  json_decref(all);
  return text;
}

/* Users `next` does not list as changed decide as in `prev` (same model indices). */
static void unchanged_alike(const urbac_snapshot *prev, const urbac_snapshot *next)
{
  const uint32_t *changed;
  size_t n, k = 0;
  if (!urbac_snapshot_changed_users(next, &changed, &n))
    return; /* compiled whole: every user may differ */
  size_t before = urbac_model_count(urbac_snapshot_model(prev), URBAC_OBJ_USER);
  for (uint32_t u = 0; u < before; u++) {
    while (k < n && changed[k] < u)
      k++;
    if (k < n && changed[k] == u)
      continue;
    json_t *a = user_lines(prev, u), *b = user_lines(next, u);
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
  }
}

/* Every user's effective permissions of a whole compile of `m`. */
static char *decisions(const urbac_model *m)
{
  urbac_snapshot *s = NULL;
  assert_int_equal(urbac_snapshot_compile(m, &s, NULL), URBAC_OK);
  char *text = snapshot_decisions(s);
  urbac_snapshot_free(s);
  return text;
}

/* ---------------------------------------------------------------- random changes */

typedef struct change {
  urbac_object_put puts[2];
  char *json[2];
  char ids[2][64];
  size_t n;
} change;

static const char *random_ref(void)
{
  static char buf[32];
  uint32_t r = rnd(10);
  if (r < 4)
    snprintf(buf, sizeof buf, "u%u", rnd(9));
  else if (r < 8)
    snprintf(buf, sizeof buf, "group:g%u", rnd(7));
  else if (r < 9)
    snprintf(buf, sizeof buf, "new%u", rnd(4));
  else
    snprintf(buf, sizeof buf, "ghost");
  return buf;
}

/* Changes one list of references (or strings) of `o` in place, if it has one. */
static void mutate_lists(json_t *o)
{
  static const char *const keys[] = {"members", "userAccess", "groups", "principals"};
  json_t *asg = json_object_get(o, "assignments");
  if (json_is_array(asg) && json_array_size(asg) && rnd(2))
    o = json_array_get(asg, rnd((uint32_t)json_array_size(asg)));
  for (size_t k = 0; k < 4; k++) {
    json_t *list = json_object_get(o, keys[k]);
    if (!json_is_array(list))
      continue;
    const char *ref = random_ref();
    if (k == 1 || k == 2) /* device-group access and legacy mde roles name groups, unprefixed */
      ref = strncmp(ref, "group:", 6) == 0 ? ref + 6 : ref;
    if (json_array_size(list) && rnd(2))
      json_array_remove(list, rnd((uint32_t)json_array_size(list)));
    else
      json_array_append_new(list, json_string(ref));
    return;
  }
  if (json_object_get(o, "enabled"))
    json_object_set_new(o, "enabled", json_boolean(rnd(2)));
  else if (json_object_get(o, "mde"))
    json_object_set_new(o, "mde", json_string(rnd(2) ? "unified" : "legacy"));
}

static void put(change *c, const char *kind, const char *id, json_t *body)
{
  size_t i = c->n++;
  snprintf(c->ids[i], sizeof c->ids[i], "%s", id);
  c->json[i] = body ? json_dumps(body, JSON_COMPACT) : NULL;
  c->puts[i] = (urbac_object_put){kind, c->ids[i], c->json[i]};
}

/* One or two random puts against objects `o`. */
static void random_change(const urbac__object *o, size_t n, change *c, unsigned *fresh)
{
  memset(c, 0, sizeof *c);
  for (size_t k = 0, want = 1 + (rnd(4) == 0); k < want && n; k++) {
    const urbac__object *x = &o[rnd((uint32_t)n)];
    if (c->n && strcmp(c->puts[0].kind, x->kind) == 0 && strcmp(c->puts[0].id, x->id) == 0)
      continue;
    json_t *body = json_loads(x->body, 0, NULL);
    assert_non_null(body);
    uint32_t what = rnd(10);
    if (what < 6) {
      mutate_lists(body);
      put(c, x->kind, x->id, body);
    } else if (what < 8 && strcmp(x->kind, "workloads") != 0 && strncmp(x->kind, "legacy.", 7) != 0) {
      char id[64];
      snprintf(id, sizeof id, "new%u", (*fresh)++ % 6);
      json_object_set_new(body, strcmp(x->kind, "role") == 0 ? "name" : "id", json_string(id));
      if (json_object_get(body, "rank"))
        json_object_set_new(body, "rank", json_integer(100 + rnd(3)));
      put(c, x->kind, id, body);
    } else if (what < 9) {
      put(c, x->kind, x->id, NULL);
    } else {
      put(c, x->kind, x->id, body);
    }
    json_decref(body);
  }
}

static void change_free(change *c)
{
  for (size_t i = 0; i < c->n; i++)
    free(c->json[i]);
}

/* The objects after change `c`, as a list: what a store would hold. */
static urbac__object *apply_to_list(const urbac__object *o, size_t n, const change *c, size_t *out_n)
{
  urbac__object *v = calloc(n + c->n + 1, sizeof *v);
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    v[k++] = o[i];
  for (size_t p = 0; p < c->n; p++) {
    size_t at = k;
    for (size_t i = 0; i < k; i++)
      if (strcmp(v[i].kind, c->puts[p].kind) == 0 && strcmp(v[i].id, c->puts[p].id) == 0)
        at = i;
    if (!c->puts[p].json) {
      if (at < k)
        memmove(&v[at], &v[at + 1], (--k - at) * sizeof *v);
      continue;
    }
    v[at] = (urbac__object){urbac__object_kind(c->puts[p].kind), (char *)c->puts[p].id,
                            (char *)c->puts[p].json, 0};
    k += at == k;
  }
  *out_n = k;
  return v;
}

/* ---------------------------------------------------------------- the property */

static void one_step(urbac_model **cur, urbac_snapshot **snap, unsigned *fresh, size_t *valid,
                     size_t *invalid)
{
  urbac__object *o = NULL;
  size_t n = 0, fn = 0;
  change c;
  assert_int_equal(urbac__model_objects(*cur, &o, &n), URBAC_OK);
  random_change(o, n, &c, fresh);
  urbac__object *final = apply_to_list(o, n, &c, &fn);
  urbac_model *want = NULL, *got = NULL;
  char *base_before = save(*cur);
  urbac_diag *d = urbac_diag_new();
  urbac_err want_err = urbac__model_from_objects("r", final, fn, "list", &want, NULL);
  urbac_err got_err = urbac_model_edit(*cur, c.puts, c.n, &got, d);
  if ((want_err == URBAC_OK) != (got_err == URBAC_OK))
    print_error("puts %s %s (%s): load %s, edit %s: %s\n", c.puts[0].kind, c.puts[0].id,
                c.json[0] ? c.json[0] : "delete", urbac_err_name(want_err), urbac_err_name(got_err),
                diag_msg(d));
  assert_int_equal(want_err == URBAC_OK, got_err == URBAC_OK);
  if (got) {
    char *a = save(got), *b = save(want), *base_after = save(*cur);
    assert_string_equal(a, b);
    assert_string_equal(base_after, base_before);
    urbac_snapshot *next = NULL;
    assert_int_equal(urbac_snapshot_update(*snap, got, &next, NULL), URBAC_OK);
    char *da = decisions(got), *db = decisions(want), *dn = snapshot_decisions(next);
    assert_string_equal(da, db);
    if (strcmp(dn, db) != 0)
      print_error("puts %s %s (%s):\nupdated %s\nwhole   %s\n", c.puts[0].kind, c.puts[0].id,
                  c.json[0] ? c.json[0] : "delete", dn, db);
    assert_string_equal(dn, db);
    unchanged_alike(*snap, next);
    free(da);
    free(db);
    free(dn);
    urbac_free(a);
    urbac_free(b);
    urbac_free(base_after);
    ++*valid;
    if (rnd(8) == 0) {
      urbac_snapshot_free(next); /* the edit first: the base must not notice */
      urbac_model_free(got);
    } else {
      urbac_snapshot_free(*snap); /* the base first: the edit keeps what it shares */
      urbac_model_free(*cur);
      *cur = got;
      *snap = next;
    }
  } else {
    ++*invalid;
  }
  urbac_free(base_before);
  urbac_model_free(want);
  urbac_diag_free(d);
  change_free(&c);
  free(final);
  urbac__objects_free(o, n);
}

static void test_edit_matches_load(void **state)
{
  (void)state;
  static char y[1 << 16];
  size_t valid = 0, invalid = 0;
  rng = 0x9e3779b97f4a7c15ull;
  for (int t = 0; t < 150; t++) {
    int nusers, ndevices;
    urbac_model *m = NULL;
    random_tenant(y, sizeof y, &nusers, &ndevices);
    assert_int_equal(urbac_tenant_load_buffer(y, strlen(y), "r.yaml", &m, NULL), URBAC_OK);
    urbac_snapshot *snap = NULL;
    assert_int_equal(urbac_snapshot_compile(m, &snap, NULL), URBAC_OK);
    unsigned fresh = 0;
    for (int s = 0; s < 30; s++)
      one_step(&m, &snap, &fresh, &valid, &invalid);
    urbac_snapshot_free(snap);
    urbac_model_free(m);
  }
  print_message("edits: %zu valid, %zu refused (as the loader refused them)\n", valid, invalid);
  assert_true(valid > 1000 && invalid > 100);
}

/* ---------------------------------------------------------------- named cases */

static const char *const base_yaml =
    "urbac: 1\ntenant: t\nusers: [{id: ann}, {id: ben}]\n"
    "groups: [{id: g1, members: [ann, group:g2]}, {id: g2, members: [ben]}]\n"
    "roles: [{name: r, permissions: [\"Security operations \\\\ Security data "
    "\\\\ Alerts (manage)\"],\n"
    "  assignments: [{name: a, principals: [group:g1], dataSources: all}]}]\n";

static urbac_err edit1(urbac_model *m, const char *kind, const char *id, const char *json, char *msg,
                       size_t size)
{
  urbac_object_put p = {kind, id, json};
  urbac_model *out = NULL;
  urbac_diag *d = urbac_diag_new();
  urbac_err err = urbac_model_edit(m, &p, 1, &out, d);
  snprintf(msg, size, "%s", diag_msg(d));
  urbac_diag_free(d);
  urbac_model_free(out);
  return err;
}

static void test_edit_refusals(void **state)
{
  (void)state;
  urbac_model *m = NULL;
  char msg[512];
  assert_int_equal(urbac_tenant_load_buffer(base_yaml, strlen(base_yaml), "t.yaml", &m, NULL), URBAC_OK);
  assert_int_equal(edit1(m, "user", "ann", NULL, msg, sizeof msg), URBAC_EDANGLING);
  assert_non_null(strstr(msg, "group 'g1' names user 'ann'"));
  assert_int_equal(edit1(m, "group", "g2", "{\"id\":\"g2\",\"members\":[\"group:g1\"]}", msg, sizeof msg),
                   URBAC_ECYCLE);
  assert_int_equal(edit1(m, "group", "g3", "{\"id\":\"g3\",\"members\":[\"zed\"]}", msg, sizeof msg),
                   URBAC_EDANGLING);
  assert_non_null(strstr(msg, "unknown user 'zed'"));
  assert_int_equal(edit1(m, "user", "cat", "{\"id\":\"dog\"}", msg, sizeof msg), URBAC_EINVAL);
  assert_int_equal(edit1(m, "user", "cat", "{\"id\":\"cat\",\"colour\":1}", msg, sizeof msg),
                   URBAC_EUNKNOWNKEY);
  assert_int_equal(edit1(m, "user", "nobody", NULL, msg, sizeof msg), URBAC_ENOTFOUND);
  assert_int_equal(edit1(m, "gadget", "x", "{}", msg, sizeof msg), URBAC_EINVAL);
  /* a valid delete: ben leaves g2, then may go */
  urbac_object_put two[2] = {{"group", "g2", "{\"id\":\"g2\",\"members\":[]}"}, {"user", "ben", NULL}};
  urbac_model *out = NULL;
  assert_int_equal(urbac_model_edit(m, two, 2, &out, NULL), URBAC_OK);
  assert_string_equal(urbac_model_id(out, URBAC_OBJ_USER, 1), ""); /* a hole: indices do not move */
  assert_string_equal(urbac_model_id(m, URBAC_OBJ_USER, 1), "ben");
  urbac_model_free(m);
  urbac_model_free(out);
}

/* Sharing: an edit of one user copies one page of users, shares the rest. */
static void test_edit_shares_pages(void **state)
{
  (void)state;
  static char y[1 << 20];
  size_t len = (size_t)snprintf(y, sizeof y, "urbac: 1\ntenant: t\nusers:\n");
  for (int i = 0; i < 2000; i++)
    len += (size_t)snprintf(y + len, sizeof y - len, "  - {id: u%d}\n", i);
  urbac_model *m = NULL, *e = NULL;
  assert_int_equal(urbac_tenant_load_buffer(y, len, "t.yaml", &m, NULL), URBAC_OK);
  urbac_object_put p = {"user", "u1000", "{\"id\":\"u1000\",\"enabled\":false}"};
  assert_int_equal(urbac_model_edit(m, &p, 1, &e, NULL), URBAC_OK);
  size_t shared = 0;
  for (size_t k = 0; k < m->users.npages; k++)
    shared += m->users.pages[k] == e->users.pages[k];
  assert_int_equal(shared, m->users.npages - 1);
  assert_ptr_equal(urbac__user_at(m, 5), urbac__user_at(e, 5)); /* objects shared, not copied */
  assert_false(urbac__user_at(e, 1000)->enabled);
  assert_true(urbac__user_at(m, 1000)->enabled);
  urbac_model_free(m);
  urbac_model_free(e);
}

/* A member swapped in a group that holds a role reaches every member of the group
 * (its accumulators are recomputed), but only the two whose decisions changed are
 * listed: the rest come out with the profile they had. */
static void test_update_lists_only_changed(void **state)
{
  (void)state;
  static char y[1 << 16];
  size_t len = (size_t)snprintf(y, sizeof y, "urbac: 1\ntenant: t\nworkloads: {mde: unified}\nusers:\n");
  for (int i = 0; i < 1000; i++) /* most outside the group: an update, not a whole compile */
    len += (size_t)snprintf(y + len, sizeof y - len, "  - {id: u%d}\n", i);
  len += (size_t)snprintf(y + len, sizeof y - len, "groups:\n  - id: g\n    members: [");
  for (int i = 0; i < 200; i++)
    len += (size_t)snprintf(y + len, sizeof y - len, "%su%d", i ? ", " : "", i);
  len += (size_t)snprintf(y + len, sizeof y - len,
                          "]\nroles:\n  - name: r\n    permissions: ['Security operations \\ Security data \\ "
                          "Alerts (manage)']\n    assignments: [{name: a, principals: ['group:g'], "
                          "dataSources: [mde]}]\n");
  urbac_model *m = NULL, *e = NULL;
  urbac_snapshot *s = NULL, *next = NULL;
  assert_int_equal(urbac_tenant_load_buffer(y, len, "t.yaml", &m, NULL), URBAC_OK);
  assert_int_equal(urbac_snapshot_compile(m, &s, NULL), URBAC_OK);
  /* u0 leaves, u200 joins */
  len = (size_t)snprintf(y, sizeof y, "{\"id\":\"g\",\"members\":[");
  for (int i = 1; i <= 200; i++)
    len += (size_t)snprintf(y + len, sizeof y - len, "%s\"u%d\"", i > 1 ? "," : "", i);
  snprintf(y + len, sizeof y - len, "]}");
  urbac_object_put p = {"group", "g", y};
  assert_int_equal(urbac_model_edit(m, &p, 1, &e, NULL), URBAC_OK);
  assert_int_equal(urbac_snapshot_update(s, e, &next, NULL), URBAC_OK);
  const uint32_t *changed;
  size_t n;
  assert_true(urbac_snapshot_changed_users(next, &changed, &n));
  assert_int_equal(n, 2);
  assert_string_equal(urbac_snapshot_user_id(next, changed[0]), "u0");
  assert_string_equal(urbac_snapshot_user_id(next, changed[1]), "u200");
  unchanged_alike(s, next);
  urbac_snapshot_free(next);
  urbac_snapshot_free(s);
  urbac_model_free(e);
  urbac_model_free(m);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_edit_refusals),
      cmocka_unit_test(test_edit_shares_pages),
      cmocka_unit_test(test_update_lists_only_changed),
      cmocka_unit_test(test_edit_matches_load),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
