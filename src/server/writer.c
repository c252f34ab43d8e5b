/*
 * server/writer.c - each tenant's writer: a thread that runs the tenant's
 * administration requests (every route that reads or writes the store), so
 * that a write never holds a libmicrohttpd worker. A worker parses and
 * authenticates a request, answers decisions itself, and hands anything else
 * for a tenant to the tenant's writer (srv_writer_submit), its connection
 * suspended; the writer runs the handler and resumes the connection with the
 * reply.
 *
 * Group commit: the writer takes every request queued (up to SRV_WRITE_BATCH)
 * and runs them under the tenant's write lock with one store batch open
 * (urbac_store_batch_begin): each write a savepoint of one transaction, with
 * its own revision and audit record; a write that fails is rolled back to its
 * savepoint and answered alone. Then one commit (one fsync), one catch-up from
 * the change feed and one publish for the batch (srv_tenant_refresh), and only
 * then the replies: a caller reads its own write. When the batch's writes are
 * all the tenant's changes since the snapshot (the store's journal of the batch
 * says so), the next snapshot is built from them on another thread while the
 * commit waits for the disk, and published once it succeeded
 * (srv_tenant_ahead_begin/_end); otherwise, or when the commit fails, the
 * catch-up reads the feed as before. A write that cannot join a
 * batch (a guarded write, judged against the tenant as published; an import
 * or activation) first commits and publishes what is open, then runs alone
 * (srv_run_write, admin.c).
 *
 * The queue is bounded (--max-write-queue, at most SRV_WRITE_QUEUE): a full
 * queue is answered 503 with Retry-After by the face. Stopping drains it: every request queued is run and
 * answered before the thread ends.
 *
 * Depends on: the public API (store batches), server.h.
 */
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

struct srv_writer {
  pthread_mutex_t lock;
  pthread_cond_t more;
  srv_job q[SRV_WRITE_QUEUE]; /* a ring: `n` jobs from `head` */
  size_t head, n;
  bool stop, running;
  pthread_t thread;
};

/* The batch a writer thread runs (what srv_run_write joins), NULL elsewhere. */
struct srv_batch {
  srv_tenant *t;
  srv_job *jobs;
  size_t n, cur;
  bool open;                    /* the store's batch */
  bool joined[SRV_WRITE_BATCH]; /* per job: its write is in the open batch */
};

static _Thread_local srv_batch *running;

bool srv_writer_takes(const srv_req *req)
{
  return req->tenant && req->route &&
         (req->route->access == SRV_READ || req->route->access == SRV_MANAGE ||
          req->route->access == SRV_SCIM);
}

srv_batch *srv_batch_current(const srv_tenant *t) { return running && running->t == t ? running : NULL; }

urbac_err srv_batch_join(srv_batch *b, urbac_diag *d)
{
  urbac_err err = URBAC_OK;
  if (!b->open)
    err = urbac_store_batch_begin(b->t->store, d);
  b->open = !err;
  return err;
}

void srv_batch_wrote(srv_batch *b) { b->joined[b->cur] = true; }

void srv_batch_flush(srv_batch *b)
{
  if (!b->open)
    return;
  urbac_diag *d = urbac_diag_new();
  srv_ahead ahead;
  bool building = srv_tenant_ahead_begin(b->t, &ahead); /* the next snapshot, built while it commits */
  urbac_err err = urbac_store_batch_end(b->t->store, true, d);
  b->open = false;
  if (!err)
    atomic_fetch_add_explicit(&b->t->server->metrics.write_commits, 1, memory_order_relaxed);
  for (size_t i = 0; i < b->n; i++) {
    if (err && b->joined[i]) { /* committed with the batch, or not at all: the reply says so */
      srv_resp *r = b->jobs[i].r;
      srv_buf_free(&r->body);
      *r = (srv_resp){0};
      srv_error_urbac(r, err, d, NULL);
    }
    b->joined[i] = false;
  }
  if (err) /* its lookups may name what did not commit */
    srv_scim_forget(b->t);
  if (!(building && srv_tenant_ahead_end(&ahead, !err)))
    srv_tenant_refresh(b->t, NULL); /* one catch-up and one publish for the batch */
  urbac_diag_free(d);
}

