/*
 * model/persist.c - the copy-on-write paged array and the string map over it
 * (model/persist.h says why and how).
 *
 * Two levels of counts. A table's count is the number of arrays sharing it; a
 * page's count is the number of tables holding it. An array changes anything only
 * in a table it holds alone (own_table(): otherwise it copies the table, retains
 * each page, and drops one reference to the old table), and writes a page in place
 * only while that page's count is 1 (own_page(): otherwise it copies the page,
 * retaining its elements, and drops one reference to the old page). The string
 * map probes, inserts and deletes through those calls, so a change to one key
 * copies the slots' table (once per revision) and one page of slots.
 *
 * A count that reaches 1 is read with acquire, and every decrement is acq_rel:
 * what another thread did to the table or page before letting it go happens
 * before this one writes it in place or frees it.
 *
 * Depends on: util.
 */
#include "model/persist.h"

const urbac__cow_type urbac__cow_u32 = {sizeof(uint32_t), NULL, NULL};

static size_t page_bytes(const urbac__cow *c) { return sizeof(urbac__page) + URBAC__PAGE_N * c->type->esize; }

static void page_release(const urbac__cow_type *t, urbac__page *p, size_t used)
{
  if (!p || __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) != 0)
    return;
  for (size_t i = 0; t->release && i < used; i++)
    t->release((char *)p->data + i * t->esize);
  urbac__free(p);
}

/* Elements held by page `k` (the last one may be partly filled). */
static size_t page_used(const urbac__cow *c, size_t k)
{
  size_t first = k << URBAC__PAGE_BITS;
  return c->n - first < URBAC__PAGE_N ? c->n - first : URBAC__PAGE_N;
}

/* Drops c's reference to table `t` (c's length is the table's); the last one
 * releases its pages and frees it. */
static void table_release(const urbac__cow *c, urbac__ptable *t)
{
  if (!t || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) != 0)
    return;
  for (size_t k = 0; k < c->npages; k++)
    page_release(c->type, t->page[k], page_used(c, k));
  urbac__free(t);
}

void urbac__cow_init(urbac__cow *c, const urbac__cow_type *type)
{
  memset(c, 0, sizeof *c);
  c->type = type;
}

void urbac__cow_free(urbac__cow *c)
{
  table_release(c, c->t);
  urbac__cow_init(c, c->type);
}

void urbac__cow_share(urbac__cow *dst, const urbac__cow *src)
{
  *dst = *src;
  if (dst->t)
    __atomic_add_fetch(&dst->t->refs, 1, __ATOMIC_RELAXED);
}

/* A table of `cap` page slots holding c's pages, each retained; NULL when out of memory. */
static urbac__ptable *table_copy(const urbac__cow *c, size_t cap)
{
  urbac__ptable *t = urbac__malloc(sizeof *t + cap * sizeof t->page[0]);
  if (!t)
    return NULL;
  t->refs = 1;
  t->pad = 0;
  t->cap = cap;
  for (size_t k = 0; k < c->npages; k++) {
    t->page[k] = c->pages[k];
    __atomic_add_fetch(&t->page[k]->refs, 1, __ATOMIC_RELAXED);
  }
  return t;
}

/* Makes c's page table its own, with room for `need` pages (at least npages):
 * copied when shared, reallocated (doubling) when too small. */
static urbac_err own_table(urbac__cow *c, size_t need)
{
  urbac__ptable *t = c->t;
  bool mine = t && __atomic_load_n(&t->refs, __ATOMIC_ACQUIRE) == 1;
  if (mine && t->cap >= need)
    return URBAC_OK;
  size_t cap = need > c->npages && need < c->npages * 2 ? c->npages * 2 : need;
  if (cap > (SIZE_MAX - sizeof *t) / sizeof t->page[0])
    return URBAC_ENOMEM;
  if (mine) {
    t = urbac__realloc(t, sizeof *t + cap * sizeof t->page[0]);
    if (!t)
      return URBAC_ENOMEM;
    t->cap = cap;
  } else {
    if (!(t = table_copy(c, cap)))
      return URBAC_ENOMEM;
    table_release(c, c->t); /* our pages survive it: the copy retained them */
  }
  c->t = t;
  c->pages = t->page;
  return URBAC_OK;
}

