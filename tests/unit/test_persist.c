/*
 * tests/unit/test_persist.c - src/model/persist.c on its own: the copy-on-write
 * paged array (urbac__cow) whose page table is shared whole and copied at an
 * array's first change, and the string map and hash index over it. Each test
 * shares, changes either side, and checks both sides against values it computes
 * itself; elements are reference-counted items, so a release too many or too few
 * shows as a wrong count of live items (and the failing allocator's count of live
 * blocks shows a table or page left behind). One test frees a copy in one thread
 * while two others change their own copies; run it under TSan too:
 *   cmake -S . -B build-tsan -DURBAC_TESTS=ON -DCMAKE_C_FLAGS="-fsanitize=thread -g -O1" \
 *         -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread && cmake --build build-tsan --target test_persist
 * (TSan found a page copied whole, its count with it, while another thread
 * released it: now only the data is copied.)
 *
 * Depends on: model/persist (src/ internals), util; pthreads.
 */
#include <pthread.h>

#include "failing_alloc.h"
#include "helpers.h"
#include "model/persist.h"

/* ---------------------------------------------------------------- counted items */

typedef struct item {
  uint32_t refs;
  uint32_t value;
} item;

static long items_live; /* items allocated and not yet released for the last time */

static item *item_new(uint32_t value)
{
  item *it = malloc(sizeof *it);
  if (it) {
    *it = (item){1, value};
    __atomic_add_fetch(&items_live, 1, __ATOMIC_RELAXED);
  }
  return it;
}

static void item_retain(void *elem)
{
  item *it = *(item **)elem;
  if (it)
    __atomic_add_fetch(&it->refs, 1, __ATOMIC_RELAXED);
}

static void item_release(void *elem)
{
  item *it = *(item **)elem;
  if (it && __atomic_sub_fetch(&it->refs, 1, __ATOMIC_ACQ_REL) == 0) {
    free(it);
    __atomic_sub_fetch(&items_live, 1, __ATOMIC_RELAXED);
  }
}

static const urbac__cow_type item_type = {sizeof(item *), item_retain, item_release};

/* Sets element i to a new item of `value`, releasing the one it held: false when
 * out of memory (nothing changed). */
static bool item_set(urbac__cow *c, size_t i, uint32_t value)
{
  item **slot = urbac__cow_mut(c, i);
  item *it = slot ? item_new(value) : NULL;
  if (!it)
    return false;
  item_release(slot);
  *slot = it;
  return true;
}

static uint32_t item_at(const urbac__cow *c, size_t i)
{
  return (*(item *const *)urbac__cow_at(c, i))->value;
}

/* An array of n items, element i holding value i. */
static void items_fill(urbac__cow *c, size_t n)
{
  urbac__cow_init(c, &item_type);
  for (size_t i = 0; i < n; i++) {
    item *it = item_new((uint32_t)i);
    assert_non_null(it);
    assert_int_equal(urbac__cow_push(c, &it), URBAC_OK);
  }
}

/* Element i of c holds want(i) for every i < n, where want is i except at the
 * listed (index, value) pairs. */
static void items_expect(const urbac__cow *c, size_t n, const size_t *at, const uint32_t *value, size_t nat)
{
  assert_int_equal(c->n, n);
  for (size_t i = 0; i < n; i++) {
    uint32_t want = (uint32_t)i;
    for (size_t k = 0; k < nat; k++)
      want = at[k] == i ? value[k] : want;
    if (item_at(c, i) != want)
      fail_msg("element %zu: %u, expected %u", i, item_at(c, i), want);
  }
}

/* ---------------------------------------------------------------- the array */

