/*
 * tests/unit/test_store_write.c - the store's incremental write path (a put
 * validated and written at the cost of what it touches) against the whole-tenant
 * path it replaces, which stays as the independent oracle: with `w->written` asked
 * for, a put reads, rebuilds and validates the whole tenant with the full loader.
 *
 * Every validation error the loader knows is sent through both paths and must be
 * refused by both with the same code (the incremental one with the loader's
 * message); deletes of named objects, renames, cycles through nesting and ranks
 * too. A random walk of small writes (valid and not) on two tenants, one written
 * incrementally and one the whole-tenant way, must be accepted and refused alike
 * and leave the same objects. Schema 3's migration from a schema-2 store with
 * data fills the reference index; the change feed gives the changes since a
 * revision, and URBAC_EBEHIND when its log cannot. A batch (group commit): one
 * transaction, a savepoint per write. On PostgreSQL, a write's round trips. Runs on SQLite, and on
 * PostgreSQL under tests/pg.sh.
 */
#include <ctype.h>

#include "store/refs.h"
#include "store/store.h"
#include "store_fixture.h"
#include "util/util.h"

static int setup(void **state)
{
  (void)state;
  fixture_setup("store-write");
  return 0;
}

static void remove_db(void)
{
  if (pg_url)
    sql("DROP TABLE IF EXISTS refs, audit, objects, tenants, urbac_schema");
  else
    remove_file();
}

static int teardown(void **state)
{
  (void)state;
  remove_db();
  return 0;
}

static urbac_store *fresh(void)
{
  urbac_store *s;
  int from, to;
  remove_db();
  assert_int_equal(urbac_store_open(target(), URBAC_STORE_CREATE, &s, NULL), URBAC_OK);
  assert_int_equal(urbac_store_migrate(s, &from, &to, NULL), URBAC_OK);
  return s;
}

/* The base tenant, as `id`. */
static const char *base_yaml =
    "urbac: 1\ntenant: %s\n"
    "users: [{id: a}, {id: b}, {id: c}, {id: e, externalId: e-object}]\n"
    "groups:\n  - {id: g, members: [a, group:h]}\n"
    "  - {id: h, members: [b], externalId: 1000000h-0000-0000-0000-000000000001}\n"
    "  - {id: k, members: [c, e-object]}\n"
    "deviceGroups:\n  - {id: d1, rank: 1, userAccess: [g]}\n  - {id: d2, rank: 2}\n"
    "devices: [{id: dev1, name: srv-1}]\n"
    "roles:\n  - name: r\n    permissions: [Alerts (manage)]\n    assignments:\n"
    "      - {name: x, principals: [group:g, a], dataSources: [mde], deviceGroups: [d1]}\n"
    "legacy:\n  mde: {roles: [{name: t1, permissions: [Alerts investigation], groups: [k]}]}\n"
    "  mdo: {roleGroups: [{name: Quarantine, members: [a]}]}\n"
    "  mdi: {roles: [{name: MDI viewer, members: [a]}]}\n";

static void apply_base(urbac_store *s, const char *id)
{
  char y[2048];
  snprintf(y, sizeof y, base_yaml, id);
  tenant t = tenant_load(y);
  urbac_write w = {"test", "base", false, 0, NULL, NULL};
  uint64_t rev;
  assert_int_equal(urbac_store_apply(s, t.m, &w, &rev, NULL), URBAC_OK);
  tenant_free(&t);
}

/* A fresh store holding the base tenant as `id`, its handle remembering what the
 * objects it writes name from `named_min` names (store/refs.c). */
static urbac_store *fresh_based(const char *id, size_t named_min)
{
  urbac_store *s = fresh();
  s->named_min = named_min;
  apply_base(s, id);
  return s;
}

/* ---------------------------------------------------------------- every error, both paths */

typedef struct put3 {
  const char *kind, *id, *json;
} put3;

typedef struct bad_case {
  const char *what;
  put3 puts[3];
  urbac_err code; /* the first problem's code, as the loader says it */
  const char *needle;
} bad_case;

#define P(kind, id, json)                                                                                    \
  {                                                                                                          \
    kind, id, json                                                                                           \
  }

#define XS30 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define XS300 XS30 XS30 XS30 XS30 XS30 XS30 XS30 XS30 XS30 XS30
static const bad_case bad[] = {
    /* the shape of one object: the loader's own checks */
    {"unknown key",
     {P("user", "z", "{\"id\": \"z\", \"enabeld\": true}")},
     URBAC_EUNKNOWNKEY,
     "did you mean 'enabled'"},
    {"wrong type",
     {P("user", "z", "{\"id\": \"z\", \"enabled\": \"true\"}")},
     URBAC_ETYPE,
     "expected true or false"},
    {"id of a wrong type", {P("user", "z", "{\"id\": [\"z\"]}")}, URBAC_ETYPE, "a user id must be a string"},
    {"no id", {P("user", "z", "{\"name\": \"Zed\"}")}, URBAC_EMISSING, "a user has no 'id'"},
    {"control character", {P("user", "z\tz", "{\"id\": \"z\\tz\"}")}, URBAC_EVALUE, "control character"},
    {"another id", {P("user", "z", "{\"id\": \"y\"}")}, URBAC_EVALUE, "does not have the id 'z'"},
    {"not JSON", {P("group", "g", "{\"id\": ")}, URBAC_ESYNTAX, ""},
    /* one JSON value, nothing around it: no body smuggles in another object */
    {"an object smuggled after a user",
     {P("user", "z", "{\"id\": \"z\"}], \"groups\": [{\"id\": \"g\"}")},
     URBAC_ESYNTAX,
     "user 'z' is not one JSON value"},
    {"an object smuggled after the workloads",
     {P("workloads", "workloads", "{\"mde\": \"unified\"}, \"users\": [{\"id\": \"x\"}]")},
     URBAC_ESYNTAX,
     "workloads 'workloads' is not one JSON value"},
    {"two values",
     {P("user", "z", "{\"id\": \"z\"} {\"id\": \"y\"}")},
     URBAC_ESYNTAX,
     "user 'z' is not one JSON value"},
    /* as deep as a tenant file may nest, counted from the file's root: what is
     * stored can always be exported and read back (63 lists in a user is 65 levels) */
    {"nesting a file could not hold",
     {P("user", "z",
        "{\"id\": \"z\", \"name\": "
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
        "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}")},
     URBAC_ELIMIT,
     "nesting deeper than 64 levels"},
    {"unknown workload",
     {P("workloads", "workloads", "{\"mdx\": \"unified\"}")},
     URBAC_EWORKLOAD,
     "unknown workload 'mdx'"},
    {"bad mode", {P("workloads", "workloads", "{\"mde\": \"on\"}")}, URBAC_EVALUE, "unified or legacy"},
    {"deep nesting",
     {P("user", "z",
        "{\"id\": \"z\", \"name\": "
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]"
        "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}")},
     URBAC_ELIMIT,
     ""},
    {"unknown permission",
     {P("role", "q", "{\"name\": \"q\", \"permissions\": [\"Alertz (manage)\"]}")},
     URBAC_EUNKNOWNPERM,
     "unknown permission 'Alertz'"},
    {"level",
     {P("role", "q", "{\"name\": \"q\", \"permissions\": [\"Alerts (read)\"]}")},
     URBAC_ELEVEL,
     "has no read level"},
    {"wildcard",
     {P("role", "q", "{\"name\": \"q\", \"permissions\": [\"microsoft.xdr/nope/*\"]}")},
     URBAC_EUNKNOWNPERM,
     "matches no permission"},
    {"directory role",
     {P("user", "z", "{\"id\": \"z\", \"directoryRoles\": [\"Global admn\"]}")},
     URBAC_EUNKNOWNROLE,
     "did you mean 'Global admin'"},
    {"legacy permission",
     {P("legacy.mde.role", "t2", "{\"name\": \"t2\", \"permissions\": [\"Live response\"]}")},
     URBAC_EUNKNOWNPERM,
     "Defender for Endpoint permission"},
    {"role group",
     {P("legacy.mdo.roleGroup", "Quarantaine", "{\"name\": \"Quarantaine\"}")},
     URBAC_EUNKNOWNROLE,
     "did you mean 'Quarantine'"},
    {"MDI role",
     {P("legacy.mdi.role", "MDI boss", "{\"name\": \"MDI boss\"}")},
     URBAC_EUNKNOWNROLE,
     "unknown Defender for Identity role"},
    {"assignment workload",
     {P("role", "q",
        "{\"name\": \"q\", \"assignments\": [{\"name\": \"a\", \"dataSources\": [\"mde\", \"mdx\"]}]}")},
     URBAC_EWORKLOAD,
     "unknown workload 'mdx'"},
    {"no dataSources",
     {P("role", "q", "{\"name\": \"q\", \"assignments\": [{\"name\": \"a\"}]}")},
     URBAC_EMISSING,
     "no 'dataSources'"},
    {"empty dataSources",
     {P("role", "q", "{\"name\": \"q\", \"assignments\": [{\"name\": \"a\", \"dataSources\": []}]}")},
     URBAC_EVALUE,
     "dataSources is empty"},
    {"no rank", {P("deviceGroup", "d3", "{\"id\": \"d3\"}")}, URBAC_EMISSING, "has no 'rank'"},
    {"rank 0", {P("deviceGroup", "d3", "{\"id\": \"d3\", \"rank\": 0}")}, URBAC_EVALUE, "0 is out of range"},
    {"ungrouped ranked",
     {P("deviceGroup", "ungrouped", "{\"id\": \"ungrouped\", \"rank\": 3}")},
     URBAC_ERESERVED,
     "'ungrouped'"},
    {"rule property",
     {P("deviceGroup", "d3", "{\"id\": \"d3\", \"rank\": 3, \"rules\": {\"nmae\": {\"equals\": [\"a\"]}}}")},
     URBAC_EUNKNOWNKEY,
     "unknown rule property 'nmae'"},
    {"rule operator",
     {P("deviceGroup", "d3", "{\"id\": \"d3\", \"rank\": 3, \"rules\": {\"name\": {\"is\": [\"a\"]}}}")},
     URBAC_EUNKNOWNKEY,
     "unknown operator 'is'"},
    {"remediation",
     {P("deviceGroup", "d3", "{\"id\": \"d3\", \"rank\": 3, \"remediation\": \"most\"}")},
     URBAC_EVALUE,
     "remediation must be none, semi or full"},
    {"unknown kind", {P("robot", "r2", "{\"id\": \"r2\"}")}, URBAC_EINVAL, "unknown kind"},
    /* one object's own duplicates */
    {"assignment twice",
     {P("role", "q",
        "{\"name\": \"q\", \"assignments\": [{\"name\": \"a\", \"dataSources\": \"all\"}, {\"name\": \"a\", "
        "\"dataSources\": \"all\"}]}")},
     URBAC_EDUPLICATE,
     "duplicate assignment name in the role 'a'"},
    /* what it names */
    {"unknown member",
     {P("group", "g", "{\"id\": \"g\", \"members\": [\"zz\"]}")},
     URBAC_EDANGLING,
     "group 'g' names unknown user 'zz'"},
    {"user that is a group",
     {P("group", "k", "{\"id\": \"k\", \"members\": [\"h\"]}")},
     URBAC_EDANGLING,
     "(a group of that id exists: write group:h)"},
    {"unknown member group",
     {P("group", "g", "{\"id\": \"g\", \"members\": [\"group:nope\"]}")},
     URBAC_EDANGLING,
     "group 'g' names unknown group 'nope'"},
    {"unknown userAccess",
     {P("deviceGroup", "d2", "{\"id\": \"d2\", \"rank\": 2, \"userAccess\": [\"nope\"]}")},
     URBAC_EDANGLING,
     "userAccess of device group 'd2' names unknown group 'nope'"},
    {"unknown device group",
     {P("role", "q",
        "{\"name\": \"q\", \"assignments\": [{\"name\": \"a\", \"principals\": [\"a\"], \"dataSources\": "
        "[\"mde\"], \"deviceGroups\": [\"dg9\"]}]}")},
     URBAC_EDANGLING,
     "assignment 'a' of role 'q' names unknown device group 'dg9'"},
    {"unknown principal",
     {P("role", "q",
        "{\"name\": \"q\", \"assignments\": [{\"name\": \"a\", \"principals\": [\"group:ghosts\"], "
        "\"dataSources\": [\"mde\"]}]}")},
     URBAC_EDANGLING,
     "names unknown group 'ghosts'"},
    {"legacy group",
     {P("legacy.mde.role", "t2", "{\"name\": \"t2\", \"groups\": [\"nope\"]}")},
     URBAC_EDANGLING,
     "legacy mde role 't2' names unknown group 'nope'"},
    {"role group member",
     {P("legacy.mdo.roleGroup", "Quarantine", "{\"name\": \"Quarantine\", \"members\": [\"u\"]}")},
     URBAC_EDANGLING,
     "EOP role group 'Quarantine' names unknown user 'u'"},
    /* what spans every object of a kind */
    {"rank held",
     {P("deviceGroup", "d3", "{\"id\": \"d3\", \"rank\": 1}")},
     URBAC_ERANK,
     "device group 'd3' has rank 1, already held by 'd1'"},
    {"rank moved onto another",
     {P("deviceGroup", "d1", "{\"id\": \"d1\", \"rank\": 2, \"userAccess\": [\"g\"]}")},
     URBAC_ERANK,
     "has rank 2, already held by"},
    /* cycles: alone, through the batch, through groups the write does not change */
    {"self",
     {P("group", "k", "{\"id\": \"k\", \"members\": [\"group:k\"]}")},
     URBAC_ECYCLE,
     "group membership cycle: k -> k"},
    {"through stored groups",
     {P("group", "h", "{\"id\": \"h\", \"members\": [\"b\", \"group:g\"]}")},
     URBAC_ECYCLE,
     "group membership cycle: h -> g -> h"},
    {"in one batch",
     {P("group", "x", "{\"id\": \"x\", \"members\": [\"group:y\"]}"),
      P("group", "y", "{\"id\": \"y\", \"members\": [\"group:k\"]}"),
      P("group", "k", "{\"id\": \"k\", \"members\": [\"group:x\"]}")},
     URBAC_ECYCLE,
     "group membership cycle"},
    {"two levels down",
     {P("group", "k", "{\"id\": \"k\", \"members\": [\"group:g\"]}"),
      P("group", "h", "{\"id\": \"h\", \"members\": [\"group:k\"]}")},
     URBAC_ECYCLE,
     "group membership cycle"},
    /* deletes of what is named, renames that leave a name behind */
    {"delete a member", {P("user", "b", NULL)}, URBAC_EDANGLING, "group 'h' names unknown user 'b'"},
    {"delete a principal", {P("user", "a", NULL)}, URBAC_EDANGLING, "names unknown user 'a'"},
    {"delete a member group", {P("group", "h", NULL)}, URBAC_EDANGLING, "group 'g' names unknown group 'h'"},
    {"delete a group with access", {P("group", "g", NULL)}, URBAC_EDANGLING, "names unknown group 'g'"},
    {"delete a legacy role's group",
     {P("group", "k", NULL)},
     URBAC_EDANGLING,
     "legacy mde role 't1' names unknown group 'k'"},
    {"delete a scope",
     {P("deviceGroup", "d1", NULL)},
     URBAC_EDANGLING,
     "assignment 'x' of role 'r' names unknown device group 'd1'"},
    {"rename, name left",
     {P("user", "c", NULL), P("user", "c2", "{\"id\": \"c2\"}")},
     URBAC_EDANGLING,
     "group 'k' names unknown user 'c'"},
    {"delete what is not there", {P("user", "nobody", NULL)}, URBAC_ENOTFOUND, "has no user 'nobody'"},
    /* externalIds: unique per kind, and a name given by one must keep naming something */
    {"externalId held",
     {P("user", "z", "{\"id\": \"z\", \"externalId\": \"e-object\"}")},
     URBAC_EDUPLICATE,
     "duplicate user externalId 'e-object'"},
    {"group externalId held",
     {P("group", "z", "{\"id\": \"z\", \"externalId\": \"1000000h-0000-0000-0000-000000000001\"}")},
     URBAC_EDUPLICATE,
     "duplicate group externalId"},
    {"delete a member named by externalId",
     {P("user", "e", NULL)},
     URBAC_EDANGLING,
     "group 'k' names unknown user 'e-object'"},
    {"externalId changed while named",
     {P("user", "e", "{\"id\": \"e\", \"externalId\": \"other\"}")},
     URBAC_EDANGLING,
     "group 'k' names unknown user 'e-object'"},
    {"unknown externalId, not a GUID",
     {P("group", "k", "{\"id\": \"k\", \"members\": [\"group:1000000h-0000-0000-0000-000000000002\"]}")},
     URBAC_EDANGLING,
     "names unknown group '1000000h-0000-0000-0000-000000000002'"}, /* 'h' is no hex digit */
    {"managedBy",
     {P("user", "z", "{\"id\": \"z\", \"managedBy\": \"entra\"}")},
     URBAC_EVALUE,
     "only value is 'scim'"},
    {"scim not a mapping",
     {P("user", "z", "{\"id\": \"z\", \"scim\": [1]}")},
     URBAC_ETYPE,
     "scim must be a mapping"},
    {"externalId too long",
     {P("group", "z", "{\"id\": \"z\", \"externalId\": \"" XS300 "\"}")},
     URBAC_ELIMIT,
     "longer than 256 bytes"},
    {"delete beside an unchanged put",
     {P("user", "b", NULL), P("group", "h", "{\"id\": \"h\", \"members\": [\"b\"]}")},
     URBAC_EDANGLING,
     "group 'h' names unknown user 'b'"},
    {"externalId changed, named again in the batch",
     {P("user", "e", "{\"id\": \"e\", \"externalId\": \"other\"}"),
      P("group", "k", "{\"id\": \"k\", \"members\": [\"e-object\"]}")},
     URBAC_EDANGLING,
     "group 'k' names unknown user 'e-object'"},
    {"delete both ways",
     {P("group", "h", NULL), P("group", "g", "{\"id\": \"g\", \"members\": [\"group:h\"]}")},
     URBAC_EDANGLING,
     "group 'g' names unknown group 'h'"},
};

