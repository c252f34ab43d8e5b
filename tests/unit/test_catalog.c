/*
 * tests/unit/test_catalog.c - the catalog and name resolution (semantics.md
 * "The catalog", "Names"): every canonical name and level, every spelling
 * variant the seeds use, levels inside names and on ids, Graph actions and
 * wildcards, and "did you mean" for unknown names; and the catalog as Microsoft
 * ships it now (docs/catalog.md): each permission and data source added since the
 * seeds, Microsoft's spelling of the ids with urbac's older ones as aliases, group
 * actions, current level words and legacy names, and "Security settings".
 */
#include <unistd.h>

#include "catalog/catalog.h"
#include "helpers.h"
#include "io/objects.h"
#include "urbac/legacy.h"

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
      /* added since the seeds: Microsoft's "Permissions in Microsoft Defender unified RBAC" page */
      {"Security operations \\ Security data \\ File collection", URBAC_LEVEL_MANAGE},
      {"Security operations \\ Raw data (Email & collaboration) \\ Email & collaboration content: Emails "
       "associated with alerts",
       URBAC_LEVEL_READ},
      {"Security operations \\ Raw data (Email & collaboration) \\ Email & collaboration content: Quarantine "
       "Emails",
       URBAC_LEVEL_READ},
      {"Security posture \\ Posture management \\ Exposure Management",
       URBAC_LEVEL_READ | URBAC_LEVEL_MANAGE},
      {"Security posture \\ AI code scan \\ Run scan", URBAC_LEVEL_MANAGE},
      {"Security posture \\ AI code scan \\ Upload results", URBAC_LEVEL_MANAGE},
      {"Security posture \\ AI code scan \\ Scan results", URBAC_LEVEL_READ | URBAC_LEVEL_MANAGE},
      {"Configuration \\ Security settings \\ Core security settings", URBAC_LEVEL_READ | URBAC_LEVEL_MANAGE},
      {"Configuration \\ Security settings \\ Detection tuning", URBAC_LEVEL_MANAGE},
      {"Data operations \\ Data", URBAC_LEVEL_MANAGE},
      {"Data operations \\ Analytics jobs schedule", URBAC_LEVEL_READ | URBAC_LEVEL_MANAGE},
  };
  assert_int_equal(urbac_catalog_perm_count(), sizeof spec / sizeof spec[0]);
  for (size_t i = 0; i < sizeof spec / sizeof spec[0]; i++) {
    assert_string_equal(urbac_catalog_perm(i)->name, spec[i].name);
    assert_int_equal(urbac_catalog_perm(i)->levels, spec[i].levels);
    assert_int_equal(resolve_ok(spec[i].name).perm, i);
    assert_int_equal(resolve_ok(urbac_catalog_perm(i)->id).perm, i);
  }
  assert_int_equal(urbac_catalog_workload_count(), 6);
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
  /* secops read grants: basics, headers, content, and the two email contents added since */
  assert_int_equal(n, 5);
  p = "microsoft.xdr/*/manage";
  n = urbac__catalog_wildcard(p, strlen(p), &m);
  assert_int_equal(n, 22); /* 15 manage-only permissions and 7 with both levels */
  p = "microsoft.xdr/*";
  assert_int_equal(urbac__catalog_wildcard(p, strlen(p), &m), URBAC__NGRANTS);
  p = "microsoft.xdr/nothing/*";
  assert_int_equal(urbac__catalog_wildcard(p, strlen(p), &m), 0);
  p = "MICROSOFT.XDR/Configuration/*";
  assert_int_equal(urbac__catalog_wildcard(p, strlen(p), &m), 9); /* 4 with both levels, detection tuning */
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

/* ---------------------------------------------------------------- the catalog as Microsoft ships it now */

static urbac_err resolve_err(const char *text)
{
  urbac_grant g;
  return urbac_catalog_resolve(text, strlen(text), &g, NULL);
}

/* How many grants wildcard `p` gives, and that `perm` at `level` is one of them. */
static size_t wild(const char *p, urbac__gmask *m) { return urbac__catalog_wildcard(p, strlen(p), m); }

static bool wild_has(const char *p, const char *grant)
{
  urbac__gmask m;
  urbac_grant g = resolve_ok(grant);
  wild(p, &m);
  return urbac__gmask_has(&m, urbac__grant_index(g.perm, g.level));
}

