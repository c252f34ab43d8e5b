/*
 * io/edit.c - a new model from a base model and a few object changes, at the cost
 * of the change (issue 10): urbac_model_edit().
 *
 * The new model shares the base's object arrays and id maps (model/persist.h):
 * each put replaces, adds or deletes one object pointer, which copies one page of
 * the array and one page of the map. Each object is parsed alone by the
 * tenant-file loader (every shape and name rule, the same codes), then checked
 * against the new model only where the tenant matters: the names it uses resolve
 * (EDANGLING), a group does not lead back to itself (ECYCLE, a walk down from the
 * group), device-group ranks stay unique (ERANK; device groups are few), and a
 * deleted user, group or device group is named by nothing (the model's counts of
 * inbound references, kept per edit). Indices never move: a delete leaves a hole,
 * an add is appended. The base is only read, so other threads may use it.
 *
 * Depends on: util, catalog, model, io/objects.c, io/load.c.
 */
#include <stdio.h>
#include <strings.h>

#include "io/objects.h"

typedef struct xadd_t {
  const char *xid, *xkey; /* the externalId a user or group put takes (its strings) */
  uint32_t idx;
  bool group;
} xadd_t;

typedef struct editor {
  urbac_model *m; /* the new model */
  xadd_t *xadd;
  size_t nxadd, cap_xadd;
  urbac_diag *d;
  urbac__obj **added;   /* objects put (one reference each, also held by m) */
  urbac__obj **removed; /* objects replaced or deleted (one reference each) */
  size_t nadded, nremoved, cap_added, cap_removed;
  uint32_t *deleted[3]; /* indices deleted, per urbac__ref_kind (users, groups, dgs) */
  const char **deleted_id[3];
  size_t ndeleted[3], cap_deleted[3], cap_deleted_id[3];
  bool dgs_changed;
  urbac_parsed *parsed; /* objects parsed already (NULL: none) */
} editor;

static urbac__cow *array_of(urbac_model *m, urbac__obj_kind k)
{
  urbac__cow *a[] = {&m->users, &m->groups, &m->dgs, &m->devices, &m->roles, &m->mde_roles, &m->eop};
  return a[k];
}

static urbac__smap *map_of(urbac_model *m, urbac__obj_kind k)
{
  return k == URBAC__OBJ_USER     ? &m->user_map
         : k == URBAC__OBJ_GROUP  ? &m->group_map
         : k == URBAC__OBJ_DG     ? &m->dg_map
         : k == URBAC__OBJ_DEVICE ? &m->device_map
                                  : NULL;
}

/* The id an object is put and found by: its id, its name (roles), its catalog row. */
static const char *obj_id(const urbac__obj *o)
{
  switch ((urbac__obj_kind)o->kind) {
  case URBAC__OBJ_USER:
    return ((const urbac__user *)o)->id;
  case URBAC__OBJ_GROUP:
    return ((const urbac__group *)o)->id;
  case URBAC__OBJ_DG:
    return ((const urbac__devgroup *)o)->id;
  case URBAC__OBJ_DEVICE:
    return ((const urbac__device *)o)->id;
  case URBAC__OBJ_ROLE:
    return ((const urbac__role *)o)->name;
  case URBAC__OBJ_MDE_ROLE:
    return ((const urbac__mde_role *)o)->name;
  default: {
    const urbac__legacy_members *lm = (const urbac__legacy_members *)o;
    return urbac_catalog_legacy((urbac_legacy_kind)lm->kind, lm->which)->name;
  }
  }
}

/* The index of (kind, id) in the new model, or SIZE_MAX. Roles and legacy rows
 * are few: a scan. */
static size_t find(urbac_model *m, urbac__obj_kind k, const char *kind, const char *id)
{
  uint32_t idx;
  urbac__smap *map = map_of(m, k);
  if (map)
    return urbac__smap_get(map, id, strlen(id), &idx) ? idx : SIZE_MAX;
  const urbac__cow *a =
      k == URBAC__OBJ_LEGACY_MEMBERS && strcmp(kind, "legacy.mdi.role") == 0 ? &m->mdi : array_of(m, k);
  for (size_t i = 0; i < a->n; i++) {
    const urbac__obj *o = URBAC__AT(*a, i);
    if (o && strcmp(obj_id(o), id) == 0)
      return i;
  }
  return SIZE_MAX;
}

/* The externalId part of a user or group, or NULL for other objects. */
static const urbac__ident *ident_of(const urbac__obj *o)
{
  return !o                            ? NULL
         : o->kind == URBAC__OBJ_USER  ? &((const urbac__user *)o)->ident
         : o->kind == URBAC__OBJ_GROUP ? &((const urbac__group *)o)->ident
                                       : NULL;
}

/* Slot `at` of users or groups goes from `before` to `after` (either NULL): the
 * externalId map lets go of the old key now and takes the new one in xid_take(). */
static urbac_err xid_swap(editor *e, const urbac__obj *before, const urbac__obj *after, size_t at)
{
  const urbac__ident *b = ident_of(before), *a = ident_of(after);
  const char *old = b ? b->xkey : NULL, *now = a ? a->xkey : NULL;
  bool group = (before ? before : after)->kind == URBAC__OBJ_GROUP;
  urbac__smap *map = group ? &e->m->group_xmap : &e->m->user_xmap;
  urbac_err err = URBAC_OK;
  if (old && (!now || strcmp(old, now) != 0))
    err = urbac__smap_del(map, old, strlen(old));
  if (err || !now)
    return err == URBAC_ENOTFOUND ? URBAC_ENOMEM : err;
  if (old && strcmp(old, now) == 0)
    return urbac__smap_rekey(map, now, strlen(now));
  if (URBAC_GROW(e->xadd, e->cap_xadd, e->nxadd + 1))
    return URBAC_ENOMEM;
  e->xadd[e->nxadd++] = (xadd_t){a->xid, now, (uint32_t)at, group}; /* once every put let go of its own */
  return URBAC_OK;
}

