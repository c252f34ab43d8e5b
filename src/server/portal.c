/*
 * server/portal.c - the web portal's files and the catalog it shows. The
 * portal (web/, docs/portal.md) is a page and its bundled script and styles,
 * built by esbuild at build time and compiled into the binary as a table of
 * files (web/build.mjs writes it; cmake/portal-none.c stands in when the build
 * had no npm): `GET /` is the page, `GET /portal/FILE` the rest, whose names
 * hold a hash of their content, so they are cached for good. The portal talks
 * to the server only through the public API, with a session cookie
 * (session.c); every response carries the security headers http.c adds.
 *
 * GET /api/v1/catalog is the permission catalog (unified permissions with
 * their levels and Graph ids, workloads, the legacy permissions and roles), the
 * data the portal's forms are built from; it names no tenant, so it is public
 * like the OpenAPI document.
 *
 * Depends on: the public API, jansson.
 */
#include <string.h>

#include "server/server.h"

#define IMMUTABLE "public, max-age=31536000, immutable"

void srv_h_portal(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  const char *want = req->nsegs ? req->params[0] : "index.html";
  for (size_t i = 0; i < srv_portal_nassets; i++) {
    const srv_asset *a = &srv_portal_assets[i];
    if (strcmp(a->name, want) != 0)
      continue;
    r->status = 200;
    r->content_type = a->type;
    r->static_body = a->data;
    r->static_len = a->len;
    r->cache = strcmp(a->name, "index.html") == 0 ? "no-cache" : IMMUTABLE;
    return;
  }
  srv_error(r, 404, "notFound", "file", "the portal has no file '%.100s'", want);
}

static json_t *levels_of(unsigned levels)
{
  json_t *a = json_array();
  if (levels & URBAC_LEVEL_READ)
    json_array_append_new(a, json_string("read"));
  if (levels & URBAC_LEVEL_MANAGE)
    json_array_append_new(a, json_string("manage"));
  return a;
}

static json_t *legacy_list(urbac_legacy_kind kind)
{
  json_t *a = json_array();
  for (size_t i = 0; a && i < urbac_catalog_legacy_count(kind); i++) {
    const urbac_legacy_info *l = urbac_catalog_legacy(kind, i);
    json_array_append_new(a, json_pack("{s:s, s:s}", "id", l->id, "name", l->name));
  }
  return a;
}

void srv_h_catalog(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  (void)req;
  json_t *perms = json_array(), *workloads = json_array();
  for (size_t i = 0; perms && i < urbac_catalog_perm_count(); i++) {
    const urbac_perm_info *p = urbac_catalog_perm(i);
    json_array_append_new(
        perms, json_pack("{s:s, s:s, s:o}", "name", p->name, "id", p->id, "levels", levels_of(p->levels)));
  }
  for (size_t w = 0; workloads && w < urbac_catalog_workload_count(); w++)
    json_array_append_new(workloads, json_pack("{s:s, s:s}", "id", urbac_catalog_workload_id(w), "name",
                                               urbac_catalog_workload_name(w)));
  json_t *j =
      json_pack("{s:o*, s:o*, s:{s:o*, s:o*, s:o*, s:o*}}", "permissions", perms, "workloads", workloads,
                "legacy", "mdePermissions", legacy_list(URBAC_LEGACY_MDE_PERMISSION), "mdoRoleGroups",
                legacy_list(URBAC_LEGACY_EOP_ROLE_GROUP), "mdiRoles", legacy_list(URBAC_LEGACY_MDI_ROLE),
                "directoryRoles", legacy_list(URBAC_LEGACY_DIRECTORY_ROLE));
  if (!j)
    srv_error(r, 500, "internalError", NULL, "out of memory");
  else
    srv_json(r, 200, j);
}
