/*
 * io/tree.c - parse YAML/JSON into a positioned tree with libyaml's event API,
 * and write a tree back with libyaml's emitter or jansson.
 *
 * Hostile input is bounded: nesting depth (URBAC_MAX_DEPTH), node count
 * (URBAC_MAX_OBJECTS), scalar length (URBAC_MAX_TEXT_BYTES); anchors and aliases
 * are refused outright (they exist to expand, "billion laughs"), and so are
 * multi-document streams.
 *
 * Depends on: util, libyaml, jansson.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <yaml.h>

#include "io/tree.h"

/* ---------------------------------------------------------------- arenas */

/* One block of an arena; the blocks are chained from the first. */
struct urbac__node_arena_block {
  struct urbac__node_arena_block *next;
  size_t used, cap;
  max_align_t data[];
};
typedef struct urbac__node_arena_block arena_block;

#define ARENA_FIRST_MAX ((size_t)1 << 20)  /* bytes of a first block, at most, unless asked */
#define ARENA_BLOCK_MAX ((size_t)64 << 20) /* of a later one (doubling), unless one thing needs more */

static void blocks_free(arena_block *b)
{
  while (b) {
    arena_block *next = b->next;
    urbac__free(b);
    b = next;
  }
}

void urbac__node_arena_free(urbac__node_arena *a)
{
  blocks_free(a->first);
  *a = (urbac__node_arena){.first_cap = a->first_cap, .failed = a->failed, .many = a->many};
}

/* `size` bytes aligned to `align` (a power of two) in `a`; NULL when out of memory. */
static void *arena_alloc(urbac__node_arena *a, size_t size, size_t align)
{
  arena_block *b = a->last;
  size_t at = b ? (b->used + align - 1) & ~(align - 1) : 0;
  if (a->failed) /* nothing after a failure: the root is the first node made, or none is */
    return NULL;
  if (!b || at > b->cap || b->cap - at < size) {
    size_t cap = b && b->cap < ARENA_BLOCK_MAX / 2 ? b->cap * 2
                 : b                               ? ARENA_BLOCK_MAX
                 : a->first_cap                    ? a->first_cap
                                                   : 4096;
    cap = cap < size ? size : cap;
    if (cap > SIZE_MAX - sizeof *b || !(b = urbac__malloc(sizeof *b + cap))) {
      a->failed = true;
      return NULL;
    }
    *b = (arena_block){NULL, 0, cap};
    if (a->last)
      a->last->next = b;
    else
      a->first = b;
    a->last = b;
    at = 0;
  }
  b->used = at + size;
  return (char *)b->data + at;
}

urbac__node *urbac__node_new_in(urbac__node_arena *a, urbac__node_type type)
{
  urbac__node *n = arena_alloc(a, sizeof *n, _Alignof(urbac__node));
  bool root = n && !a->many && (void *)n == (void *)a->first->data; /* the first node made */
  if (n)
    *n = (urbac__node){.type = (uint8_t)type, .mem = root ? URBAC__MEM_ARENA_ROOT : URBAC__MEM_ARENA};
  return n;
}

urbac__node *urbac__node_str_in(urbac__node_arena *a, const char *s, size_t len, urbac__node_style style)
{
  urbac__node *n = urbac__node_new_in(a, URBAC__NODE_SCALAR);
  char *copy = n ? arena_alloc(a, len + 1, 1) : NULL;
  if (!copy)
    return NULL;
  memcpy(copy, s, len);
  copy[len] = '\0';
  n->style = (uint8_t)style;
  n->str = copy;
  n->len = len;
  return n;
}

urbac_err urbac__node_push_in(urbac__node_arena *a, urbac__node *parent, urbac__node *kid)
{
  if (parent->mem == URBAC__MEM_HEAP)
    return urbac__node_push(parent, kid);
  if (!kid)
    return URBAC_ENOMEM;
  if (kid->mem == URBAC__MEM_HEAP) { /* the arena's free would not free it */
    urbac__node_free(kid);
    return URBAC_EINVAL;
  }
  if (parent->n == parent->cap) { /* a new array twice the size; the old one is the arena's */
    size_t cap = parent->cap ? parent->cap * 2 : 4;
    urbac__node **kids =
        cap < SIZE_MAX / sizeof *kids ? arena_alloc(a, cap * sizeof *kids, _Alignof(urbac__node *)) : NULL;
    if (!kids)
      return URBAC_ENOMEM;
    if (parent->n)
      memcpy(kids, parent->kids, parent->n * sizeof *kids);
    parent->kids = kids;
    parent->cap = cap;
  }
  parent->kids[parent->n++] = kid;
  return URBAC_OK;
}

urbac_err urbac__node_set_in(urbac__node_arena *a, urbac__node *map, const char *key, urbac__node *value)
{
  if (!value)
    return URBAC_ENOMEM;
  urbac_err err = urbac__node_push_in(a, map, urbac__node_str_in(a, key, strlen(key), URBAC__STYLE_PLAIN));
  if (err) {
    urbac__node_free(value);
    return err;
  }
  return urbac__node_push_in(a, map, value);
}

