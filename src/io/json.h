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
 * Depends on: util, jansson, yajl, pthreads.
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

/* Texts parsed ahead of their reader, on a thread of its own, which also frees
 * the trees the reader is done with (a page's tree made and freed on one thread:
 * glibc's malloc is slow at freeing what another thread's arena holds).
 * urbac__json_ahead_start() takes `n` texts (borrowed until _end()) in the order
 * they will be read; the thread parses them one after another, at most
 * URBAC__JSON_AHEAD texts and URBAC__JSON_AHEAD_BYTES of text (but always one)
 * past the last one read. urbac__json_ahead_next(a, text, e) gives the tree of
 * `text`, the next one, as urbac__json_parse() would (a new reference, or NULL
 * with *e), waiting for the thread when it is not there yet; a `text` that is
 * not the next one (a reader out of step) stops the thread, and that text and
 * every later one is parsed by the reader. urbac__json_ahead_drop() gives back
 * a reference to release (NULL: nothing): it must hold nothing another tree
 * still refers to. NULL from _start() when out of memory; when no thread can be
 * made, each text is parsed and each reference released by the reader.
 * urbac__json_ahead_end() stops the thread and releases what was parsed and not
 * read, and what was given back. The allocation hook (urbac_set_allocator())
 * is called from both threads. */
#define URBAC__JSON_AHEAD 16
#define URBAC__JSON_AHEAD_BYTES (32u << 20)
typedef struct urbac__json_ahead urbac__json_ahead;
urbac__json_ahead *urbac__json_ahead_start(const char *const *texts, const size_t *lens, size_t n);
json_t *urbac__json_ahead_next(urbac__json_ahead *a, const char *text, json_error_t *e);
void urbac__json_ahead_drop(urbac__json_ahead *a, json_t *v);
void urbac__json_ahead_end(urbac__json_ahead *a);

#endif
