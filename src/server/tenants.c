/*
 * server/tenants.c - each tenant's compiled snapshot, swapped by read-copy-update.
 *
 * Readers (every decision) take liburcu-bp's read lock, which costs no atomic
 * and never waits: a check never blocks on a write and sees one whole revision.
 * A writer compiles the new revision aside and swaps the pointer; liburcu's
 * call_rcu thread frees the old one after a grace period (snap_retire). The
 * "bulletproof" flavour needs no per-thread registration, so libmicrohttpd's own
 * worker threads can read.
 *
 * One watcher thread per tenant follows the store's change feed
 * (urbac_store_watch: LISTEN/NOTIFY on PostgreSQL, polling on SQLite), so a
 * change committed by another process is served within a second, and re-reads
 * the tenant's API keys twice a second. When the store goes away (a PostgreSQL
 * restart) the watcher keeps the snapshot it has, says so (/readyz, /metrics),
 * waits at the store's back-off pace (never spinning) and, once the store is
 * back, reads the revision and catches up before it says ready again.
 *
 * Depends on: the public API, liburcu-bp, setpriority() (Linux: per thread).
 */
#include <errno.h>
#include <jansson.h>
#include <malloc.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <urcu/urcu-bp.h>

#include "server/server.h"

#ifdef URBAC_FUZZING /* fuzz/fuzz_request.c stops the server every few thousand inputs */
#define WATCH_MS 10
#else
#define WATCH_MS 500
#endif

void srv_read_lock(void) { urcu_bp_read_lock(); }
void srv_read_unlock(void) { urcu_bp_read_unlock(); }

srv_snap *srv_tenant_snap(srv_tenant *t) { return rcu_dereference(t->current); }

/* A new snap's generation. Counted for the process, not for a server: the
 * per-thread parsers (decide.c) are the process's and key on it, and a second
 * server, or one started again (fuzz/fuzz_request.c), counted from 1 again and
 * handed out a parser of another server's snapshot, freed or not. */
static uint64_t srv_snap_generation(void)
{
  static _Atomic uint64_t generations;
  return atomic_fetch_add(&generations, 1) + 1;
}

void srv_snap_free(srv_snap *sn)
{
  if (!sn)
    return;
  urbac_snapshot_free(sn->snap);
  urbac_model_free(sn->model);
  free(sn);
}

/* A snapshot of `m` (taken, freed on failure) at `revision`. */
static urbac_err snap_compile(srv *server, urbac_model *m, uint64_t revision, uint64_t t0, srv_snap **out,
                              urbac_diag *d)
{
  srv_snap *sn = calloc(1, sizeof *sn);
  if (!sn) {
    urbac_model_free(m);
    return URBAC_ENOMEM;
  }
  sn->model = m;
  sn->revision = revision;
  urbac_err err = urbac_snapshot_compile(m, &sn->snap, d);
  if (err != URBAC_OK) {
    srv_snap_free(sn);
    return err;
  }
  sn->generation = srv_snap_generation();
  atomic_fetch_add(&server->metrics.rebuilds, 1);
  atomic_fetch_add(&server->metrics.rebuild_us, srv_now_us() - t0);
  *out = sn;
  return URBAC_OK;
}

/* The tenant as the store has it now, compiled. */
static urbac_err snap_build(srv *server, urbac_store *st, const char *tenant, srv_snap **out, urbac_diag *d)
{
  uint64_t t0 = srv_now_us(), revision = 0;
  urbac_model *m = NULL;
  urbac_err err = urbac_store_load(st, tenant, &m, &revision, d);
  if (!err)
    err = snap_compile(server, m, revision, t0, out, d);
  /* a whole load frees hundreds of megabytes of rows and parse trees at a
   * million users: give them back to the system, not to the next load */
  malloc_trim(0);
  return err;
}

/* Snapshots retired and not yet freed, in the process. */
static _Atomic unsigned retired;

static void snap_reclaim(struct rcu_head *h)
{
  srv_snap_free((srv_snap *)(void *)((char *)h - offsetof(srv_snap, rcu)));
  atomic_fetch_sub(&retired, 1);
}

/* Frees `old`, replaced, once no reader can hold it: on liburcu's call_rcu
 * thread, not on the writer that published its successor. Freeing a revision
 * releases every page it no longer shares (a SCIM members batch at 100,000 users:
 * about a tenth of the writer's time), and the grace period waits for the checks
 * in flight; the writer answers its batch meanwhile. At most SRV_RETIRED_MAX wait:
 * past that the writer waits for them (the memory of revisions is bounded). */
