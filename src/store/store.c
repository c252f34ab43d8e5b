/*
 * store/store.c - the generic store: open by URL, migrate, load, plan, apply
 * with revisions and a hash-chained audit log, verify the chain.
 *
 * A write is one transaction: the tenant row is read (and, for SQLite, the
 * database locked: BEGIN IMMEDIATE) first, so the revision check and the write
 * cannot interleave with another writer; then every object change, one audit
 * record per change, chained by store/audit.c (which also checks the chain),
 * and the new revision, chain head and state digest; once committed, the head
 * goes to the witness. A big write computes the chain on a second thread while
 * it writes the objects (chain_all()).
 *
 * Depends on: util, model, io/objects.c, store backends, store/audit.c, jansson, pthreads.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "store/audit.h"
#include <jansson.h>

#include "store/refs.h"

static const urbac__store_ops *const backends[] = {&urbac__postgres_ops, &urbac__sqlite_ops};

struct urbac_plan {
  uint64_t revision;
  size_t *moved; /* unchanged objects (indices into want) whose place in the file changed */
  size_t nmoved, cap_moved;
  urbac_change *changes;
  size_t *want_of; /* per change: its index in `want` (SIZE_MAX for a delete) */
  size_t n, cap, cap_of;
  urbac__object *want, *have; /* the changes point into these */
  size_t nwant, nhave;
  urbac_change *kept; /* objects managed by scim the tenant lacks, kept (not deleted) */
  size_t nkept, cap_kept;
  bool prune;
};

void urbac_store_prune_provisioned(urbac_store *s, bool prune) { s->prune = prune; }
size_t urbac_plan_kept_count(const urbac_plan *p) { return p->nkept; }
const urbac_change *urbac_plan_kept(const urbac_plan *p, size_t i)
{
  return i < p->nkept ? &p->kept[i] : NULL;
}

/* Is stored object `o` a user or group the identity provider manages (managedBy: scim)? */
static bool provisioned(const urbac__object *o)
{
  if (strcmp(o->kind, "user") != 0 && strcmp(o->kind, "group") != 0)
    return false;
  json_t *j = json_loads(o->body, 0, NULL);
  const char *by = json_string_value(json_object_get(j, "managedBy"));
  bool yes = by && strcmp(by, "scim") == 0;
  json_decref(j);
  return yes;
}

int urbac_store_schema(void) { return URBAC__SCHEMA_VERSION; }

/* Where the password of `url` is, as written: the text between the first ':'
 * after "://" and the last '@' (so an unescaped '@' or '/' in it is covered),
 * or a password= parameter; false when there is none. */
static bool password_span(const char *url, size_t *at, size_t *len)
{
  const char *auth = strstr(url, "://"), *last = strrchr(url, '@'), *colon = NULL, *p = url;
  if (auth && last && last > auth + 3)
    colon = memchr(auth + 3, ':', (size_t)(last - auth - 3));
  if (colon) {
    *at = (size_t)(colon + 1 - url);
    *len = (size_t)(last - colon - 1);
    return true;
  }
  for (; (p = strstr(p, "password=")) != NULL; p += 9)
    if (p == url || strchr("?& \t", p[-1])) {
      *at = (size_t)(p + 9 - url);
      *len = strcspn(p + 9, "& \t#");
      return true;
    }
  return false;
}

void urbac_store_url_redacted(const char *url, char *buf, size_t size)
{
  size_t at = 0, len = 0;
  if (!size)
    return;
  if (!url)
    url = "";
  if (password_span(url, &at, &len))
    snprintf(buf, size, "%.*s***%s", (int)at, url, url + at + len);
  else
    snprintf(buf, size, "%s", url);
}

/* Replaces each `needle` in `msg` by "***". */
static void replace_all(char *msg, size_t size, const char *needle, size_t n)
{
  urbac__buf b = {0};
  const char *p = msg, *hit;
  if (!n)
    return;
  while ((hit = strstr(p, needle)) != NULL) {
    urbac__buf_printf(&b, "%.*s***", (int)(hit - p), p);
    p = hit + n;
  }
  if (p == msg)
    return;
  urbac__buf_puts(&b, p);
  char *out = urbac__buf_take(&b, NULL);
  snprintf(msg, size, "%s", out ? out : "(message withheld: it held a password)");
  urbac__free(out);
}

void urbac__redact(char *msg, size_t size, const char *url)
{
  size_t at = 0, len = 0;
  char secret[512], decoded[512];
  if (!url || !password_span(url, &at, &len) || len == 0 || len >= sizeof secret)
    return;
  memcpy(secret, url + at, len);
  secret[len] = '\0';
  size_t k = 0;
  for (size_t i = 0; i < len; i++) { /* as libpq decodes it */
    if (secret[i] == '%' && i + 2 < len && isxdigit((unsigned char)secret[i + 1]) &&
        isxdigit((unsigned char)secret[i + 2])) {
      char hex[3] = {secret[i + 1], secret[i + 2], '\0'};
      decoded[k++] = (char)strtol(hex, NULL, 16);
      i += 2;
    } else {
      decoded[k++] = secret[i];
    }
  }
  decoded[k] = '\0';
  replace_all(msg, size, secret, len);
  replace_all(msg, size, decoded, k);
}

urbac_err urbac_store_open(const char *url, urbac_store_mode mode, urbac_store **out, urbac_diag *d)
{
  urbac_store *store;
  int version = 0;
  char shown[1024];
  *out = NULL;
  if (!url || !*url)
    return urbac__diag_add(d, URBAC_EINVAL, NULL, 0, 0, NULL,
                           "no store given: a SQLite file path, sqlite:///PATH or postgresql://...");
  urbac_store_url_redacted(url, shown, sizeof shown);
  if (mode != URBAC_STORE_READ && mode != URBAC_STORE_WRITE && mode != URBAC_STORE_CREATE)
    return urbac__diag_add(d, URBAC_EINVAL, shown, 0, 0, NULL, "unknown store open mode %d", (int)mode);
  if (!(store = urbac__calloc(1, sizeof *store)))
    return URBAC_ENOMEM;
  store->named_min = URBAC__NAMED_MIN;
  for (size_t i = 0; i < sizeof backends / sizeof backends[0] && !store->ops; i++)
    if (backends[i]->accepts(url))
      store->ops = backends[i];
  urbac_err err = store->ops ? store->ops->open(url, mode, &store->db, d)
                             : urbac__diag_add(d, URBAC_EINVAL, shown, 0, 0, NULL,
                                               "not a store URL this urbac knows: a SQLite file path, "
                                               "sqlite:///ABSOLUTE/PATH, sqlite:RELATIVE/PATH, a file: URI, "
                                               "or postgresql://USER:PASSWORD@HOST:PORT/DATABASE");
  if (!err)
    err = store->ops->schema(store->db, &version, d);
  if (!err && version < 0)
    err = urbac__diag_add(d, URBAC_ESCHEMA, shown, 0, 0, NULL,
                          "not a urbac store: the database holds other tables");
  if (!err && version > URBAC__SCHEMA_VERSION)
    err = urbac__diag_add(d, URBAC_ESCHEMA, shown, 0, 0, NULL,
                          "the store's schema is version %d, newer than this urbac knows (%d): upgrade urbac",
                          version, URBAC__SCHEMA_VERSION);
  if (!err)
    err = store->ops->setup(store->db, d);
  if (err) {
    urbac_store_close(store);
    return err;
  }
  *out = store;
  return URBAC_OK;
}

