/*
 * urbac/model.h - a tenant: people, devices, legacy role configuration, unified
 * roles and workload activation (../shared/spec/tenant-format.md).
 *
 * A urbac_model is created by loading a tenant file (urbac/io.h) or a store
 * (urbac/store.h) and no function of the API changes it afterwards: those that
 * make a different tenant (urbac_import(), urbac_activate(), urbac_deactivate(),
 * urbac_model_clone()) take a const model and return a new one. So any number of
 * threads may read it. Snapshots compiled from it (urbac/engine.h) borrow it: it
 * must outlive them, so free a model only after the snapshots compiled from it.
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

/* A deep copy of `m`; the caller frees *out with urbac_model_free(). `m` is unchanged. */
URBAC_EXTERN urbac_err urbac_model_clone(const urbac_model *m, urbac_model **out, urbac_diag *d);
/* Frees `m` and everything it owns; accepts NULL. */
URBAC_EXTERN void urbac_model_free(urbac_model *m);
/* The tenant id; owned by `m`, valid until urbac_model_free(m). */
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
/* How many slots of `kind` the model has (device groups include `ungrouped`): the
 * bound of the index urbac_model_id() and the other per-object calls take. A
 * loaded model has one slot per object; a model made by urbac_model_edit() keeps
 * the slot of each object the edit deleted (a hole: urbac_model_id() gives "")
 * so indices never move, and counts those holes too. To count objects, skip the
 * slots whose id is "". */
URBAC_EXTERN size_t urbac_model_count(const urbac_model *m, urbac_object_kind kind);
/* The id (users, groups, devices, device groups) or name (roles) of object `i`;
 * owned by `m`, valid until urbac_model_free(m); NULL when out of range, "" for
 * the slot of an object an edit deleted (indices never move: urbac_model_edit()). */
URBAC_EXTERN const char *urbac_model_id(const urbac_model *m, urbac_object_kind kind, size_t i);

/* The user (`kind` URBAC_OBJ_USER) or group (URBAC_OBJ_GROUP) that `name` (`len`
 * bytes) names, as every reference resolves it: by id, else by externalId (a GUID
 * in any case). Its index (for urbac_model_id()), or SIZE_MAX when none, or for
 * any other kind. *external_id, when not NULL, is set to its externalId as
 * written (owned by `m`, valid until urbac_model_free(m)) or NULL. */
URBAC_EXTERN size_t urbac_model_identity_find(const urbac_model *m, urbac_object_kind kind, const char *name,
                                              size_t len, const char **external_id);
/* Whether `s` (`len` bytes) is shaped as a GUID (8-4-4-4-12 hex digits), as an
 * Entra object id is: such a principal naming nothing yet is pending. */
URBAC_EXTERN bool urbac_guid_shaped(const char *s, size_t len);

/* The rank of device group `dg` (1 is matched first; 0 for `ungrouped` or a
 * deleted slot, or when out of range). */
URBAC_EXTERN size_t urbac_model_device_group_rank(const urbac_model *m, size_t dg);
/* Whether device `dev` matches the rules of device group `dg`, whatever its rank
 * (the engine's own matching: every rule, any value, ignoring case; a group
 * without rules matches nothing); false when either is out of range or deleted. */
URBAC_EXTERN bool urbac_model_device_matches(const urbac_model *m, size_t dg, size_t dev);

/* A read-only view of unified role `i` (false when out of range); strings are owned
 * by `m`, valid until urbac_model_free(m). */
typedef struct urbac_role_info {
  const char *name;
  const char *description; /* "" when none */
  size_t permissions;      /* entries, as written */
  size_t assignments;
  const char *imported_workload; /* "mde", ... or NULL when not imported */
  const char *imported_from;     /* the legacy role, or NULL */
} urbac_role_info;
URBAC_EXTERN bool urbac_model_role(const urbac_model *m, size_t i, urbac_role_info *out);
/* Permission entry `p` of role `r` in canonical form ("... \ Alerts (manage)", or
 * a wildcard as written) into `buf`; returns its length, 0 when out of range. */
URBAC_EXTERN size_t urbac_model_role_permission(const urbac_model *m, size_t r, size_t p, char *buf,
                                                size_t size);

typedef struct urbac_assignment_info {
  const char *name;
  size_t principals;
  bool all_sources;       /* dataSources: all */
  unsigned workloads;     /* bit per workload index */
  bool all_device_groups; /* deviceGroups: all */
  size_t device_groups;
} urbac_assignment_info;
URBAC_EXTERN bool urbac_model_assignment(const urbac_model *m, size_t r, size_t a,
                                         urbac_assignment_info *out);
/* Principal `i` of assignment `a` of role `r`: its id (owned by `m`, valid until
 * urbac_model_free(m); NULL when out of range), and whether it is a group. */
