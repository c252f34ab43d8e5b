/*
 * tests/unit/test_util.c - src/util on its own: the allocation hook and the
 * helpers built on it (mem.c), growable buffers, the string map (strmap.c), the
 * interning table (intern.c), and error codes and diagnostics (error.c),
 * including their limits and what they do when memory runs out.
 *
 * Depends on: util (src/ internals), cmocka.
 */
#include "failing_alloc.h"
#include "helpers.h"
#include "util/util.h"

static int hook_on(void **state)
{
  (void)state;
  failing_alloc_on();
  return 0;
}

static int hook_off(void **state)
{
  (void)state;
  failing_alloc_off();
  return 0;
}

/* ---------------------------------------------------------------- mem.c */

static void test_alloc_hook(void **state)
{
  (void)state;
  char *s = urbac__strdup("abc");
  assert_int_equal(alloc_live, 1);
  assert_string_equal(s, "abc");
  char *t = urbac__strndup("abcdef", 2);
  assert_string_equal(t, "ab");
  urbac__free(s);
  urbac__free(t);
  urbac__free(NULL);
  assert_int_equal(alloc_live, 0);
  /* zero bytes is still a pointer the hook gave out */
  void *z = urbac__malloc(0);
  assert_non_null(z);
  assert_int_equal(alloc_live, 1);
  urbac__free(z);
  /* calloc zeroes, and refuses a product that overflows without calling the hook */
  unsigned char *c = urbac__calloc(4, 8);
  for (size_t i = 0; i < 32; i++)
    assert_int_equal(c[i], 0);
  urbac__free(c);
  long before = alloc_calls;
  assert_null(urbac__calloc(SIZE_MAX / 2, 4));
  assert_int_equal(alloc_calls, before);
  assert_int_equal(alloc_live, 0);
  /* a failing hook is a NULL, never an abort */
  alloc_fail_at = alloc_calls + 1;
  assert_null(urbac__strdup("x"));
  assert_int_equal(alloc_live, 0);
}

static void test_grow(void **state)
{
  (void)state;
  int *v = NULL;
  size_t cap = 0;
  assert_int_equal(URBAC_GROW(v, cap, 1), URBAC_OK);
  assert_int_equal(cap, 8); /* the first step */
  assert_int_equal(URBAC_GROW(v, cap, 8), URBAC_OK);
  assert_int_equal(cap, 8); /* enough already: no allocation */
  v[7] = 42;
  assert_int_equal(URBAC_GROW(v, cap, 9), URBAC_OK);
  assert_int_equal(cap, 16);
  assert_int_equal(v[7], 42); /* contents kept */
  /* a size that cannot be represented: ENOMEM, the array untouched */
  int *old = v;
  assert_int_equal(URBAC_GROW(v, cap, SIZE_MAX / 2), URBAC_ENOMEM);
  assert_ptr_equal(v, old);
  assert_int_equal(cap, 16);
  /* the hook failing: ENOMEM, the array and its capacity untouched */
  alloc_fail_at = alloc_calls + 1;
  assert_int_equal(URBAC_GROW(v, cap, 17), URBAC_ENOMEM);
  assert_int_equal(cap, 16);
  assert_int_equal(v[7], 42);
  urbac__free(v);
  assert_int_equal(alloc_live, 0);
}

