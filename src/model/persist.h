/*
 * model/persist.h - persistent (copy-on-write) containers for the model and the
 * snapshot: a paged array and a string map built on it.
 *
 * A write to a tenant of a million users must not copy the tenant, nor even touch
 * every page of it. So a big array is a page table of fixed-size pages, and both
 * the table and each page are reference counted. Every write shares every array of
 * the model and of the snapshot, and changes a few: sharing an array costs one
 * atomic increment (of its table's count); the first change to an array whose
 * table is shared copies the table (n / 1,024 pointers) and retains each page it
 * points to; changing an element then copies only that element's page, and only
 * when another table still holds it. Freeing an array drops one table reference;
 * the last one releases the pages. So an array a write does not change costs that
 * write one increment and, when the old revision is freed, one decrement, where
 * counting every page (the design before) cost two cache misses a page: at a
 * million users some 10,000 pages in all, a tenth of a write's CPU.
 *
 * An array of object pointers (the model's users, groups, ...) also retains every
 * object of a page it copies, so objects are shared, never copied. Reads are two
 * dependent loads (page, element), as in a plain page table: the array keeps
 * `pages` pointing into its table, re-pointed when it copies or grows the table.
 * This is the check path.
 *
 * Arrays sharing a table have the same length: an array changes its length, or
 * an element, only in a table it holds alone. Counts are changed with atomic
 * operations (acquire/release): two arrays sharing a table or a page may live in
 * different threads, and either may be freed first. An array itself is not
 * thread-safe to write; one thread builds it, then any number read it (or share
 * it: sharing only increments a count).
 *
 * Depends on: util.
 */
#ifndef URBAC_MODEL_PERSIST_H
#define URBAC_MODEL_PERSIST_H

#include "util/util.h"

/* 1,024 elements a page: an array a write changes copies its page table and
 * touches a reference count per page (and again when the old revision is freed),
 * which at a million users and 256 a page was about a fifth of a write's CPU (when
 * every array paid it); a bigger page costs a bigger copy of the few pages a write
 * changes, and a small tenant about 0.2 MiB more. */
#define URBAC__PAGE_BITS 10u
#define URBAC__PAGE_N (1u << URBAC__PAGE_BITS)
#define URBAC__PAGE_MASK (URBAC__PAGE_N - 1u)

typedef struct urbac__page {
  uint32_t refs;
  uint32_t pad;
  uint64_t data[]; /* URBAC__PAGE_N elements of the array's esize bytes */
} urbac__page;

/* What an array holds: its element size and, for object pointers, how an element
 * is retained and released when a page is copied or freed. */
typedef struct urbac__cow_type {
  size_t esize;
  void (*retain)(void *elem);
  void (*release)(void *elem);
} urbac__cow_type;

/* A page table: `refs` arrays share it; page[0 .. npages-1] (the arrays' npages)
 * are in use, `cap` allocated. */
typedef struct urbac__ptable {
  uint32_t refs;
  uint32_t pad;
  size_t cap;
  urbac__page *page[];
} urbac__ptable;

typedef struct urbac__cow {
  urbac__page **pages; /* t->page, NULL when empty: a read loads one pointer less */
  urbac__ptable *t;
  size_t n, npages;
  const urbac__cow_type *type;
} urbac__cow;

/* Plain value arrays. */
extern const urbac__cow_type urbac__cow_u32;

static inline void *urbac__cow_at(const urbac__cow *c, size_t i)
{
  return (char *)c->pages[i >> URBAC__PAGE_BITS]->data + (i & URBAC__PAGE_MASK) * c->type->esize;
}
static inline uint32_t urbac__cow_u32_at(const urbac__cow *c, size_t i)
{
  return ((const uint32_t *)(const void *)c->pages[i >> URBAC__PAGE_BITS]->data)[i & URBAC__PAGE_MASK];
}

/* An empty array of `type`. */
void urbac__cow_init(urbac__cow *c, const urbac__cow_type *type);
/* Drops `c`'s reference to its page table; the last reference releases every page
 * (and, with the last reference to a page, its elements) and frees the table.
 * Leaves `c` empty. Accepts an empty array. */
void urbac__cow_free(urbac__cow *c);
/* `dst` (uninitialised) shares `src`'s page table: one atomic increment, never
 * fails. `src` is only read (another thread may read or share it meanwhile); each
 * is freed with urbac__cow_free(), in either order. */
void urbac__cow_share(urbac__cow *dst, const urbac__cow *src);
/* Element `i` (< n), writable; NULL when out of memory. The page table is copied
 * first when shared, then the element's page when another table holds it. */
void *urbac__cow_mut(urbac__cow *c, size_t i);
/* Appends one element (copied from `elem`; zeroes when NULL); with an object
 * pointer array the array takes over the caller's reference. */