static void test_share_then_mutate_either_side(void **state)
{
  (void)state;
  urbac__cow a, b;
  failing_alloc_on();
  items_fill(&a, 3000); /* three pages, the last partly filled */
  urbac__cow_share(&b, &a);
  assert_ptr_equal(b.t, a.t); /* one table, counted twice: no page touched */
  assert_int_equal(a.t->refs, 2);
  assert_int_equal(a.t->page[0]->refs, 1);

  assert_true(item_set(&b, 5, 100005));
  assert_ptr_not_equal(b.t, a.t); /* b's first change copied the table ... */
  assert_int_equal(a.t->refs, 1);
  assert_ptr_not_equal(b.pages[0], a.pages[0]); /* ... and the page it changed */
  assert_ptr_equal(b.pages[1], a.pages[1]);     /* the others are shared */
  assert_int_equal(a.pages[1]->refs, 2);
  urbac__page *own = b.pages[0];
  urbac__ptable *table = b.t;
  assert_true(item_set(&b, 6, 100006)); /* b's now: changed in place */
  assert_ptr_equal(b.pages[0], own);
  assert_ptr_equal(b.t, table);

  assert_true(item_set(&a, 2500, 7)); /* the original side, a shared page */
  assert_ptr_not_equal(a.pages[2], b.pages[2]);
  items_expect(&a, 3000, (size_t[]){2500}, (uint32_t[]){7}, 1);
  items_expect(&b, 3000, (size_t[]){5, 6}, (uint32_t[]){100005, 100006}, 2);
  assert_true(urbac__cow_bytes(&a) >= 3 * URBAC__PAGE_N * sizeof(item *));

  urbac__cow_free(&a);
  items_expect(&b, 3000, (size_t[]){5, 6}, (uint32_t[]){100005, 100006}, 2);
  urbac__cow_free(&b);
  assert_int_equal(items_live, 0);
  assert_int_equal(alloc_live, 0);
  failing_alloc_off();
}

static void test_grow_past_a_page_after_share(void **state)
{
  (void)state;
  urbac__cow a, b;
  failing_alloc_on();
  urbac__cow_init(&a, &urbac__cow_u32);
  assert_int_equal(urbac__cow_grow(&a, URBAC__PAGE_N), URBAC_OK); /* exactly one full page */
  for (size_t i = 0; i < a.n; i++)
    *(uint32_t *)urbac__cow_mut(&a, i) = (uint32_t)(i * 3);
  urbac__cow_share(&b, &a);
  uint32_t v = 77;
  assert_int_equal(urbac__cow_push(&b, &v), URBAC_OK); /* onto a new page */
  assert_int_equal(b.n, URBAC__PAGE_N + 1);
  assert_int_equal(a.n, URBAC__PAGE_N);
  assert_int_equal(a.npages, 1);
  assert_ptr_equal(a.pages[0], b.pages[0]); /* the full page is still shared */
  assert_int_equal(urbac__cow_u32_at(&b, URBAC__PAGE_N), 77);

  /* A partly filled last page shared, then pushed onto from both sides. */
  assert_int_equal(urbac__cow_grow(&a, 1500), URBAC_OK);
  urbac__cow_free(&b);
  urbac__cow_share(&b, &a);
  v = 11;
  assert_int_equal(urbac__cow_push(&a, &v), URBAC_OK);
  v = 22;
  assert_int_equal(urbac__cow_push(&b, &v), URBAC_OK);
  assert_int_equal(urbac__cow_grow(&b, 5000), URBAC_OK);
  assert_int_equal(a.n, 1501);
  assert_int_equal(b.n, 5000);
  for (size_t i = 0; i < 5000; i++) {
    uint32_t want = i < URBAC__PAGE_N ? (uint32_t)(i * 3) : i == 1500 ? 22 : 0;
    assert_int_equal(urbac__cow_u32_at(&b, i), want);
    if (i <= 1500)
      assert_int_equal(urbac__cow_u32_at(&a, i), i == 1500 ? 11 : want);
  }
  urbac__cow_free(&b);
  urbac__cow_free(&a);
  urbac__cow_free(&a); /* an empty array frees again */
  assert_int_equal(alloc_live, 0);
  failing_alloc_off();
}

static void test_free_in_both_orders(void **state)
{
  (void)state;
  for (int order = 0; order < 2; order++) {
    urbac__cow a, b;
    failing_alloc_on();
    items_fill(&a, 2100);
    urbac__cow_share(&b, &a);
    assert_true(item_set(&b, 1030, 9));
    assert_true(item_set(&a, 2099, 8));
    urbac__cow *first = order ? &a : &b, *second = order ? &b : &a;
    urbac__cow_free(first);
    if (order)
      items_expect(&b, 2100, (size_t[]){1030}, (uint32_t[]){9}, 1);
    else
      items_expect(&a, 2100, (size_t[]){2099}, (uint32_t[]){8}, 1);
    urbac__cow_free(second);
    assert_int_equal(items_live, 0);
    assert_int_equal(alloc_live, 0);
    failing_alloc_off();
  }
}

