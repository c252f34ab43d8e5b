/*
 * urbac/graph.h - Microsoft Graph in and out: a tenant built (or updated) from
 * what Graph returns for roleManagement/defender, Entra ID users, groups, group
 * members and directory role assignments, and the Graph requests that create a
 * tenant's unified roles and assignments in Defender (docs/interop.md).
 */
#ifndef URBAC_GRAPH_H
#define URBAC_GRAPH_H

#include <stdbool.h>
#include <stddef.h>

#include "urbac/error.h"
#include "urbac/export.h"
#include "urbac/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One saved Graph response (or request document): `name` names it in the report
 * (its path), `data` holds `len` bytes of JSON. Neither is retained. */
typedef struct urbac_graph_file {
  const char *name;
  const char *data;
  size_t len;
} urbac_graph_file;

/* Every note is an error: the import fails with the first note's code. */
#define URBAC_GRAPH_STRICT 1u

typedef struct urbac_graph_report urbac_graph_report;

/*
 * Builds a tenant from `files` (any order; pages of one list as several files),
 * on `base` (NULL: a new tenant named `tenant`, every workload activated, since
 * Graph does not say which are, deciding with today's catalog: `catalog: current`). Users by
 * userPrincipalName, groups by object id, roles by displayName, each also matched by its externalId (the
 * object id) in `base`; what the files do not mention is kept as it is. Each file's kind comes from its
 * @odata.context and shape. What cannot be represented (an unknown action, a scope urbac does not model, a
 * member that is a device, a file of no known kind, ...) is left out and noted in the report with the file
 * and JSON path; with URBAC_GRAPH_STRICT the first such note fails the import instead. On success *out is the
 * new model (the caller frees it with urbac_model_free()) and *report what was read, noted and changed (the
 * caller frees it with urbac_graph_report_free()). All or nothing: on failure both are NULL, `d` says why.
 * `base` is not changed.
 */
URBAC_EXTERN urbac_err urbac_graph_import(const urbac_model *base, const char *tenant,
                                          const urbac_graph_file *files, size_t n, unsigned flags,
                                          urbac_model **out, urbac_graph_report **report, urbac_diag *d);
/* Frees `r`; accepts NULL. */
URBAC_EXTERN void urbac_graph_report_free(urbac_graph_report *r);
/* How many files the import read, and what file `i` was taken for ("users", "groups",
 * "groupMembers", "defenderRoleDefinitions", "defenderRoleAssignments",
 * "directoryRoleDefinitions", "directoryRoleAssignments", "urbacGraphExport", or
 * NULL when not recognised); strings are owned by `r`. */
URBAC_EXTERN size_t urbac_graph_report_files(const urbac_graph_report *r);
URBAC_EXTERN const char *urbac_graph_report_file(const urbac_graph_report *r, size_t i, const char **kind);
/* What was left out, one located note each (file, JSON path, message); owned by `r`. */
URBAC_EXTERN const urbac_diag *urbac_graph_report_notes(const urbac_graph_report *r);
/* The principals kept pending, one located note each: an assignment's object id
 * that is among no users or groups imported or in `base`, kept as `group:OID`,
 * which grants nothing until a group with that object id appears; owned by `r`.
 * (URBAC_GRAPH_STRICT refuses them instead, as notes.) */
URBAC_EXTERN const urbac_diag *urbac_graph_report_pending(const urbac_graph_report *r);

/* Objects created, updated and unchanged, per kind of tenant object. */
typedef struct urbac_graph_counts {
  size_t created, updated, unchanged;
} urbac_graph_counts;
/* The counts for `kind` ("user", "group" or "role"); zeros for any other. */
URBAC_EXTERN urbac_graph_counts urbac_graph_report_counts(const urbac_graph_report *r, const char *kind);
/* Whether the tenant made differs from `base` in any object. */
URBAC_EXTERN bool urbac_graph_report_changed(const urbac_graph_report *r);

/*
 * The Graph requests that create `m`'s unified roles and assignments in a
 * Defender tenant, as one JSON document (docs/interop.md, "Taking a change back
 * out"): {"tenant", "requests": [{"id", "method", "url", "body", "dependsOn"}],
 * "unresolved": [principals that have no object id]}. Principals are object ids
 * (a user's or group's externalId; a group's id when it has none). *out is
 * NUL-terminated, its length in *len (NULL allowed); the caller frees it with
 * urbac_free().
 */
URBAC_EXTERN urbac_err urbac_graph_export(const urbac_model *m, char **out, size_t *len, urbac_diag *d);

#ifdef __cplusplus
}
#endif
#endif
