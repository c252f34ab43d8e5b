/*
 * util/intern.c - dense ids for equal byte strings.
 *
 * The compiler interns device-group sets and whole decision profiles with it, so
 * that users with identical access share one profile (most of a large tenant
 * does) and a check reads one small, hot structure. Linear probing over a
 * power-of-two table kept at most half full; blobs live in one growing arena and
 * are addressed by offset.
 *
 * Depends on: util/mem.c.
 */
#include "util/util.h"

urbac_err urbac__intern_init(urbac__intern *t, size_t expected)
{
  size_t n = 16;
  memset(t, 0, sizeof *t);
  while (n < expected * 2)
    n <<= 1;
  t->slots = urbac__calloc(n, sizeof *t->slots);
  t->hashes = urbac__calloc(n, sizeof *t->hashes);
  t->off = urbac__calloc(16, sizeof *t->off);
  t->cap_off = 16;
  if (!t->slots || !t->hashes || !t->off) {
    urbac__intern_free(t);
    return URBAC_ENOMEM;
  }
  t->mask = n - 1;
  return URBAC_OK;
}

void urbac__intern_free(urbac__intern *t)
{
  urbac__free(t->arena);
  urbac__free(t->off);
  urbac__free(t->slots);
  urbac__free(t->hashes);
  memset(t, 0, sizeof *t);
}

static size_t find(const urbac__intern *t, const void *p, size_t len, uint64_t h)
{
  size_t i = h & t->mask;
  while (t->slots[i]) {
    uint32_t id = t->slots[i] - 1;
    if (t->hashes[i] == h && t->off[id + 1] - t->off[id] == len && memcmp(t->arena + t->off[id], p, len) == 0)
      return i;
    i = (i + 1) & t->mask;
  }
  return i;
}

static urbac_err grow_table(urbac__intern *t)
{
  size_t n = (t->mask + 1) * 2;
  uint32_t *slots = urbac__calloc(n, sizeof *slots);
  uint64_t *hashes = urbac__calloc(n, sizeof *hashes);
  if (!slots || !hashes) {
    urbac__free(slots);
    urbac__free(hashes);
    return URBAC_ENOMEM;
  }
  for (size_t i = 0; i <= t->mask; i++) {
    if (!t->slots[i])
      continue;
    size_t j = t->hashes[i] & (n - 1);
    while (slots[j])
      j = (j + 1) & (n - 1);
    slots[j] = t->slots[i];
    hashes[j] = t->hashes[i];
  }
  urbac__free(t->slots);
  urbac__free(t->hashes);
  t->slots = slots;
  t->hashes = hashes;
  t->mask = n - 1;
  return URBAC_OK;
}

bool urbac__intern_find(const urbac__intern *t, const void *p, size_t len, uint32_t *id)
{
  size_t i = find(t, p, len, urbac__hash(p, len));
  if (t->slots[i])
    *id = t->slots[i] - 1;
  return t->slots[i] != 0;
}

urbac_err urbac__intern_put(urbac__intern *t, const void *p, size_t len, uint32_t *id, bool *added)
{
  uint64_t h = urbac__hash(p, len);
  size_t i = find(t, p, len, h);
  if (added)
    *added = false;
  if (t->slots[i]) {
    *id = t->slots[i] - 1;
    return URBAC_OK;
  }
  if (t->n + 1 >= UINT32_MAX || URBAC_GROW(t->off, t->cap_off, t->n + 2) ||
      URBAC_GROW(t->arena, t->arena_cap, t->arena_len + len + 1))
    return URBAC_ENOMEM;
  if ((t->n + 1) * 2 > t->mask + 1) { /* room first: a failure leaves no id half put */
    urbac_err err = grow_table(t);
    if (err)
      return err;
    i = find(t, p, len, h);
  }
  memcpy(t->arena + t->arena_len, p, len);
  t->arena_len += len;
  t->off[t->n + 1] = t->arena_len;
  *id = (uint32_t)t->n++;
  t->slots[i] = *id + 1;
  t->hashes[i] = h;
  if (added)
    *added = true;
  return URBAC_OK;
}
