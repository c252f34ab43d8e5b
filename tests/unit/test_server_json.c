/*
 * tests/unit/test_server_json.c - src/server/json.c's helpers on their own:
 * response buffers, methods, request targets (segments, arguments, escapes,
 * limits), paging arguments and links, the one error shape, the status each
 * library error deserves, and JSON bodies with the place they break.
 *
 * Depends on: src/server/server.h (urbac_server), cmocka.
 */
#include "helpers.h"
#include "server/server.h"

static void test_buffers(void **state)
{
  (void)state;
  srv_buf b = {0};
  srv_buf_u64(&b, 0);
  srv_buf_puts(&b, " ");
  srv_buf_u64(&b, UINT64_MAX);
  srv_buf_put(&b, " xyz", 2);
  srv_buf_printf(&b, "|%05d|", 42);
  assert_string_equal(b.p, "0 18446744073709551615 x|00042|");
  assert_int_equal(b.len, strlen(b.p));
  char big[5000];
  memset(big, 'b', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  srv_buf_printf(&b, "%s", big); /* past the first capacity, by printf */
  assert_int_equal(b.len, 31 + 4999);
  assert_true(b.cap > b.len);
  assert_int_equal(b.p[b.len], '\0');
  srv_buf_free(&b);
  assert_null(b.p);
  assert_int_equal(b.len, 0);
}

static void test_methods(void **state)
{
  (void)state;
  static const char *const names[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
  for (int m = SRV_GET; m < SRV_OTHER; m++) {
    assert_int_equal(srv_method_parse(names[m]), m);
    assert_string_equal(srv_method_name((srv_method)m), names[m]);
  }
  assert_int_equal(srv_method_parse("get"), SRV_OTHER); /* methods are case-sensitive */
  assert_int_equal(srv_method_parse("HEAD"), SRV_OTHER);
  assert_int_equal(srv_method_parse(""), SRV_OTHER);
}

/* Parses a target into `req` (zeroed first); the scratch is freed by the caller. */
static bool target(srv_req *req, const char *path, const char *query, char **scratch)
{
  *req = (srv_req){0};
  *scratch = NULL;
  return srv_req_parse_target(req, path, query, scratch);
}

static void test_targets(void **state)
{
  (void)state;
  srv_req req;
  char *scratch;
  assert_true(target(&req, "/api/v1//tenants/a%2Fb/roles/x+y/", "k=v+w&e=&flag&%24top=5&x=a%26b", &scratch));
  assert_int_equal(req.nsegs, 6); /* empty segments and the trailing slash are skipped */
  assert_string_equal(req.segs[2], "tenants");
  assert_string_equal(req.segs[3], "a/b"); /* an escaped slash stays in its segment */
  assert_string_equal(req.segs[5], "x+y"); /* '+' is a space only in the query */
  assert_int_equal(req.nargs, 5);
  assert_string_equal(srv_arg_get(&req, "k"), "v w");
  assert_string_equal(srv_arg_get(&req, "e"), "");
  assert_string_equal(srv_arg_get(&req, "flag"), "");
  assert_string_equal(srv_arg_get(&req, "$top"), "5");
  assert_string_equal(srv_arg_get(&req, "x"), "a&b");
  assert_null(srv_arg_get(&req, "missing"));
  free(scratch);
  assert_true(target(&req, "/", NULL, &scratch));
  assert_int_equal(req.nsegs, 0);
  assert_int_equal(req.nargs, 0);
  free(scratch);
  /* refused: no leading slash, bad or NUL escapes, too many segments or arguments */
  static const char *const bad_paths[] = {"api", "", "/a%", "/a%4", "/a%G0", "/a%00b"};
  for (size_t i = 0; i < sizeof bad_paths / sizeof bad_paths[0]; i++) {
    assert_false(target(&req, bad_paths[i], NULL, &scratch));
    free(scratch);
  }
  assert_false(target(&req, "/a", "k=%zz", &scratch));
  free(scratch);
  assert_false(target(&req, "/a", "%00=1", &scratch));
  free(scratch);
  char path[256] = "", query[512] = "";
  for (int i = 0; i < SRV_MAX_SEGS; i++)
    strcat(path, "/s");
  assert_true(target(&req, path, NULL, &scratch));
  assert_int_equal(req.nsegs, SRV_MAX_SEGS);
  free(scratch);
  strcat(path, "/s");
  assert_false(target(&req, path, NULL, &scratch));
  free(scratch);
  for (int i = 0; i < SRV_MAX_ARGS; i++)
    strcat(query, "a=1&");
  assert_true(target(&req, "/a", query, &scratch));
  assert_int_equal(req.nargs, SRV_MAX_ARGS);
  free(scratch);
  strcat(query, "b=2");
  assert_false(target(&req, "/a", query, &scratch));
  free(scratch);
}

/* The page arguments of `query`: true, or false with the reply's body in *body. */
static bool page_args(const char *query, size_t *skip, size_t *top, char **body)
{
  srv_req req;
  srv_resp r = {0};
  char *scratch;
  assert_true(target(&req, "/x", query, &scratch));
  bool ok = srv_page_args(&req, &r, skip, top);
  if (!ok)
    assert_int_equal(r.status, 400);
  *body = strdup(r.body.p ? r.body.p : "");
  srv_buf_free(&r.body);
  free(scratch);
  return ok;
}

static void test_paging(void **state)
{
  (void)state;
  size_t skip, top;
  char *body;
  assert_true(page_args(NULL, &skip, &top, &body));
  assert_int_equal(skip, 0);
  assert_int_equal(top, SRV_PAGE_DEFAULT);
  free(body);
  assert_true(page_args("$top=10000&$skiptoken=123", &skip, &top, &body));
  assert_int_equal(top, 10000);
  assert_int_equal(skip, 123);
  free(body);
  static const char *const bad_top[] = {
      "$top=0", "$top=10001", "$top=", "$top=-1", "$top=1e3", "$top=99999999999999999999999"};
  for (size_t i = 0; i < sizeof bad_top / sizeof bad_top[0]; i++) {
    assert_false(page_args(bad_top[i], &skip, &top, &body));
    assert_string_equal(
        body,
        "{\"error\":{\"code\":\"badRequest\",\"message\":\"$top must be 1 to 10000\",\"target\":\"$top\"}}");
    free(body);
  }
  /* a skip token that is no offset, or one so large it would wrap around */
  static const char *const bad_skip[] = {"$skiptoken=abc", "$skiptoken=", "$skiptoken=20000000000000000000",
                                         "$skiptoken=4611686018427387904"};
  for (size_t i = 0; i < sizeof bad_skip / sizeof bad_skip[0]; i++) {
    if (page_args(bad_skip[i], &skip, &top, &body))
      print_error("%s accepted as skip %zu\n", bad_skip[i], skip);
    assert_non_null(strstr(body, "\"target\":\"$skiptoken\""));
    free(body);
  }
  assert_true(page_args("$skiptoken=4611686018427387903", &skip, &top, &body));
  assert_int_equal(skip, SIZE_MAX / 4);
  free(body);
}

static void test_next_link(void **state)
{
  (void)state;
  srv_req req;
  char *scratch;
  assert_true(
      target(&req, "/api/v1/tenants/t/roles", "filter=a%20b%26c&$top=5&$skiptoken=5&x=%C3%A9", &scratch));
  req.path = "/api/v1/tenants/t/roles";
  char *link = srv_next_link(&req, 10, 5);
  /* the other arguments kept and escaped again, the paging ones replaced */
  assert_string_equal(link, "/api/v1/tenants/t/roles?filter=a%20b%26c&x=%C3%A9&$top=5&$skiptoken=10");
  free(link);
  free(scratch);
  assert_true(target(&req, "/r", NULL, &scratch));
  req.path = "/r";
  link = srv_next_link(&req, 100, 100);
  assert_string_equal(link, "/r?$top=100&$skiptoken=100");
  free(link);
  free(scratch);
}

static void test_page(void **state)
{
  (void)state;
  srv_req req;
  srv_resp r = {0};
  char *scratch;
  assert_true(target(&req, "/r", "$top=2&$skiptoken=1", &scratch));
  req.path = "/r";
  srv_page_at(&req, &r, json_pack("[i, i, i, i]", 0, 1, 2, 3), 7);
  assert_int_equal(r.status, 200);
  assert_true(r.has_revision);
  assert_int_equal(r.revision, 7);
  assert_string_equal(r.body.p,
                      "{\"revision\":7,\"value\":[1,2],\"@odata.nextLink\":\"/r?$top=2&$skiptoken=3\"}");
  srv_buf_free(&r.body);
  free(scratch);
  /* the last page has no link; a skip past the end is an empty page */
  assert_true(target(&req, "/r", "$top=2&$skiptoken=2", &scratch));
  srv_page(&req, &r, json_pack("[i, i, i, i]", 0, 1, 2, 3), NULL);
  assert_string_equal(r.body.p, "{\"value\":[2,3]}");
  srv_buf_free(&r.body);
  free(scratch);
  assert_true(target(&req, "/r", "$skiptoken=9", &scratch));
  srv_page(&req, &r, json_pack("[i]", 0), NULL);
  assert_string_equal(r.body.p, "{\"value\":[]}");
  srv_buf_free(&r.body);
  free(scratch);
}

static void test_errors(void **state)
{
  (void)state;
  srv_resp r = {0};
  srv_error(&r, 404, "notFound", NULL, "no %s '%s'", "role", "x\"y");
  assert_int_equal(r.status, 404);
  /* no target: none in the reply (the OpenAPI Error's target is a string, not null) */
  assert_string_equal(r.body.p, "{\"error\":{\"code\":\"notFound\",\"message\":\"no role 'x\\\"y'\"}}");
  srv_buf_free(&r.body);
  struct {
    urbac_err err;
    unsigned status;
  } const statuses[] = {{URBAC_OK, 200},         {URBAC_ENOTFOUND, 404}, {URBAC_ECONFLICT, 412},
                        {URBAC_EDUPLICATE, 409}, {URBAC_EREFUSED, 409},  {URBAC_ELIMIT, 413},
                        {URBAC_ENOMEM, 500},     {URBAC_ESTORE, 500},    {URBAC_ETAMPERED, 500},
                        {URBAC_EDANGLING, 422},  {URBAC_ESYNTAX, 422},   {URBAC_EUNKNOWNPERM, 422}};
  for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
    assert_int_equal(srv_status_of(statuses[i].err), statuses[i].status);
  /* a library error without messages, then with: the first leads, the rest are details */
  srv_error_urbac(&r, URBAC_ECONFLICT, NULL, "If-Match");
  assert_int_equal(r.status, 412);
  assert_non_null(strstr(r.body.p, "\"code\":\"ECONFLICT\""));
  assert_non_null(strstr(r.body.p, "\"target\":\"If-Match\""));
  srv_buf_free(&r.body);
  urbac_diag *d = urbac_diag_new();
  urbac_diag_add(d, URBAC_EDANGLING, "body", 1, 9, "assignments[0].principals[1]", "unknown user 'zed'");
  urbac_diag_add(d, URBAC_EDUPLICATE, NULL, 0, 0, NULL, "second");
  srv_error_urbac(&r, URBAC_EINVAL, d, "role");
  assert_int_equal(r.status, 422);
  assert_string_equal(
      r.body.p, "{\"error\":{\"code\":\"EDANGLING\",\"message\":\"body:1:9: assignments[0].principals[1]: "
                "unknown user 'zed'\",\"target\":\"assignments[0].principals[1]\",\"details\":[{\"code\":"
                "\"EDUPLICATE\",\"message\":\"second\",\"target\":\"\"}]}}");
  srv_buf_free(&r.body);
  urbac_diag_free(d);
}

static json_t *body_object(const char *body, srv_resp *r)
{
  srv_req req = {.body = body, .body_len = body ? strlen(body) : 0};
  return srv_body_object(&req, r);
}

static void test_bodies(void **state)
{
  (void)state;
  srv_resp r = {0};
  json_t *j = body_object("{\"a\": [1, 2]}", &r);
  assert_non_null(j);
  assert_int_equal(json_array_size(json_object_get(j, "a")), 2);
  json_decref(j);
  assert_int_equal(r.status, 0); /* nothing replied */
  static const struct {
    const char *body, *message;
  } bad[] = {{NULL, "body:1:0: '[' or '{' expected near end of file"},
             {"{\"a\": 1,\n \"a\": 2}", "body:2:4: duplicate object key near '\\\"a\\\"'"},
             {"{\"a\":\n\n  tru}", "body:3:5: invalid token near 'tru'"},
             {"[1]", "the body must be a JSON object"},
             {"\"s\"", "body:1:3: '[' or '{' expected near '\\\"s\\\"'"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_null(body_object(bad[i].body, &r));
    assert_int_equal(r.status, 400);
    char want[256];
    snprintf(want, sizeof want, "\"message\":\"%s\",\"target\":\"body\"", bad[i].message);
    if (!strstr(r.body.p, want))
      print_error("%s\nwanted %s\n", r.body.p, want);
    assert_non_null(strstr(r.body.p, want));
    srv_buf_free(&r.body);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_buffers), cmocka_unit_test(test_methods),   cmocka_unit_test(test_targets),
      cmocka_unit_test(test_paging),  cmocka_unit_test(test_next_link), cmocka_unit_test(test_page),
      cmocka_unit_test(test_errors),  cmocka_unit_test(test_bodies),
  };
  return cmocka_run_group_tests_name("server/json.c", tests, NULL, NULL);
}