/* Does `d` hold `code`, and `needle` in some message? */
static bool holds(const urbac_diag *d, urbac_err code, const char *needle)
{
  bool has_code = false, has_needle = false;
  for (size_t i = 0; i < urbac_diag_count(d); i++) {
    has_code = has_code || urbac_diag_get(d, i)->code == code;
    has_needle = has_needle || strstr(urbac_diag_get(d, i)->message, needle);
  }
  return has_code && has_needle;
}

static void print_diag(const char *what, const urbac_diag *d)
{
  char buf[1024];
  for (size_t i = 0; i < urbac_diag_count(d); i++) {
    urbac_diag_format(d, i, buf, sizeof buf);
    print_error("%s: %s %s\n", what, urbac_err_name(urbac_diag_get(d, i)->code), buf);
  }
}

static size_t count_puts(const put3 *p)
{
  size_t n = 0;
  while (n < 3 && p[n].kind)
    n++;
  return n;
}

static void test_every_error_both_paths(void **state)
{
  (void)state;
  urbac_store *s = fresh();
  apply_base(s, "acme");
  uint64_t rev0, rev, count, bad_seq;
  assert_int_equal(urbac_store_revision(s, "acme", &rev0, NULL), URBAC_OK);
  for (size_t c = 0; c < sizeof bad / sizeof bad[0]; c++) {
    const bad_case *k = &bad[c];
    urbac_object_put puts[3];
    size_t n = count_puts(k->puts);
    for (size_t i = 0; i < n; i++)
      puts[i] = (urbac_object_put){k->puts[i].kind, k->puts[i].id, k->puts[i].json};
    urbac_model *written = NULL;
    urbac_write inc = {"test", k->what, false, 0, NULL, NULL},
                whole = {"test", k->what, false, 0, &written, NULL};
    urbac_diag *di = urbac_diag_new(), *dw = urbac_diag_new();
    urbac_err ei = urbac_store_put_many(s, "acme", puts, n, &inc, &rev, di);
    urbac_err ew = urbac_store_put_many(s, "acme", puts, n, &whole, &rev, dw);
    bool ok = ei != URBAC_OK && ei == ew && urbac_diag_count(di) && urbac_diag_count(dw) &&
              holds(di, k->code, k->needle) && holds(dw, k->code, "");
    if (!ok) {
      print_error("case '%s': incremental %s, whole tenant %s, want %s '%s'\n", k->what, urbac_err_name(ei),
                  urbac_err_name(ew), urbac_err_name(k->code), k->needle);
      print_diag("incremental", di);
      print_diag("whole", dw);
    }
    assert_true(ok);
    assert_null(written);
    urbac_diag_free(di);
    urbac_diag_free(dw);
    assert_int_equal(urbac_store_revision(s, "acme", &rev, NULL), URBAC_OK);
    assert_int_equal(rev, rev0); /* nothing written */
  }
  /* what the refusals above left: the same tenant, the chain intact */
  assert_int_equal(urbac_store_audit_verify(s, "acme", &count, &bad_seq, NULL), URBAC_OK);
  urbac_store_close(s);
}

/* Refusals that need a tenant made first: `setup` (valid) is written to the base,
 * then `bad` must be refused by both paths alike (the whole-tenant path on the
 * tenant as set up, the incremental one the same), and neither writes it. */
typedef struct staged_case {
  const char *what;
  put3 setup[3];
  put3 bad[3];
  urbac_err code;
} staged_case;

static const staged_case staged[] = {
    /* a group that already holds k takes the (not GUID-shaped) externalId k names
     * another group by: k -> p -> k, with no member added anywhere */
    {"externalId moved onto a group below",
     {P("group", "k",
        "{\"id\": \"k\", \"members\": [\"c\", \"group:1000000h-0000-0000-0000-000000000001\"]}"),
      P("group", "p", "{\"id\": \"p\", \"members\": [\"group:k\"]}")},
     {P("group", "h", "{\"id\": \"h\", \"members\": [\"b\"]}"),
      P("group", "p",
        "{\"id\": \"p\", \"members\": [\"group:k\"], \"externalId\": "
        "\"1000000h-0000-0000-0000-000000000001\"}")},
     URBAC_ECYCLE},
    /* k names, pending, a GUID in capitals; the group below it takes it in lower
     * case (externalIds that are GUIDs compare without regard to case) */
    {"pending GUID woken in another case",
     {P("group", "k",
        "{\"id\": \"k\", \"members\": [\"c\", \"group:AAAAAAAA-0000-0000-0000-000000000001\"]}"),
      P("group", "p", "{\"id\": \"p\", \"members\": [\"group:k\"]}")},
     {P("group", "p",
        "{\"id\": \"p\", \"members\": [\"group:k\"], \"externalId\": "
        "\"aaaaaaaa-0000-0000-0000-000000000001\"}")},
     URBAC_ECYCLE},
    /* a group deleted whose id another holds as its externalId: the name passes to
     * that one, which holds k: k -> p -> k */
    {"a deleted group's name passes to a group below",
     {P("group", "q", "{\"id\": \"q\"}"),
      P("group", "p", "{\"id\": \"p\", \"externalId\": \"q\", \"members\": [\"group:k\"]}"),
      P("group", "k", "{\"id\": \"k\", \"members\": [\"c\", \"group:q\"]}")},
     {P("group", "q", NULL)},
     URBAC_ECYCLE},
    /* valid: both accept (URBAC_OK). A group named by its id and by its externalId in
     * one write the loader's small tenant validates (a device group is in it) */
    {"a group named by id and by externalId",
     {{0}},
     {P("deviceGroup", "d2",
        "{\"id\": \"d2\", \"rank\": 2, \"userAccess\": [\"h\", "
        "\"1000000h-0000-0000-0000-000000000001\"]}")},
     URBAC_OK},
    /* a user deleted while another takes its id as its externalId: what named the
     * one by its id names the other now */
    {"a deleted user's id taken as an externalId",
     {{0}},
     {P("user", "c", NULL), P("user", "c9", "{\"id\": \"c9\", \"externalId\": \"c\"}")},
     URBAC_OK},
    /* a user whose id is a GUID deleted while named: the name is pending then */
    {"a named user with a GUID for an id deleted",
     {P("user", "0b9f0000-aaaa-4bbb-8ccc-000000000001", "{\"id\": \"0b9f0000-aaaa-4bbb-8ccc-000000000001\"}"),
      P("group", "k", "{\"id\": \"k\", \"members\": [\"c\", \"0b9f0000-aaaa-4bbb-8ccc-000000000001\"]}")},
     {P("user", "0b9f0000-aaaa-4bbb-8ccc-000000000001", NULL)},
     URBAC_OK},
    {"a user named by id and by externalId",
     {{0}},
     {P("group", "g", "{\"id\": \"g\", \"members\": [\"a\", \"e\", \"e-object\", \"group:h\"]}"),
      P("deviceGroup", "d2", "{\"id\": \"d2\", \"rank\": 2, \"userAccess\": [\"g\"]}")},
     URBAC_OK},
};

