/*
 * engine/engine.h - the snapshot's layout, shared by the compiler, the check
 * path, explain and effective permissions.
 *
 * A check reads: the user's profile id (one uint32), the profile's decision for
 * the workload (two grant masks and a short list of device-group-scoped masks),
 * and at most a few device-group bitsets. Profiles are interned, so users with
 * the same access share one.
 *
 * Depends on: util, catalog, model.
 */
#ifndef URBAC_ENGINE_INTERNAL_H
#define URBAC_ENGINE_INTERNAL_H

#include "model/model.h"
#include "urbac/engine.h"

/* The decision data of one profile on one workload. */
typedef struct urbac__wdec {
  urbac__gmask all;  /* held on every scope */
  urbac__gmask any;  /* held on at least one device group */
  uint32_t part_off; /* parts[part_off .. part_off + part_n) */
  uint32_t part_n;
} urbac__wdec;

/* Grants held on one set of device groups only. */
typedef struct urbac__part {
  uint32_t dgset;
  urbac__gmask mask;
} urbac__part;

typedef struct urbac__profile {
  urbac__wdec w[URBAC__NWORKLOADS];
} urbac__profile;

/* A small immutable list of indices (a user's or a group's direct groups),
 * reference counted: snapshots made by urbac_snapshot_update() share them. */
typedef struct urbac__ulist {
  uint32_t refs;
  uint32_t n;
  uint32_t v[];
} urbac__ulist;
extern const urbac__cow_type urbac__cow_ulists;

/* A unified assignment's contribution: grants on a workload over a device-group
 * set (URBAC__ALL_DGS: all device groups). */
#define URBAC__ALL_DGS UINT32_MAX
#define URBAC__NO_DGS (UINT32_MAX - 1) /* an assignment scoped to an empty list: nothing on mde */
typedef struct urbac__uitem {
  uint32_t dgset;
  uint32_t w;
  urbac__gmask mask;
} urbac__uitem;

/* What reaches a principal (engine/compile.c says how it is built). */
typedef struct urbac__acc {
  uint32_t dirroles, eop, mdi, mdeperms;
  bool mde_role;
  uint64_t *access; /* legacy mde userAccess: device groups, dg_words words */
  urbac__uitem *items;
  size_t n, cap;
} urbac__acc;

/* An accumulator kept by a snapshot for the next update: immutable, shared. */
typedef struct urbac__pacc {
  uint32_t refs;
  urbac__acc a;
} urbac__pacc;
extern const urbac__cow_type urbac__cow_paccs;

typedef struct urbac__asg_index urbac__asg_index;

struct urbac_snapshot {
  const urbac_model *m;
  urbac__tables tables;
  /* Every array is paged (model/persist.h): an update shares what it does not change. */
  urbac__cow user_profile; /* uint32 per user */
  urbac__log profiles;     /* urbac__profile; profile 0 holds nothing (disabled, deleted users) */
  urbac__log parts;        /* urbac__part */
  urbac__log dgsets;       /* dg_words uint64 each */
  size_t dg_words;
  urbac__cow device_dg; /* uint32 per device: its device group */
  uint32_t *dg_order;   /* device groups by rank, ungrouped last (live ones only) */
  size_t ndg_order;
  urbac__cow user_groups;   /* urbac__ulist per user: the groups it is a direct member of */
  urbac__cow group_parents; /* urbac__ulist per group: the groups it is a direct member of */
  /* What urbac_snapshot_update() needs. */
  urbac__cow group_acc;    /* urbac__pacc per group: its accumulator, parents' included */
  urbac__cow user_direct;  /* urbac__pacc per user, or NULL: what names the user itself */
  urbac__cow profile_uses; /* uint32 per profile: how many users hold it */
  urbac__hmap profile_index, dgset_index;
  size_t live_profiles; /* profiles some user holds */
  uint32_t *changed;    /* users whose decisions may differ from the base's */
  size_t nchanged;
  bool changed_known;          /* false: compiled whole, every user may differ */
  urbac__asg_index *asg_index; /* engine/asgindex.c; NULL until an update needs it */
};

static inline const urbac__profile *urbac__profile_at(const urbac_snapshot *snap, uint32_t id)
{
  return (const urbac__profile *)snap->profiles.v + id;
}

static inline const urbac__part *urbac__part_at(const urbac_snapshot *snap, uint32_t i)
{
  return (const urbac__part *)snap->parts.v + i;
}

static inline uint32_t urbac__user_profile(const urbac_snapshot *snap, uint32_t u)
{
  return urbac__cow_u32_at(&snap->user_profile, u);
}

static inline const uint64_t *urbac__dgset(const urbac_snapshot *snap, uint32_t id)
{
  return (const uint64_t *)snap->dgsets.v + (size_t)id * snap->dg_words;
}

/* The direct groups of user (or group) i: a list, or NULL when none. */
static inline const urbac__ulist *urbac__ulist_at(const urbac__cow *c, size_t i)
{
  return i < c->n ? *(urbac__ulist *const *)urbac__cow_at(c, i) : NULL;
}

/* The device group of `dev` (NULL: a deleted device) by `snap`'s ranking: the first
 * whose rules all match, else ungrouped. */
uint32_t urbac__device_place(const urbac_snapshot *snap, const urbac__device *dev);

/* The decision for a resolved query; the check path and explain's cross-check. */
static inline bool urbac__decide(const urbac_snapshot *snap, const urbac_query *q)
{
  if (q->user == URBAC_UNKNOWN_USER)
    return false;
  const urbac__wdec *d = &urbac__profile_at(snap, urbac__user_profile(snap, q->user))->w[q->workload];
  if (urbac__gmask_has(&d->all, q->grant))
    return true;
  if (q->scope == URBAC_SCOPE_ANY)
    return urbac__gmask_has(&d->any, q->grant);
  if (q->scope != URBAC_SCOPE_DEVICE_GROUP)
    return false;
  for (uint32_t i = 0; i < d->part_n; i++) {
    const urbac__part *p = urbac__part_at(snap, d->part_off + i);
    if (urbac__gmask_has(&p->mask, q->grant) && urbac__bit_test(urbac__dgset(snap, p->dgset), q->dg))
      return true;
  }
  return false;
}

/* What `role` grants in model `m`: its grants, with the current catalog's
 * implications when `m` is on it (`catalog: current`). */
urbac__gmask urbac__role_grants(const urbac_model *m, const urbac__role *role);

#endif
