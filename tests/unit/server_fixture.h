/*
 * tests/unit/server_fixture.h - a real server without its sockets, for the unit
 * tests of the server's parsers (test_server_*.c): a SQLite store in a fresh
 * temporary directory holding tenant "f" (and "g"), a preshared key file, and
 * srv_init(); requests go through srv_dispatch() as http.c hands them over.
 *
 * Depends on: src/server/server.h (urbac_server), the store, cmocka.
 */
#ifndef URBAC_TEST_SERVER_FIXTURE_H
#define URBAC_TEST_SERVER_FIXTURE_H

#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "server/server.h"

static const char fixture_tenant[] =
    "urbac: 1\ntenant: f\nworkloads: {mdi: unified}\n"
    "users: [{id: ann}, {id: ben, directoryRoles: [Security administrator]}, {id: cat}]\n"
    "groups: [{id: g, members: [ann]}]\n"
    "deviceGroups: [{id: servers, rank: 1, rules: {name: {startsWith: [srv-]}}, userAccess: [g]}]\n"
    "devices: [{id: d1, name: srv-1}]\n"
    "roles: [{name: r, permissions: [Alerts (manage)], assignments: [{name: a, principals: [group:g], "
    "dataSources: all}]}]\n"
    "legacy: {mde: {roles: [{name: m, permissions: [Alerts investigation], groups: [g]}]}}\n";
#define FIXTURE_PSK "unit-preshared-key-0123456789"

typedef struct fixture {
  char dir[64], db[96], keys[96];
  urbac_server_config cfg;
  srv server;
} fixture;

/* Stores tenant `yaml` in the fixture's store. */
static inline void fixture_store_tenant(urbac_store *st, const char *yaml)
{
  urbac_model *m = NULL;
  urbac_write w = {"unit", "setup", false, 0, NULL, NULL};
  assert_int_equal(urbac_tenant_load_buffer(yaml, strlen(yaml), "fixture.yaml", &m, NULL), URBAC_OK);
  assert_int_equal(urbac_store_apply(st, m, &w, NULL, NULL), URBAC_OK);
  urbac_model_free(m);
}

/* Opens the store for `prepare` (may be NULL: API keys, more tenants), then starts the server. */
static inline fixture *fixture_new(void (*prepare)(fixture *fx, urbac_store *st))
{
  fixture *fx = calloc(1, sizeof *fx);
  urbac_store *st = NULL;
  int from, to;
  snprintf(fx->dir, sizeof fx->dir, "/tmp/urbac-unit-XXXXXX");
  assert_non_null(mkdtemp(fx->dir));
  snprintf(fx->db, sizeof fx->db, "%s/store.db", fx->dir);
  snprintf(fx->keys, sizeof fx->keys, "%s/keys", fx->dir);
  FILE *f = fopen(fx->keys, "w");
  assert_non_null(f);
  assert_int_equal(fchmod(fileno(f), 0600), 0); /* the server refuses a key file others can read */
  fprintf(f, "%s\n", FIXTURE_PSK);
  fclose(f);
  assert_int_equal(urbac_store_open(fx->db, URBAC_STORE_CREATE, &st, NULL), URBAC_OK);
  assert_int_equal(urbac_store_migrate(st, &from, &to, NULL), URBAC_OK);
  fixture_store_tenant(st, fixture_tenant);
  if (prepare)
    prepare(fx, st);
  urbac_store_close(st);
  fx->cfg = (urbac_server_config){
      .db_url = fx->db, .preshared_key_file = fx->keys, .min_revision_wait_ms = 1, .max_body = 1 << 20};
  urbac_diag *d = urbac_diag_new();
  urbac_err err = srv_init(&fx->server, &fx->cfg, d);
  for (size_t i = 0; i < urbac_diag_count(d); i++) {
    char buf[512];
    urbac_diag_format(d, i, buf, sizeof buf);
    print_error("srv_init: %s\n", buf);
  }
  urbac_diag_free(d);
  assert_int_equal(err, URBAC_OK);
  return fx;
}

static inline void fixture_free(fixture *fx)
{
  srv_fini(&fx->server);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
  assert_int_equal(system(cmd), 0);
  free(fx);
}

/* One answer: its status and body (NUL-terminated; "" when none). */
typedef struct answer {
  unsigned status;
  char *body;
} answer;

static inline void answer_free(answer *a) { free(a->body); }

/* Sends METHOD TARGET (path[?query]) with `auth` as the Authorization header
 * (NULL: none) and `body` (may be NULL), as http.c would, waiting out minRevision. */
static inline answer fixture_send(fixture *fx, srv_method method, const char *target, const char *auth,
                                  const char *body)
{
  char *path = strdup(target), *query = strchr(path, '?'), *scratch = NULL;
  if (query)
    *query++ = '\0';
  srv_req req = {.method = method,
                 .path = path,
                 .authorization = auth,
                 .body = body,
                 .body_len = body ? strlen(body) : 0};
  srv_resp r = {0};
  answer a = {0, NULL};
  if (!srv_req_parse_target(&req, path, query, &scratch)) {
    a.status = 400; /* http.c's answer to a target it cannot parse */
  } else {
    srv_dispatch(&fx->server, &req, &r);
    while (r.wait) {
      r.wait = false;
      usleep(200);
      srv_dispatch(&fx->server, &req, &r);
    }
    a.status = r.status;
  }
  a.body =
      r.static_body ? strndup((const char *)r.static_body, r.static_len) : strdup(r.body.p ? r.body.p : "");
  srv_buf_free(&r.body);
  free(scratch);
  free(path);
  return a;
}

#define PSK_AUTH "Bearer " FIXTURE_PSK

/* Asserts status and that the body contains `needle`, printing the body if not. */
#define EXPECT(a, want_status, needle)                                                                       \
  do {                                                                                                       \
    if ((a).status != (want_status) || !strstr((a).body, needle))                                            \
      print_error("got %u %s\nwanted %u with %s\n", (a).status, (a).body, (unsigned)(want_status), needle);  \
    assert_int_equal((a).status, want_status);                                                               \
    assert_non_null(strstr((a).body, needle));                                                               \
  } while (0)

#endif