static void test_share_chain(void **state)
{
  (void)state;
  urbac__cow a, b, c;
  failing_alloc_on();
  items_fill(&a, 3000);
  urbac__cow_share(&b, &a);
  urbac__cow_share(&c, &b);
  assert_int_equal(a.t->refs, 3);
  assert_true(item_set(&b, 1500, 42)); /* the middle one changes */
  assert_ptr_equal(c.t, a.t);
  assert_int_equal(a.t->refs, 2);
  items_expect(&a, 3000, NULL, NULL, 0);
  items_expect(&c, 3000, NULL, NULL, 0);
  items_expect(&b, 3000, (size_t[]){1500}, (uint32_t[]){42}, 1);
  item *it = item_new(3000);
  assert_int_equal(urbac__cow_push(&c, &it), URBAC_OK); /* and the last grows */
  assert_int_equal(a.n, 3000);
  urbac__cow_free(&b);
  urbac__cow_free(&a);
  items_expect(&c, 3001, NULL, NULL, 0);
  urbac__cow_free(&c);
  assert_int_equal(items_live, 0);
  assert_int_equal(alloc_live, 0);
  failing_alloc_off();
}

/* Every allocation of a change to a shared array fails once: a clean failure,
 * both arrays still whole, nothing leaked. */
static void test_out_of_memory_after_share(void **state)
{
  (void)state;
  bool failed = true;
  long n;
  for (n = 1; failed && n < 1000; n++) {
    urbac__cow a, b;
    failing_alloc_on();
    items_fill(&a, 2100);
    urbac__cow_share(&b, &a);
    alloc_fail_at = n; /* counted from here */
    item *it = item_new(2100);
    failed = !item_set(&b, 3, 1) || urbac__cow_push(&b, &it) || urbac__cow_grow(&b, 4100) ||
             !item_set(&a, 2000, 2);
    items_expect(&a, 2100, (size_t[]){2000}, (uint32_t[]){failed ? 2000 : 2}, 1);
    for (size_t i = 0; i < 2100; i++)
      assert_true(item_at(&b, i) == i || (i == 3 && item_at(&b, i) == 1));
    assert_true(b.n >= 2100 && b.n <= 4100);
    if (b.n == 2100)
      item_release(&it); /* the push failed: still ours */
    urbac__cow_free(&a);
    urbac__cow_free(&b);
    assert_int_equal(items_live, 0);
    assert_int_equal(alloc_live, 0);
    failing_alloc_off();
  }
  assert_false(failed);
  assert_true(n > 5); /* the table copy, the page copies, the growth each failed once */
}

/* ---------------------------------------------------------------- two threads */

typedef struct job {
  urbac__cow *c;
  bool mutate;
  uint32_t round;
  pthread_barrier_t *start;
  bool ok;
} job;

/* Changes one element of every page of its copy, checks the whole copy, frees it;
 * or only frees it. */
static void *worker(void *arg)
{
  job *j = arg;
  size_t n = j->c->n;
  pthread_barrier_wait(j->start);
  j->ok = true;
  for (size_t k = 0; j->mutate && k * URBAC__PAGE_N < n; k++)
    j->ok = j->ok && item_set(j->c, k * URBAC__PAGE_N + j->round % URBAC__PAGE_N, UINT32_MAX - (uint32_t)k);
  for (size_t i = 0; j->mutate && i < n; i++) {
    bool changed = i % URBAC__PAGE_N == j->round % URBAC__PAGE_N;
    j->ok = j->ok && item_at(j->c, i) == (changed ? UINT32_MAX - (uint32_t)(i / URBAC__PAGE_N) : (uint32_t)i);
  }
  urbac__cow_free(j->c);
  return NULL;
}

static void test_two_threads(void **state)
{
  (void)state;
  for (uint32_t round = 0; round < 300; round++) {
    urbac__cow base, copy, mine;
    pthread_barrier_t start;
    pthread_t t[2];
    items_fill(&base, 8 * URBAC__PAGE_N);
    urbac__cow_share(&copy, &base);
    urbac__cow_share(&mine, &base);
    assert_int_equal(pthread_barrier_init(&start, NULL, 3), 0);
    job jobs[3] = {{&base, false, round, &start, false},
                   {&copy, true, round, &start, false},
                   {&mine, true, round + 1, &start, false}};
    /* one thread frees the base, another changes its copy, this one its own */
    assert_int_equal(pthread_create(&t[0], NULL, worker, &jobs[0]), 0);
    assert_int_equal(pthread_create(&t[1], NULL, worker, &jobs[1]), 0);
    worker(&jobs[2]);
    assert_int_equal(pthread_join(t[0], NULL), 0);
    assert_int_equal(pthread_join(t[1], NULL), 0);
    pthread_barrier_destroy(&start);
    assert_true(jobs[1].ok && jobs[2].ok);
    assert_int_equal(items_live, 0);
  }
}

