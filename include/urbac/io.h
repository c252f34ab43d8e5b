/*
 * urbac/io.h - tenant files: load (YAML or JSON) with located, all-or-nothing
 * validation, and save (deterministic, human-diffable; load -> save -> load is
 * the identity).
 */
#ifndef URBAC_IO_H
#define URBAC_IO_H

#include <stddef.h>

#include "urbac/error.h"
#include "urbac/export.h"
#include "urbac/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum urbac_format {
  URBAC_FORMAT_AUTO = 0, /* by the file name's extension; YAML otherwise */
  URBAC_FORMAT_YAML = 1,
  URBAC_FORMAT_JSON = 2
} urbac_format;

/* The format a path's extension names (.json: JSON; anything else: YAML). `path` is not retained. */
URBAC_EXTERN urbac_format urbac_format_from_path(const char *path);

/*
 * Loads the tenant file at `path`. On success *out is a new model that the caller
 * frees with urbac_model_free(). On failure *out is NULL, every problem found is
 * in `d` (may be NULL) with file:line:column, and nothing was kept. A file of
 * more than 256 MiB is refused (URBAC_ELIMIT).
 */
URBAC_EXTERN urbac_err urbac_tenant_load_file(const char *path, urbac_model **out, urbac_diag *d);
/* The same from memory: `buf` (`len` bytes, not retained) named `name` in messages. */
URBAC_EXTERN urbac_err urbac_tenant_load_buffer(const char *buf, size_t len, const char *name,
                                                urbac_model **out, urbac_diag *d);

/* Writes `m` as a tenant file. *out is NUL-terminated, its length in *len (NULL
 * allowed); the caller frees it with urbac_free(). */
URBAC_EXTERN urbac_err urbac_tenant_save_buffer(const urbac_model *m, urbac_format fmt, char **out,
                                                size_t *len, urbac_diag *d);
/* Writes `m` to `path` atomically (a temporary file beside it, fsync, rename):
 * a failed write leaves the old file as it was; the reason is in `d`. */
URBAC_EXTERN urbac_err urbac_tenant_save_file(const urbac_model *m, const char *path, urbac_format fmt,
                                              urbac_diag *d);

/*
 * Writes `m` as a tenant file shaped like `like` (`like_len` bytes of a tenant
 * file, usually the one `m` was read from and is about to replace; not retained):
 * the layout of urbac_tenant_save_buffer(), but each map's keys in the order
 * `like` has them (keys it lacks after them, in the canonical order) and, in
 * YAML, every comment of `like` beside the key, value or object it was beside
 * there (docs/tenant-format.md, "Comments"). `like` NULL, or not a YAML or JSON
 * document, gives urbac_tenant_save_buffer()'s output. The caller frees *out with
 * urbac_free().
 */
URBAC_EXTERN urbac_err urbac_tenant_save_buffer_like(const urbac_model *m, urbac_format fmt, const char *like,
                                                     size_t like_len, char **out, size_t *len, urbac_diag *d);
/* urbac_tenant_save_file(), shaped like the file at `like_path` (`path` itself to
 * rewrite a file in place) when that file exists; `like_path` may be NULL. */
URBAC_EXTERN urbac_err urbac_tenant_save_file_like(const urbac_model *m, const char *path, urbac_format fmt,
                                                   const char *like_path, urbac_diag *d);

/* Frees memory the library handed over (strings from save, explain, ...); accepts NULL. */
URBAC_EXTERN void urbac_free(void *p);

#ifdef __cplusplus
}
#endif
#endif
