/*
 * server/server.h - what the server's parts share. The server is a face, like the
 * CLI: it compiles against the public API (include/urbac) only.
 *
 *   http.c     libmicrohttpd: sockets, bodies, headers; hands a srv_req to route.c
 *   route.c    the route table, path matching, authentication and authorization
 *   tenants.c  per-tenant snapshots swapped with RCU, the store's change feed
 *   writer.c   per-tenant writer threads: administration off the HTTP workers, group commit
 *   auth.c     bearer tokens: preshared keys, API keys, OIDC JWTs (jwks.c)
 *   decide.c   check, checks, explain, effective permissions, who can
 *   admin.c    Graph-shaped roles and assignments, objects, workloads, import
 *   reach.c    no escalation: a caller gives nobody more than the caller holds
 *   filter.c   OData $filter on the Graph-shaped lists
 *   metrics.c  Prometheus counters and histograms, the access log
 *   json.c     buffers, replies and the one error shape
 *
 * A srv_req never depends on libmicrohttpd, so the fuzzer drives route.c directly.
 *
 * Depends on: the public API, jansson, liburcu-bp, libjwt, OpenSSL, libmicrohttpd (http.c).
 */
#ifndef URBAC_SERVER_INTERNAL_H
#define URBAC_SERVER_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <urcu/urcu-bp.h>

#include "server/serve.h"
#include "urbac/store.h"
#include "urbac/urbac.h"

#define SRV_MAX_SEGS 12       /* path segments */
#define SRV_MAX_ARGS 32       /* query arguments */
#define SRV_MAX_PARAMS 4      /* {placeholders} in one route */
#define SRV_MAX_TENANTS 256   /* tenants one server follows */
#define SRV_MAX_CHECKS 100000 /* questions in one POST /checks */
#define SRV_PAGE_DEFAULT 100  /* list page size when $top is absent */
#define SRV_PAGE_MAX 10000

/* ---------------------------------------------------------------- buffers */

typedef struct srv_buf {
  char *p; /* malloc'd: handed to the HTTP library as the response body */
  size_t len, cap;
  bool oom;
} srv_buf;

