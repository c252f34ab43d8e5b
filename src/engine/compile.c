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
 * The snapshot keeps the groups' accumulators, what names each user directly,
 * the membership lists both ways and the interning indexes, all in paged
 * copy-on-write arrays, so that engine/update.c can recompile only what an edit
 * reaches and share the rest.
 *
 * Depends on: util, catalog, model, engine/engine.h, engine/compiler.h.
 */
#include <stdlib.h>

#include "engine/compiler.h"

/* ---------------------------------------------------------------- kept objects */

static void ulist_retain(void *elem)
{
  urbac__ulist *l = *(urbac__ulist **)elem;
  if (l)
    __atomic_add_fetch(&l->refs, 1, __ATOMIC_RELAXED);
}

static void ulist_release(void *elem)
{
  urbac__ulist *l = *(urbac__ulist **)elem;
  if (l && __atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL) == 0)
    urbac__free(l);
}

const urbac__cow_type urbac__cow_ulists = {sizeof(void *), ulist_retain, ulist_release};

static void pacc_retain(void *elem)
{
  urbac__pacc *p = *(urbac__pacc **)elem;
  if (p)
    __atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
}

static void pacc_release(void *elem)
{
  urbac__pacc *p = *(urbac__pacc **)elem;
  if (p && __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0) {
    urbac__free(p->a.items);
    urbac__free(p->a.access);
    urbac__free(p);
  }
}

const urbac__cow_type urbac__cow_paccs = {sizeof(void *), pacc_retain, pacc_release};

urbac__pacc *urbac__pacc_new(size_t words)
{
  urbac__pacc *p = urbac__calloc(1, sizeof *p);
  if (p && !(p->a.access = urbac__calloc(words, sizeof *p->a.access))) {
    urbac__free(p);
    return NULL;
  }
  if (p)
    p->refs = 1;
  return p;
}

/* ---------------------------------------------------------------- accumulators */

urbac_err urbac__acc_item(urbac__acc *a, uint32_t w, uint32_t dgset, const urbac__gmask *mask)
{
  for (size_t i = 0; i < a->n; i++)
    if (a->items[i].w == w && a->items[i].dgset == dgset) {
      urbac__gmask_or(&a->items[i].mask, mask);
      return URBAC_OK;
    }
  if (URBAC_GROW(a->items, a->cap, a->n + 1))
    return URBAC_ENOMEM;
  a->items[a->n++] = (urbac__uitem){dgset, w, *mask};
  return URBAC_OK;
}

urbac_err urbac__acc_merge(urbac__acc *dst, const urbac__acc *src, size_t words)
{
  dst->dirroles |= src->dirroles;
  dst->eop |= src->eop;
  dst->mdi |= src->mdi;
  dst->mdeperms |= src->mdeperms;
  dst->mde_role = dst->mde_role || src->mde_role;
  for (size_t i = 0; i < words; i++)
    dst->access[i] |= src->access[i];
  for (size_t i = 0; i < src->n; i++)
    if (urbac__acc_item(dst, src->items[i].w, src->items[i].dgset, &src->items[i].mask))
      return URBAC_ENOMEM;
  return URBAC_OK;
}

urbac__gmask urbac__role_grants(const urbac_model *m, const urbac__role *role)
{
  urbac__gmask g = role->grants;
  if (m->edition == URBAC__EDITION_CURRENT)
    urbac__gmask_imply(&g);
  return g;
}

urbac_err urbac__acc_assignment(urbac__acc *a, const urbac_model *m, const urbac__role *role,
                                const urbac__assignment *as, uint32_t set)
{
  urbac__gmask grants = urbac__role_grants(m, role);
  for (uint32_t w = 0; w < URBAC__NWORKLOADS; w++) {
    if (!(as->workloads & (1u << w)))
      continue;
    /* device-group scope matters on mde only */
    uint32_t s = w == URBAC__WL_MDE ? set : URBAC__ALL_DGS;
    if (s != URBAC__NO_DGS && urbac__acc_item(a, w, s, &grants))
      return URBAC_ENOMEM;
  }
  return URBAC_OK;
}