void urbac_store_health_get(const urbac_store *store, urbac_store_health *h)
{
  store->ops->health(store->db, h);
}

uint64_t urbac__store_round_trips(const urbac_store *store)
{
  return store->ops == &urbac__postgres_ops ? urbac__postgres_round_trips(store->db) : 0;
}

static urbac_err batch_heads_end(urbac_store *store, bool witness, urbac_diag *d);

void urbac_store_close(urbac_store *store)
{
  if (!store)
    return;
  if (store->db)
    store->ops->close(store->db);
  urbac__strs_free(&store->tenants);
  urbac__free((void *)store->tenant_ids);
  batch_heads_end(store, false, NULL); /* a batch left open is rolled back with the connection */
  urbac__audit_forget(store);
  urbac__named_forget(store);
  urbac__journal_reset(store);
  urbac__free(store);
}

urbac_err urbac_store_migrate(urbac_store *store, int *from, int *to, urbac_diag *d)
{
  int version = 0;
  urbac_err err = store->ops->schema(store->db, &version, d);
  *from = *to = version;
  for (int v = version + 1; !err && v <= URBAC__SCHEMA_VERSION; v++) {
    err = store->ops->begin(store->db, true, d);
    if (err)
      break;
    err = store->ops->migrate_step(store->db, v, d);
    if (!err && v == 3) /* the reference index of the tenants already there */
      err = urbac__refs_fill(store, d);
    if (!err)
      err = store->ops->commit(store->db, d);
    else
      store->ops->rollback(store->db);
    if (!err)
      *to = v;
  }
  return err;
}

/* Every read and write below needs a schema in place. */
urbac_err urbac__store_need_schema(urbac_store *store, urbac_diag *d)
{
  int version = 0;
  if (store->schema_ok) /* a schema only moves forward: once recent enough, always */
    return URBAC_OK;
  urbac_err err = store->ops->schema(store->db, &version, d);
  if (!err && version == 0)
    err = urbac__diag_add(d, URBAC_ESCHEMA, NULL, 0, 0, NULL, "the store is empty: run 'urbac init' first");
  if (!err && version < URBAC__SCHEMA_VERSION)
    err = urbac__diag_add(d, URBAC_ESCHEMA, NULL, 0, 0, NULL,
                          "the store's schema is version %d, older than this urbac's (%d):"
                          " run 'urbac migrate'",
                          version, URBAC__SCHEMA_VERSION);
  store->schema_ok = !err;
  return err;
}

urbac_err urbac__store_objects(urbac_store *store, const char *tenant, bool keys, urbac__object **o,
                               size_t *n, urbac_diag *d)
{
  return store->ops->objects(store->db, tenant, keys ? URBAC__KIND_API_KEY : NULL, o, n, d);
}

urbac_err urbac_store_tenants(urbac_store *store, const char *const **ids, size_t *n, urbac_diag *d)
{
  urbac__strs_free(&store->tenants);
  urbac__free((void *)store->tenant_ids);
  store->tenant_ids = NULL;
  urbac_err err = urbac__store_need_schema(store, d);
  if (!err)
    err = store->ops->tenants(store->db, &store->tenants, d);
  if (!err && !(store->tenant_ids = urbac__calloc(store->tenants.n + 1, sizeof *store->tenant_ids)))
    err = urbac__diag_code(d, URBAC_ENOMEM, "listing the tenants");
  for (size_t i = 0; !err && i < store->tenants.n; i++)
    store->tenant_ids[i] = store->tenants.v[i];
  *ids = store->tenant_ids;
  *n = err ? 0 : store->tenants.n;
  return err;
}

urbac_err urbac_store_revision(urbac_store *store, const char *tenant, uint64_t *revision, urbac_diag *d)
{
  urbac__tenant_row row;
  urbac_err err = urbac__store_need_schema(store, d);
  if (!err)
    err = urbac__store_row_get(store, tenant, &row, d);
  if (!err && !row.exists)
    err = urbac__diag_add(d, URBAC_ENOTFOUND, NULL, 0, 0, NULL, "the store holds no tenant '%s'", tenant);
  *revision = err ? 0 : row.revision;
  return err;
}

urbac_err urbac_store_watch(urbac_store *store, const char *tenant, uint64_t after, int timeout_ms,
                            uint64_t *revision, urbac_diag *d)
{
  struct timespec start, now;
  size_t had = urbac_diag_count(d);
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    /* only the last attempt's error is news */
    urbac__diag_truncate(d, had);
    urbac_err err = urbac_store_revision(store, tenant, revision, d);
    if (err == URBAC_ENOTFOUND) {
      urbac__diag_truncate(d, had);
      *revision = 0;
      err = URBAC_OK;
    }
    if ((err && err != URBAC_EUNAVAILABLE) || (!err && *revision > after))
      return err;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long waited = (now.tv_sec - start.tv_sec) * 1000LL + (now.tv_nsec - start.tv_nsec) / 1000000;
    if (waited >= timeout_ms) {
      *revision = after;
      return err;
    }
    /* the backend sleeps (till the next reconnection attempt, at most) when the store is down */
    urbac_err werr = store->ops->wait(store->db, (int)(timeout_ms - waited));
    if (werr && werr != URBAC_EUNAVAILABLE)
      return urbac__diag_code_since(d, had, werr, "waiting for a change");
  }
}

urbac_err urbac_store_load(urbac_store *store, const char *tenant, urbac_model **out, uint64_t *revision,
                           urbac_diag *d)
{
  urbac__tenant_row row;
  urbac__object *o = NULL;
  size_t n = 0;
  char name[512];
  *out = NULL;
  urbac_err err = urbac__store_need_schema(store, d);
  if (!err)
    err = store->ops->begin(store->db, false, d);
  if (err)
    return err;
  err = urbac__store_read(store, tenant, false, &row, &o, &n, d);
  if (!err)
    err = store->ops->commit(store->db, d);
  else
    store->ops->rollback(store->db);
  snprintf(name, sizeof name, "store:%s", tenant);
  if (!err)
    err = urbac__model_from_objects(tenant, o, n, name, out, d);
  urbac__objects_free(o, n);
  if (revision)
    *revision = err ? 0 : row.revision;
  return err;
}

/* ---------------------------------------------------------------- plans */

void urbac_plan_free(urbac_plan *p)
{
  if (!p)
    return;
  urbac__objects_free(p->want, p->nwant);
  urbac__objects_free(p->have, p->nhave);
  urbac__free(p->changes);
  urbac__free(p->want_of);
  urbac__free(p->moved);
  urbac__free(p->kept);
  urbac__free(p);
}

size_t urbac_plan_count(const urbac_plan *p) { return p->n; }
const urbac_change *urbac_plan_change(const urbac_plan *p, size_t i)
{
  return i < p->n ? &p->changes[i] : NULL;
}
uint64_t urbac_plan_revision(const urbac_plan *p) { return p->revision; }

