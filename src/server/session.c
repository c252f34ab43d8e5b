/*
 * server/session.c - the portal's sessions. A person pastes an API key or the
 * preshared admin key once (POST /api/v1/session), or signs in with OIDC
 * (portal_oidc.c); the server answers with a session cookie (HttpOnly,
 * SameSite=Strict, Secure over HTTPS) and a CSRF token the page keeps in memory
 * and sends back as X-CSRF-Token on every write. Nothing reaches localStorage.
 *
 * A session holds the credential it was made with, and each request made with
 * it is authenticated again with that credential by auth.c, exactly as if it
 * had come as a bearer token: a revoked or expired key, or a preshared key
 * taken out of its file, ends its sessions at once, and what a session may do
 * is what the API decides for the key's user (route.c's authorize()). An OIDC
 * session holds the identity its ID token proved, until the token expires.
 *
 * The cookie's value is 32 random bytes; the table keeps only its SHA-256, so
 * a memory dump shows no live cookie. At most SRV_MAX_SESSIONS sessions (the
 * least recently used one makes room), each ending after SRV_SESSION_IDLE_S
 * seconds unused or SRV_SESSION_LIFE_S seconds after sign-in.
 *
 * Depends on: the public API, jansson, OpenSSL (RAND_bytes, SHA-256).
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/server.h"

typedef struct session {
  bool live;
  unsigned char id[32]; /* SHA-256 of the cookie's value */
  char csrf[65];
  char *token;                  /* the credential (a key): authenticated again on each request; or NULL */
  srv_identity who;             /* without a token: the identity an OIDC sign-in proved */
  uint64_t created, used, ends; /* seconds (monotonic); ends: the credential's own expiry, or 0 */
} session;

typedef struct sessions {
  pthread_mutex_t lock;
  session s[SRV_MAX_SESSIONS];
} sessions;

static uint64_t now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec;
}

static void hex(const unsigned char *b, size_t n, char *out)
{
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[b[i] >> 4];
    out[2 * i + 1] = digits[b[i] & 15];
  }
  out[2 * n] = '\0';
}

static bool digest_of(const char *s, unsigned char out[32])
{
  unsigned int len = 0;
  return EVP_Digest(s, strlen(s), out, &len, EVP_sha256(), NULL) == 1 && len == 32;
}

static void session_clear(session *s)
{
  if (s->token) {
    OPENSSL_cleanse(s->token, strlen(s->token));
    free(s->token);
  }
  OPENSSL_cleanse(s, sizeof *s);
}

urbac_err srv_sessions_init(srv *server)
{
  sessions *all = calloc(1, sizeof *all);
  if (!all)
    return URBAC_ENOMEM;
  pthread_mutex_init(&all->lock, NULL);
  server->sessions = all;
  return URBAC_OK;
}

void srv_sessions_free(srv *server)
{
  sessions *all = server->sessions;
  if (!all)
    return;
  for (size_t i = 0; i < SRV_MAX_SESSIONS; i++)
    session_clear(&all->s[i]);
  pthread_mutex_destroy(&all->lock);
  free(all);
  server->sessions = NULL;
}

static bool expired(const session *s, uint64_t now)
{
  return now - s->used > SRV_SESSION_IDLE_S || now - s->created > SRV_SESSION_LIFE_S ||
         (s->ends && now >= s->ends);
}

/* The live session of cookie value `cookie`, under the lock; NULL when none. */
static session *find(sessions *all, const char *cookie, uint64_t now)
{
  unsigned char id[32];
  session *found = NULL;
  if (!cookie || strlen(cookie) != 64 || !digest_of(cookie, id))
    return NULL;
  for (size_t i = 0; i < SRV_MAX_SESSIONS; i++) /* every one compared: no early exit */
    if (all->s[i].live && CRYPTO_memcmp(all->s[i].id, id, sizeof id) == 0)
      found = &all->s[i];
  if (found && expired(found, now)) {
    session_clear(found);
    found = NULL;
  }
  return found;
}

/* A free slot, or the least recently used session's. */
static session *slot(sessions *all, uint64_t now)
{
  session *oldest = &all->s[0];
  for (size_t i = 0; i < SRV_MAX_SESSIONS; i++) {
    session *s = &all->s[i];
    if (s->live && expired(s, now))
      session_clear(s);
    if (!s->live)
      return s;
    if (s->used < oldest->used)
      oldest = s;
  }
  session_clear(oldest);
  return oldest;
}

