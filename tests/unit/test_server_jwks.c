/*
 * tests/unit/test_server_jwks.c - src/server/jwks.c and oidc.c: the OIDC providers
 * file and the JWKS files it names (RSA and P-256 keys made here with OpenSSL; every
 * malformed file refused with where and what), then tokens signed here with
 * libjwt checked by srv_jwt_verify(): signature, algorithm, key id, issuer,
 * audience, expiry, not-before and the user claim.
 *
 * Depends on: src/server/server.h (urbac_server), OpenSSL, libjwt, cmocka.
 */
#include <jwt.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <time.h>

#include "helpers.h"
#include "server/server.h"

static char dir[64];
static EVP_PKEY *rsa, *ec, *other;
static char *rsa_pem, *ec_pem, *other_pem; /* private keys, PEM */

static void write_file(const char *name, const char *text)
{
  char path[128];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static char *private_pem(EVP_PKEY *k)
{
  BIO *b = BIO_new(BIO_s_mem());
  assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
  char *mem;
  long len = BIO_get_mem_data(b, &mem);
  char *s = strndup(mem, (size_t)len);
  BIO_free(b);
  return s;
}

/* A byte string as base64url without padding. */
static void b64url(const unsigned char *in, size_t n, char *out)
{
  static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v =
        (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
    out[o++] = abc[v >> 18 & 63];
    out[o++] = abc[v >> 12 & 63];
    if (i + 1 < n)
      out[o++] = abc[v >> 6 & 63];
    if (i + 2 < n)
      out[o++] = abc[v & 63];
  }
  out[o] = '\0';
}

static void bn_param(EVP_PKEY *k, const char *name, char *out)
{
  BIGNUM *bn = NULL;
  unsigned char buf[512];
  assert_int_equal(EVP_PKEY_get_bn_param(k, name, &bn), 1);
  int n = BN_bn2bin(bn, buf);
  b64url(buf, (size_t)n, out);
  BN_free(bn);
}

/* The JWK of an RSA key, or of a P-256 key (x and y from its uncompressed point). */
static void jwk(EVP_PKEY *k, const char *kid, char *out, size_t size)
{
  char a[700], b[700];
  if (EVP_PKEY_is_a(k, "RSA")) {
    bn_param(k, OSSL_PKEY_PARAM_RSA_N, a);
    bn_param(k, OSSL_PKEY_PARAM_RSA_E, b);
    snprintf(out, size, "{\"kty\": \"RSA\", \"kid\": \"%s\", \"n\": \"%s\", \"e\": \"%s\"}", kid, a, b);
    return;
  }
  unsigned char point[65];
  size_t len = 0;
  assert_int_equal(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len), 1);
  assert_int_equal(len, 65);
  b64url(point + 1, 32, a);
  b64url(point + 33, 32, b);
  snprintf(out, size, "{\"kty\": \"EC\", \"crv\": \"P-256\", \"kid\": \"%s\", \"x\": \"%s\", \"y\": \"%s\"}",
           kid, a, b);
}

static int setup(void **state)
{
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/urbac-jwks-XXXXXX");
  assert_non_null(mkdtemp(dir));
  rsa = EVP_RSA_gen(2048);
  other = EVP_RSA_gen(2048);
  ec = EVP_EC_gen("P-256");
  assert_non_null(rsa);
  assert_non_null(ec);
  rsa_pem = private_pem(rsa);
  ec_pem = private_pem(ec);
  other_pem = private_pem(other);
  char r[2048], e[512], doc[4096];
  jwk(rsa, "r1", r, sizeof r);
  jwk(ec, "e1", e, sizeof e);
  snprintf(doc, sizeof doc, "{\"keys\": [%s, %s]}", r, e);
  write_file("jwks.json", doc);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
  EVP_PKEY_free(rsa);
  EVP_PKEY_free(ec);
  EVP_PKEY_free(other);
  free(rsa_pem);
  free(ec_pem);
  free(other_pem);
  return 0;
}

