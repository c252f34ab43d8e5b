/*
 * io/graph_import.c - a tenant from what Microsoft Graph returns (urbac
 * import-graph): users, groups and group members from Entra ID, unified roles
 * and their assignments from roleManagement/defender (beta), directory roles
 * from roleManagement/directory, as saved by az rest, Graph PowerShell or any
 * script, one response (one page) a file.
 *
 * How: every file is parsed into jansson's values (io/json.c) and given a kind by its @odata.context
 * (else by the shape of its items). A file that opens with its @odata.context,
 * as Graph writes them, is parsed only when its kind's turn comes and freed
 * right after, so a few pages' trees are held at a time, not the whole export's;
 * with many (a whole tenant's), on a second thread a few pages ahead, which also
 * frees each once read (parse_ahead(), io/json.h). The base tenant is taken apart
 * into its objects (io/objects.c: kind, id, canonical JSON body); Graph's items update those bodies or add
 * new ones, in a fixed order of kinds (users and groups before the members and assignments that name them by
 * object id), and the tenant is put back together through the tenant-file loader, so it is validated exactly
 * as a file is (a new tenant's objects handed over as the trees its parser would make, not as text; a big
 * one's made on two threads, assemble()). What urbac cannot represent is left out and noted with its file and
 * JSON path (never dropped silently; URBAC_GRAPH_STRICT makes a note an error). Leaving out never widens: an
 * assignment with a scope urbac does not model is left out whole, a role permission with a condition
 * likewise. An assignment's object id among no users or groups is kept as a pending principal
 * (`group:OID`, which the model lets grant nothing until the group appears) and
 * reported apart (urbac_graph_report_pending()).
 * Objects are matched by id (a user's userPrincipalName, a group's object id, a
 * role's displayName) or by their externalId (the Entra object id), so a second
 * import of the same files changes nothing.
 *
 * Depends on: util, catalog, io/objects.c, io/tree.h, io/json.h, jansson, pthreads (io/json.c).
 */
#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog/catalog.h"
#include "io/graph.h"
#include "io/json.h"
#include "io/objects.h"
#include "io/tree.h"
#include "urbac/graph.h"
#include "urbac/io.h"

#define MAX_FILES 1000000u          /* files in one import */
#define MAX_FILE_BYTES (256u << 20) /* one file, as a tenant file */
#define MAX_NOTES 10000u            /* notes kept; the rest are counted */
#define MAX_OID 128u                /* an object id's length */

enum kind {
  K_USERS,
  K_GROUPS,
  K_MEMBERS,
  K_ROLEDEFS,
  K_ASSIGNMENTS,
  K_DIRDEFS,
  K_DIRASSIGN,
  K_EXPORT,
  NKINDS
};
static const char *const kind_names[NKINDS] = {"users",
                                               "groups",
                                               "groupMembers",
                                               "defenderRoleDefinitions",
                                               "defenderRoleAssignments",
                                               "directoryRoleDefinitions",
                                               "directoryRoleAssignments",
                                               "urbacGraphExport"};

struct urbac_graph_report {
  size_t nfiles;
  char **names;
  int *kinds; /* enum kind, or -1 */
  urbac_diag *notes;
  urbac_diag *pending;          /* principals kept pending (an object id not imported) */
  size_t unkept;                /* notes past MAX_NOTES (both lists) */
  urbac_graph_counts counts[3]; /* user, group, role */
  bool changed;
};

/* One file: its items and, for an export document, the request each came from. */
typedef struct gfile {
  const char *name;
  json_t *root;
  int kind;
  json_t *items;      /* the value array, the entity alone, or the export's bodies */
  json_t *paths;      /* JSON path of each item, or NULL: "$.value[i]" / "$" */
  char group[40];     /* members: the group's object id */
  const char *target; /* members: the tenant's group, once users and groups are in */
  const char *data;   /* deferred: the text, parsed when its kind's turn comes */
  size_t len;
  size_t report; /* its entry in the report */
  bool deferred; /* kind read from the text's first key; parsed in its phase, freed after */
} gfile;

typedef struct gi {
  urbac_graph_report *r;
  unsigned flags;
  urbac_err failed; /* strict: the first note's code */
  urbac_err err;    /* a deferred file that is not JSON (all or nothing: nothing is made) */
  urbac_diag *d;
  gfile *f;
  size_t nf;
  urbac__object *base;
  size_t nbase;
  json_t *users, *groups, *roles; /* id (roles: name) -> body */
  json_t *new_ids[3];             /* ids added, in order, per kind */
  urbac__intern oids;             /* lower-case object ids, each with its ref in oid_refs[] */
  char **oid_refs;                /* "ID" or "group:ID" (owned), NULL when not set */
  size_t oid_cap;
  json_t *dgs;                /* device group ids of the tenant */
  json_t *role_ids;           /* Graph role definition id -> role name */
  json_t *dir_defs;           /* directory role definition id -> catalog index */
  json_t *dir_roles;          /* principal -> array of catalog indices */
  json_t *members;            /* group id -> members */
  json_t *seen;               /* principals a users/groups file named */
  json_t *assigned;           /* role name -> true: its assignments are Graph's */
  json_t *asg_ids;            /* Graph assignment id -> the assignment made of it */
  urbac__node_arena trees[2]; /* a new tenant's objects as trees (to_tree()), by each thread of assemble() */
  urbac__json_ahead *ahead;   /* the deferred files parsed ahead (parse_ahead()), or NULL */
  const char **ahead_texts;   /* their texts and lengths, in the order phases() reads them */
  size_t *ahead_lens;
} gi;

/* ---------------------------------------------------------------- notes */

