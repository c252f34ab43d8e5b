/*
 * model/clone.c - a deep copy of a tenant model.
 *
 * Migration needs the tenant as it is and as it would be (after an import, with a
 * workload activated) side by side: impact compiles both. The copy shares nothing
 * with the original; its id maps are rebuilt by validation, which the original
 * already passed, so that cannot fail but for memory.
 *
 * Depends on: util, catalog, model/model.c, model/validate.c.
 */
#include "model/model.h"

typedef struct cloner {
  bool oom;
} cloner;

static char *dup(cloner *c, const char *s)
{
  if (!s)
    return NULL;
  char *d = urbac__strdup(s);
  c->oom = c->oom || !d;
  return d;
}

/* Copies `n` elements of `size` bytes; the caller then deep-copies each. */
static void *dup_array(cloner *c, const void *src, size_t n, size_t size, size_t *cap)
{
  void *d = urbac__calloc(n ? n : 1, size);
  if (!d) {
    c->oom = true;
    *cap = 0;
    return NULL;
  }
  if (n)
    memcpy(d, src, n * size);
  *cap = n ? n : 1;
  return d;
}

static void dup_refs(cloner *c, urbac__refs *r)
{
  urbac__ref *v = dup_array(c, r->v, r->n, sizeof *r->v, &r->cap);
  for (size_t i = 0; v && i < r->n; i++)
    v[i].name = dup(c, r->v[i].name);
  if (!v)
    r->n = 0;
  r->v = v;
}

static void dup_strs(cloner *c, urbac__strs *s)
{
  char **v = dup_array(c, s->v, s->n, sizeof *s->v, &s->cap);
  for (size_t i = 0; v && i < s->n; i++)
    v[i] = dup(c, s->v[i]);
  if (!v)
    s->n = 0;
  s->v = v;
}

static void dup_role(cloner *c, urbac__role *r)
{
  r->name = dup(c, r->name);
  r->description = dup(c, r->description);
  urbac__perm_entry *p = dup_array(c, r->perms, r->nperms, sizeof *r->perms, &r->cap_perms);
  for (size_t i = 0; p && i < r->nperms; i++)
    p[i].wildcard = dup(c, r->perms[i].wildcard);
  if (!p)
    r->nperms = 0;
  r->perms = p;
  urbac__assignment *a = dup_array(c, r->asg, r->nasg, sizeof *r->asg, &r->cap_asg);
  for (size_t i = 0; a && i < r->nasg; i++) {
    a[i].name = dup(c, a[i].name);
    dup_refs(c, &a[i].principals);
    dup_refs(c, &a[i].dgs);
  }
  if (!a)
    r->nasg = 0;
  r->asg = a;
  r->imported_name = dup(c, r->imported_name);
}

static void dup_dg(cloner *c, urbac__devgroup *g)
{
  g->id = dup(c, g->id);
  g->name = dup(c, g->name);
  for (size_t p = 0; p < URBAC__NPROPS; p++)
    for (size_t o = 0; o < URBAC__NOPS; o++)
      dup_strs(c, &g->rules[p].values[o]);
  dup_refs(c, &g->access);
}

static void dup_ident(cloner *c, urbac__ident *id)
{
  id->xid = dup(c, id->xid);
  id->xkey = dup(c, id->xkey);
  id->scim = dup(c, id->scim);
}

