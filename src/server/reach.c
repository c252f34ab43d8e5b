/*
 * server/reach.c - no escalation through the API. Managing authorization on a
 * workload lets a caller change who holds what, but never give anyone (the
 * caller included) a permission the caller does not hold: not by a role
 * definition's permissions (which every assignee gains), a role assignment, a
 * user's directory roles, a group's members, the legacy roles and role groups,
 * a device group's user access, an activation or an import, nor by minting an
 * API key that acts as someone who holds more.
 *
 * How: the tenant as a write would leave it is compiled, and every grant
 * (permission, level, workload, device group) that urbac_effective() lists for
 * a user there is asked of the tenant as it is: did that user hold it already?
 * If not, does the caller? Both questions are urbac_check(), the one decision
 * function, so "what a user gains" and "what the caller holds" mean exactly what
 * a decision means; nothing here evaluates roles itself. The comparison is made
 * with the workloads' modes as they are, and again with every workload on
 * unified roles and on legacy roles: an assignment on a workload still on its
 * legacy roles gives nothing today but everything at its activation, so it is
 * given by whoever makes it, not by whoever activates. A caller who holds
 * every grant of the catalog on every workload tenant-wide (a full administrator)
 * passes without the comparison.
 *
 * Depends on: the public API.
 */
#include <stdio.h>
#include <string.h>

#include "server/server.h"

/* Does `user` hold `grant` on `workload` in `s`, on device group `dg` ("all":
 * tenant-wide)? A device group `s` does not know yet is asked tenant-wide: only
 * who holds it everywhere holds it there. */
static bool holds(urbac_parser *p, const urbac_snapshot *s, const char *user, const char *grant,
                  const char *workload, const char *dg)
{
  char scope[300], why[256];
  urbac_query q;
  bool all = strcmp(dg, "all") == 0;
  int n = all ? 0 : snprintf(scope, sizeof scope, "devicegroup:%s", dg);
  if (n < 0 || (size_t)n >= sizeof scope)
    n = 0;
  urbac_err err = urbac_parse_query(p, user, strlen(user), grant, strlen(grant), workload, strlen(workload),
                                    scope, (size_t)n, &q, why, sizeof why);
  if (err && n)
    err = urbac_parse_query(p, user, strlen(user), grant, strlen(grant), workload, strlen(workload), "", 0,
                            &q, why, sizeof why);
  return !err && urbac_check(s, &q);
}

bool srv_reach_all(const urbac_snapshot *held, const char *caller)
{
  urbac_parser *p = urbac_parser_new(held);
  bool ok = p != NULL;
  static const urbac_level levels[] = {URBAC_LEVEL_READ, URBAC_LEVEL_MANAGE};
  for (size_t w = 0; ok && w < urbac_catalog_workload_count(); w++)
    for (size_t i = 0; ok && i < urbac_catalog_perm_count(); i++)
      for (size_t l = 0; ok && l < 2; l++) {
        char grant[512];
        if (!(urbac_catalog_perm(i)->levels & levels[l]))
          continue;
        urbac_grant_format((urbac_grant){(uint16_t)i, (uint8_t)levels[l]}, grant, sizeof grant);
        ok = holds(p, held, caller, grant, urbac_catalog_workload_id(w), "all");
      }
  urbac_parser_free(p);
  return ok;
}

typedef struct reach {
  const urbac_snapshot *held, *before;
  urbac_parser *held_p, *before_p;
  const char *caller, *user;
  srv_gain *gain;
} reach;

static int reach_entry(void *ctx, const urbac_effective_entry *e)
{
  reach *c = ctx;
  char grant[512];
  const char *workload = urbac_catalog_workload_id(e->workload);
  urbac_grant_format(e->grant, grant, sizeof grant);
  if (c->before && holds(c->before_p, c->before, c->user, grant, workload, e->scope))
    return 0; /* held already: nothing gained */
  if (holds(c->held_p, c->held, c->caller, grant, workload, e->scope))
    return 0;
  snprintf(c->gain->user, sizeof c->gain->user, "%s", c->user);
  snprintf(c->gain->grant, sizeof c->gain->grant, "%s", grant);
  snprintf(c->gain->workload, sizeof c->gain->workload, "%s", workload);
  snprintf(c->gain->dg, sizeof c->gain->dg, "%s", strcmp(e->scope, "all") == 0 ? "" : e->scope);
  return 1;
}

