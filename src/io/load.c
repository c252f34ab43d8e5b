/*
 * io/load.c - the tenant-file schema (../shared/spec/tenant-format.md): walks the
 * positioned tree from io/tree.c and builds a model, or says everything that is
 * wrong with the file, each with file:line:column and a field path.
 *
 * Each object kind is a table of its keys (struct field) and each list of objects
 * a descriptor (struct list), so unknown keys, duplicate keys, missing required
 * keys and wrong types are checked in one place. Names of permissions, roles and
 * workloads are resolved here through the catalog; references between objects
 * are resolved by model/validate.c once the whole file is read. Any error, and
 * nothing is kept.
 *
 * Depends on: util, catalog, model, io/tree.c.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/objects.h"
#include "io/tree.h"
#include "model/model.h"
#include "urbac/io.h"

typedef struct loader {
  urbac_model *m;
  urbac_diag *d;
  char path[512];
  size_t plen;
  size_t errors;
  bool oom;
  bool parse_only; /* objects only: no implicit ungrouped, no validation (urbac__tenant_parse_buffer) */
} loader;

typedef struct field {
  const char *key;
  bool required;
  void (*parse)(loader *c, const urbac__node *val, void *obj);
} field;

static void lerr(loader *c, const urbac__node *n, urbac_err code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void lerr(loader *c, const urbac__node *n, urbac_err code, const char *fmt, ...)
{
  va_list ap;
  if (code == URBAC_ENOMEM) {
    c->oom = true;
    return;
  }
  c->errors++;
  va_start(ap, fmt);
  urbac__diag_vadd(c->d, code, c->m->source, n->line, n->col, c->path, fmt, ap);
  va_end(ap);
}

static urbac__loc loc_of(const urbac__node *n) { return (urbac__loc){n->line, n->col}; }

static size_t push(loader *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t push(loader *c, const char *fmt, ...)
{
  size_t saved = c->plen;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(c->path + c->plen, sizeof c->path - c->plen, fmt, ap);
  va_end(ap);
  if (n > 0)
    c->plen = c->plen + (size_t)n < sizeof c->path ? c->plen + (size_t)n : sizeof c->path - 1;
  return saved;
}

/* push(c, "[%zu]", i) without printf: once per item of every list read (a
 * group's thousand members, a million users), where vsnprintf was a twentieth
 * of parsing a group. */
static size_t push_index(loader *c, size_t i)
{
  char digits[24], *p = digits + sizeof digits;
  *--p = ']';
  do
    *--p = (char)('0' + i % 10);
  while ((i /= 10) != 0);
  *--p = '[';
  size_t saved = c->plen, n = (size_t)(digits + sizeof digits - p);
  n = n < sizeof c->path - 1 - c->plen ? n : sizeof c->path - 1 - c->plen;
  memcpy(c->path + c->plen, p, n);
  c->plen += n;
  c->path[c->plen] = '\0';
  return saved;
}

static void pop(loader *c, size_t saved)
{
  c->plen = saved;
  c->path[saved] = '\0';
}

/* ---------------------------------------------------------------- scalars */

static bool is_null(const urbac__node *n)
{
  return n->type == URBAC__NODE_SCALAR && n->style == URBAC__STYLE_PLAIN &&
         (n->len == 0 || strcmp(n->str, "~") == 0 || strcasecmp(n->str, "null") == 0);
}

/* A string value: any scalar but null, at most `max` bytes, no control bytes. */
static const char *get_str(loader *c, const urbac__node *n, size_t max, const char *what)
{
  if (n->type != URBAC__NODE_SCALAR || is_null(n)) {
    lerr(c, n, URBAC_ETYPE, "%s must be a string", what);
    return NULL;
  }
  if (n->len == 0 || n->len > max) {
    lerr(c, n, n->len ? URBAC_ELIMIT : URBAC_EVALUE, n->len ? "%s is longer than the limit" : "%s is empty",
         what);
    return NULL;
  }
  for (size_t i = 0; i < n->len; i++)
    /* ids and names travel in tab-separated files: no tab or line break in them;
     * descriptions may hold both */
    if ((unsigned char)n->str[i] < 0x20 &&
        !(max > URBAC_MAX_NAME_BYTES && (n->str[i] == '\n' || n->str[i] == '\t'))) {
      lerr(c, n, URBAC_EVALUE, "%s contains a control character", what);
      return NULL;
    }
  if (memchr(n->str, '\0', n->len)) {
    lerr(c, n, URBAC_EVALUE, "%s contains a NUL byte", what);
    return NULL;
  }
  if (!urbac__json_string_sure(n->str, n->len)) { /* stored, it would not read back as it is */
    lerr(c, n, URBAC_EVALUE,
         "%s contains a character a tenant file cannot carry as it is (DEL, a C1 control, a line or "
         "paragraph separator, U+FEFF, U+FFFE or U+FFFF)",
         what);
    return NULL;
  }
  return n->str;
}

static char *dup_str(loader *c, const urbac__node *n, size_t max, const char *what)
{
  const char *s = get_str(c, n, max, what);
  char *d = s ? urbac__strdup(s) : NULL;
  if (s && !d)
    c->oom = true;
  return d;
}

static void set_str(loader *c, const urbac__node *n, char **dst, size_t max, const char *what)
{
  urbac__free(*dst);
  *dst = dup_str(c, n, max, what);
}

static bool get_bool(loader *c, const urbac__node *n, bool *out)
{
  if (n->type == URBAC__NODE_SCALAR && n->style == URBAC__STYLE_PLAIN) {
    if (strcasecmp(n->str, "true") == 0 || strcasecmp(n->str, "false") == 0) {
      *out = strcasecmp(n->str, "true") == 0;
      return true;
    }
  }
  lerr(c, n, URBAC_ETYPE, "expected true or false");
  return false;
}

static bool get_uint(loader *c, const urbac__node *n, uint32_t min, uint32_t max, uint32_t *out)
{
  char *end;
  if (n->type != URBAC__NODE_SCALAR || n->style != URBAC__STYLE_PLAIN || n->len == 0 || n->str[0] == '-' ||
      n->str[0] == '+') {
    lerr(c, n, URBAC_ETYPE, "expected a whole number");
    return false;
  }
  errno = 0;
  unsigned long long v = strtoull(n->str, &end, 10);
  if (*end) {
    lerr(c, n, URBAC_ETYPE, "expected a whole number, not '%s'", n->str);
    return false;
  }
  if (errno || v < min || v > max) {
    lerr(c, n, URBAC_EVALUE, "%s is out of range (%u to %u)", n->str, min, max);
    return false;
  }
  *out = (uint32_t)v;
  return true;
}

static bool expect_seq(loader *c, const urbac__node *n, const char *what)
{
  if (n->type == URBAC__NODE_SEQ)
    return true;
  if (!is_null(n))
    lerr(c, n, URBAC_ETYPE, "%s must be a list", what);
  return false;
}

/* ---------------------------------------------------------------- maps */

static void unknown_key(loader *c, const urbac__node *key, const field *f, size_t nf, const char *what)
{
  size_t best = SIZE_MAX, bi = 0;
  for (size_t i = 0; i < nf; i++) {
    size_t dist = urbac__edit_distance(key->str, f[i].key, 64);
    if (dist < best) {
      best = dist;
      bi = i;
    }
  }
  urbac__buf keys = {0};
  for (size_t i = 0; i < nf; i++)
    urbac__buf_printf(&keys, "%s%s", i ? ", " : "", f[i].key);
  if (best <= 3)
    lerr(c, key, URBAC_EUNKNOWNKEY, "unknown key '%s' in %s; did you mean '%s'?", key->str, what, f[bi].key);
  else
    lerr(c, key, URBAC_EUNKNOWNKEY, "unknown key '%s' in %s (known keys: %s)", key->str, what,
         keys.failed ? "?" : keys.s);
  urbac__buf_free(&keys);
}

/* Checks `n` is a map of known keys, each at most once, with every required key,
 * and hands each value to its field's parser. */
static void walk_map(loader *c, const urbac__node *n, const field *f, size_t nf, void *obj, const char *what)
{
  bool seen[16] = {0};
  URBAC_ASSERT(nf <= 16);
  if (n->type != URBAC__NODE_MAP) {
    lerr(c, n, URBAC_ETYPE, "%s must be a mapping of keys to values", what);
    return;
  }
  for (size_t i = 0; i + 1 < n->n && !c->oom; i += 2) {
    const urbac__node *key = n->kids[i], *val = n->kids[i + 1];
    size_t k = 0;
    while (k < nf && strcmp(f[k].key, key->str) != 0)
      k++;
    if (k == nf) {
      unknown_key(c, key, f, nf, what);
      continue;
    }
    if (seen[k]) {
      lerr(c, key, URBAC_EDUPLICATE, "key '%s' appears twice in %s", key->str, what);
      continue;
    }
    seen[k] = true;
    size_t saved = push(c, "%s%s", c->plen ? "." : "", key->str);
    f[k].parse(c, val, obj);
    pop(c, saved);
  }
  for (size_t k = 0; k < nf; k++)
    if (f[k].required && !seen[k])
      lerr(c, n, URBAC_EMISSING, "%s has no '%s' (required)", what, f[k].key);
}

/* A list of objects: grows the array and walks each item. The model's lists are
 * arrays of objects (kind >= 0: off_items is the urbac__cow); a role's
 * assignments a plain array (off_items, off_n, off_cap). */
typedef struct list {
  size_t off_items, off_n, off_cap, size, off_loc;
  const field *fields;
  size_t nfields;
  const char *what;
  void (*init)(void *obj);
  int kind;
} list;

/* Room for one more item of `l` in `owner`: the new item, zeroed, or NULL. */
static char *list_add(void *owner, const list *l)
{
  char *base = owner;
  if (l->kind >= 0) {
    void *obj = urbac__obj_new((urbac__obj_kind)l->kind);
    return obj && !urbac__model_push((urbac__cow *)(void *)(base + l->off_items), obj) ? obj : NULL;
  }
  void **items = (void **)(void *)(base + l->off_items);
  size_t *count = (size_t *)(void *)(base + l->off_n), *cap = (size_t *)(void *)(base + l->off_cap);
  if (urbac__grow(items, cap, *count + 1, l->size))
    return NULL;
  char *obj = (char *)*items + (*count)++ * l->size;
  memset(obj, 0, l->size);
  return obj;
}

static void parse_list(loader *c, const urbac__node *n, void *owner, const list *l)
{
  char *base = owner;
  size_t have =
      l->kind >= 0 ? ((urbac__cow *)(void *)(base + l->off_items))->n : *(size_t *)(void *)(base + l->off_n);
  if (!expect_seq(c, n, l->what))
    return;
  if (have + n->n > URBAC_MAX_OBJECTS) {
    lerr(c, n, URBAC_ELIMIT, "more than %u entries", URBAC_MAX_OBJECTS);
    return;
  }
  for (size_t i = 0; i < n->n && !c->oom; i++) {
    char *obj = list_add(owner, l);
    if (!obj) {
      c->oom = true;
      return;
    }
    if (l->init)
      l->init(obj);
    urbac__loc loc = loc_of(n->kids[i]);
    memcpy(obj + l->off_loc, &loc, sizeof loc);
    size_t saved = push_index(c, i);
    walk_map(c, n->kids[i], l->fields, l->nfields, obj, l->what);
    pop(c, saved);
  }
}

#define LIST_OF(owner_t, arr, n_, cap_, type, fields_, what_, init_)                                         \
  {                                                                                                          \
    offsetof(owner_t, arr), offsetof(owner_t, n_), offsetof(owner_t, cap_), sizeof(type),                    \
        offsetof(type, loc), (fields_), sizeof(fields_) / sizeof((fields_)[0]), (what_), (init_), -1         \
  }
#define LIST(arr, kind, type, fields_, what_, init_)                                                         \
  {                                                                                                          \
    offsetof(urbac_model, arr), 0, 0, sizeof(type), offsetof(type, loc), (fields_),                          \
        sizeof(fields_) / sizeof((fields_)[0]), (what_), (init_), (kind)                                     \
  }

/* ---------------------------------------------------------------- references */

/* "group:ID" is a group, "user:ID" or a bare id a user (tenant-format.md). */
static void add_principal(loader *c, urbac__refs *r, const urbac__node *n, bool groups_only)
{
  const char *s = get_str(c, n, URBAC_MAX_NAME_BYTES, "a member");
  urbac__ref_kind kind = groups_only ? URBAC__REF_GROUP : URBAC__REF_USER;
  if (!s)
    return;
  if (strncmp(s, "group:", 6) == 0) {
    kind = URBAC__REF_GROUP;
    s += 6;
  } else if (strncmp(s, "user:", 5) == 0 && !groups_only) {
    s += 5;
  }
  if (!*s) {
    lerr(c, n, URBAC_EVALUE, "empty id after the prefix");
    return;
  }
  urbac_err err = urbac__refs_add(r, s, strlen(s), kind, loc_of(n));
  if (err)
    lerr(c, n, err, "too many references");
}

static void parse_refs(loader *c, const urbac__node *n, urbac__refs *r, urbac__ref_kind kind,
                       const char *what)
{
  if (!expect_seq(c, n, what))
    return;
  for (size_t i = 0; i < n->n && !c->oom; i++) {
    size_t saved = push_index(c, i);
    if (kind == URBAC__REF_DG) {
      const char *s = get_str(c, n->kids[i], URBAC_MAX_NAME_BYTES, "a device group id");
      urbac_err err = s ? urbac__refs_add(r, s, strlen(s), URBAC__REF_DG, loc_of(n->kids[i])) : URBAC_OK;
      if (err)
        lerr(c, n->kids[i], err, "too many device groups");
    } else {
      add_principal(c, r, n->kids[i], kind == URBAC__REF_GROUP);
    }
    pop(c, saved);
  }
}

/* A list of directory role names into a bit set. */
static void parse_dirroles(loader *c, const urbac__node *n, uint32_t *bits)
{
  char why[512];
  if (!expect_seq(c, n, "directoryRoles"))
    return;
  for (size_t i = 0; i < n->n; i++) {
    size_t saved = push_index(c, i);
    const char *s = get_str(c, n->kids[i], URBAC_MAX_NAME_BYTES, "a directory role");
    int r = s ? urbac__catalog_legacy_find(URBAC_LEGACY_DIRECTORY_ROLE, s, strlen(s), why, sizeof why) : 0;
    if (s && r < 0)
      lerr(c, n->kids[i], URBAC_EUNKNOWNROLE, "%s", why);
    else if (s)
      *bits |= 1u << r;
    pop(c, saved);
  }
}

/* ---------------------------------------------------------------- users, groups */

#define OBJ(type, p) type *o = (type *)(p)

static void user_id(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__user, p);
  set_str(c, n, &o->id, URBAC_MAX_NAME_BYTES, "a user id");
}
static void user_name(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__user, p);
  set_str(c, n, &o->name, URBAC_MAX_NAME_BYTES, "a name");
}
static void user_enabled(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__user, p);
  get_bool(c, n, &o->enabled);
}
static void user_roles(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__user, p);
  parse_dirroles(c, n, &o->dirroles);
}
static void user_init(void *p) { ((urbac__user *)p)->enabled = true; }

