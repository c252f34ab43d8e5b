/*
 * tests/unit/test_load.c - tenant files: every validation error, with its
 * location; all-or-nothing loading; YAML and JSON; load -> save -> load.
 */
#include "helpers.h"
#include "io/objects.h"

#define HEAD "urbac: 1\ntenant: t\n"

static void test_minimal_and_json(void **state)
{
  (void)state;
  tenant t = tenant_load(HEAD);
  assert_string_equal(urbac_model_tenant(t.m), "t");
  /* the reserved device group always exists */
  assert_int_equal(urbac_model_count(t.m, URBAC_OBJ_DEVICE_GROUP), 1);
  assert_string_equal(urbac_model_id(t.m, URBAC_OBJ_DEVICE_GROUP, 0), "ungrouped");
  tenant_free(&t);
  t = tenant_load("{\"urbac\": 1, \"tenant\": \"j\", \"users\": [{\"id\": \"a\", \"enabled\": false}],"
                  " \"workloads\": {\"mde\": \"unified\"}}");
  assert_int_equal(urbac_model_mode(t.m, 0), URBAC_MODE_UNIFIED);
  assert_int_equal(urbac_model_mode(t.m, 1), URBAC_MODE_LEGACY);
  tenant_free(&t);
}

static void test_syntax_and_shape(void **state)
{
  (void)state;
  ASSERT_LOAD_ERROR("urbac: 1\ntenant: [x\n", "ESYNTAX@");
  ASSERT_LOAD_ERROR("", "ESYNTAX@1:1 the file is empty");
  ASSERT_LOAD_ERROR("- 1\n- 2\n", "ETYPE@1:1 the tenant file must be a mapping");
  ASSERT_LOAD_ERROR(HEAD "---\nurbac: 1\n", "only one document");
  ASSERT_LOAD_ERROR(HEAD "users: &a [{id: x}]\ngroups: *a\n", "anchors and aliases are not supported");
  ASSERT_LOAD_ERROR("tenant: t\n", "EMISSING@1:1 the tenant file has no 'urbac' (required)");
  ASSERT_LOAD_ERROR("urbac: 2\ntenant: t\n", "EVERSION@1:8 format version 2 is not supported");
  ASSERT_LOAD_ERROR("urbac: one\ntenant: t\n", "ETYPE@1:8 expected a whole number");
  ASSERT_LOAD_ERROR(HEAD "usres: []\n",
                    "EUNKNOWNKEY@3:1 unknown key 'usres' in the tenant file; did you mean 'users'?");
  ASSERT_LOAD_ERROR(HEAD "users:\n  - id: a\n    enabeld: true\n",
                    "EUNKNOWNKEY@5:5 unknown key 'enabeld' in a user; did you mean 'enabled'? [users[0]]");
  ASSERT_LOAD_ERROR(HEAD "tenant: u\n", "EDUPLICATE@3:1 key 'tenant' appears twice");
  ASSERT_LOAD_ERROR(HEAD "users: {id: a}\n", "ETYPE@3:8 a user must be a list");
  ASSERT_LOAD_ERROR(HEAD "users:\n  - id: a\n    enabled: \"true\"\n", "ETYPE@5:14 expected true or false");
  ASSERT_LOAD_ERROR(HEAD "users:\n  - id: [a]\n", "ETYPE@4:9 a user id must be a string");
  ASSERT_LOAD_ERROR(HEAD "users:\n  - name: a\n", "EMISSING@4:5 a user has no 'id' (required)");
  ASSERT_LOAD_ERROR(HEAD "users: [{id: \"a\\tb\"}]\n", "EVALUE@3:14 a user id contains a control character");
  /* what a stored tenant's JSON could not carry back as it is (libyaml refuses
   * DEL and U+FEFF, reads U+2028 as a line break) */
  ASSERT_LOAD_ERROR(HEAD "users: [{id: a, name: \"A \\x7f B\"}]\n",
                    "EVALUE@3:23 a name contains a character a tenant file cannot carry as it is");
  ASSERT_LOAD_ERROR(HEAD "users: [{id: a, name: \"A \\u2028 B\"}]\n",
                    "EVALUE@3:23 a name contains a character a tenant file cannot carry as it is");
  ASSERT_LOAD_ERROR(HEAD "users: [{id: \"a\\x85b\"}]\n",
                    "EVALUE@3:14 a user id contains a character a tenant file cannot carry as it is");
  ASSERT_LOAD_ERROR(HEAD "workloads: {mdx: unified}\n", "EWORKLOAD@3:13 unknown workload 'mdx'");
  ASSERT_LOAD_ERROR(HEAD "workloads: {mde: on}\n", "EVALUE@3:18 a workload is unified or legacy");
  /* nesting deeper than the limit */
  char deep[1024] = HEAD "users: ";
  for (int i = 0; i < 80; i++)
    strcat(deep, "[");
  ASSERT_LOAD_ERROR(deep, "ELIMIT@");
}