/* Makes page `k` this array's own (its table first); NULL when out of memory. */
static urbac__page *own_page(urbac__cow *c, size_t k)
{
  if (own_table(c, c->npages))
    return NULL;
  urbac__page *p = c->pages[k];
  if (__atomic_load_n(&p->refs, __ATOMIC_ACQUIRE) == 1)
    return p;
  urbac__page *q = urbac__malloc(page_bytes(c));
  if (!q)
    return NULL;
  q->refs = 1; /* the data only: p->refs may be changing in another thread */
  q->pad = 0;
  memcpy(q->data, p->data, URBAC__PAGE_N * c->type->esize);
  size_t used = page_used(c, k);
  for (size_t i = 0; c->type->retain && i < used; i++)
    c->type->retain((char *)q->data + i * c->type->esize);
  page_release(c->type, p, used);
  c->pages[k] = q;
  return q;
}

void *urbac__cow_mut(urbac__cow *c, size_t i)
{
  URBAC_ASSERT(i < c->n);
  urbac__page *p = own_page(c, i >> URBAC__PAGE_BITS);
  return p ? (char *)p->data + (i & URBAC__PAGE_MASK) * c->type->esize : NULL;
}

urbac_err urbac__cow_grow(urbac__cow *c, size_t n)
{
  if (n <= c->n)
    return URBAC_OK;
  if (n > SIZE_MAX - URBAC__PAGE_N || own_table(c, (n + URBAC__PAGE_MASK) >> URBAC__PAGE_BITS))
    return URBAC_ENOMEM;
  while (c->n < n) {
    size_t k = c->n >> URBAC__PAGE_BITS, at = c->n & URBAC__PAGE_MASK;
    if (k == c->npages) {
      urbac__page *p = urbac__calloc(1, page_bytes(c));
      if (!p)
        return URBAC_ENOMEM;
      p->refs = 1;
      c->pages[c->npages++] = p;
    } else if (!own_page(c, k)) {
      return URBAC_ENOMEM;
    }
    size_t take = URBAC__PAGE_N - at < n - c->n ? URBAC__PAGE_N - at : n - c->n;
    memset((char *)c->pages[k]->data + at * c->type->esize, 0, take * c->type->esize);
    c->n += take;
  }
  return URBAC_OK;
}

urbac_err urbac__cow_push(urbac__cow *c, const void *elem)
{
  if (urbac__cow_grow(c, c->n + 1))
    return URBAC_ENOMEM;
  if (elem)
    memcpy(urbac__cow_at(c, c->n - 1), elem, c->type->esize);
  return URBAC_OK;
}

size_t urbac__cow_bytes(const urbac__cow *c)
{
  return c->t ? c->npages * page_bytes(c) + sizeof *c->t + c->t->cap * sizeof c->t->page[0] : 0;
}

/* ---------------------------------------------------------------- string map */

static const urbac__cow_type slot_type = {sizeof(urbac__smap_slot), NULL, NULL};
#define DELETED UINT32_MAX

static const urbac__smap_slot *slot_at(const urbac__smap *m, size_t i)
{
  return (const urbac__smap_slot *)urbac__cow_at(&m->slots, i);
}

/* A table of zeroed slots, a power of two at least twice `expected`: *mask. */
static urbac_err table_init(urbac__cow *slots, const urbac__cow_type *type, size_t expected, size_t *mask)
{
  size_t n = URBAC__PAGE_N;
  urbac__cow_init(slots, type);
  *mask = 0;
  while (n < expected * 2) {
    if (n > (SIZE_MAX >> 6))
      return URBAC_ENOMEM;
    n <<= 1;
  }
  if (urbac__cow_grow(slots, n)) {
    urbac__cow_free(slots);
    return URBAC_ENOMEM;
  }
  *mask = n - 1;
  return URBAC_OK;
}

urbac_err urbac__smap_init(urbac__smap *m, size_t expected)
{
  memset(m, 0, sizeof *m);
  return table_init(&m->slots, &slot_type, expected, &m->mask);
}

void urbac__smap_free(urbac__smap *m)
{
  urbac__cow_free(&m->slots);
  m->mask = m->count = m->tombs = 0;
}

void urbac__smap_share(urbac__smap *dst, const urbac__smap *src)
{
  *dst = *src;
  urbac__cow_share(&dst->slots, &src->slots);
}

