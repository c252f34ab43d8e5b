/*
 * tests/unit/helpers.h - inline tenants and one-line questions for the unit tests.
 * Tests include src/ headers where they test internals; the helpers use the
 * public API only.
 */
#ifndef URBAC_TEST_HELPERS_H
#define URBAC_TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "urbac/store.h"
#include "urbac/urbac.h"

typedef struct tenant {
  urbac_model *m;
  urbac_snapshot *s;
  urbac_parser *p;
} tenant;

/* Loads and compiles YAML text; fails the test (printing every error) if it is invalid. */
static inline tenant tenant_load(const char *yaml)
{
  tenant t = {0};
  urbac_diag *d = urbac_diag_new();
  urbac_err err = urbac_tenant_load_buffer(yaml, strlen(yaml), "inline.yaml", &t.m, d);
  char buf[1024];
  for (size_t i = 0; i < urbac_diag_count(d); i++) {
    urbac_diag_format(d, i, buf, sizeof buf);
    print_error("%s\n", buf);
  }
  assert_int_equal(err, URBAC_OK);
  assert_int_equal(urbac_snapshot_compile(t.m, &t.s, d), URBAC_OK);
  t.p = urbac_parser_new(t.s);
  assert_non_null(t.p);
  urbac_diag_free(d);
  return t;
}

static inline void tenant_free(tenant *t)
{
  urbac_parser_free(t->p);
  urbac_snapshot_free(t->s);
  urbac_model_free(t->m);
}

/* Makes `m` (taken) the tenant's model, compiled, in place of the old one, which is
 * freed after the snapshot and parser that borrow it. */
static inline void tenant_replace(tenant *t, urbac_model *m)
{
  tenant_free(t);
  t->m = m;
  assert_int_equal(urbac_snapshot_compile(t->m, &t->s, NULL), URBAC_OK);
  t->p = urbac_parser_new(t->s);
  assert_non_null(t->p);
}

/* The message of `d`'s first error, or "" (so strstr() on it is always safe). */
static inline const char *diag_msg(const urbac_diag *d)
{
  const urbac_error *e = urbac_diag_get(d, 0);
  return e ? e->message : "";
}

/* Resolves a question; the test fails when it cannot be parsed. */
static inline urbac_query ask(tenant *t, const char *user, const char *perm, const char *wl, const char *scope)
{
  urbac_query q;
  urbac_question question = {urbac_str_of(user), urbac_str_of(perm), urbac_str_of(wl), urbac_str_of(scope)};
  urbac_diag *d = urbac_diag_new();
  urbac_err err = urbac_parse_query(t->p, &question, &q, d);
  if (err)
    print_error("query (%s, %s, %s, %s): %s\n", user, perm, wl, scope, diag_msg(d));
  urbac_diag_free(d);
  assert_int_equal(err, URBAC_OK);
  return q;
}

static inline bool allowed(tenant *t, const char *user, const char *perm, const char *wl, const char *scope)
{
  urbac_query q = ask(t, user, perm, wl, scope);
  return urbac_check(t->s, &q);
}

#define ALLOW(t, u, p, w, s) assert_true(allowed(t, u, p, w, s))
#define DENY(t, u, p, w, s) assert_false(allowed(t, u, p, w, s))

/* A whole small file (at most 1 MiB), NUL-terminated; the caller frees it. */
static inline char *slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  char *buf = calloc(1, 1 << 20);
  size_t n = fread(buf, 1, (1 << 20) - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

/* The load errors of a YAML text, as one string "CODE@line:col message\n..." */
static inline char *load_errors(const char *yaml)
{
  urbac_model *m = NULL;
  urbac_diag *d = urbac_diag_new();
  urbac_err err = urbac_tenant_load_buffer(yaml, strlen(yaml), "bad.yaml", &m, d);
  size_t cap = 8192, len = 0;
  char *out = calloc(1, cap);
  for (size_t i = 0; i < urbac_diag_count(d); i++) {
    const urbac_error *e = urbac_diag_get(d, i);
    if (e)
      len += (size_t)snprintf(out + len, cap - len, "%s@%u:%u %s [%s]\n", urbac_err_name(e->code), e->line,
                              e->column, e->message, e->path);
  }
  if (err == URBAC_OK)
    snprintf(out, cap, "LOADED");
  assert_null(err == URBAC_OK ? NULL : m);
  urbac_model_free(m);
  urbac_model_free(NULL);
  urbac_diag_free(d);
  return out;
}

/* Asserts that the errors of `yaml` contain `needle`, printing them if not. */
#define ASSERT_LOAD_ERROR(yaml, needle)                                                            \
  do {                                                                                             \
    char *errs_ = load_errors(yaml);                                                               \
    if (!strstr(errs_, needle))                                                                    \
      print_error("expected '%s' in:\n%s\n", needle, errs_);                                     \
    assert_non_null(strstr(errs_, needle));                                                        \
    free(errs_);                                                                                   \
  } while (0)

#endif
