/*
 * server/scim_filter.c - SCIM filters and PATCH operations, apart from the
 * endpoint so that they are fuzzed and tested alone.
 *
 * A filter (RFC 7644 3.4.2.2) is parsed by recursive descent into a tree of
 * nodes: `or` over `and` over `not`/parentheses/attribute expressions, where an
 * attribute expression is `PATH pr`, `PATH OP VALUE` (eq ne co sw ew gt ge lt
 * le) or a value filter `attr[FILTER]`. A path is [schema URN ":"] attr
 * ["[" FILTER "]"] ["." sub], so Microsoft's `emails[type eq "work"].value eq
 * "x"` is one comparison. Everything that grows is bounded: the text's length
 * (SCIM_FILTER_MAX_LEN), the nesting (SCIM_FILTER_MAX_DEPTH, which also bounds
 * the recursion) and the nodes (SCIM_FILTER_MAX_NODES). An error names the
 * column (1-based) where the filter stops making sense.
 *
 * A match resolves the path to the values it names (an attribute, each element
 * of a multi-valued one, the elements a value filter keeps, their
 * sub-attribute) and the comparison holds when one of them compares true.
 *
 * PATCH (RFC 7644 3.5.2) applies each operation in turn to the resource given,
 * which the caller has copied: a failure leaves the caller's original alone,
 * never half-patched. Microsoft's provisioning service is taken as it is
 * documented to behave: `op` in any case, paths as keys of a path-less value,
 * `add` or `replace` of `emails[type eq "work"].value` creating the element
 * when there is none, `remove` of `members` with a value list.
 *
 * Depends on: jansson.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/scim_filter.h"

#define CORE_USER "urn:ietf:params:scim:schemas:core:2.0:User"
#define CORE_GROUP "urn:ietf:params:scim:schemas:core:2.0:Group"
#define PATCH_OP "urn:ietf:params:scim:api:messages:2.0:PatchOp"

typedef enum node_kind { N_OR, N_AND, N_NOT, N_CMP, N_PR, N_HAS } node_kind;
typedef enum cmp_op { OP_EQ, OP_NE, OP_CO, OP_SW, OP_EW, OP_GT, OP_GE, OP_LT, OP_LE } cmp_op;
static const char *const op_names[] = {"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"};

typedef struct node node;

/* An attribute path: [uri:]attr[[vf]][.sub]. */
typedef struct scim_path {
  char *uri; /* an extension schema; NULL for the core schema */
  char *attr;
  node *vf; /* value filter, or NULL */
  char *sub;
} scim_path;

struct node {
  node_kind kind;
  node *l, *r; /* or, and: both; not: l */
  scim_path path;
  cmp_op op;
  json_t *value;
};

struct scim_filter {
  node *root;
};

