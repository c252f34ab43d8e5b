/*
 * server/http.c - the HTTP face, on libmicrohttpd: a listening socket of our
 * own (so port 0 works and the address is known), a pool of worker threads on
 * epoll, HTTP/1.1 keep-alive, optional TLS; request bodies gathered up to a
 * limit; a srv_req handed to route.c; the reply, its revision and ETag headers;
 * metrics and the access log when the request completes; and the process's
 * signals: SIGTERM or SIGINT stop gracefully, SIGHUP re-reads the preshared keys
 * and the OIDC providers.
 *
 * URLs reach us undecoded (MHD_OPTION_UNESCAPE_CALLBACK), so an id holding an
 * escaped "/" stays one path segment.
 *
 * Connections are accepted by a thread of ours and handed to the pool with
 * MHD_add_connection, which spreads them over the workers: left to accept on
 * their own, a burst of connections could all land on one worker and leave the
 * other idle (half the throughput, seen in bench/http).
 *
 * A request waiting for a revision (minRevision) never holds a worker thread:
 * it is parked (MHD_suspend_connection) and a waker thread resumes the parked
 * requests every 5 ms, so each is dispatched again until it is answered.
 * Nor does a write: a request that reads or writes the store is handed to its
 * tenant's writer (writer.c) with its connection suspended, and resumed with
 * the reply; the workers answer decisions.
 *
 * Depends on: the public API, libmicrohttpd.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/server.h"

#define SHUTDOWN_GRACE_MS 30000
#define PARK_TICK_US 5000
#define MAX_QUERY 8192
#define IDLE_TIMEOUT_S 30u /* a connection silent this long is closed */
#define FD_RESERVE 1100u   /* descriptors kept for the store (a few per tenant), logs, files */
#define MAX_CONNECTIONS 10000u
#define MAX_PER_IP 256u

typedef struct conn {
  uint64_t start;
  srv_buf body;
  size_t reserved; /* bytes of the body budget this request holds */
  bool too_big;
  srv_req req;
  char *scratch;
  unsigned status;
  size_t bytes;
  char path[256];
  char method[8];
  bool parsed; /* req holds the target already (a parked request comes back) */
  bool tls;    /* the server serves HTTPS */
  struct MHD_Connection *mc;
  _Atomic bool answered; /* the tenant's writer ran it: its reply is in `reply` */
  srv_resp reply;
} conn;

/* Requests parked until the revision they asked for (http state, srv.http). */
typedef struct parking {
  pthread_mutex_t lock;
  struct MHD_Connection **mc;
  size_t n, cap;
  pthread_t waker;
  _Atomic bool stop;
} parking;

static _Atomic long inflight;

/* Every request body in memory at once stays under this (srv.max_body_memory). */
static _Atomic size_t body_bytes;

/* ---------------------------------------------------------------- requests */

typedef struct query_ctx {
  srv_buf q;
} query_ctx;

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  (void)kind;
  query_ctx *c = cls;
  if (c->q.len)
    srv_buf_puts(&c->q, "&");
  srv_buf_puts(&c->q, key);
  if (value) {
    srv_buf_puts(&c->q, "=");
    srv_buf_puts(&c->q, value);
  }
  return c->q.len > MAX_QUERY ? MHD_NO : MHD_YES;
}

static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
  (void)cls;
  (void)c;
  return strlen(s);
}

/* Every response, API and portal alike: no script but the portal's own, no
 * framing, no sniffing, no referrer, not cached unless the route says so; the
 * session cookie and a redirect's Location when the route set them. */
static void security_headers(struct MHD_Response *resp, srv_resp *r, bool tls)
{
  MHD_add_response_header(resp, "Content-Security-Policy",
                          "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                          "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
                          "frame-ancestors 'none'");
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
  MHD_add_response_header(resp, "X-Frame-Options", "DENY");
  MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
  MHD_add_response_header(resp, "Cache-Control", r->cache ? r->cache : "no-store");
  if (tls)
    MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
  if (r->cookie[0])
    MHD_add_response_header(resp, "Set-Cookie", r->cookie);
  if (r->location) {
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
    free(r->location);
    r->location = NULL;
  }
}

