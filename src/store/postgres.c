/*
 * store/postgres.c - the shared store: PostgreSQL through libpq, for several
 * urbac servers serving one set of tenants.
 *
 * Writers serialize on a transaction-level advisory lock taken when the write
 * transaction begins (before the revision is read), the same guarantee SQLite's
 * BEGIN IMMEDIATE gives. Inside a transaction, statements whose answers nothing
 * waits for (BEGIN, the lock, SAVEPOINT, the writes) queue and go with the next
 * statement that is waited for, in one libpq pipeline (one round trip). Each
 * committed write sends NOTIFY urbac with the tenant's id, so a watcher (LISTEN
 * urbac) wakes within milliseconds of a write by any process or server. Audit
 * records keep their insertion order in a serial column, so a reordered record
 * shows.
 *
 * A restart of the server is survived: a statement that fails on a broken
 * connection (PQstatus CONNECTION_BAD) is URBAC_EUNAVAILABLE, and the next call
 * outside a transaction connects again, at most once per back-off delay (100 ms
 * doubling to 5 s, each drawn at random between half and all of it, so a fleet of
 * servers does not reconnect in step); calls in between fail at once. A call that
 * finds the connection broken before it started anything (the server restarted
 * while this one was idle) reconnects and runs once more. Inside a transaction
 * nothing is retried: the transaction is lost, and said so. A new connection runs
 * the session settings again and LISTENs again (the watcher then re-reads the
 * revision: nothing committed meanwhile is missed). Connections time out after 5 s
 * and use TCP keepalives, so a server that vanished is noticed (URL parameters
 * override both). Messages never show the URL's password.
 *
 * Depends on: util, io/objects, libpq.
 */
#include <libpq-fe.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "store/store.h"

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000

#define QUEUE_MAX 64           /* statements held back for the next round trip, at most */
#define QUEUE_BYTES (4u << 20) /* and their parameters' bytes */
#define PREPARED_MAX 96        /* statements kept prepared per connection; the rest are parsed each time */
#define PREPARED_PARAMS 16     /* statements of more parameters (lists of ids) are planned for their values */

typedef struct pg {
  PGconn *c;
  char *url;
  urbac_store_mode mode;
  bool listening;
  bool each_time;       /* run_each_time(): the statement running now is planned for its values */
  bool in_tx;           /* a transaction is open: a broken connection is not made again under it */
  bool batch;           /* urbac_store_batch_begin(): a write is a savepoint inside the batch's transaction */
  bool set_up;          /* db_setup ran: a new connection runs it again */
  bool down;            /* the connection broke and is not made again yet */
  unsigned failures;    /* connection attempts failed in a row */
  uint64_t retry_at_ms; /* monotonic: no attempt before */
  uint64_t reconnects;
  uint64_t round_trips; /* exchanges with the server, for urbac_store_health */
  unsigned seed;        /* the jitter's */
  char why[256];        /* why it is down, password removed */
  /* statements prepared on this connection (named "u0", "u1", ...): parsed once,
   * not on every write (planned each time: session()); forgotten with the connection */
  struct {
    uint64_t hash;
    char *sql;
  } prepared[PREPARED_MAX];
  size_t nprepared;
  /* statements of the open transaction whose answers nobody waits for (BEGIN, the
   * writers' lock, SAVEPOINT, the writes): sent with the next statement that is
   * waited for, in one pipeline (one round trip); a failure among them is that
   * statement's error, named by its own `what` */
  struct queued {
    char *sql;
    int n;
    char **params;
    const char *what; /* static */
    size_t bytes;
  } * queue;
  size_t nqueue, queue_cap, queue_bytes;
  bool queue_fresh;      /* the queue opens the transaction: nothing of it reached the server yet */
  bool savepoint_queued; /* the open write's SAVEPOINT is still in the queue, at `savepoint_at` */
  size_t savepoint_at;
  bool batch_notified; /* a notify of `notify_tenant` is in the open batch (a savepoint released) */
  bool notified;       /* the open savepoint notified */
  char notify_tenant[256];
} pg;

static const char *const steps[] = {
    NULL,
    "CREATE TABLE urbac_schema (version INTEGER NOT NULL, applied_at TEXT NOT NULL);"
    "CREATE TABLE tenants (id TEXT PRIMARY KEY, revision BIGINT NOT NULL, audit_seq BIGINT NOT NULL,"
    " audit_hash TEXT NOT NULL);"
    "CREATE TABLE objects (tenant TEXT NOT NULL REFERENCES tenants(id), kind TEXT NOT NULL, id TEXT NOT NULL,"
    " position BIGINT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (tenant, kind, id));"
    "CREATE TABLE audit (n BIGSERIAL PRIMARY KEY, tenant TEXT NOT NULL REFERENCES tenants(id), seq BIGINT "
    "NOT NULL,"
    " revision BIGINT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL, command TEXT NOT NULL, kind TEXT NOT "
    "NULL,"
    " object TEXT NOT NULL, before TEXT, after TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
    "CREATE INDEX audit_tenant ON audit (tenant, n);",
    /* 2: the state digest and MAC of each record; the tenant's state digest and
     * audit key id (NULL for what was written before) */
    "ALTER TABLE tenants ADD COLUMN state_hash TEXT, ADD COLUMN audit_key TEXT;"
    "ALTER TABLE audit ADD COLUMN state TEXT, ADD COLUMN mac TEXT;",
    /* 3: the reference index (filled by store.c in the same transaction), objects by
     * position (a new object's place), the audit log by revision (the change feed) */
    "CREATE TABLE refs (tenant TEXT NOT NULL REFERENCES tenants(id), from_kind TEXT NOT NULL,"
    " from_id TEXT NOT NULL, to_kind TEXT NOT NULL, to_id TEXT NOT NULL,"
    " PRIMARY KEY (tenant, from_kind, from_id, to_kind, to_id));"
    "CREATE INDEX refs_to ON refs (tenant, to_kind, to_id);"
    "CREATE INDEX objects_position ON objects (tenant, position);"
    "CREATE INDEX audit_revision ON audit (tenant, revision);",
    /* 4: one kind's objects in list order, for pages read after a key (urbac_store_list_page) */
    "CREATE INDEX objects_kind ON objects (tenant, kind, position, id);",
    /* 5: the index by target, the target's id first, as SQLite's (one schema) */
    "DROP INDEX IF EXISTS refs_to; CREATE INDEX refs_to ON refs (to_id, to_kind, tenant);",
};
_Static_assert(sizeof steps / sizeof *steps == URBAC__SCHEMA_VERSION + 1, "a step for every schema version");

