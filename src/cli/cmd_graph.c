/*
 * cli/cmd_graph.c - `urbac import-graph`: a tenant built, or updated, from
 * Microsoft Graph's responses saved as files (urbac_graph_import(),
 * docs/interop.md). The files are read whole (directories: every *.json in them
 * and below, in name order), handed to the library, and the tenant it makes is
 * written where other commands write: back to --tenant FILE or the store (--db),
 * or to --output; nothing is written when it fails, changes nothing, or with
 * --dry-run. What could not be represented is printed with its file and JSON
 * path (--strict: refused instead).
 *
 * A whole tenant's import allocates and frees millions of small blocks (jansson's
 * trees) between larger ones: glibc would gather its fast bins up again at
 * each larger allocation (malloc_consolidate(), about a tenth of the CPU of the
 * benchmark's import); this process turns them off before it starts.
 *
 * Depends on: the public API, cli/source.c, cli/files.c, jansson, glibc's mallopt().
 */
#include <jansson.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

typedef struct graph_opts {
  cli_source_opts src;
  const char *output, *actor;
  bool json, dry_run, strict;
} graph_opts;

static const char *const kinds[] = {"user", "group", "role"};

/* The files the command line names: explicit files as given, directories' *.json. */
static bool collect(cli_inputs *in, const cli_args *a)
{
  if (!cli_inputs_collect(in, a, "import-graph"))
    return false;
  size_t keep = 0;
  for (size_t i = 0; i < in->n; i++) {
    bool named = false;
    const char *dot = strrchr(in->names[i], '.');
    for (int k = 0; k < a->n && !named; k++)
      named = strcmp(a->v[k], in->names[i]) == 0;
    if (named || (dot && strcmp(dot, ".json") == 0))
      in->names[keep++] = in->names[i];
    else
      free(in->names[i]);
  }
  in->n = keep;
  return true;
}

static void free_files(urbac_graph_file *f, size_t n)
{
  for (size_t i = 0; f && i < n; i++)
    free((char *)(uintptr_t)f[i].data);
  free(f);
}

static urbac_graph_file *read_all(const cli_inputs *in)
{
  urbac_graph_file *f = calloc(in->n + 1, sizeof *f);
  for (size_t i = 0; f && i < in->n; i++) {
    f[i].name = in->names[i];
    if (!(f[i].data = cli_read_input(in->names[i], &f[i].len))) {
      free_files(f, i);
      return NULL;
    }
  }
  return f;
}

/* "WHAT (N), WHY:" and each note, located; nothing when there is none. */
static void print_notes(const urbac_diag *notes, const char *what, const char *why)
{
  if (urbac_diag_count(notes))
    printf("%s (%zu), %s:\n", what, urbac_diag_count(notes), why);
  for (size_t i = 0; i < urbac_diag_count(notes); i++) {
    char line[2048];
    urbac_diag_format(notes, i, line, sizeof line);
    printf("  %s\n", line);
  }
}

static void print_text(const urbac_model *m, const urbac_graph_report *r, bool dry, const char *written)
{
  const urbac_diag *notes = urbac_graph_report_notes(r);
  printf("import-graph into tenant %s: %zu file%s\n", urbac_model_tenant(m), urbac_graph_report_files(r),
         urbac_graph_report_files(r) == 1 ? "" : "s");
  for (size_t i = 0; i < urbac_graph_report_files(r); i++) {
    const char *kind = NULL, *name = urbac_graph_report_file(r, i, &kind);
    printf("  %-26s %s\n", kind ? kind : "(not recognised)", name);
  }
  for (int k = 0; k < 3; k++) {
    urbac_graph_counts c = urbac_graph_report_counts(r, kinds[k]);
    printf("%ss: %zu created, %zu updated, %zu unchanged\n", kinds[k], c.created, c.updated, c.unchanged);
  }
  print_notes(notes, "left out", "urbac cannot represent them");
  print_notes(urbac_graph_report_pending(r), "pending",
              "kept, granting nothing until a group with that object id is imported");
  printf("%s%s\n",
         dry       ? "dry run: nothing written"
         : written ? "written to "
                   : "nothing changed, nothing written",
         !dry && written ? written : "");
}

static json_t *notes_json(const urbac_diag *notes)
{
  json_t *list = json_array();
  for (size_t i = 0; i < urbac_diag_count(notes); i++) {
    const urbac_error *e = urbac_diag_get(notes, i);
    json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s}", "file", e->file, "path", e->path, "code",
                                          urbac_err_name(e->code), "message", e->message));
  }
  return list;
}

