/*
 * server/reach.c - no escalation through the API. Managing authorization on a
 * workload lets a caller change who holds what, but never give anyone (the
 * caller included) a permission the caller does not hold: not by a role
 * definition's permissions (which every assignee gains), a role assignment, a
 * user's directory roles, a group's members, the legacy roles and role groups,
 * a device group's user access, an activation or an import, nor by minting an
 * API key that acts as someone who holds more.
 *
 * How: the tenant as a write would leave it is compiled, and for every user,
 * every grant (permission and level) on every workload, tenant-wide or on each
 * device group, three questions are asked with urbac_check(), the one decision
 * function: does the user hold it there afterwards? did the user hold it
 * already? does the caller hold it? So "what a user gains" and "what the caller
 * holds" mean exactly what a decision means; nothing here evaluates roles. (Not
 * urbac_effective(): it explains every entry it lists, 2.5 ms a user, so four
 * minutes for a tenant of 100,000 users; these checks take about a second.)
 *
 * Each workload's decisions depend on its own mode only (engine/compile.c), so
 * the comparison is made twice, with every workload on unified roles and with
 * every workload on legacy roles: that covers the modes as they are, and an
 * assignment on a workload still on legacy roles, which gives nothing today but
 * everything at its activation, is judged when it is made, not when someone
 * activates. A caller who holds every grant on every workload tenant-wide (a
 * full administrator) passes without the comparison.
 *
 * Depends on: the public API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

/* ---------------------------------------------------------------- grants */

/* Every grant of the catalog (each permission at each level it has), with the
 * index a resolved query uses for it: the same in every snapshot. */
typedef struct grant_row {
  uint16_t index;
  urbac_grant grant;
} grant_row;

typedef struct grants {
  grant_row *row;
  size_t n;
} grants;

/* Resolves the catalog's grants through `p` (any snapshot's parser). */
static bool grants_load(urbac_parser *p, grants *g)
{
  static const urbac_level levels[] = {URBAC_LEVEL_READ, URBAC_LEVEL_MANAGE};
  g->n = 0;
  g->row = p ? calloc(2 * urbac_catalog_perm_count() + 1, sizeof *g->row) : NULL;
  for (size_t i = 0; g->row && i < urbac_catalog_perm_count(); i++)
    for (size_t l = 0; l < 2; l++) {
      urbac_grant gr = {(uint16_t)i, (uint8_t)levels[l]};
      char name[512];
      urbac_query q;
      if (!(urbac_catalog_perm(i)->levels & levels[l]))
        continue;
      urbac_grant_format(gr, name, sizeof name);
      urbac_question qn = {{"", 0}, urbac_str_of(name), {"mde", 3}, {NULL, 0}};
      if (urbac_parse_query(p, &qn, &q, NULL) == URBAC_OK)
        g->row[g->n++] = (grant_row){q.grant, gr};
    }
  return g->row != NULL;
}

/* The index in `p`'s snapshot of device group `id`, or UINT32_MAX (asked
 * about any grant of the catalog: only the scope matters). */
static uint32_t dg_find(urbac_parser *p, const char *id)
{
  char scope[300], grant[512];
  urbac_query q;
  int n = snprintf(scope, sizeof scope, "devicegroup:%s", id);
  unsigned level = urbac_catalog_perm(0)->levels & URBAC_LEVEL_READ ? URBAC_LEVEL_READ : URBAC_LEVEL_MANAGE;
  urbac_grant_format((urbac_grant){0, (uint8_t)level}, grant, sizeof grant);
  if (n < 0 || (size_t)n >= sizeof scope)
    return UINT32_MAX;
  urbac_question qn = {{"", 0}, urbac_str_of(grant), {"mde", 3}, {scope, (size_t)n}};
  if (urbac_parse_query(p, &qn, &q, NULL))
    return UINT32_MAX;
  return q.dg;
}

/* ---------------------------------------------------------------- comparing */

