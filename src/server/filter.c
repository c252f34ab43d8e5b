/*
 * server/filter.c - OData $filter on the Graph-shaped lists, in the simple form
 * Graph clients use for role definitions and assignments:
 *
 *   displayName eq 'Mail triage'
 *   roleDefinitionId eq 'SOC analyst' and principalId eq 'alice@contoso.com'
 *
 * that is, FIELD eq 'VALUE' conditions joined by `and`, a quote inside a value
 * doubled (''). Anything else (or, ne, gt, functions, parentheses, an unknown
 * field) is refused with the character where it starts, never ignored. The
 * parser is bounded: SRV_FILTER_MAX_LEN bytes, SRV_FILTER_MAX_TERMS conditions,
 * one pass, no recursion, no allocation.
 *
 * Depends on: jansson.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "server/server.h"

/* The length of the word (letters, digits, '_') at `p`. */
static size_t word(const char *p)
{
  size_t n = 0;
  while (isalnum((unsigned char)p[n]) || p[n] == '_')
    n++;
  return n;
}

static const char *skip_space(const char *p)
{
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

static bool is_word(const char *p, size_t n, const char *w)
{
  return strlen(w) == n && strncasecmp(p, w, n) == 0;
}

/* The field named by the n bytes at `p`, or NULL. */
static const srv_filter_field *field_find(const srv_filter_field *fields, size_t nfields, const char *p,
                                          size_t n)
{
  for (size_t i = 0; i < nfields; i++)
    if (is_word(p, n, fields[i].name))
      return &fields[i];
  return NULL;
}

/* Copies the quoted value at `*pp` (past its opening quote) into `out`; false
 * when it does not end. */
static bool value(const char **pp, char **out)
{
  const char *p = *pp;
  for (;; p++) {
    if (!*p)
      return false;
    if (*p == '\'' && p[1] != '\'')
      break;
    if (*p == '\'')
      p++; /* '' is one quote */
    *(*out)++ = *p;
  }
  *(*out)++ = '\0';
  *pp = p + 1;
  return true;
}

/* Where parsing stopped: the position, what was expected there, or a message of its own. */
typedef struct stop {
  const char *at, *expected;
  char message[96];
} stop;

/* The condition at `p` (FIELD eq 'VALUE'), added to *f with its value copied to
 * *out; the position after it, or NULL with where and why in *st. */
static const char *condition(const char *text, const char *p, const srv_filter_field *fields, size_t nfields,
                             srv_filter *f, char **out, stop *st)
{
  size_t n = word(p);
  const srv_filter_field *fd = field_find(fields, nfields, p, n);
  const char *v = NULL;
  *st = (stop){p, "a field", ""};
  if (fd && f->n == SRV_FILTER_MAX_TERMS)
    snprintf(st->message, sizeof st->message, "at most %d conditions", SRV_FILTER_MAX_TERMS);
  if (!fd || st->message[0])
    return NULL;
  p = skip_space(p + n);
  n = word(p);
  *st = (stop){p, "eq (the only comparison supported)", ""};
  if (!is_word(p, n, "eq"))
    return NULL;
  p = skip_space(p + n);
  *st = (stop){p, "a quoted string ('...')", ""};
  if (*p != '\'')
    return NULL;
  f->field[f->n] = fd;
  f->value[f->n++] = *out;
  v = p + 1;
  if (!value(&v, out))
    snprintf(st->message, sizeof st->message, "the string at character %zu does not end",
             (size_t)(p - text) + 1);
  return st->message[0] ? NULL : skip_space(v);
}

bool srv_filter_parse(const char *text, const srv_filter_field *fields, size_t nfields, srv_filter *f,
                      char *why, size_t why_size)
{
  const char *p = skip_space(text);
  char *out = f->buf;
  stop st = {text, "", ""};
  f->n = 0;
  if (strlen(text) > SRV_FILTER_MAX_LEN) {
    snprintf(why, why_size, "$filter is longer than %d bytes", SRV_FILTER_MAX_LEN);
    return false;
  }
  while ((p = condition(text, p, fields, nfields, f, &out, &st)) != NULL) {
    size_t n = word(p);
    if (!*p)
      return true;
    st = (stop){p, "and (the only way to join conditions) or the end", ""};
    if (!is_word(p, n, "and"))
      break;
    p = skip_space(p + n);
  }
  size_t col = (size_t)(st.at - text) + 1, shown = word(st.at) ? word(st.at) : *st.at ? 1 : 0;
  if (st.message[0]) {
    snprintf(why, why_size, "$filter: %s", st.message);
    return false;
  }
  char names[200] = "";
  for (size_t i = 0, o = 0; i < nfields && o < sizeof names; i++)
    o += (size_t)snprintf(names + o, sizeof names - o, "%s%s", i ? ", " : "", fields[i].name);
  snprintf(why, why_size,
           "$filter: at character %zu, %s%.*s%s: expected %s; supported: FIELD eq 'VALUE' [and ...] on %s",
           col, shown ? "'" : "", (int)(shown > 40 ? 40 : shown), st.at, shown ? "'" : "the end", st.expected,
           names);
  return false;
}

/* Does member `v` equal `want`, or (a list) hold it? */
static bool member_is(json_t *v, const char *want)
{
  json_t *e;
  size_t i;
  if (json_is_string(v))
    return strcmp(json_string_value(v), want) == 0;
  json_array_foreach(v, i, e) if (json_is_string(e) && strcmp(json_string_value(e), want) == 0) return true;
  return false;
}

bool srv_filter_match(const srv_filter *f, json_t *item)
{
  for (size_t i = 0; i < f->n; i++)
    if (!member_is(json_object_get(item, f->field[i]->member), f->value[i]))
      return false;
  return true;
}

bool srv_filter_args(const srv_req *req, srv_resp *r, const srv_filter_field *fields, size_t nfields,
                     srv_filter *f)
{
  const char *text = srv_arg_get(req, "$filter");
  char why[512];
  f->n = 0;
  if (!text || srv_filter_parse(text, fields, nfields, f, why, sizeof why))
    return true;
  srv_error(r, 400, "badRequest", "$filter", "%s", why);
  return false;
}

json_t *srv_filter_apply(const srv_filter *f, json_t *items)
{
  json_t *kept = json_array(), *v;
  size_t i;
  if (!f->n) {
    json_decref(kept);
    return items;
  }
  json_array_foreach(items, i, v) if (srv_filter_match(f, v)) json_array_append(kept, v);
  json_decref(items);
  return kept;
}