static void note(gi *g, const gfile *f, const char *path, urbac_err code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void note(gi *g, const gfile *f, const char *path, urbac_err code, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if ((g->flags & URBAC_GRAPH_STRICT) && !g->failed) {
    g->failed = code;
    urbac__diag_add(g->d, code, f ? f->name : NULL, 0, 0, path, "%s (--strict)", msg);
  }
  if (urbac_diag_count(g->r->notes) >= MAX_NOTES)
    g->r->unkept++;
  else
    urbac__diag_add(g->r->notes, code, f ? f->name : NULL, 0, 0, path, "%s", msg);
}

/* A principal kept pending: reported apart from what was left out; a note
 * under URBAC_GRAPH_STRICT (which refuses pending principals too). */
static void pending(gi *g, const gfile *f, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void pending(gi *g, const gfile *f, const char *path, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (g->flags & URBAC_GRAPH_STRICT)
    note(g, f, path, URBAC_EDANGLING, "%s", msg);
  else if (urbac_diag_count(g->r->pending) >= MAX_NOTES)
    g->r->unkept++;
  else
    urbac__diag_add(g->r->pending, URBAC_EDANGLING, f ? f->name : NULL, 0, 0, path, "%s", msg);
}

/* Item `i`'s JSON path into `buf` (96 bytes), `listed`: the file's items are its
 * "value" array. Made for every item, in case a note names it: a page's
 * 999 users cost no formatted print each. */
static void item_path(const gfile *f, bool listed, size_t i, char buf[96])
{
  const char *p = f->paths ? json_string_value(json_array_get(f->paths, i)) : NULL;
  char digits[24];
  size_t n = 0;
  if (p) {
    snprintf(buf, 96, "%s", p);
    return;
  }
  if (!listed) {
    strcpy(buf, "$");
    return;
  }
  do
    digits[n++] = (char)('0' + i % 10);
  while ((i /= 10) && n < sizeof digits);
  memcpy(buf, "$.value[", 8);
  for (size_t k = 0; k < n; k++)
    buf[8 + k] = digits[n - 1 - k];
  memcpy(buf + 8 + n, "]", 2);
}

/* ---------------------------------------------------------------- small helpers */

/* The first object id in `s`, lower-cased into `out` (40 bytes); false when none. */
static bool find_guid(const char *s, char *out)
{
  for (size_t i = 0, n = s ? strlen(s) : 0; i + 36 <= n; i++)
    if (urbac__is_guid(s + i, 36)) {
      for (size_t k = 0; k < 36; k++)
        out[k] = (char)tolower((unsigned char)s[i + k]);
      out[36] = '\0';
      return true;
    }
  return false;
}

/* `oid` lower-cased into `buf` (MAX_OID + 1 bytes); NULL when not a string or too long. */
static const char *oid_key(json_t *oid, char *buf)
{
  const char *s = json_string_value(oid);
  size_t n = s ? strlen(s) : 0;
  if (!n || n > MAX_OID)
    return NULL;
  for (size_t i = 0; i <= n; i++)
    buf[i] = (char)tolower((unsigned char)s[i]);
  return buf;
}

static const char *str_of(json_t *o, const char *key) { return json_string_value(json_object_get(o, key)); }

/* Sets o[key] to a string, or removes it when `s` is NULL or empty. */
static void set_or_drop(json_t *o, const char *key, const char *s)
{
  if (s && *s)
    json_object_set_new(o, key, json_string(s));
  else
    json_object_del(o, key);
}

/* The body of object `id` in `map`, made when absent (then its id is recorded as new). */
static json_t *object_for(gi *g, int k, json_t *map, const char *id_key, const char *id)
{
  json_t *o = json_object_get(map, id);
  if (!o) { /* not json_pack(): its format is parsed anew for each of 100,000 users */
    o = json_object();
    if (o && json_object_set_new(o, id_key, json_string(id))) {
      json_decref(o);
      o = NULL;
    }
    json_object_set_new(map, id, o);
    json_array_append_new(g->new_ids[k], json_string(id));
  }
  return o;
}

/* ---------------------------------------------------------------- kinds */

static bool starts(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* A kind from "...$metadata#KIND..." */
static int kind_of_context(const char *ctx)
{
  static const struct {
    const char *prefix;
    int kind;
  } table[] = {{"roleManagement/defender/roleDefinitions", K_ROLEDEFS},
               {"roleManagement/defender/roleAssignments", K_ASSIGNMENTS},
               {"roleManagement/directory/roleDefinitions", K_DIRDEFS},
               {"roleManagement/directory/roleAssignments", K_DIRASSIGN},
               {"directoryObjects", K_MEMBERS},
               {"users", K_USERS},
               {"groups", K_GROUPS}};
  const char *h = strchr(ctx, '#');
  h = h ? h + 1 : ctx;
  if (strstr(h, "/members"))
    return K_MEMBERS;
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    size_t n = strlen(table[i].prefix);
    if (strncmp(h, table[i].prefix, n) == 0 && strchr("(/", h[n] ? h[n] : '/'))
      return table[i].kind;
  }
  return -1;
}

/* A kind from the first item's keys, for a file with no @odata.context (a request body). */
static int kind_of_shape(json_t *item)
{
  const char *type = str_of(item, "@odata.type");
  if (json_object_get(item, "rolePermissions"))
    return K_ROLEDEFS;
  if (json_object_get(item, "principalIds") || json_object_get(item, "appScopeIds"))
    return K_ASSIGNMENTS;
  if (json_object_get(item, "principalId") && json_object_get(item, "roleDefinitionId"))
    return K_DIRASSIGN;
  if (json_object_get(item, "userPrincipalName") && !(type && strcmp(type, "#microsoft.graph.user") == 0))
    return K_USERS;
  return -1;
}

/* An export document's requests as role and assignment items of two virtual
 * files (the second written into `second`). */
static void split_export(gfile *f, gfile *second)
{
  json_t *req, *roles = json_array(), *asg = json_array(), *rp = json_array(), *ap = json_array();
  size_t i;
  json_array_foreach(json_object_get(f->root, "requests"), i, req)
  {
    const char *url = str_of(req, "url"), *id = str_of(req, "id");
    json_t *body = json_object_get(req, "body");
    char path[64];
    snprintf(path, sizeof path, "$.requests[%zu].body", i);
    if (!url || !json_is_object(body))
      continue;
    json_t *copy = json_deep_copy(body);
    size_t n = strlen(url), r = strlen(URBAC__GRAPH_ROLES_URL), a = strlen(URBAC__GRAPH_ASSIGNMENTS_URL);
    if (n >= r && strcmp(url + n - r, URBAC__GRAPH_ROLES_URL) == 0) {
      if (id)
        json_object_set_new(copy, "id", json_string(id));
      json_array_append_new(roles, copy);
      json_array_append_new(rp, json_string(path));
    } else if (n >= a && strcmp(url + n - a, URBAC__GRAPH_ASSIGNMENTS_URL) == 0) {
      const char *rid = str_of(copy, "roleDefinitionId");
      if (rid && rid[0] == '{' && strlen(rid) > 2) /* "{role-N}": the role request's id */
        json_object_set_new(copy, "roleDefinitionId", json_stringn(rid + 1, strlen(rid) - 2));
      json_array_append_new(asg, copy);
      json_array_append_new(ap, json_string(path));
    } else {
      json_decref(copy);
    }
  }
  json_decref(f->items); /* the requests themselves: replaced by their bodies */
  *second = *f;
  f->kind = K_ROLEDEFS;
  f->items = roles;
  f->paths = rp;
  second->kind = K_ASSIGNMENTS;
  second->items = asg;
  second->paths = ap;
  second->root = json_incref(f->root);
}

/* Gives `f` its kind and items; notes a file it cannot recognise. */
static void classify(gi *g, gfile *f)
{
  json_t *root = f->root, *value = json_object_get(root, "value");
  const char *ctx = str_of(root, "@odata.context");
  f->kind = -1;
  if (!json_is_object(root)) {
    note(g, f, "$", URBAC_ETYPE, "not a Graph response: a JSON object was expected");
    return;
  }
  f->items = json_is_array(value) ? json_incref(value) : json_pack("[O]", root);
  if (json_is_array(json_object_get(root, "requests")) && str_of(root, "tenant")) {
    f->kind = K_EXPORT;
    return;
  }
  f->kind = ctx ? kind_of_context(ctx) : kind_of_shape(json_array_get(f->items, 0));
  if (f->kind == K_MEMBERS) { /* the response does not name the group: its context, link or file name does */
    const char *link = str_of(root, "@odata.nextLink"), *g1 = ctx ? strstr(ctx, "groups(") : NULL;
    const char *g2 = link ? strstr(link, "/groups/") : NULL, *base = strrchr(f->name, '/');
    if (!find_guid(g1, f->group) && !find_guid(g2, f->group) && !find_guid(base ? base : f->name, f->group)) {
      note(g, f, "$", URBAC_EMISSING,
           "group members, but of which group? Name the file after the group's object id "
           "(group-members-<id>.json)");
      f->kind = -1;
    }
  } else if (f->kind < 0) {
    note(g, f, "$", URBAC_EVALUE,
         "not a Graph response urbac reads (@odata.context %s%s%s): users, groups, group members, "
         "roleManagement/defender or roleManagement/directory",
         ctx ? "'" : "", ctx ? ctx : "missing", ctx ? "'" : "");
  }
}

/* The kind a file's first key, "@odata.context", gives (kind_of_context(), as
 * classify() reads it), found without parsing the file; -1 when the text does not
 * open so (then it is parsed at once). */
static int kind_at_start(const char *data, size_t len)
{
  static const char key[] = "\"@odata.context\"";
  char ctx[512];
  size_t i = 0, n = 0;
  bool ok = true;
  const char *expect[] = {"{", key, ":", "\""};
  for (size_t k = 0; k < 4 && ok; k++) {
    while (i < len && isspace((unsigned char)data[i]))
      i++;
    size_t m = strlen(expect[k]);
    ok = len - i >= m && memcmp(data + i, expect[k], m) == 0;
    i += ok ? m : 0;
  }
  while (ok && i < len && data[i] != '"' && data[i] != '\\' && (unsigned char)data[i] >= 0x20 &&
         n + 1 < sizeof ctx)
    ctx[n++] = data[i++];
  ctx[n] = '\0';
  return ok && i < len && data[i] == '"' ? kind_of_context(ctx) : -1;
}

/* A file that did not parse: out of memory, or not JSON (located). */
static urbac_err not_json(gi *g, const char *name, const json_error_t *je)
{
  if (json_error_code(je) == json_error_out_of_memory)
    return urbac__diag_add(g->d, URBAC_ENOMEM, name, 0, 0, NULL, "out of memory reading it");
  return urbac__diag_add(g->d, URBAC_ESYNTAX, name, (uint32_t)je->line, (uint32_t)je->column, NULL,
                         "not JSON: %s", je->text);
}

/* Parses deferred file `f` in its phase and classifies it as read_files() does
 * others; false when it is not JSON (g->err), or not of its phase's kind after all
 * (noted, left out). */
static bool load(gi *g, gfile *f)
{
  json_error_t je;
  int want = f->kind;
  f->root =
      g->ahead ? urbac__json_ahead_next(g->ahead, f->data, &je) : urbac__json_parse(f->data, f->len, &je);
  if (!f->root) {
    g->err = not_json(g, f->name, &je);
    return false;
  }
  classify(g, f);
  if (f->kind >= 0 && f->kind != want) {
    note(g, f, "$", URBAC_EVALUE, "its @odata.context says %s, but it is %s: left out", kind_names[want],
         kind_names[f->kind]);
    f->kind = -1;
  }
  g->r->kinds[f->report] = f->kind;
  return f->kind == want;
}

/* Frees a deferred file's tree once its phase is done with it (parsed ahead: gives
 * it back to the thread that parsed it, which frees it). */
static void release(gi *g, gfile *f)
{
  if (!f->deferred)
    return;
  json_t *v[] = {f->paths, f->items, f->root};
  for (size_t i = 0; i < 3; i++)
    if (g->ahead)
      urbac__json_ahead_drop(g->ahead, v[i]);
    else
      json_decref(v[i]);
  f->root = f->items = f->paths = NULL;
}

/* ---------------------------------------------------------------- object ids */

/* What lower-case object id `key` stands for ("ID" or "group:ID"), or NULL. */
static const char *oid_get(const gi *g, const char *key)
{
  uint32_t id;
  return urbac__intern_find(&g->oids, key, strlen(key), &id) ? g->oid_refs[id] : NULL;
}

/* Makes `key` stand for `ref` (copied first: `ref` may be the string it replaces).
 * Out of memory fails the import. */
static urbac_err oid_set(gi *g, const char *key, const char *ref)
{
  uint32_t id;
  bool added = false;
  char *copy = urbac__strdup(ref);
  /* room for a new id's ref first: oid_refs[] always covers every id */
  urbac_err err = copy && !URBAC_GROW(g->oid_refs, g->oid_cap, g->oids.n + 1)
                      ? urbac__intern_put(&g->oids, key, strlen(key), &id, &added)
                      : URBAC_ENOMEM;
  if (err) {
    urbac__free(copy);
    return g->err = urbac__diag_add(g->d, URBAC_ENOMEM, NULL, 0, 0, NULL, "out of memory");
  }
  if (added)
    g->oid_refs[id] = NULL;
  urbac__free(g->oid_refs[id]);
  g->oid_refs[id] = copy;
  return URBAC_OK;
}

/* ---------------------------------------------------------------- the base tenant */

static urbac_err index_base(gi *g, const urbac_model *base)
{
  urbac_err err = base ? urbac__model_objects(base, &g->base, &g->nbase) : URBAC_OK;
  char key[MAX_OID + 1];
  for (size_t i = 0; i < g->nbase && !err; i++) {
    const urbac__object *o = &g->base[i];
    bool user = strcmp(o->kind, "user") == 0, group = strcmp(o->kind, "group") == 0;
    if (strcmp(o->kind, "deviceGroup") == 0)
      json_object_set_new(g->dgs, o->id, json_true());
    if (!user && !group && strcmp(o->kind, "role") != 0)
      continue;
    json_error_t je;
    json_t *body = urbac__json_parse(o->body, strlen(o->body), &je);
    if (!body) { /* its canonical JSON: out of memory */
      char name[MAX_OID + 64];
      snprintf(name, sizeof name, "the tenant's %s '%.*s'", o->kind, MAX_OID, o->id);
      return not_json(g, name, &je);
    }
    json_object_set_new(user ? g->users : group ? g->groups : g->roles, o->id, body);
    const char *ext = oid_key(json_object_get(body, "externalId"), key);
    if (ext && !user && !group)
      continue;
    char ref[MAX_OID + 16];
    snprintf(ref, sizeof ref, "%s%s", group ? "group:" : "", o->id);
    if (ext)
      err = oid_set(g, ext, ref);
  }
  return err;
}

/* ---------------------------------------------------------------- users and groups */

/* The tenant's id for object id `oid` of `kind` ("user"/"group"), or NULL. */
static const char *known(gi *g, json_t *oid, bool *is_group)
{
  char key[MAX_OID + 1];
  const char *k = oid_key(oid, key);
  const char *ref = k ? oid_get(g, k) : NULL;
  if (ref && is_group)
    *is_group = starts(ref, "group:");
  return ref;
}

static void import_user(gi *g, const gfile *f, json_t *item, const char *path)
{
  const char *upn = str_of(item, "userPrincipalName"), *oid = str_of(item, "id");
  char key[MAX_OID + 1];
  json_t *enabled = json_object_get(item, "accountEnabled");
  if (!upn || !*upn || !oid || !oid_key(json_object_get(item, "id"), key)) {
    note(g, f, path, URBAC_EMISSING, "a user needs an id and a userPrincipalName");
    return;
  }
  const char *ref = oid_get(g, key);
  const char *id = ref && !starts(ref, "group:") ? ref : upn; /* matched by externalId first */
  json_t *u = object_for(g, 0, g->users, "id", id);
  set_or_drop(u, "name", str_of(item, "displayName"));
  json_object_set_new(u, "externalId", json_string(oid));
  if (json_is_false(enabled))
    json_object_set(u, "enabled", enabled);
  else if (json_is_true(enabled)) /* the default, which the canonical form leaves out */
    json_object_del(u, "enabled");
  json_object_set_new(g->seen, id, json_true());
  oid_set(g, key, id); /* last: `id` may be the ref it replaces */
}

static void import_group(gi *g, const gfile *f, json_t *item, const char *path)
{
  const char *oid = str_of(item, "id");
  char key[MAX_OID + 1], ref[MAX_OID + 16];
  if (!oid || !oid_key(json_object_get(item, "id"), key)) {
    note(g, f, path, URBAC_EMISSING, "a group needs an id");
    return;
  }
  const char *was = oid_get(g, key);
  const char *id = was && starts(was, "group:") ? was + 6 : oid;
  json_t *o = object_for(g, 1, g->groups, "id", id);
  set_or_drop(o, "name", str_of(item, "displayName"));
  json_object_set_new(o, "externalId", json_string(oid));
  snprintf(ref, sizeof ref, "group:%s", id);
  oid_set(g, key, ref);
  json_object_set_new(g->seen, ref, json_true());
}

static void import_member(gi *g, const gfile *f, json_t *item, const char *path)
{
  const char *type = str_of(item, "@odata.type");
  bool is_group = false;
  const char *ref = known(g, json_object_get(item, "id"), &is_group);
  bool want_group = type && strcmp(type, "#microsoft.graph.group") == 0;
  if (type && !want_group && strcmp(type, "#microsoft.graph.user") != 0) {
    const char *what = starts(type, "#microsoft.graph.") ? type + 17 : type;
    note(g, f, path, URBAC_EVALUE, "member '%s' is a %s: urbac's groups hold users and groups only",
         str_of(item, "displayName") ? str_of(item, "displayName") : str_of(item, "id"), what);
    return;
  }
  if (!ref || (type && want_group != is_group)) {
    note(g, f, path, URBAC_EDANGLING, "member %s is not among the %s imported or in the tenant",
         str_of(item, "id") ? str_of(item, "id") : "without an id", want_group ? "groups" : "users");
    return;
  }
  json_array_append_new(json_object_get(g->members, f->target), json_string(ref));
}

/* ---------------------------------------------------------------- directory roles */

static void import_dir_def(gi *g, const gfile *f, json_t *item, const char *path)
{
  const char *id = str_of(item, "id");
  int k = -1;
  const char *names[] = {str_of(item, "templateId"), id, str_of(item, "displayName")};
  (void)path;
  for (size_t i = 0; i < 3 && k < 0; i++)
    if (names[i])
      k = urbac__catalog_legacy_find(URBAC_LEGACY_DIRECTORY_ROLE, names[i], strlen(names[i]), NULL, 0);
  (void)f;
  if (id)
    json_object_set_new(g->dir_defs, id,
                        k >= 0 ? json_integer(k)
                               : json_string(str_of(item, "displayName") ? str_of(item, "displayName") : id));
}

static void import_dir_assignment(gi *g, const gfile *f, json_t *item, const char *path)
{
  const char *rid = str_of(item, "roleDefinitionId"), *scope = str_of(item, "directoryScopeId");
  json_t *def = rid ? json_object_get(g->dir_defs, rid) : NULL;
  int k = json_is_integer(def) ? (int)json_integer_value(def)
          : rid ? urbac__catalog_legacy_find(URBAC_LEGACY_DIRECTORY_ROLE, rid, strlen(rid), NULL, 0)
                : -1;
  const char *ref = known(g, json_object_get(item, "principalId"), NULL);
  if (k < 0) {
    note(g, f, path, URBAC_EUNKNOWNROLE,
         "directory role %s is not one urbac models (docs/catalog.md): it grants nothing in Defender",
         json_is_string(def) ? json_string_value(def)
         : rid               ? rid
                             : "without a roleDefinitionId");
  } else if (scope && strcmp(scope, "/") != 0) {
    note(g, f, path, URBAC_ESCOPE, "directory scope '%s' is not one urbac models (only the tenant, '/')",
         scope);
  } else if (!ref) {
    note(g, f, path, URBAC_EDANGLING,
         "principal %s is not among the users and groups imported or in the tenant",
         str_of(item, "principalId") ? str_of(item, "principalId") : "(none)");
  } else {
    json_t *list = json_object_get(g->dir_roles, ref);
    json_object_set_new(g->seen, ref, json_true());
    if (!list)
      json_object_set_new(g->dir_roles, ref, list = json_array());
    json_array_append_new(list, json_integer(k));
  }
}

/* Each user and group of the import (or named by an assignment) gets exactly the
 * directory roles the assignments give it, in catalog order. */
static void apply_dir_roles(gi *g)
{
  const char *ref;
  json_t *v;
  json_object_foreach(g->seen, ref, v)
  {
    bool group = starts(ref, "group:");
    json_t *o = json_object_get(group ? g->groups : g->users, group ? ref + 6 : ref);
    json_t *list = json_object_get(g->dir_roles, ref), *names = json_array(), *k;
    for (size_t r = 0; o && r < urbac_catalog_legacy_count(URBAC_LEGACY_DIRECTORY_ROLE); r++) {
      bool has = false;
      size_t i;
      json_array_foreach(list, i, k) has = has || (size_t)json_integer_value(k) == r;
      if (has)
        json_array_append_new(names, json_string(urbac_catalog_legacy(URBAC_LEGACY_DIRECTORY_ROLE, r)->name));
    }
    if (o && json_array_size(names))
      json_object_set(o, "directoryRoles", names);
    else if (o)
      json_object_del(o, "directoryRoles");
    json_decref(names);
  }
}

/* ---------------------------------------------------------------- roles */

/* Whether `action` is a permission, a group action or a wildcard the catalog knows
 * (as the loader takes a role's permission: io/load.c). */
static bool known_action(const char *action)
{
  urbac_grant gr;
  urbac__gmask m;
  return (!strchr(action, '*') && urbac__catalog_resolve(action, strlen(action), &gr, NULL, 0) == URBAC_OK) ||
         urbac__catalog_wildcard(action, strlen(action), &m) > 0;
}

static json_t *role_permissions(gi *g, const gfile *f, json_t *perms, const char *path)
{
  json_t *out = json_array(), *p, *a;
  size_t i, k;
  char at[512];
  json_array_foreach(perms, i, p)
  {
    json_t *excluded = json_object_get(p, "excludedResourceActions"), *cond = json_object_get(p, "condition");
    snprintf(at, sizeof at, "%s.rolePermissions[%zu]", path, i);
    if ((cond && !json_is_null(cond)) || json_array_size(excluded)) {
      note(g, f, at, URBAC_EVALUE,
           "a permission with a condition or excluded actions is not one urbac models: "
           "left out (it would grant more without them)");
      continue;
    }
    json_array_foreach(json_object_get(p, "allowedResourceActions"), k, a)
    {
      const char *s = json_string_value(a);
      snprintf(at, sizeof at, "%s.rolePermissions[%zu].allowedResourceActions[%zu]", path, i, k);
      if (s && known_action(s)) /* a copy: nothing of a page outlives it (parse_ahead()) */
        json_array_append_new(out, json_stringn(s, json_string_length(a)));
      else
        note(g, f, at, URBAC_EUNKNOWNPERM, "action '%s' is no permission of the catalog: left out",
             s ? s : "(not a string)");
    }
  }
  return out;
}

static void import_role(gi *g, const gfile *f, json_t *item, const char *path)
{
  const char *name = str_of(item, "displayName"), *gid = str_of(item, "id");
  if (!name || !*name) {
    note(g, f, path, URBAC_EMISSING, "a role definition needs a displayName");
    return;
  }
  json_t *role = object_for(g, 2, g->roles, "name", name);
  set_or_drop(role, "description", str_of(item, "description"));
  json_object_set_new(role, "permissions",
                      role_permissions(g, f, json_object_get(item, "rolePermissions"), path));
  if (!json_object_get(role, "assignments"))
    json_object_set_new(role, "assignments", json_array());
  if (gid)
    json_object_set_new(g->role_ids, gid, json_string(name));
}

/* ---------------------------------------------------------------- assignments */

/* appScopeIds into `a`'s dataSources and deviceGroups; false (noted) when a scope
 * cannot be represented. */
static bool app_scopes(gi *g, const gfile *f, json_t *ids, json_t *a, const char *path)
{
  json_t *sources = json_array(), *dgs = json_array(), *v;
  bool all = false, ok = json_array_size(ids) > 0;
  size_t i, n = strlen(URBAC__GRAPH_DEVICE_GROUPS);
  char at[512];
  if (!ok)
    note(g, f, path, URBAC_EMISSING, "an assignment with no appScopeIds");
  json_array_foreach(ids, i, v)
  {
    const char *s = json_string_value(v);
    int w = s ? urbac_catalog_workload_find(s) : -1;
    snprintf(at, sizeof at, "%s.appScopeIds[%zu]", path, i);
    if (!ok)
      break;
    if (s && strcmp(s, "/") == 0)
      all = true;
    else if (w >= 0)
      json_array_append_new(sources, json_string(urbac_catalog_workload_id((size_t)w)));
    else if (s && strncasecmp(s, URBAC__GRAPH_DEVICE_GROUPS, n) == 0 && json_object_get(g->dgs, s + n))
      json_array_append_new(dgs, json_string(s + n));
    else {
      note(g, f, at,
           s && strncasecmp(s, URBAC__GRAPH_DEVICE_GROUPS, n) == 0 ? URBAC_EUNKNOWNDG : URBAC_ESCOPE,
           "scope '%s' is %s: the assignment is left out (it would grant more without it)",
           s ? s : "(not a string)",
           s && strncasecmp(s, URBAC__GRAPH_DEVICE_GROUPS, n) == 0 ? "no device group of the tenant"
                                                                   : "not one urbac models");
      ok = false;
    }
  }
  if (ok && !all && !json_array_size(sources))
    json_array_append_new(sources, json_string(urbac_catalog_workload_id(0))); /* device groups: mde */
  if (ok)
    json_object_set_new(a, "dataSources", all ? json_string("all") : json_incref(sources));
  if (ok && json_array_size(dgs))
    json_object_set(a, "deviceGroups", dgs);
  json_decref(sources);
  json_decref(dgs);
  return ok;
}

/* An assignment's principalIds as the tenant names them. An object id among no
 * users or groups imported or in the tenant is kept pending, as the group with
 * that object id (`group:OID`, lower case: Defender assigns roles to groups; the
 * model lets it grant nothing until such a group appears, docs/semantics.md) and
 * reported; with URBAC_GRAPH_STRICT it fails the import. Anything else unknown
 * is left out. */
static json_t *principals(gi *g, const gfile *f, json_t *ids, const char *path)
{
  json_t *out = json_array(), *v;
  size_t i;
  char at[512], oid[40], ref[48];
  json_array_foreach(ids, i, v)
  {
    const char *ref_of = known(g, v, NULL), *s = json_string_value(v);
    snprintf(at, sizeof at, "%s.principalIds[%zu]", path, i);
    if (ref_of) {
      json_array_append_new(out, json_string(ref_of));
    } else if (s && strlen(s) == 36 && find_guid(s, oid)) {
      snprintf(ref, sizeof ref, "group:%s", oid);
      json_array_append_new(out, json_string(ref));
      pending(g, f, at,
              "principal %s is among no users and groups imported or in the tenant: kept as '%s', "
              "pending (it grants nothing until a group with that object id is imported)",
              s, ref);
    } else {
      note(g, f, at, URBAC_EDANGLING,
           "principal %s is not an object id, nor among the users and groups imported or in the "
           "tenant: left out of the assignment",
           s ? s : "(not a string)");
    }
  }
  return out;
}

/* A name for the assignment unique within its role ("NAME (2)", ... after the first). */
static void unique_name(json_t *list, const char *want, char *buf, size_t size)
{
  snprintf(buf, size, "%s", want);
  for (unsigned k = 2;; k++) {
    bool taken = false;
    size_t i;
    json_t *a;
    json_array_foreach(list, i, a) taken = taken || strcmp(str_of(a, "name"), buf) == 0;
    if (!taken)
      return;
    snprintf(buf, size, "%s (%u)", want, k);
  }
}

static void import_assignment(gi *g, const gfile *f, json_t *item, const char *path)
{
  const char *rid = str_of(item, "roleDefinitionId"), *dn = str_of(item, "displayName");
  const char *role_name = rid ? str_of(g->role_ids, rid) : NULL;
  json_t *dirs = json_object_get(item, "directoryScopeIds"), *a = json_object();
  char name[1024];
  if (!role_name) {
    note(g, f, path, URBAC_EUNKNOWNROLE, "role definition %s is not among the role definitions imported",
         rid ? rid : "(none)");
  } else if (json_array_size(dirs) > 1 ||
             (json_array_size(dirs) == 1 &&
              strcmp(json_string_value(json_array_get(dirs, 0)) ? json_string_value(json_array_get(dirs, 0))
                                                                : "",
                     "/") != 0)) {
    note(g, f, path, URBAC_ESCOPE, "directoryScopeIds other than '/' are not scopes urbac models: left out");
  } else if (app_scopes(g, f, json_object_get(item, "appScopeIds"), a, path)) {
    json_t *role = json_object_get(g->roles, role_name), *list = json_object_get(role, "assignments");
    json_t *same = str_of(item, "id") ? json_object_get(g->asg_ids, str_of(item, "id")) : NULL;
    if (same) { /* one assignment in several files (a page and a get): the later one */
      json_object_set_new(a, "principals", principals(g, f, json_object_get(item, "principalIds"), path));
      json_object_del(same, "deviceGroups");
      json_object_update(same, a);
      json_decref(a);
      return;
    }
    if (!json_object_get(g->assigned, role_name)) { /* the first of the import: Graph's replace the old */
      json_array_clear(list);
      json_object_set_new(g->assigned, role_name, json_true());
    }
    unique_name(list,
                dn && *dn            ? dn
                : str_of(item, "id") ? str_of(item, "id")
                                     : "assignment",
                name, sizeof name);
    if (strcmp(name, dn ? dn : "") != 0 && dn && *dn)
      note(g, f, path, URBAC_EDUPLICATE, "role '%s' has another assignment named '%s': this one is '%s'",
           role_name, dn, name);
    json_object_set_new(a, "name", json_string(name));
    json_object_set_new(a, "principals", principals(g, f, json_object_get(item, "principalIds"), path));
    json_array_append(list, a);
    if (str_of(item, "id"))
      json_object_set(g->asg_ids, str_of(item, "id"), a);
  }
  json_decref(a);
}

/* ---------------------------------------------------------------- the import */

typedef void (*item_fn)(gi *g, const gfile *f, json_t *item, const char *path);

/* A members file's group, as the tenant names it (f->target); false (noted) when
 * it is among no groups imported or in the tenant. The members it lists replace
 * the group's (pages of one group add up). */
static bool member_target(gi *g, gfile *f)
{
  json_t *oid = json_string(f->group);
  bool is_group = false;
  const char *ref = known(g, oid, &is_group);
  json_decref(oid);
  if (!ref || !is_group) {
    note(g, f, "$", URBAC_EDANGLING,
         "the members of group %s, which is not among the groups imported or in the tenant", f->group);
    f->kind = -1;
    g->r->kinds[f->report] = -1;
    return false;
  }
  f->target = ref + 6;
  if (!json_object_get(g->members, f->target))
    json_object_set_new(g->members, f->target, json_array());
  return true;
}

/* `fn` on every item of every file of `kind`, in file order (a deferred file
 * parsed first and freed after); true when there was such a file. */
static bool each(gi *g, int kind, item_fn fn)
{
  char path[96];
  bool any = false;
  for (size_t i = 0; i < g->nf && !g->err; i++) {
    gfile *f = &g->f[i];
    json_t *item;
    size_t k;
    if (f->kind != kind)
      continue;
    any = true;
    if ((f->deferred && !load(g, f)) || (kind == K_MEMBERS && !member_target(g, f))) {
      release(g, f);
      continue;
    }
    bool listed = !f->paths && json_is_array(json_object_get(f->root, "value"));
    json_array_foreach(f->items, k, item)
    {
      item_path(f, listed, k, path);
      if (json_is_object(item))
        fn(g, f, item, path);
      else
        note(g, f, path, URBAC_ETYPE, "an item that is not a JSON object");
    }
    release(g, f);
  }
  return any;
}

/* Every members file's members, onto their groups. */
static void attach_members(gi *g)
{
  const char *id;
  json_t *list;
  json_object_foreach(g->members, id, list) json_object_set(json_object_get(g->groups, id), "members", list);
}

/* Roles whose definitions the import read but no assignment named: Graph gives
 * them none (when the import read assignments at all). */
static void clear_unassigned(gi *g)
{
  const char *gid;
  json_t *name;
  json_object_foreach(g->role_ids, gid, name)
  {
    const char *n = json_string_value(name);
    if (!json_object_get(g->assigned, n))
      json_array_clear(json_object_get(json_object_get(g->roles, n), "assignments"));
  }
}

/* The kinds in the order they are read (users and groups before what names them
 * by object id), each item's import, and what is done once a kind's files were read. */
static const struct {
  int kind;
  item_fn fn;
  void (*after)(gi *g); /* or NULL */
} phase_table[] = {
    {K_USERS, import_user, NULL},
    {K_GROUPS, import_group, NULL},
    {K_MEMBERS, import_member, attach_members},
    {K_DIRDEFS, import_dir_def, NULL},
    {K_DIRASSIGN, import_dir_assignment, apply_dir_roles},
    {K_ROLEDEFS, import_role, NULL},
    {K_ASSIGNMENTS, import_assignment, clear_unassigned},
};

static void phases(gi *g)
{
  for (size_t i = 0; i < sizeof phase_table / sizeof *phase_table; i++)
    if (each(g, phase_table[i].kind, phase_table[i].fn) && phase_table[i].after)
      phase_table[i].after(g);
}

/* The deferred files are parsed on a second thread, in the order phases() reads
 * them, a few ahead of it, when there are enough of them to pay for a thread
 * (a whole tenant's export: 10,000 pages). Out of memory: each is parsed as it
 * is read. */
#define AHEAD_MIN_FILES 64

static void parse_ahead(gi *g)
{
  size_t n = 0;
  for (size_t i = 0; i < g->nf; i++)
    n += g->f[i].deferred;
  if (n < AHEAD_MIN_FILES || !(g->ahead_texts = urbac__calloc(n, sizeof *g->ahead_texts)) ||
      !(g->ahead_lens = urbac__calloc(n, sizeof *g->ahead_lens)))
    return;
  n = 0;
  for (size_t k = 0; k < sizeof phase_table / sizeof *phase_table; k++)
    for (size_t i = 0; i < g->nf; i++)
      if (g->f[i].deferred && g->f[i].kind == phase_table[k].kind) {
        g->ahead_texts[n] = g->f[i].data;
        g->ahead_lens[n++] = g->f[i].len;
      }
  g->ahead = urbac__json_ahead_start(g->ahead_texts, g->ahead_lens, n);
}

/* Parses and classifies every file (an export document makes two); a file that
 * is not JSON, or too large, fails the import. */
static urbac_err read_files(gi *g, const urbac_graph_file *files, size_t n)
{
  urbac_graph_report *r = g->r;
  if (!(g->f = urbac__calloc(2 * n + 1, sizeof *g->f)) ||
      !(r->names = urbac__calloc(n + 1, sizeof *r->names)) ||
      !(r->kinds = urbac__calloc(n + 1, sizeof *r->kinds)))
    return URBAC_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    gfile *f = &g->f[g->nf++];
    json_error_t je;
    f->name = files[i].name ? files[i].name : "(unnamed)";
    if (!(r->names[r->nfiles] = urbac__strdup(f->name)))
      return URBAC_ENOMEM;
    f->report = r->nfiles;
    r->kinds[r->nfiles++] = -1;
    if (files[i].len > MAX_FILE_BYTES)
      return urbac__diag_add(g->d, URBAC_ELIMIT, f->name, 0, 0, NULL, "larger than %u MiB",
                             MAX_FILE_BYTES >> 20);
    if (files[i].data && (f->kind = kind_at_start(files[i].data, files[i].len)) >= 0) {
      *f = (gfile){.name = f->name,
                   .kind = f->kind,
                   .data = files[i].data,
                   .len = files[i].len,
                   .report = f->report,
                   .deferred = true};
      r->kinds[f->report] = f->kind;
      continue;
    }
    if (!(f->root = urbac__json_parse(files[i].data, files[i].len, &je)))
      return not_json(g, f->name, &je);
    classify(g, f);
    r->kinds[r->nfiles - 1] = f->kind;
    if (f->kind == K_EXPORT)
      split_export(f, &g->f[g->nf++]);
  }
  return URBAC_OK;
}

/* `j` as compact JSON, allocated by the library (urbac__free() frees it), or NULL. */
static char *dump(const json_t *j)
{
  char *text = j ? json_dumps(j, JSON_COMPACT) : NULL, *copy = text ? urbac__strdup(text) : NULL;
  free(text);
  return copy;
}

/* `j` as the tree the loader reads, the one parsing json_dumps(j, JSON_COMPACT)
 * gives (strings quoted; numbers, booleans and null plain, as jansson writes
 * them; keys in order), its compact JSON's length added to *bytes; NULL when out
 * of memory. *unsure is set when a string holds what the loader's reader leaves
 * to libyaml (urbac__json_string_sure()): that object goes as text instead. The
 * import's objects go to the loader this way, not as text it would parse again. */
static urbac__node *to_tree(urbac__node_arena *a, json_t *j, size_t *bytes, bool *unsure)
{
  urbac__node *n = NULL;
  size_t i = 0;
  const char *k;
  json_t *v;
  if (json_is_string(j)) {
    *bytes += urbac__json_string_size(json_string_value(j), json_string_length(j));
    *unsure = *unsure || !urbac__json_string_sure(json_string_value(j), json_string_length(j));
    return urbac__node_str_in(a, json_string_value(j), json_string_length(j), URBAC__STYLE_QUOTED);
  }
  if (json_is_object(j)) {
    n = urbac__node_new_in(a, URBAC__NODE_MAP);
    *bytes += 2;
    json_object_foreach(j, k, v)
    {
      *bytes += (i++ ? 1 : 0) + urbac__json_string_size(k, strlen(k)) + 1;
      *unsure = *unsure || !urbac__json_string_sure(k, strlen(k));
      if (n && (urbac__node_push_in(a, n, urbac__node_str_in(a, k, strlen(k), URBAC__STYLE_QUOTED)) ||
                urbac__node_push_in(a, n, to_tree(a, v, bytes, unsure))))
        n = NULL; /* what it made is the arena's */
    }
    return n;
  }
  if (json_is_array(j)) {
    n = urbac__node_new_in(a, URBAC__NODE_SEQ);
    *bytes += 2;
    json_array_foreach(j, i, v)
    {
      *bytes += i ? 1 : 0;
      if (n && urbac__node_push_in(a, n, to_tree(a, v, bytes, unsure)))
        n = NULL;
    }
    return n;
  }
  char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY); /* a number, true, false or null */
  if (text) {
    *bytes += strlen(text);
    n = urbac__node_str_in(a, text, strlen(text), URBAC__STYLE_PLAIN);
  }
  free(text);
  return n;
}