/* Deep-copies the contents of object `o` (a shallow copy of the original). */
static void dup_contents(cloner *c, urbac__obj *o)
{
  switch ((urbac__obj_kind)o->kind) {
  case URBAC__OBJ_USER:
    ((urbac__user *)o)->id = dup(c, ((urbac__user *)o)->id);
    ((urbac__user *)o)->name = dup(c, ((urbac__user *)o)->name);
    dup_ident(c, &((urbac__user *)o)->ident);
    break;
  case URBAC__OBJ_GROUP:
    ((urbac__group *)o)->id = dup(c, ((urbac__group *)o)->id);
    ((urbac__group *)o)->name = dup(c, ((urbac__group *)o)->name);
    dup_ident(c, &((urbac__group *)o)->ident);
    dup_refs(c, &((urbac__group *)o)->members);
    break;
  case URBAC__OBJ_DG:
    dup_dg(c, (urbac__devgroup *)o);
    break;
  case URBAC__OBJ_DEVICE: {
    urbac__device *v = (urbac__device *)o;
    v->id = dup(c, v->id);
    v->name = dup(c, v->name);
    v->domain = dup(c, v->domain);
    v->os = dup(c, v->os);
    dup_strs(c, &v->tags);
    break;
  }
  case URBAC__OBJ_ROLE:
    dup_role(c, (urbac__role *)o);
    break;
  case URBAC__OBJ_MDE_ROLE:
    ((urbac__mde_role *)o)->name = dup(c, ((urbac__mde_role *)o)->name);
    ((urbac__mde_role *)o)->description = dup(c, ((urbac__mde_role *)o)->description);
    dup_refs(c, &((urbac__mde_role *)o)->groups);
    break;
  case URBAC__OBJ_LEGACY_MEMBERS:
  case URBAC__NOBJ:
    dup_refs(c, &((urbac__legacy_members *)o)->members);
    break;
  }
}

static urbac__obj *obj_dup(cloner *c, const urbac__obj *o)
{
  urbac__obj *d = urbac__malloc(urbac__obj_size((urbac__obj_kind)o->kind));
  if (!d) {
    c->oom = true;
    return NULL;
  }
  /* not the header: another thread may be releasing `o` (its count is atomic) */
  memcpy(d + 1, o + 1, urbac__obj_size((urbac__obj_kind)o->kind) - sizeof *o);
  d->refs = 1;
  d->kind = o->kind;
  dup_contents(c, d); /* on failure d is freeable: its missing parts are NULL */
  return d;
}

urbac__obj *urbac__obj_dup(const urbac__obj *o)
{
  cloner c = {false};
  urbac__obj *d = obj_dup(&c, o);
  if (c.oom) {
    urbac__obj_release(d);
    return NULL;
  }
  return d;
}

/* A copy of a model array whose objects are copies too (holes stay holes). */
static void dup_objects(cloner *c, urbac__cow *dst, const urbac__cow *src)
{
  for (size_t i = 0; i < src->n && !c->oom; i++) {
    const urbac__obj *o = URBAC__AT(*src, i);
    urbac__obj *d = o ? obj_dup(c, o) : NULL;
    if (o && !d)
      break;
    c->oom = urbac__model_push(dst, d) || c->oom;
  }
}

urbac_err urbac_model_clone(const urbac_model *m, urbac_model **out, urbac_diag *diag)
{
  cloner c = {false};
  urbac_model *d = urbac__model_new();
  *out = NULL;
  if (!d)
    return urbac__diag_code(diag, URBAC_ENOMEM, "copying the model");
  memcpy(d->modes, m->modes, sizeof d->modes);
  memcpy(d->mode_listed, m->mode_listed, sizeof d->mode_listed);
  d->edition = m->edition;
  d->tenant = dup(&c, m->tenant);
  d->source = dup(&c, m->source);
  dup_objects(&c, &d->users, &m->users);
  dup_objects(&c, &d->groups, &m->groups);
  dup_objects(&c, &d->dgs, &m->dgs);
  dup_objects(&c, &d->devices, &m->devices);
  dup_objects(&c, &d->roles, &m->roles);
  dup_objects(&c, &d->mde_roles, &m->mde_roles);
  dup_objects(&c, &d->eop, &m->eop);
  dup_objects(&c, &d->mdi, &m->mdi);
  urbac_err err = c.oom ? URBAC_ENOMEM : urbac__model_validate(d, NULL);
  if (err) {
    urbac_model_free(d);
    return urbac__diag_code(diag, err == URBAC_EINVAL ? URBAC_ENOMEM : err, "copying the model");
  }
  *out = d;
  return URBAC_OK;
}