/* ---------------------------------------------------------------- externalId, managedBy, scim */

static void ident_xid(loader *c, const urbac__node *n, urbac__ident *id)
{
  if (n->type == URBAC__NODE_SCALAR && n->len > URBAC__MAX_XID_BYTES) {
    lerr(c, n, URBAC_ELIMIT, "an externalId is longer than %u bytes", URBAC__MAX_XID_BYTES);
    return;
  }
  set_str(c, n, &id->xid, URBAC__MAX_XID_BYTES, "an externalId");
  urbac__free(id->xkey);
  id->xkey = id->xid ? urbac__xid_key(id->xid) : NULL;
  c->oom = c->oom || (id->xid && !id->xkey);
}

static void ident_managed(loader *c, const urbac__node *n, urbac__ident *id)
{
  const char *s = get_str(c, n, URBAC_MAX_NAME_BYTES, "managedBy");
  if (s && strcmp(s, "scim") != 0)
    lerr(c, n, URBAC_EVALUE, "managedBy is '%s'; the only value is 'scim'", s);
  id->managed = s && strcmp(s, "scim") == 0;
}

/* A plain scalar as YAML's core schema reads it (null, a boolean, a number), else a
 * string. Scalars made from JSON (URBAC__STYLE_JSON, _INT, _BOOL) are plain too. */
