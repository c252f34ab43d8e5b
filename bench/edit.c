/*
 * bench/edit.c - what one write costs in memory, without a store: urbac_model_edit()
 * then urbac_snapshot_update() on a generated tenant (bench/gen.c), per kind of
 * change, and the resident memory after many edits against the start (issue 10).
 *
 * Kinds: a user added; a user disabled (and enabled again); a member added to
 * (then removed from) the user group whose size is nearest 1,000; a group added
 * to (then removed from) a role assignment's principals; a data source added to
 * (then taken off) a role assignment to that ~1,000-member group (every member's
 * profile recompiled, as bench/writes/run.mjs's assignment PATCH does). Each edit is applied to
 * the model and snapshot the previous one made, which are then freed, as a
 * server publishing every write would. Prints one tab-separated line per figure.
 *
 * Usage: edit TENANT [EDITS_PER_KIND] [EDITS_FOR_MEMORY]
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/common.h"
#include "io/objects.h"
#include "model/model.h"
#include "urbac/urbac.h"

typedef struct state {
  urbac_model *m;
  urbac_snapshot *s;
  char *group_id, *role_name; /* the objects edited */
  json_t *group, *role;       /* their bodies */
  json_t *big_role;           /* the role's body with an assignment to the group added (kind 4) */
  char *spare_group;          /* a group the role's assignment does not name */
  char *member;               /* a user not in the group */
  unsigned n;
} state;

/* Applies one put; *t_edit and *t_update are its two costs in seconds. */
static void apply(state *st, const char *kind, const char *id, const char *json, double *t_edit,
                  double *t_update)
{
  urbac_object_put p = {kind, id, json};
  urbac_model *next = NULL;
  urbac_snapshot *snap = NULL;
  urbac_diag *d = urbac_diag_new();
  double t0 = now();
  urbac_err err = urbac_model_edit(st->m, &p, 1, &next, d);
  double t1 = now();
  if (!err)
    err = urbac_snapshot_update(st->s, next, &snap, d);
  double t2 = now();
  if (err) {
    char buf[1024];
    urbac_diag_format(d, 0, buf, sizeof buf);
    fprintf(stderr, "edit: %s %s: %s\n", kind, id, buf);
    exit(1);
  }
  urbac_diag_free(d);
  urbac_snapshot_free(st->s);
  urbac_model_free(st->m);
  st->m = next;
  st->s = snap;
  *t_edit = t1 - t0;
  *t_update = t2 - t1;
}

/* Adds `value` to `list` (even k) or takes it off again (odd k), and puts `body`. */
static void toggle(state *st, json_t *list, const char *value, unsigned k, const char *kind, const char *id,
                   const json_t *body, double *te, double *tu)
{
  if (k % 2 == 0)
    json_array_append_new(list, json_string(value));
  else
    json_array_remove(list, json_array_size(list) - 1);
  char *text = json_dumps(body, JSON_COMPACT);
  apply(st, kind, id, text, te, tu);
  free(text);
}

/* The k-th edit of `kind` (0 user add, 1 user disable, 2 group member, 3 role assignment,
 * 4 the data sources of an assignment to the ~1,000-member group). */
static void one(state *st, int kind, unsigned k, double *te, double *tu)
{
  char id[64];
  switch (kind) {
  case 0: {
    char json[128];
    snprintf(id, sizeof id, "bench-user-%u", st->n++);
    snprintf(json, sizeof json, "{\"id\":\"%s\"}", id);
    apply(st, "user", id, json, te, tu);
    return;
  }
  case 1: {
    const char *uid = urbac_model_id(st->m, URBAC_OBJ_USER, (k / 2 * 7919u) % 1000);
    char json[256];
    snprintf(id, sizeof id, "%s", uid);
    snprintf(json, sizeof json, "{\"id\":\"%s\",\"enabled\":%s}", id, k % 2 ? "true" : "false");
    apply(st, "user", id, json, te, tu);
    return;
  }
  case 2:
    toggle(st, json_object_get(st->group, "members"), st->member, k, "group", st->group_id, st->group, te,
           tu);
    return;
  case 4: {
    json_t *asgs = json_object_get(st->big_role, "assignments");
    toggle(st, json_object_get(json_array_get(asgs, json_array_size(asgs) - 1), "dataSources"), "mdi", k,
           "role", st->role_name, st->big_role, te, tu);
    return;
  }
  default: {
    json_t *asg = json_array_get(json_object_get(st->role, "assignments"), 0);
    char ref[256];
    snprintf(ref, sizeof ref, "group:%s", st->spare_group);
    toggle(st, json_object_get(asg, "principals"), ref, k, "role", st->role_name, st->role, te, tu);
    return;
  }
  }
}

/* The id of the last object of `kind` that `list` does not name (as prefix + id). */
static const char *not_in(size_t n, const urbac_model *m, urbac_object_kind kind, const json_t *list,
                          const char *prefix)
{
  char ref[512];
  for (size_t i = n; i-- > 0;) {
    const char *id = urbac_model_id(m, kind, i);
    bool named = false;
    snprintf(ref, sizeof ref, "%s%s", prefix, id);
    for (size_t k = 0; k < json_array_size(list) && !named; k++)
      named = strcmp(json_string_value(json_array_get(list, k)), ref) == 0 ||
              strcmp(json_string_value(json_array_get(list, k)), id) == 0;
    if (!named)
      return id;
  }
  return "";
}

