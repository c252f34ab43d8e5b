/*
 * server/oidc.c - the OpenID providers whose JWTs `urbac serve --oidc FILE`
 * accepts (docs/oidc.md). The file names, per tenant, an issuer, an audience
 * and the claim that holds the tenant user's id, and where the provider's keys
 * come from: OpenID discovery from the issuer (ISSUER/.well-known/openid-
 * configuration, whose jwks_uri is then fetched over HTTPS by fetch.c), or a
 * JWKS file for a machine that cannot reach its provider.
 *
 * Keys change under us: providers rotate them. A thread of ours (the refresher)
 * fetches each provider's keys again every refreshSeconds, and at once when a
 * token names a key id we do not hold, but never more often than once every
 * minRefreshSeconds, so a stream of tokens with made-up key ids cannot make us
 * hammer the provider. The request that met the unknown key waits for that
 * fetch (at most about twice timeoutSeconds) and is verified again. A failed
 * fetch keeps the keys we had, and is logged with the provider and the URL.
 *
 * SIGHUP reads the whole file again, fetching every provider's keys; the new
 * providers replace the old only when all of it loads (else the old stay, and
 * the error is logged). The refresher does the reading, so it is the only
 * thread that replaces providers or key sets: readers find both under RCU,
 * the old ones are freed after a grace period, and no reader ever holds the
 * read lock across a fetch.
 *
 * Depends on: the public API, jansson, liburcu-bp, jwks.c, fetch.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu/urcu-bp.h>

#include "server/server.h"

#define MAX_PROVIDERS 64
#define MAX_DOCUMENT (512u << 10) /* a discovery document or a JWKS; Entra ID's are a few KiB */
#define MAX_URL 1024

typedef struct provider {
  char *tenant, *issuer, *audience, *claim;
  char *jwks_file; /* its full path; NULL: discovery from the issuer */
  char *ca_file;   /* its full path; NULL: the system's CAs */
  /* the portal's sign-in (signin.c), when the file gives "portal"; else NULL */
  char *client_id, *client_secret, *redirect_uri, *authorize_url, *token_url;
  long leeway, refresh_s, min_refresh_s, timeout_s;
  srv_jwks *keys; /* RCU-protected; replaced by the refresher only */
  /* under the oidc lock */
  bool wanted, fetching;
  int64_t last_attempt, last_ok; /* monotonic seconds */
} provider;

typedef struct providers {
  size_t n;
  provider p[];
} providers;

typedef struct oidc {
  srv *server;
  const char *path;
  providers *current; /* RCU-protected; replaced by the refresher only */
  pthread_mutex_t lock;
  pthread_cond_t wake, done;
  uint64_t round; /* counts the refresher's rounds' starts and ends: odd while one runs */
  bool pending, reload, stop, started;
  pthread_t thread;
} oidc;

static int64_t mono_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec;
}

static void providers_free(providers *ps)
{
  for (size_t i = 0; ps && i < ps->n; i++) {
    provider *p = &ps->p[i];
    free(p->tenant);
    free(p->issuer);
    free(p->audience);
    free(p->claim);
    free(p->jwks_file);
    free(p->ca_file);
    free(p->client_id);
    free(p->client_secret);
    free(p->redirect_uri);
    free(p->authorize_url);
    free(p->token_url);
    srv_jwks_free(p->keys);
  }
  free(ps);
}

/* ---------------------------------------------------------------- fetching keys */

static srv_fetch_opts fetch_opts(const provider *p)
{
  return (srv_fetch_opts){
      .ca_file = p->ca_file, .timeout_s = (unsigned)p->timeout_s, .max_bytes = MAX_DOCUMENT};
}