static void test_staged_errors_both_paths(void **state)
{
  (void)state;
  size_t failed = 0;
  for (size_t c = 0; c < sizeof staged / sizeof staged[0]; c++) {
    const staged_case *k = &staged[c];
    urbac_store *s = fresh();
    apply_base(s, "acme");
    urbac_object_put puts[3];
    urbac_write w = {"test", k->what, false, 0, NULL, NULL};
    uint64_t rev0, rev;
    size_t n = count_puts(k->setup);
    for (size_t i = 0; i < n; i++)
      puts[i] = (urbac_object_put){k->setup[i].kind, k->setup[i].id, k->setup[i].json};
    urbac_diag *d = urbac_diag_new();
    urbac_err e = n ? urbac_store_put_many(s, "acme", puts, n, &w, &rev0, d)
                    : urbac_store_revision(s, "acme", &rev0, d);
    if (e)
      print_diag(k->what, d);
    assert_int_equal(e, URBAC_OK);
    urbac_diag_free(d);
    n = count_puts(k->bad);
    for (size_t i = 0; i < n; i++)
      puts[i] = (urbac_object_put){k->bad[i].kind, k->bad[i].id, k->bad[i].json};
    urbac_model *written = NULL;
    urbac_write inc = {"test", k->what, false, 0, NULL, NULL},
                whole = {"test", k->what, false, 0, &written, NULL};
    urbac_diag *di = urbac_diag_new(), *dw = urbac_diag_new();
    urbac_err ew = urbac_store_put_many(s, "acme", puts, n, &whole, &rev, dw);
    urbac_model_free(written);
    if (!k->code && !ew) { /* accepted: the incremental path writes it on the tenant as it was */
      urbac_object_put again[3];
      size_t na = count_puts(k->setup);
      for (size_t i = 0; i < na; i++)
        again[i] = (urbac_object_put){k->setup[i].kind, k->setup[i].id, k->setup[i].json};
      urbac_store_close(s);
      s = fresh();
      apply_base(s, "acme");
      assert_int_equal(na ? urbac_store_put_many(s, "acme", again, na, &w, &rev0, NULL) : URBAC_OK, URBAC_OK);
    }
    urbac_err ei = urbac_store_put_many(s, "acme", puts, n, &inc, &rev, di);
    bool ok = k->code ? ei != URBAC_OK && ei == ew && holds(di, k->code, "") && holds(dw, k->code, "")
                      : ei == URBAC_OK && ew == URBAC_OK;
    if (!ok) {
      print_error("case '%s': incremental %s, whole tenant %s, want %s\n", k->what, urbac_err_name(ei),
                  urbac_err_name(ew), urbac_err_name(k->code));
      print_diag("incremental", di);
      print_diag("whole", dw);
    }
    urbac_diag_free(di);
    urbac_diag_free(dw);
    failed += !ok; /* every case is tried, then the test fails */
    assert_int_equal(urbac_store_revision(s, "acme", &rev, NULL), URBAC_OK);
    failed += k->code && rev != rev0; /* a refusal writes nothing */
    urbac_model *m = NULL;            /* and the tenant as stored still loads */
    urbac_err loads = urbac_store_load(s, "acme", &m, &rev, NULL);
    if (loads)
      print_error("case '%s': the tenant as stored no longer loads (%s)\n", k->what, urbac_err_name(loads));
    failed += loads != URBAC_OK;
    urbac_model_free(m);
    urbac_store_close(s);
  }
  assert_int_equal(failed, 0);
}

/* Renames that move every name along, a rank moved past others, a group emptied
 * then deleted: valid in one batch only, and accepted as one change each. */
static void test_valid_batches(void **state)
{
  (void)state;
  urbac_store *s = fresh();
  apply_base(s, "acme");
  urbac_write w = {"test", "batch", false, 0, NULL, NULL};
  uint64_t rev0, rev, count, bad_seq;
  assert_int_equal(urbac_store_revision(s, "acme", &rev0, NULL), URBAC_OK);
  urbac_object_put rename[] = {{"user", "c", NULL},
                               {"user", "c2", "{\"id\": \"c2\", \"name\": \"C\"}"},
                               {"group", "k", "{\"id\": \"k\", \"members\": [\"c2\"]}"}};
  assert_int_equal(urbac_store_put_many(s, "acme", rename, 3, &w, &rev, NULL), URBAC_OK);
  assert_int_equal(rev, rev0 + 1);
  urbac_object_put swap[] = {{"deviceGroup", "d1", "{\"id\": \"d1\", \"rank\": 2, \"userAccess\": [\"g\"]}"},
                             {"deviceGroup", "d2", "{\"id\": \"d2\", \"rank\": 1}"}};
  assert_int_equal(urbac_store_put_many(s, "acme", swap, 2, &w, &rev, NULL), URBAC_OK);
  urbac_object_put drop[] = {{"role", "r", NULL},
                             {"deviceGroup", "d1", NULL},
                             {"legacy.mde.role", "t1", NULL},
                             {"group", "k", NULL}};
  assert_int_equal(urbac_store_put_many(s, "acme", drop, 4, &w, &rev, NULL), URBAC_OK);
  assert_int_equal(rev, rev0 + 3);
  /* the same object twice in a batch: the last one counts, one change */
  urbac_object_put twice[] = {{"user", "z", "{\"id\": \"z\", \"name\": \"first\"}"},
                              {"user", "z", "{\"id\": \"z\", \"name\": \"second\"}"}};
  assert_int_equal(urbac_store_put_many(s, "acme", twice, 2, &w, &rev, NULL), URBAC_OK);
  /* JSON's space around the value is no part of it, tabs included */
  urbac_object_put spaced[] = {{"user", "t", "\t{\"id\": \"t\", \"name\": \"\\u0054\"}\n\t"}};
  assert_int_equal(urbac_store_put_many(s, "acme", spaced, 1, &w, &rev, NULL), URBAC_OK);
  char *json = NULL;
  assert_int_equal(urbac_store_get(s, "acme", "user", "t", &json, NULL, NULL), URBAC_OK);
  assert_string_equal(json, "{\"id\":\"t\",\"name\":\"T\"}"); /* stored canonical */
  urbac_free(json);
  assert_int_equal(urbac_store_get(s, "acme", "user", "z", &json, NULL, NULL), URBAC_OK);
  assert_non_null(strstr(json, "second"));
  urbac_free(json);
  /* nothing changes: nothing written */
  assert_int_equal(
      urbac_store_put(s, "acme", "user", "z", "{\"name\": \"second\", \"id\": \"z\"}", &w, &rev, NULL),
      URBAC_OK);
  assert_int_equal(rev, rev0 + 5);
  /* the tenant as stored still loads, and the log replays to it */
  urbac_model *m = NULL;
  assert_int_equal(urbac_store_load(s, "acme", &m, &rev, NULL), URBAC_OK);
  urbac_model_free(m);
  assert_int_equal(urbac_store_audit_verify(s, "acme", &count, &bad_seq, NULL), URBAC_OK);
  urbac_store_close(s);
}

/* ---------------------------------------------------------------- a random walk, both paths */

static uint64_t seed = 0x5EEDull;
static uint32_t rnd(uint32_t n)
{
  seed ^= seed << 13;
  seed ^= seed >> 7;
  seed ^= seed << 17;
  return (uint32_t)(seed % n);
}

/* Half the time an externalId from a small pool, GUID-shaped in either case (users
 * 0000000N-..., groups 1000000N-...): they collide, are named, change and go. */
#define XID_TAIL "-0000-0000-0000-00000000000"
static const char *random_xid(int group)
{
  static char buf[2][80];
  buf[group][0] = '\0';
  if (rnd(2))
    snprintf(buf[group], sizeof buf[group], ", \"externalId\": \"%s%u" XID_TAIL "%c\"",
             group ? "1000000" : "0000000", rnd(4), rnd(2) ? 'a' : 'A');
  return buf[group];
}

/* A random walk's batch: up to 3 puts (bodies and ids in the caller's arrays); their count. */
#define WALK_BODY 1024
typedef size_t (*walk_gen)(urbac_object_put *p, char bodies[][WALK_BODY], char ids[][16]);

/* A random small write: ids from small pools, so names dangle, cycle and collide. */
static size_t random_puts(urbac_object_put *p, char bodies[][WALK_BODY], char ids[][16])
{
  static const char *const kinds[] = {"user", "group", "deviceGroup", "role", "legacy.mde.role"};
  size_t n = 1 + (rnd(4) == 0 ? rnd(3) : 0);
  for (size_t i = 0; i < n; i++) {
    const char *kind = kinds[rnd(5)];
    char *b = bodies[i];
    int len = 0;
    bool again = true;
    while (again) { /* one put per object: the whole-tenant path refuses a put then delete of one object */
      snprintf(ids[i], 16, "%c%u", kind[0] == 'l' ? 't' : kind[0], rnd(6));
      again = false;
      for (size_t k = 0; k < i; k++)
        again = again || (!strcmp(p[k].kind, kind) && !strcmp(ids[k], ids[i]));
    }
    p[i] = (urbac_object_put){kind, ids[i], b};
    if (rnd(5) == 0) {
      p[i].json = NULL; /* a delete */
      continue;
    }
    if (kind[0] == 'u')
      len = snprintf(b, 512, "{\"id\": \"%s\"%s%s}", ids[i], rnd(3) ? "" : ", \"enabled\": false",
                     random_xid(0));
    else if (kind[0] == 'g') {
      len = snprintf(b, 512, "{\"id\": \"%s\"%s, \"members\": [", ids[i], random_xid(1));
      for (uint32_t m = 0, nm = rnd(4); m < nm; m++) {
        uint32_t which = rnd(8);
        len += which < 6 ? snprintf(b + len, 512 - (size_t)len, "%s\"%s%u\"", m ? ", " : "",
                                    which < 4 ? "u" : "group:g", rnd(6))
                         : snprintf(b + len, 512 - (size_t)len, "%s\"%s%u" XID_TAIL "a\"", m ? ", " : "",
                                    which == 6 ? "0000000" : "group:1000000", rnd(4));
      }
      len += snprintf(b + len, 512 - (size_t)len, "]}");
    } else if (kind[0] == 'd')
      len = snprintf(b, 512, "{\"id\": \"%s\", \"rank\": %u%s}", ids[i], 1 + rnd(5),
                     rnd(2) ? ", \"userAccess\": [\"g1\"]" : "");
    else if (kind[0] == 'r')
      len =
          snprintf(b, 512,
                   "{\"name\": \"%s\", \"permissions\": [\"Alerts (manage)\"], \"assignments\": [{\"name\": "
                   "\"a\", \"principals\": [\"group:g%u\", \"u%u\"], \"dataSources\": [\"mde\"]%s}]}",
                   ids[i], rnd(6), rnd(6), rnd(2) ? ", \"deviceGroups\": [\"d1\"]" : "");
    else
      len = snprintf(b, 512, "{\"name\": \"%s\", \"groups\": [\"g%u\"]}", ids[i], rnd(6));
    (void)len;
  }
  return n;
}

