/*
 * tests/unit/random_change.h - what the property tests of issue 10 share: random
 * small changes of a tenant's objects (a reference added, to something that exists
 * or not or making a cycle, by id or externalId, or removed; a user disabled; an
 * externalId given, moved or taken away; an object added,
 * replaced or deleted; a workload switched), and every user's effective
 * permissions as text, to compare a snapshot with a whole compile.
 * Include after helpers.h; brings random_tenant.h (its rnd()).
 */
#ifndef URBAC_TEST_RANDOM_CHANGE_H
#define URBAC_TEST_RANDOM_CHANGE_H

#include <jansson.h>

#include "io/objects.h"
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

typedef struct change {
  urbac_object_put puts[2];
  char *json[2];
  char ids[2][64];
  size_t n;
} change;

static const char *random_ref(void)
{
  static char buf[32];
  static char xid[64];
  uint32_t r = rnd(12);
  if (r < 4)
    snprintf(buf, sizeof buf, "u%u", rnd(9));
  else if (r < 8)
    snprintf(buf, sizeof buf, "group:g%u", rnd(7));
  else if (r < 10) { /* by externalId (random_tenant.h's pool), in either case */
    snprintf(xid, sizeof xid, "%s%u-0000-0000-0000-00000000000%c", r == 8 ? "0000000" : "group:1000000",
             rnd(9), rnd(2) ? 'a' : 'A');
    return xid;
  } else if (r < 11)
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
    uint32_t how = rnd(3);
    if (json_array_size(list) && how == 0)
      json_array_remove(list, rnd((uint32_t)json_array_size(list)));
    else if (json_array_size(list) && how == 1) /* one entry replaced in place: a member swapped */
      json_array_set_new(list, rnd((uint32_t)json_array_size(list)), json_string(ref));
    else
      json_array_append_new(list, json_string(ref));
    return;
  }
  if (json_object_get(o, "enabled"))
    json_object_set_new(o, "enabled", json_boolean(rnd(2)));
  else if (json_object_get(o, "mde"))
    json_object_set_new(o, "mde", json_string(rnd(2) ? "unified" : "legacy"));
}

/* Gives a user or group another externalId from the pool (it may be held), takes
 * it away, or changes what SCIM keeps (managedBy, scim). */
static void mutate_ident(json_t *o, bool group)
{
  char xid[64];
  uint32_t r = rnd(5);
  snprintf(xid, sizeof xid, "%s%u-0000-0000-0000-00000000000%c", group ? "1000000" : "0000000", rnd(9),
           rnd(2) ? 'a' : 'A');
  if (r < 2)
    json_object_set_new(o, "externalId", json_string(xid));
  else if (r < 3)
    json_object_del(o, "externalId");
  else if (r < 4)
    json_object_set_new(o, "managedBy", json_string("scim"));
  else
    json_object_set_new(o, "scim",
                        json_pack("{s:s, s:[{s:s, s:b}], s:f, s:n}", "displayName", xid, "emails", "value",
                                  "a@example.com", "primary", rnd(2), "weight", 1.5, "z"));
}

static void put(change *c, const char *kind, const char *id, json_t *body)
{
  size_t i = c->n++;
  snprintf(c->ids[i], sizeof c->ids[i], "%s", id);
  c->json[i] = body ? json_dumps(body, JSON_COMPACT) : NULL;
  c->puts[i] = (urbac_object_put){kind, c->ids[i], c->json[i]};
}

/* Does the first put of `c` name object (kind, id)? */
static bool named_first(const change *c, const char *kind, const char *id)
{
  return c->n && strcmp(c->puts[0].kind, kind) == 0 && strcmp(c->puts[0].id, id) == 0;
}

/* One or two random puts against objects `o`, never two of one object (an edit
 * refuses that; test_edit_refusals sees it do so). */
static void random_change(const urbac__object *o, size_t n, change *c, unsigned *fresh)
{
  memset(c, 0, sizeof *c);
  for (size_t k = 0, want = 1 + (rnd(4) == 0); k < want && n; k++) {
    const urbac__object *x = &o[rnd((uint32_t)n)];
    if (named_first(c, x->kind, x->id))
      continue;
    json_t *body = json_loads(x->body, 0, NULL);
    assert_non_null(body);
    uint32_t what = rnd(10);
    bool ident = strcmp(x->kind, "user") == 0 || strcmp(x->kind, "group") == 0;
    if (what < 6 && ident && rnd(3) == 0) {
      mutate_ident(body, x->kind[0] == 'g');
      put(c, x->kind, x->id, body);
    } else if (what < 6) {
      mutate_lists(body);
      put(c, x->kind, x->id, body);
    } else if (what < 8 && strcmp(x->kind, "workloads") != 0 && strncmp(x->kind, "legacy.", 7) != 0) {
      char id[64];
      snprintf(id, sizeof id, "new%u", (*fresh)++ % 6);
      json_object_set_new(body, strcmp(x->kind, "role") == 0 ? "name" : "id", json_string(id));
      if (json_object_get(body, "rank"))
        json_object_set_new(body, "rank", json_integer(100 + rnd(3)));
      if (!named_first(c, x->kind, id)) /* a fresh name the first put already changed */
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

#endif
