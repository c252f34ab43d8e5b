/*
 * io/json.c - JSON text into jansson's values, read by yajl (io/json.h).
 *
 * yajl reads the text and calls back once per value; the builder keeps the open
 * objects and arrays on a stack and adds each value to the innermost. What
 * json_loadb(JSON_REJECT_DUPLICATES) refuses and yajl would take is refused here:
 *  - a key twice in one object, and NUL (\u0000) in a string or a key;
 *  - UTF-8 that jansson's check refuses (an overlong form, a surrogate, past
 *    U+10FFFF): the strings and keys are made by jansson's checking functions;
 *  - a \u escape of a lone surrogate, which yajl would read as '?': found by
 *    lone_surrogate() before yajl reads the text;
 *  - an integer past json_int_t, a real past a double;
 *  - a scalar at the top, and a value inside more than 2047 objects and arrays
 *    (jansson's 2048 levels, a scalar being one);
 *  - a form feed or a vertical tab (yajl's whitespace, not JSON's), and a token
 *    cut short after the end (which yajl holds back without a word).
 * Reals are read as jansson reads them, whatever the locale's decimal point; an
 * error is located at the first problem either finds (the scans above, or yajl).
 * One difference is meant: a NUL byte anywhere is refused (yajl refuses it),
 * where jansson 2.14 skips one right after a token ("[1\0]").
 *
 * Depends on: util, jansson, yajl.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "io/json.h"
#include "util/util.h"

#define MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH */

typedef struct builder {
  json_t *root;
  json_t **open; /* the objects and arrays not yet closed, innermost last */
  size_t depth, cap;
  char *key; /* the key read last, copied (yajl's buffer is reused) */
  size_t klen, kcap;
  char why[JSON_ERROR_TEXT_LENGTH]; /* set when a callback stops the parse */
  bool oom;                         /* ... because an allocation failed */
  yajl_handle h;
  size_t end; /* where the top object or array closed */
} builder;

static const char out_of_memory[] = "out of memory";

static int stop(builder *b, const char *why)
{
  snprintf(b->why, sizeof b->why, "%s", why);
  b->oom = why == out_of_memory;
  return 0;
}

/* Why jansson refused to make a string of these bytes: `not_utf8`, unless it
 * cannot make even the unchecked string (then it ran out of memory). */
static const char *refused(const char *s, size_t n, const char *not_utf8)
{
  json_t *t = json_stringn_nocheck(s, n);
  json_decref(t);
  return t ? not_utf8 : out_of_memory;
}

/* Adds `v` (owned) where the text has it: the root, an item, or the value of the
 * key read last. As in jansson, a value inside MAX_DEPTH objects and arrays is
 * one too deep, a scalar as much as an object or an array. */
static int add(builder *b, json_t *v)
{
  if (!v)
    return stop(b, out_of_memory);
  if (b->depth >= MAX_DEPTH) {
    json_decref(v);
    return stop(b, "maximum parsing depth reached");
  }
  if (!b->depth) {
    if (!json_is_object(v) && !json_is_array(v)) {
      json_decref(v);
      return stop(b, "'[' or '{' expected");
    }
    b->root = v;
    return 1;
  }
  json_t *in = b->open[b->depth - 1];
  if (json_is_array(in))
    return json_array_append_new(in, v) == 0 ? 1 : stop(b, out_of_memory);
  if (json_object_getn(in, b->key, b->klen)) {
    json_decref(v);
    return stop(b, "duplicate object key");
  }
  return json_object_setn_new(in, b->key, b->klen, v) == 0
             ? 1
             : stop(b, refused(b->key, b->klen, "invalid UTF-8 in an object key"));
}

/* Adds an object or an array and opens it. */
static int open_one(builder *b, json_t *v)
{
  if (URBAC_GROW(b->open, b->cap, b->depth + 1)) {
    json_decref(v);
    return stop(b, out_of_memory);
  }
  if (!add(b, json_incref(v))) {
    json_decref(v);
    return 0;
  }
  b->open[b->depth++] = v; /* borrowed: its parent (or the root) holds it */
  json_decref(v);
  return 1;
}

static int on_null(void *ctx) { return add(ctx, json_null()); }

static int on_bool(void *ctx, int v) { return add(ctx, json_boolean(v)); }