static void test_references(void **state)
{
  (void)state;
  ASSERT_LOAD_ERROR(HEAD "users: [{id: a}, {id: a}]\n",
                    "EDUPLICATE@3:18 duplicate user id 'a' (first defined at line 3)");
  ASSERT_LOAD_ERROR(HEAD "groups: [{id: g, members: [zz]}]\n",
                    "EDANGLING@3:28 group 'g' names unknown user 'zz'");
  ASSERT_LOAD_ERROR(HEAD "groups: [{id: g, members: [h]}, {id: h}]\n",
                    "(a group of that id exists: write group:h)");
  ASSERT_LOAD_ERROR(HEAD "groups: [{id: g, members: [group:nope]}]\n",
                    "EDANGLING@3:28 group 'g' names unknown group 'nope'");
  ASSERT_LOAD_ERROR(HEAD "deviceGroups: [{id: d, rank: 1, userAccess: [nope]}]\n",
                    "userAccess of device group 'd' names unknown group 'nope'");
  ASSERT_LOAD_ERROR(HEAD "roles:\n  - name: r\n    assignments:\n      - name: a\n        principals: [x]\n  "
                         "      dataSources: [mde]\n        deviceGroups: [dg9]\n",
                    "EDANGLING@9:24 assignment 'a' of role 'r' names unknown device group 'dg9'");
  ASSERT_LOAD_ERROR(HEAD "legacy: {mde: {roles: [{name: r, groups: [g]}]}}\n",
                    "legacy mde role 'r' names unknown group 'g'");
  ASSERT_LOAD_ERROR(HEAD "legacy: {mdo: {roleGroups: [{name: Quarantine, members: [u]}]}}\n",
                    "EOP role group 'Quarantine' names unknown user 'u'");
  ASSERT_LOAD_ERROR(HEAD "roles: [{name: r}, {name: r}]\n", "EDUPLICATE@3:20 duplicate role name 'r'");
  ASSERT_LOAD_ERROR(HEAD "legacy: {mdi: {roles: [{name: MDI user}, {name: mdi-user}]}}\n",
                    "MDI role 'MDI user' is listed twice");
}

