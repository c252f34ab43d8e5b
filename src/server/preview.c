/*
 * server/preview.c - what the portal asks before it writes or to vouch for what
 * was written, none of which changes anything:
 *
 *   POST .../deviceGroups/preview   the devices a device group's rules (the body,
 *       as a PUT of the group would give them) match, paged, with their count:
 *       the rules are put into a copy of the tenant's model, under the id the body
 *       names or a free one, and each device is tried with the engine's own
 *       matching (urbac_model_device_matches()), so the preview cannot disagree
 *       with what the group will hold;
 *   GET  .../auditLog/verify        urbac_store_audit_check() on the tenant's
 *       store, as `urbac audit verify` does: intact with the count, or the first
 *       bad record and every problem found;
 *   GET  /api/v1/session/methods    how one may sign in: a key always, OIDC when
 *       a provider gives the tenant (or any tenant) a portal client.
 *
 * Depends on: the public API, jansson, OpenSSL (OPENSSL_cleanse), oidc.c.
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

#define PREVIEW_ID "preview" /* the id a new group's rules are tried under (another when taken) */
#define MAX_PREVIEW_TRIES 100

/* ---------------------------------------------------------------- device group preview */

/* Index of device group `id` in `m`, or -1. */
static long dg_index(const urbac_model *m, const char *id)
{
  size_t n = urbac_model_count(m, URBAC_OBJ_DEVICE_GROUP);
  for (size_t i = 0; i < n; i++)
    if (strcmp(urbac_model_id(m, URBAC_OBJ_DEVICE_GROUP, i), id) == 0)
      return (long)i;
  return -1;
}

/* A rank no group of `m` holds other than `keep` (the group being edited). */
static size_t free_rank(const urbac_model *m, long keep)
{
  size_t n = urbac_model_count(m, URBAC_OBJ_DEVICE_GROUP);
  if (keep >= 0 && urbac_model_device_group_rank(m, (size_t)keep))
    return urbac_model_device_group_rank(m, (size_t)keep);
  for (size_t rank = 1;; rank++) { /* n groups hold at most n ranks: ends by n + 1 */
    bool taken = false;
    for (size_t i = 0; i < n && !taken; i++)
      taken = urbac_model_device_group_rank(m, i) == rank;
    if (!taken)
      return rank;
  }
}

/* The id the rules are tried under: the body's (an existing group being edited,
 * or a new one's), else PREVIEW_ID or PREVIEW_ID-N, whichever is free. */
static bool preview_id(const urbac_model *m, const char *given, char *out, size_t size)
{
  if (given && *given) {
    snprintf(out, size, "%s", given);
    return true;
  }
  for (int i = 0; i < MAX_PREVIEW_TRIES; i++) {
    if (i)
      snprintf(out, size, PREVIEW_ID "-%d", i);
    else
      snprintf(out, size, PREVIEW_ID);
    if (dg_index(m, out) < 0)
      return true;
  }
  return false;
}

void srv_h_device_group_preview(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  urbac_model *base = NULL, *tried = NULL;
  urbac_diag *d = urbac_diag_new();
  json_t *put = NULL, *items = NULL;
  char *text = NULL, id[SRV_MAX_TENANT_ID + 64];
  uint64_t revision;
  json_t *body = srv_body_object(req, r);
  if (!body)
    goto out;
  json_t *rules = json_object_get(body, "rules"), *given = json_object_get(body, "id");
  if (!json_is_object(rules)) {
    srv_error(r, 400, "badRequest", "rules",
              "'rules' must be an object, as a device group's (tenant-format.md)");
    goto out;
  }
  if (given && (!json_is_string(given) || strcmp(json_string_value(given), "ungrouped") == 0)) {
    srv_error(r, 400, "badRequest", "id", "'id' must name a device group other than 'ungrouped'");
    goto out;
  }
  srv_read_lock(); /* a reference of our own, so the edit holds no snapshot back */
  srv_snap *sn = srv_tenant_snap(req->tenant);
  urbac_err err = urbac_model_clone(sn->model, &base, d);
  revision = sn->revision;
  srv_read_unlock();
  if (err) {
    srv_error_urbac(r, err, d, NULL);
    goto out;
  }
  if (!preview_id(base, json_string_value(given), id, sizeof id)) {
    srv_error(r, 409, "conflict", "id", "no free id to try the rules under");
    goto out;
  }
  put = json_pack("{s:s, s:I, s:O}", "id", id, "rank", (json_int_t)free_rank(base, dg_index(base, id)),
                  "rules", rules);
  text = put ? json_dumps(put, JSON_COMPACT) : NULL;
  urbac_object_put p = {"deviceGroup", id, text};
  if (!text) {
    srv_error(r, 500, "internalError", NULL, "out of memory");
    goto out;
  }
  err = urbac_model_edit(base, &p, 1, &tried, d);
  if (err) {
    srv_error_urbac(r, err, d, "rules");
    goto out;
  }
  long g = dg_index(tried, id);
  items = json_array();
  for (size_t i = 0, n = urbac_model_count(tried, URBAC_OBJ_DEVICE); g >= 0 && i < n; i++)
    if (urbac_model_device_matches(tried, (size_t)g, i))
      json_array_append_new(items, json_pack("{s:s}", "id", urbac_model_id(tried, URBAC_OBJ_DEVICE, i)));
  size_t count = json_array_size(items);
  srv_page(req, r, items,
           json_pack("{s:I, s:I}", "count", (json_int_t)count, "revision", (json_int_t)revision));
  items = NULL;
  r->revision = revision;
  r->has_revision = true;
out:
  json_decref(items);
  json_decref(put);
  json_decref(body);
  free(text);
  urbac_model_free(tried);
  urbac_model_free(base);
  urbac_diag_free(d);
}

/* ---------------------------------------------------------------- audit log check */

void srv_h_audit_verify(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  srv_tenant *t = req->tenant;
  urbac_audit_report rep;
  urbac_diag *d = urbac_diag_new();
  pthread_mutex_lock(&t->write_lock); /* the check sees no write half done */
  urbac_err err = urbac_store_audit_check(t->store, t->id, &rep, d);
  pthread_mutex_unlock(&t->write_lock);
  if (err && err != URBAC_ETAMPERED) {
    srv_error_urbac(r, err, d, NULL);
    goto out;
  }
  json_t *problems = json_array();
  for (size_t i = 0; i < urbac_diag_count(d) && i < 100; i++) {
    char msg[1024];
    urbac_diag_format(d, i, msg, sizeof msg);
    json_array_append_new(problems, json_string(msg));
  }
  json_t *j = json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:o}", "intact", err == URBAC_OK, "records",
                        (json_int_t)rep.records, "stated", (json_int_t)rep.stated, "keyed",
                        (json_int_t)rep.keyed, "objects", (json_int_t)rep.objects, "witnessed",
                        (json_int_t)rep.witnessed, "problems", problems);
  if (j && rep.bad)
    json_object_set_new(j, "firstBadRecord", json_integer((json_int_t)rep.bad));
  srv_json(r, 200, j);
out:
  urbac_diag_free(d);
}

/* ---------------------------------------------------------------- sign-in methods */

void srv_h_session_methods(srv *server, srv_req *req, srv_resp *r)
{
  srv_oidc_client c;
  const char *tenant = srv_arg_get(req, "tenant");
  bool oidc = srv_oidc_client_for(server, tenant && *tenant ? tenant : NULL, &c);
  OPENSSL_cleanse(&c, sizeof c); /* it holds the client secret */
  srv_json(r, 200, json_pack("{s:b, s:b}", "key", 1, "oidc", oidc));
}
