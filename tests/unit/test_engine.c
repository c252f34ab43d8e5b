/*
 * tests/unit/test_engine.c - decisions by semantics.md, rule by rule: the worked
 * example, device-group matching, nesting, directory roles, disabled and unknown
 * users, every scope form, legacy against unified on each workload, wildcards,
 * explain, effective permissions and who-can; batches and eight threads at once
 * against the naive evaluator (naive.c); each profile interned once, its key
 * its fields and not its padding.
 */
#include <pthread.h>

#include "engine/compiler.h"
#include "engine/engine.h"
#include "helpers.h"
#include "naive.h"
#include "random_tenant.h"
#include "util/util.h"

#define HEAD "urbac: 1\ntenant: t\n"

static bool explain_has(tenant *t, const char *user, const char *perm, const char *wl, const char *scope,
                        const char *needle)
{
  urbac_query q = ask(t, user, perm, wl, scope);
  urbac_explanation *e = NULL;
  bool found = false;
  assert_int_equal(urbac_explain(t->s, &q, &e, NULL), URBAC_OK);
  for (size_t i = 0; i < urbac_explanation_count(e); i++)
    found = found || strstr(urbac_explanation_line(e, i), needle) != NULL;
  if (!found)
    for (size_t i = 0; i < urbac_explanation_count(e); i++)
      print_error("  line: %s\n", urbac_explanation_line(e, i));
  urbac_explanation_free(e);
  return found;
}

static void test_worked_example(void **state)
{
  (void)state;
  char *yaml = slurp(URBAC_EXAMPLES_DIR "/worked.yaml");
  char *queries = slurp(URBAC_EXAMPLES_DIR "/worked-queries.tsv");
  char *answers = slurp(URBAC_EXAMPLES_DIR "/worked-answers.txt");
  tenant t = tenant_load(yaml);
  char *qs = queries, *as = answers;
  size_t n = 0;
  for (char *ql, *al; (ql = strsep(&qs, "\n")) && (al = strsep(&as, "\n")) && *ql; n++) {
    urbac_query q;
    assert_int_equal(urbac_parse_query_line(t.p, ql, strlen(ql), &q, NULL), URBAC_OK);
    bool want = strncmp(al, "allow", 5) == 0;
    if (urbac_check(t.s, &q) != want)
      print_error("line %zu: %s -> expected %s\n", n + 1, ql, al);
    assert_int_equal(urbac_check(t.s, &q), want);
    urbac_explanation *e;
    assert_int_equal(urbac_explain(t.s, &q, &e, NULL), URBAC_OK);
    assert_int_equal(urbac_explanation_allowed(e), want);
    assert_true(urbac_explanation_count(e) > 0);
    urbac_explanation_free(e);
  }
  assert_int_equal(n, 23);
  tenant_free(&t);
  free(yaml);
  free(queries);
  free(answers);
}

static const char *dg_tenant =
    HEAD "workloads: {mde: legacy}\nusers: [{id: u}]\ngroups: [{id: g, members: [u]}]\n"
         "deviceGroups:\n"
         "  - {id: eq, rank: 1, rules: {name: {equals: [EXACT-1]}}}\n"
         "  - {id: sw, rank: 2, rules: {name: {startsWith: [web-]}}}\n"
         "  - {id: ew, rank: 3, rules: {domain: {endsWith: [.lab.example]}}}\n"
         "  - {id: co, rank: 4, rules: {os: {contains: [linux]}}}\n"
         "  - {id: and, rank: 5, rules: {name: {startsWith: [db-]}, tags: {equals: [prod, stage]}}}\n"
         "  - {id: empty, rank: 6}\n"
         "  - {id: first, rank: 8, rules: {tags: {equals: [x]}}}\n"
         "  - {id: second, rank: 7, rules: {tags: {equals: [x]}}}\n"
         "devices:\n"
         "  - {id: d-eq, name: exact-1}\n  - {id: d-eq2, name: exact-12}\n"
         "  - {id: d-sw, name: WEB-01}\n  - {id: d-ew, name: n, domain: host.LAB.example}\n"
         "  - {id: d-co, name: n, os: Ubuntu Linux 22.04}\n"
         "  - {id: d-and, name: db-1, tags: [misc, Stage]}\n  - {id: d-and-no, name: db-2, tags: [misc]}\n"
         "  - {id: d-rank, name: z, tags: [x]}\n  - {id: web-by-id}\n"
         "legacy: {mde: {roles: [{name: r, permissions: [Alerts investigation], groups: [g]}]}}\n";

