/*
 * server/scim_filter.h - SCIM 2.0 filters (RFC 7644 3.4.2.2) and PATCH
 * operations (RFC 7644 3.5.2) over jansson resources: a pure module, with no
 * server, store or model in it, so that the fuzz driver and the unit tests
 * drive it alone and the endpoint (scim.c) only maps resources.
 *
 * Depends on: jansson.
 */
#ifndef URBAC_SCIM_FILTER_H
#define URBAC_SCIM_FILTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define SCIM_FILTER_MAX_LEN 4096   /* bytes of one filter or path */
#define SCIM_FILTER_MAX_DEPTH 16   /* nested parentheses, not, value filters */
#define SCIM_FILTER_MAX_NODES 256  /* comparisons and operators in one filter */
#define SCIM_PATCH_MAX_OPS 10000   /* Operations in one PATCH body */
#define SCIM_PATCH_MAX_VALUES 5000 /* values one operation adds or removes */

/* A parse or PATCH failure: the HTTP status, SCIM's scimType and a detail that
 * names where ("column 12: ...", "Operations[3].path: ..."). */
typedef struct scim_error {
  unsigned status;
  const char *scim_type; /* "invalidFilter", "invalidPath", "invalidValue", "noTarget", "mutability", ... */
  char detail[384];
} scim_error;

typedef struct scim_filter scim_filter;

/* Parses `text` (NUL-terminated); the caller frees *out with scim_filter_free().
 * false with `e` filled (400 invalidFilter, the column where it breaks). */
bool scim_filter_parse(const char *text, scim_filter **out, scim_error *e);
void scim_filter_free(scim_filter *f);
/* Does `resource` (a SCIM resource as JSON) match? Attribute names are compared
 * without case, and values without case except those of `id`, `externalId` and
 * members' `value`. */
bool scim_filter_match(const scim_filter *f, json_t *resource);
/* When the filter is `ATTR eq "VALUE"`, alone or as one side of a top-level
 * `and`, with ATTR one of the simple attributes `attr` (no sub-attribute, no
 * value filter; compared without case): that VALUE (owned by `f`), else NULL.
 * The endpoint answers such a filter from an index, then matches the rest. */
const char *scim_filter_eq(const scim_filter *f, const char *attr);

/* Applies a PATCH body (RFC 7644 3.5.2: {"schemas":[PatchOp], "Operations":
 * [{op, path, value}]}) to `resource`, which it changes in place: the caller
 * passes a copy and keeps it only on success. `op` is taken in any case; an
 * operation without a path takes an object whose keys are paths (or extension
 * schemas, merged). false with `e` filled. */
bool scim_patch_apply(json_t *resource, json_t *body, scim_error *e);

/* Is `s` an RFC 4122-shaped id (8-4-4-4-12 hex digits)? */
bool scim_is_guid(const char *s);

#endif
