/*
 * store/postgres.c - the shared store: PostgreSQL through libpq, for several
 * urbac servers serving one set of tenants.
 *
 * Writers serialize on a transaction-level advisory lock taken when the write
 * transaction begins (before the revision is read), the same guarantee SQLite's
 * BEGIN IMMEDIATE gives. Each committed write sends NOTIFY urbac with the
 * tenant's id, so a watcher (LISTEN urbac) wakes within milliseconds of a write
 * by any process or server. Audit records keep their insertion order in a
 * serial column, so a reordered record shows.
 *
 * Depends on: util, io/objects, libpq.
 */
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/store.h"

typedef struct pg {
  PGconn *c;
  char *url;
  bool listening;
} pg;

static const char *const steps[] = {
    NULL,
    "CREATE TABLE urbac_schema (version INTEGER NOT NULL, applied_at TEXT NOT NULL);"
    "CREATE TABLE tenants (id TEXT PRIMARY KEY, revision BIGINT NOT NULL, audit_seq BIGINT NOT NULL,"
    " audit_hash TEXT NOT NULL);"
    "CREATE TABLE objects (tenant TEXT NOT NULL REFERENCES tenants(id), kind TEXT NOT NULL, id TEXT NOT NULL,"
    " position BIGINT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (tenant, kind, id));"
    "CREATE TABLE audit (n BIGSERIAL PRIMARY KEY, tenant TEXT NOT NULL REFERENCES tenants(id), seq BIGINT NOT NULL,"
    " revision BIGINT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL, command TEXT NOT NULL, kind TEXT NOT NULL,"
    " object TEXT NOT NULL, before TEXT, after TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
    "CREATE INDEX audit_tenant ON audit (tenant, n);",
    /* 2: the state digest and MAC of each record; the tenant's state digest and
     * audit key id (NULL for what was written before) */
    "ALTER TABLE tenants ADD COLUMN state_hash TEXT, ADD COLUMN audit_key TEXT;"
    "ALTER TABLE audit ADD COLUMN state TEXT, ADD COLUMN mac TEXT;",
};

static bool accepts(const char *url)
{
  return strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0;
}

/* The URL without its password, for messages. */
static urbac_err fail(pg *b, urbac_diag *d, const char *what, const PGresult *r)
{
  const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(b->c);
  char clean[1024];
  snprintf(clean, sizeof clean, "%s", msg && *msg ? msg : "unknown error");
  clean[strcspn(clean, "\n")] = '\0';
  return urbac__diag_add(d, URBAC_ESTORE, "postgres", 0, 0, NULL, "%s: %s", what, clean);
}

/* Runs a statement with text parameters; *out (may be NULL) gets the result. */
static urbac_err run(pg *b, const char *sql, int n, const char *const *params, PGresult **out, urbac_diag *d,
                     const char *what)
{
  PGresult *r = PQexecParams(b->c, sql, n, NULL, params, NULL, NULL, 0);
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  urbac_err err = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? URBAC_OK : fail(b, d, what, r);
  if (out && !err)
    *out = r;
  else
    PQclear(r);
  return err;
}

/* Runs a script of several statements (no parameters). */
static urbac_err run_script(pg *b, const char *sql, urbac_diag *d, const char *what)
{
  PGresult *r = PQexec(b->c, sql);
  urbac_err err = r && PQresultStatus(r) == PGRES_COMMAND_OK ? URBAC_OK : fail(b, d, what, r);
  PQclear(r);
  return err;
}

static void db_close(void *p)
{
  pg *b = p;
  PQfinish(b->c);
  urbac__free(b->url);
  urbac__free(b);
}

static urbac_err db_open(const char *url, void **out, urbac_diag *d)
{
  pg *b = urbac__calloc(1, sizeof *b);
  if (!b || !(b->url = urbac__strdup(url))) {
    urbac__free(b);
    return URBAC_ENOMEM;
  }
  b->c = PQconnectdb(url);
  if (!b->c || PQstatus(b->c) != CONNECTION_OK) {
    urbac_err err = b->c ? fail(b, d, "cannot connect to the store", NULL) : URBAC_ENOMEM;
    db_close(b);
    return err;
  }
  PGresult *r = PQexec(b->c, "SET client_min_messages = warning");
  PQclear(r);
  *out = b;
  return URBAC_OK;
}

