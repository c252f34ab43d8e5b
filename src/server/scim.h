/*
 * server/scim.h - what the SCIM endpoint's files share (scim.c, scim_index.c,
 * scim_meta.c): the per-tenant index and the fixed discovery documents.
 *
 * Depends on: server.h, scim_filter.h.
 */
#ifndef URBAC_SERVER_SCIM_H
#define URBAC_SERVER_SCIM_H

#include "server/scim_filter.h"
#include "server/server.h"

#define SCIM_CORE_USER "urn:ietf:params:scim:schemas:core:2.0:User"
#define SCIM_CORE_GROUP "urn:ietf:params:scim:schemas:core:2.0:Group"
#define SCIM_ENTERPRISE "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
#define SCIM_LIST_RESPONSE "urn:ietf:params:scim:api:messages:2.0:ListResponse"
#define SCIM_ERROR "urn:ietf:params:scim:api:messages:2.0:Error"

/*
 * The tenant's SCIM lookups (scim_index.c), which the store's object rows cannot
 * answer by key: a user by its SCIM id, its userName in any case or its
 * externalId; a group by its displayName in any case or its externalId. Made
 * from the store's users and groups the first time (one pass), then kept at the
 * cost of the change from the store's change feed (urbac_store_changes), so
 * writes by anyone (the admin API, `urbac apply`, another server) are seen.
 * Used on the tenant's writer thread only, with the write lock held.
 */
typedef struct scim_index scim_index;
/* Brings t->scim up to the store's revision; call with t->write_lock held. */
urbac_err scim_index_sync(srv_tenant *t, urbac_diag *d);
void scim_index_free(scim_index *x);
/* Tells t->scim of a put of (kind, id) as `obj` (borrowed) that the store made
 * `revision` (the index's own revision: a put that changed nothing). Applied at
 * once when it is the store's next revision after the index's, without reading
 * the change feed back: true; else false, and scim_index_sync() reads the feed.
 * Call with t->write_lock held, right after the put. */
bool scim_index_wrote(srv_tenant *t, const char *kind, const char *id, json_t *obj, uint64_t revision);
/* Lookups: the user's (group's) id, or NULL; strings owned by the index. */
const char *scim_index_user(const scim_index *x, const char *scim_id);
const char *scim_index_user_name(const scim_index *x, const char *user_name); /* any case */
const char *scim_index_user_ext(const scim_index *x, const char *external_id);
/* The SCIM id of user `id` (its own id when SCIM did not make it); NULL: no such user. */
const char *scim_index_scim_id(const scim_index *x, const char *id);
bool scim_index_group(const scim_index *x, const char *id);
const char *scim_index_group_ext(const scim_index *x, const char *external_id);
/* The ids of the groups named `name` (any case): a borrowed JSON array, or NULL. */
json_t *scim_index_group_name(const scim_index *x, const char *name);
size_t scim_index_count(const scim_index *x, bool groups);

/* The discovery documents (scim_meta.c): a new reference, or NULL when there is none. */
json_t *scim_meta_service_provider_config(void);
json_t *scim_meta_resource_types(const char *only);
json_t *scim_meta_schemas(const char *only);

#endif
