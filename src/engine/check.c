/*
 * engine/check.c - questions in, decisions out: resolving the text of a
 * question (tenant-format.md "Queries") and answering it from a snapshot.
 *
 * The check itself is urbac__decide() in engine.h: a profile lookup and a bit
 * test, a few more for a device-group scope. Resolving text is the costly part,
 * so a urbac_parser caches permission strings it has seen (bounded), and ids
 * go through the model's hash maps.
 *
 * Depends on: util, catalog, model, engine/engine.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "engine/engine.h"

#define PARSER_CACHE_MAX 1024u
#define PARSER_CACHE_BYTES (64u * 1024u)

/* Everything is allocated up front, so resolving never allocates: the cache
 * simply stops growing when full. */
struct urbac_parser {
  const urbac_snapshot *s;
  urbac__strmap cache; /* permission text -> grant index */
  char *keys;          /* the cache's keys, back to back */
  size_t keys_len;
};

urbac_parser *urbac_parser_new(const urbac_snapshot *snap)
{
  urbac_parser *p = urbac__calloc(1, sizeof *p);
  if (!p)
    return NULL;
  p->s = snap;
  p->keys = urbac__malloc(PARSER_CACHE_BYTES);
  if (!p->keys || urbac__strmap_init(&p->cache, PARSER_CACHE_MAX)) {
    urbac_parser_free(p);
    return NULL;
  }
  return p;
}

void urbac_parser_free(urbac_parser *p)
{
  if (!p)
    return;
  urbac__strmap_free(&p->cache);
  urbac__free(p->keys);
  urbac__free(p);
}

/* Reports a question that does not resolve: `field` ("permission", ...) is the
 * error's path, `col` its 1-based column in a query line (0 outside one). */
static urbac_err fail(urbac_diag *d, urbac_err code, const char *field, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static urbac_err fail(urbac_diag *d, urbac_err code, const char *field, size_t col, const char *fmt, ...)
{
  va_list ap;
  if (d) {
    va_start(ap, fmt);
    urbac__diag_vadd(d, code, NULL, 0, (uint32_t)col, field, fmt, ap);
    va_end(ap);
  }
  return code;
}

/* The column of `at` in `line` (0 when not parsing a line). */
static size_t column(const char *line, const char *at) { return line && at ? (size_t)(at - line) + 1 : 0; }

/* A permission with its level, to a dense grant index. */
static urbac_err resolve_grant(urbac_parser *p, const char *s, size_t len, unsigned *g, urbac_diag *d,
                               size_t col)
{
  uint32_t hit;
  urbac_grant gr;
  if (urbac__strmap_get(&p->cache, s, len, &hit)) {
    *g = hit;
    return URBAC_OK;
  }
  char why[512] = "";
  /* with no diag to take it, no reason (its "did you mean" is the costly part) */
  urbac_err err = urbac__catalog_resolve(s, len, &gr, d ? why : NULL, d ? sizeof why : 0);
  if (err)
    return fail(d, err, "permission", col, "%s", why);
  unsigned levels = urbac_catalog_perm(gr.perm)->levels;
  if (gr.level == URBAC_LEVEL_NONE && levels == (URBAC_LEVEL_READ | URBAC_LEVEL_MANAGE))
    return fail(d, URBAC_ELEVEL, "permission", col, "say which level of '%s' to check: (read) or (manage)",
                urbac_catalog_perm(gr.perm)->name);
  if (gr.level == URBAC_LEVEL_NONE || gr.level == URBAC_LEVEL_ALL)
    gr.level = (uint8_t)(levels & URBAC_LEVEL_MANAGE ? URBAC_LEVEL_MANAGE : URBAC_LEVEL_READ);
  *g = urbac__grant_index(gr.perm, gr.level);
  if (p->cache.count < PARSER_CACHE_MAX && p->keys_len + len <= PARSER_CACHE_BYTES) {
    memcpy(p->keys + p->keys_len, s, len);
    /* the map was sized for PARSER_CACHE_MAX keys: this never grows it */
    urbac__strmap_put(&p->cache, p->keys + p->keys_len, len, *g, NULL);
    p->keys_len += len;
  }
  return URBAC_OK;
}

static bool eq_ci(const char *s, size_t len, const char *lit)
{
  return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}

static urbac_err resolve_scope(const urbac_snapshot *snap, const char *sc, size_t len, bool mde,
                               urbac_query *q, urbac_diag *d, size_t col)
{
  const urbac_model *m = snap->m;
  uint32_t idx;
  q->scope = URBAC_SCOPE_ALL;
  q->device = URBAC_NO_DEVICE;
  if (len == 0 || eq_ci(sc, len, "all"))
    return URBAC_OK;
  if (eq_ci(sc, len, "any")) {
    q->scope = mde ? URBAC_SCOPE_ANY : URBAC_SCOPE_ALL;
    return URBAC_OK;
  }
  bool device = len > 7 && strncasecmp(sc, "device:", 7) == 0;
  bool group = len > 12 && strncasecmp(sc, "devicegroup:", 12) == 0;
  if (!device && !group)
    return fail(d, URBAC_ESCOPE, "scope", col,
                "scope '%.*s' is not empty, all, any, device:ID or devicegroup:ID",
                (int)(len > 200 ? 200 : len), sc);
  if (!mde)
    return fail(d, URBAC_ESCOPE, "scope", col, "a device or device group scope applies to mde only");
  const char *id = sc + (device ? 7 : 12);
  size_t idlen = len - (device ? 7 : 12);
  if (device) {
    if (!urbac__smap_get(&m->device_map, id, idlen, &idx))
      return fail(d, URBAC_EUNKNOWNDEVICE, "scope", col, "unknown device '%.*s'",
                  (int)(idlen > 200 ? 200 : idlen), id);
    q->device = idx;
    q->dg = urbac__cow_u32_at(&snap->device_dg, idx);
  } else if (!urbac__smap_get(&m->dg_map, id, idlen, &q->dg)) {
    return fail(d, URBAC_EUNKNOWNDG, "scope", col, "unknown device group '%.*s'",
                (int)(idlen > 200 ? 200 : idlen), id);
  }
  q->scope = URBAC_SCOPE_DEVICE_GROUP;
  return URBAC_OK;
}

/* Resolves `qn`; `line` is the query line its fields point into, or NULL. */
static urbac_err parse(urbac_parser *p, const urbac_question *qn, urbac_query *q, urbac_diag *d,
                       const char *line)
{
  const urbac_snapshot *snap = p->s;
  urbac_str user = qn->user, perm = qn->perm, wl = qn->workload, scope = qn->scope;
  unsigned g = 0;
  int w = -1;
  memset(q, 0, sizeof *q);
  q->user = urbac_snapshot_user_find(snap, user.ptr ? user.ptr : "", user.ptr ? user.len : 0);
  for (int i = 0; i < URBAC__NWORKLOADS && w < 0 && wl.ptr; i++)
    if (eq_ci(wl.ptr, wl.len, urbac_catalog_workload_id((size_t)i)) ||
        eq_ci(wl.ptr, wl.len, urbac_catalog_workload_app((size_t)i)))
      w = i;
  if (w < 0) {
    char known[256];
    urbac_catalog_workload_list(known, sizeof known, false);
    return fail(d, URBAC_EWORKLOAD, "workload", column(line, wl.ptr), "unknown workload '%.*s' (%s)",
                (int)(wl.len > 200 ? 200 : wl.len), wl.ptr ? wl.ptr : "", known);
  }
  q->workload = (uint8_t)w;
  urbac_err err =
      resolve_grant(p, perm.ptr ? perm.ptr : "", perm.ptr ? perm.len : 0, &g, d, column(line, perm.ptr));
  if (err)
    return err;
  q->grant = (uint16_t)g;
  return resolve_scope(snap, scope.ptr ? scope.ptr : "", scope.ptr ? scope.len : 0, w == URBAC__WL_MDE, q, d,
                       column(line, scope.ptr));
}

urbac_err urbac_parse_query(urbac_parser *p, const urbac_question *question, urbac_query *out, urbac_diag *d)
{
  return parse(p, question, out, d, NULL);
}

urbac_err urbac_parse_query_line(urbac_parser *p, const char *line, size_t len, urbac_query *out,
                                 urbac_diag *d)
{
  const char *f[4] = {0};
  size_t fl[4] = {0}, nf = 0, start = 0;
  if (len > URBAC_MAX_QUERY_LINE)
    return fail(d, URBAC_ELIMIT, "", 0, "query line longer than %u bytes", URBAC_MAX_QUERY_LINE);
  if (len && line[len - 1] == '\r')
    len--;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && line[i] != '\t')
      continue;
    if (nf == 4)
      return fail(d, URBAC_ESYNTAX, "", i + 1, "more than 4 tab-separated columns");
    f[nf] = line + start;
    fl[nf++] = i - start;
    start = i + 1;
  }
  if (nf < 3)
    return fail(d, URBAC_ESYNTAX, "", 0, "expected user, permission, workload and scope separated by tabs");
  if (fl[0] == 0)
    return fail(d, URBAC_ESYNTAX, "user", 1, "empty user column");
  urbac_question qn = {{f[0], fl[0]}, {f[1], fl[1]}, {f[2], fl[2]}, {nf == 4 ? f[3] : NULL, fl[3]}};
  return parse(p, &qn, out, d, line);
}

