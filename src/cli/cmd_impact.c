/*
 * cli/cmd_impact.c - `urbac impact`: what activating a workload would change, as
 * a reviewer needs it. Formats: table (a summary, then by user), tsv (exactly
 * user, permission, workload, scope, before, after), csv and json (the same, with
 * headers), html (one self-contained page with charts of gains and losses per
 * permission and per group, and sortable tables; see cli/impact_html.c).
 * --explain adds the reason before and after to every row.
 *
 * Depends on: the public API, cli/main.c, cli/common.c, cli/source.c, cli/impact_html.c.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "impact.h"

typedef struct impact_opts {
  cli_source_opts src;
  const char *format, *output;
  bool import, explain, json, progress, rows, summary;
  cli_int top;
} impact_opts;

/* ---------------------------------------------------------------- rows */

void impact_row_text(const impact_out *out, const urbac_impact_row *r, impact_text *t)
{
  const urbac_model *m = urbac_snapshot_model(urbac_impact_before(out->im));
  t->user = urbac_snapshot_user_id(urbac_impact_before(out->im), r->user);
  t->permission = urbac_catalog_perm(r->permission)->name;
  t->workload = urbac_catalog_workload_id(urbac_impact_workload(out->im));
  if (r->dg == UINT32_MAX)
    t->scope[0] = '\0';
  else
    snprintf(t->scope, sizeof t->scope, "devicegroup:%s", urbac_model_id(m, URBAC_OBJ_DEVICE_GROUP, r->dg));
  t->before = urbac_impact_level_name(r->before);
  t->after = urbac_impact_level_name(r->after);
  t->why_before[0] = t->why_after[0] = '\0';
  if (out->explain)
    urbac_impact_explain(out->im, r, t->why_before, t->why_after, sizeof t->why_before, NULL);
}

/* The tsv writer without --explain: every string is computed once and rows are
 * copied into one large buffer, so tens of millions of rows stream in seconds. */
typedef struct fast_tsv {
  FILE *f;
  const urbac_snapshot *s;
  const char *perm[IMPACT_MAX_PERMS];
  char **scope; /* per device group index: "\tdevicegroup:ID\t"; [ndg]: "\t\t" */
  size_t ndg;
  impact_progress *progress;
  char prefix[32]; /* "\tmde" */
  char buf[1 << 16];
  size_t len;
} fast_tsv;

static void fast_put(fast_tsv *t, const char *s, size_t n)
{
  if (t->len + n > sizeof t->buf) {
    fwrite(t->buf, 1, t->len, t->f);
    t->len = 0;
  }
  memcpy(t->buf + t->len, s, n);
  t->len += n;
}

static int row_fast_tsv(void *ctx, const urbac_impact_row *r)
{
  fast_tsv *t = ctx;
  const char *u = urbac_snapshot_user_id(t->s, r->user), *sc = t->scope[r->dg == UINT32_MAX ? t->ndg : r->dg];
  const char *b = urbac_impact_level_name(r->before), *a = urbac_impact_level_name(r->after);
  fast_put(t, u, strlen(u));
  fast_put(t, "\t", 1);
  fast_put(t, t->perm[r->permission], strlen(t->perm[r->permission]));
  fast_put(t, t->prefix, strlen(t->prefix));
  fast_put(t, sc, strlen(sc));
  fast_put(t, b, strlen(b));
  fast_put(t, "\t", 1);
  fast_put(t, a, strlen(a));
  fast_put(t, "\n", 1);
  impact_progress_step(t->progress);
  return 0;
}