static urbac_err add_change(urbac_plan *p, urbac_change_op op, const urbac__object *o, const char *before,
                            const char *after)
{
  if (URBAC_GROW(p->changes, p->cap, p->n + 1) || URBAC_GROW(p->want_of, p->cap_of, p->n + 1))
    return URBAC_ENOMEM;
  p->want_of[p->n] = op == URBAC_DELETE ? SIZE_MAX : (size_t)(o - p->want);
  p->changes[p->n++] = (urbac_change){op, o->kind, o->id, before, after};
  return URBAC_OK;
}

/* "kind\nid" keys for matching objects across two lists. */
static char *object_key(const urbac__object *o)
{
  urbac__buf b = {0};
  urbac__buf_printf(&b, "%s\n%s", o->kind, o->id);
  return urbac__buf_take(&b, NULL);
}

/* The changes from p->have to p->want: creates and updates in `want` order,
 * then deletes in `have` order. */
static urbac_err diff(urbac_plan *p)
{
  urbac__strmap have = {0};
  urbac__strs keys = {0};
  bool *kept = urbac__calloc(p->nhave + 1, sizeof *kept);
  urbac_err err = kept ? urbac__strmap_init(&have, p->nhave) : URBAC_ENOMEM;
  for (size_t i = 0; !err && i < p->nhave; i++) {
    char *k = object_key(&p->have[i]);
    err = !k || urbac__strs_add(&keys, k, strlen(k)) ? URBAC_ENOMEM : URBAC_OK;
    urbac__free(k);
    if (!err)
      err = urbac__strmap_put(&have, keys.v[i], strlen(keys.v[i]), (uint32_t)i, NULL);
  }
  for (size_t i = 0; !err && i < p->nwant; i++) {
    uint32_t h;
    char *k = object_key(&p->want[i]);
    if (!k) {
      err = URBAC_ENOMEM;
      break;
    }
    bool found = urbac__strmap_get(&have, k, strlen(k), &h);
    urbac__free(k);
    if (!found)
      err = add_change(p, URBAC_CREATE, &p->want[i], NULL, p->want[i].body);
    else if ((kept[h] = true, strcmp(p->have[h].body, p->want[i].body) != 0))
      err = add_change(p, URBAC_UPDATE, &p->want[i], p->have[h].body, p->want[i].body);
    else if (p->have[h].position !=
             p->want[i].position) { /* the same object in another place: not a change */
      if (URBAC_GROW(p->moved, p->cap_moved, p->nmoved + 1))
        err = URBAC_ENOMEM;
      else
        p->moved[p->nmoved++] = i;
    }
  }
  for (size_t i = 0; !err && i < p->nhave; i++)
    if (!kept[i] && !p->prune && provisioned(&p->have[i])) { /* the identity provider's: kept */
      if (URBAC_GROW(p->kept, p->cap_kept, p->nkept + 1))
        err = URBAC_ENOMEM;
      else
        p->kept[p->nkept++] =
            (urbac_change){URBAC_DELETE, p->have[i].kind, p->have[i].id, p->have[i].body, NULL};
    } else if (!kept[i]) {
      err = add_change(p, URBAC_DELETE, &p->have[i], p->have[i].body, NULL);
    }
  urbac__strmap_free(&have);
  urbac__strs_free(&keys);
  urbac__free(kept);
  return err;
}

/* Reads the tenant and computes the plan, inside the caller's transaction. */
static urbac_err plan_in_tx(urbac_store *store, const urbac_model *want, urbac_plan *p,
                            urbac__tenant_row *row, bool keep, urbac_diag *d)
{
  const char *tenant = urbac_model_tenant(want);
  urbac_err err = urbac__store_row_get(store, tenant, row, d);
  p->prune = !keep;
  if (!err && row->exists)
    err = urbac__store_objects(store, tenant, false, &p->have, &p->nhave, d);
  if (!err)
    err = urbac__model_objects(want, &p->want, &p->nwant);
  if (!err)
    err = diff(p);
  p->revision = row->exists ? row->revision : 0;
  return err;
}

urbac_err urbac_store_plan(urbac_store *store, const urbac_model *want, urbac_plan **out, urbac_diag *d)
{
  urbac__tenant_row row;
  urbac_plan *p = urbac__calloc(1, sizeof *p);
  urbac_err err = p ? urbac__store_need_schema(store, d) : URBAC_ENOMEM;
  *out = NULL;
  if (!err)
    err = store->ops->begin(store->db, false, d);
  if (!err) {
    err = plan_in_tx(store, want, p, &row, !store->prune, d);
    if (!err)
      err = store->ops->commit(store->db, d);
    else
      store->ops->rollback(store->db);
  }
  if (err) {
    urbac_plan_free(p);
    return err;
  }
  *out = p;
  return URBAC_OK;
}

/* ---------------------------------------------------------------- apply */

