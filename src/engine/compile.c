/*
 * engine/compile.c - from a model to a snapshot built for checking.
 *
 * How: every principal (user or group) has an accumulator of what reaches it:
 * directory roles, legacy role memberships, legacy device access, and unified
 * assignment items (workload, device-group set, grants). A group's accumulator
 * is its own plus its parents' (groups containing it), computed parents-first
 * in topological order, so nesting of any depth costs one pass. A user's is its
 * own plus its direct groups'. The accumulator is then turned into decisions per
 * workload, by that workload's mode (semantics.md "Unified mode", "Legacy mode"),
 * and interned: users whose decisions are identical share one profile.
 *
 * Depends on: util, catalog, model, engine/engine.h.
 */
#include <stdlib.h>

#include "engine/engine.h"

#define ALL_DGS UINT32_MAX
#define NO_DGS (UINT32_MAX - 1) /* an assignment scoped to an empty list: nothing on mde */

/* A unified assignment's contribution: grants on a workload over a device-group
 * set (ALL_DGS: all device groups). */
typedef struct uitem {
  uint32_t dgset;
  uint32_t w;
  urbac__gmask mask;
} uitem;

typedef struct acc {
  uint32_t dirroles, eop, mdi, mdeperms;
  bool mde_role;
  uint64_t *access; /* legacy mde userAccess: device groups, dg_words words */
  uitem *items;
  size_t n, cap;
} acc;

typedef struct compiler {
  urbac_snapshot *s;
  const urbac_model *m;
  acc *groups;       /* per group */
  acc **user_direct; /* per user; NULL when nothing names the user directly */
  uint64_t *access_words;
  uint64_t *open_dgs;  /* device groups with an empty userAccess list */
  uint64_t *live_dgs;  /* every device group (an edited model may have holes) */
  uint32_t *asg_dgset; /* per assignment (flattened over roles): its device-group set */
  urbac__intern dgsets, profiles;
  urbac__buf key;
  urbac__part *scratch_parts; /* one workload's parts */
  size_t scratch_n, scratch_cap;
  urbac__part *pparts; /* one profile's parts, all workloads */
  size_t pparts_n, pparts_cap;
  size_t parts_cap, profiles_cap;
} compiler;

/* ---------------------------------------------------------------- accumulators */

static urbac_err acc_item(acc *a, uint32_t w, uint32_t dgset, const urbac__gmask *mask)
{
  for (size_t i = 0; i < a->n; i++)
    if (a->items[i].w == w && a->items[i].dgset == dgset) {
      urbac__gmask_or(&a->items[i].mask, mask);
      return URBAC_OK;
    }
  if (URBAC_GROW(a->items, a->cap, a->n + 1))
    return URBAC_ENOMEM;
  a->items[a->n++] = (uitem){dgset, w, *mask};
  return URBAC_OK;
}

static urbac_err acc_merge(acc *dst, const acc *src, size_t words)
{
  dst->dirroles |= src->dirroles;
  dst->eop |= src->eop;
  dst->mdi |= src->mdi;
  dst->mdeperms |= src->mdeperms;
  dst->mde_role = dst->mde_role || src->mde_role;
  for (size_t i = 0; i < words; i++)
    dst->access[i] |= src->access[i];
  for (size_t i = 0; i < src->n; i++)
    if (acc_item(dst, src->items[i].w, src->items[i].dgset, &src->items[i].mask))
      return URBAC_ENOMEM;
  return URBAC_OK;
}

/* The accumulator of a principal reference (a user one is made on first use). */
static acc *principal_acc(compiler *c, const urbac__ref *r)
{
  if (r->kind == URBAC__REF_GROUP)
    return &c->groups[r->idx];
  if (!c->user_direct[r->idx]) {
    acc *a = urbac__calloc(1, sizeof *a);
    if (!a)
      return NULL;
    a->access = urbac__calloc(c->s->dg_words, sizeof *a->access);
    if (!a->access) {
      urbac__free(a);
      return NULL;
    }
    c->user_direct[r->idx] = a;
  }
  return c->user_direct[r->idx];
}

