/*
 * io/doc.c - saving a tenant file "like" the file it replaces: the canonical
 * layout of save.c, but with each map's keys in the order the old file had them
 * and every comment of the old file kept beside the same key, value or object.
 * This is what keeps a tenant file reviewable as code through `urbac fmt`,
 * `import`, `activate` and `deactivate`.
 *
 * Why not libfyaml: Debian 12's libfyaml 0.7.12 (comments "experimental") was
 * tried first. Its document emitter dropped every full-line comment, lost a
 * comment after a flow collection at the end of a file, attached a comment after
 * `{mde: unified}` to the next key, and rewrote flow collections over several
 * lines; so the comments are carried here, on libyaml, which reads the files
 * already.
 *
 * How: libyaml's scanner gives every token's start and end; a comment is a '#'
 * in the gaps between tokens (so a '#' inside a quoted or block scalar never is
 * one). A comment alone on its line (a "head" comment) belongs to the first node
 * after it; one after something on its line (a "trailing" comment) to the last
 * node that starts on that line. The old tree and the new one are matched
 * structurally: map entries by key, sequence items by their "id" or "name" (or
 * their value, for a list of strings), else by position. The new document is
 * emitted, parsed again for the line of each node, and each comment written
 * above (head) or after (trailing) the line of its node's counterpart, or of the
 * nearest node that has one: the next one for a head comment, an enclosing one
 * for a trailing comment. Head comments take the indentation of their line; a
 * trailing comment keeps its column when the line leaves room for it; one blank
 * line is kept before a comment that had blank lines above it. The result is a
 * fixed point: saving it like itself gives it back.
 *
 * Limits: the trees are those of io/tree.c (depth, node count); matching keys
 * and sequence items that moved makes at most URBAC__DOC_SEARCH comparisons in
 * all (then items fall back to position and keys to the canonical order), and an
 * item's "id" or "name" is looked for among its first URBAC__DOC_KEYS keys.
 *
 * Depends on: util, io/tree.c, io/file.c, io/save.c, libyaml.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "io/tree.h"
#include "urbac/io.h"

#define URBAC__DOC_SEARCH 4000000u /* key and item comparisons per document, beyond the first */
#define URBAC__DOC_KEYS 16u        /* an item's "id" or "name" is among its first keys */
#define NONE SIZE_MAX

/* ---------------------------------------------------------------- matching */

typedef struct matcher {
  size_t budget; /* comparisons left for items that moved */
  bool oom;
} matcher;

/* The value of key `key` among the first keys of map `n`, or NULL. */
static const urbac__node *map_get(const urbac__node *n, const char *key)
{
  for (size_t i = 0; n->type == URBAC__NODE_MAP && i + 1 < n->n && i < 2 * URBAC__DOC_KEYS; i += 2)
    if (strcmp(n->kids[i]->str, key) == 0)
      return n->kids[i + 1];
  return NULL;
}

/* What names a sequence item: its "id" or "name" for a map, its text for a scalar. */
static const urbac__node *identity(const urbac__node *n)
{
  if (n->type == URBAC__NODE_SCALAR)
    return n;
  const urbac__node *id = map_get(n, "id");
  if (!id)
    id = map_get(n, "name");
  return id && id->type == URBAC__NODE_SCALAR ? id : NULL;
}

static bool same_item(const urbac__node *a, const urbac__node *b)
{
  const urbac__node *x = identity(a), *y = identity(b);
  return a->type == b->type && x && y && (x == a) == (y == b) && x->len == y->len &&
         memcmp(x->str, y->str, x->len) == 0;
}

