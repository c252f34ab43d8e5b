/*
 * fuzz/fuzz_scim.c - libFuzzer driver for the SCIM endpoint's parsers
 * (src/server/scim_filter.c): an input that starts with '{' is a PATCH body,
 * applied to a copy of a user and of a group; anything else is a filter, parsed
 * and matched against them. Every input is accepted or refused with a SCIM
 * error (status 400 and a scimType); none may crash, leak or hang.
 *
 * Depends on: src/server/scim_filter.h, jansson.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/scim_filter.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const char *const resources[] = {
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"id\":\"u1\",\"externalId\":\"e1\","
    "\"userName\":\"alice@contoso.com\",\"active\":true,\"displayName\":\"Alice\",\"age\":3,"
    "\"emails\":[{\"type\":\"work\",\"value\":\"a@c.com\",\"primary\":true}],\"name\":{\"givenName\":\"A\"},"
    "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\":{\"department\":\"SOC\"}}",
    "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"id\":\"g1\",\"displayName\":\"SOC\","
    "\"members\":[{\"value\":\"u1\"},{\"value\":\"u2\",\"display\":\"Bob\"}]}",
};

static void refused(const scim_error *e)
{
  if (e->status != 400 || !e->scim_type || !e->scim_type[0] || !e->detail[0])
    abort(); /* every refusal is a SCIM error with a reason */
}

static void patch(const char *text, size_t size)
{
  json_t *body = json_loadb(text, size, 0, NULL);
  if (!body)
    return;
  for (size_t i = 0; i < sizeof resources / sizeof resources[0]; i++) {
    json_t *r = json_loads(resources[i], 0, NULL);
    scim_error e = {0};
    if (!scim_patch_apply(r, body, &e))
      refused(&e);
    else if (!json_is_object(r))
      abort();
    json_decref(r);
  }
  json_decref(body);
}

static void filter(const char *text)
{
  scim_filter *f = NULL;
  scim_error e = {0};
  if (!scim_filter_parse(text, &f, &e)) {
    refused(&e);
    return;
  }
  for (size_t i = 0; i < sizeof resources / sizeof resources[0]; i++) {
    json_t *r = json_loads(resources[i], 0, NULL);
    (void)scim_filter_match(f, r);
    json_decref(r);
  }
  scim_filter_eq(f, "userName");
  scim_filter_free(f);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
  char *text = malloc(size + 1);
  if (!text)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  if (size && text[0] == '{')
    patch(text, size);
  else if (strlen(text) == size) /* a filter is text: an inner NUL ends it */
    filter(text);
  free(text);
  return 0;
}
