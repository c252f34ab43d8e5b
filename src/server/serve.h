/*
 * server/serve.h - the HTTP service: decisions and administration of the tenants
 * of one store, over HTTP/1.1 (docs/api.md, docs/openapi.json). The server's
 * contract with the CLI (`urbac serve`), the only part of src/server it includes.
 * Not public: the server is a private archive linked into the urbac binary, and
 * this config struct is no stable ABI, so it is not installed.
 *
 * urbac_server_run() serves until SIGTERM or SIGINT (in-flight requests finish
 * first); SIGHUP re-reads the preshared key file and the OIDC providers file
 * (fetching their keys again, on a thread of its own). It blocks those signals in
 * the calling thread, so call it from the main thread before starting others.
 */
#ifndef URBAC_SERVER_SERVE_H
#define URBAC_SERVER_SERVE_H

#include <stdbool.h>
#include <stddef.h>

#include "urbac/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct urbac_server_config {
  const char *db_url;             /* the store (a SQLite path or postgresql://) */
  const char *listen;             /* "HOST:PORT"; port 0 picks a free one */
  unsigned threads;               /* worker threads; 0: one per core */
  const char *tls_cert, *tls_key; /* PEM files; both or neither */
  const char *preshared_key_file; /* one admin key per non-empty line, or NULL */
  const char *oidc_file;          /* OIDC providers (JSON, docs/oidc.md), or NULL */
  const char *access_log;         /* a path, "-" for stderr, or NULL for none */
  unsigned min_revision_wait_ms;  /* how long a read waits for minRevision; 0: 2000 */
  size_t max_body;                /* largest request body in bytes; 0: 16 MiB */
  size_t max_body_memory;         /* all request bodies in memory at once; 0: 4 x max_body, at least 64 MiB */
  unsigned max_connections;       /* open connections; 0: 10000, or fewer when file descriptors are short */
  unsigned max_connections_per_ip; /* open connections from one address; 0: 256 */
  unsigned max_write_queue;        /* administration requests waiting for one tenant's writer; 0: 1024 */
  int metrics_public;              /* nonzero: GET /metrics without a token (else a preshared key) */
  /* the audit key file and witness every write uses (urbac_store_set_audit()), or NULL */
  const char *audit_key_file, *witness_file;
  bool witness_syslog;
  /* Called once the server listens, with its address ("127.0.0.1:8080"). */
  void (*on_ready)(void *ctx, const char *address);
  void *ctx;
} urbac_server_config;

/* Serves until SIGTERM or SIGINT. Errors before serving (a store that cannot be
 * opened, a port in use, a bad key or OIDC file) are returned with `d` filled. */
urbac_err urbac_server_run(const urbac_server_config *cfg, urbac_diag *d);

/* The routes the server serves, in table order: route `i`'s method and path
 * pattern ("/api/v1/tenants/{tenant}/check"); false when out of range. */
int urbac_server_route(size_t i, const char **method, const char **path);

#ifdef __cplusplus
}
#endif
#endif