static void test_names_and_levels(void **state)
{
  (void)state;
  ASSERT_LOAD_ERROR(HEAD "roles: [{name: r, permissions: [Alertz (manage)]}]\n",
                    "EUNKNOWNPERM@3:33 unknown permission 'Alertz'; did you mean 'Security operations \\ "
                    "Security data \\ Alerts'");
  ASSERT_LOAD_ERROR(HEAD "roles: [{name: r, permissions: [Alerts (read)]}]\n",
                    "ELEVEL@3:33 'Security operations \\ Security data \\ Alerts' has no read level");
  ASSERT_LOAD_ERROR(HEAD "roles: [{name: r, permissions: [microsoft.xdr/nope/*]}]\n",
                    "EUNKNOWNPERM@3:33 wildcard 'microsoft.xdr/nope/*' matches no permission");
  ASSERT_LOAD_ERROR(HEAD "users: [{id: a, directoryRoles: [Global admn]}]\n",
                    "EUNKNOWNROLE@3:34 unknown directory role 'Global admn'; did you mean 'Global admin'");
  ASSERT_LOAD_ERROR(HEAD "legacy: {mde: {roles: [{name: r, permissions: [Live response]}]}}\n",
                    "EUNKNOWNPERM@3:48 unknown Defender for Endpoint permission 'Live response'");
  ASSERT_LOAD_ERROR(
      HEAD "legacy: {mdo: {roleGroups: [{name: Quarantaine}]}}\n",
      "EUNKNOWNROLE@3:36 unknown Defender for Office role group 'Quarantaine'; did you mean 'Quarantine'");
  ASSERT_LOAD_ERROR(HEAD "legacy: {mdi: {roles: [{name: MDI boss}]}}\n",
                    "EUNKNOWNROLE@3:31 unknown Defender for Identity role 'MDI boss'");
  ASSERT_LOAD_ERROR(HEAD "roles: [{name: r, assignments: [{name: a, dataSources: [mde, mdx]}]}]\n",
                    "EWORKLOAD@3:62 unknown workload 'mdx'");
  ASSERT_LOAD_ERROR(HEAD "roles: [{name: r, assignments: [{name: a}]}]\n",
                    "EMISSING@3:33 an assignment has no 'dataSources' (required)");
  ASSERT_LOAD_ERROR(HEAD "roles: [{name: r, assignments: [{name: a, dataSources: []}]}]\n",
                    "EVALUE@3:56 dataSources is empty");
}

static void test_cycles_and_ranks(void **state)
{
  (void)state;
  ASSERT_LOAD_ERROR(HEAD "groups:\n  - {id: a, members: [group:b]}\n  - {id: b, members: [group:c]}\n  - "
                         "{id: c, members: [group:a]}\n",
                    "ECYCLE@6:23 group membership cycle: a -> b -> c -> a");
  ASSERT_LOAD_ERROR(HEAD "groups: [{id: a, members: [group:a]}]\n", "group membership cycle: a -> a");
  ASSERT_LOAD_ERROR(HEAD "deviceGroups: [{id: x, rank: 1}, {id: y, rank: 1}]\n",
                    "ERANK@3:34 device group 'y' has rank 1, already held by 'x'");
  ASSERT_LOAD_ERROR(HEAD "deviceGroups: [{id: x}]\n", "EMISSING@3:16 device group 'x' has no 'rank'");
  ASSERT_LOAD_ERROR(HEAD "deviceGroups: [{id: x, rank: 0}]\n", "EVALUE@3:30 0 is out of range");
  ASSERT_LOAD_ERROR(HEAD "deviceGroups: [{id: ungrouped, rank: 3}]\n", "ERESERVED@3:16 'ungrouped'");
  ASSERT_LOAD_ERROR(HEAD "deviceGroups: [{id: x, rank: 1, rules: {nmae: {equals: [a]}}}]\n",
                    "EUNKNOWNKEY@3:41 unknown rule property 'nmae'");
  ASSERT_LOAD_ERROR(HEAD "deviceGroups: [{id: x, rank: 1, rules: {name: {is: [a]}}}]\n",
                    "unknown operator 'is'");
  /* an operator with no values matches nothing: refused, empty or null (fuzz_tenant: `{equals}`
   * loaded, was saved as `{}`, which does not load) */
  ASSERT_LOAD_ERROR(HEAD "deviceGroups: [{id: x, rank: 1, rules: {tags: {equals: []}}}]\n",
                    "EVALUE@3:56 a rule needs at least one value");
  ASSERT_LOAD_ERROR(HEAD "deviceGroups: [{id: x, rank: 1, rules: {tags: {equals}}}]\n",
                    "EVALUE@3:48 a rule needs at least one value");
  ASSERT_LOAD_ERROR(HEAD "deviceGroups: [{id: x, rank: 1, remediation: most}]\n",
                    "remediation must be none, semi or full");
  /* the ungrouped group may be listed to set its user access */
  tenant t = tenant_load(
      HEAD "groups: [{id: g}]\ndeviceGroups: [{id: ungrouped, userAccess: [g], remediation: semi}]\n");
  assert_int_equal(urbac_model_count(t.m, URBAC_OBJ_DEVICE_GROUP), 1);
  tenant_free(&t);
}

