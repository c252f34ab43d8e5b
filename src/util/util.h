/*
 * util/util.h - the small things every subsystem uses: allocation through the
 * hook, growable arrays, diagnostics, string maps, bitsets and limits.
 *
 * Depends on: the C library, xxHash, pthreads. Everything above may depend on it.
 */
#ifndef URBAC_UTIL_H
#define URBAC_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "urbac/error.h"

/* ---------------------------------------------------------------- limits */
/* Everything that grows from input is bounded here; hitting one is URBAC_ELIMIT. */
#define URBAC_MAX_FILE_BYTES (256u * 1024u * 1024u)
#define URBAC_MAX_NAME_BYTES 1024u  /* an id, a name, a permission string */
#define URBAC_MAX_TEXT_BYTES 65536u /* a description */
#define URBAC_MAX_OBJECTS 10000000u /* users, groups, devices, members, ... */
#define URBAC_MAX_DEPTH 64u         /* YAML/JSON nesting */
#define URBAC_MAX_DEVICE_GROUPS 65535u
#define URBAC_MAX_ERRORS 1000u /* diagnostics kept per load */
#define URBAC_MAX_QUERY_LINE 8192u

/* ---------------------------------------------------------------- halves */
/* fn(first) on this thread and fn(second) on a second one at once when `apart`
 * (else, or when no thread can be had, after it on this one); returns when both
 * are done. The two must write nothing in common (util/apart.c). */
#define URBAC__APART 20000 /* objects from which a whole tenant's per-object work is split so */
void urbac__in_two(void *(*fn)(void *), void *first, void *second, bool apart);

/* ---------------------------------------------------------------- assert */
void urbac__assert_fail(const char *expr, const char *file, int line);
#define URBAC_ASSERT(e) ((e) ? (void)0 : urbac__assert_fail(#e, __FILE__, __LINE__))

/* For a pure arithmetic kernel (an edit distance's inner loop): no coverage
 * instrumentation under libFuzzer, whose comparison tracing would cost ten times
 * the work and guide nothing. The code still runs on every fuzz input. Not
 * inlined: inlined, its code would be instrumented as part of its caller. */
#if defined(__clang__) && defined(URBAC_FUZZING)
#define URBAC_NO_COVERAGE __attribute__((no_sanitize("coverage"), noinline))
#else
#define URBAC_NO_COVERAGE
#endif

/* ---------------------------------------------------------------- memory */
void *urbac__malloc(size_t n);
void *urbac__calloc(size_t count, size_t size);
void *urbac__realloc(void *p, size_t n);
void urbac__free(void *p);
char *urbac__strdup(const char *s);
char *urbac__strndup(const char *s, size_t n);
/* Makes room for `need` elements of `size` bytes in *items (capacity *cap),
 * growing geometrically. Returns URBAC_OK or URBAC_ENOMEM (items unchanged). */
urbac_err urbac__grow(void **items, size_t *cap, size_t need, size_t size);
/* urbac__grow() with its common case, room enough, inline (hot loops ask per element). */
static inline urbac_err urbac__grow_if(void **items, size_t *cap, size_t need, size_t size)
{
  return need <= *cap ? URBAC_OK : urbac__grow(items, cap, need, size);
}
#define URBAC_GROW(arr, cap, need) urbac__grow_if((void **)&(arr), &(cap), (need), sizeof(*(arr)))

/* ---------------------------------------------------------------- diagnostics */
/* Adds one error to `d` (NULL: ignored). `file` and `path` may be NULL. Returns
 * `code` so callers can write `return urbac__diag_add(...)`. Never fails: when
 * memory runs out the message is dropped and the count still says an error happened. */
