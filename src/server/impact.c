/*
 * server/impact.c - the impact of activating a workload (GET
 * /workloads/{workload}/impact), computed once per tenant, revision, workload and
 * import flag, and kept: the comparison of a whole tenant takes seconds (4 s on the
 * 100k bench tenant), so it must not be redone for every page a person reads.
 *
 * A computation runs on a thread of its own from a copy of the model (no snapshot
 * is held back) and reports how far it has got (steps done: three per user, the
 * tenant compiled before, after, then each user compared); a request for a key
 * already being computed shares that computation. A request
 * with `Prefer: respond-async` is answered 202 with the progress while it runs
 * (Retry-After and Location: the same page); any other waits for the result, as
 * before. The result keeps only what pages need: the rows, the tallies by
 * permission and device group, and the ids the rows name (the models and
 * snapshots are freed), so its bytes are known. At most IMPACT_MAX_JOBS results
 * and computations together, finished ones of at most IMPACT_MAX_BYTES, the least
 * recently used dropped first; a newer revision of the same key drops the older.
 *
 * Depends on: the public API (urbac_impact_compute_progress), jansson, pthreads.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

#define IMPACT_MAX_JOBS 4
#define IMPACT_MAX_BYTES ((size_t)512 << 20)

/* Rows, gains (after above before) and losses of one permission or device group. */
typedef struct impact_tally {
  size_t rows, gains, losses;
} impact_tally;

typedef struct job {
  struct job *next;
  srv *server;
  const srv_tenant *tenant; /* the key: tenants live as long as the server */
  uint64_t revision;
  size_t workload;
  bool import;
  unsigned refs; /* under the lock: the list's, the thread's and each request's */
  bool listed;   /* under the lock: in the list */
  bool finished; /* under the lock */
  uint64_t used; /* under the lock: the clock when last served */
  _Atomic size_t done, total;
  /* set by the thread before `finished` */
  urbac_err err;
  char why[512];
  urbac_model *m;            /* the copy computed from: freed once the result is taken out */
  urbac_impact_row *rows;    /* count */
  size_t count, nusers, ndg; /* ndg + 1 tallies by device group: the last, of no device group */
  impact_tally *by_perm, *by_dg;
  uint32_t *user_off, *dg_off; /* into names: users' ids (nusers + 1), device groups' (ndg + 1) */
  char *names;
  size_t bytes;
} job;

typedef struct impacts {
  pthread_mutex_t lock;
  pthread_cond_t changed; /* a computation finished */
  job *list;
  size_t n;
  unsigned running;
  uint64_t clock;
} impacts;

static void job_free(job *j)
{
  urbac_model_free(j->m);
  free(j->rows);
  free(j->by_perm);
  free(j->by_dg);
  free(j->user_off);
  free(j->dg_off);
  free(j->names);
  free(j);
}

/* Drops a reference; call with the lock held. */
static void job_put(job *j)
{
  if (--j->refs == 0)
    job_free(j);
}

static void unlist(impacts *all, job *j)
{
  for (job **p = &all->list; *p; p = &(*p)->next)
    if (*p == j) {
      *p = j->next;
      all->n--;
      j->listed = false;
      job_put(j);
      return;
    }
}

/* Drops the least recently used finished results other than `keep` while over the
 * bounds, with room for `room` more. */
static void evict(impacts *all, const job *keep, size_t room)
{
  for (;;) {
    size_t bytes = 0;
    job *lru = NULL;
    for (job *j = all->list; j; j = j->next)
      if (j->finished) {
        bytes += j->bytes;
        if (j != keep && (!lru || j->used < lru->used))
          lru = j;
      }
    if (!lru || (bytes <= IMPACT_MAX_BYTES && all->n + room <= IMPACT_MAX_JOBS))
      return;
    unlist(all, lru);
  }
}

/* ---------------------------------------------------------------- the computation */

