/*
 * tests/unit/test_server_route.c - src/server/route.c: every route of the table
 * matched by its own path (and only by its method), placeholders, unknown paths
 * and methods, unknown tenants and workloads, authorization by the caller's
 * user, minRevision and If-Match parsing; through srv_dispatch() on a real server.
 *
 * Depends on: server_fixture.h.
 */
#include "server_fixture.h"

static fixture *fx;

static void prepare(fixture *f, urbac_store *st)
{
  (void)f;
  urbac_api_key k = {.name = "reader", .user = "ann", .scope = "all"};
  urbac_write w = {"unit", "setup", false, 0, NULL, NULL};
  char *token = NULL;
  /* ann holds Alerts only: she may decide, not read the configuration */
  assert_int_equal(urbac_store_key_create(st, "f", &k, &w, &token, NULL), URBAC_OK);
  setenv("UNIT_ANN_TOKEN", token, 1);
  urbac_free(token);
  k = (urbac_api_key){.name = "admin", .user = "ben", .scope = "all"};
  assert_int_equal(urbac_store_key_create(st, "f", &k, &w, &token, NULL), URBAC_OK);
  setenv("UNIT_BEN_TOKEN", token, 1);
  urbac_free(token);
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

static void expect_send(srv_method m, const char *target, const char *auth, const char *body, unsigned status,
                        const char *needle)
{
  answer a = fixture_send(fx, m, target, auth, body);
  EXPECT(a, status, needle);
  answer_free(&a);
}

/* The route's path with each {placeholder} filled: tenant f, workload mdi, ids x. */
static void fill(const char *pattern, char *out, size_t size)
{
  size_t n = 0;
  for (const char *p = pattern; *p && n + 8 < size;) {
    if (*p != '{') {
      out[n++] = *p++;
      continue;
    }
    const char *end = strchr(p, '}');
    const char *v = strncmp(p, "{tenant}", 8) == 0 ? "f" : strncmp(p, "{workload}", 10) == 0 ? "mdi" : "x";
    n += (size_t)snprintf(out + n, size - n, "%s", v);
    p = end + 1;
  }
  out[n] = '\0';
}

static void test_every_route_matches_its_path(void **state)
{
  (void)state;
  char path[512];
  assert_true(srv_nroutes > 20);
  for (size_t i = 0; i < srv_nroutes; i++) {
    const srv_route *rt = &srv_routes[i];
    fill(rt->path, path, sizeof path);
    answer a = fixture_send(fx, rt->method, path, NULL, NULL);
    /* matched: public routes answer without asking who is calling (the portal's
     * session routes answer 400 or 401 about the body or the cookie, a file it
     * does not have 404), the others ask */
    if (rt->access == SRV_PUBLIC) {
      assert_true(a.status != 405 && !strstr(a.body, "no such route"));
      assert_null(strstr(a.body, "\"target\":\"Authorization\""));
    } else
      EXPECT(a, 401, "\"target\":\"Authorization\"");
    answer_free(&a);
    /* a method no route of this path has: 405 */
    bool other = false;
    for (size_t j = 0; j < srv_nroutes; j++)
      other = other || (strcmp(srv_routes[j].path, rt->path) == 0 && srv_routes[j].method == SRV_PATCH);
    if (!other)
      expect_send(SRV_PATCH, path, PSK_AUTH, NULL, 405, "PATCH is not allowed here");
    /* matching is anchored: the same path below another segment is no route */
    char below[600];
    snprintf(below, sizeof below, "/x%s", path);
    expect_send(rt->method, below, PSK_AUTH, NULL, 404, "no such route");
  }
}

static void test_matching(void **state)
{
  (void)state;
  expect_send(SRV_GET, "/nowhere", PSK_AUTH, NULL, 404, "no such route");
  expect_send(SRV_GET, "/", NULL, NULL, 200, "urbac"); /* the portal's page */
  expect_send(SRV_OTHER, "/healthz", NULL, NULL, 405, "OTHER is not allowed here");
  /* segments compare whole: a prefix or a longer literal is no match */
  expect_send(SRV_GET, "/healthzz", NULL, NULL, 404, "no such route");
  expect_send(SRV_GET, "/api/v1/tenants/f/chec", PSK_AUTH, NULL, 404, "no such route");
  /* escapes are decoded before matching; a trailing slash is no segment */
  expect_send(SRV_GET, "/%68ealthz/", NULL, NULL, 200, "");
  /* the placeholders: tenant and workload are checked */
  expect_send(SRV_GET, "/api/v1/tenants/nope/workloads", PSK_AUTH, NULL, 404, "no tenant 'nope'");
  expect_send(SRV_GET, "/api/v1/tenants/f/workloads/mdz/impact", PSK_AUTH, NULL, 404,
              "unknown workload 'mdz' (mde, mdo or mdi)");
  expect_send(SRV_GET, "/api/v1/tenants/f/workloads", PSK_AUTH, NULL, 200, "\"mdi\"");
}

static void test_authorization(void **state)
{
  (void)state;
  char ann[300], ben[300];
  snprintf(ann, sizeof ann, "Bearer %s", getenv("UNIT_ANN_TOKEN"));
  snprintf(ben, sizeof ben, "Bearer %s", getenv("UNIT_BEN_TOKEN"));
  /* decisions: any identity of the tenant */
  expect_send(SRV_GET, "/api/v1/tenants/f/check?user=ann&permission=Alerts+(manage)&workload=mdi", ann, NULL,
              200, "\"decision\":\"allow\"");
  /* reads need Configuration \ Authorization (read): ann has not, ben (Security administrator) has */
  expect_send(SRV_GET, "/api/v1/tenants/f/roleDefinitions", ann, NULL, 403,
              "ann needs Configuration \\\\ Authorization (read)");
  expect_send(SRV_GET, "/api/v1/tenants/f/workloads/mdo/impact", ann, NULL, 403,
              "ann needs Configuration \\\\ Authorization (read) on mdo");
  expect_send(SRV_GET, "/api/v1/tenants/f/roleDefinitions", ben, NULL, 200, "\"value\"");
}

static void test_min_revision(void **state)
{
  (void)state;
  expect_send(SRV_GET, "/api/v1/tenants/f/workloads?minRevision=1", PSK_AUTH, NULL, 200, "\"mdi\"");
  static const char *const bad[] = {"abc", "-1", "", "1x", "99999999999999999999999"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char target[128];
    snprintf(target, sizeof target, "/api/v1/tenants/f/workloads?minRevision=%s", bad[i]);
    expect_send(SRV_GET, target, PSK_AUTH, NULL, 400, "is not a revision number");
  }
  /* a revision the tenant has not reached: a 409 once the (1 ms) wait is over */
  expect_send(SRV_GET, "/api/v1/tenants/f/workloads?minRevision=99", PSK_AUTH, NULL, 409,
              "has not reached revision 99");
}

static void test_if_match(void **state)
{
  (void)state;
  static const struct {
    const char *v;
    bool ok, has;
    uint64_t rev;
  } cases[] = {
      {NULL, true, false, 0},      {"*", true, false, 0},       {"\"12\"", true, true, 12},
      {"W/\"7\"", true, true, 7},  {"12", false, false, 0},     {"\"\"", false, false, 0},
      {"\"1a\"", false, false, 0}, {"\"-1\"", false, false, 0}, {"\"99999999999999999999\"", false, false, 0},
      {"\"12", false, false, 0},   {"W/", false, false, 0}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    srv_req req = {.if_match = cases[i].v};
    srv_resp r = {0};
    bool has = true;
    uint64_t rev = 0;
    assert_int_equal(srv_if_match(&req, &r, &has, &rev), cases[i].ok);
    assert_int_equal(has, cases[i].has);
    if (cases[i].has)
      assert_int_equal(rev, cases[i].rev);
    if (!cases[i].ok) {
      assert_int_equal(r.status, 400);
      assert_non_null(strstr(r.body.p, "\"target\":\"If-Match\""));
    }
    srv_buf_free(&r.body);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_route_matches_its_path),
      cmocka_unit_test(test_matching),
      cmocka_unit_test(test_authorization),
      cmocka_unit_test(test_min_revision),
      cmocka_unit_test(test_if_match),
  };
  return cmocka_run_group_tests_name("server/route.c", tests, setup, teardown);
}
