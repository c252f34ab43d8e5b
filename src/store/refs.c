/*
 * store/refs.c - the reference index: one row per name an object gives another
 * (a group's member, a device group's userAccess, an assignment's principal or
 * device group, a legacy role's group or member), kept beside the objects so a
 * write can ask "does what it names exist?" and "who names this?" with indexed
 * queries instead of loading the tenant (store/write.c).
 *
 * An object's references are read from the object alone, parsed by the
 * loader's own code (urbac__object_parse()), so the index names exactly what
 * the loader resolves; a whole tenant's apply reads them from the validated
 * model it writes instead (urbac__refs_of_in(): the same rows, without parsing
 * every body again). Every write keeps the index in step with the rows it
 * changes, in the same transaction (urbac__refs_write()); schema 3's migration
 * fills it for the tenants already there (urbac__refs_fill()). The reserved
 * device group 'ungrouped' always exists and is never indexed as a target. A
 * user's or group's externalId is a row too, from the object to the pseudo kind
 * "user.externalId" or "group.externalId" and its key (model/ident.c), so that
 * uniqueness and names given by externalId are indexed queries as well.
 *
 * Since the rows are a function of the body, a store handle remembers those of
 * the big objects it wrote last (urbac__named_recall()): the next write of one
 * whose stored body is still the one written takes them from memory. A write
 * therefore trusts the index to hold what the bodies say; an index edited by
 * hand is what `urbac audit verify` finds (urbac__refs_agree()), and a write of
 * a remembered object does not mend it.
 *
 * Depends on: util, model (persist.h's maps), io/objects.c, store.
 */
#include <stdio.h>
#include <stdlib.h>

#include "store/refs.h"

static const char *const ref_kinds[] = {"user", "group", "deviceGroup"};

bool urbac__refs_kind_names(const char *kind)
{
  static const char *const kinds[] = {
      "user", "group", "deviceGroup", "role", "legacy.mde.role", "legacy.mdo.roleGroup", "legacy.mdi.role"};
  for (size_t i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++)
    if (strcmp(kind, kinds[i]) == 0)
      return true;
  return false;
}

void urbac__ref_list_free(urbac__ref_list *l)
{
  urbac__free(l->v);
  *l = (urbac__ref_list){0};
}

static urbac_err add_refs(urbac__ref_list *l, const char *kind, const char *id, const urbac__refs *r)
{
  for (size_t i = 0; i < r->n; i++) {
    const char *to_kind = ref_kinds[r->v[i].kind];
    if (r->v[i].kind == URBAC__REF_DG && strcmp(r->v[i].name, URBAC__UNGROUPED_ID) == 0)
      continue; /* always there */
    if (URBAC_GROW(l->v, l->cap, l->n + 1))
      return URBAC_ENOMEM;
    l->v[l->n++] = (urbac__ref_row){kind, id, to_kind, r->v[i].name};
  }
  return URBAC_OK;
}

typedef struct refs_ctx {
  urbac__ref_list *out;
  const char *kind, *id;
  urbac_err err;
} refs_ctx;

static void refs_cb(void *p, urbac__refs *r, const char *what)
{
  refs_ctx *c = p;
  (void)what;
  if (!c->err)
    c->err = add_refs(c->out, c->kind, c->id, r);
}

/* A user's or group's externalId, as a row to URBAC__REF_XID_USER or _GROUP: the
 * index answers "who holds this externalId?" as "who names this?". */
static urbac_err add_xid(urbac__ref_list *l, const char *kind, const char *id, const char *to_kind,
                         const urbac__ident *ident)
{
  if (!ident->xkey)
    return URBAC_OK;
  if (URBAC_GROW(l->v, l->cap, l->n + 1))
    return URBAC_ENOMEM;
  l->v[l->n++] = (urbac__ref_row){kind, id, to_kind, ident->xkey};
  return URBAC_OK;
}

