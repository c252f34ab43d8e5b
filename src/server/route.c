/*
 * server/route.c - the route table (what docs/openapi.json describes, which a
 * test compares), path matching, and the order every request goes through:
 * match, check the query arguments against the route's list, authenticate,
 * find the tenant, authorize with the tenant's own model, wait for minRevision,
 * run the handler.
 *
 * urbac authorizes its own API as the Defender portal does: reading the
 * configuration needs Configuration \ Authorization (read), changing it needs
 * (manage), on the workload a route names or else on any workload.
 *
 * Depends on: the public API.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

#define T "/api/v1/tenants/{tenant}"
/* The query arguments each route takes (space-separated): any other is a 400
 * that names it, checked once in srv_dispatch() before anything else. */
#define PAGE "$top $skiptoken"
#define READ "minRevision"
#define LIST READ " " PAGE
#define SCIM T "/scim/v2"
#define SCIM_ONE "attributes excludedAttributes"
#define SCIM_LIST "filter startIndex count sortBy sortOrder " SCIM_ONE
#define SCIM_RESOURCE_ROUTES(path)                                                                           \
  {SRV_GET, SCIM path, SRV_SCIM, srv_h_scim, "scim", SCIM_LIST, 0},                                          \
      {SRV_POST, SCIM path, SRV_SCIM, srv_h_scim, "scim", SCIM_ONE, SRV_BATCHED},                            \
      {SRV_GET, SCIM path "/{id}", SRV_SCIM, srv_h_scim, "scim", SCIM_ONE, 0},                               \
      {SRV_PUT, SCIM path "/{id}", SRV_SCIM, srv_h_scim, "scim", SCIM_ONE, SRV_BATCHED},                     \
      {SRV_PATCH, SCIM path "/{id}", SRV_SCIM, srv_h_scim, "scim", SCIM_ONE, SRV_BATCHED},                   \
  {                                                                                                          \
    SRV_DELETE, SCIM path "/{id}", SRV_SCIM, srv_h_scim, "scim", "", 0                                       \
  }
#define OBJECT_ROUTES(path, label)                                                                           \
  {SRV_GET, T path, SRV_READ, srv_h_object_list, label, LIST " search", 0},                                  \
      {SRV_GET, T path "/{id}", SRV_READ, srv_h_object_get, label, READ, 0},                                 \
      {SRV_PUT, T path "/{id}", SRV_MANAGE, srv_h_object_put, label, "", SRV_BATCHED},                       \
  {                                                                                                          \
    SRV_DELETE, T path "/{id}", SRV_MANAGE, srv_h_object_delete, label, "", SRV_BATCHED                      \
  }

