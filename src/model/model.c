/*
 * model/model.c - creating, freeing and reading a tenant model, and the device
 * group rules (semantics.md "Device group"): values of one property are
 * alternatives, properties are all required, tags match if any tag does, all
 * comparisons ignore case, and a group with no rules matches no device.
 *
 * Depends on: util, catalog.
 */
#include <strings.h>

#include "model/model.h"

const char *const urbac__prop_names[URBAC__NPROPS] = {"name", "domain", "tags", "os"};
const char *const urbac__op_names[URBAC__NOPS] = {"equals", "startsWith", "endsWith", "contains"};
const char *const urbac__remediation_names[3] = {"none", "semi", "full"};

/* ---------------------------------------------------------------- objects */

static const size_t obj_size[URBAC__NOBJ] = {
    sizeof(urbac__user), sizeof(urbac__group),    sizeof(urbac__devgroup),      sizeof(urbac__device),
    sizeof(urbac__role), sizeof(urbac__mde_role), sizeof(urbac__legacy_members)};

size_t urbac__obj_size(urbac__obj_kind kind) { return obj_size[kind]; }

void *urbac__obj_new(urbac__obj_kind kind)
{
  urbac__obj *o = urbac__calloc(1, obj_size[kind]);
  if (o)
    *o = (urbac__obj){1, (uint8_t)kind};
  return o;
}

static void obj_retain(void *elem)
{
  urbac__obj *o = *(urbac__obj **)elem;
  if (o)
    __atomic_add_fetch(&o->refs, 1, __ATOMIC_RELAXED);
}

static void obj_release_elem(void *elem) { urbac__obj_release(*(void **)elem); }

const urbac__cow_type urbac__cow_objs = {sizeof(void *), obj_retain, obj_release_elem};

urbac_model *urbac__model_new(void)
{
  urbac_model *m = urbac__calloc(1, sizeof(urbac_model));
  urbac__cow *arrays[] = {m ? &m->users : NULL,   m ? &m->groups : NULL, m ? &m->dgs : NULL,
                          m ? &m->devices : NULL, m ? &m->roles : NULL,  m ? &m->mde_roles : NULL,
                          m ? &m->eop : NULL,     m ? &m->mdi : NULL};
  for (size_t i = 0; m && i < sizeof arrays / sizeof arrays[0]; i++)
    urbac__cow_init(arrays[i], &urbac__cow_objs);
  for (size_t k = 0; m && k < 3; k++)
    urbac__cow_init(&m->refs_in[k], &urbac__cow_u32);
  static uint64_t serials;
  if (m)
    m->serial = __atomic_add_fetch(&serials, 1, __ATOMIC_RELAXED);
  return m;
}

urbac_err urbac__model_push(urbac__cow *arr, void *obj)
{
  if (urbac__cow_push(arr, &obj)) {
    urbac__obj_release(obj);
    return URBAC_ENOMEM;
  }
  return URBAC_OK;
}

urbac_err urbac__refs_add(urbac__refs *r, const char *name, size_t len, urbac__ref_kind kind, urbac__loc loc)
{
  if (r->n >= URBAC_MAX_OBJECTS)
    return URBAC_ELIMIT;
  if (URBAC_GROW(r->v, r->cap, r->n + 1))
    return URBAC_ENOMEM;
  char *s = urbac__strndup(name, len);
  if (!s)
    return URBAC_ENOMEM;
  r->v[r->n++] = (urbac__ref){s, loc, (uint8_t)kind, 0};
  return URBAC_OK;
}

urbac_err urbac__strs_add(urbac__strs *s, const char *v, size_t len)
{
  if (s->n >= URBAC_MAX_OBJECTS)
    return URBAC_ELIMIT;
  if (URBAC_GROW(s->v, s->cap, s->n + 1))
    return URBAC_ENOMEM;
  char *d = urbac__strndup(v, len);
  if (!d)
    return URBAC_ENOMEM;
  s->v[s->n++] = d;
  return URBAC_OK;
}

