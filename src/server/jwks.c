/*
 * server/jwks.c - JSON Web Key Sets and the JWTs they verify. A JWKS (from a
 * file, or fetched by oidc.c) becomes a key set: each RSA key, and each EC key
 * on P-256, as a PEM public key through OpenSSL; keys of other types, or marked
 * for encryption ("use": "enc"), are skipped, as a provider may publish them
 * beside its signing keys. OpenSSL checks the signature over the token's first
 * two parts (libjwt did, but the one Debian ships refuses any token whose "typ"
 * is not "JWT", such as RFC 9068's "at+jwt" access tokens). Only RS256 and
 * ES256 are accepted, and the algorithm must match the key's type, so an
 * "HS256" token can never be verified with a public key as its HMAC secret. Issuer,
 * audience, expiry (required) and not-before are checked here, on the
 * verified payload; which provider a token belongs to is oidc.c's business.
 *
 * Depends on: the public API, jansson, OpenSSL.
 */
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/server.h"

#define MAX_SEGMENT 16384

typedef struct jwk {
  char kid[128];
  srv_alg alg;
  EVP_PKEY *key; /* a public key; used by many threads at once, never changed */
} jwk;

struct srv_jwks {
  size_t n;
  jwk keys[SRV_MAX_JWKS_KEYS];
};

void srv_jwks_free(srv_jwks *k)
{
  for (size_t i = 0; k && i < k->n; i++)
    EVP_PKEY_free(k->keys[i].key);
  free(k);
}

size_t srv_jwks_count(const srv_jwks *k) { return k ? k->n : 0; }

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

/* One JWK as an OpenSSL public key; false when it is not an RSA or P-256 key. */
static bool jwk_key(json_t *k, jwk *out)
{
  const char *kty = json_string_value(json_object_get(k, "kty"));
  const char *crv = json_string_value(json_object_get(k, "crv"));
  bool rsa = kty && strcmp(kty, "RSA") == 0,
       ec = kty && strcmp(kty, "EC") == 0 && crv && strcmp(crv, "P-256") == 0;
  OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
  BIGNUM *n = NULL, *e = NULL;
  unsigned char point[65];
  OSSL_PARAM *params = NULL;
  EVP_PKEY_CTX *ctx = NULL;
  EVP_PKEY *pkey = NULL;
  bool ok = b && (rsa || ec);
  if (ok && rsa)
    ok = push_b64(b, OSSL_PKEY_PARAM_RSA_N, json_string_value(json_object_get(k, "n")), &n) &&
         push_b64(b, OSSL_PKEY_PARAM_RSA_E, json_string_value(json_object_get(k, "e")), &e);
  else if (ok)
    ok = push_ec_point(b, k, point);
  ok = ok && (params = OSSL_PARAM_BLD_to_param(b)) &&
       (ctx = EVP_PKEY_CTX_new_from_name(NULL, rsa ? "RSA" : "EC", NULL)) &&
       EVP_PKEY_fromdata_init(ctx) == 1 && EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
  if (ok) {
    out->key = pkey;
    pkey = NULL;
    out->alg = rsa ? SRV_ALG_RS256 : SRV_ALG_ES256;
    const char *kid = json_string_value(json_object_get(k, "kid"));
    snprintf(out->kid, sizeof out->kid, "%s", kid ? kid : "");
  }
  EVP_PKEY_free(pkey);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(b);
  BN_free(n);
  BN_free(e);
  return ok;
}

/* Is `k` a key we verify with: RSA or EC on P-256, not marked for encryption? */
static bool jwk_wanted(json_t *k)
{
  const char *kty = json_string_value(json_object_get(k, "kty"));
  const char *crv = json_string_value(json_object_get(k, "crv"));
  const char *use = json_string_value(json_object_get(k, "use"));
  bool rsa = kty && strcmp(kty, "RSA") == 0,
       ec = kty && strcmp(kty, "EC") == 0 && crv && strcmp(crv, "P-256") == 0;
  return (rsa || ec) && (!use || strcmp(use, "sig") == 0);
}

urbac_err srv_jwks_parse(json_t *j, srv_jwks **out, char *why, size_t why_size)
{
  json_t *keys = json_object_get(j, "keys");
  srv_jwks *k = calloc(1, sizeof *k);
  urbac_err err = k ? URBAC_OK : URBAC_ENOMEM;
  if (!err && !json_is_array(keys)) {
    snprintf(why, why_size, "a JWKS is an object with a \"keys\" list");
    err = URBAC_EVALUE;
  }
  for (size_t i = 0; !err && i < json_array_size(keys); i++) {
    json_t *key = json_array_get(keys, i);
    if (!jwk_wanted(key))
      continue;
    if (k->n == SRV_MAX_JWKS_KEYS) {
      snprintf(why, why_size, "more than %d signing keys", SRV_MAX_JWKS_KEYS);
      err = URBAC_ELIMIT;
    } else if (!jwk_key(key, &k->keys[k->n])) {
      snprintf(why, why_size, "keys[%zu]: not a valid RSA or P-256 public key", i);
      err = URBAC_EVALUE;
    } else {
      k->n++;
    }
  }
  if (!err && k->n == 0) {
    snprintf(why, why_size, "no RSA or P-256 signing key among its %zu keys", json_array_size(keys));
    err = URBAC_EVALUE;
  }
  if (err) {
    srv_jwks_free(k);
    return err;
  }
  *out = k;
  return URBAC_OK;
}

