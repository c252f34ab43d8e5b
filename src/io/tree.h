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

typedef enum urbac__tn_type { URBAC__TN_SCALAR, URBAC__TN_SEQ, URBAC__TN_MAP } urbac__tn_type;
/* How a scalar was written: a quoted string, or plain (which may read as a
 * number, boolean or null). When saving: what to write it as. */
typedef enum urbac__tn_style {
  URBAC__TS_PLAIN,
  URBAC__TS_QUOTED,
  URBAC__TS_INT,
  URBAC__TS_BOOL
} urbac__tn_style;

typedef struct urbac__tn {
  uint8_t type;
  uint8_t style;
  bool flow;            /* write on one line: [a, b] */
  uint32_t line, col;   /* 1-based */
  char *str;            /* scalars */
  size_t len;
  struct urbac__tn **kids; /* sequences: items; maps: key, value, key, value ... */
  size_t n, cap;
} urbac__tn;

/* Parses `len` bytes of YAML or JSON. On failure adds a located error to `d`
 * (named `name`) and returns non-zero. The caller frees *out with urbac__tn_free(). */
urbac_err urbac__tn_parse(const char *buf, size_t len, const char *name, urbac__tn **out,
                          urbac_diag *d);
void urbac__tn_free(urbac__tn *n);

/* Builders for saving; each returns NULL when out of memory (and frees nothing
 * it was not given). */
urbac__tn *urbac__tn_new(urbac__tn_type type);
urbac__tn *urbac__tn_str(const char *s, urbac__tn_style style);
/* Appends `kid` to `parent` (a sequence), or `key: kid` to a map. Takes `kid` in
 * every case (freed on failure); returns URBAC_ENOMEM when it could not. */
urbac_err urbac__tn_push(urbac__tn *parent, urbac__tn *kid);
urbac_err urbac__tn_set(urbac__tn *map, const char *key, urbac__tn *value);

/* Writes the tree as YAML (libyaml emitter) or JSON (jansson); the caller frees
 * *out with urbac__free(). */
urbac_err urbac__tn_emit_yaml(const urbac__tn *root, char **out, size_t *len);
urbac_err urbac__tn_emit_json(const urbac__tn *root, char **out, size_t *len);
/* One line of compact JSON for a subtree; the caller frees *out with urbac__free(). */
urbac_err urbac__tn_emit_json_compact(const urbac__tn *node, char **out);

/* The tenant file's tree for a model (io/save.c); the caller frees it. */
struct urbac_model;
urbac_err urbac__tenant_tree(const struct urbac_model *m, urbac__tn **out);

#endif
