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
    if (n > (SIZE_MAX >> 4))
      return URBAC_ENOMEM;
    n <<= 1;
  }
  m->slots = urbac__calloc(n, sizeof *m->slots);
  m->hashes = urbac__calloc(n, sizeof *m->hashes);
  m->keys = urbac__calloc(n, sizeof *m->keys);
  m->lens = urbac__calloc(n, sizeof *m->lens);
  if (!m->slots || !m->hashes || !m->keys || !m->lens) {
    urbac__strmap_free(m);
    return URBAC_ENOMEM;
  }
  m->mask = n - 1;
  return URBAC_OK;
}

void urbac__strmap_free(urbac__strmap *m)
{
  urbac__free(m->slots);
  urbac__free(m->hashes);
  urbac__free((void *)m->keys);
  urbac__free(m->lens);
  memset(m, 0, sizeof *m);
}

static size_t probe(const urbac__strmap *m, const char *key, size_t len, uint32_t h)
{
  size_t i = h & m->mask;
  while (m->slots[i]) {
    if (m->hashes[i] == h && m->lens[i] == len && memcmp(m->keys[i], key, len) == 0)
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
    if (!m->slots[i])
      continue;
    size_t j = probe(&bigger, m->keys[i], m->lens[i], m->hashes[i]);
    bigger.slots[j] = m->slots[i];
    bigger.hashes[j] = m->hashes[i];
    bigger.keys[j] = m->keys[i];
    bigger.lens[j] = m->lens[i];
  }
  bigger.count = m->count;
  urbac__strmap_free(m);
  *m = bigger;
  return URBAC_OK;
}

urbac_err urbac__strmap_put(urbac__strmap *m, const char *key, size_t len, uint32_t value,
                            uint32_t *existing)
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
  if (m->slots[i]) {
    if (existing)
      *existing = m->slots[i] - 1;
    return URBAC_EDUPLICATE;
  }
  m->slots[i] = value + 1;
  m->hashes[i] = h;
  m->keys[i] = key;
  m->lens[i] = (uint32_t)len;
  m->count++;
  return URBAC_OK;
}

bool urbac__strmap_get(const urbac__strmap *m, const char *key, size_t len, uint32_t *value)
{
  if (!m->slots)
    return false;
  size_t i = probe(m, key, len, (uint32_t)urbac__hash(key, len));
  if (!m->slots[i])
    return false;
  *value = m->slots[i] - 1;
  return true;
}
