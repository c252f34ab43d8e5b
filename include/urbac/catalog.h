/*
 * urbac/catalog.h - the Microsoft 365 Defender permission catalog, its workloads,
 * the legacy roles and permissions, and name resolution.
 *
 * The catalog is constant data compiled into the library (src/catalog/defender.def);
 * nothing here allocates but a reason added to a caller's diag, and every
 * returned string is static (valid for the life of the program).
 */
#ifndef URBAC_CATALOG_H
#define URBAC_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "urbac/error.h"
#include "urbac/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum urbac_level {
  URBAC_LEVEL_NONE = 0,
  URBAC_LEVEL_READ = 1,
  URBAC_LEVEL_MANAGE = 2,
  URBAC_LEVEL_ALL = 3 /* "All permissions": every level the permission supports */
} urbac_level;

/* One permission of the unified catalog. */
typedef struct urbac_perm_info {
  const char *name;    /* canonical display name: "Security operations \ Security data \ Alerts" */
  const char *id;      /* Graph resource-action stem: "microsoft.xdr/secops/securitydata/alerts" */
  unsigned levels;     /* URBAC_LEVEL_READ and/or URBAC_LEVEL_MANAGE */
  const char *applies; /* the data sources Microsoft says it applies to: "all", "mde", "mdo", or a
                        * sentence; informative (assignments decide) */
} urbac_perm_info;

/* A grant: one permission at one level. */
typedef struct urbac_grant {
  uint16_t perm; /* index into the catalog */
  uint8_t level; /* URBAC_LEVEL_READ or URBAC_LEVEL_MANAGE (or ALL in role definitions) */
} urbac_grant;

URBAC_EXTERN size_t urbac_catalog_perm_count(void);
/* Permission `i` (< count), static, or NULL. */
URBAC_EXTERN const urbac_perm_info *urbac_catalog_perm(size_t i);

URBAC_EXTERN size_t urbac_catalog_workload_count(void);
/* Workload `i`'s short id ("mde") and display name, static strings; NULL when out of range. */
URBAC_EXTERN const char *urbac_catalog_workload_id(size_t i);
URBAC_EXTERN const char *urbac_catalog_workload_name(size_t i);
/* Workload `i`'s Graph appScopeId ("Mde", "SecureScoreExternal"), static; NULL when out of range. */
URBAC_EXTERN const char *urbac_catalog_workload_app(size_t i);
/* Whether workload `i` has a legacy model (mde, mdo, mdi). One without is always in
 * unified mode: it cannot be imported, activated or deactivated. */
URBAC_EXTERN bool urbac_catalog_workload_has_legacy(size_t i);
/* Writes the short ids of every workload ("mde, mdo, ... or exposure"), or of those
 * with a legacy model only ("mde, mdo or mdi"), into `buf` (always NUL-terminated,
 * cut to `size`); returns the length written. */
URBAC_EXTERN size_t urbac_catalog_workload_list(char *buf, size_t size, bool legacy_only);
/* The index of workload `id` (its short id or its Graph appScopeId, case-insensitive), or -1. */
URBAC_EXTERN int urbac_catalog_workload_find(const char *id);
/* The `k`th other Graph resource-action stem permission `perm` is accepted by (urbac's
 * ids from before Microsoft's spelling was known: "microsoft.xdr/secposture/..."),
 * static; NULL past the last. */
URBAC_EXTERN const char *urbac_catalog_perm_alias_id(size_t perm, size_t k);

/* The legacy catalogs and the directory roles. */
typedef enum urbac_legacy_kind {
  URBAC_LEGACY_MDE_PERMISSION = 0, /* Defender for Endpoint permissions */
  URBAC_LEGACY_EOP_ROLE_GROUP = 1, /* Defender for Office (EOP) role groups */
  URBAC_LEGACY_MDI_ROLE = 2,       /* Defender for Identity roles */
  URBAC_LEGACY_DIRECTORY_ROLE = 3  /* Entra ID (Azure AD) directory roles */
} urbac_legacy_kind;

typedef struct urbac_legacy_info {
  const char *id;         /* stable id ("quarantine", "mdi-viewer", a role template id) */
  const char *name;       /* display name as the seed writes it */
  const char *seed_table; /* the seed 003 table the row comes from */
} urbac_legacy_info;

URBAC_EXTERN size_t urbac_catalog_legacy_count(urbac_legacy_kind kind);
/* Legacy item `i` of `kind`, static; NULL when out of range. */
URBAC_EXTERN const urbac_legacy_info *urbac_catalog_legacy(urbac_legacy_kind kind, size_t i);
/* The grants legacy item `i` gives on workload `workload` (for directory roles,
 * the default grants of the seed's table; for the others, the mapping), written
 * as canonical grant names into `out` (up to `max`). Returns how many there are. */
URBAC_EXTERN size_t urbac_catalog_legacy_grants(urbac_legacy_kind kind, size_t i, size_t workload,
                                                urbac_grant *out, size_t max);

/*
 * Resolves `text` (a display name in any of the seed's spellings, or an id; with
 * the level inside the name, "(manage)", "(All permissions)", or as ":read",
 * ":manage", "/read", "/manage" on an id) to a grant. A missing level is
 * URBAC_LEVEL_NONE. On failure returns URBAC_EUNKNOWNPERM or URBAC_ELEVEL, with a
 * one-line reason (naming the closest known names) in `d`. `text` is not retained.
 */
URBAC_EXTERN urbac_err urbac_catalog_resolve(const char *text, size_t len, urbac_grant *out, urbac_diag *d);
/* Resolves a legacy item or directory role by name or id into *index (for
 * urbac_catalog_legacy()). When unknown returns URBAC_EUNKNOWNPERM (an MDE
 * permission) or URBAC_EUNKNOWNROLE, with the closest names in `d`; URBAC_EINVAL
 * for an unknown `kind`. `text` is not retained. */
URBAC_EXTERN urbac_err urbac_catalog_legacy_find(urbac_legacy_kind kind, const char *text, size_t len,
                                                 size_t *index, urbac_diag *d);
/* Writes the canonical text of a grant ("... \ Alerts (manage)") into `buf` (always
 * NUL-terminated, cut to `size`); returns the full length it wanted. */
URBAC_EXTERN size_t urbac_grant_format(urbac_grant g, char *buf, size_t size);
/* Writes the Graph resource action of a grant ("microsoft.xdr/.../alerts/manage"),
 * as urbac_grant_format() does. */
URBAC_EXTERN size_t urbac_grant_action(urbac_grant g, char *buf, size_t size);
/* "none", "read", "manage" or "All permissions"; a static string. */
URBAC_EXTERN const char *urbac_level_name(urbac_level level);

#ifdef __cplusplus
}
#endif
#endif
