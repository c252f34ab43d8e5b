/*
 * cli/main.c - the urbac command: the sorted list of subcommands (each defined
 * with its own options struct and option table next to its code, cli/cmd_*.c),
 * the general help, `urbac help COMMAND` (and, for the build, `urbac help --man
 * [COMMAND]`: cli/man.c), a suggestion for a mistyped command,
 * and the helpers every command uses to print errors. Options are read by the one
 * parser in cli/opt.c, by the command's table.
 *
 * Depends on: the public API (include/urbac) only, cli/opt.c.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_command *const commands[] = {
    &cli_activate,   &cli_apply,        &cli_assignment, &cli_audit,        &cli_catalog,        &cli_check,
    &cli_completion, &cli_deactivate,   &cli_device,     &cli_device_group, &cli_directory_role, &cli_dump,
    &cli_effective,  &cli_explain,      &cli_export,     &cli_fmt,          &cli_group,          &cli_impact,
    &cli_import,     &cli_import_graph, &cli_init,       &cli_key,          &cli_migrate,        &cli_object,
    &cli_plan,       &cli_role,         &cli_serve,      &cli_user,         &cli_validate,       &cli_who_can,
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

const cli_command *const *cli_commands(size_t *n)
{
  *n = NCOMMANDS;
  return commands;
}

void cli_error(const char *fmt, ...)
{
  va_list ap;
  fputs("urbac: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

bool cli_need(const char *value, const char *name)
{
  if (value)
    return true;
  cli_error("missing --%s (see --help)", name);
  return false;
}

bool cli_no_args(const cli_args *a, const char *cmd)
{
  if (a->n == 0)
    return true;
  cli_error("%s: unexpected argument '%s' (see --help)", cmd, a->v[0]);
  return false;
}

const char *cli_diag_message(const urbac_diag *d, urbac_err err)
{
  const urbac_error *e = urbac_diag_get(d, 0);
  return e ? e->message : urbac_strerror(err);
}

void cli_print_diag(const urbac_diag *d)
{
  char buf[2048];
  size_t n = urbac_diag_count(d);
  for (size_t i = 0; i < n; i++) {
    urbac_diag_format(d, i, buf, sizeof buf);
    fprintf(stderr, "urbac: %s\n", buf);
    if (!urbac_diag_get(d, i))
      break;
  }
}

/* ---------------------------------------------------------------- help */

static void usage(const cli_command *cmd, FILE *out)
{
  fprintf(out, "usage: %s\n\n%s.\n\noptions:\n", cmd->usage, cmd->summary);
  cli_opt_help(cmd->opts, cmd->nopts, out);
}

static void help(FILE *out)
{
  fprintf(out,
          "urbac %s - role-based access control for Microsoft 365 Defender, self-hosted\n\n"
          "usage: urbac COMMAND [OPTIONS]\n\ncommands:\n",
          URBAC_VERSION);
  for (size_t i = 0; i < NCOMMANDS; i++)
    fprintf(out, "  %-15s %s\n", commands[i]->name, commands[i]->summary);
  fprintf(out, "\n'urbac COMMAND --help' or 'urbac help COMMAND' for a command's options. Exit status:\n"
               "0 success or allow, 1 deny (or fmt --check found a difference), 2 bad usage or input.\n");
}

static int by_name(const void *key, const void *elem)
{
  const cli_command *const *c = elem;
  return strcmp(key, (*c)->name);
}

/* The command named `name`, or NULL after saying so (with the one meant, if close). */
static const cli_command *find(const char *name)
{
  const cli_command *const *c = bsearch(name, commands, NCOMMANDS, sizeof commands[0], by_name);
  const char *names[NCOMMANDS], *meant;
  if (c)
    return *c;
  for (size_t i = 0; i < NCOMMANDS; i++)
    names[i] = commands[i]->name;
  if ((meant = cli_suggest(name, strlen(name), names, NCOMMANDS, sizeof names[0])) != NULL)
    cli_error("unknown command '%s'; did you mean '%s'? (see 'urbac --help')", name, meant);
  else
    cli_error("unknown command '%s' (see 'urbac --help')", name);
  return NULL;
}

/* `urbac help --man [COMMAND]` (not in the help: the build runs it): the page as roff. */
static int man(int argc, char **argv)
{
  const cli_command *cmd = NULL;
  int rc = EXIT_USAGE;
  if (argc > 1) {
    cli_error("help --man takes at most one COMMAND");
  } else if (argc == 0 || (cmd = find(argv[0])) != NULL) {
    cli_man(cmd, stdout);
    rc = 0;
  }
  return rc;
}

/* ---------------------------------------------------------------- running */

/* Parses the command's words into its own options struct and runs it. */
static int run(const cli_command *cmd, int argc, char **argv)
{
  char why[512];
  cli_args args;
  void *opts = calloc(1, cmd->size);
  int rc = EXIT_USAGE;
  if (!opts) {
    cli_error("out of memory");
  } else if (!cli_opt_parse(cmd->opts, cmd->nopts, argc, argv, opts, &args, why, sizeof why)) {
    cli_error("%s: %s", cmd->name, why);
  } else if (args.help) {
    usage(cmd, stdout);
    rc = 0;
  } else {
    rc = cmd->run(opts, &args);
  }
  free(opts);
  return rc;
}

int main(int argc, char **argv)
{
  const cli_command *cmd;
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      (strcmp(argv[1], "help") == 0 && argc == 2)) {
    help(argc < 2 ? stderr : stdout);
    return argc < 2 ? EXIT_USAGE : 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("urbac %s\n", URBAC_VERSION);
    return 0;
  }
  if (strcmp(argv[1], "help") == 0 && strcmp(argv[2], "--man") == 0) /* the build's man pages */
    return man(argc - 3, argv + 3);
  if (strcmp(argv[1], "help") == 0) { /* urbac help COMMAND */
    if (argc > 3) {
      cli_error("help takes one COMMAND");
      return EXIT_USAGE;
    }
    if (!(cmd = find(argv[2])))
      return EXIT_USAGE;
    usage(cmd, stdout);
    return 0;
  }
  if (!(cmd = find(argv[1])))
    return EXIT_USAGE;
  return run(cmd, argc - 2, argv + 2);
}