/* ---------------------------------------------------------------- answers */

bool urbac_check(const urbac_snapshot *snap, const urbac_query *q) { return urbac__decide(snap, q); }

void urbac_check_batch(const urbac_snapshot *snap, const urbac_query *q, size_t n, uint8_t *out)
{
  for (size_t i = 0; i < n; i++)
    out[i] = urbac__decide(snap, &q[i]);
}

const char *urbac_snapshot_user_id(const urbac_snapshot *snap, uint32_t i)
{
  return urbac_model_id(snap->m, URBAC_OBJ_USER, i);
}

uint32_t urbac_snapshot_user_find(const urbac_snapshot *snap, const char *id, size_t len)
{
  uint32_t idx;
  return urbac__user_find(snap->m, id, len, &idx) ? idx : URBAC_UNKNOWN_USER;
}

int urbac_who_can(const urbac_snapshot *snap, const urbac_query *q, urbac_user_cb cb, void *ctx)
{
  urbac_query one = *q;
  for (uint32_t u = 0; u < snap->m->users.n; u++) {
    one.user = u;
    if (!urbac__decide(snap, &one))
      continue; /* a deleted user's slot holds profile 0: nothing */
    int r = cb(ctx, u, urbac__user_at(snap->m, u)->id);
    if (r)
      return r;
  }
  return 0;
}

size_t urbac_snapshot_user_group_count(const urbac_snapshot *snap, uint32_t i)
{
  const urbac__ulist *l = urbac__ulist_at(&snap->user_groups, i);
  return l ? l->n : 0;
}

uint32_t urbac_snapshot_user_group(const urbac_snapshot *snap, uint32_t i, size_t k)
{
  if (k >= urbac_snapshot_user_group_count(snap, i))
    return UINT32_MAX;
  return urbac__ulist_at(&snap->user_groups, i)->v[k];
}