/* Which device group a device is in, found through explain's access line. */
static void assert_in(tenant *t, const char *device, const char *dg)
{
  char scope[128], needle[128];
  snprintf(scope, sizeof scope, "device:%s", device);
  snprintf(needle, sizeof needle, "(device group %s)", dg);
  urbac_query q = ask(t, "u", "Alerts (manage)", "mde", scope);
  urbac_query q2 = ask(t, "u", "Alerts (manage)", "mde", "");
  char dgscope[128];
  snprintf(dgscope, sizeof dgscope, "devicegroup:%s", dg);
  urbac_query q3 = ask(t, "u", "Alerts (manage)", "mde", dgscope);
  (void)q2;
  assert_int_equal(q.dg, q3.dg);
  assert_true(explain_has(t, "u", "Alerts (manage)", "mde", scope, needle));
}

static void test_device_group_matching(void **state)
{
  (void)state;
  tenant t = tenant_load(dg_tenant);
  assert_in(&t, "d-eq", "eq");         /* equals, ignoring case */
  assert_in(&t, "d-eq2", "ungrouped"); /* equals is not a prefix */
  assert_in(&t, "d-sw", "sw");         /* startsWith */
  assert_in(&t, "d-ew", "ew");         /* endsWith */
  assert_in(&t, "d-co", "co");         /* contains */
  assert_in(&t, "d-and", "and");       /* AND of properties, OR of values, any tag */
  assert_in(&t, "d-and-no", "ungrouped");
  assert_in(&t, "d-rank", "second"); /* the first by rank wins, not by file order */
  assert_in(&t, "web-by-id", "sw");  /* a device without a name is matched by its id */
  tenant_free(&t);
}

static const char *nest_tenant =
    HEAD "workloads: {mde: unified, mdo: unified, mdi: unified}\n"
         "users: [{id: u}, {id: off, enabled: false, directoryRoles: [Global administrator]}, {id: v}]\n"
         "groups:\n  - {id: g0, members: [u]}\n  - {id: g1, members: [group:g0]}\n  - {id: g2, members: "
         "[group:g1]}\n"
         "  - {id: g3, members: [group:g2, off], directoryRoles: [Security reader]}\n  - {id: solo, members: "
         "[v]}\n"
         "deviceGroups: [{id: a, rank: 1, rules: {tags: {equals: [a]}}}, {id: b, rank: 2, rules: {tags: "
         "{equals: [b]}}}]\n"
         "devices: [{id: da, tags: [a]}, {id: db, tags: [b]}, {id: dx}]\n"
         "roles:\n"
         "  - name: Top\n    permissions: [Response]\n"
         "    assignments: [{name: top, principals: [group:g3], dataSources: [mde], deviceGroups: [a]}]\n"
         "  - name: Wild\n    permissions: ['microsoft.xdr/configuration/*']\n"
         "    assignments: [{name: w, principals: [v], dataSources: all}]\n";

static void test_nesting_and_directory_roles(void **state)
{
  (void)state;
  tenant t = tenant_load(nest_tenant);
  /* a role assigned four levels up reaches u */
  ALLOW(&t, "u", "Response", "mde", "devicegroup:a");
  assert_true(
      explain_has(&t, "u", "Response", "mde", "device:da",
                  "u -> group g0 -> group g1 -> group g2 -> group g3 -> assignment \"top\" of role \"Top\""));
  /* directory role through a nested group */
  ALLOW(&t, "u", "Security data basics", "mdo", "");
  assert_true(explain_has(&t, "u", "Security data basics", "mdo", "",
                          "-> group g3 -> directory role Security reader"));
  ALLOW(&t, "u", "Configuration \\ Security settings (read)", "mdi", "");
  DENY(&t, "u", "Configuration \\ Security settings (read)", "mde", "");
  /* disabled: nothing, Global administrator or not */
  DENY(&t, "off", "Security data basics", "mdo", "");
  assert_true(explain_has(&t, "off", "Security data basics", "mdo", "", "is disabled"));
  /* unknown user: denied, and explain says so */
  DENY(&t, "nobody", "Security data basics", "mdo", "");
  assert_true(explain_has(&t, "nobody", "Security data basics", "mdo", "", "not a user of the tenant"));
  /* wildcards and dataSources: all */
  ALLOW(&t, "v", "Configuration \\ Authorization (manage)", "mdo", "");
  ALLOW(&t, "v", "Configuration \\ System settings (read)", "mde", "");
  DENY(&t, "v", "Alerts", "mde", "");
  tenant_free(&t);
}