/* ---------------------------------------------------------------- tokens */

void srv_jwt_clear(srv_jwt *t)
{
  json_decref(t->header);
  json_decref(t->claims);
  free(t->sig);
  *t = (srv_jwt){0};
}

bool srv_jwt_parse(const char *token, srv_jwt *t, char *why, size_t why_size)
{
  const char *dot1 = strchr(token, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
  *t = (srv_jwt){.token = token};
  if (!dot2 || strchr(dot2 + 1, '.')) {
    snprintf(why, why_size, "the token is neither a key nor a JWT");
    return false;
  }
  t->signed_len = (size_t)(dot2 - token);
  t->header = b64url_json(token, (size_t)(dot1 - token));
  t->claims = b64url_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
  t->sig = b64url(dot2 + 1, strlen(dot2 + 1), &t->sig_len);
  const char *alg = json_string_value(json_object_get(t->header, "alg"));
  t->alg = alg && strcmp(alg, "RS256") == 0   ? SRV_ALG_RS256
           : alg && strcmp(alg, "ES256") == 0 ? SRV_ALG_ES256
                                              : SRV_ALG_OTHER;
  t->kid = json_string_value(json_object_get(t->header, "kid"));
  t->iss = json_string_value(json_object_get(t->claims, "iss"));
  if (!t->header || !t->claims || !t->sig)
    snprintf(why, why_size, "the JWT is malformed");
  else if (t->alg == SRV_ALG_OTHER)
    snprintf(why, why_size, "JWT algorithm '%s': only RS256 and ES256 are accepted", alg ? alg : "");
  else
    return true;
  srv_jwt_clear(t);
  return false;
}

/* ES256 signs as r || s, 32 bytes each; OpenSSL verifies DER. */
static unsigned char *es256_der(const unsigned char *sig, size_t len, size_t *der_len)
{
  ECDSA_SIG *es = ECDSA_SIG_new();
  BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
  unsigned char *der = NULL;
  int n = -1;
  if (len == 64 && es && r && s && ECDSA_SIG_set0(es, r, s) == 1) {
    r = s = NULL; /* the signature's now */
    n = i2d_ECDSA_SIG(es, &der);
  }
  BN_free(r);
  BN_free(s);
  ECDSA_SIG_free(es);
  *der_len = n > 0 ? (size_t)n : 0;
  return n > 0 ? der : NULL;
}

static bool signature_ok(const jwk *key, const srv_jwt *t)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  size_t der_len = 0;
  unsigned char *der = key->alg == SRV_ALG_ES256 ? es256_der(t->sig, t->sig_len, &der_len) : NULL;
  const unsigned char *sig = der ? der : t->sig;
  size_t len = der ? der_len : t->sig_len;
  bool ok = ctx && (key->alg == SRV_ALG_RS256 || der) &&
            EVP_DigestVerifyInit_ex(ctx, NULL, "SHA256", NULL, NULL, key->key, NULL) == 1 &&
            EVP_DigestVerify(ctx, sig, len, (const unsigned char *)t->token, t->signed_len) == 1;
  OPENSSL_free(der);
  EVP_MD_CTX_free(ctx);
  return ok;
}

srv_sig srv_jwks_check(const srv_jwks *k, const srv_jwt *t)
{
  bool kid_known = false;
  for (size_t i = 0; k && i < k->n; i++) {
    const jwk *key = &k->keys[i];
    if (t->kid && key->kid[0] && strcmp(t->kid, key->kid) != 0)
      continue;
    kid_known = true;
    if (key->alg == t->alg && signature_ok(key, t))
      return SRV_SIG_OK;
  }
  return kid_known || !t->kid ? SRV_SIG_BAD : SRV_SIG_UNKNOWN_KID;
}

static bool audience_ok(json_t *aud, const char *want)
{
  if (json_is_string(aud))
    return strcmp(json_string_value(aud), want) == 0;
  size_t i;
  json_t *v;
  json_array_foreach(aud, i, v) if (json_is_string(v) && strcmp(json_string_value(v), want) == 0) return true;
  return false;
}

bool srv_jwt_claims_ok(const srv_jwt *t, const char *audience, const char *claim, long leeway,
                       srv_identity *who, char *why, size_t size)
{
  time_t now = time(NULL);
  json_t *exp = json_object_get(t->claims, "exp"), *nbf = json_object_get(t->claims, "nbf");
  const char *user = json_string_value(json_object_get(t->claims, claim));
  const char *sub = json_string_value(json_object_get(t->claims, "sub"));
  if (!audience_ok(json_object_get(t->claims, "aud"), audience))
    snprintf(why, size, "the token's audience is not '%s'", audience);
  else if (!json_is_number(exp))
    snprintf(why, size, "the token has no expiry (exp)");
  else if ((double)now >= json_number_value(exp) + (double)leeway)
    snprintf(why, size, "the token expired");
  else if (nbf && (!json_is_number(nbf) || (double)now + (double)leeway < json_number_value(nbf)))
    snprintf(why, size, "the token is not valid yet (nbf)");
  else if (!user || !*user || strlen(user) >= sizeof who->user)
    snprintf(why, size, "the token has no '%s' claim naming a user", claim);
  else {
    who->kind = SRV_JWT;
    who->decisions_only = false;
    snprintf(who->user, sizeof who->user, "%s", user);
    snprintf(who->actor, sizeof who->actor, "jwt:%s", sub ? sub : user);
    return true;
  }
  return false;
}
