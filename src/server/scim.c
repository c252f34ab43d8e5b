/*
 * server/scim.c - the SCIM 2.0 endpoint (RFC 7643, RFC 7644) of each tenant, at
 * /api/v1/tenants/{tenant}/scim/v2: what Microsoft Entra ID's provisioning
 * service (or any SCIM client) calls to keep urbac's users and groups equal to
 * the directory's.
 *
 * A SCIM user is a tenant user: userName is its id (what checks name),
 * displayName its name, active its `enabled`, externalId its externalId; the
 * rest of the resource (name, emails, the enterprise extension, ...) is kept
 * verbatim in its `scim` bag, with the SCIM id, which is stable across a rename
 * (the externalId when it is a GUID no user has as SCIM id, else a random UUID).
 * A SCIM group is a tenant group whose id is its SCIM id (its externalId when
 * Entra sends one, else a UUID), displayName its name, members its members (a
 * member's SCIM id maps to the user's id). Everything SCIM makes is marked
 * `managedBy: scim`.
 *
 * Every request runs on the tenant's writer thread (SRV_SCIM routes, writer.c),
 * so a read sees every write before it, and the lookups by userName,
 * externalId and displayName come from the tenant's index (scim_index.c), kept
 * from the store's change feed: a lookup and a point read, never a scan. A
 * filter the index cannot answer (co, sw, or, emails, ...) scans the tenant's
 * users or groups: docs/scim.md says so. Writes go through srv_write_puts(),
 * audited as the caller; a provisioning identity's writes are not judged by the
 * no-escalation rule (the identity provider decides who is who and in which
 * group; roles are granted by administrators) and join the writer's group
 * commit. Errors are SCIM's error schema (srv_scim_reply, called by the face).
 *
 * Depends on: the public API, jansson, OpenSSL (random ids), scim.h.
 */
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "server/scim.h"

#define SCIM_PAGE_DEFAULT 100
#define SCIM_PAGE_MAX 1000
#define SCIM_BAG_MAX 16384 /* bytes of a resource's kept attributes, as JSON */
#define SCIM_MAX_MEMBERS 100000

typedef struct call {
  srv_req *req;
  srv_resp *r;
  srv_tenant *t;
  bool groups; /* /Groups, else /Users */
  const char *kind;
} call;

/* ---------------------------------------------------------------- errors and replies */

static const char *const scim_types[] = {"invalidFilter", "tooMany",     "uniqueness", "mutability",
                                         "invalidSyntax", "invalidPath", "noTarget",   "invalidValue",
                                         "invalidVers",   "sensitive"};

bool srv_scim_path(const srv_req *req)
{
  return req->nsegs >= 6 && strcmp(req->segs[0], "api") == 0 && strcmp(req->segs[1], "v1") == 0 &&
         strcmp(req->segs[2], "tenants") == 0 && strcmp(req->segs[4], "scim") == 0 &&
         strcmp(req->segs[5], "v2") == 0;
}

void srv_scim_reply(const srv_req *req, srv_resp *r)
{
  if (!srv_scim_path(req))
    return;
  r->content_type = "application/scim+json";
  json_t *body = r->status >= 400 && r->body.len ? json_loadb(r->body.p, r->body.len, 0, NULL) : NULL;
  json_t *err = json_object_get(body, "error");
  if (!err) {
    json_decref(body);
    return;
  }
  const char *code = json_string_value(json_object_get(err, "code")), *type = NULL;
  for (size_t i = 0; code && i < sizeof scim_types / sizeof scim_types[0]; i++)
    if (strcmp(code, scim_types[i]) == 0)
      type = scim_types[i];
  const char *target = json_string_value(json_object_get(err, "target"));
  if (code && (strcmp(code, "EDUPLICATE") == 0 || strcmp(code, "EUNIQUE") == 0))
    type = "uniqueness";
  else if (code && strcmp(code, "badRequest") == 0 && target && strcmp(target, "body") == 0)
    type = "invalidSyntax"; /* a body that is not a JSON object: the message says line:column */
  char status[8];
  snprintf(status, sizeof status, "%u", r->status);
  json_t *scim = json_pack("{s:[s], s:s, s:s*, s:O}", "schemas", SCIM_ERROR, "status", status, "scimType",
                           type, "detail", json_object_get(err, "message"));
  srv_buf_free(&r->body);
  unsigned st = r->status;
  srv_json(r, st, scim);
  json_decref(body);
}

