/*
 * store/keys.c - API keys: created with a random secret that is shown once and
 * stored only as SHA-256(salt || secret), listed, revoked. A key is a row of
 * kind "apiKey" beside the tenant's objects (never part of the tenant file);
 * creating and revoking it is audited in the tenant's hash chain without
 * changing the tenant's revision. A key records the actor that created it, so
 * what the key later does can be traced to whoever minted it. The audit record
 * holds the row as stored (salt and hash too, so the audit check can replay it;
 * neither is a secret that opens anything), and urbac_store_audit() shows it
 * without them.
 *
 * Depends on: util, io/objects, store, OpenSSL (RAND_bytes, SHA-256), jansson.
 */
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>

#include "store/audit.h"

#define ID_BYTES 8
#define SECRET_BYTES 32
#define SALT_BYTES 16
#define TOKEN_PREFIX "urbac_"

static bool random_hex(size_t bytes, char *out)
{
  unsigned char b[SECRET_BYTES];
  if (bytes > sizeof b || RAND_bytes(b, (int)bytes) != 1)
    return false;
  urbac__audit_hex(b, bytes, out);
  return true;
}

static bool key_hash(const char *salt, const char *secret, size_t len, char out[URBAC__HASH_HEX])
{
  unsigned char md[EVP_MAX_MD_SIZE], in[2 * SALT_BYTES + 2 * SECRET_BYTES];
  unsigned int n = 0;
  size_t sl = strlen(salt);
  if (sl + len > sizeof in)
    return false;
  memcpy(in, salt, sl);
  memcpy(in + sl, secret, len);
  const EVP_MD *md256 = urbac__sha256(); /* on the path of every request an API key makes */
  bool ok = md256 && EVP_Digest(in, sl + len, md, &n, md256, NULL) == 1 && n == 32;
  OPENSSL_cleanse(in, sizeof in);
  if (ok)
    urbac__audit_hex(md, n, out);
  return ok;
}

static bool is_hex(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return true;
}

bool urbac_key_token_split(const char *token, size_t len, char id[17], const char **secret,
                           size_t *secret_len)
{
  size_t pre = sizeof TOKEN_PREFIX - 1;
  if (len != pre + 2 * ID_BYTES + 1 + 2 * SECRET_BYTES || memcmp(token, TOKEN_PREFIX, pre) != 0 ||
      token[pre + 2 * ID_BYTES] != '_' || !is_hex(token + pre, 2 * ID_BYTES))
    return false;
  memcpy(id, token + pre, 2 * ID_BYTES);
  id[2 * ID_BYTES] = '\0';
  *secret = token + pre + 2 * ID_BYTES + 1;
  *secret_len = 2 * SECRET_BYTES;
  return true;
}

bool urbac_key_matches(const urbac_api_key *k, const char *secret, size_t len)
{
  char h[URBAC__HASH_HEX];
  return k->salt && k->hash && strlen(k->hash) == URBAC__HASH_HEX - 1 && key_hash(k->salt, secret, len, h) &&
         CRYPTO_memcmp(h, k->hash, URBAC__HASH_HEX - 1) == 0;
}

/* "YYYY-MM-DDTHH:MM:SSZ" */
static bool is_time(const char *s)
{
  static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
  if (strlen(s) != sizeof shape - 1)
    return false;
  for (size_t i = 0; shape[i]; i++)
    if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i])
      return false;
  return true;
}

/* ---------------------------------------------------------------- rows */

static char *key_json(const urbac_api_key *k, bool secret_parts)
{
  json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", k->id, "name", k->name, "user",
                        k->user, "scope", k->scope, "created", k->created, "createdBy",
                        k->created_by ? k->created_by : "", "expires", k->expires, "revoked", k->revoked);
  if (j && secret_parts) {
    json_object_set_new(j, "salt", json_string(k->salt));
    json_object_set_new(j, "hash", json_string(k->hash));
  }
  char *out = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  json_decref(j);
  return out;
}

static const char *field(json_t *j, const char *name)
{
  const char *v = json_string_value(json_object_get(j, name));
  return v ? v : NULL;
}

