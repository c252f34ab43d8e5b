/*
 * tests/unit/naive.h - a deliberately naive evaluator of the decision rules,
 * independent of the engine, for the tests and fuzz drivers that check the
 * engine's answers (test_prop.c, test_engine.c, fuzz/fuzz_query.c).
 *
 * It walks the model the way semantics.md words the rules: "u is a principal of A
 * (directly or through any depth of group membership)" becomes a fixpoint over
 * all groups, "W is one of A's data sources" a bit test, and so on, with no
 * profiles, no interning and no precomputed closures. It shares with the engine
 * only the model, the resolved seed tables (checked row by row in test_seed.c)
 * and, through the query, device-rule matching (checked in test_engine.c). It
 * never calls src/engine.
 *
 * Depends on: model, catalog (src/ internals).
 */
#ifndef URBAC_TEST_NAIVE_H
#define URBAC_TEST_NAIVE_H

#include <stdbool.h>

#include "urbac/engine.h"
#include "urbac/model.h"

typedef struct naive naive;

/* An evaluator for `m` (which must outlive it), or NULL when memory runs out.
 * The caller frees it with naive_free(). Not for use by two threads at once. */
naive *naive_new(const urbac_model *m);
void naive_free(naive *n);
/* The decision for `q` (resolved against a snapshot of the same model). */
bool naive_decide(naive *n, const urbac_query *q);

#endif
