/*
 * tests/unit/test_seed.c - every row of every table of seed 003, read from
 * ../shared/seeds itself, against urbac's data and against urbac's decisions.
 *
 * For each row: (1) the row in src/catalog/defender.def has the seed's words;
 * (2) a tenant holding just that legacy permission, role group, role or directory
 * role is allowed exactly the grants the seed's cell lists (with manage implying
 * read and "All permissions" every level), and nothing else, on every workload.
 * The expected grants come from this file's own reading of the seed text, so a
 * wrong mapping row fails here.
 */
#include <dirent.h>
#include <strings.h>

#include "helpers.h"
#include "catalog/catalog.h"

#ifndef URBAC_SEEDS_DIR
#error URBAC_SEEDS_DIR must name ../shared/seeds
#endif

static char *seed_text;

static char *read_seed(const char *prefix)
{
  DIR *d = opendir(URBAC_SEEDS_DIR);
  struct dirent *e;
  char path[1024] = "";
  assert_non_null(d);
  while ((e = readdir(d)) != NULL)
    if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
      snprintf(path, sizeof path, "%s/%s", URBAC_SEEDS_DIR, e->d_name);
  closedir(d);
  return slurp(path);
}

/* Collapses white space runs to one space and trims, in place. */
static char *squash(char *s)
{
  char *o = s;
  bool sp = false;
  for (char *p = s; *p; p++) {
    if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
      sp = o != s;
      continue;
    }
    if (sp)
      *o++ = ' ';
    sp = false;
    *o++ = *p;
  }
  *o = '\0';
  return s;
}

/* The cells of the table whose header line starts with `header`, up to the first
 * line that is not part of it; cells are split at '|' and squashed. */
static size_t table_cells(const char *header, char cells[][2048], size_t max, const char *stop)
{
  const char *h = strstr(seed_text, header);
  assert_non_null(h);
  const char *body = strstr(h, "---|");
  assert_non_null(body);
  body = strchr(body, '\n') + 1;
  const char *end = body;
  while (*end) {
    const char *nl = strchr(end, '\n');
    size_t len = nl ? (size_t)(nl - end) : strlen(end);
    if (stop ? strncmp(end, stop, strlen(stop)) == 0 : (len < 2 || memcmp(end + len - 2, " |", 2) != 0))
      break;
    end = nl ? nl + 1 : end + len;
  }
  size_t n = 0;
  for (const char *p = body; p < end && n < max;) {
    const char *bar = memchr(p, '|', (size_t)(end - p));
    if (!bar)
      break;
    snprintf(cells[n], sizeof cells[n], "%.*s", (int)(bar - p), p);
    squash(cells[n++]);
    p = bar + 1;
  }
  return n;
}

/* ---------------------------------------------------------------- expected grants */

typedef struct expect {
  bool g[64][3]; /* [perm][level] */
} expect;

/* Adds every grant of a seed cell ("A (read) B (manage) ..."), by the seed's level words. */
static void expect_cell(expect *x, const char *cell)
{
  static const char *const words[] = {"(read)", "(manage)", "(All permissions)"};
  const char *p = cell;
  while (*p) {
    const char *best = NULL;
    size_t wl = 0;
    int level = 0;
    for (int i = 0; i < 3; i++) {
      const char *hit = strstr(p, words[i]);
      if (hit && (!best || hit < best)) {
        best = hit;
        wl = strlen(words[i]);
        level = i + 1;
      }
    }
    if (!best)
      break;
    urbac_grant g;
    urbac_diag *d = urbac_diag_new();
    size_t len = (size_t)(best + wl - p);
    urbac_err err = urbac_catalog_resolve(p, len, &g, d);
    if (err)
      print_error("seed grant '%.*s': %s\n", (int)len, p, diag_msg(d));
    urbac_diag_free(d);
    assert_int_equal(err, URBAC_OK);
    unsigned levels = urbac_catalog_perm(g.perm)->levels;
    bool read = level == 1 || level == 3 || (level == 2 && (levels & URBAC_LEVEL_READ));
    bool manage = level >= 2;
    x->g[g.perm][1] = x->g[g.perm][1] || (read && (levels & URBAC_LEVEL_READ));
    x->g[g.perm][2] = x->g[g.perm][2] || (manage && (levels & URBAC_LEVEL_MANAGE));
    p = best + wl;
  }
}

/* Every grant on workload `wl` is allowed to `user` exactly when expected. */
static void assert_grants(tenant *t, const char *user, const char *wl, const expect *x, const char *what)
{
  for (size_t p = 0; p < urbac_catalog_perm_count(); p++)
    for (int l = 1; l <= 2; l++) {
      const urbac_perm_info *pi = urbac_catalog_perm(p);
      if (!(pi->levels & (unsigned)l))
        continue;
      char q[256];
      snprintf(q, sizeof q, "%s:%s", pi->id, l == 1 ? "read" : "manage");
      bool got = allowed(t, user, q, wl, "");
      if (got != x->g[p][l])
        print_error("%s on %s: %s is %s, the seed says %s\n", what, wl, q, got ? "allowed" : "denied",
                    x->g[p][l] ? "allowed" : "denied");
      assert_int_equal(got, x->g[p][l]);
    }
}