/* all, decisions (the decision routes), provisioning (the tenant's SCIM routes). */
static bool scope_known(const char *scope)
{
  return strcmp(scope, "all") == 0 || strcmp(scope, "decisions") == 0 || strcmp(scope, "provisioning") == 0;
}

/* A stored key row, validated: every field present and well formed (createdBy
 * may be absent: keys made before it was recorded). */
static bool key_parse(json_t *j, urbac_api_key *k)
{
  const char *by = field(j, "createdBy");
  *k = (urbac_api_key){field(j, "id"),      field(j, "name"),    field(j, "user"),    field(j, "scope"),
                       field(j, "created"), field(j, "expires"), field(j, "revoked"), field(j, "salt"),
                       field(j, "hash"),    by ? by : ""};
  return k->id && strlen(k->id) == 2 * ID_BYTES && is_hex(k->id, 2 * ID_BYTES) && k->name && k->user &&
         k->scope && scope_known(k->scope) && k->created && k->expires && k->revoked && k->salt && k->hash &&
         strlen(k->hash) == URBAC__HASH_HEX - 1;
}

/* ---------------------------------------------------------------- calls */

static urbac_err begin_write(urbac_store *store, const char *tenant, urbac__tenant_row *row, urbac_diag *d)
{
  urbac_err err = urbac__store_need_schema(store, d);
  if (!err)
    err = store->ops->begin(store->db, true, d);
  if (err)
    return err;
  err = urbac__store_row_get(store, tenant, row, d);
  if (!err && !row->exists)
    err = urbac__diag_add(d, URBAC_ENOTFOUND, NULL, 0, 0, NULL, "the store holds no tenant '%s'", tenant);
  return err;
}

static urbac_err check_spec(urbac_store *store, const char *tenant, const urbac_api_key *k, urbac_diag *d)
{
  if (!k->user || !k->user[0] || !k->name)
    return urbac__diag_add(d, URBAC_EMISSING, NULL, 0, 0, "user",
                           "a key needs a user it acts as, and a name");
  if (strlen(k->name) > 200 || strpbrk(k->name, "\t\n\r"))
    return urbac__diag_add(d, URBAC_EVALUE, NULL, 0, 0, "name",
                           "a key name is one line of at most 200 bytes");
  if (!k->scope || !scope_known(k->scope))
    return urbac__diag_add(d, URBAC_EVALUE, NULL, 0, 0, "scope",
                           "scope '%s': use all, decisions or provisioning", k->scope ? k->scope : "");
  if (k->expires && k->expires[0] && !is_time(k->expires))
    return urbac__diag_add(d, URBAC_EVALUE, NULL, 0, 0, "expires",
                           "expires '%s': use UTC as YYYY-MM-DDTHH:MM:SSZ", k->expires);
  bool found = false;
  const char *user = k->user;
  urbac_err err = store->ops->exist(store->db, tenant, "user", &user, 1, &found, d);
  if (!err && !found)
    err = urbac__diag_add(d, URBAC_EDANGLING, NULL, 0, 0, "user", "tenant '%s' has no user '%s'", tenant,
                          k->user);
  return err;
}

/* Writes the key's row and audits it with the row as it was (`before`, NULL
 * when new) and is: salt and hash too, so the audit check can replay the row
 * exactly; urbac_store_audit() never shows them (urbac__key_redact()). */
static urbac_err key_write(urbac_store *store, const char *tenant, urbac__tenant_row *row,
                           const urbac_api_key *k, const urbac_write *w, const char *before, urbac_diag *d)
{
  char *body = key_json(k, true);
  urbac__object o = {URBAC__KIND_API_KEY, (char *)(uintptr_t)k->id, body, 0};
  urbac_err err = body ? store->ops->object_put(store->db, tenant, &o, -1, d) : URBAC_ENOMEM;
  if (!err)
    err = urbac__store_audit_append(store, tenant, row, w, URBAC__KIND_API_KEY, k->id, before, body, d);
  free(body);
  return err;
}

char *urbac__key_redact(const char *body)
{
  json_t *j = json_loads(body, 0, NULL);
  char *out = NULL;
  if (json_is_object(j)) {
    json_object_del(j, "salt");
    json_object_del(j, "hash");
    out = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
  }
  json_decref(j);
  return out;
}

