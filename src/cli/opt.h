/*
 * cli/opt.h - the command line parser of urbac: each command describes its options
 * in one sorted table (as curl's tool does in src/tool_getparam.c), one row per
 * option: its name, kind, where its value goes in that command's own options
 * struct, its limit, default and help. One parser reads every command's words by
 * its table, and the same table prints `urbac COMMAND --help` and suggests the
 * option meant when a name is mistyped. Nothing here is global and nothing is
 * allocated: values point into argv.
 *
 * Depends on: the C library only (so a unit test can link it alone).
 */
#ifndef URBAC_CLI_OPT_H
#define URBAC_CLI_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The most rows an option table may have, and the most values any list option can hold. */
#define CLI_OPT_MAX 64
#define CLI_LIST_MAX 64

typedef enum cli_opt_kind {
  CLI_FLAG,   /* --json: a bool, true when given */
  CLI_STRING, /* --user U: a const char *, given at most once */
  CLI_INT,    /* --rank N: a cli_int, a whole number from 0 to the row's limit, given at most once */
  CLI_LIST,   /* --principal P...: a cli_list, given up to the row's limit times, in order */
} cli_opt_kind;

typedef struct cli_int {
  bool set; /* given, or a default applied */
  unsigned long long value;
} cli_int;

typedef struct cli_list {
  const char *v[CLI_LIST_MAX];
  size_t n;
} cli_list;

typedef struct cli_opt {
  const char *name;         /* without "--"; a table is sorted by it (strcmp), names unique */
  char letter;              /* a one-letter form (-o), or '\0' */
  cli_opt_kind kind;        /* and so the type at `offset` */
  size_t offset;            /* of the value in the command's options struct */
  unsigned long long limit; /* CLI_LIST: the most values (1..CLI_LIST_MAX); CLI_INT: the largest value */
  const char *arg;          /* the value's name in help ("FILE"); NULL for a flag */
  const char *def;          /* CLI_STRING, CLI_INT: the value when not given (shown in help), or NULL */
  const char *help;         /* one line */
} cli_opt;

/* The words left after the options, in order (they point into argv). */
typedef struct cli_args {
  int n;
  char **v;
  bool help; /* --help or -h was given: the rest was not read */
} cli_args;

/* A table's row by name (bsearch), or NULL. */
const cli_opt *cli_opt_find(const cli_opt *opts, size_t n, const char *name, size_t len);

/* Checks a table: sorted, unique names and letters, kinds with sane limits and
 * defaults; false with the first problem in `why` (a programming error). */
bool cli_opt_table_ok(const cli_opt *opts, size_t n, char *why, size_t size);

/*
 * Parses argv[0..argc) (the words after the command's name) by `opts` into `dest`,
 * the command's options struct: zeroes nothing, applies the defaults, then every
 * option. Options and other words may come in any order; "--" ends the options;
 * "--name=value", "--name value", "-o value" and "-ovalue" are accepted, and so
 * are "-name value" and "-name=value" when `name` is a whole option name (as
 * terraform writes `plan -out FILE`; the whole name wins over a letter). argv is
 * reordered in place so that the other words come first: `args` points at them.
 * Returns false with one message in `why` (naming the option, with a suggestion
 * for a mistyped name) on an unknown option, a missing or unexpected value, a bad
 * number, a single option given twice, or a list given more often than its limit.
 */
bool cli_opt_parse(const cli_opt *opts, size_t n, int argc, char **argv, void *dest, cli_args *args,
                   char *why, size_t size);

/* Prints one line per option, with its value's name, help and default. */
void cli_opt_help(const cli_opt *opts, size_t n, FILE *out);

/* The edit distance (insertions, deletions, substitutions, transpositions) between
 * two words of up to 64 bytes; a longer word is SIZE_MAX from anything. */
size_t cli_edit_distance(const char *a, size_t alen, const char *b);

/*
 * The name most like `word` among `n` names, the first at `names` and each
 * `stride` bytes after the one before (so a table of structs whose first member is
 * the name can be searched as it is); NULL when none is close: a name is close
 * when `word` begins it, or is at most a third of its length (and at most 2) edits
 * away.
 */
const char *cli_suggest(const char *word, size_t len, const char *const *names, size_t n, size_t stride);

#endif
