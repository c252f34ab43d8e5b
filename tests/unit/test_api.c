/*
 * tests/unit/test_api.c - the contract include/urbac/ promises an embedder
 * (urbac/error.h, urbac/model.h):
 *  - every fallible public function reports a failure through the optional diag
 *    it takes last: the code it returns, a message, and where (file:line:column,
 *    a field path) when there is a where; given NULL it returns the same code and
 *    does not crash. Store calls carry the database's own message.
 *  - a question that does not parse, into a diag that holds no error yet,
 *    allocates nothing; a check never allocates.
 *  - import, activate and deactivate leave the model they are given as it was
 *    (what a snapshot compiled from it answers, and its saved text) and return a
 *    new model with the change.
 * The store runs on a real SQLite file.
 *
 * Depends on: the public API (urbac/urbac.h, urbac/store.h), SQLite (to break a
 * store's table), cmocka.
 */
#include <limits.h>
#include <sqlite3.h>
#include <unistd.h>

#include "failing_alloc.h"
#include "helpers.h"

static const char *legacy_all =
    "urbac: 1\ntenant: legacy\nusers: [{id: a}, {id: b}, {id: root, directoryRoles: [Global "
    "administrator]}]\n"
    "groups: [{id: g, members: [a]}, {id: h, members: [b]}]\n"
    "deviceGroups: [{id: d1, rank: 1, rules: {tags: {equals: [x]}}, userAccess: [g]}]\n"
    "devices: [{id: dev1, tags: [x]}]\n"
    "roles: [{name: Tier 1, permissions: [Response], assignments: [{name: t1, principals: [b], dataSources: "
    "[mdo]}]}]\n"
    "legacy:\n  mde: {roles: [{name: Tier 1, permissions: [Alerts investigation], groups: [g]}]}\n"
    "  mdo: {roleGroups: [{name: Quarantine, members: [a, group:h]}]}\n"
    "  mdi: {roles: [{name: MDI viewer, members: [b]}]}\n";

/* Calls `call_with` with NULL, then with a fresh diag `d`: the same code both
 * times, and the diag's first error carries code `first` and a message. Keeps the
 * diag in `last` for checks on the location. (A load returns URBAC_EINVAL for
 * "see the diag" and each error its own code: REPORTS_AS.) */
#define REPORTS(want, call_with) REPORTS_AS(want, want, call_with)
#define REPORTS_AS(want, first, call_with)                                                                   \
  do {                                                                                                       \
    urbac_diag *d = NULL;                                                                                    \
    assert_int_equal(call_with, want);                                                                       \
    d = urbac_diag_new();                                                                                    \
    assert_int_equal(call_with, want);                                                                       \
    assert_true(urbac_diag_count(d) >= 1);                                                                   \
    assert_int_equal(urbac_diag_get(d, 0)->code, first);                                                     \
    assert_true(strlen(urbac_diag_get(d, 0)->message) > 5);                                                  \
    last = d;                                                                                                \
  } while (0)

static urbac_diag *last; /* the diag of the last REPORTS, kept for location checks */

static void next(void)
{
  urbac_diag_free(last);
  last = NULL;
}

