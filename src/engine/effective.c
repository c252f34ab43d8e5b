/*
 * engine/effective.c - everything one user holds: each grant on each workload,
 * tenant-wide ("all") or per device group on mde, with the chain it comes from.
 *
 * Decisions come from the snapshot (urbac__decide), sources from explain, asked
 * once per (workload, grant) so a user with many device groups stays cheap.
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

/* Reports grant `g` on workload `w` if held, per scope. */
static int report_grant(const urbac_snapshot *s, uint32_t user, uint8_t w, uint16_t g,
                        urbac_effective_cb cb, void *ctx)
{
  urbac_query q = {user, g, w, URBAC_SCOPE_ANY, 0, URBAC_NO_DEVICE};
  urbac_explanation *e = NULL;
  int r = 0;
  if (!urbac__decide(s, &q))
    return 0;
  if (urbac_explain(s, &q, &e))
    return URBAC_ENOMEM;
  urbac_effective_entry ent = {w, urbac__grant_of(g), "all", first_chain(e)};
  q.scope = URBAC_SCOPE_ALL;
  if (urbac__decide(s, &q)) {
    r = cb(ctx, &ent);
  } else {
    q.scope = URBAC_SCOPE_DEVICE_GROUP;
    for (size_t i = 0; i < s->m->n_dgs && !r; i++) {
      q.dg = s->dg_order[i];
      if (!urbac__decide(s, &q))
        continue;
      ent.scope = s->m->dgs[q.dg].id;
      r = cb(ctx, &ent);
    }
  }
  urbac_explanation_free(e);
  return r;
}

int urbac_effective(const urbac_snapshot *s, uint32_t user, urbac_effective_cb cb, void *ctx)
{
  if (user >= s->m->n_users)
    return 0;
  for (uint8_t w = 0; w < URBAC__NWORKLOADS; w++)
    for (uint16_t g = 0; g < URBAC__NGRANTS; g++) {
      int r = report_grant(s, user, w, g, cb, ctx);
      if (r)
        return r;
    }
  return 0;
}