static bool write_fast_tsv(const urbac_impact *im, FILE *f, impact_progress *progress)
{
  fast_tsv *t = calloc(1, sizeof *t);
  const urbac_model *m = urbac_snapshot_model(urbac_impact_before(im));
  bool ok = t != NULL;
  if (ok) {
    t->f = f;
    t->progress = progress;
    t->s = urbac_impact_before(im);
    t->ndg = urbac_model_count(m, URBAC_OBJ_DEVICE_GROUP);
    snprintf(t->prefix, sizeof t->prefix, "\t%s", urbac_catalog_workload_id(urbac_impact_workload(im)));
    for (size_t p = 0; p < urbac_catalog_perm_count() && p < IMPACT_MAX_PERMS; p++)
      t->perm[p] = urbac_catalog_perm(p)->name;
    ok = (t->scope = calloc(t->ndg + 1, sizeof *t->scope)) != NULL;
  }
  for (size_t d = 0; ok && d <= t->ndg; d++) {
    const char *id = d < t->ndg ? urbac_model_id(m, URBAC_OBJ_DEVICE_GROUP, d) : NULL;
    size_t n = id ? strlen(id) + 16 : 3;
    ok = (t->scope[d] = malloc(n)) != NULL;
    if (ok)
      snprintf(t->scope[d], n, id ? "\tdevicegroup:%s\t" : "\t\t", id);
  }
  if (ok) {
    urbac_impact_rows(im, row_fast_tsv, t);
    fwrite(t->buf, 1, t->len, f);
  }
  for (size_t d = 0; t && t->scope && d <= t->ndg; d++)
    free(t->scope[d]);
  if (t)
    free(t->scope);
  free(t);
  return ok;
}

/* One row as separated fields: csv quotes (RFC 4180), tsv folds any tab or line
 * break inside a field to a space so rows stay aligned with questions. */
static void row_fields(impact_out *o, const urbac_impact_row *r, bool csv)
{
  impact_text t;
  impact_row_text(o, r, &t);
  const char *fields[] = {t.user,   t.permission, t.workload,   t.scope,
                          t.before, t.after,      t.why_before, t.why_after};
  size_t n = o->explain ? 8 : 6;
  for (size_t i = 0; i < n; i++) {
    if (csv) {
      cli_csv_field(o->f, fields[i], i + 1 < n ? ',' : '\r');
      continue;
    }
    for (const char *c = fields[i]; *c; c++)
      fputc(*c == '\t' || *c == '\n' || *c == '\r' ? ' ' : *c, o->f);
    if (i + 1 < n)
      fputc('\t', o->f);
  }
  fputc('\n', o->f);
  impact_progress_step(o->progress);
}

static int row_tsv(void *ctx, const urbac_impact_row *r)
{
  row_fields(ctx, r, false);
  return 0;
}

static int row_csv(void *ctx, const urbac_impact_row *r)
{
  row_fields(ctx, r, true);
  return 0;
}

static int row_json(void *ctx, const urbac_impact_row *r)
{
  impact_out *o = ctx;
  impact_text t;
  impact_row_text(o, r, &t);
  json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "user", t.user, "permission", t.permission,
                        "workload", t.workload, "scope", t.scope, "before", t.before, "after", t.after);
  if (o->explain) {
    json_object_set_new(j, "whyBefore", json_string(t.why_before));
    json_object_set_new(j, "whyAfter", json_string(t.why_after));
  }
  fputs(o->rows++ ? ",\n    " : "\n    ", o->f);
  json_dumpf(j, o->f, JSON_COMPACT);
  json_decref(j);
  impact_progress_step(o->progress);
  return 0;
}

static int row_table(void *ctx, const urbac_impact_row *r)
{
  impact_out *o = ctx;
  impact_text t;
  impact_row_text(o, r, &t);
  if (o->rows++ == 0 || r->user != o->last_user)
    fprintf(o->f, "\n%s\n", t.user);
  o->last_user = r->user;
  fprintf(o->f, "  %s %-70s %-26s %s -> %s\n", r->after > r->before ? "+" : "-", t.permission,
          t.scope[0] ? t.scope : t.workload, t.before, t.after);
  if (o->explain)
    fprintf(o->f, "      before: %s\n      after:  %s\n", t.why_before, t.why_after);
  impact_progress_step(o->progress);
  return 0;
}

/* ---------------------------------------------------------------- formats */

static void write_json(impact_out *o, const impact_summary *s)
{
  const urbac_model *m = urbac_snapshot_model(urbac_impact_before(o->im));
  fprintf(o->f, "{\n  \"tenant\": ");
  json_t *str = json_string(urbac_model_tenant(m));
  json_dumpf(str, o->f, JSON_ENCODE_ANY);
  json_decref(str);
  fprintf(o->f,
          ",\n  \"workload\": \"%s\",\n  \"import\": %s,\n  \"summary\": {\"changes\": %zu, \"users\": %zu, "
          "\"gains\": %zu, \"losses\": %zu},\n  \"rows\": [",
          urbac_catalog_workload_id(urbac_impact_workload(o->im)), o->import ? "true" : "false", s->rows,
          s->users, s->gains, s->losses);
  urbac_impact_rows(o->im, row_json, o);
  fprintf(o->f, "%s]\n}\n", o->rows ? "\n  " : "");
}