/* As jansson: no '.', 'e' or 'E' is an integer, which must fit json_int_t; else a real. */
static int on_number(void *ctx, const char *s, size_t n)
{
  char small[64], *text = n < sizeof small ? small : urbac__malloc(n + 1);
  if (!text)
    return stop(ctx, out_of_memory);
  memcpy(text, s, n);
  text[n] = '\0';
  errno = 0;
  json_t *v = NULL;
  const char *why = NULL;
  if (!strpbrk(text, ".eE")) {
    json_int_t i = strtoll(text, NULL, 10);
    if (errno == ERANGE)
      why = text[0] == '-' ? "too big negative integer" : "too big integer";
    else
      v = json_integer(i);
  } else {
    const char *point = localeconv()->decimal_point; /* strtod() reads the locale's: as jansson, '.' is it */
    char *dot = strchr(text, '.');
    if (dot && point[0] && point[0] != '.')
      *dot = point[0];
    double r = strtod(text, NULL);
    if (errno == ERANGE && (r == HUGE_VAL || r == -HUGE_VAL))
      why = "real number overflow";
    else
      v = json_real(r);
  }
  if (text != small)
    urbac__free(text);
  return why ? stop(ctx, why) : add(ctx, v);
}

static int on_string(void *ctx, const unsigned char *s, size_t n)
{
  if (memchr(s, '\0', n))
    return stop(ctx, "\\u0000 is not allowed");
  json_t *v = json_stringn((const char *)s, n); /* NULL: not UTF-8 as jansson reads it */
  return v ? add(ctx, v) : stop(ctx, refused((const char *)s, n, "invalid UTF-8 in a string"));
}

static int on_key(void *ctx, const unsigned char *s, size_t n)
{
  builder *b = ctx;
  if (memchr(s, '\0', n))
    return stop(b, "NUL byte in object key not supported");
  if (URBAC_GROW(b->key, b->kcap, n + 1))
    return stop(b, out_of_memory);
  memcpy(b->key, s, n);
  b->key[n] = '\0';
  b->klen = n;
  return 1;
}

static int on_start_map(void *ctx) { return open_one(ctx, json_object()); }

static int on_start_array(void *ctx) { return open_one(ctx, json_array()); }

static int on_end(void *ctx)
{
  builder *b = ctx;
  if (--b->depth == 0)
    b->end = yajl_get_bytes_consumed(b->h);
  return 1;
}

static const yajl_callbacks callbacks = {
    on_null, on_bool, NULL, NULL, on_number, on_string, on_start_map, on_key, on_end, on_start_array, on_end,
};

/* The offset of the first \u escape of a surrogate not paired as UTF-16 pairs
 * them (a high one, then a low one), or `len`. Every backslash in JSON text is
 * in a string and starts an escape, so the escapes are found by skipping each
 * escaped character; what is not JSON at all is left to yajl. */