/* Each permission added since the seeds, by every name Microsoft gives it: canonical
 * name, last segment, Microsoft's own spelling, its Graph action (observed in tenants
 * or urbac's own), with its levels; and a wildcard at each level of its id. */
static void test_new_permissions(void **state)
{
  (void)state;
  static const struct {
    const char *name, *leaf, *action, *wrong_level, *microsoft;
    unsigned level;
  } rows[] = {
      {"Security operations \\ Security data \\ File collection (manage)", "File collection (manage)",
       "microsoft.xdr/secops/securitydata/filecollection/manage", "File collection (read)",
       "Security operations \\ Security data \\ File collection", URBAC_LEVEL_MANAGE},
      {"Security operations \\ Raw data (Email & collaboration) \\ Email & collaboration content: Quarantine "
       "Emails (read)",
       "Email & collaboration content: Quarantine Emails",
       "microsoft.xdr/secops/rawdata/quarantineemailcontent/read",
       "Email & collaboration content: Quarantine Emails (manage)",
       "Security operations \\ Raw data (Email & collaboration) \\ Email & collaboration content: Quarantine "
       "Emails",
       URBAC_LEVEL_READ},
      {"Security operations \\ Raw data (Email & collaboration) \\ Email & collaboration content: Emails "
       "associated with alerts (read)",
       "Email & collaboration content: Emails associated with alerts (read)",
       "microsoft.xdr/secops/rawdata/alertemailcontent/read",
       "Email & collaboration content: Emails associated with alerts (manage)",
       "Security operations \\ Raw data (Email & collaboration) \\ Email & collaboration content: Emails "
       "associated with alerts",
       URBAC_LEVEL_READ},
      {"Security posture \\ Posture management \\ Exposure Management (manage)",
       "Exposure Management (manage)", "microsoft.xdr/securityposture/posturemanagement/securescore/manage",
       NULL, "Security posture \\ Posture management \\ Secure Score (manage)", URBAC_LEVEL_MANAGE},
      {"Security posture \\ Posture management \\ Exposure Management (read)", "exposure management (READ)",
       "microsoft.xdr/securityposture/posturemanagement/securescore/read", NULL,
       "Security posture \\ Posture management \\ Exposure Management (Read-only)", URBAC_LEVEL_READ},
      {"Security posture \\ AI code scan \\ Run scan (manage)", "Run scan",
       "microsoft.xdr/securityposture/aicodescan/runscan/manage", "Run scan (read)",
       "Security posture \\ AI code scan \\ Run scan", URBAC_LEVEL_MANAGE},
      {"Security posture \\ AI code scan \\ Upload results (manage)", "Upload results",
       "microsoft.xdr/securityposture/aicodescan/uploadresults/manage", "Upload results (read)",
       "Security posture \\ AI code scan \\ Upload results", URBAC_LEVEL_MANAGE},
      {"Security posture \\ AI code scan \\ Scan results (read)", "Scan results (read)",
       "microsoft.xdr/securityposture/aicodescan/scanresults/read", NULL,
       "Security posture \\ AI code scan \\ Scan results (Read-only)", URBAC_LEVEL_READ},
      {"Security posture \\ AI code scan \\ Scan results (manage)", "Scan results (manage)",
       "microsoft.xdr/securityposture/aicodescan/scanresults/manage", NULL,
       "Security posture \\ AI code scan \\ Scan results (manage)", URBAC_LEVEL_MANAGE},
      {"Configuration \\ Security settings \\ Core security settings (manage)",
       "Core security settings (manage)", "microsoft.xdr/configuration/security/core/manage", NULL,
       "Authorization and settings \\ Security settings \\ Core security settings (manage)",
       URBAC_LEVEL_MANAGE},
      {"Configuration \\ Security settings \\ Core security settings (read)", "Core security settings (read)",
       "microsoft.xdr/configuration/security/core/read", NULL,
       "Authorization and settings \\ Security settings \\ Core security settings (read)", URBAC_LEVEL_READ},
      {"Configuration \\ Security settings \\ Detection tuning (manage)", "Detection tuning",
       "microsoft.xdr/configuration/security/detectiontuning/manage", "Detection tuning (read)",
       "Authorization and settings\\Security settings \\ Detection tuning (manage)", URBAC_LEVEL_MANAGE},
      {"Data operations \\ Data (manage)", "Data (manage)",
       "microsoft.xdr/dataops/datamanagement/data/manage", "Data (read)", "Data operations \\ Data",
       URBAC_LEVEL_MANAGE},
      {"Data operations \\ Analytics jobs schedule (read)", "Analytics Jobs Schedule (read)",
       "microsoft.xdr/dataops/datamanagement/analyticsjobsschedule/read", NULL,
       "Data operations \\ Analytics Jobs Schedule (Read-only)", URBAC_LEVEL_READ},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    urbac_grant g = resolve_ok(rows[i].name);
    assert_true(g.perm >= 17); /* after the seed's seventeen */
    assert_int_equal(resolve_ok(rows[i].leaf).perm, g.perm);
    assert_int_equal(resolve_ok(rows[i].microsoft).perm, g.perm);
    urbac_grant a = resolve_ok(rows[i].action);
    assert_int_equal(a.perm, g.perm);
    assert_int_equal(a.level, rows[i].level);
    if (g.level != URBAC_LEVEL_NONE)
      assert_int_equal(g.level, rows[i].level);
    if (rows[i].wrong_level)
      assert_int_equal(resolve_err(rows[i].wrong_level), URBAC_ELEVEL);
    /* its action is what urbac_grant_action() writes for it */
    char buf[256];
    urbac_grant_action((urbac_grant){g.perm, (uint8_t)rows[i].level}, buf, sizeof buf);
    assert_string_equal(buf, rows[i].action);
    /* a wildcard at every level of the id matches it */
    char pat[256];
    snprintf(pat, sizeof pat, "%s", rows[i].action);
    for (char *slash = strrchr(pat, '/'); slash && slash > pat + 13; slash = strrchr(pat, '/')) {
      strcpy(slash, "/*");
      assert_true(wild_has(pat, rows[i].action));
      *slash = '\0';
    }
    assert_true(wild_has("microsoft.xdr/*", rows[i].action));
  }
  /* Microsoft's current names for the seed's permissions resolve to them */
  static const char *const renamed[][2] = {
      {"Security operations \\ Security data \\ Email & collaboration quarantine", "Email quarantine"},
      {"Security operations \\ Security data \\ Email & collaboration advanced actions",
       "Email advanced actions"},
      {"Security operations \\ Raw data (Email & collaboration) \\ Email & collaboration metadata",
       "Email message headers"},
      {"Security operations \\ Raw data (Email & collaboration) \\ Email & collaboration content",
       "Email content"},
      {"Authorization and settings \\ Authorization", "Configuration \\ Authorization"},
      {"Authorization and settings \\ System setting (read)", "Configuration \\ System settings (read)"},
      {"Authorization and settings \\ Security settings", "Configuration \\ Security settings"},
      {"Security operations \\ Security data \\ Security data basic", "Security data basics"},
  };
  for (size_t i = 0; i < sizeof renamed / sizeof renamed[0]; i++)
    assert_int_equal(resolve_ok(renamed[i][0]).perm, resolve_ok(renamed[i][1]).perm);
}