/* Loads providers file `text`; returns the code and the first error as "line:col path: message". */
static urbac_err load(srv *s, const char *text, char *first, size_t size)
{
  char path[128];
  write_file("oidc.json", text);
  snprintf(path, sizeof path, "%s/oidc.json", dir);
  urbac_diag *d = urbac_diag_new();
  *s = (srv){0};
  urbac_err err = srv_oidc_load(s, path, d);
  first[0] = '\0';
  const urbac_error *e = urbac_diag_get(d, 0);
  if (e)
    snprintf(first, size, "%u:%u %s: %s", e->line, e->column, e->path, e->message);
  assert_int_equal(urbac_diag_count(d), err ? 1 : 0);
  urbac_diag_free(d);
  return err;
}

#define PROVIDER(extra)                                                                                      \
  "{\"providers\": [{\"tenant\": \"f\", \"issuer\": \"https://idp.example/f\", \"audience\": \"urbac\", "    \
  "\"jwksFile\": \"jwks.json\", \"userClaim\": \"upn\"" extra "}]}"

static void expect_refused(const char *text, urbac_err code, const char *needle)
{
  srv s;
  char first[512];
  urbac_err err = load(&s, text, first, sizeof first);
  if (err != code || !strstr(first, needle))
    print_error("got %s '%s', wanted %s '%s'\n", urbac_err_name(err), first, urbac_err_name(code), needle);
  assert_int_equal(err, code);
  assert_non_null(strstr(first, needle));
  assert_null(s.oidc); /* nothing kept */
}

static void test_providers_file(void **state)
{
  (void)state;
  srv s;
  char first[512];
  assert_int_equal(load(&s, PROVIDER(", \"leewaySeconds\": 0"), first, sizeof first), URBAC_OK);
  srv_oidc_free(&s);
  assert_int_equal(load(&s, "{\"providers\": []}", first, sizeof first), URBAC_OK);
  srv_oidc_free(&s);
  expect_refused("{\"providers\": [\n  {\"tenant\": }]}", URBAC_ESYNTAX, "2:14 : unexpected token near '}'");
  expect_refused("{\"providers\": [], \"providers\": []}", URBAC_ESYNTAX, "duplicate object key");
  expect_refused("{\"providers\": {}}", URBAC_EVALUE, "providers: a list of at most 64 providers");
  expect_refused("{}", URBAC_EVALUE, "providers: a list");
  expect_refused("{\"providers\": [3]}", URBAC_ETYPE, "providers[0]: an object");
  expect_refused("{\"providers\": [{\"tenant\": \"f\", \"audience\": \"a\", \"jwksFile\": \"jwks.json\", "
                 "\"userClaim\": \"upn\"}]}",
                 URBAC_EMISSING, "providers[0].issuer: a string is required");
  expect_refused("{\"providers\": [{\"tenant\": \"\", \"issuer\": \"i\"}]}", URBAC_EMISSING,
                 "providers[0].tenant: a string is required");
  expect_refused(PROVIDER(", \"leewaySeconds\": 601"), URBAC_EVALUE, "providers[0].leewaySeconds: 0 to 600");
  expect_refused(PROVIDER(", \"leewaySeconds\": \"60\""), URBAC_EVALUE, "leewaySeconds: 0 to 600");
  char many[65 * 200 + 64] = "{\"providers\": [";
  for (int i = 0; i < 65; i++)
    strcat(many, i ? ", {}" : "{}");
  strcat(many, "]}");
  expect_refused(many, URBAC_EVALUE, "a list of at most 64 providers");
}

static void expect_jwks_refused(const char *jwks, urbac_err code, const char *needle)
{
  write_file("bad-jwks.json", jwks);
  expect_refused("{\"providers\": [{\"tenant\": \"f\", \"issuer\": \"i\", \"audience\": \"a\", "
                 "\"jwksFile\": \"bad-jwks.json\", \"userClaim\": \"upn\"}]}",
                 code, needle);
}