bool srv_reach_within(const urbac_snapshot *held, const char *caller, const urbac_snapshot *after,
                      const urbac_snapshot *before, const char *only, srv_gain *gain)
{
  reach c = {held, before, urbac_parser_new(held), before ? urbac_parser_new(before) : NULL, caller,
             NULL, gain};
  bool ok = c.held_p && (!before || c.before_p);
  *gain = (srv_gain){0};
  if (!ok)
    snprintf(gain->grant, sizeof gain->grant, "(out of memory)");
  uint32_t u = 0, last = UINT32_MAX;
  if (only) /* an unknown user (URBAC_UNKNOWN_USER) has no id: nothing to compare */
    u = last = urbac_snapshot_user_find(after, only, strlen(only));
  for (; ok && (c.user = urbac_snapshot_user_id(after, u)) != NULL; u++) {
    ok = urbac_effective(after, u, reach_entry, &c) == 0;
    if (u == last)
      break;
  }
  urbac_parser_free(c.held_p);
  urbac_parser_free(c.before_p);
  return ok;
}

void srv_gain_format(const srv_gain *g, char *out, size_t size)
{
  snprintf(out, size, "'%s' on %s%s%s%s", g->grant, g->workload, g->dg[0] ? ", device group " : "", g->dg,
           g->when);
}

/* ---------------------------------------------------------------- writes */

/* `m` with every workload in `mode` (modes as they are: URBAC_MODE_LEGACY + 1). */
static urbac_err with_modes(const urbac_model *m, int mode, urbac_model **out, urbac_diag *d)
{
  urbac_err err = urbac_model_clone(m, out);
  for (size_t w = 0; !err && mode <= URBAC_MODE_UNIFIED && w < urbac_catalog_workload_count(); w++)
    err = mode == URBAC_MODE_UNIFIED ? urbac_activate(*out, w, true, NULL, 0) : urbac_deactivate(*out, w);
  if (err)
    urbac_diag_add(d, err, NULL, 0, 0, NULL, "cannot compare what this change gives: %s",
                   urbac_strerror(err));
  return err;
}

/* Compiles `m` in `mode` (see with_modes()); the caller frees both. */
static urbac_err compiled(const urbac_model *m, int mode, urbac_model **copy, urbac_snapshot **snap,
                          urbac_diag *d)
{
  urbac_err err = with_modes(m, mode, copy, d);
  return err ? err : urbac_snapshot_compile(*copy, snap, d);
}

urbac_err srv_reach_write(const urbac_snapshot *now, const char *caller, const urbac_model *after,
                          bool *within, srv_gain *gain, urbac_diag *d)
{
  static const int modes[] = {URBAC_MODE_UNIFIED + 1, URBAC_MODE_UNIFIED, URBAC_MODE_LEGACY};
  const urbac_model *before = urbac_snapshot_model(now);
  urbac_err err = URBAC_OK;
  *within = srv_reach_all(now, caller);
  for (size_t i = 0; !err && !*within && i < sizeof modes / sizeof modes[0]; i++) {
    urbac_model *b = NULL, *a = NULL;
    urbac_snapshot *bs = NULL, *as = NULL;
    err = compiled(before, modes[i], &b, &bs, d);
    if (!err)
      err = compiled(after, modes[i], &a, &as, d);
    if (!err && !srv_reach_within(now, caller, as, bs, NULL, gain)) {
      int w = urbac_catalog_workload_find(gain->workload);
      if (w >= 0 && modes[i] != URBAC_MODE_UNIFIED + 1 && (int)urbac_model_mode(after, (size_t)w) != modes[i])
        snprintf(gain->when, sizeof gain->when, " once %s is %s", gain->workload,
                 modes[i] == URBAC_MODE_UNIFIED ? "activated" : "deactivated");
      i = sizeof modes / sizeof modes[0];
    } else if (!err && i + 1 == sizeof modes / sizeof modes[0]) {
      *within = true;
    }
    urbac_snapshot_free(as);
    urbac_snapshot_free(bs);
    urbac_model_free(a);
    urbac_model_free(b);
  }
  return err;
}
