/*
 * fuzz/fuzz_request.c - libFuzzer driver for the server's request handling:
 * target parsing (path segments, query arguments, escapes), routing,
 * authentication, JSON bodies and every handler, on a small tenant in a SQLite
 * store, without sockets. Every input must get a reply with a status; none may
 * crash, leak or hang.
 *
 * Input: "METHOD PATH[?QUERY]\nAUTHORIZATION\nBODY"; an empty AUTHORIZATION line
 * means the preshared admin key, "-" no header.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/server.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const char tenant_yaml[] =
    "urbac: 1\ntenant: f\nworkloads: {mdi: unified}\n"
    "users: [{id: ann}, {id: ben, directoryRoles: [Security administrator]}]\n"
    "groups: [{id: g, members: [ann]}]\n"
    "deviceGroups: [{id: servers, rank: 1, rules: {name: {startsWith: [srv-]}}, userAccess: [g]}]\n"
    "devices: [{id: d1, name: srv-1}]\n"
    "roles: [{name: r, permissions: [Alerts (manage)], assignments: [{name: a, principals: [group:g], dataSources: all}]}]\n"
    "legacy: {mde: {roles: [{name: m, permissions: [Alerts investigation], groups: [g]}]}}\n";
static const char psk[] = "fuzz-preshared-key-0123456789";

static srv server;
static urbac_server_config cfg;
static char db[64], keys[64];

static void cleanup(void)
{
  srv_fini(&server);
  unlink(keys);
  static const char *const suffixes[] = {"", "-wal", "-shm"};
  for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
    char path[80];
    snprintf(path, sizeof path, "%s%s", db, suffixes[i]);
    unlink(path);
  }
}

static void setup(void)
{
  urbac_model *m = NULL;
  urbac_store *st = NULL;
  int from, to;
  snprintf(db, sizeof db, "/tmp/urbac-fuzz-%d.db", (int)getpid());
  snprintf(keys, sizeof keys, "/tmp/urbac-fuzz-%d.keys", (int)getpid());
  unlink(db);
  FILE *f = fopen(keys, "w");
  urbac_write w = {"fuzz", "setup", false, 0, NULL};
  if (!f || fprintf(f, "%s\n", psk) < 0 || fclose(f) != 0 ||
      chmod(keys, 0600) != 0 || /* the server refuses others */
      urbac_tenant_load_buffer(tenant_yaml, sizeof tenant_yaml - 1, "f", &m, NULL) ||
      urbac_store_open(db, URBAC_STORE_CREATE, &st, NULL) || urbac_store_migrate(st, &from, &to, NULL) ||
      urbac_store_apply(st, m, &w, NULL, NULL))
    abort();
  urbac_store_close(st);
  urbac_model_free(m);
  cfg = (urbac_server_config){.db_url = db, .preshared_key_file = keys, .min_revision_wait_ms = 1,
                              .max_body = 1 << 16};
  if (srv_init(&server, &cfg, NULL))
    abort();
  atexit(cleanup);
}

/* Splits `buf` at the first '\n' (replaced by NUL); returns the rest or NULL. */
static char *line(char *buf)
{
  char *nl = buf ? strchr(buf, '\n') : NULL;
  if (!nl)
    return NULL;
  *nl = '\0';
  return nl + 1;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  if (!server.cfg)
    setup();
  char *in = malloc(size + 1), *scratch = NULL;
  if (!in)
    return 0;
  memcpy(in, data, size);
  in[size] = '\0';
  char *auth = line(in), *body = line(auth), *sp = strchr(in, ' '), *query;
  char bearer[256];
  srv_req req = {0};
  srv_resp r = {0};
  if (!sp)
    goto out;
  *sp = '\0';
  req.method = srv_method_parse(in);
  query = strchr(sp + 1, '?');
  if (query)
    *query++ = '\0';
  if (!srv_req_parse_target(&req, sp + 1, query, &scratch))
    goto out;
  snprintf(bearer, sizeof bearer, "Bearer %s", psk);
  req.path = sp + 1;
  req.authorization = !auth || !*auth ? bearer : strcmp(auth, "-") == 0 ? NULL : auth;
  req.body = body;
  req.body_len = body ? strlen(body) : 0;
  srv_dispatch(&server, &req, &r);
  while (r.wait) { /* a minRevision wait: asked again, as http.c does */
    r.wait = false;
    usleep(200);
    srv_dispatch(&server, &req, &r);
  }
  if (r.status < 200 || r.status > 599)
    abort(); /* every request gets a status */
out:
  srv_buf_free(&r.body);
  free(scratch);
  free(in);
  return 0;
}