void srv_buf_reserve(srv_buf *b, size_t n); /* room for n more bytes (sets oom on failure) */
void srv_buf_put(srv_buf *b, const char *s, size_t n);
void srv_buf_puts(srv_buf *b, const char *s);
void srv_buf_printf(srv_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void srv_buf_u64(srv_buf *b, uint64_t v); /* in decimal, without printf: the hot path */
void srv_buf_free(srv_buf *b);

/* ---------------------------------------------------------------- requests */

typedef enum srv_method { SRV_GET, SRV_POST, SRV_PUT, SRV_PATCH, SRV_DELETE, SRV_OTHER } srv_method;
const char *srv_method_name(srv_method m);
srv_method srv_method_parse(const char *s);

typedef struct srv_arg {
  const char *key, *val;
} srv_arg;

/* Who is calling, once authenticated. */
typedef enum srv_caller { SRV_ANONYMOUS, SRV_PRESHARED, SRV_API_KEY, SRV_JWT } srv_caller;
typedef struct srv_identity {
  srv_caller kind;
  bool decisions_only;    /* a service key: the decision routes only */
  bool provisioning_only; /* a provisioning key: the tenant's SCIM routes only; its SCIM writes are not
                           * held to the no-escalation rule (the identity provider's) */
  char user[256];         /* the tenant user it acts as ("" for preshared keys) */
  char actor[320];        /* recorded in the audit log: "key:ID (user)", "jwt:SUB", ... */
  char home[256];         /* the tenant the credential belongs to ("" for preshared keys: every tenant) */
} srv_identity;

typedef struct srv_route srv_route;
typedef struct srv_tenant srv_tenant;

typedef struct srv_req {
  srv_method method;
  char *segs[SRV_MAX_SEGS]; /* decoded path segments */
  size_t nsegs;
  srv_arg args[SRV_MAX_ARGS]; /* decoded query arguments */
  size_t nargs;
  const char *path; /* as received (escaped): for paging links */
  const char *body;
  size_t body_len;
  const char *authorization, *if_match;
  const char *session;       /* the portal's session cookie (session.c), or NULL */
  const char *csrf;          /* its X-CSRF-Token header, or NULL */
  const char *origin, *host; /* the Origin and Host headers, or NULL (signing in from another site) */
  const char *prefer;        /* the Prefer header (respond-async: impact.c), or NULL */
  bool tls;                  /* the request came over HTTPS */
  /* set while routing */
  const srv_route *route;
  const char *params[SRV_MAX_PARAMS]; /* the {placeholders}, in order */
  srv_tenant *tenant;
  srv_identity who;
  uint64_t wait_until_us; /* minRevision: when waiting ends in a 409 (set the first time) */
  bool admitted;          /* srv_admit() passed: route, caller and tenant are known */
} srv_req;

typedef struct srv_resp {
  unsigned status;
  srv_buf body;
  const char *content_type; /* NULL: application/json */
  bool has_revision;        /* X-Urbac-Revision (and the ETag of tenant reads) */
  uint64_t revision;
  bool etag;
  bool wait; /* minRevision not reached yet: no reply; the face parks the request and dispatches it again */
  unsigned retry_after; /* seconds, for a Retry-After header (0: none): the store is unavailable */
  char allow[48];       /* a 405's Allow header: the methods the path has ("GET, POST") */
  bool close;           /* close the connection after the reply (bad framing, an unread body) */
  /* the portal (portal.c, session.c) */
  const unsigned char *static_body; /* served as it is instead of `body` (static data) */
  size_t static_len;
  const char *cache; /* Cache-Control; NULL: no-store */
  char cookie[256];  /* a Set-Cookie header, or "" */
  char *location;    /* a redirect's Location (malloc'd; the face frees it), or NULL */
} srv_resp;

/* Splits `path` (escaped) and `query` (escaped; may be NULL) into req's segments
 * and arguments, decoding each; the strings live in *scratch (the caller frees it).
 * false when a limit is passed or an escape is malformed. */
bool srv_req_parse_target(srv_req *req, const char *path, const char *query, char **scratch);
const char *srv_arg_get(const srv_req *req, const char *key);

/* ---------------------------------------------------------------- replies */

void srv_error(srv_resp *r, unsigned status, const char *code, const char *target, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* An error from the library: the status its code deserves, every message of `d`. */
void srv_error_urbac(srv_resp *r, urbac_err err, const urbac_diag *d, const char *target);
/* Replies `j` (stolen) with `status`. */
void srv_json(srv_resp *r, unsigned status, json_t *j);
/* Parses the body as a JSON object; on failure replies 400 naming line:column. */
json_t *srv_body_object(const srv_req *req, srv_resp *r);
unsigned srv_status_of(urbac_err err);
/* Replies one page of `items` (stolen) as {"value":[...], "@odata.nextLink"}
 * after the members of `extra` (stolen; may be NULL): $top (default 100, at most
 * 10000) and $skiptoken (the offset the previous page's link gives). */
void srv_page(const srv_req *req, srv_resp *r, json_t *items, json_t *extra);
/* srv_page() of a list read at `revision`: "revision" in the body and the header. */
void srv_page_at(const srv_req *req, srv_resp *r, json_t *items, uint64_t revision);
/* A page read after a key (the store's keyset pages): {"revision", "value": items (stolen),
 * "@odata.nextLink" whose $skiptoken is `next`, when not NULL}. */
void srv_page_keyed(const srv_req *req, srv_resp *r, json_t *items, uint64_t revision, const char *next,
                    size_t top);
/* Reads $top and $skiptoken; replies 400 and returns false when malformed. */
bool srv_page_args(const srv_req *req, srv_resp *r, size_t *skip, size_t *top);
/* Reads $top alone (default 100); replies 400 and returns false when malformed. */
bool srv_top_arg(const srv_req *req, srv_resp *r, size_t *top);
/* The next-page link for a list cut after `next` items; with `token` as its $skiptoken. */
char *srv_next_link(const srv_req *req, size_t next, size_t top);
char *srv_next_link_key(const srv_req *req, const char *token, size_t top);

/* ---------------------------------------------------------------- tenants */

/* One compiled revision of a tenant: immutable, freed after an RCU grace period. */
typedef struct srv_snap {
  urbac_model *model;
  urbac_snapshot *snap;
  uint64_t revision;
  uint64_t generation; /* unique per snap in the process: per-thread caches key on it */
  struct rcu_head rcu; /* freed after a grace period by liburcu's thread (tenants.c) */
} srv_snap;

typedef struct srv_keyset srv_keyset;
typedef struct srv srv;
typedef struct srv_writer srv_writer;

struct srv_tenant {
  char *id;
  srv *server;
  srv_snap *current;            /* RCU-protected */
  srv_keyset *keys;             /* RCU-protected: this tenant's API keys */
  pthread_mutex_t keys_lock;    /* guards keys_published and the swap of `keys` */
  _Atomic uint64_t keys_ticket; /* taken by each refresh before it reads the keys */
  uint64_t keys_published;      /* the ticket of the keys served */
  pthread_mutex_t write_lock; /* one writer (and reload) at a time; recursive: a batch holds it (writer.c) */
  srv_writer *writer;         /* writer.c: the thread that runs the tenant's administration requests */
  struct scim_index *scim;    /* scim_index.c: SCIM's lookups, kept by the writer; NULL until used */
  urbac_store *store;         /* used under write_lock */
  urbac_parsed *parsed;       /* under write_lock: the objects the writes on `store` parsed */
  srv_snap *flipped;          /* under write_lock: current, every workload in the other mode (reach.c) */
  struct srv_twin_lag *lag;   /* under write_lock: the changes `flipped` has yet to take (reach.c) */
  pthread_t watcher;
  bool watching;
  /* the change feed's view of the store (tenants.c), for /readyz and /metrics */
  _Atomic bool feed_down;           /* the last round did not reach the store, or could not catch up */
  _Atomic uint64_t feed_synced_us;  /* when the snapshot was last known to be the store's latest */
  _Atomic uint64_t feed_seen;       /* the store's revision, as last read */
  _Atomic uint64_t feed_reconnects; /* times the feed's connection was made again */
  pthread_mutex_t feed_lock;        /* guards feed_why */
  char feed_why[256];               /* while down: why */
};

/* Finds tenant `id`, loading it from the store the first time; NULL when the
 * store has none (or on error, with the reason in `why`). */
srv_tenant *srv_tenant_get(srv *server, const char *id, char *why, size_t why_size);
/* Reads under RCU: srv_read_lock(), srv_tenant_snap(), use it, srv_read_unlock(). */
void srv_read_lock(void);
void srv_read_unlock(void);
srv_snap *srv_tenant_snap(srv_tenant *t);
/* Reloads from the store and publishes when the store is ahead. Call with
 * write_lock held. */
urbac_err srv_tenant_refresh(srv_tenant *t, urbac_diag *d);
/* Publishes `m` (taken), the tenant as a write just committed it at `revision`,
 * without reading it back. Call with write_lock held. */
urbac_err srv_tenant_publish(srv_tenant *t, urbac_model *m, uint64_t revision, urbac_diag *d);
/* Publishes `sn` (taken), an edit of the current snapshot (srv_snap_edit()) that a
 * write just committed at sn->revision, and keeps `twin` (taken; may be NULL) as
 * the tenant's twin with the other modes when it is at that revision too. Call
 * with write_lock held; `t0` (srv_now_us()) is when the edit began, for /metrics. */
void srv_tenant_publish_edit(srv_tenant *t, srv_snap *sn, srv_snap *twin, uint64_t t0);
/* What the store's change feed gave since the snapshot's revision: the last
 * state of each object, in the order first seen, except that an object deleted
 * and then made anew is a delete and, later, a put (the store gives it a new
 * place, last, and so does urbac_model_edit()); deleted once more, the put is
 * dropped and the one delete stays. `seen` maps "kind\nid" to the index of the
 * object's latest change. */
typedef struct srv_feed_item {
  char *kind, *id, *json; /* json NULL: deleted */
  size_t before;          /* made again: the index of its delete; else SIZE_MAX */
  bool dropped;           /* made again and deleted again: not given to the edit */
} srv_feed_item;

typedef struct srv_feed {
  srv_feed_item *v;
  size_t n, cap;
  json_t *seen;
  bool oom;
} srv_feed;

/* An urbac_store_changes() callback adding one change to `ctx` (a srv_feed whose
 * `seen` is a json_object()); 1 when out of memory (f->oom). */
int srv_feed_add(void *ctx, uint64_t revision, const char *kind, const char *id, const char *json);
/* The changes to give urbac_model_edit(), in order, borrowed from `f`: the caller
 * frees the array (not its strings) with free(); NULL when out of memory. */
urbac_object_put *srv_feed_puts(const srv_feed *f, size_t *n);
/* Frees what `f` holds. */
void srv_feed_free(srv_feed *f);

/* The next snapshot, built from what the writer's open store batch wrote (its
 * journal: urbac_store_batch_changes()) on a thread of its own while the batch
 * commits: srv_tenant_ahead_begin() before the commit, false when it cannot (the
 * batch does not follow the snapshot's revision, or no thread); then, once the
 * commit returned, srv_tenant_ahead_end() publishes it when the commit succeeded
 * and the edit applied (true), or frees it (false: the caller catches up from
 * the store, srv_tenant_refresh()). Call both with write_lock held. */
typedef struct srv_ahead {
  srv_tenant *t;
  pthread_t thread;
  srv_feed feed;
  urbac_object_put *puts;
  size_t n;
  uint64_t revision, t0;
  srv_snap *sn; /* what the thread built, or NULL */
} srv_ahead;
bool srv_tenant_ahead_begin(srv_tenant *t, srv_ahead *a);
bool srv_tenant_ahead_end(srv_ahead *a, bool committed);

/* `base` with `n` puts applied (urbac_model_edit() + urbac_snapshot_update()), at
 * `revision`, in *out (the caller frees it with srv_snap_free(); NULL on failure);
 * `base` is unchanged and may be freed first. */
urbac_err srv_snap_edit(const srv_snap *base, const urbac_object_put *puts, size_t n, uint64_t revision,
                        srv_snap **out, urbac_diag *d);
/* Frees a snapshot no reader can hold any more, and its model; accepts NULL. */
void srv_snap_free(srv_snap *sn);
/* Re-reads the tenant's API keys from `st` and swaps them in (RCU). A refresh that
 * began reading before another is never published over it, so a read from before a
 * key was created cannot replace one from after (the watcher's and a key write's
 * race); the reads themselves run side by side. */
void srv_tenant_keys_refresh(srv_tenant *t, urbac_store *st);
void srv_tenants_stop(srv *server);
/* Is every followed tenant's feed up to date with the store? When not, the first
 * reason in `why` ("tenant contoso: store unavailable for 3.2 s: ..."). */
bool srv_store_ready(srv *server, char *why, size_t why_size);
/* The names of the store's tenants, in memory (directory.c): srv_tenant_get()
 * asks the store only for a name listed there. */
urbac_err srv_directory_start(srv *server, urbac_diag *d);
bool srv_directory_has(srv *server, const char *tenant);
/* The first `max` names of the store's tenants, sorted: a new JSON array (NULL: no memory). */
json_t *srv_directory_list(srv *server, size_t max);
void srv_directory_stop(srv *server);

/* ---------------------------------------------------------------- auth */

/* Authenticates `req` for `tenant` (NULL: a route outside tenants). Fills
 * req->who, or replies 401/403 and returns false. */
bool srv_authenticate(srv *server, srv_req *req, srv_resp *r);
/* Authenticates bearer token `tok` (`len` bytes, not retained) for `tenant`
 * (NULL: any), as srv_authenticate() does a request's. */
bool srv_authenticate_token(srv *server, srv_req *req, srv_resp *r, const char *tok, size_t len,
                            const char *tenant);
/* May the authenticated caller of `req` use its tenant's SCIM endpoint
 * (/api/v1/tenants/{t}/scim/v2/...)? A preshared key and a provisioning key of
 * the tenant may; a decisions key may not; any other identity may if its user
 * holds Configuration \ Authorization (manage), as the admin user routes ask.
 * Otherwise false with a 403 in `r`. The SCIM router calls it instead of the
 * routes' own authorization (which refuses provisioning keys everywhere). */
bool srv_auth_may_scim(srv_req *req, srv_resp *r);
urbac_err srv_preshared_load(srv *server, urbac_diag *d);
void srv_auth_free(srv *server);
srv_keyset *srv_keyset_load(urbac_store *st, const char *tenant);
void srv_keyset_free(srv_keyset *k);

/* ---------------------------------------------------------------- OIDC (oidc.c, jwks.c, fetch.c) */

#define SRV_MAX_JWKS_KEYS 32
#define SRV_MAX_TENANT_ID 256

/* Reads the providers file (cfg->oidc_file), fetching each provider's keys,
 * and starts the thread that refreshes them; all or nothing. */
urbac_err srv_oidc_load(srv *server, const char *path, urbac_diag *d);
/* Asks for the providers file to be read again (SIGHUP); done by the refresh
 * thread, which keeps the previous providers when the new file fails. */
void srv_oidc_reload(srv *server);
/* Stops the refresh thread and frees the providers. */
void srv_oidc_free(srv *server);
/* Verifies a JWT against the configured OIDC providers: signature (RS256 or
 * ES256, from the provider's keys, fetched again once when the token names an
 * unknown key), issuer, audience, expiry and not-before. Fills `who` and
 * `home` (the tenant the provider is configured for). */
bool srv_jwt_verify(srv *server, const char *tenant, const char *token, srv_identity *who,
                    char home[SRV_MAX_TENANT_ID + 1], char *why, size_t why_size);
/* srv_jwt_verify() with `audience` in place of the provider's (an ID token's
 * audience is the portal's client id); NULL: the provider's. */
bool srv_jwt_verify_for(srv *server, const char *tenant, const char *token, const char *audience,
                        srv_identity *who, char home[SRV_MAX_TENANT_ID + 1], char *why, size_t why_size);
/* The portal's OIDC client of a provider (the providers file's "portal"), copied out. */
typedef struct srv_oidc_client {
  char tenant[SRV_MAX_TENANT_ID + 1];
  char client_id[1025], client_secret[1025], redirect_uri[1025];
  char authorize_url[1025], token_url[1025]; /* from the issuer's discovery document */
  char ca_file[4096];                        /* "" : the system's CAs */
  unsigned timeout_s;
} srv_oidc_client;
/* The portal client of the provider for `tenant` (NULL or "": the first that has one). */
bool srv_oidc_client_for(srv *server, const char *tenant, srv_oidc_client *out);

/* A JWT taken apart, not yet verified: header, claims and signature owned
 * (srv_jwt_clear() frees them); `token`, `kid` and `iss` point into the token
 * and claims. */
typedef enum srv_alg { SRV_ALG_OTHER, SRV_ALG_RS256, SRV_ALG_ES256 } srv_alg;
typedef struct srv_jwt {
  const char *token, *kid, *iss;
  json_t *header, *claims;
  srv_alg alg;
  size_t signed_len;  /* the signed part: header.payload */
  unsigned char *sig; /* the signature, decoded; owned */
  size_t sig_len;
} srv_jwt;
bool srv_jwt_parse(const char *token, srv_jwt *t, char *why, size_t why_size);
void srv_jwt_clear(srv_jwt *t);
bool srv_jwt_claims_ok(const srv_jwt *t, const char *audience, const char *claim, long leeway,
                       srv_identity *who, char *why, size_t size);

/* A key set: immutable once made; the caller frees it with srv_jwks_free(). */
typedef struct srv_jwks srv_jwks;
typedef enum srv_sig { SRV_SIG_OK, SRV_SIG_BAD, SRV_SIG_UNKNOWN_KID } srv_sig;
/* The signing keys of JWKS `j` (not retained) in *out; `why` says what is wrong. */
urbac_err srv_jwks_parse(json_t *j, srv_jwks **out, char *why, size_t why_size);
srv_sig srv_jwks_check(const srv_jwks *k, const srv_jwt *t);
size_t srv_jwks_count(const srv_jwks *k);
void srv_jwks_free(srv_jwks *k);

/* One HTTPS GET of a small document (fetch.c): *out (NUL-terminated) is the
 * caller's to free; false with `why` naming the URL and what went wrong. */
typedef struct srv_fetch_opts {
  const char *ca_file; /* NULL: the system's CAs */
  unsigned timeout_s;
  size_t max_bytes;
  const char *post; /* NULL: a GET; else a POST of this form body (application/x-www-form-urlencoded) */
} srv_fetch_opts;
bool srv_fetch(const char *url, const srv_fetch_opts *o, char **out, size_t *len, char *why, size_t why_size);

/* Writes one JSON event line (taken) to the access log, or to standard error
 * when there is none (http.c). */
void srv_log_event(srv *server, json_t *event);

/* ---------------------------------------------------------------- the portal (portal.c, session.c) */

#define SRV_MAX_SESSIONS 1024    /* sessions held; the least recently used makes room */
#define SRV_SESSION_IDLE_S 1800  /* a session unused this long ends */
#define SRV_SESSION_LIFE_S 28800 /* and every session ends this long after sign-in */
#define SRV_SESSION_COOKIE "urbac_session"

urbac_err srv_sessions_init(srv *server);
void srv_sessions_free(srv *server);
/* Makes a session for `who`, holding a copy of `token` (re-authenticated on each
 * request; NULL: `who` as it is, for `lifetime_s` seconds at most, 0: no limit
 * of its own); sets r->cookie and the CSRF token in `csrf`. false after
 * replying 500. */
bool srv_session_open(srv *server, const srv_req *req, srv_resp *r, const char *token,
                      const srv_identity *who, uint64_t lifetime_s, char csrf[65]);
/* The session of the request's cookie: its credential in *token (the caller
 * frees it; NULL for an OIDC session, whose identity is in *who) and its CSRF
 * token in `csrf` (may be NULL). A write (any method but GET) must carry the
 * CSRF token in X-CSRF-Token. false after replying 401 or 403. */
bool srv_session_lookup(srv *server, const srv_req *req, srv_resp *r, char **token, srv_identity *who,
                        char csrf[65]);
/* The portal's files (generated at build time from web/ by web/build.mjs, or
 * cmake/portal-none.c when the build had no npm). */
typedef struct srv_asset {
  const char *name; /* "index.html", "portal-HASH.js" */
  const char *type; /* Content-Type */
  const unsigned char *data;
  size_t len;
} srv_asset;
extern const srv_asset srv_portal_assets[];
extern const size_t srv_portal_nassets;

/* ---------------------------------------------------------------- routes */

typedef enum srv_access {
  SRV_PUBLIC,   /* no token: health, readiness, the OpenAPI document */
  SRV_OPERATOR, /* a preshared key (or none with --metrics-public): /metrics, which names every tenant */
  SRV_DECIDE,   /* any identity of the tenant, service keys included */
  SRV_READ,     /* Configuration \ Authorization (read) */
  SRV_MANAGE,   /* Configuration \ Authorization (manage) */
  SRV_SCIM      /* the SCIM endpoint: a provisioning identity, or one that may manage (scim.c) */
} srv_access;

/* How a route's writes meet the tenant's writer (writer.c). */
enum {
  /* plain puts (srv_run_write() with the object puts): join the batch the writer
   * has open, a savepoint of its transaction, published with it */
  SRV_BATCHED = 1,
  /* writes the store outside srv_run_write() (API keys, swapped into the key set
   * at once): the open batch commits first, so it never rides on writes that might not */
  SRV_ALONE = 2,
};

typedef void (*srv_handler)(srv *server, srv_req *req, srv_resp *r);
struct srv_route {
  srv_method method;
  const char *path; /* "/api/v1/tenants/{tenant}/check" */
  srv_access access;
  srv_handler fn;
  const char *name; /* the metrics label */
  const char *args; /* the query arguments it takes, space-separated; any other is a 400 */
  unsigned flags;   /* SRV_BATCHED, SRV_ALONE */
};

/* Does `user` hold Configuration \ Authorization at `level` (SRV_READ or
 * SRV_MANAGE) on workload `only` (NULL: on any)? The one decision the API's
 * authorization and the portal's session both ask (route.c). Call under the read lock. */
bool srv_user_may(const srv_snap *sn, const char *user, srv_access level, const char *only);
extern const srv_route srv_routes[];
extern const size_t srv_nroutes;

/* Answers one request: routing, authentication, authorization, the handler.
 * When the request asks for a revision the tenant has not reached, it sets
 * r->wait instead of answering: the caller dispatches the same request again a
 * little later (a worker thread never sleeps), until it is answered, with a 409
 * once the wait is over. */
void srv_dispatch(srv *server, srv_req *req, srv_resp *r);
/* The part of srv_dispatch() that needs only the request line and headers:
 * the route (404, 405 with Allow), the caller (401, 403) and the tenant (404).
 * The face calls it before reading a body, so no one unauthenticated makes the
 * server hold a body; false after replying. srv_dispatch() calls it when the
 * face has not. */
bool srv_admit(srv *server, srv_req *req, srv_resp *r);

/* decisions (decide.c) shared with the streaming POST /checks (checks.c) */
typedef struct srv_question {
  const char *user, *perm, *workload, *scope; /* scope may be NULL */
  size_t len[4];                              /* their lengths */
} srv_question;
/* This thread's query parser for `sn` (under the read lock); NULL: no memory. */
urbac_parser *srv_parser_for(const srv_snap *sn);
/* Resolves a question; on failure replies 400 (missing) or 422 (unknown) with
 * the field as the target ("checks[3].permission" when `index` >= 0). */
bool srv_resolve(urbac_parser *p, const srv_question *qn, urbac_query *q, long index, srv_resp *r);
void srv_checks_reply(srv *server, srv_resp *r, const uint8_t *out, size_t n, uint64_t revision);

/* handlers */
void srv_h_healthz(srv *server, srv_req *req, srv_resp *r);
void srv_h_readyz(srv *server, srv_req *req, srv_resp *r);
void srv_h_metrics(srv *server, srv_req *req, srv_resp *r);
void srv_h_openapi(srv *server, srv_req *req, srv_resp *r);
void srv_h_check(srv *server, srv_req *req, srv_resp *r);
void srv_h_checks(srv *server, srv_req *req, srv_resp *r);
void srv_h_explain(srv *server, srv_req *req, srv_resp *r);
void srv_h_effective(srv *server, srv_req *req, srv_resp *r);
void srv_h_who_can(srv *server, srv_req *req, srv_resp *r);
void srv_h_role_list(srv *server, srv_req *req, srv_resp *r);
void srv_h_role_get(srv *server, srv_req *req, srv_resp *r);
void srv_h_role_create(srv *server, srv_req *req, srv_resp *r);
void srv_h_role_update(srv *server, srv_req *req, srv_resp *r);
void srv_h_role_delete(srv *server, srv_req *req, srv_resp *r);
void srv_h_assignment_list(srv *server, srv_req *req, srv_resp *r);
void srv_h_assignment_get(srv *server, srv_req *req, srv_resp *r);
void srv_h_assignment_create(srv *server, srv_req *req, srv_resp *r);
void srv_h_assignment_update(srv *server, srv_req *req, srv_resp *r);
void srv_h_assignment_delete(srv *server, srv_req *req, srv_resp *r);
void srv_h_object_list(srv *server, srv_req *req, srv_resp *r);
void srv_h_object_get(srv *server, srv_req *req, srv_resp *r);
void srv_h_object_put(srv *server, srv_req *req, srv_resp *r);
void srv_h_object_delete(srv *server, srv_req *req, srv_resp *r);
void srv_h_workloads(srv *server, srv_req *req, srv_resp *r);
void srv_h_activate(srv *server, srv_req *req, srv_resp *r);
void srv_h_deactivate(srv *server, srv_req *req, srv_resp *r);
void srv_h_import(srv *server, srv_req *req, srv_resp *r);
void srv_h_impact(srv *server, srv_req *req, srv_resp *r);
/* impact.c: the impacts' cache; srv_impacts_free() waits for the computations (stopping set). */
urbac_err srv_impacts_init(srv *server);
void srv_impacts_free(srv *server);
void srv_h_audit(srv *server, srv_req *req, srv_resp *r);
void srv_h_audit_verify(srv *server, srv_req *req, srv_resp *r);
void srv_h_device_group_preview(srv *server, srv_req *req, srv_resp *r);
void srv_h_session_methods(srv *server, srv_req *req, srv_resp *r);
void srv_h_key_list(srv *server, srv_req *req, srv_resp *r);
void srv_h_key_create(srv *server, srv_req *req, srv_resp *r);
void srv_h_key_revoke(srv *server, srv_req *req, srv_resp *r);
void srv_h_session_create(srv *server, srv_req *req, srv_resp *r);
void srv_h_session_get(srv *server, srv_req *req, srv_resp *r);
void srv_h_session_delete(srv *server, srv_req *req, srv_resp *r);
void srv_h_oidc_start(srv *server, srv_req *req, srv_resp *r);
void srv_h_oidc_callback(srv *server, srv_req *req, srv_resp *r);
void srv_h_portal(srv *server, srv_req *req, srv_resp *r);
void srv_h_catalog(srv *server, srv_req *req, srv_resp *r);

/* Writes (admin.c). srv_run_write() runs `fn` under the tenant's write lock with
 * the caller as the actor and If-Match as the base revision, then publishes the
 * tenant as written (or re-reads it) before the reply, so the caller reads its
 * own write; false after replying with the error. A `fn` that is handed
 * w->written fills it; one that publishes itself leaves it NULL. */
typedef urbac_err (*srv_write_fn)(srv_tenant *t, void *ctx, const urbac_write *w, uint64_t *revision,
                                  urbac_diag *d);
bool srv_run_write(srv_req *req, srv_resp *r, srv_write_fn fn, void *ctx, uint64_t *revision);
/* srv_run_write() of `n` object puts (json NULL: delete), joining the writer's
 * batch when it may; `create_only` refuses (409) when the first object exists;
 * *existed says whether it did. false after replying with the error. */
bool srv_write_puts(srv_req *req, srv_resp *r, const urbac_object_put *puts, size_t n, bool create_only,
                    bool *existed, uint64_t *revision);
bool srv_if_match(const srv_req *req, srv_resp *r, bool *has, uint64_t *revision);

/* ---------------------------------------------------------------- the writer (writer.c) */

#define SRV_WRITE_QUEUE                                                                                      \
  1024 /* requests waiting for one tenant's writer (--max-write-queue at most); more: 503 */
#define SRV_WRITE_BATCH 64 /* requests one batch runs, their writes committed together */
#define SRV_RETIRED_MAX 8  /* revisions replaced and not yet freed (tenants.c); more: the publisher waits */

/* A request handed to a tenant's writer: it runs srv_dispatch(req, r) on the
 * writer's thread. `hold` is called once it is queued, under the queue's lock
 * (the face suspends the connection there); `done` once *r is final and, for a
 * write, published. req and r stay the face's, valid until `done`. */
typedef struct srv_job {
  srv_req *req;
  srv_resp *r;
  void (*hold)(void *ctx);
  void (*done)(void *ctx);
  void *ctx;
} srv_job;
/* Is `req` (admitted) for its tenant's writer: a route that reads or writes the store? */
bool srv_writer_takes(const srv_req *req);
/* Queues `job` (copied) for the tenant's writer; false when the queue is full
 * or the writer stopped (the caller answers 503), `hold` not called then. */
bool srv_writer_submit(srv_tenant *t, const srv_job *job);
urbac_err srv_writer_start(srv_tenant *t);
/* Stops taking requests, runs and answers every one queued, ends the thread. */
void srv_writer_stop(srv_tenant *t);
void srv_writer_free(srv_tenant *t);
void srv_writers_stop(srv *server);
/* The batch the writer runs on this thread for `t` (NULL on any other thread):
 * srv_run_write() joins it (srv_batch_join(): the store's batch opened once),
 * says that its write succeeded in it (srv_batch_wrote()), or, for a write that
 * cannot join, commits and publishes what is open first (srv_batch_flush()). */
typedef struct srv_batch srv_batch;
srv_batch *srv_batch_current(const srv_tenant *t);
urbac_err srv_batch_join(srv_batch *b, urbac_diag *d);
void srv_batch_wrote(srv_batch *b);
void srv_batch_flush(srv_batch *b);

/* ---------------------------------------------------------------- SCIM (scim*.c) */

void srv_h_scim(srv *server, srv_req *req, srv_resp *r);
/* Is `req` for a tenant's SCIM endpoint (/api/v1/tenants/T/scim/v2/...)? */
bool srv_scim_path(const srv_req *req);
/* A SCIM request's reply as SCIM has it: application/scim+json, and any error
 * in SCIM's error schema. The face calls it on every reply. */
void srv_scim_reply(const srv_req *req, srv_resp *r);
/* Drops the tenant's SCIM index (a batch that did not commit): made again when used. */
void srv_scim_forget(srv_tenant *t);

/* ---------------------------------------------------------------- $filter (filter.c) */

#define SRV_FILTER_MAX_LEN 1024 /* bytes of one $filter */
#define SRV_FILTER_MAX_TERMS 8  /* FIELD eq 'VALUE' conditions in one $filter */

/* A field a list can be filtered on: its OData name and the member of each
 * item it compares (a string, or a list of strings that must hold the value). */
typedef struct srv_filter_field {
  const char *name, *member;
} srv_filter_field;

typedef struct srv_filter {
  size_t n;
  const srv_filter_field *field[SRV_FILTER_MAX_TERMS];
  const char *value[SRV_FILTER_MAX_TERMS]; /* in buf */
  char buf[SRV_FILTER_MAX_LEN + 1];
} srv_filter;

/* Parses `text` (FIELD eq 'VALUE' [and ...], FIELD one of `fields`) into *f;
 * false with the reason, and the character where it starts, in `why`. */
bool srv_filter_parse(const char *text, const srv_filter_field *fields, size_t nfields, srv_filter *f,
                      char *why, size_t why_size);
/* Does JSON object `item` pass every condition? */
bool srv_filter_match(const srv_filter *f, json_t *item);
/* The request's $filter (f->n 0 when there is none); false after replying 400. */
bool srv_filter_args(const srv_req *req, srv_resp *r, const srv_filter_field *fields, size_t nfields,
                     srv_filter *f);
/* The items of `items` (stolen) that pass; a new reference. */
json_t *srv_filter_apply(const srv_filter *f, json_t *items);

/* ---------------------------------------------------------------- reach (no escalation) */

/* A grant someone would gain that the caller does not hold. */
typedef struct srv_gain {
  char user[256], grant[512], workload[8], dg[256]; /* dg "" : tenant-wide */
  char when[48];                                    /* "" or " once mdo is activated" */
} srv_gain;
/* Does `caller` hold every grant of the catalog on every workload, tenant-wide, in `held`? */
bool srv_reach_all(const urbac_snapshot *held, const char *caller);
/* Does `caller` hold, in `held`, every grant `after` gives a user that `before`
 * did not give that user (before NULL: every grant `after` gives)? Only user
 * `only` when it is not NULL. false with the first grant that is not held in
 * *gain. The snapshots are borrowed. */
bool srv_reach_within(const urbac_snapshot *held, const char *caller, const urbac_snapshot *after,
                      const urbac_snapshot *before, const char *only, srv_gain *gain);
/* A write by `caller` that would leave the tenant as `after`, compared with the
 * tenant as it is (`now`), with every workload activated, then deactivated (which
 * covers the modes as they are): *within false with the first grant someone would
 * gain that the caller does not hold in *gain. */
urbac_err srv_reach_write(const urbac_snapshot *now, const char *caller, const urbac_model *after,
                          bool *within, srv_gain *gain, urbac_diag *d);
/* Judges `n` puts by `caller` before they are written, at the cost of the change:
 * t->current with the puts applied (srv_snap_edit(), the modes as they are) and
 * t->flipped with the same puts (every workload in the other mode: made whole at
 * the first judgement, then kept by the same edits, srv_reach_follow()), each
 * compared with what it was for the users the edit reaches only
 * (urbac_snapshot_changed_users()), against what `caller` holds in t->current.
 * *within false with the first gain in *gain. On success *next is t->current
 * after the puts, and *twin t->flipped after them (NULL when the caller holds
 * everything: nothing compared), at t->current's revision, for
 * srv_tenant_publish_edit() once written (the caller frees them otherwise).
 * Call with write_lock held. An error (a put the model cannot take, no memory)
 * leaves the write unjudged: the caller must not write it this way. */
urbac_err srv_reach_puts(srv_tenant *t, const char *caller, const urbac_object_put *puts, size_t n,
                         bool *within, srv_gain *gain, srv_snap **next, srv_snap **twin, urbac_diag *d);
/* t->current is being replaced by its edit with `puts` at `revision` (tenants.c):
 * t->flipped follows by the same edit, lazily (the puts wait in t->lag until the
 * next judgement needs the twin, then go in as one edit), or is dropped (made
 * again when needed). Call with write_lock held. */
void srv_reach_follow(srv_tenant *t, const urbac_object_put *puts, size_t n, uint64_t revision);
/* The revision t->flipped stands for, its lag counted (0: none). */
uint64_t srv_reach_twin_revision(const srv_tenant *t);
/* Makes `twin` (taken; NULL: none) t->flipped, with no lag. Call with write_lock held. */
void srv_reach_twin_set(srv_tenant *t, srv_snap *twin);
/* "'PERMISSION (level)' on WORKLOAD[, device group DG][ once WORKLOAD is activated]" */
void srv_gain_format(const srv_gain *g, char *out, size_t size);

/* ---------------------------------------------------------------- metrics */

#define SRV_LATENCY_BUCKETS 12
typedef struct srv_route_stats {
  _Atomic uint64_t status[6]; /* by status class: 1xx..5xx (index 1..5) */
  _Atomic uint64_t bucket[SRV_LATENCY_BUCKETS + 1];
  _Atomic uint64_t sum_us;
} srv_route_stats;

typedef struct srv_metrics {
  srv_route_stats *routes; /* srv_nroutes + 1 (the last: unmatched) */
  _Atomic uint64_t allow, deny;
  _Atomic uint64_t rebuilds, rebuild_us;      /* whole: loaded and compiled */
  _Atomic uint64_t updates, update_us;        /* by the change feed, at the cost of the change */
  _Atomic uint64_t connections;               /* open now (http.c) */
  _Atomic uint64_t connections_refused;       /* over --max-connections or --max-connections-per-ip */
  _Atomic uint64_t bodies_refused;            /* 503: the memory for bodies in flight was spent */
  _Atomic uint64_t tenant_lookups;            /* a tenant looked for in the store (not in memory) */
  _Atomic uint64_t write_batches, write_jobs; /* writer.c: batches run, and the requests in them */
  _Atomic uint64_t write_commits;             /* writer.c: store batches committed, writes grouped in each */
  _Atomic uint64_t write_ahead; /* tenants.c: of those, published from an edit made beside the commit */
  _Atomic uint64_t impacts;     /* impact.c: computations started */
} srv_metrics;

void srv_metrics_observe(srv *server, const srv_route *route, unsigned status, uint64_t us);
void srv_access_log(srv *server, const srv_req *req, const char *method, const char *path, unsigned status,
                    uint64_t us, size_t bytes);

/* ---------------------------------------------------------------- the server */

struct srv {
  const urbac_server_config *cfg;
  srv_tenant *tenants[SRV_MAX_TENANTS];
  _Atomic size_t ntenants;
  pthread_mutex_t tenants_lock;
  urbac_store *lookup_store; /* under tenants_lock: finding new tenants */
  void *preshared;           /* RCU-protected: the preshared key hashes */
  void *oidc;                /* oidc.c: the OIDC providers and their refresh thread */
  void *directory;           /* directory.c: the store's tenant names */
  void *sessions;            /* session.c: the portal's sessions */
  void *impacts;             /* impact.c: the impacts computed and being computed */
  srv_metrics metrics;
  FILE *log;
  pthread_mutex_t log_lock;
  _Atomic bool stopping;
  unsigned wait_ms;
  void *http; /* http.c's own state: the parked requests */
  size_t max_body;
  size_t max_body_memory; /* every body in flight together */
  unsigned max_connections, max_connections_per_ip;
  unsigned max_write_queue; /* at most SRV_WRITE_QUEUE */
};

uint64_t srv_now_us(void);
/* Opens the store, follows each of its tenants, loads the keys, the OIDC
 * providers and the access log: everything but the HTTP listener (http.c). */
urbac_err srv_init(srv *server, const urbac_server_config *cfg, urbac_diag *d);
void srv_fini(srv *server);

#endif
