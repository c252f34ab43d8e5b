/*
 * tests/unit/test_tree.c - the quick JSON reader (io/tree.c) gives exactly the
 * tree libyaml gives: every scalar, style, line and column, on handwritten edge
 * cases, on the example tenants written as JSON (pretty and compact), and on
 * thousands of random mutations of them; where it is unsure, libyaml's answer
 * (errors and all) is what urbac__node_parse() returns.
 */
#include <jansson.h>

#include "helpers.h"
#include "io/tree.h"

/* Are two trees the same, node for node? (`where` names the input on failure.) */
static void same_tree(const urbac__node *a, const urbac__node *b, const char *where)
{
  if (!a || !b) {
    if (a != b)
      fail_msg("%s: one tree is empty", where);
    return;
  }
  if (a->type != b->type || a->style != b->style || a->line != b->line || a->col != b->col || a->n != b->n ||
      a->len != b->len || (a->str && memcmp(a->str, b->str, a->len) != 0) || !a->str != !b->str)
    fail_msg("%s: nodes differ at %u:%u (type %d/%d style %d/%d at %u:%u/%u:%u, '%s'/'%s', %zu/%zu kids)",
             where, a->line, a->col, a->type, b->type, a->style, b->style, a->line, a->col, b->line, b->col,
             a->str ? a->str : "", b->str ? b->str : "", a->n, b->n);
  for (size_t i = 0; i < a->n; i++)
    same_tree(a->kids[i], b->kids[i], where);
}

/* The compact JSON written directly is jansson's, byte for byte (or both fail). */
static void same_compact(const urbac__node *n, const char *where)
{
  char *a = NULL, *b = NULL;
  urbac_err e1 = urbac__node_emit_json_compact(n, &a), e2 = urbac__node_emit_json_compact_jansson(n, &b);
  assert_int_equal(e1, e2);
  if (a && strcmp(a, b) != 0)
    fail_msg("%s: compact JSON differs:\n%s\n%s", where, a, b);
  urbac__free(a);
  urbac__free(b);
}

/* urbac__node_parse() and libyaml alone agree on `text`: the same code, errors and
 * tree. Returns whether the quick reader took it. */
static bool agree(const char *text, size_t len, const char *where)
{
  urbac_diag *d1 = urbac_diag_new(), *d2 = urbac_diag_new();
  urbac__node *a = NULL, *b = NULL;
  urbac_err e1 = urbac__node_parse(text, len, "t", &a, d1);
  urbac_err e2 = urbac__node_parse_yaml(text, len, "t", &b, d2);
  if (e1 != e2)
    fail_msg("%s: %d (quick reader) vs %d (libyaml): '%.*s'", where, e1, e2, (int)(len > 200 ? 200 : len),
             text);
  assert_int_equal(urbac_diag_count(d1), urbac_diag_count(d2));
  char m1[600], m2[600];
  for (size_t i = 0; i < urbac_diag_count(d1); i++) {
    urbac_diag_format(d1, i, m1, sizeof m1);
    urbac_diag_format(d2, i, m2, sizeof m2);
    assert_string_equal(m1, m2);
  }
  same_tree(a, b, where);
  if (b)
    same_compact(b, where);
  bool unsure = false;
  urbac__node *q = urbac__node_parse_json(text, len, &unsure);
  if (q)
    same_tree(q, b, where);
  urbac__node_free(q);
  urbac__node_free(a);
  urbac__node_free(b);
  urbac_diag_free(d1);
  urbac_diag_free(d2);
  return q != NULL;
}

static bool agree_s(const char *text) { return agree(text, strlen(text), text); }