/* ---------------------------------------------------------------- nodes of their own */

void urbac__node_free(urbac__node *n)
{
  if (!n || n->mem == URBAC__MEM_ARENA) /* freed with its arena */
    return;
  if (n->mem == URBAC__MEM_ARENA_ROOT) {
    blocks_free((arena_block *)(void *)((char *)n - offsetof(arena_block, data)));
    return;
  }
  for (size_t i = 0; i < n->n; i++)
    urbac__node_free(n->kids[i]);
  urbac__free(n->kids);
  urbac__free(n->str);
  urbac__free(n);
}

/* A scalar of `len` bytes of `s`. (Held in the node's own block it made one
 * allocation, not two, but the blocks of a loaded tenant's freed document then left
 * holes its model did not reuse: a server holding 1,000,000 users took 150 MB more.) */
static urbac__node *scalar(const char *s, size_t len, urbac__node_style style)
{
  urbac__node *n = urbac__calloc(1, sizeof *n);
  char *copy = n ? urbac__strndup(s, len) : NULL;
  if (!copy) {
    urbac__free(n);
    return NULL;
  }
  *n = (urbac__node){.type = URBAC__NODE_SCALAR, .style = (uint8_t)style, .str = copy, .len = len};
  return n;
}

urbac__node *urbac__node_new(urbac__node_type type)
{
  urbac__node *n = urbac__calloc(1, sizeof *n);
  if (n)
    n->type = (uint8_t)type;
  return n;
}

urbac__node *urbac__node_str(const char *s, urbac__node_style style) { return scalar(s, strlen(s), style); }

urbac_err urbac__node_push(urbac__node *parent, urbac__node *kid)
{
  if (parent->mem != URBAC__MEM_HEAP) { /* an arena's: urbac__node_push_in() */
    urbac__node_free(kid);
    return URBAC_EINVAL;
  }
  if (!kid || URBAC_GROW(parent->kids, parent->cap, parent->n + 1)) {
    urbac__node_free(kid);
    return URBAC_ENOMEM;
  }
  parent->kids[parent->n++] = kid;
  return URBAC_OK;
}

urbac_err urbac__node_set(urbac__node *map, const char *key, urbac__node *value)
{
  if (!value)
    return URBAC_ENOMEM;
  urbac_err err = urbac__node_push(map, urbac__node_str(key, URBAC__STYLE_PLAIN));
  if (err) {
    urbac__node_free(value);
    return err;
  }
  return urbac__node_push(map, value);
}

/* ---------------------------------------------------------------- parsing */

typedef struct yaml_reader {
  yaml_parser_t parser;
  const char *name;
  urbac_diag *d;
  size_t nodes;
} yaml_reader;

