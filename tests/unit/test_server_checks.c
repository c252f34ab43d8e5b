/*
 * tests/unit/test_server_checks.c - src/server/checks.c, the streaming parser of
 * POST /checks: its answers against the naive evaluator, each error with the
 * target it names ("checks[2].permission"), members it must skip, and its limits
 * (field length, number of checks), through srv_dispatch() on a real server.
 *
 * Depends on: server_fixture.h, naive.h.
 */
#include "naive.h"
#include "server_fixture.h"

#define CHECKS "/api/v1/tenants/f/checks"

static fixture *fx;

static int setup(void **state)
{
  (void)state;
  fx = fixture_new(NULL);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  fixture_free(fx);
  return 0;
}

static answer post(const char *body) { return fixture_send(fx, SRV_POST, CHECKS, PSK_AUTH, body); }

static void expect_post(const char *body, unsigned status, const char *needle)
{
  answer a = post(body);
  EXPECT(a, status, needle);
  answer_free(&a);
}

/* Every user, a few permissions, every workload and scope: the decisions the
 * server streams back are the naive evaluator's. */
static void test_answers_match_naive(void **state)
{
  (void)state;
  static const char *const users[] = {"ann", "ben", "cat", "nobody"};
  static const char *const perms[] = {"Alerts (manage)", "Security data basics (read)",
                                      "Configuration \\ Authorization (read)", "Basic live response"};
  static const char *const wls[] = {"mde", "mdo", "mdi"};
  static const char *const scopes[] = {"", "any", "device:d1", "devicegroup:ungrouped"};
  tenant t = tenant_load(fixture_tenant);
  naive *ref = naive_new(t.m);
  assert_non_null(ref);
  srv_buf body = {0}, want = {0};
  srv_buf_puts(&body, "{\"checks\": [");
  srv_buf_puts(&want, "{\"decisions\":[");
  size_t n = 0;
  for (size_t u = 0; u < 4; u++)
    for (size_t p = 0; p < 4; p++)
      for (size_t w = 0; w < 3; w++)
        for (size_t s = 0; s < 4; s++) {
          char perm[128]; /* JSON-escaped */
          size_t k = 0;
          for (const char *c = perms[p]; *c; c++) {
            if (*c == '\\')
              perm[k++] = '\\';
            perm[k++] = *c;
          }
          perm[k] = '\0';
          srv_buf_printf(
              &body, "%s{\"user\": \"%s\", \"permission\": \"%s\", \"workload\": \"%s\", \"scope\": \"%s\"}",
              n ? ", " : "", users[u], perm, wls[w], w == 0 ? scopes[s] : "");
          urbac_query q = ask(&t, users[u], perms[p], wls[w], w == 0 ? scopes[s] : "");
          srv_buf_printf(&want, "%s\"%s\"", n++ ? "," : "", naive_decide(ref, &q) ? "allow" : "deny");
        }
  srv_buf_puts(&body, "]}");
  srv_buf_puts(&want, "],\"revision\":1}");
  answer a = post(body.p);
  assert_int_equal(a.status, 200);
  assert_string_equal(a.body, want.p);
  assert_non_null(strstr(want.p, "allow"));
  assert_non_null(strstr(want.p, "deny"));
  answer_free(&a);
  srv_buf_free(&body);
  srv_buf_free(&want);
  naive_free(ref);
  tenant_free(&t);
}

static void test_members_skipped(void **state)
{
  (void)state;
  /* other members, at any depth and of any type, are ignored; scope is optional */
  expect_post("{\"note\": {\"checks\": [1, {\"x\": [null]}]}, \"n\": [[]], \"checks\": ["
              "{\"extra\": {\"user\": 5}, \"user\": \"ann\", \"permission\": \"Alerts (manage)\", "
              "\"workload\": \"mdi\", \"more\": [true, false, null, 1.5]}], \"after\": \"x\"}",
              200, "{\"decisions\":[\"allow\"],\"revision\":1}");
  expect_post("{\"checks\": []}", 200, "{\"decisions\":[],\"revision\":1}");
}