/* The slot holding key, or else the first free one (empty or deleted) on its probe. */
static size_t probe(const urbac__smap *m, const char *key, size_t len, uint32_t h, bool *found)
{
  size_t i = h & m->mask, free_at = SIZE_MAX;
  const urbac__smap_slot *e;
  *found = false;
  while ((e = slot_at(m, i))->value1) {
    if (e->value1 == DELETED) {
      if (free_at == SIZE_MAX)
        free_at = i;
    } else if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0) {
      *found = true;
      return i;
    }
    i = (i + 1) & m->mask;
  }
  return free_at != SIZE_MAX ? free_at : i;
}

/* A fresh table twice the live count (or the same size, when deletions filled it). */
static urbac_err rehash(urbac__smap *m)
{
  urbac__smap bigger;
  urbac_err err = urbac__smap_init(&bigger, m->count + 1 > (m->mask + 1) / 4 ? m->mask + 1 : m->count + 1);
  for (size_t i = 0; !err && i <= m->mask; i++) {
    const urbac__smap_slot *e = slot_at(m, i);
    if (!e->value1 || e->value1 == DELETED)
      continue;
    size_t j = e->hash & bigger.mask;
    while (slot_at(&bigger, j)->value1)
      j = (j + 1) & bigger.mask;
    *(urbac__smap_slot *)urbac__cow_at(&bigger.slots, j) = *e; /* pages of `bigger` are its own */
  }
  if (err) {
    urbac__smap_free(&bigger);
    return err;
  }
  bigger.count = m->count;
  urbac__smap_free(m);
  *m = bigger;
  return URBAC_OK;
}

urbac_err urbac__smap_put(urbac__smap *m, const char *key, size_t len, uint32_t value, uint32_t *existing)
{
  bool found;
  if (len > UINT32_MAX || value >= DELETED - 1)
    return URBAC_ELIMIT;
  if ((m->count + m->tombs + 1) * 2 > m->mask + 1) {
    urbac_err err = rehash(m);
    if (err)
      return err;
  }
  uint32_t h = (uint32_t)urbac__hash(key, len);
  size_t i = probe(m, key, len, h, &found);
  if (found) {
    if (existing)
      *existing = slot_at(m, i)->value1 - 1;
    return URBAC_EDUPLICATE;
  }
  urbac__smap_slot *s = urbac__cow_mut(&m->slots, i);
  if (!s)
    return URBAC_ENOMEM;
  m->tombs -= s->value1 == DELETED;
  *s = (urbac__smap_slot){key, (uint32_t)len, h, value + 1, 0};
  m->count++;
  return URBAC_OK;
}

/* The writable slot of key: URBAC_ENOTFOUND when absent. */
static urbac_err slot_mut(urbac__smap *m, const char *key, size_t len, urbac__smap_slot **out)
{
  bool found;
  size_t i = probe(m, key, len, (uint32_t)urbac__hash(key, len), &found);
  if (!found)
    return URBAC_ENOTFOUND;
  *out = urbac__cow_mut(&m->slots, i);
  return *out ? URBAC_OK : URBAC_ENOMEM;
}

urbac_err urbac__smap_rekey(urbac__smap *m, const char *key, size_t len)
{
  urbac__smap_slot *s = NULL;
  urbac_err err = slot_mut(m, key, len, &s);
  if (!err)
    s->key = key;
  return err;
}

urbac_err urbac__smap_del(urbac__smap *m, const char *key, size_t len)
{
  urbac__smap_slot *s = NULL;
  urbac_err err = slot_mut(m, key, len, &s);
  if (err)
    return err;
  *s = (urbac__smap_slot){NULL, 0, 0, DELETED, 0};
  m->count--;
  m->tombs++;
  return URBAC_OK;
}

bool urbac__smap_get(const urbac__smap *m, const char *key, size_t len, uint32_t *value)
{
  bool found;
  if (!m->mask)
    return false;
  size_t i = probe(m, key, len, (uint32_t)urbac__hash(key, len), &found);
  if (found)
    *value = slot_at(m, i)->value1 - 1;
  return found;
}

size_t urbac__smap_bytes(const urbac__smap *m)
{
  size_t keys = 0;
  for (size_t i = 0; m->mask && i <= m->mask; i++) {
    const urbac__smap_slot *e = slot_at(m, i);
    keys += e->value1 && e->value1 != DELETED ? e->len + 1 : 0;
  }
  return urbac__cow_bytes(&m->slots) + keys;
}

/* ---------------------------------------------------------------- append-only log */

static void arena_release(urbac__arena *a)
{
  if (a && __atomic_sub_fetch(&a->refs, 1, __ATOMIC_ACQ_REL) == 0)
    urbac__free(a);
}