static urbac_err perr(yaml_reader *p, urbac_err code, size_t line, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static urbac_err perr(yaml_reader *p, urbac_err code, size_t line, size_t col, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  urbac__diag_vadd(p->d, code, p->name, (uint32_t)line + 1, (uint32_t)col + 1, NULL, fmt, ap);
  va_end(ap);
  return code;
}

static urbac_err next_event(yaml_reader *p, yaml_event_t *ev)
{
  if (yaml_parser_parse(&p->parser, ev))
    return URBAC_OK;
  const yaml_mark_t *mk = &p->parser.problem_mark;
  const char *ctx = p->parser.context ? p->parser.context : "";
  if (p->parser.error == YAML_MEMORY_ERROR)
    return URBAC_ENOMEM;
  return perr(p, URBAC_ESYNTAX, mk->line, mk->column, "%s%s%s",
              p->parser.problem ? p->parser.problem : "syntax error", ctx[0] ? " " : "", ctx);
}

static urbac_err parse_node(yaml_reader *p, yaml_event_t *ev, unsigned depth, urbac__node **out);

/* Reads the items of a sequence or the pairs of a map until its end event. */
static urbac_err parse_children(yaml_reader *p, urbac__node *n, unsigned depth, yaml_event_type_t end)
{
  for (;;) {
    yaml_event_t ev;
    urbac__node *kid = NULL;
    urbac_err err = next_event(p, &ev);
    if (err)
      return err;
    if (ev.type == end) {
      yaml_event_delete(&ev);
      return URBAC_OK;
    }
    err = parse_node(p, &ev, depth + 1, &kid);
    if (err)
      return err;
    if (n->type == URBAC__NODE_MAP && n->n % 2 == 0 && kid->type != URBAC__NODE_SCALAR) {
      err = perr(p, URBAC_ESYNTAX, kid->line - 1, kid->col - 1, "a mapping key must be a plain string");
      urbac__node_free(kid);
      return err;
    }
    if (urbac__node_push(n, kid))
      return URBAC_ENOMEM;
  }
}

static urbac_err parse_node(yaml_reader *p, yaml_event_t *ev, unsigned depth, urbac__node **out)
{
  urbac_err err = URBAC_OK;
  urbac__node *n = NULL;
  const yaml_mark_t mk = ev->start_mark;
  if (depth > URBAC_MAX_DEPTH || ++p->nodes > URBAC_MAX_OBJECTS) {
    err = perr(p, URBAC_ELIMIT, mk.line, mk.column,
               depth > URBAC_MAX_DEPTH ? "nesting deeper than %u levels" : "more than %u nodes",
               depth > URBAC_MAX_DEPTH ? URBAC_MAX_DEPTH : URBAC_MAX_OBJECTS);
    goto out;
  }
  const yaml_char_t *anchor = ev->type == YAML_SCALAR_EVENT           ? ev->data.scalar.anchor
                              : ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.anchor
                              : ev->type == YAML_MAPPING_START_EVENT  ? ev->data.mapping_start.anchor
                                                                      : NULL;
  if (ev->type == YAML_ALIAS_EVENT || anchor) {
    err = perr(p, URBAC_ESYNTAX, mk.line, mk.column, "anchors and aliases are not supported in tenant files");
    goto out;
  }
  switch (ev->type) {
  case YAML_SCALAR_EVENT:
    if (ev->data.scalar.length > URBAC_MAX_TEXT_BYTES) {
      err = perr(p, URBAC_ELIMIT, mk.line, mk.column, "a value longer than %u bytes", URBAC_MAX_TEXT_BYTES);
      goto out;
    }
    n = urbac__node_new(URBAC__NODE_SCALAR);
    if (!n || !(n->str = urbac__strndup((const char *)ev->data.scalar.value, ev->data.scalar.length))) {
      err = URBAC_ENOMEM;
      goto out;
    }
    n->len = ev->data.scalar.length;
    n->style = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? URBAC__STYLE_PLAIN : URBAC__STYLE_QUOTED;
    break;
  case YAML_SEQUENCE_START_EVENT:
  case YAML_MAPPING_START_EVENT: {
    bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
    n = urbac__node_new(seq ? URBAC__NODE_SEQ : URBAC__NODE_MAP);
    if (!n) {
      err = URBAC_ENOMEM;
      goto out;
    }
    n->line = (uint32_t)mk.line + 1;
    n->col = (uint32_t)mk.column + 1;
    err = parse_children(p, n, depth, seq ? YAML_SEQUENCE_END_EVENT : YAML_MAPPING_END_EVENT);
    break;
  }
  default:
    err = perr(p, URBAC_ESYNTAX, mk.line, mk.column, "unexpected document structure");
  }
out:
  if (n) {
    n->line = (uint32_t)mk.line + 1;
    n->col = (uint32_t)mk.column + 1;
  }
  yaml_event_delete(ev);
  if (err) {
    urbac__node_free(n);
    n = NULL;
  }
  *out = n;
  return err;
}

/* Expects one event of `type`; anything else is a syntax error. */
static urbac_err expect(yaml_reader *p, yaml_event_type_t type, const char *what)
{
  yaml_event_t ev;
  urbac_err err = next_event(p, &ev);
  if (err)
    return err;
  if (ev.type != type)
    err = perr(p, URBAC_ESYNTAX, ev.start_mark.line, ev.start_mark.column, "%s", what);
  yaml_event_delete(&ev);
  return err;
}

/* ---------------------------------------------------------------- JSON, the quick way */

/* A tenant file's JSON form, the bodies a store keeps and the bodies of API
 * requests are JSON; libyaml reads them as YAML's flow style at several times
 * the cost of a JSON reader. This reader takes strict JSON only and gives
 * exactly the tree libyaml would (the same scalars and styles, lines and
 * columns counted in characters as libyaml counts them). Whenever it is not
 * sure of that, it gives up (`json_rd.unsure`) and libyaml reads the input
 * instead, so every error, and every corner where YAML and JSON part ways (a
 * character YAML does not print or reads as a line break, a key whose ':' is
 * on another line, NUL or a surrogate written as an escape, the limits), is
 * libyaml's. */
typedef struct json_rd {
  const unsigned char *s, *end;
  uint32_t line, col; /* 0-based, libyaml's marks */
  size_t nodes;
  bool unsure;
  /* The tree's arena: one malloc for a small body where each node and each
   * string took one, and the blocks freed where a walk freed every node. */
  urbac__node_arena a;
  /* The items of the containers open, until each closes into an exact array. */
  urbac__node **stack;
  size_t sn, scap;
} json_rd;

static bool jr_unsure(json_rd *r)
{
  r->unsure = true;
  return false;
}

static void jr_space(json_rd *r)
{
  while (r->s < r->end) {
    if (*r->s == ' ') {
      r->col++;
    } else if (*r->s == '\n' || *r->s == '\r') {
      if (*r->s == '\r' && r->s + 1 < r->end && r->s[1] == '\n')
        r->s++;
      r->line++;
      r->col = 0;
    } else {
      return; /* a tab is JSON's but not always YAML's: unsure, where it stops */
    }
    r->s++;
  }
}

/* The code point of the UTF-8 sequence at `s` (`left` bytes there; its length in
 * *n), or -1 when it is not one YAML prints in a quoted scalar as itself. */
static long utf8_printed(const unsigned char *s, size_t left, size_t *n)
{
  long cp;
  if (s[0] < 0xC2 || s[0] > 0xF4)
    return -1;
  *n = s[0] < 0xE0 ? 2 : s[0] < 0xF0 ? 3 : 4;
  if (left < *n)
    return -1;
  cp = s[0] & (0x3F >> (*n - 1));
  for (size_t i = 1; i < *n; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return -1;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  static const long least[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < least[*n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return -1;
  bool printed =
      (cp >= 0xA0 && cp <= 0xFFFD && cp != 0xFEFF && cp != 0x2028 && cp != 0x2029) || cp >= 0x10000;
  return printed ? cp : -1;
}

static long jr_utf8(const json_rd *r, size_t *n) { return utf8_printed(r->s, (size_t)(r->end - r->s), n); }

bool urbac__json_string_sure(const char *str, size_t len)
{
  const unsigned char *s = (const unsigned char *)str;
  size_t n = 1;
  if (len > URBAC_MAX_TEXT_BYTES)
    return false;
  for (size_t i = 0; i < len; i += n) {
    n = 1;
    if (s[i] == 0 || s[i] == 0x7F || (s[i] >= 0x80 && utf8_printed(s + i, len - i, &n) < 0))
      return false; /* below 0x20 is written escaped, and read back as itself */
  }
  return true;
}

static void jr_put_utf8(urbac__buf *b, unsigned long cp)
{
  char u[4];
  size_t n = 0;
  if (cp < 0x80) {
    u[n++] = (char)cp;
  } else if (cp < 0x800) {
    u[n++] = (char)(0xC0 | (cp >> 6));
    u[n++] = (char)(0x80 | (cp & 0x3F));
  } else {
    u[n++] = (char)(0xE0 | (cp >> 12));
    u[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[n++] = (char)(0x80 | (cp & 0x3F));
  }
  urbac__buf_add(b, u, n);
}

/* A \uXXXX escape at r->s, into `b` as UTF-8; false (unsure) for what libyaml
 * reads its own way (NUL, surrogates) or a malformed escape. */
static bool jr_escape_u(json_rd *r, urbac__buf *b)
{
  if (r->s[1] != 'u' || r->end - r->s < 6)
    return jr_unsure(r);
  int v = urbac__hex4((const char *)r->s + 2);
  if (v < 0)
    return jr_unsure(r);
  unsigned long cp = (unsigned long)v;
  if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) /* libyaml's own reading of these */
    return jr_unsure(r);
  jr_put_utf8(b, cp);
  r->s += 6;
  r->col += 6;
  return true;
}

/* The length, both quotes counted, of the quoted string at r->s when it is
 * printable ASCII without escapes (the common case, copied as it is), else 0. */
static size_t jr_plain_string(const json_rd *r)
{
  const unsigned char *p = r->s + 1;
  while (p < r->end && *p >= 0x20 && *p < 0x7F && *p != '"' && *p != '\\')
    p++;
  return p < r->end && *p == '"' && (size_t)(p - r->s) - 1 <= URBAC_MAX_TEXT_BYTES ? (size_t)(p + 1 - r->s)
                                                                                   : 0;
}

/* A quoted string at r->s, into `b`. */
static bool jr_string(json_rd *r, urbac__buf *b)
{
  r->s++;
  r->col++;
  for (;;) {
    const unsigned char *run = r->s;
    while (r->s < r->end && *r->s >= 0x20 && *r->s < 0x7F && *r->s != '"' && *r->s != '\\')
      r->s++;
    urbac__buf_add(b, (const char *)run, (size_t)(r->s - run));
    r->col += (uint32_t)(r->s - run);
    if (r->s >= r->end)
      return jr_unsure(r);
    if (*r->s == '"') {
      r->s++;
      r->col++;
      return !b->failed;
    }
    if (*r->s >= 0x80) {
      size_t n = 0;
      if (jr_utf8(r, &n) < 0)
        return jr_unsure(r);
      urbac__buf_add(b, (const char *)r->s, n);
      r->s += n;
      r->col++;
      continue;
    }
    if (*r->s != '\\' || r->s + 1 >= r->end)
      return jr_unsure(r); /* a control character, or DEL */
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *e = r->s[1] ? strchr(from, r->s[1]) : NULL;
    if (e) {
      urbac__buf_add(b, &to[e - from], 1);
      r->s += 2;
      r->col += 2;
      continue;
    }
    if (!jr_escape_u(r, b))
      return false;
  }
}

/* Is s[0..len) a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool jr_number(const unsigned char *s, size_t len)
{
  size_t i = 0, digits;
  i += i < len && s[i] == '-';
  if (i < len && s[i] == '0')
    i++;
  else if (i < len && s[i] >= '1' && s[i] <= '9')
    while (i < len && isdigit(s[i]))
      i++;
  else
    return false;
  if (i < len && s[i] == '.') {
    for (digits = 0, i++; i < len && isdigit(s[i]); i++)
      digits++;
    if (!digits)
      return false;
  }
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    i += i < len && (s[i] == '+' || s[i] == '-');
    for (digits = 0; i < len && isdigit(s[i]); i++)
      digits++;
    if (!digits)
      return false;
  }
  return i == len;
}

static bool jr_value(json_rd *r, unsigned depth, urbac__node **out);

/* The items of a sequence, or the pairs of a map, after its opening bracket. */
static bool jr_children(json_rd *r, urbac__node *n, unsigned depth)
{
  size_t base = r->sn; /* its items: the stack's from here */
  bool map = n->type == URBAC__NODE_MAP;
  unsigned char close = map ? '}' : ']';
  jr_space(r);
  if (r->s < r->end && *r->s == close)
    goto closed;
  for (;;) {
    urbac__node *kid = NULL;
    const unsigned char *key_at = r->s;
    uint32_t key_line = r->line;
    if (map && (r->s >= r->end || *r->s != '"'))
      return jr_unsure(r);
    if (!jr_value(r, depth + 1, &kid) || URBAC_GROW(r->stack, r->scap, r->sn + 1))
      return false;
    r->stack[r->sn++] = kid;
    jr_space(r);
    if (map) { /* YAML finds a key's ':' on its line, within 1,024 characters */
      if (r->s >= r->end || *r->s != ':' || r->line != key_line || r->s - key_at > 1000)
        return jr_unsure(r);
      r->s++;
      r->col++;
      jr_space(r);
      if (!jr_value(r, depth + 1, &kid) || URBAC_GROW(r->stack, r->scap, r->sn + 1))
        return false;
      r->stack[r->sn++] = kid;
      jr_space(r);
    }
    if (r->s < r->end && *r->s == ',') {
      r->s++;
      r->col++;
      jr_space(r);
      continue;
    }
    if (r->s < r->end && *r->s == close)
      goto closed;
    return jr_unsure(r);
  }
closed:
  n->n = n->cap = r->sn - base;
  if (n->n && !(n->kids = arena_alloc(&r->a, n->n * sizeof *n->kids, _Alignof(urbac__node *))))
    return false;
  if (n->n)
    memcpy(n->kids, r->stack + base, n->n * sizeof *n->kids);
  r->sn = base;
  r->s++;
  r->col++;
  return true;
}

/* One value at r->s (blanks skipped before it). false: out of memory, or unsure. */
static bool jr_value(json_rd *r, unsigned depth, urbac__node **out)
{
  urbac__node *n = NULL;
  bool ok = false;
  size_t plain;
  *out = NULL;
  if (r->s >= r->end || depth > URBAC_MAX_DEPTH || ++r->nodes > URBAC_MAX_OBJECTS)
    return jr_unsure(r);
  uint32_t line = r->line, col = r->col;
  unsigned char c = *r->s;
  if (c == '{' || c == '[') {
    n = urbac__node_new_in(&r->a, c == '{' ? URBAC__NODE_MAP : URBAC__NODE_SEQ);
    r->s++;
    r->col++;
    ok = n && jr_children(r, n, depth);
  } else if (c == '"' && (plain = jr_plain_string(r))) { /* no escapes, nothing but printable ASCII */
    n = urbac__node_str_in(&r->a, (const char *)r->s + 1, plain - 2, URBAC__STYLE_QUOTED);
    r->s += plain;
    r->col += (uint32_t)plain;
    ok = n != NULL;
  } else if (c == '"') {
    urbac__buf b = {0};
    ok = jr_string(r, &b);
    if (ok && b.len > URBAC_MAX_TEXT_BYTES)
      ok = jr_unsure(r);
    if (ok)
      ok = (n = urbac__node_str_in(&r->a, b.len ? b.s : "", b.len, URBAC__STYLE_QUOTED)) != NULL;
    urbac__buf_free(&b);
  } else { /* a number, true, false or null: a plain scalar, as written */
    const unsigned char *at = r->s;
    while (r->s < r->end && (isalnum(*r->s) || *r->s == '-' || *r->s == '+' || *r->s == '.'))
      r->s++;
    size_t len = (size_t)(r->s - at);
    r->col += (uint32_t)len;
    bool word = (len == 4 && (!memcmp(at, "true", 4) || !memcmp(at, "null", 4))) ||
                (len == 5 && !memcmp(at, "false", 5));
    if (!word && !jr_number(at, len))
      return jr_unsure(r);
    ok = (n = urbac__node_str_in(&r->a, (const char *)at, len, URBAC__STYLE_PLAIN)) != NULL;
  }
  if (!ok) /* what it made is freed with the arena */
    return false;
  n->line = line + 1;
  n->col = col + 1;
  *out = n;
  return true;
}

/* The most a tree of `len` bytes of JSON can take, so that it takes one block:
 * every value but the outermost ends at a ',', ':', '}' or ']' (a node, its
 * place in its parent's items, their alignments and its string's NUL), and no
 * string is longer than its text. */
static size_t jr_bound(const char *s, size_t len)
{
  static const uint8_t ends_at[256] = {[','] = 1, [':'] = 1, ['}'] = 1, [']'] = 1};
  size_t ends = 1;
  for (size_t i = 0; i < len; i++)
    ends += ends_at[(unsigned char)s[i]];
  return ends * (sizeof(urbac__node) + sizeof(urbac__node *) + 2 * (_Alignof(urbac__node) - 1) + 1) + len;
}

/* `p`, a pointer into `from`, at the same offset in `to`. */
static void *moved(const void *p, const char *from, char *to) { return to + ((const char *)p - from); }

/* Points every pointer of the tree at `n` (copied from `from` to `to`) into `to`. */
static void relocate(urbac__node *n, const char *from, char *to)
{
  if (n->str)
    n->str = moved(n->str, from, to);
  if (n->kids)
    n->kids = moved(n->kids, from, to);
  for (size_t i = 0; i < n->n; i++) {
    n->kids[i] = moved(n->kids[i], from, to);
    relocate(n->kids[i], from, to);
  }
}

/* Moves the tree in the arena's one block to a block of its size, when the
 * bound left a quarter or more of the block unused: a tenant loaded from a store
 * holds every object's tree at once. Out of memory: it stays where it is. */
static urbac__node *jr_fit(json_rd *r, urbac__node *root)
{
  arena_block *b = r->a.first, *fit;
  if (b != r->a.last || b->cap - b->used < b->cap / 4 || !(fit = urbac__malloc(sizeof *b + b->used)))
    return root;
  memcpy(fit, b, sizeof *b + b->used);
  fit->cap = fit->used;
  urbac__node *root_now = (urbac__node *)(void *)fit->data;
  relocate(root_now, (const char *)b->data, (char *)fit->data); /* its pointers, still into b */
  urbac__free(b);
  r->a.first = r->a.last = fit;
  return root_now;
}

urbac__node *urbac__node_parse_json(const char *buf, size_t len, bool *unsure)
{
  json_rd r = {.s = (const unsigned char *)buf, .end = (const unsigned char *)buf + len};
  /* the bound can be some 80 times the text (a string of commas): at most 1 MiB at once */
  size_t bound = len <= ARENA_FIRST_MAX ? jr_bound(buf, len) : ARENA_FIRST_MAX;
  r.a.first_cap = bound < ARENA_FIRST_MAX ? bound : ARENA_FIRST_MAX;
  urbac__node *root = NULL;
  jr_space(&r);
  if (r.s >= r.end || (*r.s != '{' && *r.s != '['))
    r.unsure = true;
  else if (jr_value(&r, 0, &root))
    jr_space(&r);
  if (root && r.s != r.end)
    r.unsure = true; /* junk after it: libyaml says what */
  if (!root || r.unsure) {
    urbac__node_arena_free(&r.a);
    root = NULL;
  } else {
    root = jr_fit(&r, root);
  }
  urbac__free(r.stack);
  *unsure = r.unsure;
  return root;
}

urbac_err urbac__node_parse(const char *buf, size_t len, const char *name, urbac__node **out, urbac_diag *d)
{
  bool unsure = false;
  *out = urbac__node_parse_json(buf, len, &unsure);
  if (*out || !unsure)
    return *out ? URBAC_OK : URBAC_ENOMEM;
  return urbac__node_parse_yaml(buf, len, name, out, d);
}

urbac_err urbac__node_parse_yaml(const char *buf, size_t len, const char *name, urbac__node **out,
                                 urbac_diag *d)
{
  yaml_reader p = {.name = name, .d = d};
  yaml_event_t ev;
  urbac__node *root = NULL;
  urbac_err err = URBAC_ENOMEM;
  *out = NULL;
  if (!yaml_parser_initialize(&p.parser))
    return URBAC_ENOMEM;
  yaml_parser_set_input_string(&p.parser, (const unsigned char *)buf, len);
  err = expect(&p, YAML_STREAM_START_EVENT, "not a YAML or JSON stream");
  if (!err)
    err = next_event(&p, &ev);
  if (err)
    goto out;
  if (ev.type == YAML_STREAM_END_EVENT) {
    yaml_event_delete(&ev);
    err = perr(&p, URBAC_ESYNTAX, 0, 0, "the file is empty");
    goto out;
  }
  yaml_event_delete(&ev);
  err = next_event(&p, &ev);
  if (!err)
    err = parse_node(&p, &ev, 0, &root);
  if (!err)
    err = expect(&p, YAML_DOCUMENT_END_EVENT, "junk after the document");
  if (!err)
    err = expect(&p, YAML_STREAM_END_EVENT, "only one document is allowed in a tenant file");
out:
  yaml_parser_delete(&p.parser);
  if (err) {
    urbac__node_free(root);
    return err;
  }
  *out = root;
  return URBAC_OK;
}

/* ---------------------------------------------------------------- YAML out */

static int buf_writer(void *data, unsigned char *buffer, size_t size)
{
  urbac__buf *b = data;
  urbac__buf_add(b, (const char *)buffer, size);
  return !b->failed;
}

/* Would this string read back as something other than a string if written plain? */
static bool needs_quotes(const char *s)
{
  static const char *const special[] = {"", "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n"};
  char *end;
  for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
    if (strcasecmp(s, special[i]) == 0)
      return true;
  (void)strtod(s, &end);
  return *end == '\0' || s[0] == '.' || s[0] == '+';
}

static int emit_node(yaml_emitter_t *e, const urbac__node *n)
{
  yaml_event_t ev;
  if (n->type == URBAC__NODE_SCALAR) {
    bool plain = n->style == URBAC__STYLE_INT || n->style == URBAC__STYLE_BOOL ||
                 n->style == URBAC__STYLE_JSON || !needs_quotes(n->str);
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)n->str, (int)n->len, 1, 1,
                                      plain ? YAML_ANY_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE))
      return 0;
    return yaml_emitter_emit(e, &ev);
  }
  bool seq = n->type == URBAC__NODE_SEQ;
  int ok = seq ? yaml_sequence_start_event_initialize(
                     &ev, NULL, NULL, 1, n->flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE)
               : yaml_mapping_start_event_initialize(
                     &ev, NULL, NULL, 1, n->flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE);
  if (!ok || !yaml_emitter_emit(e, &ev))
    return 0;
  for (size_t i = 0; i < n->n; i++)
    if (!emit_node(e, n->kids[i]))
      return 0;
  ok = seq ? yaml_sequence_end_event_initialize(&ev) : yaml_mapping_end_event_initialize(&ev);
  return ok && yaml_emitter_emit(e, &ev);
}

urbac_err urbac__node_emit_yaml(const urbac__node *root, char **out, size_t *len)
{
  yaml_emitter_t e;
  yaml_event_t ev;
  urbac__buf b = {0};
  int ok;
  if (!yaml_emitter_initialize(&e))
    return URBAC_ENOMEM;
  yaml_emitter_set_output(&e, buf_writer, &b);
  yaml_emitter_set_unicode(&e, 1);
  yaml_emitter_set_width(&e, -1);
  yaml_emitter_set_indent(&e, 2);
  ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) && yaml_emitter_emit(&e, &ev) &&
       yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) && yaml_emitter_emit(&e, &ev) &&
       emit_node(&e, root) && yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&e, &ev) &&
       yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&e, &ev);
  yaml_emitter_delete(&e);
  if (!ok || b.failed) {
    urbac__buf_free(&b);
    return URBAC_ENOMEM;
  }
  *out = urbac__buf_take(&b, len);
  return *out ? URBAC_OK : URBAC_ENOMEM;
}