urbac_err urbac__refs_of(const urbac_model *m, const char *kind, const char *id, urbac__ref_list *out)
{
  refs_ctx c = {out, kind, id, URBAC_OK};
  for (size_t i = 0; i < m->users.n && !c.err; i++)
    if (urbac__user_at(m, i))
      c.err = add_xid(out, kind, id, URBAC__REF_XID_USER, &urbac__user_at(m, i)->ident);
  for (size_t i = 0; i < m->groups.n && !c.err; i++)
    if (urbac__group_at(m, i))
      c.err = add_xid(out, kind, id, URBAC__REF_XID_GROUP, &urbac__group_at(m, i)->ident);
  const urbac__cow *from[] = {&m->groups, &m->dgs, &m->roles, &m->mde_roles, &m->eop, &m->mdi};
  for (size_t k = 0; k < sizeof from / sizeof from[0] && !c.err; k++)
    for (size_t i = 0; i < from[k]->n && !c.err; i++)
      if (URBAC__AT(*from[k], i)) /* a deleted object's slot names nothing */
        urbac__obj_visit_refs(URBAC__AT(*from[k], i), refs_cb, &c);
  return c.err;
}

/* Object (kind, id) of a whole model, found by id: users, groups, device groups and
 * roles (the objects there are many of); NULL for another kind or when absent. */
static urbac__obj *obj_in(const urbac_model *m, const char *kind, const char *id)
{
  uint32_t i;
  size_t len = strlen(id);
  void *at = NULL; /* a slot an edit emptied is NULL: nothing there */
  if (strcmp(kind, "user") == 0 && urbac__smap_get(&m->user_map, id, len, &i))
    at = urbac__user_at(m, i);
  else if (strcmp(kind, "group") == 0 && urbac__smap_get(&m->group_map, id, len, &i))
    at = urbac__group_at(m, i);
  else if (strcmp(kind, "deviceGroup") == 0 && urbac__smap_get(&m->dg_map, id, len, &i))
    at = urbac__dg_at(m, i);
  for (size_t r = 0; !at && strcmp(kind, "role") == 0 && r < m->roles.n; r++) /* roles are few */
    if (urbac__role_at(m, r) && strcmp(urbac__role_at(m, r)->name, id) == 0)
      at = urbac__role_at(m, r);
  return at; /* each kind's object begins with its urbac__obj */
}

urbac_err urbac__refs_of_in(const urbac_model *m, const char *kind, const char *id, urbac__ref_list *out,
                            bool *found)
{
  refs_ctx c = {out, kind, id, URBAC_OK};
  urbac__obj *o = obj_in(m, kind, id);
  *found = o != NULL;
  if (o && strcmp(kind, "user") == 0)
    c.err = add_xid(out, kind, id, URBAC__REF_XID_USER, &((urbac__user *)o)->ident);
  else if (o && strcmp(kind, "group") == 0)
    c.err = add_xid(out, kind, id, URBAC__REF_XID_GROUP, &((urbac__group *)o)->ident);
  if (o && !c.err && strcmp(kind, "user") != 0)
    urbac__obj_visit_refs(o, refs_cb, &c);
  return c.err;
}

char *urbac__pair_key(const char *kind, const char *id)
{
  size_t k = strlen(kind), n = strlen(id); /* no printf: a write of a big group makes thousands */
  char *s = urbac__malloc(k + n + 2);
  if (s) {
    memcpy(s, kind, k);
    s[k] = '\n';
    memcpy(s + k + 1, id, n + 1);
  }
  return s;
}

/* "kind\nid" and a NUL appended to `b`, *at its start: a write of a group of
 * thousands makes thousands of keys, one buffer holds them all. */
static void key_add(urbac__buf *b, size_t *at, const char *kind, const char *id)
{
  *at = b->len;
  urbac__buf_puts(b, kind);
  urbac__buf_add(b, "\n", 1);
  urbac__buf_puts(b, id);
  urbac__buf_add(b, "", 1);
}

static bool same_pair(const urbac__strs *old, size_t i, const urbac__ref_row *r)
{
  return strcmp(old->v[2 * i + 1], r->to_id) == 0 && strcmp(old->v[2 * i], r->to_kind) == 0;
}

static urbac_err push_row(urbac__ref_list *l, urbac__ref_row r)
{
  if (URBAC_GROW(l->v, l->cap, l->n + 1))
    return URBAC_ENOMEM;
  l->v[l->n++] = r;
  return URBAC_OK;
}

#define ALIGNED_MAX 8 /* places a list may differ at for diff_aligned() */

/* diff_refs() when `now` names what `old` does, in the same order, but at a few
 * places (a member swapped in a big group: one): each row at such a place is
 * looked for in the other list, the rest are in both. *done false (nothing
 * added) when the lists differ in length or at more than ALIGNED_MAX places. */
