/*
 * store/sqlite.c - the embedded store: one SQLite file.
 *
 * Durability settings (docs/operations.md): WAL journal with synchronous=EXTRA,
 * so a commit is on disk before it is acknowledged; foreign keys on; a 5 s busy
 * timeout so concurrent writers wait instead of failing. Write transactions
 * start with BEGIN IMMEDIATE: the write lock is taken before the revision is
 * read, so two writers serialize and the second sees the first's revision.
 * A write of many rows (a whole tenant applied: 20,000 rows or more) raises the
 * page cache for its transaction, inserts its rows many to a statement and
 * builds the reference index by target after its rows (bulk(), insert_rows()).
 * When the store is told beforehand (db_bulk_next()) and no other connection has
 * the file open, that transaction goes through a rollback journal instead of
 * the WAL, so its pages are written once, not twice.
 *
 * A store is named by a file path, sqlite:///ABSOLUTE/PATH, sqlite:RELATIVE/PATH
 * or a SQLite file: URI. Only URBAC_STORE_CREATE creates a missing file. A store
 * opened for reading is opened read-only (SQLITE_OPEN_READONLY), so a file the
 * caller may not write can be read. In WAL mode a reader needs the -wal and -shm
 * files beside the database; when the folder does not let this user create them
 * and no -wal file holds changes not yet in the database (a clean close leaves
 * none), the file is read as immutable (docs/operations.md says what that means).
 *
 * Depends on: util, io/objects, SQLite.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "store/store.h"

/* The connection's prepared statements: the store's SQL is a fixed set of string
 * literals (about thirty), each compiled once per connection, not on every call. */
#define STMT_CACHE 48

typedef struct cached_stmt {
  const char *sql; /* the literal, known by its address (every caller passes a literal) */
  sqlite3_stmt *st;
  bool in_use; /* handed out and not given back: a nested use of the same SQL gets its own */
} cached_stmt;

typedef struct db {
  sqlite3 *h;
  char *path;
  urbac_store_mode mode;
  bool batch; /* urbac_store_batch_begin(): a write is a savepoint inside the batch's transaction */
  bool bulk;  /* the page cache is raised for this transaction (bulk()) */
  bool rollback_journal; /* out of WAL mode until this transaction ends (db_bulk_next()) */
  bool want_wal;         /* the file could not be put in WAL mode (another's bulk write): tried again */
  cached_stmt stmts[STMT_CACHE];
  size_t nstmts;
} db;

/* The reference index by target, the target's id first: a bulk write builds it by
 * sorting its rows (db_refs_put()), and SQLite's sorter decides most comparisons by
 * a key's first column alone, where the tenant first (the same in every row) had it
 * unpack every key: 279,439 rows (a tenant of 100,000 users) sorted in 0.47 s
 * instead of 0.67. Lookups name all three columns. */
#define REFS_TO "CREATE INDEX refs_to ON refs (to_id, to_kind, tenant);"

/* One SQL script per schema version; step N takes version N-1 to N. */
static const char *const steps[] = {
    NULL,
    "CREATE TABLE urbac_schema (version INTEGER NOT NULL, applied_at TEXT NOT NULL);"
    "CREATE TABLE tenants (id TEXT PRIMARY KEY, revision INTEGER NOT NULL, audit_seq INTEGER NOT NULL,"
    " audit_hash TEXT NOT NULL);"
    "CREATE TABLE objects (tenant TEXT NOT NULL REFERENCES tenants(id), kind TEXT NOT NULL, id TEXT NOT NULL,"
    " position INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (tenant, kind, id));"
    "CREATE TABLE audit (tenant TEXT NOT NULL REFERENCES tenants(id), seq INTEGER NOT NULL,"
    " revision INTEGER NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL, command TEXT NOT NULL, kind TEXT NOT "
    "NULL,"
    " object TEXT NOT NULL, before TEXT, after TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,"
    " PRIMARY KEY (tenant, seq));",
    /* 2: the state digest and MAC of each record; the tenant's state digest and
     * audit key id (NULL for what was written before) */
    "ALTER TABLE tenants ADD COLUMN state_hash TEXT; ALTER TABLE tenants ADD COLUMN audit_key TEXT;"
    "ALTER TABLE audit ADD COLUMN state TEXT; ALTER TABLE audit ADD COLUMN mac TEXT;",
    /* 3: the reference index (filled by store.c in the same transaction), objects by
     * position (a new object's place), the audit log by revision (the change feed) */
    "CREATE TABLE refs (tenant TEXT NOT NULL REFERENCES tenants(id), from_kind TEXT NOT NULL,"
    " from_id TEXT NOT NULL, to_kind TEXT NOT NULL, to_id TEXT NOT NULL,"
    " PRIMARY KEY (tenant, from_kind, from_id, to_kind, to_id)) WITHOUT ROWID;"
    "CREATE INDEX refs_to ON refs (tenant, to_kind, to_id);"
    "CREATE INDEX objects_position ON objects (tenant, position);"
    "CREATE INDEX audit_revision ON audit (tenant, revision);",
    /* 4: one kind's objects in list order, for pages read after a key (urbac_store_list_page) */
    "CREATE INDEX objects_kind ON objects (tenant, kind, position, id);",
    /* 5: the index by target, its most telling column first (REFS_TO) */
    "DROP INDEX IF EXISTS refs_to;" REFS_TO,
};
_Static_assert(sizeof steps / sizeof *steps == URBAC__SCHEMA_VERSION + 1, "a step for every schema version");

static urbac_err fail(db *b, urbac_diag *d, const char *what)
{
  return urbac__diag_add(d, URBAC_ESTORE, b->path, 0, 0, NULL, "%s: %s", what, sqlite3_errmsg(b->h));
}

/* Paths, sqlite: URLs and file: URIs; not another scheme's URL. */
static bool accepts(const char *url)
{
  return strncmp(url, "sqlite:", 7) == 0 || strncmp(url, "file:", 5) == 0 ||
         (strstr(url, "://") == NULL && strncmp(url, "postgres:", 9) != 0 &&
          strncmp(url, "postgresql:", 11) != 0);
}

