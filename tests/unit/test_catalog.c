/*
 * tests/unit/test_catalog.c - the catalog and name resolution (semantics.md
 * "The catalog", "Names"): every canonical name and level, every spelling
 * variant the seeds use, levels inside names and on ids, Graph actions and
 * wildcards, and "did you mean" for unknown names.
 */
#include "catalog/catalog.h"
#include "helpers.h"

static int find(urbac_legacy_kind k, const char *text)
{
  size_t i = 0;
  return urbac_catalog_legacy_find(k, text, strlen(text), &i, NULL) ? -1 : (int)i;
}

static urbac_grant resolve_ok(const char *text)
{
  urbac_grant g;
  urbac_diag *d = urbac_diag_new();
  urbac_err err = urbac_catalog_resolve(text, strlen(text), &g, d);
  if (err)
    print_error("'%s': %s\n", text, diag_msg(d));
  urbac_diag_free(d);
  assert_int_equal(err, URBAC_OK);
  return g;
}

static void test_catalog_table(void **state)
{
  (void)state;
  /* semantics.md "The catalog", row by row */
  static const struct {
    const char *name;
    unsigned levels;
  } spec[] = {
      {"Security operations \\ Security data \\ Security data basics", URBAC_LEVEL_READ},
      {"Security operations \\ Security data \\ Alerts", URBAC_LEVEL_MANAGE},
      {"Security operations \\ Security data \\ Response", URBAC_LEVEL_MANAGE},
      {"Security operations \\ Security data \\ Basic live response", URBAC_LEVEL_MANAGE},
      {"Security operations \\ Security data \\ Advanced live response", URBAC_LEVEL_MANAGE},
      {"Security operations \\ Security data \\ Email quarantine", URBAC_LEVEL_MANAGE},
      {"Security operations \\ Security data \\ Email advanced actions", URBAC_LEVEL_MANAGE},
      {"Security operations \\ Raw data (Email & collaboration) \\ Email message headers", URBAC_LEVEL_READ},
      {"Security operations \\ Raw data (Email & collaboration) \\ Email content", URBAC_LEVEL_READ},
      {"Security posture \\ Posture management \\ Vulnerability management", URBAC_LEVEL_READ},
      {"Security posture \\ Posture management \\ Exception handling", URBAC_LEVEL_MANAGE},
      {"Security posture \\ Posture management \\ Remediation handling", URBAC_LEVEL_MANAGE},
      {"Security posture \\ Posture management \\ Application handling", URBAC_LEVEL_MANAGE},
      {"Security posture \\ Posture management \\ Security baselines assessment", URBAC_LEVEL_MANAGE},
      {"Configuration \\ Authorization", URBAC_LEVEL_READ | URBAC_LEVEL_MANAGE},
      {"Configuration \\ Security settings", URBAC_LEVEL_READ | URBAC_LEVEL_MANAGE},
      {"Configuration \\ System settings", URBAC_LEVEL_READ | URBAC_LEVEL_MANAGE},
  };
  assert_int_equal(urbac_catalog_perm_count(), sizeof spec / sizeof spec[0]);
  for (size_t i = 0; i < sizeof spec / sizeof spec[0]; i++) {
    assert_string_equal(urbac_catalog_perm(i)->name, spec[i].name);
    assert_int_equal(urbac_catalog_perm(i)->levels, spec[i].levels);
    assert_int_equal(resolve_ok(spec[i].name).perm, i);
    assert_int_equal(resolve_ok(urbac_catalog_perm(i)->id).perm, i);
  }
  assert_int_equal(urbac_catalog_workload_count(), 3);
  assert_string_equal(urbac_catalog_workload_id(0), "mde");
  assert_int_equal(urbac_catalog_workload_find("MDO"), 1);
  assert_int_equal(urbac_catalog_workload_find("Mdi"), 2);
  assert_int_equal(urbac_catalog_workload_find("mdx"), -1);
}