static void error_set(scim_error *e, unsigned status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void error_set(scim_error *e, unsigned status, const char *type, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  e->status = status;
  e->scim_type = type;
  vsnprintf(e->detail, sizeof e->detail, fmt, ap);
  va_end(ap);
}

static void path_clear(scim_path *p);

static void node_free(node *n)
{
  if (!n)
    return;
  node_free(n->l);
  node_free(n->r);
  path_clear(&n->path);
  json_decref(n->value);
  free(n);
}

static void path_clear(scim_path *p)
{
  free(p->uri);
  free(p->attr);
  free(p->sub);
  node_free(p->vf);
  *p = (scim_path){0};
}

void scim_filter_free(scim_filter *f)
{
  if (!f)
    return;
  node_free(f->root);
  free(f);
}

/* ---------------------------------------------------------------- parsing */

typedef struct parser {
  const char *s;
  size_t pos;
  unsigned depth, nodes;
  scim_error *e;
  bool failed;
  const char *what; /* "filter" or "path": in messages */
} parser;

static void fail(parser *ps, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(parser *ps, size_t at, const char *fmt, ...)
{
  if (ps->failed)
    return;
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  error_set(ps->e, 400, strcmp(ps->what, "path") == 0 ? "invalidPath" : "invalidFilter", "%s column %zu: %s",
            ps->what, at + 1, msg);
  ps->failed = true;
}

static void skip_space(parser *ps)
{
  while (ps->s[ps->pos] == ' ' || ps->s[ps->pos] == '\t')
    ps->pos++;
}

static bool name_char(char c) { return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '$'; }

/* The length of the word at the parser's position (letters only). */
static size_t word_len(const parser *ps)
{
  size_t n = 0;
  while (isalpha((unsigned char)ps->s[ps->pos + n]))
    n++;
  return n;
}

static bool word_is(const parser *ps, const char *w)
{
  size_t n = word_len(ps);
  return n == strlen(w) && strncasecmp(ps->s + ps->pos, w, n) == 0 && !name_char(ps->s[ps->pos + n]);
}

static node *node_new(parser *ps, node_kind kind)
{
  if (++ps->nodes > SCIM_FILTER_MAX_NODES) {
    fail(ps, ps->pos, "more than %s comparisons and operators", "256");
    return NULL;
  }
  node *n = calloc(1, sizeof *n);
  if (!n)
    fail(ps, ps->pos, "%s", "out of memory");
  if (n)
    n->kind = kind;
  return n;
}

static node *parse_or(parser *ps);

/* [uri:]attr[.sub]: splits the token at `start`, `len` bytes, into the path. */
static bool split_name(parser *ps, size_t start, size_t len, scim_path *p)
{
  const char *t = ps->s + start;
  const char *colon = NULL;
  for (size_t i = 0; i < len; i++)
    if (t[i] == ':')
      colon = t + i;
  const char *name = colon ? colon + 1 : t;
  size_t nlen = len - (size_t)(name - t);
  if (colon) {
    size_t ulen = (size_t)(colon - t);
    bool core = (ulen == strlen(CORE_USER) && strncasecmp(t, CORE_USER, ulen) == 0) ||
                (ulen == strlen(CORE_GROUP) && strncasecmp(t, CORE_GROUP, ulen) == 0);
    if (!core && !(p->uri = strndup(t, ulen)))
      return false;
  }
  const char *dot = memchr(name, '.', nlen);
  size_t alen = dot ? (size_t)(dot - name) : nlen;
  bool bad_sub = dot && (dot + 1 == name + nlen || memchr(dot + 1, '.', (size_t)(name + nlen - dot - 1)));
  if (!alen || !isalpha((unsigned char)name[0]) || bad_sub) {
    fail(ps, (size_t)(name - ps->s), "%s",
         "expected ATTRIBUTE or ATTRIBUTE.SUB (after a schema URN and ':')");
    return false;
  }
  p->attr = strndup(name, alen);
  if (dot)
    p->sub = strndup(dot + 1, (size_t)(name + nlen - dot - 1));
  return p->attr && (!dot || p->sub);
}

/* An attribute path at the parser's position. */
static bool parse_path(parser *ps, scim_path *p)
{
  size_t start = ps->pos, len = 0;
  while (name_char(ps->s[start + len]) || ps->s[start + len] == ':' || ps->s[start + len] == '.')
    len++;
  if (!len || !isalpha((unsigned char)ps->s[start])) {
    fail(ps, start, "expected an attribute name%s", ps->s[start] ? "" : ", found the end");
    return false;
  }
  ps->pos += len;
  if (!split_name(ps, start, len, p)) {
    fail(ps, start, "%s", "out of memory");
    return false;
  }
  if (ps->s[ps->pos] != '[')
    return true;
  if (p->sub) {
    fail(ps, ps->pos, "%s", "a value filter follows the attribute, not its sub-attribute");
    return false;
  }
  if (++ps->depth > SCIM_FILTER_MAX_DEPTH) {
    fail(ps, ps->pos, "nested deeper than %s levels", "16");
    return false;
  }
  ps->pos++;
  p->vf = parse_or(ps);
  ps->depth--;
  skip_space(ps);
  if (!p->vf || ps->s[ps->pos] != ']') {
    fail(ps, ps->pos, "%s", "expected ']' to end the value filter");
    return false;
  }
  ps->pos++;
  if (ps->s[ps->pos] == '.') {
    size_t s0 = ++ps->pos, n = 0;
    while (name_char(ps->s[s0 + n]))
      n++;
    if (!n || !isalpha((unsigned char)ps->s[s0])) {
      fail(ps, s0, "%s", "expected a sub-attribute after '.'");
      return false;
    }
    p->sub = strndup(ps->s + s0, n);
    ps->pos += n;
  }
  return true;
}

/* A comparison value: a JSON string, number, true, false or null. */
static json_t *parse_value(parser *ps)
{
  size_t start = ps->pos, n = 0;
  const char *t = ps->s + start;
  if (t[0] == '"') {
    for (n = 1; t[n] && t[n] != '"'; n++)
      if (t[n] == '\\' && t[n + 1])
        n++;
    if (t[n] != '"') {
      fail(ps, start, "%s", "the string does not end");
      return NULL;
    }
    n++;
  } else {
    while (t[n] && !strchr(" \t)]", t[n]))
      n++;
  }
  json_error_t je;
  json_t *v = n ? json_loadb(t, n, JSON_DECODE_ANY, &je) : NULL;
  if (!v || json_is_object(v) || json_is_array(v)) {
    json_decref(v);
    fail(ps, start, "%s", "expected a value: a \"string\", a number, true, false or null");
    return NULL;
  }
  ps->pos += n;
  return v;
}

/* PATH pr | PATH OP VALUE | attr[FILTER] */
static node *parse_expr(parser *ps)
{
  size_t at = ps->pos;
  scim_path path = {0};
  if (!parse_path(ps, &path)) {
    path_clear(&path);
    return NULL;
  }
  skip_space(ps);
  node *n = NULL;
  size_t k = 0;
  while (k < sizeof op_names / sizeof op_names[0] && !word_is(ps, op_names[k]))
    k++;
  if (word_is(ps, "pr")) {
    ps->pos += 2;
    n = node_new(ps, N_PR);
  } else if (k < sizeof op_names / sizeof op_names[0]) {
    ps->pos += 2;
    skip_space(ps);
    json_t *v = parse_value(ps);
    if (v && (json_is_boolean(v) || json_is_null(v)) && k != OP_EQ && k != OP_NE)
      fail(ps, at, "'%s' compares only with eq or ne", json_is_null(v) ? "null" : "true/false");
    if (v && !ps->failed && (n = node_new(ps, N_CMP))) {
      n->op = (cmp_op)k;
      n->value = v;
      v = NULL;
    }
    json_decref(v);
  } else if (path.vf && !path.sub) {
    n = node_new(ps, N_HAS);
  } else {
    fail(ps, ps->pos, "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr)%s",
         ps->s[ps->pos] ? "" : ", found the end");
  }
  if (n && !ps->failed) {
    n->path = path;
    return n;
  }
  path_clear(&path);
  node_free(n);
  return NULL;
}

/* not (F) | (F) | expr */
static node *parse_unary(parser *ps)
{
  skip_space(ps);
  bool negate = word_is(ps, "not");
  if (negate) {
    ps->pos += 3;
    skip_space(ps);
    if (ps->s[ps->pos] != '(') {
      fail(ps, ps->pos, "%s", "expected '(' after not");
      return NULL;
    }
  }
  if (ps->s[ps->pos] != '(')
    return parse_expr(ps);
  if (++ps->depth > SCIM_FILTER_MAX_DEPTH) {
    fail(ps, ps->pos, "nested deeper than %s levels", "16");
    return NULL;
  }
  ps->pos++;
  node *in = parse_or(ps);
  ps->depth--;
  if (!in)
    return NULL;
  skip_space(ps);
  if (ps->s[ps->pos] != ')') {
    fail(ps, ps->pos, "%s", "expected ')'");
    node_free(in);
    return NULL;
  }
  ps->pos++;
  if (!negate)
    return in;
  node *n = node_new(ps, N_NOT);
  if (!n) {
    node_free(in);
    return NULL;
  }
  n->l = in;
  return n;
}

/* One level of a left-associative binary operator. */
static node *parse_binary(parser *ps, const char *word, node_kind kind, node *(*operand)(parser *))
{
  node *l = operand(ps);
  for (;;) {
    skip_space(ps);
    if (!l || !word_is(ps, word))
      return l;
    size_t at = ps->pos;
    ps->pos += strlen(word);
    if (ps->s[ps->pos] && ps->s[ps->pos] != ' ' && ps->s[ps->pos] != '(') {
      fail(ps, at, "expected a space after '%s'", word);
      node_free(l);
      return NULL;
    }
    node *r = operand(ps), *n = r ? node_new(ps, kind) : NULL;
    if (!n) {
      node_free(l);
      node_free(r);
      return NULL;
    }
    n->l = l;
    n->r = r;
    l = n;
  }
}

static node *parse_and(parser *ps) { return parse_binary(ps, "and", N_AND, parse_unary); }
static node *parse_or(parser *ps) { return parse_binary(ps, "or", N_OR, parse_and); }

/* Checks the text's length and that it holds no control character. */
static bool text_ok(parser *ps)
{
  size_t n = strnlen(ps->s, SCIM_FILTER_MAX_LEN + 1);
  if (n > SCIM_FILTER_MAX_LEN) {
    error_set(ps->e, 400, strcmp(ps->what, "path") == 0 ? "invalidPath" : "invalidFilter",
              "the %s is longer than %d bytes", ps->what, SCIM_FILTER_MAX_LEN);
    return false;
  }
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)ps->s[i] < 0x20) {
      fail(ps, i, "%s", "a control character");
      return false;
    }
  return true;
}

