/*
 * util/error.c - the error table's strings and the diagnostics list.
 *
 * The enum, urbac_strerror() and urbac_err_name() all come from URBAC_ERRORS in
 * include/urbac/error.h, so they cannot drift apart. A urbac_diag is a growable
 * array of urbac_error whose strings it owns; it keeps at most URBAC_MAX_ERRORS
 * entries (later ones are counted in the last message) so a hostile file cannot
 * make the error list itself unbounded.
 *
 * Depends on: util/mem.c.
 */
#include <stdio.h>
#include <stdlib.h>

#include "util/util.h"

/* An error and the strings it points to, which the list owns. */
typedef struct entry {
  urbac_error pub;
  char *message, *file, *path;
} entry;

struct urbac_diag {
  entry *items;
  size_t count, cap;
  size_t dropped;
};

const char *urbac_strerror(urbac_err err)
{
  switch (err) {
#define URBAC__ERR_TEXT(name, value, text)                                                         \
  case URBAC_##name:                                                                               \
    return text;
    URBAC_ERRORS(URBAC__ERR_TEXT)
#undef URBAC__ERR_TEXT
  }
  return "unknown error";
}

const char *urbac_err_name(urbac_err err)
{
  switch (err) {
#define URBAC__ERR_NAME(name, value, text)                                                         \
  case URBAC_##name:                                                                               \
    return #name;
    URBAC_ERRORS(URBAC__ERR_NAME)
#undef URBAC__ERR_NAME
  }
  return "EUNKNOWN";
}

void urbac__assert_fail(const char *expr, const char *file, int line)
{
  /* An internal invariant is broken: no caller can recover, so say where and stop. */
  fprintf(stderr, "urbac: internal error: assertion '%s' failed at %s:%d\n", expr, file, line);
  abort();
}

urbac_diag *urbac_diag_new(void) { return urbac__calloc(1, sizeof(urbac_diag)); }

static void entry_release(entry *e)
{
  urbac__free(e->message);
  urbac__free(e->file);
  urbac__free(e->path);
}

void urbac_diag_clear(urbac_diag *d)
{
  if (!d)
    return;
  for (size_t i = 0; i < d->count; i++)
    entry_release(&d->items[i]);
  d->count = 0;
  d->dropped = 0;
}

void urbac_diag_free(urbac_diag *d)
{
  if (!d)
    return;
  urbac_diag_clear(d);
  urbac__free(d->items);
  urbac__free(d);
}

size_t urbac_diag_count(const urbac_diag *d) { return d ? d->count + d->dropped : 0; }

const urbac_error *urbac_diag_get(const urbac_diag *d, size_t i)
{
  return (d && i < d->count) ? &d->items[i].pub : NULL;
}

urbac_err urbac__diag_first(const urbac_diag *d)
{
  return (d && d->count) ? d->items[0].pub.code : URBAC_OK;
}

urbac_err urbac__diag_vadd(urbac_diag *d, urbac_err code, const char *file, uint32_t line,
                           uint32_t col, const char *path, const char *fmt, va_list ap)
{
  char msg[1024];
  if (!d)
    return code;
  if (d->count >= URBAC_MAX_ERRORS || URBAC_GROW(d->items, d->cap, d->count + 1)) {
    d->dropped++;
    return code;
  }
  vsnprintf(msg, sizeof msg, fmt, ap);
  entry *e = &d->items[d->count];
  e->message = urbac__strdup(msg);
  e->file = urbac__strdup(file ? file : "");
  e->path = urbac__strdup(path ? path : "");
  e->pub = (urbac_error){code, e->message, e->file, line, col, e->path};
  if (!e->message || !e->file || !e->path) {
    entry_release(e);
    d->dropped++;
    return code;
  }
  d->count++;
  return code;
}

urbac_err urbac__diag_add(urbac_diag *d, urbac_err code, const char *file, uint32_t line,
                          uint32_t col, const char *path, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  urbac__diag_vadd(d, code, file, line, col, path, fmt, ap);
  va_end(ap);
  return code;
}

urbac_err urbac_diag_add(urbac_diag *d, urbac_err code, const char *file, uint32_t line, uint32_t col,
                          const char *path, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  urbac__diag_vadd(d, code, file, line, col, path, fmt, ap);
  va_end(ap);
  return code;
}

size_t urbac_diag_format(const urbac_diag *d, size_t i, char *buf, size_t size)
{
  const urbac_error *e = urbac_diag_get(d, i);
  int n;
  if (!e)
    n = snprintf(buf, size, "%zu more errors not shown", d ? d->dropped : 0);
  else if (e->line && e->path[0])
    n = snprintf(buf, size, "%s:%u:%u: %s: %s", e->file, e->line, e->column, e->path, e->message);
  else if (e->line)
    n = snprintf(buf, size, "%s:%u:%u: %s", e->file, e->line, e->column, e->message);
  else if (e->path[0])
    n = snprintf(buf, size, "%s%s%s: %s", e->file, e->file[0] ? ": " : "", e->path, e->message);
  else
    n = snprintf(buf, size, "%s%s%s", e->file, e->file[0] ? ": " : "", e->message);
  return n < 0 ? 0 : (size_t)n;
}