static void fail(srv_resp *r, unsigned status, const char *scim_type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail(srv_resp *r, unsigned status, const char *scim_type, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  srv_error(r, status, scim_type ? scim_type : "scim", NULL, "%s", msg);
}

static void fail_with(srv_resp *r, const scim_error *e) { fail(r, e->status, e->scim_type, "%s", e->detail); }

static void reply(const call *c, unsigned status, json_t *j)
{
  srv_json(c->r, status, j);
  if (!c->r->has_revision) {
    srv_read_lock();
    c->r->revision = srv_tenant_snap(c->t)->revision;
    srv_read_unlock();
  }
  c->r->has_revision = true;
}

/* ---------------------------------------------------------------- small helpers */

static void now_iso(char out[32])
{
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static bool new_uuid(char out[37])
{
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1)
    return false;
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
           b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return true;
}

/* The object (kind, id) as the store has it, or NULL. */
static json_t *read_object(const call *c, const char *kind, const char *id)
{
  char *raw = NULL;
  json_t *j = NULL;
  if (urbac_store_get(c->t->store, c->t->id, kind, id, &raw, NULL, NULL) == URBAC_OK)
    j = json_loads(raw, 0, NULL);
  urbac_free(raw);
  return j;
}

/* The index, brought up to the store; NULL after replying. */
static scim_index *index_of(const call *c)
{
  urbac_diag *d = urbac_diag_new();
  urbac_err err = d ? scim_index_sync(c->t, d) : URBAC_ENOMEM;
  if (err)
    srv_error_urbac(c->r, err, d, NULL);
  urbac_diag_free(d);
  return err ? NULL : c->t->scim;
}

/* `active` as a boolean, from true/false or the strings Entra has sent ("True", "False"). */
static bool active_of(json_t *v, bool *out)
{
  const char *s = json_string_value(v);
  if (json_is_boolean(v))
    *out = json_is_true(v);
  else if (s && (strcasecmp(s, "true") == 0 || strcasecmp(s, "false") == 0))
    *out = strcasecmp(s, "true") == 0;
  else
    return false;
  return true;
}

/* The resource's attributes urbac does not map, kept in the object's `scim`
 * bag with the SCIM id and the times; NULL after replying when too big. */
static json_t *bag_of(const call *c, json_t *res, const char *const *mapped, const char *scim_id,
                      const char *created)
{
  json_t *bag = json_deep_copy(res);
  char now[32];
  for (size_t i = 0; mapped[i]; i++)
    json_object_del(bag, mapped[i]);
  json_object_del(bag, "password"); /* a secret: never kept */
  now_iso(now);
  if (scim_id)
    json_object_set_new(bag, "id", json_string(scim_id));
  json_object_set_new(bag, "meta",
                      json_pack("{s:s, s:s}", "created", created ? created : now, "lastModified", now));
  char *text = json_dumps(bag, JSON_COMPACT);
  size_t n = text ? strlen(text) : SIZE_MAX;
  free(text);
  if (n > SCIM_BAG_MAX) {
    fail(c->r, 400, "invalidValue", "the resource's attributes take %zu bytes as JSON: at most %d", n,
         SCIM_BAG_MAX);
    json_decref(bag);
    return NULL;
  }
  return bag;
}

/* A string attribute or absent; false after replying when it is another type. */
static bool string_attr(const call *c, json_t *res, const char *name, bool required, const char **out)
{
  json_t *v = json_object_get(res, name);
  *out = json_string_value(v);
  if ((v && !json_is_null(v) && !json_is_string(v)) || (required && (!*out || !**out))) {
    fail(c->r, 400, "invalidValue", "%s %s", name,
         required ? "is required: a non-empty string" : "is a string");
    return false;
  }
  if (*out && strlen(*out) > 256) {
    fail(c->r, 400, "invalidValue", "%s is longer than 256 bytes", name);
    return false;
  }
  return true;
}

/* ---------------------------------------------------------------- users */

static const char *const user_mapped[] = {"schemas",    "id",   "userName", "displayName", "active",
                                          "externalId", "meta", "groups",   NULL};

/* The SCIM resource of tenant user `obj`. */
static json_t *user_resource(json_t *obj)
{
  json_t *bag = json_object_get(obj, "scim");
  json_t *res = json_is_object(bag) ? json_deep_copy(bag) : json_object();
  const char *id = json_string_value(json_object_get(obj, "id"));
  json_t *scim_id = json_object_get(res, "id"), *meta = json_object_get(res, "meta");
  json_t *enabled = json_object_get(obj, "enabled");
  json_t *schemas = json_pack("[s]", SCIM_CORE_USER);
  if (json_object_get(res, SCIM_ENTERPRISE))
    json_array_append_new(schemas, json_string(SCIM_ENTERPRISE));
  json_object_set_new(res, "schemas", schemas);
  if (!scim_id)
    json_object_set_new(res, "id", json_string(id));
  json_object_set(res, "userName", json_object_get(obj, "id"));
  if (json_object_get(obj, "name"))
    json_object_set(res, "displayName", json_object_get(obj, "name"));
  if (json_object_get(obj, "externalId"))
    json_object_set(res, "externalId", json_object_get(obj, "externalId"));
  json_object_set_new(res, "active", json_boolean(!enabled || json_is_true(enabled)));
  if (!json_is_object(meta))
    json_object_set_new(res, "meta", meta = json_object());
  char location[600];
  snprintf(location, sizeof location, "Users/%s", json_string_value(json_object_get(res, "id")));
  json_object_set_new(meta, "resourceType", json_string("User"));
  json_object_set_new(meta, "location", json_string(location));
  return res;
}

/* The tenant user for SCIM resource `res`, with SCIM id `scim_id`; NULL after replying. */
static json_t *user_object(const call *c, json_t *res, const char *scim_id, const char *created)
{
  const char *user_name, *display, *ext;
  bool active = true;
  json_t *a = json_object_get(res, "active");
  if (!string_attr(c, res, "userName", true, &user_name) ||
      !string_attr(c, res, "displayName", false, &display) || !string_attr(c, res, "externalId", false, &ext))
    return NULL;
  if (a && !json_is_null(a) && !active_of(a, &active)) {
    fail(c->r, 400, "invalidValue", "active is a boolean (or \"True\"/\"False\")");
    return NULL;
  }
  json_t *bag = bag_of(c, res, user_mapped, scim_id, created);
  if (!bag)
    return NULL;
  json_t *obj =
      json_pack("{s:s, s:b, s:s, s:o}", "id", user_name, "enabled", active, "managedBy", "scim", "scim", bag);
  if (display)
    json_object_set_new(obj, "name", json_string(display));
  if (ext)
    json_object_set_new(obj, "externalId", json_string(ext));
  return obj;
}

/* ---------------------------------------------------------------- groups */

static const char *const group_mapped[] = {"schemas", "id",   "displayName", "externalId",
                                           "members", "meta", NULL};

/* The SCIM resource of tenant group `obj` (its members unless `members` is false). */
static json_t *group_resource(const scim_index *x, json_t *obj, bool members)
{
  json_t *bag = json_object_get(obj, "scim");
  json_t *res = json_is_object(bag) ? json_deep_copy(bag) : json_object(), *meta, *v;
  const char *id = json_string_value(json_object_get(obj, "id")),
             *name = json_string_value(json_object_get(obj, "name"));
  json_object_set_new(res, "schemas", json_pack("[s]", SCIM_CORE_GROUP));
  json_object_set_new(res, "id", json_string(id));
  json_object_set_new(res, "displayName", json_string(name ? name : id));
  if (json_object_get(obj, "externalId"))
    json_object_set(res, "externalId", json_object_get(obj, "externalId"));
  if (members) {
    json_t *list = json_array();
    size_t i;
    json_array_foreach(json_object_get(obj, "members"), i, v)
    {
      const char *m = json_string_value(v), *sid;
      if (!m)
        continue;
      if (strncmp(m, "group:", 6) == 0)
        json_array_append_new(list, json_pack("{s:s, s:s}", "value", m + 6, "type", "Group"));
      else
        json_array_append_new(
            list, json_pack("{s:s, s:s}", "value", (sid = scim_index_scim_id(x, m)) ? sid : m, "display", m));
    }
    json_object_set_new(res, "members", list);
  }
  if (!json_is_object(meta = json_object_get(res, "meta")))
    json_object_set_new(res, "meta", meta = json_object());
  char location[600];
  snprintf(location, sizeof location, "Groups/%s", id);
  json_object_set_new(meta, "resourceType", json_string("Group"));
  json_object_set_new(meta, "location", json_string(location));
  return res;
}

/* The tenant name of member `value`: a user (by SCIM id, userName or externalId),
 * group:ID, or a GUID kept pending until such a user or group appears; NULL: none. */
static const char *member_name(const scim_index *x, const char *value, char *buf, size_t size)
{
  const char *u = scim_index_user(x, value);
  if (!u)
    u = scim_index_user_name(x, value);
  if (!u)
    u = scim_index_user_ext(x, value);
  if (u)
    return u;
  if (scim_index_group(x, value) || scim_index_group_ext(x, value)) {
    const char *g = scim_index_group(x, value) ? value : scim_index_group_ext(x, value);
    snprintf(buf, size, "group:%s", g);
    return buf;
  }
  return scim_is_guid(value) ? value : NULL;
}

/* The tenant group for SCIM resource `res` with id `id`; NULL after replying. */
static json_t *group_object(const call *c, const scim_index *x, json_t *res, const char *id,
                            const char *created)
{
  const char *name, *ext;
  json_t *members = json_object_get(res, "members"), *v;
  if (!string_attr(c, res, "displayName", true, &name) || !string_attr(c, res, "externalId", false, &ext))
    return NULL;
  if (members && !json_is_null(members) && !json_is_array(members)) {
    fail(c->r, 400, "invalidValue", "members is a list of {\"value\": ID}");
    return NULL;
  }
  if (json_array_size(members) > SCIM_MAX_MEMBERS) {
    fail(c->r, 400, "tooMany", "a group holds at most %d members", SCIM_MAX_MEMBERS);
    return NULL;
  }
  json_t *names = json_array(), *seen = json_object();
  size_t i;
  json_array_foreach(members, i, v)
  {
    const char *value = json_string_value(json_object_get(v, "value"));
    char buf[300];
    const char *m = value ? member_name(x, value, buf, sizeof buf) : NULL;
    if (!m) {
      fail(c->r, 400, "invalidValue", "members[%zu].value: %s", i,
           value ? "no user or group has this id" : "a string is required");
      json_decref(names);
      json_decref(seen);
      return NULL;
    }
    if (!json_object_get(seen, m) && strcmp(m + (strncmp(m, "group:", 6) == 0 ? 6 : 0), id) != 0) {
      json_object_set_new(seen, m, json_true());
      json_array_append_new(names, json_string(m));
    }
  }
  json_decref(seen);
  json_t *bag = bag_of(c, res, group_mapped, NULL, created);
  if (!bag) {
    json_decref(names);
    return NULL;
  }
  json_t *obj = json_pack("{s:s, s:s, s:o, s:s, s:o}", "id", id, "name", name, "members", names, "managedBy",
                          "scim", "scim", bag);
  if (ext)
    json_object_set_new(obj, "externalId", json_string(ext));
  return obj;
}

/* ---------------------------------------------------------------- attributes= and excludedAttributes= */

/* Is top-level attribute `key` named in the comma-separated `list` (a name, its
 * sub-attribute "key.sub", or either with a schema URN before it)? */
static bool named_in(const char *list, const char *key)
{
  size_t kn = strlen(key);
  for (const char *p = list; p && *p;) {
    size_t len = strcspn(p, ",");
    const char *name = p, *end = p + len;
    while (name < end && *name == ' ')
      name++;
    const char *colon = NULL;
    for (const char *q = name; q < end; q++)
      if (*q == ':')
        colon = q;
    if (colon && (size_t)(end - name) >= kn && strncasecmp(name, key, kn) == 0 &&
        (name + kn == end || name[kn] == ':'))
      return true; /* the extension itself, or one of its attributes */
    if (colon)
      name = colon + 1;
    if ((size_t)(end - name) >= kn && strncasecmp(name, key, kn) == 0 &&
        (name + kn == end || name[kn] == '.'))
      return true;
    p = end + (*end == ',');
  }
  return false;
}

static void project(const srv_req *req, json_t *res)
{
  const char *only = srv_arg_get(req, "attributes"), *without = srv_arg_get(req, "excludedAttributes");
  void *it = json_object_iter(res);
  while (it) {
    const char *key = json_object_iter_key(it);
    void *next = json_object_iter_next(res, it);
    bool always = strcmp(key, "id") == 0 || strcmp(key, "schemas") == 0;
    if (!always && ((only && !named_in(only, key)) || (without && named_in(without, key))))
      json_object_del(res, key);
    it = next;
  }
}

static bool members_wanted(const srv_req *req)
{
  const char *only = srv_arg_get(req, "attributes"), *without = srv_arg_get(req, "excludedAttributes");
  return !(without && named_in(without, "members")) && !(only && !named_in(only, "members"));
}

/* ---------------------------------------------------------------- reading */

/* The resource of object `id`, or NULL. */
static json_t *resource_of(const call *c, const scim_index *x, const char *id, bool members)
{
  json_t *obj = read_object(c, c->kind, id);
  json_t *res = !obj ? NULL : c->groups ? group_resource(x, obj, members) : user_resource(obj);
  json_decref(obj);
  return res;
}

/* The tenant id of the resource the path names ({id}), or NULL after replying 404. */
static const char *path_object(const call *c, const scim_index *x)
{
  const char *sid = c->req->params[1];
  const char *id = c->groups ? (scim_index_group(x, sid) ? sid : NULL) : scim_index_user(x, sid);
  if (!id)
    fail(c->r, 404, NULL, "Resource %s not found", sid);
  return id;
}

static void get_one(const call *c)
{
  const scim_index *x = index_of(c);
  const char *id = x ? path_object(c, x) : NULL;
  json_t *res = id ? resource_of(c, x, id, members_wanted(c->req)) : NULL;
  if (!id)
    return;
  if (!res)
    return fail(c->r, 404, NULL, "Resource %s not found", c->req->params[1]);
  project(c->req, res);
  reply(c, 200, res);
}

typedef struct list_ctx {
  const call *c;
  const scim_index *x;
  const scim_filter *f;
  bool members;
  size_t skip, count, total;
  json_t *out;
} list_ctx;

/* One candidate: counted when it matches, kept when it falls in the page. */
static void consider(list_ctx *l, json_t *res)
{
  if (!res || (l->f && !scim_filter_match(l->f, res))) {
    json_decref(res);
    return;
  }
  l->total++;
  if (l->total > l->skip && json_array_size(l->out) < l->count) {
    project(l->c->req, res);
    json_array_append_new(l->out, res);
  } else {
    json_decref(res);
  }
}

static int scan_one(void *ctx, const char *kind, const char *id, const char *json)
{
  (void)kind;
  (void)id;
  list_ctx *l = ctx;
  json_t *obj = json_loads(json, 0, NULL);
  consider(l, !obj ? NULL : l->c->groups ? group_resource(l->x, obj, l->members) : user_resource(obj));
  json_decref(obj);
  return 0;
}

/* The candidates an index answers for the filter; false when none does (a scan). */
static bool indexed(list_ctx *l)
{
  const scim_filter *f = l->f;
  const char *v, *id = NULL;
  json_t *many = NULL, *g;
  size_t i;
  if (!f)
    return false;
  if ((v = scim_filter_eq(f, "id")))
    id = l->c->groups ? (scim_index_group(l->x, v) ? v : NULL) : scim_index_user(l->x, v);
  else if (!l->c->groups && (v = scim_filter_eq(f, "userName")))
    id = scim_index_user_name(l->x, v);
  else if ((v = scim_filter_eq(f, "externalId")))
    id = l->c->groups ? scim_index_group_ext(l->x, v) : scim_index_user_ext(l->x, v);
  else if (l->c->groups && (v = scim_filter_eq(f, "displayName")))
    many = scim_index_group_name(l->x, v);
  else
    return false;
  if (id)
    consider(l, resource_of(l->c, l->x, id, l->members));
  json_array_foreach(many, i, g) consider(l, resource_of(l->c, l->x, json_string_value(g), l->members));
  return true;
}

/* A non-negative whole number argument, or `dflt`; false after replying. */
static bool number_arg(const call *c, const char *name, long dflt, long *out)
{
  const char *s = srv_arg_get(c->req, name);
  char *end;
  *out = dflt;
  if (!s)
    return true;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v < -1000000000L || v > 1000000000L) {
    fail(c->r, 400, "invalidValue", "%s '%.40s' is not a whole number", name, s);
    return false;
  }
  *out = v;
  return true;
}

