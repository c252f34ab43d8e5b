/*
 * tests/unit/test_migrate.c - import, activation and impact
 * (semantics.md "Import and activation").
 *
 * Parity: on random tenants, importing a workload and activating it leaves
 * every decision as it was, exactly, except where the spec says the models
 * differ; those differences are shown on small named tenants, with what impact
 * reports for them. Also: idempotency, update in place, the unmapped-permission
 * report, activation's refusal, rollback, and impact against a brute-force diff.
 */
#include "engine/engine.h"
#include "helpers.h"
#include "random_tenant.h"

static const char *current_yaml;

/* Every decision of two snapshots of the same tenant, compared on workload `w`. */
static void assert_same_decisions(const urbac_snapshot *a, const urbac_snapshot *b, size_t w,
                                  const char *what)
{
  const urbac_model *m = urbac_snapshot_model(a);
  size_t ndg = urbac_model_count(m, URBAC_OBJ_DEVICE_GROUP);
  for (uint32_t u = 0; u < urbac_model_count(m, URBAC_OBJ_USER); u++)
    for (unsigned g = 0; g < URBAC__NGRANTS; g++)
      for (size_t sc = 0; sc < (w == URBAC__WL_MDE ? ndg + 2 : 1); sc++) {
        urbac_query q = {u,
                         (uint16_t)g,
                         (uint8_t)w,
                         sc == 0   ? URBAC_SCOPE_ALL
                         : sc == 1 ? URBAC_SCOPE_ANY
                                   : URBAC_SCOPE_DEVICE_GROUP,
                         sc >= 2 ? (uint32_t)(sc - 2) : 0,
                         URBAC_NO_DEVICE};
        bool x = urbac_check(a, &q), y = urbac_check(b, &q);
        if (x != y)
          print_error("%s: user %s grant %u workload %zu scope %zu: %d then %d\n%s\n", what,
                      urbac_snapshot_user_id(a, u), g, w, sc, x, y, current_yaml ? current_yaml : "");
        assert_int_equal(x, y);
      }
}

static urbac_snapshot *compile(const urbac_model *m)
{
  urbac_snapshot *s;
  assert_int_equal(urbac_snapshot_compile(m, &s, NULL), URBAC_OK);
  return s;
}

/* Import `w`, activate it, and compare every decision with the legacy ones. */
static void parity(urbac_model *m, size_t w)
{
  urbac_model *imported, *after;
  urbac_import_report *r;
  m->modes[w] = URBAC_MODE_LEGACY;
  urbac_snapshot *before = compile(m);
  assert_int_equal(urbac_import(m, w, &imported, &r, NULL), URBAC_OK);
  assert_int_equal(urbac_activate(imported, w, true, &after, NULL), URBAC_OK);
  urbac_snapshot *s = compile(after);
  assert_same_decisions(before, s, w, "import parity");
  /* and the impact of import + activation is empty */
  urbac_impact *im;
  assert_int_equal(urbac_impact_compute(m, w, true, &im, NULL), URBAC_OK);
  assert_int_equal(urbac_impact_count(im), 0);
  urbac_impact_free(im);
  urbac_import_report_free(r);
  urbac_snapshot_free(s);
  urbac_snapshot_free(before);
  urbac_model_free(imported);
  urbac_model_free(after);
}

static void test_parity(void **state)
{
  (void)state;
  size_t cap = 1 << 16;
  char *y = malloc(cap);
  rng = 0x1234567ull;
  for (int i = 0; i < 400; i++) {
    int nu, nd;
    /* mdo and mdi: any tenant. mde: tenants without the documented differences
     * (only administrator directory roles; one group per user) */
    shape = (tenant_shape){.no_roles = true, .one_group = i % 2 == 0, .admin_dirroles = i % 2 == 0};
    random_tenant(y, cap, &nu, &nd);
    current_yaml = y;
    tenant t = tenant_load(y);
    parity(t.m, URBAC__WL_MDO);
    parity(t.m, URBAC__WL_MDI);
    if (i % 2 == 0)
      parity(t.m, URBAC__WL_MDE);
    tenant_free(&t);
  }
  shape = (tenant_shape){0};
  free(y);
}

