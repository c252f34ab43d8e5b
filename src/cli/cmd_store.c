/*
 * cli/cmd_store.c - the store from the command line: `init`, `migrate`,
 * `dump` and `audit log|verify` (`plan` and `apply` are in cli/cmd_plan.c). The
 * store is --db URL (a SQLite file), else $URBAC_DB, else urbac.db; --audit-key
 * and --witness give it the audit protections of docs/operations.md.
 *
 * Depends on: the public API, cli/main.c, cli/common.c, cli/source.c.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct store_opts {
  cli_source_opts src;
  const char *actor, *output, *object, *since;
  bool json;
} store_opts;

static int migrate(const store_opts *o, const cli_args *a, const char *what, urbac_store_mode mode)
{
  int from = 0, to = 0;
  cli_source src = {0};
  urbac_diag *d = urbac_diag_new();
  char shown[1024];
  int rc = EXIT_USAGE;
  if (!cli_no_args(a, what[0] == 'i' ? "init" : "migrate") || !d ||
      !cli_source_open(&src, &o->src, CLI_SOURCE_STORE, mode)) {
    /* said */
  } else if (urbac_store_migrate(src.store, &from, &to, d) == URBAC_OK) {
    if (from == to)
      printf("%s: the store is at schema version %d; nothing to do\n",
             cli_source_redacted(&o->src, shown, sizeof shown), to);
    else
      printf("%s: %s, schema version %d -> %d\n", cli_source_redacted(&o->src, shown, sizeof shown), what,
             from, to);
    rc = 0;
  } else {
    cli_print_diag(d);
  }
  urbac_diag_free(d);
  cli_source_close(&src);
  return rc;
}

static int init(void *opts, const cli_args *a) { return migrate(opts, a, "initialized", URBAC_STORE_CREATE); }
static int migrate_cmd(void *opts, const cli_args *a)
{
  return migrate(opts, a, "migrated", URBAC_STORE_WRITE);
}

static int dump(void *opts, const cli_args *a)
{
  const store_opts *o = opts;
  cli_source src = {0};
  char *text = NULL;
  size_t len = 0;
  int rc = EXIT_USAGE;
  if (cli_no_args(a, "dump") && cli_source_read(&src, &o->src, CLI_SOURCE_STORE, URBAC_STORE_READ, false)) {
    urbac_format f = o->output ? urbac_format_from_path(o->output) : URBAC_FORMAT_YAML;
    FILE *out = cli_open_output(o->output);
    if (out && urbac_tenant_save_buffer(src.model, f, &text, &len, NULL) == URBAC_OK) {
      fwrite(text, 1, len, out);
      rc = 0;
    }
    cli_close_output(o->output, out);
  }
  urbac_free(text);
  cli_source_close(&src);
  return rc;
}

/* ---------------------------------------------------------------- audit */

static int print_record(void *ctx, const urbac_audit_record *r)
{
  json_t *rows = ctx;
  if (rows) {
    json_array_append_new(rows,
                          json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s}", "seq",
                                    (json_int_t)r->seq, "revision", (json_int_t)r->revision, "at", r->at,
                                    "actor", r->actor, "command", r->command, "kind", r->kind, "object",
                                    r->object, "before", r->before, "after", r->after, "hash", r->hash));
    return 0;
  }
  const char *what = !r->before ? "created" : !r->after ? "deleted" : "changed";
  printf("%llu\trevision %llu\t%s\t%s\t%s %s %s\t%s\n", (unsigned long long)r->seq,
         (unsigned long long)r->revision, r->at, r->actor, what, r->kind, r->object, r->command);
  return 0;
}

/* What `audit verify` checked, in one line. */
static void print_verified(const char *t, const urbac_audit_report *r, const store_opts *o)
{
  if (o->json) {
    json_t *j =
        json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I}", "tenant", t, "intact", 1, "records",
                  (json_int_t)r->records, "stated", (json_int_t)r->stated, "keyed", (json_int_t)r->keyed,
                  "objects", (json_int_t)r->objects, "witnessed", (json_int_t)r->witnessed);
    json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(j);
    return;
  }
  printf("audit log of tenant %s: %llu records, chain intact; the %llu stored rows are what the log's "
         "changes produce",
         t, (unsigned long long)r->records, (unsigned long long)r->objects);
  if (r->stated < r->records)
    printf(" (%llu records from before schema 2 carry no state digest)",
           (unsigned long long)(r->records - r->stated));
  if (o->src.audit_key)
    printf("; %llu records MACed under the key%s", (unsigned long long)r->keyed,
           r->keyed < r->records ? ", the ones before them written before it was used" : "");
  else
    printf("; MACs not checked (no --audit-key)");
  if (o->src.witness)
    printf("; agrees with the witness (%llu heads)", (unsigned long long)r->witnessed);
  printf("\n");
}