/* Finalizes every cached statement (before the connection closes: SQLite will not
 * close one with statements left). */
static void stmts_free(db *b)
{
  for (size_t i = 0; i < b->nstmts; i++)
    sqlite3_finalize(b->stmts[i].st);
  b->nstmts = 0;
}

static void db_close(void *p)
{
  db *b = p;
  stmts_free(b);
  sqlite3_close(b->h);
  urbac__free(b->path);
  urbac__free(b);
}

static urbac_err exec(db *b, const char *sql, urbac_diag *d, const char *what)
{
  return sqlite3_exec(b->h, sql, NULL, NULL, NULL) == SQLITE_OK ? URBAC_OK : fail(b, d, what);
}

/* A write of many rows (a whole tenant applied) gets a page cache big enough for
 * the transaction's pages: with SQLite's default (2 MiB), the pages of the indexes
 * filled in random order (objects by id, refs by target) are spilled to the WAL
 * and read back again and again, several writes of each page instead of one at
 * commit. The cache is a limit, filled only as pages are used, and goes back to
 * the default when the transaction ends (end_bulk()). */
#define BULK_ROWS 20000
#define BUSY_MS 5000                            /* how long a statement waits for another connection's lock */
#define BULK_CACHE "PRAGMA cache_size=-524288;" /* KiB: 512 MiB, about 3.5 times the benchmark's store */
#define PLAIN_CACHE "PRAGMA cache_size=-2000;"  /* SQLite's default */

static urbac_err bulk(db *b, size_t rows, urbac_diag *d)
{
  if (rows < BULK_ROWS || b->bulk)
    return URBAC_OK;
  b->bulk = true;
  return exec(b, BULK_CACHE, d, "cannot set up a bulk write");
}

/* Puts the file in WAL mode, as every handle that writes wants it; `wait`: up to
 * the busy timeout, else not at all. A bulk write (db_bulk_next()) holds the file
 * in rollback mode while it runs and puts it back when it ends, so while one
 * runs the change is left for this handle's next write transaction to try again
 * (want_wal). Meanwhile every connection follows the file's mode, and a commit
 * in rollback mode is as durable (synchronous=EXTRA syncs the folder once the
 * journal is deleted, the commit's last step). */
static urbac_err wal(db *b, bool wait, urbac_diag *d)
{
  if (!wait)
    sqlite3_busy_timeout(b->h, 0);
  int rc = sqlite3_exec(b->h, "PRAGMA journal_mode=WAL;", NULL, NULL, NULL);
  if (!wait)
    sqlite3_busy_timeout(b->h, BUSY_MS);
  b->want_wal = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
  return rc == SQLITE_OK || b->want_wal || !d ? URBAC_OK : fail(b, d, "cannot set up the store");
}

/* The cache back to the default (its pages freed), and the file back in WAL mode,
 * once a bulk write's transaction has ended. The mode changes only outside a
 * transaction: after a commit that failed, the rollback that follows changes it.
 * Refused (another connection busy at that moment), it is made by the next write
 * of a handle that wants it, or the next handle opened for writing (wal()). */
static void end_bulk(db *b)
{
  if (b->bulk)
    sqlite3_exec(b->h, PLAIN_CACHE, NULL, NULL, NULL);
  b->bulk = false;
  if (b->rollback_journal && sqlite3_get_autocommit(b->h)) {
    b->rollback_journal = false;
    wal(b, true, NULL); /* refused: the next write transaction, or the next handle, tries again */
  }
}

static int first_column(void *out, int n, char **values, char **names)
{
  (void)names;
  if (n > 0 && values[0])
    snprintf(out, 16, "%s", values[0]);
  return 0;
}

/* The next write transaction writes many rows (a whole tenant applied): through a
 * rollback journal, which writes each page into the file once, at commit, instead
 * of the WAL, which takes each page and copies it into the file at the checkpoint
 * (a new tenant of 100,000 users: 146 MB written twice, 0.9 s of 7). SQLite leaves
 * WAL mode only while no other connection has the file open, so this is tried
 * without waiting; when another has it (a server), the write goes through the WAL
 * as any other. A process that opens the store meanwhile opens at once (the WAL
 * mode its handle wants is left for later: wal()) and waits for the transaction's
 * lock to write, as with WAL. */
static urbac_err db_bulk_next(void *p, urbac_diag *d)
{
  db *b = p;
  char mode[16] = "";
  if (b->batch || b->mode == URBAC_STORE_READ || !sqlite3_get_autocommit(b->h))
    return URBAC_OK;
  sqlite3_busy_timeout(b->h, 0);
  int rc = sqlite3_exec(b->h, "PRAGMA journal_mode=DELETE;", first_column, mode, NULL);
  sqlite3_busy_timeout(b->h, BUSY_MS);
  (void)d; /* any refusal (another connection has the file open): the write goes through the WAL */
  b->rollback_journal = rc == SQLITE_OK && strcmp(mode, "delete") == 0;
  return URBAC_OK;
}

/* The file `url` names (a copy), or the file: URI itself; NULL (with the reason) for a malformed
 * sqlite: URL. */
static char *url_path(const char *url, urbac_diag *d)
{
  const char *path = url;
  if (strncmp(url, "sqlite://", 9) == 0)
    path = url[9] == '/' ? url + 9 : NULL; /* sqlite:///abs/path: no host */
  else if (strncmp(url, "sqlite:", 7) == 0)
    path = url + 7; /* sqlite:relative/path, sqlite:/abs/path */
  if (!path || !*path) {
    urbac__diag_add(d, URBAC_EINVAL, url, 0, 0, NULL,
                    "a SQLite store URL is sqlite:///ABSOLUTE/PATH or sqlite:RELATIVE/PATH (with no host)");
    return NULL;
  }
  char *copy = urbac__strdup(path);
  if (!copy)
    urbac__diag_add(d, URBAC_ENOMEM, url, 0, 0, NULL, "out of memory");
  return copy;
}