/* The externalIds the puts took, once every put has let go of the ones it had (so
 * two objects may swap theirs in one edit): one held by another is EDUPLICATE. */
static urbac_err xid_take(editor *e)
{
  urbac_err err = URBAC_OK;
  for (size_t i = 0; i < e->nxadd && !err; i++) {
    const xadd_t *a = &e->xadd[i];
    bool group = a->group;
    urbac__smap *map = group ? &e->m->group_xmap : &e->m->user_xmap;
    uint32_t first = 0;
    err = urbac__smap_put(map, a->xkey, strlen(a->xkey), a->idx, &first);
    if (err == URBAC_EDUPLICATE) {
      const char *holder = group ? urbac__group_at(e->m, first)->id : urbac__user_at(e->m, first)->id;
      err = urbac__diag_add(e->d, URBAC_EDUPLICATE, NULL, 0, 0, a->xid,
                            "duplicate %s externalId '%.100s' (held by %s '%.100s')",
                            group ? "group" : "user", a->xid, group ? "group" : "user", holder);
    }
  }
  return err;
}

static urbac_err keep(urbac__obj ***v, size_t *n, size_t *cap, urbac__obj *o)
{
  if (URBAC_GROW(*v, *cap, *n + 1))
    return URBAC_ENOMEM;
  __atomic_add_fetch(&o->refs, 1, __ATOMIC_RELAXED);
  (*v)[(*n)++] = o;
  return URBAC_OK;
}

/* ---------------------------------------------------------------- one put */

/* Records in the new model that slot `i` went from `before` to `after`. */
static urbac_err record(editor *e, size_t i, urbac__obj *before, urbac__obj *after)
{
  urbac_model *m = e->m;
  if (URBAC_GROW(m->changes, m->cap_changes, m->nchanges + 1))
    return URBAC_ENOMEM;
  if (before)
    __atomic_add_fetch(&before->refs, 1, __ATOMIC_RELAXED);
  if (after)
    __atomic_add_fetch(&after->refs, 1, __ATOMIC_RELAXED);
  m->changes[m->nchanges++] = (urbac__change){before, after, (uint32_t)i, (before ? before : after)->kind};
  return URBAC_OK;
}

/* Replaces slot `i` of `arr` (with `obj`, or NULL to delete), remembering the old. */
static urbac_err set_slot(editor *e, urbac__cow *arr, size_t i, urbac__obj *obj)
{
  void **slot = urbac__cow_mut(arr, i);
  if (!slot)
    return URBAC_ENOMEM;
  urbac__obj *old = *slot;
  urbac_err err = keep(&e->removed, &e->nremoved, &e->cap_removed, old);
  if (!err)
    err = record(e, i, old, obj);
  if (err)
    return err;
  *slot = obj;
  urbac__obj_release(old); /* the slot's reference; `removed` holds one */
  return URBAC_OK;
}

/* The reserved device group always exists: deleting it makes it implicit again
 * (no name, no user access, not written), as a file that does not list it. */
static urbac_err reset_ungrouped(editor *e, urbac__cow *arr, size_t at)
{
  urbac__devgroup *g = urbac__obj_new(URBAC__OBJ_DG);
  urbac_err err = !g || !(g->id = urbac__strdup(URBAC__UNGROUPED_ID)) ? URBAC_ENOMEM : URBAC_OK;
  if (!err) {
    g->ungrouped = true;
    err = keep(&e->added, &e->nadded, &e->cap_added, &g->o);
  }
  if (!err && !(err = set_slot(e, arr, at, &g->o))) {
    e->dgs_changed = true;
    return urbac__smap_rekey(&e->m->dg_map, g->id, strlen(g->id)); /* the slot holds the reference */
  }
  urbac__obj_release(g);
  return err;
}

static urbac_err delete_one(editor *e, urbac__obj_kind k, const urbac_object_put *p, size_t at)
{
  urbac__cow *arr = k == URBAC__OBJ_LEGACY_MEMBERS && strcmp(p->kind, "legacy.mdi.role") == 0
                        ? &e->m->mdi
                        : array_of(e->m, k);
  urbac__smap *map = map_of(e->m, k);
  if (k == URBAC__OBJ_DG && at == e->m->ungrouped)
    return reset_ungrouped(e, arr, at);
  urbac_err err = ident_of(URBAC__AT(*arr, at)) ? xid_swap(e, URBAC__AT(*arr, at), NULL, at) : URBAC_OK;
  if (!err)
    err = set_slot(e, arr, at, NULL);
  if (!err && map)
    err = urbac__smap_del(map, p->id, strlen(p->id));
  if (!err && k <= URBAC__OBJ_DG) {
    if (URBAC_GROW(e->deleted[k], e->cap_deleted[k], e->ndeleted[k] + 1) ||
        URBAC_GROW(e->deleted_id[k], e->cap_deleted_id[k], e->ndeleted[k] + 1))
      return URBAC_ENOMEM;
    e->deleted_id[k][e->ndeleted[k]] = p->id;
    e->deleted[k][e->ndeleted[k]++] = (uint32_t)at;
  }
  e->dgs_changed = e->dgs_changed || k == URBAC__OBJ_DG;
  return err == URBAC_ENOTFOUND ? URBAC_ENOMEM : err;
}