/* Rows of an impact as text "user|permission|scope|before|after|why after". */
typedef struct rows {
  char text[16384];
  const urbac_impact *im;
} rows;

static int collect(void *ctx, const urbac_impact_row *r)
{
  rows *c = ctx;
  char wb[1024], wa[1024];
  const urbac_model *m = urbac_snapshot_model(urbac_impact_before(c->im));
  assert_int_equal(urbac_impact_explain(c->im, r, wb, wa, sizeof wb, NULL), URBAC_OK);
  size_t n = strlen(c->text);
  snprintf(c->text + n, sizeof c->text - n, "%s|%s|%s|%s|%s|%s\n",
           urbac_snapshot_user_id(urbac_impact_before(c->im), r->user),
           urbac_catalog_perm(r->permission)->name,
           r->dg == UINT32_MAX ? "" : urbac_model_id(m, URBAC_OBJ_DEVICE_GROUP, r->dg),
           urbac_impact_level_name(r->before), urbac_impact_level_name(r->after), wa);
  return 0;
}

static void impact_text(tenant *t, size_t w, bool import, rows *out)
{
  urbac_impact *im;
  assert_int_equal(urbac_impact_compute(t->m, w, import, &im, NULL), URBAC_OK);
  out->text[0] = '\0';
  out->im = im;
  urbac_impact_rows(im, collect, out);
  urbac_impact_free(im);
}

#define ASSERT_ROW(rows, needle)                                                                             \
  do {                                                                                                       \
    if (!strstr((rows)->text, needle))                                                                       \
      print_error("expected '%s' in:\n%s\n", needle, (rows)->text);                                          \
    assert_non_null(strstr((rows)->text, needle));                                                           \
  } while (0)

static const char *readers =
    "urbac: 1\ntenant: readers\n"
    "users: [{id: rita, directoryRoles: [Security reader]}, {id: gary, directoryRoles: [Global reader]},"
    " {id: adam, directoryRoles: [Global administrator]}]\n";

static void test_directory_role_difference(void **state)
{
  (void)state;
  tenant t = tenant_load(readers);
  /* legacy mde: only Global and Security administrator count; unified: every directory role */
  DENY(&t, "rita", "Vulnerability management", "mde", "");
  rows r;
  impact_text(&t, URBAC__WL_MDE, false, &r);
  ASSERT_ROW(&r,
             "rita|Security posture \\ Posture management \\ Vulnerability management|ungrouped|none|read|"
             "directory role Security reader now counts on mde: rita -> directory role Security reader");
  ASSERT_ROW(&r,
             "gary|Security posture \\ Posture management \\ Vulnerability management|ungrouped|none|read|");
  ASSERT_ROW(&r, "rita|Security operations \\ Security data \\ Security data basics|ungrouped|none|read|");
  assert_null(strstr(r.text, "adam|")); /* Global administrator counted before and after */
  tenant_free(&t);
}

static const char *pairing =
    "urbac: 1\ntenant: pairing\n"
    "users: [{id: una}, {id: gil}]\n"
    "groups: [{id: responders, members: [una]}, {id: laptop-admins, members: [una]}, {id: g1, members: "
    "[gil]}, {id: g2}]\n"
    "deviceGroups:\n"
    "  - {id: servers, rank: 1, rules: {tags: {equals: [server]}}, userAccess: [responders]}\n"
    "  - {id: laptops, rank: 2, rules: {tags: {equals: [laptop]}}, userAccess: [laptop-admins]}\n"
    "  - {id: vault, rank: 3, rules: {tags: {equals: [vault]}}, userAccess: [g2]}\n"
    "  - {id: ungrouped, userAccess: [responders, g1]}\n"
    "legacy:\n  mde:\n    roles:\n"
    "      - {name: Responders, permissions: [Alerts investigation], groups: [responders]}\n"
    "      - {name: Shared, permissions: [View data - Security operations], groups: [g1, g2]}\n";