urbac_err urbac_store_key_create(urbac_store *store, const char *tenant, const urbac_api_key *key,
                                 const urbac_write *w, char **token, urbac_diag *d)
{
  char id[2 * ID_BYTES + 1], secret[2 * SECRET_BYTES + 1], salt[2 * SALT_BYTES + 1], hash[URBAC__HASH_HEX];
  char now[32];
  urbac__tenant_row row = {0};
  *token = NULL;
  urbac_err err = begin_write(store, tenant, &row, d);
  if (!err)
    err = check_spec(store, tenant, key, d);
  if (!err && !(random_hex(ID_BYTES, id) && random_hex(SECRET_BYTES, secret) &&
                random_hex(SALT_BYTES, salt) && key_hash(salt, secret, strlen(secret), hash)))
    err = urbac__diag_add(d, URBAC_EIO, NULL, 0, 0, NULL, "no random bytes for a key");
  urbac__utc_now(now, sizeof now);
  urbac_api_key k = {.id = id,
                     .name = key->name,
                     .user = key->user,
                     .scope = key->scope,
                     .created = now,
                     .expires = key->expires ? key->expires : "",
                     .revoked = "",
                     .salt = salt,
                     .hash = hash,
                     .created_by = w->actor ? w->actor : ""};
  if (!err)
    err = key_write(store, tenant, &row, &k, w, NULL, d);
  if (!err) {
    size_t n = sizeof TOKEN_PREFIX + sizeof id + sizeof secret;
    if (!(*token = urbac__malloc(n)))
      err = URBAC_ENOMEM;
    else
      snprintf(*token, n, TOKEN_PREFIX "%s_%s", id, secret);
  }
  err = urbac__store_end_write(store, err, tenant, &row, d);
  if (err) {
    urbac__free(*token);
    *token = NULL;
  }
  OPENSSL_cleanse(secret, sizeof secret);
  return err;
}

urbac_err urbac_store_key_revoke(urbac_store *store, const char *tenant, const char *id, const urbac_write *w,
                                 urbac_diag *d)
{
  urbac__tenant_row row = {0};
  urbac__object *o = NULL;
  size_t n = 0;
  json_t *j = NULL;
  char now[32];
  const char *before = NULL;
  urbac_err err = begin_write(store, tenant, &row, d);
  if (!err)
    err = urbac__store_objects(store, tenant, true, &o, &n, d);
  urbac_api_key k = {0};
  for (size_t i = 0; !err && !j && i < n; i++)
    if (strcmp(o[i].id, id) == 0 && (j = json_loads(o[i].body, 0, NULL)) != NULL)
      before = o[i].body;
  if (!err && (!j || !key_parse(j, &k)))
    err =
        urbac__diag_add(d, URBAC_ENOTFOUND, NULL, 0, 0, NULL, "tenant '%s' has no API key '%s'", tenant, id);
  if (!err && k.revoked[0] == '\0') {
    urbac__utc_now(now, sizeof now);
    k.revoked = now;
    err = key_write(store, tenant, &row, &k, w, before, d);
  }
  json_decref(j);
  urbac__objects_free(o, n);
  return urbac__store_end_write(store, err, tenant, &row, d);
}

urbac_err urbac_store_keys(urbac_store *store, const char *tenant, urbac_key_cb cb, void *ctx, urbac_diag *d)
{
  urbac__tenant_row row = {0};
  urbac__object *o = NULL;
  size_t n = 0;
  urbac_err err = urbac__store_need_schema(store, d);
  if (!err)
    err = store->ops->begin(store->db, false, d);
  if (err)
    return err;
  err = urbac__store_read(store, tenant, true, &row, &o, &n, d);
  store->ops->rollback(store->db);
  for (size_t i = 0; !err && i < n; i++) {
    json_t *j = json_loads(o[i].body, 0, NULL);
    urbac_api_key k = {0};
    if (!j || !key_parse(j, &k) || strcmp(k.id, o[i].id) != 0)
      err = urbac__diag_add(d, URBAC_ESTORE, NULL, 0, 0, NULL, "tenant '%s': API key row '%s' is malformed",
                            tenant, o[i].id);
    else if (cb(ctx, &k))
      i = n;
    json_decref(j);
  }
  urbac__objects_free(o, n);
  return err;
}
