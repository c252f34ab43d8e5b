/*
 * urbac/store.h - where tenants live when a service runs: a database that never
 * loses an acknowledged change, numbers every change (the tenant's revision) and
 * records who changed what in a hash-chained audit log, with the state it left
 * (optionally MACed under a key kept outside the database, and witnessed).
 *
 * A store is named by a URL: a SQLite file path (the embedded default). One
 * store holds many tenants. Each tenant is kept as one row per object (user,
 * group, role, ...) with the object's canonical JSON, so a write touches only
 * what changed, and everything read back is validated as a tenant file is.
 * A urbac_store handle is used by one thread at a time. Every call that reaches the
 * store reports a failure into its `d` (urbac/error.h) with what the database said
 * (SQLite's or PostgreSQL's message, never a password).
 */
#ifndef URBAC_STORE_H
#define URBAC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "urbac/error.h"
#include "urbac/export.h"
#include "urbac/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct urbac_store urbac_store;

/* The schema version this urbac writes and reads. */
URBAC_EXTERN int urbac_store_schema(void);

/* How a store is opened. Only URBAC_STORE_CREATE ever creates anything. */
typedef enum urbac_store_mode {
  URBAC_STORE_READ = 0,  /* reads only: the store must exist; nothing is created or written (a SQLite file
                          * opens read-only, so a file the caller may not write can still be read) */
  URBAC_STORE_WRITE = 1, /* reads and writes: the store must exist */
  URBAC_STORE_CREATE = 2 /* reads and writes; a missing SQLite file is created (urbac init) */
} urbac_store_mode;

/*
 * Opens the store at `url`: a SQLite file path, sqlite:///abs/path, sqlite:rel/path,
 * a SQLite file: URI, or postgresql:// (postgres://). Any other scheme is refused
 * (URBAC_EINVAL). A store that does not exist is URBAC_ENOTFOUND unless `mode` is
 * URBAC_STORE_CREATE. A store of a newer schema, or a file that is not a urbac
 * store, is refused (URBAC_ESCHEMA) and left untouched. Messages never show the
 * URL's password. The caller closes *out with urbac_store_close().
 *
 * A PostgreSQL store survives a restart of its server: a broken connection is
 * noticed (URBAC_EUNAVAILABLE for the call that noticed it, or for a write in a
 * transaction it broke) and made again at the next call, at most once per back-off
 * delay (100 ms doubling to 5 s, jittered); calls in between fail at once with
 * URBAC_EUNAVAILABLE, so a caller never hangs on a store that is down.
 */
URBAC_EXTERN urbac_err urbac_store_open(const char *url, urbac_store_mode mode, urbac_store **out,
                                        urbac_diag *d);
/* Closes `s` and frees it; accepts NULL. */
URBAC_EXTERN void urbac_store_close(urbac_store *s);
/* Brings the schema up to date in one transaction per step; *from and *to say
 * which versions (equal when nothing was to do). A new, empty store starts at 0. */
URBAC_EXTERN urbac_err urbac_store_migrate(urbac_store *s, int *from, int *to, urbac_diag *d);

/* The ids of the tenants the store holds, sorted; the array and its strings are
 * owned by `s`, valid until the next urbac_store_tenants(s) or urbac_store_close(s). */
URBAC_EXTERN urbac_err urbac_store_tenants(urbac_store *s, const char *const **ids, size_t *n, urbac_diag *d);
/* Loads tenant `tenant` (validated like a tenant file) and its revision. The
 * caller frees *out with urbac_model_free(). URBAC_ENOTFOUND if there is none. */
URBAC_EXTERN urbac_err urbac_store_load(urbac_store *s, const char *tenant, urbac_model **out,
                                        uint64_t *revision, urbac_diag *d);
/* `tenant`'s revision; URBAC_ENOTFOUND if there is none. */
URBAC_EXTERN urbac_err urbac_store_revision(urbac_store *s, const char *tenant, uint64_t *revision,
                                            urbac_diag *d);

/* Waits until `tenant`'s revision is past `after`, or `timeout_ms` passes; then
 * *revision is the revision (still `after` on a timeout). SQLite stores are
 * polled every 50 ms. A server uses it to refresh its snapshot when another
 * process writes. While the store is unavailable it keeps trying to reconnect
 * (at the back-off pace, sleeping in between, never spinning) and returns
 * URBAC_EUNAVAILABLE when `timeout_ms` has passed without it coming back; once
 * it is back, it listens again and reads the revision, so nothing written
 * meanwhile is missed. Only the last attempt's error is added to `d`. */
