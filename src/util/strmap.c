/*
 * util/strmap.c - an open-addressing hash map from byte strings to uint32.
 *
 * Used to intern ids (users, groups, devices, device groups) at load and compile
 * time and to look them up on the check path. Linear probing over a power-of-two
 * table kept at most half full; the full 32-bit hash is stored beside each slot
 * so a probe compares keys only when hashes agree. Hashing is xxHash's XXH3.
 * No deletion: maps are built once and then only read, from any number of threads.
 *
 * Depends on: util/mem.c.
 */
#include "util/util.h"

urbac_err urbac__strmap_init(urbac__strmap *m, size_t expected)
{
  size_t n = 16;
  memset(m, 0, sizeof *m);
  while (n < expected * 2) {
    if (n > (SIZE_MAX >> 6))
      return URBAC_ENOMEM;
    n <<= 1;
  }
  m->slots = urbac__calloc(n, sizeof *m->slots);
  if (!m->slots)
    return URBAC_ENOMEM;
  m->mask = n - 1;
  return URBAC_OK;
}

void urbac__strmap_free(urbac__strmap *m)
{
  urbac__free(m->slots);
  memset(m, 0, sizeof *m);
}

static size_t probe(const urbac__strmap *m, const char *key, size_t len, uint32_t h)
{
  size_t i = h & m->mask;
  while (m->slots[i].value1) {
    const urbac__strmap_slot *e = &m->slots[i];
    if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0)
      return i;
    i = (i + 1) & m->mask;
  }
  return i;
}

static urbac_err rehash(urbac__strmap *m)
{
  urbac__strmap bigger;
  urbac_err err = urbac__strmap_init(&bigger, m->mask + 1);
  if (err)
    return err;
  for (size_t i = 0; i <= m->mask; i++) {
    if (!m->slots[i].value1)
      continue;
    size_t j = m->slots[i].hash & bigger.mask;
    while (bigger.slots[j].value1)
      j = (j + 1) & bigger.mask;
    bigger.slots[j] = m->slots[i];
  }
  bigger.count = m->count;
  urbac__strmap_free(m);
  *m = bigger;
  return URBAC_OK;
}

urbac_err urbac__strmap_put(urbac__strmap *m, const char *key, size_t len, uint32_t value, uint32_t *existing)
{
  if (len > UINT32_MAX || value == UINT32_MAX)
    return URBAC_ELIMIT;
  if ((m->count + 1) * 2 > m->mask + 1) {
    urbac_err err = rehash(m);
    if (err)
      return err;
  }
  uint32_t h = (uint32_t)urbac__hash(key, len);
  size_t i = probe(m, key, len, h);
  if (m->slots[i].value1) {
    if (existing)
      *existing = m->slots[i].value1 - 1;
    return URBAC_EDUPLICATE;
  }
  m->slots[i] = (urbac__strmap_slot){key, (uint32_t)len, h, value + 1};
  m->count++;
  return URBAC_OK;
}

bool urbac__strmap_get(const urbac__strmap *m, const char *key, size_t len, uint32_t *value)
{
  if (!m->slots)
    return false;
  size_t i = probe(m, key, len, (uint32_t)urbac__hash(key, len));
  if (!m->slots[i].value1)
    return false;
  *value = m->slots[i].value1 - 1;
  return true;
}