static void write_table(impact_out *o, const impact_summary *s)
{
  const urbac_model *m = urbac_snapshot_model(urbac_impact_before(o->im));
  char n[4][32];
  fprintf(o->f, "Impact of activating %s on tenant %s%s: %s change%s for %s user%s (%s gains, %s losses)\n",
          urbac_catalog_workload_id(urbac_impact_workload(o->im)), urbac_model_tenant(m),
          o->import ? " after importing its legacy roles" : "", impact_num(s->rows, n[0]),
          s->rows == 1 ? "" : "s", impact_num(s->users, n[1]), s->users == 1 ? "" : "s",
          impact_num(s->gains, n[2]), impact_num(s->losses, n[3]));
  if (s->rows) {
    fprintf(o->f, "\n%-74s %8s %8s\n", "by permission", "gains", "losses");
    for (size_t p = 0; p < urbac_catalog_perm_count() && p < IMPACT_MAX_PERMS; p++)
      if (s->perm[p].gains || s->perm[p].losses)
        fprintf(o->f, "  %-72s %8s %8s\n", urbac_catalog_perm(p)->name, impact_num(s->perm[p].gains, n[0]),
                impact_num(s->perm[p].losses, n[1]));
  }
  o->last_user = UINT32_MAX;
  urbac_impact_rows(o->im, row_table, o);
}

enum { F_TABLE, F_TSV, F_CSV, F_JSON, F_HTML, F_COUNT };

/* The format asked for, checked against --json, --summary and --rows; -1 after saying why not. */
static int pick_format(const impact_opts *o)
{
  static const char *const formats[F_COUNT] = {"table", "tsv", "csv", "json", "html"};
  int k = 0;
  while (k < F_COUNT && strcmp(o->format, formats[k]) != 0)
    k++;
  if (k == F_COUNT) {
    cli_error("impact: unknown format '%s' (table, tsv, csv, json or html)", o->format);
    return -1;
  }
  if (o->json && k != F_TABLE && k != F_JSON) {
    cli_error("impact: --json and --format %s: choose one", o->format);
    return -1;
  }
  if (o->summary && o->rows) {
    cli_error("impact: --summary and --rows: choose one");
    return -1;
  }
  k = o->json ? F_JSON : k;
  if (o->summary && k != F_TABLE && k != F_JSON) {
    cli_error("impact: --summary prints text or JSON (--json), not --format %s", o->format);
    return -1;
  }
  return k;
}

/* Colour for a terminal only, and not when NO_COLOR is set (no-color.org) or TERM is dumb. */
static bool want_colour(FILE *f)
{
  const char *no = getenv("NO_COLOR"), *term = getenv("TERM");
  return isatty(fileno(f)) && !(no && *no) && !(term && strcmp(term, "dumb") == 0);
}

/* Writes format `k`: the summary instead of every row when asked, or by default
 * for a person (table or json on a terminal) when the rows are many. */
static bool write_impact(const impact_opts *o, int k, impact_out *out, impact_summary *s)
{
  bool tty = isatty(fileno(out->f)), ok = true;
  bool summary =
      o->summary || (!o->rows && (k == F_TABLE || k == F_JSON) && tty && s->rows > IMPACT_SUMMARY_ROWS);
  char n[32];
  if (summary && k == F_JSON)
    return impact_summary_json(out, s);
  if (summary) {
    ok = impact_summary_text(out, s, want_colour(out->f));
    if (ok && !o->summary)
      fprintf(out->f, "(A summary: %s changes are too many for a terminal; --rows lists them all.)\n",
              impact_num(s->rows, n));
    return ok;
  }
  /* progress of the rows when they go to a file or a pipe, not over them on the terminal */
  impact_progress quiet = {0}, *p = tty ? &quiet : out->progress;
  out->progress = p;
  impact_progress_start(p, "writing", s->rows);
  if (k == F_TABLE)
    write_table(out, s);
  else if (k == F_TSV && !o->explain)
    ok = write_fast_tsv(out->im, out->f, p);
  else if (k == F_TSV)
    urbac_impact_rows(out->im, row_tsv, out);
  else if (k == F_CSV) {
    fprintf(out->f, "user,permission,workload,scope,before,after%s\r\n",
            o->explain ? ",before_reason,after_reason" : "");
    urbac_impact_rows(out->im, row_csv, out);
  } else if (k == F_JSON)
    write_json(out, s);
  else
    ok = impact_html(out, s);
  impact_progress_end(p);
  return ok;
}