/* ---------------------------------------------------------------- dg sets */

static urbac_err intern_dgset(compiler *c, const uint64_t *words, uint32_t *id)
{
  return urbac__intern_put(&c->dgsets, words, c->s->dg_words * sizeof *words, id, NULL);
}

static urbac_err assignment_sets(compiler *c)
{
  const urbac_model *m = c->m;
  size_t total = 0, k = 0;
  for (size_t r = 0; r < m->roles.n; r++)
    total += urbac__role_at(m, r) ? urbac__role_at(m, r)->nasg : 0;
  c->asg_dgset = urbac__calloc(total ? total : 1, sizeof *c->asg_dgset);
  uint64_t *w = urbac__calloc(c->s->dg_words, sizeof *w);
  urbac_err err = (!c->asg_dgset || !w) ? URBAC_ENOMEM : URBAC_OK;
  for (size_t r = 0; r < m->roles.n && !err; r++)
    for (size_t a = 0; urbac__role_at(m, r) && a < urbac__role_at(m, r)->nasg && !err; a++, k++) {
      const urbac__assignment *as = &urbac__role_at(m, r)->asg[a];
      c->asg_dgset[k] = ALL_DGS;
      if (as->all_dgs)
        continue;
      memset(w, 0, c->s->dg_words * sizeof *w);
      for (size_t i = 0; i < as->dgs.n; i++)
        urbac__bit_set(w, as->dgs.v[i].idx);
      if (as->dgs.n == 0)
        c->asg_dgset[k] = NO_DGS;
      else
        err = intern_dgset(c, w, &c->asg_dgset[k]);
    }
  urbac__free(w);
  return err;
}

/* ---------------------------------------------------------------- direct contributions */

static urbac_err direct_assignments(compiler *c)
{
  const urbac_model *m = c->m;
  size_t k = 0;
  for (size_t r = 0; r < m->roles.n; r++) {
    const urbac__role *role = urbac__role_at(m, r);
    for (size_t a = 0; role && a < role->nasg; a++, k++) {
      const urbac__assignment *as = &role->asg[a];
      for (size_t p = 0; p < as->principals.n; p++) {
        acc *ac = principal_acc(c, &as->principals.v[p]);
        if (!ac)
          return URBAC_ENOMEM;
        for (uint32_t w = 0; w < URBAC__NWORKLOADS; w++) {
          if (!(as->workloads & (1u << w)))
            continue;
          /* device-group scope matters on mde only */
          uint32_t set = w == URBAC__WL_MDE ? c->asg_dgset[k] : ALL_DGS;
          if (set != NO_DGS && acc_item(ac, w, set, &role->grants))
            return URBAC_ENOMEM;
        }
      }
    }
  }
  return URBAC_OK;
}

static urbac_err direct_legacy(compiler *c)
{
  const urbac_model *m = c->m;
  for (size_t i = 0; i < m->mde_roles.n; i++) {
    const urbac__mde_role *role = urbac__mde_at(m, i);
    for (size_t g = 0; role && g < role->groups.n; g++) {
      acc *a = &c->groups[role->groups.v[g].idx];
      a->mdeperms |= role->perms;
      a->mde_role = true;
    }
  }
  for (size_t i = 0; i < m->eop.n + m->mdi.n; i++) {
    bool eop = i < m->eop.n;
    const urbac__legacy_members *lm = eop ? urbac__eop_at(m, i) : urbac__mdi_at(m, i - m->eop.n);
    for (size_t p = 0; lm && p < lm->members.n; p++) {
      acc *a = principal_acc(c, &lm->members.v[p]);
      if (!a)
        return URBAC_ENOMEM;
      *(eop ? &a->eop : &a->mdi) |= 1u << lm->which;
    }
  }
  for (size_t d = 0; d < m->dgs.n; d++) {
    const urbac__devgroup *dg = urbac__dg_at(m, d);
    if (dg)
      urbac__bit_set(c->live_dgs, d);
    if (dg && !dg->access.n)
      urbac__bit_set(c->open_dgs, d);
    for (size_t g = 0; dg && g < dg->access.n; g++)
      urbac__bit_set(c->groups[dg->access.v[g].idx].access, d);
  }
  for (size_t g = 0; g < m->groups.n; g++)
    c->groups[g].dirroles |= urbac__group_at(m, g) ? urbac__group_at(m, g)->dirroles : 0;
  return URBAC_OK;
}