static urbac_err diff_aligned(const urbac__strs *old, const urbac__ref_list *now, const char *kind,
                              const char *id, urbac__ref_list *added, urbac__ref_list *removed, bool *done)
{
  size_t at[ALIGNED_MAX], k = 0, n = now->n;
  *done = false;
  if (n != old->n / 2 || n < 4 * ALIGNED_MAX) /* a short list: the maps are cheap */
    return URBAC_OK;
  for (size_t i = 0; i < n; i++)
    if (same_pair(old, i, &now->v[i]))
      continue;
    else if (k == ALIGNED_MAX)
      return URBAC_OK;
    else
      at[k++] = i;
  urbac_err err = URBAC_OK;
  for (size_t m = 0; !err && m < k; m++) {
    const urbac__ref_row *r = &now->v[at[m]];
    bool had = false, again = false, kept = false;
    for (size_t i = 0; !had && i < n; i++)
      had = same_pair(old, i, r);
    for (size_t q = 0; !again && q < m; q++) /* named twice at these places: one row */
      again = strcmp(now->v[at[q]].to_id, r->to_id) == 0 && strcmp(now->v[at[q]].to_kind, r->to_kind) == 0;
    if (!had && !again)
      err = push_row(added, *r);
    for (size_t j = 0; !kept && j < n; j++) /* the pair `old` had here, named at another place now? */
      kept = same_pair(old, at[m], &now->v[j]);
    if (!err && !kept)
      err = push_row(removed, (urbac__ref_row){kind, id, old->v[2 * at[m]], old->v[2 * at[m] + 1]});
  }
  *done = true;
  return err;
}

/* The rows of `now` not in `old` go to *added; the pairs of `old` not in `now`, as rows, to *removed. */
static urbac_err diff_refs(const urbac__strs *old, const urbac__ref_list *now, const char *kind,
                           const char *id, urbac__ref_list *added, urbac__ref_list *removed)
{
  bool done = false;
  urbac_err aligned = diff_aligned(old, now, kind, id, added, removed, &done);
  if (aligned || done)
    return aligned;
  if (!old->n && now->n <= 1) { /* a new object naming one thing at most (a user: its externalId) */
    if (now->n && URBAC_GROW(added->v, added->cap, added->n + 1))
      return URBAC_ENOMEM;
    if (now->n)
      added->v[added->n++] = now->v[0];
    return URBAC_OK;
  }
  urbac__strmap was = {0}, is = {0};
  urbac__buf ob = {0}, nb = {0}; /* the keys of `old`'s pairs and of `now`'s rows */
  size_t npairs = old->n / 2, *oat = urbac__calloc(npairs + 1, sizeof *oat),
         *nat = urbac__calloc(now->n + 1, sizeof *nat);
  bool *kept = urbac__calloc(npairs + 1, sizeof *kept);
  urbac_err err = kept && oat && nat ? URBAC_OK : URBAC_ENOMEM;
  for (size_t i = 0; !err && i < npairs; i++)
    key_add(&ob, &oat[i], old->v[2 * i], old->v[2 * i + 1]);
  for (size_t i = 0; !err && i < now->n; i++)
    key_add(&nb, &nat[i], now->v[i].to_kind, now->v[i].to_id);
  if (!err &&
      (ob.failed || nb.failed || urbac__strmap_init(&was, npairs + 1) || urbac__strmap_init(&is, now->n + 1)))
    err = URBAC_ENOMEM;
  for (size_t i = 0; !err && i < npairs; i++) { /* the buffers are whole now: their keys stay put */
    const char *k = ob.s + oat[i];
    urbac_err put = urbac__strmap_put(&was, k, strlen(k), (uint32_t)i, NULL);
    err = put == URBAC_EDUPLICATE ? URBAC_OK : put;
  }
  for (size_t i = 0; !err && i < now->n; i++) {
    const char *k = nb.s + nat[i];
    uint32_t at;
    urbac_err put = URBAC_OK;
    if (urbac__strmap_get(&was, k, strlen(k), &at))
      kept[at] = true;
    else if ((put = urbac__strmap_put(&is, k, strlen(k), (uint32_t)i, NULL)) == URBAC_EDUPLICATE)
      ; /* named twice (in two assignments, say): one row */
    else if (put || URBAC_GROW(added->v, added->cap, added->n + 1))
      err = URBAC_ENOMEM;
    else
      added->v[added->n++] = now->v[i];
  }
  for (size_t i = 0; !err && i < npairs; i++)
    if (!kept[i] && !URBAC_GROW(removed->v, removed->cap, removed->n + 1))
      removed->v[removed->n++] = (urbac__ref_row){kind, id, old->v[2 * i], old->v[2 * i + 1]};
    else if (!kept[i])
      err = URBAC_ENOMEM;
  urbac__strmap_free(&was);
  urbac__strmap_free(&is);
  urbac__buf_free(&ob);
  urbac__buf_free(&nb);
  urbac__free(oat);
  urbac__free(nat);
  urbac__free(kept);
  return err;
}

