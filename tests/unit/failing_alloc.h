/*
 * tests/unit/failing_alloc.h - an allocator for urbac_set_allocator() that counts
 * what is live and fails the Nth call on purpose (curl's torture mode), for the
 * tests of out-of-memory paths (test_alloc.c, test_util.c, test_model.c).
 *
 * Depends on: the C library, urbac/error.h.
 */
#ifndef URBAC_TEST_FAILING_ALLOC_H
#define URBAC_TEST_FAILING_ALLOC_H

#include <stdlib.h>

#include "urbac/error.h"

static long alloc_live;    /* blocks handed out and not freed */
static long alloc_calls;   /* malloc and realloc calls so far */
static long alloc_fail_at; /* the call that fails (1-based), 0: none */

static void *failing_malloc(size_t n)
{
  if (alloc_fail_at && ++alloc_calls == alloc_fail_at)
    return NULL;
  size_t *p = malloc(n + sizeof(size_t) * 2);
  if (!p)
    return NULL;
  alloc_live++;
  return p + 2;
}

static void *failing_realloc(void *p, size_t n)
{
  if (!p)
    return failing_malloc(n);
  if (alloc_fail_at && ++alloc_calls == alloc_fail_at)
    return NULL;
  size_t *q = realloc((size_t *)p - 2, n + sizeof(size_t) * 2);
  return q ? q + 2 : NULL;
}

static void failing_free(void *p)
{
  if (!p)
    return;
  alloc_live--;
  free((size_t *)p - 2);
}

/* Counting from zero, nothing failing; memory from before must not be freed
 * while it is on (it did not come from this allocator). */
static inline void failing_alloc_on(void)
{
  alloc_live = alloc_calls = alloc_fail_at = 0;
  urbac_set_allocator(failing_malloc, failing_realloc, failing_free);
}

static inline void failing_alloc_off(void) { urbac_set_allocator(NULL, NULL, NULL); }

#endif
