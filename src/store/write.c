/*
 * store/write.c - urbac_store_put_many() at the cost of the change: the store is
 * the authority on validity, and answers it without loading the tenant.
 *
 * Inside the write transaction (the tenant's row read and the store locked
 * first, as for every write), each put is parsed alone by the loader's own code
 * (urbac__object_parse(): every shape rule, the same codes and messages), its
 * stored row is read by primary key, and only what differs is written: the rows,
 * their reference index rows (store/refs.c), one audit record per changed
 * object, the revision. Then, still inside the transaction, what only the tenant
 * can answer is asked of the index, and any problem rolls everything back:
 *
 *  - a small tenant is assembled and given to the loader's full validation: the
 *    changed objects as written, a stub ({"id": ...}) for each user, group and
 *    device group they name that exists now (so what does not is the loader's
 *    EDANGLING, with its message and hint), and, when device groups are in it,
 *    a stub of every other device group with its rank (ERANK). Cycles among the
 *    changed groups, duplicate assignment names and the rest are found there too.
 *    (EOP role groups and MDI roles cannot be listed twice: a put's id must be the
 *    catalog's name, the row's key.);
 *  - a cycle through groups the write did not change: for each group given a new
 *    member group, a walk down the index's group -> group rows from it, and from
 *    every member group of one that answers to a new name (new, or given an
 *    externalId: a name another group gives may name it now, in any case);
 *  - a deleted user, group or device group still named by an object the write
 *    did not change: the index's rows to it; that object is then validated the
 *    same way, so its EDANGLING reads as the loader's.
 *
 * Batches stay all or nothing; every problem found is reported before the
 * rollback. A put that changes nothing writes nothing.
 *
 * What an object named before the write is the index's rows from it, read with
 * its row; for a big group the handle wrote last, with the body the store still
 * holds, they are known without reading them (urbac__named_recall(), refs.c):
 * a member swapped in a group of thousands reads none of its thousands of rows.
 *
 * Depends on: util, model, io/objects.c, store, store/refs.c, jansson.
 */
#include <jansson.h>
#include <stdio.h>

#include "io/tree.h"
#include "store/refs.h"

#define NAMED_BY_SHOWN 5        /* referrers of a deleted object shown */
#define CYCLE_WALK_MAX 1000000u /* groups a cycle walk visits at most */

/* One put as it will be written. */
typedef struct put {
  const char *kind; /* the static spelling */
  const char *id;
  char *before;           /* the stored body, or NULL */
  int64_t position;       /* its place (kept), or a new one */
  char *after;            /* canonical body, or NULL for a delete */
  urbac_model *alone;     /* `after` parsed alone */
  const urbac__strs *old; /* what it named before the write (the index's to_kind, to_id pairs):
                             `rows`, or what the handle remembers of the stored body */
  urbac__strs rows;       /* the index's rows from it, read here */
  bool skip;              /* a later put of the same object replaces it */
  size_t last;            /* the last put of the same object (its own index when it is) */
  bool read, exists;      /* (on the last put) its row was read; it exists as of the put read last */
  bool change;            /* it changes its object: written, audited, validated */
} put;

typedef struct writer {
  urbac_store *store;
  const char *tenant;
  urbac_diag *d;
  char name[600]; /* the source errors name */
  put *v;
  size_t n;
  urbac_err hard;  /* a failure of the store or memory: stop at once */
  size_t errors;   /* validation problems found */
  urbac_err first; /* the first one's return code, as the whole-tenant path returns it */
} writer;

/* A problem of validation (kept going to find the others), or of the store (stop). */
static void note(writer *x, urbac_err err)
{
  if (!err)
    return;
  if (err == URBAC_ENOMEM || err == URBAC_ESTORE || err == URBAC_EUNAVAILABLE) {
    if (!x->hard)
      x->hard = err;
  } else if (!x->errors++) {
    x->first = err;
  }
}

/* Is `key` in `map`? */
static bool in_map(const urbac__strmap *map, const char *key, size_t len)
{
  uint32_t unused;
  return urbac__strmap_get(map, key, len, &unused);
}

/* ---------------------------------------------------------------- reading the puts */

/* Points each put at the last put of the same object (`last`), the one written. */
static urbac_err find_last(writer *x)
{
  urbac__strmap seen = {0};
  urbac__strs keys = {0};
  urbac_err err = urbac__strmap_init(&seen, x->n);
  for (size_t k = x->n; !err && k-- > 0;) {
    char *key = urbac__pair_key(x->v[k].kind ? x->v[k].kind : "?", x->v[k].id);
    err = !key || urbac__strs_add(&keys, key, strlen(key)) ? URBAC_ENOMEM : URBAC_OK;
    urbac__free(key);
    uint32_t last = (uint32_t)k;
    if (!err) {
      const char *kept = keys.v[keys.n - 1];
      urbac_err put_err = urbac__strmap_put(&seen, kept, strlen(kept), (uint32_t)k, &last);
      err = put_err == URBAC_EDUPLICATE ? URBAC_OK : put_err;
    }
    x->v[k].last = last;
    x->v[k].skip = last != k;
  }
  urbac__strmap_free(&seen);
  urbac__strs_free(&keys);
  return err;
}

/* Reads put `i` in its turn, as if the puts before it were applied (a delete of what
 * is not there is refused; a new object takes the next place, but one deleted and
 * put again in this write keeps its own: the write records it as one change, so
 * the change feed says "replaced"); the last put of an object is the one written,
 * its stored row read when the object first comes up. */
