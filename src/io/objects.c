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

/* The objects being listed, and the tree each one's body will be emitted from. */
typedef struct listing {
  urbac__object *o;
  const urbac__node **trees;
  size_t n, cap, tcap;
} listing;

/* Object l->n (its body emitted later: emit()). */
static urbac_err add(listing *l, const char *kind, const char *id, const urbac__node *body)
{
  if (URBAC_GROW(l->trees, l->tcap, l->n + 1) || URBAC_GROW(l->o, l->cap, l->n + 1))
    return URBAC_ENOMEM;
  urbac__object *x = &l->o[l->n];
  *x = (urbac__object){kind, urbac__strdup(id), NULL, (int64_t)l->n};
  l->trees[l->n] = body;
  if (!x->id)
    return URBAC_ENOMEM;
  l->n++;
  return URBAC_OK;
}

/* The bodies of objects [from, to) as compact JSON (urbac__in_two()'s half). */
typedef struct emit_job {
  urbac__object *o;
  const urbac__node *const *trees;
  size_t from, to;
  bool failed;
} emit_job;

static void *emit(void *p)
{
  emit_job *j = p;
  for (size_t i = j->from; i < j->to; i++)
    j->failed = urbac__node_emit_json_compact(j->trees[i], &j->o[i].body) != URBAC_OK || j->failed;
  return NULL;
}

urbac_err urbac__model_objects(const urbac_model *m, urbac__object **out, size_t *n)
{
  urbac__node *root = NULL;
  listing l = {0};
  *out = NULL;
  *n = 0;
  urbac_err err = urbac__tenant_tree(m, &root);
  const urbac__node *wl = err ? NULL : get(root, "workloads"), *legacy = err ? NULL : get(root, "legacy");
  const urbac__node *catalog = err ? NULL : get(root, "catalog");
  if (catalog)
    err = add(&l, "catalog", "catalog", catalog);
  if (wl && !err)
    err = add(&l, "workloads", "workloads", wl);
  for (size_t s = 0; s < NSECTIONS && !err; s++) {
    const urbac__node *list = sections[s].path[1] ? get(get(legacy, sections[s].path[0]), sections[s].path[1])
                                                  : get(root, sections[s].path[0]);
    for (size_t i = 0; list && i < list->n && !err; i++) {
      const urbac__node *id = get(list->kids[i], sections[s].id_key);
      err = add(&l, sections[s].kind, id ? id->str : "", list->kids[i]);
    }
  }
  emit_job halves[2] = {{l.o, l.trees, 0, l.n / 2, false}, {l.o, l.trees, l.n / 2, l.n, false}};
  if (!err) /* a whole tenant's, on two threads: the trees are only read */
    urbac__in_two(emit, &halves[0], &halves[1], l.n >= URBAC__APART);
  if (!err && (halves[0].failed || halves[1].failed))
    err = URBAC_ENOMEM;
  urbac__free(l.trees);
  urbac__node_free(root);
  if (err) {
    urbac__objects_free(l.o, l.n);
    return err;
  }
  *out = l.o;
  *n = l.n;
  return URBAC_OK;
}

/* How many levels `n` spans (a scalar: 1); bounded by the parser's own limit. */
static unsigned node_depth(const urbac__node *n)
{
  unsigned deepest = 0;
  for (size_t i = 0; n->type != URBAC__NODE_SCALAR && i < n->n; i++) {
    unsigned k = node_depth(n->kids[i]);
    deepest = k > deepest ? k : deepest;
  }
  return deepest + 1;
}

/* How many brackets deep JSON text `s` nests at most (strings skipped), for text
 * the quick reader left to the others: a body certainly too deep is refused as
 * such, as a file's parser would, before anything reads it. */
