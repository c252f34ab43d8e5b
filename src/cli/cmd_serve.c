/*
 * cli/cmd_serve.c - the server's commands: `urbac serve` (the HTTP service,
 * urbac/server.h) and `urbac key` (the API keys callers present to it).
 *
 * Depends on: the public API (include/urbac) only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "urbac/server.h"

static void ready(void *ctx, const char *address)
{
  const urbac_server_config *cfg = ctx;
  printf("urbac: serving on %s://%s (SIGTERM or Ctrl-C stops)\n", cfg->tls_cert ? "https" : "http", address);
  fflush(stdout);
}

int cmd_serve(cli_opts *o)
{
  urbac_server_config cfg = {
      .db_url = cli_db_url(o),
      .listen = o->listen ? o->listen : "127.0.0.1:8080",
      .threads = o->threads ? (unsigned)strtoul(o->threads, NULL, 10) : 0,
      .tls_cert = o->tls_cert,
      .tls_key = o->tls_key,
      .preshared_key_file = o->preshared_key_file,
      .oidc_file = o->oidc,
      .access_log = o->access_log,
      .audit_key_file = o->audit_key,
      .witness_file = o->witness,
      .witness_syslog = o->witness_syslog,
      .on_ready = ready,
  };
  cfg.ctx = &cfg;
  if (o->nargs) {
    cli_error("serve: unexpected argument '%s'", o->args[0]);
    return EXIT_USAGE;
  }
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

/* ---------------------------------------------------------------- keys */

/* "30d", "12h" from now, or an ISO time as it is; false on anything else. */
static bool expiry(const char *in, char *out, size_t size)
{
  if (!in || !*in) {
    out[0] = '\0';
    return true;
  }
  char *end;
  unsigned long n = strtoul(in, &end, 10);
  if (end != in && (strcmp(end, "d") == 0 || strcmp(end, "h") == 0) && n > 0 && n <= 36500) {
    time_t t = time(NULL) + (time_t)n * (*end == 'd' ? 86400 : 3600);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return true;
  }
  snprintf(out, size, "%s", in); /* the store checks the shape */
  return true;
}

static int key_create(cli_opts *o, urbac_store *s, const char *tenant, const urbac_write *w)
{
  char expires[64];
  expiry(o->expires, expires, sizeof expires);
  urbac_api_key k = {.user = o->user, .name = o->name ? o->name : "", .scope = o->key_scope ? o->key_scope : "all",
                     .expires = expires};
  char *token = NULL;
  urbac_diag *d = urbac_diag_new();
  urbac_err err = urbac_store_key_create(s, tenant, &k, w, &token, d);
  if (err) {
    cli_print_diag(d);
  } else {
    printf("%s\n", token);
    fprintf(stderr, "urbac: key created for %s in tenant %s; it is shown only this once\n", o->user, tenant);
  }
  urbac_free(token);
  urbac_diag_free(d);
  return err ? EXIT_USAGE : 0;
}

static int key_print(void *ctx, const urbac_api_key *k)
{
  (void)ctx;
  printf("%s\t%s\t%s\t%s\t%s\t%s\n", k->id, k->user, k->scope, k->expires[0] ? k->expires : "never",
         k->revoked[0] ? "revoked" : "valid", k->name);
  return 0;
}

int cmd_key(cli_opts *o)
{
  const char *verb = o->nargs ? o->args[0] : "";
  urbac_store *s = cli_open_store(o);
  const char *tenant = s ? cli_tenant_id(o, s) : NULL;
  urbac_write w = {o->actor ? o->actor : getenv("USER") ? getenv("USER") : "cli", "urbac key", false, 0, NULL};
  int rc = EXIT_USAGE;
  urbac_diag *d = urbac_diag_new();
  if (!tenant)
    ;
  else if (strcmp(verb, "create") == 0 && o->nargs == 1) {
    if (o->user)
      rc = key_create(o, s, tenant, &w);
    else
      cli_error("key create: --user is required (the tenant user the key acts as)");
  } else if (strcmp(verb, "list") == 0 && o->nargs == 1) {
    rc = urbac_store_keys(s, tenant, key_print, NULL, d) == URBAC_OK ? 0 : EXIT_USAGE;
  } else if (strcmp(verb, "revoke") == 0 && o->nargs == 2) {
    rc = urbac_store_key_revoke(s, tenant, o->args[1], &w, d) == URBAC_OK ? 0 : EXIT_USAGE;
    if (!rc)
      fprintf(stderr, "urbac: key %s revoked\n", o->args[1]);
  } else {
    cli_error("key: use create, list or revoke ID");
  }
  if (urbac_diag_count(d))
    cli_print_diag(d);
  urbac_diag_free(d);
  urbac_store_close(s);
  return rc;
}