static void read_put(writer *x, const urbac_object_put *in, size_t i, int64_t *next_position)
{
  urbac_store *store = x->store;
  put *p = &x->v[i], *last = &x->v[p->last];
  urbac_err err = URBAC_OK;
  if (!p->kind) {
    note(x, urbac__diag_add(x->d, URBAC_EINVAL, NULL, 0, 0, NULL, "cannot change %s '%s' (unknown kind?)",
                            in->kind ? in->kind : "(null)", p->id));
    return;
  }
  if (!last->read) {
    err = store->ops->object_get(store->db, x->tenant, p->kind, p->id, &last->before, &last->position, x->d);
    last->read = true;
    last->exists = last->before != NULL;
  }
  if (!err && !in->json && !last->exists)
    err = urbac__diag_add(x->d, URBAC_ENOTFOUND, NULL, 0, 0, NULL, "tenant '%s' has no %s '%s'", x->tenant,
                          p->kind, p->id);
  if (!err && in->json && !last->exists && !last->before)
    last->position = (*next_position)++;
  last->exists = in->json != NULL;
  if (!err && in->json && p == last)
    err = urbac__object_parse(x->tenant, p->kind, p->id, in->json, x->name, &p->alone, &p->after, x->d);
  if (!err && p == last && p->before && urbac__refs_kind_names(p->kind)) { /* what it named before */
    p->old = urbac__named_recall(store, x->tenant, p->kind, p->id, p->before);
    if (!p->old) {
      p->old = &p->rows;
      err = store->ops->refs_from(store->db, x->tenant, p->kind, p->id, NULL, &p->rows, x->d);
    }
  }
  note(x, err);
}

static urbac_err read_puts(writer *x, const urbac_object_put *puts)
{
  int64_t next = 0;
  urbac_err err = x->store->ops->max_position(x->store->db, x->tenant, &next, x->d);
  next++;
  for (size_t i = 0; !err && i < x->n; i++) {
    const char *kind = urbac__object_kind(puts[i].kind);
    x->v[i].kind = kind && strcmp(kind, URBAC__KIND_API_KEY) != 0 ? kind : NULL; /* keys have their calls */
    x->v[i].id = puts[i].id ? puts[i].id : "";
    x->v[i].old = &x->v[i].rows; /* none, unless read or recalled */
  }
  if (!err)
    err = find_last(x);
  for (size_t i = 0; !err && !x->hard && i < x->n; i++)
    read_put(x, &puts[i], i, &next);
  for (size_t i = 0; !err && i < x->n; i++) {
    const put *p = &x->v[i];
    x->v[i].change = !p->skip && p->kind && (p->before || p->after) &&
                     (!p->before || !p->after || strcmp(p->before, p->after) != 0);
  }
  return err ? err : x->hard;
}

/* Does put `p` change its object? (Set once the puts are read.) */
static bool changed(const put *p) { return p->change; }

/* ---------------------------------------------------------------- writing */

static urbac_err write_puts(writer *x, const urbac_write *w, urbac__tenant_row *row, size_t *written)
{
  size_t n = 0;
  urbac_change *c = urbac__calloc(x->n + 1, sizeof *c);
  urbac__object *objs = urbac__calloc(x->n + 1, sizeof *objs);
  const urbac__object **after = urbac__calloc(x->n + 1, sizeof *after);
  const urbac_model **alone = urbac__calloc(x->n + 1, sizeof *alone);
  const urbac__strs **old = urbac__calloc(x->n + 1, sizeof *old);
  urbac_err err = c && objs && after && alone && old ? URBAC_OK : URBAC_ENOMEM;
  for (size_t i = 0; !err && i < x->n; i++) {
    put *p = &x->v[i];
    if (!changed(p))
      continue;
    c[n] = (urbac_change){!p->after   ? URBAC_DELETE
                          : p->before ? URBAC_UPDATE
                                      : URBAC_CREATE,
                          p->kind, p->id, p->before, p->after};
    objs[n] = (urbac__object){p->kind, (char *)(uintptr_t)p->id, p->after, p->position};
    after[n] = p->after ? &objs[n] : NULL;
    alone[n] = p->alone;
    old[n] = p->old; /* read with the row (read_put); none when the object is new */
    n++;
  }
  if (!err && n)
    err = urbac__store_write_changes(x->store, x->tenant, c, after, alone, NULL, old, n, w, row, x->d);
  *written = n;
  urbac__free(c);
  urbac__free(objs);
  urbac__free((void *)after);
  urbac__free((void *)alone);
  urbac__free((void *)old);
  return err;
}

/* ---------------------------------------------------------------- the small tenant */

typedef struct small {
  urbac__object *o;
  size_t n, cap;
  urbac__strmap have; /* "kind\nid" of what is in it */
  urbac__strs keys;
} small;

static void small_free(small *s)
{
  urbac__objects_free(s->o, s->n);
  urbac__strmap_free(&s->have);
  urbac__strs_free(&s->keys);
}

/* Adds an object (its body copied) unless one of that kind and id is there. */
static urbac_err small_add(small *s, const char *kind, const char *id, const char *body, int64_t position)
{
  char *key = urbac__pair_key(kind, id);
  urbac_err err = !key || urbac__strs_add(&s->keys, key, strlen(key)) ? URBAC_ENOMEM : URBAC_OK;
  urbac__free(key);
  const char *kept = err ? NULL : s->keys.v[s->keys.n - 1];
  if (!err && !s->have.slots)
    err = urbac__strmap_init(&s->have, 16);
  if (!err && in_map(&s->have, kept, strlen(kept)))
    return URBAC_OK;
  if (!err)
    err = urbac__strmap_put(&s->have, kept, strlen(kept), (uint32_t)s->n, NULL);
  if (!err && URBAC_GROW(s->o, s->cap, s->n + 1))
    err = URBAC_ENOMEM;
  if (err)
    return err;
  urbac__object *o = &s->o[s->n];
  *o = (urbac__object){kind, urbac__strdup(id), urbac__strdup(body), position};
  s->n++;
  return o->id && o->body ? URBAC_OK : URBAC_ENOMEM;
}