/* Our cell (grants separated by '|') has the seed's words. */
static void assert_same_words(const char *ours, const char *seed, const char *row)
{
  char a[4096];
  snprintf(a, sizeof a, "%s", ours);
  for (char *c = a; *c; c++)
    if (*c == '|')
      *c = ' ';
  squash(a);
  if (strcmp(a, seed) != 0)
    print_error("row '%s':\n  ours: %s\n  seed: %s\n", row, a, seed);
  assert_string_equal(a, seed);
}

static int setup(void **state)
{
  (void)state;
  seed_text = read_seed("003_");
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  free(seed_text);
  return 0;
}

static char cells[200][2048];

static tenant one_row_tenant(const char *fmt, const char *name, const char *modes)
{
  char yaml[4096], body[2048];
  snprintf(body, sizeof body, fmt, name);
  snprintf(yaml, sizeof yaml,
           "urbac: 1\ntenant: seed\nworkloads: %s\n%s\ngroups: [{id: g, members: [u]}]\n%s\n", modes,
           strncmp(body, "users:", 6) ? "users: [{id: u}]" : "", body);
  return tenant_load(yaml);
}

/* A legacy table: name column and one mapping column, on workload `wl`. */
static void legacy_table(const char *header, urbac_legacy_kind kind, size_t rows, const char *wl, const char *fmt)
{
  size_t n = table_cells(header, cells, 200, NULL);
  assert_int_equal(n, 2 * rows);
  assert_int_equal(urbac_catalog_legacy_count(kind), rows);
  for (size_t i = 0; i < rows; i++) {
    const char *name = cells[2 * i], *cell = cells[2 * i + 1];
    assert_string_equal(urbac_catalog_legacy(kind, i)->name, name);
    bool unsupported = strncmp(cell, "Not supported", 13) == 0;
    assert_same_words(urbac__legacy_cell(kind, i, 0), unsupported ? "" : cell, name);
    expect x = {0}, none = {0};
    if (!unsupported)
      expect_cell(&x, cell);
    tenant t = one_row_tenant(fmt, name, "{}");
    for (size_t w = 0; w < urbac_catalog_workload_count(); w++) {
      const char *id = urbac_catalog_workload_id(w);
      assert_grants(&t, "u", id, strcmp(id, wl) == 0 ? &x : &none, name);
    }
    tenant_free(&t);
  }
}

static void test_mde_permissions(void **state)
{
  (void)state;
  legacy_table("Defender for Endpoint permission | Microsoft 365 Defender RBAC permission |",
               URBAC_LEGACY_MDE_PERMISSION, 13, "mde",
               "legacy: {mde: {roles: [{name: r, permissions: [\"%s\"], groups: [g]}]}}");
}

static void test_eop_role_groups(void **state)
{
  (void)state;
  legacy_table("Defender for Office (EOP) role group |", URBAC_LEGACY_EOP_ROLE_GROUP, 13, "mdo",
               "legacy: {mdo: {roleGroups: [{name: \"%s\", members: [group:g]}]}}");
}

static void test_mdi_roles(void **state)
{
  (void)state;
  legacy_table("Defender for Identity permission |", URBAC_LEGACY_MDI_ROLE, 3, "mdi",
               "legacy: {mdi: {roles: [{name: \"%s\", members: [u]}]}}");
}

/* ---------------------------------------------------------------- directory roles */

/* Splits a workload-specific cell into its sections and adds those that apply to
 * `wl`, judging each heading by the products it names. */
static void expect_sections(expect *x, const char *cell, const char *wl)
{
  static const char *const headings[] = {
      "Defender for Office and Defender for Identity only permissions", "Defender for Endpoint only permissions",
      "Defender for Office only permissions", "Defender for Identity only permissions"};
  const char *p = cell;
  while (*p) {
    const char *best = NULL;
    size_t h = 0;
    for (size_t i = 0; i < 4; i++) {
      const char *hit = strstr(p, headings[i]);
      if (hit && (!best || hit < best)) {
        best = hit;
        h = i;
      }
    }
    if (!best)
      break;
    const char *body = best + strlen(headings[h]), *next = NULL;
    for (size_t i = 0; i < 4; i++) {
      const char *hit = strstr(body, headings[i]);
      if (hit && (!next || hit < next))
        next = hit;
    }
    const char *hd = headings[h];
    bool applies = (strstr(hd, "Endpoint") && !strcmp(wl, "mde")) || (strstr(hd, "Office") && !strcmp(wl, "mdo")) ||
                   (strstr(hd, "Identity") && !strcmp(wl, "mdi"));
    char part[2048];
    snprintf(part, sizeof part, "%.*s", (int)(next ? (size_t)(next - body) : strlen(body)), body);
    if (applies)
      expect_cell(x, part);
    p = next ? next : body + strlen(body);
  }
}

