/*
 * store/rename.c - renaming a user or group, and deleting one with every name
 * given to it (urbac_store_rename(), urbac_store_delete_cascade()): what the SCIM
 * endpoint does when Entra ID changes a userName or deletes a user.
 *
 * Both are one write of several puts (urbac__store_put_built(): one transaction,
 * the incremental path's validation, one audit record per changed object). The
 * objects to change are found through the reference index (store/refs.c): the
 * rows naming the object by its id (and, for a delete, by its externalId), so the
 * cost is that of the referrers, not of the tenant. Each referrer's stored body is
 * rewritten where a list names the object: a group's members, a device group's
 * userAccess, an assignment's principals, a legacy role's groups or members. A
 * rename keeps names given by externalId (the externalId stays); a delete removes
 * them too.
 *
 * Depends on: util, model, io/objects.c, store, store/refs.c, store/write.c, jansson.
 */
#include <jansson.h>
#include <stdio.h>
#include <strings.h>

#include "store/refs.h"

/* What one rename or delete changes. */
typedef struct recast {
  const char *kind, *old_id, *new_id; /* new_id NULL: a delete */
  char *xid;                          /* the object's externalId (a delete removes names by it too) */
  urbac_object_put *puts;
  char **bodies;
  size_t n, cap, cap_bodies;
  urbac__strs seen; /* "kind\nid" of the referrers met */
} recast;

static void recast_free(recast *r)
{
  for (size_t i = 0; i < r->n; i++)
    free(r->bodies[i]);
  urbac__free(r->bodies);
  urbac__free(r->puts);
  urbac__free(r->xid);
  urbac__strs_free(&r->seen);
}

/* Adds a put (its body taken: freed with the recast). */
static urbac_err add_put(recast *r, const char *kind, const char *id, char *body)
{
  if (URBAC_GROW(r->puts, r->cap, r->n + 1) || URBAC_GROW(r->bodies, r->cap_bodies, r->n + 1)) {
    free(body);
    return URBAC_ENOMEM;
  }
  r->bodies[r->n] = body;
  r->puts[r->n++] = (urbac_object_put){kind, id, body};
  return URBAC_OK;
}

/* Does `name` (as a list writes it, its prefix gone) name the object? */
static bool names_it(const recast *r, const char *name)
{
  if (strcmp(name, r->old_id) == 0)
    return true;
  if (r->new_id || !r->xid) /* a rename keeps the names given by externalId */
    return false;
  return urbac__is_guid(name, strlen(name)) ? strcasecmp(name, r->xid) == 0 : strcmp(name, r->xid) == 0;
}

/* Rewrites (or, for a delete, drops) the entries of `list` that name the object:
 * `groups_only` lists name groups unprefixed (userAccess, a legacy role's groups);
 * the others name users bare or as user:ID, groups as group:ID. */
static bool rewrite_list(const recast *r, json_t *list, bool groups_only)
{
  bool group = strcmp(r->kind, "group") == 0, changed = false;
  for (size_t i = json_array_size(list); i-- > 0;) {
    const char *s = json_string_value(json_array_get(list, i));
    if (!s)
      continue;
    size_t skip = strncmp(s, "group:", 6) == 0 ? 6 : !groups_only && strncmp(s, "user:", 5) == 0 ? 5 : 0;
    bool is_group = groups_only || skip == 6;
    if (is_group != group || !names_it(r, s + skip))
      continue;
    changed = true;
    if (!r->new_id) {
      json_array_remove(list, i);
      continue;
    }
    char buf[URBAC_MAX_NAME_BYTES + 16];
    snprintf(buf, sizeof buf, "%.*s%s", (int)skip, s, r->new_id);
    json_array_set_new(list, i, json_string(buf));
  }
  return changed;
}

/* The referrer's body with its names of the object rewritten; NULL when it names
 * it nowhere (the index and the row disagree: left to the write's validation). */
static char *rewrite(const recast *r, const char *kind, const char *body)
{
  json_t *o = json_loads(body, 0, NULL);
  bool changed = false;
  if (strcmp(kind, "group") == 0 || strcmp(kind, "legacy.mdo.roleGroup") == 0 ||
      strcmp(kind, "legacy.mdi.role") == 0)
    changed = rewrite_list(r, json_object_get(o, "members"), false);
  else if (strcmp(kind, "deviceGroup") == 0)
    changed = rewrite_list(r, json_object_get(o, "userAccess"), true);
  else if (strcmp(kind, "legacy.mde.role") == 0)
    changed = rewrite_list(r, json_object_get(o, "groups"), true);
  else if (strcmp(kind, "role") == 0)
    for (size_t a = 0; a < json_array_size(json_object_get(o, "assignments")); a++)
      changed =
          rewrite_list(r, json_object_get(json_array_get(json_object_get(o, "assignments"), a), "principals"),
                       false) ||
          changed;
  char *text = changed ? json_dumps(o, JSON_COMPACT) : NULL;
  json_decref(o);
  return text;
}