/* The trees of objects [from, to) of assemble(), made in `arena`; objects to_tree()
 * is unsure of get their JSON text instead. */
typedef struct tree_job {
  urbac__object *o;
  urbac__node **t;
  json_t **bodies;
  urbac__node_arena *arena;
  size_t from, to, bytes;
} tree_job;

static void *make_trees(void *p)
{
  tree_job *j = p;
  for (size_t k = j->from; k < j->to; k++) {
    size_t size = 0;
    bool unsure = false;
    j->t[k] = to_tree(j->arena, j->bodies[k], &size, &unsure);
    if (unsure) { /* read from its text as before: libyaml's reading, or its refusal */
      urbac__node_free(j->t[k]);
      j->t[k] = NULL;
      j->o[k].body = dump(j->bodies[k]);
    } else {
      j->bytes += size;
    }
  }
  return NULL;
}

/* A new tenant's objects (every workload activated: Graph does not say which
 * are; today's catalog), *n set to their number: the users, groups and roles
 * as trees in *trees (the caller frees those left), their compact JSON's length
 * in *bytes; the workloads, the catalog and any object to_tree() is unsure of as
 * JSON text owned by `o`. With many (URBAC__APART), the second half's trees
 * are made on a second thread, in an arena of their own (jansson's values are
 * only read). */
