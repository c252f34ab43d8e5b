/*
 * io/tree.h - a small document tree with source positions, between the parser
 * libraries and the tenant schema.
 *
 * libyaml reads YAML and JSON (the tenant format's JSON is YAML's flow style)
 * into this tree with the line and column of every node, so the schema walker in
 * io/load.c can say exactly where a problem is. Saving builds the same tree from a
 * model and writes it with libyaml's emitter or jansson, so both formats share one
 * model-to-document function.
 *
 * Depends on: util, libyaml, jansson.
 */
#ifndef URBAC_IO_TREE_H
#define URBAC_IO_TREE_H

#include "util/util.h"

typedef enum urbac__node_type { URBAC__NODE_SCALAR, URBAC__NODE_SEQ, URBAC__NODE_MAP } urbac__node_type;
/* How a scalar was written: a quoted string, or plain (which may read as a
 * number, boolean or null). When saving: what to write it as. */
typedef enum urbac__node_style {
  URBAC__STYLE_PLAIN,
  URBAC__STYLE_QUOTED,
  URBAC__STYLE_INT,
  URBAC__STYLE_BOOL,
  URBAC__STYLE_JSON /* a JSON number or null, written as it is in both formats */
} urbac__node_style;

/* Where a node lives: its own allocations (urbac__node_new(), libyaml's
 * reader), or an arena (urbac__node_arena: the quick JSON reader's trees, and trees
 * built at once, as a tenant saved). */
typedef enum urbac__node_mem { URBAC__MEM_HEAP, URBAC__MEM_ARENA, URBAC__MEM_ARENA_ROOT } urbac__node_mem;

typedef struct urbac__node {
  uint8_t type;
  uint8_t style;
  bool flow;          /* write on one line: [a, b] */
  uint8_t mem;        /* urbac__node_mem */
  uint32_t line, col; /* 1-based */
  char *str;          /* scalars */
  size_t len;
  struct urbac__node **kids; /* sequences: items; maps: key, value, key, value ... */
  size_t n, cap;
} urbac__node;

/* Parses `len` bytes of YAML or JSON. On failure adds a located error to `d`
 * (named `name`) and returns non-zero. The caller frees *out with urbac__node_free(). */
urbac_err urbac__node_parse(const char *buf, size_t len, const char *name, urbac__node **out, urbac_diag *d);
/* The same, always through libyaml: urbac__node_parse() reads plain JSON with a
 * quicker reader that gives the same tree (io/tree.c), or hands it here. */
urbac_err urbac__node_parse_yaml(const char *buf, size_t len, const char *name, urbac__node **out,
                                 urbac_diag *d);
/* The quicker reader alone: the tree of `buf` when it is JSON it is sure of,
 * else NULL, with *unsure set when libyaml should read it instead (clear: out of
 * memory). The tree is in one arena (read-only); the caller frees it with
 * urbac__node_free() of its root. */
urbac__node *urbac__node_parse_json(const char *buf, size_t len, bool *unsure);
/* True when the quick reader reads the JSON string of these `len` bytes (as
 * jansson writes it) as exactly these bytes: not too long, and no character
 * (DEL, a C1 control, U+2028, U+FEFF, ...) it leaves to libyaml, which reads
 * some its own way and refuses others. */
bool urbac__json_string_sure(const char *s, size_t len);
void urbac__node_free(urbac__node *n);

/* An arena for a tree built at once and freed at once: its nodes, strings and
 * item arrays in a few blocks. Start one zeroed, first_cap the bytes of its
 * first block (0: 4 KiB; later blocks double). The first node made in it is the
 * tree's root: urbac__node_free() of that root frees the arena's blocks (and of
 * any other node in it, nothing); or urbac__node_arena_free() frees them. A node in
 * an arena holds only nodes of the same arena. */