/* GETs `url` as a JSON object (the caller frees it with json_decref()). */
static json_t *fetch_json(const provider *p, const char *url, char *why, size_t why_size)
{
  srv_fetch_opts opts = fetch_opts(p);
  char *text = NULL;
  size_t len = 0;
  json_error_t je;
  json_t *j = NULL;
  if (!srv_fetch(url, &opts, &text, &len, why, why_size))
    goto out;
  j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
  if (!j)
    snprintf(why, why_size, "GET %s: not JSON: %s at line %d", url, je.text, je.line);
  else if (!json_is_object(j)) {
    snprintf(why, why_size, "GET %s: not a JSON object", url);
    json_decref(j);
    j = NULL;
  }
out:
  free(text);
  return j;
}

/* OpenID discovery: the jwks_uri of the issuer's configuration document, which
 * must name the issuer exactly as configured (OpenID Connect Discovery 4.3). */
static bool discover(const provider *p, char jwks_uri[MAX_URL], char *why, size_t why_size)
{
  char url[MAX_URL];
  size_t n = strlen(p->issuer);
  bool ok = false;
  snprintf(url, sizeof url, "%.*s/.well-known/openid-configuration",
           (int)(n && p->issuer[n - 1] == '/' ? n - 1 : n), p->issuer);
  json_t *doc = fetch_json(p, url, why, why_size);
  const char *iss = json_string_value(json_object_get(doc, "issuer"));
  const char *uri = json_string_value(json_object_get(doc, "jwks_uri"));
  if (!doc)
    goto out;
  if (!iss || strcmp(iss, p->issuer) != 0)
    snprintf(why, why_size, "GET %s: the document's issuer is '%s', not '%s'", url, iss ? iss : "",
             p->issuer);
  else if (!uri || strncmp(uri, "https://", 8) != 0 || strlen(uri) >= MAX_URL)
    snprintf(why, why_size, "GET %s: no https:// jwks_uri in the document", url);
  else {
    snprintf(jwks_uri, MAX_URL, "%s", uri);
    ok = true;
  }
out:
  json_decref(doc);
  return ok;
}

/* The provider's keys, from its JWKS file or by discovery; `why` on failure. */
static urbac_err provider_keys(const provider *p, srv_jwks **out, char *why, size_t why_size)
{
  char uri[MAX_URL], reason[512];
  const char *source = p->jwks_file;
  json_error_t je;
  json_t *j = NULL;
  urbac_err err = URBAC_EIO;
  if (p->jwks_file) {
    if (!(j = json_load_file(p->jwks_file, JSON_REJECT_DUPLICATES, &je)))
      snprintf(why, why_size, "%s:%d:%d: %s", p->jwks_file, je.line, je.column, je.text);
    err = URBAC_ESYNTAX;
  } else if (discover(p, uri, why, why_size)) {
    source = uri;
    j = fetch_json(p, uri, why, why_size);
  }
  if (j && (err = srv_jwks_parse(j, out, reason, sizeof reason)) != URBAC_OK)
    snprintf(why, why_size, "%s: %s", source, reason);
  json_decref(j);
  return err;
}

/* ---------------------------------------------------------------- the providers file */

static const char *const known_fields[] = {
    "tenant",        "issuer",         "audience",          "userClaim",      "jwksFile", "caFile",
    "leewaySeconds", "refreshSeconds", "minRefreshSeconds", "timeoutSeconds", "portal",   NULL};

/* A path relative to the directory of `base`. */
static char *relative(const char *base, const char *path)
{
  const char *slash = strrchr(base, '/');
  if (path[0] == '/' || !slash)
    return strdup(path);
  size_t size = (size_t)(slash - base) + strlen(path) + 2;
  char *out = malloc(size);
  if (out)
    snprintf(out, size, "%.*s/%s", (int)(slash - base), base, path);
  return out;
}

typedef struct reader {
  const char *path;
  size_t i;
  urbac_diag *d;
  urbac_err err;
} reader;