/* file:PATH?immutable=1, PATH percent-encoded. */
static char *immutable_uri(const char *path)
{
  urbac__buf u = {0};
  urbac__buf_puts(&u, "file:");
  for (const unsigned char *c = (const unsigned char *)path; *c; c++)
    if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
        strchr("/._~-", *c))
      urbac__buf_printf(&u, "%c", *c);
    else
      urbac__buf_printf(&u, "%%%02X", *c);
  urbac__buf_puts(&u, "?immutable=1");
  return urbac__buf_take(&u, NULL);
}

/* Are there changes beside the file not yet in it: a -wal file with something in
 * it, or a rollback journal? */
static bool pending(const char *path)
{
  char side[4200];
  struct stat st;
  snprintf(side, sizeof side, "%s-wal", path);
  if (stat(side, &st) == 0 && st.st_size > 0)
    return true;
  snprintf(side, sizeof side, "%s-journal", path);
  return stat(side, &st) == 0;
}

/* Opens `target` with `flags` and reads it once: a file that is not a database, or a WAL
 * file this user cannot open, fails here. The connection takes no lock of its own
 * (SQLITE_OPEN_NOMUTEX, SQLite's multi-thread mode): a store handle is used by
 * one thread at a time (urbac/store.h), and a lock taken and given back on every
 * call (each column of each row read) was a twentieth of a membership write. */
static int first_read(db *b, const char *target, int flags)
{
  stmts_free(b);
  sqlite3_close(b->h);
  b->h = NULL;
  int rc = sqlite3_open_v2(target, &b->h, flags | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(b->h, BUSY_MS);
    rc = sqlite3_exec(b->h, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
  }
  return rc;
}

/* Reading only: read-only, or, when the WAL files cannot be made here and none
 * holds pending changes, immutable. */
static int open_read(db *b)
{
  int rc = first_read(b, b->path, SQLITE_OPEN_READONLY);
  /* a bulk write a crash cut short left its rollback journal (db_bulk_next()), which
   * the first connection that may write the file rolls back: this one, if it may */
  if ((rc & 0xff) == SQLITE_READONLY && sqlite3_extended_errcode(b->h) == SQLITE_READONLY_ROLLBACK &&
      first_read(b, b->path, SQLITE_OPEN_READWRITE) == SQLITE_OK)
    rc = first_read(b, b->path, SQLITE_OPEN_READONLY);
  int primary = rc & 0xff;
  if ((primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY) && strncmp(b->path, "file:", 5) != 0 &&
      !pending(b->path)) {
    char *uri = immutable_uri(b->path);
    rc = uri ? first_read(b, uri, SQLITE_OPEN_READONLY) : SQLITE_NOMEM;
    urbac__free(uri);
  }
  return rc;
}

static urbac_err db_open(const char *url, urbac_store_mode mode, void **out, urbac_diag *d)
{
  db *b = urbac__calloc(1, sizeof *b);
  if (!b)
    return URBAC_ENOMEM;
  urbac_err err = URBAC_OK;
  struct stat st;
  b->mode = mode;
  if (!(b->path = url_path(url, d)))
    err = URBAC_EINVAL;
  else if (mode != URBAC_STORE_CREATE && strncmp(b->path, "file:", 5) != 0 && stat(b->path, &st) != 0)
    err =
        urbac__diag_add(d, errno == ENOENT ? URBAC_ENOTFOUND : URBAC_ESTORE, b->path, 0, 0, NULL,
                        errno == ENOENT ? "no store here (nothing was created): run 'urbac init' to make one"
                                        : "cannot open the store: %s",
                        strerror(errno));
  int rc = SQLITE_OK;
  if (!err && mode == URBAC_STORE_READ)
    rc = open_read(b);
  else if (!err)
    rc =
        first_read(b, b->path, SQLITE_OPEN_READWRITE | (mode == URBAC_STORE_CREATE ? SQLITE_OPEN_CREATE : 0));
  if (!err && rc != SQLITE_OK)
    err = (rc & 0xff) == SQLITE_NOTADB ? urbac__diag_add(d, URBAC_ESCHEMA, b->path, 0, 0, NULL,
                                                         "not a urbac store: %s", sqlite3_errmsg(b->h))
                                       : fail(b, d, "cannot open the store");
  if (err) {
    db_close(b);
    return err;
  }
  *out = b;
  return URBAC_OK;
}

/* ---------------------------------------------------------------- statements */

/* The statement for `sql` (a string literal, which the cache keeps by address: never a
 * buffer; one statement), ready to bind and step;
 * on failure adds the error. The first use on a connection compiles it and keeps it
 * (SQLITE_PREPARE_PERSISTENT); later uses get it back, reset. Each use ends with
 * unprep(). A statement already handed out (a use nested in another's loop) and
 * SQL past the cache's size get a statement of their own, finalized by unprep(). */
static urbac_err prep(db *b, const char *sql, sqlite3_stmt **st, urbac_diag *d)
{
  cached_stmt *c = NULL;
  for (size_t i = 0; !c && i < b->nstmts; i++)
    if (b->stmts[i].sql == sql)
      c = &b->stmts[i];
  if (c && !c->in_use) {
    c->in_use = true;
    *st = c->st;
    return URBAC_OK;
  }
  bool keep = !c && b->nstmts < STMT_CACHE;
  *st = NULL;
  if (sqlite3_prepare_v3(b->h, sql, -1, keep ? SQLITE_PREPARE_PERSISTENT : 0, st, NULL) != SQLITE_OK)
    return fail(b, d, "store query failed");
  if (keep)
    b->stmts[b->nstmts++] = (cached_stmt){sql, *st, true};
  return URBAC_OK;
}

/* Gives back a statement prep() handed out: a cached one is reset and its
 * bindings cleared, another finalized. Accepts NULL. */
static void unprep(db *b, sqlite3_stmt *st)
{
  for (size_t i = 0; st && i < b->nstmts; i++)
    if (b->stmts[i].st == st) {
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
      b->stmts[i].in_use = false;
      return;
    }
  sqlite3_finalize(st);
}

/* Runs one statement of no parameters (a transaction's begin or end) through the cache. */
static urbac_err run(db *b, const char *sql, urbac_diag *d, const char *what)
{
  sqlite3_stmt *st = NULL;
  urbac_err err = prep(b, sql, &st, d);
  if (!err && sqlite3_step(st) != SQLITE_DONE)
    err = fail(b, d, what);
  unprep(b, st);
  return err;
}

static urbac_err db_schema(void *p, int *version, urbac_diag *d)
{
  db *b = p;
  sqlite3_stmt *st = NULL;
  int tables = 0, ours = 0;
  urbac_err err =
      prep(b, "SELECT count(*), sum(name = 'urbac_schema') FROM sqlite_master WHERE type = 'table'", &st, d);
  if (!err && sqlite3_step(st) == SQLITE_ROW) {
    tables = sqlite3_column_int(st, 0);
    ours = sqlite3_column_int(st, 1);
  }
  unprep(p, st);
  *version = tables == 0 ? 0 : ours ? 0 : -1;
  if (!err && ours) {
    err = prep(b, "SELECT max(version) FROM urbac_schema", &st, d);
    if (!err && sqlite3_step(st) == SQLITE_ROW)
      *version = sqlite3_column_int(st, 0);
    unprep(p, st);
  }
  return err;
}

static urbac_err db_migrate_step(void *p, int version, urbac_diag *d)
{
  db *b = p;
  char record[128];
  if (version < 1 || version > URBAC__SCHEMA_VERSION)
    return URBAC_EINVAL;
  snprintf(record, sizeof record,
           "INSERT INTO urbac_schema VALUES (%d, strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ', 'now'));", version);
  urbac_err err = exec(b, steps[version], d, "migration failed");
  if (!err)
    err = exec(b, record, d, "migration failed");
  return err;
}

/* Settings, once the schema is known to be ours (a refused file is never written).
 * A writer keeps the statement journal of its savepoints (a batch's writes, writer.c)
 * in memory, not in a temporary file written on every insert, and caches up to
 * 32 MiB of pages (SQLite's default is 2 MiB): a tenant's index pages otherwise
 * leave the cache between two writes and are read again with a system call each
 * (about a tenth of the server's writer in a SCIM members phase at 100,000 users). */
static urbac_err db_setup(void *p, urbac_diag *d)
{
  db *b = p;
  if (b->mode == URBAC_STORE_READ) /* the journal mode is the file's: a reader leaves it */
    return exec(b, "PRAGMA foreign_keys=ON;", d, "cannot set up the store");
  urbac_err err = exec(b,
                       "PRAGMA synchronous=EXTRA; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"
                       " PRAGMA cache_size=-32768;",
                       d, "cannot set up the store");
  return err ? err : wal(b, false, d);
}

static urbac_err db_begin(void *p, bool write, urbac_diag *d)
{
  db *b = p;
  urbac_err err = b->want_wal && write && !b->batch && !b->rollback_journal ? wal(b, false, d) : URBAC_OK;
  if (!err)
    err = run(b,
              b->batch ? "SAVEPOINT urbac_write"
              : write  ? "BEGIN IMMEDIATE"
                       : "BEGIN",
              d, "cannot start a transaction");
  if (err && b->rollback_journal) /* no transaction: out of the rollback journal at once */
    end_bulk(b);
  return err;
}

static urbac_err db_commit(void *p, urbac_diag *d)
{
  db *b = p;
  urbac_err err = run(b, b->batch ? "RELEASE urbac_write" : "COMMIT", d, "commit failed");
  if (!b->batch) /* a batch's transaction goes on */
    end_bulk(b);
  return err;
}

static void db_rollback(void *p)
{
  db *b = p;
  sqlite3_exec(b->h, b->batch ? "ROLLBACK TO urbac_write; RELEASE urbac_write" : "ROLLBACK", NULL, NULL,
               NULL);
  if (!b->batch)
    end_bulk(b);
}

static urbac_err db_batch_begin(void *p, urbac_diag *d)
{
  db *b = p;
  urbac_err err = run(b, "BEGIN IMMEDIATE", d, "cannot start a transaction");
  b->batch = !err;
  return err;
}

static urbac_err db_batch_end(void *p, bool commit, urbac_diag *d)
{
  db *b = p;
  urbac_err err = URBAC_OK;
  b->batch = false;
  if (commit)
    err = run(b, "COMMIT", d, "commit failed");
  if (!commit || err)
    sqlite3_exec(b->h, "ROLLBACK", NULL, NULL, NULL);
  end_bulk(b);
  return err;
}

/* ---------------------------------------------------------------- rows */

static const char *col(sqlite3_stmt *st, int i)
{
  const unsigned char *t = sqlite3_column_text(st, i);
  return t ? (const char *)t : NULL;
}

static void bind_or_null(sqlite3_stmt *st, int i, const char *s)
{
  if (s)
    sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, i);
}

