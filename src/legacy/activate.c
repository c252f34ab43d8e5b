/*
 * legacy/activate.c - switching a workload between legacy and unified mode.
 *
 * Legacy configuration is never touched, so deactivating restores the legacy
 * decisions exactly. Activation first asks the engine, on a copy with the
 * workload activated, whether anyone could still manage authorization there;
 * it refuses when nobody could, unless forced.
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

/* How many users could manage authorization on `w` if it were unified (0 or 1). */
static urbac_err authorization_managers(const urbac_model *m, size_t w, size_t *n)
{
  urbac_model *copy = NULL;
  urbac_snapshot *s = NULL;
  urbac_err err = urbac_model_clone(m, &copy);
  *n = 0;
  if (!err) {
    copy->modes[w] = URBAC_MODE_UNIFIED;
    err = urbac_snapshot_compile(copy, &s, NULL);
  }
  if (!err) {
    urbac_query q = {0, (uint16_t)urbac__grant_index(URBAC__P_AUTHORIZATION, URBAC_LEVEL_MANAGE), (uint8_t)w,
                     URBAC_SCOPE_ALL, 0, URBAC_NO_DEVICE};
    urbac_who_can(s, &q, count_user, n);
  }
  urbac_snapshot_free(s);
  urbac_model_free(copy);
  return err;
}

urbac_err urbac_activate(urbac_model *m, size_t workload, bool force, char *why, size_t why_size)
{
  size_t managers = 0;
  if (workload >= URBAC__NWORKLOADS)
    return URBAC_EWORKLOAD;
  if (!force) {
    urbac_err err = authorization_managers(m, workload, &managers);
    if (err)
      return err;
    if (!managers) {
      if (why)
        snprintf(why, why_size,
                 "activating %s would leave nobody able to manage authorization on it: no user would hold "
                 "Configuration \\ Authorization (manage) there (import its legacy roles or assign a role first, "
                 "or force it)", urbac_catalog_workload_id(workload));
      return URBAC_EREFUSED;
    }
  }
  m->modes[workload] = URBAC_MODE_UNIFIED;
  m->mode_listed[workload] = true;
  return URBAC_OK;
}

urbac_err urbac_deactivate(urbac_model *m, size_t workload)
{
  if (workload >= URBAC__NWORKLOADS)
    return URBAC_EWORKLOAD;
  m->modes[workload] = URBAC_MODE_LEGACY;
  m->mode_listed[workload] = true;
  return URBAC_OK;
}