const srv_route srv_routes[] = {
    {SRV_GET, "/healthz", SRV_PUBLIC, srv_h_healthz, "healthz", "", 0},
    {SRV_GET, "/readyz", SRV_PUBLIC, srv_h_readyz, "readyz", "", 0},
    {SRV_GET, "/metrics", SRV_OPERATOR, srv_h_metrics, "metrics", "", 0},
    {SRV_GET, "/api/v1/openapi.json", SRV_PUBLIC, srv_h_openapi, "openapi", "", 0},
    /* the portal (portal.c): its files, the catalog it shows, its sessions (session.c) */
    {SRV_GET, "/", SRV_PUBLIC, srv_h_portal, "portal", "tenant", 0},
    {SRV_GET, "/portal/{file}", SRV_PUBLIC, srv_h_portal, "portal", "", 0},
    {SRV_GET, "/api/v1/catalog", SRV_PUBLIC, srv_h_catalog, "catalog", "", 0},
    {SRV_POST, "/api/v1/session", SRV_PUBLIC, srv_h_session_create, "session", "", 0},
    {SRV_GET, "/api/v1/session", SRV_PUBLIC, srv_h_session_get, "session", "", 0},
    {SRV_DELETE, "/api/v1/session", SRV_PUBLIC, srv_h_session_delete, "session", "", 0},
    {SRV_GET, "/api/v1/session/methods", SRV_PUBLIC, srv_h_session_methods, "session", "tenant", 0},
    {SRV_GET, "/api/v1/session/oidc", SRV_PUBLIC, srv_h_oidc_start, "session", "tenant", 0},
    {SRV_GET, "/api/v1/session/oidc/callback", SRV_PUBLIC, srv_h_oidc_callback, "session",
     "code state iss error error_description session_state", 0},
    /* decisions */
    {SRV_GET, T "/check", SRV_DECIDE, srv_h_check, "check", "user permission workload scope " READ, 0},
    {SRV_POST, T "/checks", SRV_DECIDE, srv_h_checks, "checks", READ, 0},
    {SRV_POST, T "/explain", SRV_DECIDE, srv_h_explain, "explain", READ, 0},
    {SRV_GET, T "/users/{id}/effectivePermissions", SRV_DECIDE, srv_h_effective, "effectivePermissions",
     "workload " LIST, 0},
    {SRV_GET, T "/whoCan", SRV_DECIDE, srv_h_who_can, "whoCan", "permission workload scope " LIST, 0},
    /* unified roles, shaped like Graph's roleManagement/defender */
    {SRV_GET, T "/roleDefinitions", SRV_READ, srv_h_role_list, "roleDefinitions", LIST " $filter", 0},
    {SRV_POST, T "/roleDefinitions", SRV_MANAGE, srv_h_role_create, "roleDefinitions", "", SRV_BATCHED},
    {SRV_GET, T "/roleDefinitions/{id}", SRV_READ, srv_h_role_get, "roleDefinitions", READ, 0},
    {SRV_PATCH, T "/roleDefinitions/{id}", SRV_MANAGE, srv_h_role_update, "roleDefinitions", "", SRV_BATCHED},
    {SRV_DELETE, T "/roleDefinitions/{id}", SRV_MANAGE, srv_h_role_delete, "roleDefinitions", "",
     SRV_BATCHED},
    {SRV_GET, T "/roleAssignments", SRV_READ, srv_h_assignment_list, "roleAssignments",
     "roleDefinitionId " LIST " $filter", 0},
    {SRV_POST, T "/roleAssignments", SRV_MANAGE, srv_h_assignment_create, "roleAssignments", "", SRV_BATCHED},
    {SRV_GET, T "/roleAssignments/{id}", SRV_READ, srv_h_assignment_get, "roleAssignments", READ, 0},
    {SRV_PATCH, T "/roleAssignments/{id}", SRV_MANAGE, srv_h_assignment_update, "roleAssignments", "",
     SRV_BATCHED},
    {SRV_DELETE, T "/roleAssignments/{id}", SRV_MANAGE, srv_h_assignment_delete, "roleAssignments", "",
     SRV_BATCHED},
    /* people, devices and the legacy configuration, as tenant-file objects */
    OBJECT_ROUTES("/users", "users"),
    OBJECT_ROUTES("/groups", "groups"),
    OBJECT_ROUTES("/devices", "devices"),
    OBJECT_ROUTES("/deviceGroups", "deviceGroups"),
    {SRV_POST, T "/deviceGroups/preview", SRV_READ, srv_h_device_group_preview, "deviceGroups", PAGE, 0},
    OBJECT_ROUTES("/legacy/mde/roles", "legacy"),
    OBJECT_ROUTES("/legacy/mdo/roleGroups", "legacy"),
    OBJECT_ROUTES("/legacy/mdi/roles", "legacy"),
    /* migration */
    {SRV_GET, T "/workloads", SRV_READ, srv_h_workloads, "workloads", LIST, 0},
    {SRV_POST, T "/workloads/{workload}/activate", SRV_MANAGE, srv_h_activate, "workloads", "force", 0},
    {SRV_POST, T "/workloads/{workload}/deactivate", SRV_MANAGE, srv_h_deactivate, "workloads", "", 0},
    {SRV_POST, T "/workloads/{workload}/import", SRV_MANAGE, srv_h_import, "import", "dryRun", 0},
    {SRV_GET, T "/workloads/{workload}/impact", SRV_READ, srv_h_impact, "impact", "import " LIST, 0},
    {SRV_GET, T "/auditLog", SRV_READ, srv_h_audit, "auditLog", "object actor since until " PAGE, 0},
    {SRV_GET, T "/auditLog/verify", SRV_READ, srv_h_audit_verify, "auditLog", "", 0},
    /* SCIM 2.0 provisioning (scim.c): Microsoft Entra ID's "Tenant URL" is T "/scim/v2" */
    SCIM_RESOURCE_ROUTES("/Users"),
    SCIM_RESOURCE_ROUTES("/Groups"),
    {SRV_GET, SCIM "/Schemas", SRV_SCIM, srv_h_scim, "scim", "", 0},
    {SRV_GET, SCIM "/Schemas/{id}", SRV_SCIM, srv_h_scim, "scim", "", 0},
    {SRV_GET, SCIM "/ResourceTypes", SRV_SCIM, srv_h_scim, "scim", "", 0},
    {SRV_GET, SCIM "/ResourceTypes/{id}", SRV_SCIM, srv_h_scim, "scim", "", 0},
    {SRV_GET, SCIM "/ServiceProviderConfig", SRV_SCIM, srv_h_scim, "scim", "", 0},
    {SRV_POST, SCIM "/Bulk", SRV_SCIM, srv_h_scim, "scim", "", 0},
    /* API keys (the secret is shown once, at creation) */
    {SRV_GET, T "/apiKeys", SRV_READ, srv_h_key_list, "apiKeys", PAGE, 0},
    {SRV_POST, T "/apiKeys", SRV_MANAGE, srv_h_key_create, "apiKeys", "", SRV_ALONE},
    {SRV_DELETE, T "/apiKeys/{id}", SRV_MANAGE, srv_h_key_revoke, "apiKeys", "", SRV_ALONE},
};
const size_t srv_nroutes = sizeof srv_routes / sizeof srv_routes[0];