/* The end of a step loop: SQLITE_DONE, or the error that stopped it (a damaged page, say). */
static urbac_err done(void *p, int rc, urbac_diag *d, const char *what)
{
  return rc == SQLITE_DONE ? URBAC_OK : fail(p, d, what);
}

static urbac_err db_tenants(void *p, urbac__strs *out, urbac_diag *d)
{
  sqlite3_stmt *st = NULL;
  urbac_err err = prep(p, "SELECT id FROM tenants ORDER BY id", &st, d);
  int rc = SQLITE_DONE;
  while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW)
    err = urbac__strs_add(out, col(st, 0), strlen(col(st, 0)));
  if (!err)
    err = done(p, rc, d, "cannot list the tenants");
  unprep(p, st);
  return err;
}

static urbac_err db_tenant_get(void *p, const char *tenant, urbac__tenant_row *row, urbac_diag *d)
{
  sqlite3_stmt *st = NULL;
  memset(row, 0, sizeof *row);
  urbac_err err = prep(
      p, "SELECT revision, audit_seq, audit_hash, state_hash, audit_key FROM tenants WHERE id = ?", &st, d);
  if (!err) {
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      row->exists = true;
      row->revision = (uint64_t)sqlite3_column_int64(st, 0);
      row->audit_seq = (uint64_t)sqlite3_column_int64(st, 1);
      snprintf(row->audit_hash, sizeof row->audit_hash, "%s", col(st, 2) ? col(st, 2) : "");
      snprintf(row->state_hash, sizeof row->state_hash, "%s", col(st, 3) ? col(st, 3) : "");
      snprintf(row->audit_key, sizeof row->audit_key, "%s", col(st, 4) ? col(st, 4) : "");
    } else if (rc != SQLITE_DONE) {
      err = fail(p, d, "cannot read the tenant");
    }
  }
  unprep(p, st);
  return err;
}