static urbac_err db_schema(void *p, int *version, urbac_diag *d)
{
  pg *b = p;
  PGresult *r = NULL;
  urbac_err err = run(b, "SELECT count(*), count(*) FILTER (WHERE table_name = 'urbac_schema') FROM information_schema.tables"
                         " WHERE table_schema = current_schema()", 0, NULL, &r, d, "cannot read the schema");
  if (err)
    return err;
  int tables = atoi(PQgetvalue(r, 0, 0)), ours = atoi(PQgetvalue(r, 0, 1));
  PQclear(r);
  *version = tables == 0 ? 0 : ours ? 0 : -1;
  if (ours && !(err = run(b, "SELECT coalesce(max(version), 0) FROM urbac_schema", 0, NULL, &r, d, "cannot read the schema"))) {
    *version = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
  }
  return err;
}

static urbac_err db_setup(void *p, urbac_diag *d)
{
  /* synchronous_commit on: a commit is flushed before it is acknowledged */
  return run(p, "SET synchronous_commit = on", 0, NULL, NULL, d, "cannot set up the store");
}

static urbac_err db_migrate_step(void *p, int version, urbac_diag *d)
{
  char v[16];
  const char *params[] = {v};
  if (version < 1 || version > URBAC__SCHEMA_VERSION)
    return URBAC_EINVAL;
  snprintf(v, sizeof v, "%d", version);
  urbac_err err = run(p, "BEGIN", 0, NULL, NULL, d, "cannot start the migration");
  if (!err)
    err = run_script(p, steps[version], d, "migration failed");
  if (!err)
    err = run(p, "INSERT INTO urbac_schema VALUES ($1, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))",
              1, params, NULL, d, "migration failed");
  if (!err)
    return run(p, "COMMIT", 0, NULL, NULL, d, "migration failed");
  PQclear(PQexec(((pg *)p)->c, "ROLLBACK"));
  return err;
}

static urbac_err db_begin(void *p, bool write, urbac_diag *d)
{
  urbac_err err = run(p, "BEGIN", 0, NULL, NULL, d, "cannot start a transaction");
  if (!err && write) /* writers take turns, across every process and server */
    err = run(p, "SELECT pg_advisory_xact_lock(7365147322)", 0, NULL, NULL, d, "cannot lock the store");
  return err;
}

static urbac_err db_commit(void *p, urbac_diag *d) { return run(p, "COMMIT", 0, NULL, NULL, d, "commit failed"); }
static void db_rollback(void *p) { PQclear(PQexec(((pg *)p)->c, "ROLLBACK")); }

/* ---------------------------------------------------------------- rows */

static urbac_err db_tenants(void *p, urbac__strs *out, urbac_diag *d)
{
  PGresult *r = NULL;
  urbac_err err = run(p, "SELECT id FROM tenants ORDER BY id", 0, NULL, &r, d, "cannot list the tenants");
  for (int i = 0; !err && i < PQntuples(r); i++)
    err = urbac__strs_add(out, PQgetvalue(r, i, 0), strlen(PQgetvalue(r, i, 0)));
  PQclear(r);
  return err;
}

static urbac_err db_tenant_get(void *p, const char *tenant, urbac__tenant_row *row, urbac_diag *d)
{
  PGresult *r = NULL;
  const char *params[] = {tenant};
  memset(row, 0, sizeof *row);
  urbac_err err = run(p, "SELECT revision, audit_seq, audit_hash, coalesce(state_hash, ''),"
                         " coalesce(audit_key, '') FROM tenants WHERE id = $1",
                      1, params, &r, d, "cannot read the tenant");
  if (!err && PQntuples(r) == 1) {
    row->exists = true;
    row->revision = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
    row->audit_seq = strtoull(PQgetvalue(r, 0, 1), NULL, 10);
    snprintf(row->audit_hash, sizeof row->audit_hash, "%s", PQgetvalue(r, 0, 2));
    snprintf(row->state_hash, sizeof row->state_hash, "%s", PQgetvalue(r, 0, 3));
    snprintf(row->audit_key, sizeof row->audit_key, "%s", PQgetvalue(r, 0, 4));
  }
  PQclear(r);
  return err;
}

static urbac_err db_tenant_put(void *p, const char *tenant, const urbac__tenant_row *row, urbac_diag *d)
{
  char rev[32], seq[32];
  snprintf(rev, sizeof rev, "%llu", (unsigned long long)row->revision);
  snprintf(seq, sizeof seq, "%llu", (unsigned long long)row->audit_seq);
  const char *params[] = {tenant, rev, seq, row->audit_hash, row->state_hash[0] ? row->state_hash : NULL,
                          row->audit_key[0] ? row->audit_key : NULL};
  return run(p, "INSERT INTO tenants (id, revision, audit_seq, audit_hash, state_hash, audit_key)"
                " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET revision = $2,"
                " audit_seq = $3, audit_hash = $4, state_hash = $5, audit_key = $6", 6, params, NULL, d,
             "cannot write the tenant");
}

