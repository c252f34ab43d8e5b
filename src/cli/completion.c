/*
 * cli/completion.c - `urbac completion bash|zsh`: shell completion written from the
 * same tables as `--help`, so a new command or option completes as soon as it
 * exists. Commands complete after `urbac` (and after `urbac help`), a command's
 * options after a dash, and an option whose value names a file (FILE, OUT, PEM, TSV,
 * URL: a SQLite path) completes file names. The build writes both scripts
 * (cmake/man.cmake) and cmake --install puts them where bash-completion and zsh
 * look.
 *
 * Depends on: cli/main.c (the command list), cli/opt.h.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* An option's value is a path (complete file names). */
static bool takes_path(const cli_opt *o)
{
  static const char *const paths[] = {"FILE", "OUT", "PEM", "TSV", "URL"};
  for (size_t i = 0; o->arg && i < sizeof paths / sizeof paths[0]; i++)
    if (!strcmp(o->arg, paths[i]))
      return true;
  return false;
}

/* Writes `s` for inside a single-quoted shell word; `brackets` also escapes what
 * zsh's _arguments reads in a description ([, ], :, \). */
static void quoted(const char *s, bool brackets, FILE *out)
{
  for (; *s; s++) {
    if (*s == '\'')
      fputs("'\\''", out);
    else if (brackets && strchr("[]:\\", *s))
      fprintf(out, "\\%c", *s);
    else
      fputc(*s, out);
  }
}

/* ---------------------------------------------------------------- bash */

/* The case arm of one command: its options, and those whose value is a path or
 * any word. */
static void bash_command(const cli_command *cmd, FILE *out)
{
  fprintf(out, "    %s)\n      opts='--help -h", cmd->name);
  for (size_t i = 0; i < cmd->nopts; i++) {
    fprintf(out, " --%s", cmd->opts[i].name);
    if (cmd->opts[i].letter)
      fprintf(out, " -%c", cmd->opts[i].letter);
  }
  fputs("'\n      paths=' ", out);
  for (size_t i = 0; i < cmd->nopts; i++)
    if (takes_path(&cmd->opts[i]))
      fprintf(out, "--%s ", cmd->opts[i].name);
  fputs("'\n      values=' ", out);
  for (size_t i = 0; i < cmd->nopts; i++)
    if (cmd->opts[i].arg && !takes_path(&cmd->opts[i]))
      fprintf(out, "--%s ", cmd->opts[i].name);
  fputs("' ;;\n", out);
}

static void bash(const cli_command *const *cmds, size_t n, FILE *out)
{
  fputs("# bash completion for urbac (written by `urbac completion bash`)\n"
        "_urbac() {\n"
        "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
        "  local commands='",
        out);
  for (size_t i = 0; i < n; i++)
    fprintf(out, "%s%s", i ? " " : "", cmds[i]->name);
  fputs("'\n  local opts='' paths=' ' values=' '\n  COMPREPLY=()\n"
        "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
        "    COMPREPLY=($(compgen -W \"$commands help --help --version\" -- \"$cur\"))\n"
        "    return 0\n  fi\n"
        "  case ${COMP_WORDS[1]} in\n"
        "    help)\n      [ \"$COMP_CWORD\" -eq 2 ] && COMPREPLY=($(compgen -W \"$commands\" -- \"$cur\"))\n"
        "      return 0 ;;\n",
        out);
  for (size_t i = 0; i < n; i++)
    bash_command(cmds[i], out);
  fputs("    *) return 0 ;;\n  esac\n"
        "  case $prev in\n    --*)\n"
        "      if [[ $paths == *\" $prev \"* ]]; then\n"
        "        COMPREPLY=($(compgen -f -- \"$cur\"))\n        return 0\n"
        "      elif [[ $values == *\" $prev \"* ]]; then\n        return 0\n      fi ;;\n  esac\n"
        "  if [[ $cur == -* ]]; then\n"
        "    COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
        "  else\n    COMPREPLY=($(compgen -f -- \"$cur\"))\n  fi\n  return 0\n}\n"
        "complete -o filenames -F _urbac urbac\n",
        out);
}

/* ---------------------------------------------------------------- zsh */

/* One _arguments spec: '(-o --output)'{-o,--output}'[help]:OUT:_files' */
static void zsh_option(const cli_opt *o, FILE *out)
{
  fputs("      ", out);
  if (o->letter)
    fprintf(out, "'(-%c --%s)'{-%c,--%s}'", o->letter, o->name, o->letter, o->name);
  else
    fprintf(out, "'%s--%s", o->kind == CLI_LIST ? "*" : "", o->name);
  fputc('[', out);
  quoted(o->help, true, out);
  fputc(']', out);
  if (o->arg) {
    fputc(':', out);
    quoted(o->arg, true, out);
    fputs(takes_path(o) ? ":_files" : ": ", out);
  }
  fputs("' \\\n", out);
}

static void zsh(const cli_command *const *cmds, size_t n, FILE *out)
{
  fputs("#compdef urbac\n# zsh completion for urbac (written by `urbac completion zsh`)\n"
        "_urbac() {\n  local -a commands\n  commands=(\n",
        out);
  for (size_t i = 0; i < n; i++) {
    fprintf(out, "    '%s:", cmds[i]->name);
    quoted(cmds[i]->summary, false, out);
    fputs("'\n", out);
  }
  fputs("    'help:Print the usage and options of a command'\n  )\n  if (( CURRENT == 2 )); then\n    "
        "_describe -t commands 'urbac command' commands\n"
        "    return\n  fi\n  local cmd=${words[2]}\n  shift words\n  (( CURRENT-- ))\n  case $cmd in\n"
        "    help)\n      (( CURRENT == 2 )) && _describe -t commands 'urbac command' commands ;;\n",
        out);
  for (size_t i = 0; i < n; i++) {
    fprintf(out, "    %s)\n      _arguments -s \\\n", cmds[i]->name);
    for (size_t j = 0; j < cmds[i]->nopts; j++)
      zsh_option(&cmds[i]->opts[j], out);
    fputs("      '(- *)'{-h,--help}'[print the usage and options]' \\\n      '*:file:_files' ;;\n", out);
  }
  fputs("  esac\n}\n_urbac \"$@\"\n", out);
}

/* ---------------------------------------------------------------- the command */

static int completion(void *opts, const cli_args *a)
{
  size_t n;
  const cli_command *const *cmds = cli_commands(&n);
  int rc = 0;
  (void)opts;
  if (a->n == 1 && !strcmp(a->v[0], "bash")) {
    bash(cmds, n, stdout);
  } else if (a->n == 1 && !strcmp(a->v[0], "zsh")) {
    zsh(cmds, n, stdout);
  } else {
    cli_error("completion takes one shell: bash or zsh (got %s%s)", a->n ? a->v[0] : "nothing",
              a->n > 1 ? " and more" : "");
    rc = EXIT_USAGE;
  }
  return rc;
}

/* No options but --help (an empty table: its one row is not counted). */
static const cli_opt no_opts[1];
const cli_command cli_completion = {"completion",
                                    "urbac completion bash|zsh",
                                    "Print the shell completion script for bash or zsh",
                                    no_opts,
                                    0,
                                    1,
                                    completion};
