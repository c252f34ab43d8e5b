/*
 * cli/man.c - the manual pages, written from the same tables as `--help`: urbac(1)
 * lists the commands, urbac-COMMAND(1) gives a command's usage, summary and every
 * option with its value, limit and default. The build runs the hidden `urbac help
 * --man [COMMAND]` for each page (cmake/man.cmake), so a page cannot drift from the
 * command it describes. The examples below are the one thing the tables do not
 * hold: tests/install/man.sh runs every one of them, on examples/contoso.yaml and
 * a store made from it, so they stay runnable.
 *
 * Depends on: cli/main.c (the command list), cli/opt.h.
 */
#include <string.h>

#include "cli.h"

/* Writes `s` as roff text: backslashes escaped, every '-' an ASCII hyphen-minus
 * ("\\-": option names must copy and paste), and no line begins with a control
 * character. */
static void roff(const char *s, FILE *out)
{
  bool bol = true;
  for (; *s; s++) {
    if (bol && (*s == '.' || *s == '\''))
      fputs("\\&", out);
    bol = *s == '\n';
    if (*s == '\\')
      fputs("\\e", out);
    else if (*s == '-')
      fputs("\\-", out);
    else
      fputc(*s, out);
  }
}

/* .TH for urbac(1) (`name` NULL) or urbac-NAME(1). */
static void title(const char *name, FILE *out)
{
  fputs(name ? ".TH \"URBAC-" : ".TH \"URBAC", out);
  for (const char *p = name ? name : ""; *p; p++)
    fputc(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p, out);
  /* no hyphenation, ragged right: option names stay whole, and can be copied */
  fprintf(out, "\" 1 \"\" \"urbac %s\" \"urbac manual\"\n.nh\n.ad l\n", URBAC_VERSION);
}

static const char *const exit_status =
    ".SH EXIT STATUS\n"
    ".TP\n.B 0\nsuccess, or allow\n"
    ".TP\n.B 1\ndeny, a difference found (fmt \\-\\-check), or a write refused by \\-\\-if\\-revision\n"
    ".TP\n.B 2\nbad usage or bad input, with a message on standard error naming what and where\n";

/* Examples for a page: a "# " line is a sentence, any other line a command run in a
 * folder holding contoso.yaml (examples/) and urbac.db (that tenant, applied); a
 * backslash-newline continues a command on the next line. */
typedef struct man_example {
  const char *command;
  const char *lines[4];
} man_example;

static const man_example examples[] = {
    {"activate",
     {"# The tenant as it would be with Defender for Endpoint on unified roles, written aside:",
      "urbac activate mde --tenant contoso.yaml --output activated.yaml"}},
    {"apply",
     {"# Make the stored tenant match the file, as one audited write:",
      "urbac apply -f contoso.yaml --db urbac.db --actor alice"}},
    {"audit", {"urbac audit log --db urbac.db --actor alice", "urbac audit verify --db urbac.db"}},
    {"catalog", {"urbac catalog --json"}},
    {"check",
     {"# Allowed (exit 0) or denied (exit 1):",
      "urbac check --tenant contoso.yaml --user alice@contoso.com \\\n"
      "    --permission 'Alerts (manage)' --workload mde --scope device:lap-042"}},
    {"completion",
     {"# In ~/.bashrc, where the completion is not installed:", "source <(urbac completion bash)"}},
    {"dump", {"urbac dump --db urbac.db --output backup.yaml"}},
    {"effective", {"urbac effective --tenant contoso.yaml --user bob@contoso.com --workload mde"}},
    {"explain",
     {"# Why not, and what is missing:",
      "urbac explain --tenant contoso.yaml --user alice@contoso.com \\\n"
      "    --permission 'Alerts (manage)' --workload mde --scope device:srv-001"}},
    {"export", {"urbac export --tenant contoso.yaml --format csv --output roles.csv"}},
    {"fmt", {"# In CI: exit 1 when the file is not in canonical form:", "urbac fmt --check contoso.yaml"}},
    {"impact",
     {"# Who gains and who loses what if Defender for Endpoint moved to unified roles:",
      "urbac impact mde --tenant contoso.yaml --import --explain"}},
    {"import", {"urbac import mde --tenant contoso.yaml --dry-run"}},
    {"init", {"urbac init --db urbac.db"}},
    {"key",
     {"# A key for a tool that only asks for decisions (shown once):",
      "urbac key create --db urbac.db --user erin@contoso.com \\\n    --key-scope decisions --name siem",
      "urbac key list --db urbac.db"}},
    {"plan", {"# What apply would create, change and delete:", "urbac plan -f contoso.yaml --db urbac.db"}},
    {"role", {"urbac role list --db urbac.db", "urbac role show 'SOC analyst' --db urbac.db"}},
    {"serve",
     {"urbac serve --routes",
      "urbac serve --db urbac.db --listen 127.0.0.1:8080 \\\n    --preshared-key-file admin.key"}},
    {"user",
     {"urbac user add grace@contoso.com --name 'Grace Hopper' --db urbac.db",
      "urbac user list --db urbac.db"}},
    {"validate", {"urbac validate contoso.yaml"}},
    {"who-can",
     {"urbac who-can --tenant contoso.yaml --permission 'Alerts (manage)' \\\n"
      "    --workload mde --scope devicegroup:servers"}},
};

