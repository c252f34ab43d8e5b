/*
 * server/admin.c - administration routes, shaped like Microsoft Graph's
 * roleManagement/defender so Graph-literate scripts feel at home:
 *
 *   roleDefinitions  {id, displayName, description, isBuiltIn, rolePermissions:
 *                     [{allowedResourceActions: [action ids or names, wildcards]}]}
 *   roleAssignments  {id: "ROLE/NAME", displayName, roleDefinitionId, principalIds:
 *                     object ids (a user's or group's externalId) in and out, or user ids
 *                     and group:ID (an unknown object id is kept pending as group:OID,
 *                     as import-graph keeps one), appScopeIds: "/" (all data sources), each workload's
 *                     Graph id ("Mde", "Mdo", ...), "/DeviceGroups/{id}"}
 *
 * (both lists take OData's $filter: FIELD eq 'VALUE' [and ...], filter.c)
 * and, as tenant-file objects, users, groups, devices, device groups and the
 * legacy configuration (tenant-format.md). Every write goes through srv_run_write():
 * the tenant's write lock, If-Match, the store's validation and audit as the
 * caller, the check that the caller gives nobody more than the caller holds
 * (reach.c), and the new snapshot published before the reply (read your writes).
 *
 * Depends on: the public API, jansson.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/server.h"

#define T_PREFIX "/api/v1/tenants/{tenant}"

/* ---------------------------------------------------------------- writes */

/* The store's last check on a write by a caller who is not a preshared key:
 * nobody may gain what the caller does not hold (reach.c). Runs inside the
 * write's transaction with the tenant's write lock held, so t->current is the
 * tenant as it is. */
typedef struct write_guard {
  srv_tenant *t;
  const srv_identity *who;
  bool refused;
  char why[1600];
} write_guard;

/* Refuses the write for `gain`, which the caller does not hold. */
static urbac_err guard_refuse(write_guard *g, const srv_gain *gain, urbac_diag *d)
{
  char what[900];
  srv_gain_format(gain, what, sizeof what);
  snprintf(g->why, sizeof g->why, "this change would give %s %s, which %s does not hold", gain->user, what,
           g->who->user);
  g->refused = true;
  return urbac_diag_add(d, URBAC_EREFUSED, NULL, 0, 0, NULL, "%s", g->why);
}

/* The store's hook (the whole tenant as written): imports, activations, and
 * puts the served model cannot take (put_ctx). */
static urbac_err guard_write(void *ctx, const urbac_model *after, urbac_diag *d)
{
  write_guard *g = ctx;
  srv_gain gain;
  bool within;
  urbac_err err = srv_reach_write(g->t->current->snap, g->who->user, after, &within, &gain, d);
  return !err && !within ? guard_refuse(g, &gain, d) : err;
}

typedef struct put_ctx {
  const urbac_object_put *puts;
  size_t n;
  bool create_only; /* refuse when the first object exists */
  bool existed;
  write_guard *guard; /* set by srv_run_write() for a guarded caller: judged before writing */
} put_ctx;

static urbac_err do_puts(srv_tenant *t, void *ctx, const urbac_write *w, uint64_t *revision, urbac_diag *d);

bool srv_run_write(srv_req *req, srv_resp *r, srv_write_fn fn, void *ctx, uint64_t *revision)
{
  bool has;
  uint64_t base = 0;
  if (!srv_if_match(req, r, &has, &base))
    return false;
  char command[200];
  snprintf(command, sizeof command, "%s %s", srv_method_name(req->method),
           req->route->path + strlen(T_PREFIX));
  urbac_diag *d = urbac_diag_new();
  srv_tenant *t = req->tenant;
  write_guard guard = {t, &req->who, false, ""};
  bool guarded = req->who.kind != SRV_PRESHARED && !req->who.provisioning_only;
  /* a write is caught up with from the change feed, at the cost of the change
   * (srv_tenant_refresh), unless it published itself */
  urbac_write w = {req->who.actor, command, has, base, NULL, NULL};
  /* on the tenant's writer (writer.c), a plain put (do_puts, its route marked
   * SRV_BATCHED) joins the batch it runs: a savepoint of the batch's transaction,
   * published with the batch before any reply; any other write (a SCIM rename or
   * delete, say: a batch of its own in the store) commits and publishes what is
   * open first */
  srv_batch *batch = srv_batch_current(t);
  bool grouped = batch && !guarded && (req->route->flags & SRV_BATCHED) && fn == do_puts;
  pthread_mutex_lock(&t->write_lock);
  if (batch && !grouped)
    srv_batch_flush(batch);
  if (guarded) { /* compared with the tenant as the store has it */
    srv_tenant_refresh(t, NULL);
    if (fn == do_puts) /* judged before it is written, at the cost of the change */
      ((put_ctx *)ctx)->guard = &guard;
    else /* judged by the store's hook, on the whole tenant as written */
      urbac_store_check_writes(t->store, guard_write, &guard);
  }
  urbac_err err = !d ? URBAC_ENOMEM : grouped ? srv_batch_join(batch, d) : URBAC_OK;
  if (!err)
    err = fn(t, ctx, &w, revision, d);
  urbac_store_check_writes(t->store, NULL, NULL);
  if (!err && grouped)
    srv_batch_wrote(batch);
  else if (!err) /* served before the reply: the caller reads its own write */
    srv_tenant_refresh(t, NULL);
  pthread_mutex_unlock(&t->write_lock);
  if (guard.refused)
    srv_error(r, 403, "forbidden", NULL, "%s", guard.why);
  else if (err)
    srv_error_urbac(r, err, d, NULL);
  urbac_diag_free(d);
  if (!err) {
    r->revision = *revision;
    r->has_revision = r->etag = true;
  }
  return !err;
}