void urbac__utc_now(char *buf, size_t size)
{
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Puts unchanged objects that moved in their new place (display order only: no
 * audit record), so a dump lists objects as the file applied last did. */
static urbac_err write_moves(urbac_store *store, const char *tenant, const urbac_plan *p, urbac_diag *d)
{
  urbac_err err = URBAC_OK;
  for (size_t i = 0; i < p->nmoved && !err; i++)
    err = store->ops->object_put(store->db, tenant, &p->want[p->moved[i]], p->want[p->moved[i]].position, d);
  return err;
}

/* The audit records' chain (each record's hash, state digest and MAC) from
 * `row`'s head on: computation alone (SHA-256, 0.3 s for a new tenant of 100,000
 * users), which a write of URBAC__BULK_OBJECTS changes or more runs on a thread
 * of its own while it writes the objects and the index rows, and joins before it
 * writes the records. The thread writes the records, their sums and the head's
 * audit fields of `row` (audit_seq, audit_hash, state_hash), nothing else; it
 * reads the store's audit key and the changes' strings, which nothing writes
 * meanwhile. */
typedef struct chain_job {
  const urbac_store *store;
  urbac__tenant_row *row; /* its audit_seq, audit_hash, state_hash advanced; nothing else */
  urbac_audit_record *recs;
  urbac__audit_sums *sums;
  size_t n;
  urbac_err err;
} chain_job;

static void *chain_all(void *p)
{
  chain_job *j = p;
  for (size_t i = 0; i < j->n && !j->err; i++)
    j->err = urbac__audit_chain(j->store, j->row, &j->recs[i], &j->sums[i]);
  return NULL;
}

urbac_err urbac__store_write_changes(urbac_store *store, const char *tenant, const urbac_change *changes,
                                     const urbac__object *const *after, const urbac_model *const *alone,
                                     const urbac_model *whole, const urbac__strs *const *old, size_t n,
                                     const urbac_write *w, urbac__tenant_row *row, urbac_diag *d)
{
  char at[32];
  const urbac__object **puts = urbac__malloc((n + 1) * sizeof *puts);
  urbac_audit_record *recs = urbac__malloc((n + 1) * sizeof *recs);
  urbac__audit_sums *sums = urbac__malloc((n + 1) * sizeof *sums);
  size_t nputs = 0;
  urbac__refs_batch refs = {.whole = whole};
  chain_job chain = {store, row, recs, sums, n, URBAC_OK};
  pthread_t t;
  bool apart = false;
  urbac_err err = puts && recs && sums ? URBAC_OK : URBAC_ENOMEM;
  urbac__utc_now(at, sizeof at);
  if (!err)
    err = urbac__audit_writer_key(store, tenant, row, d);
  if (!err && !row->state_hash[0]) /* a tenant written before schema 2 (or a new one): counted once */
    err = urbac__audit_state_of_rows(store, tenant, row->state_hash, d);
  for (size_t i = 0; i < n && !err; i++)
    recs[i] = (urbac_audit_record){row->audit_seq + 1 + i,
                                   row->revision + 1,
                                   at,
                                   w->actor ? w->actor : "unknown",
                                   w->command ? w->command : "",
                                   changes[i].kind,
                                   changes[i].id,
                                   changes[i].before,
                                   changes[i].after,
                                   NULL,
                                   NULL,
                                   NULL,
                                   NULL};
  if (!err && n >= URBAC__BULK_OBJECTS) /* else (or no thread to be had) below, on this one */
    apart = pthread_create(&t, NULL, chain_all, &chain) == 0;
  for (size_t i = 0; i < n && !err; i++) {
    const urbac_change *c = &changes[i];
    if (c->op == URBAC_DELETE)
      err = store->ops->object_delete(store->db, tenant, c->kind, c->id, d);
    else
      puts[nputs++] = after[i];
    if (!err)
      err = urbac__refs_stage(store, tenant, c->kind, c->id, c->after, alone ? alone[i] : NULL,
                              old ? old[i] : NULL, &refs, d);
  }
  if (!err) /* in a batch: what urbac_store_batch_changes() will give */
    urbac__journal_keep(store, tenant, changes, n, row->revision + 1);
  urbac_err flushed = urbac__refs_flush(store, tenant, &refs, d); /* the index rows, all at once */
  err = err ? err : flushed;
  if (!err && nputs)
    err = store->ops->objects_put(store->db, tenant, puts, nputs, d);
  if (apart)
    pthread_join(t, NULL);
  else if (!err)
    chain_all(&chain);
  err = err ? err : chain.err;
  if (!err && n)
    err = store->ops->audit_put_many(store->db, tenant, recs, n, d);
  row->revision++;
  if (!err)
    err = urbac__store_row_put(store, tenant, row, d);
  if (!err)
    err = store->ops->notify(store->db, tenant, d);
  urbac__free(puts);
  urbac__free(recs);
  urbac__free(sums);
  return err;
}

/* Writes the plan's changes (store/refs.h says how). */
static urbac_err write_changes(urbac_store *store, const urbac_model *want, const urbac_plan *p,
                               const urbac_write *w, urbac__tenant_row *row, urbac_diag *d)
{
  static const urbac__strs none = {0}; /* an object created names nothing yet: no index rows to read */
  const urbac__object **after = urbac__calloc(p->n + 1, sizeof *after);
  const urbac__strs **old = urbac__calloc(p->n + 1, sizeof *old);
  urbac_err err = after && old ? URBAC_OK : URBAC_ENOMEM;
  for (size_t i = 0; !err && i < p->n; i++) {
    after[i] = p->changes[i].op == URBAC_DELETE ? NULL : &p->want[p->want_of[i]];
    old[i] = p->changes[i].op == URBAC_CREATE ? &none : NULL;
  }
  if (!err)
    err = urbac__store_write_changes(store, urbac_model_tenant(want), p->changes, after, NULL, want, old,
                                     p->n, w, row, d);
  urbac__free((void *)old);
  urbac__free(after);
  return err;
}

urbac_err urbac__store_audit_append(urbac_store *store, const char *tenant, urbac__tenant_row *row,
                                    const urbac_write *w, const char *kind, const char *id,
                                    const char *before, const char *after, urbac_diag *d)
{
  char at[32];
  urbac__audit_sums sums;
  urbac__utc_now(at, sizeof at);
  urbac_audit_record r = {row->audit_seq + 1,
                          row->revision,
                          at,
                          w->actor ? w->actor : "unknown",
                          w->command ? w->command : "",
                          kind,
                          id,
                          before,
                          after,
                          NULL,
                          NULL,
                          NULL,
                          NULL};
  urbac_err err = urbac__audit_writer_key(store, tenant, row, d);
  if (!err && !row->state_hash[0])
    err = urbac__audit_state_of_rows(store, tenant, row->state_hash, d);
  if (!err)
    err = urbac__audit_chain(store, row, &r, &sums);
  if (!err)
    err = store->ops->audit_put_many(store->db, tenant, &r, 1, d);
  if (!err)
    err = urbac__store_row_put(store, tenant, row, d);
  return err;
}

/* Plans and writes `want`, inside a write transaction the caller began. */
/* The tenant a plan leaves: `want` and the objects it keeps, validated together
 * (a kept group naming a user the file deletes is EDANGLING). */
static urbac_err check_kept(const urbac_plan *p, const char *tenant, urbac_diag *d)
{
  urbac__object *all = urbac__calloc(p->nwant + p->nkept + 1, sizeof *all);
  urbac_model *m = NULL;
  char name[600];
  if (!all)
    return URBAC_ENOMEM;
  memcpy(all, p->want, p->nwant * sizeof *all);
  for (size_t i = 0; i < p->nkept; i++)
    all[p->nwant + i] = (urbac__object){p->kept[i].kind, (char *)(uintptr_t)p->kept[i].id,
                                        (char *)(uintptr_t)p->kept[i].before, INT64_MAX};
  snprintf(name, sizeof name, "store:%s, with the objects managed by scim it keeps", tenant);
  urbac_err err = urbac__model_from_objects(tenant, all, p->nwant + p->nkept, name, &m, d);
  urbac_model_free(m);
  urbac__free(all);
  return err;
}

static urbac_err apply_locked(urbac_store *store, const urbac_model *want, const urbac_write *w,
                              urbac__tenant_row *row, bool keep, urbac_diag *d)
{
  const char *tenant = urbac_model_tenant(want);
  urbac_plan *p = urbac__calloc(1, sizeof *p);
  urbac_err err = p ? plan_in_tx(store, want, p, row, keep, d) : URBAC_ENOMEM;
  if (!err && p->nkept && p->n)
    err = check_kept(p, tenant, d);
  if (!err && w->if_revision && p->revision != w->revision)
    err = urbac__diag_add(
        d, URBAC_ECONFLICT, NULL, 0, 0, NULL,
        "tenant '%s' is at revision %llu, but the write was based on revision %llu: read it again", tenant,
        (unsigned long long)p->revision, (unsigned long long)w->revision);
  if (!err && p->n && store->check) /* the caller's last word on what the tenant would become */
    err = store->check(store->check_ctx, want, d);
  if (!err && p->n) {
    if (!row->exists) {
      /* a new tenant: its row first, which the objects and records refer to */
      *row = (urbac__tenant_row){.exists = true};
      err = store->ops->tenant_put(store->db, tenant, row, d);
    }
    if (!err)
      err = write_changes(store, want, p, w, row, d);
    if (!err)
      err = write_moves(store, tenant, p, d);
  }
  urbac_plan_free(p);
  return err;
}

void urbac_store_check_writes(urbac_store *store, urbac_write_check check, void *ctx)
{
  store->check = check;
  store->check_ctx = ctx;
}

void urbac_store_keep_parsed(urbac_store *store, urbac_parsed *into) { store->parsed = into; }

/* Remembers the head a write inside a batch committed to its savepoint: each
 * tenant's last one is witnessed when the batch commits. */
static urbac_err batch_head(urbac_store *store, const char *tenant, const urbac__tenant_row *row,
                            urbac_diag *d)
{
  urbac_err err = URBAC_OK;
  size_t i = 0;
  while (i < store->nheads && strcmp(store->heads[i].tenant, tenant) != 0)
    i++;
  if (i == store->nheads) {
    char *copy = urbac__strdup(tenant);
    if (!copy || URBAC_GROW(store->heads, store->cap_heads, i + 1)) {
      free(copy);
      err = urbac__diag_code(d, URBAC_ENOMEM, "remembering a batch's chain head");
      goto out;
    }
    store->heads[store->nheads++].tenant = copy;
  }
  store->heads[i].row = *row;
out:
  return err;
}

urbac_err urbac__store_row_get(urbac_store *store, const char *tenant, urbac__tenant_row *row, urbac_diag *d)
{
  for (size_t i = 0; store->batch && i < store->nheads; i++)
    if (strcmp(store->heads[i].tenant, tenant) == 0) {
      *row = store->heads[i].row;
      return URBAC_OK;
    }
  return store->ops->tenant_get(store->db, tenant, row, d);
}

urbac_err urbac__store_row_put(urbac_store *store, const char *tenant, const urbac__tenant_row *row,
                               urbac_diag *d)
{
  return store->batch ? URBAC_OK : store->ops->tenant_put(store->db, tenant, row, d);
}

/* The rows of the tenants the batch wrote, written before it commits. */
static urbac_err batch_rows_put(urbac_store *store, urbac_diag *d)
{
  urbac_err err = URBAC_OK;
  for (size_t i = 0; !err && i < store->nheads; i++)
    err = store->ops->tenant_put(store->db, store->heads[i].tenant, &store->heads[i].row, d);
  return err;
}

/* Witnesses (commit) or forgets the heads the batch wrote. */
static urbac_err batch_heads_end(urbac_store *store, bool witness, urbac_diag *d)
{
  urbac_err err = URBAC_OK;
  for (size_t i = 0; i < store->nheads; i++) {
    if (witness && !err)
      err = urbac__audit_witness(store, store->heads[i].tenant, &store->heads[i].row, d);
    free(store->heads[i].tenant);
  }
  free(store->heads);
  store->heads = NULL;
  store->nheads = store->cap_heads = 0;
  return err;
}

urbac_err urbac__store_end_write(urbac_store *store, urbac_err err, const char *tenant,
                                 const urbac__tenant_row *row, urbac_diag *d)
{
  if (err) {
    store->ops->rollback(store->db);
    urbac__journal_end(store, false, false, 0);
    return err;
  }
  err = store->ops->commit(store->db, d);
  bool released = !err;
  if (err) /* a commit refused (a statement PostgreSQL ran with it failed, SQLite busy): not left open */
    store->ops->rollback(store->db);
  else if (store->batch && row->exists) /* witnessed when the batch commits */
    err = batch_head(store, tenant, row, d);
  else /* a head is witnessed once it is committed */
    err = urbac__audit_witness(store, tenant, row, d);
  urbac__journal_end(store, released, !err, row->revision);
  return err;
}

/* ---------------------------------------------------------------- the batch's journal */

static void journal_entries_free(struct urbac__journal *j, size_t from)
{
  for (size_t i = from; i < j->n; i++) {
    urbac__free(j->v[i].id);
    urbac__free(j->v[i].after);
  }
  j->n = from;
}

/* The journal cannot say what the batch wrote: what it held is freed at once. */
static void journal_lose(struct urbac__journal *j)
{
  journal_entries_free(j, 0);
  j->done = j->bytes = 0;
  j->lost = true;
}

void urbac__journal_reset(urbac_store *store)
{
  struct urbac__journal *j = &store->journal;
  journal_entries_free(j, 0);
  urbac__free(j->v);
  urbac__free(j->tenant);
  *j = (struct urbac__journal){0};
}

void urbac__journal_keep(urbac_store *store, const char *tenant, const urbac_change *c, size_t n,
                         uint64_t revision)
{
  struct urbac__journal *j = &store->journal;
  if (!store->batch || j->lost)
    return;
  if (j->tenant ? strcmp(j->tenant, tenant) != 0 : !(j->tenant = urbac__strdup(tenant))) {
    journal_lose(j);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    const char *kind = urbac__object_kind(c[i].kind);
    size_t bytes = c[i].after ? strlen(c[i].after) : 0;
    if (kind && strcmp(kind, URBAC__KIND_API_KEY) == 0) /* not a change of the tenant (the feed's rule) */
      continue;
    if (!kind || j->n >= URBAC_STORE_CHANGES_MAX || j->bytes + bytes > URBAC_STORE_BATCH_KEPT ||
        URBAC_GROW(j->v, j->cap, j->n + 1)) {
      journal_lose(j);
      return;
    }
    struct urbac__journal_entry *e = &j->v[j->n++];
    *e = (struct urbac__journal_entry){revision, kind, urbac__strdup(c[i].id),
                                       c[i].after ? urbac__strdup(c[i].after) : NULL};
    j->bytes += bytes;
    if (!e->id || (c[i].after && !e->after)) {
      journal_lose(j);
      return;
    }
  }
}

void urbac__journal_end(urbac_store *store, bool released, bool kept, uint64_t revision)
{
  struct urbac__journal *j = &store->journal;
  if (!store->batch || j->lost)
    return;
  if (released && !kept) { /* in the batch, but its head not kept: the journal cannot follow it */
    journal_lose(j);
    return;
  }
  if (!released) { /* rolled back to its savepoint: not to be told as written */
    for (size_t i = j->done; i < j->n; i++)
      j->bytes -= j->v[i].after ? strlen(j->v[i].after) : 0;
    journal_entries_free(j, j->done);
    if (!j->done) { /* nothing written yet: another tenant may come first */
      urbac__free(j->tenant);
      j->tenant = NULL;
    }
    return;
  }
  if (j->n > j->done) { /* the write's revisions follow the batch's last, and are the tenant's now */
    bool first = j->done == 0;
    if (!first && j->v[j->done].revision != j->last + 1) {
      journal_lose(j);
      return;
    }
    if (first)
      j->base = j->v[0].revision - 1;
    for (size_t i = j->done + 1; i < j->n; i++)
      if (j->v[i].revision != j->v[i - 1].revision && j->v[i].revision != j->v[i - 1].revision + 1) {
        journal_lose(j);
        return;
      }
    j->last = j->v[j->n - 1].revision;
    j->done = j->n;
  }
  if (j->done && revision != j->last) /* a revision the journal did not keep */
    journal_lose(j);
}

urbac_err urbac_store_batch_changes(urbac_store *s, const char *tenant, uint64_t after, urbac_change_cb cb,
                                    void *ctx, uint64_t *revision)
{
  const struct urbac__journal *j = &s->journal;
  if (!s->batch || j->lost || !j->done || !tenant || strcmp(j->tenant, tenant) != 0 || j->base != after)
    return URBAC_ENOTFOUND;
  for (size_t i = 0; i < j->done; i++)
    if (cb(ctx, j->v[i].revision, j->v[i].kind, j->v[i].id, j->v[i].after))
      return URBAC_EREFUSED;
  *revision = j->last;
  return URBAC_OK;
}

urbac_err urbac_store_batch_begin(urbac_store *store, urbac_diag *d)
{
  urbac_err err = urbac__store_need_schema(store, d);
  if (!err && store->batch)
    err = urbac__diag_add(d, URBAC_EINVAL, NULL, 0, 0, NULL, "a batch is open already: batches do not nest");
  if (!err && (err = store->ops->batch_begin(store->db, d)) == URBAC_OK) {
    urbac__journal_reset(store);
    store->batch = true;
  }
  return err;
}

urbac_err urbac_store_batch_end(urbac_store *store, bool commit, urbac_diag *d)
{
  urbac_err err = URBAC_OK;
  if (!store->batch) {
    err = urbac__diag_add(d, URBAC_EINVAL, NULL, 0, 0, NULL, "no batch is open");
    goto out;
  }
  err = commit ? batch_rows_put(store, d) : URBAC_OK; /* inside the batch's transaction */
  store->batch = false;
  urbac_err ended = store->ops->batch_end(store->db, commit && !err, d); /* rolled back when they failed */
  err = err ? err : ended;
  urbac_err witnessed = batch_heads_end(store, commit && !err, d); /* each head, now committed */
  if (!err)
    err = witnessed;
  urbac__journal_reset(store);
out:
  return err;
}

/* Commits after `err` is OK, rolls back otherwise; gives the revision. */
static urbac_err finish(urbac_store *store, urbac_err err, const char *tenant, const urbac__tenant_row *row,
                        uint64_t *revision, urbac_diag *d)
{
  err = urbac__store_end_write(store, err, tenant, row, d);
  if (revision)
    *revision = err ? 0 : row->exists ? row->revision : 0;
  return err;
}

/* Whether `m` is a whole tenant of many objects (slots: an edited model's holes count too). */
static bool bulk_of(const urbac_model *m)
{
  size_t n = 0;
  for (urbac_object_kind k = URBAC_OBJ_USER; k <= URBAC_OBJ_ROLE; k++)
    n += urbac_model_count(m, k);
  return n >= URBAC__BULK_OBJECTS;
}

urbac_err urbac_store_apply(urbac_store *store, const urbac_model *want, const urbac_write *w,
                            uint64_t *revision, urbac_diag *d)
{
  urbac__tenant_row row = {0};
  urbac_err err = urbac__store_need_schema(store, d);
  if (!err && store->ops->bulk_next && !store->batch && bulk_of(want))
    err = store->ops->bulk_next(store->db, d);
  if (!err)
    err = store->ops->begin(store->db, true, d);
  if (err)
    return err;
  return finish(store, apply_locked(store, want, w, &row, !store->prune, d), urbac_model_tenant(want), &row,
                revision, d);
}

/* ---------------------------------------------------------------- audit */

typedef struct filter_ctx {
  const urbac_audit_filter *f;
  urbac_audit_cb cb;
  void *ctx;
  bool failed; /* out of memory */
} filter_ctx;

static int filtered(void *ctx, const urbac_audit_record *r)
{
  filter_ctx *c = ctx;
  const urbac_audit_filter *f = c->f;
  if (f && ((f->object && strcmp(f->object, r->object) != 0) ||
            (f->actor && strcmp(f->actor, r->actor) != 0) || (f->since && strcmp(r->at, f->since) < 0)))
    return 0;
  if (strcmp(r->kind, URBAC__KIND_API_KEY) != 0)
    return c->cb(c->ctx, r);
  /* an API key's record holds its salt and hash (so the check can replay it): never shown */
  urbac_audit_record shown = *r;
  char *before = r->before ? urbac__key_redact(r->before) : NULL;
  char *after = r->after ? urbac__key_redact(r->after) : NULL;
  shown.before = before;
  shown.after = after;
  int stop = (r->before && !before) || (r->after && !after) ? (c->failed = true) : c->cb(c->ctx, &shown);
  free(before);
  free(after);
  return stop;
}

urbac_err urbac_store_audit(urbac_store *store, const char *tenant, const urbac_audit_filter *f,
                            urbac_audit_cb cb, void *ctx, urbac_diag *d)
{
  filter_ctx c = {f, cb, ctx, false};
  urbac_err err = urbac__store_need_schema(store, d);
  if (!err)
    err = store->ops->begin(store->db, false, d);
  if (err)
    return err;
  err = store->ops->audit_each(store->db, tenant, filtered, &c, d);
  if (!err && c.failed)
    err = urbac__diag_code(d, URBAC_ENOMEM, "reading the audit log");
  if (!err)
    err = store->ops->commit(store->db, d);
  else
    store->ops->rollback(store->db);
  return err;
}

/* ---------------------------------------------------------------- objects */

urbac_err urbac__store_read(urbac_store *store, const char *tenant, bool keys, urbac__tenant_row *row,
                            urbac__object **o, size_t *n, urbac_diag *d)
{
  urbac_err err = urbac__store_row_get(store, tenant, row, d);
  if (!err && !row->exists)
    err = urbac__diag_add(d, URBAC_ENOTFOUND, NULL, 0, 0, NULL, "the store holds no tenant '%s'", tenant);
  if (!err)
    err = urbac__store_objects(store, tenant, keys, o, n, d);
  return err;
}

/* Ends what begin_read() began. */
static void end_read(urbac_store *store)
{
  if (!store->batch)
    store->ops->rollback(store->db);
}

/* Begins a read transaction on an existing tenant (its row in *row); nothing to
 * end on failure. Inside a batch the read is the batch's (it sees the batch's
 * writes): no savepoint of its own, two round trips fewer on PostgreSQL. */
static urbac_err begin_read(urbac_store *store, const char *tenant, urbac__tenant_row *row, urbac_diag *d)
{
  urbac_err err = urbac__store_need_schema(store, d);
  if (!err && !store->batch)
    err = store->ops->begin(store->db, false, d);
  if (err)
    return err;
  err = urbac__store_row_get(store, tenant, row, d);
  if (!err && !row->exists)
    err = urbac__diag_add(d, URBAC_ENOTFOUND, NULL, 0, 0, NULL, "the store holds no tenant '%s'", tenant);
  if (err)
    end_read(store);
  return err;
}

urbac_err urbac_store_get(urbac_store *store, const char *tenant, const char *kind, const char *id,
                          char **json, uint64_t *revision, urbac_diag *d)
{
  urbac__tenant_row row = {0};
  int64_t position = 0;
  *json = NULL;
  urbac_err err = begin_read(store, tenant, &row, d);
  if (err)
    return err;
  err = store->ops->object_get(store->db, tenant, kind, id, json, &position, d); /* by its primary key */
  end_read(store);
  if (!err && !*json)
    err = urbac__diag_add(d, URBAC_ENOTFOUND, NULL, 0, 0, id, "tenant '%s' has no %s '%s'", tenant, kind, id);
  if (revision)
    *revision = row.revision;
  return err;
}

urbac_err urbac_store_list(urbac_store *store, const char *tenant, const char *kind, urbac_object_cb cb,
                           void *ctx, urbac_diag *d)
{
  urbac__tenant_row row = {0};
  urbac__object *o = NULL;
  size_t n = 0;
  const char *known = urbac__object_kind(kind);
  if (kind && (!known || strcmp(known, URBAC__KIND_API_KEY) == 0))
    known = "none"; /* no such objects: an empty list, as before */
  urbac_err err = begin_read(store, tenant, &row, d);
  if (err)
    return err;
  err = store->ops->objects(store->db, tenant, kind ? known : NULL, &o, &n, d);
  end_read(store);
  for (size_t i = 0; !err && i < n; i++)
    if (cb(ctx, o[i].kind, o[i].id, o[i].body))
      break;
  urbac__objects_free(o, n);
  return err;
}

/* A page key, "POSITION.ID" (the last object of a page), read back; false when malformed. */
static bool page_key(const char *key, int64_t *position, const char **id)
{
  char *end = NULL;
  if (!key || !*key) {
    *position = INT64_MIN;
    *id = "";
    return true;
  }
  if (*key < '0' || *key > '9')
    return false;
  errno = 0;
  long long v = strtoll(key, &end, 10);
  *position = (int64_t)v;
  *id = end + 1;
  return errno == 0 && *end == '.' && end[1] != '\0';
}

/* Checks a page query; *needle: its search in lower case (in `buf`), or NULL for none. */
static urbac_err page_query_check(const urbac_page_query *q, const char **kind, int64_t *position,
                                  const char **after_id, char *buf, const char **needle, urbac_diag *d)
{
  *kind = q && q->kind ? urbac__object_kind(q->kind) : NULL;
  size_t n = q && q->search ? strlen(q->search) : 0;
  if (!*kind || strcmp(*kind, URBAC__KIND_API_KEY) == 0)
    return urbac__diag_add(d, URBAC_EINVAL, NULL, 0, 0, "kind", "'%s' is not a kind of object to list",
                           q && q->kind ? q->kind : "(none)");
  if (q->limit < 1 || q->limit > URBAC_STORE_PAGE_MAX)
    return urbac__diag_add(d, URBAC_EINVAL, NULL, 0, 0, "limit", "a page holds 1 to %d objects, not %zu",
                           URBAC_STORE_PAGE_MAX, q->limit);
  if (n > URBAC_STORE_SEARCH_MAX)
    return urbac__diag_add(d, URBAC_EINVAL, NULL, 0, 0, "search", "the search text is longer than %d bytes",
                           URBAC_STORE_SEARCH_MAX);
  if (!page_key(q->after, position, after_id))
    return urbac__diag_add(d, URBAC_EINVAL, NULL, 0, 0, "after",
                           "'%.80s' is not a page key: it must be one a previous page gave", q->after);
  for (size_t i = 0; i < n; i++)
    buf[i] = (char)tolower((unsigned char)q->search[i]);
  buf[n] = '\0';
  *needle = q->search ? buf : NULL;
  return URBAC_OK;
}

urbac_err urbac_store_list_page(urbac_store *store, const char *tenant, const urbac_page_query *q,
                                urbac_object_cb cb, void *ctx, char **next, uint64_t *revision, urbac_diag *d)
{
  urbac__tenant_row row = {0};
  urbac__object *o = NULL;
  size_t n = 0;
  int64_t position = 0;
  const char *kind = NULL, *after_id = NULL, *needle = NULL;
  char buf[URBAC_STORE_SEARCH_MAX + 1];
  *next = NULL;
  urbac_err err = page_query_check(q, &kind, &position, &after_id, buf, &needle, d);
  if (!err)
    err = begin_read(store, tenant, &row, d);
  if (err)
    return err;
  /* one more than the page: is there a next? */
  err =
      store->ops->objects_page(store->db, tenant, kind, position, after_id, needle, q->limit + 1, &o, &n, d);
  end_read(store);
  size_t shown = n > q->limit ? q->limit : n;
  if (!err && n > q->limit) {
    urbac__buf key = {0};
    urbac__buf_printf(&key, "%lld.%s", (long long)o[shown - 1].position, o[shown - 1].id);
    if (!(*next = urbac__buf_take(&key, NULL)))
      err = URBAC_ENOMEM;
  }
  for (size_t i = 0; !err && i < shown; i++)
    if (cb(ctx, o[i].kind, o[i].id, o[i].body))
      break;
  urbac__objects_free(o, n);
  if (revision)
    *revision = row.revision;
  return err;
}

/* The tenant's objects with one replaced, added or removed. */
static urbac_err edit_objects(urbac__object **o, size_t *n, const char *kind, const char *id,
                              const char *json)
{
  size_t i = 0, cap = *n;
  int64_t last = -1;
  for (; i < *n && !(strcmp((*o)[i].kind, kind) == 0 && strcmp((*o)[i].id, id) == 0); i++)
    last = (*o)[i].position > last ? (*o)[i].position : last;
  for (size_t k = i; k < *n; k++)
    last = (*o)[k].position > last ? (*o)[k].position : last;
  if (i < *n && !json) { /* delete */
    urbac__free((*o)[i].id);
    urbac__free((*o)[i].body);
    memmove(&(*o)[i], &(*o)[i + 1], (*n - i - 1) * sizeof **o);
    (*n)--;
    return URBAC_OK;
  }
  if (!json)
    return URBAC_ENOTFOUND;
  char *body = urbac__strdup(json);
  if (!body)
    return URBAC_ENOMEM;
  if (i < *n) {
    urbac__free((*o)[i].body);
    (*o)[i].body = body;
    return URBAC_OK;
  }
  const char *known = urbac__object_kind(kind);
  if (known && strcmp(known, URBAC__KIND_API_KEY) == 0)
    known = NULL; /* keys have their own calls */
  if (!known || URBAC_GROW(*o, cap, *n + 1)) {
    urbac__free(body);
    return known ? URBAC_ENOMEM : URBAC_EINVAL;
  }
  (*o)[*n] = (urbac__object){known, urbac__strdup(id), body, last + 1};
  if (!(*o)[*n].id) {
    urbac__free(body);
    return URBAC_ENOMEM;
  }
  (*n)++;
  return URBAC_OK;
}

/* Does the model have object (kind, id)? (A body whose own id differs does not.) */
static bool has_object(const urbac_model *m, const char *kind, const char *id, urbac_err *err)
{
  urbac__object *o = NULL;
  size_t n = 0;
  bool found = false;
  *err = urbac__model_objects(m, &o, &n);
  for (size_t i = 0; !*err && i < n && !found; i++)
    found = strcmp(o[i].kind, kind) == 0 && strcmp(o[i].id, id) == 0;
  urbac__objects_free(o, n);
  return found;
}

/* Applies each put to the object list; says which failed. */
static urbac_err edit_all(urbac__object **o, size_t *n, const char *tenant, const urbac_object_put *puts,
                          size_t np, urbac_diag *d)
{
  for (size_t i = 0; i < np; i++) {
    urbac_err err = edit_objects(o, n, puts[i].kind, puts[i].id, puts[i].json);
    if (err == URBAC_ENOTFOUND)
      return urbac__diag_add(d, err, NULL, 0, 0, NULL, "tenant '%s' has no %s '%s'", tenant, puts[i].kind,
                             puts[i].id);
    if (err)
      return urbac__diag_add(d, err, NULL, 0, 0, NULL, "cannot change %s '%s' (unknown kind?)", puts[i].kind,
                             puts[i].id);
  }
  return URBAC_OK;
}

/* The whole tenant read, edited and validated: for a write check and w->written.
 * With `build`, the puts are built inside the write transaction. */
static urbac_err put_many_whole(urbac_store *store, const char *tenant, const urbac_object_put *puts,
                                size_t np, const urbac_write *w, uint64_t *revision, urbac_diag *d,
                                urbac__puts_fn build, void *ctx)
{
  urbac__tenant_row row = {0};
  urbac__object *o = NULL;
  size_t n = 0;
  urbac_model *m = NULL;
  char name[600];
  urbac_err err = urbac__store_need_schema(store, d);
  if (!err)
    err = store->ops->begin(store->db, true, d);
  if (err)
    return err;
  err = urbac__store_read(store, tenant, false, &row, &o, &n, d);
  bool found = false; /* the first put's object, as stored before the puts */
  for (size_t i = 0; !err && np && i < n && !found; i++)
    found = strcmp(o[i].kind, puts[0].kind) == 0 && strcmp(o[i].id, puts[0].id) == 0;
  if (!err && np && w->existed)
    *w->existed = found;
  if (!err && build)
    err = build(store, tenant, ctx, &puts, &np, d);
  if (!err)
    err = edit_all(&o, &n, tenant, puts, np, d);
  snprintf(name, sizeof name, "store:%s, %s %s as changed", tenant, np ? puts[0].kind : "",
           np ? puts[0].id : "");
  if (!err)
    err = urbac__model_from_objects(tenant, o, n, name, &m, d);
  for (size_t i = 0; i < np && !err; i++)
    if (puts[i].json && !has_object(m, puts[i].kind, puts[i].id, &err) && !err)
      err = urbac__diag_add(d, URBAC_EVALUE, NULL, 0, 0, NULL, "the %s given does not have the id '%s'",
                            puts[i].kind, puts[i].id);
  if (!err)
    err = apply_locked(store, m, w, &row, false, d); /* the tenant as edited: every delete is meant */
  urbac__objects_free(o, n);
  err = finish(store, err, tenant, &row, revision, d);
  if (w->written) { /* handed over only once committed */
    *w->written = err ? NULL : m;
    m = err ? m : NULL;
  }
  urbac_model_free(m);
  return err;
}

urbac_err urbac_store_put_many(urbac_store *store, const char *tenant, const urbac_object_put *puts,
                               size_t np, const urbac_write *w, uint64_t *revision, urbac_diag *d)
{
  urbac__tenant_row row = {0};
  if (store->check || w->written) /* they need the tenant as it will be: the old path, O(tenant) */
    return put_many_whole(store, tenant, puts, np, w, revision, d, NULL, NULL);
  urbac_err err = urbac__store_need_schema(store, d);
  if (!err)
    err = store->ops->begin(store->db, true, d);
  if (err)
    return err;
  err = urbac__store_put_incremental(store, tenant, puts, np, w, &row, d);
  return finish(store, err, tenant, &row, revision, d);
}

urbac_err urbac__store_put_built(urbac_store *store, const char *tenant, urbac__puts_fn build, void *ctx,
                                 const urbac_write *w, uint64_t *revision, urbac_diag *d)
{
  urbac__tenant_row row = {0};
  const urbac_object_put *puts = NULL;
  size_t np = 0;
  if (store->check || w->written)
    return put_many_whole(store, tenant, NULL, 0, w, revision, d, build, ctx);
  urbac_err err = urbac__store_need_schema(store, d);
  if (!err)
    err = store->ops->begin(store->db, true, d);
  if (err)
    return err;
  err = build(store, tenant, ctx, &puts, &np, d);
  if (!err)
    err = urbac__store_put_incremental(store, tenant, puts, np, w, &row, d);
  return finish(store, err, tenant, &row, revision, d);
}

urbac_err urbac_store_put(urbac_store *store, const char *tenant, const char *kind, const char *id,
                          const char *json, const urbac_write *w, uint64_t *revision, urbac_diag *d)
{
  urbac_object_put one = {kind, id, json};
  return urbac_store_put_many(store, tenant, &one, 1, w, revision, d);
}

/* ---------------------------------------------------------------- the change feed */

typedef struct feed {
  urbac__strs kinds, ids; /* per change */
  char **json;            /* per change: its after, or NULL */
  uint64_t *revision;
  size_t n, cap, cap_rev;
  bool oom;
} feed;

static int collect(void *ctx, const urbac_audit_record *r)
{
  feed *f = ctx;
  if (URBAC_GROW(f->json, f->cap, f->n + 1) || URBAC_GROW(f->revision, f->cap_rev, f->n + 1) ||
      urbac__strs_add(&f->kinds, r->kind, strlen(r->kind)) ||
      urbac__strs_add(&f->ids, r->object, strlen(r->object)))
    return f->oom = true;
  f->revision[f->n] = r->revision;
  f->json[f->n] = r->after ? urbac__strdup(r->after) : NULL;
  if (r->after && !f->json[f->n])
    return f->oom = true;
  f->n++;
  return 0;
}

/* Reads the changes after `after` (at most the limit, and one more to tell). */
static urbac_err read_changes(urbac_store *store, const char *tenant, uint64_t after, feed *f, uint64_t *now,
                              urbac_diag *d)
{
  urbac__tenant_row row = {0};
  urbac_err err = begin_read(store, tenant, &row, d);
  if (err)
    return err;
  *now = row.revision;
  if (after > row.revision)
    err = urbac__diag_add(d, URBAC_EBEHIND, NULL, 0, 0, NULL,
                          "tenant '%s' is at revision %llu, before the %llu asked after: reload it", tenant,
                          (unsigned long long)row.revision, (unsigned long long)after);
  else if (after < row.revision)
    err = store->ops->changes(store->db, tenant, after, URBAC_STORE_CHANGES_MAX + 1, collect, f, d);
  end_read(store);
  if (!err && f->oom)
    err = urbac__diag_code(d, URBAC_ENOMEM, "reading the change log");
  if (!err && f->n > URBAC_STORE_CHANGES_MAX)
    err = urbac__diag_add(d, URBAC_EBEHIND, NULL, 0, 0, NULL,
                          "tenant '%s' changed more than %d times since revision %llu: reload it", tenant,
                          URBAC_STORE_CHANGES_MAX, (unsigned long long)after);
  else if (!err && after < row.revision &&
           (!f->n || f->revision[0] != after + 1 || f->revision[f->n - 1] != row.revision))
    err = urbac__diag_add(d, URBAC_EBEHIND, NULL, 0, 0, NULL,
                          "the change log of tenant '%s' no longer holds revisions %llu to %llu: reload it",
                          tenant, (unsigned long long)after + 1, (unsigned long long)row.revision);
  return err;
}

urbac_err urbac_store_changes(urbac_store *store, const char *tenant, uint64_t after, urbac_change_cb cb,
                              void *ctx, uint64_t *revision, urbac_diag *d)
{
  feed f = {0};
  uint64_t now = after;
  urbac_err err = read_changes(store, tenant, after, &f, &now, d);
  for (size_t i = 0; !err && i < f.n; i++)
    if (cb(ctx, f.revision[i], f.kinds.v[i], f.ids.v[i], f.json[i]))
      err = urbac__diag_add(d, URBAC_EREFUSED, NULL, 0, 0, NULL, "the change feed was stopped by its caller");
  *revision = err ? after : now;
  for (size_t i = 0; i < f.n; i++)
    urbac__free(f.json[i]);
  urbac__free(f.json);
  urbac__free(f.revision);
  urbac__strs_free(&f.kinds);
  urbac__strs_free(&f.ids);
  return err;
}