static void test_pairing_difference(void **state)
{
  (void)state;
  tenant t = tenant_load(pairing);
  /* legacy: una's role (via responders) and her access to laptops (via
   * laptop-admins) are unioned: she may manage alerts on laptops */
  ALLOW(&t, "una", "Alerts (manage)", "mde", "devicegroup:laptops");
  DENY(&t, "gil", "Security data basics", "mde", "devicegroup:vault");
  rows r;
  impact_text(&t, URBAC__WL_MDE, true, &r);
  /* the imported assignment pairs Responders with the device groups responders may access */
  ASSERT_ROW(&r, "una|Security operations \\ Security data \\ Alerts|laptops|manage|none|"
                 "legacy device access was unioned across groups; the imported assignment pairs it");
  /* Shared is assigned to g1 and g2: imported, it covers every device group either may access */
  ASSERT_ROW(&r, "gil|Security operations \\ Security data \\ Security data basics|vault|none|read|"
                 "the imported assignment gives the role on every device group its groups may access");
  assert_null(strstr(r.text, "|servers|")); /* una keeps servers, through the role's own group */
  tenant_free(&t);
}

static char *save_text(const urbac_model *m)
{
  char *out;
  size_t len;
  assert_int_equal(urbac_tenant_save_buffer(m, URBAC_FORMAT_YAML, &out, &len, NULL), URBAC_OK);
  return out;
}

static const char *legacy_all =
    "urbac: 1\ntenant: legacy\nusers: [{id: a}, {id: b}]\n"
    "groups: [{id: g, members: [a]}, {id: h, members: [b]}]\n"
    "deviceGroups: [{id: d1, rank: 1, rules: {tags: {equals: [x]}}, userAccess: [g]}]\n"
    "roles: [{name: Tier 1, permissions: [Response]}]\n"
    "legacy:\n  mde: {roles: [{name: Tier 1, permissions: [Alerts investigation, Manage endpoint security "
    "settings in Microsoft Endpoint Manager], groups: [g]},"
    " {name: Only EM, permissions: [Manage endpoint security settings in Microsoft Endpoint Manager], "
    "groups: [h]}]}\n"
    "  mdo: {roleGroups: [{name: Quarantine, members: [a, group:h]}]}\n"
    "  mdi: {roles: [{name: MDI viewer, members: [b]}]}\n";