static enum MHD_Result send_reply(struct MHD_Connection *mc, conn *x, srv_resp *r)
{
  if (r->body.oom || r->status == 0) {
    srv_buf_free(&r->body);
    srv_error(r, 500, "internalError", NULL, r->body.oom ? "out of memory" : "no reply");
  }
  srv_scim_reply(&x->req, r);
  struct MHD_Response *resp =
      r->static_body ? MHD_create_response_from_buffer(r->static_len, (void *)(uintptr_t)r->static_body,
                                                       MHD_RESPMEM_PERSISTENT)
      : r->body.len  ? MHD_create_response_from_buffer(r->body.len, r->body.p, MHD_RESPMEM_MUST_FREE)
                     : MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
  if (!resp) {
    srv_buf_free(&r->body);
    free(r->location);
    return MHD_NO;
  }
  if (!r->body.len || r->static_body)
    srv_buf_free(&r->body);
  r->body.p = NULL; /* owned by the response now */
  security_headers(resp, r, x->req.tls);
  if (r->status != 204)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            r->content_type ? r->content_type : "application/json");
  char num[32];
  if (r->has_revision) {
    snprintf(num, sizeof num, "%llu", (unsigned long long)r->revision);
    MHD_add_response_header(resp, "X-Urbac-Revision", num);
    if (r->etag) {
      snprintf(num, sizeof num, "\"%llu\"", (unsigned long long)r->revision);
      MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, num);
    }
  }
  if (r->status == 401)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
  if (r->retry_after || r->status == 503) {
    snprintf(num, sizeof num, "%u", r->retry_after ? r->retry_after : 1u);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, num);
  }
  if (r->allow[0])
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
  if (r->close)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
  x->status = r->status;
  x->bytes = r->static_body ? r->static_len : r->body.len;
  enum MHD_Result ok = MHD_queue_response(mc, r->status, resp);
  MHD_destroy_response(resp);
  return ok;
}

/* Suspends `mc` until the waker's next round; false when out of memory. */
static bool park(srv *server, struct MHD_Connection *mc)
{
  parking *pk = server->http;
  pthread_mutex_lock(&pk->lock);
  bool ok = pk->n < pk->cap;
  if (!ok) {
    size_t cap = pk->cap ? 2 * pk->cap : 64;
    struct MHD_Connection **more = realloc(pk->mc, cap * sizeof *more);
    if ((ok = more != NULL)) {
      pk->mc = more;
      pk->cap = cap;
    }
  }
  if (ok) { /* suspended before it is listed: the waker only resumes suspended ones */
    MHD_suspend_connection(mc);
    pk->mc[pk->n++] = mc;
  }
  pthread_mutex_unlock(&pk->lock);
  return ok;
}

static void *wake(void *arg)
{
  parking *pk = arg;
  while (!atomic_load(&pk->stop)) {
    usleep(PARK_TICK_US);
    pthread_mutex_lock(&pk->lock);
    struct MHD_Connection **mc = pk->mc;
    size_t n = pk->n;
    pk->mc = NULL;
    pk->n = pk->cap = 0;
    pthread_mutex_unlock(&pk->lock);
    for (size_t i = 0; i < n; i++)
      MHD_resume_connection(mc[i]);
    free(mc);
  }
  return NULL;
}

/* The accept loop: our listening socket, connections handed to the pool. */
typedef struct acceptor {
  int fd;
  srv *s;
  struct MHD_Daemon *daemon;
  pthread_t thread;
  _Atomic bool stop;
} acceptor;