/* ---------------------------------------------------------------- JSON out */

static json_t *to_json(const urbac__node *n)
{
  json_t *j = NULL;
  if (n->type == URBAC__NODE_SCALAR) {
    if (n->style == URBAC__STYLE_INT)
      return json_integer(strtoll(n->str, NULL, 10));
    if (n->style == URBAC__STYLE_BOOL)
      return json_boolean(strcmp(n->str, "true") == 0);
    if (n->style == URBAC__STYLE_JSON)
      return json_loadb(n->str, n->len, JSON_DECODE_ANY, NULL);
    return json_stringn(n->str, n->len);
  }
  j = n->type == URBAC__NODE_SEQ ? json_array() : json_object();
  for (size_t i = 0; j && i < n->n; i++) {
    if (n->type == URBAC__NODE_SEQ) {
      if (json_array_append_new(j, to_json(n->kids[i])))
        goto fail;
    } else if (i % 2 == 1) {
      if (json_object_set_new(j, n->kids[i - 1]->str, to_json(n->kids[i])))
        goto fail;
    }
  }
  return j;
fail:
  json_decref(j);
  return NULL;
}

urbac_err urbac__node_emit_json(const urbac__node *root, char **out, size_t *len)
{
  json_t *j = to_json(root);
  char *s = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
  json_decref(j);
  if (!s)
    return URBAC_ENOMEM;
  size_t n = strlen(s);
  *out = urbac__malloc(n + 2);
  if (*out) {
    memcpy(*out, s, n);
    (*out)[n] = '\n';
    (*out)[n + 1] = '\0';
    *len = n + 1;
  }
  free(s);
  return *out ? URBAC_OK : URBAC_ENOMEM;
}