static void test_jwks_documents(void **state)
{
  (void)state;
  expect_jwks_refused("{\"keys\": [", URBAC_ESYNTAX, "bad-jwks.json:1:10: ");
  expect_jwks_refused("{\"keys\": []}", URBAC_EVALUE,
                      "bad-jwks.json: no RSA or P-256 signing key among its 0");
  expect_jwks_refused("{\"keys\": {}}", URBAC_EVALUE, "a JWKS is an object with a \"keys\" list");
  /* keys of other types are skipped (providers publish them beside their signing keys), but one must remain
   */
  expect_jwks_refused("{\"keys\": [{\"kty\": \"oct\", \"k\": \"c2VjcmV0\"}]}", URBAC_EVALUE,
                      "no RSA or P-256 signing key among its 1 keys");
  expect_jwks_refused("{\"keys\": [{\"kty\": \"EC\", \"crv\": \"P-384\", \"x\": \"AA\", \"y\": \"AA\"}]}",
                      URBAC_EVALUE, "no RSA or P-256 signing key");
  expect_jwks_refused("{\"keys\": [{\"kty\": \"RSA\", \"n\": \"!!!\", \"e\": \"AQAB\"}]}", URBAC_EVALUE,
                      "keys[0]: not a valid RSA or P-256 public key");
  expect_jwks_refused("{\"keys\": [{\"kty\": \"RSA\", \"e\": \"AQAB\"}]}", URBAC_EVALUE, "keys[0]:");
  expect_jwks_refused("{\"keys\": [{\"kty\": \"EC\", \"crv\": \"P-256\", \"x\": \"AAAA\", \"y\": \"AAAA\"}]}",
                      URBAC_EVALUE, "keys[0]:");
  char r[2048], doc[4096];
  jwk(rsa, "r1", r, sizeof r);
  snprintf(doc, sizeof doc, "{\"keys\": [%s, {\"kty\": \"RSA\"}]}", r);
  expect_jwks_refused(doc, URBAC_EVALUE, "keys[1]: not a valid RSA or P-256 public key");
  char big[40 * 2100] = "{\"keys\": [";
  for (int i = 0; i < 33; i++) {
    strcat(big, i ? ", " : "");
    strcat(big, r);
  }
  strcat(big, "]}");
  expect_jwks_refused(big, URBAC_ELIMIT, "more than 32 signing keys");
  expect_refused("{\"providers\": [{\"tenant\": \"f\", \"issuer\": \"i\", \"audience\": \"a\", "
                 "\"jwksFile\": \"missing.json\", \"userClaim\": \"upn\"}]}",
                 URBAC_ESYNTAX, "missing.json");
  /* an encryption key and an HMAC secret beside a signing key: skipped, the signing key kept */
  srv s;
  char first[512];
  snprintf(doc, sizeof doc,
           "{\"keys\": [{\"kty\": \"oct\", \"k\": \"c2VjcmV0\"}, %.*s, \"use\": \"enc\"}, %s]}",
           (int)strlen(r) - 1, r, r);
  write_file("mixed.json", doc);
  assert_int_equal(load(&s,
                        "{\"providers\": [{\"tenant\": \"f\", \"issuer\": \"i\", \"audience\": \"a\", "
                        "\"jwksFile\": \"mixed.json\", \"userClaim\": \"upn\"}]}",
                        first, sizeof first),
                   URBAC_OK);
  srv_oidc_free(&s);
}

/* The fields that say where keys come from and how often they are fetched. */
static void test_key_sources(void **state)
{
  (void)state;
  expect_refused(PROVIDER(", \"jwks_file\": \"x\""), URBAC_EVALUE,
                 "providers[0].jwks_file: unknown field (tenant, issuer,");
  expect_refused(PROVIDER(", \"caFile\": \"ca.pem\""), URBAC_EINVAL,
                 "providers[0].caFile: only for keys fetched over HTTPS, not with jwksFile");
  expect_refused(
      "{\"providers\": [{\"tenant\": \"f\", \"issuer\": \"http://idp.example/f\", \"audience\": \"a\", "
      "\"userClaim\": \"upn\"}]}",
      URBAC_EVALUE, "providers[0].issuer: 'http://idp.example/f' is not an https:// URL");
  expect_refused(PROVIDER(", \"refreshSeconds\": 0"), URBAC_EVALUE,
                 "providers[0].refreshSeconds: 1 to 604800");
  expect_refused(PROVIDER(", \"minRefreshSeconds\": 3601"), URBAC_EVALUE, "minRefreshSeconds: 1 to 3600");
  expect_refused(PROVIDER(", \"timeoutSeconds\": 61"), URBAC_EVALUE, "timeoutSeconds: 1 to 60");
  /* discovery that cannot reach its provider: refused, naming the provider and the URL */
  expect_refused("{\"providers\": [{\"tenant\": \"f\", \"issuer\": \"https://127.0.0.1:1/f\", \"audience\": "
                 "\"a\", \"userClaim\": \"upn\", \"timeoutSeconds\": 2}]}",
                 URBAC_EIO,
                 "providers[0] (tenant f, issuer https://127.0.0.1:1/f): GET "
                 "https://127.0.0.1:1/f/.well-known/openid-configuration: ");
}