static urbac_err assemble(gi *g, urbac__object **out, urbac__node ***trees, size_t *bytes, size_t *n)
{
  json_t *maps[3] = {g->users, g->groups, g->roles}, *wl = json_object();
  static const char *const kinds[3] = {"user", "group", "role"};
  size_t cap = 2, k = 0;
  for (int m = 0; m < 3; m++)
    cap += json_array_size(g->new_ids[m]);
  urbac__object *o = urbac__calloc(cap, sizeof *o);
  urbac__node **t = urbac__calloc(cap, sizeof *t);
  json_t **bodies = urbac__calloc(cap, sizeof *bodies);
  urbac_err err = o && t && bodies && wl ? URBAC_OK : URBAC_ENOMEM;
  for (size_t w = 0; !err && w < urbac_catalog_workload_count(); w++)
    json_object_set_new(wl, urbac_catalog_workload_id(w), json_string("unified"));
  if (!err) { /* and a real tenant decides with today's catalog */
    o[k++] = (urbac__object){"workloads", urbac__strdup("workloads"), dump(wl), 0};
    o[k++] = (urbac__object){"catalog", urbac__strdup("catalog"), urbac__strdup("\"current\""), 1};
  }
  json_decref(wl);
  for (int m = 0; m < 3 && !err; m++) {
    size_t i;
    json_t *id;
    json_array_foreach(g->new_ids[m], i, id)
    {
      bodies[k] = json_object_get(maps[m], json_string_value(id));
      o[k] = (urbac__object){kinds[m], urbac__strdup(json_string_value(id)), NULL, (int64_t)k};
      k++;
    }
  }
  size_t half = err ? 2 : k - (k - 2) / 2;
  tree_job jobs[2] = {{o, t, bodies, &g->trees[0], 2, half, 0}, {o, t, bodies, &g->trees[1], half, k, 0}};
  if (!err)
    urbac__in_two(make_trees, &jobs[0], &jobs[1], k >= URBAC__APART);
  *bytes += jobs[0].bytes + jobs[1].bytes;
  for (size_t i = 0; i < k && !err; i++)
    if (!o[i].id || (!o[i].body && !t[i]))
      err = URBAC_ENOMEM;
  urbac__free(bodies);
  *out = o;
  *trees = t;
  *n = k;
  return err;
}

