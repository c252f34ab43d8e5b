/*
 * server/json.c - response buffers, JSON replies, the one error shape
 * ({"error":{"code","message","target"}}) and request targets (path segments
 * and query arguments, decoded).
 *
 * Depends on: the public API, jansson.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/server.h"

uint64_t srv_now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---------------------------------------------------------------- buffers */

static bool reserve(srv_buf *b, size_t more)
{
  if (b->oom)
    return false;
  if (b->len + more + 1 <= b->cap)
    return true;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + more + 1)
    cap *= 2;
  char *p = realloc(b->p, cap);
  if (!p) {
    b->oom = true;
    return false;
  }
  b->p = p;
  b->cap = cap;
  return true;
}

void srv_buf_reserve(srv_buf *b, size_t n) { reserve(b, n); }

void srv_buf_put(srv_buf *b, const char *s, size_t n)
{
  if (!reserve(b, n))
    return;
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void srv_buf_puts(srv_buf *b, const char *s) { srv_buf_put(b, s, strlen(s)); }

void srv_buf_printf(srv_buf *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || !reserve(b, (size_t)n))
    return;
  va_start(ap, fmt);
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void srv_buf_u64(srv_buf *b, uint64_t v)
{
  char digits[24], *p = digits + sizeof digits;
  do
    *--p = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  srv_buf_put(b, p, (size_t)(digits + sizeof digits - p));
}

void srv_buf_free(srv_buf *b)
{
  free(b->p);
  *b = (srv_buf){0};
}

/* ---------------------------------------------------------------- methods */

static const char *const method_names[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "OTHER"};

const char *srv_method_name(srv_method m) { return method_names[m]; }

srv_method srv_method_parse(const char *s)
{
  for (int m = SRV_GET; m < SRV_OTHER; m++)
    if (strcmp(s, method_names[m]) == 0)
      return (srv_method)m;
  return SRV_OTHER;
}

/* ---------------------------------------------------------------- replies */

void srv_json(srv_resp *r, unsigned status, json_t *j)
{
  r->status = status;
  r->body.len = 0;
  if (!j) {
    r->body.oom = true;
    return;
  }
  size_t n = json_dumpb(j, NULL, 0, JSON_COMPACT);
  if (reserve(&r->body, n)) {
    json_dumpb(j, r->body.p, n, JSON_COMPACT);
    r->body.len = n;
    r->body.p[n] = '\0';
  }
  json_decref(j);
}

static void error_json(srv_resp *r, unsigned status, const char *code, const char *target,
                       const char *message)
{
  /* no target: the member is left out (the OpenAPI Error has it as a string, never null) */
  json_t *e = json_pack("{s:{s:s, s:s, s:s*}}", "error", "code", code, "message", message, "target", target);
  srv_json(r, status, e);
}

void srv_error(srv_resp *r, unsigned status, const char *code, const char *target, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  error_json(r, status, code, target, msg);
}

unsigned srv_status_of(urbac_err err)
{
  switch (err) {
  case URBAC_OK:
    return 200;
  case URBAC_ENOTFOUND:
    return 404;
  case URBAC_ECONFLICT:
    return 412;
  case URBAC_EDUPLICATE:
    return 409;
  case URBAC_EREFUSED:
    return 409;
  case URBAC_ELIMIT:
    return 413;
  case URBAC_EUNAVAILABLE:
    return 503;
  case URBAC_ENOMEM:
  case URBAC_EIO:
  case URBAC_ESTORE:
  case URBAC_ESCHEMA:
  case URBAC_ETAMPERED:
    return 500;
  default:
    return 422;
  }
}

void srv_error_urbac(srv_resp *r, urbac_err err, const urbac_diag *d, const char *target)
{
  char line[1024];
  size_t n = urbac_diag_count(d);
  if (err == URBAC_EUNAVAILABLE || (n && urbac_diag_get(d, 0)->code == URBAC_EUNAVAILABLE))
    r->retry_after = 1; /* the store reconnects at most 5 s apart: a second is a fair first wait */
  if (n == 0) {
    error_json(r, srv_status_of(err), urbac_err_name(err), target, urbac_strerror(err));
    return;
  }
  const urbac_error *first = urbac_diag_get(d, 0);
  urbac_diag_format(d, 0, line, sizeof line);
  const char *t = first->path && first->path[0] ? first->path : target;
  json_t *details = json_array();
  for (size_t i = 1; i < n && i < 50; i++) {
    urbac_diag_format(d, i, line, sizeof line);
    const urbac_error *e = urbac_diag_get(d, i);
    json_array_append_new(details, json_pack("{s:s, s:s, s:s}", "code", urbac_err_name(e->code), "message",
                                             line, "target", e->path ? e->path : ""));
  }
  urbac_diag_format(d, 0, line, sizeof line);
  json_t *e = json_pack("{s:{s:s, s:s, s:s*}}", "error", "code", urbac_err_name(first->code), "message", line,
                        "target", t);
  if (json_array_size(details))
    json_object_set(json_object_get(e, "error"), "details", details);
  json_decref(details);
  srv_json(r, srv_status_of(first->code), e);
}

json_t *srv_body_object(const srv_req *req, srv_resp *r)
{
  json_error_t je;
  json_t *j = json_loadb(req->body ? req->body : "", req->body_len, JSON_REJECT_DUPLICATES, &je);
  if (!j) {
    srv_error(r, 400, "badRequest", "body", "body:%d:%d: %s", je.line, je.column, je.text);
    return NULL;
  }
  if (!json_is_object(j)) {
    json_decref(j);
    srv_error(r, 400, "badRequest", "body", "the body must be a JSON object");
    return NULL;
  }
  return j;
}

/* ---------------------------------------------------------------- targets */

static int hex(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  c = (char)(c | 0x20);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes %XX (and '+' as a space when `plus`) in place; false on a bad escape
 * or an encoded NUL. */
static bool decode(char *s, bool plus)
{
  char *w = s;
  for (const char *p = s; *p; p++) {
    if (*p == '%') {
      int hi = hex(p[1]), lo = hi < 0 ? -1 : hex(p[2]);
      if (lo < 0 || (hi == 0 && lo == 0))
        return false;
      *w++ = (char)(hi * 16 + lo);
      p += 2;
    } else {
      *w++ = plus && *p == '+' ? ' ' : *p;
    }
  }
  *w = '\0';
  return true;
}

static bool split_path(srv_req *req, char *p)
{
  if (*p++ != '/')
    return false;
  while (*p) {
    char *slash = strchr(p, '/');
    if (slash)
      *slash = '\0';
    if (*p) { /* empty segments ("//", a trailing slash) are skipped */
      if (req->nsegs == SRV_MAX_SEGS || !decode(p, false))
        return false;
      req->segs[req->nsegs++] = p;
    }
    if (!slash)
      break;
    p = slash + 1;
  }
  return true;
}

static bool split_query(srv_req *req, char *q)
{
  while (q && *q) {
    char *amp = strchr(q, '&');
    if (amp)
      *amp = '\0';
    if (*q) {
      char *eq = strchr(q, '=');
      if (eq)
        *eq = '\0';
      if (req->nargs == SRV_MAX_ARGS || !decode(q, true) || (eq && !decode(eq + 1, true)))
        return false;
      req->args[req->nargs++] = (srv_arg){q, eq ? eq + 1 : ""};
    }
    q = amp ? amp + 1 : NULL;
  }
  return true;
}

bool srv_req_parse_target(srv_req *req, const char *path, const char *query, char **scratch)
{
  size_t pl = strlen(path), ql = query ? strlen(query) : 0;
  char *buf = malloc(pl + ql + 2);
  *scratch = buf;
  if (!buf)
    return false;
  memcpy(buf, path, pl + 1);
  char *q = NULL;
  if (query) {
    q = buf + pl + 1;
    memcpy(q, query, ql + 1);
  }
  return split_path(req, buf) && split_query(req, q);
}

const char *srv_arg_get(const srv_req *req, const char *key)
{
  for (size_t i = 0; i < req->nargs; i++)
    if (strcmp(req->args[i].key, key) == 0)
      return req->args[i].val;
  return NULL;
}

/* ---------------------------------------------------------------- paging */

static bool size_arg(const char *v, size_t max, size_t *out)
{
  size_t n = 0;
  if (!v || !*v)
    return false;
  for (; *v; v++) {
    size_t digit = (size_t)(*v - '0');
    if (*v < '0' || *v > '9' || n > (max - digit) / 10) /* checked before it could wrap around */
      return false;
    n = n * 10 + digit;
  }
  *out = n;
  return n <= max;
}

bool srv_top_arg(const srv_req *req, srv_resp *r, size_t *top)
{
  const char *t = srv_arg_get(req, "$top");
  *top = SRV_PAGE_DEFAULT;
  if (t && (!size_arg(t, SRV_PAGE_MAX, top) || *top == 0)) {
    srv_error(r, 400, "badRequest", "$top", "$top must be 1 to %d", SRV_PAGE_MAX);
    return false;
  }
  return true;
}

bool srv_page_args(const srv_req *req, srv_resp *r, size_t *skip, size_t *top)
{
  const char *k = srv_arg_get(req, "$skiptoken");
  *skip = 0;
  if (!srv_top_arg(req, r, top))
    return false;
  if (k && !size_arg(k, SIZE_MAX / 4, skip)) {
    srv_error(r, 400, "badRequest", "$skiptoken", "$skiptoken must come from an @odata.nextLink");
    return false;
  }
  return true;
}

static void encode(srv_buf *b, const char *s)
{
  static const char hexd[] = "0123456789ABCDEF";
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("-._~$", c)) {
      srv_buf_put(b, s, 1);
    } else {
      char e[3] = {'%', hexd[c >> 4], hexd[c & 15]};
      srv_buf_put(b, e, 3);
    }
  }
}