static void *accept_loop(void *arg)
{
  acceptor *a = arg;
  srv_metrics *m = &a->s->metrics;
  while (!atomic_load(&a->stop)) {
    struct pollfd p = {.fd = a->fd, .events = POLLIN};
    if (poll(&p, 1, 100) <= 0)
      continue;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int c = accept(a->fd, (struct sockaddr *)&ss, &len);
    if (c >= 0 && fcntl(c, F_SETFD, FD_CLOEXEC) != 0) {
      close(c);
      continue;
    }
    if (c < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
        usleep(10000); /* out of descriptors: the socket stays readable, so no spinning */
      continue;
    }
    if (atomic_fetch_add(&m->connections, 1) >= a->s->max_connections) {
      atomic_fetch_sub(&m->connections, 1);
      atomic_fetch_add_explicit(&m->connections_refused, 1, memory_order_relaxed);
      close(c);
      continue;
    }
    /* counted back down when libmicrohttpd reports it closed; on failure it
     * closes it itself (too many from this address) */
    if (MHD_add_connection(a->daemon, c, (struct sockaddr *)&ss, len) != MHD_YES) {
      atomic_fetch_sub(&m->connections, 1);
      atomic_fetch_add_explicit(&m->connections_refused, 1, memory_order_relaxed);
    }
  }
  return NULL;
}

static parking *parking_start(void)
{
  parking *pk = calloc(1, sizeof *pk);
  if (!pk)
    return NULL;
  pthread_mutex_init(&pk->lock, NULL);
  if (pthread_create(&pk->waker, NULL, wake, pk) != 0) {
    pthread_mutex_destroy(&pk->lock);
    free(pk);
    return NULL;
  }
  return pk;
}

static void parking_stop(parking *pk)
{
  if (!pk)
    return;
  atomic_store(&pk->stop, true);
  pthread_join(pk->waker, NULL);
  pthread_mutex_destroy(&pk->lock);
  free(pk->mc);
  free(pk);
}

/* Takes `n` bytes from the budget of bodies in flight; false when it is spent. */
static bool budget_take(srv *server, size_t n)
{
  size_t have = atomic_load(&body_bytes);
  do {
    if (have > server->max_body_memory || n > server->max_body_memory - have)
      return false;
  } while (!atomic_compare_exchange_weak(&body_bytes, &have, have + n));
  return true;
}

static void budget_give(conn *x)
{
  atomic_fetch_sub(&body_bytes, x->reserved);
  x->reserved = 0;
}

/* How the request frames its body (RFC 9112 6): false after replying 400 when
 * it is ambiguous, a way to smuggle a second request past a proxy. */
typedef struct framing {
  const char *length; /* the first Content-Length */
  unsigned lengths;   /* Content-Length headers whose value differs from the first */
  bool chunked;       /* Transfer-Encoding present */
} framing;

static enum MHD_Result frame_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  (void)kind;
  framing *f = cls;
  if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
    f->chunked = true;
  else if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) != 0)
    return MHD_YES;
  else if (!f->length)
    f->length = value ? value : "";
  else if (!value || strcmp(value, f->length) != 0)
    f->lengths++;
  return MHD_YES;
}

static bool framed(struct MHD_Connection *mc, framing *f, srv_resp *r)
{
  MHD_get_connection_values(mc, MHD_HEADER_KIND, frame_header, f);
  if (f->chunked && f->length)
    srv_error(r, 400, "badRequest", "Transfer-Encoding",
              "a request may not have both Content-Length and Transfer-Encoding (RFC 9112 6.1)");
  else if (f->lengths)
    srv_error(r, 400, "badRequest", "Content-Length", "conflicting Content-Length headers");
  return r->status == 0;
}

/* The request line and headers: the target parsed once (a parked request comes back). */
static bool target(struct MHD_Connection *mc, conn *x, const char *url, const char *method, srv_resp *r)
{
  srv_req *req = &x->req;
  query_ctx q = {{0}};
  req->method = srv_method_parse(method);
  req->path = url;
  req->authorization = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
  req->if_match = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MATCH);
  req->session = MHD_lookup_connection_value(mc, MHD_COOKIE_KIND, SRV_SESSION_COOKIE);
  req->csrf = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "X-CSRF-Token");
  req->origin = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Origin");
  req->host = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
  req->prefer = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Prefer");
  req->tls = x->tls;
  MHD_get_connection_values(mc, MHD_GET_ARGUMENT_KIND, add_arg, &q);
  x->parsed = !q.q.oom && q.q.len <= MAX_QUERY && srv_req_parse_target(req, url, q.q.p, &x->scratch);
  srv_buf_free(&q.q);
  if (!x->parsed)
    srv_error(r, 400, "badRequest", "url",
              "the URL is malformed or too long (bad escape, too many segments or arguments)");
  return x->parsed;
}