static char *str_field(reader *r, json_t *o, const char *name, bool required)
{
  json_t *v = json_object_get(o, name);
  const char *s = json_string_value(v);
  char *copy = NULL;
  if (r->err || (!v && !required))
    return NULL;
  if (!s || !*s || strlen(s) > 1024)
    r->err = urbac_diag_add(r->d, URBAC_EMISSING, r->path, 0, 0, NULL,
                            "providers[%zu].%s: a string is required (at most 1024 bytes)", r->i, name);
  else if (!(copy = strdup(s)))
    r->err = URBAC_ENOMEM;
  return copy;
}

static long int_field(reader *r, json_t *o, const char *name, long def, long lo, long hi)
{
  json_t *v = json_object_get(o, name);
  long n = v ? (long)json_integer_value(v) : def;
  if (!r->err && v && (!json_is_integer(v) || n < lo || n > hi))
    r->err = urbac_diag_add(r->d, URBAC_EVALUE, r->path, 0, 0, NULL, "providers[%zu].%s: %ld to %ld", r->i,
                            name, lo, hi);
  return n;
}

static void unknown_fields(reader *r, json_t *o)
{
  const char *key;
  json_t *v;
  json_object_foreach(o, key, v)
  {
    size_t k = 0;
    while (known_fields[k] && strcmp(known_fields[k], key) != 0)
      k++;
    if (!known_fields[k] && !r->err)
      r->err =
          urbac_diag_add(r->d, URBAC_EVALUE, r->path, 0, 0, NULL,
                         "providers[%zu].%s: unknown field (tenant, issuer, audience, userClaim, jwksFile, "
                         "caFile, leewaySeconds, refreshSeconds, minRefreshSeconds, timeoutSeconds, portal)",
                         r->i, key);
  }
}

static void provider_fields(reader *r, provider *p, json_t *o)
{
  char *jwks = NULL, *ca = NULL;
  p->tenant = str_field(r, o, "tenant", true);
  p->issuer = str_field(r, o, "issuer", true);
  p->audience = str_field(r, o, "audience", true);
  p->claim = str_field(r, o, "userClaim", true);
  jwks = str_field(r, o, "jwksFile", false);
  ca = str_field(r, o, "caFile", false);
  p->leeway = int_field(r, o, "leewaySeconds", 60, 0, 600);
  p->refresh_s = int_field(r, o, "refreshSeconds", 3600, 1, 7 * 86400);
  p->min_refresh_s = int_field(r, o, "minRefreshSeconds", 60, 1, 3600);
  p->timeout_s = int_field(r, o, "timeoutSeconds", 10, 1, 60);
  if (r->err)
    goto out;
  if (strlen(p->tenant) > SRV_MAX_TENANT_ID)
    r->err = urbac_diag_add(r->d, URBAC_ELIMIT, r->path, 0, 0, NULL, "providers[%zu].tenant: longer than %d",
                            r->i, SRV_MAX_TENANT_ID);
  else if (jwks && ca)
    r->err =
        urbac_diag_add(r->d, URBAC_EINVAL, r->path, 0, 0, NULL,
                       "providers[%zu].caFile: only for keys fetched over HTTPS, not with jwksFile", r->i);
  else if (!jwks && strncmp(p->issuer, "https://", 8) != 0)
    r->err = urbac_diag_add(r->d, URBAC_EVALUE, r->path, 0, 0, NULL,
                            "providers[%zu].issuer: '%s' is not an https:// URL to discover its keys from "
                            "(or give a jwksFile)",
                            r->i, p->issuer);
  else if ((jwks && !(p->jwks_file = relative(r->path, jwks))) ||
           (ca && !(p->ca_file = relative(r->path, ca))))
    r->err = URBAC_ENOMEM;
out:
  free(jwks);
  free(ca);
}

/* The portal's client ("portal": {"clientId", "clientSecret", "redirectUri"}) and
 * the issuer's authorization and token endpoints, from its discovery document. */