#define JUDGE_TRIES 4 /* judgements of one write that raced another server's */

/* One judgement of a guarded caller's puts and, when within reach, the write
 * based on the revision judged (URBAC_ECONFLICT when another server wrote since).
 * Puts the served model cannot take are judged by the store's hook instead, on
 * the whole tenant: never written unjudged. */
static urbac_err judged_puts(srv_tenant *t, put_ctx *c, const urbac_write *w, uint64_t *revision,
                             urbac_diag *d)
{
  uint64_t t0 = srv_now_us(), judged = t->current->revision;
  srv_snap *next = NULL, *twin = NULL;
  srv_gain gain;
  bool within = false;
  urbac_write based = *w;
  urbac_diag *local = urbac_diag_new();
  urbac_err err =
      local ? srv_reach_puts(t, c->guard->who->user, c->puts, c->n, &within, &gain, &next, &twin, local)
            : URBAC_ENOMEM;
  urbac_diag_free(local);
  based.if_revision = true;
  based.revision = judged;
  if (err) { /* the store says why, or judges it whole */
    urbac_store_check_writes(t->store, guard_write, c->guard);
    err = urbac_store_put_many(t->store, t->id, c->puts, c->n, &based, revision, d);
    urbac_store_check_writes(t->store, NULL, NULL);
  } else if (!within) {
    err = guard_refuse(c->guard, &gain, d);
  } else if (w->if_revision && w->revision != judged) {
    err = urbac_diag_add(d, URBAC_ECONFLICT, NULL, 0, 0, NULL,
                         "tenant '%s' is at revision %llu, but the write was based on revision %llu: read it "
                         "again",
                         t->id, (unsigned long long)judged, (unsigned long long)w->revision);
  } else if (!(err = urbac_store_put_many(t->store, t->id, c->puts, c->n, &based, revision, d))) {
    next->revision = *revision; /* judged + 1, or judged when nothing changed: then not published */
    if (twin)
      twin->revision = *revision;
    srv_tenant_publish_edit(t, next, twin, t0);
    next = twin = NULL;
  }
  srv_snap_free(next);
  srv_snap_free(twin);
  return err;
}

static urbac_err do_puts(srv_tenant *t, void *ctx, const urbac_write *w, uint64_t *revision, urbac_diag *d)
{
  put_ctx *c = ctx;
  char *old = NULL;
  urbac_err err = URBAC_OK;
  urbac_write told = *w; /* the store says whether the object existed: no read of it first */
  told.existed = &c->existed;
  if (c->create_only) /* refused before anything is written */
    c->existed =
        urbac_store_get(t->store, t->id, c->puts[0].kind, c->puts[0].id, &old, NULL, NULL) == URBAC_OK;
  urbac_free(old);
  if (c->create_only && c->existed)
    err = urbac_diag_add(d, URBAC_EDUPLICATE, NULL, 0, 0, "displayName", "a %s named '%s' exists already",
                         c->puts[0].kind, c->puts[0].id);
  else if (!c->guard)
    err = urbac_store_put_many(t->store, t->id, c->puts, c->n, &told, revision, d);
  for (int tries = 0; c->guard && !err && tries < JUDGE_TRIES; tries++) {
    err = judged_puts(t, c, &told, revision, d);
    if (err == URBAC_ECONFLICT && !w->if_revision && tries + 1 < JUDGE_TRIES) {
      urbac_diag_clear(d); /* another server wrote first: catch up and judge again */
      err = srv_tenant_refresh(t, d);
    } else {
      tries = JUDGE_TRIES;
    }
  }
  return err;
}

