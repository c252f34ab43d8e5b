/*
 * fuzz/fuzz_tenant.c - libFuzzer driver for the tenant loader (YAML and JSON).
 *
 * Whatever the bytes, loading must either fail cleanly or give a model that
 * compiles, saves, and loads again to the same saved text; saved like the input
 * (its comments kept, io/doc.c) it must load as the same tenant, and be a fixed
 * point.
 */
#include <stdlib.h>
#include <string.h>

#include "urbac/urbac.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* Saved like the input (its comments and key order kept): the same tenant as
 * `canonical` says, and a fixed point. */
static void kept_comments(const urbac_model *m, const char *like, size_t size, const char *canonical,
                          size_t len)
{
  urbac_model *back = NULL;
  char *kept = NULL, *again = NULL, *plain = NULL;
  size_t lk = 0, la = 0, lp = 0;
  if (urbac_tenant_save_buffer_like(m, URBAC_FORMAT_YAML, like, size, &kept, &lk, NULL) != URBAC_OK ||
      urbac_tenant_load_buffer(kept, lk, "kept", &back, NULL) != URBAC_OK ||
      urbac_tenant_save_buffer_like(back, URBAC_FORMAT_YAML, kept, lk, &again, &la, NULL) != URBAC_OK ||
      la != lk || memcmp(kept, again, lk) ||
      urbac_tenant_save_buffer(back, URBAC_FORMAT_YAML, &plain, &lp, NULL) != URBAC_OK || lp != len ||
      memcmp(plain, canonical, len))
    abort();
  urbac_free(kept);
  urbac_free(again);
  urbac_free(plain);
  urbac_model_free(back);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  urbac_model *m = NULL, *again = NULL;
  urbac_snapshot *s = NULL;
  char *one = NULL, *two = NULL;
  size_t l1 = 0, l2 = 0;
  urbac_diag *d = urbac_diag_new();
  if (urbac_tenant_load_buffer((const char *)data, size, "fuzz", &m, d) == URBAC_OK) {
    if (urbac_snapshot_compile(m, &s, d) != URBAC_OK)
      abort();
    if (urbac_tenant_save_buffer(m, URBAC_FORMAT_YAML, &one, &l1, d) != URBAC_OK)
      abort();
    if (urbac_tenant_load_buffer(one, l1, "saved", &again, d) != URBAC_OK)
      abort(); /* what we write, we must read */
    if (urbac_tenant_save_buffer(again, URBAC_FORMAT_YAML, &two, &l2, d) != URBAC_OK || l1 != l2 ||
        memcmp(one, two, l1))
      abort(); /* and the saved form is a fixed point */
    kept_comments(m, (const char *)data, size, one, l1);
  }
  urbac_free(one);
  urbac_free(two);
  urbac_snapshot_free(s);
  urbac_model_free(m);
  urbac_model_free(again);
  urbac_diag_free(d);
  return 0;
}