static void test_edge_cases(void **state)
{
  (void)state;
  /* taken by the quick reader, and the same tree as libyaml's */
  static const char *const taken[] = {
      "{}",
      "[]",
      " {\"a\": 1}\n",
      "{\"a\":1,\"b\":[true,false,null,-0,0.5,1e5,-2.5E-3,12]}",
      "{\"urbac\": 1, \"tenant\": \"t\", \"users\": [{\"id\": \"a@b\", \"enabled\": false}]}",
      "[\n  {\"x\": \"y\"},\r\n  [\"\\u00e9t\\u00e9\", \"\\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t\"]\r\n]",
      "{\"caf\xc3\xa9\": \"\xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0\", \"n\": 3}",
      "{\"a\": \"\\u20ac\\u0085\\u2028x\", \"b\": {\"c\": [[], {}]}}",
      "{\"a\" :  [ 1 , 2 ] , \"b\" : { } }",
      "{\"dup\": 1, \"dup\": 2}",
  };
  for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++)
    if (!agree_s(taken[i]))
      fail_msg("the quick reader did not take '%s'", taken[i]);
  /* left to libyaml (YAML reads these differently, or they are not JSON): same answer */
  static const char *const left[] = {
      "",
      "   ",
      "a: 1",
      "{a: 1}",
      "{\"a\"\n: 1}",
      "{\"a\": 1,}",
      "[1 2]",
      "{\"a\": 01}",
      "{\"a\": 1.}",
      "{\"a\": .5}",
      "{\"a\": +1}",
      "{\"a\": 0x10}",
      "{\"a\": True}",
      "{\"a\": \"\\u0000\"}",
      "{\"a\": \"\\ud83d\\ude00\"}",
      "{\"a\": \"\\x41\"}",
      "{\"a\": \"tab\there\"}",
      "{\"a\":\t1}",
      "{\"a\": \"\xc2\x85\"}",
      "{\"a\": \"\xe2\x80\xa8\"}",
      "{\"a\": \"\xef\xbb\xbf\"}",
      "{\"a\": \"\xc3\"}",
      "{\"a\": \"\xed\xa0\x80\"}",
      "{\"a\": 1} x",
      "{\"a\": 1}\n---\n{}",
      "{\"a\": 1} # c",
      "[1, [2, [3",
      "{\"a\": \"open",
  };
  for (size_t i = 0; i < sizeof left / sizeof left[0]; i++)
    if (agree_s(left[i]))
      fail_msg("the quick reader took '%s', which it should leave to libyaml", left[i]);
  /* a key longer than YAML looks back for its ':' */
  char key[3000] = "{\"";
  memset(key + 2, 'k', 1500);
  strcpy(key + 1502, "\": 1}");
  assert_false(agree_s(key));
  /* deeper than the limit: libyaml's ELIMIT */
  char deep[200] = "";
  for (int i = 0; i < 80; i++)
    strcat(deep, "[");
  assert_false(agree_s(deep));
}

/* A file's tree, as JSON: pretty (urbac__node_emit_json) and compact. */
static void json_forms(const char *path, char **pretty, char **compact)
{
  char *text = NULL;
  size_t len = 0;
  urbac__node *root = NULL;
  assert_int_equal(urbac__file_read(path, &text, &len, NULL), URBAC_OK);
  assert_int_equal(urbac__node_parse_yaml(text, len, path, &root, NULL), URBAC_OK);
  assert_int_equal(urbac__node_emit_json(root, pretty, &len), URBAC_OK);
  assert_int_equal(urbac__node_emit_json_compact(root, compact), URBAC_OK);
  urbac__node_free(root);
  urbac__free(text);
}

static const char *const files[] = {
    URBAC_SOURCE_DIR "/examples/contoso.yaml", URBAC_SOURCE_DIR "/examples/litware.yaml",
    URBAC_SOURCE_DIR "/fuzz/corpus/tenant/worked.yaml", URBAC_SOURCE_DIR "/fuzz/corpus/tenant/comments.yaml"};

static void test_tenants_as_json(void **state)
{
  (void)state;
  for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
    char *pretty = NULL, *compact = NULL;
    json_forms(files[f], &pretty, &compact);
    if (!agree(pretty, strlen(pretty), files[f]) || !agree(compact, strlen(compact), files[f]))
      fail_msg("%s: the quick reader did not take its JSON", files[f]);
    urbac__free(pretty);
    urbac__free(compact);
  }
}

