/*
 * engine/explain.c - why a decision is what it is (semantics.md "Explain").
 *
 * The check path answers from compiled profiles, which keep no history; explain
 * walks the model instead, from the user up through its groups (breadth first,
 * so each group is reached by a shortest path), and lists every chain that
 * grants the question, or for a deny the nearest misses: a role with the
 * permission but not for this workload, a role for the workload but not this
 * device group, no role at all, a disabled or unknown user. The decision itself
 * is always the snapshot's (urbac__decide), so explain can never disagree with a
 * check; tests compare explain's own conclusion with it on random tenants.
 *
 * Depends on: util, catalog, model, engine/engine.h.
 */
#include <stdio.h>

#include "engine/engine.h"

#define NO_PRED UINT32_MAX
#define VIA_USER (UINT32_MAX - 1)

struct urbac_explanation {
  bool allowed; /* the snapshot's decision */
  bool found;   /* explain's own conclusion: a granting chain was found */
  urbac__strs lines;
};

typedef struct explainer {
  const urbac_snapshot *s;
  const urbac_model *m;
  const urbac_query *q;
  const char *uid; /* the user's id */
  urbac_explanation *e;
  uint32_t *pred;  /* per group: the group (or VIA_USER) it was reached from; NO_PRED if not */
  char grant[256]; /* "Alerts (manage)" */
  char where[256]; /* "on mde, device group servers" */
  bool oom;
} explainer;

static void line(explainer *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(explainer *c, const char *fmt, ...)
{
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0 || urbac__strs_add(&c->e->lines, buf, strlen(buf)))
    c->oom = true;
}

/* ---------------------------------------------------------------- principals */

/* Breadth-first from the user through the groups containing it. */
static urbac_err reach(explainer *c)
{
  size_t n = c->m->groups.n, head = 0, tail = 0;
  uint32_t *queue = urbac__malloc((n ? n : 1) * sizeof *queue);
  c->pred = urbac__malloc((n ? n : 1) * sizeof *c->pred);
  if (!queue || !c->pred) {
    urbac__free(queue);
    return URBAC_ENOMEM;
  }
  for (size_t g = 0; g < n; g++)
    c->pred[g] = NO_PRED;
  const urbac__ulist *ug = urbac__ulist_at(&c->s->user_groups, c->q->user);
  for (uint32_t i = 0; ug && i < ug->n; i++)
    if (c->pred[ug->v[i]] == NO_PRED) {
      c->pred[ug->v[i]] = VIA_USER;
      queue[tail++] = ug->v[i];
    }
  while (head < tail) {
    uint32_t g = queue[head++];
    const urbac__ulist *gp = urbac__ulist_at(&c->s->group_parents, g);
    for (uint32_t i = 0; gp && i < gp->n; i++)
      if (c->pred[gp->v[i]] == NO_PRED) {
        c->pred[gp->v[i]] = g;
        queue[tail++] = gp->v[i];
      }
  }
  urbac__free(queue);
  return URBAC_OK;
}

static bool reached(const explainer *c, const urbac__ref *r)
{
  if (r->idx == URBAC__PENDING) /* names nothing yet */
    return false;
  return r->kind == URBAC__REF_USER ? r->idx == c->q->user : c->pred[r->idx] != NO_PRED;
}

/* "ann -> group lr-team -> group all-staff" for a reached principal. */
static void chain(const explainer *c, const urbac__ref *r, char *buf, size_t size)
{
  uint32_t stack[64];
  size_t depth = 0;
  int n = snprintf(buf, size, "%s", c->uid);
  if (r->kind == URBAC__REF_USER)
    return;
  for (uint32_t g = r->idx; g != VIA_USER && depth < 64; g = c->pred[g])
    stack[depth++] = g;
  while (depth-- > 0 && n > 0 && (size_t)n < size)
    n += snprintf(buf + n, size - (size_t)n, " -> group %s", urbac__group_at(c->m, stack[depth])->id);
}

/* ---------------------------------------------------------------- directory roles */

/* Each directory role the user holds (directly or through a group) that gives the
 * grant on the workload, by the seed table. `only` limits the roles (legacy mde). */
