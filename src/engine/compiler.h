/*
 * engine/compiler.h - what the whole compile (engine/compile.c) and the
 * incremental one (engine/update.c) share: accumulators, interning of
 * device-group sets and profiles into a snapshot, and a user's profile from the
 * snapshot's kept accumulators.
 *
 * Depends on: util, catalog, model, engine/engine.h.
 */
#ifndef URBAC_ENGINE_COMPILER_H
#define URBAC_ENGINE_COMPILER_H

#include "engine/engine.h"

typedef struct urbac__compiler {
  urbac_snapshot *s;
  const urbac_model *m;
  uint64_t *access_words; /* scratch: dg_words */
  uint64_t *open_dgs;     /* device groups with an empty userAccess list */
  uint64_t *live_dgs;     /* every device group (an edited model may have holes) */
  urbac__acc scratch;     /* one user's accumulator */
  urbac__buf key;
  urbac__part *scratch_parts; /* one workload's parts */
  size_t scratch_n, scratch_cap;
  urbac__part *pparts; /* one profile's parts, all workloads */
  size_t pparts_n, pparts_cap;
} urbac__compiler;

urbac_err urbac__compiler_init(urbac__compiler *c, urbac_snapshot *s, const urbac_model *m);
void urbac__compiler_free(urbac__compiler *c);

urbac_err urbac__acc_item(urbac__acc *a, uint32_t w, uint32_t dgset, const urbac__gmask *mask);
urbac_err urbac__acc_merge(urbac__acc *dst, const urbac__acc *src, size_t words);
/* A new empty accumulator kept by a snapshot (count 1), or NULL. */
urbac__pacc *urbac__pacc_new(size_t words);
/* The device-group set of an assignment: URBAC__ALL_DGS, URBAC__NO_DGS or an interned set. */
urbac_err urbac__asg_dgset(urbac__compiler *c, const urbac__assignment *as, uint32_t *set);
/* Adds what assignment `as` of `role` in `m` (set: its urbac__asg_dgset()) gives to `a`. */
urbac_err urbac__acc_assignment(urbac__acc *a, const urbac_model *m, const urbac__role *role,
                                const urbac__assignment *as, uint32_t set);
/* The bytes a profile is interned by, into *key (grown; its len set): each
 * workload's grants held everywhere and its count of parts, then the n parts,
 * field by field (no padding), so equal profiles have equal keys. */
urbac_err urbac__profile_key(urbac__buf *key, const urbac__profile *p, const urbac__part *parts, size_t n);
/* Recomputes the profile of user u from the kept accumulators and sets it. */
urbac_err urbac__user_refresh(urbac__compiler *c, uint32_t u);
/* Refreshes users[0 .. n) (NULL: users 0 .. n-1) in that order, fetching what each
 * reads a few users ahead. */
urbac_err urbac__users_refresh(urbac__compiler *c, const uint32_t *users, size_t n);
/* engine/asgindex.c: the roles naming each principal in an assignment. */
typedef struct urbac__asg_entry {
  uint32_t idx;  /* the principal: a user or group index */
  uint32_t role; /* a role with an assignment naming it */
  uint8_t kind;  /* URBAC__REF_USER or URBAC__REF_GROUP */
} urbac__asg_entry;
/* The index of every role of `m` (count 1), or NULL when out of memory. */
urbac__asg_index *urbac__asg_index_build(const urbac_model *m);
/* The index of `m`, an edit of the model `base` indexes (its changes list the
 * roles it changed): `base` itself with one more count when no role changed.
 * NULL when out of memory. Borrows `base`. */
urbac__asg_index *urbac__asg_index_update(urbac__asg_index *base, const urbac_model *m);
/* Drops a count; the last frees. Accepts NULL. */
void urbac__asg_index_release(urbac__asg_index *x);
/* The entries naming principal (kind, idx), by role, *n of them; borrowed from `x`. */
const urbac__asg_entry *urbac__asg_index_find(const urbac__asg_index *x, uint8_t kind, uint32_t idx,
                                              size_t *n);
/* The snapshot's empty containers, for a compile or an update to fill. */
void urbac__snapshot_init(urbac_snapshot *s, const urbac_model *m);

#endif