/* ---------------------------------------------------------------- tokens */

/* A token signed with `pem` under `alg`, with header kid `kid` (NULL: none) and claims `json`. */
static char *sign(jwt_alg_t alg, const char *pem, const char *kid, const char *json)
{
  jwt_t *j = NULL;
  assert_int_equal(jwt_new(&j), 0);
  assert_int_equal(jwt_add_grants_json(j, json), 0);
  if (kid)
    assert_int_equal(jwt_add_header(j, "kid", kid), 0);
  assert_int_equal(jwt_set_alg(j, alg, (const unsigned char *)pem, (int)strlen(pem)), 0);
  char *t = jwt_encode_str(j);
  assert_non_null(t);
  jwt_free(j);
  return t;
}

/* Claims for issuer f, audience urbac and user ann, valid from now for an hour, with `extra` members. */
static void claims(char *out, size_t size, const char *extra)
{
  long now = (long)time(NULL);
  snprintf(out, size,
           "{\"iss\": \"https://idp.example/f\", \"aud\": \"urbac\", \"upn\": \"ann\", \"sub\": \"s-1\", "
           "\"exp\": %ld, \"nbf\": %ld%s}",
           now + 3600, now - 10, extra);
}

static bool verify(srv *s, const char *token, srv_identity *who, char *why, size_t size)
{
  char home[SRV_MAX_TENANT_ID + 1] = "";
  *who = (srv_identity){0};
  why[0] = '\0';
  bool ok = srv_jwt_verify(s, "f", token, who, home, why, size);
  if (ok)
    assert_string_equal(home, "f");
  return ok;
}

static void expect_token(srv *s, char *token, bool ok, const char *needle)
{
  srv_identity who;
  char why[256];
  bool got = verify(s, token, &who, why, sizeof why);
  if (got != ok || (!ok && !strstr(why, needle)))
    print_error("token %s: %s, wanted %s\n", token, got ? "accepted" : why, ok ? "accepted" : needle);
  assert_int_equal(got, ok);
  if (ok) {
    assert_int_equal(who.kind, SRV_JWT);
    assert_string_equal(who.user, needle);
  } else {
    assert_non_null(strstr(why, needle));
  }
  free(token);
}