/* The first call, on the headers alone: a request with a body is routed and
 * its caller authenticated before a byte of the body is read, and the body's
 * memory is taken from the budget (503 when it is spent). Any reply from here
 * closes the connection, the body unread. */
static enum MHD_Result headers(srv *server, struct MHD_Connection *mc, conn *x, const char *url,
                               const char *method)
{
  srv_resp r = {.close = true};
  framing f = {0};
  unsigned long long length = 0;
  if (framed(mc, &f, &r) && f.length) {
    char *end;
    errno = 0;
    length = strtoull(f.length, &end, 10);
    if (errno || *end || end == f.length)
      srv_error(&r, 400, "badRequest", "Content-Length", "Content-Length '%.32s' is not a length", f.length);
  }
  if (!r.status && !length && !f.chunked) /* no body: everything happens once, at the end */
    goto out;
  if (r.status || !target(mc, x, url, method, &r) || !srv_admit(server, &x->req, &r))
    goto out;
  if (length > server->max_body) {
    x->too_big = true;
    srv_error(&r, 413, "payloadTooLarge", "body", "the body is larger than %zu bytes", server->max_body);
  } else if (length && !budget_take(server, (size_t)length)) {
    atomic_fetch_add_explicit(&server->metrics.bodies_refused, 1, memory_order_relaxed);
    srv_error(&r, 503, "unavailable", "body", "the server holds as many request bodies as it may; try again");
  } else {
    x->reserved = (size_t)length;
    srv_buf_reserve(&x->body, (size_t)length); /* the body in one allocation, not a chain of reallocations */
  }
out:
  return r.status ? send_reply(mc, x, &r) : MHD_YES;
}

/* The tenant's writer (writer.c) runs a request with its connection suspended. */
static void held(void *ctx)
{
  conn *x = ctx;
  MHD_suspend_connection(x->mc);
}

static void answered(void *ctx)
{
  conn *x = ctx;
  atomic_store(&x->answered, true);
  MHD_resume_connection(x->mc); /* on_request is called again: answer() sends the reply */
}

/* Hands `x` to its tenant's writer; false when it takes no more (replied 503). */
static bool hand_over(struct MHD_Connection *mc, conn *x, srv_resp *r)
{
  x->mc = mc;
  x->reply = (srv_resp){0};
  srv_job job = {&x->req, &x->reply, held, answered, x};
  if (srv_writer_submit(x->req.tenant, &job))
    return true;
  srv_error(r, 503, "unavailable", NULL,
            "tenant %s has as many administration requests waiting as it may (%d); try again",
            x->req.tenant->id, x->req.tenant->server->max_write_queue);
  return false;
}

static enum MHD_Result answer(srv *server, struct MHD_Connection *mc, conn *x, const char *url,
                              const char *method)
{
  srv_resp r = {0};
  srv_req *req = &x->req;
  if (atomic_exchange(&x->answered, false)) /* back from the tenant's writer */
    r = x->reply;
  else if (x->too_big)
    srv_error(&r, 413, "payloadTooLarge", "body", "the body is larger than %zu bytes", server->max_body);
  else if (x->body.oom)
    srv_error(&r, 503, "unavailable", "body",
              "out of memory for the body, or the server holds as many bodies as it may");
  else if (x->parsed || target(mc, x, url, method, &r)) {
    req->body = x->body.p;
    req->body_len = x->body.len;
    /* decisions are answered here; what reads or writes the store, by the tenant's writer */
    if ((req->admitted || srv_admit(server, req, &r)) && srv_writer_takes(req)) {
      if (hand_over(mc, x, &r))
        return MHD_YES;
    } else if (!r.status)
      srv_dispatch(server, req, &r);
  }
  if (r.wait && park(server, mc))
    return MHD_YES; /* dispatched again after the waker's next round */
  if (r.wait)
    srv_error(&r, 503, "unavailable", "minRevision", "out of memory to wait for a revision");
  return send_reply(mc, x, &r);
}

