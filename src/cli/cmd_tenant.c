/*
 * cli/cmd_tenant.c - `urbac validate` and `urbac fmt`: tenant files as code, for
 * a repository's CI. Both take files, directories (every *.yaml, *.yml and
 * *.json tenant file in them and below) and "-" for standard input (cli/files.c).
 * `fmt` keeps each file's comments and key order (urbac_tenant_save_buffer_like);
 * `fmt --check` changes nothing and prints a unified diff of what `fmt` would
 * change. Plans and applies are in cli/cmd_plan.c.
 *
 * Exit codes: 0 every file valid (and canonical); 1 (fmt --check) some file is
 * not in canonical form; 2 some file could not be read or is invalid.
 *
 * Depends on: the public API, cli/main.c, cli/files.c, diff(1) for fmt --check.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct tenant_opts {
  bool json, check;
} tenant_opts;

/* How a name is shown, and its format: standard input is JSON when it starts as an object. */
static const char *shown(const char *name) { return strcmp(name, "-") ? name : "<stdin>"; }
static urbac_format format_of(const char *name, const char *buf)
{
  if (strcmp(name, "-"))
    return urbac_format_from_path(name);
  return buf[strspn(buf, " \t\r\n")] == '{' ? URBAC_FORMAT_JSON : URBAC_FORMAT_YAML;
}

/* Reads and loads one tenant file: a read error is said, load errors are in `d`.
 * The caller frees *buf with free() and *m with urbac_model_free(). */
static urbac_err load(const char *name, char **buf, size_t *len, urbac_model **m, urbac_diag *d)
{
  *m = NULL;
  if (!(*buf = cli_read_input(name, len)))
    return URBAC_EIO;
  return urbac_tenant_load_buffer(*buf, *len, shown(name), m, d);
}

/* ---------------------------------------------------------------- validate */

static json_t *diag_json(const urbac_diag *d, const char *path)
{
  json_t *errs = json_array();
  for (size_t i = 0; i < urbac_diag_count(d); i++) {
    const urbac_error *e = urbac_diag_get(d, i);
    if (!e)
      break;
    json_array_append_new(errs, json_pack("{s:s, s:s, s:s, s:i, s:i, s:s}", "code", urbac_err_name(e->code),
                                          "message", e->message, "file", e->file, "line", (int)e->line,
                                          "column", (int)e->column, "path", e->path));
  }
  return json_pack("{s:s, s:b, s:o}", "file", path, "valid", json_array_size(errs) == 0, "errors", errs);
}

static int warn_pending(void *ctx, const char *where, const char *name, bool group)
{
  json_t *warnings = ((void **)ctx)[1];
  const char *file = ((void **)ctx)[0];
  char text[1400];
  snprintf(text, sizeof text,
           "%s names %s '%s', which no %s has as its id or externalId yet: it grants nothing "
           "until one is provisioned",
           where, group ? "group" : "user", name, group ? "group" : "user");
  if (warnings)
    json_array_append_new(warnings, json_string(text));
  else
    fprintf(stderr, "urbac: %s: warning: %s\n", file, text);
  return 0;
}

/* Validates one file; prints its line (or adds its object to `all`). True when valid. */
static bool validate_one(const char *name, json_t *all)
{
  urbac_model *m = NULL;
  urbac_snapshot *snap = NULL;
  char *buf = NULL;
  size_t len = 0;
  urbac_diag *d = urbac_diag_new();
  urbac_err err = d ? load(name, &buf, &len, &m, d) : URBAC_ENOMEM;
  if (!err)
    err = urbac_snapshot_compile(m, &snap, d);
  if (err && !buf && d && all) /* said on stderr already; the JSON says it too */
    urbac_diag_add(d, err, shown(name), 0, 0, NULL, "cannot read the file");
  json_t *warnings = all ? json_array() : NULL;
  void *wctx[2] = {(void *)(uintptr_t)shown(name), warnings};
  if (!err) /* pending principals: valid, but said */
    urbac_model_pending(m, warn_pending, wctx);
  if (all) {
    json_t *one = diag_json(d, shown(name));
    json_object_set_new(one, "warnings", warnings);
    json_array_append_new(all, one);
  } else if (err)
    cli_print_diag(d);
  else
    printf("%s: valid (tenant %s: %zu users, %zu groups, %zu device groups, %zu devices, %zu roles)\n",
           shown(name), urbac_model_tenant(m), urbac_model_count(m, URBAC_OBJ_USER),
           urbac_model_count(m, URBAC_OBJ_GROUP), urbac_model_count(m, URBAC_OBJ_DEVICE_GROUP),
           urbac_model_count(m, URBAC_OBJ_DEVICE), urbac_model_count(m, URBAC_OBJ_ROLE));
  if (err && buf && d && !urbac_diag_count(d))
    cli_error("%s: %s", shown(name), urbac_strerror(err));
  free(buf);
  urbac_snapshot_free(snap);
  urbac_model_free(m);
  urbac_diag_free(d);
  return err == URBAC_OK;
}