static void print_json(const urbac_model *m, const urbac_graph_report *r, bool dry, const char *written)
{
  const urbac_diag *notes = urbac_graph_report_notes(r);
  json_t *files = json_array(), *counts = json_object();
  for (size_t i = 0; i < urbac_graph_report_files(r); i++) {
    const char *kind = NULL, *name = urbac_graph_report_file(r, i, &kind);
    json_array_append_new(files, json_pack("{s:s, s:s?}", "name", name, "kind", kind));
  }
  for (int k = 0; k < 3; k++) {
    urbac_graph_counts c = urbac_graph_report_counts(r, kinds[k]);
    json_object_set_new(counts, kinds[k],
                        json_pack("{s:I, s:I, s:I}", "created", (json_int_t)c.created, "updated",
                                  (json_int_t)c.updated, "unchanged", (json_int_t)c.unchanged));
  }
  json_t *o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:b, s:b, s:s?}", "tenant", urbac_model_tenant(m), "files",
                        files, "counts", counts, "notes", notes_json(notes), "pending",
                        notes_json(urbac_graph_report_pending(r)), "changed", urbac_graph_report_changed(r),
                        "dryRun", dry, "written", written);
  json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  fputc('\n', stdout);
  json_decref(o);
}

/* The tenant to update: --db's (a tenant --tenant-id names that the store does
 * not hold yet is a new one), --tenant FILE's when it exists; else none (a new
 * one, named by --tenant-id, written to --tenant FILE or --output). */
static bool open_base(cli_source *src, const graph_opts *o, bool *fresh)
{
  struct stat st;
  uint64_t rev = 0;
  const char *path = o->src.tenant ? o->src.tenant : getenv("URBAC_TENANT");
  urbac_store_mode mode = o->dry_run || o->output ? URBAC_STORE_READ : URBAC_STORE_WRITE;
  if (o->src.db) {
    if (!cli_source_open(src, &o->src, CLI_SOURCE_STORE, mode))
      return false;
    *fresh =
        o->src.tenant_id && urbac_store_revision(src->store, o->src.tenant_id, &rev, NULL) == URBAC_ENOTFOUND;
    if (*fresh)
      src->tenant = o->src.tenant_id;
    return *fresh || cli_source_load(src);
  }
  *fresh = !path || stat(path, &st) != 0;
  if (!*fresh)
    return cli_source_read(src, &o->src, CLI_SOURCE_FILE_OR_STORE, mode, false);
  if (!o->src.tenant_id || (!path && !o->output)) {
    cli_error("import-graph: a new tenant needs --tenant-id T and where to write it (--tenant FILE, --db or "
              "--output)");
    return false;
  }
  src->path = path;
  return true;
}

static int import_graph(void *opts, const cli_args *a)
{
  const graph_opts *o = opts;
  cli_source src = {0};
  cli_inputs in = {0};
  urbac_graph_file *files = NULL;
  urbac_graph_report *r = NULL;
  urbac_model *next = NULL;
  urbac_diag *d = NULL;
  bool fresh = false;
  int rc = EXIT_USAGE;
#ifdef __GLIBC__
  mallopt(M_MXFAST, 0); /* no fast bins: small blocks freed are merged at once, never gathered in bulk */
#endif
  if (!collect(&in, a) || !(files = read_all(&in)) || !open_base(&src, o, &fresh))
    goto out;
  urbac_err err = (d = urbac_diag_new())
                      ? urbac_graph_import(src.model, o->src.tenant_id, files, in.n,
                                           o->strict ? URBAC_GRAPH_STRICT : 0, &next, &r, d)
                      : URBAC_ENOMEM;
  if (err) {
    cli_print_diag(d);
    cli_error("import-graph: %s", cli_diag_message(d, err));
    goto out;
  }
  cli_source_replace(&src, next);
  bool write = !o->dry_run && (o->output || fresh || urbac_graph_report_changed(r));
  if (write && !cli_source_save(&src, o->output, o->actor, "urbac import-graph"))
    goto out;
  (o->json ? print_json : print_text)(src.model, r, o->dry_run, write ? src.written : NULL);
  rc = 0;
out:
  urbac_diag_free(d);
  urbac_graph_report_free(r);
  free_files(files, in.n);
  cli_inputs_free(&in);
  cli_source_close(&src);
  return rc;
}

#define ROW(name, kind, field, help)                                                                         \
  {                                                                                                          \
    name, 0, kind, offsetof(graph_opts, field), 0, NULL, NULL, help                                          \
  }

static const cli_opt graph_table[] = {
    CLI_ROW_ACTOR(graph_opts),
    CLI_ROW_AUDIT_KEY(graph_opts),
    CLI_ROW_DB(graph_opts),
    ROW("dry-run", CLI_FLAG, dry_run, "report, write nothing"),
    CLI_ROW_JSON(graph_opts),
    CLI_ROW_OUTPUT(graph_opts, "write the tenant there (YAML, or JSON by .json) instead of back"),
    ROW("strict", CLI_FLAG, strict,
        "refuse (exit 2) instead of leaving out what urbac cannot represent or keeping a principal pending"),
    CLI_ROW_TENANT(graph_opts),
    CLI_ROW_TENANT_ID(graph_opts),
    CLI_ROW_WITNESS(graph_opts),
    CLI_ROW_WITNESS_SYSLOG(graph_opts),
};

const cli_command cli_import_graph = CLI_COMMAND(
    "import-graph",
    "urbac import-graph FILE|DIR... (--tenant FILE | --db URL) [--tenant-id T] [--output OUT] [--strict] "
    "[--dry-run] [--json]",
    "Build or update a tenant from saved Microsoft Graph responses (roles, assignments, users, groups)",
    graph_opts, graph_table, import_graph);
