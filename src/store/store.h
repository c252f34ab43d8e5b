/*
 * store/store.h - the backends' table of operations (curl's vtls style): the
 * generic store (store/store.c) computes plans, hash-chains the audit log and
 * runs transactions; a backend (store/sqlite.c) only moves rows.
 *
 * Depends on: util, model, io/objects.
 */
#ifndef URBAC_STORE_INTERNAL_H
#define URBAC_STORE_INTERNAL_H

#include "io/objects.h"
#include "urbac/store.h"

#define URBAC__HASH_HEX 65   /* SHA-256 in hex, NUL included */
#define URBAC__KEY_ID_HEX 17 /* an audit key's id: 16 hex digits, NUL included */
#define URBAC__AUDIT_KEY_MAX 1024
/* What a store handle remembers of the big objects it wrote (store/refs.c): at
 * most 4 objects of 64 names or more, bodies up to 128 KiB (a group of about
 * 5,000 members), about 1.5 MiB a handle at most. */
#define URBAC__NAMED_SLOTS 4
#define URBAC__NAMED_MIN 64
#define URBAC__NAMED_BODY_MAX (128 << 10)

typedef struct urbac__tenant_row {
  bool exists;
  uint64_t revision;
  uint64_t audit_seq;               /* the last audit record's sequence number */
  char audit_hash[URBAC__HASH_HEX]; /* and its hash: the chain's head */
  /* the digest of the tenant's rows as of the head ("": written before schema 2) */
  char state_hash[URBAC__HASH_HEX];
  char audit_key[URBAC__KEY_ID_HEX]; /* the id of the key its records are MACed with, or "" */
} urbac__tenant_row;

/* One row of the reference index: object (from_kind, from_id) names (to_kind, to_id). */
typedef struct urbac__ref_row {
  const char *from_kind, *from_id, *to_kind, *to_id;
} urbac__ref_row;

#define URBAC__BULK_OBJECTS 20000 /* a whole tenant applied of this many objects is a bulk write */

typedef struct urbac__store_ops {
  const char *name;
  bool (*accepts)(const char *url);
  /* opens `url` in `mode`; messages must not show a password */
  urbac_err (*open)(const char *url, urbac_store_mode mode, void **db, urbac_diag *d);
  void (*close)(void *db);
  /* 0 for an empty database, -1 for one that holds something else */
  urbac_err (*schema)(void *db, int *version, urbac_diag *d);
  /* durability settings; called once the schema is known to be usable */
  urbac_err (*setup)(void *db, urbac_diag *d);
  /* runs migration step `version` and records it, inside the caller's write transaction */
  urbac_err (*migrate_step)(void *db, int version, urbac_diag *d);
  urbac_err (*begin)(void *db, bool write, urbac_diag *d);
  urbac_err (*commit)(void *db, urbac_diag *d);
  void (*rollback)(void *db);
  /* a batch (urbac_store_batch_begin): one write transaction; while it is open, begin, commit
   * and rollback make, release and roll back to a savepoint inside it */
  urbac_err (*batch_begin)(void *db, urbac_diag *d);
  urbac_err (*batch_end)(void *db, bool commit, urbac_diag *d);
  urbac_err (*tenants)(void *db, urbac__strs *out, urbac_diag *d);
  urbac_err (*tenant_get)(void *db, const char *tenant, urbac__tenant_row *row, urbac_diag *d);
  urbac_err (*tenant_put)(void *db, const char *tenant, const urbac__tenant_row *row, urbac_diag *d);
  /* the tenant's objects of `kind` ("apiKey": its API keys), or every object but its API
   * keys (kind NULL), in position order */
  urbac_err (*objects)(void *db, const char *tenant, const char *kind, urbac__object **out, size_t *n,
                       urbac_diag *d);
  /* at most `limit` objects of `kind` after (after_position, after_id) in (position, id) order,
   * the list's order; `needle` (lower case) or NULL: only those whose id or body's "name" holds it */
  urbac_err (*objects_page)(void *db, const char *tenant, const char *kind, int64_t after_position,
                            const char *after_id, const char *needle, size_t limit, urbac__object **out,
                            size_t *n, urbac_diag *d);
  /* one object's body (the caller frees it with urbac__free()) and position; *body NULL: none */
  urbac_err (*object_get)(void *db, const char *tenant, const char *kind, const char *id, char **body,
                          int64_t *position, urbac_diag *d);
  /* the highest position of the tenant's objects, -1 when it has none */
  urbac_err (*max_position)(void *db, const char *tenant, int64_t *position, urbac_diag *d);
  /* found[i]: does object (kind, ids[i]) exist? */
  urbac_err (*exist)(void *db, const char *tenant, const char *kind, const char *const *ids, size_t n,
                     bool *found, urbac_diag *d);
  urbac_err (*object_put)(void *db, const char *tenant, const urbac__object *o, int64_t position,
                          urbac_diag *d);
  /* many objects (each at its own position) and many audit records, in bulk */
  urbac_err (*objects_put)(void *db, const char *tenant, const urbac__object *const *o, size_t n,
                           urbac_diag *d);
  urbac_err (*audit_put_many)(void *db, const char *tenant, const urbac_audit_record *r, size_t n,
                              urbac_diag *d);
  urbac_err (*object_delete)(void *db, const char *tenant, const char *kind, const char *id, urbac_diag *d);
  /* the reference index: what (kind, id) names (to_kind, to_id pairs added to *out; only
   * `to_kind` unless NULL), and who names it (from_kind, from_id pairs, at most `limit`) */
  urbac_err (*refs_from)(void *db, const char *tenant, const char *kind, const char *id, const char *to_kind,
                         urbac__strs *out, urbac_diag *d);
  urbac_err (*refs_to)(void *db, const char *tenant, const char *kind, const char *id, size_t limit,
                       urbac__strs *out, urbac_diag *d);
  /* adds rows (a row already there is kept); removes rows */
  urbac_err (*refs_put)(void *db, const char *tenant, const urbac__ref_row *r, size_t n, urbac_diag *d);
  urbac_err (*refs_remove)(void *db, const char *tenant, const urbac__ref_row *r, size_t n, urbac_diag *d);
  urbac_err (*audit_each)(void *db, const char *tenant, urbac_audit_cb cb, void *ctx, urbac_diag *d);
  /* the records of object changes (not API keys) after revision `after`, oldest first, at most `limit` */
  urbac_err (*changes)(void *db, const char *tenant, uint64_t after, size_t limit, urbac_audit_cb cb,
                       void *ctx, urbac_diag *d);
  /* waits up to `ms` for a write to any tenant (SQLite: sleeps; PostgreSQL: LISTEN) */
  urbac_err (*wait)(void *db, int ms);
  /* tells waiters that `tenant` changed, inside the write transaction (or nothing) */
  urbac_err (*notify)(void *db, const char *tenant, urbac_diag *d);
  /* checks the database's own pages (URBAC_ESTORE naming the damage); NULL: nothing to check */
  urbac_err (*integrity)(void *db, urbac_diag *d);
  /* the connection's health (a file is always up) */
  void (*health)(const void *db, urbac_store_health *h);
  /* the next write transaction writes a whole tenant (URBAC__BULK_OBJECTS objects or
   * more), outside a transaction: a backend's cheaper way to write many rows, or
   * NULL for none */
  urbac_err (*bulk_next)(void *db, urbac_diag *d);
} urbac__store_ops;