static void portal_fields(reader *r, provider *p, json_t *o)
{
  json_t *c = json_object_get(o, "portal");
  char why[2048];
  if (!c || r->err)
    return;
  if (!json_is_object(c) || json_object_size(c) > 3 - !json_object_get(c, "clientSecret")) {
    r->err =
        urbac_diag_add(r->d, URBAC_EVALUE, r->path, 0, 0, NULL,
                       "providers[%zu].portal: an object of clientId, redirectUri and clientSecret", r->i);
    return;
  }
  p->client_id = str_field(r, c, "clientId", true);
  p->redirect_uri = str_field(r, c, "redirectUri", true);
  p->client_secret = str_field(r, c, "clientSecret", false);
  if (r->err)
    return;
  if (p->jwks_file) {
    r->err = urbac_diag_add(r->d, URBAC_EINVAL, r->path, 0, 0, NULL,
                            "providers[%zu].portal: needs discovery (the endpoints), not a jwksFile", r->i);
    return;
  }
  char url[MAX_URL];
  size_t n = strlen(p->issuer);
  snprintf(url, sizeof url, "%.*s/.well-known/openid-configuration",
           (int)(n && p->issuer[n - 1] == '/' ? n - 1 : n), p->issuer);
  json_t *doc = fetch_json(p, url, why, sizeof why);
  const char *a = json_string_value(json_object_get(doc, "authorization_endpoint"));
  const char *t = json_string_value(json_object_get(doc, "token_endpoint"));
  if (!doc)
    r->err = urbac_diag_add(r->d, URBAC_EIO, r->path, 0, 0, NULL, "providers[%zu].portal: %s", r->i, why);
  else if (!a || !t || strncmp(a, "https://", 8) != 0 || strncmp(t, "https://", 8) != 0)
    r->err = urbac_diag_add(
        r->d, URBAC_EVALUE, r->path, 0, 0, NULL,
        "providers[%zu].portal: %s names no https:// authorization_endpoint and token_endpoint", r->i, url);
  else if (!(p->authorize_url = strdup(a)) || !(p->token_url = strdup(t)))
    r->err = URBAC_ENOMEM;
  json_decref(doc);
}

static void load_provider(reader *r, provider *p, json_t *o)
{
  char why[4096];
  if (!json_is_object(o)) {
    r->err = urbac_diag_add(r->d, URBAC_ETYPE, r->path, 0, 0, NULL, "providers[%zu]: an object", r->i);
    return;
  }
  unknown_fields(r, o);
  provider_fields(r, p, o);
  if (!r->err && (r->err = provider_keys(p, &p->keys, why, sizeof why)) != URBAC_OK)
    r->err = urbac_diag_add(r->d, r->err, r->path, 0, 0, NULL, "providers[%zu] (tenant %s, issuer %s): %s",
                            r->i, p->tenant, p->issuer, why);
  portal_fields(r, p, o);
  p->last_attempt = p->last_ok = mono_s();
}

/* Reads the providers file and every provider's keys into *out; all or nothing. */
static urbac_err providers_read(const char *path, providers **out, urbac_diag *d)
{
  json_error_t je;
  json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je), *list = json_object_get(j, "providers");
  size_t n = json_array_size(list);
  reader r = {.path = path, .d = d};
  providers *ps = NULL;
  if (!j)
    r.err = urbac_diag_add(d, URBAC_ESYNTAX, path, (uint32_t)(je.line < 0 ? 0 : je.line),
                           (uint32_t)(je.column < 0 ? 0 : je.column), NULL, "%s", je.text);
  else if (!json_is_array(list) || n > MAX_PROVIDERS)
    r.err = urbac_diag_add(d, URBAC_EVALUE, path, 0, 0, "providers", "a list of at most %d providers",
                           MAX_PROVIDERS);
  else if (!(ps = calloc(1, sizeof *ps + n * sizeof ps->p[0])))
    r.err = URBAC_ENOMEM;
  for (r.i = 0; !r.err && r.i < n; r.i++)
    load_provider(&r, &ps->p[ps->n++], json_array_get(list, r.i)); /* counted: freed if half-loaded */
  json_decref(j);
  if (r.err) {
    providers_free(ps);
    return r.err;
  }
  *out = ps;
  return URBAC_OK;
}