void urbac__refs_free(urbac__refs *r)
{
  for (size_t i = 0; i < r->n; i++)
    urbac__free(r->v[i].name);
  urbac__free(r->v);
  memset(r, 0, sizeof *r);
}

void urbac__strs_free(urbac__strs *s)
{
  for (size_t i = 0; i < s->n; i++)
    urbac__free(s->v[i]);
  urbac__free(s->v);
  memset(s, 0, sizeof *s);
}

static void devgroup_free(urbac__devgroup *g)
{
  urbac__free(g->id);
  urbac__free(g->name);
  for (size_t p = 0; p < URBAC__NPROPS; p++)
    for (size_t o = 0; o < URBAC__NOPS; o++)
      urbac__strs_free(&g->rules[p].values[o]);
  urbac__refs_free(&g->access);
}

void urbac__role_contents_free(urbac__role *r)
{
  for (size_t i = 0; i < r->nperms; i++)
    urbac__free(r->perms[i].wildcard);
  urbac__free(r->perms);
  for (size_t i = 0; i < r->nasg; i++) {
    urbac__free(r->asg[i].name);
    urbac__refs_free(&r->asg[i].principals);
    urbac__refs_free(&r->asg[i].dgs);
  }
  urbac__free(r->asg);
  r->perms = NULL;
  r->asg = NULL;
  r->nperms = r->cap_perms = r->nasg = r->cap_asg = 0;
}

static void role_free(urbac__role *r)
{
  urbac__free(r->imported_name);
  urbac__free(r->name);
  urbac__free(r->description);
  urbac__role_contents_free(r);
}

static void device_free(urbac__device *d)
{
  urbac__free(d->id);
  urbac__free(d->name);
  urbac__free(d->domain);
  urbac__free(d->os);
  urbac__strs_free(&d->tags);
}

void urbac__obj_release(void *obj)
{
  urbac__obj *o = obj;
  if (!o || __atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL) != 0)
    return;
  switch ((urbac__obj_kind)o->kind) {
  case URBAC__OBJ_USER:
    urbac__free(((urbac__user *)obj)->id);
    urbac__free(((urbac__user *)obj)->name);
    urbac__ident_free(&((urbac__user *)obj)->ident);
    break;
  case URBAC__OBJ_GROUP:
    urbac__free(((urbac__group *)obj)->id);
    urbac__free(((urbac__group *)obj)->name);
    urbac__ident_free(&((urbac__group *)obj)->ident);
    urbac__refs_free(&((urbac__group *)obj)->members);
    break;
  case URBAC__OBJ_DG:
    devgroup_free(obj);
    break;
  case URBAC__OBJ_DEVICE:
    device_free(obj);
    break;
  case URBAC__OBJ_ROLE:
    role_free(obj);
    break;
  case URBAC__OBJ_MDE_ROLE:
    urbac__free(((urbac__mde_role *)obj)->name);
    urbac__free(((urbac__mde_role *)obj)->description);
    urbac__refs_free(&((urbac__mde_role *)obj)->groups);
    break;
  case URBAC__OBJ_LEGACY_MEMBERS:
  case URBAC__NOBJ:
    urbac__refs_free(&((urbac__legacy_members *)obj)->members);
    break;
  }
  urbac__free(obj);
}

void urbac_model_free(urbac_model *m)
{
  if (!m)
    return;
  urbac__cow_free(&m->users);
  urbac__cow_free(&m->groups);
  urbac__cow_free(&m->dgs);
  urbac__cow_free(&m->devices);
  urbac__cow_free(&m->roles);
  urbac__cow_free(&m->mde_roles);
  urbac__cow_free(&m->eop);
  urbac__cow_free(&m->mdi);
  urbac__smap_free(&m->user_map);
  urbac__smap_free(&m->group_map);
  urbac__smap_free(&m->dg_map);
  urbac__smap_free(&m->device_map);
  urbac__smap_free(&m->user_xmap);
  urbac__free(m->pend);
  urbac__smap_free(&m->group_xmap);
  for (size_t k = 0; k < 3; k++)
    urbac__cow_free(&m->refs_in[k]);
  for (size_t i = 0; i < m->nchanges; i++) {
    urbac__obj_release(m->changes[i].before);
    urbac__obj_release(m->changes[i].after);
  }
  urbac__free(m->changes);
  urbac__free(m->tenant);
  urbac__free(m->source);
  urbac__free(m);
}