URBAC_EXTERN urbac_err urbac_store_watch(urbac_store *s, const char *tenant, uint64_t after, int timeout_ms,
                                         uint64_t *revision, urbac_diag *d);

/* How the store's connection fares, for health checks and metrics; copied into `h`. */
typedef struct urbac_store_health {
  bool up;             /* the last call reached the store */
  uint64_t reconnects; /* connections made again after one broke */
  char why[256];       /* when down: the last error (without any password) */
} urbac_store_health;
URBAC_EXTERN void urbac_store_health_get(const urbac_store *s, urbac_store_health *h);

/* `url` as it may be shown: the password of a postgresql:// URL (user:PASSWORD@,
 * or password=...) becomes "***". Always NUL-terminates `buf` (cut if short). */
URBAC_EXTERN void urbac_store_url_redacted(const char *url, char *buf, size_t size);

/* ---------------------------------------------------------------- changes */

typedef enum urbac_change_op { URBAC_CREATE = 0, URBAC_UPDATE = 1, URBAC_DELETE = 2 } urbac_change_op;

typedef struct urbac_change {
  urbac_change_op op;
  const char *kind; /* "user", "group", "role", ..., "workloads" */
  const char *id;
  const char *before; /* canonical JSON, NULL when created */
  const char *after;  /* canonical JSON, NULL when deleted */
} urbac_change;

typedef struct urbac_plan urbac_plan;
/* What applying `want` would create, change and delete, against the store as it
 * is now (tenant: want's id). The caller frees *out with urbac_plan_free(). */
URBAC_EXTERN urbac_err urbac_store_plan(urbac_store *s, const urbac_model *want, urbac_plan **out,
                                        urbac_diag *d);
/* Frees `p`; accepts NULL. */
URBAC_EXTERN void urbac_plan_free(urbac_plan *p);
URBAC_EXTERN size_t urbac_plan_count(const urbac_plan *p);
/* Change `i` (NULL when out of range); strings are owned by `p`, valid until urbac_plan_free(p). */
URBAC_EXTERN const urbac_change *urbac_plan_change(const urbac_plan *p, size_t i);
/* The users and groups managed by the identity provider (managedBy: scim) that
 * `want` lacks: kept, not deleted, unless urbac_store_prune_provisioned(s, true).
 * Each as a change with op URBAC_DELETE and `before` (what it would delete);
 * NULL when out of range; owned by `p`. urbac_store_apply() keeps them too, and
 * refuses a tenant that is not valid with them (a kept group naming a user the
 * file deletes). */
URBAC_EXTERN size_t urbac_plan_kept_count(const urbac_plan *p);
URBAC_EXTERN const urbac_change *urbac_plan_kept(const urbac_plan *p, size_t i);
/* Later plans and applies on `s` delete the objects managed by scim that the
 * tenant lacks (`prune` true), or keep them (false, the default). */
URBAC_EXTERN void urbac_store_prune_provisioned(urbac_store *s, bool prune);
/* The revision the plan was computed against (0: a tenant not in the store yet). */
URBAC_EXTERN uint64_t urbac_plan_revision(const urbac_plan *p);

/* Who writes, how, and on what the write was based. */
typedef struct urbac_write {
  const char *actor;   /* recorded in the audit log */
  const char *command; /* the command or API call, recorded too */
  bool if_revision;    /* fail with URBAC_ECONFLICT unless the tenant is at `revision` */
  uint64_t revision;
  /* urbac_store_put() and urbac_store_put_many(): when set, receives the tenant
   * as written (the caller frees it with urbac_model_free()), so a server need
   * not read back what it just wrote. NULL on failure. */
  urbac_model **written;
  /* urbac_store_put_many() and urbac_store_put(): when set, receives whether the
   * first put's object existed before the write (read with it: a caller telling
   * "created" from "replaced" needs no read of its own). Set once the puts are
   * read, also when the write then fails. */
  bool *existed;
} urbac_write;

