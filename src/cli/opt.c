/*
 * cli/opt.c - the one option parser of the urbac command, driven by each
 * command's sorted table (cli/opt.h), its help printer and the suggestions for a
 * mistyped name. A row says where its value goes as an offset into the command's
 * options struct, so the parser needs no code per option and no option codes kept
 * in step. Every limit is the row's: a list given more often than its limit, a
 * single option given twice, a number out of range, all are refused by name
 * rather than dropped or overwritten.
 *
 * Depends on: the C library only.
 */
#include "opt.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WORD_MAX 64 /* the longest word cli_edit_distance compares */

/* ---------------------------------------------------------------- tables */

static int by_name(const void *key, const void *row)
{
  const char *k = key;
  const cli_opt *o = row;
  return strcmp(k, o->name);
}

const cli_opt *cli_opt_find(const cli_opt *opts, size_t n, const char *name, size_t len)
{
  char key[WORD_MAX + 1];
  if (len > WORD_MAX)
    return NULL;
  memcpy(key, name, len);
  key[len] = '\0';
  return bsearch(key, opts, n, sizeof *opts, by_name);
}

static const cli_opt *find_letter(const cli_opt *opts, size_t n, char letter)
{
  for (size_t i = 0; i < n; i++)
    if (opts[i].letter && opts[i].letter == letter)
      return &opts[i];
  return NULL;
}

static bool fail(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static bool fail(char *why, size_t size, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, size, fmt, ap);
  va_end(ap);
  return false;
}

static bool number(const cli_opt *o, const char *v, cli_int *out, char *why, size_t size);

bool cli_opt_table_ok(const cli_opt *opts, size_t n, char *why, size_t size)
{
  if (n > CLI_OPT_MAX)
    return fail(why, size, "an option table has %zu rows (the most is %d)", n, CLI_OPT_MAX);
  for (size_t i = 0; i < n; i++) {
    const cli_opt *o = &opts[i];
    cli_int scratch;
    size_t len = o->name ? strlen(o->name) : 0;
    if (!len || len > WORD_MAX || strspn(o->name, "abcdefghijklmnopqrstuvwxyz0123456789-") != len || !o->help)
      return fail(why, size, "option row %zu has no name, a bad name or no help", i);
    if (i && strcmp(opts[i - 1].name, o->name) >= 0)
      return fail(why, size, "option table not sorted: '%s' comes after '%s'", o->name, opts[i - 1].name);
    if (o->letter && (find_letter(opts, n, o->letter) != o || o->letter == 'h'))
      return fail(why, size, "option --%s: letter '-%c' taken", o->name, o->letter);
    if (!strcmp(o->name, "help"))
      return fail(why, size, "--help belongs to every command: no row may claim it");
    if ((o->kind == CLI_FLAG) != (o->arg == NULL))
      return fail(why, size, "option --%s: a flag has no value name, anything else has one", o->name);
    if (o->kind == CLI_LIST && (o->limit < 1 || o->limit > CLI_LIST_MAX))
      return fail(why, size, "option --%s: a list's limit must be 1 to %d", o->name, CLI_LIST_MAX);
    if (o->def && o->kind != CLI_STRING && o->kind != CLI_INT)
      return fail(why, size, "option --%s: only a string or a number has a default", o->name);
    if (o->kind == CLI_INT && (o->limit == 0 || (o->def && !number(o, o->def, &scratch, why, size))))
      return fail(why, size, "option --%s: a number needs a limit and a valid default", o->name);
  }
  return true;
}

/* ---------------------------------------------------------------- values */

static bool number(const cli_opt *o, const char *v, cli_int *out, char *why, size_t size)
{
  unsigned long long x = 0;
  size_t digits = strspn(v, "0123456789");
  if (digits == 0 || v[digits] != '\0')
    return fail(why, size, "--%s takes a whole number, not '%s'", o->name, v);
  for (size_t i = 0; i < digits; i++) {
    unsigned d = (unsigned)(v[i] - '0');
    if (x > (o->limit - d) / 10)
      return fail(why, size, "--%s takes a whole number up to %llu, not '%s'", o->name, o->limit, v);
    x = x * 10 + d;
  }
  out->set = true;
  out->value = x;
  return true;
}

