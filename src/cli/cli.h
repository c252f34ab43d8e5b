/*
 * cli/cli.h - what the urbac commands share: the command descriptor (each command
 * has its own options struct and option table, cli/opt.h), the rows several
 * tables use, the tenant "source" (a tenant file or a store: open, load, compile,
 * save back at the revision read) and printing errors. The CLI is a face: it
 * compiles against the public API (include/urbac) only, as curl's tool does
 * against libcurl.
 *
 * Exit codes: 0 success (allow), 1 deny or "not formatted", 2 bad usage or input.
 */
#ifndef URBAC_CLI_H
#define URBAC_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "opt.h"
#include "urbac/store.h"
#include "urbac/urbac.h"

enum { EXIT_ALLOW = 0, EXIT_DENY = 1, EXIT_USAGE = 2 };

/* A subcommand: its options struct (`size` bytes, zeroed, filled by its table)
 * and what runs it with that struct and the words left after the options. */
typedef struct cli_command {
  const char *name;
  const char *usage;
  const char *summary;
  const cli_opt *opts;
  size_t nopts;
  size_t size;
  int (*run)(void *opts, const cli_args *args);
} cli_command;

#define CLI_COMMAND(name, usage, summary, opts_type, table, run)                                             \
  {                                                                                                          \
    name, usage, summary, table, sizeof table / sizeof table[0], sizeof(opts_type), run                      \
  }

/* The commands, each defined next to its code (cmd_*.c); main.c lists them. */
extern const cli_command cli_activate, cli_apply, cli_assignment, cli_audit, cli_catalog, cli_check,
    cli_completion, cli_deactivate, cli_device, cli_device_group, cli_directory_role, cli_dump, cli_effective,
    cli_explain, cli_export, cli_fmt, cli_group, cli_impact, cli_import, cli_import_graph, cli_init, cli_key,
    cli_migrate, cli_object, cli_plan, cli_role, cli_serve, cli_user, cli_validate, cli_who_can;

/* Every command, sorted by name; `*n` is set to their number. */
const cli_command *const *cli_commands(size_t *n);
/* Writes urbac-COMMAND(1) for `cmd`, or urbac(1) when `cmd` is NULL, as roff
 * (cli/man.c; `urbac help --man [COMMAND]`, run by the build). */
void cli_man(const cli_command *cmd, FILE *out);

/* ---------------------------------------------------------------- sources */

/* Where a command's tenant lives: --tenant FILE (or $URBAC_TENANT), or --db URL
 * (or $URBAC_DB, or urbac.db) with --tenant-id T (or the store's only tenant);
 * and the store's audit protections (--audit-key, --witness, --witness-syslog:
 * writes MAC and witness their records, `audit verify` checks them). */
typedef struct cli_source_opts {
  const char *tenant, *db, *tenant_id;
  const char *audit_key, *witness;
  bool witness_syslog;
} cli_source_opts;

typedef enum cli_source_kind {
  CLI_SOURCE_FILE_OR_STORE, /* the store when --db is given, else the tenant file */
  CLI_SOURCE_STORE,         /* always the store */
} cli_source_kind;

/* One tenant being read, and written back where it came from. */
typedef struct cli_source {
  cli_source_opts opts;
  urbac_store *store;       /* NULL for a tenant file */
  const char *path;         /* the tenant file, or NULL */
  const char *tenant;       /* the tenant's id in a store (after cli_source_tenant or _load) */
  urbac_model *model;       /* after cli_source_load */
  urbac_snapshot *snapshot; /* after cli_source_compile */
  uint64_t revision;        /* the store's revision the model was read at */
  char written[4200];       /* where cli_source_save wrote, for people */
} cli_source;

/* Opens the file's path or the store, the store in `mode` (URBAC_STORE_READ for a
 * command that only reads: it creates nothing and needs no write access; only
 * init creates) with the audit key and witness of `o` when given; prints the
 * problem and returns false.
 * Call cli_source_close() either way; it frees what the source holds. */
bool cli_source_open(cli_source *src, const cli_source_opts *o, cli_source_kind kind, urbac_store_mode mode);
/* The tenant of a store: --tenant-id, or its only tenant; prints and returns NULL. */
const char *cli_source_tenant(cli_source *src);
/* A store's tenant and its revision, without reading the tenant (a write that
 * names what it changes); prints every error. */
bool cli_source_revision(cli_source *src);
/* Loads the model (and, from a store, its revision); prints every error. */
bool cli_source_load(cli_source *src);
/* Makes `m` (taken: cli_source_close() frees it) the source's model, in place of
 * the loaded one (from urbac_import(), urbac_activate(), ...), which is freed
 * after the snapshot compiled from it, if any. */
void cli_source_replace(cli_source *src, urbac_model *m);
/* Compiles the loaded model into src->snapshot; prints every error. */
bool cli_source_compile(cli_source *src);
/* open + load (+ compile when `compile`), in one call for the read commands. */
bool cli_source_read(cli_source *src, const cli_source_opts *o, cli_source_kind kind, urbac_store_mode mode,
                     bool compile);
/* Writes src->model back: to `output` (a tenant file, by its extension) when given,
 * else to the store as one audited write based on the revision read (by `actor`,
 * recording `command`), else to the tenant file, atomically, keeping the comments
 * and key order of the file read (a file from --output too). src->written says where. */
bool cli_source_save(cli_source *src, const char *output, const char *actor, const char *command);
void cli_source_close(cli_source *src);
/* The store URL of --db, $URBAC_DB or urbac.db, as it may be shown: a password in
 * it becomes "***". Written into `buf`. */