/* ---------------------------------------------------------------- membership graphs */

/* Builds user -> groups and group -> parent groups from the groups' member lists. */
static urbac_err build_csr(compiler *c)
{
  const urbac_model *m = c->m;
  urbac_snapshot *snap = c->s;
  urbac__csr *ug = &snap->user_groups, *gp = &snap->group_parents;
  size_t nusers = m->users.n, ngroups = m->groups.n;
  ug->off = urbac__calloc(nusers + 2, sizeof *ug->off);
  gp->off = urbac__calloc(ngroups + 2, sizeof *gp->off);
  if (!ug->off || !gp->off)
    return URBAC_ENOMEM;
  size_t nu = 0, ng = 0;
  for (size_t g = 0; g < ngroups; g++)
    for (size_t i = 0; urbac__group_at(m, g) && i < urbac__group_at(m, g)->members.n; i++) {
      const urbac__ref *r = &urbac__group_at(m, g)->members.v[i];
      (r->kind == URBAC__REF_USER ? ug : gp)->off[r->idx + 2]++;
      *(r->kind == URBAC__REF_USER ? &nu : &ng) += 1;
    }
  if (nu >= UINT32_MAX || ng >= UINT32_MAX)
    return URBAC_ELIMIT;
  ug->idx = urbac__malloc((nu ? nu : 1) * sizeof *ug->idx);
  gp->idx = urbac__malloc((ng ? ng : 1) * sizeof *gp->idx);
  if (!ug->idx || !gp->idx)
    return URBAC_ENOMEM;
  /* prefix sums shifted by one, then fill: off[i+1] is the write cursor of row i */
  for (size_t i = 2; i < nusers + 2; i++)
    ug->off[i] += ug->off[i - 1];
  for (size_t i = 2; i < ngroups + 2; i++)
    gp->off[i] += gp->off[i - 1];
  for (size_t g = 0; g < ngroups; g++)
    for (size_t i = 0; urbac__group_at(m, g) && i < urbac__group_at(m, g)->members.n; i++) {
      const urbac__ref *r = &urbac__group_at(m, g)->members.v[i];
      urbac__csr *t = r->kind == URBAC__REF_USER ? ug : gp;
      t->idx[t->off[r->idx + 1]++] = (uint32_t)g;
    }
  return URBAC_OK;
}

/* Pushes each group's accumulator into its member groups, parents first (Kahn's
 * order; validation has ruled out cycles). */
static urbac_err propagate(compiler *c)
{
  const urbac_model *m = c->m;
  const urbac__csr *gp = &c->s->group_parents;
  size_t n = m->groups.n, head = 0, tail = 0;
  uint32_t *indeg = urbac__calloc(n ? n : 1, sizeof *indeg);
  uint32_t *queue = urbac__malloc((n ? n : 1) * sizeof *queue);
  urbac_err err = (!indeg || !queue) ? URBAC_ENOMEM : URBAC_OK;
  for (size_t g = 0; g < n && !err; g++) {
    indeg[g] = gp->off[g + 1] - gp->off[g];
    if (!indeg[g])
      queue[tail++] = (uint32_t)g;
  }
  while (head < tail && !err) {
    uint32_t g = queue[head++];
    const urbac__group *grp = urbac__group_at(m, g);
    for (size_t i = 0; grp && i < grp->members.n && !err; i++) {
      const urbac__refs *mem = &grp->members;
      const urbac__ref *r = &mem->v[i];
      if (r->kind != URBAC__REF_GROUP)
        continue;
      err = acc_merge(&c->groups[r->idx], &c->groups[g], c->s->dg_words);
      if (--indeg[r->idx] == 0)
        queue[tail++] = r->idx;
    }
  }
  URBAC_ASSERT(err || tail == n);
  urbac__free(indeg);
  urbac__free(queue);
  return err;
}