/* The item of `seq` that is `item` (the one at `at` first), unused; NONE if none. */
static size_t find_item(matcher *mt, const urbac__node *item, const urbac__node *seq, size_t at,
                        const bool *used)
{
  if (at < seq->n && !used[at] && same_item(item, seq->kids[at]))
    return at;
  for (size_t j = 0; j < seq->n && mt->budget; j++, mt->budget--)
    if (!used[j] && same_item(item, seq->kids[j]))
      return j;
  if (at < seq->n && !used[at] && !identity(item) && item->type == seq->kids[at]->type)
    return at;
  if (at < seq->n && !used[at] && item->type == URBAC__NODE_SCALAR && seq->kids[at]->type == item->type)
    return at; /* a value rewritten in canonical form */
  return NONE;
}

static bool same_key(const urbac__node *a, const urbac__node *b)
{
  return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
}

/* The key of map `n` equal to `key`, as an index of n->kids (the one at `at`
 * first); NONE if none, or when the comparisons allowed are spent. */
static size_t find_key(matcher *mt, const urbac__node *n, const urbac__node *key, size_t at)
{
  if (at + 1 < n->n && same_key(n->kids[at], key))
    return at;
  for (size_t i = 0; i + 1 < n->n && mt->budget; i += 2, mt->budget--)
    if (same_key(n->kids[i], key))
      return i;
  return NONE;
}

/* Puts the keys of map `out` in the order map `old` has them (keys `old` lacks
 * after, in their own order). */
static void reorder_map(matcher *mt, const urbac__node *old, urbac__node *out)
{
  urbac__node **kids = urbac__calloc(out->n ? out->n : 1, sizeof *kids);
  bool *taken = urbac__calloc(out->n ? out->n : 1, sizeof *taken);
  size_t k = 0;
  if (!kids || !taken) {
    mt->oom = true;
    goto out;
  }
  for (size_t i = 0; i + 1 < old->n; i += 2) {
    size_t j = find_key(mt, out, old->kids[i], i);
    if (j != NONE && !taken[j]) {
      taken[j] = true;
      kids[k++] = out->kids[j];
      kids[k++] = out->kids[j + 1];
    }
  }
  for (size_t j = 0; j + 1 < out->n; j += 2)
    if (!taken[j]) {
      kids[k++] = out->kids[j];
      kids[k++] = out->kids[j + 1];
    }
  if (k)
    memcpy(out->kids, kids, k * sizeof *kids);
out:
  urbac__free(kids);
  urbac__free(taken);
}

/* Gives every map of `out` the key order of its counterpart in `old`. */
static void reorder(matcher *mt, const urbac__node *old, urbac__node *out)
{
  if (old->type != out->type || old->type == URBAC__NODE_SCALAR || mt->oom)
    return;
  if (old->type == URBAC__NODE_MAP) {
    reorder_map(mt, old, out);
    for (size_t i = 0; i + 1 < old->n; i += 2) {
      size_t j = find_key(mt, out, old->kids[i], i);
      if (j != NONE)
        reorder(mt, old->kids[i + 1], out->kids[j + 1]);
    }
    return;
  }
  bool *used = urbac__calloc(out->n ? out->n : 1, sizeof *used);
  if (!used) {
    mt->oom = true;
    return;
  }
  for (size_t i = 0; i < old->n; i++) {
    size_t j = find_item(mt, old->kids[i], out, i, used);
    if (j != NONE) {
      used[j] = true;
      reorder(mt, old->kids[i], out->kids[j]);
    }
  }
  urbac__free(used);
}

/* ---------------------------------------------------------------- the old file's nodes */

/* One node of the old file, in document order, with its counterpart in the new one. */
typedef struct entry {
  const urbac__node *node;
  const urbac__node *now; /* the counterpart in the new document (its line), or NULL */
  size_t parent;          /* NONE for the root */
} entry;

typedef struct doc {
  matcher mt;
  entry *e;
  size_t n, cap;
  bool *open; /* per line of the new document: a token goes on to the next line */
} doc;

static size_t add_entry(doc *c, const urbac__node *node, const urbac__node *now, size_t parent)
{
  if (URBAC_GROW(c->e, c->cap, c->n + 1)) {
    c->mt.oom = true;
    return NONE;
  }
  c->e[c->n] = (entry){node, now, parent};
  return c->n++;
}