typedef struct listing {
  char *text;
  size_t len;
} listing;

static int list_cb(void *ctx, const char *kind, const char *id, const char *json)
{
  listing *l = ctx;
  size_t more = strlen(kind) + strlen(id) + strlen(json) + 4;
  l->text = realloc(l->text, l->len + more + 1);
  l->len += (size_t)snprintf(l->text + l->len, more + 1, "%s\t%s\t%s\n", kind, id, json);
  return 0;
}

/* The tenant's objects kind by kind, each kind in stored order (the whole-tenant
 * path also renumbers the places of every object into file order; the order
 * within a kind is what a dump shows). */
static char *objects_of(urbac_store *s, const char *id)
{
  static const char *const kinds[] = {"workloads",      "user", "group",           "deviceGroup",
                                      "device",         "role", "legacy.mde.role", "legacy.mdo.roleGroup",
                                      "legacy.mdi.role"};
  listing l = {calloc(1, 1), 0};
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
    assert_int_equal(urbac_store_list(s, id, kinds[k], list_cb, &l, NULL), URBAC_OK);
  return l.text;
}

/* ---------------------------------------------------------------- pages after a key */

/* Every user, read a page of `limit` at a time (search: NULL or the text). */
static char *paged_users(urbac_store *s, size_t limit, const char *search)
{
  listing l = {calloc(1, 1), 0};
  char *after = NULL;
  do {
    char *next = NULL;
    urbac_page_query q = {"user", after, search, limit};
    assert_int_equal(urbac_store_list_page(s, "acme", &q, list_cb, &l, &next, NULL, NULL), URBAC_OK);
    urbac_free(after);
    after = next;
  } while (after);
  return l.text;
}

/* list_cb for the users whose id or name holds "ann", any case (names here hold no quote) */
static int keep_named(void *ctx, const char *kind, const char *id, const char *json)
{
  const char *name = strstr(json, "\"name\":\"");
  char copy[512] = "";
  snprintf(copy, sizeof copy, "%s %.*s", id, name ? (int)strcspn(name + 8, "\"") : 0, name ? name + 8 : "");
  for (char *c = copy; *c; c++)
    *c = (char)tolower((unsigned char)*c);
  return strstr(copy, "ann") ? list_cb(ctx, kind, id, json) : 0;
}

static void test_list_page(void **state)
{
  (void)state;
  urbac_store *s = fresh();
  apply_base(s, "acme");
  urbac_write w = {"test", "page", false, 0, NULL, NULL};
  uint64_t rev;
  const char *puts[][2] = {{"u1", "{\"id\":\"u1\",\"name\":\"Annabel\"}"},
                           {"u2", "{\"id\":\"u2\"}"},
                           {"joanna", "{\"id\":\"joanna\"}"},
                           {"u3", "{\"id\":\"u3\",\"name\":\"ANNE\"}"}};
  for (size_t i = 0; i < sizeof puts / sizeof puts[0]; i++)
    assert_int_equal(urbac_store_put(s, "acme", "user", puts[i][0], puts[i][1], &w, &rev, NULL), URBAC_OK);
  listing whole = {calloc(1, 1), 0}, named = {calloc(1, 1), 0};
  assert_int_equal(urbac_store_list(s, "acme", "user", list_cb, &whole, NULL), URBAC_OK);
  assert_int_equal(urbac_store_list(s, "acme", "user", keep_named, &named, NULL), URBAC_OK);
  for (size_t limit = 1; limit < 9; limit++) { /* the pages, end to end, are the whole list */
    char *paged = paged_users(s, limit, NULL), *found = paged_users(s, limit, "aNn");
    assert_string_equal(paged, whole.text);
    assert_string_equal(found, named.text);
    free(paged);
    free(found);
  }
  assert_non_null(strstr(named.text, "joanna") && strstr(named.text, "u3"));
  /* a bad query names what is wrong; a key it did not make is refused */
  char *next = NULL;
  const struct {
    urbac_page_query q;
    const char *target;
  } wrong[] = {{{"user", "7", NULL, 2}, "after"},
               {{"user", "x.u1", NULL, 2}, "after"},
               {{"user", "7.", NULL, 2}, "after"},
               {{"user", NULL, NULL, 0}, "limit"},
               {{"user", NULL, NULL, URBAC_STORE_PAGE_MAX + 1}, "limit"},
               {{"apiKey", NULL, NULL, 2}, "kind"},
               {{"users", NULL, NULL, 2}, "kind"}};
  urbac_diag *d = urbac_diag_new();
  for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
    urbac_diag_clear(d);
    assert_int_equal(urbac_store_list_page(s, "acme", &wrong[i].q, list_cb, &whole, &next, NULL, d),
                     URBAC_EINVAL);
    assert_string_equal(urbac_diag_get(d, 0)->path, wrong[i].target);
    assert_null(next);
  }
  urbac_page_query q = {"user", NULL, NULL, 2};
  assert_int_equal(urbac_store_list_page(s, "nobody", &q, list_cb, &whole, &next, NULL, NULL),
                   URBAC_ENOTFOUND);
  urbac_diag_free(d);
  free(whole.text);
  free(named.text);
  urbac_store_close(s);
}

/* Walks tenants "inc" and "whole" (both made from `yaml`, %s their id) through
 * `steps` batches from `gen`, the first written by the incremental path, the second
 * judged on the whole tenant: each batch accepted alike or refused alike (the first
 * problem of the same kind), at least `each` of both; then the same objects in the
 * same order, an intact audit chain, and a tenant that loads. */
/* `named_min`: the rows from which the handle remembers what an object names (0:
 * every object it writes, so every later write of it recalls instead of reading). */
static void walk_both_paths(const char *yaml, walk_gen gen, int steps, int each, size_t named_min)
{
  urbac_store *s = fresh();
  s->named_min = named_min;
  char y[512];
  urbac_write w = {"test", "walk", false, 0, NULL, NULL};
  uint64_t rev, count, bad_seq;
  for (int t = 0; t < 2; t++) {
    snprintf(y, sizeof y, yaml, t ? "whole" : "inc");
    tenant base = tenant_load(y);
    assert_int_equal(urbac_store_apply(s, base.m, &w, &rev, NULL), URBAC_OK);
    tenant_free(&base);
  }
  int accepted = 0, refused = 0;
  for (int step = 0; step < steps; step++) {
    urbac_object_put puts[3];
    char bodies[3][WALK_BODY], ids[3][16];
    size_t n = gen(puts, bodies, ids);
    urbac_model *written = NULL;
    urbac_write whole = {"test", "walk", false, 0, &written, NULL};
    urbac_diag *di = urbac_diag_new(), *dw = urbac_diag_new();
    urbac_err ei = urbac_store_put_many(s, "inc", puts, n, &w, &rev, di);
    urbac_err ew = urbac_store_put_many(s, "whole", puts, n, &whole, &rev, dw);
    urbac_model_free(written);
    bool same = ei == ew && (ei == URBAC_OK || holds(di, urbac_diag_get(dw, 0)->code, "") ||
                             holds(dw, urbac_diag_get(di, 0)->code, ""));
    if (!same) {
      print_error("step %d: incremental %s, whole tenant %s\n", step, urbac_err_name(ei), urbac_err_name(ew));
      for (size_t i = 0; i < n; i++)
        print_error("  put %s %s %s\n", puts[i].kind, puts[i].id, puts[i].json ? puts[i].json : "(delete)");
      print_diag("incremental", di);
      print_diag("whole", dw);
      char *before = objects_of(s, "inc");
      print_error("the tenant before:\n%s\n", before);
      free(before);
    }
    assert_true(same);
    ei == URBAC_OK ? accepted++ : refused++;
    urbac_diag_free(di);
    urbac_diag_free(dw);
  }
  assert_true(accepted > each && refused > each);
  char *a = objects_of(s, "inc"), *b = objects_of(s, "whole");
  if (strcmp(a, b) != 0) { /* name the first line that differs */
    size_t at = 0, line = 0;
    while (a[at] == b[at])
      line += a[at++] == '\n';
    while (at > 0 && a[at - 1] != '\n')
      at--;
    print_error("line %zu differs:\n  incremental: %.200s\n  whole:       %.200s\n", line + 1, a + at,
                b + at);
  }
  assert_string_equal(a, b); /* the same objects, each kind in the same order */
  free(a);
  free(b);
  assert_int_equal(urbac_store_audit_verify(s, "inc", &count, &bad_seq, NULL), URBAC_OK);
  urbac_model *m = NULL;
  assert_int_equal(urbac_store_load(s, "inc", &m, &rev, NULL), URBAC_OK);
  urbac_model_free(m);
  urbac_store_close(s);
}

static void test_random_walk_both_paths(void **state)
{
  (void)state;
  walk_both_paths("urbac: 1\ntenant: %s\nusers: [{id: u1}, {id: u2}]\ngroups: [{id: g1, members: [u1]}]\n"
                  "deviceGroups: [{id: d1, rank: 1}]\n",
                  random_puts, pg_url ? 300 : 600, 50, URBAC__NAMED_MIN);
}

/* A richer random walk: names by externalId (GUID-shaped, in any case, or not),
 * pending GUIDs, a user's name that is a group's id, group: forms, nested groups,
 * assignment names given twice, device groups and ranks, legacy roles and role
 * groups; several puts to a batch, deletes among them. URBAC_TEST_SEED picks
 * another stream. */
static void random_case(char *s)
{
  for (; *s; s++)
    if (isalpha((unsigned char)*s) && rnd(2))
      *s = (char)(isupper((unsigned char)*s) ? tolower((unsigned char)*s) : toupper((unsigned char)*s));
}

/* A name of a user (`group` 0) or group (1) as a member or principal would give it, into `out`. */
static void rich_name(char *out, size_t cap, int group)
{
  char guid[64];
  uint32_t w = rnd(10);
  snprintf(guid, sizeof guid, "%s%u-0000-0000-0000-0000000000%s", group ? "bbbbbbb" : "aaaaaaa", rnd(3),
           group ? "bb" : "aa");
  random_case(guid);
  if (w < 4)
    snprintf(out, cap, "%s%c%u", group ? "group:" : "", group ? 'g' : 'u', rnd(5));
  else if (w < 7)
    snprintf(out, cap, "%s%s", group ? "group:" : "", guid);
  else if (w < 9)
    snprintf(out, cap, "%s%cx%u", group ? "group:" : "", group ? 'g' : 'u', rnd(3));
  else
    snprintf(out, cap, "%c%u", group ? 'u' : 'g', rnd(5)); /* the other kind's id */
}

static void rich_xid(char *out, size_t cap, int group)
{
  char x[64];
  out[0] = '\0';
  if (rnd(3) == 0)
    return;
  if (rnd(2))
    snprintf(x, sizeof x, "%s%u-0000-0000-0000-0000000000%s", group ? "bbbbbbb" : "aaaaaaa", rnd(3),
             group ? "bb" : "aa");
  else
    snprintf(x, sizeof x, "%cx%u", group ? 'g' : 'u', rnd(3));
  random_case(x);
  if (x[1] == 'X' || x[1] == 'x') /* not GUID-shaped: exactly as named */
    x[1] = 'x', x[0] = (char)tolower((unsigned char)x[0]);
  if (rnd(4) == 0) /* another's id: names by it pass to this one when that one goes */
    snprintf(x, sizeof x, "%c%u", group ? 'g' : 'u', rnd(5));
  snprintf(out, cap, ", \"externalId\": \"%s\"", x);
}