static bool dir_roles(explainer *c, uint32_t only, const char *how)
{
  bool any = false;
  char path[1024];
  const urbac_model *m = c->m;
  for (uint32_t r = 0; r < URBAC__NDIR; r++) {
    if (!(only & (1u << r)) ||
        !urbac__gmask_has(&c->s->tables.dir[r][only == UINT32_MAX ? c->q->workload : URBAC__WL_MDE],
                          c->q->grant))
      continue;
    const char *role = urbac_catalog_legacy(URBAC_LEGACY_DIRECTORY_ROLE, r)->name;
    if (urbac__user_at(m, c->q->user)->dirroles & (1u << r)) {
      line(c, "%s -> directory role %s -> %s -> %s %s", c->uid, role, how, c->grant, c->where);
      any = true;
    }
    for (uint32_t g = 0; g < m->groups.n; g++) {
      if (c->pred[g] == NO_PRED || !(urbac__group_at(m, g)->dirroles & (1u << r)))
        continue;
      urbac__ref ref = {.kind = URBAC__REF_GROUP, .idx = g};
      chain(c, &ref, path, sizeof path);
      line(c, "%s -> directory role %s -> %s -> %s %s", path, role, how, c->grant, c->where);
      any = true;
    }
  }
  return any;
}

/* ---------------------------------------------------------------- unified */

static const char *dg_id(const explainer *c, uint32_t dg) { return urbac__dg_at(c->m, dg)->id; }

/* Does the assignment's device-group scope cover the question's scope? */
static bool covers(const explainer *c, const urbac__assignment *a)
{
  if (c->q->workload != URBAC__WL_MDE || a->all_dgs)
    return true;
  if (c->q->scope == URBAC_SCOPE_ANY)
    return a->dgs.n > 0;
  if (c->q->scope != URBAC_SCOPE_DEVICE_GROUP)
    return false;
  for (size_t i = 0; i < a->dgs.n; i++)
    if (a->dgs.v[i].idx == c->q->dg)
      return true;
  return false;
}

static void scope_list(const explainer *c, const urbac__assignment *a, char *buf, size_t size)
{
  int n = snprintf(buf, size, "device groups");
  for (size_t i = 0; i < a->dgs.n && n > 0 && (size_t)n < size; i++)
    n += snprintf(buf + n, size - (size_t)n, "%s%s", i ? ", " : " ", dg_id(c, a->dgs.v[i].idx));
}

/* The assignment's first reached principal, or NULL. */
static const urbac__ref *reached_principal(const explainer *c, const urbac__assignment *a)
{
  for (size_t p = 0; p < a->principals.n; p++)
    if (reached(c, &a->principals.v[p]))
      return &a->principals.v[p];
  return NULL;
}

static bool unified(explainer *c, size_t *misses)
{
  const urbac_model *m = c->m;
  const char *wl = urbac_catalog_workload_id(c->q->workload);
  char path[1024], dgs[1024];
  bool found = dir_roles(c, UINT32_MAX, "seed table \"Azure Active Directory Global roles access\"");
  for (size_t r = 0; r < m->roles.n; r++) {
    const urbac__role *role = urbac__role_at(m, r);
    if (!role || !urbac__gmask_has(&role->grants, c->q->grant))
      continue;
    for (size_t i = 0; i < role->nasg; i++) {
      const urbac__assignment *a = &role->asg[i];
      const urbac__ref *p = reached_principal(c, a);
      if (!p)
        continue;
      chain(c, p, path, sizeof path);
      if (!(a->workloads & (1u << c->q->workload))) {
        line(c,
             "missing: %s -> assignment \"%s\" of role \"%s\" grants %s, but not on %s (its data sources do "
             "not include it)",
             path, a->name, role->name, c->grant, wl);
        ++*misses;
      } else if (!covers(c, a)) {
        scope_list(c, a, dgs, sizeof dgs);
        line(c, "missing: %s -> assignment \"%s\" of role \"%s\" grants %s on %s, but only for %s%s", path,
             a->name, role->name, c->grant, wl, dgs,
             c->q->scope == URBAC_SCOPE_ALL ? " (scope all needs an assignment to all device groups)" : "");
        ++*misses;
      } else {
        line(c, "%s -> assignment \"%s\" of role \"%s\" -> %s %s", path, a->name, role->name, c->grant,
             c->where);
        found = true;
      }
    }
  }
  return found;
}

/* ---------------------------------------------------------------- legacy */

/* A legacy role's path and the mapping row that gives the grant, if any. */
static int mde_mapping(const explainer *c, uint32_t perms)
{
  for (uint32_t p = 0; p < URBAC__NMDE; p++)
    if ((perms & (1u << p)) && urbac__gmask_has(&c->s->tables.mde[p], c->q->grant))
      return (int)p;
  return -1;
}

