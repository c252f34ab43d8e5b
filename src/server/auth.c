/*
 * server/auth.c - who is calling: `Authorization: Bearer TOKEN`, where TOKEN is
 *   - a preshared key (a line of --preshared-key-file): an administrator of
 *     every tenant; the file is re-read on SIGHUP;
 *   - an API key ("urbac_ID_SECRET", made by `urbac key create`): a user of the
 *     tenant that holds it, perhaps limited to the decision routes;
 *   - an OIDC JWT (oidc.c, jwks.c): a user of the tenant its issuer is
 *     configured for; the providers file is re-read on SIGHUP.
 * Secrets are compared as SHA-256 digests in constant time.
 *
 * Depends on: the public API, liburcu-bp, OpenSSL.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <urcu/urcu-bp.h>

#include "server/server.h"

#define MAX_TOKEN 8192
#define MAX_PRESHARED 1024
#define MAX_KEYS 100000

typedef struct digest {
  unsigned char b[32];
} digest;

/* SHA-256, fetched once: OpenSSL 3 looks an implicit EVP_sha256() up under a
 * lock on every use, which showed in the profile of GET /check. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static void sha256_fetch(void) { sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL); }

static bool sha256(const char *s, size_t n, digest *out)
{
  unsigned int len = 0;
  pthread_once(&sha256_once, sha256_fetch);
  return sha256_md && EVP_Digest(s, n, out->b, &len, sha256_md, NULL) == 1 && len == 32;
}

/* ---------------------------------------------------------------- preshared keys */

typedef struct preshared {
  size_t n;
  struct {
    digest d;
    uint32_t line; /* where it is in the file: the actor is "preshared:LINE" */
  } keys[];
} preshared;

static urbac_err preshared_read(const char *path, preshared **out, urbac_diag *d)
{
  FILE *f = fopen(path, "r");
  struct stat st;
  if (!f)
    return urbac_diag_add(d, URBAC_EIO, path, 0, 0, NULL, "cannot read the preshared key file: %s",
                          strerror(errno));
  if (fstat(fileno(f), &st) != 0 || (st.st_mode & 077)) { /* refused as ssh refuses a private key */
    urbac_err err = urbac_diag_add(d, URBAC_EINVAL, path, 0, 0, NULL,
                                   "the preshared key file has mode %04o: group or others may use it; "
                                   "'chmod 600 %s' and try again",
                                   (unsigned)(st.st_mode & 07777), path);
    fclose(f);
    return err;
  }
  preshared *p = calloc(1, sizeof *p + MAX_PRESHARED * sizeof p->keys[0]);
  char line[MAX_TOKEN + 2];
  uint32_t lineno = 0;
  urbac_err err = p ? URBAC_OK : URBAC_ENOMEM;
  while (!err && fgets(line, sizeof line, f)) {
    lineno++;
    size_t n = strcspn(line, "\r\n");
    if (line[n] == '\0' && !feof(f))
      err = urbac_diag_add(d, URBAC_ELIMIT, path, lineno, 1, NULL, "a key longer than %d bytes", MAX_TOKEN);
    line[n] = '\0';
    while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
      line[--n] = '\0';
    if (n == 0 || err)
      continue;
    if (p->n == MAX_PRESHARED)
      err = urbac_diag_add(d, URBAC_ELIMIT, path, lineno, 1, NULL, "more than %d keys", MAX_PRESHARED);
    else if (n < 16)
      err = urbac_diag_add(d, URBAC_EVALUE, path, lineno, 1, NULL, "a key of %zu bytes: use at least 16", n);
    else if (!sha256(line, n, &p->keys[p->n].d))
      err = URBAC_ENOMEM;
    else
      p->keys[p->n++].line = lineno;
  }
  OPENSSL_cleanse(line, sizeof line);
  if (!err && ferror(f))
    err = urbac_diag_add(d, URBAC_EIO, path, 0, 0, NULL, "cannot read the preshared key file");
  fclose(f);
  if (err) {
    free(p);
    return err;
  }
  *out = p;
  return URBAC_OK;
}

/* Reads the file again and swaps it in; the old keys stay on failure. */
urbac_err srv_preshared_load(srv *server, urbac_diag *d)
{
  if (!server->cfg->preshared_key_file)
    return URBAC_OK;
  preshared *p = NULL;
  urbac_err err = preshared_read(server->cfg->preshared_key_file, &p, d);
  if (err)
    return err;
  preshared *old = rcu_xchg_pointer((preshared **)&server->preshared, p);
  urcu_bp_synchronize_rcu();
  free(old);
  return URBAC_OK;
}