static void test_import_idempotent_and_updates(void **state)
{
  (void)state;
  tenant t = tenant_load(legacy_all);
  urbac_import_report *r;
  urbac_model *next;
  for (size_t w = 0; w < 3; w++) {
    assert_int_equal(urbac_import(t.m, w, &next, &r, NULL), URBAC_OK);
    tenant_replace(&t, next);
    assert_true(urbac_import_report_changed(r));
    assert_int_equal(urbac_import_report_item(r, 0)->action, URBAC_IMPORT_CREATED);
    urbac_import_report_free(r);
  }
  /* a role name already taken gets the workload in brackets */
  assert_int_equal(urbac_model_count(t.m, URBAC_OBJ_ROLE), 5);
  assert_string_equal(urbac_model_id(t.m, URBAC_OBJ_ROLE, 1), "Tier 1 (mde)");
  char *first = save_text(t.m);
  for (size_t w = 0; w < 3; w++) {
    assert_int_equal(urbac_import(t.m, w, &next, &r, NULL), URBAC_OK);
    tenant_replace(&t, next);
    assert_false(urbac_import_report_changed(r));
    urbac_import_report_free(r);
  }
  char *second = save_text(t.m);
  assert_string_equal(first, second); /* byte for byte */
  /* the source changes: the same role is updated in place, keeping its name */
  char *edited = calloc(1, strlen(first) + 64); /* room for the longer name */
  strcpy(edited, first);
  const char *from = "- Alerts investigation\n", *to = "- Live response capabilities\n";
  char *at = strstr(edited, from);
  assert_non_null(at);
  memmove(at + strlen(to), at + strlen(from), strlen(at + strlen(from)) + 1);
  memcpy(at, to, strlen(to));
  tenant_free(&t);
  tenant u = tenant_load(edited);
  assert_int_equal(urbac_import(u.m, URBAC__WL_MDE, &next, &r, NULL), URBAC_OK);
  tenant_replace(&u, next);
  assert_int_equal(urbac_import_report_item(r, 0)->action, URBAC_IMPORT_UPDATED);
  assert_string_equal(urbac_import_report_item(r, 0)->role, "Tier 1 (mde)");
  assert_int_equal(urbac_import_report_item(r, 1)->action, URBAC_IMPORT_UNCHANGED);
  urbac_import_report_free(r);
  assert_int_equal(urbac_model_count(u.m, URBAC_OBJ_ROLE), 5);
  ALLOW(&u, "a", "Basic live response", "mde", "devicegroup:d1");
  char *changed = save_text(u.m);
  assert_non_null(strstr(changed, "- name: Tier 1 (mde)\n"));
  tenant_free(&u);
  free(first);
  free(second);
  free(changed);
  free(edited);
}

static void test_unmapped_report(void **state)
{
  (void)state;
  tenant t = tenant_load(legacy_all);
  urbac_import_report *r;
  urbac_model *next;
  assert_int_equal(urbac_import(t.m, URBAC__WL_MDE, &next, &r, NULL), URBAC_OK);
  urbac_model_free(next);
  assert_int_equal(urbac_import_report_unmapped_count(r), 2);
  const urbac_import_unmapped *u = urbac_import_report_unmapped(r, 0);
  assert_string_equal(u->permission, "Manage endpoint security settings in Microsoft Endpoint Manager");
  assert_string_equal(u->source, "Tier 1");
  assert_string_equal(urbac_import_report_unmapped(r, 1)->source, "Only EM");
  /* a role that maps to nothing is still imported, with no permissions */
  assert_int_equal(urbac_import_report_item(r, 1)->permissions, 0);
  urbac_import_report_free(r);
  tenant_free(&t);
}

static void test_activation_and_rollback(void **state)
{
  (void)state;
  tenant t = tenant_load(legacy_all);
  urbac_diag *d = urbac_diag_new();
  urbac_model *next = NULL;
  /* nobody holds Authorization (manage) on mdo once it is unified: refused */
  assert_int_equal(urbac_activate(t.m, URBAC__WL_MDO, false, &next, d), URBAC_EREFUSED);
  assert_null(next);
  assert_non_null(strstr(diag_msg(d), "nobody able to manage authorization"));
  assert_int_equal(urbac_model_mode(t.m, URBAC__WL_MDO), URBAC_MODE_LEGACY);
  assert_int_equal(urbac_activate(t.m, URBAC__WL_MDO, true, &next, d), URBAC_OK);
  assert_int_equal(urbac_model_mode(t.m, URBAC__WL_MDO), URBAC_MODE_LEGACY); /* the input is unchanged */
  assert_int_equal(urbac_model_mode(next, URBAC__WL_MDO), URBAC_MODE_UNIFIED);
  urbac_model_free(next);
  tenant_free(&t);
  urbac_diag_free(d);
  /* a Global administrator can: allowed */
  tenant g =
      tenant_load("urbac: 1\ntenant: g\nusers: [{id: root, directoryRoles: [Global administrator]}]\n");
  assert_int_equal(urbac_activate(g.m, URBAC__WL_MDI, false, &next, NULL), URBAC_OK);
  urbac_model_free(next);
  tenant_free(&g);
  /* rollback: activate, deactivate: every decision as before, on random tenants */
  size_t cap = 1 << 16;
  char *y = malloc(cap);
  rng = 0xABCDEFull;
  for (int i = 0; i < 200; i++) {
    int nu, nd;
    random_tenant(y, cap, &nu, &nd);
    tenant r = tenant_load(y);
    urbac_snapshot *before = compile(r.m);
    size_t w = (size_t)i % 3;
    urbac_mode was = urbac_model_mode(r.m, w);
    urbac_model *on, *off, *back = NULL;
    assert_int_equal(urbac_activate(r.m, w, true, &on, NULL), URBAC_OK);
    assert_int_equal(urbac_deactivate(on, w, &off, NULL), URBAC_OK);
    if (was == URBAC_MODE_UNIFIED)
      assert_int_equal(urbac_activate(off, w, true, &back, NULL), URBAC_OK);
    urbac_snapshot *after = compile(back ? back : off);
    for (size_t k = 0; k < 3; k++)
      assert_same_decisions(before, after, k, "rollback");
    urbac_snapshot_free(before);
    urbac_snapshot_free(after);
    urbac_model_free(on);
    urbac_model_free(off);
    urbac_model_free(back);
    tenant_free(&r);
  }
  free(y);
}

