/*
 * catalog/catalog.c - the catalog as C tables, generated from defender.def by the
 * preprocessor, and the grant arithmetic the engine is built on.
 *
 * The tables are small (tens of rows) and constant. Mapping cells stay as the
 * seed's text here; urbac__tables_build() resolves them through catalog/names.c,
 * once per process, so the text in defender.def is the single source.
 *
 * Depends on: util, catalog/names.c, pthreads.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <strings.h>

#include "catalog/catalog.h"

#define R URBAC_LEVEL_READ
#define M URBAC_LEVEL_MANAGE
#define RM (URBAC_LEVEL_READ | URBAC_LEVEL_MANAGE)

static const urbac_perm_info perms[URBAC__NPERMS] = {
#define URBAC_PERM(E, name, id, lv, applies) {name, "microsoft.xdr/" id, lv, applies},
#include "catalog/defender.def"
};
#undef R
#undef M
#undef RM

static const struct {
  const char *id, *name, *app;
  bool legacy;
} workloads[URBAC__NWORKLOADS] = {
#define URBAC_WORKLOAD(E, id, name, app, legacy) {id, name, app, legacy},
#include "catalog/defender.def"
};

/* Other Graph stems, as whole actions' stems ("microsoft.xdr/" included). */
static const struct {
  unsigned perm;
  const char *stem;
} perm_ids[] = {
#define URBAC_PERM_ID(E, stem) {URBAC__P_##E, "microsoft.xdr/" stem},
#include "catalog/defender.def"
};
#define NPERM_IDS (sizeof perm_ids / sizeof perm_ids[0])

/* The current catalog's implications (defender.def, URBAC_PERM_IMPLIES). */
static const struct {
  unsigned perm, level, implied, implied_level;
} implies[] = {
#define URBAC_PERM_IMPLIES(E, lv, I, ilv) {URBAC__P_##E, URBAC_LEVEL_##lv, URBAC__P_##I, URBAC_LEVEL_##ilv},
#include "catalog/defender.def"
};

#define T_MDE "Map Defender for Endpoint permissions"
#define T_EOP "Map Defender for Office 365 (Exchange Online Protection) roles"
#define T_MDI "Map Microsoft Defender for Identity permissions"
#define T_DIR "Azure Active Directory Global roles access"

static const urbac_legacy_info mde_info[URBAC__NMDE] = {
#define URBAC_MDE_MAP(E, id, name, cell) {id, name, T_MDE},
#include "catalog/defender.def"
};
static const char *const mde_cells[URBAC__NMDE] = {
#define URBAC_MDE_MAP(E, id, name, cell) cell,
#include "catalog/defender.def"
};
static const urbac_legacy_info eop_info[URBAC__NEOP] = {
#define URBAC_EOP_ROLE(E, id, name, cell) {id, name, T_EOP},
#include "catalog/defender.def"
};
static const char *const eop_cells[URBAC__NEOP] = {
#define URBAC_EOP_ROLE(E, id, name, cell) cell,
#include "catalog/defender.def"
};
static const urbac_legacy_info mdi_info[URBAC__NMDI] = {
#define URBAC_MDI_ROLE(E, id, name, cell) {id, name, T_MDI},
#include "catalog/defender.def"
};
static const char *const mdi_cells[URBAC__NMDI] = {
#define URBAC_MDI_ROLE(E, id, name, cell) cell,
#include "catalog/defender.def"
};
static const urbac_legacy_info dir_info[URBAC__NDIR] = {
#define URBAC_DIR_ROLE(E, id, name, same, all, mde, mdo, mdi, mdomdi) {id, name, T_DIR},
#include "catalog/defender.def"
};
enum { URBAC__DIR_SELF = -1 };
#define URBAC__DIR_SAME(x) URBAC__DIR_##x
static const struct {
  int same_as;
  const char *cells[5]; /* all workloads, then the four sections */
} dir_rows[URBAC__NDIR] = {
#define URBAC_DIR_ROLE(E, id, name, same, all, mde, mdo, mdi, mdomdi)                                        \
  {URBAC__DIR_SAME(same), {all, mde, mdo, mdi, mdomdi}},
#include "catalog/defender.def"
};