static json_t *scalar_json(const urbac__node *n)
{
  char *end;
  if (n->style == URBAC__STYLE_QUOTED)
    return json_stringn(n->str, n->len);
  if (is_null(n))
    return json_null();
  if (strcasecmp(n->str, "true") == 0 || strcasecmp(n->str, "false") == 0)
    return json_boolean(strcasecmp(n->str, "true") == 0);
  if (n->len && (isdigit((unsigned char)n->str[0]) || n->str[0] == '-')) {
    errno = 0;
    long long i = strtoll(n->str, &end, 10);
    if (!*end && !errno)
      return json_integer(i);
    double d = strtod(n->str, &end);
    if (!*end && !errno && isfinite(d))
      return json_real(d);
  }
  return json_stringn(n->str, n->len);
}

/* The JSON of a free-form value; NULL and an error at the node when it cannot be one. */
static json_t *node_json(loader *c, const urbac__node *n)
{
  if (n->type == URBAC__NODE_SCALAR) {
    json_t *j = scalar_json(n); /* libyaml read it as UTF-8: NULL is out of memory */
    c->oom = c->oom || !j;
    return j;
  }
  json_t *j = n->type == URBAC__NODE_SEQ ? json_array() : json_object();
  for (size_t i = 0; j && i < n->n; i++) {
    if (n->type == URBAC__NODE_MAP && i % 2 == 0) {
      if (json_object_get(j, n->kids[i]->str)) {
        lerr(c, n->kids[i], URBAC_EDUPLICATE, "key '%s' appears twice in scim", n->kids[i]->str);
        goto fail;
      }
      continue;
    }
    json_t *kid = node_json(c, n->kids[i]);
    if (!kid || (n->type == URBAC__NODE_SEQ ? json_array_append_new(j, kid)
                                            : json_object_set_new(j, n->kids[i - 1]->str, kid)))
      goto fail;
  }
  return j;
fail:
  json_decref(j);
  return NULL;
}