static void test_scopes(void **state)
{
  (void)state;
  tenant t = tenant_load(nest_tenant);
  /* assignment scoped to device group a */
  ALLOW(&t, "u", "Response", "mde", "device:da");
  DENY(&t, "u", "Response", "mde", "device:db");
  DENY(&t, "u", "Response", "mde", "device:dx"); /* ungrouped */
  ALLOW(&t, "u", "Response", "mde", "devicegroup:a");
  DENY(&t, "u", "Response", "mde", "devicegroup:ungrouped");
  ALLOW(&t, "u", "Response", "mde", "any");
  DENY(&t, "u", "Response", "mde", "all");
  DENY(&t, "u", "Response", "mde", ""); /* no scope on mde means all */
  assert_true(explain_has(&t, "u", "Response", "mde", "", "but only for device groups a"));
  assert_true(explain_has(&t, "u", "Response", "mdo", "", "but not on mdo"));
  /* directory roles satisfy every scope */
  ALLOW(&t, "u", "Vulnerability management", "mde", "device:db");
  ALLOW(&t, "u", "Vulnerability management", "mde", "all");
  /* on other workloads all and any change nothing; a device is an error */
  assert_int_equal(allowed(&t, "u", "Security data basics", "mdo", "any"),
                   allowed(&t, "u", "Security data basics", "mdo", "all"));
  urbac_query q;
  urbac_diag *d = urbac_diag_new();
  const char *bad[][4] = {{"u", "Response", "mdo", "device:da"},
                          {"u", "Response", "mde", "device:nope"},
                          {"u", "Response", "mde", "devicegroup:nope"},
                          {"u", "Response", "mde", "somewhere"},
                          {"u", "Nope", "mde", ""},
                          {"u", "Alerts (read)", "mde", ""},
                          {"u", "Response", "mdz", ""},
                          {"u", "Configuration \\ Authorization", "mde", ""}};
  const urbac_err codes[] = {URBAC_ESCOPE,       URBAC_EUNKNOWNDEVICE, URBAC_EUNKNOWNDG, URBAC_ESCOPE,
                             URBAC_EUNKNOWNPERM, URBAC_ELEVEL,         URBAC_EWORKLOAD,  URBAC_ELEVEL};
  const char *fields[] = {"scope",      "scope",      "scope",    "scope",
                          "permission", "permission", "workload", "permission"};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    urbac_question qn = {urbac_str_of(bad[i][0]), urbac_str_of(bad[i][1]), urbac_str_of(bad[i][2]),
                         urbac_str_of(bad[i][3])};
    urbac_diag_clear(d);
    assert_int_equal(urbac_parse_query(t.p, &qn, &q, NULL), codes[i]); /* no diag: the code alone */
    assert_int_equal(urbac_parse_query(t.p, &qn, &q, d), codes[i]);
    /* one error, its code, the field it is about, a message naming what was wrong */
    assert_int_equal(urbac_diag_count(d), 1);
    assert_int_equal(urbac_diag_get(d, 0)->code, codes[i]);
    assert_string_equal(urbac_diag_get(d, 0)->path, fields[i]);
    assert_true(strlen(diag_msg(d)) > 10);
  }
  urbac_diag_free(d);
  tenant_free(&t);
}

