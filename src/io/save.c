/*
 * io/save.c - a model back to a tenant file: the same keys in the same order as
 * tenant-format.md, objects in the order they were read, names in canonical form
 * (permissions as the catalog writes them, directory roles in catalog order), and
 * defaults left out. So `urbac fmt` output is stable and load -> save -> load
 * gives the same model. Writing to a path is atomic: temporary file, fsync, rename.
 *
 * Depends on: util, catalog, model, io/tree.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "io/tree.h"
#include "model/model.h"
#include "urbac/io.h"

/* A small builder that stops at the first allocation failure. The document is
 * built in one arena, its root first: freeing the root frees it all. */
typedef struct saver {
  bool oom;
  urbac__node_arena a;
} saver;

static urbac__node *str(saver *s, const char *v)
{
  urbac__node *n = urbac__node_str_in(&s->a, v, strlen(v), URBAC__STYLE_PLAIN);
  s->oom = s->oom || !n;
  return n;
}

static urbac__node *node(saver *s, urbac__node_type t, bool flow)
{
  urbac__node *n = urbac__node_new_in(&s->a, t);
  if (n)
    n->flow = flow;
  s->oom = s->oom || !n;
  return n;
}

/* set() and push() take `v` in every case: on failure it is freed. */
static void set(saver *s, urbac__node *map, const char *key, urbac__node *v)
{
  if (!map) {
    urbac__node_free(v);
    s->oom = true;
  } else if (urbac__node_set_in(&s->a, map, key, v)) {
    s->oom = true;
  }
}

static void push(saver *s, urbac__node *seq, urbac__node *v)
{
  if (!seq) {
    urbac__node_free(v);
    s->oom = true;
  } else if (urbac__node_push_in(&s->a, seq, v)) {
    s->oom = true;
  }
}

static void set_str(saver *s, urbac__node *map, const char *key, const char *v)
{
  if (v)
    set(s, map, key, str(s, v));
}

static void set_styled(saver *s, urbac__node *map, const char *key, const char *v, urbac__node_style st)
{
  urbac__node *n = urbac__node_str_in(&s->a, v, strlen(v), st);
  s->oom = s->oom || !n;
  set(s, map, key, n);
}

static urbac__node *refs(saver *s, const urbac__refs *r, bool prefix_groups)
{
  urbac__node *seq = node(s, URBAC__NODE_SEQ, true);
  char buf[URBAC_MAX_NAME_BYTES + 16];
  for (size_t i = 0; i < r->n; i++) {
    const char *name = r->v[i].name;
    if (prefix_groups && r->v[i].kind == URBAC__REF_GROUP) { /* no printf: a group of thousands */
      size_t n = strnlen(name, sizeof buf - 7);
      memcpy(buf, "group:", 6);
      memcpy(buf + 6, name, n);
      buf[6 + n] = '\0';
      name = buf;
    }
    push(s, seq, str(s, name));
  }
  return seq;
}

static urbac__node *strs(saver *s, const urbac__strs *v)
{
  urbac__node *seq = node(s, URBAC__NODE_SEQ, true);
  for (size_t i = 0; i < v->n; i++)
    push(s, seq, str(s, v->v[i]));
  return seq;
}

static void set_dirroles(saver *s, urbac__node *map, uint32_t bits, bool always)
{
  if (!bits && !always)
    return;
  urbac__node *seq = node(s, URBAC__NODE_SEQ, true);
  for (size_t r = 0; r < URBAC__NDIR; r++)
    if (bits & (1u << r))
      push(s, seq, str(s, urbac_catalog_legacy(URBAC_LEGACY_DIRECTORY_ROLE, r)->name));
  set(s, map, "directoryRoles", seq);
}

/* A JSON value as a flow node: strings written plain where they read back as
 * strings, numbers and null as they are, booleans as booleans. */