static void ident_scim(loader *c, const urbac__node *n, urbac__ident *id)
{
  if (n->type != URBAC__NODE_MAP) {
    lerr(c, n, URBAC_ETYPE, "scim must be a mapping of SCIM attributes");
    return;
  }
  size_t errors = c->errors;
  json_t *j = node_json(c, n);
  char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  json_decref(j);
  if (!s) {
    c->oom = c->oom || c->errors == errors;
    return;
  }
  if (strlen(s) > URBAC__MAX_SCIM_BYTES)
    lerr(c, n, URBAC_ELIMIT, "scim is %zu bytes as JSON; the limit is %u", strlen(s), URBAC__MAX_SCIM_BYTES);
  else if (!(id->scim = urbac__strdup(s)))
    c->oom = true;
  free(s);
}

static void user_xid(loader *c, const urbac__node *n, void *p)
{
  ident_xid(c, n, &((urbac__user *)p)->ident);
}
static void user_managed(loader *c, const urbac__node *n, void *p)
{
  ident_managed(c, n, &((urbac__user *)p)->ident);
}
static void user_scim(loader *c, const urbac__node *n, void *p)
{
  ident_scim(c, n, &((urbac__user *)p)->ident);
}
static const field user_fields[] = {{"id", true, user_id},
                                    {"name", false, user_name},
                                    {"enabled", false, user_enabled},
                                    {"externalId", false, user_xid},
                                    {"managedBy", false, user_managed},
                                    {"scim", false, user_scim},
                                    {"directoryRoles", false, user_roles}};

static void group_id(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__group, p);
  set_str(c, n, &o->id, URBAC_MAX_NAME_BYTES, "a group id");
}
static void group_name(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__group, p);
  set_str(c, n, &o->name, URBAC_MAX_NAME_BYTES, "a name");
}
static void group_members(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__group, p);
  parse_refs(c, n, &o->members, URBAC__REF_USER, "members");
}
static void group_roles(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__group, p);
  parse_dirroles(c, n, &o->dirroles);
}
static void group_xid(loader *c, const urbac__node *n, void *p)
{
  ident_xid(c, n, &((urbac__group *)p)->ident);
}
static void group_managed(loader *c, const urbac__node *n, void *p)
{
  ident_managed(c, n, &((urbac__group *)p)->ident);
}
static void group_scim(loader *c, const urbac__node *n, void *p)
{
  ident_scim(c, n, &((urbac__group *)p)->ident);
}
static const field group_fields[] = {{"id", true, group_id},
                                     {"name", false, group_name},
                                     {"externalId", false, group_xid},
                                     {"managedBy", false, group_managed},
                                     {"scim", false, group_scim},
                                     {"members", false, group_members},
                                     {"directoryRoles", false, group_roles}};

/* ---------------------------------------------------------------- devices */

static void dev_id(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__device, p);
  set_str(c, n, &o->id, URBAC_MAX_NAME_BYTES, "a device id");
}
static void dev_name(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__device, p);
  set_str(c, n, &o->name, URBAC_MAX_NAME_BYTES, "a device name");
}
static void dev_domain(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__device, p);
  set_str(c, n, &o->domain, URBAC_MAX_NAME_BYTES, "a domain");
}
static void dev_os(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__device, p);
  set_str(c, n, &o->os, URBAC_MAX_NAME_BYTES, "an OS");
}

static void parse_strs(loader *c, const urbac__node *n, urbac__strs *out, const char *what)
{
  if (!expect_seq(c, n, what))
    return;
  for (size_t i = 0; i < n->n && !c->oom; i++) {
    size_t saved = push_index(c, i);
    const char *s = get_str(c, n->kids[i], URBAC_MAX_NAME_BYTES, what);
    if (s && urbac__strs_add(out, s, strlen(s)))
      c->oom = true;
    pop(c, saved);
  }
}

static void dev_tags(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__device, p);
  parse_strs(c, n, &o->tags, "a tag");
}
static const field device_fields[] = {{"id", true, dev_id},
                                      {"name", false, dev_name},
                                      {"domain", false, dev_domain},
                                      {"os", false, dev_os},
                                      {"tags", false, dev_tags}};

/* ---------------------------------------------------------------- device groups */

static void dg_id(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__devgroup, p);
  set_str(c, n, &o->id, URBAC_MAX_NAME_BYTES, "a device group id");
  o->ungrouped = o->id && strcmp(o->id, URBAC__UNGROUPED_ID) == 0;
}
static void dg_name(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__devgroup, p);
  set_str(c, n, &o->name, URBAC_MAX_NAME_BYTES, "a name");
}
static void dg_rank(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__devgroup, p);
  get_uint(c, n, 1, URBAC_MAX_DEVICE_GROUPS, &o->rank);
}
static void dg_remediation(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__devgroup, p);
  const char *s = get_str(c, n, URBAC_MAX_NAME_BYTES, "remediation");
  for (uint8_t i = 0; s && i < 3; i++)
    if (strcasecmp(s, urbac__remediation_names[i]) == 0) {
      o->remediation = i;
      o->has_remediation = true;
      return;
    }
  if (s)
    lerr(c, n, URBAC_EVALUE, "remediation must be none, semi or full, not '%s'", s);
}