/* Trees a model is saved as (integers, booleans) and scalars jansson escapes. */
static void test_compact_json(void **state)
{
  (void)state;
  for (size_t f = 0; f < 2; f++) {
    urbac_model *m = NULL;
    urbac__node *root = NULL;
    assert_int_equal(urbac_tenant_load_file(files[f], &m, NULL), URBAC_OK);
    assert_int_equal(urbac__tenant_tree(m, &root), URBAC_OK);
    same_compact(root, files[f]);
    urbac__node_free(root);
    urbac_model_free(m);
  }
  static const char *const texts[] = {"",
                                      "plain",
                                      "q\"uote\\back/slash",
                                      "\b\f\n\r\t\x01\x1f\x7f",
                                      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
                                      "\xc3",
                                      "\xed\xa0\x80",
                                      "\xc0\xaf",
                                      "\xf4\x90\x80\x80",
                                      "\xe2\x80\xa8"};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    urbac__node *map = urbac__node_new(URBAC__NODE_MAP), *seq = urbac__node_new(URBAC__NODE_SEQ);
    assert_int_equal(urbac__node_set(map, texts[i], urbac__node_str(texts[i], URBAC__STYLE_QUOTED)),
                     URBAC_OK);
    assert_int_equal(urbac__node_push(seq, urbac__node_str(texts[i], URBAC__STYLE_PLAIN)), URBAC_OK);
    assert_int_equal(urbac__node_push(seq, urbac__node_str("-42", URBAC__STYLE_INT)), URBAC_OK);
    assert_int_equal(urbac__node_push(seq, urbac__node_str("false", URBAC__STYLE_BOOL)), URBAC_OK);
    assert_int_equal(urbac__node_push(seq, urbac__node_new(URBAC__NODE_MAP)), URBAC_OK);
    assert_int_equal(urbac__node_set(map, "list", seq), URBAC_OK);
    same_compact(map, texts[i]);
    assert_int_equal(urbac__node_set(map, "list", urbac__node_str("again", URBAC__STYLE_QUOTED)), URBAC_OK);
    same_compact(map, texts[i]); /* a key twice: jansson keeps the place, takes the last value */
    urbac__node_free(map);
  }
  urbac__node *nul = urbac__node_str("a", URBAC__STYLE_QUOTED);
  nul->str[0] = '\0'; /* NUL inside: \u0000 */
  same_compact(nul, "NUL");
  urbac__node_free(nul);
}

/* Random damage to JSON tenants: whatever either reader makes of it, they agree. */
static void test_mutations(void **state)
{
  (void)state;
  static const char bytes[] = "{}[],:\" \n\r\t\\u0e.-+1aZ\x80\xc3\xe2";
  uint64_t x = 0x9E3779B97F4A7C15u;
  size_t taken = 0, runs = 0;
  for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
    char *pretty = NULL, *compact = NULL;
    json_forms(files[f], &pretty, &compact);
    for (int form = 0; form < 2; form++) {
      const char *src = form ? compact : pretty;
      size_t len = strlen(src);
      char *buf = malloc(len + 1);
      assert_non_null(buf);
      for (int k = 0; k < 300; k++, runs++) {
        memcpy(buf, src, len);
        size_t n = len;
        for (int m = 0; m < 1 + k % 3; m++) {
          x ^= x << 13, x ^= x >> 7, x ^= x << 17;
          size_t at = (size_t)(x % n);
          if (x >> 60 == 0)
            n = at + 1; /* cut it short */
          else
            buf[at] = bytes[(x >> 20) % (sizeof bytes - 1)];
        }
        buf[n] = '\0';
        taken += agree(buf, n, files[f]);
      }
      free(buf);
    }
    urbac__free(pretty);
    urbac__free(compact);
  }
  print_message("%zu of %zu damaged inputs read by the quick reader\n", taken, runs);
}

/* urbac__json_string_size() is the length urbac__json_string() writes, and
 * jansson's, for every ASCII character and some UTF-8. */