static unsigned text_depth(const char *s, size_t len)
{
  unsigned d = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (in_string && c == '\\')
      i++; /* the escaped character */
    else if (in_string || c == '"')
      in_string = in_string ? c != '"' : true;
    else if (c == '[' || c == '{')
      deepest = ++d > deepest ? d : deepest;
    else if ((c == ']' || c == '}') && d)
      d--;
  }
  return deepest;
}

/* One object's body as a tree, `at` levels deep in the tenant file: one JSON value
 * and nothing around it, so that no body can smuggle in other objects, and no
 * deeper than a file may nest, so that what is stored can be exported and read
 * back. The quick reader is sure of most bodies; for the rest jansson judges
 * whether it is one JSON value, and libyaml (JSON is YAML) reads it. */
static urbac_err body_tree(const urbac__object *o, unsigned at, const char *name, urbac__node **out,
                           urbac_diag *d)
{
  bool unsure = false;
  const char *s = o->body;
  size_t len = strlen(s);
  json_error_t jerr;
  json_t *alone = NULL;
  urbac_err err = URBAC_OK;
  bool deep = false;
  if (!(*out = urbac__node_parse_json(s, len, &unsure)) && !unsure)
    err = urbac__diag_add(d, URBAC_ENOMEM, name, 0, 0, NULL, "out of memory reading %s '%.100s'", o->kind,
                          o->id);
  else if (!*out)
    deep = at + text_depth(s, len) - 1 > URBAC_MAX_DEPTH; /* its innermost list, at least */
  if (!err && !*out && !deep && !(alone = json_loadb(s, len, JSON_DECODE_ANY, &jerr)))
    err = urbac__diag_add(d, URBAC_ESYNTAX, name, 0, 0, NULL, "%s '%.100s' is not one JSON value: %s",
                          o->kind, o->id, jerr.text);
  else if (!err && !*out && !deep) {
    while (len && strchr(" \t\r\n", s[len - 1])) /* JSON's space around the value, which YAML */
      len--;                                     /* reads otherwise (a tab cannot start a token) */
    while (len && strchr(" \t\r\n", *s))
      s++, len--;
    err = urbac__node_parse_yaml(s, len, name, out, d);
  }
  json_decref(alone);
  deep = deep || (!err && at + node_depth(*out) - 1 > URBAC_MAX_DEPTH); /* the body's value is `at` deep */
  if (deep)
    err = urbac__diag_add(d, URBAC_ELIMIT, name, 0, 0, NULL, "%s '%.100s': nesting deeper than %u levels",
                          o->kind, o->id, URBAC_MAX_DEPTH);
  if (err) {
    urbac__node_free(*out);
    *out = NULL;
  }
  return err;
}

/* Which section of the tenant file holds objects of `kind`; NSECTIONS for the
 * catalog, the workloads and kinds no tenant file holds (an API key's row). */
static size_t section_of(const char *kind)
{
  size_t s = 0;
  while (s < NSECTIONS && strcmp(kind, sections[s].kind) != 0)
    s++;
  return s;
}

static bool is_head(const char *kind)
{
  return strcmp(kind, "catalog") == 0 || strcmp(kind, "workloads") == 0;
}

/* Object `o`'s tree (`*given`, taken and set to NULL, when there is one; else its
 * body parsed): onto `root` under its kind (the catalog, the workloads) or onto
 * its section's list in `lists`, made when first needed. */
static urbac_err add_body(urbac__node *root, urbac__node **lists, const urbac__object *o, urbac__node **given,
                          const char *name, urbac_diag *d)
{
  size_t s = section_of(o->kind);
  unsigned at = is_head(o->kind) ? 1 : sections[s].path[1] ? 4 : 2;
  urbac__node *body = given ? *given : NULL;
  urbac_err err = URBAC_OK;
  if (given)
    *given = NULL;
  if (!body)
    err = body_tree(o, at, name, &body, d);
  else if (at + node_depth(body) - 1 > URBAC_MAX_DEPTH) { /* as body_tree() holds a parsed one */
    err = urbac__diag_add(d, URBAC_ELIMIT, name, 0, 0, NULL, "%s '%.100s': nesting deeper than %u levels",
                          o->kind, o->id, URBAC_MAX_DEPTH);
    urbac__node_free(body);
  }
  if (!err && is_head(o->kind))
    err = urbac__node_set(root, o->kind, body);
  else if (!err && !lists[s] && !(lists[s] = urbac__node_new(URBAC__NODE_SEQ))) {
    urbac__node_free(body);
    err = URBAC_ENOMEM;
  } else if (!err)
    err = urbac__node_push(lists[s], body);
  return err;
}

