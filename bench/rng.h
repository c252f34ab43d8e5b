/*
 * bench/rng.h - the generators' random numbers (bench/gen.c, bench/graph/gen.c):
 * splitmix64, deterministic by seed, so a workload is the same on every machine.
 *
 * Depends on: the C library.
 */
#ifndef URBAC_BENCH_RNG_H
#define URBAC_BENCH_RNG_H

#include <stdint.h>

static uint64_t state; /* the seed, then the generator's state */

static inline uint64_t next(void)
{
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static inline uint32_t below(uint32_t n) { return (uint32_t)(next() % n); }
static inline double unit(void) { return (double)(next() >> 11) / 9007199254740992.0; }
/* Skewed pick: small indices (large groups) much more often. */
static inline uint32_t skewed(uint32_t n)
{
  double r = unit();
  return (uint32_t)(r * r * r * n);
}

#endif