static bool accepts(const char *url)
{
  return strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0;
}

static uint64_t now_ms(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static bool broken(const pg *b) { return !b->c || PQstatus(b->c) != CONNECTION_OK; }

/* libpq's message, one line, without the URL's password. */
static void message(const pg *b, const PGresult *r, char *out, size_t size)
{
  const char *msg = r ? PQresultErrorMessage(r) : b->c ? PQerrorMessage(b->c) : "out of memory";
  snprintf(out, size, "%s", msg && *msg ? msg : "unknown error");
  out[strcspn(out, "\n")] = '\0';
  urbac__redact(out, size, b->url);
}

static urbac_err unavailable(const pg *b, urbac_diag *d, const char *what)
{
  uint64_t now = now_ms();
  return urbac__diag_add(d, URBAC_EUNAVAILABLE, "postgres", 0, 0, NULL,
                         "%s: the store is unavailable (%s); reconnecting, next attempt in %llu ms", what,
                         b->why[0] ? b->why : "the connection broke",
                         (unsigned long long)(b->retry_at_ms > now ? b->retry_at_ms - now : 0));
}

/* The connection just broke: say why, and allow a new one at once. */
static void note_break(pg *b, const PGresult *r)
{
  if (b->down)
    return;
  b->down = true;
  b->failures = 0;
  b->retry_at_ms = now_ms();
  b->listening = false;
  message(b, r, b->why, sizeof b->why);
}

static urbac_err fail(pg *b, urbac_diag *d, const char *what, const PGresult *r)
{
  char clean[1024];
  if (b->c && broken(b)) {
    note_break(b, r);
    return unavailable(b, d, what);
  }
  message(b, r, clean, sizeof clean);
  return urbac__diag_add(d, URBAC_ESTORE, "postgres", 0, 0, NULL, "%s: %s", what, clean);
}

/* Connects to `url`, with a connection timeout and keepalives the URL may override. */
static PGconn *dial(const char *url)
{
  static const char *const keys[] = {"connect_timeout",  "keepalives_idle", "keepalives_interval",
                                     "keepalives_count", "dbname",          NULL};
  const char *const values[] = {"5", "30", "10", "3", url, NULL};
  return PQconnectdbParams(keys, values, 1);
}

/* What every connection runs first. */
static bool session(pg *b)
{
  char sql[300];
  snprintf(sql, sizeof sql, "SET client_min_messages = warning;%s%s",
           b->set_up ? " SET synchronous_commit = on;" : "",
           b->mode == URBAC_STORE_READ ? " SET default_transaction_read_only = on;" : "");
  PGresult *r = PQexec(b->c, sql);
  bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  /* bodies and audit records of several KB are compressed as they are stored
   * (TOAST): LZ4 costs PostgreSQL a fraction of pglz's CPU (which was an eighth of
   * its work per write of a 1,000-member group); a server without LZ4 keeps pglz */
  if (ok && b->mode != URBAC_STORE_READ)
    PQclear(PQexec(b->c, "SET default_toast_compression = lz4"));
  return ok;
}

static void forget_prepared(pg *b)
{
  for (size_t i = 0; i < b->nprepared; i++)
    urbac__free(b->prepared[i].sql);
  b->nprepared = 0;
}

/* Forgets the queue from its statement `from` on. */
static void drop_queue_from(pg *b, size_t from)
{
  for (size_t i = from; i < b->nqueue; i++) {
    b->queue_bytes -= b->queue[i].bytes;
    for (int k = 0; k < b->queue[i].n; k++)
      urbac__free(b->queue[i].params[k]);
    urbac__free((void *)b->queue[i].params);
    urbac__free(b->queue[i].sql);
  }
  b->nqueue = from < b->nqueue ? from : b->nqueue;
  b->queue_fresh = b->queue_fresh && b->nqueue;
  b->savepoint_queued = b->savepoint_queued && b->savepoint_at < b->nqueue;
}

static void drop_queue(pg *b) { drop_queue_from(b, 0); }

/* A working connection: the one there is, or a new one when it broke, the back-off
 * allows and no transaction is open; URBAC_EUNAVAILABLE otherwise. */
static urbac_err connected(pg *b, urbac_diag *d, const char *what)
{
  if (!broken(b)) {
    b->down = false;
    return URBAC_OK;
  }
  if (!b->down)
    note_break(b, NULL);
  uint64_t now = now_ms();
  if (b->in_tx || now < b->retry_at_ms)
    return unavailable(b, d, what);
  PQfinish(b->c);
  forget_prepared(b);
  b->c = dial(b->url);
  if (b->c && PQstatus(b->c) == CONNECTION_OK && session(b)) {
    b->down = false;
    b->failures = 0;
    b->why[0] = '\0';
    b->reconnects++;
    return URBAC_OK;
  }
  message(b, NULL, b->why, sizeof b->why);
  unsigned shift = b->failures < 6 ? b->failures : 6;
  uint64_t delay = (uint64_t)BACKOFF_FIRST_MS << shift;
  delay = delay < BACKOFF_MAX_MS ? delay : BACKOFF_MAX_MS;
  b->retry_at_ms = now + delay / 2 + (uint64_t)rand_r(&b->seed) % (delay / 2 + 1);
  b->failures++;
  return unavailable(b, d, what);
}

/* Did `r` fail because the connection is gone, with nothing lost (no transaction
 * open)? Then the statement may run again on a new connection. */
static bool retry(pg *b, PGresult *r)
{
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || b->in_tx || !broken(b) || b->down)
    return false;
  note_break(b, r);
  PQclear(r);
  return connected(b, NULL, "") == URBAC_OK;
}

/* Runs `sql` as a statement prepared on this connection (prepared now, when there
 * is room: one round trip, once); NULL when it is not, and is to run unprepared. */
