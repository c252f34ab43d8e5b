/*
 * cli/common.c - small helpers the commands share: the positional WORKLOAD
 * argument, output files and CSV fields.
 *
 * Depends on: the public API, cli/main.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_workload_arg(const cli_args *a, const char *cmd)
{
  char known[256];
  urbac_catalog_workload_list(known, sizeof known, true);
  if (a->n != 1) {
    cli_error("%s takes one WORKLOAD (%s), got %d arguments (see --help)", cmd, known, a->n);
    return -1;
  }
  int w = urbac_catalog_workload_find(a->v[0]);
  if (w < 0)
    cli_error("unknown workload '%s' (%s)", a->v[0], known);
  return w;
}

FILE *cli_open_output(const char *path)
{
  if (!path || strcmp(path, "-") == 0)
    return stdout;
  FILE *f = fopen(path, "w");
  if (!f)
    cli_error("%s: cannot write: %s", path, strerror(errno));
  return f;
}

void cli_close_output(const char *path, FILE *f)
{
  if (f && f != stdout && fclose(f) != 0)
    cli_error("%s: write failed: %s", path, strerror(errno));
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
