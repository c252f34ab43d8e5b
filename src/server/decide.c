/*
 * server/decide.c - the decision routes: check, checks, explain, a user's
 * effective permissions, who can. Questions are the CLI's (names, ids, levels,
 * scopes exactly as `urbac check` takes them) and are answered from one
 * snapshot, under the RCU read lock, by the same engine.
 *
 * The hot path (GET /check, POST /checks) allocates nothing per question: each
 * worker thread keeps a parser (it caches resolved permission names) for the
 * last snapshot it saw, and replies are written straight into the body.
 *
 * Depends on: the public API, jansson.
 */
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

/* ---------------------------------------------------------------- per-thread parser */

typedef struct thread_parser {
  uint64_t generation;
  urbac_parser *p;
  urbac_diag *diag; /* kept and cleared: a question that does not parse allocates nothing */
} thread_parser;

static pthread_key_t parser_key;
static pthread_once_t parser_once = PTHREAD_ONCE_INIT;

static void parser_drop(void *v)
{
  thread_parser *tp = v;
  urbac_parser_free(tp->p);
  urbac_diag_free(tp->diag);
  free(tp);
}

static void parser_key_make(void) { pthread_key_create(&parser_key, parser_drop); }

/* This thread's parser for `sn`; NULL when out of memory. Under the read lock. */
urbac_parser *srv_parser_for(const srv_snap *sn)
{
  pthread_once(&parser_once, parser_key_make);
  thread_parser *tp = pthread_getspecific(parser_key);
  if (!tp) {
    if (!(tp = calloc(1, sizeof *tp)) || pthread_setspecific(parser_key, tp) != 0) {
      free(tp);
      return NULL;
    }
  }
  if (tp->generation != sn->generation || !tp->p) {
    urbac_parser_free(tp->p);
    tp->p = urbac_parser_new(sn->snap);
    tp->generation = tp->p ? sn->generation : 0;
  }
  return tp->p;
}

/* This thread's diag, emptied; NULL when out of memory (or before srv_parser_for()). */
static urbac_diag *thread_diag(void)
{
  thread_parser *tp = pthread_getspecific(parser_key);
  if (tp && !tp->diag)
    tp->diag = urbac_diag_new();
  urbac_diag_clear(tp ? tp->diag : NULL);
  return tp ? tp->diag : NULL;
}

/* ---------------------------------------------------------------- questions */

/* Which field a parse error is about. */
static const char *field_of(urbac_err err)
{
  switch (err) {
  case URBAC_EUNKNOWNPERM:
  case URBAC_ELEVEL:
    return "permission";
  case URBAC_EWORKLOAD:
    return "workload";
  default:
    return "scope";
  }
}

/* Resolves `qn`; on failure replies 400 (missing) or 422 (unknown), the target
 * prefixed with `where` ("checks[3]."). */
/* The target of an error about `field` of question `index` (-1: the only one). */
static void target_of(char *out, size_t size, long index, const char *field)
{
  if (index < 0)
    snprintf(out, size, "%s", field);
  else
    snprintf(out, size, "checks[%ld].%s", index, field);
}

bool srv_resolve(urbac_parser *p, const srv_question *qn, urbac_query *q, long index, srv_resp *r)
{
  const char *missing = !qn->user ? "user" : !qn->perm ? "permission" : !qn->workload ? "workload" : NULL;
  char target[64];
  if (missing) {
    target_of(target, sizeof target, index, missing);
    srv_error(r, 400, "badRequest", target, "%s is required", missing);
    return false;
  }
  urbac_question question = {{qn->user, qn->len[0]},
                             {qn->perm, qn->len[1]},
                             {qn->workload, qn->len[2]},
                             {qn->scope, qn->scope ? qn->len[3] : 0}};
  urbac_diag *d = thread_diag();
  urbac_err err = urbac_parse_query(p, &question, q, d);
  if (err == URBAC_OK)
    return true;
  target_of(target, sizeof target, index, field_of(err));
  srv_error(r, 422, urbac_err_name(err), target, "%s",
            urbac_diag_count(d) ? urbac_diag_get(d, 0)->message : urbac_strerror(err));
  return false;
}

/* A question from strings, lengths measured. */
static srv_question question(const char *user, const char *perm, const char *workload, const char *scope)
{
  return (srv_question){user,
                        perm,
                        workload,
                        scope,
                        {user ? strlen(user) : 0, perm ? strlen(perm) : 0, workload ? strlen(workload) : 0,
                         scope ? strlen(scope) : 0}};
}

static srv_question question_of_args(const srv_req *req)
{
  return question(srv_arg_get(req, "user"), srv_arg_get(req, "permission"), srv_arg_get(req, "workload"),
                  srv_arg_get(req, "scope"));
}

static void no_memory(srv_resp *r) { srv_error(r, 500, "internalError", NULL, "out of memory"); }

void srv_h_check(srv *server, srv_req *req, srv_resp *r)
{
  srv_question qn = question_of_args(req);
  urbac_query q;
  srv_read_lock();
  srv_snap *sn = srv_tenant_snap(req->tenant);
  urbac_parser *p = srv_parser_for(sn);
  if (!p)
    no_memory(r);
  else if (srv_resolve(p, &qn, &q, -1, r)) {
    bool allow = urbac_check(sn->snap, &q);
    atomic_fetch_add_explicit(allow ? &server->metrics.allow : &server->metrics.deny, 1,
                              memory_order_relaxed);
    r->status = 200;
    srv_buf_puts(&r->body,
                 allow ? "{\"decision\":\"allow\",\"revision\":" : "{\"decision\":\"deny\",\"revision\":");
    srv_buf_u64(&r->body, sn->revision);
    srv_buf_put(&r->body, "}", 1);
  }
  r->revision = sn->revision;
  r->has_revision = true;
  srv_read_unlock();
}