static PGresult *run_prepared(pg *b, const char *sql, int n, const char *const *params)
{
  char name[16];
  size_t len = strlen(sql), i;
  uint64_t h = urbac__hash(sql, len);
  /* a long IN list (its text changes with its length), or run_each_time() */
  if (n > PREPARED_PARAMS || b->each_time)
    return NULL;
  for (i = 0; i < b->nprepared; i++)
    if (b->prepared[i].hash == h && strcmp(b->prepared[i].sql, sql) == 0)
      break;
  snprintf(name, sizeof name, "u%zu", i);
  if (i == b->nprepared) {
    char *copy = i < PREPARED_MAX && !b->down ? urbac__strndup(sql, len) : NULL;
    PGresult *r = NULL;
    if (copy) {
      b->round_trips++;
      r = PQprepare(b->c, name, sql, n, NULL);
    }
    bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) { /* no room, or not now (a failed transaction): the caller runs it as it always did */
      urbac__free(copy);
      return NULL;
    }
    b->prepared[b->nprepared].hash = h;
    b->prepared[b->nprepared++].sql = copy;
  }
  return PQexecPrepared(b->c, name, n, params, NULL, NULL, 0);
}

/* Sends `sql` in the pipeline, prepared on this connection when there is room
 * (the PQsendPrepare's answer comes first: *prepares counts it); 0 on failure. */
static int send_one(pg *b, const char *sql, int n, const char *const *params, int *prepares)
{
  char name[16];
  size_t len = strlen(sql), i;
  uint64_t h = urbac__hash(sql, len);
  if (n > PREPARED_PARAMS || b->each_time)
    return PQsendQueryParams(b->c, sql, n, NULL, params, NULL, NULL, 0);
  for (i = 0; i < b->nprepared; i++)
    if (b->prepared[i].hash == h && strcmp(b->prepared[i].sql, sql) == 0)
      break;
  snprintf(name, sizeof name, "u%zu", i);
  if (i == b->nprepared) {
    char *copy = i < PREPARED_MAX ? urbac__strndup(sql, len) : NULL;
    if (!copy)
      return PQsendQueryParams(b->c, sql, n, NULL, params, NULL, NULL, 0);
    if (!PQsendPrepare(b->c, name, sql, n, NULL)) {
      urbac__free(copy);
      return 0;
    }
    b->prepared[b->nprepared].hash = h; /* forgotten again if the prepare fails */
    b->prepared[b->nprepared++].sql = copy;
    (*prepares)++;
  }
  return PQsendQueryPrepared(b->c, name, n, params, NULL, NULL, 0);
}

/* Reads the answers of a pipeline of `total` statements (each first its
 * prepares[i] prepares' results, then its own) up to its sync. *out (may be NULL)
 * gets the last statement's result when all went well; *bad the first failure's,
 * *bad_what its statement's `what`; *parsed counts the prepares that succeeded
 * (those before the failure: a prepared statement outlives an aborted pipeline
 * and its transaction). False when the connection failed. */
static bool pipeline_results(pg *b, size_t total, const int *prepares, const char *what, PGresult **out,
                             PGresult **bad, const char **bad_what, size_t *parsed)
{
  bool ok = true;
  size_t got = 0;
  for (size_t i = 0; ok && i < total; i++, got++) {
    const char *w = i < b->nqueue ? b->queue[i].what : what;
    for (int k = 0; ok && k <= prepares[i]; k++) {
      PGresult *r = PQgetResult(b->c);
      ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
      ok = r != NULL;
      if (ok && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && !*bad) {
        *bad = r; /* the first failure; the rest of the pipeline is aborted */
        *bad_what = w;
      } else if (ok && k < prepares[i] && !*bad) {
        ++*parsed;
        PQclear(r);
      } else if (k == prepares[i] && i == total - 1 && out && !*bad) {
        *out = r;
      } else if (r != *bad) {
        PQclear(r);
      }
      while (ok && (r = PQgetResult(b->c)) != NULL) /* the NULL after each statement's results */
        PQclear(r);
    }
  }
  for (PGresult *r; ok && (r = PQgetResult(b->c)) != NULL;) { /* the sync */
    bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
    PQclear(r);
    if (sync)
      break;
  }
  return ok && got == total;
}

/* The queue, then `sql` (NULL: the queue alone), in one pipeline: one round trip.
 * *out gets the last statement's result; *bad the first failure's (or NULL, when
 * the connection failed), *bad_what its statement's `what`. */
static urbac_err pipeline(pg *b, const char *sql, int n, const char *const *params, PGresult **out,
                          PGresult **bad, const char **bad_what, const char *what)
{
  size_t total = b->nqueue + (sql ? 1 : 0);
  int prepares[QUEUE_MAX + 1] = {0};
  size_t first_new = b->nprepared, parsed = 0;
  bool ok = PQenterPipelineMode(b->c);
  b->round_trips++;
  for (size_t i = 0; ok && i < b->nqueue; i++)
    ok = send_one(b, b->queue[i].sql, b->queue[i].n, (const char *const *)b->queue[i].params, &prepares[i]);
  if (ok && sql)
    ok = send_one(b, sql, n, params, &prepares[b->nqueue]);
  ok = ok && PQpipelineSync(b->c);
  *bad = NULL;
  *bad_what = what;
  ok = ok && pipeline_results(b, total, prepares, what, sql ? out : NULL, bad, bad_what, &parsed);
  ok = ok && PQexitPipelineMode(b->c);
  /* the new prepares are in sending order, one a statement at most, and a failure
   * aborts what follows it: those that succeeded are the first `parsed` of them */
  if (*bad || !ok) { /* what a failed pipeline did not prepare is prepared again next time */
    for (size_t i = first_new + parsed; i < b->nprepared; i++)
      urbac__free(b->prepared[i].sql);
    b->nprepared = first_new + parsed;
    if (out && *out) {
      PQclear(*out);
      *out = NULL;
    }
  }
  if (!ok && !broken(b)) { /* out of step with the server: the connection is not used again */
    PQfinish(b->c);
    b->c = NULL;
    forget_prepared(b);
  }
  return *bad || !ok ? URBAC_ESTORE : URBAC_OK;
}

/* The queue and `sql` (NULL: the queue alone) in one round trip; a queue that opens
 * the transaction is sent again once on a new connection when the old one turns
 * out broken, as a lone statement outside a transaction is. */