bool srv_write_puts(srv_req *req, srv_resp *r, const urbac_object_put *puts, size_t n, bool create_only,
                    bool *existed, uint64_t *revision)
{
  put_ctx c = {puts, n, create_only, false, NULL};
  bool ok = srv_run_write(req, r, do_puts, &c, revision);
  *existed = c.existed;
  return ok;
}

/* One object (kind, id), read from the store under the write lock. */
static json_t *read_object(srv_tenant *t, const char *kind, const char *id, uint64_t *revision)
{
  char *raw = NULL;
  pthread_mutex_lock(&t->write_lock);
  urbac_err err = urbac_store_get(t->store, t->id, kind, id, &raw, revision, NULL);
  pthread_mutex_unlock(&t->write_lock);
  json_t *j = err == URBAC_OK ? json_loads(raw, 0, NULL) : NULL;
  urbac_free(raw);
  return j;
}

typedef struct list_ctx {
  json_t *items;
} list_ctx;

static int list_add(void *ctx, const char *kind, const char *id, const char *json)
{
  (void)kind;
  (void)id;
  json_t *j = json_loads(json, 0, NULL);
  return !j || json_array_append_new(((list_ctx *)ctx)->items, j) != 0;
}

/* Every object of `kind`, as JSON, and the revision they were read at. */
static json_t *read_all(srv_tenant *t, const char *kind, uint64_t *revision)
{
  list_ctx c = {json_array()};
  pthread_mutex_lock(&t->write_lock);
  urbac_err err = urbac_store_revision(t->store, t->id, revision, NULL);
  if (!err)
    err = urbac_store_list(t->store, t->id, kind, list_add, &c, NULL);
  pthread_mutex_unlock(&t->write_lock);
  if (err) {
    json_decref(c.items);
    return NULL;
  }
  return c.items;
}

static void store_failed(srv_resp *r)
{
  srv_error(r, 500, "internalError", NULL, "the store could not be read");
}

static void reply_object(srv_resp *r, unsigned status, json_t *j, uint64_t revision)
{
  srv_json(r, status, j);
  r->revision = revision;
  r->has_revision = r->etag = true;
}

/* ---------------------------------------------------------------- objects */

static const struct {
  const char *path, *kind;
} kinds[] = {{"/users", "user"},
             {"/groups", "group"},
             {"/devices", "device"},
             {"/deviceGroups", "deviceGroup"},
             {"/legacy/mde/roles", "legacy.mde.role"},
             {"/legacy/mdo/roleGroups", "legacy.mdo.roleGroup"},
             {"/legacy/mdi/roles", "legacy.mdi.role"}};

static const char *route_kind(const srv_req *req)
{
  const char *p = req->route->path + strlen(T_PREFIX);
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    size_t n = strlen(kinds[i].path);
    if (strncmp(p, kinds[i].path, n) == 0 && (p[n] == '\0' || p[n] == '/'))
      return kinds[i].kind;
  }
  return "";
}

/* The object's id: "name" for legacy roles, "id" otherwise. */
/* One page of `kind` after $skiptoken (a key the store made; keyset paging), of the objects
 * whose id or name holds ?search= when given: read from the store at the page's cost. */
void srv_h_object_list(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  uint64_t revision = 0;
  size_t top;
  const char *text = srv_arg_get(req, "search"), *after = srv_arg_get(req, "$skiptoken");
  if (text && strlen(text) > URBAC_STORE_SEARCH_MAX)
    return srv_error(r, 400, "badRequest", "search", "search is longer than %d bytes",
                     URBAC_STORE_SEARCH_MAX);
  if (!srv_top_arg(req, r, &top))
    return;
  if (after && !*after)
    return srv_error(r, 400, "badRequest", "$skiptoken", "$skiptoken must come from an @odata.nextLink");
  srv_tenant *t = req->tenant;
  list_ctx c = {json_array()};
  urbac_page_query q = {route_kind(req), after, text, top};
  char *next = NULL;
  urbac_diag *d = urbac_diag_new();
  pthread_mutex_lock(&t->write_lock);
  urbac_err err =
      !d ? URBAC_ENOMEM : urbac_store_list_page(t->store, t->id, &q, list_add, &c, &next, &revision, d);
  pthread_mutex_unlock(&t->write_lock);
  if (err == URBAC_EINVAL) /* the query is checked above but for the key */
    srv_error(r, 400, "badRequest", "$skiptoken", "$skiptoken must come from an @odata.nextLink: %s",
              urbac_diag_count(d) ? urbac_diag_get(d, 0)->message : "malformed");
  else if (err)
    store_failed(r);
  else
    srv_page_keyed(req, r, json_incref(c.items), revision, next, top);
  json_decref(c.items);
  urbac_free(next);
  urbac_diag_free(d);
}