/* Lists `old` and everything under it, each with its counterpart under `now` (NULL: none). */
static void walk(doc *c, const urbac__node *old, const urbac__node *now, size_t parent)
{
  if (now && now->type != old->type)
    now = NULL;
  size_t self = add_entry(c, old, now, parent);
  bool *used = now && old->type == URBAC__NODE_SEQ ? urbac__calloc(now->n ? now->n : 1, sizeof *used) : NULL;
  if (self == NONE || (now && old->type == URBAC__NODE_SEQ && !used)) {
    c->mt.oom = true;
    return;
  }
  for (size_t i = 0; i < old->n && !c->mt.oom; i++) {
    const urbac__node *kid = NULL;
    if (now && old->type == URBAC__NODE_MAP) {
      size_t j = find_key(&c->mt, now, old->kids[i - i % 2], i - i % 2);
      kid = j == NONE ? NULL : now->kids[j + i % 2];
    } else if (now) {
      size_t j = find_item(&c->mt, old->kids[i], now, i, used);
      if (j != NONE)
        used[j] = true;
      kid = j == NONE ? NULL : now->kids[j];
    }
    walk(c, old->kids[i], kid, self);
  }
  urbac__free(used);
}

/* ---------------------------------------------------------------- comments */

typedef struct comment {
  uint32_t line, col; /* 1-based, in the old file; col counts characters */
  const char *text;   /* from '#' to the end of its line, trailing blanks cut */
  size_t len;
  bool trailing;     /* something precedes it on its line */
  bool blank_before; /* a blank line right above it (head comments) */
  bool blank_after;  /* a blank line right below it (head comments) */
  uint32_t at;       /* the new document's line it goes on (or above); UINT32_MAX: the end */
  size_t seq;
} comment;

typedef struct text_lines {
  const char *s;
  size_t len;
  size_t *start; /* the byte offset of each line's first byte */
  size_t n;
} text_lines;

/* The length of the line break at byte `i` of `t`, or 0: every break libyaml
 * counts a line by (LF, CRLF, CR, NEL, LS, PS), so lines here are its lines. */
static size_t break_at(const text_lines *t, size_t i)
{
  const unsigned char *u = (const unsigned char *)t->s;
  size_t left = t->len - i;
  if (u[i] == '\n' || u[i] == '\r')
    return u[i] == '\r' && left > 1 && u[i + 1] == '\n' ? 2 : 1;
  if (u[i] == 0xC2 && left > 1 && u[i + 1] == 0x85)
    return 2;
  return u[i] == 0xE2 && left > 2 && u[i + 1] == 0x80 && (u[i + 2] == 0xA8 || u[i + 2] == 0xA9) ? 3 : 0;
}

/* Where the line from `i` ends: its break, or the end of the text. */
static size_t line_end(const text_lines *t, size_t i)
{
  while (i < t->len && !break_at(t, i))
    i++;
  return i;
}

static bool split_lines(text_lines *t, const char *s, size_t len)
{
  size_t cap = 0;
  t->s = s;
  t->len = len;
  for (size_t i = 0;;) {
    if (URBAC_GROW(t->start, cap, t->n + 1))
      return false;
    t->start[t->n++] = i;
    if ((i = line_end(t, i)) == len)
      return true;
    i += break_at(t, i);
  }
}

/* A place in the text: 0-based line and column (characters, as libyaml counts
 * them) and its byte offset. */
typedef struct cursor {
  size_t line, col, off;
} cursor;

/* The byte offset of `line`, `col`, counted on from `at` when that is earlier on
 * the same line (tokens come in order: a long line is walked once, not once per
 * token), which is then moved there. */
static size_t offset_of(const text_lines *t, cursor *at, size_t line, size_t col)
{
  if (line >= t->n)
    return t->len;
  if (at->line != line || at->col > col)
    *at = (cursor){line, 0, t->start[line]};
  size_t i = at->off;
  for (size_t k = at->col; k < col && i < t->len && !break_at(t, i); k++)
    for (i++; i < t->len && ((unsigned char)t->s[i] & 0xC0) == 0x80; i++)
      ;
  *at = (cursor){line, col, i};
  return i;
}