static void test_spelling_variants(void **state)
{
  (void)state;
  /* every pair semantics.md "Names" lists, and case / space / dash folding */
  static const char *const same[][2] = {
      {"Security operations \\ Basic live response",
       "Security operations \\ Security data \\ Basic live response"},
      {"Security operations \\ Advanced live response",
       "Security operations \\ Security data \\ Advanced live response"},
      {"Configuration \\ Security setting", "Configuration \\ Security settings"},
      {"Configuration \\ System setting", "Configuration \\ System settings"},
      {"Security posture \\ Posture management \\ Security baseline assessment",
       "Security posture \\ Posture management \\ Security baselines assessment"},
      {"Security operations\\ Security operations \\ Raw data (Email & collaboration) \\ Email content",
       "Security operations \\ Raw data (Email & collaboration) \\ Email content"},
      {"security OPERATIONS \\security data\\    alerts", "Security operations \\ Security data \\ Alerts"},
      {"Security posture \\ posture management \\ Remediation handling",
       "Security posture \\ Posture management \\ Remediation handling"},
      {"Security operations \\ Security data \\Security data basics",
       "Security operations \\ Security data \\ Security data basics"},
      {"Alerts", "Security operations \\ Security data \\ Alerts"},
  };
  for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
    assert_int_equal(resolve_ok(same[i][0]).perm, resolve_ok(same[i][1]).perm);
  /* dash variants in legacy names: en dash, em dash and hyphen are one */
  int a = find(URBAC_LEGACY_MDE_PERMISSION,
               "Vulnerability management \xe2\x80\x93 Manage security baselines assessment profiles");
  int b = find(URBAC_LEGACY_MDE_PERMISSION,
               "vulnerability management - manage security baselines assessment profiles");
  int c = find(URBAC_LEGACY_MDE_PERMISSION,
               "Vulnerability management \xe2\x80\x94 Manage security baselines assessment profiles");
  assert_true(a >= 0);
  assert_int_equal(a, b);
  assert_int_equal(a, c);
  assert_true(find(URBAC_LEGACY_DIRECTORY_ROLE, "Billing administrator") >= 0);
  assert_int_equal(find(URBAC_LEGACY_DIRECTORY_ROLE, "Billing admin"),
                   find(URBAC_LEGACY_DIRECTORY_ROLE, "billing ADMINISTRATOR"));
  assert_true(find(URBAC_LEGACY_DIRECTORY_ROLE, "62e90394-69f5-4237-9190-012177145e10") >= 0);
}

static void test_levels(void **state)
{
  (void)state;
  assert_int_equal(resolve_ok("Security operations \\ Security data \\ Alerts (manage)").level,
                   URBAC_LEVEL_MANAGE);
  assert_int_equal(resolve_ok("Configuration \\ Authorization \\ (All permissions)").level, URBAC_LEVEL_ALL);
  assert_int_equal(resolve_ok("Configuration \\ Authorization (read)").level, URBAC_LEVEL_READ);
  assert_int_equal(resolve_ok("Configuration \\ Authorization").level, URBAC_LEVEL_NONE);
  assert_int_equal(resolve_ok("microsoft.xdr/configuration/authorization:manage").level, URBAC_LEVEL_MANAGE);
  assert_int_equal(resolve_ok("microsoft.xdr/configuration/authorization/read").level, URBAC_LEVEL_READ);
  assert_int_equal(resolve_ok("microsoft.xdr/secops/securitydata/basics/read").level, URBAC_LEVEL_READ);
  assert_int_equal(resolve_ok("microsoft.xdr/secops/securitydata/alerts/manage").perm,
                   resolve_ok("Security operations \\ Security data \\ Alerts").perm);
  assert_int_equal(resolve_ok("microsoft.xdr/secops/securitydata/response/manage").perm,
                   resolve_ok("Response").perm);
  assert_int_equal(resolve_ok("microsoft.xdr/configuration/security/manage").perm,
                   resolve_ok("Configuration \\ Security settings").perm);
  assert_int_equal(resolve_ok("microsoft.xdr/configuration/system/read").perm,
                   resolve_ok("Configuration \\ System settings").perm);
  /* a level the permission does not have is an error, not a deny */
  urbac_grant g;
  urbac_diag *d = urbac_diag_new();
  assert_int_equal(urbac_catalog_resolve("Alerts (read)", 13, &g, d), URBAC_ELEVEL);
  assert_non_null(strstr(diag_msg(d), "manage only"));
  assert_int_equal(urbac_catalog_resolve("Security data basics:manage", 27, &g, NULL), URBAC_ELEVEL);
  urbac_diag_free(d);
}