/* The puts that make `base` the imported tenant: each user, group and role whose
 * body differs from the base's canonical one (a body that differs only in form is
 * put through the loader to compare canonical forms), and the new ones; counts
 * them. The puts' bodies are owned by `texts`. */
static urbac_err changes(gi *g, const urbac_model *base, urbac_object_put **puts, size_t *n, json_t *texts,
                         urbac_diag *d)
{
  json_t *maps[3] = {g->users, g->groups, g->roles};
  static const char *const kinds[3] = {"user", "group", "role"};
  size_t cap = g->nbase + 1;
  for (int m = 0; m < 3; m++)
    cap += json_array_size(g->new_ids[m]);
  urbac_object_put *p = urbac__calloc(cap, sizeof *p);
  urbac_err err = p ? URBAC_OK : URBAC_ENOMEM;
  *n = 0;
  for (size_t i = 0; i < g->nbase && !err; i++) {
    const urbac__object *b = &g->base[i];
    int m = strcmp(b->kind, "user") == 0    ? 0
            : strcmp(b->kind, "group") == 0 ? 1
            : strcmp(b->kind, "role") == 0  ? 2
                                            : -1;
    char *text = m >= 0 ? json_dumps(json_object_get(maps[m], b->id), JSON_COMPACT) : NULL, *canon = NULL;
    urbac_model *one = NULL;
    if (m < 0)
      continue;
    if (!text)
      err = URBAC_ENOMEM;
    else if (strcmp(text, b->body) != 0)
      err = urbac__object_parse(urbac_model_tenant(base), b->kind, b->id, text, "import-graph", &one, &canon,
                                d);
    urbac_model_free(one);
    bool same = !err && (!canon || strcmp(canon, b->body) == 0);
    if (!err && !same) {
      p[(*n)++] = (urbac_object_put){b->kind, b->id, canon};
      json_array_append_new(texts, json_string(canon));
      p[*n - 1].json = json_string_value(json_array_get(texts, json_array_size(texts) - 1));
    }
    urbac__free(canon);
    free(text);
    if (!err)
      (*(same ? &g->r->counts[m].unchanged : &g->r->counts[m].updated))++;
  }
  for (int m = 0; m < 3 && !err; m++) {
    size_t i;
    json_t *id;
    json_array_foreach(g->new_ids[m], i, id)
    {
      char *text = json_dumps(json_object_get(maps[m], json_string_value(id)), JSON_COMPACT);
      if (!text || json_array_append_new(texts, json_string(text))) {
        free(text);
        err = URBAC_ENOMEM;
        break;
      }
      free(text);
      p[(*n)++] = (urbac_object_put){kinds[m], json_string_value(id),
                                     json_string_value(json_array_get(texts, json_array_size(texts) - 1))};
      g->r->counts[m].created++;
    }
  }
  g->r->changed = *n > 0;
  *puts = p;
  return err;
}