/* One tenant with a legacy and a unified configuration for each workload. */
static const char *modes_fmt =
    HEAD "workloads: {mde: %s, mdo: %s, mdi: %s}\n"
         "users: [{id: u}, {id: reader, directoryRoles: [Security reader]}, {id: admin, directoryRoles: "
         "[Security administrator]}]\n"
         "groups: [{id: g, members: [u]}]\n"
         "roles:\n  - name: Unified\n    permissions: [Email quarantine, Exception handling]\n"
         "    assignments: [{name: a, principals: [group:g], dataSources: all}]\n"
         "legacy:\n  mde: {roles: [{name: r, permissions: [Live response capabilities - advanced], groups: "
         "[g]}]}\n"
         "  mdo: {roleGroups: [{name: Search and Purge, members: [u]}]}\n"
         "  mdi: {roles: [{name: MDI viewer, members: [group:g]}]}\n";

static tenant modes(const char *mde, const char *mdo, const char *mdi)
{
  char yaml[4096];
  snprintf(yaml, sizeof yaml, modes_fmt, mde, mdo, mdi);
  return tenant_load(yaml);
}

static void test_legacy_against_unified(void **state)
{
  (void)state;
  tenant l = modes("legacy", "legacy", "legacy"), u = modes("unified", "unified", "unified");
  /* mde: the legacy role counts in legacy mode only; the unified role in unified mode only */
  ALLOW(&l, "u", "Advanced live response", "mde", "");
  DENY(&u, "u", "Advanced live response", "mde", "");
  DENY(&l, "u", "Exception handling", "mde", "");
  ALLOW(&u, "u", "Exception handling", "mde", "");
  /* mde: Security reader counts only once mde is unified (the seed's note) */
  DENY(&l, "reader", "Vulnerability management", "mde", "");
  ALLOW(&u, "reader", "Vulnerability management", "mde", "");
  assert_true(
      explain_has(&l, "reader", "Vulnerability management", "mde", "", "no Defender for Endpoint role"));
  /* ...while Security administrator counts in legacy mde too */
  ALLOW(&l, "admin", "Remediation handling", "mde", "any");
  ALLOW(&u, "admin", "Remediation handling", "mde", "");
  /* mdo: EOP role groups, then unified roles */
  ALLOW(&l, "u", "Email advanced actions", "mdo", "");
  DENY(&u, "u", "Email advanced actions", "mdo", "");
  DENY(&l, "u", "Email quarantine", "mdo", "");
  ALLOW(&u, "u", "Email quarantine", "mdo", "");
  ALLOW(&l, "reader", "Response", "mdo", ""); /* directory roles count in legacy mdo */
  /* mdi: MDI roles, then unified roles */
  ALLOW(&l, "u", "Configuration \\ System settings (read)", "mdi", "");
  DENY(&u, "u", "Configuration \\ System settings (read)", "mdi", "");
  tenant_free(&l);
  tenant_free(&u);
  /* one workload activated leaves the others as they were */
  tenant mixed = modes("legacy", "unified", "legacy");
  ALLOW(&mixed, "u", "Advanced live response", "mde", "");
  ALLOW(&mixed, "u", "Email quarantine", "mdo", "");
  ALLOW(&mixed, "u", "Configuration \\ System settings (read)", "mdi", "");
  tenant_free(&mixed);
}

typedef struct collected {
  char text[8192];
} collected;

static int collect_effective(void *ctx, const urbac_effective_entry *e)
{
  collected *c = ctx;
  char g[256];
  urbac_grant_format(e->grant, g, sizeof g);
  size_t n = strlen(c->text);
  snprintf(c->text + n, sizeof c->text - n, "%s|%s|%s\n", urbac_catalog_workload_id(e->workload), g,
           e->scope);
  return 0;
}

static int collect_user(void *ctx, uint32_t user, const char *id)
{
  (void)user;
  collected *c = ctx;
  size_t n = strlen(c->text);
  snprintf(c->text + n, sizeof c->text - n, "%s,", id);
  return 0;
}

static void test_effective_and_who_can(void **state)
{
  (void)state;
  tenant t = tenant_load(nest_tenant);
  collected c = {""};
  assert_int_equal(urbac_effective(t.s, urbac_snapshot_user_find(t.s, "u", 1), collect_effective, &c), 0);
  assert_non_null(strstr(c.text, "mde|Security operations \\ Security data \\ Response (manage)|a\n"));
  assert_null(strstr(c.text, "mde|Security operations \\ Security data \\ Response (manage)|all"));
  assert_non_null(
      strstr(c.text, "mdo|Security operations \\ Security data \\ Security data basics (read)|all\n"));
  collected w = {""};
  urbac_query q = ask(&t, "", "Configuration \\ Authorization (read)", "mdo", "");
  urbac_who_can(t.s, &q, collect_user, &w);
  assert_string_equal(w.text, "v,");
  collected w2 = {""};
  q = ask(&t, "", "Security data basics", "mdo", "");
  urbac_who_can(t.s, &q, collect_user, &w2);
  assert_string_equal(w2.text, "u,"); /* off is disabled, v has no such grant */
  tenant_free(&t);
}