/* ---------------------------------------------------------------- decisions */

static void dir_mask(const compiler *c, uint32_t roles, uint32_t w, urbac__gmask *out)
{
  for (uint32_t r = 0; r < URBAC__NDIR; r++)
    if (roles & (1u << r))
      urbac__gmask_or(out, &c->s->tables.dir[r][w]);
}

static urbac_err add_part(compiler *c, uint32_t dgset, const urbac__gmask *mask)
{
  for (size_t i = 0; i < c->scratch_n; i++)
    if (c->scratch_parts[i].dgset == dgset) {
      urbac__gmask_or(&c->scratch_parts[i].mask, mask);
      return URBAC_OK;
    }
  if (URBAC_GROW(c->scratch_parts, c->scratch_cap, c->scratch_n + 1))
    return URBAC_ENOMEM;
  c->scratch_parts[c->scratch_n++] = (urbac__part){dgset, *mask};
  return URBAC_OK;
}

/* Legacy mde: role grants over the union of accessible device groups. */
static urbac_err legacy_mde(compiler *c, const acc *a, urbac__gmask *all)
{
  urbac__gmask g = {0};
  size_t words = c->s->dg_words;
  bool full = true, none = true;
  for (uint32_t p = 0; p < URBAC__NMDE; p++)
    if (a->mdeperms & (1u << p))
      urbac__gmask_or(&g, &c->s->tables.mde[p]);
  /* MDE's built-in administrator role: Global and Security administrators */
  dir_mask(c, a->dirroles & ((1u << URBAC__DIR_GLOBAL_ADMIN) | (1u << URBAC__DIR_SECURITY_ADMIN)),
           URBAC__WL_MDE, all);
  if (urbac__gmask_empty(&g))
    return URBAC_OK;
  uint64_t *d = c->access_words;
  for (size_t i = 0; i < words; i++) {
    d[i] = a->access[i] | (a->mde_role ? c->open_dgs[i] : 0);
    full = full && d[i] == c->live_dgs[i];
    none = none && d[i] == 0;
  }
  if (full) {
    urbac__gmask_or(all, &g);
    return URBAC_OK;
  }
  if (none)
    return URBAC_OK;
  uint32_t id;
  urbac_err err = intern_dgset(c, d, &id);
  return err ? err : add_part(c, id, &g);
}

static urbac_err workload_decision(compiler *c, const acc *a, uint32_t w, urbac__wdec *out)
{
  urbac_err err = URBAC_OK;
  memset(out, 0, sizeof *out);
  c->scratch_n = 0;
  if (c->m->modes[w] == URBAC_MODE_UNIFIED) {
    dir_mask(c, a->dirroles, w, &out->all);
    for (size_t i = 0; i < a->n && !err; i++) {
      if (a->items[i].w != w)
        continue;
      if (a->items[i].dgset == ALL_DGS)
        urbac__gmask_or(&out->all, &a->items[i].mask);
      else
        err = add_part(c, a->items[i].dgset, &a->items[i].mask);
    }
  } else if (w == URBAC__WL_MDE) {
    err = legacy_mde(c, a, &out->all);
  } else {
    dir_mask(c, a->dirroles, w, &out->all);
    for (uint32_t r = 0; w == URBAC__WL_MDO && r < URBAC__NEOP; r++)
      if (a->eop & (1u << r))
        urbac__gmask_or(&out->all, &c->s->tables.eop[r]);
    for (uint32_t r = 0; w == URBAC__WL_MDI && r < URBAC__NMDI; r++)
      if (a->mdi & (1u << r))
        urbac__gmask_or(&out->all, &c->s->tables.mdi[r]);
  }
  /* what is held everywhere needs no part; parts in dgset order, for interning */
  out->any = out->all;
  size_t k = 0;
  for (size_t i = 0; i < c->scratch_n; i++) {
    urbac__part p = c->scratch_parts[i];
    for (size_t j = 0; j < URBAC__GRANT_WORDS; j++)
      p.mask.w[j] &= ~out->all.w[j];
    if (urbac__gmask_empty(&p.mask))
      continue;
    urbac__gmask_or(&out->any, &p.mask);
    size_t at = k++;
    while (at > 0 && c->scratch_parts[at - 1].dgset > p.dgset) {
      c->scratch_parts[at] = c->scratch_parts[at - 1];
      at--;
    }
    c->scratch_parts[at] = p;
  }
  out->part_n = (uint32_t)k;
  return err;
}