/* Why user may access device group `d` in legacy mde ("" when not). */
static bool dg_access(const explainer *c, uint32_t d, char *why, size_t size)
{
  const urbac__devgroup *g = urbac__dg_at(c->m, d);
  if (!g->access.n) {
    snprintf(why, size, "device group %s has no user access list: open to every holder of a legacy MDE role",
             g->id);
    return true;
  }
  for (size_t i = 0; i < g->access.n; i++)
    if (reached(c, &g->access.v[i])) {
      char path[1024];
      chain(c, &g->access.v[i], path, sizeof path);
      snprintf(why, size, "device group %s: its user access list names group %s (%s)", g->id,
               g->access.v[i].name, path);
      return true;
    }
  int n = snprintf(why, size, "device group %s is open only to", g->id);
  for (size_t i = 0; i < g->access.n && n > 0 && (size_t)n < size; i++)
    n += snprintf(why + n, size - (size_t)n, "%s group %s", i ? "," : "", g->access.v[i].name);
  return false;
}

/* Device access of the question's scope; lines say why, or what is missing. */
static bool legacy_access(explainer *c)
{
  char why[2048];
  const urbac_model *m = c->m;
  if (c->q->scope == URBAC_SCOPE_DEVICE_GROUP) {
    bool ok = dg_access(c, c->q->dg, why, sizeof why);
    line(c, "%s%s", ok ? "device access: " : "missing: ", why);
    return ok;
  }
  bool any = false, all = true;
  for (uint32_t d = 0; d < m->dgs.n; d++) {
    if (!urbac__dg_at(m, d))
      continue;
    bool ok = dg_access(c, d, why, sizeof why);
    any = any || ok;
    all = all && ok;
    if (!ok && c->q->scope == URBAC_SCOPE_ALL)
      line(c, "missing: %s (scope all needs access to every device group)", why);
  }
  if (c->q->scope == URBAC_SCOPE_ANY && !any)
    line(c, "missing: no device group is accessible to %s", c->uid);
  if ((c->q->scope == URBAC_SCOPE_ANY) ? any : all)
    line(c, "device access: legacy mde unions the device groups of every group of %s (%s)", c->uid,
         c->q->scope == URBAC_SCOPE_ANY ? "at least one is accessible" : "all are accessible");
  return c->q->scope == URBAC_SCOPE_ANY ? any : all;
}

static bool legacy_mde(explainer *c)
{
  const urbac_model *m = c->m;
  char path[1024];
  uint32_t admins = (1u << URBAC__DIR_GLOBAL_ADMIN) | (1u << URBAC__DIR_SECURITY_ADMIN);
  bool found = dir_roles(
      c, admins, "Defender for Endpoint built-in administrator role (legacy mde, every device group)");
  bool granted = false;
  for (size_t r = 0; r < m->mde_roles.n; r++) {
    const urbac__mde_role *role = urbac__mde_at(m, r);
    int p = role ? mde_mapping(c, role->perms) : -1;
    for (size_t g = 0; p >= 0 && g < role->groups.n; g++) {
      if (!reached(c, &role->groups.v[g]))
        continue;
      chain(c, &role->groups.v[g], path, sizeof path);
      line(c, "%s -> Defender for Endpoint role \"%s\" -> mapping \"%s\" -> %s %s", path, role->name,
           urbac_catalog_legacy(URBAC_LEGACY_MDE_PERMISSION, (size_t)p)->name, c->grant, c->where);
      granted = true;
    }
  }
  if (!granted) {
    if (!found)
      line(c, "missing: mde is in legacy mode and no Defender for Endpoint role reaching %s grants %s",
           c->uid, c->grant);
    return found;
  }
  return legacy_access(c) || found;
}

/* EOP role groups (mdo) or MDI roles (mdi) reaching the user. */
static bool legacy_members(explainer *c, const urbac__cow *arr, urbac_legacy_kind kind)
{
  const urbac__gmask *table = kind == URBAC_LEGACY_EOP_ROLE_GROUP ? c->s->tables.eop : c->s->tables.mdi;
  const char *what = kind == URBAC_LEGACY_EOP_ROLE_GROUP ? "EOP role group" : "MDI role";
  char path[1024];
  bool found = dir_roles(c, UINT32_MAX, "seed table \"Azure Active Directory Global roles access\"");
  for (size_t i = 0; i < arr->n; i++) {
    const urbac__legacy_members *lm = URBAC__AT(*arr, i);
    if (!lm || !urbac__gmask_has(&table[lm->which], c->q->grant))
      continue;
    const char *name = urbac_catalog_legacy(kind, lm->which)->name;
    for (size_t p = 0; p < lm->members.n; p++) {
      if (!reached(c, &lm->members.v[p]))
        continue;
      chain(c, &lm->members.v[p], path, sizeof path);
      line(c, "%s -> %s \"%s\" -> mapping \"%s\" -> %s %s", path, what, name, name, c->grant, c->where);
      found = true;
      break;
    }
  }
  if (!found)
    line(c, "missing: %s is in legacy mode and no %s reaching %s grants %s, nor does a directory role",
         urbac_catalog_workload_id(c->q->workload), what, c->uid, c->grant);
  return found;
}

