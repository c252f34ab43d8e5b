/*
 * urbac/error.h - error codes and located diagnostics.
 *
 * One contract for every fallible function of the API (liburbac and
 * liburbac-store): it returns a urbac_err, and its last parameter is a
 * `urbac_diag *d` that may be NULL. When `d` is given, a failure adds at least one
 * error to it: the code, a one-line message (a store's says what the database
 * said) and, where there is one, where: file:line:column, a field path, an object
 * id. Functions that can find several problems at once (loading a tenant file,
 * validating a model) add every one. Nothing is ever written to a caller's
 * buffer instead, and the library never prints. Functions that cannot fail
 * (urbac_check(), urbac_check_batch(), lookups that return NULL or -1 when out of
 * range) take no diag.
 *
 * A diag keeps its first error inside itself, so a failure reported into a diag
 * that holds no error yet (new, or emptied with urbac_diag_clear()) allocates
 * nothing; a hot path (a server resolving questions) keeps one diag per thread
 * and clears it. Only the second and later errors allocate.
 *
 * The codes are generated from one X-macro table below and are never
 * renumbered: new codes go at the end.
 */
#ifndef URBAC_ERROR_H
#define URBAC_ERROR_H

#include <stddef.h>
#include <stdint.h>

#include "urbac/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, value, "one-line description") */
#define URBAC_ERRORS(X)                                                                                      \
  X(OK, 0, "success")                                                                                        \
  X(ENOMEM, 1, "out of memory")                                                                              \
  X(EINVAL, 2, "invalid argument")                                                                           \
  X(EIO, 3, "input/output error")                                                                            \
  X(ESYNTAX, 4, "syntax error")                                                                              \
  X(ETYPE, 5, "wrong type")                                                                                  \
  X(EUNKNOWNKEY, 6, "unknown key")                                                                           \
  X(EMISSING, 7, "required field missing")                                                                   \
  X(EDUPLICATE, 8, "duplicate")                                                                              \
  X(EDANGLING, 9, "reference to an unknown object")                                                          \
  X(EUNKNOWNPERM, 10, "unknown permission")                                                                  \
  X(EUNKNOWNROLE, 11, "unknown role")                                                                        \
  X(ELEVEL, 12, "level not supported by the permission")                                                     \
  X(ECYCLE, 13, "group membership cycle")                                                                    \
  X(ERANK, 14, "duplicate or invalid device group rank")                                                     \
  X(EWORKLOAD, 15, "unknown workload")                                                                       \
  X(ESCOPE, 16, "invalid scope")                                                                             \
  X(EUNKNOWNDEVICE, 17, "unknown device")                                                                    \
  X(EUNKNOWNDG, 18, "unknown device group")                                                                  \
  X(ELIMIT, 19, "limit exceeded")                                                                            \
  X(EVERSION, 20, "unsupported format version")                                                              \
  X(EVALUE, 21, "invalid value")                                                                             \
  X(ERESERVED, 22, "reserved name")                                                                          \
  X(EREFUSED, 23, "refused")                                                                                 \
  X(ECONFLICT, 24, "the tenant changed since the revision the write was based on")                           \
  X(ESTORE, 25, "store error")                                                                               \
  X(ESCHEMA, 26, "store schema not usable")                                                                  \
  X(ETAMPERED, 27, "audit chain broken")                                                                     \
  X(ENOTFOUND, 28, "not found")                                                                              \
  X(EUNAVAILABLE, 29, "store unavailable: try again later")                                                  \
  X(EBEHIND, 30, "too far behind for the change log: reload the tenant")

typedef enum urbac_err {
#define URBAC__ERR_ENUM(name, value, text) URBAC_##name = value,
  URBAC_ERRORS(URBAC__ERR_ENUM)
#undef URBAC__ERR_ENUM
} urbac_err;

/* The one-line description of `err`; a static string, never NULL. */
URBAC_EXTERN const char *urbac_strerror(urbac_err err);
/* The symbolic name of `err` ("EDANGLING"); a static string, never NULL. */
URBAC_EXTERN const char *urbac_err_name(urbac_err err);

/* One diagnostic. All strings are owned by the urbac_diag that holds it. */
typedef struct urbac_error {
  urbac_err code;
  const char *message; /* one line, no location */
  const char *file;    /* source name, or "" */
  uint32_t line;       /* 1-based; 0 when not from a file */
  uint32_t column;     /* 1-based; 0 when not from a file */
  const char *path;    /* field path ("roles[2].assignments[0].principals[1]"), or "" */
} urbac_error;

typedef struct urbac_diag urbac_diag;

/* A new, empty diagnostics list, or NULL when out of memory; the caller frees it
 * with urbac_diag_free(). */
URBAC_EXTERN urbac_diag *urbac_diag_new(void);
/* Frees `d` and every string it holds; accepts NULL. */
URBAC_EXTERN void urbac_diag_free(urbac_diag *d);
/* Empties `d` for reuse (its room for the first error stays); accepts NULL. */
URBAC_EXTERN void urbac_diag_clear(urbac_diag *d);
/* How many errors `d` holds. Accepts NULL (0). */
URBAC_EXTERN size_t urbac_diag_count(const urbac_diag *d);
/* Error `i` (0-based, < count); the pointer stays valid until `d` is cleared or freed. */
URBAC_EXTERN const urbac_error *urbac_diag_get(const urbac_diag *d, size_t i);
/* Adds an error (for faces built on the library: the CLI, the server); `file`,
 * `path` may be NULL, `line` and `col` 0. Returns `code`; accepts d NULL. */
URBAC_EXTERN urbac_err urbac_diag_add(urbac_diag *d, urbac_err code, const char *file, uint32_t line,
                                      uint32_t col, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
/* Writes error `i` as "file:line:column: path: message" into `buf` (always
 * NUL-terminated, truncated to `size`); returns the full length it wanted. */
URBAC_EXTERN size_t urbac_diag_format(const urbac_diag *d, size_t i, char *buf, size_t size);

/* Allocation hook: every allocation the library makes goes through these.
 * Set them before any other call; NULL restores the C library's. Setting them is
 * not thread-safe; the functions themselves are called from any thread the
 * library runs, several at once (the server's; import-graph's parse thread; and
 * for a tenant of 20,000 objects or more, the threads that build its trees,
 * emit its bodies and compute a store write's audit chain beside the caller's),
 * so they must be thread-safe. */
typedef void *(*urbac_malloc_fn)(size_t size);
typedef void *(*urbac_realloc_fn)(void *ptr, size_t size);
typedef void (*urbac_free_fn)(void *ptr);
URBAC_EXTERN void urbac_set_allocator(urbac_malloc_fn m, urbac_realloc_fn r, urbac_free_fn f);

#ifdef __cplusplus
}
#endif
#endif