/* Section `s`'s list (taken, even on failure; NULL: an empty one) onto `root`, or
 * onto `legacy` for the legacy models' sections. */
static urbac_err add_section(urbac__node *root, urbac__node *legacy, size_t s, urbac__node *list)
{
  urbac__node *in = NULL;
  urbac_err err = URBAC_OK;
  if (!list && !(list = urbac__node_new(URBAC__NODE_SEQ)))
    err = URBAC_ENOMEM;
  else if (!sections[s].path[1]) /* node_set() takes its value, also on failure */
    err = urbac__node_set(root, sections[s].path[0], list);
  else if (!(in = urbac__node_new(URBAC__NODE_MAP))) {
    urbac__node_free(list);
    err = URBAC_ENOMEM;
  } else if (!(err = urbac__node_set(in, sections[s].path[1], list)))
    err = urbac__node_set(legacy, sections[s].path[0], in);
  else
    urbac__node_free(in);
  return err;
}

/* The tenant file made of objects, as a tree: the tenant, then its catalog and
 * workloads (first: the catalog decides how roles' permissions read), then each
 * section's list of objects, every body its own tree (trees[i] when the caller
 * has it, taken; else o[i].body parsed). The bodies together (`bytes` for the
 * trees given) are held to a file's size limit, so a stored tenant can always
 * be exported. */
static urbac_err objects_tree(const char *tenant, const urbac__object *o, urbac__node **trees, size_t bytes,
                              size_t n, const char *name, urbac__node **out, urbac_diag *d)
{
  urbac__node *root = urbac__node_new(URBAC__NODE_MAP), *legacy = urbac__node_new(URBAC__NODE_MAP);
  urbac__node *lists[NSECTIONS] = {0};
  urbac_err err = root && legacy ? URBAC_OK : URBAC_ENOMEM;
  for (size_t i = 0; i < n && !err; i++)
    if ((bytes += trees && trees[i] ? 0 : strlen(o[i].body)) > URBAC_MAX_FILE_BYTES)
      err = urbac__diag_add(d, URBAC_ELIMIT, name, 0, 0, NULL, "the tenant's objects exceed %u bytes",
                            URBAC_MAX_FILE_BYTES);
  if (!err)
    err = urbac__node_set(root, "urbac", urbac__node_str("1", URBAC__STYLE_PLAIN));
  if (!err)
    err = urbac__node_set(root, "tenant", urbac__node_str(tenant, URBAC__STYLE_QUOTED));
  for (size_t i = 0; i < n && !err; i++)
    if (is_head(o[i].kind))
      err = add_body(root, lists, &o[i], trees ? &trees[i] : NULL, name, d);
  for (size_t i = 0; i < n && !err; i++)
    if (section_of(o[i].kind) < NSECTIONS)
      err = add_body(root, lists, &o[i], trees ? &trees[i] : NULL, name, d);
  for (size_t i = 0; trees && i < n; i++) { /* what was not taken: a failure's */
    urbac__node_free(trees[i]);
    trees[i] = NULL;
  }
  for (size_t s = 0; s < NSECTIONS && !err; s++) {
    err = add_section(root, legacy, s, lists[s]);
    lists[s] = NULL;
  }
  if (!err) {
    err = urbac__node_set(root, "legacy", legacy);
    legacy = NULL; /* taken */
  }
  for (size_t s = 0; s < NSECTIONS; s++)
    urbac__node_free(lists[s]);
  urbac__node_free(legacy);
  if (err)
    urbac__node_free(root);
  *out = err ? NULL : root;
  return err;
}

