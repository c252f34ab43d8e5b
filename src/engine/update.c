/*
 * engine/update.c - the next snapshot after an edit, recompiling only what the
 * edit reaches (issue 10): urbac_snapshot_update().
 *
 * The new snapshot shares every paged array of the base (model/persist.h) and
 * changes only:
 *  - the membership lists of the members a changed group gained or lost;
 *  - the accumulators of the dirty groups: a changed group, a group named by a
 *    changed role, legacy role or legacy row, a group whose parents changed, and
 *    every group below one of those (their accumulators include their parents'),
 *    recomputed parents first; the roles naming them directly are found in the
 *    snapshot's assignment index (engine/asgindex.c), the legacy roles and rows
 *    naming them by one scan (a tenant has few);
 *  - what names a user directly, for users a changed role or legacy row names;
 *  - the profiles of the affected users: changed users, users named by a changed
 *    object, members gained or lost, and the direct members of a dirty group;
 *    new profiles are interned against the base's (its indexes are shared);
 *  - the device group of a changed device.
 * A change of device groups or workload modes reaches every decision: that, an
 * edit reaching most users, a model that is not an edit of the base's, or
 * profiles nobody holds piling up past a threshold is one whole compile instead.
 * The users reached are kept (urbac_snapshot_changed_users()).
 *
 * Depends on: util, catalog, model, engine/engine.h, engine/compiler.h, engine/asgindex.c.
 */
#include <stdlib.h>

#include "engine/compiler.h"

/* A set of indices: a bitset for membership, a list for the walk. */
typedef struct idxset {
  uint64_t *bits;
  uint32_t *v;
  size_t n, cap;
} idxset;

static urbac_err set_init(idxset *s, size_t universe)
{
  memset(s, 0, sizeof *s);
  s->bits = urbac__calloc(urbac__bits_words(universe + 1), sizeof *s->bits);
  return s->bits ? URBAC_OK : URBAC_ENOMEM;
}

static urbac_err set_add(idxset *s, uint32_t i)
{
  if (urbac__bit_test(s->bits, i))
    return URBAC_OK;
  if (URBAC_GROW(s->v, s->cap, s->n + 1))
    return URBAC_ENOMEM;
  urbac__bit_set(s->bits, i);
  s->v[s->n++] = i;
  return URBAC_OK;
}

static void set_free(idxset *s)
{
  urbac__free(s->bits);
  urbac__free(s->v);
}

typedef struct updater {
  urbac__compiler c;
  urbac_snapshot *s;
  const urbac_model *m;
  idxset users;  /* whose profile is recomputed */
  idxset direct; /* users whose direct accumulator is recomputed */
  idxset groups; /* dirty groups: their accumulators are recomputed */
} updater;

/* ---------------------------------------------------------------- membership lists */

/* A copy of list `l` without `drop` (UINT32_MAX: none) and with `add` (likewise). */
static urbac_err list_edit(urbac__cow *arr, size_t i, uint32_t drop, uint32_t add)
{
  urbac__ulist **slot = urbac__cow_mut(arr, i);
  if (!slot)
    return URBAC_ENOMEM;
  const urbac__ulist *l = *slot;
  uint32_t n = l ? l->n : 0;
  urbac__ulist *next = urbac__malloc(sizeof *next + (n + 1) * sizeof(uint32_t));
  if (!next)
    return URBAC_ENOMEM;
  next->refs = 1;
  next->n = 0;
  for (uint32_t k = 0; k < n; k++)
    if (l->v[k] != drop)
      next->v[next->n++] = l->v[k];
  if (add != UINT32_MAX)
    next->v[next->n++] = add;
  urbac__cow_ulists.release(slot);
  *slot = next->n ? next : NULL;
  if (!next->n)
    urbac__free(next);
  return URBAC_OK;
}

