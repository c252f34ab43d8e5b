/*
 * legacy/activate.c - switching a workload between legacy and unified mode.
 *
 * Legacy configuration is never touched, so deactivating restores the legacy
 * decisions exactly. Both build a new model (a copy of the one given, which
 * stays as it was, so snapshots borrowing it are unaffected) with the workload's
 * mode changed. Activation then asks the engine, on that new model, whether
 * anyone could still manage authorization there; it refuses when nobody could,
 * unless forced, and frees the new model.
 *
 * Depends on: util, catalog, model, engine.
 */
#include <stdio.h>

#include "engine/engine.h"
#include "urbac/legacy.h"

static int count_user(void *ctx, uint32_t user, const char *id)
{
  (void)user;
  (void)id;
  ++*(size_t *)ctx;
  return 1; /* one is enough */
}

/* How many users could manage authorization on `w` in `m` (0 or 1). */
static urbac_err authorization_managers(const urbac_model *m, size_t w, size_t *n)
{
  urbac_snapshot *snap = NULL;
  urbac_err err = urbac_snapshot_compile(m, &snap, NULL);
  *n = 0;
  if (!err) {
    urbac_query q = {0,          (uint16_t)urbac__grant_index(URBAC__P_AUTHORIZATION, URBAC_LEVEL_MANAGE),
                     (uint8_t)w, URBAC_SCOPE_ALL,
                     0,          URBAC_NO_DEVICE};
    urbac_who_can(snap, &q, count_user, n);
  }
  urbac_snapshot_free(snap);
  return err;
}

/* A copy of `m` with workload `w` in `mode`, in *out. */
static urbac_err with_mode(const urbac_model *m, size_t w, urbac_mode mode, urbac_model **out, urbac_diag *d)
{
  *out = NULL;
  if (w >= URBAC__NWORKLOADS)
    return urbac__diag_add(d, URBAC_EWORKLOAD, NULL, 0, 0, NULL, "unknown workload index %zu", w);
  if (!urbac_catalog_workload_has_legacy(w))
    return urbac__diag_add(d, URBAC_EREFUSED, NULL, 0, 0, "workload",
                           "%s has no legacy model: it is always in unified mode (nothing to %s)",
                           urbac_catalog_workload_id(w),
                           mode == URBAC_MODE_UNIFIED ? "activate" : "deactivate");
  urbac_err err = urbac_model_clone(m, out, d);
  if (err)
    return err;
  (*out)->modes[w] = (uint8_t)mode;
  (*out)->mode_listed[w] = true;
  return URBAC_OK;
}

urbac_err urbac_activate(const urbac_model *m, size_t workload, bool force, urbac_model **out, urbac_diag *d)
{
  size_t managers = 0;
  urbac_model *next = NULL;
  urbac_err err = with_mode(m, workload, URBAC_MODE_UNIFIED, &next, d);
  if (err || force)
    goto out;
  if ((err = authorization_managers(next, workload, &managers))) {
    urbac__diag_code(d, err, "activating");
    goto out;
  }
  if (!managers)
    err = urbac__diag_add(
        d, URBAC_EREFUSED, NULL, 0, 0, "workload",
        "activating %s would leave nobody able to manage authorization on it: no user would hold "
        "Configuration \\ Authorization (manage) there (import its legacy roles or assign a role "
        "first, or force it)",
        urbac_catalog_workload_id(workload));
out:
  if (err) {
    urbac_model_free(next);
    next = NULL;
  }
  *out = next;
  return err;
}

urbac_err urbac_deactivate(const urbac_model *m, size_t workload, urbac_model **out, urbac_diag *d)
{
  return with_mode(m, workload, URBAC_MODE_LEGACY, out, d);
}