static urbac_err db_objects(void *p, const char *tenant, bool keys, urbac__object **out, size_t *n, urbac_diag *d)
{
  PGresult *r = NULL;
  const char *params[] = {tenant};
  size_t cap = 0;
  *out = NULL;
  *n = 0;
  urbac_err err = run(p, keys ? "SELECT kind, id, body, position FROM objects WHERE tenant = $1 AND kind = 'apiKey'"
                             " ORDER BY position, kind, id"
                           : "SELECT kind, id, body, position FROM objects WHERE tenant = $1 AND kind <> 'apiKey'"
                             " ORDER BY position, kind, id",
                      1,
                      params, &r, d, "cannot read the tenant's objects");
  for (int i = 0; !err && i < PQntuples(r); i++) {
    const char *kind = urbac__object_kind(PQgetvalue(r, i, 0));
    if (!kind) {
      err = urbac__diag_add(d, URBAC_ESTORE, "postgres", 0, 0, NULL, "tenant '%s': a stored object of unknown kind '%s'",
                            tenant, PQgetvalue(r, i, 0));
      break;
    }
    if (URBAC_GROW(*out, cap, *n + 1)) {
      err = URBAC_ENOMEM;
      break;
    }
    urbac__object *o = &(*out)[(*n)++];
    o->kind = kind;
    o->id = urbac__strdup(PQgetvalue(r, i, 1));
    o->body = urbac__strdup(PQgetvalue(r, i, 2));
    o->position = strtoll(PQgetvalue(r, i, 3), NULL, 10);
    if (!o->id || !o->body)
      err = URBAC_ENOMEM;
  }
  PQclear(r);
  if (err) {
    urbac__objects_free(*out, *n);
    *out = NULL;
    *n = 0;
  }
  return err;
}

static urbac_err db_object_put(void *p, const char *tenant, const urbac__object *o, int64_t position, urbac_diag *d)
{
  char pos[32];
  snprintf(pos, sizeof pos, "%lld", (long long)position);
  const char *params[] = {tenant, o->kind, o->id, pos, o->body};
  return run(p, "INSERT INTO objects VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant, kind, id) DO UPDATE SET"
                " position = $4, body = $5", 5, params, NULL, d, "cannot write an object");
}

static urbac_err db_object_delete(void *p, const char *tenant, const char *kind, const char *id, urbac_diag *d)
{
  const char *params[] = {tenant, kind, id};
  return run(p, "DELETE FROM objects WHERE tenant = $1 AND kind = $2 AND id = $3", 3, params, NULL, d,
             "cannot delete an object");
}

#define BATCH 1000 /* rows per INSERT: one round trip instead of a thousand */

/* "($1, $2, ...), (...)" for `rows` rows of `cols` parameters, after `head`. */
static char *values_sql(const char *head, const char *tail, size_t rows, size_t cols)
{
  urbac__buf b = {0};
  urbac__buf_puts(&b, head);
  for (size_t r = 0; r < rows; r++) {
    urbac__buf_puts(&b, r ? ", (" : " (");
    for (size_t c = 0; c < cols; c++)
      urbac__buf_printf(&b, "%s$%zu", c ? ", " : "", r * cols + c + 1);
    urbac__buf_puts(&b, ")");
  }
  urbac__buf_puts(&b, tail);
  return urbac__buf_take(&b, NULL);
}

static urbac_err db_objects_put(void *p, const char *tenant, const urbac__object *const *o, size_t n, urbac_diag *d)
{
  char (*pos)[32] = urbac__malloc((n + 1) * sizeof *pos);
  const char **params = urbac__malloc((BATCH * 5 + 1) * sizeof *params);
  urbac_err err = pos && params ? URBAC_OK : URBAC_ENOMEM;
  for (size_t at = 0; !err && at < n; at += BATCH) {
    size_t rows = n - at < BATCH ? n - at : BATCH;
    for (size_t i = 0; i < rows; i++) {
      const urbac__object *x = o[at + i];
      snprintf(pos[at + i], sizeof pos[0], "%lld", (long long)x->position);
      const char *row[] = {tenant, x->kind, x->id, pos[at + i], x->body};
      memcpy(&params[i * 5], row, sizeof row);
    }
    char *sql = values_sql("INSERT INTO objects VALUES", " ON CONFLICT (tenant, kind, id) DO UPDATE SET"
                           " position = EXCLUDED.position, body = EXCLUDED.body", rows, 5);
    err = sql ? run(p, sql, (int)(rows * 5), params, NULL, d, "cannot write the objects") : URBAC_ENOMEM;
    urbac__free(sql);
  }
  urbac__free(pos);
  urbac__free((void *)params);
  return err;
}