static void test_tokens(void **state)
{
  (void)state;
  srv s;
  char first[512], c[1024];
  assert_int_equal(load(&s, PROVIDER(", \"leewaySeconds\": 0"), first, sizeof first), URBAC_OK);
  claims(c, sizeof c, "");
  expect_token(&s, sign(JWT_ALG_RS256, rsa_pem, "r1", c), true, "ann");
  expect_token(&s, sign(JWT_ALG_ES256, ec_pem, "e1", c), true, "ann");
  expect_token(&s, sign(JWT_ALG_RS256, rsa_pem, NULL, c), true,
               "ann"); /* no kid: every key of the type tried */
  srv_identity who;
  char why[256], *t = sign(JWT_ALG_RS256, rsa_pem, "r1", c);
  assert_true(verify(&s, t, &who, why, sizeof why));
  assert_string_equal(who.actor, "jwt:s-1");
  free(t);
  /* the signature: another key, the wrong kid, an algorithm that does not fit the key, a changed payload */
  expect_token(&s, sign(JWT_ALG_RS256, other_pem, "r1", c), false, "signature does not verify");
  expect_token(&s, sign(JWT_ALG_RS256, rsa_pem, "e1", c), false, "signature does not verify");
  expect_token(&s, sign(JWT_ALG_RS256, rsa_pem, "r2", c), false, "key id is not among the issuer's keys");
  expect_token(&s, sign(JWT_ALG_HS256, "a-shared-secret-of-enough-length", "r1", c), false,
               "JWT algorithm 'HS256': only RS256 and ES256 are accepted");
  expect_token(&s, sign(JWT_ALG_RS512, rsa_pem, "r1", c), false, "JWT algorithm 'RS512'");
  t = sign(JWT_ALG_RS256, rsa_pem, "r1", c);
  char *dot = strchr(t, '.') + 1;
  dot[3] = dot[3] == 'A' ? 'B' : 'A'; /* one payload character */
  expect_token(&s, t, false, "");
  /* the claims */
  long now = (long)time(NULL);
  static const struct {
    const char *fmt;
    const char *why;
  } bad[] = {
      {"{\"iss\": \"https://idp.example/f\", \"aud\": \"other\", \"upn\": \"ann\", \"exp\": %ld}",
       "audience is not 'urbac'"},
      {"{\"iss\": \"https://idp.example/f\", \"aud\": [\"a\", \"b\"], \"upn\": \"ann\", \"exp\": %ld}",
       "audience is not"},
      {"{\"iss\": \"https://idp.example/f\", \"aud\": \"urbac\", \"upn\": \"ann\"}", "no expiry (exp)"},
      {"{\"iss\": \"https://idp.example/f\", \"aud\": \"urbac\", \"upn\": \"ann\", \"exp\": \"soon\"}",
       "no expiry"},
      {"{\"iss\": \"https://other.example\", \"aud\": \"urbac\", \"upn\": \"ann\", \"exp\": %ld}",
       "issuer is not a configured provider"},
      {"{\"aud\": \"urbac\", \"upn\": \"ann\", \"exp\": %ld}", "issuer is not a configured provider"},
      {"{\"iss\": \"https://idp.example/f\", \"aud\": \"urbac\", \"exp\": %ld}",
       "no 'upn' claim naming a user"},
      {"{\"iss\": \"https://idp.example/f\", \"aud\": \"urbac\", \"upn\": \"\", \"exp\": %ld}",
       "no 'upn' claim"},
      {"{\"iss\": \"https://idp.example/f\", \"aud\": \"urbac\", \"upn\": 7, \"exp\": %ld}",
       "no 'upn' claim"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    snprintf(c, sizeof c, bad[i].fmt, now + 3600);
    expect_token(&s, sign(JWT_ALG_RS256, rsa_pem, "r1", c), false, bad[i].why);
  }
  snprintf(
      c, sizeof c,
      "{\"iss\": \"https://idp.example/f\", \"aud\": [\"a\", \"urbac\"], \"upn\": \"ann\", \"exp\": %ld}",
      now + 3600);
  expect_token(&s, sign(JWT_ALG_RS256, rsa_pem, "r1", c), true, "ann"); /* one audience of several */
  snprintf(c, sizeof c,
           "{\"iss\": \"https://idp.example/f\", \"aud\": \"urbac\", \"upn\": \"ann\", \"exp\": %ld}",
           now - 1);
  expect_token(&s, sign(JWT_ALG_RS256, rsa_pem, "r1", c), false, "the token expired");
  snprintf(c, sizeof c,
           "{\"iss\": \"https://idp.example/f\", \"aud\": \"urbac\", \"upn\": \"ann\", \"exp\": %ld, "
           "\"nbf\": %ld}",
           now + 3600, now + 600);
  expect_token(&s, sign(JWT_ALG_RS256, rsa_pem, "r1", c), false, "not valid yet (nbf)");
  srv_oidc_free(&s);
  /* leeway: a token expired 30 s ago passes with 60 s of it */
  assert_int_equal(load(&s, PROVIDER(", \"leewaySeconds\": 60"), first, sizeof first), URBAC_OK);
  snprintf(c, sizeof c,
           "{\"iss\": \"https://idp.example/f\", \"aud\": \"urbac\", \"upn\": \"ann\", \"exp\": %ld}",
           now - 30);
  expect_token(&s, sign(JWT_ALG_RS256, rsa_pem, "r1", c), true, "ann");
  srv_oidc_free(&s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_providers_file),
      cmocka_unit_test(test_jwks_documents),
      cmocka_unit_test(test_key_sources),
      cmocka_unit_test(test_tokens),
  };
  return cmocka_run_group_tests_name("server/jwks.c", tests, setup, teardown);
}