static bool progress(void *ctx, size_t done, size_t total)
{
  job *j = ctx;
  atomic_store(&j->total, total);
  atomic_store(&j->done, done);
  return !atomic_load(&j->server->stopping);
}

static void tally(impact_tally *t, const urbac_impact_row *row)
{
  t->rows++;
  t->gains += row->after > row->before;
  t->losses += row->after < row->before;
}

static int take_row(void *ctx, const urbac_impact_row *row)
{
  job *j = ctx;
  j->rows[j->count++] = *row;
  tally(&j->by_perm[row->permission], row);
  tally(&j->by_dg[row->dg < j->ndg ? row->dg : j->ndg], row);
  return 0;
}

/* The ids of `n` objects of `kind` into one blob: offsets[n + 1]; false when out of memory. */
static bool take_names(const urbac_model *m, urbac_object_kind kind, size_t n, uint32_t **offsets, srv_buf *b)
{
  *offsets = malloc((n + 1) * sizeof **offsets);
  for (size_t i = 0; *offsets && i < n; i++) {
    (*offsets)[i] = (uint32_t)b->len;
    srv_buf_put(b, urbac_model_id(m, kind, i), strlen(urbac_model_id(m, kind, i)) + 1);
  }
  if (*offsets)
    (*offsets)[n] = (uint32_t)b->len;
  return *offsets && !b->oom && b->len < UINT32_MAX;
}

/* Takes out of `im` what pages need, in `j`. */
static urbac_err take(job *j, const urbac_impact *im)
{
  srv_buf names = {0};
  urbac_err err = URBAC_ENOMEM;
  size_t count = urbac_impact_count(im);
  j->nusers = urbac_model_count(j->m, URBAC_OBJ_USER);
  j->ndg = urbac_model_count(j->m, URBAC_OBJ_DEVICE_GROUP);
  j->rows = malloc((count ? count : 1) * sizeof *j->rows);
  j->by_perm = calloc(urbac_catalog_perm_count(), sizeof *j->by_perm);
  j->by_dg = calloc(j->ndg + 1, sizeof *j->by_dg);
  if (!j->rows || !j->by_perm || !j->by_dg)
    goto out;
  urbac_impact_rows(im, take_row, j);
  if (!take_names(j->m, URBAC_OBJ_USER, j->nusers, &j->user_off, &names) ||
      !take_names(j->m, URBAC_OBJ_DEVICE_GROUP, j->ndg, &j->dg_off, &names))
    goto out;
  j->names = names.p;
  names.p = NULL;
  j->bytes = sizeof *j + count * sizeof *j->rows +
             (urbac_catalog_perm_count() + j->ndg + 1) * sizeof(impact_tally) +
             (j->nusers + j->ndg + 2) * sizeof(uint32_t) + names.len;
  err = URBAC_OK;
out:
  srv_buf_free(&names);
  return err;
}

static void *compute(void *arg)
{
  job *j = arg;
  impacts *all = j->server->impacts;
  urbac_diag *d = urbac_diag_new();
  urbac_impact *im = NULL;
  urbac_err err =
      d ? urbac_impact_compute_progress(j->m, j->workload, j->import, progress, j, &im, d) : URBAC_ENOMEM;
  if (!err)
    err = take(j, im);
  if (err && d && urbac_diag_count(d) > 0)
    urbac_diag_format(d, 0, j->why, sizeof j->why);
  else if (err)
    snprintf(j->why, sizeof j->why, "computing the impact: %s", urbac_strerror(err));
  urbac_impact_free(im);
  urbac_diag_free(d);
  urbac_model_free(j->m);
  j->m = NULL;
  pthread_mutex_lock(&all->lock);
  j->err = err;
  j->finished = true;
  if (err && j->listed) /* not kept: the next request tries again */
    unlist(all, j);
  else if (j->listed)
    evict(all, j, 0);
  job_put(j);
  all->running--;
  pthread_cond_broadcast(&all->changed);
  pthread_mutex_unlock(&all->lock);
  return NULL;
}