static urbac_err db_tenant_put(void *p, const char *tenant, const urbac__tenant_row *row, urbac_diag *d)
{
  sqlite3_stmt *st = NULL;
  urbac_err err = prep(p,
                       "INSERT INTO tenants (id, revision, audit_seq, audit_hash, state_hash, audit_key)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(id) DO UPDATE SET revision = ?2,"
                       " audit_seq = ?3, audit_hash = ?4, state_hash = ?5, audit_key = ?6",
                       &st, d);
  if (!err) {
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)row->revision);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)row->audit_seq);
    sqlite3_bind_text(st, 4, row->audit_hash, -1, SQLITE_STATIC);
    bind_or_null(st, 5, row->state_hash[0] ? row->state_hash : NULL);
    bind_or_null(st, 6, row->audit_key[0] ? row->audit_key : NULL);
    if (sqlite3_step(st) != SQLITE_DONE)
      err = fail(p, d, "cannot write the tenant");
  }
  unprep(p, st);
  return err;
}

/* Reads the rows of `st` (kind, id, body, position) into *out and gives it back (unprep); on failure *out
 * is empty. */
static urbac_err read_objects(void *p, sqlite3_stmt *st, const char *tenant, urbac__object **out, size_t *n,
                              urbac_diag *d)
{
  size_t cap = 0;
  int rc = SQLITE_DONE;
  urbac_err err = URBAC_OK;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *kind = col(st, 0), *known = urbac__object_kind(kind);
    if (!known || !col(st, 1) || !col(st, 2)) {
      err = urbac__diag_add(d, URBAC_ESTORE, ((db *)p)->path, 0, 0, NULL,
                            "tenant '%s': a stored object of unknown kind '%s' or without id or body", tenant,
                            kind ? kind : "(null)");
      break;
    }
    if (URBAC_GROW(*out, cap, *n + 1)) {
      err = URBAC_ENOMEM;
      break;
    }
    urbac__object *o = &(*out)[*n];
    o->kind = known;
    o->id = urbac__strdup(col(st, 1));
    o->body = urbac__strdup(col(st, 2));
    o->position = sqlite3_column_int64(st, 3);
    (*n)++;
    if (!o->id || !o->body) {
      err = URBAC_ENOMEM;
      break;
    }
  }
  if (!err)
    err = done(p, rc, d, "cannot read the tenant's objects");
  unprep(p, st);
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
  sqlite3_stmt *st = NULL;
  *out = NULL;
  *n = 0;
  /* one kind through the primary key's (tenant, kind) prefix */
  urbac_err err =
      prep(p,
           /* "+position": ordered after the primary key finds the kind's rows, not by
            * walking objects_position through every row of the tenant (API keys are
            * read twice a second) */
           kind_only ? "SELECT kind, id, body, position FROM objects WHERE tenant = ?1 AND kind = ?2"
                       " ORDER BY +position, kind, id"
                     : "SELECT kind, id, body, position FROM objects WHERE tenant = ?1 AND kind <> 'apiKey'"
                       " ORDER BY position, kind, id",
           &st, d);
  if (err)
    return err;
  sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
  if (kind_only)
    sqlite3_bind_text(st, 2, kind_only, -1, SQLITE_STATIC);
  return read_objects(p, st, tenant, out, n, d);
}

/* A page through objects_kind (tenant, kind, position, id): it walks only the rows it returns,
 * or, with a needle, the rows it tests until it has `limit`. The name is searched in the body's
 * JSON by SQLite's own parser (json_extract), not handed up row by row. */
static urbac_err db_objects_page(void *p, const char *tenant, const char *kind, int64_t after_position,
                                 const char *after_id, const char *needle, size_t limit, urbac__object **out,
                                 size_t *n, urbac_diag *d)
{
  sqlite3_stmt *st = NULL;
  *out = NULL;
  *n = 0;
  urbac_err err = prep(p,
                       needle ? "SELECT kind, id, body, position FROM objects INDEXED BY objects_kind"
                                " WHERE tenant = ?1 AND kind = ?2 AND (position, id) > (?3, ?4)"
                                " AND (instr(lower(id), ?6) > 0"
                                " OR instr(lower(json_extract(body, '$.name')), ?6) > 0)"
                                " ORDER BY position, id LIMIT ?5"
                              : "SELECT kind, id, body, position FROM objects INDEXED BY objects_kind"
                                " WHERE tenant = ?1 AND kind = ?2 AND (position, id) > (?3, ?4)"
                                " ORDER BY position, id LIMIT ?5",
                       &st, d);
  if (err)
    return err;
  sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, after_position);
  sqlite3_bind_text(st, 4, after_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 5, (sqlite3_int64)limit);
  if (needle)
    sqlite3_bind_text(st, 6, needle, -1, SQLITE_STATIC);
  return read_objects(p, st, tenant, out, n, d);
}

static urbac_err db_object_put(void *p, const char *tenant, const urbac__object *o, int64_t position,
                               urbac_diag *d)
{
  sqlite3_stmt *st = NULL;
  urbac_err err =
      prep(p,
           "INSERT INTO objects VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(tenant, kind, id) DO UPDATE SET"
           " position = ?4, body = ?5",
           &st, d);
  if (!err) {
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, o->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, o->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, position);
    sqlite3_bind_text(st, 5, o->body, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
      err = fail(p, d, "cannot write an object");
  }
  unprep(p, st);
  return err;
}

/* ---------------------------------------------------------------- many rows */

