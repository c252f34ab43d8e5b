/*
 * fuzz/fuzz_query.c - libFuzzer driver for the query-line parser
 * (tenant-format.md "Queries") against a small fixed tenant: every line either
 * resolves to a query that checks and explains, or fails with a reason.
 */
#include <stdlib.h>
#include <string.h>

#include "urbac/urbac.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const char tenant_yaml[] =
    "urbac: 1\ntenant: f\nworkloads: {mdi: unified}\n"
    "users: [{id: ann}, {id: ben, directoryRoles: [Security reader]}]\n"
    "groups: [{id: g, members: [ann]}]\n"
    "deviceGroups: [{id: servers, rank: 1, rules: {name: {startsWith: [srv-]}}, userAccess: [g]}]\n"
    "devices: [{id: d1, name: srv-1}]\n"
    "roles: [{name: r, permissions: [Alerts], assignments: [{name: a, principals: [group:g], dataSources: all}]}]\n"
    "legacy: {mde: {roles: [{name: m, permissions: [Alerts investigation], groups: [g]}]}}\n";

/* The tenant is loaded once per process; the driver only reads it. */
static urbac_model *m;
static urbac_snapshot *s;

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  if (!s && (urbac_tenant_load_buffer(tenant_yaml, sizeof tenant_yaml - 1, "f", &m, NULL) ||
             urbac_snapshot_compile(m, &s, NULL)))
    abort();
  urbac_parser *p = urbac_parser_new(s);
  const char *text = (const char *)data;
  size_t start = 0;
  for (size_t i = 0; i <= size; i++) {
    if (i < size && text[i] != '\n')
      continue;
    urbac_query q;
    char why[512];
    if (urbac_parse_query_line(p, text + start, i - start, &q, why, sizeof why) == URBAC_OK) {
      urbac_explanation *e = NULL;
      bool allow = urbac_check(s, &q);
      if (urbac_explain(s, &q, &e) != URBAC_OK || urbac_explanation_allowed(e) != allow)
        abort();
      urbac_explanation_free(e);
    } else if (!why[0]) {
      abort(); /* a failure always says why */
    }
    start = i + 1;
  }
  urbac_parser_free(p);
  return 0;
}
