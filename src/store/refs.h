/*
 * store/refs.h - the reference index (store/refs.c) and the write path that
 * uses it (store/write.c).
 *
 * Depends on: store/store.h.
 */
#ifndef URBAC_STORE_REFS_H
#define URBAC_STORE_REFS_H

#include "store/store.h"

typedef struct urbac__ref_list {
  urbac__ref_row *v;
  size_t n, cap;
} urbac__ref_list;
void urbac__ref_list_free(urbac__ref_list *l);

/* The pseudo kinds of the rows that index externalIds (from the user or group to its key). */
#define URBAC__REF_XID_USER "user.externalId"
#define URBAC__REF_XID_GROUP "group.externalId"

/* "kind\nid", the key of an object in a map; the caller frees it with urbac__free(). */
char *urbac__pair_key(const char *kind, const char *id);
/* Can an object of `kind` name others? (groups, device groups, roles, legacy roles;
 * users and groups name their externalId) */
bool urbac__refs_kind_names(const char *kind);
/* Adds every name the objects of `m` give (a model of one object: its own) to
 * `out` as rows from (kind, id); the strings are borrowed from `m`, `kind` and `id`. */
urbac_err urbac__refs_of(const urbac_model *m, const char *kind, const char *id, urbac__ref_list *out);
/* Like urbac__refs_of() for the one object (kind, id) of a whole model `m`, found
 * by id (users, groups, device groups, roles); *found false (nothing added) for
 * another kind or an object `m` does not hold. */
urbac_err urbac__refs_of_in(const urbac_model *m, const char *kind, const char *id, urbac__ref_list *out,
                            bool *found);
/* Makes the index rows from (kind, id) those of `after` (NULL: none, a delete),
 * inside the caller's write transaction; `alone` is `after` parsed already
 * (urbac__object_parse()), or NULL to parse it here; `old` the index's rows from
 * it as (to_kind, to_id) pairs, when the caller read them already (or knows
 * there are none: an object created), or NULL to read them here. */
urbac_err urbac__refs_write(urbac_store *store, const char *tenant, const char *kind, const char *id,
                            const char *after, const urbac_model *alone, const urbac__strs *old,
                            urbac_diag *d);
/* The index rows of many objects' writes, staged (urbac__refs_stage(), what
 * urbac__refs_write() takes) and written together (urbac__refs_flush()): one
 * statement for the rows removed and one for those added, in key order, so a
 * whole new tenant's index costs a bulk insert, not a round trip per object. */
typedef struct urbac__refs_batch {
  urbac__ref_list added, removed;
  urbac__strs pool;         /* the names of rows the stage read or parsed itself, copied */
  const urbac_model *whole; /* borrowed, or NULL: the model the staged bodies were written from,
                               whose objects say what they name without parsing each body */
} urbac__refs_batch;
/* The rows of (kind, id), staged as urbac__refs_write() makes them; the rows
 * added borrow their names from `alone` or b->whole when they come from there,
 * so those must outlive urbac__refs_flush(). */
urbac_err urbac__refs_stage(urbac_store *store, const char *tenant, const char *kind, const char *id,
                            const char *after, const urbac_model *alone, const urbac__strs *old,
                            urbac__refs_batch *b, urbac_diag *d);
/* Writes what `b` holds and empties it (also on failure). `kind` and `id` of the
 * objects staged must outlive this call. */
urbac_err urbac__refs_flush(urbac_store *store, const char *tenant, urbac__refs_batch *b, urbac_diag *d);
/* *agree: do the index rows from (kind, id) name exactly what `body` names? (The
 * audit check: an index edited by hand would let a dangling name be written.) */
urbac_err urbac__refs_agree(urbac_store *store, const char *tenant, const char *kind, const char *id,
                            const char *body, bool *agree, urbac_diag *d);
/* The index rows from (kind, id) of `tenant` as (to_kind, to_id) pairs, known
 * without reading them: this handle wrote that object last, and the store holds
 * the very body it wrote (`body`, read in the caller's write transaction). The
 * rows are a function of the body (each is what the object alone names), so the
 * body says what they are; a write that did not commit left another body there
 * and is not recalled. Borrowed until the next urbac__named_remember() or
 * urbac__named_forget(); NULL when not remembered. */
const urbac__strs *urbac__named_recall(urbac_store *s, const char *tenant, const char *kind, const char *id,
                                       const char *body);
/* Remembers the rows `alone` (`body` parsed alone) gives (kind, id), distinct, as
 * the index holds them once `body` is written, when they are s->named_min or more
 * (a big group's members: read back, they cost a row each on its next write) and
 * the body at most URBAC__NAMED_BODY_MAX bytes; forgets what was remembered of
 * (kind, id) otherwise (`body` or `alone` NULL: deleted), or when memory runs out
 * (a memory, not the store: the write stands). The least recently recalled
 * object makes room. */
void urbac__named_remember(urbac_store *s, const char *tenant, const char *kind, const char *id,
                           const char *body, const urbac_model *alone);
/* Forgets everything remembered (the handle is closing). */
void urbac__named_forget(urbac_store *s);
/* Fills the index from every stored object of every tenant (schema 3's migration). */
urbac_err urbac__refs_fill(urbac_store *store, urbac_diag *d);

/* The incremental urbac_store_put_many() (store/write.c): validates and writes only
 * what the puts touch, inside the write transaction the caller began; `row` is the
 * tenant's row, advanced when something is written. */
urbac_err urbac__store_put_incremental(urbac_store *store, const char *tenant, const urbac_object_put *puts,
                                       size_t np, const urbac_write *w, urbac__tenant_row *row,
                                       urbac_diag *d);

/* Builds the puts of one write inside its transaction (reads through `s` see the
 * store as the write will find it); *puts stays owned by `ctx`. */
typedef urbac_err (*urbac__puts_fn)(urbac_store *s, const char *tenant, void *ctx,
                                    const urbac_object_put **puts, size_t *n, urbac_diag *d);
/* urbac_store_put_many() of the puts `build` makes inside the write transaction
 * (store/store.c): a rename, a delete with its names (store/rename.c). */
urbac_err urbac__store_put_built(urbac_store *s, const char *tenant, urbac__puts_fn build, void *ctx,
                                 const urbac_write *w, uint64_t *revision, urbac_diag *d);

/* Writes `n` changes (`after[i]`: the object as it will be stored, NULL for a
 * delete; `alone[i]`: it parsed, or NULL; `whole`: the model every after[i] was
 * written from, or NULL; `old[i]`: the index's rows from it, or NULL:
 * urbac__refs_write()), the index rows, one chained audit
 * record per change (the chain on a second thread for URBAC__BULK_OBJECTS
 * changes or more), the tenant's row (revision + 1) and the notify; inside the
 * caller's write transaction (store/store.c). */
urbac_err urbac__store_write_changes(urbac_store *store, const char *tenant, const urbac_change *changes,
                                     const urbac__object *const *after, const urbac_model *const *alone,
                                     const urbac_model *whole, const urbac__strs *const *old, size_t n,
                                     const urbac_write *w, urbac__tenant_row *row, urbac_diag *d);

#endif