/* The tenant file made of objects, loaded (validated when `validate`). */
static urbac_err from_objects(const char *tenant, const urbac__object *o, urbac__node **trees, size_t bytes,
                              size_t n, const char *name, bool validate, urbac_model **out, urbac_diag *d)
{
  urbac__node *root = NULL;
  *out = NULL;
  /* positions inside the assembled document mean nothing to anyone: report each
   * problem against the source name, with its field path, and no line:column */
  urbac_diag *local = urbac_diag_new();
  urbac_err err = !local ? URBAC_ENOMEM : objects_tree(tenant, o, trees, bytes, n, name, &root, local);
  for (size_t i = 0; !local && trees && i < n; i++) { /* taken, even so */
    urbac__node_free(trees[i]);
    trees[i] = NULL;
  }
  if (!err)
    err = urbac__tenant_load_tree(root, name, validate, out, local);
  for (size_t i = 0; i < urbac_diag_count(local); i++) {
    const urbac_error *e = urbac_diag_get(local, i);
    if (e)
      urbac__diag_add(d, e->code, name, 0, 0, e->path, "%s", e->message);
  }
  urbac_diag_free(local);
  urbac__node_free(root);
  return err;
}

urbac_err urbac__model_from_objects(const char *tenant, const urbac__object *o, size_t n, const char *name,
                                    urbac_model **out, urbac_diag *d)
{
  return from_objects(tenant, o, NULL, 0, n, name, true, out, d);
}

urbac_err urbac__model_from_trees(const char *tenant, const urbac__object *o, urbac__node **trees,
                                  size_t bytes, size_t n, const char *name, urbac_model **out, urbac_diag *d)
{
  return from_objects(tenant, o, trees, bytes, n, name, true, out, d);
}