/* ---------------------------------------------------------------- profiles */

/* Turns an accumulator into decisions and interns them; *id is the profile. */
static urbac_err make_profile(compiler *c, const acc *a, uint32_t *id)
{
  urbac_snapshot *snap = c->s;
  urbac__profile p;
  bool added = false;
  urbac_err err = URBAC_OK;
  c->key.len = 0;
  c->pparts_n = 0;
  for (uint32_t w = 0; w < URBAC__NWORKLOADS && !err; w++) {
    err = workload_decision(c, a, w, &p.w[w]);
    if (err || URBAC_GROW(c->pparts, c->pparts_cap, c->pparts_n + c->scratch_n + 1))
      return err ? err : URBAC_ENOMEM;
    p.w[w].part_off = (uint32_t)c->pparts_n;
    if (p.w[w].part_n)
      memcpy(c->pparts + c->pparts_n, c->scratch_parts, p.w[w].part_n * sizeof *c->pparts);
    c->pparts_n += p.w[w].part_n;
    urbac__buf_add(&c->key, (const char *)&p.w[w].all, sizeof p.w[w].all);
    urbac__buf_add(&c->key, (const char *)&p.w[w].part_n, sizeof p.w[w].part_n);
    urbac__buf_add(&c->key, (const char *)(c->pparts + p.w[w].part_off), p.w[w].part_n * sizeof *c->pparts);
  }
  if (c->key.failed)
    return URBAC_ENOMEM;
  err = urbac__intern_put(&c->profiles, c->key.s, c->key.len, id, &added);
  if (err || !added)
    return err;
  if (URBAC_GROW(snap->profiles, c->profiles_cap, snap->nprofiles + 1) ||
      URBAC_GROW(snap->parts, c->parts_cap, snap->nparts + c->pparts_n + 1))
    return URBAC_ENOMEM;
  for (uint32_t w = 0; w < URBAC__NWORKLOADS; w++)
    p.w[w].part_off += (uint32_t)snap->nparts;
  if (c->pparts_n)
    memcpy(snap->parts + snap->nparts, c->pparts, c->pparts_n * sizeof *c->pparts);
  snap->nparts += c->pparts_n;
  snap->profiles[snap->nprofiles++] = p;
  URBAC_ASSERT(*id == snap->nprofiles - 1);
  return URBAC_OK;
}

static urbac_err user_profiles(compiler *c)
{
  const urbac_model *m = c->m;
  urbac_snapshot *snap = c->s;
  acc a = {0};
  urbac_err err = URBAC_ENOMEM;
  uint32_t empty;
  a.access = urbac__calloc(snap->dg_words, sizeof *a.access);
  if (!a.access || urbac__cow_grow(&snap->user_profile, m->users.n))
    goto out;
  err = make_profile(c, &a, &empty); /* profile 0: nothing (disabled or deleted users) */
  for (size_t u = 0; u < m->users.n && !err; u++) {
    const urbac__user *user = urbac__user_at(m, u);
    if (!user || !user->enabled)
      continue;
    a.dirroles = user->dirroles;
    a.eop = a.mdi = a.mdeperms = 0;
    a.mde_role = false;
    a.n = 0;
    memset(a.access, 0, snap->dg_words * sizeof *a.access);
    if (c->user_direct[u])
      err = acc_merge(&a, c->user_direct[u], snap->dg_words);
    for (uint32_t i = snap->user_groups.off[u]; i < snap->user_groups.off[u + 1] && !err; i++)
      err = acc_merge(&a, &c->groups[snap->user_groups.idx[i]], snap->dg_words);
    if (!err)
      err = make_profile(c, &a, urbac__cow_mut(&snap->user_profile, u));
  }
out:
  urbac__free(a.access);
  urbac__free(a.items);
  return err;
}