static bool small_has(const small *s, const char *kind, const char *id)
{
  char key[1200];
  size_t k = strlen(kind), n = strlen(id);
  if (!s->have.slots || k + 1 + n >= sizeof key)
    return false;
  memcpy(key, kind, k);
  key[k] = '\n';
  memcpy(key + k + 1, id, n);
  return in_map(&s->have, key, k + 1 + n);
}

/* What the changed objects named before the write and still name: users (0)
 * and groups (1) by id, the strings borrowed from the puts' old index rows. */
typedef struct known_set {
  urbac__strmap by[2];
} known_set;

static void known_free(known_set *k)
{
  urbac__strmap_free(&k->by[0]);
  urbac__strmap_free(&k->by[1]);
}

/* Is user (k 0) or group (k 1) `id` among them? */
static bool known_has(const known_set *kn, size_t k, const char *id)
{
  return kn && k < 2 && kn->by[k].slots && in_map(&kn->by[k], id, strlen(id));
}

/* The stub of `kind` `id` in `s` (what add_stub() put, its position past any
 * object's), or NULL when there is none (absent, or the object as written). */
static urbac__object *small_stub(small *s, const char *kind, const char *id)
{
  uint32_t at = 0;
  char *key = urbac__pair_key(kind, id);
  bool in = key && s->have.slots && urbac__strmap_get(&s->have, key, strlen(key), &at);
  urbac__free(key);
  return in && s->o[at].position == INT64_MAX ? &s->o[at] : NULL;
}

/* {"id": ID} or {"name": ID}, with "rank" when given, into `b`; false when the id is not UTF-8. */
static bool stub(urbac__buf *b, const char *key, const char *id, json_int_t rank)
{
  urbac__buf_printf(b, "{\"%s\":", key);
  bool ok = urbac__json_string(b, id, strlen(id));
  if (rank > 0)
    urbac__buf_printf(b, ",\"rank\":%lld", (long long)rank);
  urbac__buf_puts(b, "}");
  return ok;
}

static urbac_err add_stub(small *s, const char *kind, const char *key, const char *id, json_int_t rank,
                          int64_t position)
{
  urbac__buf b = {0};
  bool ok = stub(&b, key, id, rank);
  char *body = urbac__buf_take(&b, NULL);
  /* (ids come from the loader, UTF-8 always; jansson's stub failed the same way) */
  urbac_err err = body && ok ? small_add(s, kind, id, body, position) : URBAC_ENOMEM;
  urbac__free(body);
  return err;
}

/* Each stored device group not in `s` yet, as a stub with its rank. */
static urbac_err add_device_groups(writer *x, small *s)
{
  urbac__object *o = NULL;
  size_t n = 0;
  urbac_err err = x->store->ops->objects(x->store->db, x->tenant, "deviceGroup", &o, &n, x->d);
  for (size_t i = 0; !err && i < n; i++) {
    if (small_has(s, "deviceGroup", o[i].id))
      continue;
    json_t *j = json_loads(o[i].body, 0, NULL);
    json_int_t rank = j ? json_integer_value(json_object_get(j, "rank")) : 0;
    json_decref(j);
    err = add_stub(s, "deviceGroup", "id", o[i].id, rank, o[i].position);
  }
  urbac__objects_free(o, n);
  return err;
}

/* The user or group (`kind`) whose externalId is `name`, from the index: *found,
 * and a stub {"id": ..., "externalId": name} in `s` for the loader to resolve it. */
static urbac_err add_xid_target(writer *x, small *s, const char *kind, const char *name, bool *found)
{
  urbac__strs from = {0};
  char *key = urbac__xid_key(name);
  urbac_err err =
      key ? x->store->ops->refs_to(x->store->db, x->tenant,
                                   strcmp(kind, "user") == 0 ? URBAC__REF_XID_USER : URBAC__REF_XID_GROUP,
                                   key, 1, &from, x->d)
          : URBAC_ENOMEM;
  *found = !err && from.n >= 2;
  if (*found) {
    json_t *j = json_pack("{s:s, s:s}", "id", from.v[1], "externalId", name);
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    urbac__object *stubbed = small_stub(s, kind, from.v[1]);
    if (!body)
      err = URBAC_ENOMEM;
    else if (stubbed) { /* named by its id too: its stub answers to both */
      urbac__free(stubbed->body);
      err = (stubbed->body = urbac__strdup(body)) ? URBAC_OK : URBAC_ENOMEM;
    } else if (!small_has(s, kind, from.v[1]))
      err = small_add(s, kind, from.v[1], body, INT64_MAX);
    json_decref(j);
    free(body);
  }
  urbac__free(key);
  urbac__strs_free(&from);
  return err;
}

/* The names of `ids` (`n`, found[i] by id) that no user (`user`) or group has as
 * its id: by externalId, else (a user's name) a group of that id, for the
 * loader's hint "write group:". */
static urbac_err add_missing(writer *x, small *s, bool user, const char **ids, size_t n, bool *found)
{
  size_t missing = 0, left = 0;
  urbac_err err = URBAC_OK;
  for (size_t i = 0; i < n; i++)
    if (!found[i])
      ids[missing++] = ids[i];
  for (size_t i = 0; !err && i < missing; i++) /* named by externalId? */
    err = add_xid_target(x, s, user ? "user" : "group", ids[i], &found[i]);
  for (size_t i = 0; !err && user && i < missing; i++)
    if (!found[i])
      ids[left++] = ids[i];
  if (!err && left)
    err = x->store->ops->exist(x->store->db, x->tenant, "group", ids, left, found, x->d);
  for (size_t i = 0; !err && i < left; i++)
    if (found[i])
      err = add_stub(s, "group", "id", ids[i], 0, INT64_MAX);
  return err;
}

