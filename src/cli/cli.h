/*
 * cli/cli.h - what the urbac commands share: options, loading a tenant, printing
 * errors. The CLI is a face: it compiles against the public API (include/urbac)
 * only, as curl's tool does against libcurl.
 *
 * Exit codes: 0 success (allow), 1 deny or "not formatted", 2 bad usage or input.
 */
#ifndef URBAC_CLI_H
#define URBAC_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "urbac/urbac.h"

enum { EXIT_ALLOW = 0, EXIT_DENY = 1, EXIT_USAGE = 2 };

/* The options every command may take; a command says which it accepts. */
typedef struct cli_opts {
  const char *tenant, *user, *permission, *workload, *scope, *queries, *output, *format;
  const char *listen, *threads, *tls_cert, *tls_key, *preshared_key_file, *oidc, *access_log, *key_scope, *expires;
  const char *audit_key, *witness; /* the store's audit key file and witness file */
  const char *db, *tenant_id, *file, *if_revision, *actor, *object, *since, *body, *description, *name, *rank;
  /* repeatable options */
  const char *permissions[64], *principals[64], *sources[8], *device_groups[64];
  int npermissions, nprincipals, nsources, ndevice_groups;
  bool routes, json, check, help, stats, dry_run, import, explain, force, witness_syslog;
  int nargs;
  char **args;
} cli_opts;

/* A subcommand: the options it accepts, as a list of names ("tenant,user,json"). */
typedef struct cli_cmd {
  const char *name;
  const char *options;
  const char *usage;
  const char *summary;
  int (*run)(cli_opts *o);
} cli_cmd;

/* Parses argv for `cmd`; prints the problem and returns false on bad usage. */
bool cli_parse(const cli_cmd *cmd, int argc, char **argv, cli_opts *o);
void cli_usage(const cli_cmd *cmd, FILE *out);
/* Prints every error of `d` to stderr, one a line. */
void cli_print_diag(const urbac_diag *d);
/* Loads --tenant and compiles it; prints errors. Both outputs are the caller's. */
bool cli_load(const cli_opts *o, urbac_model **m, urbac_snapshot **s);
/* Requires an option; prints "missing --name" when absent. */
bool cli_need(const char *value, const char *name, const cli_cmd *cmd);
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_validate(cli_opts *o);
int cmd_fmt(cli_opts *o);
int cmd_check(cli_opts *o);
int cmd_explain(cli_opts *o);
int cmd_effective(cli_opts *o);
int cmd_who_can(cli_opts *o);
int cmd_catalog(cli_opts *o);
int cmd_import(cli_opts *o);
int cmd_activate(cli_opts *o);
int cmd_deactivate(cli_opts *o);
int cmd_impact(cli_opts *o);
int cmd_export(cli_opts *o);
int cmd_init(cli_opts *o);
int cmd_migrate(cli_opts *o);
int cmd_plan(cli_opts *o);
int cmd_apply(cli_opts *o);
int cmd_dump(cli_opts *o);
int cmd_audit(cli_opts *o);
int cmd_object(cli_opts *o);
int cmd_role(cli_opts *o);
int cmd_assignment(cli_opts *o);
int cmd_user(cli_opts *o);
int cmd_group(cli_opts *o);
int cmd_directory_role(cli_opts *o);
int cmd_device(cli_opts *o);
int cmd_device_group(cli_opts *o);
int cmd_serve(cli_opts *o);
int cmd_key(cli_opts *o);
/* --db, or $URBAC_DB, or urbac.db. */
const char *cli_db_url(const cli_opts *o);
/* --tenant-id, or the store's only tenant; prints the problem and returns NULL. */
const char *cli_tenant_id(const cli_opts *o, urbac_store *s);
/* Opens --db (or $URBAC_DB, or urbac.db); prints errors. */
urbac_store *cli_open_store(const cli_opts *o);
/* Loads the tenant --tenant-id (or the store's only tenant) from the store. */
bool cli_load_store(const cli_opts *o, urbac_store *s, urbac_model **m, uint64_t *revision);

/* Loads --tenant (no compile); prints errors. */
bool cli_load_model(const cli_opts *o, urbac_model **m);
/* The tenant path (--tenant or $URBAC_TENANT), or NULL. */
const char *cli_tenant_path(const cli_opts *o);
/* Writes `m` to --output (by its extension) or back to the tenant file, atomically;
 * with --db, applies it to the store instead, based on the revision it was read at. */
bool cli_save(const cli_opts *o, const urbac_model *m, const char **written);
/* The revision the last model loaded from a store (--db) was read at. */
extern uint64_t cli_loaded_revision;
/* The one positional WORKLOAD argument; prints the problem and returns -1. */
int cli_workload_arg(const cli_opts *o, const char *cmd);
/* Opens --output for writing, or stdout; prints the problem and returns NULL. */
FILE *cli_open_output(const cli_opts *o);
void cli_close_output(const cli_opts *o, FILE *f);
/* Writes one CSV field (RFC 4180 quoting) followed by `sep`. */
void cli_csv_field(FILE *f, const char *s, char sep);

#endif
