/*
 * server/jwks.c - OIDC bearer tokens. The providers file (--oidc FILE) names,
 * per tenant, an issuer, an audience, a JWKS file and the claim that holds the
 * tenant user's id:
 *
 *   {"providers": [{"tenant": "contoso", "issuer": "https://idp.example/contoso",
 *                   "audience": "urbac", "jwksFile": "jwks.json",
 *                   "userClaim": "preferred_username", "leewaySeconds": 60}]}
 *
 * JWKS keys (RSA, and EC on P-256) become PEM public keys through OpenSSL;
 * libjwt checks the signature. Only RS256 and ES256 are accepted, and the
 * algorithm must match the key's type, so an "HS256" token can never be verified
 * with a public key as its HMAC secret. Issuer, audience, expiry (required) and
 * not-before are checked here, on the verified payload.
 *
 * Depends on: the public API, jansson, libjwt, OpenSSL.
 */
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/server.h"

#define MAX_PROVIDERS 64
#define MAX_JWKS_KEYS 32
#define MAX_SEGMENT 16384

typedef struct jwk {
  char kid[128];
  jwt_alg_t alg; /* JWT_ALG_RS256 or JWT_ALG_ES256 */
  char *pem;
  size_t pem_len;
} jwk;

typedef struct provider {
  char *tenant, *issuer, *audience, *claim;
  long leeway;
  jwk keys[MAX_JWKS_KEYS];
  size_t nkeys;
} provider;

typedef struct oidc {
  size_t n;
  provider p[MAX_PROVIDERS];
} oidc;

void srv_oidc_free(void *o)
{
  oidc *c = o;
  for (size_t i = 0; c && i < c->n; i++) {
    provider *p = &c->p[i];
    free(p->tenant);
    free(p->issuer);
    free(p->audience);
    free(p->claim);
    for (size_t k = 0; k < p->nkeys; k++)
      free(p->keys[k].pem);
  }
  free(c);
}

/* ---------------------------------------------------------------- base64url */

/* Decodes base64url without padding; NUL-terminates. NULL when malformed. */
static unsigned char *b64url(const char *s, size_t n, size_t *len)
{
  if (n > MAX_SEGMENT || n % 4 == 1)
    return NULL;
  size_t padded = (n + 3) / 4 * 4;
  char *t = malloc(padded + 1);
  unsigned char *out = malloc(padded / 4 * 3 + 1);
  bool ok = t && out;
  for (size_t i = 0; ok && i < n; i++) {
    char c = s[i];
    ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    t[i] = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  for (size_t i = n; ok && i < padded; i++)
    t[i] = '=';
  int got = ok ? EVP_DecodeBlock(out, (unsigned char *)t, (int)padded) : -1;
  free(t);
  if (got < 0) {
    free(out);
    return NULL;
  }
  *len = (size_t)got - (padded - n);
  out[*len] = '\0';
  return out;
}

static json_t *b64url_json(const char *s, size_t n)
{
  size_t len;
  unsigned char *raw = b64url(s, n, &len);
  json_t *j = raw ? json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
  free(raw);
  if (j && !json_is_object(j)) {
    json_decref(j);
    j = NULL;
  }
  return j;
}

/* ---------------------------------------------------------------- JWKS */

static bool push_b64(OSSL_PARAM_BLD *b, const char *name, const char *v, BIGNUM **bn)
{
  size_t len;
  unsigned char *raw = v ? b64url(v, strlen(v), &len) : NULL;
  bool ok = raw && (*bn = BN_bin2bn(raw, (int)len, NULL)) && OSSL_PARAM_BLD_push_BN(b, name, *bn);
  free(raw);
  return ok;
}

static bool push_ec_point(OSSL_PARAM_BLD *b, json_t *k, unsigned char point[65])
{
  const char *x = json_string_value(json_object_get(k, "x")), *y = json_string_value(json_object_get(k, "y"));
  size_t xl = 0, yl = 0;
  unsigned char *xb = x ? b64url(x, strlen(x), &xl) : NULL, *yb = y ? b64url(y, strlen(y), &yl) : NULL;
  bool ok = xb && yb && xl == 32 && yl == 32;
  if (ok) {
    point[0] = 4;
    memcpy(point + 1, xb, 32);
    memcpy(point + 33, yb, 32);
    ok = OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
         OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, point, 65);
  }
  free(xb);
  free(yb);
  return ok;
}