static void gi_free(gi *g)
{
  urbac__json_ahead_end(g->ahead);
  urbac__free((void *)g->ahead_texts);
  urbac__free(g->ahead_lens);
  urbac__node_arena_free(&g->trees[0]);
  urbac__node_arena_free(&g->trees[1]);
  for (size_t i = 0; g->f && i < g->nf; i++) {
    json_decref(g->f[i].root);
    json_decref(g->f[i].items);
    json_decref(g->f[i].paths);
  }
  urbac__free(g->f);
  urbac__objects_free(g->base, g->nbase);
  json_t *all[] = {g->users,      g->groups, g->roles,    g->new_ids[0], g->new_ids[1],
                   g->new_ids[2], g->dgs,    g->role_ids, g->dir_defs,   g->dir_roles,
                   g->members,    g->seen,   g->assigned, g->asg_ids};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    json_decref(all[i]);
  for (size_t i = 0; i < g->oids.n; i++)
    urbac__free(g->oid_refs[i]);
  urbac__free(g->oid_refs);
  urbac__intern_free(&g->oids);
}

urbac_err urbac_graph_import(const urbac_model *base, const char *tenant, const urbac_graph_file *files,
                             size_t n, unsigned flags, urbac_model **out, urbac_graph_report **report,
                             urbac_diag *d)
{
  gi g = {
      .flags = flags,
      .d = d,
      .trees = {{.first_cap = (size_t)1 << 20, .many = true}, {.first_cap = (size_t)1 << 20, .many = true}}};
  size_t said = urbac_diag_count(d);
  urbac__object *objs = NULL;
  urbac__node **trees = NULL;
  size_t nobjs = 0, bytes = 0;
  urbac_err err = URBAC_ENOMEM;
  *out = NULL;
  *report = NULL;
  if ((!base && (!tenant || !*tenant)) || (n && !files))
    return urbac__diag_add(d, URBAC_EINVAL, NULL, 0, 0, NULL, "a new tenant needs an id (--tenant-id)");
  if (n > MAX_FILES)
    return urbac__diag_add(d, URBAC_ELIMIT, NULL, 0, 0, NULL, "more than %u files", MAX_FILES);
  g.r = urbac__calloc(1, sizeof *g.r);
  json_t **maps[] = {&g.users,      &g.groups, &g.roles,    &g.new_ids[0], &g.new_ids[1],
                     &g.new_ids[2], &g.dgs,    &g.role_ids, &g.dir_defs,   &g.dir_roles,
                     &g.members,    &g.seen,   &g.assigned, &g.asg_ids};
  bool ok = g.r && (g.r->notes = urbac_diag_new()) && (g.r->pending = urbac_diag_new()) &&
            urbac__intern_init(&g.oids, 0) == URBAC_OK; /* grows as ids come */
  for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++)
    ok = (*maps[i] = (i >= 3 && i <= 5) ? json_array() : json_object()) && ok;
  if (!ok)
    goto out;
  if ((err = read_files(&g, files, n)) || (err = index_base(&g, base)))
    goto out;
  parse_ahead(&g);
  phases(&g);
  urbac__json_ahead_end(g.ahead); /* every file read: the thread is done */
  g.ahead = NULL;
  if ((err = g.err))
    goto out;
  if (g.r->unkept)
    urbac__diag_add(g.r->notes, URBAC_ELIMIT, NULL, 0, 0, NULL, "%zu more notes, not kept", g.r->unkept);
  if ((err = g.failed))
    goto out;
  if (base) { /* at the cost of the change: what differs, put through the loader's edit */
    urbac_object_put *puts = NULL;
    size_t nputs = 0;
    json_t *texts = json_array();
    err = texts ? changes(&g, base, &puts, &nputs, texts, d) : URBAC_ENOMEM;
    if (!err)
      err = nputs ? urbac_model_edit(base, puts, nputs, out, d) : urbac_model_clone(base, out, d);
    urbac__free(puts);
    json_decref(texts);
    goto out;
  }
  if ((err = assemble(&g, &objs, &trees, &bytes, &nobjs)))
    goto out;
  err = urbac__model_from_trees(tenant, objs, trees, bytes, nobjs, "import-graph", out, d);
  for (int k = 0; !err && k < 3; k++) { /* a new tenant: everything is created */
    g.r->counts[k].created = json_array_size(g.new_ids[k]);
    g.r->changed = true;
  }