/* Stubs for what `refs` name that exists now; a user that does not, but a group of
 * that id does, gets the group (so the loader's hint says "write group:"). */
static urbac_err add_targets(writer *x, small *s, const urbac__ref_list *refs, const known_set *known,
                             bool *need_dgs)
{
  static const char *const kinds[] = {"user", "group", "deviceGroup"};
  const char **ids = urbac__calloc(refs->n + 1, sizeof *ids);
  bool *found = urbac__calloc(refs->n + 1, sizeof *found);
  urbac_err err = ids && found ? URBAC_OK : URBAC_ENOMEM;
  for (size_t k = 0; !err && k < 3; k++) {
    size_t n = 0;
    for (size_t i = 0; !err && i < refs->n; i++)
      if (strcmp(refs->v[i].to_kind, kinds[k]) != 0 || small_has(s, kinds[k], refs->v[i].to_id))
        continue;
      else if (known_has(known, k, refs->v[i].to_id)) /* named before: there */
        err = add_stub(s, kinds[k], "id", refs->v[i].to_id, 0, INT64_MAX);
      else
        ids[n++] = refs->v[i].to_id;
    if (k == 2 && n) {
      *need_dgs = true; /* device groups come all together, with their ranks */
      continue;
    }
    if (n)
      err = x->store->ops->exist(x->store->db, x->tenant, kinds[k], ids, n, found, x->d);
    for (size_t i = 0; !err && i < n; i++)
      if (found[i])
        err = add_stub(s, kinds[k], "id", ids[i], 0, INT64_MAX);
    if (!err && k < 2)
      err = add_missing(x, s, k == 0, ids, n, found);
  }
  urbac__free((void *)ids);
  urbac__free(found);
  return err;
}

static int by_position(const void *a, const void *b)
{
  const urbac__object *x = a, *y = b;
  return (x->position > y->position) - (x->position < y->position);
}

/* The loader's full validation of the objects in `s` (as written) with stubs for
 * what they name and, when a device group is among them or named, every device
 * group with its rank (the one rule that spans a kind: a rank is held once). */
static void validate_small(writer *x, small *s, const urbac__ref_list *refs, const known_set *known)
{
  bool dgs = false;
  urbac_model *m = NULL;
  for (size_t i = 0; i < s->n; i++)
    dgs = dgs || strcmp(s->o[i].kind, "deviceGroup") == 0;
  urbac_err err = add_targets(x, s, refs, known, &dgs);
  if (!err && dgs)
    err = add_device_groups(x, s);
  if (err) {
    note(x, err);
    return;
  }
  qsort(s->o, s->n, sizeof *s->o, by_position); /* file order: the later of two is the one named */
  note(x, urbac__model_from_objects(x->tenant, s->o, s->n, x->name, &m, x->d));
  urbac_model_free(m);
}

static const put *find_put(const writer *x, const char *kind, const char *id);

/* Does the batch change a `kind` (user or group) that had an externalId? Then a
 * name given before may have named it by that externalId, and be gone. */
static bool xid_moves(const writer *x, const char *kind)
{
  const char *row = strcmp(kind, "user") == 0 ? URBAC__REF_XID_USER : URBAC__REF_XID_GROUP;
  for (size_t i = 0; i < x->n; i++)
    for (size_t k = 0; changed(&x->v[i]) && strcmp(x->v[i].kind, kind) == 0 && k + 1 < x->v[i].old->n; k += 2)
      if (strcmp(x->v[i].old->v[k], row) == 0)
        return true;
  return false;
}

/* What the changed objects named before the write and the write did not delete
 * (nor take the externalId of): there still, no need to look (a member added to
 * a group of thousands looks up one). */
static urbac_err known_targets(const writer *x, known_set *known)
{
  urbac_err err = URBAC_OK;
  bool moved[2] = {xid_moves(x, "user"), xid_moves(x, "group")};
  for (size_t i = 0; !err && i < x->n; i++)
    for (size_t k = 0; !err && changed(&x->v[i]) && k + 1 < x->v[i].old->n; k += 2) {
      const char *kind = x->v[i].old->v[k], *id = x->v[i].old->v[k + 1];
      size_t m = strcmp(kind, "user") == 0 ? 0 : strcmp(kind, "group") == 0 ? 1 : 2;
      const put *p = m < 2 && !moved[m] ? find_put(x, m ? "group" : "user", id) : NULL;
      if (m < 2 && !moved[m] && !(p && changed(p) && !p->after) && !known->by[m].slots)
        err = urbac__strmap_init(&known->by[m], x->v[i].old->n / 2);
      if (!err && m < 2 && !moved[m] && !(p && changed(p) && !p->after)) {
        urbac_err added = urbac__strmap_put(&known->by[m], id, strlen(id), 0, NULL);
        err = added == URBAC_EDUPLICATE ? URBAC_OK : added;
      }
    }
  return err;
}

/* The externalId part of a put user or group, as parsed; NULL for other kinds. */
static const urbac__ident *alone_ident(const put *p)
{
  const urbac_model *m = p->alone;
  if (m && m->users.n && strcmp(p->kind, "user") == 0)
    return &urbac__user_at(m, 0)->ident;
  if (m && m->groups.n && strcmp(p->kind, "group") == 0)
    return &urbac__group_at(m, 0)->ident;
  return NULL;
}

/* A changed user's or group's externalId held by no other (the index: the batch's
 * rows are written already). */
