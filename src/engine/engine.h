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

/* Compressed adjacency: items of row i are idx[off[i] .. off[i+1]). */
typedef struct urbac__csr {
  uint32_t *off;
  uint32_t *idx;
} urbac__csr;

struct urbac_snapshot {
  const urbac_model *m;
  urbac__tables tables;
  urbac__cow user_profile;  /* per user (uint32; paged, shared by updates) */
  urbac__profile *profiles; /* profile 0: holds nothing (disabled users) */
  size_t nprofiles;
  urbac__part *parts;
  size_t nparts;
  uint64_t *dgsets; /* nsets x dg_words */
  size_t ndgsets, dg_words;
  urbac__cow device_dg; /* per device (uint32): its device group */
  uint32_t *dg_order;   /* device groups by rank, ungrouped last (live ones only) */
  size_t ndg_order;
  urbac__csr user_groups;   /* user -> groups it is a direct member of */
  urbac__csr group_parents; /* group -> groups it is a direct member of */
};

static inline uint32_t urbac__user_profile(const urbac_snapshot *snap, uint32_t u)
{
  return urbac__cow_u32_at(&snap->user_profile, u);
}

static inline const uint64_t *urbac__dgset(const urbac_snapshot *snap, uint32_t id)
{
  return snap->dgsets + (size_t)id * snap->dg_words;
}

/* The device group of `dev` (NULL: a deleted device) by `snap`'s ranking: the first
 * whose rules all match, else ungrouped. */
uint32_t urbac__device_place(const urbac_snapshot *snap, const urbac__device *dev);

/* The decision for a resolved query; the check path and explain's cross-check. */
static inline bool urbac__decide(const urbac_snapshot *snap, const urbac_query *q)
{
  if (q->user == URBAC_UNKNOWN_USER)
    return false;
  const urbac__wdec *d = &snap->profiles[urbac__cow_u32_at(&snap->user_profile, q->user)].w[q->workload];
  if (urbac__gmask_has(&d->all, q->grant))
    return true;
  if (q->scope == URBAC_SCOPE_ANY)
    return urbac__gmask_has(&d->any, q->grant);
  if (q->scope != URBAC_SCOPE_DEVICE_GROUP)
    return false;
  for (uint32_t i = 0; i < d->part_n; i++) {
    const urbac__part *p = &snap->parts[d->part_off + i];
    if (urbac__gmask_has(&p->mask, q->grant) && urbac__bit_test(urbac__dgset(snap, p->dgset), q->dg))
      return true;
  }
  return false;
}

#endif