/* One JWK as a PEM public key; false when it is not an RSA or P-256 key. */
static bool jwk_pem(json_t *k, jwk *out)
{
  const char *kty = json_string_value(json_object_get(k, "kty"));
  const char *crv = json_string_value(json_object_get(k, "crv"));
  bool rsa = kty && strcmp(kty, "RSA") == 0, ec = kty && strcmp(kty, "EC") == 0 && crv && strcmp(crv, "P-256") == 0;
  OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
  BIGNUM *n = NULL, *e = NULL;
  unsigned char point[65];
  OSSL_PARAM *params = NULL;
  EVP_PKEY_CTX *ctx = NULL;
  EVP_PKEY *pkey = NULL;
  BIO *bio = NULL;
  bool ok = b && (rsa || ec);
  if (ok && rsa)
    ok = push_b64(b, OSSL_PKEY_PARAM_RSA_N, json_string_value(json_object_get(k, "n")), &n) &&
         push_b64(b, OSSL_PKEY_PARAM_RSA_E, json_string_value(json_object_get(k, "e")), &e);
  else if (ok)
    ok = push_ec_point(b, k, point);
  ok = ok && (params = OSSL_PARAM_BLD_to_param(b)) && (ctx = EVP_PKEY_CTX_new_from_name(NULL, rsa ? "RSA" : "EC", NULL)) &&
       EVP_PKEY_fromdata_init(ctx) == 1 && EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1 &&
       (bio = BIO_new(BIO_s_mem())) && PEM_write_bio_PUBKEY(bio, pkey) == 1;
  char *mem = NULL;
  long len = ok ? BIO_get_mem_data(bio, &mem) : 0;
  if (ok && len > 0 && (out->pem = strndup(mem, (size_t)len))) {
    out->pem_len = (size_t)len;
    out->alg = rsa ? JWT_ALG_RS256 : JWT_ALG_ES256;
    const char *kid = json_string_value(json_object_get(k, "kid"));
    snprintf(out->kid, sizeof out->kid, "%s", kid ? kid : "");
  } else {
    ok = false;
  }
  BIO_free(bio);
  EVP_PKEY_free(pkey);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(b);
  BN_free(n);
  BN_free(e);
  return ok;
}

/* A path relative to the directory of `base`. */
static void relative(char *out, size_t size, const char *base, const char *path)
{
  const char *slash = strrchr(base, '/');
  if (path[0] == '/' || !slash)
    snprintf(out, size, "%s", path);
  else
    snprintf(out, size, "%.*s/%s", (int)(slash - base), base, path);
}

static urbac_err load_jwks(provider *p, const char *path, urbac_diag *d)
{
  json_error_t je;
  json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je), *keys = json_object_get(j, "keys");
  urbac_err err = URBAC_OK;
  if (!j)
    err = urbac_diag_add(d, URBAC_ESYNTAX, path, (uint32_t)(je.line < 0 ? 0 : je.line),
                         (uint32_t)(je.column < 0 ? 0 : je.column), NULL, "%s", je.text);
  else if (!json_is_array(keys) || json_array_size(keys) == 0 || json_array_size(keys) > MAX_JWKS_KEYS)
    err = urbac_diag_add(d, URBAC_EVALUE, path, 0, 0, "keys", "a JWKS needs 1 to %d keys", MAX_JWKS_KEYS);
  for (size_t i = 0; !err && i < json_array_size(keys); i++) {
    if (!jwk_pem(json_array_get(keys, i), &p->keys[p->nkeys]))
      err = urbac_diag_add(d, URBAC_EVALUE, path, 0, 0, NULL, "keys[%zu]: not an RSA or P-256 public key", i);
    else
      p->nkeys++;
  }
  json_decref(j);
  return err;
}