static urbac_err exchange(pg *b, const char *sql, int n, const char *const *params, PGresult **out,
                          urbac_diag *d, const char *what)
{
  PGresult *bad = NULL;
  const char *bad_what = what;
  bool fresh = b->queue_fresh;
  b->in_tx = !fresh;
  urbac_err err = connected(b, d, what);
  b->in_tx = true;
  if (!err && (err = pipeline(b, sql, n, params, out, &bad, &bad_what, what)) && fresh && broken(b) &&
      !b->down) {
    note_break(b, bad);
    PQclear(bad);
    bad = NULL;
    b->in_tx = false;
    err = connected(b, d, what);
    b->in_tx = true;
    if (!err)
      err = pipeline(b, sql, n, params, out, &bad, &bad_what, what);
  }
  if (err && err != URBAC_EUNAVAILABLE)
    err = fail(b, d, bad_what, bad);
  PQclear(bad);
  drop_queue(b);
  return err;
}

/* Runs a statement with text parameters; *out (may be NULL) gets the result. */
static urbac_err run(pg *b, const char *sql, int n, const char *const *params, PGresult **out, urbac_diag *d,
                     const char *what)
{
  if (b->nqueue)
    return exchange(b, sql, n, params, out, d, what);
  urbac_err err = connected(b, d, what);
  if (err)
    return err;
  b->round_trips++;
  PGresult *r = run_prepared(b, sql, n, params);
  if (!r)
    r = PQexecParams(b->c, sql, n, NULL, params, NULL, NULL, 0);
  if (retry(b, r)) {
    b->round_trips++;
    r = PQexecParams(b->c, sql, n, NULL, params, NULL, NULL, 0);
  } else if (broken(b) && b->down)
    return unavailable(b, d, what); /* r was freed by retry() */
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  err = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? URBAC_OK : fail(b, d, what, r);
  if (out && !err)
    *out = r;
  else
    PQclear(r);
  return err;
}

/* run(), but `sql` is not prepared: PostgreSQL plans it for its values each time.
 * For the statements whose best plan depends on them: a prepared statement's
 * generic plan of the change feed's "revision > $2" scans a third of the audit log
 * in parallel, where the values' plan reads the few rows after the revision. Every
 * other statement keeps its prepared plan: planning each of a write's statements
 * again cost PostgreSQL about a tenth of its CPU per write (bench/results/writes.md). */
static urbac_err run_each_time(pg *b, const char *sql, int n, const char *const *params, PGresult **out,
                               urbac_diag *d, const char *what)
{
  b->each_time = true;
  urbac_err err = run(b, sql, n, params, out, d, what);
  b->each_time = false;
  return err;
}

/* Runs a statement whose answer is not waited for: inside a transaction it waits
 * in the queue for the next statement that is (or for room). */
static urbac_err later(pg *b, const char *sql, int n, const char *const *params, urbac_diag *d,
                       const char *what)
{
  size_t bytes = strlen(sql);
  for (int k = 0; k < n; k++)
    bytes += params[k] ? strlen(params[k]) : 0;
  if (!b->in_tx || bytes > QUEUE_BYTES)
    return run(b, sql, n, params, NULL, d, what);
  if (b->nqueue == QUEUE_MAX || b->queue_bytes + bytes > QUEUE_BYTES) {
    urbac_err err = exchange(b, NULL, 0, NULL, NULL, d, what);
    if (err)
      return err;
  }
  if (URBAC_GROW(b->queue, b->queue_cap, b->nqueue + 1))
    return URBAC_ENOMEM;
  struct queued *q = &b->queue[b->nqueue];
  *q = (struct queued){urbac__strdup(sql), n, n ? urbac__calloc((size_t)n, sizeof(char *)) : NULL, what,
                       bytes};
  bool ok = q->sql && (!n || q->params);
  for (int k = 0; ok && k < n; k++)
    ok = !params[k] || (q->params[k] = urbac__strdup(params[k])) != NULL;
  b->nqueue++; /* freed with the queue, whole or not */
  b->queue_bytes += bytes;
  return ok ? URBAC_OK : URBAC_ENOMEM;
}

/* Runs a script of several statements (no parameters), inside a transaction. */
static urbac_err run_script(pg *b, const char *sql, urbac_diag *d, const char *what)
{
  urbac_err err = b->nqueue ? exchange(b, NULL, 0, NULL, NULL, d, what) : URBAC_OK;
  if (err)
    return err;
  b->round_trips++;
  PGresult *r = PQexec(b->c, sql);
  err = r && PQresultStatus(r) == PGRES_COMMAND_OK ? URBAC_OK : fail(b, d, what, r);
  PQclear(r);
  return err;
}

static void db_close(void *p)
{
  pg *b = p;
  PQfinish(b->c);
  forget_prepared(b);
  drop_queue(b);
  urbac__free(b->queue);
  urbac__free(b->url);
  urbac__free(b);
}

static urbac_err db_open(const char *url, urbac_store_mode mode, void **out, urbac_diag *d)
{
  pg *b = urbac__calloc(1, sizeof *b);
  if (!b || !(b->url = urbac__strdup(url))) {
    urbac__free(b);
    return URBAC_ENOMEM;
  }
  b->mode = mode;
  b->seed = (unsigned)now_ms() ^ (unsigned)(uintptr_t)b;
  b->c = dial(url);
  urbac_err err = URBAC_OK;
  if (!b->c || PQstatus(b->c) != CONNECTION_OK) {
    char why[1024];
    message(b, NULL, why, sizeof why);
    err = b->c ? urbac__diag_add(d, URBAC_ESTORE, "postgres", 0, 0, NULL, "cannot connect to the store: %s",
                                 why)
               : URBAC_ENOMEM;
  } else if (!session(b)) {
    err = fail(b, d, "cannot set up the session", NULL);
  }
  if (err) {
    db_close(b);
    return err;
  }
  *out = b;
  return URBAC_OK;
}

static urbac_err db_schema(void *p, int *version, urbac_diag *d)
{
  pg *b = p;
  PGresult *r = NULL;
  urbac_err err = run(
      b,
      "SELECT count(*), count(*) FILTER (WHERE table_name = 'urbac_schema') FROM information_schema.tables"
      " WHERE table_schema = current_schema()",
      0, NULL, &r, d, "cannot read the schema");
  if (err)
    return err;
  int tables = atoi(PQgetvalue(r, 0, 0)), ours = atoi(PQgetvalue(r, 0, 1));
  PQclear(r);
  *version = tables == 0 ? 0 : ours ? 0 : -1;
  if (ours && !(err = run(b, "SELECT coalesce(max(version), 0) FROM urbac_schema", 0, NULL, &r, d,
                          "cannot read the schema"))) {
    *version = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
  }
  return err;
}

