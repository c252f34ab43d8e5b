/*
 * io/graph_export.c - the Graph requests that make a tenant's unified roles and
 * assignments in Defender (urbac export --format graph): one POST of
 * roleManagement/defender/roleDefinitions per role, then one POST of
 * roleAssignments per assignment, which names its role by the id of the request
 * that creates it ("{role-3}", replaced by the id Graph answered). Permissions
 * become Graph resource actions (wildcards as written); principals become object
 * ids (the user's or group's externalId, a group's id when it has none, a
 * pending principal's own object id); data
 * sources and device groups become appScopeIds. What has no object id, or a
 * scope Graph cannot say, is listed in the document rather than guessed.
 * `urbac import-graph` reads the document back (io/graph_import.c), so a round
 * trip through both changes nothing.
 *
 * Depends on: util, catalog, io/objects.c, jansson.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/catalog.h"
#include "io/graph.h"
#include "io/objects.h"
#include "urbac/graph.h"
#include "urbac/io.h"

typedef struct gx {
  json_t *oids;       /* "ID" / "group:ID" -> object id */
  json_t *requests;   /* the document's requests */
  json_t *unresolved; /* principals without an object id */
  json_t *notes;      /* what Graph cannot say */
  size_t roles;       /* roles written so far */
} gx;

/* A permission entry of the tenant as Graph's resource action: a wildcard as
 * written, a grant at its level (every level: the highest, which implies the others). */
static json_t *action(const char *entry)
{
  urbac_grant gr;
  char buf[512];
  if (strchr(entry, '*') || urbac_catalog_resolve(entry, strlen(entry), &gr, NULL) != URBAC_OK)
    return json_string(entry);
  if (gr.level == URBAC_LEVEL_ALL || gr.level == URBAC_LEVEL_NONE) {
    const urbac_perm_info *p = urbac_catalog_perm(gr.perm);
    gr.level = p && (p->levels & URBAC_LEVEL_MANAGE) ? URBAC_LEVEL_MANAGE : URBAC_LEVEL_READ;
  }
  return urbac_grant_action(gr, buf, sizeof buf) < sizeof buf ? json_string(buf) : json_string(entry);
}

static json_t *role_body(json_t *role)
{
  json_t *actions = json_array(), *v;
  size_t i;
  json_array_foreach(json_object_get(role, "permissions"), i, v)
      json_array_append_new(actions, action(json_string_value(v)));
  json_t *desc = json_object_get(role, "description");
  return json_pack("{s:O, s:o, s:[{s:o}]}", "displayName", json_object_get(role, "name"), "description",
                   desc ? json_incref(desc) : json_string(""), "rolePermissions", "allowedResourceActions",
                   actions);
}

/* appScopeIds of an assignment; "Mde" left out (and noted) when it is on no device group. */
static json_t *scopes(gx *x, const char *role, json_t *a)
{
  json_t *out = json_array(), *sources = json_object_get(a, "dataSources"),
         *dgs = json_object_get(a, "deviceGroups"), *v;
  size_t i;
  bool none = dgs && json_array_size(dgs) == 0;
  if (json_is_string(sources))
    json_array_append_new(out, json_string("/"));
  json_array_foreach(sources, i, v)
  {
    int w = urbac_catalog_workload_find(json_string_value(v));
    if (w == 0 && none)
      json_array_append_new(x->notes, json_pack("{s:s, s:O, s:s}", "role", role, "assignment",
                                                json_object_get(a, "name"), "note",
                                                "on no device group: Mde left out of appScopeIds"));
    else if (w >= 0)
      json_array_append_new(out, json_string(urbac_catalog_workload_app((size_t)w)));
  }
  json_array_foreach(dgs, i, v)
  {
    char buf[600];
    snprintf(buf, sizeof buf, "%s%s", URBAC__GRAPH_DEVICE_GROUPS, json_string_value(v));
    json_array_append_new(out, json_string(buf));
  }
  return out;
}