static void test_errors_name_their_target(void **state)
{
  (void)state;
  const char *ok = "{\"user\": \"ann\", \"permission\": \"Alerts (manage)\", \"workload\": \"mdi\"}";
  char body[1024];
  /* the shape */
  expect_post("", 400, "\"target\":\"body\"");
  expect_post("[]", 400, "the body must be a JSON object");
  expect_post("{}", 400, "the body needs \\\"checks\\\": a list of questions");
  expect_post("{\"checks\": {}}", 400, "\"checks\\\" must be a list of questions");
  expect_post("{\"checks\": 3}", 400, "\"target\":\"checks\"");
  snprintf(body, sizeof body, "{\"checks\": [%s], \"checks\": []}", ok);
  expect_post(body, 400, "\\\"checks\\\" appears twice");
  snprintf(body, sizeof body, "{\"checks\": [%s, \"ann\"]}", ok);
  expect_post(body, 400, "\"target\":\"checks[1]\"");
  snprintf(body, sizeof body, "{\"checks\": [%s, [1]]}", ok);
  expect_post(body, 400, "\"target\":\"checks[1]\"");
  /* one field */
  snprintf(body, sizeof body, "{\"checks\": [%s, {\"user\": 7}]}", ok);
  expect_post(body, 400,
              "{\"error\":{\"code\":\"badRequest\",\"message\":\"a string, not a number\","
              "\"target\":\"checks[1].user\"}}");
  expect_post("{\"checks\": [{\"scope\": null}]}", 400, "\"target\":\"checks[0].scope\"");
  expect_post("{\"checks\": [{\"workload\": true}]}", 400, "a string, not a boolean");
  expect_post("{\"checks\": [{\"user\": {}}]}", 400, "a string, not an object");
  expect_post("{\"checks\": [{\"user\": []}]}", 400, "a string, not a list");
  expect_post("{\"checks\": [{\"user\": \"a\", \"user\": \"b\"}]}", 400, "\"target\":\"checks[0].user\"");
  /* resolution */
  snprintf(body, sizeof body, "{\"checks\": [%s, %s, {\"user\": \"ann\", \"workload\": \"mdi\"}]}", ok, ok);
  expect_post(body, 400, "\"target\":\"checks[2].permission\"");
  snprintf(body, sizeof body,
           "{\"checks\": [%s, {\"user\": \"ann\", \"permission\": \"Alertz\", \"workload\": \"mdi\"}]}", ok);
  expect_post(body, 422, "\"target\":\"checks[1].permission\"");
  expect_post(
      "{\"checks\": [{\"user\": \"ann\", \"permission\": \"Alerts (manage)\", \"workload\": \"mdz\"}]}", 422,
      "\"target\":\"checks[0].workload\"");
  /* syntax: where it stopped, by line and column */
  expect_post("{\"checks\": [\n  {\"user\": \"ann\",,}]}", 400, "body:2:");
}

static void test_limits(void **state)
{
  (void)state;
  /* a field of 1023 bytes is read; 1024 is refused */
  char *body = malloc(4096), user[1100];
  memset(user, 'u', sizeof user);
  user[1023] = '\0';
  snprintf(body, 4096,
           "{\"checks\": [{\"user\": \"%s\", \"permission\": \"Alerts (manage)\", \"workload\": \"mdi\"}]}",
           user);
  expect_post(body, 200, "\"deny\""); /* an unknown user: denied, not an error */
  user[1023] = 'u';
  user[1024] = '\0';
  snprintf(body, 4096, "{\"checks\": [{\"user\": \"%s\"}]}", user);
  expect_post(body, 400, "longer than 1023 bytes");
  free(body);
  /* SRV_MAX_CHECKS questions are answered; one more is refused */
  const char *one = "{\"user\":\"ann\",\"permission\":\"Alerts (manage)\",\"workload\":\"mdi\"},";
  size_t len = strlen(one), cap = (SRV_MAX_CHECKS + 1) * len + 32;
  char *big = malloc(cap), *p = big;
  p += sprintf(p, "{\"checks\":[");
  for (size_t i = 0; i < SRV_MAX_CHECKS; i++, p += len)
    memcpy(p, one, len);
  strcpy(p - 1, "]}");
  answer a = post(big);
  assert_int_equal(a.status, 200);
  assert_int_equal(strlen(a.body), strlen("{\"decisions\":[],\"revision\":1}") + SRV_MAX_CHECKS * 8 - 1);
  answer_free(&a);
  p = big + strlen("{\"checks\":[") + SRV_MAX_CHECKS * len;
  memcpy(p - 1, ",", 1);
  memcpy(p, one, len);
  strcpy(p + len - 1, "]}");
  expect_post(big, 413, "\"target\":\"checks\"");
  free(big);
}