static size_t rich_puts(urbac_object_put *p, char bodies[][WALK_BODY], char ids[][16])
{
  static const char *const kinds[] = {
      "user",  "group", "group", "deviceGroup", "role", "legacy.mde.role", "legacy.mdo.roleGroup",
      "group", "user"};
  size_t n = 1 + rnd(3);
  for (size_t i = 0; i < n; i++) {
    const char *kind = kinds[rnd(9)];
    char *b = bodies[i], name[96], x[96];
    int len = 0;
    bool again = true;
    while (again) { /* one put per object */
      if (strcmp(kind, "legacy.mdo.roleGroup") == 0)
        snprintf(ids[i], 16, "Quarantine");
      else
        snprintf(ids[i], 16, "%c%u", kind[0] == 'l' ? 't' : kind[0], rnd(kind[0] == 'd' ? 4 : 5));
      again = false;
      for (size_t k = 0; k < i; k++)
        again = again || (!strcmp(p[k].kind, kind) && !strcmp(ids[k], ids[i]));
      if (again)
        kind = kinds[rnd(9)];
    }
    p[i] = (urbac_object_put){kind, ids[i], b};
    if (rnd(5) == 0) {
      p[i].json = NULL;
      continue;
    }
    if (kind[0] == 'u') {
      rich_xid(x, sizeof x, 0);
      len = snprintf(b, 1024, "{\"id\": \"%s\"%s}", ids[i], x);
    } else if (kind[0] == 'g') {
      rich_xid(x, sizeof x, 1);
      len = snprintf(b, 1024, "{\"id\": \"%s\"%s, \"members\": [", ids[i], x);
      for (uint32_t m = 0, nm = rnd(4); m < nm; m++) {
        rich_name(name, sizeof name, rnd(3) == 0);
        len += snprintf(b + len, 1024 - (size_t)len, "%s\"%s\"", m ? ", " : "", name);
      }
      len += snprintf(b + len, 1024 - (size_t)len, "]}");
    } else if (kind[0] == 'd') {
      rich_name(name, sizeof name, 1);
      len = snprintf(b, 1024, "{\"id\": \"%s\", \"rank\": %u%s%s%s}", ids[i], 1 + rnd(5),
                     rnd(2) ? ", \"userAccess\": [\"" : "", "", "");
      if (b[len - 2] == '"') { /* userAccess given: one group name */
        len -= 1;
        len += snprintf(b + len, 1024 - (size_t)len, "%s\"]}", strncmp(name, "group:", 6) ? name : name + 6);
      }
    } else if (kind[0] == 'r') {
      len = snprintf(b, 1024, "{\"name\": \"%s\", \"permissions\": [\"Alerts (manage)\"], \"assignments\": [",
                     ids[i]);
      for (uint32_t a = 0, na = 1 + rnd(2); a < na; a++) {
        char n2[96];
        rich_name(name, sizeof name, 1);
        rich_name(n2, sizeof n2, 0);
        uint32_t dg = rnd(6);
        char dgs[40] = "";
        if (dg < 4)
          snprintf(dgs, sizeof dgs, ", \"deviceGroups\": [\"d%u\"]", dg);
        else if (dg == 4)
          snprintf(dgs, sizeof dgs, ", \"deviceGroups\": [\"ungrouped\"]");
        len +=
            snprintf(b + len, 1024 - (size_t)len,
                     "%s{\"name\": \"%s\", \"principals\": [\"%s\", \"%s\"], \"dataSources\": [\"mde\"]%s}",
                     a ? ", " : "", rnd(3) ? (a ? "b" : "a") : "a", name, n2, dgs);
      }
      len += snprintf(b + len, 1024 - (size_t)len, "]}");
    } else if (strcmp(kind, "legacy.mde.role") == 0) {
      rich_name(name, sizeof name, 1);
      len = snprintf(b, 1024, "{\"name\": \"%s\", \"groups\": [\"%s\"]}", ids[i],
                     strncmp(name, "group:", 6) == 0 ? name + 6 : name);
    } else {
      rich_name(name, sizeof name, rnd(2));
      len = snprintf(b, 1024, "{\"name\": \"%s\", \"members\": [\"%s\"]}", ids[i], name);
    }
    (void)len;
  }
  return n;
}

static void rich_walk(size_t named_min)
{
  const char *env = getenv("URBAC_TEST_SEED");
  seed = env && strtoull(env, NULL, 10) ? 0x9E3779B97F4A7C15ull * strtoull(env, NULL, 10) : 0xC0FFEEull;
  walk_both_paths("urbac: 1\ntenant: %s\nusers: [{id: u0}, {id: u1}]\ngroups: [{id: g0, members: [u0]}]\n"
                  "deviceGroups: [{id: d0, rank: 1}]\n",
                  rich_puts, pg_url ? 300 : 800, 30, named_min);
}

static void test_rich_walk_both_paths(void **state)
{
  (void)state;
  rich_walk(URBAC__NAMED_MIN);
}

/* The same walk with every object's rows remembered by the handle that wrote it:
 * each later write of it takes them from its stored body instead of the index
 * (urbac__named_recall()), and must be judged and written exactly the same. */
static void test_rich_walk_recalled(void **state)
{
  (void)state;
  rich_walk(0);
}

/* ---------------------------------------------------------------- schema 2 -> 3 */

static void test_migrate_from_schema2(void **state)
{
  (void)state;
  urbac_store *s = fresh();
  apply_base(s, "acme");
  urbac_store_close(s);
  /* the store as schema 2 left it: no index, no positions or revisions indexed */
  sql("DROP TABLE refs; DROP INDEX objects_position; DROP INDEX audit_revision; DROP INDEX objects_kind;"
      "DELETE FROM urbac_schema WHERE version >= 3");
  urbac_diag *d = urbac_diag_new();
  urbac_write w = {"test", "after migrate", false, 0, NULL, NULL};
  uint64_t rev;
  int from, to;
  assert_int_equal(urbac_store_open(target(), URBAC_STORE_WRITE, &s, NULL), URBAC_OK);
  assert_int_equal(urbac_store_put(s, "acme", "user", "z", "{\"id\": \"z\"}", &w, &rev, d), URBAC_ESCHEMA);
  assert_non_null(strstr(urbac_diag_get(d, 0)->message, "run 'urbac migrate'"));
  assert_int_equal(urbac_store_migrate(s, &from, &to, NULL), URBAC_OK);
  assert_int_equal(from, 2);
  assert_int_equal(to, urbac_store_schema());
  /* the index was filled: what the base names cannot be deleted, what it does not can */
  urbac_diag_clear(d);
  assert_int_equal(urbac_store_put(s, "acme", "user", "b", NULL, &w, &rev, d), URBAC_EINVAL);
  assert_int_equal(urbac_diag_get(d, 0)->code, URBAC_EDANGLING);
  urbac_diag_clear(d);
  assert_int_equal(urbac_store_put(s, "acme", "deviceGroup", "d1", NULL, &w, &rev, d), URBAC_EINVAL);
  assert_non_null(strstr(urbac_diag_get(d, 0)->message, "names unknown device group 'd1'"));
  assert_int_equal(urbac_store_put(s, "acme", "deviceGroup", "d2", NULL, &w, &rev, NULL), URBAC_OK);
  assert_int_equal(
      urbac_store_put(s, "acme", "group", "g", "{\"id\": \"g\", \"members\": [\"group:k\"]}", &w, &rev, NULL),
      URBAC_OK);
  assert_int_equal(urbac_store_put(s, "acme", "user", "b", NULL, &w, &rev, d),
                   URBAC_EINVAL); /* h still has b */
  /* and a new object goes after the others */
  assert_int_equal(urbac_store_put(s, "acme", "user", "z", "{\"id\": \"z\"}", &w, &rev, NULL), URBAC_OK);
  char *objs = objects_of(s, "acme");
  assert_non_null(strstr(objs, "user\tz\t{\"id\":\"z\"}\n"));
  assert_true(strstr(objs, "user\tz\t") > strstr(objs, "user\tc\t"));
  free(objs);
  urbac_diag_free(d);
  urbac_store_close(s);
}

/* Rows for a tenant that has no row are refused by the foreign key (SQLite at
 * the insert, PostgreSQL with the commit); then rows for the tenant go in. On
 * PostgreSQL that second insert runs the statement prepared in the refused
 * pipeline (it outlives the pipeline and its transaction: preparing it anew, as
 * the store once did, was refused, "already exists"). */
static void missing_tenant_refused(urbac_store *s)
{
  char id[] = "ghost-user", body[] = "{\"id\": \"ghost-user\"}";
  urbac__object o = {"user", id, body, 1 << 30};
  const urbac__object *one[] = {&o};
  urbac_diag *d = urbac_diag_new();
  for (int round = 0; round < 2; round++) {
    assert_int_equal(s->ops->begin(s->db, true, NULL), URBAC_OK);
    urbac_err err = s->ops->objects_put(s->db, "no-such-tenant", one, 1, d);
    if (!err)
      err = s->ops->commit(s->db, d);
    s->ops->rollback(s->db); /* as urbac__store_end_write() does after a refused commit */
    assert_int_equal(err, URBAC_ESTORE);
    assert_true(urbac_diag_count(d) > 0);
    assert_non_null(strstr(urbac_diag_get(d, 0)->message, pg_url ? "foreign key" : "FOREIGN KEY"));
    urbac_diag_clear(d);
    assert_int_equal(s->ops->begin(s->db, true, NULL), URBAC_OK);
    assert_int_equal(s->ops->objects_put(s->db, "bulk", one, 1, d), URBAC_OK);
    assert_int_equal(s->ops->commit(s->db, d), URBAC_OK);
    assert_int_equal(s->ops->begin(s->db, true, NULL),
                     URBAC_OK); /* and out again: the audit log never had it */
    assert_int_equal(s->ops->object_delete(s->db, "bulk", "user", "ghost-user", d), URBAC_OK);
    assert_int_equal(s->ops->commit(s->db, d), URBAC_OK);
  }
  urbac_diag_free(d);
}

/* A whole tenant applied at once, its index rows written in bulk (past SQLite's
 * REFS_BULK the index by target is built after the rows): the index answers as
 * one written row by row would, and the audit check finds it whole. */
static void test_bulk_index(void **state)
{
  (void)state;
  enum { USERS = 25000 };
  urbac_store *s = fresh();
  urbac__buf b = {0};
  urbac__buf_puts(&b, "urbac: 1\ntenant: bulk\nusers:\n");
  for (int i = 0; i < USERS; i++)
    urbac__buf_printf(&b, "  - {id: u%05d}\n", i);
  urbac__buf_puts(&b, "groups:\n  - id: all\n    members: [");
  for (int i = 0; i < USERS - 1; i++) /* the last user is in no group */
    urbac__buf_printf(&b, "%su%05d", i ? ", " : "", i);
  urbac__buf_puts(&b, "]\n  - {id: few, members: [u00001, group:all]}\n");
  assert_false(b.failed);
  tenant t = tenant_load(b.s);
  urbac__buf_free(&b);
  urbac_write w = {"test", "bulk", false, 0, NULL, NULL};
  uint64_t rev, count = 0, bad_seq = 0;
  urbac_diag *d = urbac_diag_new();
  assert_int_equal(urbac_store_apply(s, t.m, &w, &rev, NULL), URBAC_OK);
  tenant_free(&t);
  missing_tenant_refused(s);
  urbac_store_close(s);
  sql("DROP INDEX refs_to"); /* fails unless the bulk write built it again */
  sql("CREATE INDEX refs_to ON refs (to_id, to_kind, tenant)");
  assert_int_equal(urbac_store_open(target(), URBAC_STORE_WRITE, &s, NULL), URBAC_OK);
  /* who names u12345, all, u00001: answered by the index by target */
  assert_int_equal(urbac_store_put(s, "bulk", "user", "u12345", NULL, &w, &rev, d), URBAC_EINVAL);
  assert_int_equal(urbac_diag_get(d, 0)->code, URBAC_EDANGLING);
  assert_non_null(strstr(urbac_diag_get(d, 0)->message, "u12345"));
  urbac_diag_clear(d);
  assert_int_equal(urbac_store_put(s, "bulk", "group", "all", NULL, &w, &rev, d), URBAC_EINVAL);
  assert_non_null(strstr(urbac_diag_get(d, 0)->message, "all"));
  assert_int_equal(urbac_store_put(s, "bulk", "user", "u24999", NULL, &w, &rev, NULL), URBAC_OK);
  assert_int_equal(urbac_store_audit_verify(s, "bulk", &count, &bad_seq, NULL), URBAC_OK);
  /* and a cycle through the bulk rows is found by walking them */
  urbac_diag_clear(d);
  assert_int_equal(urbac_store_put(s, "bulk", "group", "all",
                                   "{\"id\": \"all\", \"members\": [\"group:few\"]}", &w, &rev, d),
                   URBAC_EINVAL);
  assert_int_equal(urbac_diag_get(d, 0)->code, URBAC_ECYCLE);
  urbac_diag_free(d);
  urbac_store_close(s);
}

