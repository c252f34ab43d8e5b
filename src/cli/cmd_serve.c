/*
 * cli/cmd_serve.c - `urbac serve`: the HTTP service (src/server/serve.h) on a
 * store, configured from its options; `--routes` prints the route table.
 *
 * Depends on: the public API (include/urbac) only, cli/source.c.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "serve.h"

typedef struct serve_opts {
  cli_source_opts src;
  const char *listen, *tls_cert, *tls_key, *preshared_key_file, *oidc, *access_log;
  cli_int threads, max_connections, max_connections_per_ip, max_body_memory, max_write_queue;
  bool routes, metrics_public;
} serve_opts;

static void ready(void *ctx, const char *address)
{
  const urbac_server_config *cfg = ctx;
  printf("urbac: serving on %s://%s (SIGTERM or Ctrl-C stops)\n", cfg->tls_cert ? "https" : "http", address);
  fflush(stdout);
}

static int serve(void *opts, const cli_args *a)
{
  const serve_opts *o = opts;
  urbac_server_config cfg = {
      .db_url = cli_db_url(&o->src),
      .listen = o->listen,
      .threads = (unsigned)o->threads.value,
      .tls_cert = o->tls_cert,
      .tls_key = o->tls_key,
      .preshared_key_file = o->preshared_key_file,
      .oidc_file = o->oidc,
      .access_log = o->access_log,
      .max_connections = (unsigned)o->max_connections.value,
      .max_connections_per_ip = (unsigned)o->max_connections_per_ip.value,
      .max_body_memory = (size_t)o->max_body_memory.value,
      .max_write_queue = (unsigned)o->max_write_queue.value,
      .metrics_public = o->metrics_public,
      .audit_key_file = o->src.audit_key,
      .witness_file = o->src.witness,
      .witness_syslog = o->src.witness_syslog,
      .on_ready = ready,
  };
  cfg.ctx = &cfg;
  if (!cli_no_args(a, "serve"))
    return EXIT_USAGE;
  if (o->routes) { /* the route table, which docs/openapi.json must describe exactly */
    const char *method, *path;
    for (size_t i = 0; urbac_server_route(i, &method, &path); i++)
      printf("%s %s\n", method, path);
    return 0;
  }
  urbac_diag *d = urbac_diag_new();
  urbac_err err = urbac_server_run(&cfg, d);
  if (err)
    cli_print_diag(d);
  urbac_diag_free(d);
  return err ? EXIT_USAGE : 0;
}

/* ---------------------------------------------------------------- the commands */

#define SERVE(name, kind, field, limit, arg, def, help)                                                      \
  {                                                                                                          \
    name, 0, kind, offsetof(serve_opts, field), limit, arg, def, help                                        \
  }
static const cli_opt serve_table[] = {
    SERVE("access-log", CLI_STRING, access_log, 0, "FILE", NULL,
          "one JSON line per request (-: standard error)"),
    CLI_ROW_AUDIT_KEY(serve_opts),
    CLI_ROW_DB(serve_opts),
    SERVE("listen", CLI_STRING, listen, 0, "HOST:PORT", "127.0.0.1:8080",
          "where to listen (port 0: a free one)"),
    SERVE("max-body-memory", CLI_INT, max_body_memory, 1ull << 40, "BYTES", NULL,
          "request bodies held in memory at once, all connections (default 64 MiB; over it: 503)"),
    SERVE("max-connections", CLI_INT, max_connections, 1000000, "N", NULL,
          "open connections at most (default 10000, or what the descriptor limit allows)"),
    SERVE("max-connections-per-ip", CLI_INT, max_connections_per_ip, 1000000, "N", NULL,
          "open connections from one address at most (default 256)"),
    SERVE("max-write-queue", CLI_INT, max_write_queue, 1024, "N", NULL,
          "administration requests waiting for one tenant's writer at most (default 1024; over it: 503)"),
    SERVE("metrics-public", CLI_FLAG, metrics_public, 0, NULL, NULL,
          "serve /metrics without a key (it names every tenant)"),
    SERVE("oidc", CLI_STRING, oidc, 0, "FILE", NULL,
          "OIDC providers whose JWTs are accepted, keys by discovery or from a file; re-read on SIGHUP "
          "(docs/oidc.md)"),
    SERVE("preshared-key-file", CLI_STRING, preshared_key_file, 0, "FILE", NULL,
          "administrator keys, one a line; re-read on SIGHUP"),
    SERVE("routes", CLI_FLAG, routes, 0, NULL, NULL, "print the route table and exit"),
    SERVE("threads", CLI_INT, threads, 1024, "N", NULL, "worker threads (default: one per core)"),
    SERVE("tls-cert", CLI_STRING, tls_cert, 0, "PEM", NULL,
          "serve HTTPS with this certificate (and --tls-key)"),
    SERVE("tls-key", CLI_STRING, tls_key, 0, "PEM", NULL, "the certificate's private key"),
    CLI_ROW_WITNESS(serve_opts),
    CLI_ROW_WITNESS_SYSLOG(serve_opts),
};
const cli_command cli_serve = CLI_COMMAND(
    "serve",
    "urbac serve [--db URL] [--listen HOST:PORT] [--threads N] [--tls-cert PEM --tls-key PEM] "
    "[--preshared-key-file FILE] [--oidc FILE] [--access-log FILE|-] [--audit-key FILE] [--witness FILE] "
    "[--witness-syslog] | urbac serve --routes",
    "Serve the store's tenants over HTTP: decisions and administration (docs/api.md)", serve_opts,
    serve_table, serve);