static const char *string_member(json_t *o, const char *name, bool *bad)
{
  json_t *v = json_object_get(o, name);
  if (v && !json_is_string(v))
    *bad = true;
  return json_string_value(v);
}

void srv_checks_reply(srv *server, srv_resp *r, const uint8_t *out, size_t n, uint64_t revision)
{
  uint64_t allow = 0;
  srv_buf_puts(&r->body, "{\"decisions\":[");
  for (size_t i = 0; i < n; i++) {
    allow += out[i];
    srv_buf_puts(&r->body, out[i] ? (i ? ",\"allow\"" : "\"allow\"") : (i ? ",\"deny\"" : "\"deny\""));
  }
  srv_buf_puts(&r->body, "],\"revision\":");
  srv_buf_u64(&r->body, revision);
  srv_buf_put(&r->body, "}", 1);
  atomic_fetch_add_explicit(&server->metrics.allow, allow, memory_order_relaxed);
  atomic_fetch_add_explicit(&server->metrics.deny, n - allow, memory_order_relaxed);
  r->status = 200;
}

void srv_h_explain(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  json_t *body = srv_body_object(req, r);
  if (!body)
    return;
  bool bad = false;
  srv_question qn = question(string_member(body, "user", &bad), string_member(body, "permission", &bad),
                             string_member(body, "workload", &bad), string_member(body, "scope", &bad));
  urbac_query q;
  urbac_explanation *e = NULL;
  srv_read_lock();
  srv_snap *sn = srv_tenant_snap(req->tenant);
  urbac_parser *p = srv_parser_for(sn);
  if (bad)
    srv_error(r, 400, "badRequest", "body", "user, permission, workload and scope are strings");
  else if (!p)
    no_memory(r);
  else if (srv_resolve(p, &qn, &q, -1, r) && urbac_explain(sn->snap, &q, &e, NULL) == URBAC_OK) {
    json_t *lines = json_array();
    for (size_t i = 0; i < urbac_explanation_count(e); i++)
      json_array_append_new(lines, json_string(urbac_explanation_line(e, i)));
    srv_json(r, 200,
             json_pack("{s:s, s:o, s:I}", "decision", urbac_explanation_allowed(e) ? "allow" : "deny",
                       "reasons", lines, "revision", (json_int_t)sn->revision));
  } else if (r->status == 0) {
    no_memory(r);
  }
  r->revision = sn->revision;
  r->has_revision = true;
  srv_read_unlock();
  urbac_explanation_free(e);
  json_decref(body);
}

typedef struct effective_ctx {
  json_t *list;
} effective_ctx;

static int effective_add(void *ctx, const urbac_effective_entry *e)
{
  effective_ctx *c = ctx;
  char name[512], action[512];
  urbac_grant_format(e->grant, name, sizeof name);
  urbac_grant_action(e->grant, action, sizeof action);
  json_array_append_new(c->list,
                        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "workload",
                                  urbac_catalog_workload_id(e->workload), "permission", name, "action",
                                  action, "level", urbac_level_name((urbac_level)e->grant.level), "scope",
                                  e->scope, "source", e->source ? e->source : ""));
  return 0;
}

void srv_h_effective(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  const char *user = req->params[1], *only = srv_arg_get(req, "workload");
  if (only && urbac_catalog_workload_find(only) < 0) {
    char known[256];
    urbac_catalog_workload_list(known, sizeof known, false);
    srv_error(r, 422, "EWORKLOAD", "workload", "unknown workload '%s' (%s)", only, known);
    return;
  }
  srv_read_lock();
  srv_snap *sn = srv_tenant_snap(req->tenant);
  uint32_t u = urbac_snapshot_user_find(sn->snap, user, strlen(user));
  effective_ctx c = {json_array()};
  if (u != URBAC_UNKNOWN_USER)
    urbac_effective(sn->snap, u, effective_add, &c);
  uint64_t revision = sn->revision;
  srv_read_unlock();
  if (u == URBAC_UNKNOWN_USER) {
    json_decref(c.list);
    srv_error(r, 404, "notFound", "id", "no user '%s'", user);
    return;
  }
  if (only) { /* keep one workload's grants */
    json_t *kept = json_array(), *v;
    size_t i;
    json_array_foreach(c.list, i, v) if (strcmp(json_string_value(json_object_get(v, "workload")), only) == 0)
        json_array_append(kept, v);
    json_decref(c.list);
    c.list = kept;
  }
  srv_page(req, r, c.list, json_pack("{s:s, s:I}", "user", user, "revision", (json_int_t)revision));
  r->revision = revision;
  r->has_revision = true;
}

static int who_add(void *ctx, uint32_t user, const char *id)
{
  (void)user;
  return json_array_append_new(ctx, json_string(id)) != 0;
}

void srv_h_who_can(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  srv_question qn = question_of_args(req);
  qn.user = "";
  qn.len[0] = 0;
  urbac_query q;
  json_t *list = json_array();
  uint64_t revision;
  srv_read_lock();
  srv_snap *sn = srv_tenant_snap(req->tenant);
  urbac_parser *p = srv_parser_for(sn);
  bool ok = p && srv_resolve(p, &qn, &q, -1, r);
  if (ok)
    urbac_who_can(sn->snap, &q, who_add, list);
  else if (!p)
    no_memory(r);
  revision = sn->revision;
  srv_read_unlock();
  if (!ok) {
    json_decref(list);
    return;
  }
  srv_page_at(req, r, list, revision);
}
