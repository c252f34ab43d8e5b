/*
 * legacy/import.c - legacy roles into unified roles, through the seed's mapping
 * tables (semantics.md "Import and activation").
 *
 * One unified role per legacy role (Defender for Endpoint role, EOP role group,
 * MDI role): the union of the mapped permissions, and one assignment "imported"
 * with the legacy role's groups or members, the workload as data source, and on
 * mde the device groups those groups may access (a group may access a device
 * group whose user access list names it or a group containing it; a list that is
 * empty is open to every holder of a legacy MDE role; `all` when that is every
 * device group). Each imported role records its source (importedFrom), which is
 * its identity: importing again finds it, leaves it alone when nothing changed
 * and otherwise replaces its permissions and assignment in place, keeping the
 * name and description an administrator may have edited.
 *
 * Depends on: util, catalog, model, jansson (the report as JSON).
 */
#include <jansson.h>
#include <stdio.h>

#include "model/model.h"
#include "urbac/legacy.h"

#define ASSIGNMENT_NAME "imported"

typedef struct item {
  urbac_import_item pub;
  char *role, *source, *scope;
} item;

typedef struct unmapped {
  urbac_import_unmapped pub;
  char *source;
} unmapped;

struct urbac_import_report {
  item *items;
  size_t n, cap;
  unmapped *unm;
  size_t nu, capu;
};

/* What an imported role should be. */
typedef struct desired {
  const char *source; /* canonical legacy name; borrowed */
  const char *description;
  urbac__gmask grants;
  const urbac__refs *principals; /* borrowed from the legacy role */
  bool group_principals;         /* mde: the role's groups (refs of kind group) */
  bool all_dgs;
  uint64_t *dgs; /* mde: device-group bitset */
} desired;

typedef struct importer {
  urbac_model *m;
  size_t w;
  urbac_import_report *r;
  urbac__tables t;
  uint32_t *parents_off, *parents; /* group -> groups containing it */
  uint8_t *seen;                   /* scratch, per group */
  uint32_t *stack;
  size_t dg_words;
} importer;

/* ---------------------------------------------------------------- report */

void urbac_import_report_free(urbac_import_report *r)
{
  if (!r)
    return;
  for (size_t i = 0; i < r->n; i++) {
    urbac__free(r->items[i].role);
    urbac__free(r->items[i].source);
    urbac__free(r->items[i].scope);
  }
  for (size_t i = 0; i < r->nu; i++)
    urbac__free(r->unm[i].source);
  urbac__free(r->items);
  urbac__free(r->unm);
  urbac__free(r);
}

size_t urbac_import_report_count(const urbac_import_report *r) { return r->n; }
const urbac_import_item *urbac_import_report_item(const urbac_import_report *r, size_t i)
{
  return i < r->n ? &r->items[i].pub : NULL;
}
size_t urbac_import_report_unmapped_count(const urbac_import_report *r) { return r->nu; }
const urbac_import_unmapped *urbac_import_report_unmapped(const urbac_import_report *r, size_t i)
{
  return i < r->nu ? &r->unm[i].pub : NULL;
}

bool urbac_import_report_changed(const urbac_import_report *r)
{
  for (size_t i = 0; i < r->n; i++)
    if (r->items[i].pub.action != URBAC_IMPORT_UNCHANGED)
      return true;
  return false;
}

static urbac_err report_unmapped(importer *c, const char *perm, const char *source)
{
  urbac_import_report *r = c->r;
  if (URBAC_GROW(r->unm, r->capu, r->nu + 1))
    return URBAC_ENOMEM;
  unmapped *u = &r->unm[r->nu];
  if (!(u->source = urbac__strdup(source)))
    return URBAC_ENOMEM;
  u->pub = (urbac_import_unmapped){perm, u->source};
  r->nu++;
  return URBAC_OK;
}

/* "all", or the device groups' ids separated by ", ". */
static char *scope_text(const importer *c, const urbac__role *role)
{
  urbac__buf b = {0};
  const urbac__assignment *a = role->nasg ? &role->asg[0] : NULL;
  if (c->w != URBAC__WL_MDE || !a)
    urbac__buf_puts(&b, "");
  else if (a->all_dgs)
    urbac__buf_puts(&b, "all");
  for (size_t i = 0; a && c->w == URBAC__WL_MDE && !a->all_dgs && i < a->dgs.n; i++)
    urbac__buf_printf(&b, "%s%s", i ? ", " : "", a->dgs.v[i].name);
  return urbac__buf_take(&b, NULL);
}

