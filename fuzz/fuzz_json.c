/*
 * fuzz/fuzz_json.c - libFuzzer driver for io/json.c (JSON text into jansson's
 * values, read by yajl), differential: jansson's own parser,
 * json_loadb(JSON_REJECT_DUPLICATES), must refuse exactly what it refuses, and
 * what both accept must be the same document, written out byte for byte alike.
 * One difference is meant: a NUL byte in the text is refused, where jansson
 * 2.14 skips one right after a token ("[1\0]").
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "io/json.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  json_error_t mine, theirs;
  json_t *a = urbac__json_parse((const char *)data, size, &mine);
  json_t *b = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &theirs);
  if (!a != !b && !(b && memchr(data, '\0', size)))
    abort();
  if (a && b) {
    char *x = json_dumps(a, JSON_COMPACT), *y = json_dumps(b, JSON_COMPACT);
    if (!x || !y || strcmp(x, y) != 0)
      abort();
    free(x);
    free(y);
  } else if (mine.line < 1 || mine.column < 1 || !mine.text[0]) {
    abort();
  }
  json_decref(a);
  json_decref(b);
  return 0;
}
