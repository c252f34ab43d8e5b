/*
 * model/model.h - the tenant model's structures, shared by the loader (io/), the
 * validator (model/validate.c) and the compiler (engine/).
 *
 * Everything is kept as written (ids, order, source locations) so that errors can
 * say where, explain can name what, and a save writes back what was read. After
 * urbac__model_validate() succeeds every reference holds the index it points to.
 *
 * Depends on: util, catalog.
 */
#ifndef URBAC_MODEL_INTERNAL_H
#define URBAC_MODEL_INTERNAL_H

#include "catalog/catalog.h"
#include "model/persist.h"
#include "urbac/model.h"
#include "util/util.h"

/* Every object of a model is allocated on its own and reference counted: models
 * made by urbac_model_edit() share the objects they did not change. An object is
 * written only while one model holds it (loading, validating, importing). */
typedef enum urbac__obj_kind {
  URBAC__OBJ_USER,
  URBAC__OBJ_GROUP,
  URBAC__OBJ_DG,
  URBAC__OBJ_DEVICE,
  URBAC__OBJ_ROLE,
  URBAC__OBJ_MDE_ROLE,
  URBAC__OBJ_LEGACY_MEMBERS,
  URBAC__NOBJ
} urbac__obj_kind;

typedef struct urbac__obj {
  uint32_t refs;
  uint8_t kind;
} urbac__obj;

typedef struct urbac__loc {
  uint32_t line, col;
} urbac__loc;

typedef enum urbac__ref_kind { URBAC__REF_USER, URBAC__REF_GROUP, URBAC__REF_DG } urbac__ref_kind;

/* A reference to a user, group or device group, as written. */
typedef struct urbac__ref {
  char *name;
  urbac__loc loc;
  uint8_t kind;
  uint32_t idx; /* set by validation */
} urbac__ref;

typedef struct urbac__refs {
  urbac__ref *v;
  size_t n, cap;
} urbac__refs;

typedef struct urbac__strs {
  char **v;
  size_t n, cap;
} urbac__strs;

/* What an identity provider (SCIM) keeps on a user or a group (tenant-format.md
 * "externalId, managedBy, scim"): never used by decisions but through `xkey`. */
typedef struct urbac__ident {
  char *xid;    /* externalId as written, or NULL */
  char *xkey;   /* its lookup key: lower case when GUID-shaped; NULL with xid */
  char *scim;   /* the SCIM attributes as one canonical JSON text, or NULL */
  bool managed; /* managedBy: scim */
} urbac__ident;

#define URBAC__MAX_XID_BYTES 256u    /* an externalId */
#define URBAC__MAX_SCIM_BYTES 16384u /* a scim mapping, as compact JSON */
#define URBAC__PENDING UINT32_MAX    /* a reference's idx while what it names does not exist */

typedef struct urbac__user {
  urbac__obj o; /* first: the arrays reach the count through it */
  char *id, *name;
  urbac__ident ident;
  bool enabled;
  uint32_t dirroles; /* bit per directory role (catalog order) */
  urbac__loc loc;
} urbac__user;

typedef struct urbac__group {
  urbac__obj o; /* first: the arrays reach the count through it */
  char *id, *name;
  urbac__ident ident;
  urbac__refs members;
  uint32_t dirroles;
  urbac__loc loc;
} urbac__group;

enum { URBAC__PROP_NAME, URBAC__PROP_DOMAIN, URBAC__PROP_TAGS, URBAC__PROP_OS, URBAC__NPROPS };
enum { URBAC__OP_EQUALS, URBAC__OP_STARTS, URBAC__OP_ENDS, URBAC__OP_CONTAINS, URBAC__NOPS };
extern const char *const urbac__prop_names[URBAC__NPROPS];
extern const char *const urbac__op_names[URBAC__NOPS];
enum { URBAC__REMEDIATION_NONE, URBAC__REMEDIATION_SEMI, URBAC__REMEDIATION_FULL };
extern const char *const urbac__remediation_names[3];

