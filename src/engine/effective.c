/*
 * engine/effective.c - everything one user holds: each grant on each workload,
 * tenant-wide ("all") or per device group on mde, with the chain it comes from.
 *
 * Decisions come from the snapshot (urbac__decide); each entry's source is the
 * first chain explain gives at exactly that entry's scope.
 *
 * Depends on: util, catalog, model, engine/engine.h, engine/explain.c.
 */
#include "engine/engine.h"

/* The first granting chain of an explanation (not a "missing:" or access line). */
static const char *first_chain(const urbac_explanation *e)
{
  for (size_t i = 0; i < urbac_explanation_count(e); i++) {
    const char *l = urbac_explanation_line(e, i);
    if (strncmp(l, "missing:", 8) != 0 && strncmp(l, "device access:", 14) != 0)
      return l;
  }
  return "";
}

/* Calls `cb` with the entry for `q`, its source explained at exactly that scope. */
static int report(const urbac_snapshot *snap, const urbac_query *q, const char *scope, urbac_effective_cb cb,
                  void *ctx)
{
  urbac_explanation *e = NULL;
  if (urbac_explain(snap, q, &e, NULL))
    return URBAC_ENOMEM;
  urbac_effective_entry ent = {q->workload, urbac__grant_of(q->grant), scope, first_chain(e)};
  int r = cb(ctx, &ent);
  urbac_explanation_free(e);
  return r;
}

/* Reports grant `g` on workload `w` if held: tenant-wide, or per device group. */
static int report_grant(const urbac_snapshot *snap, uint32_t user, uint8_t w, uint16_t g,
                        urbac_effective_cb cb, void *ctx)
{
  urbac_query q = {user, g, w, URBAC_SCOPE_ALL, 0, URBAC_NO_DEVICE};
  int r = 0;
  if (urbac__decide(snap, &q))
    return report(snap, &q, "all", cb, ctx);
  q.scope = URBAC_SCOPE_DEVICE_GROUP;
  for (size_t i = 0; w == URBAC__WL_MDE && i < snap->ndg_order && !r; i++) {
    q.dg = snap->dg_order[i];
    if (urbac__decide(snap, &q))
      r = report(snap, &q, urbac__dg_at(snap->m, q.dg)->id, cb, ctx);
  }
  return r;
}

int urbac_effective(const urbac_snapshot *snap, uint32_t user, urbac_effective_cb cb, void *ctx)
{
  if (user >= snap->m->users.n)
    return 0;
  for (uint8_t w = 0; w < URBAC__NWORKLOADS; w++)
    for (uint16_t g = 0; g < URBAC__NGRANTS; g++) {
      int r = report_grant(snap, user, w, g, cb, ctx);
      if (r)
        return r;
    }
  return 0;
}