bool scim_filter_parse(const char *text, scim_filter **out, scim_error *e)
{
  parser ps = {text, 0, 0, 0, e, false, "filter"};
  *out = NULL;
  node *root = text_ok(&ps) ? parse_or(&ps) : NULL;
  skip_space(&ps);
  if (root && text[ps.pos]) {
    fail(&ps, ps.pos, "%s", "unexpected text after the filter (expected and, or, or the end)");
    node_free(root);
    root = NULL;
  }
  if (root && !(*out = calloc(1, sizeof **out))) {
    error_set(e, 500, "", "out of memory");
    node_free(root);
    return false;
  }
  if (*out)
    (*out)->root = root;
  return *out != NULL;
}

/* Parses a PATCH path: the whole text is one path. */
static bool path_parse(const char *text, scim_path *p, scim_error *e)
{
  parser ps = {text, 0, 0, 0, e, false, "path"};
  bool ok = text_ok(&ps) && parse_path(&ps, p);
  if (ok && text[ps.pos]) {
    fail(&ps, ps.pos, "%s", "unexpected text after the path");
    ok = false;
  }
  if (!ok)
    path_clear(p);
  return ok;
}

/* ---------------------------------------------------------------- matching */

/* The member of `o` named `key`, any case. */
static json_t *get_ci(json_t *o, const char *key, const char **found)
{
  const char *k;
  json_t *v;
  json_object_foreach(o, k, v)
  {
    if (strcasecmp(k, key) == 0) {
      if (found)
        *found = k;
      return v;
    }
  }
  return NULL;
}

