/*
 * server/keys.c - API keys over HTTP, as `urbac key` manages them: list them
 * (never their secrets), create one (its token is in the reply, once), revoke
 * one. Both changes are audited as the caller and take effect on this server
 * before the reply, and on others within a second. A key may act as its
 * creator, or as someone who holds nothing the creator does not (may_mint());
 * it records who created it, and what it does is audited with both names.
 *
 * Depends on: the public API, jansson.
 */
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

static json_t *key_json(const urbac_api_key *k)
{
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s?}", "id", k->id, "name", k->name, "user",
                   k->user, "scope", k->scope, "created", k->created, "createdBy",
                   k->created_by[0] ? k->created_by : NULL, "expires", k->expires[0] ? k->expires : NULL,
                   "revoked", k->revoked[0] ? k->revoked : NULL);
}

static int key_add(void *ctx, const urbac_api_key *k) { return json_array_append_new(ctx, key_json(k)) != 0; }

void srv_h_key_list(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  srv_tenant *t = req->tenant;
  json_t *list = json_array();
  urbac_diag *d = urbac_diag_new();
  uint64_t revision = 0;
  pthread_mutex_lock(&t->write_lock);
  urbac_err err = urbac_store_keys(t->store, t->id, key_add, list, d);
  if (!err)
    err = urbac_store_revision(t->store, t->id, &revision, d);
  pthread_mutex_unlock(&t->write_lock);
  if (err) {
    json_decref(list);
    srv_error_urbac(r, err, d, NULL);
  } else {
    srv_page_at(req, r, list, revision);
  }
  urbac_diag_free(d);
}

/* A string member of the body, or NULL; false after replying when it is not one. */
static bool member(json_t *body, const char *name, const char **out, srv_resp *r)
{
  json_t *v = json_object_get(body, name);
  *out = json_string_value(v);
  if (!v || json_is_string(v))
    return true;
  srv_error(r, 400, "badRequest", name, "%s is a string", name);
  return false;
}

/* May `who` mint a key that acts as `user`? For oneself, always; for another
 * user, only when the caller holds every grant that user holds (reach.c): a key
 * is that user's whole reach. A preshared key may do everything. false with the
 * reason in `why`. Call with the tenant's write lock held. */
static bool may_mint(srv_tenant *t, const srv_identity *who, const char *user, char *why, size_t size)
{
  srv_gain gain;
  char what[900];
  const urbac_snapshot *now = t->current->snap;
  if (who->kind == SRV_PRESHARED || !user || strcmp(user, who->user) == 0 || srv_reach_all(now, who->user) ||
      srv_reach_within(now, who->user, now, NULL, user, &gain))
    return true;
  srv_gain_format(&gain, what, sizeof what);
  snprintf(why, size, "a key for %s would act with %s, which %s does not hold", user, what, who->user);
  return false;
}

void srv_h_key_create(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  json_t *body = srv_body_object(req, r);
  urbac_api_key k = {0};
  if (!body || !member(body, "user", &k.user, r) || !member(body, "name", &k.name, r) ||
      !member(body, "scope", &k.scope, r) || !member(body, "expires", &k.expires, r)) {
    json_decref(body);
    return;
  }
  k.name = k.name ? k.name : "";
  k.scope = k.scope ? k.scope : "all";
  srv_tenant *t = req->tenant;
  char *token = NULL, refused[1600] = "";
  urbac_diag *d = urbac_diag_new();
  char creator[sizeof req->who.actor]; /* the caller, without how the caller's own key was made */
  snprintf(creator, sizeof creator, "%s", req->who.actor);
  char *chain = strstr(creator, " created by ");
  if (chain)
    *chain = '\0';
  urbac_write w = {creator, "POST /apiKeys", false, 0, NULL, NULL};
  urbac_err err = URBAC_EREFUSED;
  pthread_mutex_lock(&t->write_lock);
  if (may_mint(t, &req->who, k.user, refused, sizeof refused))
    err = urbac_store_key_create(t->store, t->id, &k, &w, &token, d);
  if (!err)
    srv_tenant_keys_refresh(t, t->store);
  pthread_mutex_unlock(&t->write_lock);
  char id[17];
  const char *secret;
  size_t slen;
  if (refused[0])
    srv_error(r, 403, "forbidden", "user", "%s", refused);
  else if (err)
    srv_error_urbac(r, err, d, NULL);
  else if (urbac_key_token_split(token, strlen(token), id, &secret, &slen))
    srv_json(r, 201,
             json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s}", "id", id, "user", k.user, "name", k.name,
                       "scope", k.scope, "createdBy", creator, "expires",
                       k.expires && k.expires[0] ? k.expires : NULL, "token", token));
  urbac_free(token);
  urbac_diag_free(d);
  json_decref(body);
}

void srv_h_key_revoke(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  srv_tenant *t = req->tenant;
  urbac_diag *d = urbac_diag_new();
  urbac_write w = {req->who.actor, "DELETE /apiKeys/{id}", false, 0, NULL, NULL};
  pthread_mutex_lock(&t->write_lock);
  urbac_err err = urbac_store_key_revoke(t->store, t->id, req->params[1], &w, d);
  if (!err)
    srv_tenant_keys_refresh(t, t->store);
  pthread_mutex_unlock(&t->write_lock);
  if (err)
    srv_error_urbac(r, err, d, "id");
  else
    r->status = 204;
  urbac_diag_free(d);
}