/* rules: {property: {operator: [values]}} */
static void dg_rules(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__devgroup, p);
  if (n->type != URBAC__NODE_MAP) {
    lerr(c, n, URBAC_ETYPE, "rules must be a mapping of properties (name, domain, tags, os)");
    return;
  }
  for (size_t i = 0; i + 1 < n->n; i += 2) {
    const urbac__node *key = n->kids[i], *ops = n->kids[i + 1];
    size_t prop = 0;
    while (prop < URBAC__NPROPS && strcmp(key->str, urbac__prop_names[prop]) != 0)
      prop++;
    if (prop == URBAC__NPROPS) {
      lerr(c, key, URBAC_EUNKNOWNKEY, "unknown rule property '%s' (name, domain, tags or os)", key->str);
      continue;
    }
    if (o->rules[prop].present) {
      lerr(c, key, URBAC_EDUPLICATE, "rule property '%s' appears twice", key->str);
      continue;
    }
    o->rules[prop].present = true;
    size_t saved = push(c, ".%s", key->str);
    if (ops->type != URBAC__NODE_MAP || ops->n == 0)
      lerr(c, ops, URBAC_ETYPE,
           "a rule must map an operator (equals, startsWith, endsWith, contains) to values");
    for (size_t j = 0; ops->type == URBAC__NODE_MAP && j + 1 < ops->n; j += 2) {
      const urbac__node *opk = ops->kids[j];
      size_t op = 0;
      while (op < URBAC__NOPS && strcmp(opk->str, urbac__op_names[op]) != 0)
        op++;
      if (op == URBAC__NOPS) {
        lerr(c, opk, URBAC_EUNKNOWNKEY, "unknown operator '%s' (equals, startsWith, endsWith or contains)",
             opk->str);
        continue;
      }
      if (o->rules[prop].values[op].n) {
        lerr(c, opk, URBAC_EDUPLICATE, "operator '%s' appears twice", opk->str);
        continue;
      }
      size_t s2 = push(c, ".%s", opk->str);
      const urbac__node *values = ops->kids[j + 1];
      parse_strs(c, values, &o->rules[prop].values[op], "a rule value");
      if ((values->type == URBAC__NODE_SEQ && values->n == 0) || is_null(values))
        lerr(c, is_null(values) ? opk : values, URBAC_EVALUE, "a rule needs at least one value");
      pop(c, s2);
    }
    pop(c, saved);
  }
}
static void dg_access(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__devgroup, p);
  parse_refs(c, n, &o->access, URBAC__REF_GROUP, "userAccess");
}
static void dg_init(void *p) { ((urbac__devgroup *)p)->listed = true; }
static const field dg_fields[] = {{"id", true, dg_id},        {"name", false, dg_name},
                                  {"rank", false, dg_rank},   {"remediation", false, dg_remediation},
                                  {"rules", false, dg_rules}, {"userAccess", false, dg_access}};

/* ---------------------------------------------------------------- roles */

static void role_name(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__role, p);
  set_str(c, n, &o->name, URBAC_MAX_NAME_BYTES, "a role name");
}
static void role_desc(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__role, p);
  set_str(c, n, &o->description, URBAC_MAX_TEXT_BYTES, "a description");
}

/* One permission entry: a catalog name or id (level optional: every level), or a
 * Graph wildcard that must match at least one grant. */
static void role_perm(loader *c, const urbac__node *n, urbac__role *o)
{
  char why[512];
  const char *s = get_str(c, n, URBAC_MAX_NAME_BYTES, "a permission");
  urbac__perm_entry e = {.loc = loc_of(n)};
  urbac__gmask group;
  if (!s)
    return;
  /* a group action ("microsoft.xdr/securityposture/read") is a wildcard without '*' */
  bool wild = strchr(s, '*') || (urbac__catalog_resolve(s, strlen(s), &e.grant, NULL, 0) != URBAC_OK &&
                                 urbac__catalog_wildcard(s, strlen(s), &group) > 0);
  if (wild) {
    urbac__gmask m;
    if (urbac__catalog_wildcard(s, strlen(s), &m) == 0) {
      lerr(c, n, URBAC_EUNKNOWNPERM, "wildcard '%s' matches no permission of the catalog", s);
      return;
    }
    urbac__gmask_or(&o->grants, &m);
    if (!(e.wildcard = urbac__strdup(s))) {
      c->oom = true;
      return;
    }
  } else {
    urbac_err err = urbac__catalog_resolve(s, strlen(s), &e.grant, why, sizeof why);
    if (err) {
      lerr(c, n, err, "%s", why);
      return;
    }
    if (e.grant.level == URBAC_LEVEL_NONE)
      e.grant.level = URBAC_LEVEL_ALL;
    urbac__gmask_add(&o->grants, e.grant.perm, e.grant.level);
  }
  if (URBAC_GROW(o->perms, o->cap_perms, o->nperms + 1)) {
    urbac__free(e.wildcard);
    c->oom = true;
    return;
  }
  o->perms[o->nperms++] = e;
}

static void role_perms(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__role, p);
  if (!expect_seq(c, n, "permissions"))
    return;
  for (size_t i = 0; i < n->n && !c->oom; i++) {
    size_t saved = push_index(c, i);
    role_perm(c, n->kids[i], o);
    pop(c, saved);
  }
}

static void asg_name(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__assignment, p);
  set_str(c, n, &o->name, URBAC_MAX_NAME_BYTES, "an assignment name");
}
static void asg_principals(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__assignment, p);
  parse_refs(c, n, &o->principals, URBAC__REF_USER, "principals");
}