/* The object holding the path's attribute: the resource, or its extension. */
static json_t *base_of(json_t *resource, const scim_path *p, bool create)
{
  if (!p->uri)
    return resource;
  json_t *b = get_ci(resource, p->uri, NULL);
  if (!b && create && json_object_set_new(resource, p->uri, b = json_object()) != 0)
    b = NULL;
  return json_is_object(b) ? b : NULL;
}

static bool node_match(const node *n, json_t *resource);

#define MAX_VALUES 4096 /* values one path names, in one match */
typedef struct values {
  json_t *v[MAX_VALUES];
  size_t n;
} values;

static void values_add(values *out, json_t *v)
{
  if (json_is_array(v)) {
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) values_add(out, e);
  } else if (v && out->n < MAX_VALUES) {
    out->v[out->n++] = v;
  }
}

/* The values `p` names in `resource`. */
static void resolve(json_t *resource, const scim_path *p, values *out)
{
  out->n = 0;
  json_t *base = base_of(resource, p, false), *v = base ? get_ci(base, p->attr, NULL) : NULL;
  if (!v)
    return;
  size_t count = json_is_array(v) ? json_array_size(v) : 1;
  for (size_t i = 0; i < count; i++) {
    json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
    if (p->vf && (!json_is_object(e) || !node_match(p->vf, e)))
      continue;
    if (p->sub)
      values_add(out, json_is_object(e) ? get_ci(e, p->sub, NULL) : NULL);
    else if (json_is_object(e) && !p->vf) /* a complex attribute compares its value */
      values_add(out, get_ci(e, "value", NULL));
    else
      values_add(out, e);
  }
}