/* Microsoft's spelling of the seeds' ids (Graph's create example, tenants), urbac's
 * older ids kept as aliases, group actions and wildcards at every level. */
static void test_graph_ids(void **state)
{
  (void)state;
  static const char *const same[][2] = {
      {"microsoft.xdr/secops/securitydata/liveresponse-basic/manage", "Basic live response (manage)"},
      {"microsoft.xdr/secops/securitydata/basicliveresponse/manage", "Basic live response (manage)"},
      {"microsoft.xdr/secops/securitydata/liveresponse-advanced/manage", "Advanced live response (manage)"},
      {"microsoft.xdr/secops/securitydata/advancedliveresponse:manage", "Advanced live response (manage)"},
      {"microsoft.xdr/securityposture/posturemanagement/baselineassessmentprofiles/manage",
       "Security baselines assessment (manage)"},
      {"microsoft.xdr/secposture/posturemanagement/securitybaselinesassessment/manage",
       "Security baselines assessment (manage)"},
      {"microsoft.xdr/securityposture/posturemanagement/vulnerabilitymanagement/read",
       "Vulnerability management (read)"},
      {"microsoft.xdr/secposture/posturemanagement/vulnerabilitymanagement/read",
       "Vulnerability management (read)"},
      {"secposture/posturemanagement/exceptionhandling:manage", "Exception handling (manage)"},
      {"basicliveresponse:manage", "Basic live response (manage)"},
      {"liveresponse-basic:manage", "Basic live response (manage)"},
      {"microsoft.xdr/configuration/security/core/manage", "Core security settings (manage)"},
      {"microsoft.xdr/configuration/security/manage", "Configuration \\ Security settings (manage)"},
      /* a group action standing for one grant, as Defender for Identity's documentation writes it */
      {"microsoft.xdr/secops/securitydata/read", "Security data basics (read)"},
  };
  for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
    urbac_grant a = resolve_ok(same[i][0]), b = resolve_ok(same[i][1]);
    assert_int_equal(a.perm, b.perm);
    assert_int_equal(a.level, b.level);
  }
  urbac__gmask m, w;
  /* Graph's create example: a group action, every read grant of Security posture */
  assert_int_equal(wild("microsoft.xdr/securityposture/read", &m), 3);
  assert_int_equal(wild("microsoft.xdr/securityposture/*/read", &w), 3);
  assert_true(urbac__gmask_eq(&m, &w));
  assert_true(wild_has("microsoft.xdr/securityposture/read", "Vulnerability management (read)"));
  assert_true(wild_has("microsoft.xdr/securityposture/read", "Exposure Management (read)"));
  assert_true(wild_has("microsoft.xdr/securityposture/read", "Scan results (read)"));
  /* in a check it is no one permission */
  assert_int_equal(resolve_err("microsoft.xdr/securityposture/read"), URBAC_EUNKNOWNPERM);
  /* wildcards at every level, and the old spellings keep their meaning */
  assert_int_equal(wild("microsoft.xdr/securityposture/*/manage", &m), 8); /* 4 + exposure + 3 AI */
  assert_int_equal(wild("microsoft.xdr/securityposture/posturemanagement/*", &m), 7);
  assert_int_equal(wild("microsoft.xdr/secposture/*/manage", &m), 4); /* the seeds' four, as before */
  assert_int_equal(wild("microsoft.xdr/configuration/security/*/manage", &m), 2);
  assert_true(wild_has("microsoft.xdr/configuration/security/*/manage", "Detection tuning (manage)"));
  assert_int_equal(wild("microsoft.xdr/dataops/*", &m), 3);
  assert_int_equal(wild("microsoft.xdr/dataops/manage", &m), 2);
  assert_int_equal(wild("microsoft.xdr/secops/securitydata/*/manage", &m), 7);
  assert_int_equal(wild("microsoft.xdr/*/read", &w), URBAC__NGRANTS - 22);
  /* what is not a group action matches nothing */
  assert_int_equal(wild("microsoft.xdr/securityposture", &m), 0);
  assert_int_equal(wild("microsoft.xdr/nothing/read", &m), 0);
  assert_int_equal(wild("read", &m), 0);
}