out:
  for (size_t i = 0; trees && i < nobjs; i++)
    urbac__node_free(trees[i]); /* an assembly that failed: the loader took the rest */
  urbac__free(trees);
  urbac__objects_free(objs, nobjs);
  gi_free(&g);
  if (err) {
    urbac_model_free(*out);
    *out = NULL;
    urbac_graph_report_free(g.r);
    if (err == URBAC_ENOMEM && urbac_diag_count(d) == said) /* unless said where */
      urbac__diag_add(d, err, NULL, 0, 0, NULL, "out of memory");
  } else {
    *report = g.r;
  }
  return err;
}

/* ---------------------------------------------------------------- the report */

void urbac_graph_report_free(urbac_graph_report *r)
{
  if (!r)
    return;
  for (size_t i = 0; i < r->nfiles; i++)
    urbac__free(r->names[i]);
  urbac__free(r->names);
  urbac__free(r->kinds);
  urbac_diag_free(r->notes);
  urbac_diag_free(r->pending);
  urbac__free(r);
}

size_t urbac_graph_report_files(const urbac_graph_report *r) { return r ? r->nfiles : 0; }

const char *urbac_graph_report_file(const urbac_graph_report *r, size_t i, const char **kind)
{
  if (!r || i >= r->nfiles)
    return NULL;
  if (kind)
    *kind = r->kinds[i] >= 0 ? kind_names[r->kinds[i]] : NULL;
  return r->names[i];
}

const urbac_diag *urbac_graph_report_notes(const urbac_graph_report *r) { return r ? r->notes : NULL; }

const urbac_diag *urbac_graph_report_pending(const urbac_graph_report *r) { return r ? r->pending : NULL; }

urbac_graph_counts urbac_graph_report_counts(const urbac_graph_report *r, const char *kind)
{
  static const char *const kinds[3] = {"user", "group", "role"};
  for (int m = 0; r && kind && m < 3; m++)
    if (strcmp(kind, kinds[m]) == 0)
      return r->counts[m];
  return (urbac_graph_counts){0, 0, 0};
}

bool urbac_graph_report_changed(const urbac_graph_report *r) { return r && r->changed; }