static char *str_field(json_t *o, const char *name, const char *path, size_t i, urbac_err *err, urbac_diag *d)
{
  const char *v = json_string_value(json_object_get(o, name));
  if (*err)
    return NULL;
  if (!v || !*v || strlen(v) > 1024) {
    *err = urbac_diag_add(d, URBAC_EMISSING, path, 0, 0, NULL, "providers[%zu].%s: a string is required", i, name);
    return NULL;
  }
  char *s = strdup(v);
  if (!s)
    *err = URBAC_ENOMEM;
  return s;
}

static urbac_err load_provider(provider *p, json_t *o, const char *path, size_t i, urbac_diag *d)
{
  urbac_err err = json_is_object(o) ? URBAC_OK
                                    : urbac_diag_add(d, URBAC_ETYPE, path, 0, 0, NULL, "providers[%zu]: an object", i);
  p->tenant = str_field(o, "tenant", path, i, &err, d);
  p->issuer = str_field(o, "issuer", path, i, &err, d);
  p->audience = str_field(o, "audience", path, i, &err, d);
  p->claim = str_field(o, "userClaim", path, i, &err, d);
  char *jwks = str_field(o, "jwksFile", path, i, &err, d), full[4096];
  json_t *leeway = json_object_get(o, "leewaySeconds");
  p->leeway = leeway ? (long)json_integer_value(leeway) : 60;
  if (!err && (leeway && (!json_is_integer(leeway) || p->leeway < 0 || p->leeway > 600)))
    err = urbac_diag_add(d, URBAC_EVALUE, path, 0, 0, NULL, "providers[%zu].leewaySeconds: 0 to 600", i);
  if (!err) {
    relative(full, sizeof full, path, jwks);
    err = load_jwks(p, full, d);
  }
  free(jwks);
  return err;
}

urbac_err srv_oidc_load(srv *server, const char *path, urbac_diag *d)
{
  json_error_t je;
  json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je), *list = json_object_get(j, "providers");
  oidc *c = calloc(1, sizeof *c);
  urbac_err err = c ? URBAC_OK : URBAC_ENOMEM;
  if (!err && !j)
    err = urbac_diag_add(d, URBAC_ESYNTAX, path, (uint32_t)(je.line < 0 ? 0 : je.line),
                         (uint32_t)(je.column < 0 ? 0 : je.column), NULL, "%s", je.text);
  else if (!err && (!json_is_array(list) || json_array_size(list) > MAX_PROVIDERS))
    err = urbac_diag_add(d, URBAC_EVALUE, path, 0, 0, "providers", "a list of at most %d providers", MAX_PROVIDERS);
  for (size_t i = 0; !err && i < json_array_size(list); i++)
    err = load_provider(&c->p[c->n++], json_array_get(list, i), path, i, d); /* counted: freed if half-loaded */
  json_decref(j);
  if (err) {
    srv_oidc_free(c);
    return err;
  }
  server->oidc = c;
  return URBAC_OK;
}

/* ---------------------------------------------------------------- tokens */

static bool audience_ok(json_t *aud, const char *want)
{
  if (json_is_string(aud))
    return strcmp(json_string_value(aud), want) == 0;
  size_t i;
  json_t *v;
  json_array_foreach(aud, i, v) if (json_is_string(v) && strcmp(json_string_value(v), want) == 0) return true;
  return false;
}

