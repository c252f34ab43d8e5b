/*
 * tests/unit/naive.c - the naive evaluator (see naive.h): each rule of
 * ../shared/spec/semantics.md written as directly as it reads, recomputed for
 * every question.
 *
 * Depends on: model, catalog (src/ internals); never engine.
 */
#include "naive.h"

#include <stdlib.h>
#include <string.h>

#include "model/model.h"

struct naive {
  const urbac_model *m;
  urbac__tables t;
  bool *in; /* per group: does it contain the current user, at any depth? */
};

naive *naive_new(const urbac_model *m)
{
  naive *n = calloc(1, sizeof *n);
  if (!n)
    return NULL;
  n->m = m;
  n->in = calloc(m->groups.n + 1, sizeof *n->in);
  if (!n->in || urbac__tables_build(&n->t, NULL) != URBAC_OK) {
    naive_free(n);
    return NULL;
  }
  return n;
}

void naive_free(naive *n)
{
  if (n)
    free(n->in);
  free(n);
}

static bool ref_is(const naive *n, const urbac__ref *r, uint32_t user)
{
  if (r->idx == URBAC__PENDING) /* names nothing yet: grants nothing */
    return false;
  return r->kind == URBAC__REF_USER ? r->idx == user : n->in[r->idx];
}

static void containing_groups(naive *n, uint32_t user)
{
  bool changed = true;
  memset(n->in, 0, n->m->groups.n * sizeof *n->in);
  while (changed) {
    changed = false;
    for (size_t g = 0; g < n->m->groups.n; g++)
      for (size_t i = 0; urbac__group_at(n->m, g) && i < urbac__group_at(n->m, g)->members.n && !n->in[g];
           i++)
        if (ref_is(n, &urbac__group_at(n->m, g)->members.v[i], user))
          n->in[g] = changed = true;
  }
}

static bool dir_gives(const naive *n, uint32_t user, uint32_t roles_allowed, size_t w, unsigned g)
{
  uint32_t roles = urbac__user_at(n->m, user)->dirroles;
  for (size_t k = 0; k < n->m->groups.n; k++)
    if (n->in[k])
      roles |= urbac__group_at(n->m, k)->dirroles;
  for (uint32_t r = 0; r < URBAC__NDIR; r++)
    if ((roles & roles_allowed & (1u << r)) && urbac__gmask_has(&n->t.dir[r][w], g))
      return true;
  return false;
}

/* Does role entry list grant g? Levels: ALL every level; manage implies read. */
static bool role_grants(const urbac__role *r, unsigned g)
{
  urbac_grant want = urbac__grant_of(g);
  for (size_t i = 0; i < r->nperms; i++) {
    const urbac__perm_entry *e = &r->perms[i];
    if (e->wildcard) {
      urbac__gmask m;
      urbac__catalog_wildcard(e->wildcard, strlen(e->wildcard), &m);
      if (urbac__gmask_has(&m, g))
        return true;
      continue;
    }
    if (e->grant.perm != want.perm)
      continue;
    if (e->grant.level == URBAC_LEVEL_ALL || e->grant.level == want.level ||
        (e->grant.level == URBAC_LEVEL_MANAGE && want.level == URBAC_LEVEL_READ))
      return true;
  }
  return false;
}

static bool naive_unified(const naive *n, const urbac_query *q)
{
  if (dir_gives(n, q->user, UINT32_MAX, q->workload, q->grant))
    return true;
  for (size_t r = 0; r < n->m->roles.n; r++) {
    const urbac__role *role = urbac__role_at(n->m, r);
    for (size_t a = 0; role && a < role->nasg; a++) {
      const urbac__assignment *as = &role->asg[a];
      bool principal = false, scope_ok = false;
      for (size_t p = 0; p < as->principals.n; p++)
        principal = principal || ref_is(n, &as->principals.v[p], q->user);
      if (!principal || !(as->workloads & (1u << q->workload)) || !role_grants(role, q->grant))
        continue;
      if (q->workload != URBAC__WL_MDE || as->all_dgs)
        scope_ok = true;
      else if (q->scope == URBAC_SCOPE_ANY)
        scope_ok = as->dgs.n > 0;
      else if (q->scope == URBAC_SCOPE_DEVICE_GROUP)
        for (size_t d = 0; d < as->dgs.n; d++)
          scope_ok = scope_ok || as->dgs.v[d].idx == q->dg;
      if (scope_ok)
        return true;
    }
  }
  return false;
}

static bool naive_legacy_mde(const naive *n, const urbac_query *q)
{
  uint32_t admins = (1u << URBAC__DIR_GLOBAL_ADMIN) | (1u << URBAC__DIR_SECURITY_ADMIN);
  if (dir_gives(n, q->user, admins, URBAC__WL_MDE, q->grant))
    return true;
  bool holds_role = false, grant = false;
  for (size_t r = 0; r < n->m->mde_roles.n; r++) {
    const urbac__mde_role *role = urbac__mde_at(n->m, r);
    if (!role)
      continue;
    bool mine = false;
    for (size_t g = 0; g < role->groups.n; g++)
      mine = mine || ref_is(n, &role->groups.v[g], UINT32_MAX);
    if (!mine)
      continue;
    holds_role = true;
    for (size_t p = 0; p < URBAC__NMDE; p++)
      grant = grant || ((role->perms & (1u << p)) && urbac__gmask_has(&n->t.mde[p], q->grant));
  }
  if (!grant)
    return false;
  size_t accessible = 0, live = 0;
  bool dg_ok = false;
  for (size_t d = 0; d < n->m->dgs.n; d++) {
    const urbac__devgroup *dg = urbac__dg_at(n->m, d);
    if (!dg)
      continue;
    live++;
    bool ok = dg->access.n == 0 && holds_role;
    for (size_t i = 0; i < dg->access.n; i++)
      ok = ok || ref_is(n, &dg->access.v[i], UINT32_MAX);
    accessible += ok;
    dg_ok = dg_ok || (ok && d == q->dg);
  }
  if (q->scope == URBAC_SCOPE_ANY)
    return accessible > 0;
  if (q->scope == URBAC_SCOPE_DEVICE_GROUP)
    return dg_ok;
  return accessible == live;
}

static bool naive_legacy_members(const naive *n, const urbac_query *q, const urbac__cow *items,
                                 const urbac__gmask *table)
{
  if (dir_gives(n, q->user, UINT32_MAX, q->workload, q->grant))
    return true;
  for (size_t i = 0; i < items->n; i++) {
    const urbac__legacy_members *lm = URBAC__AT(*items, i);
    for (size_t p = 0; lm && p < lm->members.n; p++)
      if (ref_is(n, &lm->members.v[p], q->user) && urbac__gmask_has(&table[lm->which], q->grant))
        return true;
  }
  return false;
}

bool naive_decide(naive *n, const urbac_query *q)
{
  if (q->user == URBAC_UNKNOWN_USER || !urbac__user_at(n->m, q->user) ||
      !urbac__user_at(n->m, q->user)->enabled)
    return false;
  containing_groups(n, q->user);
  if (n->m->modes[q->workload] == URBAC_MODE_UNIFIED)
    return naive_unified(n, q);
  if (q->workload == URBAC__WL_MDE)
    return naive_legacy_mde(n, q);
  if (q->workload == URBAC__WL_MDO)
    return naive_legacy_members(n, q, &n->m->eop, n->t.eop);
  return naive_legacy_members(n, q, &n->m->mdi, n->t.mdi);
}