typedef struct urbac__node_arena {
  struct urbac__node_arena_block *first, *last;
  size_t first_cap;
  bool failed; /* an allocation failed: every later one does */
  bool many;   /* set before the first node: it holds many trees, none a root (freeing none frees it) */
} urbac__node_arena;
void urbac__node_arena_free(urbac__node_arena *a);
urbac__node *urbac__node_new_in(urbac__node_arena *a, urbac__node_type type);
/* A scalar of `len` bytes of `s`. */
urbac__node *urbac__node_str_in(urbac__node_arena *a, const char *s, size_t len, urbac__node_style style);
/* urbac__node_push() and urbac__node_set() for a parent in `a` (one of its own
 * allocations: the same calls); a kid not in an arena is refused (URBAC_EINVAL). */
urbac_err urbac__node_push_in(urbac__node_arena *a, urbac__node *parent, urbac__node *kid);
urbac_err urbac__node_set_in(urbac__node_arena *a, urbac__node *map, const char *key, urbac__node *value);

/* Builders of nodes of their own; each returns NULL when out of memory (and
 * frees nothing it was not given). */
urbac__node *urbac__node_new(urbac__node_type type);
urbac__node *urbac__node_str(const char *s, urbac__node_style style);
/* Appends `kid` to `parent` (a sequence), or `key: kid` to a map. Takes `kid` in
 * every case (freed on failure); returns URBAC_ENOMEM when it could not, and
 * URBAC_EINVAL when `parent` is in an arena (urbac__node_push_in()). */
urbac_err urbac__node_push(urbac__node *parent, urbac__node *kid);
urbac_err urbac__node_set(urbac__node *map, const char *key, urbac__node *value);

/* Writes the tree as YAML (libyaml emitter) or JSON (jansson); the caller frees
 * *out with urbac__free(). */
urbac_err urbac__node_emit_yaml(const urbac__node *root, char **out, size_t *len);
urbac_err urbac__node_emit_json(const urbac__node *root, char **out, size_t *len);
/* One line of compact JSON for a subtree; the caller frees *out with urbac__free(). */
urbac_err urbac__node_emit_json_compact(const urbac__node *node, char **out);
/* The same through jansson (urbac__node_emit_json_compact() writes its bytes
 * itself, and asks jansson where it is unsure). */
urbac_err urbac__node_emit_json_compact_jansson(const urbac__node *node, char **out);
/* `len` bytes of `s` as a JSON string (quoted, escaped as jansson escapes), into
 * `b`; false (nothing written) when they are not UTF-8. */
bool urbac__json_string(urbac__buf *b, const char *s, size_t len);
/* How many bytes urbac__json_string() writes for `len` bytes of UTF-8 `s`, the
 * quotes counted. */
size_t urbac__json_string_size(const char *s, size_t len);

/* A whole file (at most URBAC_MAX_FILE_BYTES), NUL-terminated; the caller frees
 * *out with urbac__free(). Problems go to `d`, named by `path` (io/file.c). */
urbac_err urbac__file_read(const char *path, char **out, size_t *len, urbac_diag *d);
/* Replaces `path` with `len` bytes of `buf` atomically: a temporary file beside it,
 * fsync, rename; a failed write leaves the old file (io/file.c). */
urbac_err urbac__file_replace(const char *path, const char *buf, size_t len, urbac_diag *d);

/* The tenant file's tree for a model (io/save.c); the caller frees it. */
struct urbac_model;
urbac_err urbac__tenant_tree(const struct urbac_model *m, urbac__node **out);
/* urbac_tenant_load_buffer() without the tenant-wide validation (io/load.c): the
 * shape of every object is checked, references are left unresolved. */
urbac_err urbac__tenant_parse_buffer(const char *buf, size_t len, const char *name, struct urbac_model **out,
                                     urbac_diag *d);
/* The same from a document tree the caller parsed (`root` stays the caller's),
 * validated across the tenant when `validate`. */
urbac_err urbac__tenant_load_tree(const urbac__node *root, const char *name, bool validate,
                                  struct urbac_model **out, urbac_diag *d);

#endif