/* One snapshot's side of a comparison: its user and device group indices. */
typedef struct side {
  const urbac_snapshot *s;
  uint32_t user;
  uint32_t *dg; /* per device group of `after`: its index here, or UINT32_MAX */
} side;

/* Does side `x` hold grant `g` on workload `w` at `scope` (device group `d` of
 * `after`)? A device group `x` does not know is asked tenant-wide. */
static bool side_holds(const side *x, uint16_t g, uint8_t w, urbac_scope scope, uint32_t d)
{
  urbac_query q = {x->user, g, w, (uint8_t)scope, 0, URBAC_NO_DEVICE};
  if (scope == URBAC_SCOPE_DEVICE_GROUP && x->dg[d] == UINT32_MAX)
    q.scope = URBAC_SCOPE_ALL;
  else if (scope == URBAC_SCOPE_DEVICE_GROUP)
    q.dg = x->dg[d];
  return x->s && q.user != URBAC_UNKNOWN_USER && urbac_check(x->s, &q);
}

typedef struct compare {
  side after, before, caller;
  grants g;
  size_t ndgs; /* of after */
  srv_gain *gain;
} compare;

/* Is what `after` gives its current user at (g, w, scope, d) held already, or
 * held by the caller? If not, says so in *gain. */
static bool covered(compare *c, const grant_row *g, uint8_t w, urbac_scope scope, uint32_t d)
{
  if (side_holds(&c->before, g->index, w, scope, d) || side_holds(&c->caller, g->index, w, scope, d))
    return true;
  const urbac_model *m = urbac_snapshot_model(c->after.s);
  snprintf(c->gain->user, sizeof c->gain->user, "%s", urbac_snapshot_user_id(c->after.s, c->after.user));
  urbac_grant_format(g->grant, c->gain->grant, sizeof c->gain->grant);
  snprintf(c->gain->workload, sizeof c->gain->workload, "%s", urbac_catalog_workload_id(w));
  snprintf(c->gain->dg, sizeof c->gain->dg, "%s",
           scope == URBAC_SCOPE_DEVICE_GROUP ? urbac_model_id(m, URBAC_OBJ_DEVICE_GROUP, d) : "");
  return false;
}

/* Every grant the after side's user holds, tenant-wide or per device group. */
static bool user_covered(compare *c)
{
  for (uint8_t w = 0; w < urbac_catalog_workload_count(); w++)
    for (size_t i = 0; i < c->g.n; i++) {
      const grant_row *g = &c->g.row[i];
      if (side_holds(&c->after, g->index, w, URBAC_SCOPE_ALL, 0)) {
        if (!covered(c, g, w, URBAC_SCOPE_ALL, 0))
          return false;
        continue;
      }
      if (!side_holds(&c->after, g->index, w, URBAC_SCOPE_ANY, 0))
        continue;
      for (uint32_t d = 0; d < c->ndgs; d++)
        if (side_holds(&c->after, g->index, w, URBAC_SCOPE_DEVICE_GROUP, d) &&
            !covered(c, g, w, URBAC_SCOPE_DEVICE_GROUP, d))
          return false;
    }
  return true;
}

/* Maps each device group of `after` to its index in side `x`. */
static bool side_open(side *x, const urbac_snapshot *snap, const urbac_model *after, size_t ndgs)
{
  urbac_parser *p = snap ? urbac_parser_new(snap) : NULL;
  x->s = snap;
  x->dg = malloc((ndgs + 1) * sizeof *x->dg);
  for (size_t d = 0; x->dg && d < ndgs; d++)
    x->dg[d] = p ? dg_find(p, urbac_model_id(after, URBAC_OBJ_DEVICE_GROUP, d)) : UINT32_MAX;
  urbac_parser_free(p);
  return x->dg && (p || !snap);
}