static urbac_err db_audit_put_many(void *p, const char *tenant, const urbac_audit_record *r, size_t n, urbac_diag *d)
{
  char (*nums)[2][32] = urbac__malloc((n + 1) * sizeof *nums);
  const char **params = urbac__malloc((BATCH * 14 + 1) * sizeof *params);
  urbac_err err = nums && params ? URBAC_OK : URBAC_ENOMEM;
  for (size_t at = 0; !err && at < n; at += BATCH) {
    size_t rows = n - at < BATCH ? n - at : BATCH;
    for (size_t i = 0; i < rows; i++) {
      const urbac_audit_record *x = &r[at + i];
      snprintf(nums[at + i][0], 32, "%llu", (unsigned long long)x->seq);
      snprintf(nums[at + i][1], 32, "%llu", (unsigned long long)x->revision);
      const char *row[] = {tenant, nums[at + i][0], nums[at + i][1], x->at, x->actor, x->command, x->kind, x->object,
                           x->before, x->after, x->prev_hash, x->hash, x->state, x->mac};
      memcpy(&params[i * 14], row, sizeof row);
    }
    char *sql = values_sql("INSERT INTO audit (tenant, seq, revision, at, actor, command, kind, object, before, after,"
                           " prev_hash, hash, state, mac) VALUES", "", rows, 14);
    err = sql ? run(p, sql, (int)(rows * 14), params, NULL, d, "cannot write the audit log") : URBAC_ENOMEM;
    urbac__free(sql);
  }
  urbac__free(nums);
  urbac__free((void *)params);
  return err;
}

static const char *value_or_null(const PGresult *r, int row, int col)
{
  return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

static urbac_err db_audit_each(void *p, const char *tenant, urbac_audit_cb cb, void *ctx, urbac_diag *d)
{
  PGresult *r = NULL;
  const char *params[] = {tenant};
  urbac_err err = run(p, "SELECT seq, revision, at, actor, command, kind, object, before, after, prev_hash,"
                         " hash, state, mac FROM audit WHERE tenant = $1 ORDER BY n", 1, params, &r, d,
                      "cannot read the audit log");
  for (int i = 0; !err && i < PQntuples(r); i++) {
    urbac_audit_record a = {strtoull(PQgetvalue(r, i, 0), NULL, 10), strtoull(PQgetvalue(r, i, 1), NULL, 10),
                            PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), PQgetvalue(r, i, 5),
                            PQgetvalue(r, i, 6), value_or_null(r, i, 7), value_or_null(r, i, 8), PQgetvalue(r, i, 9),
                            PQgetvalue(r, i, 10), value_or_null(r, i, 11), value_or_null(r, i, 12)};
    if (cb(ctx, &a))
      break;
  }
  PQclear(r);
  return err;
}

/* ---------------------------------------------------------------- the change feed */

static urbac_err db_notify(void *p, const char *tenant, urbac_diag *d)
{
  const char *params[] = {tenant};
  return run(p, "SELECT pg_notify('urbac', $1)", 1, params, NULL, d, "cannot notify");
}

/* LISTEN once, then sleep on the connection's socket until a notification or `ms`. */
static urbac_err db_wait(void *p, int ms)
{
  pg *b = p;
  if (!b->listening) {
    if (run(b, "LISTEN urbac", 0, NULL, NULL, NULL, "cannot listen"))
      return URBAC_ESTORE;
    b->listening = true;
  }
  struct pollfd fd = {PQsocket(b->c), POLLIN, 0};
  if (poll(&fd, 1, ms) < 0 || !PQconsumeInput(b->c))
    return URBAC_ESTORE;
  PGnotify *n;
  while ((n = PQnotifies(b->c)) != NULL)
    PQfreemem(n);
  return URBAC_OK;
}

const urbac__store_ops urbac__postgres_ops = {
    "postgres",     accepts,       db_open,    db_close,         db_schema,        db_setup,     db_migrate_step,
    db_begin,       db_commit,     db_rollback, db_tenants,      db_tenant_get,    db_tenant_put,
    db_objects,     db_object_put, db_objects_put, db_audit_put_many, db_object_delete,
    db_audit_each,  db_wait,       db_notify,     NULL, /* damaged pages surface as errors of the reads */
};