static int by_key(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* A group's members as sorted distinct keys (kind << 32 | index); *n of them. */
static uint64_t *member_keys(const urbac__group *g, size_t *n)
{
  size_t all = g ? g->members.n : 0;
  uint64_t *k = urbac__malloc((all + 1) * sizeof *k);
  *n = 0;
  for (size_t i = 0; k && i < all; i++)
    if (g->members.v[i].idx != URBAC__PENDING) /* names nothing yet */
      k[(*n)++] = (uint64_t)g->members.v[i].kind << 32 | g->members.v[i].idx;
  if (k)
    qsort(k, *n, sizeof *k, by_key);
  size_t u = 0; /* a member listed twice is one membership */
  for (size_t i = 0; k && i < *n; i++)
    if (u == 0 || k[u - 1] != k[i])
      k[u++] = k[i];
  *n = u;
  return k;
}

/* Member `key` of group g was lost (drop) or gained: its list of groups changes,
 * and it is reached (a user's profile, a group's accumulator). */
static urbac_err member_moved(updater *u, uint32_t g, uint64_t key, bool drop)
{
  uint32_t idx = (uint32_t)key;
  bool user = key >> 32 == URBAC__REF_USER;
  urbac_err err = list_edit(user ? &u->s->user_groups : &u->s->group_parents, idx, drop ? g : UINT32_MAX,
                            drop ? UINT32_MAX : g);
  return err ? err : set_add(user ? &u->users : &u->groups, idx);
}

#define FEW_SWAPS 8

static bool names_key(const urbac__refs *r, uint64_t key)
{
  for (size_t i = 0; i < r->n; i++)
    if (r->v[i].idx != URBAC__PENDING && ((uint64_t)r->v[i].kind << 32 | r->v[i].idx) == key)
      return true;
  return false;
}

/* The usual change of a large group: the same list with a few entries replaced in
 * place. Then the members lost (gained) are among the replaced entries, each
 * checked against the whole other list: no sort of either. *handled false: not
 * such a change (the lists differ in length or in more than FEW_SWAPS places). */
static urbac_err few_swapped(updater *u, uint32_t g, const urbac__refs *b, const urbac__refs *a,
                             bool *handled)
{
  size_t at[FEW_SWAPS], n = 0;
  *handled = false;
  if (b->n != a->n)
    return URBAC_OK;
  for (size_t i = 0; i < b->n; i++)
    if (b->v[i].kind != a->v[i].kind || b->v[i].idx != a->v[i].idx) {
      if (n == FEW_SWAPS)
        return URBAC_OK;
      at[n++] = i;
    }
  urbac_err err = URBAC_OK;
  for (int side = 0; side < 2 && !err; side++) { /* 0: lost (in b, not in a); 1: gained */
    const urbac__refs *from = side ? a : b, *other = side ? b : a;
    for (size_t k = 0; k < n && !err; k++) {
      const urbac__ref *r = &from->v[at[k]];
      uint64_t key = (uint64_t)r->kind << 32 | r->idx;
      bool seen = false; /* listed at an earlier replaced entry: moved once */
      for (size_t e = 0; e < k && !seen; e++)
        seen = from->v[at[e]].kind == r->kind && from->v[at[e]].idx == r->idx;
      if (r->idx != URBAC__PENDING && !seen && !names_key(other, key))
        err = member_moved(u, g, key, side == 0);
    }
  }
  *handled = true;
  return err;
}

/* Group g's members went from `before` to `after` (either may be NULL): only the
 * members gained or lost are touched (a few entries replaced: few_swapped(); else a
 * merge of the two sorted lists). */
static urbac_err members_changed(updater *u, uint32_t g, const urbac__group *before,
                                 const urbac__group *after)
{
  bool handled = false;
  urbac_err swapped =
      before && after ? few_swapped(u, g, &before->members, &after->members, &handled) : URBAC_OK;
  if (handled || swapped)
    return swapped;
  size_t nb, na, i = 0, j = 0;
  uint64_t *b = member_keys(before, &nb), *a = member_keys(after, &na);
  urbac_err err = (!b || !a) ? URBAC_ENOMEM : URBAC_OK;
  while (!err && (i < nb || j < na)) {
    if (j == na || (i < nb && b[i] < a[j]))
      err = member_moved(u, g, b[i++], true);
    else if (i == nb || a[j] < b[i])
      err = member_moved(u, g, a[j++], false);
    else
      i++, j++; /* kept */
  }
  urbac__free(b);
  urbac__free(a);
  return err;
}

/* ---------------------------------------------------------------- what a change reaches */

static urbac_err mark_refs(updater *u, const urbac__refs *r)
{
  urbac_err err = URBAC_OK;
  for (size_t i = 0; i < r->n && !err; i++) {
    if (r->v[i].idx == URBAC__PENDING)
      continue;
    if (r->v[i].kind == URBAC__REF_GROUP)
      err = set_add(&u->groups, r->v[i].idx);
    else if (r->v[i].kind == URBAC__REF_USER && !(err = set_add(&u->direct, r->v[i].idx)))
      err = set_add(&u->users, r->v[i].idx);
  }
  return err;
}

static void mark_cb(void *ctx, urbac__refs *r, const char *what)
{
  updater *u = ctx;
  (void)what;
  if (mark_refs(u, r))
    u->c.scratch_n = SIZE_MAX; /* out of memory, seen by the caller */
}

static urbac_err one_change(updater *u, const urbac__change *ch)
{
  urbac_err err = URBAC_OK;
  switch ((urbac__obj_kind)ch->kind) {
  case URBAC__OBJ_USER:
    return set_add(&u->users, ch->idx);
  case URBAC__OBJ_GROUP: {
    const urbac__group *before = (const urbac__group *)ch->before, *after = (const urbac__group *)ch->after;
    /* its own accumulator changes with its directory roles (or its existence) only:
     * a change of members reaches the members gained and lost, not the others */
    if (!before || !after || before->dirroles != after->dirroles)
      err = set_add(&u->groups, ch->idx);
    return err ? err : members_changed(u, ch->idx, before, after);
  }
  case URBAC__OBJ_DEVICE: {
    uint32_t *d = urbac__cow_mut(&u->s->device_dg, ch->idx);
    if (d)
      *d = urbac__device_place(u->s, (const urbac__device *)ch->after);
    return d ? URBAC_OK : URBAC_ENOMEM;
  }
  default: /* roles and legacy: whom they name, before and after */
    u->c.scratch_n = 0;
    if (ch->before)
      urbac__obj_visit_refs(ch->before, mark_cb, u);
    if (ch->after)
      urbac__obj_visit_refs(ch->after, mark_cb, u);
    return u->c.scratch_n == SIZE_MAX ? URBAC_ENOMEM : URBAC_OK;
  }
}

/* Every group below a dirty one is dirty (its accumulator holds its parents'). */
static urbac_err close_down(updater *u)
{
  urbac_err err = URBAC_OK;
  for (size_t k = 0; k < u->groups.n && !err; k++) {
    const urbac__group *g = urbac__group_at(u->m, u->groups.v[k]);
    for (size_t i = 0; g && i < g->members.n && !err; i++)
      if (g->members.v[i].kind == URBAC__REF_GROUP && g->members.v[i].idx != URBAC__PENDING)
        err = set_add(&u->groups, g->members.v[i].idx);
  }
  return err;
}

/* ---------------------------------------------------------------- accumulators */

/* A fresh accumulator for each dirty group (its own directory roles) and each
 * user whose direct one is recomputed; the others stay the base's. */
static urbac_err fresh_accs(updater *u)
{
  urbac_err err = URBAC_OK;
  for (int k = 0; k < 2 && !err; k++) {
    idxset *set = k == 0 ? &u->groups : &u->direct;
    urbac__cow *arr = k == 0 ? &u->s->group_acc : &u->s->user_direct;
    for (size_t i = 0; i < set->n && !err; i++) {
      urbac__pacc **slot = urbac__cow_mut(arr, set->v[i]);
      urbac__pacc *p = NULL;
      const urbac__group *g = k == 0 ? urbac__group_at(u->m, set->v[i]) : NULL;
      if (!slot || ((k == 1 || g) && !(p = urbac__pacc_new(u->s->dg_words)))) {
        err = URBAC_ENOMEM;
        break;
      }
      urbac__cow_paccs.release(slot);
      if (p && g)
        p->a.dirroles = g->dirroles;
      *slot = p;
    }
  }
  return err;
}

/* The accumulator a reference contributes to, if it is being recomputed. */
static urbac__acc *target(updater *u, const urbac__ref *r)
{
  bool group = r->kind == URBAC__REF_GROUP;
  if (r->idx == URBAC__PENDING || !urbac__bit_test(group ? u->groups.bits : u->direct.bits, r->idx))
    return NULL;
  const urbac__cow *arr = group ? &u->s->group_acc : &u->s->user_direct;
  urbac__pacc *p = URBAC__AT(*arr, r->idx);
  return p ? &p->a : NULL;
}

/* The assignments naming principal (kind, idx), recomputed into `a`: the roles
 * the index names, in order, each assignment and each place naming it in order,
 * as a whole compile adds them. */
static urbac_err principal_assignments(updater *u, uint8_t kind, uint32_t idx, urbac__acc *a)
{
  size_t n = 0;
  const urbac__asg_entry *e = urbac__asg_index_find(u->s->asg_index, kind, idx, &n);
  urbac_err err = URBAC_OK;
  for (size_t i = 0; i < n && !err; i++) {
    const urbac__role *role = urbac__role_at(u->m, e[i].role);
    for (size_t k = 0; role && k < role->nasg && !err; k++) {
      const urbac__assignment *as = &role->asg[k];
      uint32_t set = URBAC__ALL_DGS;
      bool computed = false;
      for (size_t p = 0; p < as->principals.n && !err; p++)
        if (as->principals.v[p].kind == kind && as->principals.v[p].idx == idx) {
          if (!computed && !(err = urbac__asg_dgset(&u->c, as, &set)))
            computed = true;
          if (!err)
            err = urbac__acc_assignment(a, u->m, role, as, set);
        }
    }
  }
  return err;
}

/* The roles' assignments naming the principals being recomputed, found by the
 * snapshot's index (made from the base's, or built once). */
static urbac_err scan_roles(updater *u, const urbac_snapshot *base)
{
  urbac__asg_index *x = base->asg_index;
  u->s->asg_index = x ? urbac__asg_index_update(x, u->m) : urbac__asg_index_build(u->m);
  urbac_err err = u->s->asg_index ? URBAC_OK : URBAC_ENOMEM;
  for (int k = 0; k < 2 && !err; k++) {
    const idxset *set = k == 0 ? &u->groups : &u->direct;
    uint8_t kind = k == 0 ? URBAC__REF_GROUP : URBAC__REF_USER;
    for (size_t i = 0; i < set->n && !err; i++) {
      urbac__acc *a = target(u, &(urbac__ref){.kind = kind, .idx = set->v[i]});
      if (a)
        err = principal_assignments(u, kind, set->v[i], a);
    }
  }
  return err;
}

/* One scan of the legacy configuration, for the principals being recomputed. */
static void scan_legacy(updater *u)
{
  const urbac_model *m = u->m;
  urbac__acc *a;
  for (size_t i = 0; i < m->mde_roles.n; i++) {
    const urbac__mde_role *role = urbac__mde_at(m, i);
    for (size_t g = 0; role && g < role->groups.n; g++)
      if ((a = target(u, &role->groups.v[g]))) {
        a->mdeperms |= role->perms;
        a->mde_role = true;
      }
  }
  for (size_t i = 0; i < m->eop.n + m->mdi.n; i++) {
    bool eop = i < m->eop.n;
    const urbac__legacy_members *lm = eop ? urbac__eop_at(m, i) : urbac__mdi_at(m, i - m->eop.n);
    for (size_t p = 0; lm && p < lm->members.n; p++)
      if ((a = target(u, &lm->members.v[p])))
        *(eop ? &a->eop : &a->mdi) |= 1u << lm->which;
  }
  for (size_t d = 0; d < m->dgs.n; d++) {
    const urbac__devgroup *dg = urbac__dg_at(m, d);
    for (size_t g = 0; dg && g < dg->access.n; g++)
      if ((a = target(u, &dg->access.v[g])))
        urbac__bit_set(a->access, d);
  }
}

/* Parents' accumulators into the dirty groups', parents first (Kahn's order over
 * the dirty groups; a parent that is not dirty is the base's, final already). A
 * group's parents are counted from its list (each parent once) and taken off as
 * each parent is walked, so a member listed twice is taken off once. */
static urbac_err propagate(updater *u)
{
  urbac_snapshot *s = u->s;
  size_t n = u->groups.n, head = 0, tail = 0;
  uint32_t *indeg = urbac__calloc(n + 1, sizeof *indeg), *queue = urbac__malloc((n + 1) * sizeof *queue);
  uint32_t *pos = urbac__malloc((u->m->groups.n + 1) * sizeof *pos);
  uint32_t *seen = urbac__calloc(n + 1, sizeof *seen); /* walked from the group at queue[head - 1] */
  urbac_err err = (!indeg || !queue || !pos || !seen) ? URBAC_ENOMEM : URBAC_OK;
  for (size_t k = 0; k < n && !err; k++)
    pos[u->groups.v[k]] = (uint32_t)k;
  for (size_t k = 0; k < n && !err; k++) {
    const urbac__ulist *parents = urbac__ulist_at(&s->group_parents, u->groups.v[k]);
    for (uint32_t i = 0; parents && i < parents->n; i++) {
      if (urbac__bit_test(u->groups.bits, parents->v[i]))
        indeg[k]++;
      else if (urbac__group_at(u->m, u->groups.v[k]))
        err =
            urbac__acc_merge(&((urbac__pacc *)URBAC__AT(s->group_acc, u->groups.v[k]))->a,
                             &((const urbac__pacc *)URBAC__AT(s->group_acc, parents->v[i]))->a, s->dg_words);
    }
    if (!indeg[k])
      queue[tail++] = (uint32_t)k;
  }
  while (head < tail && !err) {
    uint32_t g = u->groups.v[queue[head++]];
    const urbac__group *grp = urbac__group_at(u->m, g);
    for (size_t i = 0; grp && i < grp->members.n && !err; i++) {
      const urbac__ref *r = &grp->members.v[i];
      if (r->kind != URBAC__REF_GROUP || r->idx == URBAC__PENDING ||
          seen[pos[r->idx]] == head) /* pending; a repeat is one parent */
        continue;
      seen[pos[r->idx]] = (uint32_t)head;
      err = urbac__acc_merge(&((urbac__pacc *)URBAC__AT(s->group_acc, r->idx))->a,
                             &((const urbac__pacc *)URBAC__AT(s->group_acc, g))->a, s->dg_words);
      if (--indeg[pos[r->idx]] == 0)
        queue[tail++] = pos[r->idx];
    }
  }
  URBAC_ASSERT(err || tail == n);
  urbac__free(indeg);
  urbac__free(queue);
  urbac__free(pos);
  urbac__free(seen);
  return err;
}

/* ---------------------------------------------------------------- users */

static urbac_err refresh_users(updater *u)
{
  urbac_err err = URBAC_OK;
  for (size_t k = 0; k < u->groups.n && !err; k++) { /* direct members of dirty groups */
    const urbac__group *g = urbac__group_at(u->m, u->groups.v[k]);
    for (size_t i = 0; g && i < g->members.n && !err; i++)
      if (g->members.v[i].kind == URBAC__REF_USER && g->members.v[i].idx != URBAC__PENDING)
        err = set_add(&u->users, g->members.v[i].idx);
  }
  return err ? err : urbac__users_refresh(&u->c, u->users.v, u->users.n);
}

/* ---------------------------------------------------------------- the whole */

/* Can the edit from base's model to m be applied here? */
static bool incremental(const urbac_snapshot *base, const urbac_model *m)
{
  if (m->base_serial != base->m->serial || m->modes_changed || m->dgs.n != base->m->dgs.n)
    return false;
  for (size_t i = 0; i < m->nchanges; i++)
    if (m->changes[i].kind == URBAC__OBJ_DG)
      return false;
  return m->nchanges <= m->users.n / 8 + 64;
}

static urbac_err share_base(urbac_snapshot *s, const urbac_snapshot *base, const urbac_model *m)
{
  urbac__cow *to[] = {&s->user_profile, &s->device_dg,   &s->user_groups, &s->group_parents,
                      &s->group_acc,    &s->user_direct, &s->profile_uses};
  const urbac__cow *from[] = {&base->user_profile,  &base->device_dg, &base->user_groups,
                              &base->group_parents, &base->group_acc, &base->user_direct,
                              &base->profile_uses};
  urbac_err err = URBAC_OK;
  urbac__snapshot_init(s, m);
  s->tables = base->tables;
  s->live_profiles = base->live_profiles;
  for (size_t i = 0; i < sizeof to / sizeof to[0]; i++)
    urbac__cow_share(to[i], from[i]);
  urbac__log_share(&s->profiles, &base->profiles);
  urbac__log_share(&s->parts, &base->parts);
  urbac__log_share(&s->dgsets, &base->dgsets);
  urbac__hmap_share(&s->profile_index, &base->profile_index);
  urbac__hmap_share(&s->dgset_index, &base->dgset_index);
  if (!(s->dg_order = urbac__malloc((base->ndg_order + 1) * sizeof *s->dg_order)))
    err = URBAC_ENOMEM;
  if (!err) {
    memcpy(s->dg_order, base->dg_order, base->ndg_order * sizeof *s->dg_order);
    s->ndg_order = base->ndg_order;
  }
  uint32_t *uses = err ? NULL : urbac__cow_mut(&s->profile_uses, 0);
  if (!err && !uses)
    err = URBAC_ENOMEM;
  if (!err) /* users added hold profile 0 until refreshed */
    *uses += (uint32_t)(m->users.n - base->m->users.n);
  if (!err &&
      (urbac__cow_grow(&s->user_profile, m->users.n) || urbac__cow_grow(&s->user_direct, m->users.n) ||
       urbac__cow_grow(&s->user_groups, m->users.n) || urbac__cow_grow(&s->group_parents, m->groups.n) ||
       urbac__cow_grow(&s->group_acc, m->groups.n) || urbac__cow_grow(&s->device_dg, m->devices.n)))
    err = URBAC_ENOMEM;
  return err;
}

static urbac_err update(updater *u, const urbac_snapshot *base)
{
  urbac_err err = share_base(u->s, base, u->m);
  if (!err && (set_init(&u->users, u->m->users.n) || set_init(&u->direct, u->m->users.n) ||
               set_init(&u->groups, u->m->groups.n)))
    err = URBAC_ENOMEM;
  if (!err)
    err = urbac__compiler_init(&u->c, u->s, u->m);
  for (size_t i = 0; i < u->m->nchanges && !err; i++)
    err = one_change(u, &u->m->changes[i]);
  if (!err)
    err = close_down(u);
  if (!err && u->users.n + u->groups.n > u->m->users.n / 2 + 1024)
    return URBAC_ELIMIT; /* reaches most of the tenant: a whole compile is cheaper */
  if (!err)
    err = fresh_accs(u);
  /* the scans feed only accumulators being recomputed: none (a member swapped
   * in a group reaches two users' profiles, no accumulator), no scan */
  bool fresh = u->groups.n || u->direct.n;
  if (!err && fresh && !(err = scan_roles(u, base)))
    scan_legacy(u);
  if (!err && !fresh && base->asg_index &&
      !(u->s->asg_index = urbac__asg_index_update(base->asg_index, u->m)))
    err = URBAC_ENOMEM; /* kept for the next update */
  if (!err)
    err = propagate(u);
  if (!err)
    err = refresh_users(u);
  return err;
}

/* Keeps the users reached (sorted) as the snapshot's changed users. With `base`
 * (s updated from it, not compiled whole), a user whose profile is the one it had
 * there decides alike (profiles are interned against the base's and never change
 * once made) and is left out. */
static urbac_err keep_changed(urbac_snapshot *s, idxset *users, const urbac_snapshot *base)
{
  size_t n = 0;
  for (size_t i = 0; i < users->n; i++) {
    uint32_t u = users->v[i];
    if (!base || u >= base->user_profile.n || urbac__user_profile(base, u) != urbac__user_profile(s, u))
      users->v[n++] = u;
  }
  s->changed = users->v;
  s->nchanged = n;
  users->v = NULL;
  s->changed_known = true;
  for (size_t i = 1; i < s->nchanged; i++) { /* insertion sort: the list is short */
    uint32_t v = s->changed[i];
    size_t j = i;
    while (j > 0 && s->changed[j - 1] > v) {
      s->changed[j] = s->changed[j - 1];
      j--;
    }
    s->changed[j] = v;
  }
  return URBAC_OK;
}

urbac_err urbac_snapshot_update(const urbac_snapshot *base, const urbac_model *m, urbac_snapshot **out,
                                urbac_diag *d)
{
  updater u = {.m = m};
  size_t had = urbac_diag_count(d);
  urbac_err err = URBAC_ENOMEM;
  *out = NULL;
  if (!incremental(base, m))
    return urbac_snapshot_compile(m, out, d);
  if (!(u.s = urbac__calloc(1, sizeof *u.s)))
    return urbac__diag_code(d, URBAC_ENOMEM, "updating the snapshot");
  err = update(&u, base);
  /* garbage: profiles nobody holds; past a threshold, one whole compile drops them */
  bool garbage = !err && u.s->profiles.n - u.s->live_profiles > u.s->live_profiles + 4096;
  if ((err == URBAC_ELIMIT || garbage) && u.users.bits) {
    urbac_snapshot_free(u.s);
    u.s = NULL;
    err = urbac_snapshot_compile(m, &u.s, d);
    if (!err && garbage) /* the users reached are still known */
      err = keep_changed(u.s, &u.users, NULL);
  } else if (!err) {
    err = keep_changed(u.s, &u.users, base);
  }
  urbac__compiler_free(&u.c);
  set_free(&u.users);
  set_free(&u.direct);
  set_free(&u.groups);
  if (err) {
    urbac_snapshot_free(u.s);
    return urbac__diag_code_since(d, had, err, "updating the snapshot");
  }
  *out = u.s;
  return URBAC_OK;
}

bool urbac_snapshot_changed_users(const urbac_snapshot *s, const uint32_t **users, size_t *n)
{
  *users = s->changed;
  *n = s->changed_known ? s->nchanged : 0;
  return s->changed_known;
}