/* The same tenant as the fixture's with user zed, whom role r reaches. */
static void store_zed(fixture *f, urbac_store *st)
{
  (void)f;
  char yaml[sizeof fixture_tenant + 64];
  const char *users = strstr(fixture_tenant, "{id: cat}");
  assert_non_null(users);
  snprintf(yaml, sizeof yaml, "%.*s{id: cat}, {id: zed}%s", (int)(users - fixture_tenant), fixture_tenant,
           users + strlen("{id: cat}"));
  char *members = strstr(yaml, "members: [ann]");
  assert_non_null(members);
  memmove(members + strlen("members: [ann, zed]"), members + strlen("members: [ann]"),
          strlen(members + strlen("members: [ann]")) + 1);
  memcpy(members, "members: [ann, zed]", strlen("members: [ann, zed]"));
  fixture_store_tenant(st, yaml);
}

/* Two servers in one process, each with its own snapshot of tenant f: a thread's
 * cached parser is for one snapshot only. Their snapshots' generations were
 * counted per server, both 1, and the second server resolved zed with the first
 * one's parser (deny: zed is unknown there; once that server was gone, a use after free). */
static void test_two_servers(void **state)
{
  (void)state;
  const char *zed =
      "{\"checks\":[{\"user\":\"zed\",\"permission\":\"Alerts (manage)\",\"workload\":\"mdi\"}]}";
  expect_post("{\"checks\":[{\"user\":\"ann\",\"permission\":\"Alerts (manage)\",\"workload\":\"mdi\"}]}",
              200, "[\"allow\"]");
  fixture *other = fixture_new(store_zed);
  answer a = fixture_send(other, SRV_POST, CHECKS, PSK_AUTH, zed);
  EXPECT(a, 200, "[\"allow\"]");
  answer_free(&a);
  expect_post(zed, 200, "[\"deny\"]"); /* not in the first server's tenant */
  fixture_free(other);
  expect_post(zed, 200, "[\"deny\"]");
}

/* The change feed as the server collapses it (srv_feed_*): the last state of each
 * object, an object made again a delete then a put, and one made again and
 * deleted again a single delete; what it gives urbac_model_edit() applies. */
static void test_feed_collapse(void **state)
{
  (void)state;
  static const char *const changes[][3] = {
      {"user", "b", "{\"id\":\"b\"}"},                /* new */
      {"user", "a", NULL},                            /* deleted ... */
      {"user", "b", "{\"id\":\"b\",\"name\":\"B\"}"}, /* changed again: its last state */
      {"user", "a", "{\"id\":\"a\"}"},                /* ... made again: a delete, then a put */
      {"user", "c", NULL},                            /* deleted ... */
      {"user", "c", "{\"id\":\"c\"}"},                /* ... made again ... */
      {"user", "c", NULL},                            /* ... and deleted again: one delete */
  };
  static const char *const want[][2] = {
      {"b", "{\"id\":\"b\",\"name\":\"B\"}"}, {"a", NULL}, {"a", "{\"id\":\"a\"}"}, {"c", NULL}};
  srv_feed f = {NULL, 0, 0, json_object(), false};
  for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++)
    assert_int_equal(srv_feed_add(&f, i + 1, changes[i][0], changes[i][1], changes[i][2]), 0);
  size_t n = 0;
  urbac_object_put *puts = srv_feed_puts(&f, &n);
  assert_non_null(puts);
  assert_int_equal(n, sizeof want / sizeof want[0]);
  for (size_t i = 0; i < n; i++) {
    assert_string_equal(puts[i].id, want[i][0]);
    if (want[i][1])
      assert_string_equal(puts[i].json, want[i][1]);
    else
      assert_null(puts[i].json);
  }
  urbac_model *base = NULL, *next = NULL;
  const char *yaml = "urbac: 1\ntenant: t\nusers: [{id: a}, {id: c}]\n";
  assert_int_equal(urbac_tenant_load_buffer(yaml, strlen(yaml), "t.yaml", &base, NULL), URBAC_OK);
  assert_int_equal(urbac_model_edit(base, puts, n, &next, NULL), URBAC_OK);
  /* a and b remain, a made anew after b; c is gone */
  assert_string_equal(urbac_model_id(next, URBAC_OBJ_USER, 0), "");
  assert_string_equal(urbac_model_id(next, URBAC_OBJ_USER, 1), "");
  assert_string_equal(urbac_model_id(next, URBAC_OBJ_USER, 2), "b");
  assert_string_equal(urbac_model_id(next, URBAC_OBJ_USER, 3), "a");
  urbac_model_free(next);
  urbac_model_free(base);
  free(puts);
  srv_feed_free(&f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_answers_match_naive),
      cmocka_unit_test(test_members_skipped),
      cmocka_unit_test(test_errors_name_their_target),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_two_servers),
      cmocka_unit_test(test_feed_collapse),
  };
  return cmocka_run_group_tests_name("server/checks.c", tests, setup, teardown);
}