/* A write's last check: called inside the write's transaction with the tenant
 * as it would be after the write, before anything is written, and only when
 * something changes. A return other than URBAC_OK (with its reason in `d`)
 * refuses the write, which then writes nothing. `after` is borrowed for the call.
 * A server checks here that a caller gives nobody more than the caller holds. */
typedef urbac_err (*urbac_write_check)(void *ctx, const urbac_model *after, urbac_diag *d);
/* Every later urbac_store_apply(), urbac_store_put() and urbac_store_put_many()
 * on `s` calls `check` (NULL: none, the default) with `ctx`, until it is set
 * again. Like the handle, it belongs to one thread at a time. */
URBAC_EXTERN void urbac_store_check_writes(urbac_store *s, urbac_write_check check, void *ctx);

/* Every later urbac_store_put() and urbac_store_put_many() on `s` that commits
 * by the incremental path keeps the objects it parsed in `into` (NULL: none, the
 * default; borrowed, until set again), for urbac_model_edit_parsed(). Like the
 * handle, it belongs to one thread at a time. (urbac_parsed: urbac/model.h) */
URBAC_EXTERN void urbac_store_keep_parsed(urbac_store *s, urbac_parsed *into);

/* Makes the stored tenant equal `want` in one transaction: every object change,
 * the revision bump and the audit records commit together or not at all. When
 * nothing changes nothing is written and the revision stays. *revision is the
 * tenant's revision afterwards. */
URBAC_EXTERN urbac_err urbac_store_apply(urbac_store *s, const urbac_model *want, const urbac_write *w,
                                         uint64_t *revision, urbac_diag *d);

/* ---------------------------------------------------------------- objects */

/* One object's canonical JSON (kinds: "workloads", "user", "group",
 * "deviceGroup", "device", "role", "legacy.mde.role", "legacy.mdo.roleGroup",
 * "legacy.mdi.role"); the caller frees *json with urbac_free(). URBAC_ENOTFOUND
 * when there is no such object. */
URBAC_EXTERN urbac_err urbac_store_get(urbac_store *s, const char *tenant, const char *kind, const char *id,
                                       char **json, uint64_t *revision, urbac_diag *d);
/* Calls `cb` with every object of `kind` (NULL: every object), in file order; the
 * strings are valid during the call only. A non-zero return from `cb` stops the walk. */
typedef int (*urbac_object_cb)(void *ctx, const char *kind, const char *id, const char *json);
URBAC_EXTERN urbac_err urbac_store_list(urbac_store *s, const char *tenant, const char *kind,
                                        urbac_object_cb cb, void *ctx, urbac_diag *d);
/* One page of the objects of one kind, read after a key (keyset paging): it costs the page,
 * not the tenant (an index on the kind in list order), so a page of users is as cheap at a
 * million users as at a thousand, and a page read after objects were added or deleted neither
 * repeats nor skips one that stayed. */
#define URBAC_STORE_PAGE_MAX 100000 /* objects in one page */
#define URBAC_STORE_SEARCH_MAX 256  /* bytes of search text */
typedef struct urbac_page_query {
  const char *kind;   /* one kind, as urbac_store_get() names them */
  const char *after;  /* NULL or "": from the first; else a previous page's *next */
  const char *search; /* NULL: every object; else those whose id or "name" holds it, ignoring
                       * (ASCII) case; the scan stops once it has the page */
  size_t limit;       /* 1 to URBAC_STORE_PAGE_MAX */
} urbac_page_query;
/* Calls `cb` with at most q->limit objects of q->kind after q->after, in urbac_store_list()'s
 * order, all read in one read transaction at *revision (NULL: not asked). *next is the key to
 * read the next page after (an opaque string the caller frees with urbac_free()), or NULL when
 * this page is the last. URBAC_EINVAL naming "after", "limit", "search" or "kind" for a bad
 * query (a malformed key: one not made by this call); URBAC_ENOTFOUND for no such tenant.
 * A non-zero return from `cb` stops the calls (*next is still set). */
URBAC_EXTERN urbac_err urbac_store_list_page(urbac_store *s, const char *tenant, const urbac_page_query *q,
                                             urbac_object_cb cb, void *ctx, char **next, uint64_t *revision,
                                             urbac_diag *d);