/* The values one property must match, per operator (any value of any operator). */
typedef struct urbac__rule {
  bool present;
  urbac__strs values[URBAC__NOPS];
} urbac__rule;

#define URBAC__UNGROUPED_ID "ungrouped"
#define URBAC__UNGROUPED_NAME "Ungrouped devices (default)"

typedef struct urbac__devgroup {
  urbac__obj o; /* first: the arrays reach the count through it */
  char *id, *name;
  uint32_t rank; /* 0 for ungrouped (always last) */
  uint8_t remediation;
  bool has_remediation;
  bool ungrouped;
  bool listed; /* written in the file (ungrouped may be implicit) */
  urbac__rule rules[URBAC__NPROPS];
  urbac__refs access; /* userAccess: groups */
  urbac__loc loc;
} urbac__devgroup;

typedef struct urbac__device {
  urbac__obj o; /* first: the arrays reach the count through it */
  char *id, *name, *domain, *os;
  urbac__strs tags;
  urbac__loc loc;
} urbac__device;

/* One entry of a role's permission list: a grant or a Graph wildcard. */
typedef struct urbac__perm_entry {
  urbac_grant grant; /* level URBAC_LEVEL_ALL for "every level" */
  char *wildcard;    /* non-NULL for a wildcard; then `grant` is unused */
  urbac__loc loc;
} urbac__perm_entry;

typedef struct urbac__assignment {
  char *name;
  urbac__refs principals;
  bool all_sources;
  uint32_t workloads; /* bit per workload; every bit when all_sources */
  bool all_dgs;
  urbac__refs dgs;
  urbac__loc loc;
} urbac__assignment;

#define URBAC__NOT_IMPORTED 0xffu

typedef struct urbac__role {
  urbac__obj o; /* first: the arrays reach the count through it */
  char *name, *description;
  uint8_t imported_wl; /* the workload it was imported from, or URBAC__NOT_IMPORTED */
  char *imported_name; /* the legacy role it was imported from (canonical name) */
  urbac__perm_entry *perms;
  size_t nperms, cap_perms;
  urbac__gmask grants; /* everything the entries grant, implied levels included */
  urbac__assignment *asg;
  size_t nasg, cap_asg;
  urbac__loc loc;
} urbac__role;

typedef struct urbac__mde_role {
  urbac__obj o; /* first: the arrays reach the count through it */
  char *name, *description;
  uint32_t perms; /* bit per legacy MDE permission (catalog order) */
  urbac__refs groups;
  urbac__loc loc;
} urbac__mde_role;

/* An EOP role group or an MDI role: a catalog row and its members. */
typedef struct urbac__legacy_members {
  urbac__obj o;   /* first: the arrays reach the count through it */
  uint32_t which; /* catalog index */
  uint8_t kind;   /* URBAC_LEGACY_EOP_ROLE_GROUP or URBAC_LEGACY_MDI_ROLE */
  urbac__refs members;
  urbac__loc loc;
} urbac__legacy_members;

/* Sets every workload to its default mode: legacy where it has a legacy model,
 * unified where it has none (it is always unified). */
void urbac__model_modes_reset(urbac_model *m);
/* The mode workload `w` decides in: unified for a workload without a legacy model,
 * whatever m->modes says. */
static inline urbac_mode urbac__mode(const urbac_model *m, size_t w);

