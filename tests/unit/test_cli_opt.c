/*
 * tests/unit/test_cli_opt.c - the CLI's one option parser (src/cli/opt.c) on a
 * table of its own: every kind of option, defaults, limits on repeated and
 * numeric options, unknown names with their suggestions, missing values, the
 * table checks, the help text and the edit distance behind "did you mean".
 * Each expected message is written out here, not computed by the parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h> /* after the headers it needs */

#include "cli/opt.h"

typedef struct opts {
  const char *output, *permission, *scope, *user;
  cli_int rank;
  cli_list principals;
  bool json, force;
} opts;

static const cli_opt table[] = {
    {"force", 0, CLI_FLAG, offsetof(opts, force), 0, NULL, NULL, "force it"},
    {"json", 'j', CLI_FLAG, offsetof(opts, json), 0, NULL, NULL, "machine-readable output"},
    {"output", 'o', CLI_STRING, offsetof(opts, output), 0, "OUT", NULL, "write there"},
    {"permission", 0, CLI_STRING, offsetof(opts, permission), 0, "P", NULL, "a permission"},
    {"principal", 0, CLI_LIST, offsetof(opts, principals), 3, "P", NULL, "a principal"},
    {"rank", 0, CLI_INT, offsetof(opts, rank), 1000, "N", "7", "a rank"},
    {"scope", 0, CLI_STRING, offsetof(opts, scope), 0, "S", "all", "a scope"},
    {"user", 0, CLI_STRING, offsetof(opts, user), 0, "U", NULL, "a user"},
};
#define NTABLE (sizeof table / sizeof table[0])

typedef struct run {
  opts o;
  cli_args a;
  char why[256];
  bool ok;
  char *argv[16];
} run;

/* Parses the words given (NULL-terminated) into r; the words are copied, as argv is reordered. */
static void parse(run *r, ...)
{
  static char words[16][128];
  va_list ap;
  int argc = 0;
  memset(r, 0, sizeof *r);
  va_start(ap, r);
  for (const char *w; (w = va_arg(ap, const char *)) != NULL && argc < 16; argc++) {
    snprintf(words[argc], sizeof words[argc], "%s", w);
    r->argv[argc] = words[argc];
  }
  va_end(ap);
  r->ok = cli_opt_parse(table, NTABLE, argc, r->argv, &r->o, &r->a, r->why, sizeof r->why);
}

static void refused(run *r, const char *message)
{
  assert_false(r->ok);
  assert_string_equal(r->why, message);
}

/* ---------------------------------------------------------------- values */

static void test_every_kind(void **state)
{
  (void)state;
  run r;
  parse(&r, "list", "--user", "ann", "-j", "--rank=12", "x", "--principal", "a", "--principal=b",
        "-ofile.yaml", "--force", "y", NULL);
  assert_true(r.ok);
  assert_string_equal(r.o.user, "ann");
  assert_true(r.o.json && r.o.force);
  assert_true(r.o.rank.set);
  assert_int_equal(r.o.rank.value, 12);
  assert_int_equal(r.o.principals.n, 2);
  assert_string_equal(r.o.principals.v[0], "a");
  assert_string_equal(r.o.principals.v[1], "b");
  assert_string_equal(r.o.output, "file.yaml");
  assert_int_equal(r.a.n, 3); /* the other words, in order, wherever they stood */
  assert_string_equal(r.a.v[0], "list");
  assert_string_equal(r.a.v[1], "x");
  assert_string_equal(r.a.v[2], "y");
  assert_false(r.a.help);
}

static void test_defaults(void **state)
{
  (void)state;
  run r;
  parse(&r, NULL);
  assert_true(r.ok);
  assert_string_equal(r.o.scope, "all");
  assert_true(r.o.rank.set);
  assert_int_equal(r.o.rank.value, 7);
  assert_null(r.o.user);
  assert_false(r.o.json);
  parse(&r, "--scope", "any", "--rank", "0", NULL); /* a default is no first value: giving it once is fine */
  assert_true(r.ok);
  assert_string_equal(r.o.scope, "any");
  assert_int_equal(r.o.rank.value, 0);
}

static void test_words_and_dashes(void **state)
{
  (void)state;
  run r;
  parse(&r, "-", "--output", "-", "--", "--user", "-j", NULL);
  assert_true(r.ok);
  assert_string_equal(r.o.output, "-"); /* "-" is a value (standard output) */
  assert_null(r.o.user);                /* after "--", nothing is an option */
  assert_false(r.o.json);
  assert_int_equal(r.a.n, 3);
  assert_string_equal(r.a.v[0], "-");
  assert_string_equal(r.a.v[1], "--user");
  assert_string_equal(r.a.v[2], "-j");
  parse(&r, "--user", "--", NULL); /* a value may be anything that is not an option of the table */
  assert_true(r.ok);
  assert_string_equal(r.o.user, "--");
}