/* A backend's table, from its functions named db_<operation> (and accepts()) and its
 * optional ones (integrity, bulk_next: a function or NULL); each
 * backend defines them all, so one list serves both and none is left out. */
#define URBAC__STORE_OPS(backend, integrity_fn, bulk_next_fn)                                                \
  {                                                                                                          \
    .name = backend, .accepts = accepts, .open = db_open, .close = db_close, .schema = db_schema,            \
    .setup = db_setup, .migrate_step = db_migrate_step, .begin = db_begin, .commit = db_commit,              \
    .rollback = db_rollback, .batch_begin = db_batch_begin, .batch_end = db_batch_end,                       \
    .tenants = db_tenants, .tenant_get = db_tenant_get, .tenant_put = db_tenant_put, .objects = db_objects,  \
    .objects_page = db_objects_page, .object_get = db_object_get, .max_position = db_max_position,           \
    .exist = db_exist, .object_put = db_object_put, .objects_put = db_objects_put,                           \
    .audit_put_many = db_audit_put_many, .object_delete = db_object_delete, .refs_from = db_refs_from,       \
    .refs_to = db_refs_to, .refs_put = db_refs_put, .refs_remove = db_refs_remove,                           \
    .audit_each = db_audit_each, .changes = db_changes, .wait = db_wait, .notify = db_notify,                \
    .integrity = integrity_fn, .health = db_health, .bulk_next = bulk_next_fn                                \
  }

extern const urbac__store_ops urbac__sqlite_ops;
extern const urbac__store_ops urbac__postgres_ops;
/* PostgreSQL: the exchanges with the server a handle made so far (a pipeline of
 * several statements is one); for the tests of the write path's round trips */
uint64_t urbac__postgres_round_trips(const void *db);
uint64_t urbac__store_round_trips(const urbac_store *s); /* 0 on SQLite */