/* ---------------------------------------------------------------- interning */

typedef struct dgset_key {
  const urbac_snapshot *s;
  const uint64_t *words;
} dgset_key;

static bool dgset_eq(const void *ctx, uint32_t id)
{
  const dgset_key *k = ctx;
  return memcmp(urbac__dgset(k->s, id), k->words, k->s->dg_words * sizeof *k->words) == 0;
}

static urbac_err intern_dgset(urbac__compiler *c, const uint64_t *words, uint32_t *id)
{
  urbac_snapshot *s = c->s;
  dgset_key k = {s, words};
  uint64_t h = urbac__hash(words, s->dg_words * sizeof *words);
  if (urbac__hmap_find(&s->dgset_index, h, dgset_eq, &k, id))
    return URBAC_OK;
  if (s->dgsets.n >= URBAC__NO_DGS - 1)
    return URBAC_ELIMIT;
  *id = (uint32_t)s->dgsets.n;
  if (urbac__log_push(&s->dgsets, s->dg_words * sizeof *words, words))
    return URBAC_ENOMEM;
  return urbac__hmap_put(&s->dgset_index, h, *id);
}

urbac_err urbac__asg_dgset(urbac__compiler *c, const urbac__assignment *as, uint32_t *set)
{
  *set = URBAC__ALL_DGS;
  if (as->all_dgs)
    return URBAC_OK;
  if (as->dgs.n == 0) {
    *set = URBAC__NO_DGS;
    return URBAC_OK;
  }
  memset(c->access_words, 0, c->s->dg_words * sizeof *c->access_words);
  for (size_t i = 0; i < as->dgs.n; i++)
    urbac__bit_set(c->access_words, as->dgs.v[i].idx);
  return intern_dgset(c, c->access_words, set);
}

/* ---------------------------------------------------------------- decisions */

static void dir_mask(const urbac__compiler *c, uint32_t roles, uint32_t w, urbac__gmask *out)
{
  roles &= (uint32_t)((1ull << URBAC__NDIR) - 1);
  for (; roles; roles &= roles - 1) /* the roles held, lowest first */
    urbac__gmask_or(out, &c->s->tables.dir[__builtin_ctz(roles)][w]);
}

static urbac_err add_part(urbac__compiler *c, uint32_t dgset, const urbac__gmask *mask)
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
static urbac_err legacy_mde(urbac__compiler *c, const urbac__acc *a, urbac__gmask *all)
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
    d[i] = (a->access[i] | (a->mde_role ? c->open_dgs[i] : 0)) & c->live_dgs[i];
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

