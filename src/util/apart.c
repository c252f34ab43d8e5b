/*
 * util/apart.c - one job in two halves, the second on a thread of its own.
 *
 * A big tenant's pure per-object work (the import's trees, the store's bodies)
 * splits into halves that share nothing they write; each half runs where it
 * can, and the caller goes on once both are done.
 *
 * Depends on: the C library, pthreads.
 */
#include <pthread.h>

#include "util/util.h"

void urbac__in_two(void *(*fn)(void *), void *first, void *second, bool apart)
{
  pthread_t t;
  apart = apart && pthread_create(&t, NULL, fn, second) == 0;
  fn(first);
  if (apart)
    pthread_join(t, NULL);
  else
    fn(second);
}