/* Creates or replaces object (`kind`, `id`) with `json` (a tenant file's JSON for
 * that object, whose own id must be `id`), or deletes it when `json` is NULL; the
 * tenant with the change is valid as the loader says (a dangling reference, say,
 * is refused with its reason and the loader's code) and the change is written and
 * audited in one transaction, like urbac_store_apply(). It costs what it changes:
 * the object is parsed alone, and what it names (and, for a delete, what names
 * it), a cycle through its member groups and a device group's rank are checked
 * with indexed queries inside the write transaction; only its row, its reference
 * index rows, one audit record and the tenant's row are written. Only when a
 * write check is set (urbac_store_check_writes()) or `w->written` is asked for
 * is the whole tenant read and rebuilt, to hand it over. */
URBAC_EXTERN urbac_err urbac_store_put(urbac_store *s, const char *tenant, const char *kind, const char *id,
                                       const char *json, const urbac_write *w, uint64_t *revision,
                                       urbac_diag *d);

/* Several object changes in one transaction (json NULL: delete), validated
 * together: for changes that are only valid together, such as moving a device
 * group's rank past others. */
/* (urbac_object_put: urbac/model.h) */
URBAC_EXTERN urbac_err urbac_store_put_many(urbac_store *s, const char *tenant, const urbac_object_put *puts,
                                            size_t n, const urbac_write *w, uint64_t *revision,
                                            urbac_diag *d);

/* Renames user or group (`kind` "user" or "group") `old_id` to `new_id` in one
 * write: the object under its new id, and every object naming it by its id
 * (a group's members, an assignment's principals, a device group's userAccess, a
 * legacy role's groups or members) rewritten to the new id, each audited; names
 * given by its externalId stay (it keeps its externalId). Costs the objects that
 * name it (the reference index), not the tenant. URBAC_ENOTFOUND when there is no
 * such object, URBAC_EDUPLICATE when `new_id` is taken; validated as any write. */
URBAC_EXTERN urbac_err urbac_store_rename(urbac_store *s, const char *tenant, const char *kind,
                                          const char *old_id, const char *new_id, const urbac_write *w,
                                          uint64_t *revision, urbac_diag *d);
/* Deletes user or group `id` and every name given to it (by id or externalId) in
 * one write: it leaves every group, assignment, device group's userAccess and
 * legacy role that names it, each change audited (urbac_store_put() of a delete
 * refuses while it is named). Costs the objects that name it. */
URBAC_EXTERN urbac_err urbac_store_delete_cascade(urbac_store *s, const char *tenant, const char *kind,
                                                  const char *id, const urbac_write *w, uint64_t *revision,
                                                  urbac_diag *d);

/* ---------------------------------------------------------------- group commit */

/* Opens a batch on `s`: until urbac_store_batch_end(), every write made through
 * `s` (put, put_many, apply, API keys) runs inside ONE write transaction, each
 * write in its own savepoint. A write that fails is rolled back to its savepoint
 * and returns its error as it would alone; the writes before and after it stay.
 * Each write still gets its own revision and audit records. Reads through `s`
 * see the batch's writes; nothing is visible to other handles, nor durable,
 * before the batch commits: one commit, one fsync, one witness of the last
 * chain head. Meanwhile `s` holds the store's write lock (SQLite: the database;
 * PostgreSQL: the writers' advisory lock): keep batches short. A batch writes to
 * one tenant; batches do not nest (URBAC_EINVAL). */
URBAC_EXTERN urbac_err urbac_store_batch_begin(urbac_store *s, urbac_diag *d);
/* Ends the batch: commits every write that succeeded inside it (commit true),
 * or rolls them all back (false). When the commit fails none of them holds, and
 * the error is returned: the caller must not report any of them as done.
 * URBAC_EINVAL when no batch is open. */
URBAC_EXTERN urbac_err urbac_store_batch_end(urbac_store *s, bool commit, urbac_diag *d);

/* ---------------------------------------------------------------- the change feed */

/* One object change committed after the caller's revision: `json` is the
 * object's canonical JSON after it (NULL: deleted). The strings are valid
 * during the call only. A non-zero return stops the walk. */
typedef int (*urbac_change_cb)(void *ctx, uint64_t revision, const char *kind, const char *id,
                               const char *json);