static void snap_retire(srv_snap *old)
{
  if (atomic_fetch_add(&retired, 1) >= SRV_RETIRED_MAX)
    urcu_bp_barrier();
  urcu_bp_call_rcu(&old->rcu, snap_reclaim);
}

/* Serves `sn`. The twin with the other modes (reach.c) stays only when it has
 * followed to the same revision. */
static void publish(srv_tenant *t, srv_snap *sn)
{
  if (t->flipped && srv_reach_twin_revision(t) != sn->revision)
    srv_reach_twin_set(t, NULL);
  srv_snap *old = rcu_xchg_pointer(&t->current, sn);
  if (old)
    snap_retire(old);
}

/* ---------------------------------------------------------------- catching up */

int srv_feed_add(void *ctx, uint64_t revision, const char *kind, const char *id, const char *json)
{
  srv_feed *f = ctx;
  (void)revision;
  size_t kl = strlen(kind), il = strlen(id);
  char *key = malloc(kl + il + 2), *body = json ? strdup(json) : NULL;
  json_t *at = key ? (memcpy(key, kind, kl), key[kl] = '\n', memcpy(key + kl + 1, id, il + 1),
                      json_object_get(f->seen, key))
                   : NULL;
  if (!key || (json && !body))
    goto oom;
  srv_feed_item *last = at ? &f->v[json_integer_value(at)] : NULL;
  if (last && !json && last->json && last->before != SIZE_MAX) { /* made again, deleted again */
    last->dropped = true; /* its delete, earlier, is the object's latest change again */
    int failed = json_object_set_new(f->seen, key, json_integer((json_int_t)last->before)) != 0;
    free(key);
    f->oom = f->oom || failed;
    return failed;
  }
  if (last && (last->json || !json)) { /* changed again: its last state */
    free(last->json);
    last->json = body;
    free(key);
    return 0;
  }
  if (f->n == f->cap) {
    size_t cap = f->cap ? 2 * f->cap : 16;
    srv_feed_item *v = realloc(f->v, cap * sizeof *v);
    if (!v)
      goto oom;
    f->v = v;
    f->cap = cap;
  }
  f->v[f->n] =
      (srv_feed_item){strdup(kind), strdup(id), body, at ? (size_t)json_integer_value(at) : SIZE_MAX, false};
  if (!f->v[f->n].kind || !f->v[f->n].id ||
      json_object_set_new(f->seen, key, json_integer((json_int_t)f->n))) {
    free(f->v[f->n].kind);
    free(f->v[f->n].id);
    goto oom;
  }
  f->n++;
  free(key);
  return 0;
oom:
  free(key);
  free(body);
  f->oom = true;
  return 1;
}

urbac_object_put *srv_feed_puts(const srv_feed *f, size_t *n)
{
  urbac_object_put *puts = calloc(f->n + 1, sizeof *puts);
  *n = 0;
  for (size_t i = 0; puts && i < f->n; i++)
    if (!f->v[i].dropped)
      puts[(*n)++] = (urbac_object_put){f->v[i].kind, f->v[i].id, f->v[i].json};
  return puts;
}

void srv_feed_free(srv_feed *f)
{
  for (size_t i = 0; i < f->n; i++) {
    free(f->v[i].kind);
    free(f->v[i].id);
    free(f->v[i].json);
  }
  free(f->v);
  json_decref(f->seen);
}

/* srv_snap_edit(), with the objects this server's writes parsed already (`parsed`, NULL: none). */
static urbac_err snap_edit_parsed(const srv_snap *base, const urbac_object_put *puts, size_t n,
                                  urbac_parsed *parsed, uint64_t revision, srv_snap **out, urbac_diag *d)
{
  srv_snap *sn = calloc(1, sizeof *sn);
  urbac_err err = sn ? urbac_model_edit_parsed(base->model, puts, n, parsed, &sn->model, d) : URBAC_ENOMEM;
  if (!err)
    err = urbac_snapshot_update(base->snap, sn->model, &sn->snap, d);
  if (err) {
    srv_snap_free(sn);
    sn = NULL;
  } else {
    sn->revision = revision;
  }
  *out = sn;
  return err;
}

urbac_err srv_snap_edit(const srv_snap *base, const urbac_object_put *puts, size_t n, uint64_t revision,
                        srv_snap **out, urbac_diag *d)
{
  return snap_edit_parsed(base, puts, n, NULL, revision, out, d);
}