static int impact(void *opts, const cli_args *a)
{
  const impact_opts *o = opts;
  cli_source src = {0};
  urbac_impact *im = NULL;
  impact_summary s = {0};
  impact_progress progress = {
      isatty(STDERR_FILENO) || o->progress, isatty(STDERR_FILENO), 0, 0, 0, 0, 0, NULL};
  FILE *f = NULL;
  int rc = EXIT_USAGE, w = cli_workload_arg(a, "impact"), k = pick_format(o);
  if (w < 0 || k < 0)
    return EXIT_USAGE;
  /* loading prints its own errors: a line drawn in place on a terminal would run into them */
  impact_progress loading = progress;
  loading.on = progress.on && !progress.tty;
  impact_progress_start(&loading, "loading the tenant", 0);
  bool read = cli_source_read(&src, &o->src, CLI_SOURCE_FILE_OR_STORE, URBAC_STORE_READ, false);
  impact_progress_end(&loading);
  if (!read)
    goto out;
  impact_progress_start(&progress, "computing the changes", 0);
  urbac_diag *d = urbac_diag_new();
  urbac_err err = d ? urbac_impact_compute(src.model, (size_t)w, o->import, &im, d) : URBAC_ENOMEM;
  impact_progress_end(&progress);
  if (err)
    cli_error("impact %s: %s", a->v[0], cli_diag_message(d, err));
  urbac_diag_free(d);
  if (err)
    goto out;
  if (!impact_summarize(im, &s, &progress)) {
    cli_error("impact %s: out of memory", a->v[0]);
    goto out;
  }
  if (!(f = cli_open_output(o->output)))
    goto out;
  impact_out out = {im, f, o->explain, o->import, 0, (size_t)o->top.value, UINT32_MAX, &progress};
  if (!write_impact(o, k, &out, &s)) {
    cli_error("impact %s: out of memory", a->v[0]);
    goto out;
  }
  rc = 0;
out:
  cli_close_output(o->output, f);
  impact_summary_free(&s);
  urbac_impact_free(im);
  cli_source_close(&src);
  return rc;
}

static const cli_opt impact_table[] = {
    CLI_ROW_DB(impact_opts),
    {"explain", 0, CLI_FLAG, offsetof(impact_opts, explain), 0, NULL, NULL,
     "the reason before and after for every change"},
    {"format", 0, CLI_STRING, offsetof(impact_opts, format), 0, "F", "table",
     "table, tsv, csv, json or html"},
    {"import", 0, CLI_FLAG, offsetof(impact_opts, import), 0, NULL, NULL,
     "import the workload's legacy roles before activating it"},
    {"json", 0, CLI_FLAG, offsetof(impact_opts, json), 0, NULL, NULL,
     "JSON: the same as --format json (with --summary, the summary)"},
    CLI_ROW_OUTPUT(impact_opts, "write there instead of standard output"),
    {"progress", 0, CLI_FLAG, offsetof(impact_opts, progress), 0, NULL, NULL,
     "report progress on standard error even when it is not a terminal"},
    {"rows", 0, CLI_FLAG, offsetof(impact_opts, rows), 0, NULL, NULL,
     "every change, even on a terminal with more than 1,000 of them"},
    {"summary", 0, CLI_FLAG, offsetof(impact_opts, summary), 0, NULL, NULL,
     "only the counts, losses first (default for table and json on a terminal above 1,000 changes)"},
    CLI_ROW_TENANT(impact_opts),
    CLI_ROW_TENANT_ID(impact_opts),
    {"top", 0, CLI_INT, offsetof(impact_opts, top), 1000000, "N", "10",
     "the summary's lists and the page's charts: the N largest (0: all)"},
};

const cli_command cli_impact = CLI_COMMAND(
    "impact",
    "urbac impact WORKLOAD --tenant FILE [--import] [--format table|tsv|csv|json|html] [--summary|--rows] "
    "[--top N] [--json] [--explain] [--progress] [--output OUT]",
    "Every change activating a workload would make: per user, permission and device group, before and after",
    impact_opts, impact_table, impact);