/* The impact's rows against a brute-force comparison of every level. */
typedef struct expected {
  const urbac_impact *im;
  size_t next;
  urbac_impact_row *rows;
  size_t n;
} expected;

static int match_row(void *ctx, const urbac_impact_row *r)
{
  expected *e = ctx;
  assert_true(e->next < e->n);
  const urbac_impact_row *x = &e->rows[e->next++];
  assert_int_equal(r->user, x->user);
  assert_int_equal(r->permission, x->permission);
  assert_int_equal(r->dg, x->dg);
  assert_int_equal(r->before, x->before);
  assert_int_equal(r->after, x->after);
  return 0;
}

static uint8_t level(const urbac_snapshot *s, uint32_t u, unsigned p, size_t w, uint32_t dg)
{
  urbac_query q = {u,
                   0,
                   (uint8_t)w,
                   dg == UINT32_MAX ? URBAC_SCOPE_ALL : URBAC_SCOPE_DEVICE_GROUP,
                   dg == UINT32_MAX ? 0 : dg,
                   URBAC_NO_DEVICE};
  unsigned gm = urbac__grant_index(p, URBAC_LEVEL_MANAGE), gr = urbac__grant_index(p, URBAC_LEVEL_READ);
  q.grant = (uint16_t)gm;
  if (gm != URBAC__NO_GRANT && urbac_check(s, &q))
    return URBAC_IMPACT_MANAGE;
  q.grant = (uint16_t)gr;
  return gr != URBAC__NO_GRANT && urbac_check(s, &q) ? URBAC_IMPACT_READ : URBAC_IMPACT_NONE;
}