/* A chunk of the body: kept while it fits the request's limit and the budget. */
static void upload(srv *server, conn *x, const char *data, size_t n)
{
  if (x->too_big || x->body.oom)
    return; /* the rest is read and dropped; the reply says why */
  if (x->body.len + n > server->max_body) {
    x->too_big = true;
  } else if (x->body.len + n > x->reserved) { /* chunked: the budget grows with the body */
    size_t more = x->body.len + n - x->reserved;
    if (budget_take(server, more))
      x->reserved += more;
    else {
      atomic_fetch_add_explicit(&server->metrics.bodies_refused, 1, memory_order_relaxed);
      x->body.oom = true;
    }
  }
  if (!x->too_big && !x->body.oom)
    srv_buf_put(&x->body, data, n);
  if (x->too_big || x->body.oom) {
    srv_buf_free(&x->body);
    x->body.oom = !x->too_big;
    budget_give(x);
  }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size,
                                  void **con_cls)
{
  (void)version;
  srv *server = cls;
  conn *x = *con_cls;
  if (!x) {
    if (!(x = calloc(1, sizeof *x)))
      return MHD_NO;
    x->start = srv_now_us();
    x->tls = server->cfg->tls_cert != NULL;
    snprintf(x->path, sizeof x->path, "%s", url);
    snprintf(x->method, sizeof x->method, "%s", method);
    *con_cls = x;
    atomic_fetch_add(&inflight, 1);
    return headers(server, mc, x, url, method);
  }
  if (*upload_size) {
    upload(server, x, upload_data, *upload_size);
    *upload_size = 0;
    return MHD_YES;
  }
  if (x->status) /* answered on the headers */
    return MHD_YES;
  return answer(server, mc, x, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
  (void)mc;
  (void)why;
  srv *server = cls;
  conn *x = *con_cls;
  if (!x)
    return;
  uint64_t us = srv_now_us() - x->start;
  srv_metrics_observe(server, x->req.route, x->status ? x->status : 499, us);
  srv_access_log(server, &x->req, x->method, x->path, x->status ? x->status : 499, us, x->bytes);
  srv_buf_free(&x->body);
  budget_give(x);
  free(x->scratch);
  free(x);
  *con_cls = NULL;
  atomic_fetch_sub(&inflight, 1);
}

/* Open connections, counted so that libmicrohttpd's own limit is never met:
 * 0.9.74 to 0.9.77 leave a worker's mutex locked when a connection handed to
 * it with MHD_add_connection finds the worker full (new_connection_process_,
 * fixed upstream in 1.0.0 by commit 67061d5c), and the worker then waits on
 * itself for good. Ours refuses a connection before it is handed over. */
static void on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
  (void)mc;
  (void)socket_context;
  srv *server = cls;
  if (code == MHD_CONNECTION_NOTIFY_CLOSED)
    atomic_fetch_sub(&server->metrics.connections, 1);
}

/* ---------------------------------------------------------------- the daemon */

static int listen_on(const char *address, char *bound, size_t size, urbac_diag *d)
{
  char host[256];
  const char *colon = strrchr(address, ':');
  size_t digits = colon ? strspn(colon + 1, "0123456789") : 0;
  if (!colon || colon == address || (size_t)(colon - address) >= sizeof host || digits == 0 || digits > 5 ||
      colon[1 + digits] != '\0' || strtoul(colon + 1, NULL, 10) > 65535) {
    urbac_diag_add(d, URBAC_EINVAL, NULL, 0, 0, "--listen", "'%s': use HOST:PORT, the port 0 to 65535",
                   address);
    return -1;
  }
  snprintf(host, sizeof host, "%.*s", (int)(colon - address), address);
  size_t hl = strlen(host);
  if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') { /* [::1]:8080 */
    memmove(host, host + 1, hl - 2);
    host[hl - 2] = '\0';
  }
  struct addrinfo hints = {
      .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
  struct addrinfo *ai = NULL;
  int rc = getaddrinfo(host, colon + 1, &hints, &ai), fd = -1, one = 1;
  if (rc != 0) {
    urbac_diag_add(d, URBAC_EINVAL, NULL, 0, 0, "--listen", "'%s': %s", address, gai_strerror(rc));
    return -1;
  }
  fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0); /* polled, then accepted */
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
    urbac_diag_add(d, URBAC_EIO, NULL, 0, 0, "--listen", "cannot listen on %s: %s", address, strerror(errno));
    if (fd >= 0)
      close(fd);
    freeaddrinfo(ai);
    return -1;
  }
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  char ip[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  getsockname(fd, (struct sockaddr *)&ss, &len);
  if (ss.ss_family == AF_INET) {
    inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, sizeof ip);
    port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    snprintf(bound, size, "%s:%u", ip, port);
  } else {
    inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, ip, sizeof ip);
    port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    snprintf(bound, size, "[%s]:%u", ip, port);
  }
  freeaddrinfo(ai);
  return fd;
}