static void check_xid_unique(writer *x, const put *p)
{
  bool user = strcmp(p->kind, "user") == 0;
  const urbac__ident *id = alone_ident(p);
  urbac__strs from = {0};
  if (!id || !id->xkey)
    return;
  urbac_err err = x->store->ops->refs_to(
      x->store->db, x->tenant, user ? URBAC__REF_XID_USER : URBAC__REF_XID_GROUP, id->xkey, 2, &from, x->d);
  for (size_t i = 0; !err && i + 1 < from.n; i += 2)
    if (strcmp(from.v[i + 1], p->id) != 0) {
      urbac__diag_add(x->d, URBAC_EDUPLICATE, x->name, 0, 0, NULL,
                      "duplicate %s externalId '%s' (held by %s '%s')", p->kind, id->xid, p->kind,
                      from.v[i + 1]);
      err = URBAC_EINVAL; /* a validation failure, as the loader returns it */
    }
  note(x, err);
  urbac__strs_free(&from);
}

/* ---------------------------------------------------------------- the quick answer */

/* Each assignment name of the roles in `alone` held once (the loader's rule). */
static urbac_err asg_unique(const urbac_model *alone, bool *ok)
{
  urbac_err err = URBAC_OK;
  for (size_t r = 0; !err && *ok && r < alone->roles.n; r++) {
    const urbac__role *role = urbac__role_at(alone, r);
    urbac__strmap seen = {0};
    err = role ? urbac__strmap_init(&seen, role->nasg + 1) : URBAC_OK;
    for (size_t a = 0; !err && *ok && role && a < role->nasg; a++) {
      const char *name = role->asg[a].name;
      urbac_err added = urbac__strmap_put(&seen, name, strlen(name), (uint32_t)a, NULL);
      *ok = added != URBAC_EDUPLICATE;
      err = added == URBAC_EDUPLICATE ? URBAC_OK : added;
    }
    urbac__strmap_free(&seen);
  }
  return err;
}

/* Do the `n` names `ids` of `kind` each name something (by id, by externalId, or
 * pending: a GUID of a user or group), and no group of the batch (`batch`)? */
static urbac_err all_resolve(writer *x, const small *batch, const char *kind, const char **ids, size_t n,
                             bool *ok)
{
  bool *found = urbac__calloc(n + 1, sizeof *found);
  bool dg = strcmp(kind, "deviceGroup") == 0, group = strcmp(kind, "group") == 0;
  urbac_err err = found ? URBAC_OK : URBAC_ENOMEM;
  if (!err && n)
    err = x->store->ops->exist(x->store->db, x->tenant, kind, ids, n, found, x->d);
  for (size_t i = 0; !err && *ok && i < n; i++) {
    urbac__strs from = {0};
    char *key = found[i] || dg ? NULL : urbac__xid_key(ids[i]);
    if (!found[i] && !dg && !key)
      err = URBAC_ENOMEM;
    else if (key)
      err = x->store->ops->refs_to(x->store->db, x->tenant,
                                   group ? URBAC__REF_XID_GROUP : URBAC__REF_XID_USER, key, 1, &from, x->d);
    const char *holder = found[i] ? ids[i] : !err && from.n >= 2 ? from.v[1] : NULL;
    bool cycle = group && holder && small_has(batch, "group", holder); /* the loader says which */
    *ok = !err && !cycle && (holder || (!dg && urbac__is_guid(ids[i], strlen(ids[i]))));
    urbac__free(key);
    urbac__strs_free(&from);
  }
  urbac__free(found);
  return err;
}

/* The changed objects checked without the loader, where that is sure to find
 * them valid: *ok when each name they give names something (what they named
 * before needs no look; a new name is looked up in the index, as written), and
 * a role's assignments have distinct names. Anything else (a name that names
 * nothing, a group of the batch named, a device group put, whose rank spans its
 * kind) is left to the loader's full validation (*ok false), which says what
 * is wrong as a file's load would. */
static urbac_err quick_valid(writer *x, const small *batch, const urbac__ref_list *refs,
                             const known_set *known, bool *ok)
{
  static const char *const kinds[] = {"user", "group", "deviceGroup"};
  const char **ids = urbac__calloc(refs->n + 1, sizeof *ids);
  urbac_err err = ids ? URBAC_OK : URBAC_ENOMEM;
  size_t bytes = 0; /* the loader holds them to a file's size */
  *ok = true;
  for (size_t i = 0; !err && *ok && i < x->n; i++)
    if (changed(&x->v[i]) && x->v[i].after) {
      bytes += strlen(x->v[i].after);
      *ok = strcmp(x->v[i].kind, "deviceGroup") != 0 && bytes <= URBAC_MAX_FILE_BYTES;
      err = *ok ? asg_unique(x->v[i].alone, ok) : URBAC_OK;
    }
  for (size_t k = 0; !err && *ok && k < 3; k++) {
    size_t n = 0;
    for (size_t i = 0; i < refs->n; i++) {
      const char *id = refs->v[i].to_id;
      if (strcmp(refs->v[i].to_kind, kinds[k]) != 0)
        continue;
      if (small_has(batch, kinds[k], id))
        *ok = *ok && k != 1; /* a user of the batch; a group of it may close a cycle */
      else if (!known_has(known, k, id))
        ids[n++] = id;
    }
    if (*ok)
      err = all_resolve(x, batch, kinds[k], ids, n, ok);
  }
  urbac__free((void *)ids);
  return err;
}

/* Every changed object, validated: quickly, or in one small tenant. */
static void validate_changed(writer *x)
{
  small s = {0};
  known_set known = {0};
  urbac__ref_list refs = {0};
  urbac_err err = known_targets(x, &known);
  for (size_t i = 0; !err && i < x->n; i++)
    if (changed(&x->v[i]) && x->v[i].after) {
      check_xid_unique(x, &x->v[i]);
      err = small_add(&s, x->v[i].kind, x->v[i].id, x->v[i].after, x->v[i].position);
      if (!err)
        err = urbac__refs_of(x->v[i].alone, x->v[i].kind, x->v[i].id, &refs);
    }
  bool quick = false;
  if (!err && s.n)
    err = quick_valid(x, &s, &refs, &known, &quick);
  if (err)
    note(x, err);
  else if (s.n && !quick)
    validate_small(x, &s, &refs, &known);
  urbac__ref_list_free(&refs);
  small_free(&s);
  known_free(&known);
}