/* Puts the parsed object `o` (one reference of the caller's) in place of `at`, or appends it. */
static urbac_err put_one(editor *e, const char *kind, urbac__obj *o, size_t at)
{
  urbac__obj_kind k = (urbac__obj_kind)o->kind;
  urbac__cow *arr =
      k == URBAC__OBJ_LEGACY_MEMBERS && strcmp(kind, "legacy.mdi.role") == 0 ? &e->m->mdi : array_of(e->m, k);
  urbac__smap *map = map_of(e->m, k);
  const char *id = obj_id(o);
  urbac_err err = keep(&e->added, &e->nadded, &e->cap_added, o);
  if (err)
    return err;
  e->dgs_changed = e->dgs_changed || k == URBAC__OBJ_DG;
  if (at != SIZE_MAX) {
    if ((ident_of(o) && (err = xid_swap(e, URBAC__AT(*arr, at), o, at))) || (err = set_slot(e, arr, at, o)))
      return err;
    __atomic_add_fetch(&o->refs, 1, __ATOMIC_RELAXED);
    return map ? urbac__smap_rekey(map, id, strlen(id)) : URBAC_OK;
  }
  if (arr->n >= URBAC_MAX_OBJECTS)
    return urbac__diag_add(e->d, URBAC_ELIMIT, NULL, 0, 0, id, "more than %u entries", URBAC_MAX_OBJECTS);
  __atomic_add_fetch(&o->refs, 1, __ATOMIC_RELAXED);
  if ((err = urbac__model_push(arr, o)) || (err = record(e, arr->n - 1, NULL, o)))
    return err;
  if (k == URBAC__OBJ_DG && ((urbac__devgroup *)o)->ungrouped)
    e->m->ungrouped = (uint32_t)(arr->n - 1);
  if (ident_of(o) && (err = xid_swap(e, NULL, o, arr->n - 1)))
    return err;
  return map ? urbac__smap_put(map, id, strlen(id), (uint32_t)(arr->n - 1), NULL) : URBAC_OK;
}

/* The one object of a parsed single-object model, or NULL (workloads). */
static urbac__obj *only_object(urbac_model *p)
{
  urbac__cow *all[] = {&p->users, &p->groups,    &p->dgs, &p->devices,
                       &p->roles, &p->mde_roles, &p->eop, &p->mdi};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (all[i]->n)
      return URBAC__AT(*all[i], 0);
  return NULL;
}

static const struct {
  const char *kind;
  urbac__obj_kind k;
} kinds[] = {{"user", URBAC__OBJ_USER},
             {"group", URBAC__OBJ_GROUP},
             {"deviceGroup", URBAC__OBJ_DG},
             {"device", URBAC__OBJ_DEVICE},
             {"role", URBAC__OBJ_ROLE},
             {"legacy.mde.role", URBAC__OBJ_MDE_ROLE},
             {"legacy.mdo.roleGroup", URBAC__OBJ_LEGACY_MEMBERS},
             {"legacy.mdi.role", URBAC__OBJ_LEGACY_MEMBERS}};

/* ---------------------------------------------------------------- objects parsed already */

typedef struct kept {
  char *key; /* "tenant\nkind\nid" */
  char *body;
  urbac_model *alone; /* NULL once taken */
} kept;

struct urbac_parsed {
  kept *v;
  size_t n, cap;
  urbac__strmap at; /* key -> index in v */
};

urbac_parsed *urbac_parsed_new(void) { return urbac__calloc(1, sizeof(urbac_parsed)); }

void urbac_parsed_clear(urbac_parsed *p)
{
  for (size_t i = 0; p && i < p->n; i++) {
    urbac__free(p->v[i].key);
    urbac__free(p->v[i].body);
    urbac_model_free(p->v[i].alone);
  }
  if (p) {
    urbac__strmap_free(&p->at);
    p->at = (urbac__strmap){0};
    p->n = 0;
  }
}

void urbac_parsed_free(urbac_parsed *p)
{
  urbac_parsed_clear(p);
  if (p)
    urbac__free(p->v);
  urbac__free(p);
}

static char *kept_key(const char *tenant, const char *kind, const char *id, size_t *len)
{
  urbac__buf b = {0};
  urbac__buf_printf(&b, "%s\n%s\n%s", tenant, kind, id);
  return urbac__buf_take(&b, len);
}

urbac_err urbac__parsed_keep(urbac_parsed *p, const char *tenant, const char *kind, const char *id,
                             const char *body, urbac_model **alone)
{
  size_t len = 0;
  uint32_t at = 0;
  char *key = p && *alone ? kept_key(tenant, kind, id, &len) : NULL, *copy = key ? urbac__strdup(body) : NULL;
  urbac_err err = !p || !*alone ? URBAC_OK : key && copy ? URBAC_OK : URBAC_ENOMEM;
  bool again = !err && p && p->at.slots && urbac__strmap_get(&p->at, key, len, &at);
  if (!err && p && !again && p->n >= URBAC_PARSED_MAX)
    p = NULL; /* not kept: the edit parses it */
  else if (!err && p && !again && !p->at.slots)
    err = urbac__strmap_init(&p->at, 64);
  if (!err && p && !again && URBAC_GROW(p->v, p->cap, p->n + 1))
    err = URBAC_ENOMEM;
  if (!err && p && !again && !(err = urbac__strmap_put(&p->at, key, len, (uint32_t)p->n, NULL))) {
    p->v[p->n++] = (kept){key, NULL, NULL};
    at = (uint32_t)(p->n - 1);
    key = NULL;
  }
  if (!err && p) { /* the object's latest */
    urbac__free(p->v[at].body);
    urbac_model_free(p->v[at].alone);
    p->v[at].body = copy;
    p->v[at].alone = *alone;
    *alone = NULL;
    copy = NULL;
  }
  urbac__free(key);
  urbac__free(copy);
  return err;
}