/* Stores one value; `given` counts the row's earlier values. */
static bool store(const cli_opt *o, const char *v, unsigned given, void *dest, char *why, size_t size)
{
  char *at = (char *)dest + o->offset;
  switch (o->kind) {
  case CLI_FLAG:
    if (v)
      return fail(why, size, "--%s takes no value (got '%s')", o->name, v);
    *(bool *)(void *)at = true;
    return true;
  case CLI_STRING:
  case CLI_INT:
    if (given)
      return fail(why, size, "--%s given twice: give it once", o->name);
    if (o->kind == CLI_INT)
      return number(o, v, (cli_int *)(void *)at, why, size);
    *(const char **)(void *)at = v;
    return true;
  case CLI_LIST: {
    cli_list *l = (cli_list *)(void *)at;
    if (l->n >= o->limit)
      return fail(why, size, "--%s given more than %llu times (the most it takes)", o->name, o->limit);
    l->v[l->n++] = v;
    return true;
  }
  }
  return fail(why, size, "--%s: unknown kind of option", o->name);
}

static bool apply_defaults(const cli_opt *opts, size_t n, void *dest, char *why, size_t size)
{
  for (size_t i = 0; i < n; i++) {
    char *at = (char *)dest + opts[i].offset;
    if (!opts[i].def)
      continue;
    if (opts[i].kind == CLI_STRING)
      *(const char **)(void *)at = opts[i].def;
    else if (!number(&opts[i], opts[i].def, (cli_int *)(void *)at, why, size))
      return false;
  }
  return true;
}

/* ---------------------------------------------------------------- words */

typedef struct reader {
  const cli_opt *opts;
  size_t n;
  int argc, i;
  char **argv;
  void *dest;
  unsigned char given[CLI_OPT_MAX];
  char *why;
  size_t size;
} reader;

/* True when `w` is an option of this command: then it is no value of another. */
static bool is_option(const reader *r, const char *w)
{
  return w[0] == '-' && w[1] == '-' &&
         (cli_opt_find(r->opts, r->n, w + 2, strlen(w + 2)) || !strcmp(w, "--help"));
}

/* The row's value: `inline_value` (after '=' or the letter) or the next word. */
static bool take(reader *r, const cli_opt *o, const char *inline_value, const char *spelt)
{
  const char *v = inline_value;
  if (o->kind != CLI_FLAG && !v) {
    if (r->i + 1 >= r->argc)
      return fail(r->why, r->size, "%s needs a value (%s)", spelt, o->arg);
    v = r->argv[++r->i];
    if (is_option(r, v))
      return fail(r->why, r->size, "%s needs a value (%s), not the option '%s'", spelt, o->arg, v);
  }
  size_t row = (size_t)(o - r->opts);
  if (!store(o, v, r->given[row], r->dest, r->why, r->size))
    return false;
  if (r->given[row] < UINT8_MAX)
    r->given[row]++;
  return true;
}

static bool unknown(reader *r, const char *w, size_t len)
{
  const char *s = cli_suggest(w + 2, len - 2, &r->opts[0].name, r->n, sizeof r->opts[0]);
  if (s)
    return fail(r->why, r->size, "unknown option '%.*s'; did you mean '--%s'?", (int)len, w, s);
  return fail(r->why, r->size, "unknown option '%.*s' (see --help)", (int)len, w);
}

/* --name, or -name (`dashes` 1) as terraform spells its options. */
static bool long_option(reader *r, const char *w, size_t dashes)
{
  const char *eq = strchr(w, '=');
  size_t len = eq ? (size_t)(eq - w) : strlen(w);
  const cli_opt *o = cli_opt_find(r->opts, r->n, w + dashes, len - dashes);
  if (!o)
    return unknown(r, w, len);
  char spelt[WORD_MAX + 3];
  snprintf(spelt, sizeof spelt, "--%s", o->name);
  return take(r, o, eq ? eq + 1 : NULL, spelt);
}