void urbac__log_free(urbac__log *l)
{
  arena_release(l->a);
  memset(l, 0, sizeof *l);
}

void urbac__log_share(urbac__log *dst, const urbac__log *src)
{
  *dst = *src;
  if (dst->a)
    __atomic_add_fetch(&dst->a->refs, 1, __ATOMIC_RELAXED);
}

/* Claims slot l->n of the arena for this holder: true when nobody else has it. */
static bool claim(urbac__log *l)
{
  size_t want = l->n;
  return l->a && l->n < l->a->cap &&
         __atomic_compare_exchange_n(&l->a->len, &want, l->n + 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

urbac_err urbac__log_push(urbac__log *l, size_t esize, const void *elem)
{
  if (!claim(l)) {
    size_t cap = l->n < 32 ? 64 : l->n * 2;
    if (cap > SIZE_MAX / 2 / esize)
      return URBAC_ENOMEM;
    urbac__arena *a = urbac__malloc(sizeof *a + cap * esize);
    if (!a)
      return URBAC_ENOMEM;
    *a = (urbac__arena){1, 0, l->n + 1, cap, esize};
    if (l->n)
      memcpy(a->data, l->a->data, l->n * esize);
    arena_release(l->a);
    l->a = a;
    l->v = a->data;
  }
  memcpy((char *)l->v + l->n * esize, elem, esize);
  l->n++;
  return URBAC_OK;
}

size_t urbac__log_bytes(const urbac__log *l) { return l->a ? sizeof *l->a + l->a->cap * l->a->esize : 0; }

/* ---------------------------------------------------------------- hash index */

static const urbac__cow_type hslot_type = {sizeof(urbac__hmap_slot), NULL, NULL};

urbac_err urbac__hmap_init(urbac__hmap *m, size_t expected)
{
  memset(m, 0, sizeof *m);
  return table_init(&m->slots, &hslot_type, expected, &m->mask);
}

void urbac__hmap_free(urbac__hmap *m)
{
  urbac__cow_free(&m->slots);
  m->mask = m->count = 0;
}

void urbac__hmap_share(urbac__hmap *dst, const urbac__hmap *src)
{
  *dst = *src;
  urbac__cow_share(&dst->slots, &src->slots);
}

static const urbac__hmap_slot *hslot(const urbac__hmap *m, size_t i)
{
  return (const urbac__hmap_slot *)urbac__cow_at(&m->slots, i);
}

static urbac_err hmap_grow(urbac__hmap *m)
{
  urbac__hmap bigger;
  urbac_err err = urbac__hmap_init(&bigger, m->mask + 1);
  for (size_t i = 0; !err && i <= m->mask; i++) {
    const urbac__hmap_slot *e = hslot(m, i);
    size_t j = e->hash & bigger.mask;
    while (e->value1 && hslot(&bigger, j)->value1)
      j = (j + 1) & bigger.mask;
    if (e->value1)
      *(urbac__hmap_slot *)urbac__cow_at(&bigger.slots, j) = *e; /* pages of `bigger` are its own */
  }
  if (err) {
    urbac__hmap_free(&bigger);
    return err;
  }
  bigger.count = m->count;
  urbac__hmap_free(m);
  *m = bigger;
  return URBAC_OK;
}

urbac_err urbac__hmap_put(urbac__hmap *m, uint64_t hash, uint32_t value)
{
  if (value == UINT32_MAX)
    return URBAC_ELIMIT;
  if ((m->count + 1) * 2 > m->mask + 1 && hmap_grow(m))
    return URBAC_ENOMEM;
  size_t i = hash & m->mask;
  while (hslot(m, i)->value1)
    i = (i + 1) & m->mask;
  urbac__hmap_slot *s = urbac__cow_mut(&m->slots, i);
  if (!s)
    return URBAC_ENOMEM;
  *s = (urbac__hmap_slot){hash, value + 1, 0};
  m->count++;
  return URBAC_OK;
}

bool urbac__hmap_find(const urbac__hmap *m, uint64_t hash, bool (*eq)(const void *ctx, uint32_t value),
                      const void *ctx, uint32_t *value)
{
  for (size_t i = hash & m->mask; m->mask && hslot(m, i)->value1; i = (i + 1) & m->mask) {
    const urbac__hmap_slot *e = hslot(m, i);
    if (e->hash == hash && eq(ctx, e->value1 - 1)) {
      *value = e->value1 - 1;
      return true;
    }
  }
  return false;
}