/* Every object naming `name` (of r->kind): its body rewritten, as a put. */
static urbac_err referrers(urbac_store *s, const char *tenant, recast *r, const char *name, urbac_diag *d)
{
  urbac__strs from = {0};
  urbac_err err = s->ops->refs_to(s->db, tenant, r->kind, name, URBAC_MAX_OBJECTS, &from, d);
  for (size_t i = 0; !err && i + 1 < from.n; i += 2) {
    char key[1200], *body = NULL;
    int64_t position;
    const char *kind = urbac__object_kind(from.v[i]);
    snprintf(key, sizeof key, "%s\n%s", from.v[i], from.v[i + 1]);
    bool met = false;
    for (size_t k = 0; k < r->seen.n && !met; k++)
      met = strcmp(r->seen.v[k], key) == 0;
    if (met || !kind)
      continue;
    if ((err = urbac__strs_add(&r->seen, key, strlen(key))) ||
        (err = s->ops->object_get(s->db, tenant, kind, from.v[i + 1], &body, &position, d)) || !body)
      continue;
    char *now = rewrite(r, kind, body);
    urbac__free(body);
    if (now) {
      size_t at = r->seen.n - 1; /* the id is kept in `seen`, after the kind and a newline */
      err = add_put(r, kind, strchr(r->seen.v[at], '\n') + 1, now);
    }
  }
  urbac__strs_free(&from);
  return err;
}

/* The puts of a rename or delete, read inside the write transaction. */
static urbac_err build(urbac_store *s, const char *tenant, void *ctx, const urbac_object_put **puts,
                       size_t *n, urbac_diag *d)
{
  recast *r = ctx;
  char *body = NULL, *taken = NULL;
  int64_t position;
  urbac_err err = s->ops->object_get(s->db, tenant, r->kind, r->old_id, &body, &position, d);
  if (!err && !body)
    err = urbac__diag_add(d, URBAC_ENOTFOUND, NULL, 0, 0, r->old_id, "tenant '%s' has no %s '%s'", tenant,
                          r->kind, r->old_id);
  if (!err && r->new_id &&
      !(err = s->ops->object_get(s->db, tenant, r->kind, r->new_id, &taken, &position, d)) && taken)
    err = urbac__diag_add(d, URBAC_EDUPLICATE, NULL, 0, 0, r->new_id, "tenant '%s' has a %s '%s' already",
                          tenant, r->kind, r->new_id);
  json_t *o = !err ? json_loads(body, 0, NULL) : NULL;
  const char *xid = json_string_value(json_object_get(o, "externalId"));
  if (!err && xid && !(r->xid = urbac__strdup(xid)))
    err = URBAC_ENOMEM;
  if (!err)
    err = add_put(r, r->kind, r->old_id, NULL);
  if (!err && r->new_id) { /* the object under its new id, all else as it was */
    json_object_set_new(o, "id", json_string(r->new_id));
    char *now = json_dumps(o, JSON_COMPACT);
    err = now ? add_put(r, r->kind, r->new_id, now) : URBAC_ENOMEM;
  }
  if (!err)
    err = referrers(s, tenant, r, r->old_id, d);
  if (!err && !r->new_id &&
      r->xid) { /* a delete: the names by externalId go too, as written and as its key */
    char *key = urbac__xid_key(r->xid);
    err = key ? referrers(s, tenant, r, r->xid, d) : URBAC_ENOMEM;
    if (!err && strcmp(key, r->xid) != 0)
      err = referrers(s, tenant, r, key, d);
    urbac__free(key);
  }
  json_decref(o);
  urbac__free(body);
  urbac__free(taken);
  *puts = r->puts;
  *n = r->n;
  return err;
}

static urbac_err recast_write(urbac_store *s, const char *tenant, recast *r, const urbac_write *w,
                              uint64_t *revision, urbac_diag *d)
{
  urbac_err err = URBAC_OK;
  if (!r->kind || (strcmp(r->kind, "user") != 0 && strcmp(r->kind, "group") != 0))
    err = urbac__diag_add(d, URBAC_EINVAL, NULL, 0, 0, NULL, "only a user or a group can be %s",
                          r->new_id ? "renamed" : "deleted with its names");
  else if (!r->old_id || !*r->old_id || (r->new_id && !*r->new_id))
    err = urbac__diag_add(d, URBAC_EINVAL, NULL, 0, 0, NULL, "a %s needs an id", r->kind);
  if (!err)
    err = urbac__store_put_built(s, tenant, build, r, w, revision, d);
  recast_free(r);
  return err;
}

urbac_err urbac_store_rename(urbac_store *s, const char *tenant, const char *kind, const char *old_id,
                             const char *new_id, const urbac_write *w, uint64_t *revision, urbac_diag *d)
{
  recast r = {.kind = kind, .old_id = old_id, .new_id = new_id};
  if (!new_id)
    return urbac__diag_add(d, URBAC_EINVAL, NULL, 0, 0, NULL, "a rename needs the new id");
  return recast_write(s, tenant, &r, w, revision, d);
}

urbac_err urbac_store_delete_cascade(urbac_store *s, const char *tenant, const char *kind, const char *id,
                                     const urbac_write *w, uint64_t *revision, urbac_diag *d)
{
  recast r = {.kind = kind, .old_id = id};
  return recast_write(s, tenant, &r, w, revision, d);
}