/* The next snapshot: `t`'s current model with the feed's changes applied and
 * compiled incrementally, at `revision` (the twin with the other modes follows,
 * lazily, reach.c). Fails (and the caller reloads) when the edit does not apply to this
 * model. */
/* What follows an edit that applies, before it is published: the reach twin
 * follows the puts, the snapshot gets its generation, /metrics counts it. */
static void edit_done(srv_tenant *t, const urbac_object_put *puts, size_t n, srv_snap *sn, uint64_t t0)
{
  srv_reach_follow(t, puts, n, sn->revision);
  sn->generation = srv_snap_generation();
  atomic_fetch_add(&t->server->metrics.updates, 1);
  atomic_fetch_add(&t->server->metrics.update_us, srv_now_us() - t0);
}

static urbac_err snap_edit(srv_tenant *t, const srv_feed *f, uint64_t revision, uint64_t t0, srv_snap **out,
                           urbac_diag *d)
{
  size_t n = 0;
  urbac_object_put *puts = srv_feed_puts(f, &n);
  urbac_err err = puts ? URBAC_OK : URBAC_ENOMEM;
  if (!err) /* the objects this server's writer parsed are not parsed again */
    err = snap_edit_parsed(t->current, puts, n, t->parsed, revision, out, d);
  if (!err)
    edit_done(t, puts, n, *out, t0);
  free(puts);
  return err;
}

/* ---------------------------------------------------------------- ahead of the commit */

/* How much nicer than the writer the ahead thread runs. At the writer's
 * priority it slowed the commit it runs beside: the writer's fsync, which the
 * disk wakes three times, took 2.2 ms at p50 instead of 0.8 without the thread
 * (bench/writes' assignment PATCH reaching 1,000 users, 100k tenant, 2 cores);
 * 1.1 ms at 5 nicer, 1.0 at 10. Not more: the writer waits for this thread
 * before it publishes and replies, and checks served at the writer's priority
 * would take all but a sliver of the cores from a much nicer one (wrk, 1m
 * tenant, paced writes beside flat-out checks: writes p50 3.1-3.7 ms at 0,
 * 3.0-4.4 at 5, 3.8-4.3 at 10). */
#define AHEAD_NICER 5

/* Makes the calling thread AHEAD_NICER nicer than it is (Linux's nice is per
 * thread; an unprivileged process may only go nicer, up to 19). A failure
 * leaves it as it was: only the commit's pace depends on it. */
static void ahead_nicer(void)
{
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, 0);
  if (nice == -1 && errno)
    return;
  nice = nice + AHEAD_NICER > 19 ? 19 : nice + AHEAD_NICER;
  (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice);
}

/* The ahead thread: the edit of the current snapshot (stable: the writer holds
 * write_lock, and only publishes once this thread is joined). */
static void *ahead_main(void *arg)
{
  srv_ahead *a = arg;
  ahead_nicer();
  if (snap_edit_parsed(a->t->current, a->puts, a->n, a->t->parsed, a->revision, &a->sn, NULL) != URBAC_OK)
    a->sn = NULL;
  return NULL;
}

static void ahead_free(srv_ahead *a)
{
  srv_snap_free(a->sn);
  free(a->puts);
  srv_feed_free(&a->feed);
  *a = (srv_ahead){0};
}

bool srv_tenant_ahead_begin(srv_tenant *t, srv_ahead *a)
{
  srv_snap *cur = t->current;
  *a = (srv_ahead){.t = t, .feed = {NULL, 0, 0, json_object(), false}, .t0 = srv_now_us()};
  bool ok = cur && a->feed.seen &&
            urbac_store_batch_changes(t->store, t->id, cur->revision, srv_feed_add, &a->feed, &a->revision) ==
                URBAC_OK &&
            !a->feed.oom && a->revision > cur->revision &&
            (a->puts = srv_feed_puts(&a->feed, &a->n)) != NULL &&
            pthread_create(&a->thread, NULL, ahead_main, a) == 0;
  if (!ok)
    ahead_free(a);
  return ok;
}

bool srv_tenant_ahead_end(srv_ahead *a, bool committed)
{
  srv_tenant *t = a->t;
  pthread_join(a->thread, NULL);
  bool ok = committed && a->sn;
  if (ok) {
    edit_done(t, a->puts, a->n, a->sn, a->t0);
    atomic_fetch_add(&t->server->metrics.write_ahead, 1);
    publish(t, a->sn);
    a->sn = NULL;
    urbac_parsed_clear(t->parsed); /* as srv_tenant_refresh() leaves it */
  }
  ahead_free(a);
  return ok;
}

