/*
 * server/metrics.c - what an operator watches: /healthz, /readyz, /metrics
 * (Prometheus text: requests and latency histograms by route, decisions by
 * outcome, each tenant's revision, snapshot rebuilds and their time, whether
 * the store is reachable, its reconnections and how far behind each tenant may
 * be), the access log (one JSON line per request) and the OpenAPI document.
 *
 * Counters are relaxed atomics: a request costs a few uncontended increments.
 *
 * Depends on: the public API, jansson.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/server.h"

/* upper bounds in microseconds; the last bucket is +Inf */
static const uint64_t bounds_us[SRV_LATENCY_BUCKETS] = {50,   100,   250,   500,    1000,   2500,
                                                        5000, 10000, 25000, 100000, 500000, 2000000};

void srv_metrics_observe(srv *server, const srv_route *route, unsigned status, uint64_t us)
{
  size_t i = route ? (size_t)(route - srv_routes) : srv_nroutes;
  srv_route_stats *st = &server->metrics.routes[i];
  size_t b = 0;
  while (b < SRV_LATENCY_BUCKETS && us > bounds_us[b])
    b++;
  unsigned cls = status / 100 < 6 ? status / 100 : 5;
  atomic_fetch_add_explicit(&st->status[cls], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&st->bucket[b], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&st->sum_us, us, memory_order_relaxed);
}

void srv_h_healthz(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  (void)req;
  srv_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

void srv_h_readyz(srv *server, srv_req *req, srv_resp *r)
{
  (void)req;
  char why[600] = "";
  bool stopping = atomic_load(&server->stopping), store = srv_store_ready(server, why, sizeof why);
  const char *status = stopping ? "stopping" : store ? "ready" : "store unavailable";
  srv_json(r, stopping || !store ? 503 : 200,
           json_pack("{s:s, s:I, s:s?}", "status", status, "tenants",
                     (json_int_t)atomic_load(&server->ntenants), "reason", store ? NULL : why));
  if (!store)
    r->retry_after = 1;
}

/* The store as each tenant's change feed sees it. */
static void store_metrics(srv *server, srv_buf *b, size_t n)
{
  char why[8];
  uint64_t reconnects = 0, now = srv_now_us();
  for (size_t i = 0; i < n; i++)
    reconnects += atomic_load(&server->tenants[i]->feed_reconnects);
  srv_buf_printf(
      b,
      "# HELP urbac_store_up Whether every tenant's change feed reaches the store and is caught up.\n"
      "# TYPE urbac_store_up gauge\nurbac_store_up %d\n"
      "# HELP urbac_store_reconnects_total Connections to the store made again after one broke.\n"
      "# TYPE urbac_store_reconnects_total counter\nurbac_store_reconnects_total %llu\n"
      "# HELP urbac_store_lag_seconds Time since each tenant was last known to be the store's latest.\n"
      "# TYPE urbac_store_lag_seconds gauge\n"
      "# HELP urbac_store_lag_revisions Revisions the store was last seen ahead of what is served.\n"
      "# TYPE urbac_store_lag_revisions gauge\n",
      srv_store_ready(server, why, sizeof why) ? 1 : 0, (unsigned long long)reconnects);
  for (size_t i = 0; i < n; i++) {
    srv_tenant *t = server->tenants[i];
    json_t *id = json_string(t->id); /* escaped as JSON, which Prometheus label values accept */
    char *q = json_dumps(id, JSON_ENCODE_ANY);
    uint64_t synced = atomic_load(&t->feed_synced_us), seen = atomic_load(&t->feed_seen);
    uint64_t served = srv_tenant_snap(t)->revision;
    srv_buf_printf(b, "urbac_store_lag_seconds{tenant=%s} %.3f\nurbac_store_lag_revisions{tenant=%s} %llu\n",
                   q ? q : "\"?\"", now > synced ? (double)(now - synced) / 1e6 : 0.0, q ? q : "\"?\"",
                   (unsigned long long)(seen > served ? seen - served : 0));
    free(q);
    json_decref(id);
  }
}

static void route_metrics(srv *server, srv_buf *b, const char *method, const char *path, size_t i)
{
  srv_route_stats *st = &server->metrics.routes[i];
  uint64_t cum = 0;
  for (unsigned c = 1; c < 6; c++) {
    uint64_t n = atomic_load_explicit(&st->status[c], memory_order_relaxed);
    if (n)
      srv_buf_printf(b, "urbac_http_requests_total{method=\"%s\",route=\"%s\",code=\"%uxx\"} %llu\n", method,
                     path, c, (unsigned long long)n);
  }
  for (size_t k = 0; k <= SRV_LATENCY_BUCKETS; k++) {
    cum += atomic_load_explicit(&st->bucket[k], memory_order_relaxed);
    if (k < SRV_LATENCY_BUCKETS)
      srv_buf_printf(
          b, "urbac_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"%g\"} %llu\n",
          method, path, (double)bounds_us[k] / 1e6, (unsigned long long)cum);
    else
      srv_buf_printf(
          b, "urbac_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"+Inf\"} %llu\n",
          method, path, (unsigned long long)cum);
  }
  srv_buf_printf(b, "urbac_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} %.6f\n", method,
                 path, (double)atomic_load_explicit(&st->sum_us, memory_order_relaxed) / 1e6);
  srv_buf_printf(b, "urbac_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"} %llu\n", method,
                 path, (unsigned long long)cum);
}