/* `audit verify`: 0 intact, 1 tampered (each problem on stderr), 2 damaged or unreadable. */
static int audit_verify(const store_opts *o, urbac_store *store, const char *t)
{
  urbac_audit_report r;
  urbac_diag *d = urbac_diag_new();
  urbac_err err = urbac_store_audit_check(store, t, &r, d);
  int rc = err == URBAC_OK ? 0 : err == URBAC_ETAMPERED ? EXIT_DENY : EXIT_USAGE;
  if (err == URBAC_OK)
    print_verified(t, &r, o);
  else if (err == URBAC_ETAMPERED)
    cli_error("audit log of tenant %s is broken (%llu records read):", t, (unsigned long long)r.records);
  else if (!urbac_diag_count(d))
    cli_error("audit verify: %s", urbac_strerror(err));
  cli_print_diag(d);
  urbac_diag_free(d);
  return rc;
}

static int audit(void *opts, const cli_args *a)
{
  const store_opts *o = opts;
  cli_source src = {0};
  urbac_store *store = NULL;
  const char *t;
  int rc = EXIT_USAGE;
  bool verify = a->n == 1 && strcmp(a->v[0], "verify") == 0;
  if (a->n != 1 || (!verify && strcmp(a->v[0], "log") != 0)) {
    cli_error("audit takes 'log' or 'verify' (see --help)");
    return EXIT_USAGE;
  }
  if (!cli_source_open(&src, &o->src, CLI_SOURCE_STORE, URBAC_STORE_READ) || !(t = cli_source_tenant(&src)))
    goto out;
  store = src.store;
  if (verify) {
    rc = audit_verify(o, store, t);
    goto out;
  }
  urbac_audit_filter f = {o->object, o->actor, o->since};
  json_t *rows = o->json ? json_array() : NULL;
  urbac_diag *d = urbac_diag_new();
  urbac_err err = d ? urbac_store_audit(store, t, &f, print_record, rows, d) : URBAC_ENOMEM;
  if (err == URBAC_OK) {
    rc = 0;
    if (rows) {
      json_dumpf(rows, stdout, JSON_INDENT(2));
      fputc('\n', stdout);
    }
  } else {
    cli_error("audit log: cannot read the store: %s", cli_diag_message(d, err));
  }
  urbac_diag_free(d);
  json_decref(rows);
out:
  cli_source_close(&src);
  return rc;
}

/* ---------------------------------------------------------------- the commands */

#define ROW(name, kind, field, arg, help)                                                                    \
  {                                                                                                          \
    name, 0, kind, offsetof(store_opts, field), 0, arg, NULL, help                                           \
  }
static const cli_opt db_only[] = {CLI_ROW_DB(store_opts)};
static const cli_opt dump_opts[] = {
    CLI_ROW_DB(store_opts),
    CLI_ROW_OUTPUT(store_opts, "write there (YAML, or JSON by .json) instead of standard output"),
    CLI_ROW_TENANT_ID(store_opts),
};
static const cli_opt audit_opts[] = {
    ROW("actor", CLI_STRING, actor, "A", "log: only records by this actor"),
    CLI_ROW_AUDIT_KEY(store_opts),
    CLI_ROW_DB(store_opts),
    CLI_ROW_JSON(store_opts),
    ROW("object", CLI_STRING, object, "ID", "log: only records about this object"),
    ROW("since", CLI_STRING, since, "TIME", "log: only records at or after this UTC time (2026-11-22T10:00)"),
    CLI_ROW_TENANT_ID(store_opts),
    CLI_ROW_WITNESS(store_opts),
};

const cli_command cli_init =
    CLI_COMMAND("init", "urbac init [--db URL]", "Create a store (or bring its schema up to date)",
                store_opts, db_only, init);
const cli_command cli_migrate =
    CLI_COMMAND("migrate", "urbac migrate [--db URL]", "Apply the store's numbered schema migrations",
                store_opts, db_only, migrate_cmd);
const cli_command cli_dump =
    CLI_COMMAND("dump", "urbac dump [--db URL] [--tenant-id T] [--output OUT]",
                "Write a stored tenant back as a tenant file", store_opts, dump_opts, dump);
const cli_command cli_audit = CLI_COMMAND(
    "audit",
    "urbac audit (log [--object ID] [--actor A] [--since TIME] | verify [--audit-key FILE] [--witness FILE]) "
    "[--db URL] [--tenant-id T] [--json]",
    "List the audit log, or verify it: its chain, MACs, witness, and that the stored rows are what it "
    "produced",
    store_opts, audit_opts, audit);