void srv_auth_free(srv *server)
{
  free(server->preshared);
  server->preshared = NULL;
  srv_oidc_free(server);
}

/* The 1-based line of the preshared key `t`, or 0. Call under the read lock. */
static size_t preshared_find(const srv *server, const digest *t)
{
  const preshared *p = rcu_dereference(((srv *)(uintptr_t)server)->preshared);
  size_t found = 0;
  for (size_t i = 0; p && i < p->n; i++) /* every one compared: no early exit */
    if (CRYPTO_memcmp(p->keys[i].d.b, t->b, sizeof t->b) == 0)
      found = p->keys[i].line;
  return found;
}

/* ---------------------------------------------------------------- API keys */

typedef struct key_entry {
  char id[17];
  bool decisions_only, provisioning_only, revoked;
  char expires[24];
  char *user, *salt, *hash, *created_by;
} key_entry;

struct srv_keyset {
  size_t n, cap;
  key_entry *k;
};

void srv_keyset_free(srv_keyset *k)
{
  if (!k)
    return;
  for (size_t i = 0; i < k->n; i++) {
    free(k->k[i].user);
    free(k->k[i].salt);
    free(k->k[i].hash);
    free(k->k[i].created_by);
  }
  free(k->k);
  free(k);
}

static int keyset_add(void *ctx, const urbac_api_key *key)
{
  srv_keyset *ks = ctx;
  if (ks->n == MAX_KEYS)
    return 1;
  if (ks->n == ks->cap) {
    size_t cap = ks->cap ? 2 * ks->cap : 16;
    key_entry *k = realloc(ks->k, cap * sizeof *k);
    if (!k)
      return 1;
    ks->k = k;
    ks->cap = cap;
  }
  key_entry *e = &ks->k[ks->n];
  *e = (key_entry){.decisions_only = strcmp(key->scope, "decisions") == 0,
                   .provisioning_only = strcmp(key->scope, "provisioning") == 0,
                   .revoked = key->revoked[0] != '\0'};
  snprintf(e->id, sizeof e->id, "%s", key->id);
  snprintf(e->expires, sizeof e->expires, "%s", key->expires);
  e->user = strdup(key->user);
  e->salt = strdup(key->salt);
  e->hash = strdup(key->hash);
  e->created_by = strdup(key->created_by);
  ks->n++;
  return !e->user || !e->salt || !e->hash || !e->created_by;
}

static int key_cmp(const void *a, const void *b)
{
  return strcmp(((const key_entry *)a)->id, ((const key_entry *)b)->id);
}

srv_keyset *srv_keyset_load(urbac_store *st, const char *tenant)
{
  srv_keyset *ks = calloc(1, sizeof *ks);
  if (!ks || urbac_store_keys(st, tenant, keyset_add, ks, NULL) != URBAC_OK ||
      (ks->n && !ks->k[ks->n - 1].hash)) {
    srv_keyset_free(ks);
    return NULL;
  }
  if (ks->n)
    qsort(ks->k, ks->n, sizeof *ks->k, key_cmp);
  return ks;
}