static void test_engine_calls_report(void **state)
{
  (void)state;
  urbac_grant g;
  size_t i;
  urbac_model *m = NULL, *out = NULL;
  urbac_impact *im = NULL;
  urbac_import_report *r = NULL;

  REPORTS(URBAC_EUNKNOWNPERM, urbac_catalog_resolve("Alertz (manage)", 15, &g, d));
  assert_non_null(strstr(urbac_diag_get(last, 0)->message, "did you mean"));
  next();
  REPORTS(URBAC_ELEVEL, urbac_catalog_resolve("Alerts (read)", 13, &g, d));
  next();
  REPORTS(URBAC_EUNKNOWNROLE,
          urbac_catalog_legacy_find(URBAC_LEGACY_DIRECTORY_ROLE, "Global admn", 11, &i, d));
  next();
  REPORTS(URBAC_EUNKNOWNPERM,
          urbac_catalog_legacy_find(URBAC_LEGACY_MDE_PERMISSION, "Alerts investigatio", 19, &i, d));
  next();
  REPORTS(URBAC_EINVAL, urbac_catalog_legacy_find((urbac_legacy_kind)9, "x", 1, &i, d));
  next();

  /* a tenant file: located to the column */
  const char *bad = "urbac: 1\ntenant: t\nusers: [{id: a, colour: red}]\n";
  REPORTS_AS(URBAC_EINVAL, URBAC_EUNKNOWNKEY, urbac_tenant_load_buffer(bad, strlen(bad), "bad.yaml", &m, d));
  assert_string_equal(urbac_diag_get(last, 0)->file, "bad.yaml");
  assert_int_equal(urbac_diag_get(last, 0)->line, 3);
  assert_true(urbac_diag_get(last, 0)->column > 1);
  next();
  REPORTS(URBAC_EIO, urbac_tenant_load_file("/nonexistent/t.yaml", &m, d));
  assert_string_equal(urbac_diag_get(last, 0)->file, "/nonexistent/t.yaml");
  next();
  assert_null(m);

  tenant t = tenant_load(legacy_all);
  REPORTS(URBAC_EIO, urbac_tenant_save_file(t.m, "/nonexistent/dir/t.yaml", URBAC_FORMAT_AUTO, d));
  assert_string_equal(urbac_diag_get(last, 0)->file, "/nonexistent/dir/t.yaml");
  next();

  /* a question: the field it is about, and in a line the column it starts at */
  urbac_query q;
  urbac_question qn = {urbac_str_of("a"), urbac_str_of("Response"), urbac_str_of("mdz"), {NULL, 0}};
  REPORTS(URBAC_EWORKLOAD, urbac_parse_query(t.p, &qn, &q, d));
  assert_string_equal(urbac_diag_get(last, 0)->path, "workload");
  next();
  const char *line = "a\tRespons\tmde";
  REPORTS(URBAC_EUNKNOWNPERM, urbac_parse_query_line(t.p, line, strlen(line), &q, d));
  assert_string_equal(urbac_diag_get(last, 0)->path, "permission");
  assert_int_equal(urbac_diag_get(last, 0)->column, 3);
  next();

  /* migration: an unknown workload index, a refused activation */
  REPORTS(URBAC_EWORKLOAD, urbac_import(t.m, 7, &out, &r, d));
  next();
  assert_null(out);
  assert_null(r);
  REPORTS(URBAC_EWORKLOAD, urbac_activate(t.m, 7, true, &out, d));
  next();
  REPORTS(URBAC_EWORKLOAD, urbac_deactivate(t.m, 7, &out, d));
  next();
  REPORTS(URBAC_EWORKLOAD, urbac_impact_compute(t.m, 7, true, &im, d));
  next();
  assert_null(out);
  assert_null(im);
  tenant_free(&t);
  tenant n = tenant_load("urbac: 1\ntenant: n\nusers: [{id: a}]\n");
  REPORTS(URBAC_EREFUSED, urbac_activate(n.m, 1, false, &out, d));
  assert_string_equal(urbac_diag_get(last, 0)->path, "workload");
  assert_non_null(strstr(urbac_diag_get(last, 0)->message,
                         "activating mdo would leave nobody able to manage authorization"));
  next();
  assert_null(out);
  tenant_free(&n);
}

/* ---------------------------------------------------------------- the store */

static char dbpath[64];

