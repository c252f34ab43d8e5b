/*
 * tests/unit/test_alloc.c - out of memory, everywhere (curl's torture mode).
 *
 * Loads, compiles, checks, explains, saves (also keeping its comments), edits
 * (urbac_model_edit() and urbac_snapshot_update()) and migrates the worked
 * example while failing the Nth allocation, for every N until a run needs no
 * failure; then, on the example loaded once, exports and imports Microsoft Graph
 * requests and responses (urbac_graph_export(), urbac_graph_import()) the same
 * way (a test of its own, so each stays quick under ASan): each run must
 * return URBAC_ENOMEM (or succeed) and leave no allocation of ours behind.
 */
#include "failing_alloc.h"
#include "helpers.h"

/* Impact with import, then import and activation, on a model loaded already. */
static int copy_first(void *ctx, const urbac_impact_row *row)
{
  *(urbac_impact_row *)ctx = *row;
  return 1;
}

/* Impact, import, activate, deactivate: each makes a new model from the one before. */
static urbac_err migrate(const urbac_model *m, urbac_diag *d)
{
  urbac_impact *im = NULL;
  urbac_import_report *r = NULL;
  urbac_model *imported = NULL, *active = NULL, *legacy = NULL;
  char before[512], after[512], *json = NULL;
  urbac_err err = urbac_impact_compute(m, 0, true, &im, d);
  if (!err && urbac_impact_count(im)) {
    urbac_impact_row first = {0};
    urbac_impact_rows(im, copy_first, &first);
    err = urbac_impact_explain(im, &first, before, after, sizeof before, d);
  }
  urbac_impact_free(im);
  if (!err)
    err = urbac_import(m, 0, &imported, &r, d);
  if (!err)
    err = urbac_import_report_json(r, &json, d);
  if (!err)
    err = urbac_activate(imported, 0, false, &active, d);
  if (!err)
    err = urbac_deactivate(active, 0, &legacy, d);
  urbac_free(json);
  urbac_import_report_free(r);
  urbac_model_free(imported);
  urbac_model_free(active);
  urbac_model_free(legacy);
  return err;
}

/* An edit of several kinds, and the snapshot updated to it. */
static urbac_err edit(const urbac_model *m, const urbac_snapshot *s, urbac_diag *d)
{
  urbac_object_put puts[] = {
      {"group", "contractors", "{\"id\":\"contractors\",\"members\":[\"dan\",\"fay\"]}"},
      {"user", "gil", "{\"id\":\"gil\"}"},
      {"user", "eve", "{\"id\":\"eve\",\"enabled\":false}"}};
  urbac_model *next = NULL;
  urbac_snapshot *snap = NULL;
  urbac_err err = urbac_model_edit(m, puts, 3, &next, d);
  if (!err)
    err = urbac_snapshot_update(s, next, &snap, d);
  urbac_snapshot_free(snap);
  urbac_model_free(next);
  return err;
}

/* The Graph requests of `m`, read back onto it and into a new tenant with users
 * (enough of them that the table of object ids grows: util/intern.c). */
static urbac_err graph(const urbac_model *m, urbac_diag *d)
{
  static const char users[] =
      "{\"@odata.context\": \"https://graph.microsoft.com/v1.0/$metadata#users\", "
      "\"value\": [{\"id\": \"87d349ed-44d7-43e1-9a83-5f2406dee5bd\", "
      "\"userPrincipalName\": \"ann\", \"accountEnabled\": false}, "
      "{\"id\": \"00000000-0000-4000-8000-000000000000\", \"userPrincipalName\": \"u00\"}, {\"id\": "
      "\"00000000-0000-4000-8000-000000000001\", \"userPrincipalName\": \"u01\"}, "
      "{\"id\": \"00000000-0000-4000-8000-000000000002\", \"userPrincipalName\": \"u02\"}, {\"id\": "
      "\"00000000-0000-4000-8000-000000000003\", \"userPrincipalName\": \"u03\"}, "
      "{\"id\": \"00000000-0000-4000-8000-000000000004\", \"userPrincipalName\": \"u04\"}, {\"id\": "
      "\"00000000-0000-4000-8000-000000000005\", \"userPrincipalName\": \"u05\"}, "
      "{\"id\": \"00000000-0000-4000-8000-000000000006\", \"userPrincipalName\": \"u06\"}, {\"id\": "
      "\"00000000-0000-4000-8000-000000000007\", \"userPrincipalName\": \"u07\"}, "
      "{\"id\": \"00000000-0000-4000-8000-000000000008\", \"userPrincipalName\": \"u08\"}, {\"id\": "
      "\"00000000-0000-4000-8000-000000000009\", \"userPrincipalName\": \"u09\"}, "
      "{\"id\": \"00000000-0000-4000-8000-000000000010\", \"userPrincipalName\": \"u10\"}, {\"id\": "
      "\"00000000-0000-4000-8000-000000000011\", \"userPrincipalName\": \"u11\"}"
      "]}";
  char *doc = NULL;
  size_t len = 0;
  urbac_model *onto = NULL, *fresh = NULL;
  urbac_graph_report *r1 = NULL, *r2 = NULL;
  urbac_err err = urbac_graph_export(m, &doc, &len, d);
  urbac_graph_file files[] = {{"export.json", doc, len}, {"users.json", users, sizeof users - 1}};
  if (!err)
    err = urbac_graph_import(m, NULL, files, 2, 0, &onto, &r1, d);
  if (!err)
    err = urbac_graph_import(NULL, "fresh", files, 2, 0, &fresh, &r2, d);
  urbac_graph_report_free(r1);
  urbac_graph_report_free(r2);
  urbac_model_free(onto);
  urbac_model_free(fresh);
  urbac_free(doc);
  return err;
}

