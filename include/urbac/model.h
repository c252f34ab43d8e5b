/*
 * urbac/model.h - a tenant: people, devices, legacy role configuration, unified
 * roles and workload activation (../shared/spec/tenant-format.md).
 *
 * A urbac_model is created by loading a tenant file (urbac/io.h) and is immutable
 * afterwards, so any number of threads may read it. Snapshots compiled from it
 * (urbac/engine.h) borrow it: it must outlive them.
 */
#ifndef URBAC_MODEL_H
#define URBAC_MODEL_H

#include <stdbool.h>
#include <stddef.h>

#include "urbac/error.h"
#include "urbac/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct urbac_model urbac_model;

typedef enum urbac_mode { URBAC_MODE_LEGACY = 0, URBAC_MODE_UNIFIED = 1 } urbac_mode;

/* Frees `m` and everything it owns; accepts NULL. */
URBAC_EXTERN void urbac_model_free(urbac_model *m);
/* The tenant id; owned by `m`. */
URBAC_EXTERN const char *urbac_model_tenant(const urbac_model *m);
/* The mode of workload `w` (an index of urbac_catalog_workload_id()). */
URBAC_EXTERN urbac_mode urbac_model_mode(const urbac_model *m, size_t w);

typedef enum urbac_object_kind {
  URBAC_OBJ_USER,
  URBAC_OBJ_GROUP,
  URBAC_OBJ_DEVICE,
  URBAC_OBJ_DEVICE_GROUP,
  URBAC_OBJ_ROLE
} urbac_object_kind;
/* How many objects of `kind` the tenant has (device groups include `ungrouped`). */
URBAC_EXTERN size_t urbac_model_count(const urbac_model *m, urbac_object_kind kind);
/* The id (users, groups, devices, device groups) or name (roles) of object `i`;
 * owned by `m`; NULL when out of range. */
URBAC_EXTERN const char *urbac_model_id(const urbac_model *m, urbac_object_kind kind, size_t i);

#ifdef __cplusplus
}
#endif
#endif