/* ---------------------------------------------------------------- the refresher */

static void log_keys(oidc *o, const char *event, const provider *p, const char *error)
{
  json_t *j = json_pack("{s:s, s:s, s:s, s:s*, s:s*, s:I}", "event", event, "tenant", p->tenant, "issuer",
                        p->issuer, "error", error, "kept", error ? "the previous keys" : NULL, "keys",
                        (json_int_t)srv_jwks_count(p->keys));
  srv_log_event(o->server, j);
}

/* Fetches `p`'s keys again if they are due (periodically, or asked for). */
static void refresh_one(oidc *o, provider *p)
{
  char why[4096];
  srv_jwks *keys = NULL;
  pthread_mutex_lock(&o->lock);
  int64_t now = mono_s();
  long retry_s = p->min_refresh_s < p->refresh_s ? p->min_refresh_s : p->refresh_s;
  bool failed = p->last_attempt != p->last_ok, /* then try again sooner than refreshSeconds */
      due = !p->jwks_file &&
            (p->wanted || (failed ? now - p->last_attempt >= retry_s : now - p->last_ok >= p->refresh_s));
  if (due) {
    p->wanted = false;
    p->fetching = true;
    p->last_attempt = now;
  }
  pthread_mutex_unlock(&o->lock);
  if (!due)
    return;
  urbac_err err = provider_keys(p, &keys, why, sizeof why);
  if (!err) {
    srv_jwks *old = rcu_xchg_pointer(&p->keys, keys);
    urcu_bp_synchronize_rcu();
    srv_jwks_free(old);
  }
  log_keys(o, "oidc_keys", p, err ? why : NULL);
  pthread_mutex_lock(&o->lock);
  p->fetching = false;
  if (!err)
    p->last_ok = now;
  pthread_mutex_unlock(&o->lock);
}

/* Reads the providers file again (SIGHUP); the old providers stay on failure. */
static void reload(oidc *o)
{
  urbac_diag *d = urbac_diag_new();
  providers *ps = NULL;
  char line[2048] = "out of memory";
  urbac_err err = d ? providers_read(o->path, &ps, d) : URBAC_ENOMEM;
  if (!err) {
    providers *old = rcu_xchg_pointer(&o->current, ps);
    urcu_bp_synchronize_rcu();
    providers_free(old);
  } else if (d) {
    urbac_diag_format(d, 0, line, sizeof line);
  }
  json_t *j = json_pack("{s:s, s:s, s:s*, s:s*, s:I}", "event", "oidc_reload", "file", o->path, "error",
                        err ? line : NULL, "kept", err ? "the previous OIDC providers" : NULL, "providers",
                        (json_int_t)o->current->n);
  srv_log_event(o->server, j);
  urbac_diag_free(d);
}

static void *refresher(void *arg)
{
  oidc *o = arg;
  pthread_mutex_lock(&o->lock);
  while (!o->stop) {
    if (!o->pending) {
      struct timespec at;
      clock_gettime(CLOCK_REALTIME, &at);
      at.tv_sec += 1;
      pthread_cond_timedwait(&o->wake, &o->lock, &at);
    }
    if (o->stop)
      break;
    bool reloading = o->reload;
    o->reload = o->pending = false;
    o->round++;
    pthread_mutex_unlock(&o->lock);
    if (reloading)
      reload(o);
    for (size_t i = 0; !reloading && i < o->current->n; i++) /* the refresher's own: no read lock */
      refresh_one(o, &o->current->p[i]);
    pthread_mutex_lock(&o->lock);
    o->round++;
    pthread_cond_broadcast(&o->done);
  }
  pthread_mutex_unlock(&o->lock);
  return NULL;
}

