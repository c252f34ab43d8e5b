/*
 * util/error.c - the error table's strings and the diagnostics list.
 *
 * The enum, urbac_strerror() and urbac_err_name() all come from URBAC_ERRORS in
 * include/urbac/error.h, so they cannot drift apart. A urbac_diag is a list of
 * urbac_error whose strings it owns; it keeps at most URBAC_MAX_ERRORS entries
 * (later ones are counted in the last message) so a hostile file cannot make the
 * error list itself unbounded. Its first error lives inside the urbac_diag, strings
 * and all (when they fit in DIAG_INLINE bytes), so a call that fails once into a
 * diag the caller keeps and clears (a query that does not parse, on the check
 * path) allocates nothing; errors after the first go to a growable array.
 *
 * Depends on: util/mem.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* An error and the strings it points to, which the list owns. */
typedef struct entry {
  urbac_error pub;
  char *message, *file, *path;
} entry;

/* Room for the first error's message, file and path (with their NULs). */
#define DIAG_INLINE 1024

struct urbac_diag {
  entry first; /* error 0; its strings are in first_text, or owned when too long */
  char first_text[DIAG_INLINE];
  entry *items; /* errors 1..count-1 */
  size_t count, cap;
  size_t dropped;
};

static entry *slot(urbac_diag *d, size_t i) { return i ? &d->items[i - 1] : &d->first; }

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

void urbac__diag_truncate(urbac_diag *d, size_t keep)
{
  if (!d || keep >= d->count + d->dropped)
    return;
  for (size_t i = keep; i < d->count; i++)
    entry_release(slot(d, i));
  if (keep < d->count)
    d->count = keep;
  d->dropped = keep - d->count;
}

void urbac_diag_clear(urbac_diag *d) { urbac__diag_truncate(d, 0); }

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
  return (d && i < d->count) ? (i ? &d->items[i - 1].pub : &d->first.pub) : NULL;
}

urbac_err urbac__diag_first(const urbac_diag *d) { return (d && d->count) ? d->first.pub.code : URBAC_OK; }

/* Copies the three strings into d->first_text when they fit; false otherwise. */
static bool pack_first(urbac_diag *d, const char *msg, const char *file, const char *path)
{
  size_t ml = strlen(msg) + 1, fl = strlen(file) + 1, pl = strlen(path) + 1;
  if (ml + fl + pl > sizeof d->first_text)
    return false;
  char *t = d->first_text;
  memcpy(t, msg, ml);
  memcpy(t + ml, file, fl);
  memcpy(t + ml + fl, path, pl);
  d->first.pub.message = t;
  d->first.pub.file = t + ml;
  d->first.pub.path = t + ml + fl;
  return true;
}

urbac_err urbac__diag_vadd(urbac_diag *d, urbac_err code, const char *file, uint32_t line,
                           uint32_t col, const char *path, const char *fmt, va_list ap)
{
  char msg[1024];
  if (!d)
    return code;
  if (d->count >= URBAC_MAX_ERRORS || (d->count && URBAC_GROW(d->items, d->cap, d->count))) {
    d->dropped++;
    return code;
  }
  vsnprintf(msg, sizeof msg, fmt, ap);
  file = file ? file : "";
  path = path ? path : "";
  entry *e = slot(d, d->count);
  *e = (entry){.pub = {code, NULL, NULL, line, col, NULL}};
  if (e == &d->first && pack_first(d, msg, file, path)) {
    d->count++;
    return code;
  }
  e->message = urbac__strdup(msg);
  e->file = urbac__strdup(file);
  e->path = urbac__strdup(path);
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

urbac_err urbac__diag_code(urbac_diag *d, urbac_err code, const char *what)
{
  return urbac__diag_add(d, code, NULL, 0, 0, NULL, "%s: %s", what, urbac_strerror(code));
}

urbac_err urbac__diag_code_since(urbac_diag *d, size_t before, urbac_err code, const char *what)
{
  return urbac_diag_count(d) > before ? code : urbac__diag_code(d, code, what);
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