/* What an object names against the index rows from it. */
typedef struct delta {
  urbac_model *parsed; /* the object, when parsed here */
  char *canonical;
  urbac__ref_list now, added, removed; /* added and removed borrow from `now`, `old` and the model */
  urbac__strs read;                    /* the index's rows from the object, when read here */
  const urbac__strs *old;              /* them: `read`, or the caller's */
  bool known;                          /* `now` filled by the caller already */
} delta;

static void delta_free(delta *x)
{
  urbac__ref_list_free(&x->now);
  urbac__ref_list_free(&x->added);
  urbac__ref_list_free(&x->removed);
  urbac__strs_free(&x->read);
  urbac_model_free(x->parsed);
  urbac__free(x->canonical);
}

/* The rows to add and to remove for (kind, id) to name what `after` names
 * (`alone`: it parsed, or NULL to parse it here; `after` NULL: nothing; `old`: the
 * rows from it, or NULL to read them; x->known: x->now is filled already). */
static urbac_err delta_read(urbac_store *store, const char *tenant, const char *kind, const char *id,
                            const char *after, const urbac_model *alone, const urbac__strs *old, delta *x,
                            urbac_diag *d)
{
  urbac_err err = URBAC_OK;
  if (x->known)
    alone = NULL;
  else if (after && !alone) { /* a stored body: the loader's own parse says what it names */
    err = urbac__object_parse(tenant, kind, id, after, "stored object", &x->parsed, &x->canonical, d);
    alone = x->parsed;
  }
  if (!err && alone)
    err = urbac__refs_of(alone, kind, id, &x->now);
  x->old = old ? old : &x->read;
  if (!err && !old)
    err = store->ops->refs_from(store->db, tenant, kind, id, NULL, &x->read, d);
  if (!err)
    err = diff_refs(x->old, &x->now, kind, id, &x->added, &x->removed);
  return err;
}

/* A copy of `s` kept in `pool`, or NULL. */
static const char *pooled(urbac__strs *pool, const char *s)
{
  return urbac__strs_add(pool, s, strlen(s)) ? NULL : pool->v[pool->n - 1];
}

/* Appends the rows of `from` to `to`, their names copied into `pool` when
 * `copy` (they are the stage's own, freed with it; else the caller's model's,
 * which outlives the batch). */
static urbac_err keep_rows(urbac__ref_list *to, const urbac__ref_list *from, urbac__strs *pool, bool copy)
{
  urbac_err err = URBAC_GROW(to->v, to->cap, to->n + from->n) ? URBAC_ENOMEM : URBAC_OK;
  for (size_t i = 0; !err && i < from->n; i++) {
    urbac__ref_row r = from->v[i];
    r.to_kind = copy ? pooled(pool, r.to_kind) : r.to_kind;
    r.to_id = copy ? pooled(pool, r.to_id) : r.to_id;
    if (!r.to_kind || !r.to_id)
      err = URBAC_ENOMEM;
    else
      to->v[to->n++] = r;
  }
  return err;
}

urbac_err urbac__refs_stage(urbac_store *store, const char *tenant, const char *kind, const char *id,
                            const char *after, const urbac_model *alone, const urbac__strs *old,
                            urbac__refs_batch *b, urbac_diag *d)
{
  delta x = {0};
  bool found = false;
  if (!urbac__refs_kind_names(kind))
    return URBAC_OK;
  urbac_err err =
      after && !alone && b->whole ? urbac__refs_of_in(b->whole, kind, id, &x.now, &found) : URBAC_OK;
  /* only the rows that differ are written: a member added to a group of thousands is one row */
  x.known = found;
  if (!err)
    err = delta_read(store, tenant, kind, id, after, alone, old, &x, d);
  if (!err) /* the rows removed name what the index said (x.read, freed below) */
    err = keep_rows(&b->removed, &x.removed, &b->pool, true);
  if (!err) /* those added what the model says: the caller's (`alone`, b->whole), or x.parsed */
    err = keep_rows(&b->added, &x.added, &b->pool, x.parsed != NULL);
  delta_free(&x);
  return err;
}

