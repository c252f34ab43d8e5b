/*
 * fuzz/fuzz_query.c - libFuzzer driver for the query-line parser
 * (tenant-format.md "Queries") against a small fixed tenant: every line either
 * resolves to a query or fails with a reason. Each query's decision is compared
 * with the tests' naive evaluator (tests/unit/naive.c, which shares no code with
 * src/engine): urbac_check, explain's conclusion and urbac_check_batch over the
 * whole input must all give the naive answer.
 *
 * Depends on: the public API; tests/unit/naive.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "naive.h"
#include "urbac/urbac.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* Every rule family: nested groups, a disabled user, directory roles, device
 * groups with and without user access, unified and legacy workloads. */
static const char tenant_yaml[] =
    "urbac: 1\ntenant: f\nworkloads: {mdi: unified}\n"
    "users: [{id: ann}, {id: ben, directoryRoles: [Security reader]}, {id: cat, enabled: false},\n"
    "        {id: dan}, {id: eve, directoryRoles: [Global administrator]}]\n"
    "groups: [{id: g, members: [ann, group:h]}, {id: h, members: [dan, cat]},\n"
    "         {id: ops, directoryRoles: [Security operator], members: [ben]}]\n"
    "deviceGroups: [{id: servers, rank: 1, rules: {name: {startsWith: [srv-]}}, userAccess: [g]},\n"
    "               {id: desks, rank: 2, rules: {tags: {equals: [desk]}}, userAccess: [h]}]\n"
    "devices: [{id: d1, name: srv-1}, {id: d2, name: pc-2, tags: [desk]}, {id: d3, name: other}]\n"
    "roles: [{name: r, permissions: [Alerts], assignments: [{name: a, principals: [group:g], dataSources: "
    "all}]},\n"
    "        {name: s, permissions: ['microsoft.xdr/secops/*/manage', Advanced live response (manage)],\n"
    "         assignments: [{name: b, principals: [dan], dataSources: [mde, mdi], deviceGroups: [desks]}]}]\n"
    "legacy: {mde: {roles: [{name: m, permissions: [Alerts investigation, View data - Security operations],"
    " groups: [g]}]},\n"
    "         mdo: {roleGroups: [{name: Quarantine, members: [group:h]}]},\n"
    "         mdi: {roles: [{name: MDI viewer, members: [ann]}]}}\n";

#define MAX_QUERIES 4096

/* The tenant is loaded once per process; the driver only reads it. */
static urbac_model *m;
static urbac_snapshot *s;
static naive *ref;
static urbac_query queries[MAX_QUERIES];
static uint8_t expected[MAX_QUERIES], batch[MAX_QUERIES];

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  if (!s && (urbac_tenant_load_buffer(tenant_yaml, sizeof tenant_yaml - 1, "f", &m, NULL) ||
             urbac_snapshot_compile(m, &s, NULL) || !(ref = naive_new(m))))
    abort();
  urbac_parser *p = urbac_parser_new(s);
  urbac_diag *d = urbac_diag_new();
  const char *text = (const char *)data;
  size_t start = 0, n = 0;
  for (size_t i = 0; i <= size; i++) {
    if (i < size && text[i] != '\n')
      continue;
    urbac_query q;
    if (urbac_parse_query_line(p, text + start, i - start, &q, NULL) == URBAC_OK) {
      urbac_explanation *e = NULL;
      bool allow = naive_decide(ref, &q);
      if (urbac_check(s, &q) != allow)
        abort(); /* the engine disagrees with the rules as written */
      if (urbac_explain(s, &q, &e, NULL) != URBAC_OK || urbac_explanation_allowed(e) != allow)
        abort();
      urbac_explanation_free(e);
      if (n < MAX_QUERIES) {
        queries[n] = q;
        expected[n++] = allow;
      }
    } else {
      urbac_diag_clear(d);
      if (urbac_parse_query_line(p, text + start, i - start, &q, d) == URBAC_OK || !urbac_diag_count(d) ||
          !urbac_diag_get(d, 0)->message[0])
        abort(); /* a failure always says why */
    }
    start = i + 1;
  }
  urbac_check_batch(s, queries, n, batch);
  if (n && memcmp(batch, expected, n) != 0)
    abort();
  urbac_parser_free(p);
  urbac_diag_free(d);
  return 0;
}