static char *read_file(const char *path, urbac_diag *d)
{
  FILE *f = fopen(path, "rb");
  srv_buf b = {0};
  char chunk[4096];
  size_t n;
  if (!f) {
    urbac_diag_add(d, URBAC_EIO, path, 0, 0, NULL, "cannot read: %s", strerror(errno));
    return NULL;
  }
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < (1u << 20))
    srv_buf_put(&b, chunk, n);
  fclose(f);
  if (b.oom || !b.p) {
    urbac_diag_add(d, URBAC_EIO, path, 0, 0, NULL, "empty or unreadable");
    srv_buf_free(&b);
  }
  return b.p;
}

static struct MHD_Daemon *start(srv *server, const char *cert, const char *key)
{
  /* a pool of at least two: libmicrohttpd 0.9.75 with one thread stopped serving
   * a burst of more than about a hundred new connections when it accepted them
   * itself (bench/README.md); the pool is kept as it was measured */
  unsigned threads = server->cfg->threads ? server->cfg->threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
  threads = threads < 2 ? 2 : threads;
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME |
                   MHD_USE_NO_LISTEN_SOCKET | (cert ? MHD_USE_TLS : 0);
  struct MHD_OptionItem tls[] = {{MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)(uintptr_t)cert},
                                 {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)(uintptr_t)key},
                                 {MHD_OPTION_END, 0, NULL}};
  /* each worker may hold every connection: the accept loop's count, not
   * libmicrohttpd's, is the limit (on_connection) */
  unsigned limit = server->max_connections * threads;
  return MHD_start_daemon(flags, 0, NULL, NULL, on_request, server, MHD_OPTION_THREAD_POOL_SIZE, threads,
                          MHD_OPTION_NOTIFY_COMPLETED, on_completed, server, MHD_OPTION_NOTIFY_CONNECTION,
                          on_connection, server, MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
                          MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                          server->max_connections_per_ip, MHD_OPTION_CONNECTION_TIMEOUT, IDLE_TIMEOUT_S,
                          MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384, MHD_OPTION_ARRAY,
                          cert ? tls : &tls[2], MHD_OPTION_END);
}

/* Waits for signals until SIGTERM or SIGINT; flushes the access log each second. */
static void serve(srv *server, const sigset_t *set)
{
  struct timespec second = {1, 0};
  for (;;) {
    int sig = sigtimedwait(set, NULL, &second);
    if (sig < 0) { /* a second passed: the access log reaches its file */
      pthread_mutex_lock(&server->log_lock);
      if (server->log)
        fflush(server->log);
      pthread_mutex_unlock(&server->log_lock);
      continue;
    }
    if (sig != SIGHUP)
      return;
    urbac_diag *d = urbac_diag_new();
    if (srv_preshared_load(server, d) != URBAC_OK) {
      char line[512];
      urbac_diag_format(d, 0, line, sizeof line);
      srv_log_event(server, json_pack("{s:s, s:s, s:s}", "event", "sighup", "kept",
                                      "the previous preshared keys", "error", line));
    }
    urbac_diag_free(d);
    srv_oidc_reload(server); /* done by its own thread: it fetches keys */
  }
}