/* ---------------------------------------------------------------- the whole */

static void describe_scope(explainer *c)
{
  const char *wl = urbac_catalog_workload_id(c->q->workload);
  urbac_grant g = urbac__grant_of(c->q->grant);
  const urbac_perm_info *p = urbac_catalog_perm(g.perm);
  snprintf(c->grant, sizeof c->grant, "%s (%s)", p->name, urbac_level_name((urbac_level)g.level));
  if (c->q->workload != URBAC__WL_MDE)
    snprintf(c->where, sizeof c->where, "on %s", wl);
  else if (c->q->scope == URBAC_SCOPE_ANY)
    snprintf(c->where, sizeof c->where, "on %s, at least one device group", wl);
  else if (c->q->scope == URBAC_SCOPE_ALL)
    snprintf(c->where, sizeof c->where, "on %s, all device groups", wl);
  else if (c->q->device != URBAC_NO_DEVICE)
    snprintf(c->where, sizeof c->where, "on %s, device %s (device group %s)", wl,
             urbac__device_at(c->m, c->q->device)->id, dg_id(c, c->q->dg));
  else
    snprintf(c->where, sizeof c->where, "on %s, device group %s", wl, dg_id(c, c->q->dg));
}

static bool explain_user(explainer *c)
{
  const urbac_model *m = c->m;
  size_t misses = 0;
  if (m->modes[c->q->workload] == URBAC_MODE_UNIFIED) {
    bool found = unified(c, &misses);
    if (!found && !misses)
      line(c,
           "missing: no unified role assigned to %s (directly or through a group) grants %s %s, and no "
           "directory role of %s gives it",
           c->uid, c->grant, c->where, c->uid);
    return found;
  }
  switch (c->q->workload) {
  case URBAC__WL_MDE:
    return legacy_mde(c);
  case URBAC__WL_MDO:
    return legacy_members(c, &m->eop, URBAC_LEGACY_EOP_ROLE_GROUP);
  case URBAC__WL_MDI:
    return legacy_members(c, &m->mdi, URBAC_LEGACY_MDI_ROLE);
  default:
    break;
  }
  return dir_roles(c, UINT32_MAX, "seed table \"Azure Active Directory Global roles access\"");
}

urbac_err urbac_explain(const urbac_snapshot *snap, const urbac_query *q, urbac_explanation **out,
                        urbac_diag *d)
{
  explainer c = {.s = snap, .m = snap->m, .q = q};
  urbac_err err = URBAC_ENOMEM;
  *out = NULL;
  if (!(c.e = urbac__calloc(1, sizeof *c.e)))
    return urbac__diag_code(d, URBAC_ENOMEM, "explaining");
  c.e->allowed = urbac__decide(snap, q);
  describe_scope(&c);
  const urbac__user *u = q->user == URBAC_UNKNOWN_USER ? NULL : urbac__user_at(snap->m, q->user);
  c.uid = u ? u->id : NULL;
  if (!u) {
    line(&c, "missing: the user is not a user of the tenant: an unknown user holds nothing");
  } else if (!u->enabled) {
    line(&c, "missing: user %s is disabled: a disabled user is denied everything", u->id);
  } else {
    if (reach(&c))
      goto out;
    c.e->found = explain_user(&c);
  }
  err = c.oom ? URBAC_ENOMEM : URBAC_OK;
out:
  urbac__free(c.pred);
  if (err) {
    urbac_explanation_free(c.e);
    return urbac__diag_code(d, err, "explaining");
  }
  *out = c.e;
  return URBAC_OK;
}

void urbac_explanation_free(urbac_explanation *e)
{
  if (!e)
    return;
  urbac__strs_free(&e->lines);
  urbac__free(e);
}

bool urbac_explanation_allowed(const urbac_explanation *e) { return e->allowed; }
bool urbac__explanation_found(const urbac_explanation *e);
bool urbac__explanation_found(const urbac_explanation *e) { return e->found; }
size_t urbac_explanation_count(const urbac_explanation *e) { return e->lines.n; }

const char *urbac_explanation_line(const urbac_explanation *e, size_t i)
{
  return i < e->lines.n ? e->lines.v[i] : NULL;
}