static urbac_err report_item(importer *c, urbac_import_action action, const urbac__role *role)
{
  urbac_import_report *r = c->r;
  if (URBAC_GROW(r->items, r->cap, r->n + 1))
    return URBAC_ENOMEM;
  item *it = &r->items[r->n];
  it->role = urbac__strdup(role->name);
  it->source = urbac__strdup(role->imported_name);
  it->scope = scope_text(c, role);
  if (!it->role || !it->source || !it->scope) {
    urbac__free(it->role);
    urbac__free(it->source);
    urbac__free(it->scope);
    return URBAC_ENOMEM;
  }
  size_t principals = role->nasg ? role->asg[0].principals.n : 0;
  it->pub = (urbac_import_item){action, it->role, it->source, role->nperms, principals, it->scope};
  r->n++;
  return URBAC_OK;
}

/* ---------------------------------------------------------------- mde device access */

/* group -> the groups that contain it directly, as compressed rows. */
static urbac_err build_parents(importer *c)
{
  const urbac_model *m = c->m;
  size_t n = m->groups.n, edges = 0;
  c->parents_off = urbac__calloc(n + 2, sizeof *c->parents_off);
  c->seen = urbac__calloc(n ? n : 1, 1);
  c->stack = urbac__malloc((n ? n : 1) * sizeof *c->stack);
  if (!c->parents_off || !c->seen || !c->stack)
    return URBAC_ENOMEM;
  for (size_t g = 0; g < n; g++) {
    const urbac__refs *mem = urbac__group_at(m, g) ? &urbac__group_at(m, g)->members : &(urbac__refs){0};
    for (size_t i = 0; i < mem->n; i++)
      if (mem->v[i].kind == URBAC__REF_GROUP && mem->v[i].idx != URBAC__PENDING) {
        c->parents_off[mem->v[i].idx + 2]++;
        edges++;
      }
  }
  for (size_t i = 2; i < n + 2; i++)
    c->parents_off[i] += c->parents_off[i - 1];
  if (!(c->parents = urbac__malloc((edges ? edges : 1) * sizeof *c->parents)))
    return URBAC_ENOMEM;
  for (size_t g = 0; g < n; g++) {
    const urbac__refs *mem = urbac__group_at(m, g) ? &urbac__group_at(m, g)->members : &(urbac__refs){0};
    for (size_t i = 0; i < mem->n; i++)
      if (mem->v[i].kind == URBAC__REF_GROUP && mem->v[i].idx != URBAC__PENDING)
        c->parents[c->parents_off[mem->v[i].idx + 1]++] = (uint32_t)g;
  }
  return URBAC_OK;
}

/* Marks in c->seen group `g` and every group containing it. */
static void mark_ancestors(importer *c, uint32_t g)
{
  size_t top = 0;
  if (c->seen[g])
    return;
  c->seen[g] = 1;
  c->stack[top++] = g;
  while (top) {
    uint32_t x = c->stack[--top];
    for (uint32_t i = c->parents_off[x]; i < c->parents_off[x + 1]; i++)
      if (!c->seen[c->parents[i]]) {
        c->seen[c->parents[i]] = 1;
        c->stack[top++] = c->parents[i];
      }
  }
}

/* The device groups a legacy MDE role's groups may access, into d->dgs. */
static void mde_access(importer *c, const urbac__mde_role *role, desired *d)
{
  const urbac_model *m = c->m;
  memset(c->seen, 0, m->groups.n ? m->groups.n : 1);
  for (size_t i = 0; i < role->groups.n; i++)
    if (role->groups.v[i].idx != URBAC__PENDING) /* names nothing yet */
      mark_ancestors(c, role->groups.v[i].idx);
  d->all_dgs = true;
  for (size_t g = 0; g < m->dgs.n; g++) {
    if (!urbac__dg_at(m, g))
      continue; /* a deleted device group's slot */
    const urbac__refs *acc = &urbac__dg_at(m, g)->access;
    bool ok = acc->n == 0;
    for (size_t i = 0; i < acc->n && !ok; i++)
      ok = acc->v[i].idx != URBAC__PENDING && c->seen[acc->v[i].idx] != 0;
    if (ok)
      urbac__bit_set(d->dgs, g);
    d->all_dgs = d->all_dgs && ok;
  }
}