struct urbac_store {
  const urbac__store_ops *ops;
  void *db;
  bool schema_ok; /* urbac__store_need_schema() passed once (schemas never go back) */
  urbac__strs tenants;
  const char **tenant_ids;
  urbac_write_check check; /* urbac_store_check_writes() */
  bool prune;              /* urbac_store_prune_provisioned(): plans delete objects managed by scim */
  void *check_ctx;
  urbac_parsed *parsed; /* urbac_store_keep_parsed() */
  /* urbac_store_set_audit(): the HMAC key, its id, and where heads are witnessed */
  unsigned char audit_key[URBAC__AUDIT_KEY_MAX];
  size_t audit_key_len;
  char audit_key_id[URBAC__KEY_ID_HEX];
  char *witness;
  bool witness_syslog;
  /* urbac_store_batch_begin(): open, and per tenant written the last head committed inside it,
   * witnessed at its end */
  bool batch;
  struct urbac__batch_head {
    char *tenant;
    urbac__tenant_row row;
  } * heads;
  size_t nheads, cap_heads;
  /* store/refs.c: what the objects this handle wrote last named, with the bodies
   * written (urbac__named_recall()); an object is remembered from named_min rows */
  struct urbac__named *named[URBAC__NAMED_SLOTS];
  uint64_t named_clock;
  size_t named_min;
  /* urbac_store_batch_changes(): what the open batch wrote, kept as it writes */
  struct urbac__journal {
    char *tenant;        /* the one tenant it wrote */
    uint64_t base, last; /* the revision before its first write, and its last */
    struct urbac__journal_entry {
      uint64_t revision;
      const char *kind; /* the static spelling */
      char *id, *after; /* after NULL: deleted */
    } * v;
    size_t n, cap, bytes;
    size_t done; /* v[0 .. done) are the writes ended well; the rest the write in progress */
    bool lost;   /* another tenant, a revision not kept, too much, out of memory: cannot say */
  } journal;
};

/* The open batch's journal (urbac_store_batch_changes()): emptied when a batch
 * begins and ends; the changes of a write kept (they are in the batch's
 * transaction now), and when the write ends: dropped with it (not `released`:
 * rolled back to its savepoint), kept for good (`kept`: released, the batch's
 * head at `revision`), or the journal lost (released, its head not kept). */
void urbac__journal_reset(urbac_store *store);
void urbac__journal_keep(urbac_store *store, const char *tenant, const urbac_change *c, size_t n,
                         uint64_t revision);
void urbac__journal_end(urbac_store *store, bool released, bool kept, uint64_t revision);

/* Refuses a store whose schema is not this urbac's. */
urbac_err urbac__store_need_schema(urbac_store *store, urbac_diag *d);
/* The tenant's row, in the caller's transaction. Inside a batch, a tenant the
 * batch wrote already is answered from the batch's head (its row as the last
 * write left it): the row itself is written once, when the batch commits
 * (urbac__store_row_put()), not once per write. */
urbac_err urbac__store_row_get(urbac_store *store, const char *tenant, urbac__tenant_row *row, urbac_diag *d);
/* Writes an existing tenant's row in the caller's write transaction; inside a
 * batch, left to the batch's commit (urbac__store_end_write() records it). */
urbac_err urbac__store_row_put(urbac_store *store, const char *tenant, const urbac__tenant_row *row,
                               urbac_diag *d);
/* The tenant's objects (keys false) or its API keys (keys true), read in the
 * caller's transaction. */
urbac_err urbac__store_objects(urbac_store *store, const char *tenant, bool keys, urbac__object **o,
                               size_t *n, urbac_diag *d);
/* Reads the tenant's row and its objects (or keys), in the caller's transaction;
 * URBAC_ENOTFOUND when the store has no such tenant. */
urbac_err urbac__store_read(urbac_store *store, const char *tenant, bool keys, urbac__tenant_row *row,
                            urbac__object **o, size_t *n, urbac_diag *d);
/* Appends one audit record at the tenant's current revision (a change outside
 * the tenant itself, such as an API key) and advances the chain head in `row`
 * and in the store; inside the caller's write transaction. */
urbac_err urbac__store_audit_append(urbac_store *store, const char *tenant, urbac__tenant_row *row,
                                    const urbac_write *w, const char *kind, const char *id,
                                    const char *before, const char *after, urbac_diag *d);
/* Commits the write transaction after `err` is OK (then writes the chain's new
 * head to the witness), rolls it back otherwise. */
urbac_err urbac__store_end_write(urbac_store *store, urbac_err err, const char *tenant,
                                 const urbac__tenant_row *row, urbac_diag *d);
void urbac__utc_now(char *buf, size_t size);
/* Replaces every occurrence of the password of `url` (as written, and
 * percent-decoded) in `msg` with "***", in place. */
void urbac__redact(char *msg, size_t size, const char *url);

/* The schema, as numbered steps; each backend has its SQL for every step.
 * 2: state digests and MACs in the audit log, the tenant's state and key id.
 * 3: the reference index (refs), objects by position, the audit log by revision.
 * 4: objects by kind in list order. 5: the reference index by target, id first. */
#define URBAC__SCHEMA_VERSION 5

#endif