static bool case_exact(const scim_path *p)
{
  const char *last = p->sub ? p->sub : p->attr;
  return strcasecmp(last, "id") == 0 || strcasecmp(last, "externalId") == 0 ||
         (strcasecmp(p->attr, "members") == 0 && (!p->sub || strcasecmp(p->sub, "value") == 0));
}

static bool contains(const char *hay, const char *needle, bool exact)
{
  size_t n = strlen(needle);
  for (; *hay; hay++)
    if ((exact ? strncmp(hay, needle, n) : strncasecmp(hay, needle, n)) == 0)
      return true;
  return n == 0;
}

static bool order_holds(cmp_op op, int c)
{
  switch (op) {
  case OP_GT:
    return c > 0;
  case OP_GE:
    return c >= 0;
  case OP_LT:
    return c < 0;
  case OP_LE:
    return c <= 0;
  default:
    return c == 0;
  }
}

static bool compare_one(const node *n, json_t *have, bool exact)
{
  json_t *want = n->value;
  if (json_is_string(want) && json_is_string(have)) {
    const char *a = json_string_value(have), *b = json_string_value(want);
    size_t la = strlen(a), lb = strlen(b);
    switch (n->op) {
    case OP_CO:
      return contains(a, b, exact);
    case OP_SW:
      return la >= lb && (exact ? strncmp(a, b, lb) : strncasecmp(a, b, lb)) == 0;
    case OP_EW:
      return la >= lb && (exact ? strcmp(a + la - lb, b) : strcasecmp(a + la - lb, b)) == 0;
    default:
      return order_holds(n->op, exact ? strcmp(a, b) : strcasecmp(a, b));
    }
  }
  if (json_is_number(want) && json_is_number(have)) {
    double a = json_number_value(have), b = json_number_value(want);
    return order_holds(n->op == OP_NE ? OP_EQ : n->op, a < b ? -1 : a > b ? 1 : 0);
  }
  if (json_is_boolean(want) && json_is_boolean(have))
    return json_is_true(want) == json_is_true(have);
  return false;
}

static bool cmp_match(const node *n, json_t *resource)
{
  values *vs = malloc(sizeof *vs);
  if (!vs)
    return false;
  resolve(resource, &n->path, vs);
  bool exact = case_exact(&n->path), any = false;
  if (json_is_null(n->value)) /* eq null: absent; ne null: present */
    any = vs->n > 0;
  for (size_t i = 0; i < vs->n && !any; i++)
    any = compare_one(n, vs->v[i], exact);
  free(vs);
  if (json_is_null(n->value))
    return n->op == OP_EQ ? !any : any;
  return n->op == OP_NE ? !any : any;
}

static bool present(json_t *v)
{
  return v && !json_is_null(v) && !(json_is_string(v) && !json_string_length(v)) &&
         !(json_is_array(v) && !json_array_size(v)) && !(json_is_object(v) && !json_object_size(v));
}

static bool node_match(const node *n, json_t *resource)
{
  switch (n->kind) {
  case N_OR:
    return node_match(n->l, resource) || node_match(n->r, resource);
  case N_AND:
    return node_match(n->l, resource) && node_match(n->r, resource);
  case N_NOT:
    return !node_match(n->l, resource);
  case N_CMP:
    return cmp_match(n, resource);
  default:
    break;
  }
  values *vs = malloc(sizeof *vs);
  bool any = false;
  if (vs)
    resolve(resource, &n->path, vs);
  for (size_t i = 0; vs && i < vs->n && !any; i++)
    any = n->kind == N_HAS || present(vs->v[i]);
  free(vs);
  return any;
}