/* Which workloads each workload-specific section applies to. */
static const struct {
  const char *heading;
  int wl[URBAC__NWORKLOADS + 1]; /* terminated by -1 */
} dir_sections[4] = {
#define URBAC_DIR_SECTION(col, heading, ...) [col] = {heading, {__VA_ARGS__, -1}},
#define MDE URBAC__WL_MDE
#define MDO URBAC__WL_MDO
#define MDI URBAC__WL_MDI
#include "catalog/defender.def"
#undef MDE
#undef MDO
#undef MDI
};

/* grant index <-> (perm, level) */
static const urbac_grant grants[URBAC__NGRANTS] = {
#define URBAC__GR_R(E) {URBAC__P_##E, URBAC_LEVEL_READ},
#define URBAC__GR_M(E) {URBAC__P_##E, URBAC_LEVEL_MANAGE},
#define URBAC__GR_RM(E) URBAC__GR_R(E) URBAC__GR_M(E)
#define URBAC_PERM(E, name, id, lv, applies) URBAC__GR_##lv(E)
#include "catalog/defender.def"
};

/* ---------------------------------------------------------------- public lookups */

size_t urbac_catalog_perm_count(void) { return URBAC__NPERMS; }

const urbac_perm_info *urbac_catalog_perm(size_t i) { return i < URBAC__NPERMS ? &perms[i] : NULL; }

size_t urbac_catalog_workload_count(void) { return URBAC__NWORKLOADS; }

const char *urbac_catalog_workload_id(size_t i) { return i < URBAC__NWORKLOADS ? workloads[i].id : NULL; }

const char *urbac_catalog_workload_name(size_t i) { return i < URBAC__NWORKLOADS ? workloads[i].name : NULL; }

const char *urbac_catalog_workload_app(size_t i) { return i < URBAC__NWORKLOADS ? workloads[i].app : NULL; }

bool urbac_catalog_workload_has_legacy(size_t i) { return i < URBAC__NWORKLOADS && workloads[i].legacy; }

const char *urbac_catalog_perm_alias_id(size_t perm, size_t k)
{
  for (size_t i = 0; i < NPERM_IDS; i++)
    if (perm_ids[i].perm == perm && k-- == 0)
      return perm_ids[i].stem;
  return NULL;
}

size_t urbac_catalog_workload_list(char *buf, size_t size, bool legacy_only)
{
  size_t used = 0, listed = 0, total = 0;
  for (size_t i = 0; i < URBAC__NWORKLOADS; i++)
    total += !legacy_only || workloads[i].legacy;
  if (size)
    buf[0] = '\0';
  for (size_t i = 0; i < URBAC__NWORKLOADS && used < size; i++) {
    if (legacy_only && !workloads[i].legacy)
      continue;
    listed++;
    int n = snprintf(buf + used, size - used, "%s%s",
                     listed == 1       ? ""
                     : listed == total ? " or "
                                       : ", ",
                     workloads[i].id);
    used += n > 0 ? (size_t)n : 0;
  }
  return used < size ? used : (size ? size - 1 : 0);
}

int urbac_catalog_workload_find(const char *id)
{
  for (int i = 0; i < URBAC__NWORKLOADS; i++)
    if (strcasecmp(id, workloads[i].id) == 0 || strcasecmp(id, workloads[i].app) == 0)
      return i;
  return -1;
}

size_t urbac_catalog_legacy_count(urbac_legacy_kind kind)
{
  switch (kind) {
  case URBAC_LEGACY_MDE_PERMISSION:
    return URBAC__NMDE;
  case URBAC_LEGACY_EOP_ROLE_GROUP:
    return URBAC__NEOP;
  case URBAC_LEGACY_MDI_ROLE:
    return URBAC__NMDI;
  case URBAC_LEGACY_DIRECTORY_ROLE:
    return URBAC__NDIR;
  }
  return 0;
}