static void cookie_header(const srv_req *req, srv_resp *r, const char *value, unsigned max_age)
{
  snprintf(r->cookie, sizeof r->cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%u%s",
           SRV_SESSION_COOKIE, value, max_age, req->tls ? "; Secure" : "");
}

bool srv_session_open(srv *server, const srv_req *req, srv_resp *r, const char *token,
                      const srv_identity *who, uint64_t lifetime_s, char csrf[65])
{
  sessions *all = server->sessions;
  unsigned char raw[32], id[32], c[32];
  char value[65];
  bool ok = false;
  if (!all || RAND_bytes(raw, sizeof raw) != 1 || RAND_bytes(c, sizeof c) != 1) {
    srv_error(r, 500, "internalError", NULL, "cannot make a session");
    return false;
  }
  hex(raw, sizeof raw, value);
  char *copy = token ? strdup(token) : NULL;
  if ((token && !copy) || !digest_of(value, id)) {
    free(copy);
    srv_error(r, 500, "internalError", NULL, "out of memory");
    return false;
  }
  uint64_t now = now_s();
  pthread_mutex_lock(&all->lock);
  session *s = slot(all, now);
  *s = (session){.live = true, .token = copy, .who = *who, .created = now, .used = now};
  if (lifetime_s)
    s->ends = now + lifetime_s;
  memcpy(s->id, id, sizeof id);
  hex(c, sizeof c, s->csrf);
  memcpy(csrf, s->csrf, 65);
  ok = true;
  pthread_mutex_unlock(&all->lock);
  cookie_header(req, r, value, SRV_SESSION_LIFE_S);
  OPENSSL_cleanse(value, sizeof value);
  OPENSSL_cleanse(raw, sizeof raw);
  return ok;
}

bool srv_session_lookup(srv *server, const srv_req *req, srv_resp *r, char **token, srv_identity *who,
                        char csrf[65])
{
  sessions *all = server->sessions;
  bool ok = false;
  *token = NULL;
  if (!all)
    goto out;
  uint64_t now = now_s();
  pthread_mutex_lock(&all->lock);
  session *s = find(all, req->session, now);
  bool writes = req->method != SRV_GET;
  if (!s) {
    srv_error(r, 401, "unauthenticated", "Cookie", "the session has ended; sign in again");
  } else if (writes &&
             (!req->csrf || strlen(req->csrf) != 64 || CRYPTO_memcmp(req->csrf, s->csrf, 64) != 0)) {
    srv_error(r, 403, "forbidden", "X-CSRF-Token",
              "a change made with a session needs its CSRF token in the X-CSRF-Token header");
  } else if (s->token && !(*token = strdup(s->token))) {
    srv_error(r, 500, "internalError", NULL, "out of memory");
  } else {
    s->used = now;
    *who = s->who;
    if (csrf)
      memcpy(csrf, s->csrf, 65);
    ok = true;
  }
  pthread_mutex_unlock(&all->lock);
out:
  if (!all)
    srv_error(r, 401, "unauthenticated", "Cookie", "this server keeps no sessions");
  return ok;
}

/* ---------------------------------------------------------------- routes */

static const char *kind_name(srv_caller k)
{
  return k == SRV_PRESHARED ? "preshared" : k == SRV_API_KEY ? "apiKey" : k == SRV_JWT ? "oidc" : "anonymous";
}

/* What the session's identity may do on tenant `tenant`: "manage", "read",
 * "decide" (the decision routes only) or NULL (not a tenant of the credential). */
static const char *access_on(srv *server, const srv_identity *who, const char *tenant)
{
  char why[256];
  if (who->kind == SRV_PRESHARED)
    return srv_tenant_get(server, tenant, why, sizeof why) ? "manage" : NULL;
  if (strcmp(who->home, tenant) != 0)
    return NULL;
  srv_tenant *t = srv_tenant_get(server, tenant, why, sizeof why);
  if (!t)
    return NULL;
  if (who->decisions_only)
    return "decide";
  srv_read_lock();
  srv_snap *sn = srv_tenant_snap(t);
  const char *level = srv_user_may(sn, who->user, SRV_MANAGE, NULL) ? "manage"
                      : srv_user_may(sn, who->user, SRV_READ, NULL) ? "read"
                                                                    : "decide";
  srv_read_unlock();
  return level;
}