void srv_h_object_get(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  uint64_t revision;
  json_t *j = read_object(req->tenant, route_kind(req), req->params[1], &revision);
  if (!j)
    return srv_error(r, 404, "notFound", "id", "no %s '%s'", route_kind(req), req->params[1]);
  reply_object(r, 200, j, revision);
}

/* PUT of one object: the body, given as text, is put as it is (with its id
 * first when it left it out): a group of thousands of members is read by the
 * store's loader alone, not parsed and written out again here. */
void srv_h_object_put(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  const char *kind = route_kind(req), *id = req->params[1];
  char *text = NULL;
  uint64_t revision;
  urbac_diag *d = urbac_diag_new();
  urbac_err err = d ? urbac_object_body(kind, id, req->body ? req->body : "", req->body_len, "body", &text, d)
                    : URBAC_ENOMEM;
  const urbac_error *e = err && urbac_diag_count(d) ? urbac_diag_get(d, 0) : NULL;
  urbac_object_put put = {kind, id, text};
  put_ctx c = {&put, 1, false, false, NULL};
  if (err == URBAC_ESYNTAX)
    srv_error(r, 400, "badRequest", "body", "body:%u:%u: %s", e->line, e->column, e->message);
  else if (err == URBAC_ETYPE)
    srv_error(r, 400, "badRequest", "body", "%s", e->message);
  else if (err == URBAC_EVALUE)
    srv_error(r, 422, "EVALUE", e->path, "%s", e->message);
  else if (err)
    srv_error(r, 500, "internalError", NULL, "out of memory");
  else if (srv_run_write(req, r, do_puts, &c, &revision)) { /* the body as put is the reply */
    r->status = c.existed ? 200 : 201;
    r->body.len = 0;
    srv_buf_puts(&r->body, text);
    r->revision = revision;
    r->has_revision = r->etag = true;
  }
  urbac_free(text);
  urbac_diag_free(d);
}

void srv_h_object_delete(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  urbac_object_put put = {route_kind(req), req->params[1], NULL};
  put_ctx c = {&put, 1, false, false, NULL};
  uint64_t revision;
  if (srv_run_write(req, r, do_puts, &c, &revision))
    r->status = 204;
}

/* ---------------------------------------------------------------- role definitions */

static json_t *role_to_graph(json_t *role)
{
  json_t *actions = json_array(), *v;
  size_t i;
  json_array_foreach(json_object_get(role, "permissions"), i, v)
  {
    const char *text = json_string_value(v);
    urbac_grant g;
    char action[512];
    if (text && urbac_catalog_resolve(text, strlen(text), &g, NULL) == URBAC_OK &&
        g.level != URBAC_LEVEL_ALL && g.level != URBAC_LEVEL_NONE &&
        urbac_grant_action(g, action, sizeof action) < sizeof action)
      json_array_append_new(actions, json_string(action));
    else
      json_array_append(actions, v); /* a wildcard or "All permissions": as written */
  }
  json_t *name = json_object_get(role, "name"), *desc = json_object_get(role, "description");
  json_t *g = json_pack("{s:O, s:O, s:o, s:b, s:[{s:o}]}", "id", name, "displayName", name, "description",
                        desc ? json_incref(desc) : json_string(""), "isBuiltIn", 0, "rolePermissions",
                        "allowedResourceActions", actions);
  json_t *from = json_object_get(role, "importedFrom");
  if (from)
    json_object_set(g, "importedFrom", from);
  return g;
}

static const srv_filter_field role_fields[] = {{"id", "id"}, {"displayName", "displayName"}};

void srv_h_role_list(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  uint64_t revision;
  srv_filter f;
  if (!srv_filter_args(req, r, role_fields, sizeof role_fields / sizeof role_fields[0], &f))
    return;
  json_t *roles = read_all(req->tenant, "role", &revision), *out = json_array(), *v;
  size_t i;
  if (!roles) {
    json_decref(out);
    return store_failed(r);
  }
  json_array_foreach(roles, i, v) json_array_append_new(out, role_to_graph(v));
  json_decref(roles);
  srv_page_at(req, r, srv_filter_apply(&f, out), revision);
}

