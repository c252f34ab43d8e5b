/*
 * server/scim_index.c - the SCIM endpoint's lookups for one tenant (scim.h):
 * the keys Microsoft Entra ID filters on (userName, externalId, displayName)
 * and the SCIM id of each user, so that a query or a create answers from a
 * hash lookup and one point read of the store, never a scan of the tenant.
 *
 * Jansson objects serve as the hash tables (O(1) get/set/del). The index is made
 * from the store's users and groups the first time the tenant's SCIM endpoint is
 * used, then follows the store's change feed from the revision it was made at:
 * each user or group change replaces what the index knew of that object. When the
 * feed cannot answer (URBAC_EBEHIND: too far behind, a pruned log) it is made
 * again. The writer drops it when a batch fails to commit (srv_scim_forget), so
 * it never names what the store does not hold.
 *
 * Depends on: the public API (store reads and the change feed), jansson, scim.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "server/scim.h"

struct scim_index {
  uint64_t revision;
  json_t *users;      /* id -> [scim id, external key or null] */
  json_t *user_scim;  /* scim id -> id */
  json_t *user_lower; /* lowercased id -> id */
  json_t *user_ext;   /* external key -> id */
  json_t *groups;     /* id -> [lowercased name, external key or null] */
  json_t *group_name; /* lowercased name -> [ids] */
  json_t *group_ext;  /* external key -> id */
};

/* ASCII lowercase of `s` into `buf` (cut to its size). */
static const char *lower(const char *s, char *buf, size_t size)
{
  size_t i = 0;
  for (; s[i] && i + 1 < size; i++)
    buf[i] = (char)tolower((unsigned char)s[i]);
  buf[i] = '\0';
  return buf;
}

/* An externalId as a key: a GUID compares in any case, anything else exactly. */
static const char *ext_key(const char *ext, char *buf, size_t size)
{
  if (!ext)
    return NULL;
  return scim_is_guid(ext) ? lower(ext, buf, size) : ext;
}

void scim_index_free(scim_index *x)
{
  if (!x)
    return;
  json_decref(x->users);
  json_decref(x->user_scim);
  json_decref(x->user_lower);
  json_decref(x->user_ext);
  json_decref(x->groups);
  json_decref(x->group_name);
  json_decref(x->group_ext);
  free(x);
}

void srv_scim_forget(srv_tenant *t)
{
  scim_index_free(t->scim);
  t->scim = NULL;
}

/* ---------------------------------------------------------------- keeping it */

/* Deletes map[key] when it is `id`. */
static void del_if(json_t *map, const char *key, const char *id)
{
  const char *v = key ? json_string_value(json_object_get(map, key)) : NULL;
  if (v && strcmp(v, id) == 0)
    json_object_del(map, key);
}

static void user_drop(scim_index *x, const char *id)
{
  json_t *known = json_object_get(x->users, id);
  char buf[512];
  if (!known)
    return;
  /* each only while it still names this user: a rename adds the new user first */
  del_if(x->user_scim, json_string_value(json_array_get(known, 0)), id);
  del_if(x->user_ext, json_string_value(json_array_get(known, 1)), id);
  del_if(x->user_lower, lower(id, buf, sizeof buf), id);
  json_object_del(x->users, id);
}

static void user_add(scim_index *x, const char *id, json_t *obj)
{
  char buf[512], ebuf[300];
  const char *scim_id = json_string_value(json_object_get(json_object_get(obj, "scim"), "id"));
  const char *ext = ext_key(json_string_value(json_object_get(obj, "externalId")), ebuf, sizeof ebuf);
  if (!scim_id)
    scim_id = id;
  json_object_set_new(x->users, id, json_pack("[s,s*]", scim_id, ext));
  json_object_set_new(x->user_scim, scim_id, json_string(id));
  json_object_set_new(x->user_lower, lower(id, buf, sizeof buf), json_string(id));
  if (ext)
    json_object_set_new(x->user_ext, ext, json_string(id));
}

static void group_drop(scim_index *x, const char *id)
{
  json_t *known = json_object_get(x->groups, id);
  if (!known)
    return;
  const char *name = json_string_value(json_array_get(known, 0)),
             *ext = json_string_value(json_array_get(known, 1));
  json_t *ids = json_object_get(x->group_name, name), *v;
  size_t i;
  json_array_foreach(ids, i, v) if (strcmp(json_string_value(v), id) == 0)
  {
    json_array_remove(ids, i);
    break;
  }
  if (ids && !json_array_size(ids))
    json_object_del(x->group_name, name);
  del_if(x->group_ext, ext, id);
  json_object_del(x->groups, id);
}

static void group_add(scim_index *x, const char *id, json_t *obj)
{
  char buf[512], ebuf[300];
  const char *name = json_string_value(json_object_get(obj, "name"));
  const char *ext = ext_key(json_string_value(json_object_get(obj, "externalId")), ebuf, sizeof ebuf);
  lower(name ? name : id, buf, sizeof buf);
  json_object_set_new(x->groups, id, json_pack("[s,s*]", buf, ext));
  json_t *ids = json_object_get(x->group_name, buf);
  if (!ids)
    json_object_set_new(x->group_name, buf, ids = json_array());
  json_array_append_new(ids, json_string(id));
  if (ext)
    json_object_set_new(x->group_ext, ext, json_string(id));
}