/* EXAMPLES, when the command has some. */
static void example_section(const cli_command *cmd, FILE *out)
{
  for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++) {
    if (strcmp(examples[i].command, cmd->name) != 0)
      continue;
    fputs(".SH EXAMPLES\n", out);
    for (size_t j = 0; j < 4 && examples[i].lines[j]; j++) {
      const char *line = examples[i].lines[j];
      bool sentence = line[0] == '#';
      fputs(sentence ? ".PP\n" : ".PP\n.RS 4\n.nf\n", out);
      roff(sentence ? line + 2 : line, out);
      fputs(sentence ? "\n" : "\n.fi\n.RE\n", out);
    }
  }
}

/* One option as a tagged paragraph: its forms, its value, then its help, limit
 * and default as `--help` prints them. */
static void option(const cli_opt *o, FILE *out)
{
  fputs(".TP\n", out);
  if (o->letter)
    fprintf(out, "\\fB\\-%c\\fR, ", o->letter);
  fputs("\\fB\\-\\-", out);
  roff(o->name, out);
  fputs("\\fR", out);
  if (o->arg) {
    fputs(" \\fI", out);
    roff(o->arg, out);
    fputs("\\fR", out);
  }
  fputc('\n', out);
  roff(o->help, out);
  fputs(".\n", out);
  if (o->kind == CLI_LIST)
    fprintf(out, "Repeatable, up to %llu times.\n", o->limit);
  if (o->kind == CLI_INT)
    fprintf(out, "A whole number from 0 to %llu.\n", o->limit);
  if (o->def) {
    fputs("Default: ", out);
    roff(o->def, out);
    fputs(".\n", out);
  }
}

/* ENVIRONMENT, for a command whose table reads a tenant or a store. */
static void environment(const cli_command *cmd, FILE *out)
{
  bool db = cli_opt_find(cmd->opts, cmd->nopts, "db", 2) != NULL;
  bool tenant = cli_opt_find(cmd->opts, cmd->nopts, "tenant", 6) != NULL;
  if (!db && !tenant)
    return;
  fputs(".SH ENVIRONMENT\n", out);
  if (tenant)
    fputs(".TP\n.B URBAC_TENANT\nthe tenant file when \\-\\-tenant is not given\n", out);
  if (db)
    fputs(".TP\n.B URBAC_DB\nthe store when \\-\\-db is not given (else urbac.db)\n", out);
}

static void command_page(const cli_command *cmd, FILE *out)
{
  title(cmd->name, out);
  fputs(".SH NAME\nurbac\\-", out);
  roff(cmd->name, out);
  fputs(" \\- ", out);
  roff(cmd->summary, out);
  fputs("\n.SH SYNOPSIS\n", out);
  roff(cmd->usage, out);
  fputs("\n.SH DESCRIPTION\n", out);
  roff(cmd->summary, out);
  fputs(".\nOptions and other words may come in any order; \\fB\\-\\-name value\\fR, "
        "\\fB\\-\\-name=value\\fR, \\fB\\-o value\\fR and \\fB\\-ovalue\\fR are the same, "
        "and \\fB\\-\\-\\fR ends the options.\n.SH OPTIONS\n",
        out);
  for (size_t i = 0; i < cmd->nopts; i++)
    option(&cmd->opts[i], out);
  fputs(".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nprint the command's usage and options, and exit.\n", out);
  fputs(exit_status, out);
  environment(cmd, out);
  example_section(cmd, out);
  fputs(".SH SEE ALSO\n\\fBurbac\\fR(1)\n", out);
}

static void overview_page(FILE *out)
{
  size_t n;
  const cli_command *const *cmds = cli_commands(&n);
  title(NULL, out);
  fputs(".SH NAME\nurbac \\- role\\-based access control for Microsoft 365 Defender, self\\-hosted\n"
        ".SH SYNOPSIS\n.nf\n\\fBurbac\\fR \\fICOMMAND\\fR [\\fIOPTIONS\\fR]\n"
        "\\fBurbac help\\fR \\fICOMMAND\\fR\n\\fBurbac \\-\\-version\\fR\n.fi\n"
        ".SH DESCRIPTION\nurbac answers access questions in the Microsoft 365 Defender RBAC model "
        "(unified roles, data sources and device groups) and the legacy models it replaces, "
        "from a tenant file or a store (SQLite or PostgreSQL), on the command line or over HTTP "
        "(\\fBurbac serve\\fR).\n"
        "Each command has its own page, \\fBurbac\\-\\fR\\fICOMMAND\\fR(1), and prints its options "
        "with \\fBurbac\\fR \\fICOMMAND\\fR \\fB\\-\\-help\\fR.\n.SH COMMANDS\n",
        out);
  for (size_t i = 0; i < n; i++) {
    fputs(".TP\n\\fBurbac\\-", out);
    roff(cmds[i]->name, out);
    fputs("\\fR(1)\n", out);
    roff(cmds[i]->summary, out);
    fputs(".\n", out);
  }
  fputs(exit_status, out);
  fputs(".SH ENVIRONMENT\n.TP\n.B URBAC_TENANT\nthe tenant file when \\-\\-tenant is not given\n"
        ".TP\n.B URBAC_DB\nthe store when \\-\\-db is not given (else urbac.db)\n"
        ".SH SEE ALSO\nThe documentation in the source tree: README.md, docs/cli.md, docs/api.md, "
        "docs/operations.md.\n",
        out);
}

void cli_man(const cli_command *cmd, FILE *out)
{
  if (cmd)
    command_page(cmd, out);
  else
    overview_page(out);
}