/* The server's counters and gauges of one value each, as data: name, type, help, field. */
static const struct counter {
  const char *name, *type, *help;
  size_t field; /* offset of the _Atomic uint64_t in srv_metrics */
} counter_table[] = {
    {"urbac_http_connections", "gauge", "Connections open now.", offsetof(srv_metrics, connections)},
    {"urbac_http_connections_refused_total", "counter",
     "Connections closed on arrival: over --max-connections or --max-connections-per-ip.",
     offsetof(srv_metrics, connections_refused)},
    {"urbac_http_bodies_refused_total", "counter",
     "Requests answered 503: the memory for bodies in flight (--max-body-memory) was spent.",
     offsetof(srv_metrics, bodies_refused)},
    {"urbac_tenant_lookups_total", "counter",
     "Tenants looked for in the store because they were not in memory.",
     offsetof(srv_metrics, tenant_lookups)},
    {"urbac_write_batches_total", "counter",
     "Batches the tenants' writers ran: the puts in one are committed together.",
     offsetof(srv_metrics, write_batches)},
    {"urbac_write_batch_requests_total", "counter", "Requests the tenants' writers ran, in those batches.",
     offsetof(srv_metrics, write_jobs)},
    {"urbac_write_batch_commits_total", "counter",
     "Store transactions the writers committed, each holding the batched writes of a batch (one fsync).",
     offsetof(srv_metrics, write_commits)},
    {"urbac_write_batch_published_ahead_total", "counter",
     "Of those, the ones whose next snapshot was edited from the batch's own writes while it committed.",
     offsetof(srv_metrics, write_ahead)},
    {"urbac_impact_computations_total", "counter",
     "Impacts of activating computed (the others were served from the kept results or shared a "
     "computation).",
     offsetof(srv_metrics, impacts)},
};

static void counters(srv *server, srv_buf *b)
{
  for (size_t i = 0; i < sizeof counter_table / sizeof counter_table[0]; i++) {
    const struct counter *c = &counter_table[i];
    _Atomic uint64_t *v = (_Atomic uint64_t *)(void *)((char *)&server->metrics + c->field);
    srv_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", c->name, c->help, c->name, c->type, c->name,
                   (unsigned long long)atomic_load(v));
  }
}

void srv_h_metrics(srv *server, srv_req *req, srv_resp *r)
{
  (void)req;
  srv_buf *b = &r->body;
  srv_buf_puts(b, "# HELP urbac_http_requests_total HTTP requests by route and status class.\n"
                  "# TYPE urbac_http_requests_total counter\n"
                  "# HELP urbac_http_request_duration_seconds Time to answer, by route.\n"
                  "# TYPE urbac_http_request_duration_seconds histogram\n");
  for (size_t i = 0; i < srv_nroutes; i++)
    route_metrics(server, b, srv_method_name(srv_routes[i].method), srv_routes[i].path, i);
  route_metrics(server, b, "ANY", "unmatched", srv_nroutes);
  srv_buf_printf(
      b,
      "# HELP urbac_decisions_total Decisions answered, by outcome.\n"
      "# TYPE urbac_decisions_total counter\n"
      "urbac_decisions_total{decision=\"allow\"} %llu\nurbac_decisions_total{decision=\"deny\"} %llu\n",
      (unsigned long long)atomic_load(&server->metrics.allow),
      (unsigned long long)atomic_load(&server->metrics.deny));
  srv_buf_printf(
      b,
      "# HELP urbac_snapshot_rebuilds_total Snapshots of a whole tenant loaded and compiled.\n"
      "# TYPE urbac_snapshot_rebuilds_total counter\n"
      "urbac_snapshot_rebuilds_total %llu\n"
      "# HELP urbac_snapshot_rebuild_seconds_total Time spent loading and compiling whole snapshots.\n"
      "# TYPE urbac_snapshot_rebuild_seconds_total counter\nurbac_snapshot_rebuild_seconds_total %.6f\n"
      "# HELP urbac_snapshot_updates_total Snapshots made from the last by the change feed's changes.\n"
      "# TYPE urbac_snapshot_updates_total counter\nurbac_snapshot_updates_total %llu\n"
      "# HELP urbac_snapshot_update_seconds_total Time spent reading the feed, editing and updating.\n"
      "# TYPE urbac_snapshot_update_seconds_total counter\nurbac_snapshot_update_seconds_total %.6f\n"
      "# HELP urbac_tenant_revision The revision each tenant is served at.\n# TYPE urbac_tenant_revision "
      "gauge\n",
      (unsigned long long)atomic_load(&server->metrics.rebuilds),
      (double)atomic_load(&server->metrics.rebuild_us) / 1e6,
      (unsigned long long)atomic_load(&server->metrics.updates),
      (double)atomic_load(&server->metrics.update_us) / 1e6);
  counters(server, b);
  size_t n = atomic_load_explicit(&server->ntenants, memory_order_acquire);
  srv_read_lock();
  for (size_t i = 0; i < n; i++) {
    json_t *id =
        json_string(server->tenants[i]->id); /* escaped as JSON, which Prometheus label values accept */
    char *q = json_dumps(id, JSON_ENCODE_ANY);
    srv_buf_printf(b, "urbac_tenant_revision{tenant=%s} %llu\n", q ? q : "\"?\"",
                   (unsigned long long)srv_tenant_snap(server->tenants[i])->revision);
    free(q);
    json_decref(id);
  }
  store_metrics(server, b, n);
  srv_read_unlock();
  r->status = b->oom ? 500 : 200;
  r->content_type = "text/plain; version=0.0.4";
}

