/*
 * server/signin.c - the portal's OIDC sign-in: the authorization code flow with
 * PKCE (RFC 7636) against the provider the providers file gives a "portal"
 * client (docs/oidc.md, docs/portal.md), done by the server, so no token ever
 * reaches the browser:
 *
 *   GET /api/v1/session/oidc?tenant=T   makes a state, a nonce and a PKCE
 *       verifier, keeps them (at most PENDING_MAX sign-ins under way, each for
 *       PENDING_S seconds), and redirects to the provider's authorization
 *       endpoint with the S256 challenge;
 *   GET /api/v1/session/oidc/callback   takes the state back (once), exchanges
 *       the code and the verifier at the token endpoint (fetch.c, over HTTPS),
 *       verifies the ID token with the provider's keys like any JWT the API
 *       accepts (oidc.c; its audience is the portal's client id), checks its
 *       nonce, makes a session for the user its claim names, valid until the
 *       token expires (session.c), and redirects to the portal.
 *
 * Depends on: the public API, jansson, OpenSSL (RAND_bytes, SHA-256), libcurl
 * (escaping), oidc.c, fetch.c, session.c.
 */
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/server.h"

#define PENDING_MAX 256 /* sign-ins under way; the oldest makes room */
#define PENDING_S 600   /* a sign-in must come back within this */
#define RANDOM_B64 43   /* 32 random bytes in base64url */
#define MAX_TOKEN_REPLY (256u << 10)

typedef struct pending {
  bool live;
  char state[RANDOM_B64 + 1], verifier[RANDOM_B64 + 1], nonce[RANDOM_B64 + 1];
  char tenant[SRV_MAX_TENANT_ID + 1];
  time_t created;
} pending;

static pending table[PENDING_MAX];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

static void b64url(const unsigned char *in, size_t n, char *out)
{
  static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t o = 0, i = 0;
  for (; i + 2 < n; i += 3) {
    unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
    out[o++] = a[v >> 18 & 63];
    out[o++] = a[v >> 12 & 63];
    out[o++] = a[v >> 6 & 63];
    out[o++] = a[v & 63];
  }
  if (n - i == 2) {
    unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
    out[o++] = a[v >> 18 & 63];
    out[o++] = a[v >> 12 & 63];
    out[o++] = a[v >> 6 & 63];
  } else if (n - i == 1) {
    unsigned v = (unsigned)in[i] << 16;
    out[o++] = a[v >> 18 & 63];
    out[o++] = a[v >> 12 & 63];
  }
  out[o] = '\0';
}

static bool random_b64(char out[RANDOM_B64 + 1])
{
  unsigned char b[32];
  if (RAND_bytes(b, sizeof b) != 1)
    return false;
  b64url(b, sizeof b, out);
  return true;
}

/* The S256 challenge of `verifier`. */
static bool challenge(const char *verifier, char out[RANDOM_B64 + 1])
{
  unsigned char d[32];
  unsigned int len = 0;
  if (EVP_Digest(verifier, strlen(verifier), d, &len, EVP_sha256(), NULL) != 1 || len != 32)
    return false;
  b64url(d, sizeof d, out);
  return true;
}

/* Appends "&name=VALUE" (VALUE escaped) to `b`. */
static void param(srv_buf *b, const char *name, const char *value)
{
  char *v = curl_easy_escape(NULL, value, 0);
  srv_buf_printf(b, "%s%s=%s", b->len ? "&" : "", name, v ? v : "");
  if (!v)
    b->oom = true;
  curl_free(v);
}

/* ---------------------------------------------------------------- start */

void srv_h_oidc_start(srv *server, srv_req *req, srv_resp *r)
{
  const char *tenant = srv_arg_get(req, "tenant");
  srv_oidc_client c;
  pending p = {.live = true, .created = time(NULL)};
  char code_challenge[RANDOM_B64 + 1];
  srv_buf q = {0};
  if (!srv_oidc_client_for(server, tenant, &c)) {
    srv_error(r, 404, "notFound", "tenant", "no OIDC provider with a portal client for %s%s (docs/oidc.md)",
              tenant && *tenant ? "tenant " : "", tenant && *tenant ? tenant : "any tenant");
    return;
  }
  if (!random_b64(p.state) || !random_b64(p.verifier) || !random_b64(p.nonce) ||
      !challenge(p.verifier, code_challenge)) {
    srv_error(r, 500, "internalError", NULL, "cannot make the sign-in's secrets");
    return;
  }
  snprintf(p.tenant, sizeof p.tenant, "%s", c.tenant);
  pthread_mutex_lock(&table_lock);
  size_t slot = 0;
  for (size_t i = 0; i < PENDING_MAX; i++) { /* a free or stale slot, else the oldest */
    if (!table[i].live || table[i].created + PENDING_S < p.created) {
      slot = i;
      break;
    }
    if (table[i].created < table[slot].created)
      slot = i;
  }
  table[slot] = p;
  pthread_mutex_unlock(&table_lock);
  param(&q, "response_type", "code");
  param(&q, "client_id", c.client_id);
  param(&q, "redirect_uri", c.redirect_uri);
  param(&q, "scope", "openid profile");
  param(&q, "state", p.state);
  param(&q, "nonce", p.nonce);
  param(&q, "code_challenge", code_challenge);
  param(&q, "code_challenge_method", "S256");
  size_t size = strlen(c.authorize_url) + q.len + 2;
  r->location = q.oom ? NULL : malloc(size);
  if (r->location) {
    snprintf(r->location, size, "%s%c%s", c.authorize_url, strchr(c.authorize_url, '?') ? '&' : '?', q.p);
    r->status = 302;
  } else
    srv_error(r, 500, "internalError", NULL, "out of memory");
  srv_buf_free(&q);
  OPENSSL_cleanse(&p, sizeof p);
}