static void test_all_errors_at_once(void **state)
{
  (void)state;
  char *errs = load_errors(HEAD "users: [{id: a, bogus: 1}]\ngroups: [{id: g, members: [nobody]}]\nroles: "
                                "[{name: r, permissions: [Nope]}]\n");
  /* all three problems, in one pass; nothing loaded */
  assert_non_null(strstr(errs, "EUNKNOWNKEY@3:17"));
  assert_non_null(strstr(errs, "EUNKNOWNPERM@5:33"));
  free(errs);
  errs = load_errors(HEAD "users: [{id: a}]\ngroups: [{id: g, members: [nobody, group:nothing]}]\n");
  assert_non_null(strstr(errs, "unknown user 'nobody'"));
  assert_non_null(strstr(errs, "unknown group 'nothing'"));
  free(errs);
}

static const char *rich =
    "urbac: 1\ntenant: rich\nworkloads: {mde: unified, mdo: legacy, mdi: unified}\n"
    "users:\n  - {id: alice, name: Alice Example, directoryRoles: [Security reader]}\n  - {id: bob, enabled: "
    "false}\n"
    "  - {id: \"true\"}\n  - {id: \"123\"}\n"
    "groups:\n  - {id: soc, members: [alice, group:leads], directoryRoles: [Global reader]}\n  - {id: leads, "
    "members: [bob]}\n"
    "deviceGroups:\n  - id: servers\n    name: Production servers\n    rank: 1\n    remediation: full\n"
    "    rules: {name: {startsWith: [srv-], contains: [db]}, tags: {equals: [prod]}, os: {endsWith: "
    "['2022']}}\n"
    "    userAccess: [soc]\n  - {id: ungrouped, userAccess: [leads]}\n"
    "devices:\n  - {id: d1, name: srv-1, domain: corp, os: Windows Server 2022, tags: [prod, eu]}\n"
    "roles:\n  - name: SOC analyst\n    description: \"Triage: and respond\"\n"
    "    permissions: [Alerts (manage), 'Configuration \\ Authorization \\ (All permissions)', "
    "microsoft.xdr/secops/*/read, Security data basics]\n"
    "    assignments:\n      - {name: t1, principals: [group:soc, alice], dataSources: [mde, mdo], "
    "deviceGroups: [servers]}\n"
    "      - {name: t2, principals: [bob], dataSources: all}\n"
    "legacy:\n  mde:\n    roles: [{name: Tier 1, description: d, permissions: [Alerts investigation, View "
    "data - Security operations], groups: [soc]}]\n"
    "  mdo: {roleGroups: [{name: quarantine, members: [group:soc]}]}\n  mdi: {roles: [{name: MDI viewer, "
    "members: [alice]}]}\n";

static char *save(const urbac_model *m, urbac_format f)
{
  char *out = NULL;
  size_t len = 0;
  assert_int_equal(urbac_tenant_save_buffer(m, f, &out, &len, NULL), URBAC_OK);
  assert_int_equal(strlen(out), len);
  return out;
}