static void list(const call *c)
{
  long start, count;
  scim_filter *f = NULL;
  scim_error e;
  const char *text = srv_arg_get(c->req, "filter");
  if (srv_arg_get(c->req, "sortBy") || srv_arg_get(c->req, "sortOrder"))
    return fail(c->r, 501, NULL, "sorting is not supported (ServiceProviderConfig: sort.supported is false)");
  if (!number_arg(c, "startIndex", 1, &start) || !number_arg(c, "count", SCIM_PAGE_DEFAULT, &count))
    return;
  if (text && !scim_filter_parse(text, &f, &e))
    return fail_with(c->r, &e);
  start = start < 1 ? 1 : start;
  count = count < 0 ? 0 : count > SCIM_PAGE_MAX ? SCIM_PAGE_MAX : count;
  const scim_index *x = index_of(c);
  list_ctx l = {c, x, f, members_wanted(c->req) || f, (size_t)start - 1, (size_t)count, 0, json_array()};
  urbac_err err = URBAC_OK;
  if (x && !indexed(&l) && f)
    err = urbac_store_list(c->t->store, c->t->id, c->kind, scan_one, &l, NULL);
  else if (x && !f && !count) /* only the total: from the index */
    l.total = scim_index_count(x, c->groups);
  else if (x && !f)
    err = urbac_store_list(c->t->store, c->t->id, c->kind, scan_one, &l, NULL);
  scim_filter_free(f);
  if (!x || err) {
    json_decref(l.out);
    if (err)
      fail(c->r, 500, NULL, "the store could not be read");
    return;
  }
  reply(c, 200,
        json_pack("{s:[s], s:I, s:I, s:I, s:o}", "schemas", SCIM_LIST_RESPONSE, "totalResults",
                  (json_int_t)l.total, "startIndex", (json_int_t)start, "itemsPerPage",
                  (json_int_t)json_array_size(l.out), "Resources", l.out));
}