/* The object kept for put `p` with exactly its body, taken; NULL when none. */
static urbac_model *kept_take(urbac_parsed *kp, const char *tenant, const urbac_object_put *p)
{
  size_t len = 0;
  uint32_t at = 0;
  char *key = kp && kp->n ? kept_key(tenant, p->kind, p->id, &len) : NULL;
  urbac_model *m = NULL;
  if (key && urbac__strmap_get(&kp->at, key, len, &at) && kp->v[at].alone &&
      strcmp(kp->v[at].body, p->json) == 0) {
    m = kp->v[at].alone;
    kp->v[at].alone = NULL;
  }
  urbac__free(key);
  return m;
}

/* Put `p` parsed alone by the loader (urbac__object_parse(): its shape, its own
 * id), or as kept parsed already from the same body. */
static urbac_err parse_one(editor *e, const urbac_object_put *p, urbac_model **parsed)
{
  char *body = NULL;
  if ((*parsed = kept_take(e->parsed, e->m->tenant, p)))
    return URBAC_OK;
  urbac_err err = urbac__object_parse(e->m->tenant, p->kind, p->id, p->json, p->id, parsed, &body, e->d);
  urbac__free(body);
  return err;
}

static urbac_err apply_workloads(editor *e, const urbac_object_put *p)
{
  urbac_model *parsed = NULL;
  e->m->modes_changed = true;
  if (!p->json) {
    urbac__model_modes_reset(e->m);
    memset(e->m->mode_listed, 0, sizeof e->m->mode_listed);
    return URBAC_OK;
  }
  urbac_err err = parse_one(e, p, &parsed);
  if (!err) {
    memcpy(e->m->modes, parsed->modes, sizeof e->m->modes);
    memcpy(e->m->mode_listed, parsed->mode_listed, sizeof e->m->mode_listed);
  }
  urbac_model_free(parsed);
  return err;
}

/* The catalog the tenant decides on: a put of "current" or "seeds", a delete the
 * default. Every decision may change: the next snapshot is compiled whole. */
static urbac_err apply_catalog(editor *e, const urbac_object_put *p)
{
  urbac_model *parsed = NULL;
  urbac_err err = p->json ? parse_one(e, p, &parsed) : URBAC_OK;
  if (!err) {
    e->m->edition = parsed ? parsed->edition : URBAC__EDITION_SEEDS;
    e->m->modes_changed = true;
  }
  urbac_model_free(parsed);
  return err;
}

static urbac_err apply(editor *e, const urbac_object_put *p)
{
  size_t k = 0;
  urbac_model *parsed = NULL;
  urbac_err err;
  if (!p->kind || !p->id || !*p->id)
    return urbac__diag_add(e->d, URBAC_EINVAL, NULL, 0, 0, NULL, "a put needs a kind and an id");
  if (strcmp(p->kind, "workloads") == 0)
    return apply_workloads(e, p);
  if (strcmp(p->kind, "catalog") == 0)
    return apply_catalog(e, p);
  while (k < sizeof kinds / sizeof kinds[0] && strcmp(kinds[k].kind, p->kind) != 0)
    k++;
  if (k == sizeof kinds / sizeof kinds[0])
    return urbac__diag_add(e->d, URBAC_EINVAL, NULL, 0, 0, p->id, "unknown object kind '%.60s'", p->kind);
  size_t at = find(e->m, kinds[k].k, p->kind, p->id);
  if (!p->json) /* absent already: the feed may name one made and deleted since */
    return at == SIZE_MAX ? URBAC_OK : delete_one(e, kinds[k].k, p, at);
  if ((err = parse_one(e, p, &parsed)))
    return err;
  urbac__obj *obj = only_object(parsed);
  URBAC_ASSERT(obj && strcmp(obj_id(obj), p->id) == 0); /* urbac__object_parse() checked its id */
  err = put_one(e, p->kind, obj, at);
  urbac_model_free(parsed);
  return err;
}

/* ---------------------------------------------------------------- pending references */

/* Has this edit put a new object in slot `i` of `arr` already (a put, a copy)? */
static bool put_here(const editor *e, const urbac__cow *arr, size_t i)
{
  const urbac__obj *now = URBAC__AT(*arr, i);
  for (size_t k = 0; now && k < e->nadded; k++)
    if (e->added[k] == now)
      return true;
  return false;
}

/* Puts a copy of the object in slot `i` of `arr` among the edit's own, so that
 * check_all() resolves its references again against the new model. */
static urbac_err reresolve(editor *e, urbac__cow *arr, size_t i)
{
  if (!URBAC__AT(*arr, i) || put_here(e, arr, i))
    return URBAC_OK;
  urbac__obj *copy = urbac__obj_dup(URBAC__AT(*arr, i));
  urbac_err err = copy ? keep(&e->added, &e->nadded, &e->cap_added, copy) : URBAC_ENOMEM;
  if (err) {
    urbac__obj_release(copy);
    return err;
  }
  if ((err = set_slot(e, arr, i, copy))) /* the slot takes the copy's first reference */
    return err;
  /* the maps' keys point at the ids they index: the copy's from now on */
  const char *id = obj_id(copy);
  urbac__smap *map = map_of(e->m, (urbac__obj_kind)copy->kind);
  const urbac__ident *x = ident_of(copy);
  if (map && (err = urbac__smap_rekey(map, id, strlen(id))))
    return err;
  return x && x->xkey ? urbac__smap_rekey(&e->m->group_xmap, x->xkey, strlen(x->xkey)) : URBAC_OK;
}