int urbac_server_route(size_t i, const char **method, const char **path)
{
  if (i >= srv_nroutes)
    return 0;
  *method = srv_method_name(srv_routes[i].method);
  *path = srv_routes[i].path;
  return 1;
}

/* ---------------------------------------------------------------- matching */

/* Does `path` match the request's segments? Fills the placeholders. */
static bool path_matches(const char *path, srv_req *req)
{
  size_t seg = 0, np = 0;
  if (strcmp(path, "/") == 0) /* the portal's page */
    return req->nsegs == 0;
  const char *p = path;
  while (*p == '/') {
    const char *end = strchr(p + 1, '/');
    size_t len = end ? (size_t)(end - p - 1) : strlen(p + 1);
    if (seg == req->nsegs)
      return false;
    if (p[1] == '{') {
      if (np == SRV_MAX_PARAMS)
        return false;
      req->params[np++] = req->segs[seg];
    } else if (strlen(req->segs[seg]) != len || memcmp(req->segs[seg], p + 1, len) != 0) {
      return false;
    }
    seg++;
    p += len + 1;
  }
  return seg == req->nsegs;
}

/* The route for the request's method and path; NULL, with the methods the path
 * has in `allow` ("" when it has none), when there is none. */
static const srv_route *match(srv_req *req, char *allow, size_t size)
{
  allow[0] = '\0';
  for (size_t i = 0; i < srv_nroutes; i++) {
    if (!path_matches(srv_routes[i].path, req))
      continue;
    if (srv_routes[i].method == req->method)
      return &srv_routes[i];
    const char *m = srv_method_name(srv_routes[i].method);
    size_t n = strlen(allow);
    if (!strstr(allow, m)) /* each method once (no method name holds another) */
      snprintf(allow + n, size - n, "%s%s", n ? ", " : "", m);
  }
  return NULL;
}

/* ---------------------------------------------------------------- query arguments */

/* Is `key` one of the space-separated names of `list`? */
static bool listed(const char *list, const char *key)
{
  size_t n = strlen(key);
  for (const char *p = list; *p;) {
    size_t len = strcspn(p, " ");
    if (len == n && memcmp(p, key, n) == 0)
      return true;
    p += len + (p[len] == ' ');
  }
  return false;
}

/* Every query argument is one the route takes, once: else 400 naming it and
 * what the route takes (an OData option a route does not implement, such as
 * $orderby, $expand, $search or $count, is refused the same way). */