/* A table's insert, as its parts: `head` VALUES `row`, `row`, ... `tail`;
 * `one`, the same for one row (a literal, cached by prep(): HEAD " VALUES " ROW TAIL). */
typedef struct insert_sql {
  const char *head, *row, *tail, *one, *what;
  int cols; /* parameters per row, numbered in order (no ?N: rows follow one another) */
  void (*bind)(sqlite3_stmt *st, int at, const char *tenant, const void *rows, size_t i);
} insert_sql;

/* Rows per statement of an insert of many: the statement's cursors stay where its
 * last row went, so rows in key order are added without a descent from the root of
 * each index, and a statement's start and end are paid once per ROWS_PER rows. */
#define ROWS_PER 64

/* The statement inserting ROWS_PER rows (not cached: one per call of many rows). */
static urbac_err prep_many(db *b, const insert_sql *q, sqlite3_stmt **st, urbac_diag *d)
{
  urbac__buf sql = {0};
  urbac__buf_puts(&sql, q->head);
  for (int k = 0; k < ROWS_PER; k++)
    urbac__buf_printf(&sql, "%s%s", k ? ", " : " VALUES ", q->row);
  urbac__buf_puts(&sql, q->tail);
  urbac_err err = sql.s ? URBAC_OK : URBAC_ENOMEM;
  if (!err && sqlite3_prepare_v3(b->h, sql.s, -1, 0, st, NULL) != SQLITE_OK)
    err = fail(b, d, q->what);
  urbac__buf_free(&sql);
  return err;
}

/* Inserts rows 0 to n - 1 of `rows` (q->bind binds row i from parameter `at`):
 * ROWS_PER to a statement, the rest one by one. */
static urbac_err insert_rows(db *b, const insert_sql *q, const char *tenant, const void *rows, size_t n,
                             urbac_diag *d)
{
  sqlite3_stmt *st = NULL;
  size_t i = 0;
  urbac_err err = n >= ROWS_PER ? prep_many(b, q, &st, d) : URBAC_OK;
  for (; !err && i + ROWS_PER <= n; i += ROWS_PER) {
    for (size_t k = 0; k < ROWS_PER; k++)
      q->bind(st, (int)k * q->cols + 1, tenant, rows, i + k);
    if (sqlite3_step(st) != SQLITE_DONE)
      err = fail(b, d, q->what);
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  st = NULL;
  if (!err && i < n)
    err = prep(b, q->one, &st, d);
  for (; !err && i < n; i++) {
    q->bind(st, 1, tenant, rows, i);
    if (sqlite3_step(st) != SQLITE_DONE)
      err = fail(b, d, q->what);
    sqlite3_reset(st);
  }
  unprep(b, st);
  return err;
}

static void bind_object(sqlite3_stmt *st, int at, const char *tenant, const void *rows, size_t i)
{
  const urbac__object *o = ((const urbac__object *const *)rows)[i];
  sqlite3_bind_text(st, at, tenant, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, at + 1, o->kind, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, at + 2, o->id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, at + 3, o->position);
  sqlite3_bind_text(st, at + 4, o->body, -1, SQLITE_STATIC);
}

#define OBJECTS_HEAD "INSERT INTO objects"
#define OBJECTS_ROW "(?, ?, ?, ?, ?)"
#define OBJECTS_TAIL                                                                                         \
  " ON CONFLICT(tenant, kind, id) DO UPDATE SET position = excluded.position, body = excluded.body"
static const insert_sql objects_sql = {.head = OBJECTS_HEAD,
                                       .row = OBJECTS_ROW,
                                       .tail = OBJECTS_TAIL,
                                       .one = OBJECTS_HEAD " VALUES " OBJECTS_ROW OBJECTS_TAIL,
                                       .what = "cannot write an object",
                                       .cols = 5,
                                       .bind = bind_object};

static urbac_err db_objects_put(void *p, const char *tenant, const urbac__object *const *o, size_t n,
                                urbac_diag *d)
{
  urbac_err err = bulk(p, n, d);
  return err ? err : insert_rows(p, &objects_sql, tenant, o, n, d);
}

static urbac_err db_object_delete(void *p, const char *tenant, const char *kind, const char *id,
                                  urbac_diag *d)
{
  sqlite3_stmt *st = NULL;
  urbac_err err = prep(p, "DELETE FROM objects WHERE tenant = ? AND kind = ? AND id = ?", &st, d);
  if (!err) {
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
      err = fail(p, d, "cannot delete an object");
  }
  unprep(p, st);
  return err;
}

static void bind_record(sqlite3_stmt *st, int at, const char *tenant, const void *rows, size_t k)
{
  const urbac_audit_record *r = rows;
  const char *text[] = {r[k].at,    r[k].actor,     r[k].command, r[k].kind,  r[k].object, r[k].before,
                        r[k].after, r[k].prev_hash, r[k].hash,    r[k].state, r[k].mac};
  sqlite3_bind_text(st, at, tenant, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, at + 1, (sqlite3_int64)r[k].seq);
  sqlite3_bind_int64(st, at + 2, (sqlite3_int64)r[k].revision);
  for (int i = 0; i < 11; i++)
    bind_or_null(st, at + 3 + i, text[i]);
}

#define AUDIT_HEAD                                                                                           \
  "INSERT INTO audit (tenant, seq, revision, at, actor, command, kind, object, before, after, prev_hash,"    \
  " hash, state, mac)"
#define AUDIT_ROW "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
static const insert_sql audit_sql = {.head = AUDIT_HEAD,
                                     .row = AUDIT_ROW,
                                     .tail = "",
                                     .one = AUDIT_HEAD " VALUES " AUDIT_ROW,
                                     .what = "cannot write the audit log",
                                     .cols = 14,
                                     .bind = bind_record};

static urbac_err db_audit_put_many(void *p, const char *tenant, const urbac_audit_record *r, size_t n,
                                   urbac_diag *d)
{
  urbac_err err = bulk(p, n, d);
  return err ? err : insert_rows(p, &audit_sql, tenant, r, n, d);
}

#define AUDIT_COLUMNS                                                                                        \
  "seq, revision, at, actor, command, kind, object, before, after, prev_hash, hash, state, mac"

/* Calls `cb` with each record `st` selects (AUDIT_COLUMNS). */
static urbac_err audit_rows(void *p, sqlite3_stmt *st, urbac_audit_cb cb, void *ctx, urbac_diag *d);

static urbac_err db_audit_each(void *p, const char *tenant, urbac_audit_cb cb, void *ctx, urbac_diag *d)
{
  sqlite3_stmt *st = NULL;
  urbac_err err = prep(p, "SELECT " AUDIT_COLUMNS " FROM audit WHERE tenant = ? ORDER BY rowid", &st, d);
  if (!err) {
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    err = audit_rows(p, st, cb, ctx, d);
  }
  unprep(p, st);
  return err;
}

/* Through the (tenant, revision) index; API key records are not changes of the tenant. */
static urbac_err db_changes(void *p, const char *tenant, uint64_t after, size_t limit, urbac_audit_cb cb,
                            void *ctx, urbac_diag *d)
{
  sqlite3_stmt *st = NULL;
  urbac_err err = prep(p,
                       "SELECT " AUDIT_COLUMNS " FROM audit WHERE tenant = ?1 AND revision > ?2"
                       " AND kind <> 'apiKey' ORDER BY revision, seq LIMIT ?3",
                       &st, d);
  if (!err) {
    sqlite3_bind_text(st, 1, tenant, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)after);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
    err = audit_rows(p, st, cb, ctx, d);
  }
  unprep(p, st);
  return err;
}