struct urbac_model {
  char *tenant;
  char *source;                     /* file name for messages */
  uint8_t modes[URBAC__NWORKLOADS]; /* a workload without a legacy model is always unified */
  bool mode_listed[URBAC__NWORKLOADS];
  uint8_t edition; /* urbac__edition: `catalog: current` in the tenant file */
  /* Object pointers (urbac__cow_objs); NULL where an edit deleted one: indices of
   * objects never move, so references and snapshots keep them. */
  urbac__cow users, groups, dgs, devices, roles, mde_roles, eop, mdi;
  /* Built by validation. */
  urbac__smap user_map, group_map, dg_map, device_map;
  urbac__smap user_xmap, group_xmap; /* by externalId's key (urbac__ident.xkey) */
  /* The objects holding a pending reference (one naming a GUID nothing has yet):
   * few, so an edit copies the list and scans it when a user or group appears. */
  struct urbac__pend *pend;
  size_t npend, cap_pend;
  uint32_t ungrouped; /* index of the ungrouped device group */
  /* Per user, group and device group (by urbac__ref_kind): how many references
   * name it. Built by validation, kept by edits: a delete is refused while > 0. */
  urbac__cow refs_in[3];
  /* What urbac_model_edit() changed, for urbac_snapshot_update(). */
  uint64_t serial;      /* unique to this model in the process */
  uint64_t base_serial; /* the model it was edited from; 0 when none */
  bool modes_changed;
  struct urbac__change *changes;
  size_t nchanges, cap_changes;
};

/* Which model array an object holding references lives in. */
typedef enum urbac__ref_arr {
  URBAC__ARR_GROUPS,
  URBAC__ARR_DGS,
  URBAC__ARR_ROLES,
  URBAC__ARR_MDE,
  URBAC__ARR_EOP,
  URBAC__ARR_MDI,
  URBAC__NARR
} urbac__ref_arr;

typedef struct urbac__pend {
  uint32_t idx;
  uint8_t arr; /* urbac__ref_arr */
} urbac__pend;

/* One object replaced, added (before NULL) or deleted (after NULL) by an edit;
 * each holds a reference. */
typedef struct urbac__change {
  urbac__obj *before, *after;
  uint32_t idx;
  uint8_t kind; /* urbac__obj_kind */
} urbac__change;

extern const urbac__cow_type urbac__cow_objs;

/* The object at index i (< the array's n) of a model array; NULL for a hole. */
#define URBAC__AT(arr, i) (*(void *const *)urbac__cow_at(&(arr), (i)))
static inline urbac__user *urbac__user_at(const urbac_model *m, size_t i) { return URBAC__AT(m->users, i); }
static inline urbac__group *urbac__group_at(const urbac_model *m, size_t i)
{
  return URBAC__AT(m->groups, i);
}
static inline urbac__devgroup *urbac__dg_at(const urbac_model *m, size_t i) { return URBAC__AT(m->dgs, i); }
static inline urbac__device *urbac__device_at(const urbac_model *m, size_t i)
{
  return URBAC__AT(m->devices, i);
}
static inline urbac__role *urbac__role_at(const urbac_model *m, size_t i) { return URBAC__AT(m->roles, i); }
static inline urbac__mde_role *urbac__mde_at(const urbac_model *m, size_t i)
{
  return URBAC__AT(m->mde_roles, i);
}
static inline urbac__legacy_members *urbac__eop_at(const urbac_model *m, size_t i)
{
  return URBAC__AT(m->eop, i);
}
static inline urbac__legacy_members *urbac__mdi_at(const urbac_model *m, size_t i)
{
  return URBAC__AT(m->mdi, i);
}

size_t urbac__obj_size(urbac__obj_kind kind);
/* A new object of `kind` (all zero but its count, 1), or NULL. */
void *urbac__obj_new(urbac__obj_kind kind);
/* Drops one reference; the last frees the object and what it owns. Accepts NULL. */
void urbac__obj_release(void *obj);
/* Appends `obj` to a model array, which takes over the caller's reference (also on
 * failure: the object is released then). */
urbac_err urbac__model_push(urbac__cow *arr, void *obj);

urbac_model *urbac__model_new(void);
/* Checks everything a file cannot show by its shape: duplicate ids, dangling
 * references, group cycles, ranks; resolves every reference and builds the maps.
 * Adds each problem to `d`; returns URBAC_OK only when there were none. */