bool srv_reach_all(const urbac_snapshot *held, const char *caller)
{
  urbac_parser *p = urbac_parser_new(held);
  grants g = {0};
  bool ok = grants_load(p, &g);
  uint32_t u = urbac_snapshot_user_find(held, caller, strlen(caller));
  for (uint8_t w = 0; ok && w < urbac_catalog_workload_count(); w++)
    for (size_t i = 0; ok && i < g.n; i++) {
      urbac_query q = {u, g.row[i].index, w, URBAC_SCOPE_ALL, 0, URBAC_NO_DEVICE};
      ok = u != URBAC_UNKNOWN_USER && urbac_check(held, &q);
    }
  free(g.row);
  urbac_parser_free(p);
  return ok;
}

/* Compares the users `users` of `after` (n of them; NULL: every user) with what
 * they had in `before`, against what `caller` holds in `held`. */
static bool within_users(const urbac_snapshot *held, const char *caller, const urbac_snapshot *after,
                         const urbac_snapshot *before, const uint32_t *users, size_t n, srv_gain *gain)
{
  const urbac_model *am = urbac_snapshot_model(after);
  compare c = {{after, 0, NULL}, {NULL, 0, NULL}, {NULL, 0, NULL}, {NULL, 0}, 0, gain};
  c.ndgs = urbac_model_count(am, URBAC_OBJ_DEVICE_GROUP);
  urbac_parser *p = urbac_parser_new(after);
  bool ok = grants_load(p, &c.g) && side_open(&c.after, after, am, c.ndgs) &&
            side_open(&c.before, before, am, c.ndgs) && side_open(&c.caller, held, am, c.ndgs);
  for (size_t d = 0; ok && d < c.ndgs; d++)
    c.after.dg[d] = (uint32_t)d;
  *gain = (srv_gain){0};
  if (!ok)
    snprintf(gain->grant, sizeof gain->grant, "(out of memory)");
  c.caller.user = urbac_snapshot_user_find(held, caller, strlen(caller));
  for (size_t i = 0; ok && (users ? i < n : true); i++) {
    uint32_t u = users ? users[i] : (uint32_t)i;
    const char *id = urbac_snapshot_user_id(after, u);
    if (!id && !users)
      break;
    if (!id || !id[0]) /* a deleted user's slot holds nothing */
      continue;
    c.after.user = u;
    c.before.user = before ? urbac_snapshot_user_find(before, id, strlen(id)) : URBAC_UNKNOWN_USER;
    ok = user_covered(&c);
  }
  urbac_parser_free(p);
  free(c.g.row);
  free(c.after.dg);
  free(c.before.dg);
  free(c.caller.dg);
  return ok;
}

bool srv_reach_within(const urbac_snapshot *held, const char *caller, const urbac_snapshot *after,
                      const urbac_snapshot *before, const char *only, srv_gain *gain)
{
  /* an unknown user (URBAC_UNKNOWN_USER) has no id: nothing to compare */
  uint32_t u = only ? urbac_snapshot_user_find(after, only, strlen(only)) : 0;
  return within_users(held, caller, after, before, only ? &u : NULL, only && u != URBAC_UNKNOWN_USER, gain);
}

void srv_gain_format(const srv_gain *g, char *out, size_t size)
{
  snprintf(out, size, "'%s' on %s%s%s%s", g->grant, g->workload, g->dg[0] ? ", device group " : "", g->dg,
           g->when);
}

/* ---------------------------------------------------------------- writes */

#define FLIP (URBAC_MODE_UNIFIED + 1) /* every workload in the mode it is not in */

/* `m` with every workload in `mode` (or FLIP); one without a legacy model is
 * always unified and stays so. */