/* ---------------------------------------------------------------- writing */

/* ---------------------------------------------------------------- writing */

/*
 * A rename (PATCH or PUT of userName) or a delete takes the object's references
 * with it: urbac_store_rename() rewrites every object naming the old id, and
 * urbac_store_delete_cascade() takes the deleted user or group out of every group,
 * assignment and legacy role naming it, each found through the store's reference
 * index (the cost of the referrers, not of the tenant) and audited. A rename with
 * other changes is the rename and then the put, in one store batch: both or
 * neither.
 */
typedef struct refs_write {
  const char *kind, *old_id, *new_id; /* new_id NULL: delete */
  const char *json;                   /* the object after a rename */
} refs_write;

static urbac_err do_refs_write(srv_tenant *t, void *ctx, const urbac_write *w, uint64_t *revision,
                               urbac_diag *d)
{
  refs_write *c = ctx;
  urbac_err err = urbac_store_batch_begin(t->store, d);
  if (err)
    return err;
  if (!c->new_id)
    err = urbac_store_delete_cascade(t->store, t->id, c->kind, c->old_id, w, revision, d);
  else if (!(err = urbac_store_rename(t->store, t->id, c->kind, c->old_id, c->new_id, w, revision, d)))
    err = urbac_store_put(t->store, t->id, c->kind, c->new_id, c->json, w, revision, d);
  urbac_err end = urbac_store_batch_end(t->store, !err, d);
  return err ? err : end;
}

