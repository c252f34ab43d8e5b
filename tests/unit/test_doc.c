/*
 * tests/unit/test_doc.c - saving a tenant "like" the file it replaces
 * (src/io/doc.c): comments and key order kept.
 *
 * The property: take a random tenant's canonical text, put a comment above some
 * lines (indented as the line) and after others (one space after it), as a person
 * would; saving the loaded model like that text must give that text back byte for
 * byte, and the same tenant. The expected text is made by inserting comments into
 * the canonical form here, not by io/doc.c. Then the edge cases, each with its
 * expected text written out: CRLF, UTF-8 columns, tabs, a file that does not end
 * in a newline, text that is not YAML, JSON.
 */
#include "helpers.h"
#include "random_tenant.h"

static char *save_like(const urbac_model *m, urbac_format f, const char *like)
{
  char *out = NULL;
  size_t len = 0;
  assert_int_equal(urbac_tenant_save_buffer_like(m, f, like, like ? strlen(like) : 0, &out, &len, NULL),
                   URBAC_OK);
  assert_int_equal(strlen(out), len);
  return out;
}

static urbac_model *load(const char *text)
{
  urbac_model *m = NULL;
  urbac_diag *d = urbac_diag_new();
  urbac_err err = urbac_tenant_load_buffer(text, strlen(text), "t.yaml", &m, d);
  if (err) {
    char buf[1024];
    urbac_diag_format(d, 0, buf, sizeof buf);
    print_error("%s\n%s\n", buf, text);
  }
  assert_int_equal(err, URBAC_OK);
  urbac_diag_free(d);
  return m;
}

/* `canonical` with comments: "# above N" over some lines, " # after N" behind others. */
static size_t commented(const char *canonical, char *out, size_t cap)
{
  size_t len = 0, comments = 0;
  for (const char *line = canonical; *line;) {
    const char *end = strchr(line, '\n');
    size_t n = end ? (size_t)(end - line) : strlen(line), indent = strspn(line, " ");
    uint32_t r = rnd(4);
    if (r == 0)
      len += (size_t)snprintf(out + len, cap - len, "%*s# above %zu\n", (int)indent, "", comments++);
    len += (size_t)snprintf(out + len, cap - len, "%.*s", (int)n, line);
    if (r == 1)
      len += (size_t)snprintf(out + len, cap - len, " # after %zu", comments++);
    len += (size_t)snprintf(out + len, cap - len, "\n");
    line += n + (end != NULL);
  }
  assert_true(len < cap);
  return comments;
}

static void test_random_tenants_keep_their_comments(void **state)
{
  (void)state;
  size_t cap = 1 << 20, total = 0;
  char *y = malloc(cap), *with = malloc(cap);
  assert_non_null(y);
  assert_non_null(with);
  rng = 0xD1B54A32D192ED03ull;
  for (int i = 0; i < 200; i++) {
    int nu = 0, ndev = 0;
    random_tenant(y, cap, &nu, &ndev);
    urbac_model *m = load(y);
    char *canonical = NULL;
    assert_int_equal(urbac_tenant_save_buffer(m, URBAC_FORMAT_YAML, &canonical, NULL, NULL), URBAC_OK);
    total += commented(canonical, with, cap);
    urbac_model *again = load(with); /* comments change nothing in the tenant */
    char *kept = save_like(again, URBAC_FORMAT_YAML, with);
    if (strcmp(kept, with))
      print_error("tenant %d: expected\n%s\ngot\n%s\n", i, with, kept);
    assert_string_equal(kept, with);
    char *plain = save_like(m, URBAC_FORMAT_YAML, NULL);
    assert_string_equal(plain, canonical); /* no `like`: the canonical form */
    urbac_free(plain);
    urbac_free(kept);
    urbac_free(canonical);
    urbac_model_free(again);
    urbac_model_free(m);
  }
  print_message("200 random tenants, %zu comments kept in place\n", total);
  assert_true(total > 1000);
  free(y);
  free(with);
}

/* Each case: the file as written, and what saving its model like it must give. */
static void same_after_save(const char *file, urbac_format f, const char *want)
{
  urbac_model *m = load(file);
  char *got = save_like(m, f, file);
  if (strcmp(got, want))
    print_error("from\n%s\nexpected\n%s\ngot\n%s\n", file, want, got);
  assert_string_equal(got, want);
  char *again = save_like(m, f, got); /* a fixed point */
  assert_string_equal(again, got);
  urbac_free(again);
  urbac_free(got);
  urbac_model_free(m);
}