static urbac__node *json_node(saver *s, const json_t *j)
{
  char *text;
  urbac__node *n;
  switch (json_typeof(j)) {
  case JSON_OBJECT: {
    const char *key;
    json_t *v;
    n = node(s, URBAC__NODE_MAP, true);
    json_object_foreach((json_t *)(uintptr_t)j, key, v) set(s, n, key, json_node(s, v));
    return n;
  }
  case JSON_ARRAY:
    n = node(s, URBAC__NODE_SEQ, true);
    for (size_t i = 0; i < json_array_size(j); i++)
      push(s, n, json_node(s, json_array_get(j, i)));
    return n;
  case JSON_STRING:
    return str(s, json_string_value(j));
  case JSON_TRUE:
  case JSON_FALSE:
    n = json_is_true(j) ? urbac__node_str_in(&s->a, "true", 4, URBAC__STYLE_BOOL)
                        : urbac__node_str_in(&s->a, "false", 5, URBAC__STYLE_BOOL);
    break;
  default:
    text = json_dumps(j, JSON_ENCODE_ANY);
    n = text ? urbac__node_str_in(&s->a, text, strlen(text), URBAC__STYLE_JSON) : NULL;
    free(text);
  }
  s->oom = s->oom || !n;
  return n;
}

/* externalId, managedBy and scim, as the loader reads them. */
static void set_ident(saver *s, urbac__node *o, const urbac__ident *id)
{
  set_str(s, o, "externalId", id->xid);
  if (id->managed)
    set_str(s, o, "managedBy", "scim");
  if (id->scim) {
    json_t *j = json_loads(id->scim, 0, NULL); /* the loader's own canonical JSON */
    if (!j)
      s->oom = true;
    else
      set(s, o, "scim", json_node(s, j));
    json_decref(j);
  }
}

/* ---------------------------------------------------------------- sections */

static urbac__node *users(saver *s, const urbac_model *m)
{
  urbac__node *seq = node(s, URBAC__NODE_SEQ, false);
  for (size_t i = 0; i < m->users.n; i++) {
    const urbac__user *u = urbac__user_at(m, i);
    if (!u)
      continue;
    urbac__node *o = node(s, URBAC__NODE_MAP, false);
    set_str(s, o, "id", u->id);
    set_str(s, o, "name", u->name);
    if (!u->enabled)
      set_styled(s, o, "enabled", "false", URBAC__STYLE_BOOL);
    set_ident(s, o, &u->ident);
    set_dirroles(s, o, u->dirroles, false);
    push(s, seq, o);
  }
  return seq;
}

static urbac__node *groups(saver *s, const urbac_model *m)
{
  urbac__node *seq = node(s, URBAC__NODE_SEQ, false);
  for (size_t i = 0; i < m->groups.n; i++) {
    const urbac__group *g = urbac__group_at(m, i);
    if (!g)
      continue;
    urbac__node *o = node(s, URBAC__NODE_MAP, false);
    set_str(s, o, "id", g->id);
    set_str(s, o, "name", g->name);
    set_ident(s, o, &g->ident);
    set(s, o, "members", refs(s, &g->members, true));
    set_dirroles(s, o, g->dirroles, false);
    push(s, seq, o);
  }
  return seq;
}

static urbac__node *rules(saver *s, const urbac__devgroup *g)
{
  urbac__node *map = node(s, URBAC__NODE_MAP, false);
  for (size_t p = 0; p < URBAC__NPROPS; p++) {
    if (!g->rules[p].present)
      continue;
    urbac__node *ops = node(s, URBAC__NODE_MAP, true);
    for (size_t op = 0; op < URBAC__NOPS; op++)
      if (g->rules[p].values[op].n)
        set(s, ops, urbac__op_names[op], strs(s, &g->rules[p].values[op]));
    set(s, map, urbac__prop_names[p], ops);
  }
  return map;
}

static urbac__node *device_groups(saver *s, const urbac_model *m)
{
  urbac__node *seq = node(s, URBAC__NODE_SEQ, false);
  char rank[16];
  for (size_t i = 0; i < m->dgs.n; i++) {
    const urbac__devgroup *g = urbac__dg_at(m, i);
    if (!g || (g->ungrouped && !g->listed && !g->access.n && !g->has_remediation && !g->name))
      continue;
    urbac__node *o = node(s, URBAC__NODE_MAP, false);
    bool any_rule = false;
    set_str(s, o, "id", g->id);
    set_str(s, o, "name", g->name);
    if (!g->ungrouped) {
      snprintf(rank, sizeof rank, "%u", g->rank);
      set_styled(s, o, "rank", rank, URBAC__STYLE_INT);
    }
    if (g->has_remediation)
      set_str(s, o, "remediation", urbac__remediation_names[g->remediation]);
    for (size_t p = 0; p < URBAC__NPROPS; p++)
      any_rule = any_rule || g->rules[p].present;
    if (any_rule)
      set(s, o, "rules", rules(s, g));
    if (g->access.n)
      set(s, o, "userAccess", refs(s, &g->access, false));
    push(s, seq, o);
  }
  return seq;
}