/* -name value, as terraform writes `plan -out FILE`: a whole name wins over a letter. */
static void test_single_dash_names(void **state)
{
  (void)state;
  run r;
  parse(&r, "-output", "plan.json", "-user=ann", "-json", NULL);
  assert_true(r.ok);
  assert_string_equal(r.o.output, "plan.json");
  assert_string_equal(r.o.user, "ann");
  assert_true(r.o.json);
  assert_int_equal(r.a.n, 0);
  parse(&r, "-outp", NULL); /* not a whole name: the letter -o with the value "utp" */
  assert_true(r.ok);
  assert_string_equal(r.o.output, "utp");
  parse(&r, "-userx", "a", NULL);
  refused(&r, "unknown option '-userx' (see --help)");
}

static void test_help(void **state)
{
  (void)state;
  run r;
  parse(&r, "--user", "a", "--help", "--bogus", NULL);
  assert_true(r.ok);
  assert_true(r.a.help);
  parse(&r, "-h", NULL);
  assert_true(r.ok && r.a.help);
}

/* ---------------------------------------------------------------- limits */

static void test_list_limit(void **state)
{
  (void)state;
  run r;
  parse(&r, "--principal", "a", "--principal", "b", "--principal", "c", NULL);
  assert_true(r.ok);
  assert_int_equal(r.o.principals.n, 3);
  parse(&r, "--principal", "a", "--principal", "b", "--principal", "c", "--principal", "d", NULL);
  refused(&r, "--principal given more than 3 times (the most it takes)");
}

static void test_numbers(void **state)
{
  (void)state;
  run r;
  parse(&r, "--rank", "1000", NULL);
  assert_true(r.ok);
  assert_int_equal(r.o.rank.value, 1000);
  parse(&r, "--rank", "1001", NULL);
  refused(&r, "--rank takes a whole number up to 1000, not '1001'");
  parse(&r, "--rank", "99999999999999999999999", NULL);
  refused(&r, "--rank takes a whole number up to 1000, not '99999999999999999999999'");
  parse(&r, "--rank", "-1", NULL);
  refused(&r, "--rank takes a whole number, not '-1'");
  parse(&r, "--rank", "2x", NULL);
  refused(&r, "--rank takes a whole number, not '2x'");
  parse(&r, "--rank=", NULL);
  refused(&r, "--rank takes a whole number, not ''");
}

static void test_repeated(void **state)
{
  (void)state;
  run r;
  parse(&r, "--user", "a", "--user", "b", NULL);
  refused(&r, "--user given twice: give it once");
  parse(&r, "--rank", "1", "--rank=1", NULL);
  refused(&r, "--rank given twice: give it once");
  parse(&r, "-o", "a", "--output", "b", NULL); /* the letter and the name are one option */
  refused(&r, "--output given twice: give it once");
  parse(&r, "--json", "-j", "--json", NULL); /* a flag may be said again */
  assert_true(r.ok && r.o.json);
}

/* ---------------------------------------------------------------- mistakes */

static void test_unknown(void **state)
{
  (void)state;
  run r;
  parse(&r, "--permision", "x", NULL);
  refused(&r, "unknown option '--permision'; did you mean '--permission'?");
  parse(&r, "--perm=x", NULL); /* a beginning is suggested, not taken */
  refused(&r, "unknown option '--perm'; did you mean '--permission'?");
  parse(&r, "--principle", "x", NULL);
  refused(&r, "unknown option '--principle'; did you mean '--principal'?");
  parse(&r, "--usre", "x", NULL);
  refused(&r, "unknown option '--usre'; did you mean '--user'?");
  parse(&r, "--frobnicate", NULL);
  refused(&r, "unknown option '--frobnicate' (see --help)");
  parse(&r, "-x", NULL);
  refused(&r, "unknown option '-x' (see --help)");
}

static void test_missing_values(void **state)
{
  (void)state;
  run r;
  parse(&r, "--user", NULL);
  refused(&r, "--user needs a value (U)");
  parse(&r, "-o", NULL);
  refused(&r, "-o needs a value (OUT)");
  parse(&r, "--user", "--json", NULL);
  refused(&r, "--user needs a value (U), not the option '--json'");
  parse(&r, "--principal", "a", "--principal", NULL);
  refused(&r, "--principal needs a value (P)");
  parse(&r, "--json=yes", NULL);
  refused(&r, "--json takes no value (got 'yes')");
  parse(&r, "-jx", NULL);
  refused(&r, "-j takes no value (got 'x')");
}

