/*
 * cli/cmd_tenant.c - `urbac validate` and `urbac fmt`: tenant files as code.
 *
 * Depends on: the public API, cli/main.c.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct tenant_opts {
  bool json, check;
} tenant_opts;

static bool one_file(const cli_args *a, const char *cmd)
{
  if (a->n == 1)
    return true;
  cli_error("%s takes exactly one tenant file (got %d arguments)", cmd, a->n);
  return false;
}

static void diag_json(const urbac_diag *d, const char *path)
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
  json_t *out = json_pack("{s:s, s:b, s:o}", "file", path, "valid", json_array_size(errs) == 0, "errors", errs);
  json_dumpf(out, stdout, JSON_INDENT(2));
  fputc('\n', stdout);
  json_decref(out);
}

static int validate(void *opts, const cli_args *a)
{
  const tenant_opts *o = opts;
  urbac_model *m = NULL;
  urbac_snapshot *snap = NULL;
  if (!one_file(a, "validate"))
    return EXIT_USAGE;
  const char *path = a->v[0];
  urbac_diag *d = urbac_diag_new();
  urbac_err err = d ? urbac_tenant_load_file(path, &m, d) : URBAC_ENOMEM;
  if (!err)
    err = urbac_snapshot_compile(m, &snap, d);
  if (o->json)
    diag_json(d, path);
  else if (err)
    cli_print_diag(d);
  else
    printf("%s: valid (tenant %s: %zu users, %zu groups, %zu device groups, %zu devices, %zu roles)\n", path,
           urbac_model_tenant(m), urbac_model_count(m, URBAC_OBJ_USER), urbac_model_count(m, URBAC_OBJ_GROUP),
           urbac_model_count(m, URBAC_OBJ_DEVICE_GROUP), urbac_model_count(m, URBAC_OBJ_DEVICE),
           urbac_model_count(m, URBAC_OBJ_ROLE));
  if (err && !urbac_diag_count(d))
    cli_error("%s: %s", path, urbac_strerror(err));
  urbac_snapshot_free(snap);
  urbac_model_free(m);
  urbac_diag_free(d);
  return err ? EXIT_USAGE : 0;
}

/* The file's current bytes, to compare with the canonical form. */
static char *slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  if (!f)
    return NULL;
  if (fseek(f, 0, SEEK_END) == 0) {
    long n = ftell(f);
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
      *len = fread(buf, 1, (size_t)n, f);
      buf[*len] = '\0';
    }
  }
  fclose(f);
  return buf;
}

static int fmt(void *opts, const cli_args *a)
{
  const tenant_opts *o = opts;
  urbac_model *m = NULL;
  char *out = NULL, *old = NULL;
  size_t len = 0, oldlen = 0;
  int rc = EXIT_USAGE;
  if (!one_file(a, "fmt"))
    return EXIT_USAGE;
  const char *path = a->v[0];
  urbac_diag *d = urbac_diag_new();
  urbac_format fmt = urbac_format_from_path(path);
  if (!d || urbac_tenant_load_file(path, &m, d) || urbac_tenant_save_buffer(m, fmt, &out, &len, d)) {
    cli_print_diag(d);
    goto out;
  }
  old = slurp(path, &oldlen);
  bool same = old && oldlen == len && memcmp(old, out, len) == 0;
  if (o->check) {
    fwrite(out, 1, len, stdout);
    if (!same)
      cli_error("%s is not in canonical form (run 'urbac fmt %s')", path, path);
    rc = same ? 0 : EXIT_DENY;
  } else if (same || urbac_tenant_save_file(m, path, fmt, d) == URBAC_OK) {
    rc = 0;
  } else {
    cli_print_diag(d);
  }
out:
  free(old);
  urbac_free(out);
  urbac_model_free(m);
  urbac_diag_free(d);
  return rc;
}

/* ---------------------------------------------------------------- the commands */

static const cli_opt validate_opts[] = {CLI_ROW_JSON(tenant_opts)};
static const cli_opt fmt_opts[] = {
    {"check", 0, CLI_FLAG, offsetof(tenant_opts, check), 0, NULL, NULL,
     "print the canonical form; exit 1 (changing nothing) if the file differs"},
};

const cli_command cli_validate = CLI_COMMAND("validate", "urbac validate FILE [--json]",
                                             "Check a tenant file; print every error with file:line:column",
                                             tenant_opts, validate_opts, validate);
const cli_command cli_fmt =
    CLI_COMMAND("fmt", "urbac fmt [--check] FILE",
                "Rewrite a tenant file in canonical form (--check: print it, exit 1 if it differs)",
                tenant_opts, fmt_opts, fmt);
