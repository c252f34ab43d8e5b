/*
 * model/view.c - read-only views of a model's unified roles for the faces (the
 * CLI's export, later the server), so they never see the model's internals.
 *
 * Depends on: util, catalog, model/model.h.
 */
#include <stdio.h>

#include "model/model.h"

bool urbac_model_role(const urbac_model *m, size_t i, urbac_role_info *out)
{
  const urbac__role *r = i < m->roles.n ? urbac__role_at(m, i) : NULL;
  if (!r)
    return false;
  bool imp = r->imported_wl != URBAC__NOT_IMPORTED;
  *out = (urbac_role_info){r->name,
                           r->description ? r->description : "",
                           r->nperms,
                           r->nasg,
                           imp ? urbac_catalog_workload_id(r->imported_wl) : NULL,
                           imp ? r->imported_name : NULL};
  return true;
}

size_t urbac_model_role_permission(const urbac_model *m, size_t r, size_t p, char *buf, size_t size)
{
  const urbac__role *role = r < m->roles.n ? urbac__role_at(m, r) : NULL;
  if (!role || p >= role->nperms || !size)
    return 0;
  const urbac__perm_entry *e = &role->perms[p];
  if (e->wildcard) {
    snprintf(buf, size, "%s", e->wildcard);
    return strlen(buf);
  }
  urbac_grant g = e->grant;
  unsigned levels = urbac_catalog_perm(g.perm)->levels;
  if (g.level == URBAC_LEVEL_ALL && levels != (URBAC_LEVEL_READ | URBAC_LEVEL_MANAGE))
    g.level = (uint8_t)levels; /* a permission with one level: name it */
  return urbac_grant_format(g, buf, size);
}

static const urbac__assignment *asg(const urbac_model *m, size_t r, size_t a)
{
  const urbac__role *role = r < m->roles.n ? urbac__role_at(m, r) : NULL;
  return role && a < role->nasg ? &role->asg[a] : NULL;
}

bool urbac_model_assignment(const urbac_model *m, size_t r, size_t a, urbac_assignment_info *out)
{
  const urbac__assignment *x = asg(m, r, a);
  if (!x)
    return false;
  *out =
      (urbac_assignment_info){x->name, x->principals.n, x->all_sources, x->workloads, x->all_dgs, x->dgs.n};
  return true;
}

const char *urbac_model_assignment_principal(const urbac_model *m, size_t r, size_t a, size_t i,
                                             bool *is_group)
{
  const urbac__assignment *x = asg(m, r, a);
  if (!x || i >= x->principals.n)
    return NULL;
  if (is_group)
    *is_group = x->principals.v[i].kind == URBAC__REF_GROUP;
  return x->principals.v[i].name;
}

const char *urbac_model_assignment_device_group(const urbac_model *m, size_t r, size_t a, size_t i)
{
  const urbac__assignment *x = asg(m, r, a);
  return x && i < x->dgs.n ? x->dgs.v[i].name : NULL;
}
