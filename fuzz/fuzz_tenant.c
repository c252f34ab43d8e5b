/*
 * fuzz/fuzz_tenant.c - libFuzzer driver for the tenant loader (YAML and JSON).
 *
 * Whatever the bytes, loading must either fail cleanly or give a model that
 * compiles, saves, and loads again to the same saved text.
 */
#include <stdlib.h>
#include <string.h>

#include "urbac/urbac.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

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
  }
  urbac_free(one);
  urbac_free(two);
  urbac_snapshot_free(s);
  urbac_model_free(m);
  urbac_model_free(again);
  urbac_diag_free(d);
  return 0;
}