/* Writes `obj` (stolen) as (kind, its id), renamed from `old_id` when the id
 * changed; replies with its resource (`status`; 204: no body). */
static void write_object(const call *c, json_t *obj, const char *old_id, bool create, unsigned status)
{
  const char *id = json_string_value(json_object_get(obj, "id"));
  char *text = json_dumps(obj, JSON_COMPACT);
  bool existed, ok = false, renamed = old_id && strcmp(old_id, id) != 0;
  uint64_t revision;
  urbac_object_put put = {c->kind, id, text};
  refs_write rw = {c->kind, old_id, id, text};
  if (!text)
    fail(c->r, 500, NULL, "out of memory");
  else if (renamed)
    ok = srv_run_write(c->req, c->r, do_refs_write, &rw, &revision);
  else
    ok = srv_write_puts(c->req, c->r, &put, 1, create, &existed, &revision);
  /* a plain put is the store's next revision: the index learns it as written */
  bool known = ok && !renamed && scim_index_wrote(c->t, c->kind, id, obj, revision);
  const scim_index *x = !ok ? NULL : known ? c->t->scim : index_of(c);
  json_t *res = !x || status == 204 ? NULL
                : c->groups         ? group_resource(x, obj, members_wanted(c->req))
                                    : user_resource(obj);
  if (x && status == 204) { /* no body: none made */
    c->r->status = 204;
    srv_buf_free(&c->r->body);
  } else if (res) {
    project(c->req, res);
    srv_json(c->r, status, res);
  }
  free(text);
  json_decref(obj);
}