static void test_round_trip(void **state)
{
  (void)state;
  for (int f = URBAC_FORMAT_YAML; f <= URBAC_FORMAT_JSON; f++) {
    tenant a = tenant_load(rich);
    char *one = save(a.m, (urbac_format)f);
    tenant b = tenant_load(one);
    char *two = save(b.m, (urbac_format)f);
    /* save(load(save(x))) == save(x): the saved form is a fixed point */
    assert_string_equal(one, two);
    /* and the decisions are the same */
    const char *users[] = {"alice", "bob", "true", "123"};
    for (size_t u = 0; u < 4; u++)
      for (size_t w = 0; w < 3; w++)
        for (size_t p = 0; p < urbac_catalog_perm_count(); p++) {
          char q[256];
          snprintf(q, sizeof q, "%s:%s", urbac_catalog_perm(p)->id,
                   urbac_catalog_perm(p)->levels & URBAC_LEVEL_MANAGE ? "manage" : "read");
          const char *wl = urbac_catalog_workload_id(w);
          assert_int_equal(allowed(&a, users[u], q, wl, ""), allowed(&b, users[u], q, wl, ""));
          assert_int_equal(allowed(&a, users[u], q, wl, "any"), allowed(&b, users[u], q, wl, "any"));
        }
    if (f == URBAC_FORMAT_YAML) {
      assert_non_null(strstr(one, "- Configuration \\ Authorization (All permissions)"));
      assert_non_null(strstr(one, "- Security operations \\ Security data \\ Alerts (manage)"));
      assert_non_null(strstr(one, "id: \"true\""));
    }
    free(one);
    free(two);
    tenant_free(&a);
    tenant_free(&b);
  }
}

/* A tenant as a store keeps it (one canonical JSON body per object) and back. */
static void test_objects_round_trip(void **state)
{
  (void)state;
  tenant a = tenant_load(rich);
  urbac__object *o;
  size_t n;
  assert_int_equal(urbac__model_objects(a.m, &o, &n), URBAC_OK);
  assert_int_equal(n, 1 + 4 + 2 + 2 + 1 + 1 + 1 + 1 +
                          1); /* workloads, users, groups, device groups, devices, ... */
  assert_string_equal(o[1].kind, "user");
  assert_string_equal(o[1].id, "alice");
  assert_non_null(strstr(o[1].body, "\"directoryRoles\":[\"Security reader\"]"));
  urbac_model *b;
  urbac_diag *d = urbac_diag_new();
  assert_int_equal(urbac__model_from_objects("rich", o, n, "store", &b, d), URBAC_OK);
  char *x = save(a.m, URBAC_FORMAT_YAML), *y = save(b, URBAC_FORMAT_YAML);
  assert_string_equal(x, y);
  /* a corrupt row is an error that names its source, and loads nothing */
  free(o[2].body);
  o[2].body = strdup("{\"id\": 5");
  urbac_model *c = NULL;
  assert_int_not_equal(urbac__model_from_objects("rich", o, n, "store:rich", &c, d), URBAC_OK);
  assert_null(c);
  assert_string_equal(urbac_diag_get(d, 0)->file, "store:rich");
  free(x);
  free(y);
  urbac_diag_free(d);
  urbac_model_free(b);
  urbac__objects_free(o, n);
  tenant_free(&a);
}

/* externalId, managedBy, scim: errors located to the key's value; a user or
 * group found by its externalId (a GUID in any case); saved back as read. */