/* A request that writes the store without srv_run_write() (a route marked
 * SRV_ALONE: an API key created or revoked, swapped into the key set at once):
 * the open batch commits first, so it never rides on writes that might not. A
 * read run while a batch is open sees the batch's writes, which commit before
 * its reply is sent. */
static bool writes_alone(const srv_req *req) { return req->route && (req->route->flags & SRV_ALONE); }

/* Runs `n` jobs as one batch and answers them once it is published. */
static void run_batch(srv_tenant *t, srv_job *jobs, size_t n)
{
  srv_batch b = {.t = t, .jobs = jobs, .n = n};
  running = &b;
  pthread_mutex_lock(&t->write_lock);
  for (b.cur = 0; b.cur < n; b.cur++) {
    if (writes_alone(jobs[b.cur].req))
      srv_batch_flush(&b);
    srv_dispatch(t->server, jobs[b.cur].req, jobs[b.cur].r);
  }
  srv_batch_flush(&b);
  pthread_mutex_unlock(&t->write_lock);
  running = NULL;
  atomic_fetch_add_explicit(&t->server->metrics.write_batches, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&t->server->metrics.write_jobs, n, memory_order_relaxed);
  for (size_t i = 0; i < n; i++)
    jobs[i].done(jobs[i].ctx);
}

static void *writer_main(void *arg)
{
  srv_tenant *t = arg;
  srv_writer *w = t->writer;
  srv_job jobs[SRV_WRITE_BATCH];
  for (;;) {
    pthread_mutex_lock(&w->lock);
    while (!w->n && !w->stop)
      pthread_cond_wait(&w->more, &w->lock);
    size_t n = w->n < SRV_WRITE_BATCH ? w->n : SRV_WRITE_BATCH;
    for (size_t i = 0; i < n; i++)
      jobs[i] = w->q[(w->head + i) % SRV_WRITE_QUEUE];
    w->head = (w->head + n) % SRV_WRITE_QUEUE;
    w->n -= n;
    pthread_mutex_unlock(&w->lock);
    if (!n) /* stopping, and nothing left */
      break;
    run_batch(t, jobs, n);
  }
  return NULL;
}

bool srv_writer_submit(srv_tenant *t, const srv_job *job)
{
  srv_writer *w = t->writer;
  bool ok = false;
  if (!w)
    return false;
  pthread_mutex_lock(&w->lock);
  if (!w->stop && w->n < t->server->max_write_queue && w->n < SRV_WRITE_QUEUE) {
    job->hold(job->ctx); /* before the writer can see it: it resumes only what is held */
    w->q[(w->head + w->n) % SRV_WRITE_QUEUE] = *job;
    w->n++;
    ok = true;
    pthread_cond_signal(&w->more);
  }
  pthread_mutex_unlock(&w->lock);
  return ok;
}

urbac_err srv_writer_start(srv_tenant *t)
{
  urbac_err err = URBAC_OK;
  srv_writer *w = calloc(1, sizeof *w);
  if (!w) {
    err = URBAC_ENOMEM;
    goto out;
  }
  pthread_mutex_init(&w->lock, NULL);
  pthread_cond_init(&w->more, NULL);
  t->writer = w;
  w->running = pthread_create(&w->thread, NULL, writer_main, t) == 0;
  if (!w->running) {
    srv_writer_free(t);
    err = URBAC_ENOMEM;
  }
out:
  return err;
}

void srv_writer_stop(srv_tenant *t)
{
  srv_writer *w = t->writer;
  if (!w)
    return;
  pthread_mutex_lock(&w->lock);
  w->stop = true; /* nothing more is taken; what is queued is run */
  pthread_cond_signal(&w->more);
  pthread_mutex_unlock(&w->lock);
  if (w->running)
    pthread_join(w->thread, NULL);
  w->running = false;
}

void srv_writer_free(srv_tenant *t)
{
  srv_writer *w = t->writer;
  if (!w)
    return;
  srv_writer_stop(t);
  pthread_cond_destroy(&w->more);
  pthread_mutex_destroy(&w->lock);
  free(w);
  t->writer = NULL;
}

void srv_writers_stop(srv *server)
{
  pthread_mutex_lock(&server->tenants_lock); /* no tenant is added meanwhile */
  size_t n = atomic_load(&server->ntenants);
  for (size_t i = 0; i < n; i++)
    srv_writer_stop(server->tenants[i]);
  pthread_mutex_unlock(&server->tenants_lock);
}