const urbac_legacy_info *urbac_catalog_legacy(urbac_legacy_kind kind, size_t i)
{
  if (i >= urbac_catalog_legacy_count(kind))
    return NULL;
  switch (kind) {
  case URBAC_LEGACY_MDE_PERMISSION:
    return &mde_info[i];
  case URBAC_LEGACY_EOP_ROLE_GROUP:
    return &eop_info[i];
  case URBAC_LEGACY_MDI_ROLE:
    return &mdi_info[i];
  case URBAC_LEGACY_DIRECTORY_ROLE:
    return &dir_info[i];
  }
  return NULL;
}

const char *urbac__legacy_cell(urbac_legacy_kind kind, size_t i, size_t column)
{
  if (i >= urbac_catalog_legacy_count(kind))
    return NULL;
  switch (kind) {
  case URBAC_LEGACY_MDE_PERMISSION:
    return column == 0 ? mde_cells[i] : NULL;
  case URBAC_LEGACY_EOP_ROLE_GROUP:
    return column == 0 ? eop_cells[i] : NULL;
  case URBAC_LEGACY_MDI_ROLE:
    return column == 0 ? mdi_cells[i] : NULL;
  case URBAC_LEGACY_DIRECTORY_ROLE:
    if (column == 5)
      return dir_rows[i].same_as == URBAC__DIR_SELF ? NULL : dir_info[dir_rows[i].same_as].name;
    return column < 5 ? dir_rows[i].cells[column] : NULL;
  }
  return NULL;
}

const char *urbac_level_name(urbac_level level)
{
  switch (level) {
  case URBAC_LEVEL_READ:
    return "read";
  case URBAC_LEVEL_MANAGE:
    return "manage";
  case URBAC_LEVEL_ALL:
    return "All permissions";
  case URBAC_LEVEL_NONE:
    break;
  }
  return "none";
}

/* ---------------------------------------------------------------- grants */

unsigned urbac__grant_index(unsigned perm, unsigned level)
{
  /* The table is tiny and ordered by permission; a scan beats any index here. */
  for (unsigned g = 0; g < URBAC__NGRANTS; g++)
    if (grants[g].perm == perm && grants[g].level == level)
      return g;
  return URBAC__NO_GRANT;
}

urbac_grant urbac__grant_of(unsigned g) { return grants[g]; }

void urbac__gmask_add(urbac__gmask *m, unsigned perm, unsigned level)
{
  unsigned supported = perms[perm].levels;
  if (level == URBAC_LEVEL_MANAGE || level == URBAC_LEVEL_ALL)
    level = supported; /* manage implies read wherever read exists */
  for (unsigned l = URBAC_LEVEL_READ; l <= URBAC_LEVEL_MANAGE; l++) {
    unsigned g = (level & l & supported) ? urbac__grant_index(perm, l) : URBAC__NO_GRANT;
    if (g != URBAC__NO_GRANT)
      urbac__bit_set(m->w, g);
  }
}

void urbac__gmask_imply(urbac__gmask *m)
{
  urbac__gmask add = {{0}};
  for (size_t i = 0; i < sizeof implies / sizeof implies[0]; i++) {
    unsigned g = urbac__grant_index(implies[i].perm, implies[i].level);
    if (g != URBAC__NO_GRANT && urbac__gmask_has(m, g))
      urbac__gmask_add(&add, implies[i].implied, implies[i].implied_level);
  }
  urbac__gmask_or(m, &add);
}

size_t urbac_grant_format(urbac_grant g, char *buf, size_t size)
{
  if (g.perm >= URBAC__NPERMS)
    return (size_t)snprintf(buf, size, "?");
  int n = snprintf(buf, size, "%s (%s)", perms[g.perm].name, urbac_level_name((urbac_level)g.level));
  return n < 0 ? 0 : (size_t)n;
}

