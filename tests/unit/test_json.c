/*
 * tests/unit/test_json.c - io/json.c (JSON text into jansson's values, read by
 * yajl) against jansson's own parser, json_loadb(JSON_REJECT_DUPLICATES): on
 * handwritten edge cases, on Microsoft Graph's documented responses, and on
 * thousands of random damages of them, both accept or both refuse, and what
 * they accept is the same document, key order included. Where the text stops
 * making sense is located as jansson locates it, on the cases with one place.
 */
#include <dirent.h>
#include <jansson.h>
#include <locale.h>

#include "helpers.h"
#include "io/json.h"

/* Both parsers on `text`: the same verdict, and the same document. Returns
 * whether it was JSON. */
static bool agree(const char *text, size_t len, const char *what)
{
  json_error_t mine, theirs;
  json_t *a = urbac__json_parse(text, len, &mine);
  json_t *b = json_loadb(text, len, JSON_REJECT_DUPLICATES, &theirs);
  if (!a != !b)
    fail_msg("%s: %s accepts it, the other refuses it (%s)\n%.*s", what, a ? "io/json.c" : "jansson",
             a ? theirs.text : mine.text, (int)(len < 400 ? len : 400), text);
  if (a) {
    char *x = json_dumps(a, JSON_COMPACT), *y = json_dumps(b, JSON_COMPACT);
    if (!x || !y || strcmp(x, y) != 0)
      fail_msg("%s: different documents\n%s\n%s", what, x ? x : "(null)", y ? y : "(null)");
    free(x);
    free(y);
  } else {
    assert_true(mine.line >= 1 && mine.column >= 1);
    assert_true(mine.text[0] != '\0');
  }
  json_decref(a);
  json_decref(b);
  return a != NULL;
}

static void test_edge_cases(void **state)
{
  (void)state;
  static const char *const cases[] = {
      "{}",
      "[]",
      " {\"a\": 1} \n",
      "{\"a\":[{\"b\":null,\"c\":true,\"d\":false}],\"e\":1.5}",
      /* the top: an object or an array, and nothing after it */
      "",
      "  ",
      "1",
      "\"x\"",
      "null",
      "true",
      "[1] x",
      "[1] [2]",
      "{} }",
      "[",
      "{\"a\"",
      "{\"a\":",
      "[1,]",
      "{\"a\":1,}",
      "{,}",
      "[,1]",
      /* keys */
      "{\"a\":1,\"a\":2}",
      "{\"a\":{\"a\":1},\"b\":{\"a\":2}}",
      "{\"\":1}",
      "{\"\":1,\"\":2}",
      "{\"\\u0000\":1}",
      "{\"a\\u0000b\":1}",
      "{\"\xc3\xa9\":1,\"e\\u0301\":2}",
      "{\"a\":1,\"\\u0061\":2}",
      "{1:2}",
      /* strings and escapes */
      "[\"\\u0000\"]",
      "[\"a\\u0000\"]",
      "[\"\\ud800\"]",
      "[\"\\udc00\"]",
      "[\"\\ud800\\u0041\"]",
      "[\"\\ud800\\ud800\"]",
      "[\"\\ud83d\\ude00\"]",
      "[\"\\uD83D\\uDE00\"]",
      "[\"\\ud83d\"]",
      "[\"\\ude00x\"]",
      "[\"\\\\ud800\"]",
      "[\"\\\\\\ud800\"]",
      "[\"\\\\\\\\ud800\"]",
      "[\"\\u00e9\\u20ac\"]",
      "[\"\\uzzzz\"]",
      "[\"\\u12\"]",
      "[\"\\x\"]",
      "[\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"]",
      "[\"a\tb\"]",
      "[\"a\x01\"]",
      "[\"\x7f\"]",
      "[\"\xc2\x80\xe2\x80\xa8\"]",
      "[\"\xc0\x80\"]",
      "[\"\xc1\xbf\"]",
      "[\"\xed\xa0\x80\"]",
      "[\"\xf4\x90\x80\x80\"]",
      "[\"\xf5\x80\x80\x80\"]",
      "[\"\xf8\x88\x80\x80\x80\"]",
      "[\"\x80\"]",
      "[\"\xe2\x82\"]",
      "[\"\xef\xbb\xbf\"]",
      "\xef\xbb\xbf[]",
      "[\"unterminated]",
      "[\"\\",
      /* numbers */
      "[0]",
      "[-0]",
      "[-0.0]",
      "[01]",
      "[-]",
      "[1.]",
      "[.5]",
      "[1e5]",
      "[1E+5]",
      "[1e-5]",
      "[1e]",
      "[+1]",
      "[9223372036854775807]",
      "[9223372036854775808]",
      "[-9223372036854775808]",
      "[-9223372036854775809]",
      "[99999999999999999999999]",
      "[1e308]",
      "[1e309]",
      "[-1e309]",
      "[1e-400]",
      "[4.9e-324]",
      "[0.1]",
      "[123456789012345678901234567890.5]",
      "[1.7976931348623157e308]",
      "[NaN]",
      "[Infinity]",
      "[0x10]",
      /* literals and others */
      "[1,\f2]",
      "{\"a\":\v1}",
      "[\"\f\"]",
      "[1] \"x",
      "[1]\"_",
      "{}\"",
      "[1] tr",
      "[1] 12",
      "[nul]",
      "[tru]",
      "[True]",
      "[null,true,false]",
      "[/* no */1]",
      "[1]\x00",
      "{\"a\":1}//",
      "[\n1,\n2\n]\r\n",
  };
  size_t json = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    json += agree(cases[i], strlen(cases[i]), cases[i]);
  assert_true(json > 20 && json < sizeof cases / sizeof cases[0]);
  /* NUL bytes inside the text, which strlen() would not count */
  agree("[\"a\0b\"]", 7, "a NUL byte in a string");
  agree("[1]\0", 4, "a NUL byte after the text");
  agree("{\"a\0\":1}", 8, "a NUL byte in a key");
  agree("[\0 1]", 5, "a NUL byte before a token");
  /* and the one difference meant: jansson 2.14 skips a NUL byte right after a token */
  static const char *const after[] = {"[1\0]", "[true\0, false]", "[null\0]"};
  for (size_t i = 0; i < sizeof after / sizeof after[0]; i++) {
    json_error_t e;
    size_t len = strlen(after[i]) + 1 + strlen(after[i] + strlen(after[i]) + 1);
    json_t *theirs = json_loadb(after[i], len, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(theirs);
    json_decref(theirs);
    assert_null(urbac__json_parse(after[i], len, &e));
    assert_int_equal(e.column, (int)strlen(after[i]) + 1);
  }
}

