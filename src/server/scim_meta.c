/*
 * server/scim_meta.c - the SCIM endpoint's discovery documents (RFC 7643
 * sections 5 to 7): /ServiceProviderConfig (what urbac supports: PATCH and
 * filters; not bulk, sorting, etags or password changes), /ResourceTypes (User
 * with the enterprise extension, Group) and /Schemas (the attributes urbac
 * keeps, from one table).
 *
 * Depends on: jansson, scim.h.
 */
#include <string.h>

#include "server/scim.h"

#define SPC "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
#define RT "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
#define SCHEMA "urn:ietf:params:scim:schemas:core:2.0:Schema"

json_t *scim_meta_service_provider_config(void)
{
  return json_pack(
      "{s:[s], s:{s:b}, s:{s:b, s:i, s:i}, s:{s:b, s:i}, s:{s:b}, s:{s:b}, s:{s:b}, s:[{s:s, s:s, s:s, "
      "s:b}], s:{s:s, s:s}}",
      "schemas", SPC, "patch", "supported", 1, "bulk", "supported", 0, "maxOperations", 0, "maxPayloadSize",
      0, "filter", "supported", 1, "maxResults", 1000, "changePassword", "supported", 0, "sort", "supported",
      0, "etag", "supported", 0, "authenticationSchemes", "type", "oauthbearertoken", "name",
      "OAuth Bearer Token", "description",
      "A provisioning key (urbac key create --key-scope provisioning), or a token from a configured OIDC "
      "issuer",
      "primary", 1, "meta", "resourceType", "ServiceProviderConfig", "location", "/ServiceProviderConfig");
}

static json_t *resource_type(const char *name, const char *endpoint, const char *schema, bool enterprise)
{
  json_t *rt = json_pack("{s:[s], s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}}", "schemas", RT, "id", name, "name",
                         name, "endpoint", endpoint, "description", name, "schema", schema, "meta",
                         "resourceType", "ResourceType", "location", name);
  if (rt && enterprise)
    json_object_set_new(rt, "schemaExtensions",
                        json_pack("[{s:s, s:b}]", "schema", SCIM_ENTERPRISE, "required", 0));
  return rt;
}

/* One attribute of a schema table: name, type ('s'tring, 'b'oolean, 'c'omplex,
 * 'r'eference), multi-valued, required, case-exact, mutability, uniqueness, and
 * the sub-attributes of a complex one (names, as strings). */
typedef struct attr_row {
  const char *name;
  char type;
  bool multi, required, exact;
  const char *mutability, *uniqueness;
  const char *subs; /* space-separated: string sub-attributes; NULL: none */
} attr_row;

static const attr_row user_attrs[] = {
    {"userName", 's', false, true, false, "readWrite", "server", NULL},
    {"externalId", 's', false, false, true, "readWrite", "server", NULL},
    {"displayName", 's', false, false, false, "readWrite", "none", NULL},
    {"active", 'b', false, false, false, "readWrite", "none", NULL},
    {"name", 'c', false, false, false, "readWrite", "none", "formatted familyName givenName middleName"},
    {"nickName", 's', false, false, false, "readWrite", "none", NULL},
    {"title", 's', false, false, false, "readWrite", "none", NULL},
    {"preferredLanguage", 's', false, false, false, "readWrite", "none", NULL},
    {"emails", 'c', true, false, false, "readWrite", "none", "value type primary"},
    {"phoneNumbers", 'c', true, false, false, "readWrite", "none", "value type primary"},
    {"addresses", 'c', true, false, false, "readWrite", "none",
     "formatted streetAddress locality region postalCode country type primary"},
    {"roles", 'c', true, false, false, "readWrite", "none", "value display type primary"},
};
static const attr_row group_attrs[] = {
    {"displayName", 's', false, true, false, "readWrite", "server", NULL},
    {"externalId", 's', false, false, true, "readWrite", "server", NULL},
    {"members", 'c', true, false, false, "readWrite", "none", "value display type $ref"},
};
static const attr_row enterprise_attrs[] = {
    {"employeeNumber", 's', false, false, false, "readWrite", "none", NULL},
    {"costCenter", 's', false, false, false, "readWrite", "none", NULL},
    {"organization", 's', false, false, false, "readWrite", "none", NULL},
    {"division", 's', false, false, false, "readWrite", "none", NULL},
    {"department", 's', false, false, false, "readWrite", "none", NULL},
    {"manager", 'c', false, false, false, "readWrite", "none", "value displayName $ref"},
};

static json_t *attr_json(const char *name, char type, bool multi, bool required, bool exact,
                         const char *mutability, const char *uniqueness)
{
  const char *types = type == 'b'   ? "boolean"
                      : type == 'c' ? "complex"
                      : type == 'r' ? "reference"
                                    : "string";
  return json_pack("{s:s, s:s, s:b, s:s, s:b, s:b, s:s, s:s, s:s}", "name", name, "type", types,
                   "multiValued", multi, "description", name, "required", required, "caseExact", exact,
                   "mutability", mutability, "returned", "default", "uniqueness", uniqueness);
}

static json_t *schema(const char *id, const char *name, const attr_row *rows, size_t n)
{
  json_t *attrs = json_array();
  for (size_t i = 0; i < n; i++) {
    const attr_row *a = &rows[i];
    json_t *j = attr_json(a->name, a->type, a->multi, a->required, a->exact, a->mutability, a->uniqueness);
    if (a->subs) {
      json_t *subs = json_array();
      for (const char *p = a->subs; *p;) {
        size_t len = strcspn(p, " ");
        char sub[32];
        snprintf(sub, sizeof sub, "%.*s", (int)len, p);
        json_array_append_new(subs, attr_json(sub,
                                              strcmp(sub, "primary") == 0 ? 'b'
                                              : sub[0] == '$'             ? 'r'
                                                                          : 's',
                                              false, false,
                                              strcmp(sub, "value") == 0 && strcmp(a->name, "members") == 0,
                                              "readWrite", "none"));
        p += len + (p[len] == ' ');
      }
      json_object_set_new(j, "subAttributes", subs);
    }
    json_array_append_new(attrs, j);
  }
  char location[160];
  snprintf(location, sizeof location, "/Schemas/%s", id);
  return json_pack("{s:[s], s:s, s:s, s:s, s:o, s:{s:s, s:s}}", "schemas", SCHEMA, "id", id, "name", name,
                   "description", name, "attributes", attrs, "meta", "resourceType", "Schema", "location",
                   location);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Every document of `all` (stolen), or the one whose id is `only` (NULL when none). */
static json_t *pick(json_t *all, const char *only)
{
  json_t *v, *found = NULL;
  size_t i;
  if (!only)
    return all;
  json_array_foreach(all, i, v) if (!found && strcmp(json_string_value(json_object_get(v, "id")), only) == 0)
      found = json_incref(v);
  json_decref(all);
  return found;
}

json_t *scim_meta_resource_types(const char *only)
{
  json_t *all = json_pack("[o,o]", resource_type("User", "/Users", SCIM_CORE_USER, true),
                          resource_type("Group", "/Groups", SCIM_CORE_GROUP, false));
  return pick(all, only);
}

json_t *scim_meta_schemas(const char *only)
{
  json_t *all = json_pack("[o,o,o]", schema(SCIM_CORE_USER, "User", user_attrs, N(user_attrs)),
                          schema(SCIM_CORE_GROUP, "Group", group_attrs, N(group_attrs)),
                          schema(SCIM_ENTERPRISE, "EnterpriseUser", enterprise_attrs, N(enterprise_attrs)));
  return pick(all, only);
}