static bool is_all(const urbac__node *n)
{
  return n->type == URBAC__NODE_SCALAR && strcasecmp(n->str, "all") == 0;
}

static void asg_sources(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__assignment, p);
  if (is_all(n)) {
    o->all_sources = true;
    o->workloads = (1u << URBAC__NWORKLOADS) - 1;
    return;
  }
  if (n->type != URBAC__NODE_SEQ) {
    lerr(c, n, URBAC_ETYPE, "dataSources must be a list of workloads (mde, mdo, mdi, ...) or all");
    return;
  }
  for (size_t i = 0; i < n->n; i++) {
    size_t saved = push_index(c, i);
    const char *s = get_str(c, n->kids[i], URBAC_MAX_NAME_BYTES, "a workload");
    int w = s ? urbac_catalog_workload_find(s) : -1;
    char known[256];
    urbac_catalog_workload_list(known, sizeof known, false);
    if (s && w < 0)
      lerr(c, n->kids[i], URBAC_EWORKLOAD, "unknown workload '%s' (%s)", s, known);
    else if (s && (o->workloads & (1u << w)))
      lerr(c, n->kids[i], URBAC_EDUPLICATE, "workload '%s' listed twice", s);
    else if (s)
      o->workloads |= 1u << w;
    pop(c, saved);
  }
  if (n->n == 0)
    lerr(c, n, URBAC_EVALUE, "dataSources is empty: name at least one workload, or all");
}

static void asg_dgs(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__assignment, p);
  o->all_dgs = is_all(n);
  if (o->all_dgs)
    return;
  if (n->type != URBAC__NODE_SEQ) {
    lerr(c, n, URBAC_ETYPE, "deviceGroups must be a list of device group ids or all");
    return;
  }
  parse_refs(c, n, &o->dgs, URBAC__REF_DG, "deviceGroups"); /* [] is a selection of none */
}
static void asg_init(void *p) { ((urbac__assignment *)p)->all_dgs = true; }
static const field asg_fields[] = {{"name", true, asg_name},
                                   {"principals", false, asg_principals},
                                   {"dataSources", true, asg_sources},
                                   {"deviceGroups", false, asg_dgs}};
static const list asg_list =
    LIST_OF(urbac__role, asg, nasg, cap_asg, urbac__assignment, asg_fields, "an assignment", asg_init);

static void role_asg(loader *c, const urbac__node *n, void *p) { parse_list(c, n, p, &asg_list); }
/* importedFrom: {workload: mde, role: Tier 1}: the legacy role a role was imported
 * from, so that importing again updates it instead of adding another. */
static void imp_workload(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__role, p);
  const char *s = get_str(c, n, URBAC_MAX_NAME_BYTES, "a workload");
  int w = s ? urbac_catalog_workload_find(s) : -1;
  char known[256];
  urbac_catalog_workload_list(known, sizeof known, true);
  if (s && (w < 0 || !urbac_catalog_workload_has_legacy((size_t)w)))
    lerr(c, n, URBAC_EWORKLOAD, "%s workload '%s' (a role is imported from %s)",
         w < 0 ? "unknown" : "no legacy model on", s, known);
  else if (s)
    o->imported_wl = (uint8_t)w;
}
static void imp_role(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__role, p);
  set_str(c, n, &o->imported_name, URBAC_MAX_NAME_BYTES, "a legacy role name");
}
static const field imported_fields[] = {{"workload", true, imp_workload}, {"role", true, imp_role}};
static void role_imported(loader *c, const urbac__node *n, void *p)
{
  walk_map(c, n, imported_fields, 2, p, "importedFrom");
}
static void role_init(void *p) { ((urbac__role *)p)->imported_wl = URBAC__NOT_IMPORTED; }
static const field role_fields[] = {{"name", true, role_name},
                                    {"description", false, role_desc},
                                    {"permissions", false, role_perms},
                                    {"assignments", false, role_asg},
                                    {"importedFrom", false, role_imported}};

/* ---------------------------------------------------------------- legacy */

static void mde_name(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__mde_role, p);
  set_str(c, n, &o->name, URBAC_MAX_NAME_BYTES, "a role name");
}
static void mde_desc(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__mde_role, p);
  set_str(c, n, &o->description, URBAC_MAX_TEXT_BYTES, "a description");
}
static void mde_perms(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__mde_role, p);
  char why[512];
  if (!expect_seq(c, n, "permissions"))
    return;
  for (size_t i = 0; i < n->n; i++) {
    size_t saved = push_index(c, i);
    const char *s = get_str(c, n->kids[i], URBAC_MAX_NAME_BYTES, "a permission");
    int k = s ? urbac__catalog_legacy_find(URBAC_LEGACY_MDE_PERMISSION, s, strlen(s), why, sizeof why) : 0;
    if (s && k < 0)
      lerr(c, n->kids[i], URBAC_EUNKNOWNPERM, "%s", why);
    else if (s)
      o->perms |= 1u << k;
    pop(c, saved);
  }
}
static void mde_groups(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__mde_role, p);
  parse_refs(c, n, &o->groups, URBAC__REF_GROUP, "groups");
}
static const field mde_fields[] = {{"name", true, mde_name},
                                   {"description", false, mde_desc},
                                   {"permissions", false, mde_perms},
                                   {"groups", false, mde_groups}};