char *srv_next_link(const srv_req *req, size_t next, size_t top)
{
  char token[32];
  snprintf(token, sizeof token, "%zu", next);
  return srv_next_link_key(req, token, top);
}

char *srv_next_link_key(const srv_req *req, const char *token, size_t top)
{
  srv_buf b = {0};
  srv_buf_puts(&b, req->path);
  char sep = '?';
  for (size_t i = 0; i < req->nargs; i++) {
    if (strcmp(req->args[i].key, "$top") == 0 || strcmp(req->args[i].key, "$skiptoken") == 0)
      continue;
    srv_buf_put(&b, &sep, 1);
    encode(&b, req->args[i].key);
    srv_buf_puts(&b, "=");
    encode(&b, req->args[i].val);
    sep = '&';
  }
  srv_buf_printf(&b, "%c$top=%zu&$skiptoken=", sep, top);
  encode(&b, token);
  if (b.oom) {
    srv_buf_free(&b);
    return NULL;
  }
  return b.p;
}

void srv_page(const srv_req *req, srv_resp *r, json_t *items, json_t *extra)
{
  size_t skip, top;
  if (!srv_page_args(req, r, &skip, &top)) {
    json_decref(items);
    json_decref(extra);
    return;
  }
  json_t *out = extra ? extra : json_object(), *page = json_array();
  size_t n = json_array_size(items);
  for (size_t i = skip; i < n && i - skip < top; i++)
    json_array_append(page, json_array_get(items, i));
  json_object_set_new(out, "value", page);
  if (skip < n && n - skip > top) {
    char *link = srv_next_link(req, skip + top, top);
    json_object_set_new(out, "@odata.nextLink", json_string(link));
    free(link);
  }
  json_decref(items);
  srv_json(r, 200, out);
}

void srv_page_keyed(const srv_req *req, srv_resp *r, json_t *items, uint64_t revision, const char *next,
                    size_t top)
{
  json_t *out = json_pack("{s:I, s:o}", "revision", (json_int_t)revision, "value", items);
  char *link = next ? srv_next_link_key(req, next, top) : NULL;
  if (link)
    json_object_set_new(out, "@odata.nextLink", json_string(link));
  free(link);
  if (!out || (next && !link))
    srv_error(r, 500, "internalError", NULL, "out of memory");
  else
    srv_json(r, 200, out);
  r->revision = revision;
  r->has_revision = true;
}

void srv_page_at(const srv_req *req, srv_resp *r, json_t *items, uint64_t revision)
{
  srv_page(req, r, items, json_pack("{s:I}", "revision", (json_int_t)revision));
  r->revision = revision;
  r->has_revision = true;
}