static void utc_now(char *buf, size_t size)
{
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

typedef enum key_result { KEY_UNKNOWN, KEY_OK, KEY_BAD } key_result;

/* Stands in for an unknown key id, so that it costs what a wrong secret costs
 * and answers the same: no one learns which key ids exist. */
static const char no_key_salt[] = "00000000000000000000000000000000",
                  no_key_hash[] = "0000000000000000000000000000000000000000000000000000000000000000";

/* Looks `id` up in every tenant; on a match with the right secret fills `who`
 * and *home. Call under the read lock. */
static key_result key_find(srv *server, const char *id, const char *secret, size_t slen, srv_identity *who,
                           const char **home, char *why, size_t why_size)
{
  size_t nt = atomic_load_explicit(&server->ntenants, memory_order_acquire);
  for (size_t t = 0; t < nt; t++) {
    const srv_keyset *ks = rcu_dereference(server->tenants[t]->keys);
    key_entry probe = {0};
    memcpy(probe.id, id, sizeof probe.id);
    const key_entry *e = ks && ks->n ? bsearch(&probe, ks->k, ks->n, sizeof *ks->k, key_cmp) : NULL;
    if (!e)
      continue;
    char now[32];
    utc_now(now, sizeof now);
    urbac_api_key k = {.salt = e->salt, .hash = e->hash};
    if (!urbac_key_matches(&k, secret, slen))
      snprintf(why, why_size, "invalid API key %s", id);
    else if (e->revoked)
      snprintf(why, why_size, "API key %s was revoked", id);
    else if (e->expires[0] && strcmp(now, e->expires) >= 0)
      snprintf(why, why_size, "API key %s expired at %s", id, e->expires);
    else {
      who->kind = SRV_API_KEY;
      who->decisions_only = e->decisions_only;
      who->provisioning_only = e->provisioning_only;
      snprintf(who->user, sizeof who->user, "%s", e->user);
      snprintf(who->actor, sizeof who->actor, "key:%s (%s)%s%s", id, e->user, /* the audit names both */
               e->created_by[0] ? " created by " : "", e->created_by);
      *home = server->tenants[t]->id;
      return KEY_OK;
    }
    return KEY_BAD;
  }
  urbac_api_key k = {.salt = no_key_salt, .hash = no_key_hash};
  if (urbac_key_matches(&k, secret, slen)) /* never: the hash is no SHA-256 of anything known */
    why[0] = '\0';
  snprintf(why, why_size, "invalid API key %s", id);
  return KEY_UNKNOWN;
}

/* ---------------------------------------------------------------- authenticate */

static const char *bearer(const srv_req *req, size_t *len)
{
  const char *h = req->authorization;
  if (!h || strncasecmp(h, "Bearer ", 7) != 0)
    return NULL;
  h += 7;
  while (*h == ' ')
    h++;
  *len = strlen(h);
  while (*len && h[*len - 1] == ' ')
    (*len)--;
  return *len && *len <= MAX_TOKEN ? h : NULL;
}

static bool unauthorized(srv_resp *r, const char *why)
{
  srv_error(r, 401, "unauthenticated", "Authorization", "%s", why);
  return false;
}

/* A key or token of tenant `home` used on tenant `tenant`. */
static bool same_tenant(srv_resp *r, const char *home, const char *tenant)
{
  if (!tenant || strcmp(home, tenant) == 0)
    return true;
  srv_error(r, 403, "forbidden", "tenant", "this credential belongs to another tenant, not '%s'", tenant);
  return false;
}

static bool by_key(srv *server, srv_req *req, srv_resp *r, const char *id, const char *secret, size_t slen,
                   const char *tenant)
{
  char why[160], load_error[512];
  const char *home = NULL;
  size_t known = atomic_load(&server->ntenants);
  srv_read_lock();
  key_result k = key_find(server, id, secret, slen, &req->who, &home, why, sizeof why);
  srv_read_unlock();
  if (k == KEY_UNKNOWN && tenant && srv_tenant_get(server, tenant, load_error, sizeof load_error) &&
      atomic_load(&server->ntenants) != known) {
    srv_read_lock(); /* the tenant was loaded just now */
    k = key_find(server, id, secret, slen, &req->who, &home, why, sizeof why);
    srv_read_unlock();
  }
  if (k != KEY_OK)
    return unauthorized(r, why);
  return same_tenant(r, home, tenant);
}

bool srv_authenticate(srv *server, srv_req *req, srv_resp *r)
{
  const char *tenant =
      req->route && strncmp(req->route->path, "/api/v1/tenants/{tenant}", 24) == 0 ? req->params[0] : NULL;
  size_t len = 0;
  const char *tok = bearer(req, &len);
  if (!tok)
    return unauthorized(r, "an Authorization: Bearer token is required");
  digest d;
  if (!sha256(tok, len, &d))
    return unauthorized(r, "cannot hash the token");
  srv_read_lock();
  size_t line = preshared_find(server, &d);
  srv_read_unlock();
  if (line) {
    req->who = (srv_identity){.kind = SRV_PRESHARED};
    snprintf(req->who.actor, sizeof req->who.actor, "preshared:%zu", line);
    return true;
  }
  char id[17], why[256] = "out of memory";
  const char *secret;
  size_t slen;
  if (urbac_key_token_split(tok, len, id, &secret, &slen))
    return by_key(server, req, r, id, secret, slen, tenant);
  char *copy = strndup(tok, len); /* libjwt wants a C string */
  char home[SRV_MAX_TENANT_ID + 1] = "";
  bool ok = copy && srv_jwt_verify(server, tenant, copy, &req->who, home, why, sizeof why);
  free(copy);
  return ok ? same_tenant(r, home, tenant) : unauthorized(r, why);
}