/* EOP role groups and MDI roles: a catalog row by name, and members. */
static void members_name(loader *c, const urbac__node *n, urbac__legacy_members *o, urbac_legacy_kind kind)
{
  char why[512];
  const char *s = get_str(c, n, URBAC_MAX_NAME_BYTES, "a name");
  int k = s ? urbac__catalog_legacy_find(kind, s, strlen(s), why, sizeof why) : 0;
  o->kind = (uint8_t)kind;
  if (s && k < 0)
    lerr(c, n, URBAC_EUNKNOWNROLE, "%s", why);
  else if (s)
    o->which = (uint32_t)k;
}
static void eop_name(loader *c, const urbac__node *n, void *p)
{
  members_name(c, n, p, URBAC_LEGACY_EOP_ROLE_GROUP);
}
static void mdi_name(loader *c, const urbac__node *n, void *p)
{
  members_name(c, n, p, URBAC_LEGACY_MDI_ROLE);
}
static void lm_members(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac__legacy_members, p);
  parse_refs(c, n, &o->members, URBAC__REF_USER, "members");
}
static const field eop_fields[] = {{"name", true, eop_name}, {"members", false, lm_members}};
static const field mdi_fields[] = {{"name", true, mdi_name}, {"members", false, lm_members}};

static const list mde_list =
    LIST(mde_roles, URBAC__OBJ_MDE_ROLE, urbac__mde_role, mde_fields, "a Defender for Endpoint role", NULL);
static const list eop_list =
    LIST(eop, URBAC__OBJ_LEGACY_MEMBERS, urbac__legacy_members, eop_fields, "an EOP role group", NULL);
static const list mdi_list =
    LIST(mdi, URBAC__OBJ_LEGACY_MEMBERS, urbac__legacy_members, mdi_fields, "an MDI role", NULL);

static void legacy_mde_roles(loader *c, const urbac__node *n, void *p) { parse_list(c, n, p, &mde_list); }
static void legacy_eop_groups(loader *c, const urbac__node *n, void *p) { parse_list(c, n, p, &eop_list); }
static void legacy_mdi_roles(loader *c, const urbac__node *n, void *p) { parse_list(c, n, p, &mdi_list); }
static const field legacy_mde_fields[] = {{"roles", false, legacy_mde_roles}};
static const field legacy_mdo_fields[] = {{"roleGroups", false, legacy_eop_groups}};
static const field legacy_mdi_fields[] = {{"roles", false, legacy_mdi_roles}};
static void legacy_mde(loader *c, const urbac__node *n, void *p)
{
  walk_map(c, n, legacy_mde_fields, 1, p, "legacy.mde");
}
static void legacy_mdo(loader *c, const urbac__node *n, void *p)
{
  walk_map(c, n, legacy_mdo_fields, 1, p, "legacy.mdo");
}
static void legacy_mdi(loader *c, const urbac__node *n, void *p)
{
  walk_map(c, n, legacy_mdi_fields, 1, p, "legacy.mdi");
}
static const field legacy_fields[] = {
    {"mde", false, legacy_mde}, {"mdo", false, legacy_mdo}, {"mdi", false, legacy_mdi}};

/* ---------------------------------------------------------------- the top */

static void top_version(loader *c, const urbac__node *n, void *p)
{
  uint32_t v = 0;
  (void)p;
  if (get_uint(c, n, 0, UINT32_MAX, &v) && v != 1)
    lerr(c, n, URBAC_EVERSION, "format version %u is not supported (this urbac reads version 1)", v);
}
static void top_tenant(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac_model, p);
  set_str(c, n, &o->tenant, URBAC_MAX_NAME_BYTES, "the tenant id");
}
static void top_workloads(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac_model, p);
  if (n->type != URBAC__NODE_MAP) {
    lerr(c, n, URBAC_ETYPE, "workloads must map each workload to unified or legacy");
    return;
  }
  for (size_t i = 0; i + 1 < n->n; i += 2) {
    const urbac__node *k = n->kids[i], *v = n->kids[i + 1];
    int w = urbac_catalog_workload_find(k->str);
    size_t saved = push(c, ".%s", k->str);
    const char *s = get_str(c, v, URBAC_MAX_NAME_BYTES, "a mode");
    char known[256];
    urbac_catalog_workload_list(known, sizeof known, false);
    if (w < 0)
      lerr(c, k, URBAC_EWORKLOAD, "unknown workload '%s' (%s)", k->str, known);
    else if (o->mode_listed[w])
      lerr(c, k, URBAC_EDUPLICATE, "workload '%s' appears twice", k->str);
    else if (s && strcasecmp(s, "unified") && strcasecmp(s, "legacy"))
      lerr(c, v, URBAC_EVALUE, "a workload is unified or legacy, not '%s'", s);
    else if (s && !urbac_catalog_workload_has_legacy((size_t)w) && strcasecmp(s, "unified"))
      lerr(c, v, URBAC_EVALUE, "workload '%s' has no legacy model: it is always unified", k->str);
    else if (s) {
      o->modes[w] = strcasecmp(s, "unified") == 0 ? URBAC_MODE_UNIFIED : URBAC_MODE_LEGACY;
      o->mode_listed[w] = true;
    }
    pop(c, saved);
  }
}

static const list user_list = LIST(users, URBAC__OBJ_USER, urbac__user, user_fields, "a user", user_init);
static const list group_list = LIST(groups, URBAC__OBJ_GROUP, urbac__group, group_fields, "a group", NULL);
static const list dg_list = LIST(dgs, URBAC__OBJ_DG, urbac__devgroup, dg_fields, "a device group", dg_init);
static const list device_list =
    LIST(devices, URBAC__OBJ_DEVICE, urbac__device, device_fields, "a device", NULL);
static const list role_list = LIST(roles, URBAC__OBJ_ROLE, urbac__role, role_fields, "a role", role_init);