static bool claims_ok(const provider *p, json_t *claims, srv_identity *who, char *why, size_t size)
{
  time_t now = time(NULL);
  json_t *exp = json_object_get(claims, "exp"), *nbf = json_object_get(claims, "nbf");
  const char *user = json_string_value(json_object_get(claims, p->claim));
  const char *sub = json_string_value(json_object_get(claims, "sub"));
  if (!audience_ok(json_object_get(claims, "aud"), p->audience))
    snprintf(why, size, "the token's audience is not '%s'", p->audience);
  else if (!json_is_number(exp))
    snprintf(why, size, "the token has no expiry (exp)");
  else if ((double)now >= json_number_value(exp) + (double)p->leeway)
    snprintf(why, size, "the token expired");
  else if (nbf && (!json_is_number(nbf) || (double)now + (double)p->leeway < json_number_value(nbf)))
    snprintf(why, size, "the token is not valid yet (nbf)");
  else if (!user || !*user || strlen(user) >= sizeof who->user)
    snprintf(why, size, "the token has no '%s' claim naming a user", p->claim);
  else {
    who->kind = SRV_JWT;
    who->decisions_only = false;
    snprintf(who->user, sizeof who->user, "%s", user);
    snprintf(who->actor, sizeof who->actor, "jwt:%s", sub ? sub : user);
    return true;
  }
  return false;
}

/* The provider for `iss`, preferring one configured for `tenant`. */
static const provider *provider_for(const oidc *c, const char *iss, const char *tenant)
{
  const provider *any = NULL;
  for (size_t i = 0; c && iss && i < c->n; i++)
    if (strcmp(c->p[i].issuer, iss) == 0) {
      if (!tenant || strcmp(c->p[i].tenant, tenant) == 0)
        return &c->p[i];
      any = any ? any : &c->p[i];
    }
  return any;
}

static bool signature_ok(const provider *p, const char *token, jwt_alg_t alg, const char *kid)
{
  for (size_t k = 0; k < p->nkeys; k++) {
    const jwk *key = &p->keys[k];
    if (key->alg != alg || (kid && key->kid[0] && strcmp(kid, key->kid) != 0))
      continue;
    jwt_t *jwt = NULL;
    bool ok = jwt_decode(&jwt, token, (const unsigned char *)key->pem, (int)key->pem_len) == 0 &&
              jwt_get_alg(jwt) == alg;
    jwt_free(jwt);
    if (ok)
      return true;
  }
  return false;
}

bool srv_jwt_verify(const srv *server, const char *tenant, const char *token, srv_identity *who, const char **home,
                    char *why, size_t why_size)
{
  const char *dot1 = strchr(token, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
  if (!dot2 || strchr(dot2 + 1, '.')) {
    snprintf(why, why_size, "the token is neither a key nor a JWT");
    return false;
  }
  json_t *header = b64url_json(token, (size_t)(dot1 - token));
  json_t *claims = b64url_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
  const char *alg_name = json_string_value(json_object_get(header, "alg"));
  jwt_alg_t alg = alg_name && strcmp(alg_name, "RS256") == 0   ? JWT_ALG_RS256
                  : alg_name && strcmp(alg_name, "ES256") == 0 ? JWT_ALG_ES256
                                                               : JWT_ALG_INVAL;
  const provider *p = provider_for(server->oidc, json_string_value(json_object_get(claims, "iss")), tenant);
  bool ok = false;
  if (!header || !claims)
    snprintf(why, why_size, "the JWT is malformed");
  else if (alg == JWT_ALG_INVAL)
    snprintf(why, why_size, "JWT algorithm '%s': only RS256 and ES256 are accepted", alg_name ? alg_name : "");
  else if (!p)
    snprintf(why, why_size, "the JWT's issuer is not a configured provider");
  else if (!signature_ok(p, token, alg, json_string_value(json_object_get(header, "kid"))))
    snprintf(why, why_size, "the JWT's signature does not verify with the issuer's keys");
  else if ((ok = claims_ok(p, claims, who, why, why_size)))
    *home = p->tenant;
  json_decref(header);
  json_decref(claims);
  return ok;
}