static void test_query_lines(void **state)
{
  (void)state;
  tenant t = tenant_load(nest_tenant);
  urbac_query q;
  urbac_diag *d = urbac_diag_new();
  const char *ok[] = {"u\tResponse\tmde\tdevicegroup:a", "u\tResponse\tmde\tdevicegroup:a\r",
                      "u\tResponse\tmde", "u\tResponse\tmde\t", "zed\tResponse\tmde\tall"};
  for (size_t i = 0; i < 5; i++)
    assert_int_equal(urbac_parse_query_line(t.p, ok[i], strlen(ok[i]), &q, d), URBAC_OK);
  assert_int_equal(urbac_diag_count(d), 0);
  assert_int_equal(q.user, URBAC_UNKNOWN_USER);
  const char *bad[] = {"", "u", "u\tResponse", "u\tResponse\tmde\tall\textra", "\tResponse\tmde\t"};
  for (size_t i = 0; i < 5; i++) {
    urbac_diag_clear(d);
    assert_int_not_equal(urbac_parse_query_line(t.p, bad[i], strlen(bad[i]), &q, NULL), URBAC_OK);
    assert_int_equal(urbac_parse_query_line(t.p, bad[i], strlen(bad[i]), &q, d), URBAC_ESYNTAX);
    assert_int_equal(urbac_diag_count(d), 1);
  }
  /* an error in a field is located at the column where the field starts */
  const char *scope = "u\tResponse\tmde\tdevice:nope";
  urbac_diag_clear(d);
  assert_int_equal(urbac_parse_query_line(t.p, scope, strlen(scope), &q, d), URBAC_EUNKNOWNDEVICE);
  assert_int_equal(urbac_diag_get(d, 0)->column, 16);
  assert_string_equal(urbac_diag_get(d, 0)->path, "scope");
  assert_non_null(strstr(diag_msg(d), "unknown device 'nope'"));
  urbac_diag_free(d);
  tenant_free(&t);
}

/* ---------------------------------------------------------------- threads, batches */

typedef struct worker {
  const urbac_snapshot *s;
  const urbac_query *q;
  size_t n;
  uint8_t *out;
} worker;

static void *check_all(void *arg)
{
  worker *w = arg;
  for (int rep = 0; rep < 50; rep++)
    for (size_t i = 0; i < w->n; i++)
      w->out[i] = urbac_check(w->s, &w->q[i]);
  return NULL;
}

static void test_threads_and_batches(void **state)
{
  (void)state;
  tenant t = tenant_load(nest_tenant);
  static const char *const users[] = {"u", "v", "off", "nobody"};
  static const char *const scopes[] = {"", "any", "device:da", "device:db", "devicegroup:a"};
  urbac_query q[4 * 3 * 5 * 20];
  size_t n = 0;
  for (size_t u = 0; u < 4; u++)
    for (size_t w = 0; w < 3; w++)
      for (size_t sc = 0; sc < (w == 0 ? 5 : 1); sc++)
        for (size_t p = 0; p < urbac_catalog_perm_count(); p++) {
          char perm[256];
          snprintf(perm, sizeof perm, "%s:%s", urbac_catalog_perm(p)->id,
                   urbac_catalog_perm(p)->levels & URBAC_LEVEL_READ ? "read" : "manage");
          q[n++] = ask(&t, users[u], perm, urbac_catalog_workload_id(w), scopes[sc]);
        }
  /* the expected answers come from the naive evaluator, not from the engine */
  uint8_t expected[sizeof q / sizeof q[0]], batch[sizeof q / sizeof q[0]],
      threaded[8][sizeof q / sizeof q[0]];
  naive *ref = naive_new(t.m);
  assert_non_null(ref);
  size_t allowed = 0;
  for (size_t i = 0; i < n; i++) {
    expected[i] = naive_decide(ref, &q[i]);
    allowed += expected[i];
  }
  naive_free(ref);
  assert_true(allowed > 0 && allowed < n);
  urbac_check_batch(t.s, q, n, batch);
  assert_memory_equal(batch, expected, n);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(urbac_check(t.s, &q[i]), expected[i]);
  /* one snapshot, eight threads at once: the same answers */
  pthread_t tid[8];
  worker w[8];
  for (int i = 0; i < 8; i++) {
    w[i] = (worker){t.s, q, n, threaded[i]};
    assert_int_equal(pthread_create(&tid[i], NULL, check_all, &w[i]), 0);
  }
  for (int i = 0; i < 8; i++) {
    pthread_join(tid[i], NULL);
    assert_memory_equal(threaded[i], expected, n);
  }
  tenant_free(&t);
}