/* ---------------------------------------------------------------- devices */

static int by_rank(const urbac_model *m, uint32_t a, uint32_t b);

uint32_t urbac__device_place(const urbac_snapshot *snap, const urbac__device *dev)
{
  const urbac_model *m = snap->m;
  for (size_t i = 0; dev && i < snap->ndg_order; i++) {
    const urbac__devgroup *g = urbac__dg_at(m, snap->dg_order[i]);
    if (!g->ungrouped && urbac__dg_matches(g, dev))
      return snap->dg_order[i];
  }
  return m->ungrouped;
}

/* Device groups by rank (ungrouped last), then each device's group: the first
 * whose rules all match, else ungrouped. */
static urbac_err place_devices(compiler *c)
{
  const urbac_model *m = c->m;
  urbac_snapshot *snap = c->s;
  snap->dg_order = urbac__malloc((m->dgs.n ? m->dgs.n : 1) * sizeof *snap->dg_order);
  if (!snap->dg_order || urbac__cow_grow(&snap->device_dg, m->devices.n))
    return URBAC_ENOMEM;
  for (size_t i = 0; i < m->dgs.n; i++)
    if (urbac__dg_at(m, i))
      snap->dg_order[snap->ndg_order++] = (uint32_t)i;
  /* insertion sort: device groups are few (at most URBAC_MAX_DEVICE_GROUPS) */
  for (size_t i = 1; i < snap->ndg_order; i++) {
    uint32_t v = snap->dg_order[i];
    size_t j = i;
    while (j > 0 && by_rank(m, snap->dg_order[j - 1], v) > 0) {
      snap->dg_order[j] = snap->dg_order[j - 1];
      j--;
    }
    snap->dg_order[j] = v;
  }
  for (size_t d = 0; d < m->devices.n; d++)
    *(uint32_t *)urbac__cow_mut(&snap->device_dg, d) = urbac__device_place(snap, urbac__device_at(m, d));
  return URBAC_OK;
}

static int by_rank(const urbac_model *m, uint32_t ia, uint32_t ib)
{
  const urbac__devgroup *a = urbac__dg_at(m, ia), *b = urbac__dg_at(m, ib);
  uint64_t ra = a->ungrouped ? UINT64_MAX : a->rank, rb = b->ungrouped ? UINT64_MAX : b->rank;
  return ra < rb ? -1 : ra > rb;
}

/* ---------------------------------------------------------------- the whole */

static void cctx_free(compiler *c)
{
  for (size_t g = 0; c->groups && g < c->m->groups.n; g++)
    urbac__free(c->groups[g].items);
  for (size_t u = 0; c->user_direct && u < c->m->users.n; u++) {
    if (c->user_direct[u]) {
      urbac__free(c->user_direct[u]->items);
      urbac__free(c->user_direct[u]->access);
      urbac__free(c->user_direct[u]);
    }
  }
  urbac__free(c->groups);
  urbac__free(c->user_direct);
  urbac__free(c->access_words);
  urbac__free(c->open_dgs);
  urbac__free(c->live_dgs);
  urbac__free(c->asg_dgset);
  urbac__free(c->scratch_parts);
  urbac__free(c->pparts);
  urbac__intern_free(&c->dgsets);
  urbac__intern_free(&c->profiles);
  urbac__buf_free(&c->key);
}

