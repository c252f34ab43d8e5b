/*
 * cli/cmd_store.c - the store from the command line: `init`, `migrate`,
 * `plan`, `apply`, `dump` and `audit log|verify`. The store is --db URL (a
 * SQLite file), else $URBAC_DB, else urbac.db; --audit-key and --witness give
 * it the audit protections of docs/operations.md.
 *
 * Depends on: the public API, cli/main.c, cli/common.c.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char *cli_db_url(const cli_opts *o)
{
  return o->db ? o->db : getenv("URBAC_DB") ? getenv("URBAC_DB") : "urbac.db";
}

/* The store's URL as it may be shown: a password in it becomes "***". */
static const char *shown(const cli_opts *o)
{
  static char buf[1024];
  const char *url = cli_db_url(o), *scheme = strstr(url, "://"), *at = scheme ? strchr(scheme, '@') : NULL;
  const char *colon = scheme ? strchr(scheme + 3, ':') : NULL;
  if (!at || !colon || colon > at)
    return url;
  snprintf(buf, sizeof buf, "%.*s:***%s", (int)(colon - url), url, at);
  return buf;
}

/* Opens the store with the audit key and witness of --audit-key, --witness and
 * --witness-syslog (writes MAC and witness their records; `audit verify` checks). */
urbac_store *cli_open_store(const cli_opts *o)
{
  urbac_store *s = NULL;
  urbac_diag *d = urbac_diag_new();
  urbac_audit_opts audit = {o->audit_key, o->witness, o->witness_syslog};
  urbac_err err = urbac_store_open(cli_db_url(o), &s, d);
  if (!err && (o->audit_key || o->witness || o->witness_syslog))
    err = urbac_store_set_audit(s, &audit, d);
  if (err) {
    cli_print_diag(d);
    urbac_store_close(s);
    s = NULL;
  }
  urbac_diag_free(d);
  return s;
}

/* --tenant-id, or the only tenant of the store. */
const char *cli_tenant_id(const cli_opts *o, urbac_store *s)
{
  const char *const *ids;
  size_t n;
  if (o->tenant_id)
    return o->tenant_id;
  if (urbac_store_tenants(s, &ids, &n) != URBAC_OK) {
    cli_error("%s: cannot list the tenants (run 'urbac init', or 'urbac migrate' after an upgrade?)",
              shown(o));
    return NULL;
  }
  if (n == 1)
    return ids[0];
  cli_error("%s holds %zu tenants: name one with --tenant-id", shown(o), n);
  return NULL;
}

bool cli_load_store(const cli_opts *o, urbac_store *s, urbac_model **m, uint64_t *revision)
{
  const char *t = cli_tenant_id(o, s);
  urbac_diag *d = urbac_diag_new();
  bool ok = t && d && urbac_store_load(s, t, m, revision, d) == URBAC_OK;
  if (!ok)
    cli_print_diag(d);
  urbac_diag_free(d);
  return ok;
}

static int migrate(cli_opts *o, const char *what)
{
  int from = 0, to = 0;
  urbac_store *s = cli_open_store(o);
  urbac_diag *d = urbac_diag_new();
  int rc = EXIT_USAGE;
  if (s && urbac_store_migrate(s, &from, &to, d) == URBAC_OK) {
    if (from == to)
      printf("%s: the store is at schema version %d; nothing to do\n", shown(o), to);
    else
      printf("%s: %s, schema version %d -> %d\n", shown(o), what, from, to);
    rc = 0;
  } else {
    cli_print_diag(d);
  }
  urbac_diag_free(d);
  urbac_store_close(s);
  return rc;
}

int cmd_init(cli_opts *o) { return migrate(o, "initialized"); }
int cmd_migrate(cli_opts *o) { return migrate(o, "migrated"); }

static urbac_model *load_file(const cli_opts *o)
{
  cli_opts f = *o;
  urbac_model *m = NULL;
  if (!o->file) {
    cli_error("missing -f FILE (a tenant file)");
    return NULL;
  }
  f.tenant = o->file;
  f.db = NULL;
  return cli_load_model(&f, &m) ? m : NULL;
}

static const char *const op_names[] = {"create", "change", "delete"};
static const char op_marks[] = {'+', '~', '-'};