void srv_oidc_reload(srv *server)
{
  oidc *o = server->oidc;
  if (!o)
    return;
  pthread_mutex_lock(&o->lock);
  o->reload = o->pending = true;
  pthread_cond_signal(&o->wake);
  pthread_mutex_unlock(&o->lock);
}

/* Asks for `p`'s keys to be fetched now (a token named an unknown key); false
 * when they were fetched too recently. *round: the round to wait for. Call
 * under the read lock. */
static bool ask_refresh(oidc *o, provider *p, uint64_t *round)
{
  pthread_mutex_lock(&o->lock);
  bool ask = !p->jwks_file && (p->wanted || p->fetching || mono_s() - p->last_attempt >= p->min_refresh_s);
  if (ask) /* a round running (odd) may have passed `p`: then the next one's end */
    *round = p->fetching ? o->round + 1 : o->round + (o->round % 2 ? 3 : 2);
  if (ask && !p->wanted && !p->fetching) {
    p->wanted = o->pending = true;
    pthread_cond_signal(&o->wake);
  }
  pthread_mutex_unlock(&o->lock);
  return ask;
}

static void wait_round(oidc *o, uint64_t round, long timeout_s)
{
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 2 * timeout_s + 1;
  pthread_mutex_lock(&o->lock);
  while (o->round < round && !o->stop)
    if (pthread_cond_timedwait(&o->done, &o->lock, &until) == ETIMEDOUT)
      break;
  pthread_mutex_unlock(&o->lock);
}

/* ---------------------------------------------------------------- the server's side */

urbac_err srv_oidc_load(srv *server, const char *path, urbac_diag *d)
{
  oidc *o = calloc(1, sizeof *o);
  urbac_err err = o ? URBAC_OK : URBAC_ENOMEM;
  if (err)
    return err;
  *o = (oidc){.server = server, .path = path};
  pthread_mutex_init(&o->lock, NULL);
  pthread_cond_init(&o->wake, NULL);
  pthread_cond_init(&o->done, NULL);
  err = providers_read(path, &o->current, d);
  if (!err && pthread_create(&o->thread, NULL, refresher, o) != 0)
    err =
        urbac_diag_add(d, URBAC_ENOMEM, path, 0, 0, NULL, "cannot start the thread that refreshes OIDC keys");
  o->started = !err;
  server->oidc = o;
  if (err)
    srv_oidc_free(server); /* nothing kept */
  return err;
}

void srv_oidc_free(srv *server)
{
  oidc *o = server->oidc;
  if (!o)
    return;
  pthread_mutex_lock(&o->lock);
  o->stop = true;
  pthread_cond_broadcast(&o->wake);
  pthread_cond_broadcast(&o->done);
  pthread_mutex_unlock(&o->lock);
  if (o->started)
    pthread_join(o->thread, NULL);
  providers_free(o->current);
  pthread_cond_destroy(&o->wake);
  pthread_cond_destroy(&o->done);
  pthread_mutex_destroy(&o->lock);
  free(o);
  server->oidc = NULL;
}

/* The provider for `iss`, preferring one configured for `tenant`. */
static provider *provider_for(providers *ps, const char *iss, const char *tenant)
{
  provider *any = NULL;
  for (size_t i = 0; ps && iss && i < ps->n; i++)
    if (strcmp(ps->p[i].issuer, iss) == 0) {
      if (!tenant || strcmp(ps->p[i].tenant, tenant) == 0)
        return &ps->p[i];
      any = any ? any : &ps->p[i];
    }
  return any;
}

typedef enum attempt { VERIFIED, REFUSED, FETCHED_AGAIN } attempt;

/* One try at `t`, under the read lock; FETCHED_AGAIN when its key id is unknown
 * and the keys are to be fetched (wait for *round, then try once more). */