urbac_err urbac__diag_add(urbac_diag *d, urbac_err code, const char *file, uint32_t line, uint32_t col,
                          const char *path, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
urbac_err urbac__diag_vadd(urbac_diag *d, urbac_err code, const char *file, uint32_t line, uint32_t col,
                           const char *path, const char *fmt, va_list ap)
    __attribute__((format(printf, 7, 0)));
/* Reports `code` (not URBAC_OK) from a step that has no message of its own, as
 * "WHAT: <code's description>" ("explaining: out of memory"). Returns `code`. */
urbac_err urbac__diag_code(urbac_diag *d, urbac_err code, const char *what);
/* The same, unless `d` gained an error since it held `before` (urbac_diag_count()):
 * for a step whose parts report some failures themselves and only return others. */
urbac_err urbac__diag_code_since(urbac_diag *d, size_t before, urbac_err code, const char *what);
/* Drops the errors after the first `keep` (for a retry loop whose earlier
 * attempts' errors are moot). Accepts NULL. */
void urbac__diag_truncate(urbac_diag *d, size_t keep);
/* The first error's code, or URBAC_OK when `d` is empty or NULL. */
urbac_err urbac__diag_first(const urbac_diag *d);

/* ---------------------------------------------------------------- strings */
uint64_t urbac__hash(const void *data, size_t len);
/* A growable byte buffer; `s` is always NUL-terminated once anything was added. */
typedef struct urbac__buf {
  char *s;
  size_t len, cap;
  bool failed; /* an allocation failed; contents are incomplete */
} urbac__buf;
void urbac__buf_add(urbac__buf *b, const char *s, size_t n);
void urbac__buf_puts(urbac__buf *b, const char *s);
void urbac__buf_printf(urbac__buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void urbac__buf_free(urbac__buf *b);
/* Hands the contents over (the caller frees them with urbac__free()); NULL if failed. */
char *urbac__buf_take(urbac__buf *b, size_t *len);
/* The value of the four hex digits at `p` (a JSON \u escape's; the caller has
 * checked there are four bytes), or -1 when one is not a hex digit. */
static inline int urbac__hex4(const char *p)
{
  int v = 0;
  for (int i = 0; i < 4; i++) {
    int c = (unsigned char)p[i], d = c >= '0' && c <= '9'   ? c - '0'
                                     : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                     : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                            : -1;
    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

/* ---------------------------------------------------------------- string map */
/* Open-addressing map from a byte string to a uint32 value. Keys are not copied:
 * they must outlive the map. One slot is one 24-byte entry, so a probe touches one
 * cache line before it compares a key. */
typedef struct urbac__strmap_slot {
  const char *key;
  uint32_t len;
  uint32_t hash;
  uint32_t value1; /* value + 1; 0 is empty */
} urbac__strmap_slot;
typedef struct urbac__strmap {
  urbac__strmap_slot *slots;
  size_t mask;
  size_t count;
} urbac__strmap;
urbac_err urbac__strmap_init(urbac__strmap *m, size_t expected);
void urbac__strmap_free(urbac__strmap *m);
/* Inserts key -> value. Returns URBAC_EDUPLICATE (and *existing) if present. */
urbac_err urbac__strmap_put(urbac__strmap *m, const char *key, size_t len, uint32_t value,
                            uint32_t *existing);
/* Looks key up: true and *value if present. */
bool urbac__strmap_get(const urbac__strmap *m, const char *key, size_t len, uint32_t *value);

/* ---------------------------------------------------------------- bitsets */
static inline size_t urbac__bits_words(size_t nbits) { return (nbits + 63u) / 64u; }
static inline void urbac__bit_set(uint64_t *w, size_t i) { w[i >> 6] |= 1ull << (i & 63u); }
static inline bool urbac__bit_test(const uint64_t *w, size_t i) { return (w[i >> 6] >> (i & 63u)) & 1u; }

/* ---------------------------------------------------------------- interning */
/* Gives equal byte strings one dense id (0, 1, 2, ...). Blobs are copied into an
 * arena addressed by offset, so the arena may grow without invalidating anything. */
typedef struct urbac__intern {
  char *arena;
  size_t arena_len, arena_cap;
  size_t *off; /* id -> offset; blob i spans off[i] .. off[i+1] */
  size_t n, cap_off;
  uint32_t *slots;  /* id + 1; 0 is empty */
  uint64_t *hashes; /* hash per slot */
  size_t mask;
} urbac__intern;
urbac_err urbac__intern_init(urbac__intern *t, size_t expected);
void urbac__intern_free(urbac__intern *t);
/* The id of blob [p, p+len); *added tells whether it is new. */
urbac_err urbac__intern_put(urbac__intern *t, const void *p, size_t len, uint32_t *id, bool *added);
/* The id of blob [p, p+len) when it was put: true and *id; false when it was not. */
bool urbac__intern_find(const urbac__intern *t, const void *p, size_t len, uint32_t *id);
static inline const void *urbac__intern_get(const urbac__intern *t, uint32_t id, size_t *len)
{
  if (len)
    *len = t->off[id + 1] - t->off[id];
  return t->arena + t->off[id];
}
#endif