static urbac_err refresh(srv_tenant *t, urbac_diag *d);

urbac_err srv_tenant_refresh(srv_tenant *t, urbac_diag *d)
{
  urbac_err err = refresh(t, d);
  urbac_parsed_clear(t->parsed); /* what this catch-up did not take is of no later use */
  return err;
}

static urbac_err refresh(srv_tenant *t, urbac_diag *d)
{
  uint64_t t0 = srv_now_us(), rev = 0;
  srv_snap *cur = t->current, *sn = NULL;
  srv_feed f = {NULL, 0, 0, json_object(), false};
  urbac_err err = f.seen ? URBAC_OK : URBAC_ENOMEM;
  if (!err && cur)
    err = urbac_store_changes(t->store, t->id, cur->revision, srv_feed_add, &f, &rev, d);
  if (!err && f.oom)
    err = URBAC_ENOMEM;
  if (!err && cur && rev <= cur->revision) {
    srv_feed_free(&f);
    return URBAC_OK;
  }
  /* the feed's changes at the cost of the change; the whole tenant when the feed
   * cannot answer (too far behind: URBAC_EBEHIND) or the edit does not apply */
  if (!err && cur) {
    urbac_diag *local = urbac_diag_new();
    if (local && snap_edit(t, &f, rev, t0, &sn, local) != URBAC_OK)
      sn = NULL;
    urbac_diag_free(local);
  }
  srv_feed_free(&f);
  if (!sn && (!err || err == URBAC_EBEHIND)) {
    urbac_diag_clear(d);
    err = snap_build(t->server, t->store, t->id, &sn, d);
  }
  if (!err)
    publish(t, sn);
  return err;
}

urbac_err srv_tenant_publish(srv_tenant *t, urbac_model *m, uint64_t revision, urbac_diag *d)
{
  if (t->current && revision <= t->current->revision) {
    urbac_model_free(m); /* nothing new (a write that changed nothing) */
    return URBAC_OK;
  }
  srv_snap *sn = NULL;
  urbac_err err = snap_compile(t->server, m, revision, srv_now_us(), &sn, d);
  if (err == URBAC_OK)
    publish(t, sn);
  return err;
}

void srv_tenant_publish_edit(srv_tenant *t, srv_snap *sn, srv_snap *twin, uint64_t t0)
{
  if (t->current && sn->revision <= t->current->revision) { /* nothing new */
    srv_snap_free(sn);
    srv_snap_free(twin);
    return;
  }
  sn->generation = srv_snap_generation();
  atomic_fetch_add(&t->server->metrics.updates, 1);
  atomic_fetch_add(&t->server->metrics.update_us, srv_now_us() - t0);
  publish(t, sn);
  if (twin && twin->revision == sn->revision)
    srv_reach_twin_set(t, twin);
  else
    srv_snap_free(twin);
}

void srv_tenant_keys_refresh(srv_tenant *t, urbac_store *st)
{
  /* a ticket taken before the read: a read that began after another began is
   * published over it, never under it, and no one waits on another's read */
  uint64_t ticket = atomic_fetch_add(&t->keys_ticket, 1) + 1;
  srv_keyset *k = srv_keyset_load(st, t->id), *old = NULL;
  pthread_mutex_lock(&t->keys_lock);
  if (k && ticket > t->keys_published) {
    old = rcu_xchg_pointer(&t->keys, k);
    t->keys_published = ticket;
    k = NULL;
  }
  pthread_mutex_unlock(&t->keys_lock);
  srv_keyset_free(k); /* NULL, or read before the keys now served: dropped */
  if (old) {
    urcu_bp_synchronize_rcu();
    srv_keyset_free(old);
  }
}

/* What the watcher's round found: up and caught up at `seen`, or down and why. */
static void feed_report(srv_tenant *t, urbac_store *st, urbac_err err, uint64_t seen, const char *why)
{
  urbac_store_health h = {false, 0, ""};
  if (st)
    urbac_store_health_get(st, &h);
  atomic_store(&t->feed_reconnects, h.reconnects);
  if (!err) {
    atomic_store(&t->feed_seen, seen);
    atomic_store(&t->feed_synced_us, srv_now_us());
    atomic_store(&t->feed_down, false);
    return;
  }
  pthread_mutex_lock(&t->feed_lock);
  snprintf(t->feed_why, sizeof t->feed_why, "%s", h.why[0] ? h.why : why);
  pthread_mutex_unlock(&t->feed_lock);
  atomic_store(&t->feed_down, true);
}

