/*
 * tests/unit/test_server_scim_filter.c - src/server/scim_filter.c alone: SCIM
 * filters (every operator, and/or/not, grouping, value filters, extension
 * schemas, the index's `eq` term), their errors with the column, the bounds, and
 * PATCH bodies as Microsoft's provisioning service sends them.
 *
 * Depends on: src/server/scim_filter.h (urbac_server), jansson, cmocka.
 */
#include "helpers.h"
#include "server/scim_filter.h"

static const char user_json[] =
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],"
    "\"id\":\"6c5b\",\"externalId\":\"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\",\"userName\":\"Test_User_"
    "ab6490ee\","
    "\"active\":true,\"displayName\":\"Alice\",\"nickName\":\"\",\"age\":41,"
    "\"emails\":[{\"primary\":true,\"type\":\"work\",\"value\":\"Test_User_fd0ea19b@testuser.com\"},"
    "{\"type\":\"home\",\"value\":\"alice@home.example\"}],"
    "\"name\":{\"givenName\":\"Alice\",\"familyName\":\"Example\"},"
    "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":{\"department\":\"SOC\","
    "\"manager\":{\"value\":\"boss\"}},"
    "\"meta\":{\"lastModified\":\"2026-11-30T10:00:00Z\"}}";

static json_t *user(void)
{
  json_t *j = json_loads(user_json, 0, NULL);
  assert_non_null(j);
  return j;
}

/* Parses `text` and matches it against the user; fails the test on a parse error. */
static bool matches(const char *text)
{
  scim_filter *f = NULL;
  scim_error e = {0};
  if (!scim_filter_parse(text, &f, &e))
    fail_msg("'%s': %s", text, e.detail);
  json_t *u = user();
  bool m = scim_filter_match(f, u);
  json_decref(u);
  scim_filter_free(f);
  return m;
}

static void test_operators(void **state)
{
  (void)state;
  assert_true(matches("userName eq \"test_user_ab6490ee\""));                      /* userName: any case */
  assert_false(matches("externalId eq \"0A21F0F2-8D2A-4F8E-BF98-7363C4AED4EF\"")); /* externalId: exact */
  assert_true(matches("externalId eq \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\""));
  assert_true(matches("USERNAME Eq \"Test_User_ab6490ee\""));
  assert_true(matches("userName ne \"bob\""));
  assert_false(matches("userName ne \"Test_User_ab6490ee\""));
  assert_true(matches("userName co \"user_AB\""));
  assert_true(matches("userName sw \"test\""));
  assert_true(matches("userName ew \"6490EE\""));
  assert_false(matches("userName ew \"x\""));
  assert_true(matches("displayName pr"));
  assert_false(matches("nickName pr")); /* empty is not present */
  assert_false(matches("title pr"));
  assert_true(matches("age gt 40 and age lt 42 and age ge 41 and age le 41"));
  assert_false(matches("age gt 41"));
  assert_true(matches("meta.lastModified gt \"2026-01-01T00:00:00Z\""));
  assert_false(matches("meta.lastModified lt \"2026-01-01T00:00:00Z\""));
  assert_true(matches("active eq true"));
  assert_false(matches("active eq false"));
  assert_true(matches("title eq null"));
  assert_false(matches("title ne null"));
}

static void test_logic_and_paths(void **state)
{
  (void)state;
  assert_true(matches("userName eq \"x\" or displayName eq \"alice\""));
  assert_false(matches("userName eq \"x\" and displayName eq \"alice\""));
  assert_true(matches("not (userName eq \"x\")"));
  assert_false(matches("not(displayName pr)"));
  assert_true(matches("(userName eq \"x\" or userName sw \"Test\") and (active eq true)"));
  assert_true(matches("emails[type eq \"work\"].value eq \"test_user_fd0ea19b@testuser.com\""));
  assert_false(matches("emails[type eq \"home\"].value eq \"Test_User_fd0ea19b@testuser.com\""));
  assert_true(matches("emails[type eq \"work\" and primary eq true]"));
  assert_false(matches("emails[type eq \"other\"]"));
  assert_true(matches("emails co \"home.example\"")); /* a complex attribute compares its value */
  assert_true(matches("emails.type eq \"home\""));
  assert_true(matches("name.familyName eq \"example\""));
  assert_true(matches("urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"Test\""));
  assert_true(matches("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"soc\""));
  assert_true(
      matches("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"boss\""));
  assert_true(matches("userName eq \"a \\\"quoted\\\" one\" or age eq 41"));
}

static void test_eq_term(void **state)
{
  (void)state;
  scim_filter *f = NULL;
  scim_error e;
  assert_true(scim_filter_parse("externalId eq \"abc\" and userName eq \"X\"", &f, &e));
  assert_string_equal(scim_filter_eq(f, "userName"), "X");
  assert_string_equal(scim_filter_eq(f, "externalid"), "abc");
  assert_null(scim_filter_eq(f, "displayName"));
  scim_filter_free(f);
  assert_true(scim_filter_parse("userName eq \"X\" or userName eq \"Y\"", &f, &e));
  assert_null(scim_filter_eq(f, "userName")); /* an or: no single value answers it */
  scim_filter_free(f);
  assert_true(scim_filter_parse("name.userName eq \"X\"", &f, &e));
  assert_null(scim_filter_eq(f, "userName"));
  scim_filter_free(f);
}

/* The filter fails with `type` and a detail holding `where`. */
static void refused(const char *text, const char *where)
{
  scim_filter *f = (scim_filter *)1;
  scim_error e = {0};
  assert_false(scim_filter_parse(text, &f, &e));
  assert_null(f);
  assert_int_equal(e.status, 400);
  assert_string_equal(e.scim_type, "invalidFilter");
  if (!strstr(e.detail, where))
    fail_msg("'%s': '%s' lacks '%s'", text, e.detail, where);
}

static void test_errors(void **state)
{
  (void)state;
  refused("", "column 1: expected an attribute name, found the end");
  refused("userName", "column 9: expected an operator");
  refused("userName eq", "column 12: expected a value");
  refused("userName xx \"a\"", "column 10: expected an operator");
  refused("userName eq \"a", "column 13: the string does not end");
  refused("userName eq \"a\" and", "column 20: expected an attribute name");
  refused("userName eq \"a\" xor b", "column 17: unexpected text");
  refused("(userName eq \"a\"", "column 17: expected ')'");
  refused("not userName pr", "column 5: expected '(' after not");
  refused("emails[type eq \"work\"", "column 22: expected ']'");
  refused("active gt true", "column 1: 'true/false' compares only with eq or ne");
  refused("userName eq {}", "column 13: expected a value");
  refused("1abc eq \"a\"", "column 1: expected an attribute name");
  refused("name.given.family eq \"a\"", "column 1: expected ATTRIBUTE");
  refused("userName eq \"a\nb\"", "column 15: a control character");
  char deep[200] = "";
  for (int i = 0; i < 20; i++)
    strcat(deep, "(");
  strcat(deep, "userName pr");
  refused(deep, "nested deeper than 16 levels");
  char many[SCIM_FILTER_MAX_LEN] = "userName pr";
  for (int i = 0; i < 200; i++)
    strcat(many, " or age pr");
  refused(many, "more than 256 comparisons");
  char *big = malloc(SCIM_FILTER_MAX_LEN + 10);
  memset(big, 'a', SCIM_FILTER_MAX_LEN + 9);
  big[SCIM_FILTER_MAX_LEN + 9] = '\0';
  refused(big, "longer than 4096 bytes");
  free(big);
}

/* Applies PATCH `body` to a copy of `resource` text; returns the copy (or NULL with *e). */
static json_t *patched(const char *resource, const char *body, scim_error *e)
{
  json_t *r = json_loads(resource, 0, NULL), *b = json_loads(body, 0, NULL);
  assert_non_null(r);
  assert_non_null(b);
  bool ok = scim_patch_apply(r, b, e);
  json_decref(b);
  if (!ok) {
    json_decref(r);
    return NULL;
  }
  return r;
}

static void assert_json(json_t *got, const char *want)
{
  json_t *w = json_loads(want, 0, NULL);
  assert_non_null(w);
  if (!json_equal(got, w)) {
    char *g = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);
    fail_msg("got %s\nwant %s", g, want);
  }
  json_decref(w);
  json_decref(got);
}

