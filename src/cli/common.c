/*
 * cli/common.c - helpers the commands share beyond option parsing: loading a
 * tenant without compiling it, writing it back atomically, the positional
 * WORKLOAD argument, output files and CSV fields.
 *
 * Depends on: the public API, cli/main.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char *cli_tenant_path(const cli_opts *o) { return o->tenant ? o->tenant : getenv("URBAC_TENANT"); }

uint64_t cli_loaded_revision;

bool cli_load_model(const cli_opts *o, urbac_model **m)
{
  if (o->db) {
    urbac_store *st = cli_open_store(o, URBAC_STORE_READ);
    bool ok = st && cli_load_store(o, st, m, &cli_loaded_revision);
    urbac_store_close(st);
    return ok;
  }
  const char *path = cli_tenant_path(o);
  urbac_diag *d = urbac_diag_new();
  *m = NULL;
  if (!path) {
    cli_error("missing --tenant FILE (or $URBAC_TENANT)");
  } else if (d && urbac_tenant_load_file(path, m, d) != URBAC_OK) {
    cli_print_diag(d);
    *m = NULL;
  }
  urbac_diag_free(d);
  return *m != NULL;
}

/* A changed tenant back into its store, as one audited write based on the
 * revision it was read at (a concurrent change is a conflict, not a lost update). */
static bool save_to_store(const cli_opts *o, const urbac_model *m, const char **written)
{
  static char where[128];
  urbac_store *st = cli_open_store(o, URBAC_STORE_WRITE);
  urbac_diag *d = urbac_diag_new();
  uint64_t rev = 0;
  urbac_write w = {o->actor ? o->actor : getenv("USER") ? getenv("USER") : "cli", "urbac (migration)", true, cli_loaded_revision, NULL};
  urbac_err err = st && d ? urbac_store_apply(st, m, &w, &rev, d) : URBAC_ESTORE;
  if (err)
    cli_print_diag(d);
  snprintf(where, sizeof where, "the store, revision %llu", (unsigned long long)rev);
  *written = err ? NULL : where;
  urbac_diag_free(d);
  urbac_store_close(st);
  return err == URBAC_OK;
}

bool cli_save(const cli_opts *o, const urbac_model *m, const char **written)
{
  if (o->db && !o->output)
    return save_to_store(o, m, written);
  const char *path = o->output ? o->output : cli_tenant_path(o);
  urbac_diag *d = urbac_diag_new();
  urbac_err err = d ? urbac_tenant_save_file(m, path, URBAC_FORMAT_AUTO, d) : URBAC_ENOMEM;
  if (err) {
    cli_print_diag(d);
    if (!urbac_diag_count(d))
      cli_error("%s: %s", path, urbac_strerror(err));
  }
  urbac_diag_free(d);
  *written = err ? NULL : path;
  return err == URBAC_OK;
}

int cli_workload_arg(const cli_opts *o, const char *cmd)
{
  if (o->nargs != 1) {
    cli_error("%s takes one WORKLOAD (mde, mdo or mdi), got %d arguments (see --help)", cmd, o->nargs);
    return -1;
  }
  int w = urbac_catalog_workload_find(o->args[0]);
  if (w < 0)
    cli_error("unknown workload '%s' (mde, mdo or mdi)", o->args[0]);
  return w;
}

FILE *cli_open_output(const cli_opts *o)
{
  if (!o->output || strcmp(o->output, "-") == 0)
    return stdout;
  FILE *f = fopen(o->output, "w");
  if (!f)
    cli_error("%s: cannot write: %s", o->output, strerror(errno));
  return f;
}

void cli_close_output(const cli_opts *o, FILE *f)
{
  if (f && f != stdout && fclose(f) != 0)
    cli_error("%s: write failed: %s", o->output, strerror(errno));
  else if (f == stdout)
    fflush(stdout);
}

void cli_csv_field(FILE *f, const char *s, char sep)
{
  if (strpbrk(s, ",\"\r\n")) {
    fputc('"', f);
    for (; *s; s++) {
      if (*s == '"')
        fputc('"', f);
      fputc(*s, f);
    }
    fputc('"', f);
  } else {
    fputs(s, f);
  }
  fputc(sep, f);
}