#define TRIM_EVERY_US 2000000 /* at most one malloc_trim() a process every 2 s */

/* Gives the heap's free pages back to the system once a write was published since
 * the last time (at most every TRIM_EVERY_US for the whole process, from whichever
 * watcher comes first): each write frees the pages and objects of the revision
 * before it, and glibc keeps what is freed and dirty. At a million users the
 * resident memory rose about 5 MiB per 1,000 writes that added users while the
 * memory in use grew 0.2 MiB (malloc_stats()): freed pages, not data. */
static void trim_freed(srv_tenant *t, uint64_t *trimmed_rev)
{
  static _Atomic uint64_t last_us;
  uint64_t now = srv_now_us(), last = atomic_load(&last_us);
  srv_read_lock();
  uint64_t rev = srv_tenant_snap(t)->revision;
  srv_read_unlock();
  if (rev == *trimmed_rev || now - last < TRIM_EVERY_US ||
      !atomic_compare_exchange_strong(&last_us, &last, now))
    return;
  *trimmed_rev = rev;
  malloc_trim(0);
}

static void *watch(void *arg)
{
  srv_tenant *t = arg;
  srv *server = t->server;
  urbac_store *st = NULL;
  urbac_diag *d = urbac_diag_new();
  char why[256];
  uint64_t trimmed_rev = 0;
  if (!d || urbac_store_open(server->cfg->db_url, URBAC_STORE_WRITE, &st, NULL) != URBAC_OK) {
    feed_report(t, NULL, URBAC_ESTORE, 0, "the change feed cannot open the store");
    urbac_diag_free(d);
    return NULL;
  }
  while (!atomic_load(&server->stopping)) {
    srv_read_lock(); /* a writer may swap and free the snapshot meanwhile */
    uint64_t have = srv_tenant_snap(t)->revision, rev = have;
    srv_read_unlock();
    /* while the store is down this waits WATCH_MS too: the thread sleeps */
    urbac_diag_clear(d);
    urbac_err err = urbac_store_watch(st, t->id, have, WATCH_MS, &rev, d);
    if (err && urbac_diag_count(d))
      urbac_diag_format(d, 0, why, sizeof why);
    else
      snprintf(why, sizeof why, "%s", urbac_strerror(err));
    if (!err && rev > have) { /* another writer, or what was written while the store was away */
      pthread_mutex_lock(&t->write_lock);
      urbac_diag_clear(d);
      err = srv_tenant_refresh(t, d);
      pthread_mutex_unlock(&t->write_lock);
      if (err && urbac_diag_count(d))
        urbac_diag_format(d, 0, why, sizeof why);
    }
    if (!err)
      srv_tenant_keys_refresh(t, st);
    trim_freed(t, &trimmed_rev);
    feed_report(t, st, err, rev, why);
    if (err && err != URBAC_EUNAVAILABLE) { /* not a connection that comes back: do not spin on it */
      struct timespec pause = {0, WATCH_MS * 1000000L};
      nanosleep(&pause, NULL);
    }
  }
  urbac_store_close(st);
  urbac_diag_free(d);
  return NULL;
}

bool srv_store_ready(srv *server, char *why, size_t why_size)
{
  size_t n = atomic_load_explicit(&server->ntenants, memory_order_acquire);
  for (size_t i = 0; i < n; i++) {
    srv_tenant *t = server->tenants[i];
    if (!atomic_load(&t->feed_down))
      continue;
    double since = (double)(srv_now_us() - atomic_load(&t->feed_synced_us)) / 1e6;
    pthread_mutex_lock(&t->feed_lock);
    snprintf(why, why_size,
             "tenant %s: the store is unavailable or not caught up (last in step %.1f s ago): %s", t->id,
             since, t->feed_why);
    pthread_mutex_unlock(&t->feed_lock);
    return false;
  }
  return true;
}

static void tenant_free(srv_tenant *t)
{
  if (!t)
    return;
  srv_writer_free(t); /* first: it runs what is queued, with the store */
  srv_scim_forget(t);
  urcu_bp_barrier(); /* the revisions it retired are freed */
  srv_snap_free(t->current);
  srv_reach_twin_set(t, NULL);
  srv_keyset_free(t->keys);
  urbac_store_close(t->store);
  urbac_parsed_free(t->parsed);
  pthread_mutex_destroy(&t->write_lock);
  pthread_mutex_destroy(&t->feed_lock);
  pthread_mutex_destroy(&t->keys_lock);
  free(t->id);
  free(t);
}