size_t urbac_grant_action(urbac_grant g, char *buf, size_t size)
{
  if (g.perm >= URBAC__NPERMS)
    return (size_t)snprintf(buf, size, "?");
  const char *lv = g.level == URBAC_LEVEL_READ ? "read" : g.level == URBAC_LEVEL_MANAGE ? "manage" : "*";
  int n = snprintf(buf, size, "%s/%s", perms[g.perm].id, lv);
  return n < 0 ? 0 : (size_t)n;
}

/* Case-insensitive glob against an action already in lower case: '*' matches any
 * run of characters, '/' included, as in Azure and Graph resource actions.
 * Iterative, with one backtrack point: on a mismatch after a star, the star takes
 * one more character. */
static bool glob_match(const char *p, size_t plen, const char *s)
{
  size_t pi = 0, si = 0, star = SIZE_MAX, mark = 0, slen = strlen(s);
  while (si < slen) {
    bool is_star = pi < plen && p[pi] == '*';
    if (is_star) {
      star = pi++;
      mark = si;
      continue;
    }
    if (pi < plen && tolower((unsigned char)p[pi]) == (unsigned char)s[si]) {
      pi++;
      si++;
      continue;
    }
    if (star == SIZE_MAX)
      return false;
    pi = star + 1;
    si = ++mark;
  }
  while (pi < plen && p[pi] == '*')
    pi++;
  return pi == plen;
}

/* Every spelling of every grant's action, in lower case: its id, then each other
 * Graph stem of its permission (perm_ids), at its level. Built once per process,
 * so a wildcard costs one glob per spelling, not a formatting of each. A grant has
 * one level, and a permission at most two grants, hence the bound. */
#define SPELLING_MAX 128
#define URBAC_PERM(E, name, id, lv, applies)                                                                 \
  _Static_assert(sizeof "microsoft.xdr/" id "/manage" <= SPELLING_MAX, "action too long: " id);
#include "catalog/defender.def"
#define URBAC_PERM_ID(E, stem)                                                                               \
  _Static_assert(sizeof "microsoft.xdr/" stem "/manage" <= SPELLING_MAX, "action too long: " stem);
#include "catalog/defender.def"
static struct {
  unsigned grant;
  char action[SPELLING_MAX];
} spellings[URBAC__NGRANTS + 2 * NPERM_IDS];
static size_t nspellings;
static pthread_once_t spellings_once = PTHREAD_ONCE_INIT;

static void spelling_add(unsigned g, const char *stem)
{
  URBAC_ASSERT(nspellings < sizeof spellings / sizeof spellings[0]);
  char *a = spellings[nspellings].action; /* fits: the bounds are checked above, at compile time */
  snprintf(a, SPELLING_MAX, "%s/%s", stem, grants[g].level == URBAC_LEVEL_READ ? "read" : "manage");
  for (; *a; a++)
    *a = (char)tolower((unsigned char)*a);
  spellings[nspellings++].grant = g;
}

static void spellings_build(void)
{
  for (unsigned g = 0; g < URBAC__NGRANTS; g++) {
    spelling_add(g, perms[grants[g].perm].id);
    for (size_t i = 0; i < NPERM_IDS; i++)
      if (perm_ids[i].perm == grants[g].perm)
        spelling_add(g, perm_ids[i].stem);
  }
}

/* A group action, "microsoft.xdr/securityposture/read": a level after a path that is
 * a whole-segment prefix of permission ids. Rewrites it as the wildcard it stands for
 * ("microsoft.xdr/securityposture/ * /read", without the spaces) into `out`; false
 * when `p` is not one. */