static void test_identity_keys(void **state)
{
  (void)state;
  ASSERT_LOAD_ERROR(HEAD "users:\n  - id: a\n    managedBy: entra\n",
                    "EVALUE@5:16 managedBy is 'entra'; the only value is 'scim' [users[0].managedBy]");
  ASSERT_LOAD_ERROR(HEAD "users:\n  - id: a\n    externalId: [x]\n",
                    "ETYPE@5:17 an externalId must be a string");
  ASSERT_LOAD_ERROR(HEAD "groups:\n  - id: g\n    scim: [1, 2]\n", "ETYPE@5:11 scim must be a mapping");
  ASSERT_LOAD_ERROR(HEAD "users:\n  - id: a\n    scim: {name: {a: 1, a: 2}}\n",
                    "EDUPLICATE@5:25 key 'a' appears twice in scim");
  char big[40000];
  int n = snprintf(big, sizeof big, HEAD "users:\n  - id: a\n    scim: {x: \"");
  memset(big + n, 'y', 17000);
  snprintf(big + n + 17000, sizeof big - (size_t)n - 17000, "\"}\n");
  ASSERT_LOAD_ERROR(big, "ELIMIT@5:11 scim is 17008 bytes as JSON; the limit is 16384");
  memset(big, 0, sizeof big);
  n = snprintf(big, sizeof big, HEAD "users:\n  - id: a\n    externalId: ");
  memset(big + n, 'x', 257);
  ASSERT_LOAD_ERROR(big, "ELIMIT@5:17 an externalId is longer than 256 bytes");
  ASSERT_LOAD_ERROR(HEAD "users:\n  - {id: a, externalId: 0B9F0000-0000-0000-0000-000000000001}\n"
                         "  - {id: b, externalId: 0b9f0000-0000-0000-0000-000000000001}\n",
                    "EDUPLICATE@5:5 duplicate user externalId '0b9f0000-0000-0000-0000-000000000001' (first "
                    "defined at line 4)");
  ASSERT_LOAD_ERROR(HEAD "users: [{id: a, externalId: x1}]\ngroups: [{id: g, members: [X1]}]\n",
                    "EDANGLING@4:28 group 'g' names unknown user 'X1'"); /* not a GUID: exact */
  /* a user and a group may share an externalId; each kind is unique by itself */
  const char *y = HEAD
      "workloads: {mde: unified}\n"
      "users:\n  - id: alice\n    externalId: 0B9F0000-0000-0000-0000-000000000001\n"
      "    managedBy: scim\n    scim: {name: {givenName: Alice}, emails: [{type: work, primary: true, "
      "value: a@c.com}], rank: 3, weight: 1.5, gone: null, s: \"true\"}\n"
      "  - id: bob\ngroups:\n  - id: g\n    externalId: 0b9f0000-0000-0000-0000-000000000001\n"
      "    members: [0b9f0000-0000-0000-0000-000000000001]\n"
      "roles:\n  - name: r\n    permissions: [Alerts (manage)]\n    assignments:\n"
      "      - {name: a, principals: ['group:0B9F0000-0000-0000-0000-000000000001'], dataSources: [mde]}\n";
  for (int f = URBAC_FORMAT_YAML; f <= URBAC_FORMAT_JSON; f++) {
    tenant t = tenant_load(y);
    assert_true(allowed(&t, "alice", "Alerts (manage)", "mde", ""));
    assert_true(allowed(&t, "0b9f0000-0000-0000-0000-000000000001", "Alerts (manage)", "mde", ""));
    assert_true(allowed(&t, "0B9F0000-0000-0000-0000-000000000001", "Alerts (manage)", "mde", ""));
    assert_false(allowed(&t, "bob", "Alerts (manage)", "mde", ""));
    char *one = save(t.m, (urbac_format)f);
    tenant u = tenant_load(one);
    char *two = save(u.m, (urbac_format)f);
    assert_string_equal(one, two);
    if (f == URBAC_FORMAT_YAML) {
      assert_non_null(strstr(one,
                             "  externalId: 0B9F0000-0000-0000-0000-000000000001\n  managedBy: scim\n"
                             "  scim: {emails: [{primary: true, type: work, value: a@c.com}], gone: null, "
                             "name: {givenName: Alice}, rank: 3, s: \"true\", weight: 1.5}\n"));
    } else {
      assert_non_null(
          strstr(one, "\"scim\": {\n        \"emails\": [\n          {\n            \"primary\": true"));
      assert_non_null(strstr(one, "\"rank\": 3,\n        \"s\": \"true\",\n        \"weight\": 1.5"));
    }
    free(one);
    free(two);
    tenant_free(&u);
    tenant_free(&t);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_minimal_and_json), cmocka_unit_test(test_syntax_and_shape),
      cmocka_unit_test(test_references),       cmocka_unit_test(test_names_and_levels),
      cmocka_unit_test(test_cycles_and_ranks), cmocka_unit_test(test_all_errors_at_once),
      cmocka_unit_test(test_round_trip),       cmocka_unit_test(test_objects_round_trip),
      cmocka_unit_test(test_identity_keys),
  };
  return cmocka_run_group_tests_name("tenant files", tests, NULL, NULL);
}