static bool args_known(const srv_req *req, srv_resp *r)
{
  const char *list = req->route->args;
  for (size_t i = 0; i < req->nargs; i++) {
    const char *key = req->args[i].key;
    bool twice = false;
    for (size_t k = 0; k < i && !twice; k++)
      twice = strcmp(req->args[k].key, key) == 0;
    if (twice) {
      srv_error(r, 400, "badRequest", key, "query argument '%.100s' is given twice", key);
      return false;
    }
    if (listed(list, key))
      continue;
    char takes[256] = "none";
    size_t o = 0;
    for (const char *c = list; *c && o + 3 < sizeof takes; c++) { /* "a b" -> "a, b" */
      if (*c == ' ')
        takes[o++] = ',';
      takes[o++] = *c;
      takes[o] = '\0';
    }
    srv_error(r, 400, "badRequest", key, "%s '%.100s' is not supported here (this route takes %s)",
              key[0] == '$' ? "the OData option" : "unknown query argument", key, takes);
    return false;
  }
  return true;
}

/* ---------------------------------------------------------------- authorization */

/* The {workload} of the route, if it has one. */
static const char *route_workload(const srv_req *req)
{
  const char *w = strstr(req->route->path, "/workloads/{workload}");
  return w ? req->params[1] : NULL;
}

/* Does `user` hold `perm` on some workload (on workload `only` when given)? */
static bool holds(const srv_snap *sn, const char *user, const char *perm, const char *only)
{
  urbac_parser *p = urbac_parser_new(sn->snap);
  bool ok = false;
  for (size_t w = 0; p && !ok && w < urbac_catalog_workload_count(); w++) {
    const char *wid = urbac_catalog_workload_id(w);
    if (only && strcmp(only, wid) != 0)
      continue;
    urbac_query q;
    urbac_question question = {urbac_str_of(user), urbac_str_of(perm), urbac_str_of(wid), {NULL, 0}};
    ok = urbac_parse_query(p, &question, &q, NULL) == URBAC_OK && urbac_check(sn->snap, &q);
  }
  urbac_parser_free(p);
  return ok;
}

bool srv_user_may(const srv_snap *sn, const char *user, srv_access level, const char *only)
{
  return holds(sn, user,
               level == SRV_READ ? "Configuration \\ Authorization (read)"
                                 : "Configuration \\ Authorization (manage)",
               only);
}

static bool authorize(srv_req *req, srv_resp *r)
{
  const srv_route *rt = req->route;
  const char *w = route_workload(req);
  char known[256];
  urbac_catalog_workload_list(known, sizeof known, true);
  if (w && urbac_catalog_workload_find(w) < 0) {
    srv_error(r, 404, "notFound", "workload", "unknown workload '%s' (%s)", w, known);
    return false;
  }
  if (rt->access == SRV_SCIM) /* the SCIM endpoint's own rule */
    return srv_auth_may_scim(req, r);
  if (req->who.provisioning_only) {
    srv_error(r, 403, "forbidden", NULL, "this key may only provision users and groups (SCIM)");
    return false;
  }
  if (rt->access == SRV_DECIDE || req->who.kind == SRV_PRESHARED)
    return true;
  if (req->who.decisions_only) {
    srv_error(r, 403, "forbidden", NULL, "this key may only ask for decisions");
    return false;
  }
  srv_read_lock();
  bool ok = srv_user_may(srv_tenant_snap(req->tenant), req->who.user, rt->access, w);
  srv_read_unlock();
  if (!ok)
    srv_error(r, 403, "forbidden", NULL, "%s needs Configuration \\ Authorization (%s)%s%s", req->who.user,
              rt->access == SRV_READ ? "read" : "manage", w ? " on " : "", w ? w : "");
  return ok;
}

bool srv_auth_may_scim(srv_req *req, srv_resp *r)
{
  if (req->who.kind == SRV_PRESHARED || req->who.provisioning_only)
    return true; /* a key of another tenant was refused at authentication */
  if (req->who.decisions_only) {
    srv_error(r, 403, "forbidden", NULL, "this key may only ask for decisions");
    return false;
  }
  srv_read_lock();
  bool ok = srv_user_may(srv_tenant_snap(req->tenant), req->who.user, SRV_MANAGE, NULL);
  srv_read_unlock();
  if (!ok)
    srv_error(r, 403, "forbidden", NULL,
              "%s needs Configuration \\ Authorization (manage) to provision users", req->who.user);
  return ok;
}

