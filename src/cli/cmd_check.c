/*
 * cli/cmd_check.c - `urbac check`, `urbac explain` and `urbac who-can`: asking
 * the engine, one question from flags or a stream of them from a TSV file.
 *
 * The stream path is the fast one: it reads in large blocks, resolves each line
 * with a caching parser, answers from the snapshot and writes through one large
 * output buffer. A line that cannot be answered gets "error: reason" in its place
 * so answers stay aligned with questions, and the exit status is then 2.
 *
 * Depends on: the public API, cli/main.c, cli/source.c.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define BLOCK (1u << 20)

/* The options of check, explain and who-can (each takes those in its table). */
typedef struct ask_opts {
  cli_source_opts src;
  const char *user, *permission, *workload, *scope, *queries;
  bool json, stats;
} ask_opts;

/* ---------------------------------------------------------------- output */

typedef struct out {
  char buf[1u << 16];
  size_t len;
} out;

static void out_flush(out *w)
{
  fwrite(w->buf, 1, w->len, stdout);
  w->len = 0;
}

static void out_put(out *w, const char *s, size_t n)
{
  if (w->len + n > sizeof w->buf)
    out_flush(w);
  if (n > sizeof w->buf) {
    fwrite(s, 1, n, stdout);
    return;
  }
  memcpy(w->buf + w->len, s, n);
  w->len += n;
}

static json_t *explanation_json(const urbac_explanation *e)
{
  json_t *lines = json_array();
  for (size_t i = 0; i < urbac_explanation_count(e); i++)
    json_array_append_new(lines, json_string(urbac_explanation_line(e, i)));
  return lines;
}

/* One JSON answer line: decision and explanation, or the error. */
static void answer_json(out *w, const urbac_snapshot *snap, const urbac_query *q, const char *error)
{
  json_t *o;
  urbac_explanation *e = NULL;
  if (error) {
    o = json_pack("{s:s}", "error", error);
  } else if (urbac_explain(snap, q, &e, NULL) == URBAC_OK) {
    o = json_pack("{s:s, s:o}", "decision", urbac_explanation_allowed(e) ? "allow" : "deny", "explanation",
                  explanation_json(e));
  } else {
    o = json_pack("{s:s}", "error", "out of memory");
  }
  char *text = json_dumps(o, JSON_COMPACT);
  if (text) {
    out_put(w, text, strlen(text));
    out_put(w, "\n", 1);
  }
  free(text);
  json_decref(o);
  urbac_explanation_free(e);
}

/* ---------------------------------------------------------------- streams */

typedef struct stream {
  const urbac_snapshot *s;
  urbac_parser *p;
  urbac_diag *d; /* cleared for each line: a line that does not parse allocates nothing */
  out w;
  bool json;
  size_t lineno, errors, first_error;
} stream;

static void answer_line(stream *st, const char *line, size_t len)
{
  urbac_query q;
  st->lineno++;
  urbac_diag_clear(st->d);
  urbac_err err = urbac_parse_query_line(st->p, line, len, &q, st->d);
  const char *why = cli_diag_message(st->d, err);
  if (err) {
    if (!st->errors++)
      st->first_error = st->lineno;
  }
  if (st->json) {
    answer_json(&st->w, st->s, &q, err ? why : NULL);
  } else if (err) {
    out_put(&st->w, "error: ", 7);
    out_put(&st->w, why, strlen(why));
    out_put(&st->w, "\n", 1);
  } else if (urbac_check(st->s, &q)) {
    out_put(&st->w, "allow\n", 6);
  } else {
    out_put(&st->w, "deny\n", 5);
  }
}

/* Reads `in` in blocks and answers each line; a last line without a newline counts. */
static bool answer_stream(stream *st, FILE *in)
{
  char *buf = malloc(BLOCK + 1);
  size_t have = 0;
  bool ok = buf != NULL;
  while (ok) {
    size_t got = fread(buf + have, 1, BLOCK - have, in);
    have += got;
    size_t start = 0;
    for (char *nl; (nl = memchr(buf + start, '\n', have - start)) != NULL; start = (size_t)(nl - buf) + 1)
      answer_line(st, buf + start, (size_t)(nl - buf) - start);
    memmove(buf, buf + start, have - start);
    have -= start;
    if (got == 0) {
      if (have)
        answer_line(st, buf, have);
      break;
    }
    if (have == BLOCK) { /* a line longer than a block: answer it as too long */
      answer_line(st, buf, have);
      have = 0;
      int c;
      while ((c = fgetc(in)) != EOF && c != '\n')
        ;
    }
  }
  ok = ok && !ferror(in);
  free(buf);
  return ok;
}

