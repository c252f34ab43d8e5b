/*
 * urbac/legacy.h - migration from the legacy models to unified roles:
 * import legacy roles through the seed's mapping tables, see the exact impact of
 * activating a workload before doing it, activate and deactivate
 * (../shared/spec/semantics.md "Import and activation").
 *
 * Import, activate and deactivate never change the model they are given: they
 * return a new model with the change, so snapshots compiled from the old one stay
 * valid. Publish the new model, and free the old one once no snapshot borrows it.
 */
#ifndef URBAC_LEGACY_H
#define URBAC_LEGACY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "urbac/engine.h"
#include "urbac/error.h"
#include "urbac/export.h"
#include "urbac/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- import */

typedef enum urbac_import_action {
  URBAC_IMPORT_CREATED = 0,
  URBAC_IMPORT_UPDATED = 1, /* its legacy source changed since the last import */
  URBAC_IMPORT_UNCHANGED = 2
} urbac_import_action;

typedef struct urbac_import_item {
  urbac_import_action action;
  const char *role;   /* the unified role's name */
  const char *source; /* the legacy role (MDE role, EOP role group, MDI role) */
  size_t permissions; /* how many permissions the unified role has */
  size_t principals;  /* how many principals its assignment has */
  const char *scope;  /* mde: "all" or the device groups, comma-separated; else "" */
} urbac_import_item;

/* A legacy permission that maps to nothing, and the legacy role that holds it. */
typedef struct urbac_import_unmapped {
  const char *permission;
  const char *source;
} urbac_import_unmapped;

typedef struct urbac_import_report urbac_import_report;

/*
 * Imports every legacy role of `workload` into a copy of `m`, returned in *out:
 * one unified role per legacy role, with the mapped permissions and one
 * assignment (the legacy role's groups and members, data source `workload`, and
 * on mde the device groups those groups may access, `all` when that is every
 * one). Roles are marked with their source, so importing again changes nothing,
 * and a role whose source changed is updated in place. `m` is unchanged. The
 * caller frees *out with urbac_model_free() and *report (NULL: not wanted) with
 * urbac_import_report_free(). On failure both are NULL and the reason is in `d`.
 */
URBAC_EXTERN urbac_err urbac_import(const urbac_model *m, size_t workload, urbac_model **out,
                                    urbac_import_report **report, urbac_diag *d);
/* Frees `r`; accepts NULL. */
URBAC_EXTERN void urbac_import_report_free(urbac_import_report *r);
URBAC_EXTERN size_t urbac_import_report_count(const urbac_import_report *r);
/* Item `i` (NULL when out of range); strings are owned by `r`, valid until urbac_import_report_free(r). */
URBAC_EXTERN const urbac_import_item *urbac_import_report_item(const urbac_import_report *r, size_t i);
URBAC_EXTERN size_t urbac_import_report_unmapped_count(const urbac_import_report *r);
/* Unmapped permission `i` (NULL when out of range); owned by `r`, valid until urbac_import_report_free(r). */
URBAC_EXTERN const urbac_import_unmapped *urbac_import_report_unmapped(const urbac_import_report *r,
                                                                       size_t i);
/* Did the import create or update anything? */
URBAC_EXTERN bool urbac_import_report_changed(const urbac_import_report *r);
/* The report as compact JSON: {"roles": [{"action", "role", "source",
 * "permissions", "principals", "deviceGroups"}], "unmapped": [{"permission",
 * "source"}], "changed"}. The caller frees *out with urbac_free(). */
URBAC_EXTERN urbac_err urbac_import_report_json(const urbac_import_report *r, char **out, urbac_diag *d);

/* ---------------------------------------------------------------- activation */

/*
 * A copy of `m` with `workload` in unified mode, in *out; `m` is unchanged. Refuses
 * (URBAC_EREFUSED, with the reason in `d`) when afterwards nobody could manage
 * authorization on it (no user allowed Configuration \ Authorization (manage)
 * there), unless `force`. Legacy configuration is kept, so urbac_deactivate()
 * restores the legacy decisions. The caller frees *out with urbac_model_free();
 * on failure *out is NULL.
 */