static void test_json_string_size(void **state)
{
  (void)state;
  for (int c = 0; c < 0x80 + 3; c++) {
    char s[8] = "a";
    size_t len = 3;
    if (c < 0x80) {
      s[1] = (char)c;
      s[2] = 'b';
    } else {
      static const char *const utf8[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
      len = 1 + strlen(utf8[c - 0x80]);
      memcpy(s + 1, utf8[c - 0x80], len - 1);
    }
    urbac__buf b = {0};
    assert_true(urbac__json_string(&b, s, len));
    json_t *j = json_stringn(s, len);
    char *theirs = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
    assert_int_equal(urbac__json_string_size(s, len), b.len);
    assert_int_equal(b.len, strlen(theirs));
    free(theirs);
    json_decref(j);
    urbac__buf_free(&b);
  }
}

/* The quick reader's tree lives in an arena: fitted to its size when small,
 * in doubling blocks past 1 MiB of text (the same tree as libyaml's either
 * way), and read-only; and trees built in an arena. */
static void test_arena(void **state)
{
  (void)state;
  /* past the first block's 1 MiB: 60,000 items of 25 to 40 bytes, escapes among them */
  urbac__buf b = {0};
  urbac__buf_puts(&b, "{\"members\": [");
  for (int i = 0; i < 60000; i++) {
    char item[80];
    snprintf(item, sizeof item, "%s\"member-%06d%s@example.com\"", i ? ", " : "", i, i % 7 ? "" : "\\u00e9");
    urbac__buf_puts(&b, item);
  }
  urbac__buf_puts(&b, "], \"n\": 60000}");
  assert_false(b.failed);
  assert_true(b.len > ((size_t)1 << 20));
  assert_true(agree(b.s, b.len, "60,000 members"));
  urbac__buf_free(&b);
  /* commas in strings: the bound (some 80 times this text) is not asked at once */
  urbac__buf_puts(&b, "[");
  for (int i = 0; i < 20000; i++)
    urbac__buf_puts(&b, i ? ", \",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\"" : "\"x\"");
  urbac__buf_puts(&b, "]");
  assert_false(b.failed);
  assert_true(agree(b.s, b.len, "commas"));
  urbac__buf_free(&b);
  /* small ones, the estimate's room given back (io/tree.c's jr_fit) */
  assert_true(agree_s("{\"id\": \"a@b\", \"name\": \"A, B: C\", \"x\": [1, [], {}]}"));
  /* nothing can be pushed into a parsed tree; what was to be pushed is freed */
  bool unsure = true;
  urbac__node *t = urbac__node_parse_json("{\"a\": [1]}", 10, &unsure);
  assert_non_null(t);
  assert_false(unsure);
  assert_int_equal(urbac__node_push(t, urbac__node_str("b", URBAC__STYLE_PLAIN)), URBAC_EINVAL);
  assert_int_equal(urbac__node_push(t->kids[1], urbac__node_str("2", URBAC__STYLE_PLAIN)), URBAC_EINVAL);
  assert_int_equal(t->n, 2);
  assert_int_equal(t->kids[1]->n, 1);
  /* a tree built in an arena: items past each array's room, a root that frees it all */
  urbac__node_arena a = {0};
  urbac__node *root = urbac__node_new_in(&a, URBAC__NODE_MAP), *seq = urbac__node_new_in(&a, URBAC__NODE_SEQ);
  assert_int_equal(root->mem, URBAC__MEM_ARENA_ROOT);
  assert_int_equal(seq->mem, URBAC__MEM_ARENA);
  for (int i = 0; i < 1000; i++) {
    char item[32];
    snprintf(item, sizeof item, "item-%d", i);
    assert_int_equal(
        urbac__node_push_in(&a, seq, urbac__node_str_in(&a, item, strlen(item), URBAC__STYLE_QUOTED)),
        URBAC_OK);
  }
  assert_int_equal(urbac__node_set_in(&a, root, "items", seq), URBAC_OK);
  assert_int_equal(urbac__node_push_in(&a, seq, urbac__node_str("own", URBAC__STYLE_PLAIN)), URBAC_EINVAL);
  urbac__node_free(seq); /* not the root: nothing */
  char *json = NULL;
  assert_int_equal(urbac__node_emit_json_compact(root, &json), URBAC_OK);
  assert_int_equal(strncmp(json, "{\"items\":[\"item-0\",\"item-1\",", 28), 0);
  assert_non_null(strstr(json, ",\"item-999\"]}"));
  urbac__free(json);
  urbac__node_free(root);
  /* an arena of many trees has no root: urbac__node_arena_free() frees it */
  urbac__node_arena many = {.many = true};
  urbac__node *first = urbac__node_str_in(&many, "a", 1, URBAC__STYLE_QUOTED);
  assert_int_equal(first->mem, URBAC__MEM_ARENA);
  urbac__node_free(first);
  assert_string_equal(first->str, "a");
  urbac__node_arena_free(&many);
  /* but a parsed tree goes into a built one, and is freed with it */
  urbac__node *list = urbac__node_new(URBAC__NODE_SEQ);
  assert_non_null(list);
  assert_int_equal(urbac__node_push(list, t), URBAC_OK);
  urbac__node_free(list);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_edge_cases),   cmocka_unit_test(test_tenants_as_json),
      cmocka_unit_test(test_compact_json), cmocka_unit_test(test_mutations),
      cmocka_unit_test(test_arena),        cmocka_unit_test(test_json_string_size)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