const char *cli_source_redacted(const cli_source_opts *o, char *buf, size_t size);
/* --db, or $URBAC_DB, or urbac.db. */
const char *cli_db_url(const cli_source_opts *o);
/* --actor, or $USER, or "cli". */
const char *cli_actor(const char *actor);

/* ---------------------------------------------------------------- rows */

/* Rows several tables share, each for an options struct `T` with the named field. */
#define CLI_ROW_ACTOR(T)                                                                                     \
  {                                                                                                          \
    "actor", 0, CLI_STRING, offsetof(T, actor), 0, "NAME", NULL,                                             \
        "who makes the change, for the audit log (default: $USER)"                                           \
  }
#define CLI_ROW_AUDIT_KEY(T)                                                                                 \
  {                                                                                                          \
    "audit-key", 0, CLI_STRING, offsetof(T, src.audit_key), 0, "FILE", NULL,                                 \
        "the audit log's HMAC key (32+ bytes, mode 600): writes MAC, verify checks"                          \
  }
#define CLI_ROW_DB(T)                                                                                        \
  {                                                                                                          \
    "db", 0, CLI_STRING, offsetof(T, src.db), 0, "URL", NULL,                                                \
        "the store: a SQLite file or a postgresql:// URL (default: $URBAC_DB, else urbac.db)"                \
  }
#define CLI_ROW_IF_REVISION(T)                                                                               \
  {                                                                                                          \
    "if-revision", 0, CLI_INT, offsetof(T, if_revision), UINT64_MAX, "N", NULL,                              \
        "refuse (exit 1) unless the stored tenant is at revision N"                                          \
  }
#define CLI_ROW_JSON(T)                                                                                      \
  {                                                                                                          \
    "json", 0, CLI_FLAG, offsetof(T, json), 0, NULL, NULL, "machine-readable output"                         \
  }
#define CLI_ROW_OUTPUT(T, what)                                                                              \
  {                                                                                                          \
    "output", 'o', CLI_STRING, offsetof(T, output), 0, "OUT", NULL, what                                     \
  }
#define CLI_ROW_TENANT(T)                                                                                    \
  {                                                                                                          \
    "tenant", 0, CLI_STRING, offsetof(T, src.tenant), 0, "FILE", NULL,                                       \
        "the tenant file (default: $URBAC_TENANT)"                                                           \
  }
#define CLI_ROW_WITNESS(T)                                                                                   \
  {                                                                                                          \
    "witness", 0, CLI_STRING, offsetof(T, src.witness), 0, "FILE", NULL,                                     \
        "the audit witness: writes append each chain head, verify checks the log against it"                 \
  }
#define CLI_ROW_WITNESS_SYSLOG(T)                                                                            \
  {                                                                                                          \
    "witness-syslog", 0, CLI_FLAG, offsetof(T, src.witness_syslog), 0, NULL, NULL,                           \
        "also send each write's new chain head to syslog (LOG_AUTHPRIV)"                                     \
  }
#define CLI_ROW_TENANT_ID(T)                                                                                 \
  {                                                                                                          \
    "tenant-id", 0, CLI_STRING, offsetof(T, src.tenant_id), 0, "T", NULL,                                    \
        "the tenant, where the store holds several"                                                          \
  }

/* ---------------------------------------------------------------- helpers */

/* Prints every error of `d` to stderr, one a line. */
void cli_print_diag(const urbac_diag *d);
/* The message of `d`'s first error (without its location), or `err`'s description
 * when `d` holds none (or is NULL); owned by `d` or static. */
const char *cli_diag_message(const urbac_diag *d, urbac_err err);
/* Requires an option; prints "missing --name" when absent. */
bool cli_need(const char *value, const char *name);
/* No words after the options; prints "CMD: unexpected argument" otherwise. */
bool cli_no_args(const cli_args *a, const char *cmd);
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The one positional WORKLOAD argument; prints the problem and returns -1. */
int cli_workload_arg(const cli_args *a, const char *cmd);
/* Opens `path` for writing, or stdout for NULL or "-"; prints the problem and returns NULL. */
FILE *cli_open_output(const char *path);
void cli_close_output(const char *path, FILE *f);
/* ---------------------------------------------------------------- tenant files (cli/files.c) */

/* The tenant files a command line names: each FILE, every *.yaml, *.yml and
 * *.json under each DIR (name order), and "-" (standard input, once). */
typedef struct cli_inputs {
  char **names; /* owned */
  size_t n, cap;
} cli_inputs;
/* Adds the files `a` names to `in`; prints the problem and returns false.
 * Free `in` with cli_inputs_free() either way. */
bool cli_inputs_collect(cli_inputs *in, const cli_args *a, const char *cmd);
void cli_inputs_free(cli_inputs *in);
/* The whole of `name` ("-": standard input), NUL-terminated, at most 256 MiB;
 * the caller frees it with free(). Prints the problem and returns NULL. */
char *cli_read_input(const char *name, size_t *len);
/* Replaces `path` with `len` bytes of `s`: a new file beside it (with its mode),
 * synced, renamed over it; a failure (said) leaves the old file as it was. */
bool cli_replace_file(const char *path, const char *s, size_t len);
/* Prints to stdout the unified diff (diff -u, by diff(1)) from `a` (labelled
 * NAME.orig) to `b` (labelled NAME); false (said) when diff could not run. */
bool cli_diff(const char *name, const char *a, size_t alen, const char *b, size_t blen);

/* Writes one CSV field (RFC 4180 quoting) followed by `sep`. */
void cli_csv_field(FILE *f, const char *s, char sep);

#endif