static void test_edges(void **state)
{
  (void)state;
  /* CRLF, a tab before a comment, UTF-8 before a comment (columns count characters) */
  same_after_save(
      "# head\r\nurbac: 1\r\ntenant: t\t# tab\r\nusers:\r\n- id: a\r\n  name: Zo\xc3\xab    # col 16\r\n",
      URBAC_FORMAT_YAML,
      "# head\nurbac: 1\ntenant: t # tab\nusers:\n- id: a\n  name: Zo\xc3\xab    # col 16\n"
      "workloads: {mde: legacy, mdo: legacy, mdi: legacy}\n");
  /* lone CR and NEL are line breaks too, as libyaml counts them */
  same_after_save("urbac: 1\r# above\rtenant: t  # cr\xc2\x85users: [{id: a}]\r", URBAC_FORMAT_YAML,
                  "urbac: 1\n# above\ntenant: t  # cr\nusers:\n- id: a\n"
                  "workloads: {mde: legacy, mdo: legacy, mdi: legacy}\n");
  /* no newline at the end; a comment after the last node; blank lines around comments */
  same_after_save("urbac: 1\n\n\n# the id\n\ntenant: t\nusers: [{id: a}]  # one\n\n# end", URBAC_FORMAT_YAML,
                  "urbac: 1\n\n# the id\n\ntenant: t\nusers:\n- id: a           # one\n"
                  "workloads: {mde: legacy, mdo: legacy, mdi: legacy}\n\n# end\n");
  /* key order kept, a key the file lacks after them; '#' in quoted scalars is text */
  same_after_save("tenant: t\nusers:\n- {name: \"a # b\", id: 'x #y'}\nurbac: 1\n", URBAC_FORMAT_YAML,
                  "tenant: t\nusers:\n- name: 'a # b'\n  id: 'x #y'\nurbac: 1\n"
                  "workloads: {mde: legacy, mdo: legacy, mdi: legacy}\n");
  /* a comment in a block scalar's header; one after a value that goes on over lines moves above it */
  same_after_save("urbac: 1\ntenant: t\nroles:\n- name: R\n  description: |   # after the indicator\n"
                  "    one\n    two\n  permissions: [Configuration \\ System settings (read)]\n",
                  URBAC_FORMAT_YAML,
                  "urbac: 1\ntenant: t\nroles:\n- name: R\n  # after the indicator\n  description: 'one\n\n"
                  "    two\n\n    '\n  permissions:\n  - Configuration \\ System settings (read)\n"
                  "  assignments: []\nworkloads: {mde: legacy, mdo: legacy, mdi: legacy}\n");
  same_after_save("urbac: 1\ntenant: t\nroles:\n- name: R\n  description: \"one\\ntwo\"   # two lines\n"
                  "  permissions: [Configuration \\ System settings (read)]\n",
                  URBAC_FORMAT_YAML,
                  "urbac: 1\ntenant: t\nroles:\n- name: R\n  # two lines\n  description: 'one\n\n"
                  "    two'\n  permissions:\n  - Configuration \\ System settings (read)\n"
                  "  assignments: []\nworkloads: {mde: legacy, mdo: legacy, mdi: legacy}\n");
  /* the identity provider's keys: comments kept, the scim mapping's keys in the file's order */
  same_after_save(
      "urbac: 1\ntenant: t\nusers:\n# the provisioned\n- id: a\n  managedBy: scim   # by Entra\n"
      "  externalId: X1    # object id\n  scim: {name: {b: 1, a: \"x\"}, emails: [{value: v}]}  # attrs\n",
      URBAC_FORMAT_YAML,
      "urbac: 1\ntenant: t\nusers:\n# the provisioned\n- id: a\n  managedBy: scim   # by Entra\n"
      "  externalId: X1    # object id\n  scim: {name: {b: 1, a: x}, emails: [{value: v}]}    # attrs\n"
      "workloads: {mde: legacy, mdo: legacy, mdi: legacy}\n");
  /* JSON: key order only */
  same_after_save("{\"tenant\": \"t\", \"urbac\": 1}", URBAC_FORMAT_JSON,
                  "{\n  \"tenant\": \"t\",\n  \"urbac\": 1,\n  \"workloads\": {\n    \"mde\": \"legacy\",\n"
                  "    \"mdo\": \"legacy\",\n    \"mdi\": \"legacy\"\n  }\n}\n");
}

/* What cannot shape the output leaves it canonical. */
static void test_not_a_document(void **state)
{
  (void)state;
  urbac_model *m = load("urbac: 1\ntenant: t\n");
  char *canonical = save_like(m, URBAC_FORMAT_YAML, NULL);
  const char *others[] = {"", "# only a comment\n", "[unclosed", "- a list\n", "a: &x 1\nb: *x\n"};
  for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
    char *got = save_like(m, URBAC_FORMAT_YAML, others[i]);
    assert_string_equal(got, canonical);
    urbac_free(got);
  }
  urbac_free(canonical);
  urbac_model_free(m);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_tenants_keep_their_comments),
      cmocka_unit_test(test_edges),
      cmocka_unit_test(test_not_a_document),
  };
  return cmocka_run_group_tests_name("tenant files saved like the file they replace", tests, NULL, NULL);
}
