/*
 * tests/unit/test_prop.c - the compiled engine against a deliberately naive
 * evaluator, on thousands of random tenants and every question about them.
 *
 * The naive evaluator (naive.c) walks the model the way semantics.md words the
 * rules, independently of src/engine. Explain's own conclusion is compared with
 * the decision too.
 */
#include "helpers.h"
#include "model/model.h"
#include "naive.h"

bool urbac__explanation_found(const urbac_explanation *e);

#include "random_tenant.h"

static void compare_all(tenant *t, int nusers, int ndevices, size_t *checks)
{
  naive *n = naive_new(t->m);
  assert_non_null(n);
  char scopes[16][32];
  size_t ns = 0;
  snprintf(scopes[ns++], 32, "all");
  snprintf(scopes[ns++], 32, "any");
  for (size_t d = 0; d < urbac_model_count(t->m, URBAC_OBJ_DEVICE_GROUP); d++)
    snprintf(scopes[ns++], 32, "devicegroup:%s", urbac_model_id(t->m, URBAC_OBJ_DEVICE_GROUP, d));
  for (int d = 0; d < ndevices; d++)
    snprintf(scopes[ns++], 32, "device:d%d", d);
  for (int u = 0; u <= nusers; u++) {
    char user[16];
    snprintf(user, sizeof user, "u%d", u); /* u<nusers> is unknown */
    for (unsigned g = 0; g < URBAC__NGRANTS; g++) {
      char perm[256];
      urbac_grant_action(urbac__grant_of(g), perm, sizeof perm);
      for (size_t w = 0; w < 3; w++)
        for (size_t s = 0; s < (w == 0 ? ns : 2); s++) {
          urbac_query q = ask(t, user, perm, urbac_catalog_workload_id(w), scopes[s]);
          bool engine = urbac_check(t->s, &q), expected = naive_decide(n, &q);
          if (engine != expected)
            print_error("%s %s %s %s: engine %d, naive %d\n", user, perm, urbac_catalog_workload_id(w),
                        scopes[s], engine, expected);
          assert_int_equal(engine, expected);
          if (rnd(16) == 0 && q.user != URBAC_UNKNOWN_USER && urbac__user_at(t->m, q.user)->enabled) {
            urbac_explanation *e;
            assert_int_equal(urbac_explain(t->s, &q, &e, NULL), URBAC_OK);
            assert_int_equal(urbac__explanation_found(e), expected);
            urbac_explanation_free(e);
          }
          ++*checks;
        }
    }
  }
  naive_free(n);
}

static void test_random_tenants(void **state)
{
  (void)state;
  size_t checks = 0, cap = 1 << 16;
  char *y = malloc(cap);
  rng = 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < 1500; i++) {
    int nu, ndev;
    random_tenant(y, cap, &nu, &ndev);
    tenant t = tenant_load(y);
    compare_all(&t, nu, ndev, &checks);
    tenant_free(&t);
  }
  print_message("compared %zu decisions on 1500 random tenants\n", checks);
  free(y);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_random_tenants)};
  return cmocka_run_group_tests_name("engine against the naive evaluator", tests, NULL, NULL);
}