static int row_order(const void *pa, const void *pb)
{
  const urbac__ref_row *a = pa, *b = pb;
  int c = strcmp(a->from_kind, b->from_kind);
  c = c ? c : strcmp(a->from_id, b->from_id);
  c = c ? c : strcmp(a->to_kind, b->to_kind);
  return c ? c : strcmp(a->to_id, b->to_id);
}

urbac_err urbac__refs_flush(urbac_store *store, const char *tenant, urbac__refs_batch *b, urbac_diag *d)
{
  urbac_err err = URBAC_OK;
  if (b->added.n > 1) /* key order: the index's pages filled one after another */
    qsort(b->added.v, b->added.n, sizeof *b->added.v, row_order);
  if (b->removed.n)
    err = store->ops->refs_remove(store->db, tenant, b->removed.v, b->removed.n, d);
  if (!err && b->added.n)
    err = store->ops->refs_put(store->db, tenant, b->added.v, b->added.n, d);
  urbac__ref_list_free(&b->added);
  urbac__ref_list_free(&b->removed);
  urbac__strs_free(&b->pool);
  return err;
}

urbac_err urbac__refs_write(urbac_store *store, const char *tenant, const char *kind, const char *id,
                            const char *after, const urbac_model *alone, const urbac__strs *old,
                            urbac_diag *d)
{
  urbac__refs_batch b = {0};
  urbac_err err = urbac__refs_stage(store, tenant, kind, id, after, alone, old, &b, d);
  urbac_err flushed = urbac__refs_flush(store, tenant, &b, d);
  return err ? err : flushed;
}

urbac_err urbac__refs_agree(urbac_store *store, const char *tenant, const char *kind, const char *id,
                            const char *body, bool *agree, urbac_diag *d)
{
  delta x = {0};
  urbac_err err =
      urbac__refs_kind_names(kind) ? delta_read(store, tenant, kind, id, body, NULL, NULL, &x, d) : URBAC_OK;
  *agree = !x.added.n && !x.removed.n;
  delta_free(&x);
  return err;
}

/* ---------------------------------------------------------------- what objects named, remembered */

/* An object this handle wrote, the body it wrote, and the index rows from it
 * then: (to_kind, to_id) pairs whose strings lie in `text` ("kind\0id\0" each). */
struct urbac__named {
  char *tenant, *kind, *id, *body;
  urbac__strs pairs; /* v[] points into `text`: not owned one by one */
  char *text;
  uint64_t used; /* s->named_clock when last remembered or recalled */
};

static void named_free(struct urbac__named *e)
{
  if (!e)
    return;
  urbac__free(e->tenant);
  urbac__free(e->kind);
  urbac__free(e->id);
  urbac__free(e->body);
  urbac__free(e->pairs.v);
  urbac__free(e->text);
  urbac__free(e);
}

static bool named_is(const struct urbac__named *e, const char *tenant, const char *kind, const char *id)
{
  return e && strcmp(e->id, id) == 0 && strcmp(e->kind, kind) == 0 && strcmp(e->tenant, tenant) == 0;
}

const urbac__strs *urbac__named_recall(urbac_store *s, const char *tenant, const char *kind, const char *id,
                                       const char *body)
{
  for (size_t i = 0; i < URBAC__NAMED_SLOTS; i++)
    if (named_is(s->named[i], tenant, kind, id) && strcmp(s->named[i]->body, body) == 0) {
      s->named[i]->used = ++s->named_clock;
      return &s->named[i]->pairs;
    }
  return NULL;
}

/* Forgets (kind, id); with `room`, empties a slot for it too and returns it: its
 * own, else an empty one, else the least recently used. */