static bool short_option(reader *r, const char *w)
{
  size_t len = strcspn(w, "=");
  if (len > 2 && cli_opt_find(r->opts, r->n, w + 1, len - 1)) /* -out FILE: a whole name wins */
    return long_option(r, w, 1);
  const cli_opt *o = find_letter(r->opts, r->n, w[1]);
  char spelt[3] = {'-', w[1], '\0'};
  if (!o)
    return fail(r->why, r->size, "unknown option '%s' (see --help)", w);
  if (o->kind == CLI_FLAG && w[2])
    return fail(r->why, r->size, "-%c takes no value (got '%s')", w[1], w + 2);
  return take(r, o, w[2] ? w + 2 : NULL, spelt);
}

bool cli_opt_parse(const cli_opt *opts, size_t n, int argc, char **argv, void *dest, cli_args *args,
                   char *why, size_t size)
{
  reader r = {opts, n, argc, 0, argv, dest, {0}, why, size};
  int kept = 0;
  bool ok = cli_opt_table_ok(opts, n, why, size) && apply_defaults(opts, n, dest, why, size);
  args->help = false;
  for (; ok && r.i < argc; r.i++) {
    char *w = argv[r.i];
    if (!strcmp(w, "--help") || !strcmp(w, "-h")) {
      args->help = true;
      break;
    }
    if (!strcmp(w, "--")) {
      while (++r.i < argc)
        argv[kept++] = argv[r.i];
      break;
    }
    if (w[0] == '-' && w[1] == '-')
      ok = long_option(&r, w, 2);
    else if (w[0] == '-' && w[1])
      ok = short_option(&r, w);
    else
      argv[kept++] = w; /* kept <= r.i: a slot already read */
  }
  args->n = kept;
  args->v = argv;
  return ok;
}

/* ---------------------------------------------------------------- help */

void cli_opt_help(const cli_opt *opts, size_t n, FILE *out)
{
  for (size_t i = 0; i < n; i++) {
    const cli_opt *o = &opts[i];
    char left[96], letter[5] = "    ";
    if (o->letter)
      snprintf(letter, sizeof letter, "-%c, ", o->letter);
    int len =
        snprintf(left, sizeof left, "%s--%s%s%s", letter, o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    if (len > 26) /* a long name: the help goes under it */
      fprintf(out, "  %s\n  %-26s %s", left, "", o->help);
    else
      fprintf(out, "  %-26s %s", left, o->help);
    if (o->kind == CLI_LIST)
      fprintf(out, " (repeatable, up to %llu)", o->limit);
    if (o->def)
      fprintf(out, " (default: %s)", o->def);
    fputc('\n', out);
  }
  fprintf(out, "  %-26s %s\n", "-h, --help", "this help");
}

/* ---------------------------------------------------------------- suggestions */

size_t cli_edit_distance(const char *a, size_t alen, const char *b)
{
  size_t blen = strlen(b);
  size_t d[WORD_MAX + 1][WORD_MAX + 1];
  if (alen > WORD_MAX || blen > WORD_MAX)
    return SIZE_MAX;
  for (size_t i = 0; i <= alen; i++)
    d[i][0] = i;
  for (size_t j = 0; j <= blen; j++)
    d[0][j] = j;
  for (size_t i = 1; i <= alen; i++) {
    for (size_t j = 1; j <= blen; j++) {
      size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      if (d[i - 1][j] + 1 < best)
        best = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < best)
        best = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
        best = d[i - 2][j - 2] + 1;
      d[i][j] = best;
    }
  }
  return d[alen][blen];
}

const char *cli_suggest(const char *word, size_t len, const char *const *names, size_t n, size_t stride)
{
  const char *best = NULL;
  size_t best_d = SIZE_MAX;
  for (size_t i = 0; i < n; i++) {
    const char *name = *(const char *const *)(const void *)((const char *)names + i * stride);
    size_t nlen = strlen(name), dist = cli_edit_distance(word, len, name);
    size_t close = nlen / 3 < 1 ? 1 : nlen / 3 > 2 ? 2 : nlen / 3;
    if (len > 0 && len < nlen && !strncmp(word, name, len))
      dist = 1; /* a beginning counts as close: "--perm" meant "--permission" */
    if (dist <= close && dist < best_d) {
      best = name;
      best_d = dist;
    }
  }
  return best;
}