void srv_h_role_get(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  uint64_t revision;
  json_t *role = read_object(req->tenant, "role", req->params[1], &revision);
  if (!role)
    return srv_error(r, 404, "notFound", "id", "no role definition '%s'", req->params[1]);
  reply_object(r, 200, role_to_graph(role), revision);
  json_decref(role);
}

/* Applies a Graph role body to `role` (a tenant-file role). false after replying. */
static bool graph_to_role(json_t *body, json_t *role, srv_resp *r)
{
  json_t *name = json_object_get(body, "displayName"), *desc = json_object_get(body, "description");
  json_t *perms = json_object_get(body, "rolePermissions");
  if ((name && (!json_is_string(name) || !json_string_length(name))) || (desc && !json_is_string(desc))) {
    srv_error(r, 400, "badRequest", name && !json_is_string(name) ? "displayName" : "description",
              "displayName and description are strings");
    return false;
  }
  if (name)
    json_object_set(role, "name", name);
  if (desc)
    json_object_set(role, "description", desc);
  if (!perms)
    return true;
  json_t *list = json_array(), *p, *a;
  size_t i, k;
  bool ok = json_is_array(perms);
  json_array_foreach(perms, i, p)
  {
    json_t *actions = json_object_get(p, "allowedResourceActions");
    ok = ok && json_is_array(actions);
    json_array_foreach(actions, k, a)
    {
      ok = ok && json_is_string(a);
      json_array_append(list, a);
    }
  }
  if (!ok) {
    json_decref(list);
    srv_error(r, 400, "badRequest", "rolePermissions",
              "rolePermissions is a list of {allowedResourceActions: [strings]}");
    return false;
  }
  json_object_set_new(role, "permissions", list);
  return true;
}

static void write_role(srv_req *req, srv_resp *r, json_t *role, const char *old_name, bool create)
{
  const char *name = json_string_value(json_object_get(role, "name"));
  char *text = json_dumps(role, JSON_COMPACT);
  urbac_object_put puts[2] = {{"role", name, text}, {"role", old_name, NULL}};
  bool renamed = old_name && strcmp(old_name, name) != 0;
  put_ctx c = {puts, renamed ? 2 : 1, create || renamed, false, NULL};
  uint64_t revision;
  if (!text)
    srv_error(r, 500, "internalError", NULL, "out of memory");
  else if (srv_run_write(req, r, do_puts, &c, &revision))
    reply_object(r, create ? 201 : 200, role_to_graph(role), revision);
  free(text);
}

void srv_h_role_create(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  json_t *body = srv_body_object(req, r), *role = json_object();
  if (body && !json_is_string(json_object_get(body, "displayName")))
    srv_error(r, 400, "badRequest", "displayName", "a role definition needs a displayName");
  else if (body && graph_to_role(body, role, r)) {
    json_object_set_new(role, "assignments", json_array());
    if (!json_object_get(role, "permissions"))
      json_object_set_new(role, "permissions", json_array());
    write_role(req, r, role, NULL, true);
  }
  json_decref(role);
  json_decref(body);
}

void srv_h_role_update(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  uint64_t revision;
  json_t *body = srv_body_object(req, r);
  if (!body)
    return;
  json_t *role = read_object(req->tenant, "role", req->params[1], &revision);
  if (!role)
    srv_error(r, 404, "notFound", "id", "no role definition '%s'", req->params[1]);
  else if (graph_to_role(body, role, r))
    write_role(req, r, role, req->params[1], false);
  json_decref(role);
  json_decref(body);
}

void srv_h_role_delete(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  urbac_object_put put = {"role", req->params[1], NULL};
  put_ctx c = {&put, 1, false, false, NULL};
  uint64_t revision;
  if (srv_run_write(req, r, do_puts, &c, &revision))
    r->status = 204;
}

/* ---------------------------------------------------------------- role assignments */

/* The principal `p` ("ID": a user, else a group; "group:ID": a group) as the
 * served tenant resolves it (by id, else by externalId:
 * urbac_model_identity_find()): the user's id, or "group:" and the group's id,
 * in *ref, and its object id (externalId) in *oid (NULL when it has none); both
 * NULL when it names nothing. The caller frees both with free(). */