/* ---------------------------------------------------------------- the change feed */

typedef struct feed_log {
  int n;
  uint64_t first, last;
  char text[8192];
} feed_log;

static int feed_cb(void *ctx, uint64_t revision, const char *kind, const char *id, const char *json)
{
  feed_log *f = ctx;
  if (!f->n++)
    f->first = revision;
  f->last = revision;
  size_t at = strlen(f->text);
  snprintf(f->text + at, sizeof f->text - at, "%llu %s %s %s\n", (unsigned long long)revision, kind, id,
           json ? json : "-");
  return 0;
}

static int stop_cb(void *ctx, uint64_t revision, const char *kind, const char *id, const char *json)
{
  (void)ctx, (void)revision, (void)kind, (void)id, (void)json;
  return 1;
}

static void test_changes(void **state)
{
  (void)state;
  urbac_store *s = fresh();
  apply_base(s, "acme"); /* revision 1 */
  urbac_write w = {"test", "feed", false, 0, NULL, NULL};
  urbac_api_key spec = {.user = "a", .name = "ci", .scope = "all"};
  uint64_t rev, now;
  char *token = NULL;
  urbac_diag *d = urbac_diag_new();
  assert_int_equal(
      urbac_store_put(s, "acme", "user", "z", "{\"id\": \"z\", \"name\": \"Zed\"}", &w, &rev, NULL),
      URBAC_OK);                                                                          /* 2 */
  assert_int_equal(urbac_store_key_create(s, "acme", &spec, &w, &token, NULL), URBAC_OK); /* not a change */
  urbac_object_put two[] = {{"group", "k", "{\"id\": \"k\", \"members\": [\"z\"]}"}, {"user", "c", NULL}};
  assert_int_equal(urbac_store_put_many(s, "acme", two, 2, &w, &rev, NULL), URBAC_OK); /* 3 */
  assert_int_equal(rev, 3);
  feed_log f = {0};
  assert_int_equal(urbac_store_changes(s, "acme", 1, feed_cb, &f, &now, NULL), URBAC_OK);
  assert_int_equal(now, 3);
  assert_string_equal(f.text, "2 user z {\"id\":\"z\",\"name\":\"Zed\"}\n"
                              "3 group k {\"id\":\"k\",\"members\":[\"z\"]}\n"
                              "3 user c -\n");
  /* from the start: every object of the base at revision 1, then the rest */
  memset(&f, 0, sizeof f);
  assert_int_equal(urbac_store_changes(s, "acme", 0, feed_cb, &f, &now, NULL), URBAC_OK);
  assert_int_equal(f.first, 1);
  assert_int_equal(f.last, 3);
  assert_int_equal(f.n, 15 + 3); /* workloads, 4 users, 3 groups, 2 dgs, a device, a role, 3 legacy; 3 more */
  /* up to date: nothing, the revision stays */
  memset(&f, 0, sizeof f);
  assert_int_equal(urbac_store_changes(s, "acme", 3, feed_cb, &f, &now, NULL), URBAC_OK);
  assert_int_equal(f.n, 0);
  assert_int_equal(now, 3);
  /* the caller stops it */
  assert_int_equal(urbac_store_changes(s, "acme", 1, stop_cb, NULL, &now, d), URBAC_EREFUSED);
  assert_int_equal(now, 1);
  /* cannot answer: ahead of the store, no such tenant, records pruned, too far behind */
  urbac_diag_clear(d);
  assert_int_equal(urbac_store_changes(s, "acme", 4, feed_cb, &f, &now, d), URBAC_EBEHIND);
  assert_non_null(strstr(urbac_diag_get(d, 0)->message, "at revision 3, before the 4 asked after"));
  assert_int_equal(urbac_store_changes(s, "nope", 0, feed_cb, &f, &now, NULL), URBAC_ENOTFOUND);
  urbac_store_close(s);
  sql("DELETE FROM audit WHERE revision = 2");
  assert_int_equal(urbac_store_open(target(), URBAC_STORE_READ, &s, NULL), URBAC_OK);
  urbac_diag_clear(d);
  assert_int_equal(urbac_store_changes(s, "acme", 1, feed_cb, &f, &now, d), URBAC_EBEHIND);
  assert_non_null(strstr(urbac_diag_get(d, 0)->message, "no longer holds revisions 2 to 3"));
  memset(&f, 0, sizeof f);
  assert_int_equal(urbac_store_changes(s, "acme", 2, feed_cb, &f, &now, NULL), URBAC_OK);
  assert_int_equal(f.n, 2);
  urbac_store_close(s);
  /* more changes than the feed gives: a reload */
  size_t cap = 64 + (URBAC_STORE_CHANGES_MAX + 1) * 24;
  char *big = malloc(cap);
  size_t len = (size_t)snprintf(big, cap, "urbac: 1\ntenant: big\nusers:\n");
  for (int i = 0; i < URBAC_STORE_CHANGES_MAX; i++) /* with workloads: one more than the limit */
    len += (size_t)snprintf(big + len, cap - len, "  - {id: u%d}\n", i);
  tenant t = tenant_load(big);
  assert_int_equal(urbac_store_open(target(), URBAC_STORE_WRITE, &s, NULL), URBAC_OK);
  assert_int_equal(urbac_store_apply(s, t.m, &w, &rev, NULL), URBAC_OK);
  urbac_diag_clear(d);
  assert_int_equal(urbac_store_changes(s, "big", 0, feed_cb, &f, &now, d), URBAC_EBEHIND);
  assert_non_null(strstr(urbac_diag_get(d, 0)->message, "changed more than 10000 times"));
  assert_int_equal(urbac_store_put(s, "big", "user", "u0", NULL, &w, &rev, NULL), URBAC_OK);
  memset(&f, 0, sizeof f);
  assert_int_equal(urbac_store_changes(s, "big", 1, feed_cb, &f, &now, NULL), URBAC_OK);
  assert_string_equal(f.text, "2 user u0 -\n");
  tenant_free(&t);
  free(big);
  free(token);
  urbac_diag_free(d);
  urbac_store_close(s);
}

/* ---------------------------------------------------------------- group commit */

static size_t lines_of(const char *path)
{
  FILE *f = fopen(path, "r");
  size_t n = 0;
  int c;
  while (f && (c = fgetc(f)) != EOF)
    n += c == '\n';
  if (f)
    fclose(f);
  return n;
}

/* A batch: every write a savepoint of one transaction, a failed one rolled back
 * alone, each with its revision and audit record, invisible to another handle
 * until the batch commits, one witness line for it; a batch rolled back leaves
 * nothing; the chain and the rows check out afterwards. */
static void test_batch(void **state)
{
  (void)state;
  char witness[64];
  snprintf(witness, sizeof witness, "/tmp/urbac-test-batch-witness-%d", (int)getpid());
  remove(witness);
  urbac_store *s = fresh(), *other;
  apply_base(s, "acme"); /* revision 1 */
  urbac_audit_opts audit = {NULL, witness, false};
  assert_int_equal(urbac_store_set_audit(s, &audit, NULL), URBAC_OK);
  assert_int_equal(urbac_store_open(target(), URBAC_STORE_READ, &other, NULL), URBAC_OK);
  urbac_write w = {"test", "batch", false, 0, NULL, NULL}, stale = {"test", "batch", true, 1, NULL, NULL};
  urbac_diag *d = urbac_diag_new();
  uint64_t rev = 0, now = 0;
  char *json = NULL;

  assert_int_equal(urbac_store_batch_end(s, true, d), URBAC_EINVAL); /* none open */
  assert_int_equal(urbac_store_batch_begin(s, NULL), URBAC_OK);
  assert_int_equal(urbac_store_batch_begin(s, d), URBAC_EINVAL); /* no nesting */
  assert_int_equal(urbac_store_put(s, "acme", "user", "z1", "{\"id\": \"z1\"}", &w, &rev, NULL), URBAC_OK);
  assert_int_equal(rev, 2);
  /* refused alone: a dangling member, then a write based on a revision gone by */
  urbac_diag_clear(d);
  assert_int_not_equal(
      urbac_store_put(s, "acme", "group", "k", "{\"id\": \"k\", \"members\": [\"nobody\"]}", &w, &rev, d),
      URBAC_OK);
  assert_true(holds(d, URBAC_EDANGLING, "names unknown user 'nobody'"));
  assert_int_equal(urbac_store_put(s, "acme", "user", "z9", "{\"id\": \"z9\"}", &stale, &rev, NULL),
                   URBAC_ECONFLICT);
  urbac_object_put two[] = {{"group", "k", "{\"id\": \"k\", \"members\": [\"z1\", \"z2\"]}"},
                            {"user", "z2", "{\"id\": \"z2\"}"}};
  assert_int_equal(urbac_store_put_many(s, "acme", two, 2, &w, &rev, NULL), URBAC_OK);
  assert_int_equal(rev, 3);
  /* the batch reads its own writes; another handle sees none of them yet */
  assert_int_equal(urbac_store_get(s, "acme", "user", "z2", &json, &now, NULL), URBAC_OK);
  assert_int_equal(now, 3);
  urbac_free(json);
  assert_int_equal(urbac_store_revision(other, "acme", &now, NULL), URBAC_OK);
  assert_int_equal(now, 1);
  assert_int_equal(urbac_store_get(other, "acme", "user", "z1", &json, NULL, NULL), URBAC_ENOTFOUND);
  assert_int_equal(lines_of(witness), 0); /* nothing committed yet */
  /* what the batch wrote, from its journal (the refused writes not in it), held
   * against the change feed read back from the store once it commits, below */
  feed_log j = {0};
  assert_int_equal(urbac_store_batch_changes(s, "acme", 0, feed_cb, &j, &now), URBAC_ENOTFOUND);
  assert_int_equal(urbac_store_batch_changes(s, "acme", 2, feed_cb, &j, &now), URBAC_ENOTFOUND);
  assert_int_equal(urbac_store_batch_changes(s, "other", 1, feed_cb, &j, &now), URBAC_ENOTFOUND);
  assert_int_equal(urbac_store_batch_changes(s, "acme", 1, feed_cb, &j, &now), URBAC_OK);
  assert_int_equal(now, 3);
  assert_int_equal(urbac_store_batch_end(s, true, NULL), URBAC_OK);
  assert_int_equal(lines_of(witness), 1); /* one head for the batch */
  assert_int_equal(urbac_store_batch_changes(s, "acme", 1, feed_cb, &j, &now), URBAC_ENOTFOUND); /* ended */

  assert_int_equal(urbac_store_revision(other, "acme", &now, NULL), URBAC_OK);
  assert_int_equal(now, 3);
  feed_log f = {0};
  assert_int_equal(urbac_store_changes(other, "acme", 1, feed_cb, &f, &now, NULL), URBAC_OK);
  assert_string_equal(f.text, "2 user z1 {\"id\":\"z1\"}\n"
                              "3 group k {\"id\":\"k\",\"members\":[\"z1\",\"z2\"]}\n"
                              "3 user z2 {\"id\":\"z2\"}\n");
  assert_string_equal(j.text, f.text);

  /* rolled back: nothing of it holds, nothing witnessed */
  assert_int_equal(urbac_store_batch_begin(s, NULL), URBAC_OK);
  assert_int_equal(urbac_store_put(s, "acme", "user", "z3", "{\"id\": \"z3\"}", &w, &rev, NULL), URBAC_OK);
  assert_int_equal(rev, 4);
  assert_int_equal(urbac_store_batch_end(s, false, NULL), URBAC_OK);
  assert_int_equal(urbac_store_get(s, "acme", "user", "z3", &json, &now, NULL), URBAC_ENOTFOUND);
  assert_int_equal(urbac_store_revision(s, "acme", &now, NULL), URBAC_OK);
  assert_int_equal(now, 3);
  assert_int_equal(lines_of(witness), 1);

  /* outside a batch, writes are their own transactions again */
  assert_int_equal(urbac_store_put(s, "acme", "user", "z4", "{\"id\": \"z4\"}", &w, &rev, NULL), URBAC_OK);
  assert_int_equal(rev, 4);
  assert_int_equal(urbac_store_revision(other, "acme", &now, NULL), URBAC_OK);
  assert_int_equal(now, 4);
  assert_int_equal(lines_of(witness), 2);
  assert_int_equal(urbac_store_batch_changes(s, "acme", 3, feed_cb, &j, &now), URBAC_ENOTFOUND);

  /* another handle wrote first: this batch's journal does not follow revision 4 */
  urbac_store *second = NULL;
  assert_int_equal(urbac_store_open(target(), URBAC_STORE_WRITE, &second, NULL), URBAC_OK);
  assert_int_equal(urbac_store_put(second, "acme", "user", "z5", "{\"id\": \"z5\"}", &w, &rev, NULL),
                   URBAC_OK);
  urbac_store_close(second);
  assert_int_equal(urbac_store_batch_begin(s, NULL), URBAC_OK);
  assert_int_equal(urbac_store_put(s, "acme", "user", "z6", "{\"id\": \"z6\"}", &w, &rev, NULL), URBAC_OK);
  assert_int_equal(rev, 6);
  assert_int_equal(urbac_store_batch_changes(s, "acme", 4, feed_cb, &j, &now), URBAC_ENOTFOUND);
  feed_log k = {0};
  assert_int_equal(urbac_store_batch_changes(s, "acme", 5, feed_cb, &k, &now), URBAC_OK);
  assert_string_equal(k.text, "6 user z6 {\"id\":\"z6\"}\n");
  assert_int_equal(urbac_store_batch_end(s, true, NULL), URBAC_OK);
  assert_int_equal(lines_of(witness), 3);

  /* a write to another tenant rolled back first leaves the journal to the one written */
  apply_base(s, "beta");
  assert_int_equal(urbac_store_batch_begin(s, NULL), URBAC_OK);
  assert_int_not_equal(
      urbac_store_put(s, "beta", "group", "k", "{\"id\": \"k\", \"members\": [\"nobody\"]}", &w, &rev, NULL),
      URBAC_OK);
  assert_int_equal(urbac_store_put(s, "acme", "user", "z7", "{\"id\": \"z7\"}", &w, &rev, NULL), URBAC_OK);
  feed_log l = {0};
  assert_int_equal(urbac_store_batch_changes(s, "beta", 1, feed_cb, &l, &now), URBAC_ENOTFOUND);
  assert_int_equal(urbac_store_batch_changes(s, "acme", 6, feed_cb, &l, &now), URBAC_OK);
  assert_string_equal(l.text, "7 user z7 {\"id\":\"z7\"}\n");
  assert_int_equal(urbac_store_batch_end(s, true, NULL), URBAC_OK);
  urbac_audit_report r;
  urbac_diag_clear(d);
  assert_int_equal(urbac_store_audit_check(other, "acme", &r, d), URBAC_OK);
  assert_int_equal(r.witnessed, 0); /* `other` has no witness set: the chain and the rows only */
  urbac_diag_free(d);
  urbac_store_close(other);
  urbac_store_close(s);
  remove(witness);
}