/* Does reference list `r` name, pending, one of the GUIDs in `names` (`n`, folded
 * to lower case), of ref kind `kind`? */
typedef struct waker {
  const char *const *names;
  const uint8_t *kinds;
  size_t n;
  bool hit;
} waker;

static void wake_cb(void *ctx, urbac__refs *r, const char *what)
{
  waker *w = ctx;
  (void)what;
  for (size_t i = 0; i < r->n && !w->hit; i++)
    for (size_t k = 0; k < w->n && r->v[i].idx == URBAC__PENDING && !w->hit; k++)
      w->hit = r->v[i].kind == w->kinds[k] && strcasecmp(r->v[i].name, w->names[k]) == 0;
}

/* A user or group put by this edit whose id or externalId is a GUID some object
 * names pending: that object is resolved again, and the name grants. A scan of
 * the objects holding pending references only (m->pend). */
static urbac_err wake_pending(editor *e)
{
  urbac_model *m = e->m;
  const char **names = urbac__calloc(2 * e->nadded + 1, sizeof *names);
  uint8_t *refkinds = urbac__calloc(2 * e->nadded + 1, 1);
  waker w = {names, refkinds, 0, false};
  urbac_err err = names && refkinds ? URBAC_OK : URBAC_ENOMEM;
  for (size_t i = 0; !err && m->npend && i < e->nadded; i++) {
    const urbac__ident *id = ident_of(e->added[i]);
    const char *own = !id                                    ? NULL
                      : e->added[i]->kind == URBAC__OBJ_USER ? ((urbac__user *)e->added[i])->id
                                                             : ((urbac__group *)e->added[i])->id;
    uint8_t kind = e->added[i] && e->added[i]->kind == URBAC__OBJ_USER ? URBAC__REF_USER : URBAC__REF_GROUP;
    const char *guids[2] = {own && urbac__is_guid(own, strlen(own)) ? own : NULL,
                            id && id->xkey && urbac__is_guid(id->xkey, strlen(id->xkey)) ? id->xkey : NULL};
    for (size_t g = 0; g < 2; g++)
      if (guids[g]) {
        refkinds[w.n] = kind;
        names[w.n++] = guids[g];
      }
  }
  for (size_t p = 0; !err && w.n && p < m->npend; p++) {
    urbac__cow *arr = urbac__ref_array(m, (urbac__ref_arr)m->pend[p].arr);
    urbac__obj *o = m->pend[p].idx < arr->n ? URBAC__AT(*arr, m->pend[p].idx) : NULL;
    w.hit = false;
    if (o)
      urbac__obj_visit_refs(o, wake_cb, &w);
    if (w.hit)
      err = reresolve(e, arr, m->pend[p].idx);
  }
  urbac__free((void *)names);
  urbac__free(refkinds);
  return err;
}

/* A reference to ref kind `kind`, index `idx`, written as a GUID (it would turn pending). */
typedef struct demoter {
  uint8_t kind;
  uint32_t idx;
  bool hit;
} demoter;

static void demote_cb(void *ctx, urbac__refs *r, const char *what)
{
  demoter *d = ctx;
  (void)what;
  for (size_t i = 0; i < r->n && !d->hit; i++)
    d->hit = r->v[i].kind == d->kind && r->v[i].idx == d->idx &&
             urbac__is_guid(r->v[i].name, strlen(r->v[i].name));
}

/* The objects naming user or group `idx` by a GUID, resolved again: the name
 * turns pending when nothing holds it any more (a scan: only for a named object). */
static urbac_err demote(editor *e, uint8_t kind, uint32_t idx)
{
  urbac_model *m = e->m;
  urbac_err err = URBAC_OK;
  if (idx >= m->refs_in[kind].n || urbac__cow_u32_at(&m->refs_in[kind], idx) == 0)
    return URBAC_OK;
  for (size_t a = 0; a < URBAC__NARR && !err; a++) {
    urbac__cow *arr = urbac__ref_array(m, (urbac__ref_arr)a);
    for (size_t i = 0; i < arr->n && !err; i++) {
      demoter d = {kind, idx, false};
      if (URBAC__AT(*arr, i))
        urbac__obj_visit_refs(URBAC__AT(*arr, i), demote_cb, &d);
      if (d.hit)
        err = reresolve(e, arr, i);
    }
  }
  return err;
}

/* Users and groups deleted, or whose externalId changed, named by a GUID. */
static urbac_err demote_all(editor *e)
{
  urbac_err err = URBAC_OK;
  for (size_t k = 0; k < 2 && !err; k++)
    for (size_t i = 0; i < e->ndeleted[k] && !err; i++)
      err = demote(e, (uint8_t)k, e->deleted[k][i]);
  for (size_t c = 0; c < e->m->nchanges && !err; c++) {
    const urbac__change *ch = &e->m->changes[c];
    const urbac__ident *b = ident_of(ch->before), *a = ident_of(ch->after);
    if (a && b && b->xkey && !(a->xkey && strcmp(a->xkey, b->xkey) == 0))
      err = demote(e, ch->kind == URBAC__OBJ_USER ? URBAC__REF_USER : URBAC__REF_GROUP, ch->idx);
  }
  return err;
}