static void principal_find(srv_tenant *t, const char *p, char **ref, char **oid)
{
  bool group = strncmp(p, "group:", 6) == 0;
  const char *name = group ? p + 6 : p, *ext = NULL;
  urbac_object_kind kind = URBAC_OBJ_USER;
  srv_read_lock(); /* the served model is not freed meanwhile */
  const urbac_model *m = srv_tenant_snap(t)->model;
  size_t i = group ? SIZE_MAX : urbac_model_identity_find(m, kind, name, strlen(name), &ext);
  if (i == SIZE_MAX)
    i = urbac_model_identity_find(m, kind = URBAC_OBJ_GROUP, name, strlen(name), &ext);
  const char *id = i == SIZE_MAX ? NULL : urbac_model_id(m, kind, i);
  size_t size = id ? strlen(id) + 7 : 0;
  *ref = id ? malloc(size) : NULL;
  if (*ref)
    snprintf(*ref, size, "%s%s", kind == URBAC_OBJ_GROUP ? "group:" : "", id);
  *oid = id && ext ? strdup(ext) : NULL;
  srv_read_unlock();
}

/* A principal as Graph names it: the object id (externalId) of the user or group
 * when it has one; a pending principal's own object id (a GUID that names nothing
 * yet); else as the tenant names it ("ID", "group:ID": an object with no object id). */
static json_t *principal_out(srv_tenant *t, json_t *p)
{
  const char *s = json_string_value(p), *name = s && strncmp(s, "group:", 6) == 0 ? s + 6 : s;
  char *ref = NULL, *oid = NULL;
  if (s)
    principal_find(t, s, &ref, &oid);
  json_t *out = oid                                                     ? json_string(oid)
                : !ref && name && urbac_guid_shaped(name, strlen(name)) ? json_string(name)
                                                                        : json_incref(p);
  free(ref);
  free(oid);
  return out;
}

/* A principal Graph names by object id, as the tenant names it: the user whose id
 * or externalId it is, else the group whose id or externalId it is ("group:ID");
 * "group:X" names a group only. An object id that names nothing yet is kept
 * pending as the group it will be ("group:OID", lower case, as import-graph keeps
 * one: Defender assigns roles to groups); anything else passes as given, for the
 * store's validation to name. */
static json_t *principal_in(srv_tenant *t, const char *p)
{
  char *ref = NULL, *oid = NULL, pending[48];
  const char *name = strncmp(p, "group:", 6) == 0 ? p + 6 : p;
  principal_find(t, p, &ref, &oid);
  json_t *out = ref ? json_string(ref) : NULL;
  if (!out && urbac_guid_shaped(name, strlen(name))) {
    snprintf(pending, sizeof pending, "group:%s", name);
    for (char *c = pending; *c; c++)
      *c = (char)tolower((unsigned char)*c);
    out = json_string(pending);
  }
  free(ref);
  free(oid);
  return out ? out : json_string(p);
}

static json_t *app_scopes(json_t *a)
{
  json_t *out = json_array(), *sources = json_object_get(a, "dataSources"),
         *dgs = json_object_get(a, "deviceGroups");
  json_t *v;
  size_t i;
  if (json_is_string(sources)) /* all */
    json_array_append_new(out, json_string("/"));
  json_array_foreach(sources, i, v)
  {
    int w = urbac_catalog_workload_find(json_string_value(v));
    json_array_append_new(out,
                          json_string(w >= 0 ? urbac_catalog_workload_app((size_t)w) : json_string_value(v)));
  }
  json_array_foreach(dgs, i, v)
  {
    char buf[600];
    snprintf(buf, sizeof buf, "/DeviceGroups/%s", json_string_value(v));
    json_array_append_new(out, json_string(buf));
  }
  return out;
}

static json_t *assignment_to_graph(srv_tenant *t, const char *role, json_t *a)
{
  const char *name = json_string_value(json_object_get(a, "name"));
  char id[1200];
  json_t *ids = json_array(), *p;
  size_t i;
  json_array_foreach(json_object_get(a, "principals"), i, p) json_array_append_new(ids, principal_out(t, p));
  snprintf(id, sizeof id, "%s/%s", role, name ? name : "");
  return json_pack("{s:s, s:s, s:s, s:o, s:o, s:[s]}", "id", id, "displayName", name ? name : "",
                   "roleDefinitionId", role, "principalIds", ids, "appScopeIds", app_scopes(a),
                   "directoryScopeIds", "/");
}