/* Level words of Microsoft's current pages, and its current legacy names. */
static void test_current_words(void **state)
{
  (void)state;
  assert_int_equal(resolve_ok("Authorization and settings \\ Authorization (Read and manage)").level,
                   URBAC_LEVEL_ALL);
  assert_int_equal(resolve_ok("Configuration \\ System settings (Read-only)").level, URBAC_LEVEL_READ);
  assert_int_equal(resolve_ok("Configuration \\ System settings (read only)").level, URBAC_LEVEL_READ);
  assert_int_equal(resolve_ok("Exposure Management (Read / Manage)").level, URBAC_LEVEL_ALL);
  assert_int_equal(resolve_err("Alerts (Read-only)"), URBAC_ELEVEL);
  static const char *const mde[][2] = {
      {"Live response capabilities \xe2\x80\x93 Basic", "Live response capabilities"},
      {"Live response capabilities - Basic", "Live response capabilities"},
      {"Live response capabilities \xe2\x80\x93 Advanced", "Live response capabilities - advanced"},
      {"live response capabilities - advanced", "Live response capabilities - advanced"},
      {"View data - Defender Vulnerability Management", "View data - Threat and vulnerability management"},
      {"Active remediation actions - Defender Vulnerability Management - Exception handling",
       "remediate-tvm-exceptions"},
      {"Defender Vulnerability management - Manage security baselines assessment profiles", "tvm-baselines"},
      {"Manage endpoint security settings in Microsoft Intune", "endpoint-manager"},
  };
  for (size_t i = 0; i < sizeof mde / sizeof mde[0]; i++) {
    int a = find(URBAC_LEGACY_MDE_PERMISSION, mde[i][0]);
    assert_true(a >= 0);
    assert_int_equal(a, find(URBAC_LEGACY_MDE_PERMISSION, mde[i][1]));
  }
}