/* ---------------------------------------------------------------- the role */

/* Permission entries for a grant mask: per permission in catalog order, every
 * level when manage is granted (manage implies read), else read. */
static urbac_err perms_from(const urbac__gmask *g, urbac__role *r)
{
  for (unsigned p = 0; p < URBAC__NPERMS; p++) {
    unsigned gm = urbac__grant_index(p, URBAC_LEVEL_MANAGE), gr = urbac__grant_index(p, URBAC_LEVEL_READ);
    bool manage = gm != URBAC__NO_GRANT && urbac__gmask_has(g, gm);
    bool read = gr != URBAC__NO_GRANT && urbac__gmask_has(g, gr);
    if (!manage && !read)
      continue;
    if (URBAC_GROW(r->perms, r->cap_perms, r->nperms + 1))
      return URBAC_ENOMEM;
    r->perms[r->nperms++] =
        (urbac__perm_entry){{(uint16_t)p, manage ? URBAC_LEVEL_ALL : URBAC_LEVEL_READ}, NULL, {0, 0}};
  }
  r->grants = *g;
  return URBAC_OK;
}

static urbac_err copy_refs(const urbac__refs *src, urbac__refs *dst, bool as_groups)
{
  for (size_t i = 0; i < src->n; i++) {
    const urbac__ref *r = &src->v[i];
    urbac_err err = urbac__refs_add(dst, r->name, strlen(r->name),
                                    as_groups ? URBAC__REF_GROUP : (urbac__ref_kind)r->kind, r->loc);
    if (err)
      return err;
    dst->v[dst->n - 1].idx = r->idx;
  }
  return URBAC_OK;
}

/* The assignment a desired role has. */
static urbac_err make_assignment(const importer *c, const desired *d, urbac__assignment *a)
{
  memset(a, 0, sizeof *a);
  a->workloads = 1u << c->w;
  a->all_dgs = c->w != URBAC__WL_MDE || d->all_dgs;
  if (!(a->name = urbac__strdup(ASSIGNMENT_NAME)))
    return URBAC_ENOMEM;
  urbac_err err = copy_refs(d->principals, &a->principals, d->group_principals);
  for (size_t g = 0; !err && !a->all_dgs && g < c->m->dgs.n; g++)
    if (urbac__bit_test(d->dgs, g)) {
      const char *id = urbac__dg_at(c->m, g)->id;
      err = urbac__refs_add(&a->dgs, id, strlen(id), URBAC__REF_DG, (urbac__loc){0, 0});
      if (!err)
        a->dgs.v[a->dgs.n - 1].idx = (uint32_t)g;
    }
  return err;
}

static bool same_refs(const urbac__refs *a, const urbac__refs *b)
{
  if (a->n != b->n)
    return false;
  for (size_t i = 0; i < a->n; i++)
    if (a->v[i].kind != b->v[i].kind || strcmp(a->v[i].name, b->v[i].name) != 0)
      return false;
  return true;
}

/* Has an existing imported role exactly the permissions and assignment wanted? */
static bool up_to_date(const urbac__role *have, const urbac__role *want)
{
  /* compare what the permissions grant: "(manage)" and "(All permissions)" on a
   * manage-only permission are the same grant */
  if (have->nperms != want->nperms || have->nasg != 1 || !urbac__gmask_eq(&have->grants, &want->grants))
    return false;
  for (size_t i = 0; i < have->nperms; i++)
    if (have->perms[i].wildcard || have->perms[i].grant.perm != want->perms[i].grant.perm)
      return false;
  const urbac__assignment *a = &have->asg[0], *b = &want->asg[0];
  return strcmp(a->name, b->name) == 0 && a->workloads == b->workloads && a->all_sources == b->all_sources &&
         a->all_dgs == b->all_dgs && same_refs(&a->principals, &b->principals) && same_refs(&a->dgs, &b->dgs);
}