/* The array a changed object holding references lives in, or -1 (users, devices). */
static int ref_arr_of(const urbac__change *ch)
{
  const urbac__obj *o = ch->before ? ch->before : ch->after;
  switch ((urbac__obj_kind)ch->kind) {
  case URBAC__OBJ_GROUP:
    return URBAC__ARR_GROUPS;
  case URBAC__OBJ_DG:
    return URBAC__ARR_DGS;
  case URBAC__OBJ_ROLE:
    return URBAC__ARR_ROLES;
  case URBAC__OBJ_MDE_ROLE:
    return URBAC__ARR_MDE;
  case URBAC__OBJ_LEGACY_MEMBERS:
    return ((const urbac__legacy_members *)o)->kind == URBAC_LEGACY_MDI_ROLE ? URBAC__ARR_MDI
                                                                             : URBAC__ARR_EOP;
  default:
    return -1;
  }
}

/* Slot `idx` of array `a` in m->pend exactly when its object holds a pending reference. */
static urbac_err pend_set(urbac_model *m, urbac__ref_arr a, uint32_t idx)
{
  size_t k = 0;
  for (size_t p = 0; p < m->npend; p++)
    if (!(m->pend[p].arr == a && m->pend[p].idx == idx))
      m->pend[k++] = m->pend[p];
  m->npend = k;
  urbac__obj *now = URBAC__AT(*urbac__ref_array(m, a), idx);
  if (!now || !urbac__obj_has_pending(now))
    return URBAC_OK;
  if (URBAC_GROW(m->pend, m->cap_pend, m->npend + 1))
    return URBAC_ENOMEM;
  m->pend[m->npend++] = (urbac__pend){idx, (uint8_t)a};
  return URBAC_OK;
}

/* m->pend after the edit: the slots it changed leave it, or come back when they
 * hold a pending reference still. */
static urbac_err repend(editor *e)
{
  urbac_model *m = e->m;
  urbac_err err = URBAC_OK;
  for (size_t c = 0; c < m->nchanges && !err; c++) {
    const urbac__change *ch = &m->changes[c];
    int a = ref_arr_of(ch);
    if (a >= 0)
      err = pend_set(m, (urbac__ref_arr)a, ch->idx);
  }
  return err;
}

/* ---------------------------------------------------------------- the tenant's rules */

/* Does group `g` lead back to itself through member groups? A walk down from it. */
static urbac_err check_cycle(editor *e, uint32_t g)
{
  const urbac_model *m = e->m;
  uint64_t *seen = urbac__calloc(urbac__bits_words(m->groups.n + 1), sizeof *seen);
  uint32_t *stack = urbac__malloc((m->groups.n + 1) * sizeof *stack);
  urbac_err err = (!seen || !stack) ? URBAC_ENOMEM : URBAC_OK;
  size_t top = 0;
  if (!err)
    stack[top++] = g;
  while (top && !err) {
    const urbac__group *grp = urbac__group_at(m, stack[--top]);
    for (size_t i = 0; grp && i < grp->members.n && !err; i++) {
      const urbac__ref *r = &grp->members.v[i];
      if (r->kind != URBAC__REF_GROUP || r->idx == URBAC__PENDING || urbac__bit_test(seen, r->idx))
        continue;
      if (r->idx == g)
        err = urbac__diag_add(e->d, URBAC_ECYCLE, NULL, 0, 0, urbac__group_at(m, g)->id,
                              "group membership cycle: group '%s' contains itself through group '%s'",
                              urbac__group_at(m, g)->id, grp->id);
      urbac__bit_set(seen, r->idx);
      stack[top++] = r->idx;
    }
  }
  urbac__free(seen);
  urbac__free(stack);
  return err;
}

/* Who names deleted object `idx` of ref kind `k` (the error path: a scan). */
typedef struct namer {
  uint8_t kind;
  uint32_t idx;
  char where[160];
} namer;

static void find_namer(void *ctx, urbac__refs *r, const char *what)
{
  namer *n = ctx;
  for (size_t i = 0; i < r->n && !n->where[0]; i++)
    if (r->v[i].kind == n->kind && r->v[i].idx == n->idx)
      snprintf(n->where, sizeof n->where, "%s", what);
}

static urbac_err check_deleted(editor *e, uint8_t k, size_t which)
{
  uint32_t idx = e->deleted[k][which];
  static const char *const what[] = {"user", "group", "device group"};
  urbac_model *m = e->m;
  if (urbac__cow_u32_at(&m->refs_in[k], idx) == 0)
    return URBAC_OK;
  namer n = {k, idx, ""};
  const urbac__cow *from[] = {&m->groups, &m->dgs, &m->roles, &m->mde_roles, &m->eop, &m->mdi};
  for (size_t a = 0; a < sizeof from / sizeof from[0] && !n.where[0]; a++)
    for (size_t i = 0; i < from[a]->n && !n.where[0]; i++)
      if (URBAC__AT(*from[a], i))
        urbac__obj_visit_refs(URBAC__AT(*from[a], i), find_namer, &n);
  return urbac__diag_add(e->d, URBAC_EDANGLING, NULL, 0, 0, e->deleted_id[k][which],
                         "%s names %s '%.100s': it cannot be deleted while named",
                         n.where[0] ? n.where : "an object", what[k], e->deleted_id[k][which]);
}

/* A reference that names user or group `idx` by its externalId, not its id. */
typedef struct xnamer {
  uint8_t kind;
  uint32_t idx;
  const char *id, *old; /* its id, the key of the externalId it had */
  const urbac__ref *found;
  char where[160];
} xnamer;

