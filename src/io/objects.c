/*
 * io/objects.c - a tenant as objects and back.
 *
 * A store keeps a tenant as one row per object (a user, a group, a role, ...)
 * with a canonical JSON body, so that a change touches only the rows that
 * changed, plan can say what is created, changed and deleted, and the audit log
 * can keep each object's before and after. The bodies are exactly what the
 * tenant file's JSON form writes for the object (io/save.c builds both), and a
 * model is rebuilt from them through the tenant-file loader, so everything read
 * from a store is validated like a file.
 *
 * Depends on: util, catalog, model, io/tree.c, io/save.c, io/load.c.
 */
#include <jansson.h>
#include <stdlib.h>

#include "io/objects.h"
#include "io/tree.h"
#include "urbac/io.h"

/* The sections of a tenant file that hold objects, in file order. */
static const struct section {
  const char *path[2]; /* key, or legacy key then list key */
  const char *kind;
  const char *id_key;
} sections[] = {
    {{"users", NULL}, "user", "id"},
    {{"groups", NULL}, "group", "id"},
    {{"deviceGroups", NULL}, "deviceGroup", "id"},
    {{"devices", NULL}, "device", "id"},
    {{"roles", NULL}, "role", "name"},
    {{"mde", "roles"}, "legacy.mde.role", "name"},
    {{"mdo", "roleGroups"}, "legacy.mdo.roleGroup", "name"},
    {{"mdi", "roles"}, "legacy.mdi.role", "name"},
};
#define NSECTIONS (sizeof sections / sizeof sections[0])

static const urbac__node *get(const urbac__node *map, const char *key)
{
  for (size_t i = 0; map && map->type == URBAC__NODE_MAP && i + 1 < map->n; i += 2)
    if (strcmp(map->kids[i]->str, key) == 0)
      return map->kids[i + 1];
  return NULL;
}

void urbac__objects_free(urbac__object *o, size_t n)
{
  for (size_t i = 0; o && i < n; i++) {
    urbac__free(o[i].id);
    urbac__free(o[i].body);
  }
  urbac__free(o);
}

static urbac_err add(urbac__object **o, size_t *n, size_t *cap, const char *kind, const char *id,
                     const urbac__node *body)
{
  if (URBAC_GROW(*o, *cap, *n + 1))
    return URBAC_ENOMEM;
  urbac__object *x = &(*o)[*n];
  x->kind = kind;
  x->body = NULL;
  x->position = (int64_t)*n;
  if (!(x->id = urbac__strdup(id)) || urbac__node_emit_json_compact(body, &x->body)) {
    urbac__free(x->id);
    return URBAC_ENOMEM;
  }
  (*n)++;
  return URBAC_OK;
}

urbac_err urbac__model_objects(const urbac_model *m, urbac__object **out, size_t *n)
{
  urbac__node *root = NULL;
  size_t cap = 0;
  *out = NULL;
  *n = 0;
  urbac_err err = urbac__tenant_tree(m, &root);
  const urbac__node *wl = err ? NULL : get(root, "workloads"), *legacy = err ? NULL : get(root, "legacy");
  const urbac__node *catalog = err ? NULL : get(root, "catalog");
  if (catalog)
    err = add(out, n, &cap, "catalog", "catalog", catalog);
  if (wl && !err)
    err = add(out, n, &cap, "workloads", "workloads", wl);
  for (size_t s = 0; s < NSECTIONS && !err; s++) {
    const urbac__node *list = sections[s].path[1] ? get(get(legacy, sections[s].path[0]), sections[s].path[1])
                                                  : get(root, sections[s].path[0]);
    for (size_t i = 0; list && i < list->n && !err; i++) {
      const urbac__node *id = get(list->kids[i], sections[s].id_key);
      err = add(out, n, &cap, sections[s].kind, id ? id->str : "", list->kids[i]);
    }
  }
  urbac__node_free(root);
  if (err) {
    urbac__objects_free(*out, *n);
    *out = NULL;
    *n = 0;
  }
  return err;
}

/* Appends the bodies of every object of `kind`, as a JSON list, after `key`. */
static void list(urbac__buf *b, const char *key, const char *kind, const urbac__object *o, size_t n)
{
  bool first = true;
  urbac__buf_printf(b, "\"%s\": [", key);
  for (size_t i = 0; i < n; i++) {
    if (strcmp(o[i].kind, kind) != 0)
      continue;
    urbac__buf_puts(b, first ? "" : ", ");
    urbac__buf_puts(b, o[i].body);
    first = false;
  }
  urbac__buf_puts(b, "]");
}