static bool blank_line(const text_lines *t, size_t line)
{
  for (size_t i = t->start[line]; i < t->len && !break_at(t, i); i++)
    if (t->s[i] != ' ' && t->s[i] != '\t')
      return false;
  return true;
}

/* Collects the comments in bytes [from, to) of the old file (a gap between tokens). */
static bool gap_comments(const text_lines *t, size_t from, size_t to, comment **v, size_t *n, size_t *cap)
{
  for (size_t i = from; i < to; i++) {
    if (t->s[i] != '#')
      continue;
    size_t end = line_end(t, i), line = 0, lo = 0, hi = t->n;
    while (lo < hi) { /* the last line starting at or before i */
      size_t mid = lo + (hi - lo) / 2;
      if (t->start[mid] <= i)
        lo = mid + 1;
      else
        hi = mid;
    }
    line = lo - 1;
    if (i > t->start[line] && t->s[i - 1] != ' ' && t->s[i - 1] != '\t')
      continue; /* '#' starts a comment only after white space */
    comment c = {(uint32_t)line + 1, 1, t->s + i, end - i, false, false, false, 0, *n};
    for (size_t k = t->start[line]; k < i; k++) {
      c.trailing = c.trailing || (t->s[k] != ' ' && t->s[k] != '\t');
      c.col += ((unsigned char)t->s[k] & 0xC0) != 0x80;
    }
    while (c.len && (c.text[c.len - 1] == ' ' || c.text[c.len - 1] == '\t'))
      c.len--;
    c.blank_before = !c.trailing && line > 0 && blank_line(t, line - 1);
    c.blank_after = !c.trailing && line + 1 < t->n && t->start[line + 1] < t->len && blank_line(t, line + 1);
    if (URBAC_GROW(*v, *cap, *n + 1))
      return false;
    (*v)[(*n)++] = c;
    i = end;
  }
  return true;
}

/* Scans `t` with libyaml: collects its comments into `v` (when given), and marks
 * in `open` (when given; one per line, 0-based) each line a token goes on from,
 * such as a quoted value over several lines, where nothing may be added. */
static urbac_err scan(const text_lines *t, comment **v, size_t *n, bool *open)
{
  yaml_parser_t p;
  size_t cap = 0, pos = 0;
  cursor at = {0, 0, 0};
  urbac_err err = URBAC_ESYNTAX;
  if (!yaml_parser_initialize(&p))
    return URBAC_ENOMEM;
  yaml_parser_set_input_string(&p, (const unsigned char *)t->s, t->len);
  for (bool done = false; !done;) {
    yaml_token_t tok;
    if (!yaml_parser_scan(&p, &tok))
      goto out;
    done = tok.type == YAML_STREAM_END_TOKEN;
    size_t a = offset_of(t, &at, tok.start_mark.line, tok.start_mark.column);
    size_t b = offset_of(t, &at, tok.end_mark.line, tok.end_mark.column);
    for (size_t l = tok.start_mark.line; open && !done && l < tok.end_mark.line && l < t->n; l++)
      open[l] = true;
    bool block = tok.type == YAML_SCALAR_TOKEN && (tok.data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
                                                   tok.data.scalar.style == YAML_FOLDED_SCALAR_STYLE);
    size_t header = a; /* a block scalar's token holds its first line: `|  # a comment` */
    while (block && header < t->len && t->s[header] != '\n')
      header++;
    yaml_token_delete(&tok);
    if (v && block && !gap_comments(t, a, header, v, n, &cap)) {
      err = URBAC_ENOMEM;
      goto out;
    }
    if (done)
      a = b = t->len;
    if (v && a > pos && !gap_comments(t, pos, a, v, n, &cap)) {
      err = URBAC_ENOMEM;
      goto out;
    }
    pos = b > pos ? b : pos;
  }
  err = URBAC_OK;
out:
  yaml_parser_delete(&p);
  return err;
}