static void find_xnamer(void *ctx, urbac__refs *r, const char *what)
{
  xnamer *n = ctx;
  for (size_t i = 0; i < r->n && !n->found; i++)
    if (r->v[i].kind == n->kind && r->v[i].idx == n->idx && strcmp(r->v[i].name, n->id) != 0 &&
        (urbac__is_guid(r->v[i].name, strlen(r->v[i].name)) ? strcasecmp(r->v[i].name, n->old) == 0
                                                            : strcmp(r->v[i].name, n->old) == 0)) {
      n->found = &r->v[i];
      snprintf(n->where, sizeof n->where, "%s", what);
    }
}

/* A user or group whose externalId changed while something names it by the old
 * one, not a GUID (a GUID turns pending: demote_all()): that name would dangle (a
 * scan, only for named objects whose externalId changed). */
static urbac_err check_xid_changes(editor *e)
{
  urbac_model *m = e->m;
  const urbac__cow *from[] = {&m->groups, &m->dgs, &m->roles, &m->mde_roles, &m->eop, &m->mdi};
  for (size_t c = 0; c < m->nchanges; c++) {
    const urbac__change *ch = &m->changes[c];
    const urbac__ident *b = ident_of(ch->before), *a = ident_of(ch->after);
    uint8_t k = ch->kind == URBAC__OBJ_USER ? URBAC__REF_USER : URBAC__REF_GROUP;
    if (!a || !b || !b->xkey || (a->xkey && strcmp(a->xkey, b->xkey) == 0) ||
        urbac__cow_u32_at(&m->refs_in[k], ch->idx) == 0)
      continue;
    xnamer n = {k,
                ch->idx,
                k == URBAC__REF_USER ? ((urbac__user *)ch->after)->id : ((urbac__group *)ch->after)->id,
                b->xkey,
                NULL,
                ""};
    for (size_t f = 0; f < sizeof from / sizeof from[0] && !n.found; f++)
      for (size_t i = 0; i < from[f]->n && !n.found; i++)
        if (URBAC__AT(*from[f], i))
          urbac__obj_visit_refs(URBAC__AT(*from[f], i), find_xnamer, &n);
    if (n.found)
      return urbac__diag_add(e->d, URBAC_EDANGLING, NULL, 0, 0, n.id,
                             "%s names %s '%.100s' by its externalId '%.100s': it cannot change while named",
                             n.where, k == URBAC__REF_USER ? "user" : "group", n.id, b->xid);
  }
  return URBAC_OK;
}

/* The reference kinds (bit urbac__ref_kind) whose maps this edit left as they
 * were: it put and deleted no user (group, device group). */
static unsigned unchanged_kinds(const urbac_model *m)
{
  unsigned stable = 1u << URBAC__REF_USER | 1u << URBAC__REF_GROUP | 1u << URBAC__REF_DG;
  for (size_t c = 0; c < m->nchanges; c++)
    stable &= ~(m->changes[c].kind == URBAC__OBJ_USER    ? 1u << URBAC__REF_USER
                : m->changes[c].kind == URBAC__OBJ_GROUP ? 1u << URBAC__REF_GROUP
                : m->changes[c].kind == URBAC__OBJ_DG    ? 1u << URBAC__REF_DG
                                                         : 0u);
  return stable;
}

static urbac_err check_all(editor *e)
{
  urbac_model *m = e->m;
  urbac_err err = URBAC_OK;
  size_t had = urbac_diag_count(e->d);
  const urbac__cow *targets[3] = {&m->users, &m->groups, &m->dgs};
  for (size_t k = 0; k < 3 && !err; k++)
    err = urbac__cow_grow(&m->refs_in[k], targets[k]->n);
  unsigned stable = unchanged_kinds(m);
  for (size_t c = 0; c < m->nchanges && !err; c++) { /* each object put (`added`), with the one it replaced */
    const urbac__change *ch = &m->changes[c];
    urbac_err r = ch->after ? urbac__obj_resolve(m, ch->after, ch->before, stable, e->d) : URBAC_OK;
    err = r == URBAC_ENOMEM ? r : err;
  }
  if (err || urbac_diag_count(e->d) > had)
    return err ? err : URBAC_EINVAL;
  err = urbac__model_count_changes(m);
  for (size_t k = 0; k < 3; k++)
    for (size_t i = 0; i < e->ndeleted[k] && (!err || err == URBAC_EDANGLING); i++) {
      urbac_err r = check_deleted(e, (uint8_t)k, i); /* every one said; the first refusal kept */
      err = r && (!err || r == URBAC_ENOMEM) ? r : err;
    }
  for (size_t i = 0; i < e->nadded && !err; i++)
    if (e->added[i]->kind == URBAC__OBJ_GROUP)
      err = check_cycle(e, (uint32_t)find(m, URBAC__OBJ_GROUP, "group", obj_id(e->added[i])));
  if (!err && e->dgs_changed)
    err = urbac__model_check_ranks(m, e->d);
  if (!err)
    err = check_xid_changes(e);
  return err;
}

/* ---------------------------------------------------------------- the whole */