/* 409 when another user than `self` has this userName or externalId, or
 * another SCIM group this displayName, or another group this externalId. */
static bool unique(const call *c, const scim_index *x, json_t *obj, const char *self)
{
  const char *ext = json_string_value(json_object_get(obj, "externalId"));
  const char *other = ext ? (c->groups ? scim_index_group_ext(x, ext) : scim_index_user_ext(x, ext)) : NULL;
  if (other && (!self || strcmp(other, self) != 0)) {
    fail(c->r, 409, "uniqueness", "externalId '%s' is taken by %s '%s'", ext, c->kind, other);
    return false;
  }
  if (!c->groups) {
    const char *name = json_string_value(json_object_get(obj, "id")), *u = scim_index_user_name(x, name);
    if (u && (!self || strcmp(u, self) != 0)) {
      fail(c->r, 409, "uniqueness", "userName '%s' is taken by user '%s'", name, u);
      return false;
    }
    return true;
  }
  json_t *ids = scim_index_group_name(x, json_string_value(json_object_get(obj, "name"))), *g;
  size_t i;
  json_array_foreach(ids, i, g)
  {
    const char *gid = json_string_value(g);
    json_t *o = self && strcmp(gid, self) == 0 ? NULL : read_object(c, "group", gid);
    bool taken = o && json_is_string(json_object_get(o, "managedBy"));
    json_decref(o);
    if (taken) {
      fail(c->r, 409, "uniqueness", "displayName '%s' is taken by group '%s'",
           json_string_value(json_object_get(obj, "name")), gid);
      return false;
    }
  }
  return true;
}