static urbac_err audit_rows(void *p, sqlite3_stmt *st, urbac_audit_cb cb, void *ctx, urbac_diag *d)
{
  int rc = SQLITE_DONE;
  urbac_err err = URBAC_OK;
  while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    urbac_audit_record r = {(uint64_t)sqlite3_column_int64(st, 0),
                            (uint64_t)sqlite3_column_int64(st, 1),
                            col(st, 2) ? col(st, 2) : "",
                            col(st, 3) ? col(st, 3) : "",
                            col(st, 4) ? col(st, 4) : "",
                            col(st, 5) ? col(st, 5) : "",
                            col(st, 6) ? col(st, 6) : "",
                            col(st, 7),
                            col(st, 8),
                            col(st, 9) ? col(st, 9) : "",
                            col(st, 10) ? col(st, 10) : "",
                            col(st, 11),
                            col(st, 12)};
    if (cb(ctx, &r)) {
      rc = SQLITE_DONE;
      break;
    }
  }
  if (!err)
    err = done(p, rc, d, "cannot read the audit log");
  return err;
}

/* ---------------------------------------------------------------- one object, the reference index */

/* Prepares `sql` and binds `params` (text) in order. */
static urbac_err prep_bound(db *b, const char *sql, const char *const *params, int n, sqlite3_stmt **st,
                            urbac_diag *d)
{
  urbac_err err = prep(b, sql, st, d);
  for (int i = 0; !err && i < n; i++)
    sqlite3_bind_text(*st, i + 1, params[i], -1, SQLITE_STATIC);
  return err;
}

static urbac_err db_object_get(void *p, const char *tenant, const char *kind, const char *id, char **body,
                               int64_t *position, urbac_diag *d)
{
  sqlite3_stmt *st = NULL;
  const char *params[] = {tenant, kind, id};
  *body = NULL;
  urbac_err err = prep_bound(
      p, "SELECT body, position FROM objects WHERE tenant = ?1 AND kind = ?2 AND id = ?3", params, 3, &st, d);
  int rc = err ? SQLITE_DONE : sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *position = sqlite3_column_int64(st, 1);
    if (!(*body = urbac__strdup(col(st, 0) ? col(st, 0) : "")))
      err = URBAC_ENOMEM;
  } else if (!err) {
    err = done(p, rc, d, "cannot read an object");
  }
  unprep(p, st);
  return err;
}

static urbac_err db_max_position(void *p, const char *tenant, int64_t *pos, urbac_diag *d)
{
  sqlite3_stmt *st = NULL;
  const char *params[] = {tenant};
  urbac_err err = prep_bound(p, "SELECT max(position) FROM objects WHERE tenant = ?1", params, 1, &st, d);
  int rc = err ? SQLITE_DONE : sqlite3_step(st);
  *pos = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL ? sqlite3_column_int64(st, 0) : -1;
  if (!err && rc != SQLITE_ROW)
    err = fail(p, d, "cannot read the objects' positions");
  unprep(p, st);
  return err;
}

static urbac_err db_exist(void *p, const char *tenant, const char *kind, const char *const *ids, size_t n,
                          bool *found, urbac_diag *d)
{
  sqlite3_stmt *st = NULL;
  urbac_err err = prep(p, "SELECT 1 FROM objects WHERE tenant = ?1 AND kind = ?2 AND id = ?3", &st, d);
  for (size_t i = 0; !err && i < n; i++) {
    const char *params[] = {tenant, kind, ids[i]};
    for (int k = 0; k < 3; k++)
      sqlite3_bind_text(st, k + 1, params[k], -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    found[i] = rc == SQLITE_ROW;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
      err = fail(p, d, "cannot look up an object");
    sqlite3_reset(st);
  }
  unprep(p, st);
  return err;
}

/* Every row's two text columns into `out`, in pairs. */
static urbac_err pairs(db *b, sqlite3_stmt *st, urbac__strs *out, urbac_diag *d)
{
  int rc;
  urbac_err err = URBAC_OK;
  while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW)
    for (int c = 0; !err && c < 2; c++) { /* a group's thousands of rows: each column asked once */
      const char *v = col(st, c);
      err = urbac__strs_add(out, v ? v : "", v ? (size_t)sqlite3_column_bytes(st, c) : 0);
    }
  return err ? err : done(b, rc, d, "cannot read the reference index");
}

