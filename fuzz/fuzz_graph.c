/*
 * fuzz/fuzz_graph.c - libFuzzer driver for the Microsoft Graph import
 * (urbac_graph_import(): any saved Graph response, or an export document).
 *
 * Whatever the bytes, the import must fail cleanly or give a tenant; then its
 * Graph export, read back onto it, must succeed, and exporting that tenant must
 * give the same document again (the round trip settles after one pass).
 */
#include <stdlib.h>
#include <string.h>

#include "urbac/urbac.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  urbac_model *m = NULL, *back = NULL;
  urbac_graph_report *r = NULL, *r2 = NULL;
  char *first = NULL, *second = NULL;
  size_t l1 = 0, l2 = 0;
  urbac_graph_file f = {"input.json", (const char *)data, size};
  if (urbac_graph_import(NULL, "fuzz", &f, 1, 0, &m, &r, NULL) != URBAC_OK)
    return 0;
  if (urbac_graph_export(m, &first, &l1, NULL) != URBAC_OK)
    abort();
  urbac_graph_file again = {"export.json", first, l1};
  if (urbac_graph_import(m, NULL, &again, 1, 0, &back, &r2, NULL) != URBAC_OK ||
      urbac_graph_export(back, &second, &l2, NULL) != URBAC_OK || l1 != l2 || memcmp(first, second, l1))
    abort();
  urbac_free(first);
  urbac_free(second);
  urbac_graph_report_free(r);
  urbac_graph_report_free(r2);
  urbac_model_free(back);
  urbac_model_free(m);
  return 0;
}