static urbac_err share(urbac_model *m, const urbac_model *base)
{
  urbac_err err = URBAC_OK;
  const urbac__cow *from[] = {&base->users,      &base->groups,     &base->dgs,       &base->devices,
                              &base->roles,      &base->mde_roles,  &base->eop,       &base->mdi,
                              &base->refs_in[0], &base->refs_in[1], &base->refs_in[2]};
  urbac__cow *to[] = {&m->users, &m->groups, &m->dgs,        &m->devices,    &m->roles,     &m->mde_roles,
                      &m->eop,   &m->mdi,    &m->refs_in[0], &m->refs_in[1], &m->refs_in[2]};
  m->base_serial = base->serial;
  memcpy(m->modes, base->modes, sizeof m->modes);
  memcpy(m->mode_listed, base->mode_listed, sizeof m->mode_listed);
  m->edition = base->edition;
  m->ungrouped = base->ungrouped;
  for (size_t i = 0; i < sizeof to / sizeof to[0]; i++) {
    urbac__cow_free(to[i]);
    urbac__cow_share(to[i], from[i]);
  }
  urbac__smap *maps[] = {&m->user_map,   &m->group_map, &m->dg_map,
                         &m->device_map, &m->user_xmap, &m->group_xmap};
  const urbac__smap *bmaps[] = {&base->user_map,   &base->group_map, &base->dg_map,
                                &base->device_map, &base->user_xmap, &base->group_xmap};
  for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++)
    urbac__smap_share(maps[i], bmaps[i]);
  if (base->npend) {
    m->pend = urbac__malloc(base->npend * sizeof *m->pend);
    if (m->pend)
      memcpy(m->pend, base->pend, base->npend * sizeof *m->pend);
    m->npend = m->cap_pend = m->pend ? base->npend : 0;
    err = m->pend ? err : URBAC_ENOMEM;
  }
  if (!(m->tenant = urbac__strdup(base->tenant)) ||
      !(m->source = urbac__strdup(base->source ? base->source : "<tenant>")))
    err = URBAC_ENOMEM;
  return err;
}

static void editor_free(editor *e)
{
  for (size_t i = 0; i < e->nadded; i++)
    urbac__obj_release(e->added[i]);
  for (size_t i = 0; i < e->nremoved; i++)
    urbac__obj_release(e->removed[i]);
  urbac__free(e->added);
  urbac__free(e->removed);
  urbac__free(e->xadd);
  for (size_t k = 0; k < 3; k++) {
    urbac__free(e->deleted[k]);
    urbac__free(e->deleted_id[k]);
  }
}

/* No object changed twice in one edit (a hash of "kind id" per put), but for a
 * delete then a put: an object deleted and made anew, which takes a new place. */
static urbac_err distinct(const urbac_object_put *puts, size_t n, urbac_diag *d)
{
  urbac__strmap seen = {0}, again = {0}; /* free of a zeroed map is a no-op */
  char **keys = urbac__calloc(n + 1, sizeof *keys);
  urbac_err err =
      !keys || urbac__strmap_init(&seen, n) || urbac__strmap_init(&again, 1) ? URBAC_ENOMEM : URBAC_OK;
  for (size_t i = 0; i < n && !err; i++) {
    urbac__buf b = {0};
    uint32_t first = 0;
    if (!puts[i].kind || !puts[i].id)
      continue; /* apply() says what is missing */
    urbac__buf_printf(&b, "%s %s", puts[i].kind, puts[i].id);
    size_t len = 0;
    if (!(keys[i] = urbac__buf_take(&b, &len)))
      err = URBAC_ENOMEM;
    else if ((err = urbac__strmap_put(&seen, keys[i], len, (uint32_t)i, &first)) == URBAC_EDUPLICATE &&
             !puts[first].json && puts[i].json)
      err = urbac__strmap_put(&again, keys[i], len, (uint32_t)i, NULL);
    if (err == URBAC_EDUPLICATE)
      err = urbac__diag_add(d, URBAC_EDUPLICATE, NULL, 0, 0, puts[i].id, "%s '%.100s' is changed twice",
                            puts[i].kind, puts[i].id);
  }
  urbac__strmap_free(&seen);
  urbac__strmap_free(&again);
  for (size_t i = 0; keys && i < n; i++)
    urbac__free(keys[i]);
  urbac__free(keys);
  return err;
}

urbac_err urbac_model_edit(const urbac_model *base, const urbac_object_put *puts, size_t n, urbac_model **out,
                           urbac_diag *d)
{
  return urbac_model_edit_parsed(base, puts, n, NULL, out, d);
}

urbac_err urbac_model_edit_parsed(const urbac_model *base, const urbac_object_put *puts, size_t n,
                                  urbac_parsed *parsed, urbac_model **out, urbac_diag *d)
{
  editor e = {.d = d, .parsed = parsed};
  size_t had = urbac_diag_count(d);
  urbac_err err = URBAC_ENOMEM;
  *out = NULL;
  if (n > URBAC_MAX_OBJECTS)
    return urbac__diag_add(d, URBAC_ELIMIT, NULL, 0, 0, NULL, "more than %u changes in one edit",
                           URBAC_MAX_OBJECTS);
  if (!(e.m = urbac__model_new()) || (err = share(e.m, base)))
    goto out;
  err = distinct(puts, n, d);
  for (size_t i = 0; i < n && !err; i++)
    err = apply(&e, &puts[i]);
  if (!err)
    err = xid_take(&e);
  if (!err)
    err = wake_pending(&e);
  if (!err)
    err = demote_all(&e);
  if (!err)
    err = check_all(&e);
  if (!err)
    err = repend(&e);
out:
  editor_free(&e);
  if (err && err != URBAC_ENOMEM && urbac_diag_count(d) > had && urbac_diag_get(d, had))
    err = urbac_diag_get(d, had)->code; /* the first problem's own code, not EINVAL */
  if (err) {
    urbac_model_free(e.m);
    return urbac__diag_code_since(d, had, err, "editing the model");
  }
  *out = e.m;
  return URBAC_OK;
}