/* Long numbers: the text past a small buffer is read whole. */
static void test_long_numbers(void **state)
{
  (void)state;
  char buf[2048];
  static const char *const tails[] = {"", "1", "e300", "e-300", "e400", "e-700", "1e700"};
  for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++)
    for (size_t n = 1; n < 1500; n += 97)
      for (int frac = 0; frac < 3; frac++) {
        size_t at = 0;
        buf[at++] = '[';
        if (frac == 2)
          buf[at++] = '-';
        buf[at++] = frac ? '0' : '1';
        if (frac)
          buf[at++] = '.';
        for (size_t k = 0; k < n; k++)
          buf[at++] = '0';
        at += (size_t)snprintf(buf + at, sizeof buf - at, "%s]", tails[t]);
        agree(buf, at, "a long number");
      }
}

/* Nesting: jansson's limit of 2048 levels, on both sides of it, with nothing,
 * a number, null or a string innermost (a scalar is a level too). */
static void test_depth(void **state)
{
  (void)state;
  static char buf[6 * 2100 + 16];
  static const char *const inner[] = {"", "1", "null", "\"x\""};
  size_t json = 0;
  for (size_t depth = 2040; depth < 2060; depth++)
    for (int obj = 0; obj < 2; obj++)
      for (size_t in = 0; in < sizeof inner / sizeof inner[0]; in++) {
        size_t at = 0;
        for (size_t k = 0; k < depth; k++)
          at += (size_t)snprintf(buf + at, sizeof buf - at, "%s", obj && k ? "{\"a\":" : "[");
        if (obj && depth > 1 && !*inner[in])
          at += (size_t)snprintf(buf + at, sizeof buf - at, "{}"); /* an object's key needs a value */
        at += (size_t)snprintf(buf + at, sizeof buf - at, "%s", inner[in]);
        for (size_t k = depth; k-- > 0;)
          buf[at++] = obj && k ? '}' : ']';
        json += agree(buf, at, "deep nesting");
      }
  assert_true(json > 0 && json < 20 * 2 * 4);
}