static void top_users(loader *c, const urbac__node *n, void *p) { parse_list(c, n, p, &user_list); }
static void top_groups(loader *c, const urbac__node *n, void *p) { parse_list(c, n, p, &group_list); }
static void top_dgs(loader *c, const urbac__node *n, void *p) { parse_list(c, n, p, &dg_list); }
static void top_devices(loader *c, const urbac__node *n, void *p) { parse_list(c, n, p, &device_list); }
static void top_roles(loader *c, const urbac__node *n, void *p) { parse_list(c, n, p, &role_list); }
static void top_legacy(loader *c, const urbac__node *n, void *p)
{
  walk_map(c, n, legacy_fields, 3, p, "legacy");
}
/* catalog: seeds (the default) | current (semantics.md, "Editions of the catalog") */
static void top_catalog(loader *c, const urbac__node *n, void *p)
{
  OBJ(urbac_model, p);
  const char *s = get_str(c, n, URBAC_MAX_NAME_BYTES, "a catalog");
  if (s && strcasecmp(s, "seeds") && strcasecmp(s, "current"))
    lerr(c, n, URBAC_EVALUE, "catalog is seeds or current, not '%s'", s);
  else if (s)
    o->edition = strcasecmp(s, "current") == 0 ? URBAC__EDITION_CURRENT : URBAC__EDITION_SEEDS;
}
static const field top_fields[] = {{"urbac", true, top_version},     {"tenant", true, top_tenant},
                                   {"catalog", false, top_catalog},  {"workloads", false, top_workloads},
                                   {"users", false, top_users},      {"groups", false, top_groups},
                                   {"deviceGroups", false, top_dgs}, {"devices", false, top_devices},
                                   {"roles", false, top_roles},      {"legacy", false, top_legacy}};

/* The reserved device group: listed or not, it exists, ranks last and has no rules. */
static void finish_ungrouped(loader *c, const urbac__node *root)
{
  urbac_model *m = c->m;
  bool have = false;
  for (size_t i = 0; i < m->dgs.n; i++) {
    urbac__devgroup *g = urbac__dg_at(m, i);
    bool rules = false;
    for (size_t p = 0; p < URBAC__NPROPS; p++)
      rules = rules || g->rules[p].present;
    have = have || g->ungrouped;
    if (g->ungrouped && (g->rank || rules))
      urbac__diag_add(c->d, URBAC_ERESERVED, m->source, g->loc.line, g->loc.col, NULL,
                      "'ungrouped' (Ungrouped devices (default)) always ranks last and has no rules"),
          c->errors++;
    else if (!g->ungrouped && g->id && !g->rank)
      urbac__diag_add(c->d, URBAC_EMISSING, m->source, g->loc.line, g->loc.col, NULL,
                      "device group '%s' has no 'rank' (required: 1 is matched first)", g->id),
          c->errors++;
  }
  if (have || c->parse_only)
    return;
  urbac__devgroup *g = urbac__obj_new(URBAC__OBJ_DG);
  if (!g || urbac__model_push(&m->dgs, g) || !(g->id = urbac__strdup(URBAC__UNGROUPED_ID))) {
    c->oom = true;
    return;
  }
  g->ungrouped = true;
  g->loc = loc_of(root);
}

/* Loads a tenant file: `buf` parsed here, or the tree `given` (borrowed) when the
 * caller parsed it (io/objects.c: a store's objects, their size held to a file's
 * limit there). `validate` false keeps only what the file's shape says (references
 * are not resolved: a store checks them against its rows). */
static urbac_err load_root(const char *buf, size_t len, const urbac__node *given, const char *name,
                           bool validate, urbac_model **out, urbac_diag *d)
{
  urbac__node *root = NULL;
  urbac_err err = URBAC_ENOMEM;
  loader c = {.d = d, .parse_only = !validate};
  size_t had = urbac_diag_count(d);
  *out = NULL;
  if (len > URBAC_MAX_FILE_BYTES)
    return urbac__diag_add(d, URBAC_ELIMIT, name, 0, 0, NULL, "file larger than %u bytes",
                           URBAC_MAX_FILE_BYTES);
  c.m = urbac__model_new();
  if (!c.m || !(c.m->source = urbac__strdup(name ? name : "<tenant>")))
    goto out;
  err = given ? URBAC_OK : urbac__node_parse(buf, len, c.m->source, &root, d);
  if (err)
    goto out;
  walk_map(&c, given ? given : root, top_fields, sizeof top_fields / sizeof top_fields[0], c.m,
           "the tenant file");
  if (!c.oom)
    finish_ungrouped(&c, given ? given : root);
  err = c.oom ? URBAC_ENOMEM : c.errors ? URBAC_EINVAL : URBAC_OK;
  if (!err && validate)
    err = urbac__model_validate(c.m, d);
out:
  urbac__node_free(root);
  if (err) {
    urbac_model_free(c.m);
    return urbac__diag_code_since(d, had, err, name ? name : "<tenant>");
  }
  *out = c.m;
  return URBAC_OK;
}

static urbac_err load_buffer(const char *buf, size_t len, const char *name, bool validate, urbac_model **out,
                             urbac_diag *d)
{
  return load_root(buf, len, NULL, name, validate, out, d);
}

urbac_err urbac__tenant_load_tree(const urbac__node *root, const char *name, bool validate, urbac_model **out,
                                  urbac_diag *d)
{
  return load_root(NULL, 0, root, name, validate, out, d);
}

urbac_err urbac_tenant_load_buffer(const char *buf, size_t len, const char *name, urbac_model **out,
                                   urbac_diag *d)
{
  return load_buffer(buf, len, name, true, out, d);
}

urbac_err urbac__tenant_parse_buffer(const char *buf, size_t len, const char *name, urbac_model **out,
                                     urbac_diag *d)
{
  return load_buffer(buf, len, name, false, out, d);
}

urbac_err urbac_tenant_load_file(const char *path, urbac_model **out, urbac_diag *d)
{
  char *buf = NULL;
  size_t size = 0;
  urbac_err err = urbac__file_read(path, &buf, &size, d);
  *out = NULL;
  if (!err)
    err = urbac_tenant_load_buffer(buf, size, path, out, d);
  urbac__free(buf);
  return err;
}

urbac_format urbac_format_from_path(const char *path)
{
  size_t n = strlen(path);
  return n >= 5 && strcasecmp(path + n - 5, ".json") == 0 ? URBAC_FORMAT_JSON : URBAC_FORMAT_YAML;
}

void urbac_free(void *p) { urbac__free(p); }