static size_t named_slot(urbac_store *s, const char *tenant, const char *kind, const char *id, bool room)
{
  size_t at = URBAC__NAMED_SLOTS;
  for (size_t i = 0; i < URBAC__NAMED_SLOTS; i++)
    if (named_is(s->named[i], tenant, kind, id)) {
      named_free(s->named[i]);
      s->named[i] = NULL;
      return i;
    }
  for (size_t i = 0; room && i < URBAC__NAMED_SLOTS; i++)
    if (at == URBAC__NAMED_SLOTS || !s->named[i] || (s->named[at] && s->named[i]->used < s->named[at]->used))
      at = i;
  if (at < URBAC__NAMED_SLOTS) {
    named_free(s->named[at]);
    s->named[at] = NULL;
  }
  return at;
}

/* The distinct pairs of `rows` into e->pairs and e->text (one row in the index for a name given twice). */
static urbac_err named_pairs(struct urbac__named *e, const urbac__ref_list *rows)
{
  urbac__strmap seen = {0};
  size_t bytes = 0, at = 0;
  for (size_t i = 0; i < rows->n; i++)
    bytes += strlen(rows->v[i].to_kind) + strlen(rows->v[i].to_id) + 2;
  e->text = urbac__malloc(bytes + 1);
  e->pairs.v = urbac__calloc(2 * rows->n + 1, sizeof *e->pairs.v);
  urbac_err err = e->text && e->pairs.v ? urbac__strmap_init(&seen, rows->n) : URBAC_ENOMEM;
  for (size_t i = 0; !err && i < rows->n; i++) {
    size_t k = strlen(rows->v[i].to_kind), n = strlen(rows->v[i].to_id);
    char *pair = e->text + at; /* "kind\0id": the map's key, kept in place */
    memcpy(pair, rows->v[i].to_kind, k + 1);
    memcpy(pair + k + 1, rows->v[i].to_id, n + 1);
    urbac_err put = urbac__strmap_put(&seen, pair, k + 1 + n, 0, NULL);
    if (put == URBAC_EDUPLICATE) /* named again: the next pair is written over this one */
      continue;
    err = put;
    e->pairs.v[e->pairs.n++] = pair;
    e->pairs.v[e->pairs.n++] = pair + k + 1;
    at += k + n + 2;
  }
  e->pairs.cap = e->pairs.n;
  urbac__strmap_free(&seen);
  return err;
}

void urbac__named_remember(urbac_store *s, const char *tenant, const char *kind, const char *id,
                           const char *body, const urbac_model *alone)
{
  if (!body || !alone) { /* deleted */
    named_slot(s, tenant, kind, id, false);
    return;
  }
  urbac__ref_list rows = {0};
  urbac_err err = urbac__refs_of(alone, kind, id, &rows);
  bool keep = !err && rows.n >= s->named_min && strlen(body) <= URBAC__NAMED_BODY_MAX;
  size_t slot = named_slot(s, tenant, kind, id, keep);
  struct urbac__named *e = NULL;
  if (keep) {
    e = urbac__calloc(1, sizeof *e);
    err = e && (e->tenant = urbac__strdup(tenant)) && (e->kind = urbac__strdup(kind)) &&
                  (e->id = urbac__strdup(id)) && (e->body = urbac__strdup(body))
              ? named_pairs(e, &rows)
              : URBAC_ENOMEM;
  }
  if (!err && e) {
    e->used = ++s->named_clock;
    s->named[slot] = e;
  } else {
    named_free(e);
  }
  urbac__ref_list_free(&rows);
}

void urbac__named_forget(urbac_store *s)
{
  for (size_t i = 0; i < URBAC__NAMED_SLOTS; i++) {
    named_free(s->named[i]);
    s->named[i] = NULL;
  }
}

urbac_err urbac__refs_fill(urbac_store *store, urbac_diag *d)
{
  urbac__strs tenants = {0};
  urbac_err err = store->ops->tenants(store->db, &tenants, d);
  for (size_t t = 0; !err && t < tenants.n; t++) {
    urbac__object *o = NULL;
    size_t n = 0;
    err = store->ops->objects(store->db, tenants.v[t], NULL, &o, &n, d);
    urbac__refs_batch b = {0};
    for (size_t i = 0; !err && i < n; i++)
      err = urbac__refs_stage(store, tenants.v[t], o[i].kind, o[i].id, o[i].body, NULL, NULL, &b, d);
    urbac_err flushed = urbac__refs_flush(store, tenants.v[t], &b, d);
    err = err ? err : flushed;
    urbac__objects_free(o, n);
  }
  urbac__strs_free(&tenants);
  return err;
}