/* The session as the portal reads it: who, which tenants, the CSRF token, and
 * what the identity may do on each tenant. */
static void session_reply(srv *server, srv_resp *r, unsigned status, const srv_identity *who,
                          const char *csrf)
{
  json_t *tenants = who->kind == SRV_PRESHARED ? srv_directory_list(server, 1000) : json_array();
  if (tenants && who->kind != SRV_PRESHARED)
    json_array_append_new(tenants, json_string(who->home));
  json_t *access = json_object();
  size_t i;
  json_t *t;
  json_array_foreach(tenants, i, t)
  {
    const char *level = access_on(server, who, json_string_value(t));
    json_object_set_new(access, json_string_value(t), level ? json_string(level) : json_null());
  }
  json_t *j =
      json_pack("{s:s?, s:s, s:s, s:o, s:o, s:s, s:i, s:i}", "user", who->user[0] ? who->user : NULL, "actor",
                who->actor, "kind", kind_name(who->kind), "tenants", tenants ? tenants : json_array(),
                "access", access ? access : json_object(), "csrfToken", csrf, "idleSeconds",
                SRV_SESSION_IDLE_S, "lifetimeSeconds", SRV_SESSION_LIFE_S);
  srv_json(r, status, j);
}

/* A browser's sign-in comes from the portal's own origin: a page of another
 * site posting a key of its own (login CSRF) names that site in Origin. */
static bool same_origin(const srv_req *req)
{
  const char *o = req->origin;
  if (!o)
    return true; /* not a browser's cross-site request (browsers send Origin on every POST) */
  const char *rest = strncmp(o, "https://", 8) == 0 ? o + 8 : strncmp(o, "http://", 7) == 0 ? o + 7 : NULL;
  return rest && req->host && strcmp(rest, req->host) == 0;
}

void srv_h_session_create(srv *server, srv_req *req, srv_resp *r)
{
  if (!same_origin(req)) {
    srv_error(r, 403, "forbidden", "Origin", "a sign-in must come from this server's own pages");
    return;
  }
  json_t *body = srv_body_object(req, r);
  if (!body)
    return;
  const char *key = json_string_value(json_object_get(body, "key"));
  srv_req probe = {.method = SRV_GET, .tls = req->tls};
  char csrf[65];
  if (!key || !*key)
    srv_error(r, 400, "badRequest", "key", "'key' is required: an API key or a preshared key");
  else if (strlen(key) > 8192)
    srv_error(r, 400, "badRequest", "key", "'key' is longer than 8192 bytes");
  else if (srv_authenticate_token(server, &probe, r, key, strlen(key), NULL) && /* else: 401, and why */
           srv_session_open(server, req, r, key, &probe.who, 0, csrf))
    session_reply(server, r, 201, &probe.who, csrf);
  json_decref(body);
}

void srv_h_session_get(srv *server, srv_req *req, srv_resp *r)
{
  char *token = NULL, csrf[65];
  srv_identity who = {0};
  if (srv_session_lookup(server, req, r, &token, &who, csrf)) {
    srv_req probe = {.method = SRV_GET, .tls = req->tls};
    if (!token || srv_authenticate_token(server, &probe, r, token, strlen(token), NULL))
      session_reply(server, r, 200, token ? &probe.who : &who, csrf);
  }
  if (token) {
    OPENSSL_cleanse(token, strlen(token));
    free(token);
  }
}

void srv_h_session_delete(srv *server, srv_req *req, srv_resp *r)
{
  sessions *all = server->sessions;
  char *token = NULL;
  srv_identity who;
  if (!srv_session_lookup(server, req, r, &token, &who, NULL))
    return;
  free(token);
  pthread_mutex_lock(&all->lock);
  session *s = find(all, req->session, now_s());
  if (s)
    session_clear(s);
  pthread_mutex_unlock(&all->lock);
  cookie_header(req, r, "", 0);
  r->status = 204;
}
