/*
 * util/mem.c - allocation through the caller's hook, growable arrays and buffers.
 *
 * Every allocation in the library goes through urbac__malloc() and friends so
 * that a test can fail the Nth one and check that the caller gets URBAC_ENOMEM
 * and nothing leaks (curl's torture mode). The hook is process-wide and set once,
 * before anything else, like curl_global_init_mem().
 *
 * Depends on: the C library, xxHash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <xxhash.h>

#include "util/util.h"

static urbac_malloc_fn hook_malloc = malloc;
static urbac_realloc_fn hook_realloc = realloc;
static urbac_free_fn hook_free = free;

void urbac_set_allocator(urbac_malloc_fn m, urbac_realloc_fn r, urbac_free_fn f)
{
  hook_malloc = m ? m : malloc;
  hook_realloc = r ? r : realloc;
  hook_free = f ? f : free;
}

void *urbac__malloc(size_t n) { return hook_malloc(n ? n : 1); }

void *urbac__calloc(size_t count, size_t size)
{
  if (size && count > SIZE_MAX / size)
    return NULL;
  void *p = urbac__malloc(count * size);
  if (p)
    memset(p, 0, count * size);
  return p;
}

void *urbac__realloc(void *p, size_t n) { return hook_realloc(p, n ? n : 1); }

void urbac__free(void *p)
{
  if (p)
    hook_free(p);
}

char *urbac__strndup(const char *s, size_t n)
{
  char *d = urbac__malloc(n + 1);
  if (d) {
    memcpy(d, s, n);
    d[n] = '\0';
  }
  return d;
}

char *urbac__strdup(const char *s) { return urbac__strndup(s, strlen(s)); }

urbac_err urbac__grow(void **items, size_t *cap, size_t need, size_t size)
{
  if (need <= *cap)
    return URBAC_OK;
  size_t ncap = *cap ? *cap : 8;
  while (ncap < need) {
    if (ncap > SIZE_MAX / 2 / size)
      return URBAC_ENOMEM;
    ncap *= 2;
  }
  void *p = urbac__realloc(*items, ncap * size);
  if (!p)
    return URBAC_ENOMEM;
  *items = p;
  *cap = ncap;
  return URBAC_OK;
}

uint64_t urbac__hash(const void *data, size_t len) { return XXH3_64bits(data, len); }

void urbac__buf_add(urbac__buf *b, const char *s, size_t n)
{
  if (b->failed)
    return;
  if (URBAC_GROW(b->s, b->cap, b->len + n + 1)) {
    b->failed = true;
    return;
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

void urbac__buf_puts(urbac__buf *b, const char *s) { urbac__buf_add(b, s, strlen(s)); }

void urbac__buf_printf(urbac__buf *b, const char *fmt, ...)
{
  char small[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->failed = true;
    return;
  }
  if ((size_t)n < sizeof small) {
    urbac__buf_add(b, small, (size_t)n);
    return;
  }
  char *big = urbac__malloc((size_t)n + 1);
  if (!big) {
    b->failed = true;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  urbac__buf_add(b, big, (size_t)n);
  urbac__free(big);
}

void urbac__buf_free(urbac__buf *b)
{
  urbac__free(b->s);
  memset(b, 0, sizeof *b);
}

char *urbac__buf_take(urbac__buf *b, size_t *len)
{
  char *s = NULL;
  if (!b->failed) {
    if (!b->s)
      urbac__buf_add(b, "", 0);
    s = b->failed ? NULL : b->s;
    if (len)
      *len = b->len;
    if (s)
      b->s = NULL;
  }
  urbac__buf_free(b);
  return s;
}