static void sql(const char *stmt)
{
  sqlite3 *h;
  assert_int_equal(sqlite3_open(dbpath, &h), SQLITE_OK);
  assert_int_equal(sqlite3_exec(h, stmt, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(h);
}

static int count_cb(void *ctx, const char *kind, const char *id, const char *json)
{
  (void)kind, (void)id, (void)json;
  ++*(size_t *)ctx;
  return 0;
}

static void test_store_calls_report(void **state)
{
  (void)state;
  urbac_store *s = NULL;
  urbac_model *m = NULL;
  const char *const *ids;
  size_t n, seen = 0;
  uint64_t rev, count, bad;
  char *json = NULL;
  int from, to;
  snprintf(dbpath, sizeof dbpath, "/tmp/urbac_test_api_%d.db", (int)getpid());
  unlink(dbpath);

  REPORTS(URBAC_EINVAL, urbac_store_open("ftp://x/y", URBAC_STORE_READ, &s, d));
  next();
  REPORTS(URBAC_ENOTFOUND, urbac_store_open(dbpath, URBAC_STORE_READ, &s, d));
  next();
  assert_int_equal(urbac_store_open(dbpath, URBAC_STORE_CREATE, &s, NULL), URBAC_OK);
  /* created but not initialised: every read says what to do */
  REPORTS(URBAC_ESCHEMA, urbac_store_tenants(s, &ids, &n, d));
  assert_non_null(strstr(urbac_diag_get(last, 0)->message, "urbac init"));
  next();
  REPORTS(URBAC_ESCHEMA, urbac_store_revision(s, "acme", &rev, d));
  next();
  assert_int_equal(urbac_store_migrate(s, &from, &to, NULL), URBAC_OK);

  /* a tenant that is not there: named */
  REPORTS(URBAC_ENOTFOUND, urbac_store_revision(s, "nope", &rev, d));
  assert_non_null(strstr(urbac_diag_get(last, 0)->message, "'nope'"));
  next();
  REPORTS(URBAC_ENOTFOUND, urbac_store_load(s, "nope", &m, &rev, d));
  next();
  REPORTS(URBAC_ENOTFOUND, urbac_store_get(s, "nope", "user", "a", &json, &rev, d));
  next();
  REPORTS(URBAC_ENOTFOUND, urbac_store_list(s, "nope", NULL, count_cb, &seen, d));
  next();
  REPORTS(URBAC_ENOTFOUND, urbac_store_audit_verify(s, "nope", &count, &bad, d));
  next();
  tenant t = tenant_load(legacy_all);
  urbac_write w = {"ann", "test_api", false, 0, NULL, NULL};
  assert_int_equal(urbac_store_apply(s, t.m, &w, &rev, NULL), URBAC_OK);
  REPORTS(URBAC_ENOTFOUND, urbac_store_get(s, "legacy", "user", "zed", &json, &rev, d));
  assert_string_equal(urbac_diag_get(last, 0)->path, "zed");
  next();
  assert_null(json);

  /* the database's own message reaches the caller: a read of a table that is gone */
  urbac_store_close(s);
  sql("DROP TABLE objects");
  assert_int_equal(urbac_store_open(dbpath, URBAC_STORE_WRITE, &s, NULL), URBAC_OK);
  REPORTS(URBAC_ESTORE, urbac_store_get(s, "legacy", "user", "a", &json, &rev, d));
  assert_non_null(strstr(urbac_diag_get(last, 0)->message, "no such table: objects"));
  next();
  REPORTS(URBAC_ESTORE, urbac_store_list(s, "legacy", "user", count_cb, &seen, d));
  assert_non_null(strstr(urbac_diag_get(last, 0)->message, "no such table: objects"));
  next();
  REPORTS(URBAC_ESTORE, urbac_store_load(s, "legacy", &m, &rev, d));
  assert_non_null(strstr(urbac_diag_get(last, 0)->message, "no such table: objects"));
  next();
  assert_int_equal(seen, 0);
  urbac_store_close(s);
  sql("DROP TABLE audit");
  assert_int_equal(urbac_store_open(dbpath, URBAC_STORE_WRITE, &s, NULL), URBAC_OK);
  REPORTS(URBAC_ESTORE, urbac_store_audit_verify(s, "legacy", &count, &bad, d));
  assert_non_null(strstr(urbac_diag_get(last, 0)->message, "no such table: audit"));
  next();
  urbac_store_close(s);
  tenant_free(&t);
  unlink(dbpath);
}

/* ---------------------------------------------------------------- allocation */

/* A question that does not parse, into a diag with no error yet, and every
 * check: not one allocation. */
static void test_check_path_allocates_nothing(void **state)
{
  (void)state;
  tenant t = tenant_load(legacy_all);
  urbac_diag *d = urbac_diag_new();
  urbac_query q;
  const char *lines[] = {
      "a\tResponse\tmde\tdevicegroup:d1", "a\tNope\tmde", "a\tResponse\tmdz", "b\tResponse\tmdo\tdevice:x",
      "a\tResponse\tmde\tdevice:nope",    "a\tResponse"};
  failing_alloc_on();
  alloc_calls = 0;
  alloc_fail_at = LONG_MAX; /* counts every call, fails none */
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    urbac_diag_clear(d);
    urbac_err err = urbac_parse_query_line(t.p, lines[i], strlen(lines[i]), &q, d);
    assert_int_equal(urbac_diag_count(d), err ? 1 : 0);
    if (!err)
      urbac_check(t.s, &q);
  }
  alloc_fail_at = 0;
  failing_alloc_off();
  assert_int_equal(alloc_calls, 0);
  urbac_diag_free(d);
  tenant_free(&t);
}

/* ---------------------------------------------------------------- models stay as they are */

/* Every answer `s` gives for workload `w` (all users, all grants, tenant-wide). */
static char *answers(const urbac_snapshot *s, size_t w)
{
  const urbac_model *m = urbac_snapshot_model(s);
  size_t nu = urbac_model_count(m, URBAC_OBJ_USER), ng = 0;
  while (urbac_catalog_perm(ng))
    ng++;
  char *out = calloc(nu * ng * 2 + 1, 1);
  size_t k = 0;
  for (uint32_t u = 0; u < nu; u++)
    for (size_t p = 0; p < ng; p++)
      for (unsigned level = URBAC_LEVEL_READ; level <= URBAC_LEVEL_MANAGE; level++) {
        char name[512];
        urbac_grant g = {(uint16_t)p, (uint8_t)level};
        urbac_grant_format(g, name, sizeof name);
        urbac_question qn = {urbac_str_of(urbac_model_id(m, URBAC_OBJ_USER, u)),
                             urbac_str_of(name),
                             urbac_str_of(urbac_catalog_workload_id(w)),
                             {NULL, 0}};
        urbac_parser *ps = urbac_parser_new(s);
        urbac_query q;
        if (urbac_parse_query(ps, &qn, &q, NULL) == URBAC_OK)
          out[k] = urbac_check(s, &q) ? 'A' : 'D';
        else
          out[k] = '-'; /* a level the permission does not have */
        k++;
        urbac_parser_free(ps);
      }
  return out;
}

static char *saved(const urbac_model *m)
{
  char *text = NULL;
  assert_int_equal(urbac_tenant_save_buffer(m, URBAC_FORMAT_YAML, &text, NULL, NULL), URBAC_OK);
  return text;
}

/* `m` still answers and reads as it did: `before` holds what its snapshot
 * answered on each workload, `text` its saved form. */
static void assert_unchanged(const tenant *t, char *const before[3], const char *text)
{
  for (size_t w = 0; w < 3; w++) {
    char *now = answers(t->s, w);
    assert_string_equal(now, before[w]);
    free(now);
  }
  char *again = saved(t->m);
  assert_string_equal(again, text);
  urbac_free(again);
}

static void test_import_and_activation_return_a_new_model(void **state)
{
  (void)state;
  tenant t = tenant_load(legacy_all);
  char *before[3], *text = saved(t.m);
  for (size_t w = 0; w < 3; w++)
    before[w] = answers(t.s, w);
  size_t roles = urbac_model_count(t.m, URBAC_OBJ_ROLE);

  /* import: the new model has the imported role, the old one is as it was */
  urbac_model *imported = NULL, *active = NULL, *legacy = NULL;
  urbac_import_report *r = NULL;
  assert_int_equal(urbac_import(t.m, 0, &imported, &r, NULL), URBAC_OK);
  assert_true(urbac_import_report_changed(r));
  assert_ptr_not_equal(imported, t.m);
  assert_int_equal(urbac_model_count(imported, URBAC_OBJ_ROLE), roles + 1);
  assert_int_equal(urbac_model_count(t.m, URBAC_OBJ_ROLE), roles);
  urbac_role_info info;
  assert_true(urbac_model_role(imported, roles, &info));
  assert_string_equal(info.imported_from, "Tier 1");
  assert_unchanged(&t, before, text);

  /* activate on the imported model: unified there, legacy still in both inputs */
  assert_int_equal(urbac_activate(imported, 0, false, &active, NULL), URBAC_OK);
  assert_int_equal(urbac_model_mode(active, 0), URBAC_MODE_UNIFIED);
  assert_int_equal(urbac_model_mode(imported, 0), URBAC_MODE_LEGACY);
  assert_int_equal(urbac_model_mode(t.m, 0), URBAC_MODE_LEGACY);
  assert_unchanged(&t, before, text);
  /* mdo activated (forced) on the original: its unified role now decides there */
  urbac_model *mdo = NULL;
  assert_int_equal(urbac_activate(t.m, 1, true, &mdo, NULL), URBAC_OK);
  urbac_snapshot *s = NULL;
  assert_int_equal(urbac_snapshot_compile(mdo, &s, NULL), URBAC_OK);
  char *mdo_answers = answers(s, 1);
  assert_string_not_equal(mdo_answers, before[1]);
  free(mdo_answers);
  urbac_snapshot_free(s);
  urbac_model_free(mdo);
  assert_unchanged(&t, before, text);

  /* deactivate: back to legacy in the new one; the unified one is untouched */
  assert_int_equal(urbac_deactivate(active, 0, &legacy, NULL), URBAC_OK);
  assert_int_equal(urbac_model_mode(legacy, 0), URBAC_MODE_LEGACY);
  assert_int_equal(urbac_model_mode(active, 0), URBAC_MODE_UNIFIED);
  assert_unchanged(&t, before, text);

  urbac_import_report_free(r);
  urbac_model_free(imported);
  urbac_model_free(active);
  urbac_model_free(legacy);
  for (size_t w = 0; w < 3; w++)
    free(before[w]);
  urbac_free(text);
  tenant_free(&t);
}

/* Every free of the API accepts NULL. */
static void test_frees_accept_null(void **state)
{
  (void)state;
  urbac_diag_free(NULL);
  urbac_diag_clear(NULL);
  urbac_model_free(NULL);
  urbac_snapshot_free(NULL);
  urbac_parser_free(NULL);
  urbac_explanation_free(NULL);
  urbac_import_report_free(NULL);
  urbac_impact_free(NULL);
  urbac_plan_free(NULL);
  urbac_store_close(NULL);
  urbac_free(NULL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_engine_calls_report),
      cmocka_unit_test(test_store_calls_report),
      cmocka_unit_test(test_check_path_allocates_nothing),
      cmocka_unit_test(test_import_and_activation_return_a_new_model),
      cmocka_unit_test(test_frees_accept_null),
  };
  return cmocka_run_group_tests_name("the embedder's contract", tests, NULL, NULL);
}