/* The data sources beyond the seeds' three: unified only, by id and appScopeId. */
static void test_new_workloads(void **state)
{
  (void)state;
  static const struct {
    const char *id, *app, *name;
    bool legacy;
  } rows[] = {
      {"mde", "Mde", "Microsoft Defender for Endpoint", true},
      {"mdo", "Mdo", "Microsoft Defender for Office 365", true},
      {"mdi", "Mdi", "Microsoft Defender for Identity", true},
      {"mda", "Mda", "Microsoft Defender for Cloud Apps", false},
      {"mdc", "Mdc", "Microsoft Defender for Cloud", false},
      {"exposure", "SecureScoreExternal", "Microsoft Security Exposure Management", false},
  };
  assert_int_equal(urbac_catalog_workload_count(), sizeof rows / sizeof rows[0]);
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    assert_string_equal(urbac_catalog_workload_id(i), rows[i].id);
    assert_string_equal(urbac_catalog_workload_app(i), rows[i].app);
    assert_string_equal(urbac_catalog_workload_name(i), rows[i].name);
    assert_int_equal(urbac_catalog_workload_has_legacy(i), rows[i].legacy);
    assert_int_equal(urbac_catalog_workload_find(rows[i].id), (int)i);
    assert_int_equal(urbac_catalog_workload_find(rows[i].app), (int)i);
  }
  assert_int_equal(urbac_catalog_workload_find("securescoreexternal"), 5);
  assert_null(urbac_catalog_workload_app(6));
  assert_false(urbac_catalog_workload_has_legacy(6));
  char buf[128];
  assert_int_equal(urbac_catalog_workload_list(buf, sizeof buf, false), 35);
  assert_string_equal(buf, "mde, mdo, mdi, mda, mdc or exposure");
  urbac_catalog_workload_list(buf, sizeof buf, true);
  assert_string_equal(buf, "mde, mdo or mdi");
  assert_int_equal(urbac_catalog_workload_list(buf, 8, false), 7);
  assert_string_equal(buf, "mde, md");
}

/* "Security settings" keeps its meaning on the current catalog: it grants both
 * permissions Microsoft split it into (read: Core security settings (read)); on the
 * seeds' catalog, and in the seeds' tables as written, it is the seeds' permission. */
static void test_security_settings(void **state)
{
  (void)state;
  urbac_grant ss = resolve_ok("Configuration \\ Security settings"),
              core = resolve_ok("Core security settings"), tune = resolve_ok("Detection tuning");
  unsigned core_r = urbac__grant_index(core.perm, URBAC_LEVEL_READ),
           core_m = urbac__grant_index(core.perm, URBAC_LEVEL_MANAGE),
           tune_m = urbac__grant_index(tune.perm, URBAC_LEVEL_MANAGE);
  urbac__gmask m = {0};
  urbac__gmask_add(&m, ss.perm, URBAC_LEVEL_ALL);
  assert_false(urbac__gmask_has(&m, core_r)); /* adding is not implying */
  urbac__gmask_imply(&m);
  assert_true(urbac__gmask_has(&m, core_r) && urbac__gmask_has(&m, core_m) && urbac__gmask_has(&m, tune_m));
  urbac__gmask again = m;
  urbac__gmask_imply(&again);
  assert_true(urbac__gmask_eq(&again, &m)); /* idempotent */
  memset(&m, 0, sizeof m);
  urbac__gmask_add(&m, ss.perm, URBAC_LEVEL_READ);
  urbac__gmask_imply(&m);
  assert_true(urbac__gmask_has(&m, core_r));
  assert_false(urbac__gmask_has(&m, core_m) || urbac__gmask_has(&m, tune_m));
  /* the other way round nothing is implied: today's two do not make the seeds' one */
  memset(&m, 0, sizeof m);
  urbac__gmask_add(&m, core.perm, URBAC_LEVEL_ALL);
  urbac__gmask_add(&m, tune.perm, URBAC_LEVEL_ALL);
  urbac__gmask_imply(&m);
  assert_false(urbac__gmask_has(&m, urbac__grant_index(ss.perm, URBAC_LEVEL_READ)));
  /* the tables: MDI user holds Security settings (All permissions) in the seed */
  urbac__tables seeds, current;
  assert_int_equal(urbac__tables_build(&seeds, NULL), URBAC_OK);
  assert_int_equal(urbac__tables_build_edition(&current, URBAC__EDITION_CURRENT, NULL), URBAC_OK);
  size_t user = 0;
  assert_int_equal(urbac_catalog_legacy_find(URBAC_LEGACY_MDI_ROLE, "MDI user", 8, &user, NULL), URBAC_OK);
  assert_false(urbac__gmask_has(&seeds.mdi[user], tune_m));
  assert_true(urbac__gmask_has(&current.mdi[user], tune_m) && urbac__gmask_has(&current.mdi[user], core_m));
  urbac__gmask_imply(&seeds.mdi[user]);
  assert_true(urbac__gmask_eq(&seeds.mdi[user], &current.mdi[user]));
}

