/*
 * model/validate.c - what a tenant file's shape cannot show: duplicate ids,
 * references to unknown objects, group cycles (named in full), device-group ranks.
 *
 * Validation collects every problem with its location before giving up, so a
 * file is fixed in one round (as redis loads ACL files); the loader then keeps
 * nothing of a file that had any. It resolves each reference to an index, which
 * is all the engine needs afterwards.
 *
 * Depends on: util, catalog, model/model.c.
 */
#include <stdio.h>
#include <stdlib.h>

#include "model/model.h"

typedef struct ref_lists {
  urbac__refs **v;
  size_t n, cap;
  bool oom;
} ref_lists;

typedef struct validator {
  urbac_model *m;
  urbac_diag *d;
  urbac_err oom; /* an allocation failed: stop, report ENOMEM */
  size_t errors;
  const ref_lists *was; /* resolving one object: the lists of the object it replaces, or NULL */
  size_t list;          /* the list resolved next */
  unsigned stable;      /* bit k: this edit changed no entry of reference kind k's maps */
} validator;

static void report(validator *v, urbac_err code, urbac__loc loc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void report(validator *v, urbac_err code, urbac__loc loc, const char *fmt, ...)
{
  va_list ap;
  v->errors++;
  va_start(ap, fmt);
  urbac__diag_vadd(v->d, code, v->m->source, loc.line, loc.col, NULL, fmt, ap);
  va_end(ap);
}

/* A list of objects to index: a model array of object pointers, or a plain
 * array of structs (a role's assignments). */
typedef struct seq {
  const urbac__cow *cow;
  const char *base;
  size_t n, stride;
} seq;

static const char *seq_at(const seq *s, size_t i)
{
  return s->cow ? URBAC__AT(*s->cow, i) : s->base + i * s->stride;
}

/* Indexes the names of `s` into `map`; a repeat is an error that says where the
 * first one is. */
static void index_names(validator *v, urbac__smap *map, const seq *s, size_t name_off, size_t loc_off,
                        const char *what)
{
  if (urbac__smap_init(map, s->n)) {
    v->oom = URBAC_ENOMEM;
    return;
  }
  for (size_t i = 0; i < s->n; i++) {
    const char *obj = seq_at(s, i);
    if (!obj)
      continue;
    const char *name = *(char *const *)(const void *)(obj + name_off);
    if (!name)
      continue; /* an optional key not given (externalId) */
    urbac__loc loc, first_loc;
    uint32_t first = 0;
    memcpy(&loc, obj + loc_off, sizeof loc);
    urbac_err err = urbac__smap_put(map, name, strlen(name), (uint32_t)i, &first);
    if (err == URBAC_EDUPLICATE) {
      memcpy(&first_loc, seq_at(s, first) + loc_off, sizeof first_loc);
      report(v, URBAC_EDUPLICATE, loc, "duplicate %s '%s' (first defined at line %u)", what, name,
             first_loc.line);
    } else if (err) {
      v->oom = err;
      return;
    }
  }
}

#define INDEX(v, map, arr, type, what)                                                                       \
  index_names(v, map, &(seq){&(arr), NULL, (arr).n, 0}, offsetof(type, id), offsetof(type, loc), what " id")
#define INDEX_XID(v, map, arr, type, what)                                                                   \
  index_names(v, map, &(seq){&(arr), NULL, (arr).n, 0}, offsetof(type, ident.xkey), offsetof(type, loc),     \
              what " externalId")

static void list_cb(void *ctx, urbac__refs *r, const char *what)
{
  ref_lists *l = ctx;
  (void)what;
  if (!l->oom && URBAC_GROW(l->v, l->cap, l->n + 1) == URBAC_OK)
    l->v[l->n++] = r;
  else
    l->oom = true;
}

/* Resolves each reference of `r` against the users, groups or device groups.
 * A reference in the same place of `was` (the list it replaces) with the same
 * kind and name takes its target unread when this edit changed no map of that
 * kind: a group rewritten with one member swapped looks up one name, not 1,000
 * (each a cache miss at a million users). */
static void resolve_refs(validator *v, urbac__refs *r, const urbac__refs *was, const char *where)
{
  static const char *const kinds[] = {"user", "group", "device group"};
  for (size_t i = 0; i < r->n; i++) {
    urbac__ref *ref = &r->v[i];
    if (was && i < was->n && (v->stable >> ref->kind & 1u) && was->v[i].kind == ref->kind &&
        strcmp(was->v[i].name, ref->name) == 0) {
      ref->idx = was->v[i].idx;
      continue;
    }
    size_t len = strlen(ref->name);
    bool found = ref->kind == URBAC__REF_USER    ? urbac__user_find(v->m, ref->name, len, &ref->idx)
                 : ref->kind == URBAC__REF_GROUP ? urbac__group_find(v->m, ref->name, len, &ref->idx)
                                                 : urbac__smap_get(&v->m->dg_map, ref->name, len, &ref->idx);
    if (!found && ref->kind != URBAC__REF_DG && urbac__is_guid(ref->name, len)) {
      ref->idx = URBAC__PENDING; /* an object id not provisioned yet: grants nothing until it is */
    } else if (!found) {
      uint32_t other;
      const char *hint = ref->kind == URBAC__REF_USER && urbac__group_find(v->m, ref->name, len, &other)
                             ? " (a group of that id exists: write group:"
                             : NULL;
      report(v, URBAC_EDANGLING, ref->loc, "%s names unknown %s '%s'%s%s%s", where, kinds[ref->kind],
             ref->name, hint ? hint : "", hint ? ref->name : "", hint ? ")" : "");
    }
  }
}

static void resolve_cb(void *ctx, urbac__refs *r, const char *what)
{
  validator *v = ctx;
  const urbac__refs *was = v->was && v->list < v->was->n ? v->was->v[v->list] : NULL;
  v->list++;
  resolve_refs(v, r, was, what);
}

/* Each name of `s` unique (roles, legacy roles, assignments). */
static void unique_names(validator *v, const seq *s, size_t name_off, size_t loc_off, const char *what)
{
  urbac__smap seen;
  index_names(v, &seen, s, name_off, loc_off, what);
  urbac__smap_free(&seen);
}

#define UNIQUE(v, seq_, type, field, what)                                                                   \
  unique_names(v, seq_, offsetof(type, field), offsetof(type, loc), what)

/* ---------------------------------------------------------------- group cycles */

/* Iterative depth-first search over group -> member group edges; a grey node met
 * again closes a cycle, which is reported once with every group on it. */
static void find_cycles(validator *v)
{
  urbac_model *m = v->m;
  size_t n = m->groups.n;
  uint8_t *color = urbac__calloc(n ? n : 1, 1); /* 0 white, 1 grey, 2 black */
  uint32_t *stack = urbac__malloc((n ? n : 1) * sizeof *stack);
  size_t *next = urbac__calloc(n ? n : 1, sizeof *next);
  if (!color || !stack || !next) {
    v->oom = URBAC_ENOMEM;
    goto out;
  }
  for (size_t root = 0; root < n; root++) {
    if (color[root])
      continue;
    size_t top = 0;
    stack[top++] = (uint32_t)root;
    color[root] = 1;
    while (top) {
      uint32_t g = stack[top - 1];
      urbac__group *grp = urbac__group_at(m, g);
      urbac__refs *mem = grp ? &grp->members : &(urbac__refs){0};
      if (next[g] == mem->n) {
        color[g] = 2;
        top--;
        continue;
      }
      urbac__ref *r = &mem->v[next[g]++];
      if (r->kind != URBAC__REF_GROUP || r->idx >= n)
        continue;
      if (color[r->idx] == 0) {
        color[r->idx] = 1;
        stack[top++] = r->idx;
      } else if (color[r->idx] == 1) {
        urbac__buf path = {0};
        size_t k = top;
        while (k > 0 && stack[k - 1] != r->idx)
          k--;
        for (size_t j = k - 1; j < top; j++)
          urbac__buf_printf(&path, "%s -> ", urbac__group_at(m, stack[j])->id);
        urbac__buf_puts(&path, urbac__group_at(m, r->idx)->id);
        report(v, URBAC_ECYCLE, r->loc, "group membership cycle: %s",
               path.failed ? "(out of memory)" : path.s);
        urbac__buf_free(&path);
      }
    }
  }
out:
  urbac__free(color);
  urbac__free(stack);
  urbac__free(next);
}

/* ---------------------------------------------------------------- ranks */

static void check_ranks_v(validator *v)
{
  urbac__strmap ranks;
  char key[16];
  size_t ndg = v->m->dgs.n;
  if (urbac__strmap_init(&ranks, ndg)) {
    v->oom = URBAC_ENOMEM;
    return;
  }
  /* keys must outlive the map: keep them in one buffer */
  char *keys = urbac__calloc(ndg ? ndg : 1, sizeof key);
  if (!keys) {
    v->oom = URBAC_ENOMEM;
    goto out;
  }
  for (size_t i = 0; i < ndg; i++) {
    urbac__devgroup *g = urbac__dg_at(v->m, i);
    if (!g || g->ungrouped)
      continue;
    char *k = keys + i * sizeof key;
    int len = snprintf(k, sizeof key, "%u", g->rank);
    uint32_t first;
    if (urbac__strmap_put(&ranks, k, (size_t)len, (uint32_t)i, &first) == URBAC_EDUPLICATE)
      report(v, URBAC_ERANK, g->loc, "device group '%s' has rank %u, already held by '%s'", g->id, g->rank,
             urbac__dg_at(v->m, first)->id);
  }
out:
  urbac__strmap_free(&ranks);
  urbac__free(keys);
}

/* ---------------------------------------------------------------- all of it */

/* ---------------------------------------------------------------- one object */

static void unique_asg(validator *v, urbac__role *r)
{
  UNIQUE(v, &((seq){NULL, (const char *)r->asg, r->nasg, sizeof *r->asg}), urbac__assignment, name,
         "assignment name in the role");
}

void urbac__obj_visit_refs(urbac__obj *o, void (*f)(void *ctx, urbac__refs *r, const char *what), void *ctx)
{
  char where[160];
  switch ((urbac__obj_kind)o->kind) {
  case URBAC__OBJ_GROUP:
    snprintf(where, sizeof where, "group '%.100s'", ((urbac__group *)o)->id);
    f(ctx, &((urbac__group *)o)->members, where);
    break;
  case URBAC__OBJ_DG:
    snprintf(where, sizeof where, "userAccess of device group '%.100s'", ((urbac__devgroup *)o)->id);
    f(ctx, &((urbac__devgroup *)o)->access, where);
    break;
  case URBAC__OBJ_ROLE: {
    urbac__role *r = (urbac__role *)o;
    for (size_t a = 0; a < r->nasg; a++) {
      snprintf(where, sizeof where, "assignment '%.60s' of role '%.60s'", r->asg[a].name, r->name);
      f(ctx, &r->asg[a].principals, where);
      f(ctx, &r->asg[a].dgs, where);
    }
    break;
  }
  case URBAC__OBJ_MDE_ROLE:
    snprintf(where, sizeof where, "legacy mde role '%.100s'", ((urbac__mde_role *)o)->name);
    f(ctx, &((urbac__mde_role *)o)->groups, where);
    break;
  case URBAC__OBJ_LEGACY_MEMBERS: {
    urbac__legacy_members *lm = (urbac__legacy_members *)o;
    snprintf(where, sizeof where, "%s '%s'",
             lm->kind == URBAC_LEGACY_MDI_ROLE ? "MDI role" : "EOP role group",
             urbac_catalog_legacy((urbac_legacy_kind)lm->kind, lm->which)->name);
    f(ctx, &lm->members, where);
    break;
  }
  default:
    break;
  }
}

urbac_err urbac__obj_resolve(urbac_model *m, urbac__obj *o, urbac__obj *was, unsigned stable, urbac_diag *d)
{
  validator v = {m, d, URBAC_OK, 0, NULL, 0, stable};
  ref_lists lists = {0};
  if (was && was->kind == o->kind && stable) {
    urbac__obj_visit_refs(was, list_cb, &lists);
    v.was = &lists;
  }
  if (lists.oom) {
    urbac__free(lists.v);
    return URBAC_ENOMEM;
  }
  if (o->kind == URBAC__OBJ_ROLE)
    unique_asg(&v, (urbac__role *)o);
  urbac__obj_visit_refs(o, resolve_cb, &v);
  urbac__free(lists.v);
  return v.oom ? v.oom : v.errors ? URBAC_EINVAL : URBAC_OK;
}

urbac_err urbac__model_check_ranks(urbac_model *m, urbac_diag *d)
{
  validator v = {m, d, URBAC_OK, 0, NULL, 0, 0};
  check_ranks_v(&v);
  return v.oom ? v.oom : v.errors ? URBAC_EINVAL : URBAC_OK;
}

/* ---------------------------------------------------------------- inbound references */

/* A change to one inbound count; gathered, netted and then applied, so that a
 * group rewritten with 999 of its 1,000 members kept changes two counts, not
 * 2,000 (each a write to a page the previous revision shares, copied on first
 * touch: at a million users, most of the array). */
typedef struct count_change {
  uint32_t idx;
  uint8_t kind;
  int8_t delta;
} count_change;

typedef struct counter {
  count_change *v;
  size_t n, cap;
  ref_lists gone, now; /* the reference lists of the pair gathered now */
  urbac_err err;
} counter;

static void push(counter *c, const urbac__ref *ref, int8_t delta)
{
  if (ref->idx == URBAC__PENDING)
    return; /* counted nowhere: it names nothing yet */
  if (URBAC_GROW(c->v, c->cap, c->n + 1))
    c->err = URBAC_ENOMEM;
  else
    c->v[c->n++] = (count_change){ref->idx, ref->kind, delta};
}

/* Gathers the changes of `gone` (its references leave) and `now` (its arrive),
 * either NULL: `now` replacing `gone`. A reference in the same place of the same
 * list of both naming the same target cancels out unrecorded. */
static void gather_pair(counter *c, urbac__obj *gone, urbac__obj *now)
{
  c->gone.n = c->now.n = 0;
  if (gone)
    urbac__obj_visit_refs(gone, list_cb, &c->gone);
  if (now)
    urbac__obj_visit_refs(now, list_cb, &c->now);
  if (c->gone.oom || c->now.oom) {
    c->err = URBAC_ENOMEM;
    return;
  }
  for (size_t k = 0; k < c->gone.n || k < c->now.n; k++) {
    const urbac__refs *a = k < c->gone.n ? c->gone.v[k] : NULL, *b = k < c->now.n ? c->now.v[k] : NULL;
    size_t na = a ? a->n : 0, nb = b ? b->n : 0;
    for (size_t p = 0; p < na || p < nb; p++) {
      if (p < na && p < nb && a->v[p].kind == b->v[p].kind && a->v[p].idx == b->v[p].idx)
        continue;
      if (p < na)
        push(c, &a->v[p], -1);
      if (p < nb)
        push(c, &b->v[p], 1);
    }
  }
}

static int by_target(const void *pa, const void *pb)
{
  const count_change *a = pa, *b = pb;
  if (a->kind != b->kind)
    return a->kind < b->kind ? -1 : 1;
  return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Applies the changes gathered in `c`, each target's sum once (none when it is
 * 0), in array order; empties `c`. */
static urbac_err apply_counts(urbac_model *m, counter *c)
{
  if (c->n > 1)
    qsort(c->v, c->n, sizeof *c->v, by_target);
  for (size_t i = 0; i < c->n && !c->err;) {
    int64_t sum = 0;
    size_t j = i;
    for (; j < c->n && c->v[j].kind == c->v[i].kind && c->v[j].idx == c->v[i].idx; j++)
      sum += c->v[j].delta;
    uint32_t *n = sum ? urbac__cow_mut(&m->refs_in[c->v[i].kind], c->v[i].idx) : NULL;
    if (sum && !n)
      c->err = URBAC_ENOMEM;
    else if (sum)
      *n = (uint32_t)((int64_t)*n + sum);
    i = j;
  }
  c->n = 0;
  return c->err;
}

static urbac_err counter_end(urbac_model *m, counter *c)
{
  urbac_err err = c->err ? c->err : apply_counts(m, c);
  urbac__free(c->v);
  urbac__free(c->gone.v);
  urbac__free(c->now.v);
  return err;
}

urbac_err urbac__model_count_changes(urbac_model *m)
{
  counter c = {0};
  for (size_t i = 0; i < m->nchanges && !c.err; i++)
    gather_pair(&c, m->changes[i].before, m->changes[i].after);
  return counter_end(m, &c);
}

#define COUNT_BATCH 65536 /* changes gathered before they are applied, counting a whole model */

urbac_err urbac__model_count_refs(urbac_model *m)
{
  const urbac__cow *targets[3] = {&m->users, &m->groups, &m->dgs};
  const urbac__cow *from[] = {&m->groups, &m->dgs, &m->roles, &m->mde_roles, &m->eop, &m->mdi};
  counter c = {0};
  for (size_t k = 0; k < 3 && !c.err; k++) {
    urbac__cow_free(&m->refs_in[k]);
    urbac__cow_init(&m->refs_in[k], &urbac__cow_u32);
    c.err = urbac__cow_grow(&m->refs_in[k], targets[k]->n);
  }
  for (size_t k = 0; k < sizeof from / sizeof from[0] && !c.err; k++)
    for (size_t i = 0; i < from[k]->n && !c.err; i++) {
      if (URBAC__AT(*from[k], i))
        gather_pair(&c, NULL, URBAC__AT(*from[k], i));
      if (c.n >= COUNT_BATCH)
        apply_counts(m, &c);
    }
  return counter_end(m, &c);
}

urbac__cow *urbac__ref_array(urbac_model *m, urbac__ref_arr a)
{
  urbac__cow *arrs[URBAC__NARR] = {&m->groups, &m->dgs, &m->roles, &m->mde_roles, &m->eop, &m->mdi};
  return arrs[a];
}

static void pending_cb(void *ctx, urbac__refs *r, const char *what)
{
  (void)what;
  for (size_t i = 0; i < r->n; i++)
    *(bool *)ctx = *(bool *)ctx || r->v[i].idx == URBAC__PENDING;
}

bool urbac__obj_has_pending(urbac__obj *o)
{
  bool any = false;
  urbac__obj_visit_refs(o, pending_cb, &any);
  return any;
}

urbac_err urbac__model_index_pending(urbac_model *m)
{
  m->npend = 0;
  for (size_t a = 0; a < URBAC__NARR; a++) {
    const urbac__cow *arr = urbac__ref_array(m, (urbac__ref_arr)a);
    for (size_t i = 0; i < arr->n; i++) {
      urbac__obj *o = URBAC__AT(*arr, i);
      if (!o || !urbac__obj_has_pending(o))
        continue;
      if (URBAC_GROW(m->pend, m->cap_pend, m->npend + 1))
        return URBAC_ENOMEM;
      m->pend[m->npend++] = (urbac__pend){(uint32_t)i, (uint8_t)a};
    }
  }
  return URBAC_OK;
}

static void resolve_all(validator *v)
{
  urbac_model *m = v->m;
  const urbac__cow *from[] = {&m->groups, &m->dgs, &m->roles, &m->mde_roles, &m->eop, &m->mdi};
  for (size_t k = 0; k < sizeof from / sizeof from[0]; k++)
    for (size_t i = 0; i < from[k]->n; i++) {
      urbac__obj *o = URBAC__AT(*from[k], i);
      if (o && o->kind == URBAC__OBJ_ROLE)
        unique_asg(v, (urbac__role *)o);
      if (o)
        urbac__obj_visit_refs(o, resolve_cb, v);
    }
}

/* A legacy role group or MDI role listed twice. */
static void unique_legacy(validator *v, const urbac__cow *items, urbac_legacy_kind kind)
{
  for (size_t i = 0; i < items->n; i++)
    for (size_t j = 0; j < i; j++) {
      const urbac__legacy_members *a = URBAC__AT(*items, i), *b = URBAC__AT(*items, j);
      if (a && b && a->which == b->which)
        report(v, URBAC_EDUPLICATE, a->loc, "%s '%s' is listed twice (first at line %u)",
               kind == URBAC_LEGACY_MDI_ROLE ? "MDI role" : "EOP role group",
               urbac_catalog_legacy(kind, a->which)->name, b->loc.line);
    }
}

urbac_err urbac__model_validate(urbac_model *m, urbac_diag *d)
{
  validator v = {m, d, URBAC_OK, 0, NULL, 0, 0};
  INDEX(&v, &m->user_map, m->users, urbac__user, "user");
  INDEX(&v, &m->group_map, m->groups, urbac__group, "group");
  INDEX(&v, &m->dg_map, m->dgs, urbac__devgroup, "device group");
  INDEX(&v, &m->device_map, m->devices, urbac__device, "device");
  INDEX_XID(&v, &m->user_xmap, m->users, urbac__user, "user");
  INDEX_XID(&v, &m->group_xmap, m->groups, urbac__group, "group");
  if (v.oom)
    return URBAC_ENOMEM;
  for (size_t i = 0; i < m->dgs.n; i++)
    if (urbac__dg_at(m, i) && urbac__dg_at(m, i)->ungrouped)
      m->ungrouped = (uint32_t)i;
  UNIQUE(&v, &((seq){&m->roles, NULL, m->roles.n, 0}), urbac__role, name, "role name");
  UNIQUE(&v, &((seq){&m->mde_roles, NULL, m->mde_roles.n, 0}), urbac__mde_role, name, "legacy mde role name");
  unique_legacy(&v, &m->eop, URBAC_LEGACY_EOP_ROLE_GROUP);
  unique_legacy(&v, &m->mdi, URBAC_LEGACY_MDI_ROLE);
  resolve_all(&v);
  if (!v.oom && v.errors == 0)
    find_cycles(&v);
  if (!v.oom)
    check_ranks_v(&v);
  if (!v.oom && v.errors == 0)
    v.oom = urbac__model_count_refs(m);
  if (!v.oom && v.errors == 0)
    v.oom = urbac__model_index_pending(m);
  if (v.oom)
    return URBAC_ENOMEM;
  return v.errors == 0 ? URBAC_OK : URBAC_EINVAL;
}