/* The scenario; *reported is false when it failed without saying so in its diag. */
static urbac_err scenario(const char *yaml, bool *reported)
{
  urbac_model *m = NULL, *copy = NULL;
  urbac_snapshot *s = NULL;
  urbac_parser *p = NULL;
  urbac_explanation *e = NULL;
  char *out = NULL;
  size_t len;
  urbac_diag *d = urbac_diag_new();
  urbac_err err = d ? urbac_tenant_load_buffer(yaml, strlen(yaml), "w.yaml", &m, d) : URBAC_ENOMEM;
  if (!err)
    err = urbac_snapshot_compile(m, &s, d);
  if (!err && !(p = urbac_parser_new(s)))
    err = urbac_diag_add(d, URBAC_ENOMEM, NULL, 0, 0, NULL, "a parser: out of memory");
  urbac_query q;
  const char *line =
      "ann\tSecurity operations \\ Security data \\ Basic live response (manage)\tmde\tdevice:d2";
  if (!err)
    err = urbac_parse_query_line(p, line, strlen(line), &q, d);
  if (!err)
    err = urbac_explain(s, &q, &e, d);
  if (!err)
    err = urbac_tenant_save_buffer(m, URBAC_FORMAT_YAML, &out, &len, d);
  if (!err) { /* like the file read: its comments kept (io/doc.c) */
    urbac_free(out);
    out = NULL;
    err = urbac_tenant_save_buffer_like(m, URBAC_FORMAT_YAML, yaml, strlen(yaml), &out, &len, d);
  }
  if (!err)
    err = urbac_model_clone(m, &copy, d);
  if (!err)
    err = edit(m, s, d);
  if (!err)
    err = migrate(m, d);
  *reported = !d || (err ? urbac_diag_count(d) > 0 : urbac_diag_count(d) == 0);
  urbac_model_free(copy);
  urbac_free(out);
  urbac_explanation_free(e);
  urbac_parser_free(p);
  urbac_snapshot_free(s);
  urbac_model_free(m);
  urbac_diag_free(d);
  return err;
}

/* examples/worked.yaml into `yaml` (`size` bytes), NUL-terminated. */
static void read_example(char *yaml, size_t size)
{
  FILE *f = fopen(URBAC_EXAMPLES_DIR "/worked.yaml", "rb");
  assert_non_null(f);
  yaml[fread(yaml, 1, size - 1, f)] = '\0';
  fclose(f);
}

static void test_every_allocation_fails(void **state)
{
  (void)state;
  char yaml[65536];
  read_example(yaml, sizeof yaml);
  failing_alloc_on();
  long n, only = getenv("URBAC_FAIL_AT") ? atol(getenv("URBAC_FAIL_AT")) : 0;
  for (n = only ? only : 1;; n++) {
    alloc_fail_at = n;
    alloc_calls = 0;
    alloc_live = 0;
    bool reported = false;
    urbac_err err = scenario(yaml, &reported);
    if (!reported)
      print_error("allocation %ld failed: %s, but the diag does not say so\n", n, urbac_err_name(err));
    assert_true(reported);
    if (alloc_live != 0)
      print_error("allocation %ld failed: %ld allocations leaked\n", n, alloc_live);
    assert_int_equal(alloc_live, 0);
    if (only)
      break;
    if (alloc_calls < n) { /* nothing failed: the scenario needs fewer allocations */
      assert_int_equal(err, URBAC_OK);
      break;
    }
    if (err != URBAC_ENOMEM)
      print_error("allocation %ld failed: got %s\n", n, urbac_err_name(err));
    assert_int_equal(err, URBAC_ENOMEM);
  }
  failing_alloc_off();
  print_message("failed each of %ld allocations in turn\n", n - 1);
}

/* The Graph export and imports alone, on the example loaded before failing starts. */
static void test_graph_allocation_fails(void **state)
{
  (void)state;
  char yaml[65536];
  read_example(yaml, sizeof yaml);
  urbac_model *m = NULL;
  assert_int_equal(urbac_tenant_load_buffer(yaml, strlen(yaml), "w.yaml", &m, NULL), URBAC_OK);
  long n;
  for (n = 1;; n++) {
    failing_alloc_on();
    alloc_fail_at = n;
    urbac_diag *d = urbac_diag_new();
    urbac_err err = d ? graph(m, d) : URBAC_ENOMEM;
    bool reported = !d || (err ? urbac_diag_count(d) > 0 : urbac_diag_count(d) == 0);
    urbac_diag_free(d);
    long calls = alloc_calls, live = alloc_live;
    failing_alloc_off();
    if (!reported || live != 0)
      print_error("allocation %ld failed: %s, reported %d, %ld leaked\n", n, urbac_err_name(err), reported,
                  live);
    assert_true(reported);
    assert_int_equal(live, 0);
    if (calls < n) {
      assert_int_equal(err, URBAC_OK);
      break;
    }
    assert_int_equal(err, URBAC_ENOMEM);
  }
  urbac_model_free(m);
  print_message("graph: failed each of %ld allocations in turn\n", n - 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_allocation_fails),
                                     cmocka_unit_test(test_graph_allocation_fails)};
  return cmocka_run_group_tests_name("out of memory", tests, NULL, NULL);
}