/* Whether the explanation of `perm` for `user` on `wl` allows, as the check does. */
static bool explained(tenant *t, const char *user, const char *perm, const char *wl)
{
  urbac_query q = ask(t, user, perm, wl, "");
  urbac_explanation *e = NULL;
  assert_int_equal(urbac_explain(t->s, &q, &e, NULL), URBAC_OK);
  bool allow = urbac_explanation_allowed(e);
  urbac_explanation_free(e);
  return allow;
}

/* The two editions through the engine: a role, a legacy MDI role and a directory
 * role holding Security settings; on the current catalog each grants both of
 * today's permissions, on the seeds' none does; explain agrees with check; and
 * importing and activating mdi changes nothing in either. */
static void test_editions(void **state)
{
  (void)state;
  static const char body[] =
      "users: [{id: r}, {id: l}, {id: d, directoryRoles: [Security operator]}, {id: n}]\n"
      "roles:\n"
      "  - name: settings\n"
      "    permissions: ['Configuration \\ Security settings (manage)']\n"
      "    assignments: [{name: a, principals: [r], dataSources: [mda, mdo]}]\n"
      "legacy: {mdi: {roles: [{name: MDI user, members: [l]}]}}\n";
  for (int current = 0; current < 2; current++) {
    char yaml[2048];
    snprintf(yaml, sizeof yaml, "urbac: 1\ntenant: e\n%sworkloads: {mdo: unified}\n%s",
             current ? "catalog: current\n" : "", body);
    tenant t = tenant_load(yaml);
    static const struct {
      const char *user, *wl;
    } who[] = {{"r", "mda"}, {"r", "mdo"}, {"l", "mdi"}, {"d", "mdo"}, {"d", "exposure"}};
    for (size_t i = 0; i < sizeof who / sizeof who[0]; i++) {
      assert_true(allowed(&t, who[i].user, "Configuration \\ Security settings (manage)", who[i].wl, ""));
      bool tune = allowed(&t, who[i].user, "Detection tuning", who[i].wl, "");
      bool core = allowed(&t, who[i].user, "Core security settings (manage)", who[i].wl, "");
      assert_int_equal(tune, current);
      assert_int_equal(core, current);
      assert_int_equal(explained(&t, who[i].user, "Detection tuning", who[i].wl), current);
      assert_int_equal(explained(&t, who[i].user, "Core security settings (read)", who[i].wl), current);
    }
    /* not assigned there, and nobody else */
    assert_false(allowed(&t, "r", "Detection tuning", "mde", ""));
    assert_false(allowed(&t, "n", "Core security settings (read)", "mdi", ""));
    /* import and activation keep the decisions exactly */
    urbac_impact *im = NULL;
    assert_int_equal(urbac_impact_compute(t.m, 2, true, &im, NULL), URBAC_OK);
    assert_int_equal(urbac_impact_count(im), 0);
    urbac_impact_free(im);
    tenant_free(&t);
  }
}

/* `catalog: current` is part of the tenant wherever a tenant goes: as objects, in a
 * real SQLite store and back, and through an edit (put and delete of the "catalog"
 * object), the decisions following it. */