static json_t *principal_ids(gx *x, json_t *list)
{
  json_t *out = json_array(), *v;
  size_t i;
  json_array_foreach(list, i, v)
  {
    const char *name = json_string_value(v), *bare = strncmp(name, "group:", 6) == 0 ? name + 6 : name;
    json_t *oid = json_object_get(x->oids, name);
    if (oid) {
      json_array_append(out, oid);
    } else if (urbac__is_guid(bare, strlen(bare))) { /* pending: already the object id */
      json_array_append_new(out, json_string(bare));
    } else {
      json_array_append(out, v);
      json_array_append(x->unresolved, v);
    }
  }
  return out;
}

static void add_role(gx *x, json_t *role)
{
  char rid[32], aid[80];
  const char *name = json_string_value(json_object_get(role, "name"));
  json_t *a;
  size_t i;
  snprintf(rid, sizeof rid, "role-%zu", ++x->roles);
  json_array_append_new(x->requests, json_pack("{s:s, s:s, s:s, s:o}", "id", rid, "method", "POST", "url",
                                               URBAC__GRAPH_ROLES_URL, "body", role_body(role)));
  json_array_foreach(json_object_get(role, "assignments"), i, a)
  {
    char ref[40];
    snprintf(aid, sizeof aid, "%s-assignment-%zu", rid, i + 1);
    snprintf(ref, sizeof ref, "{%s}", rid);
    json_t *body =
        json_pack("{s:O, s:s, s:o, s:o}", "displayName", json_object_get(a, "name"), "roleDefinitionId", ref,
                  "principalIds", principal_ids(x, json_object_get(a, "principals")), "appScopeIds",
                  scopes(x, name, a));
    json_array_append_new(x->requests,
                          json_pack("{s:s, s:s, s:s, s:o, s:[s]}", "id", aid, "method", "POST", "url",
                                    URBAC__GRAPH_ASSIGNMENTS_URL, "body", body, "dependsOn", rid));
  }
}

/* Each user's and group's object id, by the name assignments give them. */
static void index_oids(gx *x, const urbac__object *o, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    bool group = strcmp(o[i].kind, "group") == 0;
    if (!group && strcmp(o[i].kind, "user") != 0)
      continue;
    json_t *body = json_loads(o[i].body, 0, NULL);
    const char *ext = json_string_value(json_object_get(body, "externalId"));
    char ref[2048];
    snprintf(ref, sizeof ref, "%s%s", group ? "group:" : "", o[i].id);
    if (ext || group)
      json_object_set_new(x->oids, ref, json_string(ext ? ext : o[i].id));
    json_decref(body);
  }
}

urbac_err urbac_graph_export(const urbac_model *m, char **out, size_t *len, urbac_diag *d)
{
  urbac__object *o = NULL;
  size_t n = 0;
  gx x = {json_object(), json_array(), json_array(), json_array(), 0};
  json_t *doc = NULL;
  urbac_err err = URBAC_ENOMEM;
  *out = NULL;
  if (!x.oids || !x.requests || !x.unresolved || !x.notes || (err = urbac__model_objects(m, &o, &n)))
    goto out;
  index_oids(&x, o, n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(o[i].kind, "role") == 0) {
      json_t *role = json_loads(o[i].body, 0, NULL);
      if (role)
        add_role(&x, role);
      json_decref(role);
    }
  doc = json_pack("{s:s, s:s, s:O, s:O, s:O}", "tenant", urbac_model_tenant(m), "baseUrl",
                  "https://graph.microsoft.com/beta", "requests", x.requests, "unresolved", x.unresolved,
                  "notes", x.notes);
  char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
  if (text && (*out = urbac__strdup(text))) {
    if (len)
      *len = strlen(*out);
    err = URBAC_OK;
  } else {
    err = URBAC_ENOMEM;
  }
  free(text);
out:
  if (err)
    urbac__diag_add(d, err, NULL, 0, 0, NULL, "out of memory");
  json_decref(doc);
  json_decref(x.oids);
  json_decref(x.requests);
  json_decref(x.unresolved);
  json_decref(x.notes);
  urbac__objects_free(o, n);
  return err;
}