static void test_buf(void **state)
{
  (void)state;
  urbac__buf b = {0};
  urbac__buf_puts(&b, "ab");
  urbac__buf_add(&b, "cdef", 2);
  urbac__buf_printf(&b, "-%d-", 7);
  assert_string_equal(b.s, "abcd-7-");
  assert_int_equal(b.len, 7);
  /* printf beyond its 512-byte stack buffer */
  char big[2000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  urbac__buf_printf(&b, "%s!", big);
  assert_int_equal(b.len, 7 + 1999 + 1);
  assert_int_equal(b.s[b.len - 1], '!');
  assert_int_equal(strlen(b.s), b.len);
  size_t len = 0;
  char *s = urbac__buf_take(&b, &len);
  assert_int_equal(len, 2007);
  assert_null(b.s); /* handed over */
  urbac__free(s);
  /* nothing added: an empty string, not NULL */
  s = urbac__buf_take(&b, &len);
  assert_string_equal(s, "");
  assert_int_equal(len, 0);
  urbac__free(s);
  /* a failed allocation sticks: later adds do nothing and take gives NULL */
  urbac__buf_puts(&b, "ok");
  alloc_fail_at = alloc_calls + 1;
  urbac__buf_add(&b, big, sizeof big - 1);
  assert_true(b.failed);
  urbac__buf_puts(&b, "more");
  assert_null(urbac__buf_take(&b, &len));
  assert_int_equal(alloc_live, 0);
}

/* ---------------------------------------------------------------- strmap.c */

static void test_strmap(void **state)
{
  (void)state;
  urbac__strmap m;
  static char keys[3000][12];
  uint32_t v, existing = 0;
  assert_int_equal(urbac__strmap_init(&m, 0), URBAC_OK);
  assert_false(urbac__strmap_get(&m, "a", 1, &v));
  /* enough keys to rehash several times; each keeps its value */
  for (uint32_t i = 0; i < 3000; i++) {
    int n = snprintf(keys[i], sizeof keys[i], "k%u", i);
    assert_int_equal(urbac__strmap_put(&m, keys[i], (size_t)n, i * 3, NULL), URBAC_OK);
  }
  assert_int_equal(m.count, 3000);
  assert_true(m.mask + 1 >= 6000); /* at most half full */
  for (uint32_t i = 0; i < 3000; i++) {
    assert_true(urbac__strmap_get(&m, keys[i], strlen(keys[i]), &v));
    assert_int_equal(v, i * 3);
  }
  /* a duplicate is refused and says what is there */
  assert_int_equal(urbac__strmap_put(&m, "k17", 3, 99, &existing), URBAC_EDUPLICATE);
  assert_int_equal(existing, 51);
  assert_int_equal(m.count, 3000);
  /* keys are byte strings: a prefix, the empty key and an embedded NUL are distinct */
  assert_false(urbac__strmap_get(&m, "k1", 1, &v));
  assert_int_equal(urbac__strmap_put(&m, "", 0, 7, NULL), URBAC_OK);
  assert_int_equal(urbac__strmap_put(&m, "k1\0x", 4, 8, NULL), URBAC_OK);
  assert_true(urbac__strmap_get(&m, "", 0, &v));
  assert_int_equal(v, 7);
  assert_true(urbac__strmap_get(&m, "k1\0x", 4, &v));
  assert_int_equal(v, 8);
  assert_true(urbac__strmap_get(&m, "k1", 2, &v));
  assert_int_equal(v, 3);
  /* the value that would not fit value + 1 */
  assert_int_equal(urbac__strmap_put(&m, "max", 3, UINT32_MAX, NULL), URBAC_ELIMIT);
  assert_false(urbac__strmap_get(&m, "max", 3, &v));
  urbac__strmap_free(&m);
  assert_false(urbac__strmap_get(&m, "k1", 2, &v)); /* a freed map is empty, not a crash */
  assert_int_equal(alloc_live, 0);
}

static void test_strmap_out_of_memory(void **state)
{
  (void)state;
  urbac__strmap m;
  alloc_fail_at = alloc_calls + 1;
  assert_int_equal(urbac__strmap_init(&m, 4), URBAC_ENOMEM);
  assert_int_equal(urbac__strmap_init(&m, 4), URBAC_OK);
  uint32_t v;
  size_t i = 0;
  static char keys[64][24];
  /* fill until the next put must rehash, then fail that allocation */
  while ((m.count + 1) * 2 <= m.mask + 1) {
    snprintf(keys[i], sizeof keys[i], "%zu", i);
    assert_int_equal(urbac__strmap_put(&m, keys[i], strlen(keys[i]), (uint32_t)i, NULL), URBAC_OK);
    i++;
  }
  assert_int_equal(i, 8);
  alloc_fail_at = alloc_calls + 1;
  assert_int_equal(urbac__strmap_put(&m, "new", 3, 1, NULL), URBAC_ENOMEM);
  assert_false(urbac__strmap_get(&m, "new", 3, &v));
  assert_true(urbac__strmap_get(&m, "0", 1, &v)); /* the map is intact */
  assert_int_equal(urbac__strmap_put(&m, "new", 3, 1, NULL), URBAC_OK);
  urbac__strmap_free(&m);
  assert_int_equal(alloc_live, 0);
}

/* ---------------------------------------------------------------- intern.c */

/* Four hex digits, either case; anything else is -1. */
static void test_hex4(void **state)
{
  (void)state;
  assert_int_equal(urbac__hex4("0000"), 0);
  assert_int_equal(urbac__hex4("00ff"), 255);
  assert_int_equal(urbac__hex4("FfFf"), 0xFFFF);
  assert_int_equal(urbac__hex4("D83D"), 0xD83D);
  assert_int_equal(urbac__hex4("12G4"), -1);
  assert_int_equal(urbac__hex4("123 "), -1);
  assert_int_equal(urbac__hex4("\xff"
                               "123"),
                   -1);
}

static void test_intern(void **state)
{
  (void)state;
  urbac__intern t;
  uint32_t id;
  bool added;
  size_t len;
  assert_int_equal(urbac__intern_init(&t, 0), URBAC_OK);
  /* dense ids in first-seen order; equal blobs share one */
  for (uint32_t i = 0; i < 1000; i++) {
    uint32_t blob[2] = {i, i * 7};
    assert_int_equal(urbac__intern_put(&t, blob, sizeof blob, &id, &added), URBAC_OK);
    assert_int_equal(id, i);
    assert_true(added);
  }
  for (uint32_t i = 0; i < 1000; i += 37) {
    uint32_t blob[2] = {i, i * 7};
    assert_int_equal(urbac__intern_put(&t, blob, sizeof blob, &id, &added), URBAC_OK);
    assert_int_equal(id, i);
    assert_false(added);
    const uint32_t *got = urbac__intern_get(&t, id, &len);
    assert_int_equal(len, sizeof blob);
    assert_memory_equal(got, blob, sizeof blob); /* the arena grew; ids still resolve */
  }
  /* the empty blob and a prefix of a blob are blobs of their own */
  assert_int_equal(urbac__intern_put(&t, "", 0, &id, &added), URBAC_OK);
  assert_int_equal(id, 1000);
  urbac__intern_get(&t, id, &len);
  assert_int_equal(len, 0);
  uint32_t zero_blob[2] = {0, 0};
  assert_int_equal(urbac__intern_put(&t, zero_blob, 4, &id, &added), URBAC_OK);
  assert_int_equal(id, 1001);
  assert_int_equal(t.n, 1002);
  /* find: the id of what was put, and nothing added for what was not */
  for (uint32_t i = 0; i < 1100; i += 13) {
    uint32_t blob[2] = {i, i * 7};
    id = UINT32_MAX;
    assert_int_equal(urbac__intern_find(&t, blob, sizeof blob, &id), i < 1000);
    assert_int_equal(id, i < 1000 ? i : UINT32_MAX);
  }
  assert_true(urbac__intern_find(&t, zero_blob, 4, &id) && id == 1001);
  uint32_t absent[2] = {1, 2};
  assert_false(urbac__intern_find(&t, absent, sizeof absent, &id));
  assert_int_equal(t.n, 1002);
  urbac__intern_free(&t);
  assert_int_equal(alloc_live, 0);
}

static void test_intern_out_of_memory(void **state)
{
  (void)state;
  urbac__intern t;
  uint32_t id;
  for (long n = 1; n <= 4; n++) { /* init makes three allocations */
    alloc_fail_at = alloc_calls + n;
    urbac_err err = urbac__intern_init(&t, 4);
    assert_int_equal(err, n <= 3 ? URBAC_ENOMEM : URBAC_OK);
    assert_int_equal(alloc_live, err ? 0 : 3);
  }
  alloc_fail_at = alloc_calls + 1;
  assert_int_equal(urbac__intern_put(&t, "abc", 3, &id, NULL), URBAC_ENOMEM);
  alloc_fail_at = 0;
  assert_int_equal(urbac__intern_put(&t, "abc", 3, &id, NULL), URBAC_OK);
  assert_int_equal(id, 0); /* the failed put left no id behind */
  urbac__intern_free(&t);
  assert_int_equal(alloc_live, 0);
}

/* ---------------------------------------------------------------- error.c */

static void test_error_codes(void **state)
{
  (void)state;
  /* every code has a distinct name and a description; unknown values say so */
  static const urbac_err codes[] = {
#define CODE(name, value, text) URBAC_##name,
      URBAC_ERRORS(CODE)
#undef CODE
  };
  size_t n = sizeof codes / sizeof codes[0];
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(codes[i], (urbac_err)i); /* dense, never renumbered */
    assert_true(strlen(urbac_strerror(codes[i])) > 3);
    for (size_t j = 0; j < i; j++)
      assert_string_not_equal(urbac_err_name(codes[i]), urbac_err_name(codes[j]));
  }
  assert_string_equal(urbac_err_name(URBAC_EDANGLING), "EDANGLING");
  assert_string_equal(urbac_strerror(URBAC_ENOMEM), "out of memory");
  assert_string_equal(urbac_err_name((urbac_err)999), "EUNKNOWN");
  assert_string_equal(urbac_strerror((urbac_err)-1), "unknown error");
}