/* ---------------------------------------------------------------- tables */

static void test_tables_checked(void **state)
{
  (void)state;
  char why[256];
  opts o;
  cli_args a;
  char *argv[] = {NULL};
  const cli_opt unsorted[] = {
      {"user", 0, CLI_STRING, offsetof(opts, user), 0, "U", NULL, "a user"},
      {"json", 0, CLI_FLAG, offsetof(opts, json), 0, NULL, NULL, "json"},
  };
  const cli_opt too_long[] = {
      {"principal", 0, CLI_LIST, offsetof(opts, principals), CLI_LIST_MAX + 1, "P", NULL, "p"}};
  const cli_opt letters[] = {
      {"json", 'o', CLI_FLAG, offsetof(opts, json), 0, NULL, NULL, "json"},
      {"output", 'o', CLI_STRING, offsetof(opts, output), 0, "OUT", NULL, "out"},
  };
  const cli_opt bad_default[] = {{"rank", 0, CLI_INT, offsetof(opts, rank), 10, "N", "11", "r"}};
  const cli_opt help_row[] = {{"help", 0, CLI_FLAG, offsetof(opts, json), 0, NULL, NULL, "mine"}};
  assert_true(cli_opt_table_ok(table, NTABLE, why, sizeof why));
  assert_false(cli_opt_table_ok(unsorted, 2, why, sizeof why));
  assert_string_equal(why, "option table not sorted: 'json' comes after 'user'");
  assert_false(cli_opt_parse(unsorted, 2, 0, argv, &o, &a, why, sizeof why)); /* the parser checks first */
  assert_false(cli_opt_table_ok(too_long, 1, why, sizeof why));
  assert_string_equal(why, "option --principal: a list's limit must be 1 to 64");
  assert_false(cli_opt_table_ok(letters, 2, why, sizeof why));
  assert_string_equal(why, "option --output: letter '-o' taken");
  assert_false(cli_opt_table_ok(bad_default, 1, why, sizeof why));
  assert_false(cli_opt_table_ok(help_row, 1, why, sizeof why));
}

static void test_help_text(void **state)
{
  (void)state;
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  assert_non_null(f);
  cli_opt_help(table, NTABLE, f);
  fclose(f);
  assert_non_null(strstr(text, "  -j, --json                 machine-readable output\n"));
  assert_non_null(strstr(text, "      --principal P          a principal (repeatable, up to 3)\n"));
  assert_non_null(strstr(text, "      --rank N               a rank (default: 7)\n"));
  assert_non_null(strstr(text, "  -h, --help                 this help\n"));
  free(text);
}

/* ---------------------------------------------------------------- suggestions */

static void test_edit_distance(void **state)
{
  (void)state;
  char longer[80];
  memset(longer, 'a', sizeof longer - 1);
  longer[sizeof longer - 1] = '\0';
  assert_int_equal(cli_edit_distance("kitten", 6, "sitting"), 3);
  assert_int_equal(cli_edit_distance("chek", 4, "check"), 1);
  assert_int_equal(cli_edit_distance("chekc", 5, "check"), 1); /* a transposition is one edit */
  assert_int_equal(cli_edit_distance("", 0, "json"), 4);
  assert_int_equal(cli_edit_distance("same", 4, "same"), 0);
  assert_int_equal(cli_edit_distance(longer, strlen(longer), "a"), SIZE_MAX);
}

static void test_suggest_commands(void **state)
{
  (void)state;
  static const char *const names[] = {"check", "effective", "explain", "fmt", "who-can"};
  assert_string_equal(cli_suggest("chek", 4, names, 5, sizeof names[0]), "check");
  assert_string_equal(cli_suggest("explian", 7, names, 5, sizeof names[0]), "explain");
  assert_string_equal(cli_suggest("whocan", 6, names, 5, sizeof names[0]), "who-can");
  assert_string_equal(cli_suggest("eff", 3, names, 5, sizeof names[0]), "effective");
  assert_null(cli_suggest("frob", 4, names, 5, sizeof names[0]));
  assert_null(cli_suggest("", 0, names, 5, sizeof names[0]));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_kind),
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_words_and_dashes),
      cmocka_unit_test(test_single_dash_names),
      cmocka_unit_test(test_help),
      cmocka_unit_test(test_list_limit),
      cmocka_unit_test(test_numbers),
      cmocka_unit_test(test_repeated),
      cmocka_unit_test(test_unknown),
      cmocka_unit_test(test_missing_values),
      cmocka_unit_test(test_tables_checked),
      cmocka_unit_test(test_help_text),
      cmocka_unit_test(test_edit_distance),
      cmocka_unit_test(test_suggest_commands),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