static urbac_err with_modes(const urbac_model *m, int mode, urbac_model **out, urbac_diag *d)
{
  urbac_err err = urbac_model_clone(m, out, NULL);
  for (size_t w = 0; !err && w < urbac_catalog_workload_count(); w++) {
    if (!urbac_catalog_workload_has_legacy(w))
      continue;
    urbac_model *next = NULL; /* each step makes a new model */
    int to = mode != FLIP                                   ? mode
             : urbac_model_mode(m, w) == URBAC_MODE_UNIFIED ? URBAC_MODE_LEGACY
                                                            : URBAC_MODE_UNIFIED;
    err = to == URBAC_MODE_UNIFIED ? urbac_activate(*out, w, true, &next, NULL)
                                   : urbac_deactivate(*out, w, &next, NULL);
    urbac_model_free(*out);
    *out = next;
  }
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
  static const int modes[] = {URBAC_MODE_UNIFIED, URBAC_MODE_LEGACY};
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
      if (w >= 0 && (int)urbac_model_mode(after, (size_t)w) != modes[i])
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

/* ---------------------------------------------------------------- puts, judged before they are written */

#define TWIN_LAG_MAX 4096 /* objects the twin may lag behind by; past it, it is dropped and made again */

/* The changes the twin has yet to take: the last put of each object, in the order
 * first seen (urbac_model_edit() takes each object once), up to `revision`. */
struct srv_twin_lag {
  urbac_object_put *v;
  size_t n, cap;
  json_t *seen; /* "kind\nid" -> index */
  uint64_t revision;
};

static void lag_free(struct srv_twin_lag *l)
{
  for (size_t i = 0; l && i < l->n; i++) {
    free((void *)(uintptr_t)l->v[i].kind);
    free((void *)(uintptr_t)l->v[i].id);
    free((void *)(uintptr_t)l->v[i].json);
  }
  if (l) {
    free(l->v);
    json_decref(l->seen);
    free(l);
  }
}

void srv_reach_twin_set(srv_tenant *t, srv_snap *twin)
{
  if (t->flipped != twin)
    srv_snap_free(t->flipped);
  t->flipped = twin;
  lag_free(t->lag);
  t->lag = NULL;
}

uint64_t srv_reach_twin_revision(const srv_tenant *t)
{
  return !t->flipped ? 0 : t->lag && t->lag->n ? t->lag->revision : t->flipped->revision;
}

/* Adds one put to the lag (its last state replaces an earlier one); false when out of memory. */
static bool lag_add(struct srv_twin_lag *l, const urbac_object_put *p)
{
  size_t kl = strlen(p->kind), il = strlen(p->id);
  char *key = malloc(kl + il + 2), *json = p->json ? strdup(p->json) : NULL;
  bool ok = key && (!p->json || json);
  if (ok) {
    memcpy(key, p->kind, kl);
    key[kl] = '\n';
    memcpy(key + kl + 1, p->id, il + 1);
  }
  json_t *at = ok ? json_object_get(l->seen, key) : NULL;
  if (at) { /* changed again: only its last state counts */
    free((void *)(uintptr_t)l->v[json_integer_value(at)].json);
    l->v[json_integer_value(at)].json = json;
    json = NULL;
  } else if (ok && l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    urbac_object_put *v = realloc(l->v, cap * sizeof *v);
    ok = v != NULL;
    l->v = ok ? v : l->v;
    l->cap = ok ? cap : l->cap;
  }
  if (ok && !at) {
    l->v[l->n] = (urbac_object_put){strdup(p->kind), strdup(p->id), json};
    ok = l->v[l->n].kind && l->v[l->n].id &&
         !json_object_set_new(l->seen, key, json_integer((json_int_t)l->n));
    if (!ok) {
      free((void *)(uintptr_t)l->v[l->n].kind);
      free((void *)(uintptr_t)l->v[l->n].id);
    } else {
      l->n++;
      json = NULL;
    }
  }
  free(key);
  free(json);
  return ok;
}

/* t->flipped with its lag taken, as one edit; dropped when it cannot take it. */
static void lag_apply(srv_tenant *t)
{
  srv_snap *sn = NULL;
  if (!t->flipped || !t->lag || !t->lag->n)
    return;
  urbac_diag *d = urbac_diag_new();
  if (!d || srv_snap_edit(t->flipped, t->lag->v, t->lag->n, t->lag->revision, &sn, d) != URBAC_OK)
    sn = NULL;
  urbac_diag_free(d);
  srv_reach_twin_set(t, sn);
}

/* Is t->flipped the twin of t->current: at its revision, every workload in the other mode? */
static bool twin_fits(const srv_tenant *t)
{
  bool ok = t->flipped && t->flipped->revision == t->current->revision;
  for (size_t w = 0; ok && w < urbac_catalog_workload_count(); w++)
    ok = !urbac_catalog_workload_has_legacy(w) ||
         urbac_model_mode(t->flipped->model, w) != urbac_model_mode(t->current->model, w);
  return ok;
}

/* Makes t->flipped (whole: the first judgement, or after a reload or a mode change). */
static urbac_err twin_make(srv_tenant *t, urbac_diag *d)
{
  srv_snap *sn = NULL;
  urbac_err err = URBAC_OK;
  lag_apply(t); /* the changes it has followed lazily */
  if (!twin_fits(t)) {
    sn = calloc(1, sizeof *sn);
    err = sn ? with_modes(t->current->model, FLIP, &sn->model, d) : URBAC_ENOMEM;
    if (!err)
      err = urbac_snapshot_compile(sn->model, &sn->snap, d);
    if (!err) {
      sn->revision = t->current->revision;
      srv_reach_twin_set(t, sn);
      sn = NULL;
    }
    srv_snap_free(sn);
  }
  return err;
}

/* Does `caller` (in `held`) hold all `after` gives the users its update reached
 * (every user when it was compiled whole) beyond what they had in `before`? */
static bool within_changed(const urbac_snapshot *held, const char *caller, const urbac_snapshot *after,
                           const urbac_snapshot *before, srv_gain *gain)
{
  const uint32_t *users = NULL;
  size_t n = 0;
  if (!urbac_snapshot_changed_users(after, &users, &n))
    users = NULL;
  return within_users(held, caller, after, before, users, n, gain);
}

urbac_err srv_reach_puts(srv_tenant *t, const char *caller, const urbac_object_put *puts, size_t n,
                         bool *within, srv_gain *gain, srv_snap **next, srv_snap **twin, urbac_diag *d)
{
  const srv_snap *now = t->current;
  *twin = NULL;
  *within = srv_reach_all(now->snap, caller);
  urbac_err err = srv_snap_edit(now, puts, n, now->revision, next, d);
  if (!err && !*within)
    err = twin_make(t, d);
  if (!err && !*within)
    err = srv_snap_edit(t->flipped, puts, n, now->revision, twin, d);
  /* the modes as they are first, then what the other modes give at an activation or deactivation */
  if (!err && !*within && within_changed(now->snap, caller, (*next)->snap, now->snap, gain)) {
    *within = within_changed(now->snap, caller, (*twin)->snap, t->flipped->snap, gain);
    int w = urbac_catalog_workload_find(gain->workload);
    if (!*within && w >= 0)
      snprintf(gain->when, sizeof gain->when, " once %s is %s", gain->workload,
               urbac_model_mode(now->model, (size_t)w) == URBAC_MODE_LEGACY ? "activated" : "deactivated");
  }
  if (err) {
    srv_snap_free(*next);
    srv_snap_free(*twin);
    *next = *twin = NULL;
  }
  return err;
}

void srv_reach_follow(srv_tenant *t, const urbac_object_put *puts, size_t n, uint64_t revision)
{
  bool keep = t->flipped && srv_reach_twin_revision(t) == t->current->revision;
  for (size_t i = 0; keep && i < n;
       i++) /* a change of modes or catalog: the twin is made again when needed */
    keep = strcmp(puts[i].kind, "workloads") != 0 && strcmp(puts[i].kind, "catalog") != 0;
  if (keep && !t->lag) {
    t->lag = calloc(1, sizeof *t->lag);
    keep = t->lag && (t->lag->seen = json_object()) != NULL;
  }
  for (size_t i = 0; keep && i < n; i++)
    keep = lag_add(t->lag, &puts[i]) && t->lag->n <= TWIN_LAG_MAX;
  if (keep)
    t->lag->revision = revision; /* taken at the next judgement (twin_make) */
  else
    srv_reach_twin_set(t, NULL); /* publish() would drop it */
}