/* ---------------------------------------------------------------- dispatch */

static bool parse_u64(const char *s, uint64_t *out)
{
  if (!s || *s < '0' || *s > '9')
    return false;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end)
    return false;
  *out = v;
  return true;
}

static bool min_revision(srv *server, srv_req *req, srv_resp *r)
{
  const char *arg = srv_arg_get(req, "minRevision");
  uint64_t want;
  if (!arg)
    return true;
  if (!parse_u64(arg, &want)) {
    srv_error(r, 400, "badRequest", "minRevision", "minRevision '%s' is not a revision number", arg);
    return false;
  }
  srv_read_lock();
  uint64_t have = srv_tenant_snap(req->tenant)->revision;
  srv_read_unlock();
  if (have >= want)
    return true;
  uint64_t now = srv_now_us();
  if (!req->wait_until_us)
    req->wait_until_us = now + (uint64_t)server->wait_ms * 1000u;
  if (now < req->wait_until_us) {
    r->wait = true; /* asked again shortly; see srv_dispatch() */
    return false;
  }
  srv_error(r, 409, "conflict", "minRevision", "this server has not reached revision %llu yet; try again",
            (unsigned long long)want);
  return false;
}

bool srv_admit(srv *server, srv_req *req, srv_resp *r)
{
  req->route = match(req, r->allow, sizeof r->allow);
  if (!req->route) {
    if (r->allow[0])
      srv_error(r, 405, "methodNotAllowed", NULL, "%s is not allowed here; use %s",
                srv_method_name(req->method), r->allow);
    else
      srv_error(r, 404, "notFound", NULL, "no such route");
    return false;
  }
  if (!args_known(req, r))
    return false;
  srv_access access = req->route->access;
  if (access == SRV_PUBLIC || (access == SRV_OPERATOR && server->cfg->metrics_public))
    return req->admitted = true;
  if (!srv_authenticate(server, req, r))
    return false;
  if (access == SRV_OPERATOR) { /* it names every tenant: an administrator of them all */
    if (req->who.kind != SRV_PRESHARED)
      srv_error(r, 403, "forbidden", NULL, "%s needs a preshared key (or the server's --metrics-public)",
                req->route->path);
    return req->admitted = req->who.kind == SRV_PRESHARED;
  }
  char why[512];
  req->tenant = srv_tenant_get(server, req->params[0], why, sizeof why);
  if (!req->tenant) {
    if (why[0])
      srv_error(r, 503, "unavailable", "tenant", "%s", why);
    else
      srv_error(r, 404, "notFound", "tenant", "no tenant '%s'", req->params[0]);
    return false;
  }
  return req->admitted = true;
}

void srv_dispatch(srv *server, srv_req *req, srv_resp *r)
{
  if (!req->admitted && !srv_admit(server, req, r))
    return;
  if (!req->tenant) { /* a route outside tenants */
    req->route->fn(server, req, r);
    return;
  }
  if (authorize(req, r) && min_revision(server, req, r))
    req->route->fn(server, req, r);
  if (!r->has_revision && !r->wait) { /* every answer about a tenant says which revision it saw */
    srv_read_lock();
    r->revision = srv_tenant_snap(req->tenant)->revision;
    srv_read_unlock();
    r->has_revision = true;
  }
}

bool srv_if_match(const srv_req *req, srv_resp *r, bool *has, uint64_t *revision)
{
  const char *v = req->if_match;
  *has = false;
  if (!v || strcmp(v, "*") == 0)
    return true;
  if (strncmp(v, "W/", 2) == 0)
    v += 2;
  char digits[32];
  size_t n = strlen(v);
  if (n >= 3 && n < sizeof digits + 2 && v[0] == '"' && v[n - 1] == '"') {
    memcpy(digits, v + 1, n - 2);
    digits[n - 2] = '\0';
    if (parse_u64(digits, revision)) {
      *has = true;
      return true;
    }
  }
  srv_error(r, 400, "badRequest", "If-Match", "If-Match must be an ETag this server gave (\"REVISION\")");
  return false;
}