static int check_queries(const ask_opts *o, const urbac_snapshot *snap)
{
  stream *st = calloc(1, sizeof *st);
  bool stdin_ = strcmp(o->queries, "-") == 0;
  FILE *in = stdin_ ? stdin : fopen(o->queries, "rb");
  int rc = EXIT_USAGE;
  if (!in) {
    cli_error("%s: cannot open: %s", o->queries, strerror(errno));
    free(st);
    return EXIT_USAGE;
  }
  if (!st || !(st->p = urbac_parser_new(snap)) || !(st->d = urbac_diag_new())) {
    cli_error("out of memory");
    goto out;
  }
  st->s = snap;
  st->json = o->json;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (!answer_stream(st, in)) {
    cli_error("%s: read failed", o->queries);
    goto out;
  }
  out_flush(&st->w);
  fflush(stdout);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (o->stats) {
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    fprintf(stderr, "urbac: answered %zu lines in %.3f s (%.0f lines/s; loading the tenant not counted)\n",
            st->lineno, secs, secs > 0 ? (double)st->lineno / secs : 0.0);
  }
  if (st->errors)
    cli_error("%s: %zu line(s) could not be answered (first: line %zu)", o->queries, st->errors,
              st->first_error);
  rc = st->errors ? EXIT_USAGE : 0;
out:
  if (st) {
    urbac_parser_free(st->p);
    urbac_diag_free(st->d);
  }
  free(st);
  if (!stdin_)
    fclose(in);
  return rc;
}

/* ---------------------------------------------------------------- one question */

static bool one_query(const ask_opts *o, const urbac_snapshot *snap, bool need_user, urbac_query *q)
{
  if ((need_user && !cli_need(o->user, "user")) || !cli_need(o->permission, "permission") ||
      !cli_need(o->workload, "workload"))
    return false;
  urbac_question question = {urbac_str_of(o->user), urbac_str_of(o->permission), urbac_str_of(o->workload),
                             urbac_str_of(o->scope)};
  urbac_parser *p = urbac_parser_new(snap);
  urbac_diag *d = urbac_diag_new();
  urbac_err err = p && d ? urbac_parse_query(p, &question, q, d) : URBAC_ENOMEM;
  if (err)
    cli_error("%s", cli_diag_message(d, err));
  urbac_parser_free(p);
  urbac_diag_free(d);
  return err == URBAC_OK;
}

/* A user the tenant does not know is denied everything: said on stderr, as explain says it. */
static void unknown_user(const ask_opts *o, const cli_source *src)
{
  if (urbac_snapshot_user_find(src->snapshot, o->user, strlen(o->user)) == URBAC_UNKNOWN_USER)
    cli_error("'%s' is not a user of tenant %s: an unknown user is denied everything", o->user,
              urbac_model_tenant(src->model));
}

static int check(void *opts, const cli_args *a)
{
  const ask_opts *o = opts;
  cli_source src = {0};
  urbac_query q;
  int rc = EXIT_USAGE;
  if (!cli_no_args(a, "check"))
    return EXIT_USAGE;
  if (o->queries && (o->user || o->permission || o->workload || o->scope)) {
    cli_error("check: give either --queries or --user/--permission/--workload, not both");
    return EXIT_USAGE;
  }
  if (!cli_source_read(&src, &o->src, CLI_SOURCE_FILE_OR_STORE, URBAC_STORE_READ, true))
    goto out;
  if (o->queries) {
    rc = check_queries(o, src.snapshot);
  } else if (one_query(o, src.snapshot, true, &q)) {
    out w = {.len = 0};
    bool allow = urbac_check(src.snapshot, &q);
    if (!allow)
      unknown_user(o, &src);
    if (o->json)
      answer_json(&w, src.snapshot, &q, NULL);
    else
      out_put(&w, allow ? "allow\n" : "deny\n", allow ? 6 : 5);
    out_flush(&w);
    rc = allow ? EXIT_ALLOW : EXIT_DENY;
  }
out:
  cli_source_close(&src);
  return rc;
}

