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
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <yaml.h>

#include "io/tree.h"

void urbac__node_free(urbac__node *n)
{
  if (!n)
    return;
  for (size_t i = 0; i < n->n; i++)
    urbac__node_free(n->kids[i]);
  urbac__free(n->kids);
  urbac__free(n->str);
  urbac__free(n);
}

urbac__node *urbac__node_new(urbac__node_type type)
{
  urbac__node *n = urbac__calloc(1, sizeof *n);
  if (n)
    n->type = (uint8_t)type;
  return n;
}

urbac__node *urbac__node_str(const char *s, urbac__node_style style)
{
  urbac__node *n = urbac__node_new(URBAC__NODE_SCALAR);
  if (!n)
    return NULL;
  n->len = strlen(s);
  n->str = urbac__strndup(s, n->len);
  n->style = (uint8_t)style;
  if (!n->str) {
    urbac__free(n);
    return NULL;
  }
  return n;
}

urbac_err urbac__node_push(urbac__node *parent, urbac__node *kid)
{
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
  if (urbac__node_push(map, urbac__node_str(key, URBAC__STYLE_PLAIN))) {
    urbac__node_free(value);
    return URBAC_ENOMEM;
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

urbac_err urbac__node_parse(const char *buf, size_t len, const char *name, urbac__node **out, urbac_diag *d)
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

urbac_err urbac__node_emit_json_compact(const urbac__node *node, char **out)
{
  json_t *j = to_json(node);
  char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
  json_decref(j);
  *out = s ? urbac__strdup(s) : NULL;
  free(s);
  return *out ? URBAC_OK : URBAC_ENOMEM;
}