extern const unsigned char srv_openapi_json[];
extern const size_t srv_openapi_json_len;

void srv_h_openapi(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  (void)req;
  srv_buf_put(&r->body, (const char *)srv_openapi_json, srv_openapi_json_len);
  r->status = 200;
}

/* ---------------------------------------------------------------- access log */

/* The length of the UTF-8 sequence at `p` (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF), or 0 when it is not one. */
static size_t utf8_sequence(const unsigned char *p)
{
  size_t n = p[0] < 0x80                    ? 1
             : p[0] >= 0xC2 && p[0] <= 0xDF ? 2
             : p[0] >= 0xE0 && p[0] <= 0xEF ? 3
             : p[0] >= 0xF0 && p[0] <= 0xF4 ? 4
                                            : 0;
  for (size_t i = 1; i < n; i++)
    if ((p[i] & 0xC0) != 0x80)
      return 0;
  if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] > 0x9F) || (p[0] == 0xF0 && p[1] < 0x90) ||
      (p[0] == 0xF4 && p[1] > 0x8F))
    return 0;
  return n;
}

/* `in` with every byte that is not UTF-8 written as %XX, so the line is
 * always written: a request (a path cut short mid-character, or bytes made to
 * hide it) never goes unlogged. `out` holds 3 * strlen(in) + 1. */
static void utf8_escape(const char *in, char *out)
{
  static const char hex[] = "0123456789ABCDEF";
  const unsigned char *p = (const unsigned char *)in;
  while (*p) {
    size_t n = utf8_sequence(p);
    if (n) {
      memcpy(out, p, n);
      out += n;
      p += n;
    } else {
      *out++ = '%';
      *out++ = hex[*p >> 4];
      *out++ = hex[*p++ & 15];
    }
  }
  *out = '\0';
}

void srv_access_log(srv *server, const srv_req *req, const char *method, const char *path, unsigned status,
                    uint64_t us, size_t bytes)
{
  if (!server->log)
    return;
  size_t plen = strlen(path), mlen = strlen(method);
  char *clean = malloc(3 * (plen + mlen) + 2);
  if (!clean)
    return;
  utf8_escape(path, clean);
  char *clean_method = clean + strlen(clean) + 1;
  utf8_escape(method, clean_method);
  path = clean;
  method = clean_method;
  char at[32];
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%S", &tm);
  json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:f, s:I, s:s?, s:s?, s:s?}", "time", at, "method", method,
                        "path", path, "status", (int)status, "ms", (double)us / 1000.0, "bytes",
                        (json_int_t)bytes, "route", req && req->route ? req->route->name : NULL, "tenant",
                        req && req->tenant ? req->tenant->id : NULL, "actor",
                        req && req->who.actor[0] ? req->who.actor : NULL);
  char *line = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(6)) : NULL;
  if (line) {
    pthread_mutex_lock(&server->log_lock);
    fputs(line, server->log);
    fputc('\n', server->log);
    pthread_mutex_unlock(&server->log_lock);
  }
  free(line);
  json_decref(j);
  free(clean);
}