static void print_plan(const urbac_plan *p, const char *tenant, bool json)
{
  size_t counts[3] = {0};
  json_t *changes = json ? json_array() : NULL;
  for (size_t i = 0; i < urbac_plan_count(p); i++) {
    const urbac_change *c = urbac_plan_change(p, i);
    counts[c->op]++;
    if (changes)
      json_array_append_new(changes, json_pack("{s:s, s:s, s:s, s:s?, s:s?}", "op", op_names[c->op], "kind", c->kind,
                                               "id", c->id, "before", c->before, "after", c->after));
    else
      printf("%c %s %s\n", op_marks[c->op], c->kind, c->id);
  }
  if (changes) {
    json_t *out = json_pack("{s:s, s:I, s:o}", "tenant", tenant, "revision", (json_int_t)urbac_plan_revision(p), "changes", changes);
    json_dumpf(out, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(out);
  } else {
    printf("tenant %s (revision %llu): %zu to create, %zu to change, %zu to delete\n", tenant,
           (unsigned long long)urbac_plan_revision(p), counts[0], counts[1], counts[2]);
  }
}

int cmd_plan(cli_opts *o)
{
  urbac_model *m = load_file(o);
  urbac_store *s = m ? cli_open_store(o) : NULL;
  urbac_plan *p = NULL;
  urbac_diag *d = urbac_diag_new();
  int rc = EXIT_USAGE;
  if (s && urbac_store_plan(s, m, &p, d) == URBAC_OK) {
    print_plan(p, urbac_model_tenant(m), o->json);
    rc = 0;
  } else if (s) {
    cli_print_diag(d);
  }
  urbac_plan_free(p);
  urbac_diag_free(d);
  urbac_store_close(s);
  urbac_model_free(m);
  return rc;
}

int cmd_apply(cli_opts *o)
{
  urbac_model *m = load_file(o);
  urbac_store *s = m ? cli_open_store(o) : NULL;
  urbac_diag *d = urbac_diag_new();
  uint64_t before = 0, after = 0;
  char cmd[512];
  int rc = EXIT_USAGE;
  snprintf(cmd, sizeof cmd, "urbac apply -f %s", o->file ? o->file : "");
  urbac_write w = {o->actor ? o->actor : getenv("USER") ? getenv("USER") : "cli", cmd, o->if_revision != NULL, 0, NULL};
  if (o->if_revision) /* a whole number: checked with the options */
    w.revision = strtoull(o->if_revision, NULL, 10);
  if (s)
    urbac_store_revision(s, urbac_model_tenant(m), &before);
  urbac_err err = s ? urbac_store_apply(s, m, &w, &after, d) : URBAC_EINVAL;
  if (!err) {
    if (o->json)
      printf("{\"tenant\": \"%s\", \"revision\": %llu, \"changed\": %s}\n", urbac_model_tenant(m), (unsigned long long)after,
             after != before ? "true" : "false");
    else if (after == before)
      printf("tenant %s is already as the file says (revision %llu): nothing written\n", urbac_model_tenant(m), (unsigned long long)after);
    else
      printf("tenant %s: applied, now at revision %llu\n", urbac_model_tenant(m), (unsigned long long)after);
    rc = 0;
  } else if (s) {
    cli_print_diag(d);
    rc = err == URBAC_ECONFLICT ? EXIT_DENY : EXIT_USAGE;
  }
  urbac_diag_free(d);
  urbac_store_close(s);
  urbac_model_free(m);
  return rc;
}

int cmd_dump(cli_opts *o)
{
  urbac_store *s = cli_open_store(o);
  urbac_model *m = NULL;
  char *text = NULL;
  size_t len = 0;
  int rc = EXIT_USAGE;
  if (s && cli_load_store(o, s, &m, NULL)) {
    urbac_format f = o->output ? urbac_format_from_path(o->output) : URBAC_FORMAT_YAML;
    FILE *out = cli_open_output(o);
    if (out && urbac_tenant_save_buffer(m, f, &text, &len) == URBAC_OK) {
      fwrite(text, 1, len, out);
      rc = 0;
    }
    cli_close_output(o, out);
  }
  urbac_free(text);
  urbac_model_free(m);
  urbac_store_close(s);
  return rc;
}

/* ---------------------------------------------------------------- audit */

static int print_record(void *ctx, const urbac_audit_record *r)
{
  json_t *rows = ctx;
  if (rows) {
    json_array_append_new(rows, json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s}", "seq", (json_int_t)r->seq,
                                          "revision", (json_int_t)r->revision, "at", r->at, "actor", r->actor, "command",
                                          r->command, "kind", r->kind, "object", r->object, "before", r->before, "after",
                                          r->after, "hash", r->hash));
    return 0;
  }
  const char *what = !r->before ? "created" : !r->after ? "deleted" : "changed";
  printf("%llu\trevision %llu\t%s\t%s\t%s %s %s\t%s\n", (unsigned long long)r->seq, (unsigned long long)r->revision, r->at,
         r->actor, what, r->kind, r->object, r->command);
  return 0;
}

/* What `audit verify` checked, in one line. */
static void print_verified(const char *t, const urbac_audit_report *r, const cli_opts *o)
{
  if (o->json) {
    json_t *j = json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I}", "tenant", t, "intact", 1, "records",
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
  if (o->audit_key)
    printf("; %llu records MACed under the key%s", (unsigned long long)r->keyed,
           r->keyed < r->records ? ", the ones before them written before it was used" : "");
  else
    printf("; MACs not checked (no --audit-key)");
  if (o->witness)
    printf("; agrees with the witness (%llu heads)", (unsigned long long)r->witnessed);
  printf("\n");
}

/* `audit verify`: 0 intact, 1 tampered (each problem on stderr), 2 damaged or unreadable. */
static int audit_verify(const cli_opts *o, urbac_store *s, const char *t)
{
  urbac_audit_report r;
  urbac_diag *d = urbac_diag_new();
  urbac_err err = urbac_store_audit_check(s, t, &r, d);
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

int cmd_audit(cli_opts *o)
{
  urbac_store *s = NULL;
  const char *t;
  int rc = EXIT_USAGE;
  bool verify = o->nargs == 1 && strcmp(o->args[0], "verify") == 0;
  if (o->nargs != 1 || (!verify && strcmp(o->args[0], "log") != 0)) {
    cli_error("audit takes 'log' or 'verify' (see --help)");
    return EXIT_USAGE;
  }
  if (!(s = cli_open_store(o)) || !(t = cli_tenant_id(o, s)))
    goto out;
  if (verify) {
    rc = audit_verify(o, s, t);
    goto out;
  }
  urbac_audit_filter f = {o->object, o->actor, o->since};
  json_t *rows = o->json ? json_array() : NULL;
  if (urbac_store_audit(s, t, &f, print_record, rows) == URBAC_OK) {
    rc = 0;
    if (rows) {
      json_dumpf(rows, stdout, JSON_INDENT(2));
      fputc('\n', stdout);
    }
  } else {
    cli_error("audit log: cannot read the store");
  }
  json_decref(rows);
out:
  urbac_store_close(s);
  return rc;
}