static void test_impact_is_every_difference(void **state)
{
  (void)state;
  size_t cap = 1 << 16;
  char *y = malloc(cap);
  urbac_impact_row *want = malloc(200000 * sizeof *want);
  rng = 0x5EED5ull;
  for (int i = 0; i < 300; i++) {
    int nu, nd;
    random_tenant(y, cap, &nu, &nd);
    tenant t = tenant_load(y);
    size_t w = (size_t)i % 3;
    urbac_impact *im;
    assert_int_equal(urbac_impact_compute(t.m, w, i % 2 == 0, &im, NULL), URBAC_OK);
    const urbac_snapshot *b = urbac_impact_before(im), *a = urbac_impact_after(im);
    const urbac_model *m = t.m;
    expected e = {im, 0, want, 0};
    /* device groups in rank order, as impact lists them */
    uint32_t order[16];
    size_t ndg = w == 0 ? urbac_model_count(m, URBAC_OBJ_DEVICE_GROUP) : 1;
    for (size_t k = 0; k < ndg; k++)
      order[k] = w == 0 ? ((const urbac_snapshot *)b)->dg_order[k] : UINT32_MAX;
    for (uint32_t u = 0; u < urbac_model_count(m, URBAC_OBJ_USER); u++)
      for (unsigned p = 0; p < URBAC__NPERMS; p++)
        for (size_t k = 0; k < ndg; k++) {
          uint8_t lb = level(b, u, p, w, order[k]), la = level(a, u, p, w, order[k]);
          if (lb != la)
            want[e.n++] = (urbac_impact_row){u, (uint16_t)p, lb, la, order[k]};
        }
    assert_int_equal(urbac_impact_count(im), e.n);
    urbac_impact_rows(im, match_row, &e);
    assert_int_equal(e.next, e.n);
    urbac_impact_free(im);
    tenant_free(&t);
  }
  free(want);
  free(y);
}

/* ---------------------------------------------------------------- progress */

typedef struct progress_seen {
  size_t calls, last_done, total, stop_after;
  bool backwards;
} progress_seen;

static bool on_progress(void *ctx, size_t done, size_t total)
{
  progress_seen *p = ctx;
  p->backwards |= p->calls && (done < p->last_done || total != p->total);
  p->calls++;
  p->last_done = done;
  p->total = total;
  return p->calls < p->stop_after;
}

/* The progress counts three steps per user up to the tenant's; its result is the
 * one without; a callback that says stop stops it (URBAC_EREFUSED, no result). */
static void test_impact_progress(void **state)
{
  (void)state;
  size_t n = 1000, cap = 64 + n * 64;
  char *y = malloc(cap);
  size_t len = (size_t)snprintf(y, cap, "urbac: 1\ntenant: many\nusers:\n");
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(y + len, cap - len, "- {id: u%zu, directoryRoles: [Security reader]}\n", i);
  tenant t = tenant_load(y);
  urbac_impact *plain, *im;
  assert_int_equal(urbac_impact_compute(t.m, URBAC__WL_MDE, false, &plain, NULL), URBAC_OK);
  progress_seen seen = {.stop_after = SIZE_MAX};
  assert_int_equal(urbac_impact_compute_progress(t.m, URBAC__WL_MDE, false, on_progress, &seen, &im, NULL),
                   URBAC_OK);
  assert_false(seen.backwards);
  assert_int_equal(seen.total, 3 * n); /* compiled before, after, compared */
  assert_int_equal(seen.last_done, 3 * n);
  assert_true(seen.calls >= n / 256 + 3);
  assert_int_equal(urbac_impact_count(im), urbac_impact_count(plain));
  assert_true(urbac_impact_count(im) >= n);
  urbac_impact_free(im);
  urbac_impact_free(plain);
  urbac_diag *d = urbac_diag_new();
  progress_seen stop = {.stop_after = 2};
  im = (urbac_impact *)1;
  assert_int_equal(urbac_impact_compute_progress(t.m, URBAC__WL_MDE, false, on_progress, &stop, &im, d),
                   URBAC_EREFUSED);
  assert_null(im);
  assert_int_equal(stop.calls, 2);
  assert_non_null(strstr(urbac_diag_get(d, 0)->message, "stopped"));
  urbac_diag_free(d);
  tenant_free(&t);
  free(y);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parity),
      cmocka_unit_test(test_directory_role_difference),
      cmocka_unit_test(test_pairing_difference),
      cmocka_unit_test(test_import_idempotent_and_updates),
      cmocka_unit_test(test_unmapped_report),
      cmocka_unit_test(test_activation_and_rollback),
      cmocka_unit_test(test_impact_is_every_difference),
      cmocka_unit_test(test_impact_progress),
  };
  return cmocka_run_group_tests_name("migration", tests, NULL, NULL);
}