static size_t lone_surrogate(const char *text, size_t len)
{
  const char *p = text, *end = text + len;
  while ((p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
    int u = end - p >= 6 && p[1] == 'u' ? urbac__hex4(p + 2) : -1;
    if (u >= 0xDC00 && u <= 0xDFFF)
      return (size_t)(p - text);
    if (u >= 0xD800 && u <= 0xDBFF) {
      int low = end - p >= 12 && p[6] == '\\' && p[7] == 'u' ? urbac__hex4(p + 8) : -1;
      if (low < 0xDC00 || low > 0xDFFF)
        return (size_t)(p - text);
      p += 12;
    } else {
      p += u >= 0 ? 6 : end - p >= 2 ? 2 : 1;
    }
    if (p >= end)
      break;
  }
  return len;
}

/* The offset of the first form feed or vertical tab, or `len`: yajl reads them as
 * whitespace; JSON has them neither there nor raw in a string. */
static size_t vertical_space(const char *text, size_t len)
{
  const char *f = memchr(text, '\f', len), *v = memchr(text, '\v', len);
  return f && (!v || f < v) ? (size_t)(f - text) : v ? (size_t)(v - text) : len;
}

/* The offset of the first character from `at` on that is not JSON's whitespace, or `len`. */
static size_t past_space(const char *text, size_t at, size_t len)
{
  while (at < len && (text[at] == ' ' || text[at] == '\t' || text[at] == '\n' || text[at] == '\r'))
    at++;
  return at;
}

/* Fills `e` for the character at `at`: its line, and its column counted in characters. */
static void locate(json_error_t *e, const char *text, size_t len, size_t at, const char *why)
{
  size_t line = 1, column = 1;
  if (at > len)
    at = len;
  for (size_t i = 0; i < at; i++) {
    if (text[i] == '\n')
      line++, column = 1;
    else if (((unsigned char)text[i] & 0xC0) != 0x80) /* not a UTF-8 continuation byte */
      column++;
  }
  e->line = (int)(line < INT32_MAX ? line : INT32_MAX);
  e->column = (int)(column < INT32_MAX ? column : INT32_MAX);
  e->position = (int)(at < INT32_MAX ? at : INT32_MAX);
  e->source[0] = '\0';
  snprintf(e->text, sizeof e->text - 1, "%s", why); /* its last byte: the code, as jansson keeps it */
  e->text[sizeof e->text - 1] =
      (char)(why == out_of_memory ? json_error_out_of_memory : json_error_invalid_syntax);
}

/* yajl's own words for why it stopped, without its trailing newline. */
static void yajl_why(yajl_handle h, const char *text, size_t len, char *why, size_t size)
{
  unsigned char *s = yajl_get_error(h, 0, (const unsigned char *)text, len);
  size_t n = s ? strcspn((const char *)s, "\n") : 0;
  snprintf(why, size, "%.*s", (int)n, s ? (const char *)s : "");
  if (s)
    yajl_free_error(h, s);
}

/* Where yajl stopped: the last character it read, or, for the errors it finds
 * in a character it then gives back (a bad escape, a comment), that character:
 * told by yajl 2.1's messages (yajl_lex.c), the one thing it says about it. */
static size_t stopped_at(yajl_handle h, const char *why)
{
  size_t at = yajl_get_bytes_consumed(h);
  bool given_back = strstr(why, "after '\\u'") || strstr(why, "before a character") || strstr(why, "comment");
  return at && !given_back ? at - 1 : at;
}

json_t *urbac__json_parse(const char *text, size_t len, json_error_t *e)
{
  builder b = {0};
  json_error_t ignored;
  e = e ? e : &ignored;
  if (!text) /* nothing: refused as empty text is */
    text = "", len = 0;
  /* what yajl would take and jansson refuses: said unless yajl stops before it */
  size_t surrogate = lone_surrogate(text, len), space = vertical_space(text, len);
  size_t bad = surrogate < space ? surrogate : space;
  yajl_handle h = b.h = yajl_alloc(&callbacks, NULL, &b);
  if (!h) {
    locate(e, text, len, 0, out_of_memory);
    return NULL;
  }
  yajl_status st = yajl_parse(h, (const unsigned char *)text, len);
  if (st == yajl_status_error)
    yajl_why(h, text, len, b.why, sizeof b.why);
  size_t at = stopped_at(h, b.why);
  if (st == yajl_status_ok && (st = yajl_complete_parse(h)) != yajl_status_ok) {
    at = len; /* the text ended too soon (yajl would blame the space it adds at the end) */
    if (!b.why[0])
      stop(&b, "unexpected end of file");
  }
  if (st == yajl_status_ok && !b.root)
    st = yajl_status_error, at = len, stop(&b, "'[' or '{' expected near end of file");
  /* yajl holds back a token cut short after the end ("[1] \"x"), and says nothing */
  if (st == yajl_status_ok && (at = past_space(text, b.end, len)) < len)
    st = yajl_status_error, stop(&b, "end of file expected");
  if (bad < len && (st == yajl_status_ok || bad < at)) {
    st = yajl_status_error, at = bad;
    stop(&b, surrogate < space ? "invalid Unicode escape: a lone UTF-16 surrogate"
                               : "a form feed or vertical tab: not JSON's whitespace, nor in a string");
  }
  if (st != yajl_status_ok) {
    locate(e, text, len, at, b.oom ? out_of_memory : b.why);
    json_decref(b.root);
    b.root = NULL;
  }
  yajl_free(h);
  urbac__free(b.open);
  urbac__free(b.key);
  return b.root;
}

/* ---------------------------------------------------------------- parsed ahead */

#define DROPS (URBAC__JSON_AHEAD * 4) /* references given back, waiting for the thread */

struct urbac__json_ahead {
  const char *const *texts;
  const size_t *lens;
  size_t n;
  json_t **roots;      /* parsed and not yet read (NULL: a text that is not JSON) */
  json_error_t *errs;  /* why, for each NULL root */
  size_t parsed, read; /* texts parsed (the thread), and read (the reader) */
  size_t bytes;        /* of the texts parsed and not read */
  json_t *drops[DROPS];
  size_t ndrops;
  bool threaded, stop;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t moved; /* `parsed`, `read`, `ndrops` or `stop` changed */
};

/* Releases what was given back; called with the lock held, which it gives up meanwhile. */
static void release_drops(urbac__json_ahead *a)
{
  json_t *v[DROPS];
  size_t n = a->ndrops;
  memcpy(v, a->drops, n * sizeof *v);
  a->ndrops = 0;
  pthread_mutex_unlock(&a->lock);
  for (size_t i = 0; i < n; i++)
    json_decref(v[i]);
  pthread_mutex_lock(&a->lock);
}

static void *parse_ahead(void *p)
{
  urbac__json_ahead *a = p;
  pthread_mutex_lock(&a->lock);
  for (size_t i = 0; !a->stop;) {
    if (a->ndrops) {
      release_drops(a);
      continue;
    }
    if (i >= a->n || i >= a->read + URBAC__JSON_AHEAD ||
        (i > a->read && a->bytes >= URBAC__JSON_AHEAD_BYTES)) {
      pthread_cond_wait(&a->moved, &a->lock);
      continue;
    }
    pthread_mutex_unlock(&a->lock);
    json_t *root = urbac__json_parse(a->texts[i], a->lens[i], &a->errs[i]);
    pthread_mutex_lock(&a->lock);
    a->bytes += a->lens[i];
    a->roots[i++] = root;
    a->parsed = i;
    pthread_cond_broadcast(&a->moved);
  }
  pthread_mutex_unlock(&a->lock);
  return NULL;
}

urbac__json_ahead *urbac__json_ahead_start(const char *const *texts, const size_t *lens, size_t n)
{
  urbac__json_ahead *a = urbac__calloc(1, sizeof *a);
  json_t **roots = urbac__calloc(n + 1, sizeof *roots);
  json_error_t *errs = urbac__calloc(n + 1, sizeof *errs);
  if (!a || !roots || !errs) {
    urbac__free(a);
    urbac__free(roots);
    urbac__free(errs);
    return NULL;
  }
  *a = (urbac__json_ahead){.texts = texts, .lens = lens, .n = n, .roots = roots, .errs = errs};
  if (pthread_mutex_init(&a->lock, NULL) == 0) {
    if (pthread_cond_init(&a->moved, NULL) == 0) {
      a->threaded = pthread_create(&a->thread, NULL, parse_ahead, a) == 0;
      if (!a->threaded)
        pthread_cond_destroy(&a->moved);
    }
    if (!a->threaded)
      pthread_mutex_destroy(&a->lock);
  }
  return a;
}

/* Stops the thread (joined), and releases what it parsed and was not read and what
 * was given back: the reader parses and releases what is left itself. */
static void ahead_stop(urbac__json_ahead *a)
{
  if (a->threaded) {
    pthread_mutex_lock(&a->lock);
    a->stop = true;
    pthread_cond_broadcast(&a->moved);
    pthread_mutex_unlock(&a->lock);
    pthread_join(a->thread, NULL);
    pthread_cond_destroy(&a->moved);
    pthread_mutex_destroy(&a->lock);
    a->threaded = false;
  }
  for (size_t i = 0; i < a->ndrops; i++)
    json_decref(a->drops[i]);
  a->ndrops = 0;
  for (size_t i = a->read; i < a->n; i++) {
    json_decref(a->roots[i]);
    a->roots[i] = NULL;
  }
}

json_t *urbac__json_ahead_next(urbac__json_ahead *a, const char *text, json_error_t *e)
{
  json_error_t ignored;
  e = e ? e : &ignored;
  size_t i = a->read;
  if (i >= a->n || a->texts[i] != text) { /* out of step: found by index, parsed here */
    ahead_stop(a);
    while (i < a->n && a->texts[i] != text)
      i++;
    if (i == a->n) {
      locate(e, "", 0, 0, "not a text given to parse ahead");
      return NULL;
    }
  }
  if (!a->threaded) {
    a->read = i + 1;
    return urbac__json_parse(a->texts[i], a->lens[i], e);
  }
  pthread_mutex_lock(&a->lock);
  while (a->parsed <= i)
    pthread_cond_wait(&a->moved, &a->lock);
  json_t *root = a->roots[i];
  a->roots[i] = NULL;
  if (!root)
    *e = a->errs[i];
  a->bytes -= a->lens[i];
  a->read = i + 1;
  pthread_cond_broadcast(&a->moved);
  pthread_mutex_unlock(&a->lock);
  return root;
}

void urbac__json_ahead_drop(urbac__json_ahead *a, json_t *v)
{
  if (!v)
    return;
  bool queued = false;
  if (a->threaded) {
    pthread_mutex_lock(&a->lock);
    if ((queued = a->ndrops < DROPS)) {
      a->drops[a->ndrops++] = v;
      pthread_cond_broadcast(&a->moved);
    }
    pthread_mutex_unlock(&a->lock);
  }
  if (!queued)
    json_decref(v);
}

void urbac__json_ahead_end(urbac__json_ahead *a)
{
  if (!a)
    return;
  ahead_stop(a);
  urbac__free(a->roots);
  urbac__free(a->errs);
  urbac__free(a);
}
