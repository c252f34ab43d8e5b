/*
 * tests/unit/test_server_auth.c - src/server/auth.c: the Authorization header
 * split into a bearer token (case, spaces, length), preshared keys, API keys
 * ("urbac_ID_SECRET": unknown id and wrong secret alike, revoked, expired, decisions only,
 * another tenant's), and what is left for the JWT path; through srv_dispatch()
 * on a real server.
 *
 * Depends on: server_fixture.h.
 */
#include "server_fixture.h"

static fixture *fx;
static char tokens[5][256]; /* ann, decisions-only, revoked, expired, tenant g's */

static void key(urbac_store *st, const char *tenant_id, const char *user, const char *scope,
                const char *expires, char *out)
{
  urbac_api_key k = {.name = "unit", .user = user, .scope = scope, .expires = expires};
  urbac_write w = {"unit", "setup", false, 0, NULL, NULL};
  char *token = NULL;
  urbac_diag *d = urbac_diag_new();
  urbac_err err = urbac_store_key_create(st, tenant_id, &k, &w, &token, d);
  if (err) {
    char buf[256];
    urbac_diag_format(d, 0, buf, sizeof buf);
    print_error("key: %s\n", buf);
  }
  assert_int_equal(err, URBAC_OK);
  snprintf(out, 256, "Bearer %s", token);
  urbac_free(token);
  urbac_diag_free(d);
}

static void prepare(fixture *f, urbac_store *st)
{
  (void)f;
  fixture_store_tenant(st, "urbac: 1\ntenant: g\nusers: [{id: gil}]\n");
  key(st, "f", "ann", "all", NULL, tokens[0]);
  key(st, "f", "ann", "decisions", NULL, tokens[1]);
  key(st, "g", "gil", "all", NULL, tokens[4]);
  key(st, "f", "cat", "all", NULL, tokens[2]); /* revoked: its id from its token */
  char id[17];
  const char *secret;
  size_t slen;
  assert_true(urbac_key_token_split(tokens[2] + 7, strlen(tokens[2] + 7), id, &secret, &slen));
  urbac_write w = {"unit", "revoke", false, 0, NULL, NULL};
  assert_int_equal(urbac_store_key_revoke(st, "f", id, &w, NULL), URBAC_OK);
  key(st, "f", "ann", "all", "2001-01-01T00:00:00Z", tokens[3]);
}

static int setup(void **state)
{
  (void)state;
  fx = fixture_new(prepare);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  fixture_free(fx);
  return 0;
}

#define WORKLOADS "/api/v1/tenants/f/workloads"
#define CHECK "/api/v1/tenants/f/check?user=ann&permission=Alerts+(manage)&workload=mdi"

static void expect_auth(const char *target, const char *auth, unsigned status, const char *needle)
{
  answer a = fixture_send(fx, SRV_GET, target, auth, NULL);
  EXPECT(a, status, needle);
  answer_free(&a);
}

static void test_bearer_header(void **state)
{
  (void)state;
  expect_auth(WORKLOADS, "Bearer " FIXTURE_PSK, 200, "\"mdi\"");
  expect_auth(WORKLOADS, "bEARER " FIXTURE_PSK, 200, "\"mdi\"");          /* the scheme is case-insensitive */
  expect_auth(WORKLOADS, "Bearer    " FIXTURE_PSK "   ", 200, "\"mdi\""); /* spaces around the token */
  static const char *const missing[] = {
      NULL, "", "Bearer", "Bearer ", "Bearer    ", "Basic " FIXTURE_PSK, FIXTURE_PSK, "Bearer" FIXTURE_PSK};
  for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++)
    expect_auth(WORKLOADS, missing[i], 401,
                "{\"error\":{\"code\":\"unauthenticated\",\"message\":\"an Authorization: Bearer token is "
                "required\",\"target\":\"Authorization\"}}");
  /* a preshared key matches whole: a prefix, a longer token or one in another case is no key */
  expect_auth(WORKLOADS, "Bearer unit-preshared-key-012345678", 401, "neither a key nor a JWT");
  expect_auth(WORKLOADS, "Bearer " FIXTURE_PSK "0", 401, "neither a key nor a JWT");
  expect_auth(WORKLOADS, "Bearer UNIT-preshared-key-0123456789", 401, "neither a key nor a JWT");
  /* at most 8192 bytes of token: the longest is looked at, one more is not a token */
  char *h = malloc(8200 + 8);
  strcpy(h, "Bearer ");
  memset(h + 7, 'k', 8192);
  h[7 + 8192] = '\0';
  expect_auth(WORKLOADS, h, 401, "neither a key nor a JWT");
  strcpy(h + 7 + 8192, "k");
  expect_auth(WORKLOADS, h, 401, "an Authorization: Bearer token is required");
  free(h);
}

static void test_api_keys(void **state)
{
  (void)state;
  expect_auth(CHECK, tokens[0], 200, "\"decision\":\"allow\"");
  expect_auth(WORKLOADS, tokens[0], 403, "ann needs Configuration \\\\ Authorization (read)");
  /* the secret's last byte changed; the id's first byte changed */
  char t[256];
  snprintf(t, sizeof t, "%s", tokens[0]);
  t[strlen(t) - 1] = t[strlen(t) - 1] == 'A' ? 'B' : 'A';
  expect_auth(CHECK, t, 401, "invalid API key"); /* a wrong secret reads as an unknown id */
  snprintf(t, sizeof t, "%s", tokens[0]);
  char *id = strchr(t + 7, '_') + 1;
  *id = *id == '0' ? '1' : '0';
  expect_auth(CHECK, t, 401, "invalid API key");
  /* a token that is only the secret, or only the id */
  snprintf(t, sizeof t, "%s", tokens[0]);
  *strrchr(t, '_') = '\0';
  expect_auth(CHECK, t, 401, "\"target\":\"Authorization\"");
  expect_auth(CHECK, tokens[2], 401, "was revoked");
  expect_auth(CHECK, tokens[3], 401, "expired at 2001-01-01T00:00:00Z");
  /* a decisions-only key decides, and reads nothing */
  expect_auth(CHECK, tokens[1], 200, "\"decision\":\"allow\"");
  expect_auth(WORKLOADS, tokens[1], 403, "this key may only ask for decisions");
  /* tenant g's key on tenant f */
  expect_auth(CHECK, tokens[4], 403, "this credential belongs to another tenant, not 'f'");
  expect_auth("/api/v1/tenants/g/check?user=gil&permission=Alerts+(manage)&workload=mdi", tokens[4], 200,
              "\"decision\":\"deny\"");
}

static void test_tokens_left_to_jwt(void **state)
{
  (void)state;
  /* no OIDC provider here: what is neither a preshared nor an API key is a JWT or nothing */
  expect_auth(CHECK, "Bearer a.b", 401, "the token is neither a key nor a JWT");
  expect_auth(CHECK, "Bearer a.b.c.d", 401, "the token is neither a key nor a JWT");
  expect_auth(CHECK, "Bearer a.b.c", 401, "the JWT is malformed");
  expect_auth(CHECK, "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", 401,
              "JWT algorithm 'HS256': only RS256 and ES256");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bearer_header),
      cmocka_unit_test(test_api_keys),
      cmocka_unit_test(test_tokens_left_to_jwt),
  };
  return cmocka_run_group_tests_name("server/auth.c", tests, setup, teardown);
}