/* The most changes urbac_store_changes() gives in one call. */
#define URBAC_STORE_CHANGES_MAX 10000
/*
 * Calls `cb` with every object change of `tenant` committed after revision
 * `after`, oldest first (within a revision, in the order it was written), and
 * sets *revision to the revision they bring the tenant to (`after` when nothing
 * changed). The changes are read from the audit log (API key records are not
 * changes of the tenant), through its revision index, in one read transaction.
 * When the log cannot answer - more than URBAC_STORE_CHANGES_MAX changes behind,
 * records missing (pruned), or `after` past the tenant's revision (another
 * store, a restored backup) - it fails with URBAC_EBEHIND, calls `cb` never, and
 * the caller reloads the tenant once (urbac_store_load()). URBAC_ENOTFOUND when
 * there is no such tenant; URBAC_EREFUSED when `cb` stopped the walk (then
 * *revision is `after`).
 */
URBAC_EXTERN urbac_err urbac_store_changes(urbac_store *s, const char *tenant, uint64_t after,
                                           urbac_change_cb cb, void *ctx, uint64_t *revision, urbac_diag *d);

/*
 * The changes the open batch (urbac_store_batch_begin()) wrote to `tenant`, as
 * urbac_store_changes() will give them after `after` once the batch commits,
 * without reading them back: `cb` is called with each, in order, and *revision
 * is the batch's last revision. For a caller that prepares what follows a
 * commit while it runs, and uses it only once the commit succeeded.
 * URBAC_ENOTFOUND when the batch cannot say: it wrote nothing to `tenant`, its
 * first revision is not after + 1 (another writer's came between), it wrote
 * another tenant too, a write of it failed after its savepoint was released,
 * or it wrote more than
 * it keeps (URBAC_STORE_CHANGES_MAX changes, URBAC_STORE_BATCH_KEPT bytes of
 * bodies); URBAC_EREFUSED when `cb` stopped the walk. The strings `cb` gets
 * are the handle's, valid during the call only; like the handle, this belongs
 * to the thread that opened the batch.
 */
#define URBAC_STORE_BATCH_KEPT (8u << 20)
URBAC_EXTERN urbac_err urbac_store_batch_changes(urbac_store *s, const char *tenant, uint64_t after,
                                                 urbac_change_cb cb, void *ctx, uint64_t *revision);

/* ---------------------------------------------------------------- API keys */

/* A tenant's API key, as stored: only a salted SHA-256 of its secret is kept.
 * A key acts as one user of the tenant. */
typedef struct urbac_api_key {
  const char *id;      /* public: the token is "urbac_" ID "_" SECRET */
  const char *name;    /* what it is for */
  const char *user;    /* the tenant user it acts as */
  const char *scope;   /* "all", "decisions" (the decision endpoints only) or "provisioning" (the
                          tenant's SCIM endpoint only) */
  const char *created; /* UTC, ISO 8601 */
  const char *expires; /* UTC, ISO 8601, or "" for never */
  const char *revoked; /* UTC, ISO 8601, or "" while valid */
  const char *salt, *hash;
  const char *created_by; /* the actor that created it; "" for keys made before it was kept */
} urbac_api_key;

/*
 * Creates a key for `key->user` (a user of the tenant) with `key->name`,
 * `key->scope` and `key->expires` ("" or NULL: never); the id, salt, hash and
 * times are made here, and `created_by` is `w->actor`. The token, shown once, is
 * in *token (the caller frees it with urbac_free()). Audited as `w->actor`; the
 * tenant's revision is unchanged.
 */
URBAC_EXTERN urbac_err urbac_store_key_create(urbac_store *s, const char *tenant, const urbac_api_key *key,
                                              const urbac_write *w, char **token, urbac_diag *d);
/* Marks key `id` revoked (it stays listed). Audited. */
URBAC_EXTERN urbac_err urbac_store_key_revoke(urbac_store *s, const char *tenant, const char *id,
                                              const urbac_write *w, urbac_diag *d);
/* Calls `cb` with every key of the tenant (revoked ones too), by id; the strings
 * are valid during the call only. */
typedef int (*urbac_key_cb)(void *ctx, const urbac_api_key *k);
URBAC_EXTERN urbac_err urbac_store_keys(urbac_store *s, const char *tenant, urbac_key_cb cb, void *ctx,
                                        urbac_diag *d);