static void create(const call *c, json_t *body)
{
  const scim_index *x = index_of(c);
  char uuid[37];
  if (!x)
    return;
  const char *ext = json_string_value(json_object_get(body, "externalId"));
  bool ext_id =
      ext && (c->groups ? !scim_index_group(x, ext) : scim_is_guid(ext) && !scim_index_user(x, ext));
  if (!ext_id && !new_uuid(uuid))
    return fail(c->r, 500, NULL, "no random id");
  const char *sid = ext_id ? ext : uuid;
  json_t *obj = c->groups ? group_object(c, x, body, sid, NULL) : user_object(c, body, sid, NULL);
  if (obj && unique(c, x, obj, NULL))
    write_object(c, obj, NULL, true, 201);
  else
    json_decref(obj);
}

/* The resource after a PUT (`body`) or PATCH of the object the path names. */
static void update(const call *c, json_t *body, bool patch)
{
  const scim_index *x = index_of(c);
  const char *id = x ? path_object(c, x) : NULL;
  json_t *old = id ? read_object(c, c->kind, id) : NULL, *res = NULL, *obj = NULL;
  scim_error e;
  if (!id)
    goto out;
  if (!old) {
    fail(c->r, 404, NULL, "Resource %s not found", c->req->params[1]);
    goto out;
  }
  const char *created =
      json_string_value(json_object_get(json_object_get(json_object_get(old, "scim"), "meta"), "created"));
  res = c->groups ? group_resource(x, old, true) : user_resource(old);
  if (patch && !scim_patch_apply(res, body, &e)) {
    fail_with(c->r, &e);
    goto out;
  }
  json_t *want = patch ? res : body, *sid = json_object_get(want, "id");
  if (sid && (!json_is_string(sid) || strcmp(json_string_value(sid), c->req->params[1]) != 0)) {
    fail(c->r, 400, "mutability", "id is immutable: '%s'", c->req->params[1]);
    goto out;
  }
  if (!c->groups && !json_object_get(want, "active") && !patch)
    json_object_set(want, "active", json_object_get(res, "active"));
  obj = c->groups ? group_object(c, x, want, id, created) : user_object(c, want, c->req->params[1], created);
  if (obj && unique(c, x, obj, id)) {
    write_object(c, obj, id, false, c->groups && patch ? 204 : 200);
    obj = NULL;
  }
out:
  json_decref(obj);
  json_decref(res);
  json_decref(old);
}