#define OPS(...)                                                                                             \
  "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":[" __VA_ARGS__ "]}"

static void test_patch_user(void **state)
{
  (void)state;
  scim_error e;
  /* Microsoft's tutorial: replace with a path-less value of paths, op in any case */
  json_t *r =
      patched("{\"userName\":\"a\",\"active\":true,\"emails\":[{\"type\":\"work\",\"value\":\"a@x\"}]}",
              OPS("{\"op\":\"Replace\",\"value\":{\"emails[type eq \\\"work\\\"].value\":\"b@x\","
                  "\"name.familyName\":\"F\",\"active\":false}}"),
              &e);
  assert_json(r, "{\"userName\":\"a\",\"active\":false,\"emails\":[{\"type\":\"work\",\"value\":\"b@x\"}],"
                 "\"name\":{\"familyName\":\"F\"}}");
  /* add of a filtered path with no element yet creates it from the filter */
  r = patched("{\"userName\":\"a\"}",
              OPS("{\"op\":\"Add\",\"path\":\"emails[type eq \\\"work\\\"].value\",\"value\":\"w@x\"},"
                  "{\"op\":\"add\",\"path\":\"name.givenName\",\"value\":\"G\"},"
                  "{\"op\":\"replace\",\"path\":\"userName\",\"value\":\"b\"}"),
              &e);
  assert_json(r, "{\"userName\":\"b\",\"emails\":[{\"type\":\"work\",\"value\":\"w@x\"}],\"name\":{"
                 "\"givenName\":\"G\"}}");
  /* the enterprise extension, by path and path-less; remove */
  r = patched("{\"userName\":\"a\",\"title\":\"t\"}",
              OPS("{\"op\":\"add\",\"value\":{\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":"
                  "{\"department\":\"D\"}}},"
                  "{\"op\":\"replace\",\"path\":\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
                  "employeeNumber\",\"value\":\"7\"},{\"op\":\"remove\",\"path\":\"title\"}"),
              &e);
  assert_json(r, "{\"userName\":\"a\",\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":"
                 "{\"department\":\"D\",\"employeeNumber\":\"7\"}}");
}