bool scim_filter_match(const scim_filter *f, json_t *resource) { return node_match(f->root, resource); }

static const char *eq_of(const node *n, const char *attr)
{
  if (n->kind == N_AND) {
    const char *v = eq_of(n->l, attr);
    return v ? v : eq_of(n->r, attr);
  }
  bool simple = n->kind == N_CMP && n->op == OP_EQ && !n->path.uri && !n->path.vf && !n->path.sub;
  return simple && json_is_string(n->value) && strcasecmp(n->path.attr, attr) == 0
             ? json_string_value(n->value)
             : NULL;
}

const char *scim_filter_eq(const scim_filter *f, const char *attr) { return eq_of(f->root, attr); }

bool scim_is_guid(const char *s)
{
  static const int groups[] = {8, 4, 4, 4, 12};
  for (size_t g = 0; g < 5; g++) {
    for (int i = 0; i < groups[g]; i++, s++)
      if (!isxdigit((unsigned char)*s))
        return false;
    if (*s != (g < 4 ? '-' : '\0'))
      return false;
    s += g < 4;
  }
  return true;
}

/* ---------------------------------------------------------------- PATCH */

typedef enum patch_op { P_ADD, P_REPLACE, P_REMOVE } patch_op;

/* Sets o[key] (stealing v), under the name it already has in any case. */
static int set_ci(json_t *o, const char *key, json_t *v)
{
  const char *found = NULL;
  get_ci(o, key, &found);
  return json_object_set_new(o, found ? found : key, v);
}

static void del_ci(json_t *o, const char *key)
{
  const char *found = NULL;
  if (get_ci(o, key, &found))
    json_object_del(o, found);
}

/* Equal as members of a multi-valued attribute: by "value" when both have one. */
static bool same_element(json_t *a, json_t *b)
{
  json_t *va = json_is_object(a) ? get_ci(a, "value", NULL) : NULL;
  json_t *vb = json_is_object(b) ? get_ci(b, "value", NULL) : NULL;
  return va && vb ? json_equal(va, vb) : json_equal(a, b);
}

static bool has_element(json_t *arr, json_t *v)
{
  size_t i;
  json_t *e;
  json_array_foreach(arr, i, e) if (same_element(e, v)) return true;
  return false;
}

/* A new element of a filtered attribute: the filter's `eq` terms and `value`. */
static json_t *element_from(const node *vf, const char *sub, json_t *value)
{
  json_t *o = json_is_object(value) && !sub ? json_deep_copy(value) : json_object();
  const node *stack[SCIM_FILTER_MAX_NODES];
  size_t n = 0;
  stack[n++] = vf;
  while (n) {
    const node *x = stack[--n];
    if (x->kind == N_AND) {
      stack[n++] = x->l;
      stack[n++] = x->r;
    } else if (x->kind == N_CMP && x->op == OP_EQ && !x->path.sub && !x->path.vf &&
               !get_ci(o, x->path.attr, NULL)) {
      json_object_set(o, x->path.attr, x->value);
    }
  }
  if (sub)
    set_ci(o, sub, json_incref(value));
  return o;
}

/* add, replace or remove at a path with a value filter: attr[vf][.sub]. */
static bool apply_filtered(patch_op op, json_t *base, const scim_path *p, json_t *value, scim_error *e)
{
  json_t *arr = get_ci(base, p->attr, NULL);
  if (!arr && op != P_REMOVE)
    set_ci(base, p->attr, arr = json_array());
  if (arr && !json_is_array(arr)) {
    error_set(e, 400, "invalidPath", "'%s' is not multi-valued: it takes no value filter", p->attr);
    return false;
  }
  size_t i = 0, matched = 0;
  while (i < json_array_size(arr)) {
    json_t *el = json_array_get(arr, i);
    if (!json_is_object(el) || !node_match(p->vf, el)) {
      i++;
      continue;
    }
    matched++;
    if (op == P_REMOVE && !p->sub) {
      json_array_remove(arr, i);
      continue;
    }
    if (op == P_REMOVE)
      del_ci(el, p->sub);
    else if (p->sub)
      set_ci(el, p->sub, json_incref(value));
    else if (json_is_object(value))
      json_object_update(el, value);
    else {
      error_set(e, 400, "invalidValue", "the value for '%s[...]' must be an object", p->attr);
      return false;
    }
    i++;
  }
  if (!matched && op != P_REMOVE) /* Entra adds emails[type eq "work"].value with add or replace */
    json_array_append_new(arr, element_from(p->vf, p->sub, value));
  return true;
}