static urbac__node *devices(saver *s, const urbac_model *m)
{
  urbac__node *seq = node(s, URBAC__NODE_SEQ, false);
  for (size_t i = 0; i < m->devices.n; i++) {
    const urbac__device *d = urbac__device_at(m, i);
    if (!d)
      continue;
    urbac__node *o = node(s, URBAC__NODE_MAP, false);
    set_str(s, o, "id", d->id);
    set_str(s, o, "name", d->name);
    set_str(s, o, "domain", d->domain);
    set_str(s, o, "os", d->os);
    if (d->tags.n)
      set(s, o, "tags", strs(s, &d->tags));
    push(s, seq, o);
  }
  return seq;
}

static urbac__node *assignment(saver *s, const urbac__assignment *a)
{
  urbac__node *o = node(s, URBAC__NODE_MAP, false);
  set_str(s, o, "name", a->name);
  set(s, o, "principals", refs(s, &a->principals, true));
  if (a->all_sources) {
    set_str(s, o, "dataSources", "all");
  } else {
    urbac__node *seq = node(s, URBAC__NODE_SEQ, true);
    for (size_t w = 0; w < URBAC__NWORKLOADS; w++)
      if (a->workloads & (1u << w))
        push(s, seq, str(s, urbac_catalog_workload_id(w)));
    set(s, o, "dataSources", seq);
  }
  if (!a->all_dgs)
    set(s, o, "deviceGroups", refs(s, &a->dgs, false));
  return o;
}

static urbac__node *roles(saver *s, const urbac_model *m)
{
  urbac__node *seq = node(s, URBAC__NODE_SEQ, false);
  char buf[URBAC_MAX_NAME_BYTES + 64];
  for (size_t i = 0; i < m->roles.n; i++) {
    const urbac__role *r = urbac__role_at(m, i);
    if (!r)
      continue;
    urbac__node *o = node(s, URBAC__NODE_MAP, false);
    urbac__node *perms = node(s, URBAC__NODE_SEQ, false);
    set_str(s, o, "name", r->name);
    set_str(s, o, "description", r->description);
    if (r->imported_wl != URBAC__NOT_IMPORTED) {
      urbac__node *imp = node(s, URBAC__NODE_MAP, true);
      set_str(s, imp, "workload", urbac_catalog_workload_id(r->imported_wl));
      set_str(s, imp, "role", r->imported_name);
      set(s, o, "importedFrom", imp);
    }
    for (size_t p = 0; p < r->nperms; p++) {
      urbac_model_role_permission(m, i, p, buf, sizeof buf);
      push(s, perms, str(s, buf));
    }
    set(s, o, "permissions", perms);
    urbac__node *asg = node(s, URBAC__NODE_SEQ, false);
    for (size_t a = 0; a < r->nasg; a++)
      push(s, asg, assignment(s, &r->asg[a]));
    set(s, o, "assignments", asg);
    push(s, seq, o);
  }
  return seq;
}

static urbac__node *legacy_members(saver *s, const urbac__cow *v, urbac_legacy_kind k)
{
  urbac__node *seq = node(s, URBAC__NODE_SEQ, false);
  for (size_t i = 0; i < v->n; i++) {
    const urbac__legacy_members *lm = URBAC__AT(*v, i);
    if (!lm)
      continue;
    urbac__node *o = node(s, URBAC__NODE_MAP, false);
    set_str(s, o, "name", urbac_catalog_legacy(k, lm->which)->name);
    set(s, o, "members", refs(s, &lm->members, true));
    push(s, seq, o);
  }
  return seq;
}

/* Sets key to a list, or drops the list when it is empty (holes only). */
static void set_list(saver *s, urbac__node *map, const char *key, urbac__node *seq)
{
  if (seq && seq->n)
    set(s, map, key, seq);
  else
    urbac__node_free(seq);
}