static urbac_err db_setup(void *p, urbac_diag *d)
{
  pg *b = p;
  b->set_up = true; /* again on every new connection */
  /* synchronous_commit on: a commit is flushed before it is acknowledged */
  return run(b, "SET synchronous_commit = on", 0, NULL, NULL, d, "cannot set up the store");
}

static void db_rollback(void *p)
{
  pg *b = p;
  /* what is still queued never reached the server: when that includes the
   * transaction's BEGIN or the write's SAVEPOINT, nothing is to be undone there */
  bool sent = !b->queue_fresh && !(b->batch && b->savepoint_queued);
  drop_queue_from(b, b->batch && b->savepoint_queued ? b->savepoint_at : 0);
  b->round_trips += sent && !broken(b);
  if (sent && !broken(b))
    PQclear(PQexec(b->c, b->batch ? "ROLLBACK TO SAVEPOINT urbac_write; RELEASE SAVEPOINT urbac_write"
                                  : "ROLLBACK"));
  b->notified = false; /* rolled back with it */
  b->in_tx = b->batch && !broken(b);
}

/* Opens a transaction, the writers' lock taken for a write: both queued, sent
 * with the transaction's first read. */
static urbac_err begin_tx(pg *b, bool write, urbac_diag *d)
{
  drop_queue(b);
  b->in_tx = true;
  urbac_err err = later(b, "BEGIN", 0, NULL, d, "cannot start a transaction");
  b->queue_fresh = !err && b->nqueue > 0; /* queued, not sent */
  if (!err && write)                      /* writers take turns, across every process and server */
    err = later(b, "SELECT pg_advisory_xact_lock(7365147322)", 0, NULL, d, "cannot lock the store");
  return err;
}

static urbac_err db_begin(void *p, bool write, urbac_diag *d)
{
  pg *b = p;
  urbac_err err = b->batch ? later(b, "SAVEPOINT urbac_write", 0, NULL, d, "cannot start a transaction")
                           : begin_tx(b, write, d);
  b->savepoint_queued = b->batch && !err && b->nqueue > 0;
  b->savepoint_at = b->nqueue - 1;
  if (err && b->in_tx && !b->batch) /* the caller rolls back only what began */
    db_rollback(b);
  return err;
}

static urbac_err db_commit(void *p, urbac_diag *d)
{
  pg *b = p;
  if (b->batch) { /* a notify in the savepoint stays in the batch once it is released */
    urbac_err err = run(b, "RELEASE SAVEPOINT urbac_write", 0, NULL, NULL, d, "commit failed");
    b->batch_notified = b->batch_notified || (b->notified && !err);
    b->notified = false;
    return err;
  }
  urbac_err err = run(b, "COMMIT", 0, NULL, NULL, d, "commit failed");
  b->in_tx = false;
  return err;
}

static urbac_err db_batch_begin(void *p, urbac_diag *d)
{
  pg *b = p;
  urbac_err err = begin_tx(b, true, d);
  if (err && b->in_tx)
    db_rollback(b);
  b->batch = !err;
  b->batch_notified = b->notified = false;
  return err;
}

static urbac_err db_batch_end(void *p, bool commit, urbac_diag *d)
{
  pg *b = p;
  urbac_err err = URBAC_OK;
  b->batch = false;
  if (commit)
    err = db_commit(b, d);
  if (!commit || err)
    db_rollback(b);
  return err;
}

static urbac_err db_migrate_step(void *p, int version, urbac_diag *d)
{
  char v[16];
  const char *params[] = {v};
  if (version < 1 || version > URBAC__SCHEMA_VERSION)
    return URBAC_EINVAL;
  snprintf(v, sizeof v, "%d", version);
  urbac_err err = run_script(p, steps[version], d, "migration failed");
  if (!err) /* the tables changed: what was prepared against them is prepared again */
    err = run_script(p, "DEALLOCATE ALL", d, "migration failed");
  if (!err)
    forget_prepared(p);
  if (!err)
    err = run(p,
              "INSERT INTO urbac_schema VALUES ($1, to_char(now() AT TIME ZONE 'UTC', "
              "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))",
              1, params, NULL, d, "migration failed");
  return err;
}

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
  urbac_err err = run(p,
                      "SELECT revision, audit_seq, audit_hash, coalesce(state_hash, ''),"
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
  const char *params[] = {tenant,
                          rev,
                          seq,
                          row->audit_hash,
                          row->state_hash[0] ? row->state_hash : NULL,
                          row->audit_key[0] ? row->audit_key : NULL};
  return later(p,
               "INSERT INTO tenants (id, revision, audit_seq, audit_hash, state_hash, audit_key)"
               " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET revision = $2,"
               " audit_seq = $3, audit_hash = $4, state_hash = $5, audit_key = $6",
               6, params, d, "cannot write the tenant");
}