static urbac_err db_refs_from(void *p, const char *tenant, const char *kind, const char *id,
                              const char *to_kind, urbac__strs *out, urbac_diag *d)
{
  sqlite3_stmt *st = NULL;
  const char *params[] = {tenant, kind, id, to_kind};
  urbac_err err = prep_bound(p,
                             to_kind ? "SELECT to_kind, to_id FROM refs WHERE tenant = ?1 AND from_kind = ?2"
                                       " AND from_id = ?3 AND to_kind = ?4"
                                     : "SELECT to_kind, to_id FROM refs WHERE tenant = ?1 AND from_kind = ?2"
                                       " AND from_id = ?3",
                             params, to_kind ? 4 : 3, &st, d);
  if (!err)
    err = pairs(p, st, out, d);
  unprep(p, st);
  return err;
}

static urbac_err db_refs_to(void *p, const char *tenant, const char *kind, const char *id, size_t limit,
                            urbac__strs *out, urbac_diag *d)
{
  sqlite3_stmt *st = NULL;
  const char *params[] = {tenant, kind, id};
  urbac_err err = prep_bound(p,
                             "SELECT from_kind, from_id FROM refs WHERE tenant = ?1 AND to_kind = ?2"
                             " AND to_id = ?3 ORDER BY from_kind, from_id LIMIT ?4",
                             params, 3, &st, d);
  if (!err) {
    sqlite3_bind_int64(st, 4, (sqlite3_int64)limit);
    err = pairs(p, st, out, d);
  }
  unprep(p, st);
  return err;
}

static void bind_ref(sqlite3_stmt *st, int at, const char *tenant, const void *rows, size_t i)
{
  const urbac__ref_row *r = &((const urbac__ref_row *)rows)[i];
  const char *params[] = {tenant, r->from_kind, r->from_id, r->to_kind, r->to_id};
  for (int k = 0; k < 5; k++)
    sqlite3_bind_text(st, at + k, params[k], -1, SQLITE_STATIC);
}

#define REFS_HEAD "INSERT OR IGNORE INTO refs"
#define REFS_ROW "(?, ?, ?, ?, ?)"
static const insert_sql refs_sql = {.head = REFS_HEAD,
                                    .row = REFS_ROW,
                                    .tail = "",
                                    .one = REFS_HEAD " VALUES " REFS_ROW,
                                    .what = "cannot write the reference index",
                                    .cols = 5,
                                    .bind = bind_ref};

/* Runs `sql` (its five parameters: the tenant and a row's columns) once per row (a delete). */
static urbac_err refs_rows(db *b, const char *sql, const char *tenant, const urbac__ref_row *r, size_t n,
                           urbac_diag *d)
{
  sqlite3_stmt *st = NULL;
  urbac_err err = prep(b, sql, &st, d);
  for (size_t i = 0; !err && i < n; i++) {
    bind_ref(st, 1, tenant, r, i);
    if (sqlite3_step(st) != SQLITE_DONE)
      err = fail(b, d, "cannot write the reference index");
    sqlite3_reset(st);
  }
  unprep(b, st);
  return err;
}

#define REFS_BULK 20000 /* rows added at once past which the index by target is built after them */

/* Many rows (a whole tenant applied): the index by target (random order) is
 * dropped and built again after them, a sort instead of a page cache thrashed
 * by random inserts; all inside the write's transaction, rolled back with it. */
static urbac_err db_refs_put(void *p, const char *tenant, const urbac__ref_row *r, size_t n, urbac_diag *d)
{
  db *b = p;
  bool many = n >= REFS_BULK;
  urbac_err err = bulk(b, n, d);
  if (!err && many)
    err = exec(b, "DROP INDEX refs_to;", d, "cannot write the reference index");
  if (!err)
    err = insert_rows(b, &refs_sql, tenant, r, n, d);
  if (!err && many)
    err = exec(b, REFS_TO, d, "cannot write the reference index");
  return err;
}

static urbac_err db_refs_remove(void *p, const char *tenant, const urbac__ref_row *r, size_t n, urbac_diag *d)
{
  return refs_rows(p,
                   "DELETE FROM refs WHERE tenant = ?1 AND from_kind = ?2 AND from_id = ?3 AND to_kind = ?4"
                   " AND to_id = ?5",
                   tenant, r, n, d);
}

/* SQLite has no notifications: the watcher polls the revision (50 ms). */
static urbac_err db_wait(void *p, int ms)
{
  (void)p;
  struct timespec t = {0, (long)(ms < 50 ? ms : 50) * 1000000L};
  nanosleep(&t, NULL);
  return URBAC_OK;
}

static urbac_err db_notify(void *p, const char *tenant, urbac_diag *d)
{
  (void)p, (void)tenant, (void)d;
  return URBAC_OK;
}

/* The file's own pages: PRAGMA integrity_check, its first problems named. */
static urbac_err db_integrity(void *p, urbac_diag *d)
{
  db *b = p;
  sqlite3_stmt *st = NULL;
  urbac__buf msg = {0};
  int rc, lines = 0;
  urbac_err err = prep(b, "PRAGMA integrity_check(5)", &st, d);
  while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW)
    if (!col(st, 0) || strcmp(col(st, 0), "ok") != 0)
      for (const char *at = col(st, 0) ? col(st, 0) : "?"; *at; at += strcspn(at, "\n"), at += !!*at)
        if (strncmp(at, "***", 3) != 0) /* "*** in database main ***": a heading */
          urbac__buf_printf(&msg, "%s%.*s", lines++ ? "; " : "", (int)strcspn(at, "\n"), at);
  if (!err && rc != SQLITE_DONE)
    urbac__buf_printf(&msg, "%s%s", lines++ ? "; " : "", sqlite3_errmsg(b->h));
  unprep(b, st);
  if (!err && lines)
    err = urbac__diag_add(d, URBAC_ESTORE, b->path, 0, 0, NULL,
                          "the store file is damaged (integrity_check): %s", msg.s ? msg.s : "out of memory");
  urbac__buf_free(&msg);
  return err;
}

static void db_health(const void *p, urbac_store_health *h)
{
  (void)p;
  *h = (urbac_store_health){true, 0, ""};
}

const urbac__store_ops urbac__sqlite_ops = URBAC__STORE_OPS("sqlite", db_integrity, db_bulk_next);