/* Where it stops: the line and column jansson gives, on texts with one place to stop. */
static void test_located(void **state)
{
  (void)state;
  static const struct {
    const char *text;
    int line, column;
  } cases[] = {
      {"{\"value\": [1,\n  }", 2, 3},
      {"[1,\n2,\n  x]", 3, 3},
      {"{\"a\": 1, \"a\": 2}", 1, 15},
      {"[\"\xc3\xa9\xc3\xa9\", ]", 1, 8},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_error_t mine, theirs;
    assert_null(urbac__json_parse(cases[i].text, strlen(cases[i].text), &mine));
    assert_null(json_loadb(cases[i].text, strlen(cases[i].text), JSON_REJECT_DUPLICATES, &theirs));
    if (mine.line != cases[i].line || mine.column != cases[i].column)
      fail_msg("%s: stopped at %d:%d (%s), not %d:%d; jansson %d:%d", cases[i].text, mine.line, mine.column,
               mine.text, cases[i].line, cases[i].column, theirs.line, theirs.column);
  }
  /* where the first of several problems is, and where yajl gives a character back */
  static const struct {
    const char *text;
    int column;
  } first[] = {{"[1,,\"\\uD800\"]", 4}, {"[1,,2]\f", 4},  {"[1,/*x*/2]", 4},
               {"[\"\\u12G4\"]", 7},    {"[\"\\x\"]", 4}, {"[\"\\uD800\",,]", 3}};
  for (size_t i = 0; i < sizeof first / sizeof first[0]; i++) {
    json_error_t mine, theirs;
    assert_null(urbac__json_parse(first[i].text, strlen(first[i].text), &mine));
    assert_null(json_loadb(first[i].text, strlen(first[i].text), JSON_REJECT_DUPLICATES, &theirs));
    if (mine.line != 1 || mine.column != first[i].column)
      fail_msg("%s: stopped at %d:%d (%s), not 1:%d; jansson %d:%d", first[i].text, mine.line, mine.column,
               mine.text, first[i].column, theirs.line, theirs.column);
  }
  json_error_t e;
  /* cut short: said so, at its end */
  assert_null(urbac__json_parse("[\"\\u12", 6, &e));
  assert_string_equal(e.text, "unexpected end of file");
  assert_int_equal(e.column, 7);
  /* no text at all */
  assert_null(urbac__json_parse(NULL, 0, &e));
  assert_int_equal(e.line, 1);
  assert_null(urbac__json_parse("[\"\\ud800\"]", 10, &e));
  assert_int_equal(e.column, 3); /* at the escape's backslash */
  assert_non_null(strstr(e.text, "surrogate"));
  assert_null(urbac__json_parse("{\"a\": 1, \"a\": 2}", 16, &e));
  assert_string_equal(e.text, "duplicate object key");
}

/* Reads the Graph fixtures (the documentation's responses). */
static size_t read_fixtures(char **texts, size_t *lens, size_t max)
{
  const char *dir = URBAC_SOURCE_DIR "/tests/fixtures/graph/docs";
  DIR *d = opendir(dir);
  assert_non_null(d);
  size_t n = 0;
  for (struct dirent *e; n < max && (e = readdir(d)) != NULL;) {
    char path[1024];
    if (!strstr(e->d_name, ".json"))
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    texts[n] = slurp(path);
    lens[n] = strlen(texts[n]);
    n++;
  }
  closedir(d);
  assert_true(n >= 10);
  return n;
}

/* Random damage to Graph responses: whatever each parser makes of it, they agree. */
static void test_mutations(void **state)
{
  (void)state;
  static const char *const pieces[] = {"{",
                                       "}",
                                       "[",
                                       "]",
                                       ",",
                                       ":",
                                       "\"",
                                       " ",
                                       "\n",
                                       "\\",
                                       "\\u",
                                       "\\ud800",
                                       "\\udc00",
                                       "\\u0000",
                                       "\\\\",
                                       "0",
                                       "-",
                                       ".",
                                       "e",
                                       "1e999",
                                       "99999999999999999999",
                                       "\x80",
                                       "\xc3",
                                       "\xe2\x80",
                                       "\xed\xa0\x80",
                                       "\xf4\x90\x80\x80",
                                       "\x01",
                                       "null",
                                       "\"id\"",
                                       "\"id\":1,\"id\""};
  char *texts[32];
  size_t lens[32];
  size_t n = read_fixtures(texts, lens, 32), json = 0, runs = 0;
  uint64_t x = 0x9E3779B97F4A7C15u;
  for (size_t f = 0; f < n; f++) {
    char *buf = malloc(lens[f] + 64);
    assert_non_null(buf);
    agree(texts[f], lens[f], "a Graph fixture");
    for (int k = 0; k < 600; k++, runs++) {
      size_t len = lens[f];
      memcpy(buf, texts[f], len);
      for (int m = 0; m < 1 + k % 3; m++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t at = (size_t)(x % len);
        const char *p = pieces[(x >> 20) % (sizeof pieces / sizeof pieces[0])];
        size_t pl = strlen(p);
        if (x >> 60 == 0) {
          len = at + 1;                       /* cut it short */
        } else if (len + pl < lens[f] + 64) { /* replace one byte with the piece */
          memmove(buf + at + pl, buf + at + 1, len - at - 1);
          memcpy(buf + at, p, pl);
          len += pl - 1;
        }
      }
      json += agree(buf, len, "a damaged Graph fixture");
    }
    free(buf);
    free(texts[f]);
  }
  print_message("%zu of %zu damaged Graph responses were JSON\n", json, runs);
  assert_true(json > runs / 20 && json < runs);
}