URBAC_EXTERN const char *urbac_model_assignment_principal(const urbac_model *m, size_t r, size_t a, size_t i,
                                                          bool *is_group);
URBAC_EXTERN const char *urbac_model_assignment_device_group(const urbac_model *m, size_t r, size_t a,
                                                             size_t i);

/* Each principal that names nothing yet: a user or `group:` id shaped as a GUID
 * (an Entra object id) that no user or group has as its id or externalId. It
 * grants nothing until such an object appears (docs/semantics.md "Identities from
 * Entra ID"). Calls cb(ctx, where, name, group) for each, `where` saying which
 * object names it ("assignment 'a' of role 'R'"); stops at the first non-zero
 * return, and returns it (0 when every one was seen). The strings are valid during
 * the call only. */
typedef int (*urbac_pending_cb)(void *ctx, const char *where, const char *name, bool group);
URBAC_EXTERN int urbac_model_pending(const urbac_model *m, urbac_pending_cb cb, void *ctx);

/* One object change: `kind` "workloads", "user", "group", "deviceGroup", "device",
 * "role", "legacy.mde.role", "legacy.mdo.roleGroup" or "legacy.mdi.role"; `id` its
 * id (a role's name, a legacy row's catalog name); `json` the object as a tenant
 * file's JSON form writes it, or NULL to delete it. */
typedef struct urbac_object_put {
  const char *kind, *id, *json;
} urbac_object_put;

/* The `json` of a put of object (`kind`, `id`) from `len` bytes of a request's
 * text (`text` not retained): one JSON object, strict JSON (a YAML flow mapping
 * is not one), whose id key (a role's or legacy row's "name", else "id") is
 * `id` where it is given. *out is the text as given when it has its id key, else
 * the text with `"KEY":"ID"` put first; the caller frees it with urbac_free().
 * Refused (*out NULL): URBAC_ESYNTAX, not JSON or its id key twice (`d` says at
 * which line and column of `name`); URBAC_ETYPE, not an object; URBAC_EVALUE,
 * another id; URBAC_EINVAL, an unknown kind. What the object holds is the loader's to
 * judge when it is put. */
URBAC_EXTERN urbac_err urbac_object_body(const char *kind, const char *id, const char *text, size_t len,
                                         const char *name, char **out, urbac_diag *d);

/* A new model: `base` with the `n` puts applied, at the cost of the change. The
 * new model shares every unchanged object, string and map page with `base`;
 * `base` is not changed and stays usable by other threads meanwhile; either may
 * be freed first. Indices of surviving objects do not move (a deleted one leaves
 * a hole: urbac_model_id() gives ""; an added one is appended). Each object is
 * parsed by the tenant-file loader, and what it names is checked against the
 * new model with the loader's codes (EDANGLING, ECYCLE, ERANK, EDUPLICATE, ...);
 * a delete of what something still names is EDANGLING; a delete of an absent
 * object changes nothing (a change feed may name an object made and deleted
 * since the base). Puts apply in order: a delete then a put of the same id
 * appends the object anew, as a store gives a re-created object a new place.
 * All or nothing: on error *out is NULL, `d` says why and the code
 * returned is the first problem's (with `d` NULL, a shape error of the object
 * gives the loader's EINVAL). The caller
 * frees *out with urbac_model_free(); `puts` is not retained. */
URBAC_EXTERN urbac_err urbac_model_edit(const urbac_model *base, const urbac_object_put *puts, size_t n,
                                        urbac_model **out, urbac_diag *d);

/* Objects parsed already, kept for one later edit each: a store's write keeps
 * what it parsed (urbac_store_keep_parsed()), and the server that wrote it
 * edits its model with them (urbac_model_edit_parsed()) instead of parsing the
 * change feed's bodies again. A kept object is used only for a put of the same
 * tenant, kind and id whose body is byte for byte the one it was parsed as, and
 * then given up (an edit takes it: no two models share it); any other put is
 * parsed as urbac_model_edit() parses it. At most URBAC_PARSED_MAX are kept
 * (later ones are not). Not thread-safe: one user at a time. */
#define URBAC_PARSED_MAX 4096
typedef struct urbac_parsed urbac_parsed;
/* A new, empty keeper (NULL: out of memory); freed with urbac_parsed_free(). */
URBAC_EXTERN urbac_parsed *urbac_parsed_new(void);
/* Drops every object kept. */
URBAC_EXTERN void urbac_parsed_clear(urbac_parsed *p);
URBAC_EXTERN void urbac_parsed_free(urbac_parsed *p);
/* urbac_model_edit(), taking from `parsed` (may be NULL) the puts it keeps. */
URBAC_EXTERN urbac_err urbac_model_edit_parsed(const urbac_model *base, const urbac_object_put *puts,
                                               size_t n, urbac_parsed *parsed, urbac_model **out,
                                               urbac_diag *d);

#ifdef __cplusplus
}
#endif
#endif