static int explain(void *opts, const cli_args *a)
{
  const ask_opts *o = opts;
  cli_source src = {0};
  urbac_query q;
  urbac_explanation *e = NULL;
  int rc = EXIT_USAGE;
  if (!cli_no_args(a, "explain") ||
      !cli_source_read(&src, &o->src, CLI_SOURCE_FILE_OR_STORE, URBAC_STORE_READ, true))
    goto out;
  if (one_query(o, src.snapshot, true, &q)) {
    if (urbac_explain(src.snapshot, &q, &e, NULL)) {
      cli_error("out of memory");
    } else if (o->json) {
      out w = {.len = 0};
      answer_json(&w, src.snapshot, &q, NULL);
      out_flush(&w);
    } else {
      printf("%s\n", urbac_explanation_allowed(e) ? "allow" : "deny");
      for (size_t i = 0; i < urbac_explanation_count(e); i++)
        printf("  %s\n", urbac_explanation_line(e, i));
    }
    rc = e ? (urbac_explanation_allowed(e) ? EXIT_ALLOW : EXIT_DENY) : EXIT_USAGE;
  }
out:
  urbac_explanation_free(e);
  cli_source_close(&src);
  return rc;
}

static int print_user(void *ctx, uint32_t user, const char *id)
{
  (void)user;
  if (ctx)
    json_array_append_new(ctx, json_string(id));
  else
    printf("%s\n", id);
  return 0;
}

static int who_can(void *opts, const cli_args *a)
{
  const ask_opts *o = opts;
  cli_source src = {0};
  urbac_query q;
  int rc = EXIT_USAGE;
  if (!cli_no_args(a, "who-can") ||
      !cli_source_read(&src, &o->src, CLI_SOURCE_FILE_OR_STORE, URBAC_STORE_READ, true))
    goto out;
  if (one_query(o, src.snapshot, false, &q)) {
    json_t *users = o->json ? json_array() : NULL;
    urbac_who_can(src.snapshot, &q, print_user, users);
    if (users) {
      json_dumpf(users, stdout, JSON_INDENT(2));
      fputc('\n', stdout);
      json_decref(users);
    }
    rc = 0;
  }
out:
  cli_source_close(&src);
  return rc;
}

/* ---------------------------------------------------------------- the commands */

#define ROW(name, kind, field, arg, help)                                                                    \
  {                                                                                                          \
    name, 0, kind, offsetof(ask_opts, field), 0, arg, NULL, help                                             \
  }
#define PERMISSION                                                                                           \
  ROW("permission", CLI_STRING, permission, "P", "a permission with its level (catalog name or id)")
#define SCOPE                                                                                                \
  ROW("scope", CLI_STRING, scope, "S", "empty or all, any, device:ID or devicegroup:ID (default: all)")
#define USER ROW("user", CLI_STRING, user, "U", "the user's id")
#define WORKLOAD                                                                                             \
  ROW("workload", CLI_STRING, workload, "W", "mde, mdo, mdi, mda, mdc or exposure (or its Graph appScopeId)")

static const cli_opt check_opts[] = {
    CLI_ROW_DB(ask_opts),
    CLI_ROW_JSON(ask_opts),
    PERMISSION,
    ROW("queries", CLI_STRING, queries, "TSV",
        "a file of questions, one a line (user, permission, workload, scope; "
        "- for standard input)"),
    SCOPE,
    ROW("stats", CLI_FLAG, stats, NULL, "with --queries: lines answered and lines per second, on stderr"),
    CLI_ROW_TENANT(ask_opts),
    CLI_ROW_TENANT_ID(ask_opts),
    USER,
    WORKLOAD,
};
static const cli_opt explain_opts[] = {
    CLI_ROW_DB(ask_opts),     CLI_ROW_JSON(ask_opts),      PERMISSION, SCOPE,
    CLI_ROW_TENANT(ask_opts), CLI_ROW_TENANT_ID(ask_opts), USER,       WORKLOAD,
};
static const cli_opt who_can_opts[] = {
    CLI_ROW_DB(ask_opts),     CLI_ROW_JSON(ask_opts),      PERMISSION, SCOPE,
    CLI_ROW_TENANT(ask_opts), CLI_ROW_TENANT_ID(ask_opts), WORKLOAD,
};

const cli_command cli_check = CLI_COMMAND(
    "check",
    "urbac check --tenant FILE (--user U --permission P --workload W [--scope S] | --queries TSV [--stats]) "
    "[--json]",
    "Answer one question (exit 0 allow, 1 deny) or a file of them, in order", ask_opts, check_opts, check);
const cli_command cli_explain = CLI_COMMAND(
    "explain", "urbac explain --tenant FILE --user U --permission P --workload W [--scope S] [--json]",
    "Say why a question is allowed (the chain) or denied (what is missing)", ask_opts, explain_opts, explain);
const cli_command cli_who_can = CLI_COMMAND(
    "who-can", "urbac who-can --tenant FILE --permission P --workload W [--scope S] [--json]",
    "List every user allowed a permission on a workload and scope", ask_opts, who_can_opts, who_can);