/* Reals read the same under a locale whose decimal point is a comma (strtod()
 * reads the locale's): one made with localedef from Debian's locales package. */
static void test_decimal_comma(void **state)
{
  (void)state;
  char dir[] = "/tmp/urbac-locale-XXXXXX", cmd[256];
  assert_non_null(mkdtemp(dir));
  snprintf(cmd, sizeof cmd, "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 > /dev/null 2>&1", dir);
  int rc = system(cmd);
  (void)rc; /* localedef exits 1 on warnings, with the locale made */
  setenv("LOCPATH", dir, 1);
  if (!setlocale(LC_NUMERIC, "de_DE.UTF-8"))
    fail_msg("no de_DE.UTF-8 locale from localedef (Debian's locales package: scripts/deps.sh test)");
  assert_string_equal(localeconv()->decimal_point, ",");
  json_t *a = urbac__json_parse("[1.5, 2.25e1, -0.125]", 21, NULL);
  assert_non_null(a);
  assert_true(json_real_value(json_array_get(a, 0)) == 1.5);
  assert_true(json_real_value(json_array_get(a, 1)) == 22.5);
  assert_true(json_real_value(json_array_get(a, 2)) == -0.125);
  json_decref(a);
  static const char reals[] = "[1.5, 2.25e1, 0.1, 1e-5, -3.75E+2, 12345.678]";
  assert_true(agree(reals, strlen(reals), "reals under a decimal comma"));
  setlocale(LC_NUMERIC, "C");
  unsetenv("LOCPATH");
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  rc = system(cmd);
}

/* `got` (read ahead) against jansson's own parser on text `i`: the same document,
 * or a refusal at the same line. Releases `got` through `a`. */
static void ahead_agrees(urbac__json_ahead *a, json_t *got, const json_error_t *mine, char *const *texts,
                         const size_t *lens, int i)
{
  json_error_t theirs;
  json_t *want = json_loadb(texts[i], lens[i], JSON_REJECT_DUPLICATES, &theirs);
  assert_int_equal(!got, !want);
  if (want)
    assert_true(json_equal(got, want));
  else
    assert_int_equal(mine->line, theirs.line);
  json_decref(want);
  urbac__json_ahead_drop(a, got);
}

/* Texts parsed ahead on a second thread (urbac__json_ahead): 200 texts, every
 * seventh not JSON, each read in order gives what jansson's own parser gives,
 * while the trees read are given back to the thread to release; a reader that
 * stops halfway leaves the rest to urbac__json_ahead_end() (ASan: nothing
 * leaks); a reader out of step (a text read before its turn) gets that text's
 * tree and parses the rest itself; a text never given is refused. */
static void test_ahead(void **state)
{
  (void)state;
  enum { N = 200 };
  char *texts[N];
  size_t lens[N];
  for (int i = 0; i < N; i++) {
    char buf[256];
    int n = i % 7 == 3
                ? snprintf(buf, sizeof buf, "{\"page\": %d,\n \"value\": [1, 2,]}", i)
                : snprintf(buf, sizeof buf, "{\"page\": %d, \"value\": [{\"id\": \"u%d\"}, %d.5]}", i, i, i);
    texts[i] = strdup(buf);
    lens[i] = (size_t)n;
  }
  json_error_t e;
  for (int stop = N; stop >= N / 2; stop -= N / 2) {
    urbac__json_ahead *a = urbac__json_ahead_start((const char *const *)texts, lens, N);
    assert_non_null(a);
    for (int i = 0; i < stop; i++)
      ahead_agrees(a, urbac__json_ahead_next(a, texts[i], &e), &e, texts, lens, i);
    urbac__json_ahead_end(a);
  }
  urbac__json_ahead *a = urbac__json_ahead_start((const char *const *)texts, lens, N);
  for (int i = 0; i < 10; i++)
    ahead_agrees(a, urbac__json_ahead_next(a, texts[i], &e), &e, texts, lens, i);
  for (int i = 150; i < N; i++) /* out of step: 10 to 149 never read */
    ahead_agrees(a, urbac__json_ahead_next(a, texts[i], &e), &e, texts, lens, i);
  char other[] = "{}";
  assert_null(urbac__json_ahead_next(a, other, &e));
  assert_non_null(strstr(e.text, "not a text given"));
  urbac__json_ahead_end(a);
  for (int i = 0; i < N; i++)
    free(texts[i]);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_edge_cases), cmocka_unit_test(test_long_numbers),
                                     cmocka_unit_test(test_depth),      cmocka_unit_test(test_located),
                                     cmocka_unit_test(test_mutations),  cmocka_unit_test(test_decimal_comma),
                                     cmocka_unit_test(test_ahead)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