/* A profile's key is its fields, not its bytes: parts equal but for the padding
 * between their device-group set and their grants give equal keys, and a part
 * of another device-group set does not. The key once held that padding, which is
 * whatever the stack held, and equal profiles could hash apart (interned twice:
 * 421 of the 14,085 profiles of the bench's 100,000-user tenant). */
static void test_profile_key(void **state)
{
  (void)state;
  urbac__profile p[2];
  urbac__part parts[2][3];
  for (int k = 0; k < 2; k++) {
    memset(&p[k], k ? 0x55 : 0xAA, sizeof p[k]);
    memset(parts[k], k ? 0x55 : 0xAA, sizeof parts[k]);
    for (uint32_t w = 0; w < URBAC__NWORKLOADS; w++) {
      memset(&p[k].w[w].all, 0, sizeof p[k].w[w].all);
      p[k].w[w].all.w[0] = w * 3u + 1u;
      p[k].w[w].part_n = w == 0 ? 3 : 0;
      p[k].w[w].part_off = k ? 7u : 0u; /* where its parts sit: not the profile */
    }
    for (uint32_t i = 0; i < 3; i++) {
      parts[k][i].dgset = i + 2;
      memset(&parts[k][i].mask, 0, sizeof parts[k][i].mask);
      parts[k][i].mask.w[0] = 1u << i;
    }
  }
  urbac__buf key[2] = {{0}, {0}};
  for (int k = 0; k < 2; k++)
    assert_int_equal(urbac__profile_key(&key[k], &p[k], parts[k], 3), URBAC_OK);
  assert_int_equal(key[0].len, key[1].len);
  assert_memory_equal(key[0].s, key[1].s, key[0].len);
  parts[1][2].dgset = 9;
  assert_int_equal(urbac__profile_key(&key[1], &p[1], parts[1], 3), URBAC_OK);
  assert_memory_not_equal(key[0].s, key[1].s, key[0].len);
  urbac__buf_free(&key[0]);
  urbac__buf_free(&key[1]);
}

/* Whether profiles a and b of `s` are the same decisions (profile_eq()'s test). */
static bool same_profile(const urbac_snapshot *s, uint32_t a, uint32_t b)
{
  const urbac__profile *x = urbac__profile_at(s, a), *y = urbac__profile_at(s, b);
  for (uint32_t w = 0; w < URBAC__NWORKLOADS; w++) {
    if (memcmp(&x->w[w].all, &y->w[w].all, sizeof x->w[w].all) != 0 || x->w[w].part_n != y->w[w].part_n)
      return false;
    for (uint32_t i = 0; i < x->w[w].part_n; i++) {
      const urbac__part *p = urbac__part_at(s, x->w[w].part_off + i),
                        *q = urbac__part_at(s, y->w[w].part_off + i);
      if (p->dgset != q->dgset || memcmp(&p->mask, &q->mask, sizeof p->mask) != 0)
        return false;
    }
  }
  return true;
}

/* A compile interns each profile once: no two of its profiles are the same
 * decisions. The tenant is shaped like the bench's (bench/gen.c), smaller: 3,000
 * users in 1 to 3 of 300 groups, some nested, 60 roles whose assignments are
 * scoped to device groups (parts in the profiles). With the key that held
 * padding, this tenant got one profile twice (not under ASan, whose fresh memory
 * is always the same bytes). */
