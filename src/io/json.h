/*
 * io/json.h - JSON text into jansson's values, read by yajl.
 *
 * jansson holds the values the Graph import works on; its own parser reads
 * about 28 MB/s, a fifth of an import of a whole tenant. yajl tokenizes the same
 * text ten times faster; io/json.c builds jansson's values from yajl's events
 * and accepts exactly what json_loadb(text, len, JSON_REJECT_DUPLICATES, &e)
 * accepts, giving equal values (fuzz/fuzz_json.c holds the two to that), save
 * a NUL byte, which it refuses anywhere (jansson 2.14 skips one after a token).
 *
 * Depends on: util, jansson, yajl.
 */
#ifndef URBAC_IO_JSON_H
#define URBAC_IO_JSON_H

#include <jansson.h>
#include <stddef.h>

/* Parses `len` bytes of JSON: an object or an array, nothing after it but
 * whitespace. Returns a new reference (the caller json_decref()s it), or NULL with
 * *e saying where the text stopped making sense (line and column from 1, the
 * column in characters) and why; json_error_code(e) is json_error_out_of_memory
 * when an allocation failed. */
json_t *urbac__json_parse(const char *text, size_t len, json_error_t *e);

#endif