urbac_err urbac__model_validate(urbac_model *m, urbac_diag *d);

/* The array of `m` that objects holding references live in (urbac__ref_arr). */
urbac__cow *urbac__ref_array(urbac_model *m, urbac__ref_arr a);
/* Does object `o` hold a reference that names nothing yet (URBAC__PENDING)? */
bool urbac__obj_has_pending(urbac__obj *o);
/* Rebuilds m->pend from every object holding references. */
urbac_err urbac__model_index_pending(urbac_model *m);
/* A deep copy of object `o` (count 1), or NULL when out of memory (model/clone.c). */
urbac__obj *urbac__obj_dup(const urbac__obj *o);

/* Calls f with each reference list of object `o` and where it is, for messages. */
void urbac__obj_visit_refs(urbac__obj *o, void (*f)(void *ctx, urbac__refs *r, const char *what), void *ctx);
/* Resolves the references of one object against `m`'s maps (and checks a role's
 * assignment names are unique), with validation's messages. `was`, when not
 * NULL, is the object `o` replaces, resolved against the model `m` was edited
 * from; bit k of `stable` says the edit changed no entry of the maps of
 * reference kind k (urbac__ref_kind): a reference of such a kind with the same
 * name in the same place of `was` takes its target from there. Borrows `was`. */
urbac_err urbac__obj_resolve(urbac_model *m, urbac__obj *o, urbac__obj *was, unsigned stable, urbac_diag *d);
/* Device-group ranks unique, with validation's messages. */
urbac_err urbac__model_check_ranks(urbac_model *m, urbac_diag *d);
/* Applies the edit's changes (m->changes, their objects resolved) to refs_in:
 * what each `before` named leaves, what each `after` names arrives, each count
 * written once with its net change (none when the two name the same). */
urbac_err urbac__model_count_changes(urbac_model *m);
/* Counts every reference of `m` into refs_in from scratch. */
urbac_err urbac__model_count_refs(urbac_model *m);

urbac_err urbac__refs_add(urbac__refs *r, const char *name, size_t len, urbac__ref_kind kind, urbac__loc loc);
urbac_err urbac__strs_add(urbac__strs *s, const char *v, size_t len);
void urbac__refs_free(urbac__refs *r);
/* Frees a role's permission entries and assignments (not its name), leaving it empty. */
void urbac__role_contents_free(urbac__role *r);
void urbac__strs_free(urbac__strs *s);

/* Is `s` (`len` bytes) shaped as a GUID, 8-4-4-4-12 hex digits? */
bool urbac__is_guid(const char *s, size_t len);
/* The lookup key of externalId `xid`: a copy, in lower case when GUID-shaped; the
 * caller frees it with urbac__free(). NULL when out of memory. */
char *urbac__xid_key(const char *xid);
/* Frees what `id` owns, leaving it empty. */
void urbac__ident_free(urbac__ident *id);
/* The user or group named `name` (`len` bytes): by id, else by externalId (its key
 * folded as urbac__xid_key() does); true and *idx when found. */
bool urbac__user_find(const urbac_model *m, const char *name, size_t len, uint32_t *idx);
bool urbac__group_find(const urbac_model *m, const char *name, size_t len, uint32_t *idx);

/* Does device `dev` satisfy every rule of `dg`? (A group with no rules matches none.) */
bool urbac__dg_matches(const urbac__devgroup *dg, const urbac__device *dev);

static inline urbac_mode urbac__mode(const urbac_model *m, size_t w)
{
  return w < URBAC__NWORKLOADS && urbac_catalog_workload_has_legacy(w) ? (urbac_mode)m->modes[w]
         : w < URBAC__NWORKLOADS                                       ? URBAC_MODE_UNIFIED
                                                                       : URBAC_MODE_LEGACY;
}

#endif