/* ---------------------------------------------------------------- what the batch did not change */

/* Is group `id` among the puts? */
static const put *find_put(const writer *x, const char *kind, const char *id)
{
  for (size_t i = 0; i < x->n; i++)
    if (!x->v[i].skip && x->v[i].kind && strcmp(x->v[i].kind, kind) == 0 && strcmp(x->v[i].id, id) == 0)
      return &x->v[i];
  return NULL;
}

/* An object that names what a delete removed: validated as stored, so the loader says what it names. */
static void validate_stored(writer *x, const char *kind, const char *id)
{
  char *body = NULL;
  int64_t position = 0;
  urbac_model *alone = NULL;
  char *canonical = NULL;
  small s = {0};
  urbac__ref_list refs = {0};
  urbac_err err = x->store->ops->object_get(x->store->db, x->tenant, kind, id, &body, &position, x->d);
  if (!err && body)
    err = urbac__object_parse(x->tenant, kind, id, body, x->name, &alone, &canonical, x->d);
  if (!err && alone && !urbac__object_kind(kind))
    err = urbac__diag_add(x->d, URBAC_ESTORE, x->name, 0, 0, NULL, "the reference index names a '%s'", kind);
  if (!err && alone)
    err = small_add(&s, urbac__object_kind(kind), id, body, position);
  if (!err && alone)
    err = urbac__refs_of(alone, kind, id, &refs);
  if (!err && alone)
    validate_small(x, &s, &refs, NULL);
  note(x, err);
  urbac__ref_list_free(&refs);
  small_free(&s);
  urbac_model_free(alone);
  urbac__free(canonical);
  urbac__free(body);
}

/* The objects the batch did not change that name `name` (of `kind`), validated as
 * stored. `strict`: they must fail (the name is gone), or the index and the rows
 * disagree; a name by externalId may instead have passed to another holder. */
static void named_by(writer *x, const char *kind, const char *name, bool strict)
{
  urbac__strs from = {0};
  size_t before = x->errors, asked = 0;
  urbac_err err = x->store->ops->refs_to(x->store->db, x->tenant, kind, name, NAMED_BY_SHOWN, &from, x->d);
  for (size_t i = 0; !err && i + 1 < from.n; i += 2) {
    const put *q = find_put(x, from.v[i], from.v[i + 1]);
    if (!(q && changed(q) && q->after)) { /* one the batch changed was validated with it already */
      validate_stored(x, from.v[i], from.v[i + 1]);
      asked++;
    }
  }
  if (!err && strict && asked && x->errors == before) { /* the index and the rows disagree: say so */
    urbac__diag_add(x->d, URBAC_EDANGLING, x->name, 0, 0, NULL, "%s '%s' is still named by %s '%s'", kind,
                    name, from.v[0], from.v[1]);
    err = URBAC_EINVAL;
  }
  note(x, err);
  urbac__strs_free(&from);
}

/* The stored body of a user or group that had an externalId before the write,
 * parsed; NULL when it had none: the index's rows from it (read with the row)
 * say so, and a body of a thousand members is not parsed to find nothing. */
static json_t *before_with_xid(const put *p)
{
  bool had = false;
  for (size_t k = 0; !had && k + 1 < p->old->n; k += 2)
    had = strcmp(p->old->v[k], URBAC__REF_XID_USER) == 0 || strcmp(p->old->v[k], URBAC__REF_XID_GROUP) == 0;
  return had && p->before ? json_loads(p->before, 0, NULL) : NULL;
}

/* What named the externalId a user or group had before the write (from its stored
 * body), when `now` (its key after the write, or NULL) is not the same: as written
 * and as its key. */
static void named_by_xid(writer *x, const put *p, const char *now)
{
  json_t *was = before_with_xid(p);
  const char *xid = json_string_value(json_object_get(was, "externalId"));
  char *xkey = xid ? urbac__xid_key(xid) : NULL;
  if (xid && !xkey)
    note(x, URBAC_ENOMEM);
  else if (xid && (!now || strcmp(now, xkey) != 0)) {
    named_by(x, p->kind, xid, false);
    if (strcmp(xid, xkey) != 0)
      named_by(x, p->kind, xkey, false);
  }
  json_decref(was);
  urbac__free(xkey);
}

/* May a name of deleted user or group `p` still be valid without it? When its id
 * is a GUID (the name turns pending) or another now holds it as its externalId
 * (the name passes to that one); then what names it need not fail. */
static bool still_answered(writer *x, const put *p)
{
  bool user = strcmp(p->kind, "user") == 0;
  urbac__strs from = {0};
  char *key = NULL;
  if (!user && strcmp(p->kind, "group") != 0)
    return false;
  if (urbac__is_guid(p->id, strlen(p->id)))
    return true;
  if (!(key = urbac__xid_key(p->id)))
    note(x, URBAC_ENOMEM);
  else
    note(x, x->store->ops->refs_to(x->store->db, x->tenant, user ? URBAC__REF_XID_USER : URBAC__REF_XID_GROUP,
                                   key, 1, &from, x->d));
  bool held = from.n >= 2;
  urbac__free(key);
  urbac__strs_free(&from);
  return held;
}

static void check_passed_cycle(writer *x, const put *p);
static urbac_err cycle_via(writer *x, const char *top, const char *from, const char *to, bool *found);