urbac_err urbac__object_parse(const char *tenant, const char *kind, const char *id, const char *json,
                              const char *name, urbac_model **out, char **body, urbac_diag *d)
{
  urbac__object one = {kind, (char *)(uintptr_t)id, (char *)(uintptr_t)json, 0}, *all = NULL;
  size_t n = 0, found = 0;
  *out = NULL;
  *body = NULL;
  urbac_err err =
      from_objects(tenant, &one, NULL, 0, 1, name, false, out, d); /* one JSON value: body_tree() */
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

/* ---------------------------------------------------------------- a request's body */

/* The first key a map of `n` (a tree of the quick reader's, which keeps keys as
 * written) holds twice, at any depth: a request's body is refused as jansson
 * refuses it, not put. NULL: none (*failed: out of memory). */
static const urbac__node *key_twice(const urbac__node *n, bool *failed)
{
  const urbac__node *twice = NULL;
  urbac__strmap seen = {0};
  if (n->type == URBAC__NODE_MAP && n->n > 2 && urbac__strmap_init(&seen, n->n / 2))
    *failed = true;
  for (size_t i = 0; !twice && !*failed && i < n->n; i++) {
    bool key = n->type == URBAC__NODE_MAP && i % 2 == 0;
    urbac_err added =
        key && n->n > 2 ? urbac__strmap_put(&seen, n->kids[i]->str, n->kids[i]->len, 0, NULL) : URBAC_OK;
    *failed = added == URBAC_ENOMEM;
    twice = added == URBAC_EDUPLICATE ? n->kids[i] : key ? NULL : key_twice(n->kids[i], failed);
  }
  urbac__strmap_free(&seen);
  return twice;
}

/* How a tree of the quick reader's gives id key `key`: *given when it does (once:
 * key_twice() finds a key given twice), *same when as `id`. */
static void tree_key(const urbac__node *map, const char *key, const char *id, bool *given, bool *same)
{
  for (size_t i = 0; i + 1 < map->n; i += 2)
    if (strcmp(map->kids[i]->str, key) == 0) {
      const urbac__node *v = map->kids[i + 1];
      *given = true;
      *same = v->type == URBAC__NODE_SCALAR && v->style == URBAC__STYLE_QUOTED && strlen(v->str) == v->len &&
              strcmp(v->str, id) == 0;
    }
}

urbac_err urbac_object_body(const char *kind, const char *id, const char *text, size_t len, const char *name,
                            char **out, urbac_diag *d)
{
  const char *key = NULL;
  bool unsure = false, given = false, same = false, empty = false;
  json_t *j = NULL;
  json_error_t je;
  urbac__buf b = {0};
  urbac_err err = URBAC_OK;
  *out = NULL;
  for (size_t s = 0; kind && s < NSECTIONS && !key; s++)
    key = strcmp(kind, sections[s].kind) == 0 ? sections[s].id_key : NULL;
  if (!key || !id || !text)
    return urbac__diag_add(d, URBAC_EINVAL, name, 0, 0, NULL, "no object of kind '%s' to put",
                           kind ? kind : "(null)");
  /* the quick reader is sure of strict JSON only; jansson judges the rest */
  urbac__node *tree = urbac__node_parse_json(text, len, &unsure);
  if (!tree && !unsure)
    err = URBAC_ENOMEM;
  else if (!tree && !(j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)))
    err =
        urbac__diag_add(d, URBAC_ESYNTAX, name, (uint32_t)je.line, (uint32_t)je.column, NULL, "%s", je.text);
  else if (tree ? tree->type != URBAC__NODE_MAP : !json_is_object(j))
    err = urbac__diag_add(d, URBAC_ETYPE, name, 0, 0, NULL, "the body must be a JSON object");
  bool failed = false;
  const urbac__node *twice = !err && tree ? key_twice(tree, &failed) : NULL;
  if (failed)
    err = URBAC_ENOMEM;
  else if (twice) /* as jansson says it */
    err = urbac__diag_add(d, URBAC_ESYNTAX, name, twice->line, twice->col, NULL, "duplicate object key");
  else if (!err && tree) {
    tree_key(tree, key, id, &given, &same);
    empty = tree->n == 0;
  } else if (!err) {
    json_t *own = json_object_get(j, key);
    given = own != NULL;
    same = json_is_string(own) && strlen(json_string_value(own)) == json_string_length(own) &&
           strcmp(json_string_value(own), id) == 0;
    empty = json_object_size(j) == 0;
  }
  if (!err && given && !same)
    err = urbac__diag_add(d, URBAC_EVALUE, name, 0, 0, key, "the body's %s must be '%s', as in the path", key,
                          id);
  if (!err && given) {
    urbac__buf_add(&b, text, len);
  } else if (!err) { /* "{" KEY ":" ID ("," or nothing) and the rest after the text's "{" */
    const char *open = memchr(text, '{', len);
    urbac__buf_add(&b, "{", 1);
    urbac__json_string(&b, key, strlen(key));
    urbac__buf_add(&b, ":", 1);
    if (!urbac__json_string(&b, id, strlen(id)))
      err = urbac__diag_add(d, URBAC_EVALUE, name, 0, 0, key, "the %s is not UTF-8", key);
    urbac__buf_add(&b, empty ? "" : ",", empty ? 0 : 1);
    urbac__buf_add(&b, open + 1, len - (size_t)(open + 1 - text));
  }
  if (!err && !(*out = urbac__buf_take(&b, NULL)))
    err = URBAC_ENOMEM;
  if (err == URBAC_ENOMEM)
    urbac__diag_add(d, err, name, 0, 0, NULL, "out of memory");
  urbac__buf_free(&b);
  urbac__node_free(tree);
  json_decref(j);
  return err;
}