/* A role name no other role has: the legacy name, else "name (mde)", else numbered. */
static char *unique_name(const urbac_model *m, const char *base, const char *wl)
{
  for (unsigned k = 0; k < 1000; k++) {
    urbac__buf b = {0};
    if (k == 0)
      urbac__buf_puts(&b, base);
    else
      urbac__buf_printf(&b, k == 1 ? "%s (%s)" : "%s (%s) %u", base, wl, k);
    if (b.failed)
      return NULL;
    bool taken = false;
    for (size_t r = 0; r < m->roles.n && !taken; r++)
      taken = urbac__role_at(m, r) && strcmp(urbac__role_at(m, r)->name, b.s) == 0;
    if (!taken)
      return urbac__buf_take(&b, NULL);
    urbac__buf_free(&b);
  }
  return NULL;
}

static urbac__role *find_imported(urbac_model *m, size_t w, const char *source)
{
  for (size_t r = 0; r < m->roles.n; r++) {
    urbac__role *role = urbac__role_at(m, r);
    if (role && role->imported_wl == w && role->imported_name && strcmp(role->imported_name, source) == 0)
      return role;
  }
  return NULL;
}

/* Creates, updates or leaves alone the unified role for one legacy role. */
static urbac_err apply(importer *c, const desired *d)
{
  urbac__role want = {.o = {1, URBAC__OBJ_ROLE}, .imported_wl = (uint8_t)c->w};
  urbac_err err = perms_from(&d->grants, &want);
  if (!err && (URBAC_GROW(want.asg, want.cap_asg, 1) || (want.nasg = 1, make_assignment(c, d, &want.asg[0]))))
    err = URBAC_ENOMEM;
  if (err)
    goto fail;
  urbac__role *have = find_imported(c->m, c->w, d->source);
  if (have && up_to_date(have, &want)) {
    urbac__role_contents_free(&want);
    return report_item(c, URBAC_IMPORT_UNCHANGED, have);
  }
  if (have) {
    urbac__role_contents_free(have);
    have->perms = want.perms, have->nperms = want.nperms, have->cap_perms = want.cap_perms;
    have->asg = want.asg, have->nasg = want.nasg, have->cap_asg = want.cap_asg;
    have->grants = want.grants;
    return report_item(c, URBAC_IMPORT_UPDATED, have);
  }
  urbac__buf desc = {0};
  if (d->description)
    urbac__buf_puts(&desc, d->description);
  else
    urbac__buf_printf(&desc, "Imported from %s: %s", urbac_catalog_workload_name(c->w), d->source);
  want.description = urbac__buf_take(&desc, NULL);
  want.name = unique_name(c->m, d->source, urbac_catalog_workload_id(c->w));
  want.imported_name = urbac__strdup(d->source);
  urbac__role *made = urbac__obj_new(URBAC__OBJ_ROLE);
  if (!want.description || !want.name || !want.imported_name || !made) {
    urbac__free(made);
    err = URBAC_ENOMEM;
    goto fail;
  }
  *made = want;
  if (urbac__model_push(&c->m->roles, made)) /* releases `made` and what it owns */
    return URBAC_ENOMEM;
  return report_item(c, URBAC_IMPORT_CREATED, made);
fail:
  urbac__role_contents_free(&want);
  urbac__free(want.name);
  urbac__free(want.description);
  urbac__free(want.imported_name);
  return err;
}

/* ---------------------------------------------------------------- per workload */

static urbac_err import_mde(importer *c)
{
  urbac_err err = build_parents(c);
  for (size_t i = 0; i < c->m->mde_roles.n && !err; i++) {
    const urbac__mde_role *role = urbac__mde_at(c->m, i);
    if (!role)
      continue;
    desired d = {.source = role->name,
                 .description = role->description,
                 .principals = &role->groups,
                 .group_principals = true};
    if (!(d.dgs = urbac__calloc(c->dg_words, sizeof *d.dgs)))
      return URBAC_ENOMEM;
    for (uint32_t p = 0; p < URBAC__NMDE && !err; p++) {
      if (!(role->perms & (1u << p)))
        continue;
      urbac__gmask_or(&d.grants, &c->t.mde[p]);
      if (urbac__gmask_empty(&c->t.mde[p]))
        err = report_unmapped(c, urbac_catalog_legacy(URBAC_LEGACY_MDE_PERMISSION, p)->name, role->name);
    }
    mde_access(c, role, &d);
    if (!err)
      err = apply(c, &d);
    urbac__free(d.dgs);
  }
  return err;
}