static attempt verify_once(oidc *o, const srv_jwt *t, const char *tenant, const char *audience,
                           bool may_fetch, srv_identity *who, char *home, char *why, size_t why_size,
                           uint64_t *round, long *timeout_s)
{
  attempt a = REFUSED;
  srv_read_lock();
  provider *p = provider_for(rcu_dereference(o->current), t->iss, tenant);
  srv_sig sig = p ? srv_jwks_check(rcu_dereference(p->keys), t) : SRV_SIG_BAD;
  if (!p)
    snprintf(why, why_size, "the JWT's issuer is not a configured provider");
  else if (sig == SRV_SIG_UNKNOWN_KID && may_fetch && ask_refresh(o, p, round)) {
    *timeout_s = p->timeout_s;
    a = FETCHED_AGAIN;
  } else if (sig == SRV_SIG_UNKNOWN_KID)
    snprintf(why, why_size,
             "the JWT's key id is not among the issuer's keys (fetched again at most every %ld s)",
             p->min_refresh_s);
  else if (sig != SRV_SIG_OK)
    snprintf(why, why_size, "the JWT's signature does not verify with the issuer's keys");
  else if (srv_jwt_claims_ok(t, audience ? audience : p->audience, p->claim, p->leeway, who, why, why_size)) {
    snprintf(home, SRV_MAX_TENANT_ID + 1, "%s", p->tenant);
    a = VERIFIED;
  }
  srv_read_unlock();
  return a;
}

bool srv_jwt_verify(srv *server, const char *tenant, const char *token, srv_identity *who,
                    char home[SRV_MAX_TENANT_ID + 1], char *why, size_t why_size)
{
  return srv_jwt_verify_for(server, tenant, token, NULL, who, home, why, why_size);
}

bool srv_oidc_client_for(srv *server, const char *tenant, srv_oidc_client *out)
{
  oidc *o = server->oidc;
  bool found = false;
  if (!o)
    return false;
  srv_read_lock();
  providers *ps = rcu_dereference(o->current);
  for (size_t i = 0; ps && !found && i < ps->n; i++) {
    const provider *p = &ps->p[i];
    if (!p->client_id || (tenant && *tenant && strcmp(p->tenant, tenant) != 0))
      continue;
    *out = (srv_oidc_client){.timeout_s = (unsigned)p->timeout_s};
    snprintf(out->tenant, sizeof out->tenant, "%s", p->tenant);
    snprintf(out->client_id, sizeof out->client_id, "%s", p->client_id);
    snprintf(out->client_secret, sizeof out->client_secret, "%s", p->client_secret ? p->client_secret : "");
    snprintf(out->redirect_uri, sizeof out->redirect_uri, "%s", p->redirect_uri);
    snprintf(out->authorize_url, sizeof out->authorize_url, "%s", p->authorize_url);
    snprintf(out->token_url, sizeof out->token_url, "%s", p->token_url);
    snprintf(out->ca_file, sizeof out->ca_file, "%s", p->ca_file ? p->ca_file : "");
    found = true;
  }
  srv_read_unlock();
  return found;
}

bool srv_jwt_verify_for(srv *server, const char *tenant, const char *token, const char *audience,
                        srv_identity *who, char home[SRV_MAX_TENANT_ID + 1], char *why, size_t why_size)
{
  oidc *o = server->oidc;
  srv_jwt t;
  uint64_t round = 0;
  long timeout_s = 0;
  attempt a = REFUSED;
  if (!srv_jwt_parse(token, &t, why, why_size))
    return false;
  if (!o)
    snprintf(why, why_size, "the JWT's issuer is not a configured provider");
  else
    a = verify_once(o, &t, tenant, audience, true, who, home, why, why_size, &round, &timeout_s);
  if (o && a == FETCHED_AGAIN) {
    wait_round(o, round, timeout_s);
    a = verify_once(o, &t, tenant, audience, false, who, home, why, why_size, &round, &timeout_s);
  }
  srv_jwt_clear(&t);
  return a == VERIFIED;
}
