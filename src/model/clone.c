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

#define DUP_ARRAY(c, dst, src, field) (dst)->field = dup_array(c, (src)->field, (src)->n_##field, sizeof *(src)->field, &(dst)->cap_##field)

static void dup_objects(cloner *c, urbac_model *d, const urbac_model *m)
{
  DUP_ARRAY(c, d, m, users);
  for (size_t i = 0; d->users && i < m->n_users; i++) {
    d->users[i].id = dup(c, m->users[i].id);
    d->users[i].name = dup(c, m->users[i].name);
  }
  DUP_ARRAY(c, d, m, groups);
  for (size_t i = 0; d->groups && i < m->n_groups; i++) {
    d->groups[i].id = dup(c, m->groups[i].id);
    d->groups[i].name = dup(c, m->groups[i].name);
    dup_refs(c, &d->groups[i].members);
  }
  DUP_ARRAY(c, d, m, dgs);
  for (size_t i = 0; d->dgs && i < m->n_dgs; i++)
    dup_dg(c, &d->dgs[i]);
  DUP_ARRAY(c, d, m, devices);
  for (size_t i = 0; d->devices && i < m->n_devices; i++) {
    urbac__device *v = &d->devices[i];
    v->id = dup(c, v->id);
    v->name = dup(c, v->name);
    v->domain = dup(c, v->domain);
    v->os = dup(c, v->os);
    dup_strs(c, &v->tags);
  }
}

static void dup_roles(cloner *c, urbac_model *d, const urbac_model *m)
{
  DUP_ARRAY(c, d, m, roles);
  for (size_t i = 0; d->roles && i < m->n_roles; i++)
    dup_role(c, &d->roles[i]);
  DUP_ARRAY(c, d, m, mde_roles);
  for (size_t i = 0; d->mde_roles && i < m->n_mde_roles; i++) {
    d->mde_roles[i].name = dup(c, m->mde_roles[i].name);
    d->mde_roles[i].description = dup(c, m->mde_roles[i].description);
    dup_refs(c, &d->mde_roles[i].groups);
  }
  DUP_ARRAY(c, d, m, eop);
  for (size_t i = 0; d->eop && i < m->n_eop; i++)
    dup_refs(c, &d->eop[i].members);
  DUP_ARRAY(c, d, m, mdi);
  for (size_t i = 0; d->mdi && i < m->n_mdi; i++)
    dup_refs(c, &d->mdi[i].members);
}

/* Arrays that failed to copy must read as empty, so freeing the copy is safe. */
static void zero_missing(urbac_model *d)
{
#define ZERO_IF_NULL(f) if (!d->f) d->n_##f = 0
  ZERO_IF_NULL(users);
  ZERO_IF_NULL(groups);
  ZERO_IF_NULL(dgs);
  ZERO_IF_NULL(devices);
  ZERO_IF_NULL(roles);
  ZERO_IF_NULL(mde_roles);
  ZERO_IF_NULL(eop);
  ZERO_IF_NULL(mdi);
#undef ZERO_IF_NULL
}

urbac_err urbac_model_clone(const urbac_model *m, urbac_model **out, urbac_diag *diag)
{
  cloner c = {false};
  urbac_model *d = urbac__model_new();
  *out = NULL;
  if (!d)
    return urbac__diag_code(diag, URBAC_ENOMEM, "copying the model");
  *d = *m;
  memset(&d->user_map, 0, sizeof d->user_map);
  memset(&d->group_map, 0, sizeof d->group_map);
  memset(&d->dg_map, 0, sizeof d->dg_map);
  memset(&d->device_map, 0, sizeof d->device_map);
  d->tenant = dup(&c, m->tenant);
  d->source = dup(&c, m->source);
  dup_objects(&c, d, m);
  dup_roles(&c, d, m);
  zero_missing(d);
  urbac_err err = c.oom ? URBAC_ENOMEM : urbac__model_validate(d, NULL);
  if (err) {
    urbac_model_free(d);
    return urbac__diag_code(diag, err == URBAC_EINVAL ? URBAC_ENOMEM : err, "copying the model");
  }
  *out = d;
  return URBAC_OK;
}