/* Picks the objects the edits change, from the tenant's objects. */
static void pick(state *st)
{
  urbac__object *o = NULL;
  size_t n = 0, best = SIZE_MAX;
  if (urbac__model_objects(st->m, &o, &n)) {
    fprintf(stderr, "edit: listing objects failed\n");
    exit(1);
  }
  for (size_t i = 0; i < n; i++) {
    json_t *b = json_loads(o[i].body, 0, NULL);
    if (strcmp(o[i].kind, "group") == 0) {
      size_t size = json_array_size(json_object_get(b, "members"));
      size_t dist = size > 1000 ? size - 1000 : 1000 - size;
      if (dist < best) {
        best = dist;
        json_decref(st->group);
        st->group = json_incref(b);
        free(st->group_id);
        st->group_id = strdup(o[i].id);
      }
    } else if (strcmp(o[i].kind, "role") == 0 && !st->role &&
               json_array_size(json_object_get(b, "assignments")) > 0) {
      st->role = json_incref(b);
      st->role_name = strdup(o[i].id);
    }
    json_decref(b);
  }
  urbac__objects_free(o, n);
  st->member = strdup(not_in(urbac_model_count(st->m, URBAC_OBJ_USER), st->m, URBAC_OBJ_USER,
                             json_object_get(st->group, "members"), ""));
  json_t *asg = json_array_get(json_object_get(st->role, "assignments"), 0);
  st->spare_group = strdup(not_in(urbac_model_count(st->m, URBAC_OBJ_GROUP), st->m, URBAC_OBJ_GROUP,
                                  json_object_get(asg, "principals"), "group:"));
  printf("group_members\t%zu\n", json_array_size(json_object_get(st->group, "members")));
}

/* A copy of `role` (the role as the edits of kind 3 left it) with an assignment to
 * group `gid` on mdo added: kind 4 toggles its data sources. */
static json_t *with_group_assignment(const json_t *role, const char *gid)
{
  char ref[256];
  snprintf(ref, sizeof ref, "group:%s", gid);
  json_t *r = json_deep_copy(role);
  json_array_append_new(
      json_object_get(r, "assignments"),
      json_pack("{s:s, s:[s], s:[s]}", "name", "bench-1000", "principals", ref, "dataSources", "mdo"));
  return r;
}

/* Puts the role's body as it is (a step of the setup, not measured). */
static void put_role(state *st, const json_t *role)
{
  char *text = json_dumps(role, JSON_COMPACT);
  double a, b;
  apply(st, "role", st->role_name, text, &a, &b);
  free(text);
}

int main(int argc, char **argv)
{
  static const char *const kinds[] = {"user_add", "user_disable", "group_member_1000", "role_assignment",
                                      "group_assignment_sources"};
  state st = {0};
  urbac_diag *d = urbac_diag_new();
  if (argc < 2) {
    fprintf(stderr, "usage: edit TENANT [EDITS_PER_KIND] [EDITS_FOR_MEMORY]\n");
    return 2;
  }
  unsigned per = argc > 2 ? (unsigned)atoi(argv[2]) : 200, total = argc > 3 ? (unsigned)atoi(argv[3]) : 10000;
  double t0 = now();
  if (urbac_tenant_load_file(argv[1], &st.m, d) || urbac_snapshot_compile(st.m, &st.s, d)) {
    char buf[1024];
    urbac_diag_format(d, 0, buf, sizeof buf);
    fprintf(stderr, "edit: %s\n", buf);
    return 1;
  }
  printf("users\t%zu\nload_compile_s\t%.2f\n", urbac_model_count(st.m, URBAC_OBJ_USER), now() - t0);
  pick(&st);
  double start =
      rss_mib(); /* after pick(), whose listing of every object is freed but leaves the heap larger */
  double *te = calloc(per, sizeof *te), *tu = calloc(per, sizeof *tu), *tt = calloc(per, sizeof *tt);
  for (int k = 0; k < 5; k++) {
    if (k == 4) /* the assignment to the group added (not measured) */
      put_role(&st, st.big_role = with_group_assignment(st.role, st.group_id));
    for (unsigned i = 0; i < per; i++) {
      one(&st, k, i, &te[i], &tu[i]);
      tt[i] = te[i] + tu[i];
    }
    qsort(te, per, sizeof *te, cmp_double);
    qsort(tu, per, sizeof *tu, cmp_double);
    qsort(tt, per, sizeof *tt, cmp_double);
    printf("%s_ms\tedit p50 %.3f\tupdate p50 %.3f\ttotal p50 %.3f p99 %.3f max %.3f\n", kinds[k],
           te[per / 2] * 1e3, tu[per / 2] * 1e3, tt[per / 2] * 1e3, tt[per * 99 / 100] * 1e3,
           tt[per - 1] * 1e3);
  }
  put_role(&st, st.role); /* the assignment taken off again: the mixed edits start from the tenant */
  double before = rss_mib();
  size_t profiles_before = urbac_snapshot_profiles(st.s);
  t0 = now();
  for (unsigned i = 0; i < total; i++) {
    double a, b;
    one(&st, (int)(i % 4), i / 4, &a, &b);
  }
  printf("mixed_edits\t%u in %.2f s\n", total, now() - t0);
  printf("rss_mib\tafter compile and setup %.1f\tbefore the %u edits %.1f\tafter %.1f\n", start, total,
         before, rss_mib());
  printf("profiles\tbefore %zu\tafter %zu\n", profiles_before, urbac_snapshot_profiles(st.s));
  urbac_snapshot_free(st.s);
  urbac_model_free(st.m);
  json_decref(st.group);
  json_decref(st.role);
  json_decref(st.big_role);
  free(st.group_id);
  free(st.role_name);
  free(st.member);
  free(st.spare_group);
  free(te);
  free(tu);
  free(tt);
  urbac_diag_free(d);
  return 0;
}