void srv_log_event(srv *server, json_t *event)
{
  char *text = event ? json_dumps(event, JSON_COMPACT) : NULL;
  pthread_mutex_lock(&server->log_lock);
  if (text) { /* rare, and wanted at once: flushed */
    fprintf(server->log ? server->log : stderr, "%s\n", text);
    fflush(server->log ? server->log : stderr);
  }
  pthread_mutex_unlock(&server->log_lock);
  free(text);
  json_decref(event);
}

static void stop(srv *server, struct MHD_Daemon *daemon, acceptor *a)
{
  atomic_store(&server->stopping, true);
  atomic_store(&a->stop, true); /* no new connections */
  pthread_join(a->thread, NULL);
  close(a->fd);
  /* requests in flight finish; a request already on its way over an open
   * keep-alive connection gets 50 ms to arrive */
  int quiet = 0;
  for (int waited = 0; quiet < 50 && waited < SHUTDOWN_GRACE_MS; waited += 10) {
    quiet = atomic_load(&inflight) > 0 ? 0 : quiet + 10;
    usleep(10000);
  }
  srv_writers_stop(server); /* what they hold is answered while the daemon runs; later requests get 503 */
  MHD_stop_daemon(daemon);
}

/* Raises the descriptor limit to its hard limit (idle connections cost one
 * each) and sets how many connections may be open: --max-connections, or as
 * many as the descriptors allow, up to 10,000. */
static urbac_err connection_limit(srv *server, const urbac_server_config *cfg, urbac_diag *d)
{
  struct rlimit rl;
  urbac_err err = URBAC_OK;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    err = urbac_diag_add(d, URBAC_EIO, NULL, 0, 0, NULL, "cannot read the file descriptor limit: %s",
                         strerror(errno));
    goto out;
  }
  if (rl.rlim_cur < rl.rlim_max) {
    rlim_t was = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
      rl.rlim_cur = was;
  }
  rlim_t room = rl.rlim_cur > 2 * FD_RESERVE ? rl.rlim_cur - FD_RESERVE : rl.rlim_cur / 2;
  server->max_connections = cfg->max_connections
                                ? cfg->max_connections
                                : (unsigned)(room < MAX_CONNECTIONS ? room : MAX_CONNECTIONS);
  if (server->max_connections > room || server->max_connections > UINT_MAX / 256)
    err = urbac_diag_add(
        d, URBAC_ELIMIT, NULL, 0, 0, "--max-connections",
        "%u connections need more file descriptors than the limit of %llu allows (at most %llu: "
        "raise 'ulimit -n')",
        server->max_connections, (unsigned long long)rl.rlim_cur, (unsigned long long)room);
out:
  return err;
}