/* The job of the key, listed and started when new; a reference for the caller, or
 * NULL with the reply set (too many computations, out of memory). Call with the
 * lock held and inside srv_read_lock(). */
static job *find_or_start(srv *server, impacts *all, srv_req *req, srv_resp *r, const srv_snap *sn, size_t w,
                          bool import)
{
  job *j = NULL, *older = NULL;
  for (j = all->list; j; j = j->next)
    if (j->tenant == req->tenant && j->workload == w && j->import == import && j->revision == sn->revision)
      break;
  if (j)
    goto out;
  for (job *o = all->list; o; o = o->next) /* a newer revision replaces the older's result */
    if (o->tenant == req->tenant && o->workload == w && o->import == import && o->finished)
      older = o;
  if (older)
    unlist(all, older);
  evict(all, NULL, 1);
  if (all->n >= IMPACT_MAX_JOBS) {
    r->retry_after = 1;
    srv_error(r, 503, "serviceUnavailable", NULL,
              "%d impacts are being computed or kept in use: try again later", IMPACT_MAX_JOBS);
    return NULL;
  }
  pthread_t thread;
  pthread_attr_t attr;
  j = calloc(1, sizeof *j);
  if (!j || urbac_model_clone(sn->model, &j->m, NULL) != URBAC_OK)
    goto oom;
  j->server = server;
  j->tenant = req->tenant;
  j->revision = sn->revision;
  j->workload = w;
  j->import = import;
  j->refs = 2; /* the list's and the thread's */
  atomic_store(&j->total, 3 * urbac_model_count(sn->model, URBAC_OBJ_USER));
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int failed = pthread_create(&thread, &attr, compute, j);
  pthread_attr_destroy(&attr);
  if (failed)
    goto oom;
  all->running++;
  atomic_fetch_add(&server->metrics.impacts, 1);
  j->listed = true;
  j->next = all->list;
  all->list = j;
  all->n++;
out:
  j->refs++;
  j->used = ++all->clock;
  return j;
oom:
  if (j)
    job_free(j);
  srv_error(r, 500, "internalError", NULL, "out of memory starting the impact's computation");
  return NULL;
}

/* ---------------------------------------------------------------- replies */

static const char *user_name(const job *j, size_t i) { return j->names + j->user_off[i]; }
static const char *dg_name(const job *j, size_t i) { return i < j->ndg ? j->names + j->dg_off[i] : NULL; }

/* The tallies of `n` entries that have rows, as [{key: name, rows, gains, losses}]. */
static json_t *tallies_json(const job *j, const impact_tally *t, size_t n, const char *key, bool perm)
{
  json_t *out = json_array();
  for (size_t i = 0; out && i < n; i++)
    if (t[i].rows)
      json_array_append_new(out, json_pack("{s:s?, s:I, s:I, s:I}", key,
                                           perm ? urbac_catalog_perm(i)->name : dg_name(j, i), "rows",
                                           (json_int_t)t[i].rows, "gains", (json_int_t)t[i].gains, "losses",
                                           (json_int_t)t[i].losses));
  return out;
}

static void reply_rows(const job *j, srv_req *req, srv_resp *r, size_t skip, size_t top)
{
  json_t *rows = json_array();
  for (size_t i = skip; rows && i < j->count && i - skip < top; i++) {
    const urbac_impact_row *row = &j->rows[i];
    json_array_append_new(rows,
                          json_pack("{s:s, s:s, s:s?, s:s, s:s}", "user", user_name(j, row->user),
                                    "permission", urbac_catalog_perm(row->permission)->name, "deviceGroup",
                                    dg_name(j, row->dg), "before", urbac_impact_level_name(row->before),
                                    "after", urbac_impact_level_name(row->after)));
  }
  json_t *out =
      json_pack("{s:s, s:s, s:b, s:I, s:I, s:o, s:o, s:o}", "status", "succeeded", "workload", req->params[1],
                "import", j->import, "count", (json_int_t)j->count, "revision", (json_int_t)j->revision,
                "byPermission", tallies_json(j, j->by_perm, urbac_catalog_perm_count(), "permission", true),
                "byDeviceGroup", tallies_json(j, j->by_dg, j->ndg + 1, "deviceGroup", false), "value", rows);
  if (out && skip + top < j->count) {
    char *link = srv_next_link(req, skip + top, top);
    json_object_set_new(out, "@odata.nextLink", json_string(link));
    free(link);
  }
  srv_json(r, 200, out);
}