static bool before(const urbac__node *x, uint32_t line, uint32_t col)
{
  return x->line < line || (x->line == line && x->col < col);
}

/* The new line comment `k` goes on: see the file's opening comment. */
static uint32_t place(const doc *c, comment *k)
{
  size_t lo = 0, hi = c->n; /* the first entry at or after the comment */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (before(c->e[mid].node, k->line, k->col))
      lo = mid + 1;
    else
      hi = mid;
  }
  size_t e = lo;
  uint32_t at = UINT32_MAX;
  if (k->trailing) {
    for (e = lo ? lo - 1 : NONE; e != NONE && !c->e[e].now;)
      e = c->e[e].parent;
    at = e == NONE ? UINT32_MAX : c->e[e].now->line;
  } else {
    while (e < c->n && !c->e[e].now)
      e++;
    at = e < c->n ? c->e[e].now->line : UINT32_MAX;
  }
  if (at != UINT32_MAX && k->trailing && c->open[at - 1])
    k->trailing = false; /* the line goes on (a quoted value): above it instead */
  while (at != UINT32_MAX && at > 1 && c->open[at - 2])
    at--; /* never inside what goes on from the line above */
  return at;
}

static int by_place(const void *a, const void *b)
{
  const comment *x = a, *y = b;
  if (x->at != y->at)
    return x->at < y->at ? -1 : 1;
  if (x->trailing != y->trailing)
    return x->trailing ? 1 : -1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static size_t chars(const char *s, size_t len)
{
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    n += ((unsigned char)s[i] & 0xC0) != 0x80;
  return n;
}

/* Writes head comment `k` (indented by `indent`), with the blank lines around it
 * that the old file had: at most one between two things, none at the start. */
static void head(urbac__buf *b, const comment *k, size_t indent, bool *blank)
{
  if ((k->blank_before || *blank) && b->len)
    urbac__buf_puts(b, "\n");
  urbac__buf_printf(b, "%*s%.*s\n", (int)indent, "", (int)k->len, k->text);
  *blank = k->blank_after;
}

/* Writes the new document's lines with the comments, sorted by place, in between. */
static void merge(urbac__buf *b, const text_lines *t, const comment *v, size_t n)
{
  size_t k = 0;
  bool blank = false; /* a blank line is owed before the next line */
  for (size_t line = 1; line <= t->n; line++) {
    size_t s = t->start[line - 1], e = line < t->n ? t->start[line] : t->len;
    size_t indent = 0, stop = line_end(t, s);
    if (s == t->len)
      break;
    while (s + indent < e && t->s[s + indent] == ' ')
      indent++;
    for (; k < n && v[k].at <= line && !v[k].trailing; k++)
      head(b, &v[k], v[k].at == line ? indent : 0, &blank);
    if (blank)
      urbac__buf_puts(b, "\n");
    blank = false;
    urbac__buf_add(b, t->s + s, stop - s);
    for (size_t width = chars(t->s + s, stop - s); k < n && v[k].at == line && v[k].trailing; k++) {
      size_t pad = v[k].col - 1 > width ? v[k].col - 1 - width : 1;
      urbac__buf_printf(b, "%*s%.*s", (int)pad, "", (int)v[k].len, v[k].text);
      width += pad + chars(v[k].text, v[k].len);
    }
    if (stop < e)
      urbac__buf_add(b, t->s + stop, e - stop); /* the line's own break */
    else
      urbac__buf_puts(b, "\n");
  }
  for (blank = false; k < n; k++) /* after the last node */
    head(b, &v[k], 0, &blank);
}

/* The new document `now` (`len` bytes, YAML) with the comments of the old one. */
static urbac_err keep_comments(doc *c, const char *old, size_t oldlen, const urbac__node *oldtree,
                               const char *now, size_t len, char **out, size_t *outlen)
{
  text_lines lo = {0}, ln = {0};
  comment *v = NULL;
  size_t n = 0;
  urbac__node *tree = NULL;
  urbac__buf b = {0};
  urbac_err err = URBAC_ENOMEM;
  if (!split_lines(&lo, old, oldlen) || !split_lines(&ln, now, len))
    goto out;
  if (!(c->open = urbac__calloc(ln.n, sizeof *c->open)))
    goto out;
  if ((err = scan(&lo, &v, &n, NULL)) != URBAC_OK || (err = scan(&ln, NULL, NULL, c->open)) != URBAC_OK ||
      (err = urbac__node_parse(now, len, "", &tree, NULL)))
    goto out;
  walk(c, oldtree, tree, NONE);
  err = URBAC_ENOMEM;
  if (c->mt.oom)
    goto out;
  for (size_t i = 0; i < n; i++)
    v[i].at = place(c, &v[i]);
  if (n)
    qsort(v, n, sizeof *v, by_place);
  merge(&b, &ln, v, n);
  if ((*out = urbac__buf_take(&b, outlen)) != NULL)
    err = URBAC_OK;
out:
  urbac__buf_free(&b);
  urbac__node_free(tree);
  urbac__free(v);
  urbac__free(lo.start);
  urbac__free(ln.start);
  return err;
}

/* ---------------------------------------------------------------- the API */

urbac_err urbac_tenant_save_buffer_like(const urbac_model *m, urbac_format fmt, const char *like,
                                        size_t like_len, char **out, size_t *len, urbac_diag *d)
{
  urbac__node *tree = NULL, *old = NULL;
  char *text = NULL;
  size_t n = 0;
  doc c = {{URBAC__DOC_SEARCH, false}, NULL, 0, 0, NULL};
  urbac_err err;
  *out = NULL;
  err = like && like_len <= URBAC_MAX_FILE_BYTES ? urbac__node_parse(like, like_len, "", &old, NULL)
                                                 : URBAC_EINVAL;
  if (err && err != URBAC_ENOMEM)
    return urbac_tenant_save_buffer(m, fmt, out, len, d); /* nothing to keep */
  if (!err)
    err = urbac__tenant_tree(m, &tree);
  if (err)
    goto out;
  reorder(&c.mt, old, tree);
  err = c.mt.oom                   ? URBAC_ENOMEM
        : fmt == URBAC_FORMAT_JSON ? urbac__node_emit_json(tree, &text, &n)
                                   : urbac__node_emit_yaml(tree, &text, &n);
  if (!err && fmt != URBAC_FORMAT_JSON && memchr(like, '#', like_len)) { /* no '#': no comment */
    err = keep_comments(&c, like, like_len, old, text, n, out, &n);
  } else if (!err) {
    *out = text;
    text = NULL;
  }
  if (len)
    *len = err ? 0 : n;
out:
  urbac__free(c.e);
  urbac__free(c.open);
  urbac__free(text);
  urbac__node_free(tree);
  urbac__node_free(old);
  return err ? urbac__diag_code(d, err, "writing the tenant") : URBAC_OK;
}

urbac_err urbac_tenant_save_file_like(const urbac_model *m, const char *path, urbac_format fmt,
                                      const char *like_path, urbac_diag *d)
{
  char *like = NULL, *buf = NULL;
  size_t like_len = 0, len = 0;
  urbac_err err = URBAC_OK;
  if (fmt == URBAC_FORMAT_AUTO)
    fmt = urbac_format_from_path(path);
  if (like_path && access(like_path, F_OK) == 0)
    err = urbac__file_read(like_path, &like, &like_len, d);
  if (!err)
    err = urbac_tenant_save_buffer_like(m, fmt, like, like_len, &buf, &len, d);
  if (!err)
    err = urbac__file_replace(path, buf, len, d);
  urbac__free(like);
  urbac__free(buf);
  return err;
}
