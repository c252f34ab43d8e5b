/*
 * model/ident.c - what an identity provider adds to users and groups: the
 * externalId (Entra ID's object id) that names a user or group as well as its id
 * does, and the GUID shape that lets a principal name an object not provisioned
 * yet (a pending reference, semantics.md "Names").
 *
 * An externalId is found through the model's user_xmap and group_xmap, keyed by
 * urbac__xid_key(): GUIDs compare without regard to case (Entra writes them in
 * lower case, Graph and PowerShell users sometimes do not), anything else exactly.
 * One lookup, urbac__user_find() / urbac__group_find(), serves every caller: the
 * validator resolving references, the snapshot's user lookup behind checks,
 * explain, effective permissions and who-can.
 *
 * Depends on: util, model/model.c, model/persist.c.
 */
#include <ctype.h>

#include "model/model.h"

bool urbac__is_guid(const char *s, size_t len)
{
  static const size_t dash[] = {8, 13, 18, 23};
  size_t k = 0;
  if (len != 36)
    return false;
  for (size_t i = 0; i < len; i++) {
    if (k < 4 && i == dash[k]) {
      if (s[i] != '-')
        return false;
      k++;
    } else if (!isxdigit((unsigned char)s[i])) {
      return false;
    }
  }
  return true;
}

char *urbac__xid_key(const char *xid)
{
  char *k = urbac__strdup(xid);
  if (k && urbac__is_guid(k, strlen(k)))
    for (char *p = k; *p; p++)
      *p = (char)tolower((unsigned char)*p);
  return k;
}

void urbac__ident_free(urbac__ident *id)
{
  urbac__free(id->xid);
  urbac__free(id->xkey);
  urbac__free(id->scim);
  memset(id, 0, sizeof *id);
}

/* By id, else by externalId: a GUID is folded to lower case first (36 bytes). */
static bool find(const urbac__smap *ids, const urbac__smap *xids, const char *name, size_t len, uint32_t *idx)
{
  char folded[36];
  if (urbac__smap_get(ids, name, len, idx))
    return true;
  if (urbac__is_guid(name, len)) {
    for (size_t i = 0; i < len; i++)
      folded[i] = (char)tolower((unsigned char)name[i]);
    name = folded;
  }
  return urbac__smap_get(xids, name, len, idx);
}

size_t urbac_model_identity_find(const urbac_model *m, urbac_object_kind kind, const char *name, size_t len,
                                 const char **external_id)
{
  uint32_t i;
  const urbac__ident *ident = NULL;
  if (kind == URBAC_OBJ_USER && name && urbac__user_find(m, name, len, &i))
    ident = &urbac__user_at(m, i)->ident;
  else if (kind == URBAC_OBJ_GROUP && name && urbac__group_find(m, name, len, &i))
    ident = &urbac__group_at(m, i)->ident;
  if (external_id)
    *external_id = ident ? ident->xid : NULL;
  return ident ? i : SIZE_MAX;
}

bool urbac_guid_shaped(const char *s, size_t len) { return s && urbac__is_guid(s, len); }

typedef struct pending_walk {
  urbac_pending_cb cb;
  void *ctx;
  int stop;
} pending_walk;

static void pending_refs(void *ctx, urbac__refs *r, const char *what)
{
  pending_walk *w = ctx;
  for (size_t i = 0; i < r->n && !w->stop; i++)
    if (r->v[i].idx == URBAC__PENDING)
      w->stop = w->cb(w->ctx, what, r->v[i].name, r->v[i].kind == URBAC__REF_GROUP);
}

int urbac_model_pending(const urbac_model *m, urbac_pending_cb cb, void *ctx)
{
  pending_walk w = {cb, ctx, 0};
  for (size_t p = 0; p < m->npend && !w.stop; p++) {
    urbac__cow *arr = urbac__ref_array((urbac_model *)(uintptr_t)m, (urbac__ref_arr)m->pend[p].arr);
    urbac__obj *o = m->pend[p].idx < arr->n ? URBAC__AT(*arr, m->pend[p].idx) : NULL;
    if (o)
      urbac__obj_visit_refs(o, pending_refs, &w);
  }
  return w.stop;
}

bool urbac__user_find(const urbac_model *m, const char *name, size_t len, uint32_t *idx)
{
  return find(&m->user_map, &m->user_xmap, name, len, idx);
}

bool urbac__group_find(const urbac_model *m, const char *name, size_t len, uint32_t *idx)
{
  return find(&m->group_map, &m->group_xmap, name, len, idx);
}