/* ---------------------------------------------------------------- callback */

/* Takes the sign-in of `state` out of the table (once); false when unknown or stale. */
static bool take(const char *state, pending *out)
{
  bool found = false;
  time_t now = time(NULL);
  if (!state || strlen(state) != RANDOM_B64)
    return false;
  pthread_mutex_lock(&table_lock);
  for (size_t i = 0; i < PENDING_MAX; i++)
    if (table[i].live && CRYPTO_memcmp(table[i].state, state, RANDOM_B64) == 0) {
      found = table[i].created + PENDING_S >= now;
      *out = table[i];
      OPENSSL_cleanse(&table[i], sizeof table[i]);
    }
  pthread_mutex_unlock(&table_lock);
  return found;
}

/* Exchanges `code` at the token endpoint: the ID token (the caller frees it), or NULL with `why`. */
static char *exchange(const srv_oidc_client *c, const pending *p, const char *code, char *why, size_t size)
{
  srv_buf form = {0};
  char *text = NULL, *id_token = NULL;
  size_t len = 0;
  param(&form, "grant_type", "authorization_code");
  param(&form, "code", code);
  param(&form, "redirect_uri", c->redirect_uri);
  param(&form, "client_id", c->client_id);
  param(&form, "code_verifier", p->verifier);
  if (c->client_secret[0])
    param(&form, "client_secret", c->client_secret);
  srv_fetch_opts o = {.ca_file = c->ca_file[0] ? c->ca_file : NULL,
                      .timeout_s = c->timeout_s,
                      .max_bytes = MAX_TOKEN_REPLY,
                      .post = form.p};
  if (form.oom)
    snprintf(why, size, "out of memory");
  else if (srv_fetch(c->token_url, &o, &text, &len, why, size)) {
    json_t *j = json_loadb(text, len, 0, NULL);
    const char *t = json_string_value(json_object_get(j, "id_token"));
    if (!t || !(id_token = strdup(t)))
      snprintf(why, size, "POST %.512s: the reply holds no id_token", c->token_url);
    json_decref(j);
  }
  if (form.p)
    OPENSSL_cleanse(form.p, form.len);
  srv_buf_free(&form);
  free(text);
  return id_token;
}

/* The ID token's nonce is the sign-in's; its expiry in *exp. */
static bool nonce_ok(const char *id_token, const pending *p, int64_t *exp, char *why, size_t size)
{
  srv_jwt t;
  bool ok = false;
  if (!srv_jwt_parse(id_token, &t, why, size))
    return false;
  const char *nonce = json_string_value(json_object_get(t.claims, "nonce"));
  *exp = (int64_t)json_integer_value(json_object_get(t.claims, "exp"));
  if (!nonce || strlen(nonce) != RANDOM_B64 || CRYPTO_memcmp(nonce, p->nonce, RANDOM_B64) != 0)
    snprintf(why, size, "the ID token's nonce is not this sign-in's");
  else
    ok = true;
  srv_jwt_clear(&t);
  return ok;
}

void srv_h_oidc_callback(srv *server, srv_req *req, srv_resp *r)
{
  const char *code = srv_arg_get(req, "code"), *error = srv_arg_get(req, "error");
  pending p;
  srv_oidc_client c;
  srv_identity who = {.kind = SRV_JWT};
  char why[1024] = "", home[SRV_MAX_TENANT_ID + 1] = "", csrf[65];
  char *id_token = NULL;
  int64_t exp = 0;
  if (!take(srv_arg_get(req, "state"), &p)) {
    srv_error(r, 400, "badRequest", "state", "no sign-in under way has this state (it expired, or was used)");
    goto out;
  }
  if (error || !code) {
    srv_error(r, 401, "unauthenticated", "code", "the provider refused the sign-in: %.200s %.300s",
              error ? error : "no code",
              srv_arg_get(req, "error_description") ? srv_arg_get(req, "error_description") : "");
    goto out;
  }
  if (!srv_oidc_client_for(server, p.tenant, &c)) {
    srv_error(r, 404, "notFound", "tenant", "the OIDC provider of tenant %s is no longer configured",
              p.tenant);
    goto out;
  }
  if (!(id_token = exchange(&c, &p, code, why, sizeof why)) ||
      !srv_jwt_verify_for(server, p.tenant, id_token, c.client_id, &who, home, why, sizeof why) ||
      !nonce_ok(id_token, &p, &exp, why, sizeof why)) {
    srv_error(r, 401, "unauthenticated", "id_token", "%s", why);
    goto out;
  }
  snprintf(who.home, sizeof who.home, "%s", home);
  int64_t left = exp - (int64_t)time(NULL);
  if (!srv_session_open(server, req, r, NULL, &who, left > 0 ? (uint64_t)left : 1, csrf))
    goto out;
  size_t size = strlen(home) * 3 + 16;
  if ((r->location = malloc(size)) != NULL) {
    char *t = curl_easy_escape(NULL, home, 0);
    snprintf(r->location, size, "/?tenant=%s", t ? t : "");
    curl_free(t);
    r->status = 302;
  } else
    srv_error(r, 500, "internalError", NULL, "out of memory");
out:
  free(id_token);
  OPENSSL_cleanse(&p, sizeof p);
}
