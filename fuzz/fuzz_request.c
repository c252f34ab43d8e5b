/*
 * fuzz/fuzz_request.c - libFuzzer driver for the server's request handling:
 * target parsing (path segments, query arguments, escapes), routing,
 * authentication, JSON bodies and every handler, on a small tenant in a SQLite
 * store, without sockets. Every input must get a reply with a status; none may
 * crash, leak or hang.
 *
 * Input: "METHOD PATH[?QUERY]\nAUTHORIZATION\nBODY"; an empty AUTHORIZATION line
 * means the preshared admin key, "-" no header.
 *
 * The store lives in /dev/shm (a sync costs nothing there) and goes back to its
 * first state every RESET_EVERY inputs (the server stopped, the file copied back,
 * the server started): what the inputs write (keys, users, roles) would otherwise
 * pile up, and every key listed, every key set reloaded and every snapshot
 * compiled made each input slower than the last (2,600 inputs/s after a minute,
 * 81/s after an hour; 4,000/s throughout now).
 *
 * Depends on: src/server (srv_init, srv_dispatch), the store API.
 */
#include <fcntl.h>
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
    "roles: [{name: r, permissions: [Alerts (manage)], assignments: [{name: a, principals: [group:g], "
    "dataSources: all}]}]\n"
    "legacy: {mde: {roles: [{name: m, permissions: [Alerts investigation], groups: [g]}]}}\n";
static const char psk[] = "fuzz-preshared-key-0123456789";

/* Inputs between two resets of the store: a reset takes 10 to 40 ms (the
 * server's threads poll every 10 ms under URBAC_FUZZING, so they stop at once),
 * what 2,000 inputs write keeps every request fast. */
#define RESET_EVERY 2000

static srv server;
static urbac_server_config cfg;
static char db[96], keys[96], pristine[96];
static unsigned since_reset;

static void remove_db(void)
{
  static const char *const suffixes[] = {"", "-wal", "-shm"};
  for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
    char path[112];
    snprintf(path, sizeof path, "%s%s", db, suffixes[i]);
    unlink(path);
  }
}

static void cleanup(void)
{
  srv_fini(&server);
  unlink(keys);
  unlink(pristine);
  remove_db();
}

/* Copies file `from` to `to` (created or emptied); aborts on any failure. */
static void copy_file(const char *from, const char *to)
{
  static char buf[1 << 16];
  int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ssize_t n;
  while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
    if (write(out, buf, (size_t)n) != n)
      abort();
  if (in < 0 || out < 0 || close(in) != 0 || close(out) != 0)
    abort();
}

/* The server stopped, the store as setup() left it, the server started again. */
static void reset(void)
{
  srv_fini(&server);
  remove_db();
  copy_file(pristine, db);
  if (srv_init(&server, &cfg, NULL))
    abort();
  since_reset = 0;
}

static void setup(void)
{
  urbac_model *m = NULL;
  urbac_store *st = NULL;
  int from, to;
  struct stat shm;
  const char *dir = stat("/dev/shm", &shm) == 0 && S_ISDIR(shm.st_mode) ? "/dev/shm" : "/tmp";
  snprintf(db, sizeof db, "%s/urbac-fuzz-%d.db", dir, (int)getpid());
  snprintf(pristine, sizeof pristine, "%s/urbac-fuzz-%d.first", dir, (int)getpid());
  snprintf(keys, sizeof keys, "%s/urbac-fuzz-%d.keys", dir, (int)getpid());
  remove_db();
  FILE *f = fopen(keys, "w");
  urbac_write w = {"fuzz", "setup", false, 0, NULL, NULL};
  if (!f || fprintf(f, "%s\n", psk) < 0 || fclose(f) != 0 ||
      chmod(keys, 0600) != 0 || /* the server refuses others */
      urbac_tenant_load_buffer(tenant_yaml, sizeof tenant_yaml - 1, "f", &m, NULL) ||
      urbac_store_open(db, URBAC_STORE_CREATE, &st, NULL) || urbac_store_migrate(st, &from, &to, NULL) ||
      urbac_store_apply(st, m, &w, NULL, NULL))
    abort();
  urbac_store_close(st); /* its WAL checkpointed into the file: the file is the store */
  urbac_model_free(m);
  copy_file(db, pristine);
  cfg = (urbac_server_config){
      .db_url = db, .preshared_key_file = keys, .min_revision_wait_ms = 1, .max_body = 1 << 16};
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
  else if (++since_reset >= RESET_EVERY)
    reset();
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