/* The seed row of a directory role. */
static size_t dir_row(size_t nrows, const char *name)
{
  for (size_t i = 0; i < nrows; i++)
    if (strcmp(cells[3 * i], name) == 0)
      return i;
  fail_msg("no seed row '%s'", name);
  return 0;
}

/* Column `col` (1 all workloads, 2 workload specific) of a row, following "Same as X". */
static const char *dir_cell(size_t nrows, size_t row, size_t col)
{
  const char *c = cells[3 * row + col];
  if (strncmp(c, "Same as ", 8) == 0)
    return dir_cell(nrows, dir_row(nrows, c + 8), col);
  return strcmp(c, "not applicable") == 0 ? "" : c;
}

static void expect_dir(expect *x, size_t nrows, size_t row, const char *wl)
{
  expect_cell(x, dir_cell(nrows, row, 1));
  expect_sections(x, dir_cell(nrows, row, 2), wl);
}

static void test_directory_roles(void **state)
{
  (void)state;
  size_t n = table_cells("AAD role |", cells, 200, "Note");
  size_t rows = n / 3;
  assert_int_equal(rows, 8);
  assert_int_equal(urbac_catalog_legacy_count(URBAC_LEGACY_DIRECTORY_ROLE), 8);
  size_t ga = dir_row(rows, "Global administrator");
  for (size_t i = 0; i < rows; i++) {
    const char *name = cells[3 * i];
    assert_string_equal(urbac_catalog_legacy(URBAC_LEGACY_DIRECTORY_ROLE, i)->name, name);
    const char *same = urbac__legacy_cell(URBAC_LEGACY_DIRECTORY_ROLE, i, 5);
    const char *seed_same = strncmp(cells[3 * i + 1], "Same as ", 8) == 0   ? cells[3 * i + 1] + 8
                            : strncmp(cells[3 * i + 2], "Same as ", 8) == 0 ? cells[3 * i + 2] + 8
                                                                             : NULL;
    if (seed_same) {
      assert_non_null(same);
      assert_string_equal(same, seed_same);
    } else {
      assert_null(same);
      assert_same_words(urbac__legacy_cell(URBAC_LEGACY_DIRECTORY_ROLE, i, 0),
                        strcmp(cells[3 * i + 1], "not applicable") ? cells[3 * i + 1] : "", name);
    }
    /* unified mode on every workload: the row's all-workloads and matching sections */
    tenant t = one_row_tenant("users: [{id: u}, {id: d, directoryRoles: [\"%s\"]}]", name, "{mde: unified, mdo: unified, mdi: unified}");
    for (size_t w = 0; w < urbac_catalog_workload_count(); w++) {
      expect x = {0};
      expect_dir(&x, rows, i, urbac_catalog_workload_id(w));
      assert_grants(&t, "d", urbac_catalog_workload_id(w), &x, name);
    }
    tenant_free(&t);
    /* legacy mode: mdo and mdi as unified; mde only for Global and Security administrator */
    t = one_row_tenant("users: [{id: u}, {id: d, directoryRoles: [\"%s\"]}]", name, "{}");
    for (size_t w = 0; w < urbac_catalog_workload_count(); w++) {
      const char *wl = urbac_catalog_workload_id(w);
      expect x = {0};
      if (strcmp(wl, "mde") != 0)
        expect_dir(&x, rows, i, wl);
      else if (i == ga || strcmp(cells[3 * i + 1], "Same as Global administrator") == 0)
        expect_dir(&x, rows, ga, "mde");
      assert_grants(&t, "d", wl, &x, name);
    }
    tenant_free(&t);
  }
}

static void test_seed_000_names(void **state)
{
  (void)state;
  /* seed 000 names MDE permissions its own way; each must resolve */
  static const char *const names[] = {
      "Alerts investigation", "Manage security settings in Security Center", "Live response capabilities",
      "View data - Security operations", "View data - Threat and vulnerability management",
      "Active remediation actions - Security operations"};
  char *text = read_seed("000_");
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    size_t k;
    assert_int_equal(
        urbac_catalog_legacy_find(URBAC_LEGACY_MDE_PERMISSION, names[i], strlen(names[i]), &k, NULL),
        URBAC_OK);
  }
  /* the seed's own words for the settings permission, as seed 000 spells it */
  assert_non_null(strstr(text, "Manage security settings in Security Center"));
  free(text);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mde_permissions),  cmocka_unit_test(test_eop_role_groups),
      cmocka_unit_test(test_mdi_roles),        cmocka_unit_test(test_directory_roles),
      cmocka_unit_test(test_seed_000_names),
  };
  return cmocka_run_group_tests_name("seed tables", tests, setup, teardown);
}