/* The tenant-file assignment for Graph's appScopeIds; false after replying. */
static bool scopes_to_assignment(json_t *scopes, json_t *a, srv_resp *r)
{
  json_t *sources = json_array(), *dgs = json_array(), *v;
  bool all = false, ok = json_is_array(scopes) && json_array_size(scopes) > 0;
  size_t i;
  char target[48] = "appScopeIds";
  json_array_foreach(scopes, i, v)
  {
    const char *s = json_string_value(v);
    int w = s && s[0] != '/' ? urbac_catalog_workload_find(s) : -1;
    if (s && strcmp(s, "/") == 0)
      all = true;
    else if (w >= 0)
      json_array_append_new(sources, json_string(urbac_catalog_workload_id((size_t)w)));
    else if (s && strncmp(s, "/DeviceGroups/", 14) == 0 && s[14])
      json_array_append_new(dgs, json_string(s + 14));
    else if (ok) {
      snprintf(target, sizeof target, "appScopeIds[%zu]", i);
      ok = false;
    }
  }
  if (ok) {
    json_object_set_new(a, "dataSources", all ? json_string("all") : json_incref(sources));
    if (json_array_size(dgs))
      json_object_set(a, "deviceGroups", dgs);
    else
      json_object_del(a, "deviceGroups");
  } else {
    char known[200] = "";
    for (size_t k = 0, len = 0; k < urbac_catalog_workload_count() && len < sizeof known; k++)
      len += (size_t)snprintf(known + len, sizeof known - len, "\"%s\", ", urbac_catalog_workload_app(k));
    srv_error(r, 400, "badRequest", target, "appScopeIds: \"/\", %sor \"/DeviceGroups/ID\"", known);
  }
  json_decref(sources);
  json_decref(dgs);
  return ok;
}

/* Applies a Graph assignment body to `a`; false after replying. */
static bool graph_to_assignment(srv_tenant *t, json_t *body, json_t *a, srv_resp *r)
{
  json_t *name = json_object_get(body, "displayName"), *principals = json_object_get(body, "principalIds");
  json_t *scopes = json_object_get(body, "appScopeIds"), *v;
  size_t i;
  if (name && (!json_is_string(name) || !json_string_length(name))) {
    srv_error(r, 400, "badRequest", "displayName", "displayName is a string");
    return false;
  }
  bool ok = !principals || json_is_array(principals);
  json_array_foreach(principals, i, v) ok = ok && json_is_string(v);
  if (!ok) {
    srv_error(r, 400, "badRequest", "principalIds",
              "principalIds is a list of object ids (users' and groups' externalId), user ids and group:ID");
    return false;
  }
  if (name)
    json_object_set(a, "name", name);
  if (principals) {
    json_t *list = json_array();
    json_array_foreach(principals, i, v) json_array_append_new(list, principal_in(t, json_string_value(v)));
    json_object_set_new(a, "principals", list);
  }
  return !scopes || scopes_to_assignment(scopes, a, r);
}

/* Finds assignment `id` ("ROLE/NAME"): its role (a new reference) and index. */
static json_t *find_assignment(srv_tenant *t, const char *id, size_t *index, uint64_t *revision)
{
  /* "ROLE/NAME", where either may hold a '/': each split is one role looked up by
   * its name (a point lookup in the store), the shortest role name first */
  json_t *found = NULL;
  for (const char *slash = strchr(id, '/'); slash && !found; slash = strchr(slash + 1, '/')) {
    size_t k;
    json_t *role = NULL, *a;
    char *name = slash > id ? strndup(id, (size_t)(slash - id)) : NULL;
    if (name)
      role = read_object(t, "role", name, revision);
    free(name);
    if (!role)
      continue;
    json_array_foreach(json_object_get(role, "assignments"), k, a)
    {
      const char *an = json_string_value(json_object_get(a, "name"));
      if (!found && an && strcmp(an, slash + 1) == 0) {
        found = json_incref(role);
        *index = k;
      }
    }
    json_decref(role);
  }
  return found;
}

static const srv_filter_field assignment_fields[] = {{"id", "id"},
                                                     {"displayName", "displayName"},
                                                     {"roleDefinitionId", "roleDefinitionId"},
                                                     {"principalId", "principalIds"},
                                                     {"appScopeId", "appScopeIds"}};

