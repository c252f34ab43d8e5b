/*
 * bench/common.h - what bench.c and edit.c both need: a clock, an order for
 * sorting times, and the resident memory of the running benchmark.
 *
 * Depends on: the C library (/proc/self/statm).
 */
#ifndef URBAC_BENCH_COMMON_H
#define URBAC_BENCH_COMMON_H

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static inline double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Resident memory now, in MiB (/proc/self/statm). */
static inline double rss_mib(void)
{
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f && fscanf(f, "%ld %ld", &pages, &resident) != 2)
    resident = 0;
  if (f)
    fclose(f);
  return (double)resident * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
}

#endif