/* Appends the elements of `value` (or value itself) not in `arr` yet. */
/* The string "value" of element `v`, or NULL. */
static const char *value_key(json_t *v)
{
  return json_is_object(v) ? json_string_value(get_ci(v, "value", NULL)) : NULL;
}

/* Appends the elements of `value` (or value itself) not in `arr` yet. Elements
 * with a string "value" (members, emails) are found through a set of those
 * values: adding 1,000 members to a group of 100,000 is not 10^8 comparisons. */
static bool add_elements(json_t *arr, json_t *value, scim_error *e)
{
  json_t *list = json_is_array(value) ? value : NULL, *v, *seen = json_object();
  size_t i, n = list ? json_array_size(list) : 1;
  if (n > SCIM_PATCH_MAX_VALUES) {
    error_set(e, 400, "tooMany", "%zu values in one operation: at most %d", n, SCIM_PATCH_MAX_VALUES);
    json_decref(seen);
    return false;
  }
  json_array_foreach(arr, i, v) if (value_key(v)) json_object_set_new(seen, value_key(v), json_true());
  for (i = 0; i < n; i++) {
    v = list ? json_array_get(list, i) : value;
    const char *key = value_key(v);
    if (key ? json_object_get(seen, key) != NULL : has_element(arr, v))
      continue;
    json_array_append(arr, v);
    if (key)
      json_object_set_new(seen, key, json_true());
  }
  json_decref(seen);
  return true;
}

static bool remove_elements(json_t *arr, json_t *value)
{
  json_t *list = json_is_array(value) ? value : NULL;
  size_t n = list ? json_array_size(list) : 1;
  for (size_t k = 0; k < n; k++) {
    json_t *v = list ? json_array_get(list, k) : value;
    for (size_t i = 0; i < json_array_size(arr);)
      if (same_element(json_array_get(arr, i), v))
        json_array_remove(arr, i);
      else
        i++;
  }
  return true;
}

static bool apply_path(patch_op op, json_t *resource, const scim_path *p, json_t *value, scim_error *e)
{
  json_t *base = base_of(resource, p, op != P_REMOVE);
  if (!base && op != P_REMOVE)
    error_set(e, 400, "invalidPath", "'%.200s' is not a schema extension of the resource", p->uri);
  if (!base)
    return op == P_REMOVE; /* nothing there to remove */
  if (p->vf)
    return apply_filtered(op, base, p, value, e);
  json_t *target = get_ci(base, p->attr, NULL);
  if (p->sub) {
    if (target && !json_is_object(target)) {
      error_set(e, 400, "invalidPath", "'%s.%s': '%s' is not a complex attribute (use a value filter)",
                p->attr, p->sub, p->attr);
      return false;
    }
    if (op == P_REMOVE) {
      if (target)
        del_ci(target, p->sub);
      return true;
    }
    if (!target)
      set_ci(base, p->attr, target = json_object());
    return set_ci(target, p->sub, json_incref(value)) == 0;
  }
  if (op == P_REMOVE) {
    if (json_is_array(target) && value && !json_is_null(value))
      return remove_elements(target, value);
    del_ci(base, p->attr);
    return true;
  }
  if (op == P_ADD && json_is_array(target))
    return add_elements(target, value, e);
  if (op == P_ADD && json_is_object(target) && json_is_object(value))
    return json_object_update(target, value) == 0;
  return set_ci(base, p->attr, json_deep_copy(value)) == 0;
}