/* The exchanges with the store (PostgreSQL: what libpq pipelines as one round trip
 * counts once) that `n` puts of a new user take, one by one or in one batch. */
static uint64_t trips_of_puts(urbac_store *s, const char *prefix, int n, bool batch)
{
  urbac_write w = {"test", "trips", false, 0, NULL, NULL};
  uint64_t rev = 0, before = urbac__store_round_trips(s);
  char id[64], body[128];
  if (batch)
    assert_int_equal(urbac_store_batch_begin(s, NULL), URBAC_OK);
  for (int i = 0; i < n; i++) {
    snprintf(id, sizeof id, "%s%d", prefix, i);
    snprintf(body, sizeof body, "{\"id\": \"%s\"}", id);
    assert_int_equal(urbac_store_put(s, "acme", "user", id, body, &w, &rev, NULL), URBAC_OK);
  }
  if (batch)
    assert_int_equal(urbac_store_batch_end(s, true, NULL), URBAC_OK);
  return urbac__store_round_trips(s) - before;
}

/* PostgreSQL: a write sends what it does not wait for (BEGIN, the writers' lock,
 * its savepoint, its rows, the audit record, the revision, the notify) with the
 * next statement it waits for, so a put of a user is a handful of round trips, not
 * one per statement; and a write of a batch refused before it read anything rolls
 * back to a savepoint the server never saw, without losing the batch. */
static void test_round_trips(void **state)
{
  (void)state;
  if (!pg_url)
    skip();
  urbac_store *s = fresh();
  apply_base(s, "acme");
  urbac_write w = {"test", "trips", false, 0, NULL, NULL};
  uint64_t rev = 0, now = 0;
  char *json = NULL;
  trips_of_puts(s, "warm", 1, false); /* statements prepared once per connection */
  uint64_t one = trips_of_puts(s, "one", 1, false), many = trips_of_puts(s, "batch", 10, true);
  print_message("round trips: one put %llu, a batch of 10 puts %llu\n", (unsigned long long)one,
                (unsigned long long)many);
  assert_true(one <= 6);       /* statement by statement: 10 */
  assert_true(many <= 2 + 40); /* statement by statement: 86 */

  assert_int_equal(urbac_store_revision(s, "acme", &rev, NULL), URBAC_OK);
  assert_int_equal(urbac_store_batch_begin(s, NULL), URBAC_OK);
  urbac_diag *d = urbac_diag_new();
  assert_int_not_equal(urbac_store_put(s, "acme", "user", "bad", "{\"id\": ", &w, &now, d), URBAC_OK);
  assert_true(urbac_diag_count(d) > 0);
  assert_int_equal(urbac_store_put(s, "acme", "user", "after", "{\"id\": \"after\"}", &w, &now, NULL),
                   URBAC_OK);
  assert_int_equal(now, rev + 1);
  assert_int_equal(urbac_store_batch_end(s, true, NULL), URBAC_OK);
  assert_int_equal(urbac_store_get(s, "acme", "user", "after", &json, &now, NULL), URBAC_OK);
  assert_int_equal(now, rev + 1);
  urbac_free(json);
  assert_int_equal(urbac_store_get(s, "acme", "user", "bad", &json, &now, NULL), URBAC_ENOTFOUND);
  urbac_diag_free(d);
  urbac_store_close(s);
}

/* One rename or cascade delete on tenant `t`, by the incremental path or (`whole`)
 * the whole-tenant one; the changes it made, as the feed gives them. */
static urbac_err recast(urbac_store *s, const char *t, bool whole, const char *kind, const char *old_id,
                        const char *new_id, feed_log *f)
{
  urbac_model *written = NULL;
  urbac_write w = {"test", "recast", false, 0, whole ? &written : NULL, NULL};
  uint64_t before, rev;
  assert_int_equal(urbac_store_revision(s, t, &before, NULL), URBAC_OK);
  urbac_diag *d = urbac_diag_new();
  urbac_err err = new_id ? urbac_store_rename(s, t, kind, old_id, new_id, &w, &rev, d)
                         : urbac_store_delete_cascade(s, t, kind, old_id, &w, &rev, d);
  if (err && err != URBAC_EDUPLICATE && err != URBAC_ENOTFOUND)
    print_diag(t, d);
  urbac_diag_free(d);
  urbac_model_free(written);
  memset(f, 0, sizeof *f);
  if (!err) {
    assert_int_equal(rev, before + 1); /* one write */
    assert_int_equal(urbac_store_changes(s, t, before, feed_cb, f, &rev, NULL), URBAC_OK);
  }
  return err;
}

/* Renames and deletes with every name, both paths: the same objects after, one
 * audited change per object, the names by externalId kept by a rename and
 * removed by a delete. */
static void test_rename_and_cascade(void **state)
{
  (void)state;
  urbac_store *s = fresh();
  apply_base(s, "inc");
  apply_base(s, "whole");
  feed_log f;
  for (int whole = 0; whole < 2; whole++) {
    const char *t = whole ? "whole" : "inc";
    assert_int_equal(recast(s, t, whole, "user", "a", "a2", &f), URBAC_OK);
    assert_int_equal(f.n, 6); /* a, a2, group g, role r, Quarantine, MDI viewer */
    assert_non_null(strstr(f.text, "group g {\"id\":\"g\",\"members\":[\"a2\",\"group:h\"]}"));
    assert_non_null(strstr(f.text, "\"principals\":[\"group:g\",\"a2\"]"));
    assert_non_null(strstr(f.text, " user a -\n"));
    assert_int_equal(recast(s, t, whole, "group", "h", "h2", &f), URBAC_OK);
    assert_int_equal(f.n, 3); /* h, h2, g */
    assert_non_null(strstr(f.text, "\"externalId\":\"1000000h-0000-0000-0000-000000000001\""));
    assert_int_equal(recast(s, t, whole, "user", "b", "c", &f), URBAC_EDUPLICATE);
    assert_int_equal(recast(s, t, whole, "user", "nobody", "x", &f), URBAC_ENOTFOUND);
    assert_int_equal(recast(s, t, whole, "role", "r", "r2", &f), URBAC_EINVAL);
    /* a rename keeps the name k gives e by its externalId; a delete takes it */
    assert_int_equal(recast(s, t, whole, "user", "e", "e2", &f), URBAC_OK);
    assert_int_equal(f.n, 2);
    assert_int_equal(recast(s, t, whole, "user", "e2", NULL, &f), URBAC_OK);
    assert_int_equal(f.n, 2); /* e2, and k without it */
    assert_non_null(strstr(f.text, "group k {\"id\":\"k\",\"members\":[\"c\"]}"));
    assert_int_equal(recast(s, t, whole, "group", "g", NULL, &f), URBAC_OK);
    assert_int_equal(f.n, 3); /* g, d1's userAccess, r's principals */
    assert_non_null(strstr(f.text, "\"principals\":[\"a2\"]"));
    /* the plain delete still refuses while named */
    urbac_write w = {"test", "delete", false, 0, NULL, NULL};
    assert_int_equal(urbac_store_put(s, t, "user", "a2", NULL, &w, NULL, NULL),
                     URBAC_EINVAL); /* EDANGLING said */
    uint64_t count, bad_seq;
    assert_int_equal(urbac_store_audit_verify(s, t, &count, &bad_seq, NULL), URBAC_OK);
  }
  char *a = objects_of(s, "inc"), *b = objects_of(s, "whole");
  assert_string_equal(a, b);
  free(a);
  free(b);
  urbac_model *m = NULL;
  assert_int_equal(urbac_store_load(s, "inc", &m, NULL, NULL), URBAC_OK);
  urbac_model_free(m);
  urbac_store_close(s);
}

/* A name an object lists twice is one index row: a write that drops one of the
 * two keeps the row (the user stays named: its delete is refused). */
