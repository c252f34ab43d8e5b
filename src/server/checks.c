/*
 * server/checks.c - POST /checks: thousands of questions in one body, parsed as
 * a stream with yajl and resolved as they are read, so a body costs no tree of
 * JSON values and no allocation per question (jansson built one per request:
 * 92% of the time in the profile, bench/README.md).
 *
 * Body: {"checks": [{"user", "permission", "workload", "scope"?}, ...]}. Other
 * members are ignored; a duplicate member, a value of the wrong type, a
 * question that does not resolve or more than SRV_MAX_CHECKS questions stop the
 * parse with the error that names it ("checks[3].permission").
 *
 * Depends on: the public API, yajl.
 */
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "server/server.h"

#define FIELD_MAX 1024
#define STR_(x) #x
#define STR(x) STR_(x)
enum { F_USER, F_PERMISSION, F_WORKLOAD, F_SCOPE, NFIELDS };
static const char *const field_names[NFIELDS] = {"user", "permission", "workload", "scope"};
static const size_t field_lens[NFIELDS] = {4, 10, 8, 5};

typedef struct stream {
  srv_resp *r;
  urbac_parser *parser;
  urbac_query *qs;
  size_t n, cap;
  int depth;      /* 1: the body object, 2: the checks list, 3: one check */
  int skip;       /* > 0: inside a value being ignored */
  bool skip_next; /* the next value is ignored */
  bool want_list; /* the next value is the checks list */
  bool seen_checks;
  int field;     /* the member whose value comes next, or -1 */
  unsigned have; /* bit per field */
  char f[NFIELDS][FIELD_MAX];
  size_t flen[NFIELDS];
} stream;

/* Stops the parse (yajl's "client cancelled") after replying `status`. */
static int stop(stream *s, unsigned status, const char *code, const char *target, const char *what)
{
  srv_error(s->r, status, code, target, "%s", what);
  return 0;
}

static int fail(stream *s, const char *field, const char *what)
{
  char target[64];
  if (field)
    snprintf(target, sizeof target, "checks[%zu].%s", s->n ? s->n - 1 : 0, field);
  else
    snprintf(target, sizeof target, "checks[%zu]", s->n ? s->n - 1 : 0);
  srv_error(s->r, 400, "badRequest", s->depth >= 2 ? target : "body", "%s", what);
  return 0;
}

/* A scalar (anything but a string) or the start of a container. */
static int value(stream *s, bool container, const char *what)
{
  if (s->skip > 0 || s->skip_next) {
    s->skip += container;
    s->skip_next = false;
    return 1;
  }
  if (s->want_list)
    return stop(s, 400, "badRequest", "checks", "\"checks\" must be a list of questions");
  if (s->depth == 2) {
    s->n++; /* the element that is not a check, for its index */
    return fail(s, NULL, "each check is an object of strings: user, permission, workload, scope");
  }
  if (s->depth == 3 && s->field >= 0)
    return fail(s, field_names[s->field], what);
  return stop(s, 400, "badRequest", "body", "the body must be a JSON object");
}

static int on_null(void *ctx) { return value(ctx, false, "a string, not null"); }
static int on_bool(void *ctx, int v)
{
  (void)v;
  return value(ctx, false, "a string, not a boolean");
}

static int on_number(void *ctx, const char *v, size_t n)
{
  (void)v;
  (void)n;
  return value(ctx, false, "a string, not a number");
}

static int on_string(void *ctx, const unsigned char *v, size_t len)
{
  stream *s = ctx;
  if (s->skip > 0 || s->skip_next || s->depth != 3 || s->field < 0)
    return value(s, false, "");
  if (len >= FIELD_MAX)
    return fail(s, field_names[s->field], "longer than 1023 bytes");
  memcpy(s->f[s->field], v, len);
  s->f[s->field][len] = '\0';
  s->flen[s->field] = len;
  s->have |= 1u << s->field;
  s->field = -1;
  return 1;
}

static int on_start_map(void *ctx)
{
  stream *s = ctx;
  if (s->skip > 0 || s->skip_next || !((s->depth == 0) || (s->depth == 2 && !s->want_list)))
    return value(s, true, "a string, not an object");
  if (s->depth == 2) {
    if (s->n == SRV_MAX_CHECKS)
      return stop(s, 413, "payloadTooLarge", "checks",
                  "at most " STR(SRV_MAX_CHECKS) " checks in one request");
    if (s->n == s->cap) {
      size_t cap = s->cap ? 2 * s->cap : 1024;
      urbac_query *q = realloc(s->qs, cap * sizeof *q);
      if (!q)
        return stop(s, 500, "internalError", NULL, "out of memory");
      s->qs = q;
      s->cap = cap;
    }
    s->n++;
    s->have = 0;
    s->field = -1;
  }
  s->depth++;
  return 1;
}

