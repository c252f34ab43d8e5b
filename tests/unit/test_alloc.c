/*
 * tests/unit/test_alloc.c - out of memory, everywhere (curl's torture mode).
 *
 * Loads, compiles, checks, explains and saves the worked example while failing
 * the Nth allocation, for every N until a run needs no failure: each run must
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

static urbac_err migrate(urbac_model *m)
{
  urbac_impact *im = NULL;
  urbac_import_report *r = NULL;
  char before[512], after[512];
  urbac_err err = urbac_impact_compute(m, 0, true, &im);
  if (!err && urbac_impact_count(im)) {
    urbac_impact_row first = {0};
    urbac_impact_rows(im, copy_first, &first);
    err = urbac_impact_explain(im, &first, before, after, sizeof before);
  }
  urbac_impact_free(im);
  if (!err)
    err = urbac_import(m, 0, &r);
  urbac_import_report_free(r);
  if (!err)
    err = urbac_activate(m, 0, false, NULL, 0);
  return err;
}

static urbac_err scenario(const char *yaml)
{
  urbac_model *m = NULL;
  urbac_snapshot *s = NULL;
  urbac_parser *p = NULL;
  urbac_explanation *e = NULL;
  char *out = NULL, why[256];
  size_t len;
  urbac_diag *d = urbac_diag_new();
  urbac_err err = d ? urbac_tenant_load_buffer(yaml, strlen(yaml), "w.yaml", &m, d) : URBAC_ENOMEM;
  if (!err)
    err = urbac_snapshot_compile(m, &s, d);
  if (!err && !(p = urbac_parser_new(s)))
    err = URBAC_ENOMEM;
  urbac_query q;
  const char *line = "ann\tSecurity operations \\ Security data \\ Basic live response (manage)\tmde\tdevice:d2";
  if (!err)
    err = urbac_parse_query_line(p, line, strlen(line), &q, why, sizeof why);
  if (!err)
    err = urbac_explain(s, &q, &e);
  if (!err)
    err = urbac_tenant_save_buffer(m, URBAC_FORMAT_YAML, &out, &len);
  if (!err)
    err = migrate(m);
  urbac_free(out);
  urbac_explanation_free(e);
  urbac_parser_free(p);
  urbac_snapshot_free(s);
  urbac_model_free(m);
  urbac_diag_free(d);
  return err;
}

static void test_every_allocation_fails(void **state)
{
  (void)state;
  FILE *f = fopen(URBAC_EXAMPLES_DIR "/worked.yaml", "rb");
  assert_non_null(f);
  char yaml[65536];
  yaml[fread(yaml, 1, sizeof yaml - 1, f)] = '\0';
  fclose(f);
  failing_alloc_on();
  long n, only = getenv("URBAC_FAIL_AT") ? atol(getenv("URBAC_FAIL_AT")) : 0;
  for (n = only ? only : 1;; n++) {
    alloc_fail_at = n;
    alloc_calls = 0;
    alloc_live = 0;
    urbac_err err = scenario(yaml);
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

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_allocation_fails)};
  return cmocka_run_group_tests_name("out of memory", tests, NULL, NULL);
}