static void test_profiles_once(void **state)
{
  (void)state;
  static const char *const perms[] = {
      "Security operations \\ Security data \\ Alerts (manage)",
      "Security posture \\ Posture management \\ Remediation handling (manage)",
      "Security posture \\ Posture management \\ Exception handling (manage)",
      "Security operations \\ Security data \\ File collection (manage)",
      "Security operations \\ Security data \\ Response (manage)",
      "Configuration \\ Authorization (read)"};
  static const char *const sources[] = {"mde", "mdo", "mdi"};
  enum { NU = 3000, NG = 300, NDG = 40, NR = 60 };
  static int in[NU][3];
  urbac__buf y = {0};
  seed_rng(7); /* URBAC_TEST_SEED, if set, draws another tenant */
  urbac__buf_puts(&y, HEAD "workloads: {mde: unified, mdo: unified, mdi: unified}\nusers:\n");
  for (int i = 0; i < NU; i++) {
    urbac__buf_printf(&y, "  - {id: u%d}\n", i);
    for (int k = 0; k < 3; k++) {
      bool member = k == 0 || rnd(2);
      in[i][k] = member ? (int)rnd(NG) : -1;
    }
  }
  urbac__buf_puts(&y, "groups:\n");
  for (int g = 0; g < NG; g++) {
    urbac__buf_printf(&y, "  - {id: g%d, members: [", g);
    const char *sep = "";
    for (int i = 0; i < NU; i++)
      for (int k = 0; k < 3; k++)
        if (in[i][k] == g && (k == 0 || in[i][k] != in[i][0]) && (k < 2 || in[i][k] != in[i][1])) {
          urbac__buf_printf(&y, "%su%d", sep, i);
          sep = ", ";
        }
    if (g % 10 == 1) /* some groups nested in a later one */
      urbac__buf_printf(&y, "%sgroup:g%d", sep, g - 1);
    urbac__buf_puts(&y, "]}\n");
  }
  urbac__buf_puts(&y, "deviceGroups:\n");
  for (int d = 0; d < NDG; d++)
    urbac__buf_printf(&y, "  - {id: dg%d, rank: %d}\n", d, d + 1);
  urbac__buf_puts(&y, "roles:\n");
  for (int r = 0; r < NR; r++) { /* each draw in its own statement: arguments have no order in C */
    const char *p1 = perms[rnd(6)], *p2 = perms[rnd(6)];
    urbac__buf_printf(&y, "  - name: R%d\n    permissions: ['%s', '%s']\n    assignments:\n", r, p1, p2);
    for (int a = 0, na = 1 + (int)rnd(2); a < na; a++) {
      uint32_t g1 = rnd(NG), g2 = rnd(NG);
      const char *source = sources[rnd(3)];
      urbac__buf_printf(&y,
                        "      - {name: a%d, principals: [group:g%u, group:g%u], dataSources: [%s], "
                        "deviceGroups: [",
                        a, g1, g2, source);
      for (int d = 0, nd = (int)rnd(4); d < nd; d++)
        urbac__buf_printf(&y, "%sdg%u", d ? ", " : "", rnd(NDG));
      urbac__buf_puts(&y, "]}\n");
    }
  }
  assert_false(y.failed);
  tenant t = tenant_load(y.s);
  uint32_t n = (uint32_t)urbac_snapshot_profiles(t.s);
  assert_true(n > 100); /* the shape does what it should: many kinds of user */
  for (uint32_t a = 0; a < n; a++)
    for (uint32_t b = a + 1; b < n; b++)
      if (same_profile(t.s, a, b))
        fail_msg("profiles %u and %u are the same decisions", a, b);
  tenant_free(&t);
  urbac__buf_free(&y);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_worked_example),
      cmocka_unit_test(test_device_group_matching),
      cmocka_unit_test(test_nesting_and_directory_roles),
      cmocka_unit_test(test_scopes),
      cmocka_unit_test(test_legacy_against_unified),
      cmocka_unit_test(test_effective_and_who_can),
      cmocka_unit_test(test_query_lines),
      cmocka_unit_test(test_threads_and_batches),
      cmocka_unit_test(test_profile_key),
      cmocka_unit_test(test_profiles_once),
  };
  return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