/* Splits a token into its key id and secret; false when it is not a urbac key. */
URBAC_EXTERN bool urbac_key_token_split(const char *token, size_t len, char id[17], const char **secret,
                                        size_t *secret_len);
/* Does `secret` hash to the key's hash? In constant time. Revocation and expiry
 * are the caller's to check. */
URBAC_EXTERN bool urbac_key_matches(const urbac_api_key *k, const char *secret, size_t len);

/* ---------------------------------------------------------------- audit */

typedef struct urbac_audit_record {
  uint64_t seq, revision;
  const char *at; /* UTC, ISO 8601 */
  const char *actor, *command;
  const char *kind, *object;
  const char *before, *after; /* canonical JSON, or NULL */
  const char *prev_hash, *hash;
  const char *state; /* the tenant's state digest after this change; NULL before schema 2 */
  const char *mac;   /* HMAC-SHA256 of `hash` under the audit key, or NULL (an unkeyed record) */
} urbac_audit_record;

typedef struct urbac_audit_filter {
  const char *object; /* only this object id (any kind), or NULL */
  const char *actor;  /* only this actor, or NULL */
  const char *since;  /* only records at or after this time (ISO 8601 prefix), or NULL */
} urbac_audit_filter;

typedef int (*urbac_audit_cb)(void *ctx, const urbac_audit_record *r);
/* Calls `cb` for each audit record of `tenant` that passes `f` (NULL: all), in
 * order; the record's strings are valid during the call only. */
URBAC_EXTERN urbac_err urbac_store_audit(urbac_store *s, const char *tenant, const urbac_audit_filter *f,
                                         urbac_audit_cb cb, void *ctx, urbac_diag *d);
/* The audit protections of a store handle (docs/operations.md says what each proves). */
typedef struct urbac_audit_opts {
  /* a file holding the HMAC key (at least 32 bytes; a trailing newline is not
   * part of it), readable by its owner only; NULL: records are not MACed */
  const char *key_file;
  /* a file each write appends the chain's new head to, as a JSON line; NULL: none */
  const char *witness_file;
  bool witness_syslog; /* the same line to syslog(3) (LOG_AUTHPRIV | LOG_NOTICE) */
} urbac_audit_opts;
/* Gives the handle an audit key and witness: every write through it then MACs
 * its records and witnesses its head, and urbac_store_audit_check() checks the
 * MACs and the witness file. A key file others may read, or one too short, is
 * refused (URBAC_EREFUSED, URBAC_EVALUE). Nothing of `o` is retained. */
URBAC_EXTERN urbac_err urbac_store_set_audit(urbac_store *s, const urbac_audit_opts *o, urbac_diag *d);

typedef struct urbac_audit_report {
  uint64_t records;   /* audit records checked */
  uint64_t stated;    /* of which carry a state digest (written by schema 2 on) */
  uint64_t keyed;     /* of which carry a MAC the key verified (0 without a key) */
  uint64_t objects;   /* stored rows compared with what the log's changes produce */
  uint64_t witnessed; /* witness lines of this tenant checked (0 without a witness) */
  uint64_t bad;       /* the first bad record's sequence number, 0 when none is named */
} urbac_audit_report;
/*
 * Checks `tenant`'s audit log against everything that can vouch for it: the
 * store's pages (SQLite's integrity_check), the hash chain, the MACs (with a key
 * from urbac_store_set_audit()), the witness file (when set), that the
 * stored objects and API keys are exactly what the log's changes produce (a
 * replay, and the state digest of the last record), and that the reference
 * index a write checks names against names exactly what the stored objects
 * name (a row removed from it would let a dangling name through). URBAC_ETAMPERED when
 * anything disagrees, with one diagnostic per problem in `d` (a record by its
 * sequence number, a row by its kind and id); URBAC_ESTORE when the store is
 * damaged or cannot be read. `r` is filled either way.
 */
URBAC_EXTERN urbac_err urbac_store_audit_check(urbac_store *s, const char *tenant, urbac_audit_report *r,
                                               urbac_diag *d);
/* urbac_store_audit_check() with the first bad record in *bad; *count is how
 * many records were checked. */
URBAC_EXTERN urbac_err urbac_store_audit_verify(urbac_store *s, const char *tenant, uint64_t *count,
                                                uint64_t *bad, urbac_diag *d);

#ifdef __cplusplus
}
#endif
#endif