/* A deleted user, group or device group that something the batch did not change still names. */
static void check_named(writer *x, const put *p)
{
  if (strcmp(p->kind, "user") && strcmp(p->kind, "group") &&
      (strcmp(p->kind, "deviceGroup") || !strcmp(p->id, URBAC__UNGROUPED_ID)))
    return;
  named_by(x, p->kind, p->id, !still_answered(x, p));
  if (strcmp(p->kind, "group") == 0)
    check_passed_cycle(x, p);
  if (strcmp(p->kind, "deviceGroup") != 0)
    named_by_xid(x, p, NULL);
}

/* Deleted group `p`'s id held by another group as its externalId: what named `p`
 * names that one now, its new parents; a cycle through it is a walk back to it
 * from each of its member groups. */
static void check_passed_cycle(writer *x, const put *p)
{
  urbac__strs from = {0}, below = {0};
  char *key = urbac__xid_key(p->id);
  bool found = false;
  urbac_err err =
      key ? x->store->ops->refs_to(x->store->db, x->tenant, URBAC__REF_XID_GROUP, key, 1, &from, x->d)
          : URBAC_ENOMEM;
  const char *holder = !err && from.n >= 2 ? from.v[1] : NULL;
  if (holder)
    err = x->store->ops->refs_from(x->store->db, x->tenant, "group", holder, "group", &below, x->d);
  for (size_t i = 1; !err && holder && !found && i < below.n; i += 2)
    err = cycle_via(x, holder, below.v[i], holder, &found);
  note(x, err);
  urbac__free(key);
  urbac__strs_free(&from);
  urbac__strs_free(&below);
}

/* A user or group whose externalId changed, while something names the old one. */
static void check_xid_left(writer *x, const put *p)
{
  const urbac__ident *id = alone_ident(p);
  if (id && p->before)
    named_by_xid(x, p, id->xkey);
}

/* The id of the group `name` names (its id, else its externalId), or NULL when
 * it names none (pending); the caller frees it with urbac__free(). */
static urbac_err group_named(writer *x, const char *name, char **id)
{
  bool found = false;
  urbac__strs from = {0};
  char *key = NULL;
  *id = NULL;
  urbac_err err = x->store->ops->exist(x->store->db, x->tenant, "group", &name, 1, &found, x->d);
  if (!err && found)
    err = (*id = urbac__strdup(name)) ? URBAC_OK : URBAC_ENOMEM;
  else if (!err && !(key = urbac__xid_key(name)))
    err = URBAC_ENOMEM;
  else if (!err)
    err = x->store->ops->refs_to(x->store->db, x->tenant, URBAC__REF_XID_GROUP, key, 1, &from, x->d);
  if (!err && !found && from.n >= 2 && !(*id = urbac__strdup(from.v[1])))
    err = URBAC_ENOMEM;
  urbac__free(key);
  urbac__strs_free(&from);
  return err;
}

/* Does a walk down member groups from `start` reach `target`? Then *path holds
 * the way back, from `target` to `start`. Breadth first: the shortest cycle. */
static urbac_err reaches(writer *x, const char *start, const char *target, urbac__strs *path, bool *found)
{
  urbac__strs queue = {0}, below = {0};
  size_t *from = NULL, cap = 0; /* from[k]: the queue entry entry k was reached from */
  urbac__strmap seen = {0};
  urbac_err err = urbac__strmap_init(&seen, 64);
  *found = false;
  if (!err)
    err = urbac__strs_add(&queue, start, strlen(start));
  if (!err && URBAC_GROW(from, cap, 1))
    err = URBAC_ENOMEM;
  if (!err)
    from[0] = SIZE_MAX;
  for (size_t at = 0; !err && !*found && at < queue.n; at++) {
    const char *g = queue.v[at];
    if (urbac__strmap_put(&seen, g, strlen(g), (uint32_t)at, NULL) == URBAC_EDUPLICATE)
      continue;
    if (at >= CYCLE_WALK_MAX) {
      err = urbac__diag_add(x->d, URBAC_ELIMIT, x->name, 0, 0, NULL,
                            "group '%s': more than %u groups below it to check for a cycle", start,
                            CYCLE_WALK_MAX);
      break;
    }
    if (strcmp(g, target) == 0) {
      *found = true;
      for (size_t k = at; !err && k != SIZE_MAX; k = from[k])
        err = urbac__strs_add(path, queue.v[k], strlen(queue.v[k]));
      break;
    }
    urbac__strs_free(&below);
    err = x->store->ops->refs_from(x->store->db, x->tenant, "group", g, "group", &below, x->d);
    for (size_t i = 1; !err && i < below.n; i += 2) {
      char *id = NULL; /* a member may be named by its externalId, or be pending */
      err = group_named(x, below.v[i], &id);
      if (!err && id && !in_map(&seen, id, strlen(id))) {
        err = urbac__strs_add(&queue, id, strlen(id));
        if (!err && URBAC_GROW(from, cap, queue.n))
          err = URBAC_ENOMEM;
        if (!err)
          from[queue.n - 1] = at;
      }
      urbac__free(id);
    }
  }
  urbac__strs_free(&queue);
  urbac__strs_free(&below);
  urbac__strmap_free(&seen);
  urbac__free(from);
  return err;
}

/* Does group `from` (a name) lead down to group `to` (an id)? Then a cycle through
 * `top` (the changed group), reported with the way. */