static int validate(void *opts, const cli_args *a)
{
  const tenant_opts *o = opts;
  cli_inputs in = {0};
  json_t *all = o->json ? json_array() : NULL;
  bool collected = cli_inputs_collect(&in, a, "validate"), ok = collected;
  for (size_t i = 0; collected && i < in.n; i++) /* every file, each said */
    ok = validate_one(in.names[i], all) && ok;
  if (all && json_array_size(all)) {
    /* one file named alone: its object; several, or a directory: an array of them */
    bool one = a->n == 1 && in.n == 1 && strcmp(in.names[0], a->v[0]) == 0;
    json_dumpf(one ? json_array_get(all, 0) : all, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
  }
  json_decref(all);
  cli_inputs_free(&in);
  return ok ? 0 : EXIT_USAGE;
}

/* ---------------------------------------------------------------- fmt */

typedef enum fmt_result { FMT_SAME, FMT_CHANGED, FMT_FAILED } fmt_result;

/* Formats one file: rewrites it (standard input: prints it), or with --check
 * prints the diff of what would change. */
static fmt_result fmt_one(const tenant_opts *o, const char *name)
{
  urbac_model *m = NULL;
  char *old = NULL, *out = NULL;
  size_t oldlen = 0, len = 0;
  fmt_result rc = FMT_FAILED;
  urbac_diag *d = urbac_diag_new();
  if (!d || load(name, &old, &oldlen, &m, d) ||
      urbac_tenant_save_buffer_like(m, format_of(name, old), old, oldlen, &out, &len, d)) {
    cli_print_diag(d);
    goto out;
  }
  bool same = oldlen == len && memcmp(old, out, len) == 0;
  if (o->check) {
    if (!same && !cli_diff(shown(name), old, oldlen, out, len))
      goto out;
    if (!same)
      cli_error("%s is not in canonical form (run 'urbac fmt %s')", shown(name), name);
  } else if (!strcmp(name, "-")) {
    fwrite(out, 1, len, stdout);
  } else if (!same && !cli_replace_file(name, out, len)) {
    goto out;
  }
  rc = same ? FMT_SAME : FMT_CHANGED;
out:
  free(old);
  urbac_free(out);
  urbac_model_free(m);
  urbac_diag_free(d);
  return rc;
}

static int fmt(void *opts, const cli_args *a)
{
  const tenant_opts *o = opts;
  cli_inputs in = {0};
  bool collected = cli_inputs_collect(&in, a, "fmt"), failed = !collected, changed = false;
  for (size_t i = 0; collected && i < in.n; i++) { /* every file, each said */
    fmt_result r = fmt_one(o, in.names[i]);
    failed = failed || r == FMT_FAILED;
    changed = changed || r == FMT_CHANGED;
  }
  cli_inputs_free(&in);
  return failed ? EXIT_USAGE : o->check && changed ? EXIT_DENY : 0;
}

/* ---------------------------------------------------------------- the commands */

static const cli_opt validate_opts[] = {CLI_ROW_JSON(tenant_opts)};
static const cli_opt fmt_opts[] = {
    {"check", 0, CLI_FLAG, offsetof(tenant_opts, check), 0, NULL, NULL,
     "change nothing: print a unified diff of what fmt would change; exit 1 if anything would"},
};

const cli_command cli_validate = CLI_COMMAND("validate", "urbac validate [--json] FILE|DIR|-...",
                                             "Check tenant files; print every error with file:line:column",
                                             tenant_opts, validate_opts, validate);
const cli_command cli_fmt = CLI_COMMAND(
    "fmt", "urbac fmt [--check] FILE|DIR|-...",
    "Rewrite tenant files in canonical form, keeping comments and key order (--check: print the diff)",
    tenant_opts, fmt_opts, fmt);