static void test_diag_format(void **state)
{
  (void)state;
  urbac_diag *d = urbac_diag_new();
  char buf[256];
  assert_int_equal(urbac_diag_count(NULL), 0);
  assert_int_equal(urbac__diag_first(d), URBAC_OK);
  assert_int_equal(urbac__diag_add(d, URBAC_EDANGLING, "t.yaml", 3, 7, "groups[0]", "unknown user '%s'", "b"),
                   URBAC_EDANGLING);
  urbac__diag_add(d, URBAC_ETYPE, "t.yaml", 4, 1, NULL, "expected a list");
  urbac__diag_add(d, URBAC_EMISSING, NULL, 0, 0, "roles[1]", "name missing");
  urbac__diag_add(d, URBAC_EIO, "t.yaml", 0, 0, "", "cannot open");
  urbac__diag_add(d, URBAC_EINVAL, NULL, 0, 0, NULL, "plain");
  assert_int_equal(urbac_diag_count(d), 5);
  assert_int_equal(urbac__diag_first(d), URBAC_EDANGLING);
  const urbac_error *e = urbac_diag_get(d, 0);
  assert_int_equal(e->line, 3);
  assert_int_equal(e->column, 7);
  assert_string_equal(e->path, "groups[0]");
  assert_string_equal(e->message, "unknown user 'b'");
  static const char *const want[] = {"t.yaml:3:7: groups[0]: unknown user 'b'", "t.yaml:4:1: expected a list",
                                     "roles[1]: name missing", "t.yaml: cannot open", "plain"};
  for (size_t i = 0; i < 5; i++) {
    assert_int_equal(urbac_diag_format(d, i, buf, sizeof buf), strlen(want[i]));
    assert_string_equal(buf, want[i]);
  }
  /* truncation: always terminated, the full length returned */
  assert_int_equal(urbac_diag_format(d, 0, buf, 8), strlen(want[0]));
  assert_string_equal(buf, "t.yaml:");
  assert_null(urbac_diag_get(d, 5));
  /* a message longer than the 1 KiB line is cut, not overflowed */
  char big[3000];
  memset(big, 'm', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  urbac__diag_add(d, URBAC_EVALUE, NULL, 0, 0, NULL, "%s", big);
  assert_int_equal(strlen(urbac_diag_get(d, 5)->message), 1023);
  /* the public face adds the same way, and clear empties */
  assert_int_equal(urbac_diag_add(d, URBAC_ESTORE, "db", 0, 0, NULL, "%s", "gone"), URBAC_ESTORE);
  assert_int_equal(urbac_diag_count(d), 7);
  urbac_diag_clear(d);
  assert_int_equal(urbac_diag_count(d), 0);
  assert_int_equal(urbac__diag_first(d), URBAC_OK);
  assert_int_equal(urbac__diag_add(NULL, URBAC_EIO, NULL, 0, 0, NULL, "ignored"), URBAC_EIO);
  urbac_diag_free(d);
  urbac_diag_free(NULL);
  assert_int_equal(alloc_live, 0);
}

static void test_diag_limits(void **state)
{
  (void)state;
  urbac_diag *d = urbac_diag_new();
  char buf[64];
  for (unsigned i = 0; i < URBAC_MAX_ERRORS + 5; i++)
    urbac__diag_add(d, URBAC_EDUPLICATE, "f", i + 1, 1, NULL, "error %u", i);
  /* beyond the limit errors are counted, not kept */
  assert_int_equal(urbac_diag_count(d), URBAC_MAX_ERRORS + 5);
  assert_non_null(urbac_diag_get(d, URBAC_MAX_ERRORS - 1));
  assert_null(urbac_diag_get(d, URBAC_MAX_ERRORS));
  urbac_diag_format(d, URBAC_MAX_ERRORS, buf, sizeof buf);
  assert_string_equal(buf, "5 more errors not shown");
  urbac_diag_clear(d);
  /* the first error lives in the diag itself: adding it allocates nothing, so it
   * is kept even when memory has run out */
  long calls = alloc_calls;
  alloc_fail_at = alloc_calls + 1;
  urbac__diag_add(d, URBAC_EDUPLICATE, "f", 1, 2, "p", "first");
  assert_int_equal(alloc_calls, calls);
  assert_int_equal(urbac_diag_count(d), 1);
  assert_string_equal(urbac_diag_get(d, 0)->message, "first");
  assert_string_equal(urbac_diag_get(d, 0)->file, "f");
  assert_string_equal(urbac_diag_get(d, 0)->path, "p");
  assert_int_equal(urbac_diag_get(d, 0)->column, 2);
  /* out of memory while adding a later one: the error still counts */
  for (long n = 1; n <= 3; n++) { /* the array, then the message, then the path copy */
    alloc_fail_at = alloc_calls + n;
    urbac__diag_add(d, URBAC_EDUPLICATE, "f", 1, 1, "p", "lost");
  }
  alloc_fail_at = 0;
  assert_int_equal(urbac_diag_count(d), 4);
  assert_null(urbac_diag_get(d, 1));
  urbac__diag_add(d, URBAC_EDUPLICATE, "f", 1, 1, "p", "kept");
  assert_int_equal(urbac_diag_count(d), 5);
  assert_string_equal(urbac_diag_get(d, 1)->message, "kept");
  /* a first error too long for the room inside the diag is copied to the heap */
  urbac_diag_clear(d);
  char path[3000];
  memset(path, 'x', sizeof path - 1);
  path[sizeof path - 1] = '\0';
  urbac__diag_add(d, URBAC_EDUPLICATE, "f", 1, 1, path, "long");
  assert_string_equal(urbac_diag_get(d, 0)->path, path);
  assert_string_equal(urbac_diag_get(d, 0)->message, "long");
  urbac_diag_clear(d);
  urbac__diag_add(d, URBAC_EDUPLICATE, "f", 1, 1, "p", "short again");
  assert_string_equal(urbac_diag_get(d, 0)->path, "p");
  urbac_diag_free(d);
  assert_int_equal(alloc_live, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_alloc_hook, hook_on, hook_off),
      cmocka_unit_test_setup_teardown(test_grow, hook_on, hook_off),
      cmocka_unit_test_setup_teardown(test_buf, hook_on, hook_off),
      cmocka_unit_test_setup_teardown(test_strmap, hook_on, hook_off),
      cmocka_unit_test_setup_teardown(test_strmap_out_of_memory, hook_on, hook_off),
      cmocka_unit_test_setup_teardown(test_intern, hook_on, hook_off),
      cmocka_unit_test_setup_teardown(test_intern_out_of_memory, hook_on, hook_off),
      cmocka_unit_test(test_hex4),
      cmocka_unit_test(test_error_codes),
      cmocka_unit_test_setup_teardown(test_diag_format, hook_on, hook_off),
      cmocka_unit_test_setup_teardown(test_diag_limits, hook_on, hook_off),
  };
  return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