static urbac_err cctx_init(compiler *c)
{
  const urbac_model *m = c->m;
  size_t words = c->s->dg_words;
  c->groups = urbac__calloc(m->groups.n ? m->groups.n : 1, sizeof *c->groups);
  c->user_direct = urbac__calloc(m->users.n ? m->users.n : 1, sizeof *c->user_direct);
  c->access_words = urbac__calloc(words * (m->groups.n + 2), sizeof *c->access_words);
  c->open_dgs = urbac__calloc(words, sizeof *c->open_dgs);
  c->live_dgs = urbac__calloc(words, sizeof *c->live_dgs);
  if (!c->groups || !c->user_direct || !c->access_words || !c->open_dgs || !c->live_dgs)
    return URBAC_ENOMEM;
  for (size_t g = 0; g < m->groups.n; g++)
    c->groups[g].access = c->access_words + words * (g + 1);
  if (urbac__intern_init(&c->dgsets, 64) || urbac__intern_init(&c->profiles, m->users.n / 4 + 16))
    return URBAC_ENOMEM;
  return URBAC_OK;
}

urbac_err urbac_snapshot_compile(const urbac_model *m, urbac_snapshot **out, urbac_diag *d)
{
  compiler c = {0};
  urbac_err err = URBAC_ENOMEM;
  size_t had = urbac_diag_count(d);
  *out = NULL;
  c.m = m;
  c.s = urbac__calloc(1, sizeof *c.s);
  if (!c.s)
    return urbac__diag_code(d, URBAC_ENOMEM, "compiling the snapshot");
  c.s->m = m;
  urbac__cow_init(&c.s->user_profile, &urbac__cow_u32);
  urbac__cow_init(&c.s->device_dg, &urbac__cow_u32);
  c.s->dg_words = urbac__bits_words(m->dgs.n ? m->dgs.n : 1);
  err = urbac__tables_build(&c.s->tables, d);
  if (!err)
    err = cctx_init(&c);
  if (!err)
    err = build_csr(&c);
  if (!err)
    err = assignment_sets(&c);
  if (!err)
    err = direct_assignments(&c);
  if (!err)
    err = direct_legacy(&c);
  if (!err)
    err = propagate(&c);
  if (!err)
    err = user_profiles(&c);
  if (!err)
    err = place_devices(&c);
  if (!err) {
    /* keep the interned device-group sets: the arena is exactly nsets x words */
    c.s->ndgsets = c.dgsets.n;
    c.s->dgsets = (uint64_t *)(void *)c.dgsets.arena;
    c.dgsets.arena = NULL;
  }
  cctx_free(&c);
  if (err) {
    urbac_snapshot_free(c.s);
    return urbac__diag_code_since(d, had, err, "compiling the snapshot");
  }
  *out = c.s;
  return URBAC_OK;
}

void urbac_snapshot_free(urbac_snapshot *snap)
{
  if (!snap)
    return;
  urbac__cow_free(&snap->user_profile);
  urbac__free(snap->profiles);
  urbac__free(snap->parts);
  urbac__free(snap->dgsets);
  urbac__cow_free(&snap->device_dg);
  urbac__free(snap->dg_order);
  urbac__free(snap->user_groups.off);
  urbac__free(snap->user_groups.idx);
  urbac__free(snap->group_parents.off);
  urbac__free(snap->group_parents.idx);
  urbac__free(snap);
}

size_t urbac_snapshot_memory(const urbac_snapshot *snap)
{
  const urbac_model *m = snap->m;
  size_t uoff = (m->users.n + 2) * sizeof(uint32_t), goff = (m->groups.n + 2) * sizeof(uint32_t);
  /* the model's id maps are borrowed, but every check reads them: count them */
  size_t maps =
      urbac__smap_bytes(&m->user_map) + urbac__smap_bytes(&m->device_map) + urbac__smap_bytes(&m->dg_map);
  return maps + sizeof *snap + urbac__cow_bytes(&snap->user_profile) +
         snap->nprofiles * sizeof *snap->profiles + snap->nparts * sizeof *snap->parts +
         snap->ndgsets * snap->dg_words * sizeof(uint64_t) + urbac__cow_bytes(&snap->device_dg) +
         m->dgs.n * sizeof(uint32_t) + uoff + goff +
         (snap->user_groups.off[m->users.n] + snap->group_parents.off[m->groups.n]) * sizeof(uint32_t);
}

size_t urbac_snapshot_profiles(const urbac_snapshot *snap) { return snap->nprofiles; }
const urbac_model *urbac_snapshot_model(const urbac_snapshot *snap) { return snap->m; }