/* Object (kind, id) as the store has it now (obj NULL: deleted). */
static void apply(scim_index *x, const char *kind, const char *id, json_t *obj)
{
  if (strcmp(kind, "user") == 0) {
    user_drop(x, id);
    if (obj)
      user_add(x, id, obj);
  } else if (strcmp(kind, "group") == 0) {
    group_drop(x, id);
    if (obj)
      group_add(x, id, obj);
  }
}

/* One change of the feed (json NULL: deleted). */
static int follow(void *ctx, uint64_t revision, const char *kind, const char *id, const char *json)
{
  (void)revision;
  scim_index *x = ctx;
  if (strcmp(kind, "user") != 0 && strcmp(kind, "group") != 0)
    return 0;
  json_t *obj = json ? json_loads(json, 0, NULL) : NULL;
  apply(x, kind, id, obj);
  json_decref(obj);
  return json && !obj; /* a row that is not JSON: stop, and make the index again */
}

static int listed(void *ctx, const char *kind, const char *id, const char *json)
{
  return follow(ctx, 0, kind, id, json);
}

static scim_index *index_new(void)
{
  scim_index *x = calloc(1, sizeof *x);
  if (!x)
    return NULL;
  x->users = json_object();
  x->user_scim = json_object();
  x->user_lower = json_object();
  x->user_ext = json_object();
  x->groups = json_object();
  x->group_name = json_object();
  x->group_ext = json_object();
  if (!x->users || !x->user_scim || !x->user_lower || !x->user_ext || !x->groups || !x->group_name ||
      !x->group_ext) {
    scim_index_free(x);
    return NULL;
  }
  return x;
}

/* The whole index, from the store's users and groups. */
static urbac_err index_make(srv_tenant *t, scim_index **out, urbac_diag *d)
{
  scim_index *x = index_new();
  urbac_err err = x ? urbac_store_revision(t->store, t->id, &x->revision, d) : URBAC_ENOMEM;
  if (!err)
    err = urbac_store_list(t->store, t->id, "user", listed, x, d);
  if (!err)
    err = urbac_store_list(t->store, t->id, "group", listed, x, d);
  if (err) {
    scim_index_free(x);
    x = NULL;
  }
  *out = x;
  return err;
}

urbac_err scim_index_sync(srv_tenant *t, urbac_diag *d)
{
  urbac_err err = URBAC_OK;
  uint64_t now = 0;
  if (t->scim && !(err = urbac_store_revision(t->store, t->id, &now, d)) && now == t->scim->revision)
    return URBAC_OK;
  if (t->scim && !err && now > t->scim->revision)
    err = urbac_store_changes(t->store, t->id, t->scim->revision, follow, t->scim, &t->scim->revision, d);
  if (t->scim && (err == URBAC_EBEHIND || err == URBAC_EREFUSED || now < t->scim->revision)) {
    urbac_diag_clear(d);
    srv_scim_forget(t);
    err = URBAC_OK;
  }
  if (!t->scim && !err)
    err = index_make(t, &t->scim, d);
  return err;
}

bool scim_index_wrote(srv_tenant *t, const char *kind, const char *id, json_t *obj, uint64_t revision)
{
  scim_index *x = t->scim;
  if (!x || (revision != x->revision && revision != x->revision + 1))
    return false;
  if (revision == x->revision + 1) /* the store's one change since the index's revision: this put */
    apply(x, kind, id, obj);
  x->revision = revision;
  return true;
}

/* ---------------------------------------------------------------- lookups */

const char *scim_index_user(const scim_index *x, const char *scim_id)
{
  return json_string_value(json_object_get(x->user_scim, scim_id));
}

const char *scim_index_user_name(const scim_index *x, const char *user_name)
{
  char buf[512];
  return json_string_value(json_object_get(x->user_lower, lower(user_name, buf, sizeof buf)));
}

const char *scim_index_user_ext(const scim_index *x, const char *external_id)
{
  char buf[300];
  return json_string_value(json_object_get(x->user_ext, ext_key(external_id, buf, sizeof buf)));
}

const char *scim_index_scim_id(const scim_index *x, const char *id)
{
  return json_string_value(json_array_get(json_object_get(x->users, id), 0));
}

bool scim_index_group(const scim_index *x, const char *id) { return json_object_get(x->groups, id) != NULL; }

const char *scim_index_group_ext(const scim_index *x, const char *external_id)
{
  char buf[300];
  return json_string_value(json_object_get(x->group_ext, ext_key(external_id, buf, sizeof buf)));
}

json_t *scim_index_group_name(const scim_index *x, const char *name)
{
  char buf[512];
  return json_object_get(x->group_name, lower(name, buf, sizeof buf));
}

size_t scim_index_count(const scim_index *x, bool groups)
{
  return json_object_size(groups ? x->groups : x->users);
}