/* ---------------------------------------------------------------- the maps */

#define NKEYS 6000
static char keys[NKEYS][8];

static void test_smap_after_share(void **state)
{
  (void)state;
  urbac__smap base, copy;
  uint32_t v;
  for (size_t i = 0; i < NKEYS; i++)
    snprintf(keys[i], sizeof keys[i], "k%05zu", i);
  failing_alloc_on();
  assert_int_equal(urbac__smap_init(&base, 0), URBAC_OK);
  for (uint32_t i = 0; i < NKEYS / 2; i++) /* rehashes on the way */
    assert_int_equal(urbac__smap_put(&base, keys[i], 6, i, NULL), URBAC_OK);
  urbac__smap_share(&copy, &base);
  assert_int_equal(urbac__smap_del(&copy, keys[10], 6), URBAC_OK);
  for (uint32_t i = NKEYS / 2; i < NKEYS; i++) /* the copy rehashes: a table of its own */
    assert_int_equal(urbac__smap_put(&copy, keys[i], 6, i, NULL), URBAC_OK);
  assert_int_equal(urbac__smap_put(&base, "only-base", 9, 1, NULL), URBAC_OK);
  assert_int_equal(urbac__smap_put(&copy, keys[11], 6, 0, &v), URBAC_EDUPLICATE);
  assert_int_equal(v, 11);
  assert_int_equal(base.count, NKEYS / 2 + 1);
  assert_int_equal(copy.count, NKEYS - 1);
  for (int pass = 0; pass < 2; pass++) {
    for (uint32_t i = 0; i < NKEYS; i++) {
      bool in_copy = i != 10, in_base = i < NKEYS / 2;
      assert_int_equal(urbac__smap_get(&copy, keys[i], 6, &v), in_copy);
      assert_true(!in_copy || v == i);
      if (pass == 0) { /* the base, until it is freed */
        assert_int_equal(urbac__smap_get(&base, keys[i], 6, &v), in_base);
        assert_true(!in_base || v == i);
      }
    }
    assert_false(urbac__smap_get(&copy, "only-base", 9, &v));
    if (pass == 0) {
      assert_true(urbac__smap_get(&base, "only-base", 9, &v));
      urbac__smap_free(&base);
    }
  }
  urbac__smap_free(&copy);
  assert_int_equal(alloc_live, 0);
  failing_alloc_off();
}

static bool eq_value(const void *ctx, uint32_t value) { return *(const uint32_t *)ctx == value; }

static void test_hmap_after_share(void **state)
{
  (void)state;
  urbac__hmap base, copy;
  uint32_t v, want;
  failing_alloc_on();
  assert_int_equal(urbac__hmap_init(&base, 0), URBAC_OK);
  for (uint32_t i = 0; i < 2000; i++)
    assert_int_equal(urbac__hmap_put(&base, i * 7919u, i), URBAC_OK);
  urbac__hmap_share(&copy, &base);
  for (uint32_t i = 2000; i < 4000; i++) /* the copy grows: a table of its own */
    assert_int_equal(urbac__hmap_put(&copy, i * 7919u, i), URBAC_OK);
  for (want = 0; want < 4000; want++)
    assert_int_equal(urbac__hmap_find(&base, want * 7919u, eq_value, &want, &v), want < 2000);
  urbac__hmap_free(&base);
  for (want = 0; want < 4000; want++) {
    assert_true(urbac__hmap_find(&copy, want * 7919u, eq_value, &want, &v));
    assert_int_equal(v, want);
  }
  urbac__hmap_free(&copy);
  assert_int_equal(alloc_live, 0);
  failing_alloc_off();
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_share_then_mutate_either_side),
      cmocka_unit_test(test_grow_past_a_page_after_share),
      cmocka_unit_test(test_free_in_both_orders),
      cmocka_unit_test(test_share_chain),
      cmocka_unit_test(test_out_of_memory_after_share),
      cmocka_unit_test(test_two_threads),
      cmocka_unit_test(test_smap_after_share),
      cmocka_unit_test(test_hmap_after_share),
  };
  return cmocka_run_group_tests_name("persist", tests, NULL, NULL);
}