static bool group_pattern(const char *p, size_t len, char *out, size_t size)
{
  static const char prefix[] = "microsoft.xdr/";
  const char *slash = NULL;
  for (size_t i = 0; i < len; i++)
    slash = p[i] == '/' ? p + i : slash;
  if (!slash || memchr(p, '*', len))
    return false;
  size_t head = (size_t)(slash - p), tail = len - head - 1;
  bool read = tail == 4 && strncasecmp(slash + 1, "read", 4) == 0;
  bool manage = tail == 6 && strncasecmp(slash + 1, "manage", 6) == 0;
  bool bare = head < sizeof prefix - 1 || strncasecmp(p, prefix, sizeof prefix - 1) != 0;
  int n = (read || manage) && head > 0
              ? snprintf(out, size, "%s%.*s/*/%s", bare ? prefix : "", (int)head, p, read ? "read" : "manage")
              : -1;
  return n > 0 && (size_t)n < size;
}

size_t urbac__catalog_wildcard(const char *pattern, size_t len, urbac__gmask *out)
{
  char group[512];
  size_t n = 0;
  memset(out, 0, sizeof *out);
  if (group_pattern(pattern, len, group, sizeof group)) {
    pattern = group;
    len = strlen(group);
  }
  if (!memchr(pattern, '*', len))
    return 0;
  pthread_once(&spellings_once, spellings_build);
  for (size_t i = 0; i < nspellings; i++) {
    unsigned g = spellings[i].grant;
    if (!urbac__bit_test(out->w, g) && glob_match(pattern, len, spellings[i].action)) {
      urbac__bit_set(out->w, g);
      n++;
    }
  }
  return n;
}

size_t urbac_catalog_legacy_grants(urbac_legacy_kind kind, size_t i, size_t workload, urbac_grant *out,
                                   size_t max)
{
  urbac__tables t;
  const urbac__gmask *m = NULL;
  size_t n = 0;
  if (urbac__tables_build(&t, NULL) || i >= urbac_catalog_legacy_count(kind) || workload >= URBAC__NWORKLOADS)
    return 0;
  switch (kind) {
  case URBAC_LEGACY_MDE_PERMISSION:
    m = &t.mde[i];
    break;
  case URBAC_LEGACY_EOP_ROLE_GROUP:
    m = &t.eop[i];
    break;
  case URBAC_LEGACY_MDI_ROLE:
    m = &t.mdi[i];
    break;
  case URBAC_LEGACY_DIRECTORY_ROLE:
    m = &t.dir[i][workload];
    break;
  }
  for (unsigned g = 0; g < URBAC__NGRANTS; g++) {
    if (!urbac__gmask_has(m, g))
      continue;
    if (n < max)
      out[n] = grants[g];
    n++;
  }
  return n;
}

/* ---------------------------------------------------------------- seed tables */

/* Resolves one '|'-separated cell into `m`. */
static urbac_err resolve_cell(const char *cell, urbac__gmask *m, urbac_diag *d, const char *what)
{
  const char *p = cell;
  while (*p) {
    const char *bar = strchr(p, '|');
    size_t len = bar ? (size_t)(bar - p) : strlen(p);
    urbac_grant g;
    char why[256];
    if (urbac__catalog_resolve(p, len, &g, why, sizeof why))
      return urbac__diag_add(d, URBAC_EUNKNOWNPERM, "defender.def", 0, 0, what, "%s", why);
    urbac__gmask_add(m, g.perm, g.level ? g.level : URBAC_LEVEL_ALL);
    p += len + (bar ? 1 : 0);
  }
  return URBAC_OK;
}

static urbac_err build_dir_row(urbac__tables *t, size_t i, urbac_diag *d)
{
  urbac__gmask m;
  memset(&m, 0, sizeof m);
  urbac_err err = resolve_cell(dir_rows[i].cells[0], &m, d, dir_info[i].name);
  for (size_t w = 0; w < URBAC__NWORKLOADS; w++)
    t->dir[i][w] = m;
  for (size_t s = 0; s < 4 && !err; s++) {
    memset(&m, 0, sizeof m);
    err = resolve_cell(dir_rows[i].cells[s + 1], &m, d, dir_info[i].name);
    for (const int *w = dir_sections[s].wl; *w >= 0; w++)
      urbac__gmask_or(&t->dir[i][*w], &m);
  }
  return err;
}