static void test_patch_members(void **state)
{
  (void)state;
  scim_error e;
  json_t *r = patched("{\"displayName\":\"g\",\"members\":[]}",
                      OPS("{\"op\":\"Add\",\"path\":\"members\",\"value\":[{\"$ref\":null,\"value\":\"u1\"},"
                          "{\"$ref\":null,\"value\":\"u2\"}]},"
                          "{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"u1\"}]}"),
                      &e);
  assert_json(r, "{\"displayName\":\"g\",\"members\":[{\"$ref\":null,\"value\":\"u1\"},{\"$ref\":null,"
                 "\"value\":\"u2\"}]}");
  r = patched("{\"members\":[{\"value\":\"u1\"}]}", /* repeats, in the list and against the group, once */
              OPS("{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"u3\"},{\"value\":\"u1\"},"
                  "{\"Value\":\"u3\"},{\"display\":\"no value\"},{\"display\":\"no value\"}]}"),
              &e);
  assert_json(r, "{\"members\":[{\"value\":\"u1\"},{\"value\":\"u3\"},{\"display\":\"no value\"}]}");
  r = patched("{\"members\":[{\"value\":\"u1\"},{\"value\":\"u2\"},{\"value\":\"u3\"}]}",
              OPS("{\"op\":\"Remove\",\"path\":\"members[value eq \\\"u2\\\"]\"},"
                  "{\"op\":\"remove\",\"path\":\"members\",\"value\":[{\"value\":\"u3\"}]}"),
              &e);
  assert_json(r, "{\"members\":[{\"value\":\"u1\"}]}");
  r = patched("{\"members\":[{\"value\":\"u1\"}]}", OPS("{\"op\":\"remove\",\"path\":\"members\"}"), &e);
  assert_json(r, "{}");
  r = patched("{\"displayName\":\"g\"}",
              OPS("{\"op\":\"replace\",\"value\":{\"id\":\"x\",\"displayName\":\"h\"}}"), &e);
  assert_json(r, "{\"displayName\":\"h\",\"id\":\"x\"}"); /* the endpoint refuses a changed id */
}

static void patch_refused(const char *body, const char *type, const char *where)
{
  scim_error e = {0};
  assert_null(patched("{\"userName\":\"a\",\"title\":\"t\"}", body, &e));
  assert_int_equal(e.status, 400);
  assert_string_equal(e.scim_type, type);
  if (!strstr(e.detail, where))
    fail_msg("'%s' lacks '%s'", e.detail, where);
}

static void test_patch_errors(void **state)
{
  (void)state;
  patch_refused("{\"Operations\":[]}", "invalidSyntax", "needs Operations");
  patch_refused("{\"schemas\":[\"x\"],\"Operations\":[{\"op\":\"add\"}]}", "invalidSyntax", "schemas");
  patch_refused(OPS("{\"op\":\"move\",\"path\":\"a\"}"), "invalidSyntax", "Operations[0]: op is");
  patch_refused(OPS("{\"op\":\"add\",\"path\":\"a\",\"value\":1},{\"op\":\"remove\"}"), "noTarget",
                "Operations[1]: remove needs a path");
  patch_refused(OPS("{\"op\":\"add\",\"path\":\"a\"}"), "invalidValue", "add needs a value");
  patch_refused(OPS("{\"op\":\"add\",\"value\":3}"), "invalidValue", "must be an object");
  patch_refused(OPS("{\"op\":\"add\",\"path\":\"emails[type eq\",\"value\":3}"), "invalidPath",
                "Operations[0]: path column 15");
  patch_refused(OPS("{\"op\":\"add\",\"path\":\"title.x\",\"value\":3}"), "invalidPath",
                "not a complex attribute");
  patch_refused(OPS("{\"op\":\"add\",\"path\":\"title[type eq \\\"a\\\"]\",\"value\":3}"), "invalidPath",
                "not multi-valued");
  patch_refused(OPS("{\"op\":\"add\",\"path\":7,\"value\":3}"), "invalidPath", "path is a string");
}

static void test_guid(void **state)
{
  (void)state;
  assert_true(scim_is_guid("0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"));
  assert_true(scim_is_guid("0A21F0F2-8D2A-4F8E-BF98-7363C4AED4EF"));
  assert_false(scim_is_guid("0a21f0f2-8d2a-4f8e-bf98-7363c4aed4e"));
  assert_false(scim_is_guid("0a21f0f2-8d2a-4f8e-bf98-7363c4aed4eff"));
  assert_false(scim_is_guid("0a21f0f28d2a-4f8e-bf98-7363c4aed4ef-"));
  assert_false(scim_is_guid(""));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_operators),    cmocka_unit_test(test_logic_and_paths),
      cmocka_unit_test(test_eq_term),      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_patch_user),   cmocka_unit_test(test_patch_members),
      cmocka_unit_test(test_patch_errors), cmocka_unit_test(test_guid),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