static void reply_running(const job *j, srv_req *req, srv_resp *r, size_t skip, size_t top)
{
  srv_json(r, 202,
           json_pack("{s:s, s:s, s:b, s:I, s:I, s:I}", "status", "running", "workload", req->params[1],
                     "import", j->import, "revision", (json_int_t)j->revision, "done",
                     (json_int_t)atomic_load(&j->done), "total", (json_int_t)atomic_load(&j->total)));
  r->retry_after = 1;
  r->location = srv_next_link(req, skip, top);
}

static bool respond_async(const srv_req *req) { return req->prefer && strstr(req->prefer, "respond-async"); }

void srv_h_impact(srv *server, srv_req *req, srv_resp *r)
{
  impacts *all = server->impacts;
  size_t skip, top, w = (size_t)urbac_catalog_workload_find(req->params[1]);
  const char *v = srv_arg_get(req, "import");
  bool import = v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
  if (!srv_page_args(req, r, &skip, &top))
    return;
  if (!urbac_catalog_workload_has_legacy(w)) /* refused at once, as the library would */
    return srv_error(r, srv_status_of(URBAC_EREFUSED), urbac_err_name(URBAC_EREFUSED), "workload",
                     "%s has no legacy model: it is always in unified mode (no activation to measure)",
                     req->params[1]);
  srv_read_lock();
  srv_snap *sn = srv_tenant_snap(req->tenant);
  pthread_mutex_lock(&all->lock);
  job *j = find_or_start(server, all, req, r, sn, w, import);
  srv_read_unlock();
  while (j && !j->finished && !respond_async(req) && !atomic_load(&server->stopping))
    pthread_cond_wait(&all->changed, &all->lock);
  if (j && !j->finished)
    reply_running(j, req, r, skip, top);
  else if (j && j->err)
    srv_error(r, srv_status_of(j->err), urbac_err_name(j->err), "workload", "%s", j->why);
  bool done = j && j->finished && !j->err;
  pthread_mutex_unlock(&all->lock);
  if (done) { /* the result does not change once finished, and our reference keeps it: read unlocked */
    reply_rows(j, req, r, skip, top);
    r->revision = j->revision;
    r->has_revision = true;
  }
  if (j) {
    pthread_mutex_lock(&all->lock);
    job_put(j);
    pthread_mutex_unlock(&all->lock);
  }
}

/* ---------------------------------------------------------------- the cache's life */

urbac_err srv_impacts_init(srv *server)
{
  impacts *all = calloc(1, sizeof *all);
  if (!all)
    return URBAC_ENOMEM;
  pthread_mutex_init(&all->lock, NULL);
  pthread_cond_init(&all->changed, NULL);
  server->impacts = all;
  return URBAC_OK;
}

void srv_impacts_free(srv *server)
{
  impacts *all = server->impacts;
  if (!all)
    return;
  pthread_mutex_lock(&all->lock); /* server->stopping is set: the computations stop at their next step */
  while (all->running)
    pthread_cond_wait(&all->changed, &all->lock);
  while (all->list)
    unlist(all, all->list);
  pthread_mutex_unlock(&all->lock);
  pthread_cond_destroy(&all->changed);
  pthread_mutex_destroy(&all->lock);
  free(all);
  server->impacts = NULL;
}
