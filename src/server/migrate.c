/*
 * server/migrate.c - migration routes: workload modes, activate and deactivate,
 * import (dry run or applied), and the audit log (the impact of activating: impact.c).
 *
 * Activation and import build a new model from the tenant as the server serves
 * it (the served model is never changed: readers' snapshots borrow it), then make
 * the store match the new model in one audited transaction based on that
 * revision: a concurrent change elsewhere makes the write fail (412), never
 * lost. The new model is then published with its snapshot; the old one is freed
 * with its snapshot once no reader holds it (tenants.c, after an RCU grace period).
 *
 * Depends on: the public API, jansson.
 */
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

static bool flag(const srv_req *req, const char *name)
{
  const char *v = srv_arg_get(req, name);
  return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* The {workload} of the route; authorize() has checked it is known. */
static size_t workload(const srv_req *req) { return (size_t)urbac_catalog_workload_find(req->params[1]); }

void srv_h_workloads(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  json_t *list = json_array();
  srv_read_lock();
  srv_snap *sn = srv_tenant_snap(req->tenant);
  /* the workloads with a mode to switch: one without a legacy model is always unified */
  for (size_t w = 0; w < urbac_catalog_workload_count(); w++)
    if (urbac_catalog_workload_has_legacy(w))
      json_array_append_new(
          list, json_pack("{s:s, s:s, s:s}", "id", urbac_catalog_workload_id(w), "displayName",
                          urbac_catalog_workload_name(w), "mode",
                          urbac_model_mode(sn->model, w) == URBAC_MODE_UNIFIED ? "unified" : "legacy"));
  r->revision = sn->revision;
  srv_read_unlock();
  srv_page(req, r, list, json_pack("{s:I}", "revision", (json_int_t)r->revision));
  r->has_revision = r->etag = true;
}

/* ---------------------------------------------------------------- changing a copy */

typedef enum op { OP_ACTIVATE, OP_DEACTIVATE, OP_IMPORT } op;

typedef struct change_ctx {
  op what;
  size_t workload;
  bool force, dry_run;
  urbac_import_report *report;
  uint64_t revision;
} change_ctx;

static urbac_err change(srv_tenant *t, void *ctx, const urbac_write *w, uint64_t *revision, urbac_diag *d)
{
  change_ctx *c = ctx;
  urbac_err err = srv_tenant_refresh(t, d); /* the new model starts from the store's latest */
  urbac_model *m = NULL;
  const urbac_model *served = t->current->model; /* under the write lock: not swapped meanwhile */
  if (!err && c->what == OP_ACTIVATE)
    err = urbac_activate(served, c->workload, c->force, &m, d);
  else if (!err && c->what == OP_DEACTIVATE)
    err = urbac_deactivate(served, c->workload, &m, d);
  else if (!err)
    err = urbac_import(served, c->workload, &m, &c->report, d);
  c->revision = t->current->revision;
  urbac_write based = *w;
  based.written = NULL; /* the copy itself is published below */
  if (!w->if_revision) {
    based.if_revision = true;
    based.revision = t->current->revision;
  }
  if (!err && !c->dry_run)
    err = urbac_store_apply(t->store, m, &based, &c->revision, d);
  *revision = c->revision;
  if (!err && !c->dry_run) /* the new model is what the store now holds: served as it is */
    return srv_tenant_publish(t, m, c->revision, d);
  urbac_model_free(m);
  return err;
}

static void run_change(srv_req *req, srv_resp *r, change_ctx *c)
{
  uint64_t revision;
  srv_run_write(req, r, change, c, &revision);
}

static void mode_change(srv_req *req, srv_resp *r, op what)
{
  change_ctx c = {what, workload(req), flag(req, "force"), false, NULL, 0};
  run_change(req, r, &c);
  if (r->status == 0)
    srv_json(r, 200,
             json_pack("{s:s, s:s, s:I}", "id", req->params[1], "mode",
                       what == OP_ACTIVATE ? "unified" : "legacy", "revision", (json_int_t)c.revision));
}

void srv_h_activate(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  mode_change(req, r, OP_ACTIVATE);
}

void srv_h_deactivate(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  mode_change(req, r, OP_DEACTIVATE);
}

void srv_h_import(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  change_ctx c = {OP_IMPORT, workload(req), false, flag(req, "dryRun"), NULL, 0};
  run_change(req, r, &c);
  char *text = NULL;
  json_t *j = NULL;
  if (r->status == 0 && c.report && urbac_import_report_json(c.report, &text, NULL) == URBAC_OK &&
      (j = json_loads(text, 0, NULL)) != NULL) {
    json_object_set_new(j, "dryRun", json_boolean(c.dry_run));
    json_object_set_new(j, "revision", json_integer((json_int_t)c.revision));
    srv_json(r, 200, j);
  } else if (r->status == 0) {
    srv_error(r, 500, "internalError", NULL, "out of memory");
  }
  urbac_free(text);
  urbac_import_report_free(c.report);
}

/* ---------------------------------------------------------------- audit log */

typedef struct audit_ctx {
  size_t skip, top, seen;
  json_t *rows;
  bool more;
  const char *until; /* only records at or before this time (a prefix: a day is the whole day), or NULL */
} audit_ctx;

/* Whether `s` is a prefix of a UTC time as the log writes it (2026-11-30T08:15:00Z),
 * at least the year: what since and until take. */
static bool time_prefix(const char *s)
{
  static const char form[] = "0000-00-00T00:00:00Z";
  size_t n = strlen(s);
  if (n < 4 || n > sizeof form - 1)
    return false;
  for (size_t i = 0; i < n; i++)
    if (form[i] == '0' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != form[i])
      return false;
  return true;
}

static json_t *json_or_null(const char *s)
{
  json_t *j = s ? json_loads(s, 0, NULL) : NULL;
  return j ? j : json_null();
}

static int audit_row(void *ctx, const urbac_audit_record *a)
{
  audit_ctx *c = ctx;
  if (c->until && strncmp(a->at, c->until, strlen(c->until)) > 0)
    return 0;
  if (c->seen++ < c->skip)
    return 0;
  if (json_array_size(c->rows) == c->top) {
    c->more = true;
    return 1;
  }
  json_array_append_new(c->rows, json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:s}", "seq",
                                           (json_int_t)a->seq, "revision", (json_int_t)a->revision, "at",
                                           a->at, "actor", a->actor, "command", a->command, "kind", a->kind,
                                           "object", a->object, "before", json_or_null(a->before), "after",
                                           json_or_null(a->after), "hash", a->hash));
  return 0;
}