static urbac_err cycle_via(writer *x, const char *top, const char *from, const char *to, bool *found)
{
  urbac__strs path = {0};
  char *start = NULL;
  urbac_err err = group_named(x, from, &start);
  if (!err && start)
    err = reaches(x, start, to, &path, found);
  if (!err && *found) {
    urbac__buf b = {0};
    urbac__buf_printf(&b, "%s", top);
    for (size_t k = path.n; k-- > 0;)
      urbac__buf_printf(&b, " -> %s", path.v[k]);
    if (strcmp(to, top) != 0) /* the walk went down from the group to a parent that names it */
      urbac__buf_printf(&b, " -> %s", top);
    urbac__diag_add(x->d, URBAC_ECYCLE, x->name, 0, 0, NULL, "group membership cycle: %s",
                    b.failed ? "(out of memory)" : b.s);
    err = URBAC_EINVAL; /* a validation failure, as the loader returns it */
    urbac__buf_free(&b);
  }
  urbac__free(start);
  urbac__strs_free(&path);
  return err;
}

/* Does group `p` answer to a name it did not answer to before (it is new, or
 * its externalId is new)? Then a name some group gave before may name it now:
 * pending by a GUID, in any case (the index keeps names as written), or by an
 * id or externalId that another group held. */
static urbac_err answers_anew(const put *p, bool *anew)
{
  const urbac__ident *id = alone_ident(p);
  json_t *was = before_with_xid(p);
  const char *old = json_string_value(json_object_get(was, "externalId"));
  char *oldkey = old ? urbac__xid_key(old) : NULL;
  urbac_err err = old && !oldkey ? URBAC_ENOMEM : URBAC_OK;
  *anew = !p->before || (id && id->xkey && !(oldkey && strcmp(oldkey, id->xkey) == 0));
  json_decref(was);
  urbac__free(oldkey);
  return err;
}

/* A cycle through a changed group: the walk back to it from each member group it
 * gained, or, when it answers to a new name (its new parents are then whatever
 * names it so now), from each of its member groups. */
static void check_cycle(writer *x, const put *p)
{
  urbac__ref_list refs = {0};
  small had = {0}; /* its member groups before: a cycle needs a new one, or a new name */
  bool found = false, anew = false;
  urbac_err err = urbac__refs_of(p->alone, p->kind, p->id, &refs);
  if (!err)
    err = answers_anew(p, &anew);
  for (size_t k = 0; !err && !anew && k + 1 < p->old->n; k += 2)
    if (strcmp(p->old->v[k], "group") == 0)
      err = small_add(&had, "group", p->old->v[k + 1], "", 0);
  for (size_t i = 0; !err && !found && i < refs.n; i++)
    if (strcmp(refs.v[i].to_kind, "group") == 0 && !small_has(&had, "group", refs.v[i].to_id))
      err = cycle_via(x, p->id, refs.v[i].to_id, p->id, &found);
  note(x, err);
  urbac__ref_list_free(&refs);
  small_free(&had);
}

/* ---------------------------------------------------------------- the write */

static void writer_free(writer *x)
{
  for (size_t i = 0; x->v && i < x->n; i++) {
    urbac__free(x->v[i].before);
    urbac__free(x->v[i].after);
    urbac_model_free(x->v[i].alone);
    urbac__strs_free(&x->v[i].rows);
  }
  urbac__free(x->v);
}

urbac_err urbac__store_put_incremental(urbac_store *store, const char *tenant, const urbac_object_put *puts,
                                       size_t np, const urbac_write *w, urbac__tenant_row *row, urbac_diag *d)
{
  writer x = {store, tenant, d, "", NULL, np, URBAC_OK, 0, URBAC_OK};
  size_t written = 0;
  snprintf(x.name, sizeof x.name, "store:%s, %s %s as changed", tenant, np ? puts[0].kind : "",
           np ? puts[0].id : "");
  urbac_err err = urbac__store_row_get(store, tenant, row, d);
  if (!err && !row->exists)
    err = urbac__diag_add(d, URBAC_ENOTFOUND, NULL, 0, 0, NULL, "the store holds no tenant '%s'", tenant);
  if (!err && w->if_revision && row->revision != w->revision)
    err = urbac__diag_add(
        d, URBAC_ECONFLICT, NULL, 0, 0, NULL,
        "tenant '%s' is at revision %llu, but the write was based on revision %llu: read it again", tenant,
        (unsigned long long)row->revision, (unsigned long long)w->revision);
  if (!err && !(x.v = urbac__calloc(np + 1, sizeof *x.v)))
    err = URBAC_ENOMEM;
  if (!err)
    err = read_puts(&x, puts);
  if (!err && np && w->existed)
    *w->existed = x.v[x.v[0].last].before != NULL;
  if (!err && !x.errors)
    err = write_puts(&x, w, row, &written);
  if (!err && written) /* what only the tenant can say, asked of it as written */
    validate_changed(&x);
  for (size_t i = 0; !err && written && !x.hard && i < np; i++)
    if (changed(&x.v[i]) && !x.v[i].after)
      check_named(&x, &x.v[i]);
    else if (changed(&x.v[i])) {
      if (strcmp(x.v[i].kind, "group") == 0)
        check_cycle(&x, &x.v[i]);
      check_xid_left(&x, &x.v[i]); /* users and groups */
    }
  if (!err)
    err = x.hard ? x.hard : x.errors ? x.first : URBAC_OK;
  for (size_t i = 0; !err && i < np; i++) /* the next write of a big group need not read its rows */
    if (changed(&x.v[i]) && urbac__refs_kind_names(x.v[i].kind))
      urbac__named_remember(store, tenant, x.v[i].kind, x.v[i].id, x.v[i].after, x.v[i].alone);
  for (size_t i = 0; !err && store->parsed && i < np; i++) /* for the writer's edit: parsed once */
    if (changed(&x.v[i]) && x.v[i].after)
      err = urbac__parsed_keep(store->parsed, tenant, x.v[i].kind, x.v[i].id, x.v[i].after, &x.v[i].alone);
  writer_free(&x);
  return err;
}