urbac_err srv_init(srv *server, const urbac_server_config *cfg, urbac_diag *d)
{
  *server =
      (srv){.cfg = cfg,
            .wait_ms = cfg->min_revision_wait_ms ? cfg->min_revision_wait_ms : 2000,
            .max_body = cfg->max_body ? cfg->max_body : (16u << 20),
            .max_connections_per_ip = cfg->max_connections_per_ip ? cfg->max_connections_per_ip : MAX_PER_IP,
            .max_write_queue = cfg->max_write_queue ? cfg->max_write_queue : SRV_WRITE_QUEUE};
  server->max_body_memory = cfg->max_body_memory
                                ? cfg->max_body_memory
                                : (4 * server->max_body > (64u << 20) ? 4 * server->max_body : (64u << 20));
  pthread_mutex_init(&server->tenants_lock, NULL);
  pthread_mutex_init(&server->log_lock, NULL);
  urbac_err err = connection_limit(server, cfg, d);
  if (!err && server->max_body_memory < server->max_body)
    err = urbac_diag_add(d, URBAC_EINVAL, NULL, 0, 0, "--max-body-memory",
                         "%zu bytes is less than one body may be (%zu)", server->max_body_memory,
                         server->max_body);
  if (!err && !(server->metrics.routes = calloc(srv_nroutes + 1, sizeof *server->metrics.routes)))
    err = URBAC_ENOMEM;
  if (err)
    return err;
  const char *const *ids;
  size_t n;
  char why[512], db[1024];
  urbac_store_url_redacted(cfg->db_url, db, sizeof db); /* never the password */
  urbac_audit_opts audit = {cfg->audit_key_file, cfg->witness_file, cfg->witness_syslog};
  err = urbac_store_open(cfg->db_url, URBAC_STORE_WRITE, &server->lookup_store, d);
  if (!err) /* a bad audit key is refused before anything is served */
    err = urbac_store_set_audit(server->lookup_store, &audit, d);
  if (!err && (err = urbac_store_tenants(server->lookup_store, &ids, &n, d)) != URBAC_OK)
    urbac_diag_add(d, err, db, 0, 0, NULL, "cannot list the store's tenants (run 'urbac init'?)");
  for (size_t i = 0; !err && i < n && i < SRV_MAX_TENANTS; i++)
    if (!srv_tenant_get(server, ids[i], why, sizeof why))
      err = urbac_diag_add(d, URBAC_ESTORE, db, 0, 0, NULL, "%s", why);
  if (!err)
    err = srv_directory_start(server, d);
  if (!err)
    err = srv_preshared_load(server, d);
  if (!err && cfg->access_log) { /* before the OIDC refresher, which logs to it */
    server->log = strcmp(cfg->access_log, "-") == 0 ? stderr : fopen(cfg->access_log, "a");
    if (!server->log)
      err = urbac_diag_add(d, URBAC_EIO, cfg->access_log, 0, 0, NULL, "cannot open the access log: %s",
                           strerror(errno));
  }
  if (!err && cfg->oidc_file)
    err = srv_oidc_load(server, cfg->oidc_file, d);
  if (!err)
    err = srv_sessions_init(server);
  if (!err)
    err = srv_impacts_init(server);
  return err;
}

void srv_fini(srv *server)
{
  atomic_store(&server->stopping, true); /* the watchers end within a round */
  srv_impacts_free(server);
  srv_directory_stop(server);
  srv_tenants_stop(server);
  urbac_store_close(server->lookup_store);
  srv_auth_free(server);
  srv_sessions_free(server);
  if (server->log && server->log != stderr)
    fclose(server->log);
  else if (server->log)
    fflush(server->log);
  free(server->metrics.routes);
  pthread_mutex_destroy(&server->tenants_lock);
  pthread_mutex_destroy(&server->log_lock);
}

urbac_err urbac_server_run(const urbac_server_config *cfg, urbac_diag *d)
{
  srv s;
  char address[300] = "";
  char *cert = NULL, *key = NULL;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, NULL); /* every thread started from here on inherits it */
  urbac_err err = srv_init(&s, cfg, d);
  if (!err && (!cfg->tls_cert) != (!cfg->tls_key))
    err =
        urbac_diag_add(d, URBAC_EINVAL, NULL, 0, 0, "--tls-cert", "TLS needs both --tls-cert and --tls-key");
  if (!err && cfg->tls_cert && (!(cert = read_file(cfg->tls_cert, d)) || !(key = read_file(cfg->tls_key, d))))
    err = URBAC_EIO;
  if (!err && !(s.http = parking_start()))
    err = URBAC_ENOMEM;
  int fd = err ? -1 : listen_on(cfg->listen ? cfg->listen : "127.0.0.1:8080", address, sizeof address, d);
  if (!err && fd < 0)
    err = URBAC_EIO;
  struct MHD_Daemon *daemon = err ? NULL : start(&s, cert, key);
  acceptor a = {.fd = fd, .s = &s, .daemon = daemon};
  if (!err && (!daemon || pthread_create(&a.thread, NULL, accept_loop, &a) != 0)) {
    err = urbac_diag_add(d, URBAC_EIO, NULL, 0, 0, NULL, "cannot start the HTTP server on %s", address);
    if (daemon)
      MHD_stop_daemon(daemon);
    close(fd);
  }
  if (!err) {
    if (cfg->on_ready)
      cfg->on_ready(cfg->ctx, address);
    serve(&s, &set);
    stop(&s, daemon, &a);
  }
  parking_stop(s.http); /* after the daemon: parked requests are answered by then */
  free(cert);
  free(key);
  srv_fini(&s);
  return err;
}