static urbac_err workload_decision(urbac__compiler *c, const urbac__acc *a, uint32_t w, urbac__wdec *out)
{
  urbac_err err = URBAC_OK;
  memset(out, 0, sizeof *out);
  c->scratch_n = 0;
  if (urbac__mode(c->m, w) == URBAC_MODE_UNIFIED) {
    dir_mask(c, a->dirroles, w, &out->all);
    for (size_t i = 0; i < a->n && !err; i++) {
      if (a->items[i].w != w)
        continue;
      if (a->items[i].dgset == URBAC__ALL_DGS)
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

typedef struct profile_key {
  const urbac_snapshot *s;
  const urbac__profile *p;
  const urbac__part *parts; /* p's parts, at p->w[w].part_off */
} profile_key;

static bool profile_eq(const void *ctx, uint32_t id)
{
  const profile_key *k = ctx;
  const urbac__profile *have = urbac__profile_at(k->s, id);
  for (uint32_t w = 0; w < URBAC__NWORKLOADS; w++) {
    const urbac__wdec *a = &have->w[w], *b = &k->p->w[w];
    if (!urbac__gmask_eq(&a->all, &b->all) || a->part_n != b->part_n)
      return false;
    for (uint32_t i = 0; i < a->part_n; i++) {
      const urbac__part *x = urbac__part_at(k->s, a->part_off + i), *y = &k->parts[b->part_off + i];
      if (x->dgset != y->dgset || !urbac__gmask_eq(&x->mask, &y->mask))
        return false;
    }
  }
  return true;
}

urbac_err urbac__profile_key(urbac__buf *key, const urbac__profile *p, const urbac__part *parts, size_t n)
{
  /* field by field: a struct's copy need not keep its padding zero, and the
   * bytes are hashed */
  size_t head = sizeof(urbac__gmask) + sizeof(uint32_t), part = sizeof(uint32_t) + sizeof(urbac__gmask);
  size_t len = URBAC__NWORKLOADS * head + n * part;
  if (URBAC_GROW(key->s, key->cap, len))
    return URBAC_ENOMEM;
  char *at = key->s;
  for (uint32_t w = 0; w < URBAC__NWORKLOADS; w++) {
    memcpy(at, &p->w[w].all, sizeof(urbac__gmask));
    memcpy(at + sizeof(urbac__gmask), &p->w[w].part_n, sizeof(uint32_t));
    at += head;
  }
  for (size_t i = 0; i < n; i++) {
    memcpy(at, &parts[i].dgset, sizeof(uint32_t));
    memcpy(at + sizeof(uint32_t), &parts[i].mask, sizeof(urbac__gmask));
    at += part;
  }
  key->len = len;
  return URBAC_OK;
}

/* Turns an accumulator into decisions and interns them (by urbac__profile_key());
 * *id is the profile. */
static urbac_err make_profile(urbac__compiler *c, const urbac__acc *a, uint32_t *id)
{
  urbac_snapshot *snap = c->s;
  urbac__profile p;
  urbac_err err = URBAC_OK;
  c->pparts_n = 0;
  for (uint32_t w = 0; w < URBAC__NWORKLOADS && !err; w++) {
    err = workload_decision(c, a, w, &p.w[w]);
    if (err || URBAC_GROW(c->pparts, c->pparts_cap, c->pparts_n + c->scratch_n + 1))
      return err ? err : URBAC_ENOMEM;
    p.w[w].part_off = (uint32_t)c->pparts_n;
    if (p.w[w].part_n)
      memcpy(c->pparts + c->pparts_n, c->scratch_parts, p.w[w].part_n * sizeof *c->pparts);
    c->pparts_n += p.w[w].part_n;
  }
  if (urbac__profile_key(&c->key, &p, c->pparts, c->pparts_n))
    return URBAC_ENOMEM;
  uint64_t h = urbac__hash(c->key.s, c->key.len);
  profile_key k = {snap, &p, c->pparts};
  if (urbac__hmap_find(&snap->profile_index, h, profile_eq, &k, id))
    return URBAC_OK;
  if (snap->profiles.n >= UINT32_MAX - 1 || snap->parts.n + c->pparts_n >= UINT32_MAX)
    return URBAC_ELIMIT;
  for (uint32_t w = 0; w < URBAC__NWORKLOADS; w++)
    p.w[w].part_off += (uint32_t)snap->parts.n;
  for (size_t i = 0; i < c->pparts_n; i++)
    if (urbac__log_push(&snap->parts, sizeof *c->pparts, &c->pparts[i]))
      return URBAC_ENOMEM;
  *id = (uint32_t)snap->profiles.n;
  if (urbac__log_push(&snap->profiles, sizeof p, &p) || urbac__cow_push(&snap->profile_uses, NULL))
    return URBAC_ENOMEM;
  return urbac__hmap_put(&snap->profile_index, h, *id);
}

/* Sets user u's profile, keeping the counts of users per profile. */
static urbac_err set_profile(urbac__compiler *c, uint32_t u, uint32_t id)
{
  urbac_snapshot *s = c->s;
  uint32_t *slot = urbac__cow_mut(&s->user_profile, u);
  if (!slot)
    return URBAC_ENOMEM;
  uint32_t old = *slot;
  uint32_t *before = urbac__cow_mut(&s->profile_uses, old), *after = urbac__cow_mut(&s->profile_uses, id);
  if (!before || !after)
    return URBAC_ENOMEM;
  s->live_profiles -= --*before == 0;
  s->live_profiles += (*after)++ == 0;
  *slot = id;
  return URBAC_OK;
}

urbac_err urbac__user_refresh(urbac__compiler *c, uint32_t u)
{
  urbac_snapshot *s = c->s;
  const urbac__user *user = urbac__user_at(c->m, u);
  urbac__acc *a = &c->scratch;
  urbac_err err = URBAC_OK;
  uint32_t id = 0;
  if (user && user->enabled) {
    a->dirroles = user->dirroles;
    a->eop = a->mdi = a->mdeperms = 0;
    a->mde_role = false;
    a->n = 0;
    memset(a->access, 0, s->dg_words * sizeof *a->access);
    const urbac__pacc *direct = u < s->user_direct.n ? URBAC__AT(s->user_direct, u) : NULL;
    if (direct)
      err = urbac__acc_merge(a, &direct->a, s->dg_words);
    const urbac__ulist *groups = urbac__ulist_at(&s->user_groups, u);
    for (uint32_t i = 0; groups && i < groups->n && !err; i++)
      err =
          urbac__acc_merge(a, &((const urbac__pacc *)URBAC__AT(s->group_acc, groups->v[i]))->a, s->dg_words);
    if (!err)
      err = make_profile(c, a, &id);
  }
  return err ? err : set_profile(c, u, id);
}

/* Fetches the memory user_refresh() reads for user u, `ahead` users before it
 * is refreshed, one level of pointers per step: at 5 the slots of the user and
 * its lists, at 4 the user and the lists, at 3 the slots of its groups'
 * accumulators, at 2 those accumulators, at 1 their arrays' first lines. Each
 * level is a cache miss on a large tenant; fetched for several users at once,
 * the misses overlap instead of following one another. bench/edit.c, an
 * assignment reaching 1,000 users, edits with and without it alternated in one
 * process: 2% faster while the host's memory answered quickly, 13% while it was
 * slow. Hints only: a level not yet fetched is read, at the cost it had anyway. */
static void fetch_ahead(const urbac_snapshot *s, uint32_t u, int ahead)
{
  const urbac__ulist *groups = NULL;
  if (ahead == 5) {
    if (u < s->m->users.n)
      __builtin_prefetch(urbac__cow_at(&s->m->users, u));
    if (u < s->user_profile.n)
      __builtin_prefetch(urbac__cow_at(&s->user_profile, u));
    if (u < s->user_groups.n)
      __builtin_prefetch(urbac__cow_at(&s->user_groups, u));
    if (u < s->user_direct.n)
      __builtin_prefetch(urbac__cow_at(&s->user_direct, u));
    return;
  }
  if (ahead == 4) {
    if (u < s->m->users.n && urbac__user_at(s->m, u))
      __builtin_prefetch(urbac__user_at(s->m, u));
    if ((groups = urbac__ulist_at(&s->user_groups, u)) != NULL)
      __builtin_prefetch(groups);
    if (u < s->user_direct.n && URBAC__AT(s->user_direct, u))
      __builtin_prefetch(URBAC__AT(s->user_direct, u));
    return;
  }
  groups = urbac__ulist_at(&s->user_groups, u);
  for (uint32_t i = 0; groups && i < groups->n; i++) {
    const urbac__pacc *p = NULL;
    if (groups->v[i] >= s->group_acc.n)
      continue;
    if (ahead == 3)
      __builtin_prefetch(urbac__cow_at(&s->group_acc, groups->v[i]));
    else if ((p = URBAC__AT(s->group_acc, groups->v[i])) != NULL && ahead == 2)
      __builtin_prefetch(p);
    else if (p) {
      __builtin_prefetch(p->a.access);
      __builtin_prefetch(p->a.items);
    }
  }
}

#define FETCH_AHEAD 5 /* the users fetch_ahead() reaches before their refresh: its levels 5 .. 1 */
_Static_assert(FETCH_AHEAD == 5, "fetch_ahead() has a level per user ahead, 5 .. 1");

urbac_err urbac__users_refresh(urbac__compiler *c, const uint32_t *users, size_t n)
{
  urbac_err err = URBAC_OK;
  for (size_t k = 0; k < n && !err; k++) {
    for (int ahead = 1; ahead <= FETCH_AHEAD; ahead++)
      if (k + (size_t)ahead < n)
        fetch_ahead(c->s, users ? users[k + (size_t)ahead] : (uint32_t)(k + (size_t)ahead), ahead);
    err = urbac__user_refresh(c, users ? users[k] : (uint32_t)k);
  }
  return err;
}

/* ---------------------------------------------------------------- the compiler */

void urbac__snapshot_init(urbac_snapshot *s, const urbac_model *m)
{
  s->m = m;
  s->dg_words = urbac__bits_words(m->dgs.n ? m->dgs.n : 1);
  urbac__cow_init(&s->user_profile, &urbac__cow_u32);
  urbac__cow_init(&s->device_dg, &urbac__cow_u32);
  urbac__cow_init(&s->user_groups, &urbac__cow_ulists);
  urbac__cow_init(&s->group_parents, &urbac__cow_ulists);
  urbac__cow_init(&s->group_acc, &urbac__cow_paccs);
  urbac__cow_init(&s->user_direct, &urbac__cow_paccs);
  urbac__cow_init(&s->profile_uses, &urbac__cow_u32);
}

urbac_err urbac__compiler_init(urbac__compiler *c, urbac_snapshot *s, const urbac_model *m)
{
  size_t words = s->dg_words;
  memset(c, 0, sizeof *c);
  c->s = s;
  c->m = m;
  c->access_words = urbac__calloc(words, sizeof *c->access_words);
  c->open_dgs = urbac__calloc(words, sizeof *c->open_dgs);
  c->live_dgs = urbac__calloc(words, sizeof *c->live_dgs);
  c->scratch.access = urbac__calloc(words, sizeof *c->scratch.access);
  if (!c->access_words || !c->open_dgs || !c->live_dgs || !c->scratch.access)
    return URBAC_ENOMEM;
  for (size_t d = 0; d < m->dgs.n; d++) {
    const urbac__devgroup *dg = urbac__dg_at(m, d);
    if (dg)
      urbac__bit_set(c->live_dgs, d);
    if (dg && !dg->access.n)
      urbac__bit_set(c->open_dgs, d);
  }
  return URBAC_OK;
}

void urbac__compiler_free(urbac__compiler *c)
{
  urbac__free(c->access_words);
  urbac__free(c->open_dgs);
  urbac__free(c->live_dgs);
  urbac__free(c->scratch.access);
  urbac__free(c->scratch.items);
  urbac__free(c->scratch_parts);
  urbac__free(c->pparts);
  urbac__buf_free(&c->key);
}

/* ---------------------------------------------------------------- whole: membership lists */

/* Room for `n` indices in slot i of a list array (n > 0). */
static urbac_err list_alloc(urbac__cow *arr, size_t i, uint32_t n)
{
  urbac__ulist **l = urbac__cow_mut(arr, i);
  if (l)
    *l = urbac__malloc(sizeof **l + n * sizeof(uint32_t));
  if (!l || !*l)
    return URBAC_ENOMEM;
  (*l)->refs = 1;
  (*l)->n = 0;
  return URBAC_OK;
}

/* Builds user -> groups and group -> parent groups from the groups' member lists:
 * a pass to count, then one to fill. A member listed twice is one membership: a
 * list holds each group once (filled group by group, a repeat is its last entry),
 * as urbac_snapshot_update() keeps them. */
static urbac_err build_lists(urbac__compiler *c)
{
  const urbac_model *m = c->m;
  urbac_snapshot *s = c->s;
  uint32_t *nu = urbac__calloc(m->users.n + 1, sizeof *nu), *ng = urbac__calloc(m->groups.n + 1, sizeof *ng);
  urbac_err err = (!nu || !ng || urbac__cow_grow(&s->user_groups, m->users.n) ||
                   urbac__cow_grow(&s->group_parents, m->groups.n))
                      ? URBAC_ENOMEM
                      : URBAC_OK;
  for (size_t g = 0; g < m->groups.n && !err; g++) {
    const urbac__group *grp = urbac__group_at(m, g);
    for (size_t i = 0; grp && i < grp->members.n; i++)
      if (grp->members.v[i].idx != URBAC__PENDING)
        (grp->members.v[i].kind == URBAC__REF_USER ? nu : ng)[grp->members.v[i].idx]++;
  }
  for (size_t u = 0; u < m->users.n && !err; u++)
    err = nu[u] ? list_alloc(&s->user_groups, u, nu[u]) : URBAC_OK;
  for (size_t g = 0; g < m->groups.n && !err; g++)
    err = ng[g] ? list_alloc(&s->group_parents, g, ng[g]) : URBAC_OK;
  for (size_t g = 0; g < m->groups.n && !err; g++) {
    const urbac__group *grp = urbac__group_at(m, g);
    for (size_t i = 0; grp && i < grp->members.n; i++) {
      const urbac__ref *r = &grp->members.v[i];
      if (r->idx == URBAC__PENDING)
        continue;
      const urbac__cow *arr = r->kind == URBAC__REF_USER ? &s->user_groups : &s->group_parents;
      urbac__ulist *l = URBAC__AT(*arr, r->idx);
      if (!l->n || l->v[l->n - 1] != (uint32_t)g) /* listed twice in g: one membership (groups in order) */
        l->v[l->n++] = (uint32_t)g;
    }
  }
  urbac__free(nu);
  urbac__free(ng);
  return err;
}

/* ---------------------------------------------------------------- whole: accumulators */

/* The accumulator of a principal reference (a user's is made on first use). */
static urbac_err principal_acc(urbac__compiler *c, const urbac__ref *r, urbac__acc **out)
{
  urbac__cow *arr = r->kind == URBAC__REF_GROUP ? &c->s->group_acc : &c->s->user_direct;
  urbac__pacc **p = urbac__cow_mut(arr, r->idx);
  if (p && !*p)
    *p = urbac__pacc_new(c->s->dg_words);
  *out = p && *p ? &(*p)->a : NULL;
  return *out ? URBAC_OK : URBAC_ENOMEM;
}

static urbac_err direct_assignments(urbac__compiler *c)
{
  const urbac_model *m = c->m;
  urbac_err err = URBAC_OK;
  for (size_t r = 0; r < m->roles.n && !err; r++) {
    const urbac__role *role = urbac__role_at(m, r);
    for (size_t a = 0; role && a < role->nasg && !err; a++) {
      const urbac__assignment *as = &role->asg[a];
      uint32_t set;
      err = urbac__asg_dgset(c, as, &set);
      for (size_t p = 0; p < as->principals.n && !err; p++) {
        urbac__acc *ac;
        if (as->principals.v[p].idx == URBAC__PENDING)
          continue; /* names nothing yet */
        if (!(err = principal_acc(c, &as->principals.v[p], &ac)))
          err = urbac__acc_assignment(ac, c->m, role, as, set);
      }
    }
  }
  return err;
}

static urbac_err direct_legacy(urbac__compiler *c)
{
  const urbac_model *m = c->m;
  urbac_err err = URBAC_OK;
  urbac__acc *a;
  for (size_t i = 0; i < m->mde_roles.n && !err; i++) {
    const urbac__mde_role *role = urbac__mde_at(m, i);
    for (size_t g = 0; role && g < role->groups.n && !err; g++)
      if (role->groups.v[g].idx != URBAC__PENDING && !(err = principal_acc(c, &role->groups.v[g], &a))) {
        a->mdeperms |= role->perms;
        a->mde_role = true;
      }
  }
  for (size_t i = 0; i < m->eop.n + m->mdi.n && !err; i++) {
    bool eop = i < m->eop.n;
    const urbac__legacy_members *lm = eop ? urbac__eop_at(m, i) : urbac__mdi_at(m, i - m->eop.n);
    for (size_t p = 0; lm && p < lm->members.n && !err; p++)
      if (lm->members.v[p].idx != URBAC__PENDING && !(err = principal_acc(c, &lm->members.v[p], &a)))
        *(eop ? &a->eop : &a->mdi) |= 1u << lm->which;
  }
  for (size_t d = 0; d < m->dgs.n && !err; d++) {
    const urbac__devgroup *dg = urbac__dg_at(m, d);
    for (size_t g = 0; dg && g < dg->access.n && !err; g++)
      if (dg->access.v[g].idx != URBAC__PENDING && !(err = principal_acc(c, &dg->access.v[g], &a)))
        urbac__bit_set(a->access, d);
  }
  return err;
}

/* Every group's accumulator: its own, then its parents' pushed into it, parents
 * first (Kahn's order; validation has ruled out cycles). */
static urbac_err group_accs(urbac__compiler *c)
{
  const urbac_model *m = c->m;
  urbac_snapshot *s = c->s;
  size_t n = m->groups.n, head = 0, tail = 0;
  uint32_t *indeg = urbac__calloc(n ? n : 1, sizeof *indeg);
  uint32_t *queue = urbac__malloc((n ? n : 1) * sizeof *queue);
  uint32_t *seen = urbac__calloc(n ? n : 1, sizeof *seen); /* walked from the group at queue[head - 1] */
  urbac_err err = (!indeg || !queue || !seen || urbac__cow_grow(&s->group_acc, n) ||
                   urbac__cow_grow(&s->user_direct, m->users.n))
                      ? URBAC_ENOMEM
                      : URBAC_OK;
  for (size_t g = 0; g < n && !err; g++) {
    const urbac__group *grp = urbac__group_at(m, g);
    urbac__acc *a;
    if (grp && !(err = principal_acc(c, &(urbac__ref){.kind = URBAC__REF_GROUP, .idx = (uint32_t)g}, &a)))
      a->dirroles |= grp->dirroles;
  }
  if (!err)
    err = direct_assignments(c);
  if (!err)
    err = direct_legacy(c);
  for (size_t g = 0; g < n && !err; g++) {
    const urbac__ulist *parents = urbac__ulist_at(&s->group_parents, g);
    indeg[g] = parents ? parents->n : 0;
    if (!indeg[g] && urbac__group_at(m, g))
      queue[tail++] = (uint32_t)g;
  }
  while (head < tail && !err) {
    uint32_t g = queue[head++];
    const urbac__group *grp = urbac__group_at(m, g);
    for (size_t i = 0; i < grp->members.n && !err; i++) {
      const urbac__ref *r = &grp->members.v[i];
      if (r->kind != URBAC__REF_GROUP || r->idx == URBAC__PENDING ||
          seen[r->idx] == head) /* pending; a repeat is one parent */
        continue;
      seen[r->idx] = (uint32_t)head;
      urbac__pacc *child = URBAC__AT(s->group_acc, r->idx), *parent = URBAC__AT(s->group_acc, g);
      err = urbac__acc_merge(&child->a, &parent->a, s->dg_words);
      if (--indeg[r->idx] == 0)
        queue[tail++] = r->idx;
    }
  }
  urbac__free(indeg);
  urbac__free(queue);
  urbac__free(seen);
  return err;
}

/* ---------------------------------------------------------------- whole: users and devices */

static urbac_err user_profiles(urbac__compiler *c)
{
  urbac_snapshot *s = c->s;
  uint32_t empty;
  urbac__acc *none = &c->scratch;
  if (urbac__cow_grow(&s->user_profile, c->m->users.n))
    return URBAC_ENOMEM;
  urbac_err err = make_profile(c, none, &empty); /* profile 0: nothing (disabled or deleted users) */
  uint32_t *uses = err ? NULL : urbac__cow_mut(&s->profile_uses, 0);
  if (!uses)
    return err ? err : URBAC_ENOMEM;
  *uses = (uint32_t)c->m->users.n;
  s->live_profiles = c->m->users.n > 0;
  return urbac__users_refresh(c, NULL, c->m->users.n);
}

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

static int by_rank(const urbac_model *m, uint32_t ia, uint32_t ib)
{
  const urbac__devgroup *a = urbac__dg_at(m, ia), *b = urbac__dg_at(m, ib);
  uint64_t ra = a->ungrouped ? UINT64_MAX : a->rank, rb = b->ungrouped ? UINT64_MAX : b->rank;
  return ra < rb ? -1 : ra > rb;
}

/* Device groups by rank (ungrouped last), then each device's group: the first
 * whose rules all match, else ungrouped. */
static urbac_err place_devices(urbac__compiler *c)
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

/* ---------------------------------------------------------------- the whole */

urbac_err urbac_snapshot_compile(const urbac_model *m, urbac_snapshot **out, urbac_diag *d)
{
  urbac__compiler c = {0};
  urbac_err err = URBAC_ENOMEM;
  size_t had = urbac_diag_count(d);
  urbac_snapshot *s = urbac__calloc(1, sizeof *s);
  *out = NULL;
  if (!s)
    return urbac__diag_code(d, URBAC_ENOMEM, "compiling the snapshot");
  urbac__snapshot_init(s, m);
  err = urbac__tables_build_edition(&s->tables, (urbac__edition)m->edition, d);
  if (!err &&
      (urbac__hmap_init(&s->dgset_index, 64) || urbac__hmap_init(&s->profile_index, m->users.n / 4 + 16)))
    err = URBAC_ENOMEM;
  if (!err)
    err = urbac__compiler_init(&c, s, m);
  if (!err)
    err = build_lists(&c);
  if (!err)
    err = group_accs(&c);
  if (!err)
    err = user_profiles(&c);
  if (!err)
    err = place_devices(&c);
  urbac__compiler_free(&c);
  if (err) {
    urbac_snapshot_free(s);
    return urbac__diag_code_since(d, had, err, "compiling the snapshot");
  }
  *out = s;
  return URBAC_OK;
}

void urbac_snapshot_free(urbac_snapshot *snap)
{
  if (!snap)
    return;
  urbac__cow *all[] = {&snap->user_profile, &snap->device_dg,   &snap->user_groups, &snap->group_parents,
                       &snap->group_acc,    &snap->user_direct, &snap->profile_uses};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    urbac__cow_free(all[i]);
  urbac__log_free(&snap->profiles);
  urbac__log_free(&snap->parts);
  urbac__log_free(&snap->dgsets);
  urbac__hmap_free(&snap->profile_index);
  urbac__hmap_free(&snap->dgset_index);
  urbac__free(snap->dg_order);
  urbac__free(snap->changed);
  urbac__asg_index_release(snap->asg_index);
  urbac__free(snap);
}

/* The bytes of what the check path reads: the user's profile, the profile, its
 * parts and device-group sets, and the model's id maps it resolves names with. */
size_t urbac_snapshot_memory(const urbac_snapshot *snap)
{
  const urbac_model *m = snap->m;
  size_t maps = urbac__smap_bytes(&m->user_map) + urbac__smap_bytes(&m->user_xmap) +
                urbac__smap_bytes(&m->device_map) + urbac__smap_bytes(&m->dg_map);
  return maps + sizeof *snap + urbac__cow_bytes(&snap->user_profile) + urbac__log_bytes(&snap->profiles) +
         urbac__log_bytes(&snap->parts) + urbac__log_bytes(&snap->dgsets) +
         urbac__cow_bytes(&snap->device_dg) + snap->ndg_order * sizeof(uint32_t);
}

size_t urbac_snapshot_profiles(const urbac_snapshot *snap) { return snap->profiles.n; }
const urbac_model *urbac_snapshot_model(const urbac_snapshot *snap) { return snap->m; }