static void test_catalog_kept(void **state)
{
  (void)state;
  static const char yaml[] = "urbac: 1\ntenant: kept\ncatalog: current\nusers: [{id: u}]\n"
                             "roles: [{name: r, permissions: ['Configuration \\ Security settings'],\n"
                             "  assignments: [{name: a, principals: [u], dataSources: [mdc]}]}]\n";
  tenant t = tenant_load(yaml);
  assert_true(allowed(&t, "u", "Detection tuning", "mdc", ""));
  urbac__object *o = NULL;
  size_t n = 0;
  urbac_model *back = NULL;
  assert_int_equal(urbac__model_objects(t.m, &o, &n), URBAC_OK);
  assert_string_equal(o[0].kind, "catalog");
  assert_string_equal(o[0].body, "\"current\"");
  assert_int_equal(urbac__model_from_objects("kept", o, n, "objects", &back, NULL), URBAC_OK);
  assert_int_equal(back->edition, URBAC__EDITION_CURRENT);
  urbac_model_free(back);
  urbac__objects_free(o, n);
  /* a real SQLite store */
  char path[128];
  snprintf(path, sizeof path, "/tmp/urbac-test-catalog-%d.db", (int)getpid());
  urbac_store *st = NULL;
  int from, to;
  assert_int_equal(urbac_store_open(path, URBAC_STORE_CREATE, &st, NULL), URBAC_OK);
  assert_int_equal(urbac_store_migrate(st, &from, &to, NULL), URBAC_OK);
  urbac_write w = {"test", "test_catalog", false, 0, NULL, NULL};
  assert_int_equal(urbac_store_apply(st, t.m, &w, NULL, NULL), URBAC_OK);
  assert_int_equal(urbac_store_load(st, "kept", &back, NULL, NULL), URBAC_OK);
  assert_int_equal(back->edition, URBAC__EDITION_CURRENT);
  urbac_model_free(back);
  urbac_store_close(st);
  unlink(path);
  char side[160];
  snprintf(side, sizeof side, "%s-wal", path);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", path);
  unlink(side);
  /* edits: back to the seeds' catalog, and to the current one again */
  static const char *const bodies[] = {NULL, "\"current\"", "\"latest\""};
  for (size_t i = 0; i < 3; i++) {
    urbac_object_put put = {"catalog", "catalog", bodies[i]};
    urbac_model *next = NULL;
    urbac_snapshot *s = NULL;
    urbac_diag *d = urbac_diag_new();
    urbac_err err = urbac_model_edit(t.m, &put, 1, &next, d);
    if (i == 2) { /* refused, with the reason */
      assert_int_not_equal(err, URBAC_OK);
      assert_non_null(strstr(diag_msg(d), "catalog is seeds or current, not 'latest'"));
      urbac_diag_free(d);
      continue;
    }
    urbac_diag_free(d);
    assert_int_equal(err, URBAC_OK);
    assert_int_equal(urbac_snapshot_update(t.s, next, &s, NULL), URBAC_OK);
    urbac_parser *p = urbac_parser_new(s);
    urbac_query q;
    urbac_question question = {
        urbac_str_of("u"), urbac_str_of("Detection tuning"), urbac_str_of("mdc"), {NULL, 0}};
    assert_int_equal(urbac_parse_query(p, &question, &q, NULL), URBAC_OK);
    assert_int_equal(urbac_check(s, &q), bodies[i] != NULL);
    urbac_parser_free(p);
    urbac_snapshot_free(s);
    tenant_replace(&t, next);
  }
  tenant_free(&t);
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
      cmocka_unit_test(test_catalog_table),
      cmocka_unit_test(test_spelling_variants),
      cmocka_unit_test(test_levels),
      cmocka_unit_test(test_unknown_names),
      cmocka_unit_test(test_wildcards),
      cmocka_unit_test(test_grant_arithmetic),
      cmocka_unit_test(test_error_table),
      cmocka_unit_test(test_edit_distance),
      cmocka_unit_test(test_new_permissions),
      cmocka_unit_test(test_graph_ids),
      cmocka_unit_test(test_current_words),
      cmocka_unit_test(test_new_workloads),
      cmocka_unit_test(test_security_settings),
      cmocka_unit_test(test_editions),
      cmocka_unit_test(test_catalog_kept),
  };
  return cmocka_run_group_tests_name("catalog", tests, NULL, NULL);
}