static void test_unknown_names(void **state)
{
  (void)state;
  urbac_grant g;
  size_t i;
  urbac_diag *d = urbac_diag_new();
  const char *t = "Security operations \\ Security data \\ Alert";
  assert_int_equal(urbac_catalog_resolve(t, strlen(t), &g, d), URBAC_EUNKNOWNPERM);
  assert_non_null(strstr(diag_msg(d), "did you mean 'Security operations \\ Security data \\ Alerts'"));
  assert_int_equal(urbac_catalog_resolve("", 0, &g, NULL), URBAC_EUNKNOWNPERM);
  assert_int_equal(urbac_catalog_resolve("   ", 3, &g, NULL), URBAC_EUNKNOWNPERM);
  urbac_diag_clear(d);
  assert_int_equal(urbac_catalog_legacy_find(URBAC_LEGACY_EOP_ROLE_GROUP, "Quarantin", 9, &i, d),
                   URBAC_EUNKNOWNROLE);
  assert_non_null(strstr(diag_msg(d), "'Quarantine'"));
  urbac_diag_clear(d);
  assert_int_equal(urbac_catalog_legacy_find(URBAC_LEGACY_MDI_ROLE, "MDI admn", 8, &i, d),
                   URBAC_EUNKNOWNROLE);
  assert_non_null(strstr(diag_msg(d), "'MDI admin'"));
  char huge[5000];
  memset(huge, 'a', sizeof huge);
  assert_int_equal(urbac_catalog_resolve(huge, sizeof huge, &g, NULL), URBAC_EUNKNOWNPERM);
  urbac_diag_free(d);
}

/* The textbook full table (Wagner-Fischer), written apart from the library's
 * bit-vector form: one row of at most 513 cells. */
static size_t levenshtein(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b), row[513];
  for (size_t j = 0; j <= lb; j++)
    row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j], v = diag + (a[i - 1] != b[j - 1]);
      v = up + 1 < v ? up + 1 : v;
      v = row[j - 1] + 1 < v ? row[j - 1] + 1 : v;
      row[j] = v;
      diag = up;
    }
  }
  return row[lb];
}

/* urbac__edit_distance against the full table: random texts from a small
 * alphabet (so they share much) of every length up to NORM_MAX, across the
 * 64-character blocks, each cap, and either text the longer. */
static void test_edit_distance(void **state)
{
  (void)state;
  static const char alphabet[] = "ab \\c-";
  char a[513], b[513];
  unsigned seed = 15;
  assert_int_equal(urbac__edit_distance("kitten", "sitting", 64), 3);
  assert_int_equal(urbac__edit_distance("", "json", 64), 4);
  assert_int_equal(urbac__edit_distance("alerts", "alerts", 64), 0);
  assert_int_equal(urbac__edit_distance("kitten", "sitting", 3), 3);
  assert_int_equal(urbac__edit_distance("kitten", "sitting", 2), 2);
  for (int round = 0; round < 3000; round++) {
    size_t la = (size_t)rand_r(&seed) % (round < 2000 ? 140 : 513),
           lb = round % 3 ? la + (size_t)rand_r(&seed) % 9 - 4 : (size_t)rand_r(&seed) % 513;
    lb = lb > 512 ? 512 : lb;
    for (size_t i = 0; i < la; i++)
      a[i] = alphabet[(size_t)rand_r(&seed) % (sizeof alphabet - 1)];
    a[la] = '\0';
    for (size_t i = 0; i < lb; i++) /* mostly a copy of `a` with edits */
      b[i] = i < la && rand_r(&seed) % 5 ? a[i] : alphabet[(size_t)rand_r(&seed) % (sizeof alphabet - 1)];
    b[lb] = '\0';
    size_t want = levenshtein(a, b), cap = round % 2 ? 600 : (size_t)rand_r(&seed) % 80 + 1;
    size_t got = urbac__edit_distance(a, b, cap);
    if (got != (want < cap ? want : cap))
      fail_msg("round %d: |a| %zu |b| %zu cap %zu: %zu, the table says %zu", round, la, lb, cap, got, want);
    assert_int_equal(urbac__edit_distance(b, a, cap), got);
  }
  memset(a, 'x', 512);
  a[512] = '\0';
  assert_int_equal(urbac__edit_distance(a, "x", 1000), 511);
}