/* EOP role groups (mdo) or MDI roles (mdi): catalog rows with members. */
static urbac_err import_members(importer *c, const urbac__cow *items, urbac_legacy_kind kind,
                                const urbac__gmask *table)
{
  urbac_err err = URBAC_OK;
  for (size_t i = 0; i < items->n && !err; i++) {
    const urbac__legacy_members *lm = URBAC__AT(*items, i);
    if (!lm)
      continue;
    desired d = {.source = urbac_catalog_legacy(kind, lm->which)->name,
                 .principals = &lm->members,
                 .grants = table[lm->which],
                 .all_dgs = true};
    err = apply(c, &d);
  }
  return err;
}

urbac_err urbac_import(const urbac_model *m, size_t workload, urbac_model **out, urbac_import_report **report,
                       urbac_diag *d)
{
  importer c = {.w = workload};
  urbac_err err = URBAC_ENOMEM;
  *out = NULL;
  if (report)
    *report = NULL;
  if (workload >= URBAC__NWORKLOADS)
    return urbac__diag_add(d, URBAC_EWORKLOAD, NULL, 0, 0, NULL, "unknown workload index %zu", workload);
  /* all or nothing: build the new model from a copy, hand it over when everything worked */
  if (urbac_model_clone(m, &c.m, d))
    goto out;
  if (!(c.r = urbac__calloc(1, sizeof *c.r)) || urbac__tables_build(&c.t, NULL)) {
    urbac__diag_code(d, err, "importing");
    goto out;
  }
  c.dg_words = urbac__bits_words(c.m->dgs.n ? c.m->dgs.n : 1);
  if (workload == URBAC__WL_MDE)
    err = import_mde(&c);
  else if (workload == URBAC__WL_MDO)
    err = import_members(&c, &c.m->eop, URBAC_LEGACY_EOP_ROLE_GROUP, c.t.eop);
  else if (workload == URBAC__WL_MDI)
    err = import_members(&c, &c.m->mdi, URBAC_LEGACY_MDI_ROLE, c.t.mdi);
  else
    err = URBAC_OK; /* a workload without a legacy model: nothing to import */
  if (err)
    urbac__diag_code(d, err, "importing");
out:
  urbac__free(c.parents_off);
  urbac__free(c.parents);
  urbac__free(c.seen);
  urbac__free(c.stack);
  if (err) {
    urbac_model_free(c.m);
    urbac_import_report_free(c.r);
    return err;
  }
  *out = c.m;
  if (report)
    *report = c.r;
  else
    urbac_import_report_free(c.r);
  return URBAC_OK;
}

urbac_err urbac_import_report_json(const urbac_import_report *r, char **out, urbac_diag *d)
{
  static const char *const actions[] = {"created", "updated", "unchanged"};
  json_t *roles = json_array(), *missing = json_array();
  for (size_t i = 0; i < urbac_import_report_count(r); i++) {
    const urbac_import_item *it = urbac_import_report_item(r, i);
    json_array_append_new(roles, json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "action", actions[it->action],
                                           "role", it->role, "source", it->source, "permissions",
                                           (json_int_t)it->permissions, "principals",
                                           (json_int_t)it->principals, "deviceGroups", it->scope));
  }
  for (size_t i = 0; i < urbac_import_report_unmapped_count(r); i++) {
    const urbac_import_unmapped *u = urbac_import_report_unmapped(r, i);
    json_array_append_new(missing, json_pack("{s:s, s:s}", "permission", u->permission, "source", u->source));
  }
  json_t *o = json_pack("{s:o, s:o, s:b}", "roles", roles, "unmapped", missing, "changed",
                        urbac_import_report_changed(r));
  char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  *out = text ? urbac__strdup(text) : NULL;
  free(text);
  return *out ? URBAC_OK : urbac__diag_code(d, URBAC_ENOMEM, "the import report as JSON");
}