void srv_h_audit(srv *server, srv_req *req, srv_resp *r)
{
  (void)server;
  audit_ctx c = {0, 0, 0, NULL, false, srv_arg_get(req, "until")};
  urbac_audit_filter f = {srv_arg_get(req, "object"), srv_arg_get(req, "actor"), srv_arg_get(req, "since")};
  if (!srv_page_args(req, r, &c.skip, &c.top))
    return;
  for (int i = 0; i < 2; i++) {
    const char *name = i ? "until" : "since", *v = i ? c.until : f.since;
    if (v && !time_prefix(v)) {
      srv_error(r, 400, "badRequest", name,
                "%s '%.40s' is not a UTC time or its beginning (2026-11-30, 2026-11-30T08:15:00Z)", name, v);
      return;
    }
  }
  c.rows = json_array();
  srv_tenant *t = req->tenant;
  urbac_diag *d = urbac_diag_new();
  pthread_mutex_lock(&t->write_lock);
  urbac_err err = urbac_store_audit(t->store, t->id, &f, audit_row, &c, d);
  pthread_mutex_unlock(&t->write_lock);
  if (err) {
    json_decref(c.rows);
    srv_error_urbac(r, err, d, NULL);
  }
  urbac_diag_free(d);
  if (err)
    return;
  json_t *out = json_pack("{s:o}", "value", c.rows);
  if (c.more) {
    char *link = srv_next_link(req, c.skip + c.top, c.top);
    json_object_set_new(out, "@odata.nextLink", json_string(link));
    free(link);
  }
  srv_json(r, 200, out);
}