URBAC_EXTERN urbac_err urbac_activate(const urbac_model *m, size_t workload, bool force, urbac_model **out,
                                      urbac_diag *d);
/* A copy of `m` with `workload` in legacy mode, in *out; as urbac_activate(). */
URBAC_EXTERN urbac_err urbac_deactivate(const urbac_model *m, size_t workload, urbac_model **out,
                                        urbac_diag *d);

/* ---------------------------------------------------------------- impact */

typedef enum urbac_impact_level {
  URBAC_IMPACT_NONE = 0,
  URBAC_IMPACT_READ = 1,
  URBAC_IMPACT_MANAGE = 2
} urbac_impact_level;

/* One change: what a user could do with a permission before and after. */
typedef struct urbac_impact_row {
  uint32_t user;         /* user index */
  uint16_t permission;   /* catalog index */
  uint8_t before, after; /* urbac_impact_level */
  uint32_t dg;           /* mde: the device group index; otherwise UINT32_MAX */
} urbac_impact_row;

typedef struct urbac_impact urbac_impact;

/*
 * Computes every change that activating `workload` makes (after importing its
 * legacy roles, when `import`), with the engine itself: for each user, each
 * permission and on mde each device group, the level before and after. `m` is not
 * changed. The caller frees *out with urbac_impact_free(); `m` must outlive it.
 */
URBAC_EXTERN urbac_err urbac_impact_compute(const urbac_model *m, size_t workload, bool import,
                                            urbac_impact **out, urbac_diag *d);
/* How far urbac_impact_compute_progress() has got: `done` of `total` steps, three
 * per user (the tenant compiled before, compiled after, then each user compared:
 * total is 3 x the users); called from the computing thread after each compilation,
 * then at most every 256 users and at the end. Returning false stops the
 * computation, which then returns URBAC_EREFUSED. */
typedef bool (*urbac_impact_progress_cb)(void *ctx, size_t done, size_t total);
/* urbac_impact_compute(), telling `cb` (may be NULL) how far it has got. */
URBAC_EXTERN urbac_err urbac_impact_compute_progress(const urbac_model *m, size_t workload, bool import,
                                                     urbac_impact_progress_cb cb, void *ctx,
                                                     urbac_impact **out, urbac_diag *d);
/* Frees `im`; accepts NULL. */
URBAC_EXTERN void urbac_impact_free(urbac_impact *im);
/* Calls `cb` for every row, by user (tenant order), permission (catalog order)
 * and device group (rank order). A non-zero return stops the walk and is returned. */
typedef int (*urbac_impact_cb)(void *ctx, const urbac_impact_row *row);
URBAC_EXTERN int urbac_impact_rows(const urbac_impact *im, urbac_impact_cb cb, void *ctx);
URBAC_EXTERN size_t urbac_impact_count(const urbac_impact *im);
URBAC_EXTERN size_t urbac_impact_workload(const urbac_impact *im);
/* The snapshots before and after; owned by `im`, valid until urbac_impact_free(im). */
URBAC_EXTERN const urbac_snapshot *urbac_impact_before(const urbac_impact *im);
URBAC_EXTERN const urbac_snapshot *urbac_impact_after(const urbac_impact *im);
/* Why a row's levels are what they are, before and after: one line each, written
 * into `before` and `after` (NUL-terminated, truncated to `size`); `row` is not retained. */
URBAC_EXTERN urbac_err urbac_impact_explain(const urbac_impact *im, const urbac_impact_row *row, char *before,
                                            char *after, size_t size, urbac_diag *d);
/* "none", "read" or "manage"; a static string. */
URBAC_EXTERN const char *urbac_impact_level_name(uint8_t level);

#ifdef __cplusplus
}
#endif
#endif