static urbac__node *legacy(saver *s, const urbac_model *m)
{
  urbac__node *o = node(s, URBAC__NODE_MAP, false);
  urbac__node *seq = node(s, URBAC__NODE_SEQ, false);
  for (size_t i = 0; i < m->mde_roles.n; i++) {
    const urbac__mde_role *r = urbac__mde_at(m, i);
    if (r) {
      urbac__node *ro = node(s, URBAC__NODE_MAP, false), *perms = node(s, URBAC__NODE_SEQ, false);
      set_str(s, ro, "name", r->name);
      set_str(s, ro, "description", r->description);
      for (size_t p = 0; p < URBAC__NMDE; p++)
        if (r->perms & (1u << p))
          push(s, perms, str(s, urbac_catalog_legacy(URBAC_LEGACY_MDE_PERMISSION, p)->name));
      set(s, ro, "permissions", perms);
      set(s, ro, "groups", refs(s, &r->groups, false));
      push(s, seq, ro);
    }
  }
  const char *const wl[] = {"mde", "mdo", "mdi"}, *const key[] = {"roles", "roleGroups", "roles"};
  urbac__node *lists[] = {seq, legacy_members(s, &m->eop, URBAC_LEGACY_EOP_ROLE_GROUP),
                          legacy_members(s, &m->mdi, URBAC_LEGACY_MDI_ROLE)};
  for (size_t i = 0; i < 3; i++) {
    if (lists[i] && lists[i]->n) {
      urbac__node *w = node(s, URBAC__NODE_MAP, false);
      set(s, w, key[i], lists[i]);
      set(s, o, wl[i], w);
    } else {
      urbac__node_free(lists[i]);
    }
  }
  return o;
}

static urbac__node *document(saver *s, const urbac_model *m)
{
  urbac__node *root = node(s, URBAC__NODE_MAP, false);
  urbac__node *wl = node(s, URBAC__NODE_MAP, true);
  set_styled(s, root, "urbac", "1", URBAC__STYLE_INT);
  set_str(s, root, "tenant", m->tenant);
  if (m->edition == URBAC__EDITION_CURRENT)
    set_str(s, root, "catalog", "current");
  /* a workload without a legacy model is always unified: nothing to write */
  for (size_t w = 0; w < URBAC__NWORKLOADS; w++)
    if (urbac_catalog_workload_has_legacy(w))
      set_str(s, wl, urbac_catalog_workload_id(w), m->modes[w] == URBAC_MODE_UNIFIED ? "unified" : "legacy");
  set(s, root, "workloads", wl);
  set_list(s, root, "users", users(s, m));
  set_list(s, root, "groups", groups(s, m));
  set_list(s, root, "deviceGroups", device_groups(s, m));
  set_list(s, root, "devices", devices(s, m));
  set_list(s, root, "roles", roles(s, m));
  set_list(s, root, "legacy", legacy(s, m));
  if (!root) /* else freeing the root frees the arena */
    urbac__node_arena_free(&s->a);
  return root;
}

urbac_err urbac__tenant_tree(const urbac_model *m, urbac__node **out)
{
  saver s = {false};
  *out = document(&s, m);
  if (s.oom) {
    urbac__node_free(*out);
    *out = NULL;
    return URBAC_ENOMEM;
  }
  return URBAC_OK;
}

urbac_err urbac_tenant_save_buffer(const urbac_model *m, urbac_format fmt, char **out, size_t *len,
                                   urbac_diag *d)
{
  saver s = {false};
  size_t n = 0;
  *out = NULL;
  urbac__node *root = document(&s, m);
  urbac_err err = URBAC_ENOMEM;
  if (!s.oom)
    err = fmt == URBAC_FORMAT_JSON ? urbac__node_emit_json(root, out, &n)
                                   : urbac__node_emit_yaml(root, out, &n);
  urbac__node_free(root);
  if (len)
    *len = n;
  return err ? urbac__diag_code(d, err, "writing the tenant") : URBAC_OK;
}

urbac_err urbac_tenant_save_file(const urbac_model *m, const char *path, urbac_format fmt, urbac_diag *d)
{
  return urbac_tenant_save_file_like(m, path, fmt, NULL, d);
}