static int on_key(void *ctx, const unsigned char *key, size_t len)
{
  stream *s = ctx;
  if (s->skip > 0)
    return 1;
  if (s->depth == 1) {
    bool checks = len == 6 && memcmp(key, "checks", 6) == 0;
    if (checks && s->seen_checks)
      return stop(s, 400, "badRequest", "checks", "\"checks\" appears twice");
    s->seen_checks |= checks;
    s->want_list = checks;
    s->skip_next = !checks;
    return 1;
  }
  s->field = -1;
  for (int f = 0; f < NFIELDS; f++)
    if (field_lens[f] == len && memcmp(field_names[f], key, len) == 0)
      s->field = f;
  if (s->field >= 0 && (s->have & (1u << s->field)))
    return fail(s, field_names[s->field], "appears twice");
  s->skip_next = s->field < 0; /* another member: ignored */
  return 1;
}

static int on_end_map(void *ctx)
{
  stream *s = ctx;
  if (s->skip > 0) {
    s->skip--;
    return 1;
  }
  s->depth--;
  if (s->depth != 2)
    return 1;
  srv_question q = {s->have & 1 ? s->f[F_USER] : NULL,
                    s->have & 2 ? s->f[F_PERMISSION] : NULL,
                    s->have & 4 ? s->f[F_WORKLOAD] : NULL,
                    s->have & 8 ? s->f[F_SCOPE] : NULL,
                    {s->flen[F_USER], s->flen[F_PERMISSION], s->flen[F_WORKLOAD], s->flen[F_SCOPE]}};
  return srv_resolve(s->parser, &q, &s->qs[s->n - 1], (long)(s->n - 1), s->r);
}

static int on_start_array(void *ctx)
{
  stream *s = ctx;
  if (s->skip > 0 || s->skip_next || !s->want_list)
    return value(s, true, "a string, not a list");
  s->want_list = false;
  s->depth++;
  return 1;
}

static int on_end_array(void *ctx)
{
  stream *s = ctx;
  if (s->skip > 0) {
    s->skip--;
    return 1;
  }
  s->depth--;
  return 1;
}

static const yajl_callbacks callbacks = {on_null,    on_bool,        NULL,         NULL,
                                         on_number,  on_string,      on_start_map, on_key,
                                         on_end_map, on_start_array, on_end_array};

/* "body:LINE:COLUMN: what yajl says" at the byte where parsing stopped. */
static void syntax_error(yajl_handle h, const srv_req *req, srv_resp *r)
{
  size_t at = yajl_get_bytes_consumed(h), line = 1, col = 1;
  for (size_t i = 0; i < at && i < req->body_len; i++, col++)
    if (req->body[i] == '\n')
      line++, col = 0;
  unsigned char *msg = yajl_get_error(h, 0, (const unsigned char *)req->body, req->body_len);
  srv_error(r, 400, "badRequest", "body", "body:%zu:%zu: %s", line, col,
            msg ? (const char *)msg : "malformed JSON");
  if (msg)
    yajl_free_error(h, msg);
}

/* Parses the body into s->qs; false after replying. */
static bool parse(stream *s, const srv_req *req)
{
  yajl_handle h = yajl_alloc(&callbacks, NULL, s);
  if (!h) {
    srv_error(s->r, 500, "internalError", NULL, "out of memory");
    return false;
  }
  yajl_status st = yajl_parse(h, (const unsigned char *)(req->body ? req->body : ""), req->body_len);
  if (st == yajl_status_ok)
    st = yajl_complete_parse(h);
  if (st == yajl_status_error)
    syntax_error(h, req, s->r);
  yajl_free(h);
  if (st == yajl_status_ok && !s->seen_checks)
    srv_error(s->r, 400, "badRequest", "checks", "the body needs \"checks\": a list of questions");
  return st == yajl_status_ok && s->seen_checks;
}

void srv_h_checks(srv *srvr, srv_req *req, srv_resp *r)
{
  stream *s = calloc(1, sizeof *s);
  if (!s)
    return srv_error(r, 500, "internalError", NULL, "out of memory");
  s->r = r;
  srv_read_lock();
  srv_snap *sn = srv_tenant_snap(req->tenant);
  s->parser = srv_parser_for(sn);
  uint8_t *out = NULL;
  if (!s->parser)
    srv_error(r, 500, "internalError", NULL, "out of memory");
  else if (parse(s, req) && !(out = malloc(s->n + 1)))
    srv_error(r, 500, "internalError", NULL, "out of memory");
  else if (out) {
    urbac_check_batch(sn->snap, s->qs, s->n, out);
    srv_checks_reply(srvr, r, out, s->n, sn->revision);
  }
  r->revision = sn->revision;
  r->has_revision = true;
  srv_read_unlock();
  free(out);
  free(s->qs);
  free(s);
}