/* The tenant file made of objects, loaded (validated when `validate`). */
static urbac_err from_objects(const char *tenant, const urbac__object *o, size_t n, const char *name,
                              bool validate, urbac_model **out, urbac_diag *d)
{
  urbac__buf b = {0};
  json_t *t = json_string(tenant);
  char *tj = t ? json_dumps(t, JSON_ENCODE_ANY) : NULL;
  json_decref(t);
  *out = NULL;
  if (!tj)
    return URBAC_ENOMEM;
  urbac__buf_printf(&b, "{\"urbac\": 1, \"tenant\": %s", tj);
  free(tj);
  for (size_t i = 0; i < n; i++)
    if (strcmp(o[i].kind, "catalog") == 0 || strcmp(o[i].kind, "workloads") == 0)
      urbac__buf_printf(&b, ", \"%s\": %s", o[i].kind, o[i].body);
  for (size_t s = 0; s < 5; s++) {
    urbac__buf_puts(&b, ", ");
    list(&b, sections[s].path[0], sections[s].kind, o, n);
  }
  urbac__buf_puts(&b, ", \"legacy\": {");
  for (size_t s = 5; s < NSECTIONS; s++) {
    urbac__buf_printf(&b, "%s\"%s\": {", s > 5 ? ", " : "", sections[s].path[0]);
    list(&b, sections[s].path[1], sections[s].kind, o, n);
    urbac__buf_puts(&b, "}");
  }
  urbac__buf_puts(&b, "}}");
  if (b.failed) {
    urbac__buf_free(&b);
    return URBAC_ENOMEM;
  }
  /* positions inside the assembled buffer mean nothing to anyone: report each
   * problem against the source name, with its field path, and no line:column */
  urbac_diag *local = urbac_diag_new();
  urbac_err err = !local     ? URBAC_ENOMEM
                  : validate ? urbac_tenant_load_buffer(b.s, b.len, name, out, local)
                             : urbac__tenant_parse_buffer(b.s, b.len, name, out, local);
  for (size_t i = 0; i < urbac_diag_count(local); i++) {
    const urbac_error *e = urbac_diag_get(local, i);
    if (e)
      urbac__diag_add(d, e->code, name, 0, 0, e->path, "%s", e->message);
  }
  urbac_diag_free(local);
  urbac__buf_free(&b);
  return err;
}

urbac_err urbac__model_from_objects(const char *tenant, const urbac__object *o, size_t n, const char *name,
                                    urbac_model **out, urbac_diag *d)
{
  return from_objects(tenant, o, n, name, true, out, d);
}

urbac_err urbac__object_parse(const char *tenant, const char *kind, const char *id, const char *json,
                              const char *name, urbac_model **out, char **body, urbac_diag *d)
{
  urbac__object one = {kind, (char *)(uintptr_t)id, (char *)(uintptr_t)json, 0}, *all = NULL;
  size_t n = 0, found = 0;
  json_error_t jerr;
  *out = NULL;
  *body = NULL;
  bool unsure = true;
  urbac_err err = from_objects(tenant, &one, 1, name, false, out, d);
  /* one value, nothing around it: a body cannot smuggle in other objects (the
   * quick reader is sure of most; jansson judges, and words, the rest) */
  urbac__node *tree = err ? NULL : urbac__node_parse_json(json, strlen(json), &unsure);
  if (!err && !tree && !unsure)
    err = urbac__diag_add(d, URBAC_ENOMEM, name, 0, 0, NULL, "out of memory reading the %s given", kind);
  json_t *alone = err || tree ? NULL : json_loads(json, JSON_DECODE_ANY, &jerr);
  if (!err && !tree && !alone)
    err = urbac__diag_add(d, URBAC_ESYNTAX, name, 0, 0, NULL, "the %s given is not one JSON value: %s", kind,
                          jerr.text);
  urbac__node_free(tree);
  json_decref(alone);
  if (!err)
    err = urbac__model_objects(*out, &all, &n);
  for (size_t i = 0; !err && i < n; i++)
    if (all[i].kind == one.kind || strcmp(all[i].kind, kind) == 0) {
      found++;
      if (strcmp(all[i].id, id) != 0)
        err = urbac__diag_add(d, URBAC_EVALUE, name, 0, 0, NULL, "the %s given does not have the id '%s'",
                              kind, id);
      else if (!*body && !(*body = urbac__strdup(all[i].body)))
        err = URBAC_ENOMEM;
    }
  if (!err && found != 1)
    err = urbac__diag_add(d, URBAC_EVALUE, name, 0, 0, NULL, "the %s given does not have the id '%s'", kind,
                          id);
  urbac__objects_free(all, n);
  if (err) {
    urbac_model_free(*out);
    urbac__free(*body);
    *out = NULL;
    *body = NULL;
  }
  return err;
}

const char *urbac__object_kind(const char *kind)
{
  static const char *const kinds[] = {"catalog",
                                      "workloads",
                                      "user",
                                      "group",
                                      "deviceGroup",
                                      "device",
                                      "role",
                                      "legacy.mde.role",
                                      "legacy.mdo.roleGroup",
                                      "legacy.mdi.role",
                                      URBAC__KIND_API_KEY};
  for (size_t k = 0; kind && k < sizeof kinds / sizeof kinds[0]; k++)
    if (strcmp(kind, kinds[k]) == 0)
      return kinds[k];
  return NULL;
}
