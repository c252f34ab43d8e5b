/*
 * cli/cmd_key.c - `urbac key`: the API keys callers present to the server,
 * created (the token shown once), listed and revoked in a store; each change is
 * audited without a new revision.
 *
 * Depends on: the public API (include/urbac) only, cli/source.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"

typedef struct key_opts {
  cli_source_opts src;
  const char *user, *name, *key_scope, *expires, *actor;
  bool json;
} key_opts;

/* Has `s` the shape YYYY-MM-DDTHH:MM:SSZ? (The store checks the same before it writes.) */
static bool utc_time_shape(const char *s)
{
  static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
  for (size_t i = 0; i < sizeof shape - 1; i++)
    if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
      return false;
  return s[sizeof shape - 1] == '\0';
}

/* --expires: "30d", "12h" from now (1 to 36500 days or the same in hours), or a
 * UTC time as it is, into `out` (empty: never); prints the problem and returns
 * false on anything else. */
static bool expiry(const char *in, char *out, size_t size)
{
  if (!in || !*in) {
    out[0] = '\0';
    return true;
  }
  char *end;
  unsigned long n = strtoul(in, &end, 10);
  unsigned long most = *end == 'h' ? 36500ul * 24 : 36500;
  if (isdigit((unsigned char)in[0]) && (strcmp(end, "d") == 0 || strcmp(end, "h") == 0) && n > 0 &&
      n <= most) {
    time_t t = time(NULL) + (time_t)n * (*end == 'd' ? 86400 : 3600);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return true;
  }
  if (utc_time_shape(in) && strlen(in) < size) {
    snprintf(out, size, "%s", in);
    return true;
  }
  cli_error("--expires '%.100s': use a duration from now, 1d to 36500d or 1h to 876000h (30d, 12h), or a UTC "
            "time YYYY-MM-DDTHH:MM:SSZ",
            in);
  return false;
}

static int key_create(const key_opts *o, urbac_store *store, const char *tenant, const urbac_write *w)
{
  char expires[64];
  if (!expiry(o->expires, expires, sizeof expires))
    return EXIT_USAGE;
  urbac_api_key k = {
      .user = o->user, .name = o->name ? o->name : "", .scope = o->key_scope, .expires = expires};
  char *token = NULL;
  urbac_diag *d = urbac_diag_new();
  urbac_err err = urbac_store_key_create(store, tenant, &k, w, &token, d);
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

/* One key: a line of text (id, user, scope, expiry, state, creator, name: the
 * name last, as it may hold spaces), or, with `ctx` a JSON array, an object
 * appended to it (the same fields with the times as stored, null when none). */
static int key_print(void *ctx, const urbac_api_key *k)
{
  json_t *rows = ctx;
  const char *by = k->created_by && k->created_by[0] ? k->created_by : NULL;
  if (!rows) {
    printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k->id, k->user, k->scope, k->expires[0] ? k->expires : "never",
           k->revoked[0] ? "revoked" : "valid", by ? by : "-", k->name);
    return 0;
  }
  json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s, s:s?}", "id", k->id, "name", k->name,
                        "user", k->user, "scope", k->scope, "created", k->created, "expires",
                        k->expires[0] ? k->expires : NULL, "revoked", k->revoked[0] ? k->revoked : NULL,
                        "state", k->revoked[0] ? "revoked" : "valid", "createdBy", by);
  return j && json_array_append_new(rows, j) == 0 ? 0 : -1;
}

/* Every key of the tenant, as text or (`json`) one JSON array. */
static int key_list(bool json, urbac_store *store, const char *tenant, urbac_diag *d)
{
  json_t *rows = json ? json_array() : NULL;
  int rc = EXIT_USAGE;
  if (json && !rows)
    cli_error("key list: out of memory");
  else if (urbac_store_keys(store, tenant, key_print, rows, d) == URBAC_OK)
    rc = 0;
  if (!rc && rows) {
    json_dumpf(rows, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
  }
  json_decref(rows);
  return rc;
}

static int key(void *opts, const cli_args *a)
{
  const key_opts *o = opts;
  const char *verb = a->n ? a->v[0] : "";
  cli_source src = {0};
  urbac_store *store = cli_source_open(&src, &o->src, CLI_SOURCE_STORE, URBAC_STORE_WRITE) ? src.store : NULL;
  const char *tenant = store ? cli_source_tenant(&src) : NULL;
  urbac_write w = {cli_actor(o->actor), "urbac key", false, 0, NULL, NULL};
  int rc = EXIT_USAGE;
  urbac_diag *d = urbac_diag_new();
  if (!tenant)
    ;
  else if (strcmp(verb, "create") == 0 && a->n == 1) {
    if (o->user)
      rc = key_create(o, store, tenant, &w);
    else
      cli_error("key create: --user is required (the tenant user the key acts as)");
  } else if (strcmp(verb, "list") == 0 && a->n == 1) {
    rc = key_list(o->json, store, tenant, d);
  } else if (strcmp(verb, "revoke") == 0 && a->n == 2) {
    rc = urbac_store_key_revoke(store, tenant, a->v[1], &w, d) == URBAC_OK ? 0 : EXIT_USAGE;
    if (!rc)
      fprintf(stderr, "urbac: key %s revoked\n", a->v[1]);
  } else {
    cli_error("key: use create, list or revoke ID");
  }
  if (urbac_diag_count(d))
    cli_print_diag(d);
  urbac_diag_free(d);
  cli_source_close(&src);
  return rc;
}

/* ---------------------------------------------------------------- the command */

#define KEY(name, field, arg, def, help)                                                                     \
  {                                                                                                          \
    name, 0, CLI_STRING, offsetof(key_opts, field), 0, arg, def, help                                        \
  }

static const cli_opt key_table[] = {
    CLI_ROW_ACTOR(key_opts),
    CLI_ROW_AUDIT_KEY(key_opts),
    CLI_ROW_DB(key_opts),
    KEY("expires", expires, "TIME", NULL,
        "create: UTC YYYY-MM-DDTHH:MM:SSZ, or 30d, 12h from now (default: never)"),
    {"json", 0, CLI_FLAG, offsetof(key_opts, json), 0, NULL, NULL, "list: one JSON array of the keys"},
    KEY("key-scope", key_scope, "S", "all",
        "create: all, decisions (the decision routes only) or provisioning (the tenant's SCIM routes only)"),
    KEY("name", name, "N", NULL, "create: a name for people"),
    CLI_ROW_TENANT_ID(key_opts),
    KEY("user", user, "U", NULL, "create: the tenant user the key acts as"),
    CLI_ROW_WITNESS(key_opts),
    CLI_ROW_WITNESS_SYSLOG(key_opts),
};

const cli_command cli_key = CLI_COMMAND(
    "key",
    "urbac key (create --user U [--name N] [--key-scope all|decisions|provisioning] "
    "[--expires TIME|30d] | list [--json] | revoke ID) "
    "[--db URL] [--tenant-id T]",
    "Create (shown once), list or revoke API keys of a tenant in a store", key_opts, key_table, key);