static void delete_one(const call *c)
{
  const scim_index *x = index_of(c);
  refs_write rw = {c->kind, x ? path_object(c, x) : NULL, NULL, NULL};
  uint64_t revision;
  if (rw.old_id && srv_run_write(c->req, c->r, do_refs_write, &rw, &revision)) {
    c->r->status = 204;
    srv_buf_free(&c->r->body);
  }
}

/* ---------------------------------------------------------------- routing */

static void discovery(const call *c, const char *what, const char *only)
{
  json_t *doc = strcmp(what, "ServiceProviderConfig") == 0 ? scim_meta_service_provider_config()
                : strcmp(what, "Schemas") == 0             ? scim_meta_schemas(only)
                                                           : scim_meta_resource_types(only);
  if (!doc)
    return fail(c->r, 404, NULL, "Resource %s not found", only);
  if (json_is_array(doc)) /* a list: as a ListResponse */
    doc = json_pack("{s:[s], s:I, s:i, s:I, s:o}", "schemas", SCIM_LIST_RESPONSE, "totalResults",
                    (json_int_t)json_array_size(doc), "startIndex", 1, "itemsPerPage",
                    (json_int_t)json_array_size(doc), "Resources", doc);
  reply(c, 200, doc);
}

static void resources(const call *c)
{
  json_t *body = NULL;
  srv_method m = c->req->method;
  if ((m == SRV_POST || m == SRV_PUT || m == SRV_PATCH) && !(body = srv_body_object(c->req, c->r)))
    return;
  bool one = c->req->nsegs == 8;
  if (m == SRV_GET && one)
    get_one(c);
  else if (m == SRV_GET)
    list(c);
  else if (m == SRV_POST)
    create(c, body);
  else if (m == SRV_DELETE)
    delete_one(c);
  else
    update(c, body, m == SRV_PATCH);
  json_decref(body);
}

void srv_h_scim(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  const char *what = req->segs[6];
  call c = {req, r, req->tenant, strcmp(what, "Groups") == 0, strcmp(what, "Groups") == 0 ? "group" : "user"};
  if (strcmp(what, "Bulk") == 0)
    return fail(r, 501, NULL,
                "bulk operations are not supported (ServiceProviderConfig: bulk.supported is false)");
  if (strcmp(what, "Users") != 0 && strcmp(what, "Groups") != 0)
    return discovery(&c, what, req->nsegs == 8 ? req->params[1] : NULL);
  pthread_mutex_lock(&c.t->write_lock); /* the index and the store's handle: the writer's */
  resources(&c);
  pthread_mutex_unlock(&c.t->write_lock);
}