urbac_err urbac__cow_push(urbac__cow *c, const void *elem);
/* Grows to `n` elements, the new ones zero. */
urbac_err urbac__cow_grow(urbac__cow *c, size_t n);
/* The bytes `c` reaches: its pages and its page table, each counted in full even
 * when shared with other arrays (so a sum over arrays sharing them counts them
 * more than once); the elements' own objects not included. */
size_t urbac__cow_bytes(const urbac__cow *c);

/* ---------------------------------------------------------------- string map */

/* A persistent open-addressing map from a byte string to a uint32, as
 * urbac__strmap (linear probing, at most half full, the hash beside the key) but
 * over a urbac__cow of slots, with deletion (a tombstone). Keys are not copied:
 * they must outlive every map that shares the slot (the model points them at its
 * objects' ids, and re-points a slot when it replaces the object). */
typedef struct urbac__smap_slot {
  const char *key;
  uint32_t len;
  uint32_t hash;
  uint32_t value1; /* value + 1; 0 empty; UINT32_MAX a deleted entry */
  uint32_t pad;
} urbac__smap_slot;

typedef struct urbac__smap {
  urbac__cow slots;
  size_t mask, count, tombs;
} urbac__smap;

urbac_err urbac__smap_init(urbac__smap *m, size_t expected);
void urbac__smap_free(urbac__smap *m);
/* `dst` (uninitialised) shares `src`'s slots: as urbac__cow_share(). */
void urbac__smap_share(urbac__smap *dst, const urbac__smap *src);
/* Inserts key -> value. Returns URBAC_EDUPLICATE (and *existing) if present. */
urbac_err urbac__smap_put(urbac__smap *m, const char *key, size_t len, uint32_t value, uint32_t *existing);
/* Points the entry of an existing key at `key` (same bytes, new storage). */
urbac_err urbac__smap_rekey(urbac__smap *m, const char *key, size_t len);
/* Removes key; URBAC_ENOTFOUND when absent. */
urbac_err urbac__smap_del(urbac__smap *m, const char *key, size_t len);
bool urbac__smap_get(const urbac__smap *m, const char *key, size_t len, uint32_t *value);
size_t urbac__smap_bytes(const urbac__smap *m);

/* ---------------------------------------------------------------- append-only log */

/* An append-only array that successive snapshots share without a page table, so
 * that reading element i is one load as in a plain array (the check path reads
 * profiles this way). Each holder keeps its own length over a shared, reference
 * counted arena; a holder may append in place only while nobody appended past its
 * length (a compare-and-swap on the arena's length claims the slot), otherwise,
 * or when the arena is full, it copies into a new arena (twice the size). Readers
 * never look past their own length, so appends by a successor do not disturb them. */
typedef struct urbac__arena {
  uint32_t refs;
  uint32_t pad;
  size_t len, cap, esize;
  uint64_t data[];
} urbac__arena;

typedef struct urbac__log {
  urbac__arena *a;
  void *v; /* a->data: elements 0 .. n-1 are this holder's */
  size_t n;
} urbac__log;

void urbac__log_free(urbac__log *l);
/* `dst` (uninitialised) shares `src`'s arena and length. */
void urbac__log_share(urbac__log *dst, const urbac__log *src);
/* Appends one element of `esize` bytes (the same for every push to a log). */
urbac_err urbac__log_push(urbac__log *l, size_t esize, const void *elem);
size_t urbac__log_bytes(const urbac__log *l);

/* ---------------------------------------------------------------- hash index */

/* A persistent multimap from a 64-bit hash to uint32 values, for interning: the
 * caller keeps the content and says which candidate equals its key. No deletion. */
typedef struct urbac__hmap_slot {
  uint64_t hash;
  uint32_t value1; /* value + 1; 0 empty */
  uint32_t pad;
} urbac__hmap_slot;

typedef struct urbac__hmap {
  urbac__cow slots;
  size_t mask, count;
} urbac__hmap;

urbac_err urbac__hmap_init(urbac__hmap *m, size_t expected);
void urbac__hmap_free(urbac__hmap *m);
/* `dst` (uninitialised) shares `src`'s slots: as urbac__cow_share(). */
void urbac__hmap_share(urbac__hmap *dst, const urbac__hmap *src);
urbac_err urbac__hmap_put(urbac__hmap *m, uint64_t hash, uint32_t value);
/* The first value under `hash` for which eq(ctx, value) holds: true and *value. */
bool urbac__hmap_find(const urbac__hmap *m, uint64_t hash, bool (*eq)(const void *ctx, uint32_t value),
                      const void *ctx, uint32_t *value);

#endif