void srv_h_assignment_list(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  uint64_t revision;
  srv_filter f;
  if (!srv_filter_args(req, r, assignment_fields, sizeof assignment_fields / sizeof assignment_fields[0], &f))
    return;
  json_t *roles = read_all(req->tenant, "role", &revision), *out = json_array(), *role, *a;
  size_t i, k;
  const char *only = srv_arg_get(req, "roleDefinitionId");
  if (!roles) {
    json_decref(out);
    return store_failed(r);
  }
  json_array_foreach(roles, i, role)
  {
    const char *name = json_string_value(json_object_get(role, "name"));
    if (only && strcmp(only, name) != 0)
      continue;
    json_array_foreach(json_object_get(role, "assignments"), k, a)
        json_array_append_new(out, assignment_to_graph(req->tenant, name, a));
  }
  json_decref(roles);
  srv_page_at(req, r, srv_filter_apply(&f, out), revision);
}

/* The role holding the assignment the path names, or NULL after replying 404. */
static json_t *path_assignment(srv_req *req, srv_resp *r, size_t *k, uint64_t *revision)
{
  json_t *role = find_assignment(req->tenant, req->params[1], k, revision);
  if (!role)
    srv_error(r, 404, "notFound", "id", "no role assignment '%s'", req->params[1]);
  return role;
}

void srv_h_assignment_get(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  uint64_t revision;
  size_t k;
  json_t *role = path_assignment(req, r, &k, &revision);
  if (!role)
    return;
  json_t *a = json_array_get(json_object_get(role, "assignments"), k);
  reply_object(r, 200, assignment_to_graph(req->tenant, json_string_value(json_object_get(role, "name")), a),
               revision);
  json_decref(role);
}

/* Writes `role` (changed) and replies with assignment `k` of it. */
static void write_assignment(srv_req *req, srv_resp *r, json_t *role, size_t k, unsigned status)
{
  const char *name = json_string_value(json_object_get(role, "name"));
  char *text = json_dumps(role, JSON_COMPACT);
  urbac_object_put put = {"role", name, text};
  put_ctx c = {&put, 1, false, false, NULL};
  uint64_t revision;
  json_t *a = json_array_get(json_object_get(role, "assignments"), k);
  if (!text)
    srv_error(r, 500, "internalError", NULL, "out of memory");
  else if (srv_run_write(req, r, do_puts, &c, &revision))
    reply_object(r, status, a ? assignment_to_graph(req->tenant, name, a) : json_null(), revision);
  free(text);
}

void srv_h_assignment_create(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  uint64_t revision;
  json_t *body = srv_body_object(req, r), *role = NULL, *a = json_object();
  const char *rid = json_string_value(json_object_get(body, "roleDefinitionId"));
  if (!body)
    goto out;
  if (!rid || !json_is_string(json_object_get(body, "displayName")) ||
      !json_object_get(body, "appScopeIds")) {
    srv_error(r, 400, "badRequest", !rid ? "roleDefinitionId" : "displayName",
              "a role assignment needs roleDefinitionId, displayName, principalIds and appScopeIds");
    goto out;
  }
  if (!(role = read_object(req->tenant, "role", rid, &revision))) {
    srv_error(r, 422, "EUNKNOWNROLE", "roleDefinitionId", "no role definition '%s'", rid);
    goto out;
  }
  json_object_set_new(a, "principals", json_array());
  if (graph_to_assignment(req->tenant, body, a, r)) {
    json_t *list = json_object_get(role, "assignments");
    if (!list)
      json_object_set_new(role, "assignments", list = json_array());
    json_array_append(list, a);
    write_assignment(req, r, role, json_array_size(list) - 1, 201);
  }
out:
  json_decref(a);
  json_decref(role);
  json_decref(body);
}

void srv_h_assignment_update(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  uint64_t revision;
  size_t k;
  json_t *body = srv_body_object(req, r);
  if (!body)
    return;
  json_t *role = path_assignment(req, r, &k, &revision);
  if (role && json_object_get(body, "roleDefinitionId"))
    srv_error(r, 400, "badRequest", "roleDefinitionId",
              "an assignment cannot move to another role: delete and create");
  else if (role &&
           graph_to_assignment(req->tenant, body, json_array_get(json_object_get(role, "assignments"), k), r))
    write_assignment(req, r, role, k, 200);
  json_decref(role);
  json_decref(body);
}

void srv_h_assignment_delete(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  uint64_t revision;
  size_t k;
  json_t *role = path_assignment(req, r, &k, &revision);
  if (!role)
    return;
  json_array_remove(json_object_get(role, "assignments"), k);
  write_assignment(req, r, role, SIZE_MAX, 204);
  if (r->status == 204)
    srv_buf_free(&r->body); /* no content */
  json_decref(role);
}