static bool apply_text_path(patch_op op, json_t *resource, const char *text, json_t *value, scim_error *e)
{
  scim_path p = {0};
  if (!path_parse(text, &p, e))
    return false;
  bool ok = apply_path(op, resource, &p, value, e);
  path_clear(&p);
  return ok;
}

/* add or replace without a path: each key of `value` is a path, or an extension
 * schema whose object is applied member by member. */
static bool apply_pathless(patch_op op, json_t *resource, json_t *value, scim_error *e)
{
  const char *k;
  json_t *v;
  if (!json_is_object(value)) {
    error_set(e, 400, "invalidValue", "without a path the value must be an object");
    return false;
  }
  json_object_foreach(value, k, v)
  {
    if (strncasecmp(k, "urn:", 4) == 0 && json_is_object(v) && strcasecmp(k, CORE_USER) != 0) {
      json_t *ext = get_ci(resource, k, NULL);
      if (!json_is_object(ext))
        set_ci(resource, k, ext = json_object());
      if (!apply_pathless(op, ext, v, e))
        return false;
      continue;
    }
    if (strcasecmp(k, "schemas") == 0)
      continue;
    if (!apply_text_path(op, resource, k, v, e))
      return false;
  }
  return true;
}

static bool op_parse(json_t *op, patch_op *out)
{
  const char *s = json_string_value(op);
  static const char *const names[] = {"add", "replace", "remove"};
  for (size_t i = 0; s && i < 3; i++)
    if (strcasecmp(s, names[i]) == 0) {
      *out = (patch_op)i;
      return true;
    }
  return false;
}

static bool schemas_ok(json_t *body)
{
  json_t *schemas = json_object_get(body, "schemas"), *s;
  size_t i;
  if (!schemas)
    return true;
  json_array_foreach(schemas, i,
                     s) if (json_is_string(s) && strcmp(json_string_value(s), PATCH_OP) == 0) return true;
  return false;
}

/* Applies operation `i`, prefixing an error's detail with "Operations[i]". */
static bool apply_one(json_t *resource, json_t *opj, size_t i, scim_error *e)
{
  patch_op op;
  json_t *path = json_object_get(opj, "path"), *value = json_object_get(opj, "value");
  bool ok = false;
  if (!json_is_object(opj) || !op_parse(json_object_get(opj, "op"), &op))
    error_set(e, 400, "invalidSyntax", "op is \"add\", \"replace\" or \"remove\" (any case)");
  else if (path && !json_is_string(path))
    error_set(e, 400, "invalidPath", "path is a string");
  else if (op != P_REMOVE && !value)
    error_set(e, 400, "invalidValue", "%s needs a value", op == P_ADD ? "add" : "replace");
  else if (!path && op == P_REMOVE)
    error_set(e, 400, "noTarget", "remove needs a path");
  else if (path)
    ok = apply_text_path(op, resource, json_string_value(path), value, e);
  else
    ok = apply_pathless(op, resource, value, e);
  if (!ok) {
    char detail[sizeof e->detail];
    snprintf(detail, sizeof detail, "%s", e->detail);
    snprintf(e->detail, sizeof e->detail, "Operations[%zu]: %.340s", i, detail);
  }
  return ok;
}

bool scim_patch_apply(json_t *resource, json_t *body, scim_error *e)
{
  json_t *ops = json_object_get(body, "Operations"), *opj;
  size_t i;
  if (!json_is_object(body) || !schemas_ok(body)) {
    error_set(e, 400, "invalidSyntax", "a PATCH body's schemas is [\"%s\"]", PATCH_OP);
    return false;
  }
  if (!json_is_array(ops) || !json_array_size(ops)) {
    error_set(e, 400, "invalidSyntax", "a PATCH body needs Operations: a list of {op, path, value}");
    return false;
  }
  if (json_array_size(ops) > SCIM_PATCH_MAX_OPS) {
    error_set(e, 400, "tooMany", "%zu Operations: at most %d", json_array_size(ops), SCIM_PATCH_MAX_OPS);
    return false;
  }
  json_array_foreach(ops, i, opj) if (!apply_one(resource, opj, i, e)) return false;
  return true;
}