static void named_twice(size_t named_min)
{
  urbac_store *s = fresh_based("twice", named_min);
  urbac_write w = {"test", "put", false, 0, NULL, NULL};
  assert_int_equal(urbac_store_put(s, "twice", "group", "g", "{\"id\":\"g\",\"members\":[\"a\",\"a\",\"b\"]}",
                                   &w, NULL, NULL),
                   URBAC_OK);
  assert_int_equal(
      urbac_store_put(s, "twice", "group", "g", "{\"id\":\"g\",\"members\":[\"a\"]}", &w, NULL, NULL),
      URBAC_OK);
  urbac_write del = {"test", "delete", false, 0, NULL, NULL};
  urbac_diag *d = urbac_diag_new();
  /* a is named by g still (and by r, Quarantine, MDI viewer); b by h alone now */
  assert_int_equal(
      urbac_store_put(s, "twice", "group", "g", "{\"id\":\"g\",\"members\":[\"a\"]}", &w, NULL, NULL),
      URBAC_OK);
  assert_int_equal(urbac_store_put(s, "twice", "role", "r", NULL, &del, NULL, NULL), URBAC_OK);
  assert_int_equal(urbac_store_put(s, "twice", "legacy.mdo.roleGroup", "Quarantine", NULL, &del, NULL, NULL),
                   URBAC_OK);
  assert_int_equal(urbac_store_put(s, "twice", "legacy.mdi.role", "MDI viewer", NULL, &del, NULL, NULL),
                   URBAC_OK);
  assert_int_equal(urbac_store_put(s, "twice", "user", "a", NULL, &del, NULL, d), URBAC_EINVAL);
  assert_non_null(strstr(urbac_diag_get(d, 0)->message, "group 'g'"));
  urbac_diag_free(d);
  assert_int_equal(urbac_store_put(s, "twice", "group", "g", "{\"id\":\"g\",\"members\":[]}", &w, NULL, NULL),
                   URBAC_OK);
  assert_int_equal(urbac_store_put(s, "twice", "user", "a", NULL, &del, NULL, NULL), URBAC_OK);
  urbac_store_close(s);
}

static void test_named_twice(void **state)
{
  (void)state;
  named_twice(URBAC__NAMED_MIN);
  named_twice(0); /* g's rows remembered: [a, a, b] is two rows, and a stays when one goes */
}

/* ---------------------------------------------------------------- rows remembered */

/* Users <letter>0 .. <letter>n-1 of tenant `tid`, in one write. */
static void put_users(urbac_store *s, const char *tid, char letter, int n)
{
  urbac_object_put users[128];
  char ids[128][8], bodies[128][24];
  urbac_write w = {"test", "put", false, 0, NULL, NULL};
  assert_true(n <= 128);
  for (int i = 0; i < n; i++) {
    snprintf(ids[i], sizeof ids[i], "%c%d", letter, i);
    snprintf(bodies[i], sizeof bodies[i], "{\"id\":\"%c%d\"}", letter, i);
    users[i] = (urbac_object_put){"user", ids[i], bodies[i]};
  }
  assert_int_equal(urbac_store_put_many(s, tid, users, (size_t)n, &w, NULL, NULL), URBAC_OK);
}

/* A group of `n` members u<first>..., as its body. */
static void big_group(char *b, size_t cap, int first, int n, const char *extra)
{
  size_t len = (size_t)snprintf(b, cap, "{\"id\":\"big\",\"members\":[");
  for (int i = 0; i < n; i++)
    len += (size_t)snprintf(b + len, cap - len, "%s\"u%d\"", i ? "," : "", first + i);
  snprintf(b + len, cap - len, "%s]}", extra);
}

/* The rows the handle recalls for the body the store holds now, or NULL. */
static const urbac__strs *recalled(urbac_store *s)
{
  char *body = NULL;
  assert_int_equal(urbac_store_get(s, "big", "group", "big", &body, NULL, NULL), URBAC_OK);
  const urbac__strs *r = urbac__named_recall(s, "big", "group", "big", body);
  free(body);
  return r;
}

/* A big group's rows, remembered by the handle that wrote it, are recalled only
 * while the store holds the body it wrote: not after another handle wrote the
 * group, nor after a batch that wrote it rolled back; a dangling member is still
 * refused, and the index agrees with every body at the end (audit verify). */
static void test_named_recall(void **state)
{
  (void)state;
  urbac_store *s = fresh(), *s2 = NULL;
  apply_base(s, "big");
  urbac_write w = {"test", "put", false, 0, NULL, NULL};
  char b[4096];
  put_users(s, "big", 'u', 120);
  big_group(b, sizeof b, 0, URBAC__NAMED_MIN - 1, "");
  assert_int_equal(urbac_store_put(s, "big", "group", "big", b, &w, NULL, NULL), URBAC_OK);
  assert_null(recalled(s)); /* too few to remember */
  big_group(b, sizeof b, 0, 80, "");
  assert_int_equal(urbac_store_put(s, "big", "group", "big", b, &w, NULL, NULL), URBAC_OK);
  const urbac__strs *r = recalled(s);
  assert_non_null(r);
  assert_int_equal(r->n, 2 * 80);
  assert_string_equal(r->v[0], "user");
  assert_string_equal(r->v[1], "u0");
  big_group(b, sizeof b, 1, 80, ",\"u1\""); /* u0 out, u80 in, u1 twice: one row */
  assert_int_equal(urbac_store_put(s, "big", "group", "big", b, &w, NULL, NULL), URBAC_OK);
  assert_int_equal(recalled(s)->n, 2 * 80);
  urbac_diag *d = urbac_diag_new(); /* a member that is no one: refused, as without the rows remembered */
  big_group(b, sizeof b, 1, 80, ",\"nobody\"");
  assert_int_equal(urbac_store_put(s, "big", "group", "big", b, &w, NULL, d), URBAC_EINVAL);
  assert_int_equal(urbac_diag_get(d, 0)->code, URBAC_EDANGLING);
  urbac_diag_free(d);
  assert_int_equal(urbac_store_put(s, "big", "user", "u0", NULL, &w, NULL, NULL),
                   URBAC_OK); /* not named now */
  d = urbac_diag_new();
  assert_int_equal(urbac_store_put(s, "big", "user", "u80", NULL, &w, NULL, d), URBAC_EINVAL); /* named */
  urbac_diag_free(d);

  /* another handle writes the group: the first one's memory is of another body */
  assert_int_equal(urbac_store_open(target(), URBAC_STORE_WRITE, &s2, NULL), URBAC_OK);
  big_group(b, sizeof b, 20, 100, "");
  assert_int_equal(urbac_store_put(s2, "big", "group", "big", b, &w, NULL, NULL), URBAC_OK);
  urbac_store_close(s2);
  assert_null(recalled(s));
  big_group(b, sizeof b, 19, 100, ""); /* u119 out, u19 in: the index's rows read, as they are now */
  assert_int_equal(urbac_store_put(s, "big", "group", "big", b, &w, NULL, NULL), URBAC_OK);
  assert_non_null(recalled(s));

  /* a batch that wrote the group and rolled back: the body remembered is not the store's */
  assert_int_equal(urbac_store_batch_begin(s, NULL), URBAC_OK);
  big_group(b, sizeof b, 1, 70, "");
  assert_int_equal(urbac_store_put(s, "big", "group", "big", b, &w, NULL, NULL), URBAC_OK);
  assert_int_equal(urbac_store_batch_end(s, false, NULL), URBAC_OK);
  assert_null(recalled(s));
  big_group(b, sizeof b, 18, 100, "");
  assert_int_equal(urbac_store_put(s, "big", "group", "big", b, &w, NULL, NULL), URBAC_OK);

  /* deleted: forgotten (made again with the same body, its rows are read again) */
  char *was = NULL;
  assert_int_equal(urbac_store_get(s, "big", "group", "big", &was, NULL, NULL), URBAC_OK);
  assert_non_null(urbac__named_recall(s, "big", "group", "big", was));
  assert_int_equal(urbac_store_put(s, "big", "group", "big", NULL, &w, NULL, NULL), URBAC_OK);
  assert_null(urbac__named_recall(s, "big", "group", "big", was));
  assert_int_equal(urbac_store_put(s, "big", "group", "big", was, &w, NULL, NULL), URBAC_OK);
  assert_non_null(recalled(s));
  free(was);

  uint64_t count = 0, bad_seq = 0;
  assert_int_equal(urbac_store_audit_verify(s, "big", &count, &bad_seq, NULL), URBAC_OK);
  urbac_store_close(s);
}

/* A 40-member group written again and again through one handle, its members
 * swapped, exchanged, named twice, then changed at many places: after each write
 * the index rows from it are what its stored body names (urbac__refs_agree(),
 * which parses the body), whether the rows before came from the index or from
 * the handle's memory (`named_min` 0). The diff of lists that differ at a few
 * places (refs.c, diff_aligned()) and of lists that differ at many. */
static void aligned_walk(size_t named_min)
{
  urbac_store *s = fresh_based("al", named_min);
  urbac_write w = {"test", "put", false, 0, NULL, NULL};
  char b[2048];
  put_users(s, "al", 'm', 48);
  int m[40];
  for (int i = 0; i < 40; i++)
    m[i] = i;
  static const int edits[][4] = {
      /* a place and its member, and a second place and member in the same write (-1: none) */
      {5, 40, -1, 0},   /* swapped */
      {5, 9, 9, 40},    /* exchanged: m9 moves to place 5, m40 to place 9 (both named still) */
      {3, 4, 4, 3},     /* two members exchange places: nothing added, nothing removed */
      {7, 0, -1, 0},    /* m0 named twice: one row, m7 gone */
      {7, 7, -1, 0},    /* back */
      {20, 41, 21, 41}, /* m41 named at two new places: one row */
  };
  size_t nedits = sizeof edits / sizeof edits[0];
  for (size_t e = 0; e < nedits + 1; e++) {
    if (e < nedits) {
      m[edits[e][0]] = edits[e][1];
      if (edits[e][2] >= 0)
        m[edits[e][2]] = edits[e][3];
    } else { /* at many places at once: the maps' diff */
      for (int i = 0; i < 40; i += 4)
        m[i] = 42 + i % 5;
    }
    size_t len = (size_t)snprintf(b, sizeof b, "{\"id\":\"g40\",\"members\":[");
    for (int i = 0; i < 40; i++)
      len += (size_t)snprintf(b + len, sizeof b - len, "%s\"m%d\"", i ? "," : "", m[i] < 48 ? m[i] : 47);
    snprintf(b + len, sizeof b - len, "]}");
    assert_int_equal(urbac_store_put(s, "al", "group", "g40", b, &w, NULL, NULL), URBAC_OK);
    char *stored = NULL;
    bool agree = false;
    assert_int_equal(urbac_store_get(s, "al", "group", "g40", &stored, NULL, NULL), URBAC_OK);
    assert_int_equal(urbac__refs_agree(s, "al", "group", "g40", stored, &agree, NULL), URBAC_OK);
    if (!agree)
      print_error("after edit %zu the index disagrees with %s\n", e, stored);
    assert_true(agree);
    free(stored);
  }
  urbac_store_close(s);
}

static void test_aligned_diff(void **state)
{
  (void)state;
  aligned_walk(URBAC__NAMED_MIN);
  aligned_walk(0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_error_both_paths),
      cmocka_unit_test(test_staged_errors_both_paths),
      cmocka_unit_test(test_valid_batches),
      cmocka_unit_test(test_random_walk_both_paths),
      cmocka_unit_test(test_rich_walk_both_paths),
      cmocka_unit_test(test_rich_walk_recalled),
      cmocka_unit_test(test_migrate_from_schema2),
      cmocka_unit_test(test_bulk_index),
      cmocka_unit_test(test_changes),
      cmocka_unit_test(test_batch),
      cmocka_unit_test(test_rename_and_cascade),
      cmocka_unit_test(test_list_page),
      cmocka_unit_test(test_round_trips),
      cmocka_unit_test(test_named_twice),
      cmocka_unit_test(test_named_recall),
      cmocka_unit_test(test_aligned_diff),
  };
  return cmocka_run_group_tests_name(getenv("URBAC_TEST_PG_URL") ? "store writes (PostgreSQL)"
                                                                 : "store writes (SQLite)",
                                     tests, setup, teardown);
}