const char *urbac_model_tenant(const urbac_model *m) { return m->tenant; }

urbac_mode urbac_model_mode(const urbac_model *m, size_t w)
{
  return w < URBAC__NWORKLOADS ? (urbac_mode)m->modes[w] : URBAC_MODE_LEGACY;
}

size_t urbac_model_count(const urbac_model *m, urbac_object_kind kind)
{
  switch (kind) {
  case URBAC_OBJ_USER:
    return m->users.n;
  case URBAC_OBJ_GROUP:
    return m->groups.n;
  case URBAC_OBJ_DEVICE:
    return m->devices.n;
  case URBAC_OBJ_DEVICE_GROUP:
    return m->dgs.n;
  case URBAC_OBJ_ROLE:
    return m->roles.n;
  }
  return 0;
}

const char *urbac_model_id(const urbac_model *m, urbac_object_kind kind, size_t i)
{
  if (i >= urbac_model_count(m, kind))
    return NULL;
  const char *id = NULL;
  switch (kind) {
  case URBAC_OBJ_USER:
    id = urbac__user_at(m, i) ? urbac__user_at(m, i)->id : NULL;
    break;
  case URBAC_OBJ_GROUP:
    id = urbac__group_at(m, i) ? urbac__group_at(m, i)->id : NULL;
    break;
  case URBAC_OBJ_DEVICE:
    id = urbac__device_at(m, i) ? urbac__device_at(m, i)->id : NULL;
    break;
  case URBAC_OBJ_DEVICE_GROUP:
    id = urbac__dg_at(m, i) ? urbac__dg_at(m, i)->id : NULL;
    break;
  case URBAC_OBJ_ROLE:
    id = urbac__role_at(m, i) ? urbac__role_at(m, i)->name : NULL;
    break;
  }
  return id ? id : ""; /* a deleted object's slot */
}

/* ---------------------------------------------------------------- device rules */

static bool op_matches(unsigned op, const char *value, const char *pattern)
{
  size_t lv = strlen(value), lp = strlen(pattern);
  switch (op) {
  case URBAC__OP_EQUALS:
    return strcasecmp(value, pattern) == 0;
  case URBAC__OP_STARTS:
    return lv >= lp && strncasecmp(value, pattern, lp) == 0;
  case URBAC__OP_ENDS:
    return lv >= lp && strncasecmp(value + lv - lp, pattern, lp) == 0;
  case URBAC__OP_CONTAINS:
    for (size_t i = 0; i + lp <= lv; i++)
      if (strncasecmp(value + i, pattern, lp) == 0)
        return true;
    return false;
  }
  return false;
}

static bool rule_matches_value(const urbac__rule *r, const char *value)
{
  if (!value)
    return false;
  for (unsigned op = 0; op < URBAC__NOPS; op++)
    for (size_t i = 0; i < r->values[op].n; i++)
      if (op_matches(op, value, r->values[op].v[i]))
        return true;
  return false;
}

bool urbac__dg_matches(const urbac__devgroup *dg, const urbac__device *dev)
{
  bool any_rule = false;
  for (unsigned p = 0; p < URBAC__NPROPS; p++) {
    const urbac__rule *r = &dg->rules[p];
    if (!r->present)
      continue;
    any_rule = true;
    bool ok = false;
    if (p == URBAC__PROP_TAGS) {
      for (size_t t = 0; t < dev->tags.n && !ok; t++)
        ok = rule_matches_value(r, dev->tags.v[t]);
    } else {
      const char *v = p == URBAC__PROP_NAME     ? (dev->name ? dev->name : dev->id)
                      : p == URBAC__PROP_DOMAIN ? dev->domain
                                                : dev->os;
      ok = rule_matches_value(r, v);
    }
    if (!ok)
      return false;
  }
  return any_rule;
}