/* Is s[0..len) UTF-8 as jansson takes it (no overlong form, surrogate, or code
 * point past U+10FFFF)? */
static bool utf8_ok(const unsigned char *s, size_t len)
{
  for (size_t i = 0; i < len;) {
    if (s[i] < 0x80) {
      i++;
      continue;
    }
    size_t n = s[i] >= 0xC2 && s[i] < 0xE0    ? 2
               : s[i] >= 0xE0 && s[i] < 0xF0  ? 3
               : s[i] >= 0xF0 && s[i] <= 0xF4 ? 4
                                              : 0;
    if (!n || len - i < n)
      return false;
    unsigned long cp = s[i] & (0x3Fu >> (n - 1));
    for (size_t k = 1; k < n; k++) {
      if ((s[i + k] & 0xC0) != 0x80)
        return false;
      cp = cp << 6 | (s[i + k] & 0x3Fu);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += n;
  }
  return true;
}

/* jansson's escapes: these characters as two, any other below 0x20 as \u00XX. */
static const char escaped_from[] = "\"\\\b\f\n\r\t";
static const char *const escaped_to[] = {"\\\"", "\\\\", "\\b", "\\f", "\\n", "\\r", "\\t"};

static bool escaped(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

/* Where `c` (escaped()) is in escaped_from, or NULL: written \u00XX. */
static const char *escape_of(unsigned char c)
{
  return c ? memchr(escaped_from, c, sizeof escaped_from - 1) : NULL;
}

bool urbac__json_string(urbac__buf *b, const char *str, size_t len)
{
  const unsigned char *s = (const unsigned char *)str;
  if (!utf8_ok(s, len))
    return false;
  urbac__buf_add(b, "\"", 1);
  for (size_t i = 0, run = 0; i <= len; i++) {
    if (i < len && !escaped(s[i]))
      continue;
    urbac__buf_add(b, str + run, i - run);
    run = i + 1;
    if (i == len)
      break;
    const char *e = escape_of(s[i]);
    char u[8];
    if (e)
      urbac__buf_puts(b, escaped_to[e - escaped_from]);
    else
      urbac__buf_add(b, u, (size_t)snprintf(u, sizeof u, "\\u%04X", s[i]));
  }
  urbac__buf_add(b, "\"", 1);
  return true;
}

size_t urbac__json_string_size(const char *str, size_t len)
{
  const unsigned char *s = (const unsigned char *)str;
  size_t n = len + 2;
  for (size_t i = 0; i < len; i++)
    n += !escaped(s[i]) ? 0 : escape_of(s[i]) ? 1 : 5;
  return n;
}

/* The compact JSON of `n` into `b`, byte for byte as jansson writes to_json(n)
 * (JSON_COMPACT); false when unsure (a map key twice or holding NUL, text that is
 * not UTF-8), and the caller asks jansson. */
static bool compact(urbac__buf *b, const urbac__node *n)
{
  char num[32];
  if (n->type == URBAC__NODE_SCALAR && n->style == URBAC__STYLE_INT) {
    urbac__buf_add(b, num, (size_t)snprintf(num, sizeof num, "%lld", strtoll(n->str, NULL, 10)));
    return true;
  }
  if (n->type == URBAC__NODE_SCALAR && n->style == URBAC__STYLE_BOOL) {
    urbac__buf_puts(b, strcmp(n->str, "true") == 0 ? "true" : "false");
    return true;
  }
  if (n->type == URBAC__NODE_SCALAR && n->style == URBAC__STYLE_JSON)
    return false; /* a number or null of a free-form value (scim): jansson writes it */
  if (n->type == URBAC__NODE_SCALAR)
    return urbac__json_string(b, n->str, n->len);
  bool map = n->type == URBAC__NODE_MAP;
  urbac__buf_add(b, map ? "{" : "[", 1);
  for (size_t i = 0; i < n->n; i++) {
    if (map && i % 2 == 0) {
      const urbac__node *k = n->kids[i];
      if (i + 1 >= n->n || strlen(k->str) != k->len)
        return false;
      for (size_t j = 0; j < i; j += 2)
        if (strcmp(n->kids[j]->str, k->str) == 0)
          return false;
    }
    if (i && (!map || i % 2 == 0))
      urbac__buf_add(b, ",", 1);
    if (!compact(b, n->kids[i]))
      return false;
    if (map && i % 2 == 0)
      urbac__buf_add(b, ":", 1);
  }
  urbac__buf_add(b, map ? "}" : "]", 1);
  return true;
}

urbac_err urbac__node_emit_json_compact(const urbac__node *node, char **out)
{
  urbac__buf b = {0};
  bool sure = compact(&b, node);
  if (b.failed) { /* out of memory: said, not hidden behind jansson */
    urbac__buf_free(&b);
    *out = NULL;
    return URBAC_ENOMEM;
  }
  if (sure) {
    *out = urbac__buf_take(&b, NULL);
    return *out ? URBAC_OK : URBAC_ENOMEM;
  }
  urbac__buf_free(&b);
  return urbac__node_emit_json_compact_jansson(node, out);
}

urbac_err urbac__node_emit_json_compact_jansson(const urbac__node *node, char **out)
{
  json_t *j = to_json(node);
  char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
  json_decref(j);
  *out = s ? urbac__strdup(s) : NULL;
  free(s);
  return *out ? URBAC_OK : URBAC_ENOMEM;
}