/* Every cell with the current catalog's implications. */
static void tables_imply(urbac__tables *t)
{
  for (size_t i = 0; i < URBAC__NMDE; i++)
    urbac__gmask_imply(&t->mde[i]);
  for (size_t i = 0; i < URBAC__NEOP; i++)
    urbac__gmask_imply(&t->eop[i]);
  for (size_t i = 0; i < URBAC__NMDI; i++)
    urbac__gmask_imply(&t->mdi[i]);
  for (size_t i = 0; i < URBAC__NDIR; i++)
    for (size_t w = 0; w < URBAC__NWORKLOADS; w++)
      urbac__gmask_imply(&t->dir[i][w]);
}

static urbac_err tables_resolve(urbac__tables *t, urbac__edition edition, urbac_diag *d)
{
  urbac_err err = URBAC_OK;
  memset(t, 0, sizeof *t);
  for (size_t i = 0; i < URBAC__NMDE && !err; i++)
    err = resolve_cell(mde_cells[i], &t->mde[i], d, mde_info[i].name);
  for (size_t i = 0; i < URBAC__NEOP && !err; i++)
    err = resolve_cell(eop_cells[i], &t->eop[i], d, eop_info[i].name);
  for (size_t i = 0; i < URBAC__NMDI && !err; i++)
    err = resolve_cell(mdi_cells[i], &t->mdi[i], d, mdi_info[i].name);
  for (size_t i = 0; i < URBAC__NDIR && !err; i++)
    if (dir_rows[i].same_as == URBAC__DIR_SELF)
      err = build_dir_row(t, i, d);
  /* "Same as X" rows copy X's row; they refer to rows already built above. */
  for (size_t i = 0; i < URBAC__NDIR && !err; i++)
    if (dir_rows[i].same_as != URBAC__DIR_SELF)
      memcpy(t->dir[i], t->dir[dir_rows[i].same_as], sizeof t->dir[i]);
  if (edition == URBAC__EDITION_CURRENT)
    tables_imply(t);
  return err;
}

/* The tables are constant: resolved once per process and edition (every
 * snapshot compiled resolved its 200-odd cells again, by name, "did you mean"
 * ready: most of the compile time of a small tenant). */
static urbac__tables resolved[2];
static urbac_err resolved_err[2];
static pthread_once_t resolved_once[2] = {PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT};

static void resolve_seeds(void)
{
  resolved_err[URBAC__EDITION_SEEDS] =
      tables_resolve(&resolved[URBAC__EDITION_SEEDS], URBAC__EDITION_SEEDS, NULL);
}
static void resolve_current(void)
{
  resolved_err[URBAC__EDITION_CURRENT] =
      tables_resolve(&resolved[URBAC__EDITION_CURRENT], URBAC__EDITION_CURRENT, NULL);
}

urbac_err urbac__tables_build_edition(urbac__tables *t, urbac__edition edition, urbac_diag *d)
{
  size_t e = edition == URBAC__EDITION_CURRENT ? URBAC__EDITION_CURRENT : URBAC__EDITION_SEEDS;
  pthread_once(&resolved_once[e], e == URBAC__EDITION_CURRENT ? resolve_current : resolve_seeds);
  if (resolved_err[e]) /* broken data: again, to say which cell */
    return tables_resolve(t, (urbac__edition)e, d);
  *t = resolved[e];
  return URBAC_OK;
}

urbac_err urbac__tables_build(urbac__tables *t, urbac_diag *d)
{
  return urbac__tables_build_edition(t, URBAC__EDITION_SEEDS, d);
}

const char *urbac__dir_section_heading(size_t s) { return s < 4 ? dir_sections[s].heading : NULL; }