static void test_wildcards(void **state)
{
  (void)state;
  urbac__gmask m;
  const char *p = "microsoft.xdr/secops/*/read";
  size_t n = urbac__catalog_wildcard(p, strlen(p), &m);
  /* secops read grants: basics, headers, content */
  assert_int_equal(n, 3);
  p = "microsoft.xdr/*/manage";
  n = urbac__catalog_wildcard(p, strlen(p), &m);
  assert_int_equal(n, 13); /* 10 manage-only permissions and 3 with both levels */
  p = "microsoft.xdr/*";
  assert_int_equal(urbac__catalog_wildcard(p, strlen(p), &m), URBAC__NGRANTS);
  p = "microsoft.xdr/nothing/*";
  assert_int_equal(urbac__catalog_wildcard(p, strlen(p), &m), 0);
  p = "MICROSOFT.XDR/Configuration/*";
  assert_int_equal(urbac__catalog_wildcard(p, strlen(p), &m), 6);
}

static void test_grant_arithmetic(void **state)
{
  (void)state;
  urbac__gmask m = {0};
  urbac_grant auth = resolve_ok("Configuration \\ Authorization");
  urbac__gmask_add(&m, auth.perm, URBAC_LEVEL_MANAGE);
  assert_true(urbac__gmask_has(&m, urbac__grant_index(auth.perm, URBAC_LEVEL_READ)));
  assert_true(urbac__gmask_has(&m, urbac__grant_index(auth.perm, URBAC_LEVEL_MANAGE)));
  memset(&m, 0, sizeof m);
  urbac__gmask_add(&m, auth.perm, URBAC_LEVEL_READ);
  assert_false(urbac__gmask_has(&m, urbac__grant_index(auth.perm, URBAC_LEVEL_MANAGE)));
  assert_int_equal(urbac__grant_index(resolve_ok("Alerts").perm, URBAC_LEVEL_READ), URBAC__NO_GRANT);
  char buf[256];
  urbac_grant_action((urbac_grant){auth.perm, URBAC_LEVEL_READ}, buf, sizeof buf);
  assert_string_equal(buf, "microsoft.xdr/configuration/authorization/read");
  /* every grant's action resolves back to itself */
  for (unsigned g = 0; g < URBAC__NGRANTS; g++) {
    urbac_grant_action(urbac__grant_of(g), buf, sizeof buf);
    urbac_grant r = resolve_ok(buf);
    assert_int_equal(urbac__grant_index(r.perm, r.level), g);
    urbac_grant_format(urbac__grant_of(g), buf, sizeof buf);
    r = resolve_ok(buf);
    assert_int_equal(urbac__grant_index(r.perm, r.level), g);
  }
}

static void test_error_table(void **state)
{
  (void)state;
  assert_string_equal(urbac_err_name(URBAC_ECYCLE), "ECYCLE");
  assert_string_equal(urbac_strerror(URBAC_OK), "success");
  assert_string_equal(urbac_err_name((urbac_err)999), "EUNKNOWN");
  urbac_diag *d = urbac_diag_new();
  urbac__diag_add(d, URBAC_EDANGLING, "f.yaml", 3, 7, "groups[0].members[1]", "names unknown user '%s'", "x");
  char buf[256];
  urbac_diag_format(d, 0, buf, sizeof buf);
  assert_string_equal(buf, "f.yaml:3:7: groups[0].members[1]: names unknown user 'x'");
  for (int i = 0; i < 2000; i++)
    urbac__diag_add(d, URBAC_EINVAL, NULL, 0, 0, NULL, "many");
  assert_int_equal(urbac_diag_count(d), 2001); /* counted, though only the first 1000 are kept */
  assert_null(urbac_diag_get(d, 1500));
  urbac_diag_free(d);
  urbac_diag_free(NULL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_catalog_table), cmocka_unit_test(test_spelling_variants),
      cmocka_unit_test(test_levels),        cmocka_unit_test(test_unknown_names),
      cmocka_unit_test(test_wildcards),     cmocka_unit_test(test_grant_arithmetic),
      cmocka_unit_test(test_error_table),   cmocka_unit_test(test_edit_distance),
  };
  return cmocka_run_group_tests_name("catalog", tests, NULL, NULL);
}