static void tenant_locks_init(srv_tenant *t)
{
  pthread_mutexattr_t recursive; /* a writer's batch holds it while its requests take it (writer.c) */
  pthread_mutexattr_init(&recursive);
  pthread_mutexattr_settype(&recursive, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(&t->write_lock, &recursive);
  pthread_mutexattr_destroy(&recursive);
  pthread_mutex_init(&t->feed_lock, NULL);
  pthread_mutex_init(&t->keys_lock, NULL);
}

static srv_tenant *tenant_open(srv *server, const char *id, char *why, size_t why_size)
{
  srv_tenant *t = calloc(1, sizeof *t);
  urbac_diag *d = urbac_diag_new();
  if (t) /* the locks first: tenant_free() destroys them whatever fails after */
    tenant_locks_init(t);
  if (!t || !d || !(t->id = strdup(id)) || !(t->parsed = urbac_parsed_new()))
    goto fail;
  t->server = server;
  atomic_store(&t->feed_synced_us, srv_now_us());
  urbac_audit_opts audit = {server->cfg->audit_key_file, server->cfg->witness_file,
                            server->cfg->witness_syslog};
  if (urbac_store_open(server->cfg->db_url, URBAC_STORE_WRITE, &t->store, d) != URBAC_OK ||
      urbac_store_set_audit(t->store, &audit, d) != URBAC_OK)
    goto fail;
  urbac_store_keep_parsed(t->store, t->parsed); /* the writer's puts, parsed once (srv_tenant_refresh) */
  if (snap_build(server, t->store, id, &t->current, d) != URBAC_OK)
    goto fail;
  t->keys = srv_keyset_load(t->store, id);
  if (!t->keys || srv_writer_start(t) != URBAC_OK || pthread_create(&t->watcher, NULL, watch, t) != 0)
    goto fail;
  t->watching = true;
  urbac_diag_free(d);
  return t;
fail:
  if (urbac_diag_count(d) > 0)
    urbac_diag_format(d, 0, why, why_size);
  else
    snprintf(why, why_size, "tenant %s: out of memory", id);
  urbac_diag_free(d);
  tenant_free(t);
  return NULL;
}

static srv_tenant *find(srv *server, const char *id)
{
  size_t n = atomic_load_explicit(&server->ntenants, memory_order_acquire);
  for (size_t i = 0; i < n; i++)
    if (strcmp(server->tenants[i]->id, id) == 0)
      return server->tenants[i];
  return NULL;
}

srv_tenant *srv_tenant_get(srv *server, const char *id, char *why, size_t why_size)
{
  srv_tenant *t = find(server, id);
  if (t)
    return t;
  why[0] = '\0';
  if (!srv_directory_has(server, id)) /* answered from memory: no store, no lock */
    return NULL;
  pthread_mutex_lock(&server->tenants_lock);
  t = find(server, id);
  uint64_t rev;
  if (!t)
    atomic_fetch_add_explicit(&server->metrics.tenant_lookups, 1, memory_order_relaxed);
  if (!t && urbac_store_revision(server->lookup_store, id, &rev, NULL) == URBAC_OK) {
    size_t n = atomic_load(&server->ntenants);
    if (n == SRV_MAX_TENANTS)
      snprintf(why, why_size, "this server follows %d tenants already", SRV_MAX_TENANTS);
    else if ((t = tenant_open(server, id, why, why_size)) != NULL) {
      server->tenants[n] = t;
      atomic_store_explicit(&server->ntenants, n + 1, memory_order_release);
    }
  }
  pthread_mutex_unlock(&server->tenants_lock);
  return t;
}

void srv_tenants_stop(srv *server)
{
  size_t n = atomic_load(&server->ntenants);
  for (size_t i = 0; i < n; i++)
    srv_writer_stop(server->tenants[i]); /* what is queued is answered (no face: a test's srv) */
  for (size_t i = 0; i < n; i++)
    if (server->tenants[i]->watching)
      pthread_join(server->tenants[i]->watcher, NULL);
  for (size_t i = 0; i < n; i++)
    tenant_free(server->tenants[i]);
  atomic_store(&server->ntenants, 0);
}