/* The rows of `r` (kind, id, body, position) into *out, and clears `r`; on failure *out is empty. */
static urbac_err read_objects(PGresult *r, const char *tenant, urbac__object **out, size_t *n, urbac_diag *d)
{
  size_t cap = 0;
  urbac_err err = URBAC_OK;
  for (int i = 0; !err && i < PQntuples(r); i++) {
    const char *kind = urbac__object_kind(PQgetvalue(r, i, 0));
    if (!kind) {
      err = urbac__diag_add(d, URBAC_ESTORE, "postgres", 0, 0, NULL,
                            "tenant '%s': a stored object of unknown kind '%s'", tenant, PQgetvalue(r, i, 0));
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

static urbac_err db_objects(void *p, const char *tenant, const char *kind_only, urbac__object **out,
                            size_t *n, urbac_diag *d)
{
  PGresult *r = NULL;
  const char *params[] = {tenant, kind_only};
  *out = NULL;
  *n = 0;
  urbac_err err =
      run(p,
          kind_only ? "SELECT kind, id, body, position FROM objects WHERE tenant = $1 AND kind = $2"
                      " ORDER BY position, kind, id"
                    : "SELECT kind, id, body, position FROM objects WHERE tenant = $1 AND kind <> 'apiKey'"
                      " ORDER BY position, kind, id",
          kind_only ? 2 : 1, params, &r, d, "cannot read the tenant's objects");
  return err ? err : read_objects(r, tenant, out, n, d);
}

/* A page through objects_kind (tenant, kind, position, id): the rows it returns, or, with a
 * needle, the rows it tests until it has `limit`; the name is read from the body by the server
 * (->>), not handed up row by row. lower() folds as the database's locale does (beyond ASCII
 * too). */
static urbac_err db_objects_page(void *p, const char *tenant, const char *kind, int64_t after_position,
                                 const char *after_id, const char *needle, size_t limit, urbac__object **out,
                                 size_t *n, urbac_diag *d)
{
  PGresult *r = NULL;
  char pos[32], lim[32];
  snprintf(pos, sizeof pos, "%lld", (long long)after_position);
  snprintf(lim, sizeof lim, "%zu", limit);
  const char *params[] = {tenant, kind, pos, after_id, lim, needle};
  *out = NULL;
  *n = 0;
  urbac_err err = run_each_time(
      p,
      needle ? "SELECT kind, id, body, position FROM objects"
               " WHERE tenant = $1 AND kind = $2 AND (position, id) > ($3::bigint, $4)"
               " AND (strpos(lower(id), $6) > 0 OR strpos(lower(body::json ->> 'name'), $6) > 0)"
               " ORDER BY position, id LIMIT $5::bigint"
             : "SELECT kind, id, body, position FROM objects"
               " WHERE tenant = $1 AND kind = $2 AND (position, id) > ($3::bigint, $4)"
               " ORDER BY position, id LIMIT $5::bigint",
      needle ? 6 : 5, params, &r, d, "cannot read a page of the tenant's objects");
  return err ? err : read_objects(r, tenant, out, n, d);
}

static urbac_err db_object_put(void *p, const char *tenant, const urbac__object *o, int64_t position,
                               urbac_diag *d)
{
  char pos[32];
  snprintf(pos, sizeof pos, "%lld", (long long)position);
  const char *params[] = {tenant, o->kind, o->id, pos, o->body};
  return later(p,
               "INSERT INTO objects VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant, kind, id) DO UPDATE SET"
               " position = $4, body = $5",
               5, params, d, "cannot write an object");
}

static urbac_err db_object_delete(void *p, const char *tenant, const char *kind, const char *id,
                                  urbac_diag *d)
{
  const char *params[] = {tenant, kind, id};
  return later(p, "DELETE FROM objects WHERE tenant = $1 AND kind = $2 AND id = $3", 3, params, d,
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

static urbac_err db_objects_put(void *p, const char *tenant, const urbac__object *const *o, size_t n,
                                urbac_diag *d)
{
  char(*pos)[32] = urbac__malloc((n + 1) * sizeof *pos);
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
    char *sql = values_sql("INSERT INTO objects VALUES",
                           " ON CONFLICT (tenant, kind, id) DO UPDATE SET"
                           " position = EXCLUDED.position, body = EXCLUDED.body",
                           rows, 5);
    err = sql ? later(p, sql, (int)(rows * 5), params, d, "cannot write the objects") : URBAC_ENOMEM;
    urbac__free(sql);
  }
  urbac__free(pos);
  urbac__free((void *)params);
  return err;
}

static urbac_err db_audit_put_many(void *p, const char *tenant, const urbac_audit_record *r, size_t n,
                                   urbac_diag *d)
{
  char(*nums)[2][32] = urbac__malloc((n + 1) * sizeof *nums);
  const char **params = urbac__malloc((BATCH * 14 + 1) * sizeof *params);
  urbac_err err = nums && params ? URBAC_OK : URBAC_ENOMEM;
  for (size_t at = 0; !err && at < n; at += BATCH) {
    size_t rows = n - at < BATCH ? n - at : BATCH;
    for (size_t i = 0; i < rows; i++) {
      const urbac_audit_record *x = &r[at + i];
      snprintf(nums[at + i][0], 32, "%llu", (unsigned long long)x->seq);
      snprintf(nums[at + i][1], 32, "%llu", (unsigned long long)x->revision);
      const char *row[] = {tenant,       nums[at + i][0], nums[at + i][1], x->at,     x->actor,
                           x->command,   x->kind,         x->object,       x->before, x->after,
                           x->prev_hash, x->hash,         x->state,        x->mac};
      memcpy(&params[i * 14], row, sizeof row);
    }
    char *sql = values_sql(
        "INSERT INTO audit (tenant, seq, revision, at, actor, command, kind, object, before, after,"
        " prev_hash, hash, state, mac) VALUES",
        "", rows, 14);
    err = sql ? later(p, sql, (int)(rows * 14), params, d, "cannot write the audit log") : URBAC_ENOMEM;
    urbac__free(sql);
  }
  urbac__free(nums);
  urbac__free((void *)params);
  return err;
}

/* ---------------------------------------------------------------- one object, the reference index */

static urbac_err db_object_get(void *p, const char *tenant, const char *kind, const char *id, char **body,
                               int64_t *position, urbac_diag *d)
{
  PGresult *r = NULL;
  const char *params[] = {tenant, kind, id};
  *body = NULL;
  urbac_err err = run(p, "SELECT body, position FROM objects WHERE tenant = $1 AND kind = $2 AND id = $3", 3,
                      params, &r, d, "cannot read an object");
  if (!err && PQntuples(r) == 1) {
    *position = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    if (!(*body = urbac__strdup(PQgetvalue(r, 0, 0))))
      err = URBAC_ENOMEM;
  }
  PQclear(r);
  return err;
}

static urbac_err db_max_position(void *p, const char *tenant, int64_t *position, urbac_diag *d)
{
  PGresult *r = NULL;
  const char *params[] = {tenant};
  urbac_err err = run(p, "SELECT coalesce(max(position), -1) FROM objects WHERE tenant = $1", 1, params, &r,
                      d, "cannot read the objects' positions");
  *position = err ? -1 : strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  return err;
}

/* "$3, $4, ..." for `n` parameters from `first`, inside `head` ... `tail`. */
static char *in_list_sql(const char *head, const char *tail, size_t first, size_t n)
{
  urbac__buf b = {0};
  urbac__buf_puts(&b, head);
  for (size_t i = 0; i < n; i++)
    urbac__buf_printf(&b, "%s$%zu", i ? ", " : "", first + i);
  urbac__buf_puts(&b, tail);
  return urbac__buf_take(&b, NULL);
}

/* One round trip per BATCH ids. */
static urbac_err db_exist(void *p, const char *tenant, const char *kind, const char *const *ids, size_t n,
                          bool *found, urbac_diag *d)
{
  const char **params = urbac__malloc((BATCH + 3) * sizeof *params);
  urbac_err err = params ? URBAC_OK : URBAC_ENOMEM;
  for (size_t at = 0; !err && at < n; at += BATCH) {
    size_t rows = n - at < BATCH ? n - at : BATCH;
    PGresult *r = NULL;
    params[0] = tenant;
    params[1] = kind;
    memcpy(&params[2], &ids[at], rows * sizeof *params);
    char *sql =
        in_list_sql("SELECT id FROM objects WHERE tenant = $1 AND kind = $2 AND id IN (", ")", 3, rows);
    err = sql ? run(p, sql, (int)rows + 2, params, &r, d, "cannot look up objects") : URBAC_ENOMEM;
    urbac__free(sql);
    for (size_t i = 0; !err && i < rows; i++) {
      found[at + i] = false;
      for (int k = 0; k < PQntuples(r) && !found[at + i]; k++)
        found[at + i] = strcmp(PQgetvalue(r, k, 0), ids[at + i]) == 0;
    }
    PQclear(r);
  }
  urbac__free((void *)params);
  return err;
}

/* Every row's two columns into `out`, in pairs. */
static urbac_err pairs(const PGresult *r, urbac__strs *out)
{
  urbac_err err = URBAC_OK;
  for (int i = 0; !err && i < PQntuples(r); i++)
    for (int c = 0; !err && c < 2; c++)
      err = urbac__strs_add(out, PQgetvalue(r, i, c), strlen(PQgetvalue(r, i, c)));
  return err;
}

static urbac_err db_refs_from(void *p, const char *tenant, const char *kind, const char *id,
                              const char *to_kind, urbac__strs *out, urbac_diag *d)
{
  PGresult *r = NULL;
  const char *params[] = {tenant, kind, id, to_kind};
  urbac_err err = run(p,
                      to_kind ? "SELECT to_kind, to_id FROM refs WHERE tenant = $1 AND from_kind = $2"
                                " AND from_id = $3 AND to_kind = $4"
                              : "SELECT to_kind, to_id FROM refs WHERE tenant = $1 AND from_kind = $2"
                                " AND from_id = $3",
                      to_kind ? 4 : 3, params, &r, d, "cannot read the reference index");
  if (!err)
    err = pairs(r, out);
  PQclear(r);
  return err;
}

static urbac_err db_refs_to(void *p, const char *tenant, const char *kind, const char *id, size_t limit,
                            urbac__strs *out, urbac_diag *d)
{
  PGresult *r = NULL;
  char lim[32];
  snprintf(lim, sizeof lim, "%zu", limit);
  const char *params[] = {tenant, kind, id, lim};
  urbac_err err = run(p,
                      "SELECT from_kind, from_id FROM refs WHERE tenant = $1 AND to_kind = $2 AND to_id = $3"
                      " ORDER BY from_kind, from_id LIMIT $4",
                      4, params, &r, d, "cannot read the reference index");
  if (!err)
    err = pairs(r, out);
  PQclear(r);
  return err;
}

#define ARRAY_ROWS 10000 /* index rows per statement: four text arrays, one round trip */

/* `n` strings (the field at `offset` of each row) as a PostgreSQL array literal into `b`. */
static void array_literal(urbac__buf *b, const urbac__ref_row *rows, size_t n, size_t offset)
{
  urbac__buf_puts(b, "{");
  for (size_t i = 0; i < n; i++) {
    const char *v = *(const char *const *)((const char *)&rows[i] + offset);
    urbac__buf_puts(b, i ? ",\"" : "\"");
    for (const char *c = v; *c; c++) {
      if (*c == '"' || *c == '\\')
        urbac__buf_add(b, "\\", 1);
      urbac__buf_add(b, c, 1);
    }
    urbac__buf_puts(b, "\"");
  }
  urbac__buf_puts(b, "}");
}

/* Runs `sql` ($1 the tenant, $2..$5 the rows' columns as arrays) for the rows, ARRAY_ROWS at a time:
 * one statement of constant text (prepared once) however many rows, no planner on a long IN list. */
static urbac_err refs_arrays(pg *b, const char *sql, const char *tenant, const urbac__ref_row *rows, size_t n,
                             urbac_diag *d)
{
  static const size_t cols[] = {offsetof(urbac__ref_row, from_kind), offsetof(urbac__ref_row, from_id),
                                offsetof(urbac__ref_row, to_kind), offsetof(urbac__ref_row, to_id)};
  urbac_err err = URBAC_OK;
  for (size_t at = 0; !err && at < n; at += ARRAY_ROWS) {
    size_t k = n - at < ARRAY_ROWS ? n - at : ARRAY_ROWS;
    urbac__buf a[4] = {{0}};
    const char *params[5] = {tenant};
    for (int c = 0; c < 4; c++) {
      array_literal(&a[c], rows + at, k, cols[c]);
      params[c + 1] = a[c].failed ? NULL : a[c].s;
      err = params[c + 1] ? err : URBAC_ENOMEM;
    }
    if (!err)
      err = later(b, sql, 5, params, d, "cannot write the reference index");
    for (int c = 0; c < 4; c++)
      urbac__buf_free(&a[c]);
  }
  return err;
}

static urbac_err db_refs_put(void *p, const char *tenant, const urbac__ref_row *rows, size_t n, urbac_diag *d)
{
  return refs_arrays(
      p,
      "INSERT INTO refs SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])"
      " ON CONFLICT DO NOTHING",
      tenant, rows, n, d);
}

static urbac_err db_refs_remove(void *p, const char *tenant, const urbac__ref_row *rows, size_t n,
                                urbac_diag *d)
{
  return refs_arrays(p,
                     "DELETE FROM refs r USING unnest($2::text[], $3::text[], $4::text[], $5::text[])"
                     " AS x(fk, fi, tk, ti) WHERE r.tenant = $1 AND r.from_kind = x.fk AND r.from_id = x.fi"
                     " AND r.to_kind = x.tk AND r.to_id = x.ti",
                     tenant, rows, n, d);
}

static const char *value_or_null(const PGresult *r, int row, int col)
{
  return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

#define AUDIT_COLUMNS                                                                                        \
  "seq, revision, at, actor, command, kind, object, before, after, prev_hash, hash, state, mac"

/* Calls `cb` with each record of `r` (AUDIT_COLUMNS); frees `r`. */
static void audit_rows(PGresult *r, urbac_audit_cb cb, void *ctx);

static urbac_err db_audit_each(void *p, const char *tenant, urbac_audit_cb cb, void *ctx, urbac_diag *d)
{
  PGresult *r = NULL;
  const char *params[] = {tenant};
  urbac_err err = run(p, "SELECT " AUDIT_COLUMNS " FROM audit WHERE tenant = $1 ORDER BY n", 1, params, &r, d,
                      "cannot read the audit log");
  if (!err)
    audit_rows(r, cb, ctx);
  return err;
}

/* Through the (tenant, revision) index; API key records are not changes of the tenant. */
static urbac_err db_changes(void *p, const char *tenant, uint64_t after, size_t limit, urbac_audit_cb cb,
                            void *ctx, urbac_diag *d)
{
  PGresult *r = NULL;
  char rev[32], lim[32];
  snprintf(rev, sizeof rev, "%llu", (unsigned long long)after);
  snprintf(lim, sizeof lim, "%zu", limit);
  const char *params[] = {tenant, rev, lim};
  urbac_err err = run_each_time(p,
                                "SELECT " AUDIT_COLUMNS " FROM audit WHERE tenant = $1 AND revision > $2"
                                " AND kind <> 'apiKey' ORDER BY revision, n LIMIT $3",
                                3, params, &r, d, "cannot read the change log");
  if (!err)
    audit_rows(r, cb, ctx);
  return err;
}

static void audit_rows(PGresult *r, urbac_audit_cb cb, void *ctx)
{
  for (int i = 0; i < PQntuples(r); i++) {
    urbac_audit_record a = {strtoull(PQgetvalue(r, i, 0), NULL, 10),
                            strtoull(PQgetvalue(r, i, 1), NULL, 10),
                            PQgetvalue(r, i, 2),
                            PQgetvalue(r, i, 3),
                            PQgetvalue(r, i, 4),
                            PQgetvalue(r, i, 5),
                            PQgetvalue(r, i, 6),
                            value_or_null(r, i, 7),
                            value_or_null(r, i, 8),
                            PQgetvalue(r, i, 9),
                            PQgetvalue(r, i, 10),
                            value_or_null(r, i, 11),
                            value_or_null(r, i, 12)};
    if (cb(ctx, &a))
      break;
  }
  PQclear(r);
}

/* ---------------------------------------------------------------- the change feed */

static urbac_err db_notify(void *p, const char *tenant, urbac_diag *d)
{
  pg *b = p;
  const char *params[] = {tenant};
  /* once per batch: PostgreSQL folds the same notify of one commit anyway */
  if (b->batch && b->batch_notified && strcmp(b->notify_tenant, tenant) == 0)
    return URBAC_OK;
  urbac_err err = later(p, "SELECT pg_notify('urbac', $1)", 1, params, d, "cannot notify");
  b->notified = b->batch && !err && strlen(tenant) < sizeof b->notify_tenant;
  if (b->notified) {
    strcpy(b->notify_tenant, tenant);
    b->batch_notified = false; /* until this savepoint is released */
  }
  return err;
}

/* Sleeps `ms`, or till the next reconnection attempt when that is sooner. */
static void nap(const pg *b, int ms)
{
  uint64_t now = now_ms(), until = now + (uint64_t)ms;
  if (b->retry_at_ms > now && b->retry_at_ms < until)
    until = b->retry_at_ms;
  struct timespec t = {(time_t)((until - now) / 1000), (long)((until - now) % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

/* Takes every notification libpq holds; true when there was one. */
static bool drain_notifies(pg *b)
{
  PGnotify *n;
  bool any = false;
  while ((n = PQnotifies(b->c)) != NULL) {
    PQfreemem(n);
    any = true;
  }
  return any;
}

/* LISTEN (again, on a new connection: then back at once, so the caller reads the
 * revision and misses nothing), then sleep on the socket until a notification or
 * `ms`. A notification libpq already read (it came with the answer to the
 * caller's last query, the revision read among them) ends the wait at once: it
 * is no longer on the socket, and polling would sleep the whole `ms` on a write
 * that committed while that query ran. While the store is down: sleep, never spin. */
static urbac_err db_wait(void *p, int ms)
{
  pg *b = p;
  if (connected(b, NULL, "") != URBAC_OK) {
    nap(b, ms);
    return URBAC_EUNAVAILABLE;
  }
  if (!b->listening) {
    urbac_err err = run(b, "LISTEN urbac", 0, NULL, NULL, NULL, "cannot listen");
    if (err == URBAC_EUNAVAILABLE)
      nap(b, ms);
    b->listening = !err;
    return err;
  }
  if (drain_notifies(b))
    return URBAC_OK;
  struct pollfd fd = {PQsocket(b->c), POLLIN, 0};
  if (poll(&fd, 1, ms) < 0)
    return URBAC_ESTORE;
  if (!PQconsumeInput(b->c) || broken(b)) {
    note_break(b, NULL);
    return URBAC_EUNAVAILABLE;
  }
  drain_notifies(b);
  return URBAC_OK;
}

static void db_health(const void *p, urbac_store_health *h)
{
  const pg *b = p;
  *h = (urbac_store_health){!b->down, b->reconnects, ""};
  snprintf(h->why, sizeof h->why, "%s", b->down ? b->why : "");
}

uint64_t urbac__postgres_round_trips(const void *p) { return ((const pg *)p)->round_trips; }

const urbac__store_ops urbac__postgres_ops =
    URBAC__STORE_OPS("postgres", NULL /* damaged pages surface as errors of the reads */,
                     NULL /* a transaction writes each row once already */);
