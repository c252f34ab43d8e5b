/*
 * store/audit.c - what makes the audit log evidence: the hash chain, the state
 * digest, the keyed chain (HMAC) and the witness, as writes make them
 * (store/audit_check.c checks them).
 *
 * Record n's hash is SHA-256 over record n-1's hash and each of its fields,
 * length-prefixed (schema 2 adds the state digest as one more field; records
 * written before have none and hash as they always did). The state digest is
 * the sum, modulo 2^256, of SHA-256(kind, id, body) over every row of the tenant
 * (objects and API keys): a change adds its after's hash and subtracts its
 * before's, so a write costs what it changes, and the order of rows does not
 * matter. With a key (a file outside the database) each record also carries
 * HMAC-SHA256(key, hash); as each hash covers the one before, a valid MAC on
 * the last record vouches for every record before it. The witness is the head
 * (tenant, sequence number, revision, hash) appended as a JSON line to a file
 * and/or syslog after each commit, so a log cut short or rewritten no longer
 * ends at a head that was witnessed.
 *
 * Depends on: util, io/objects, store, OpenSSL (SHA-256, HMAC), jansson, syslog(3).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "store/audit.h"

const char urbac__audit_zero_hash[URBAC__HASH_HEX] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* ---------------------------------------------------------------- hashes */

void urbac__audit_hex(const unsigned char *b, size_t n, char *out)
{
  static const char digits[] = "0123456789abcdef"; /* no printf: an import hashes 100,000 records */
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[b[i] >> 4];
    out[2 * i + 1] = digits[b[i] & 15];
  }
  out[2 * n] = '\0';
}

bool urbac__audit_unhex(const char *s, unsigned char out[32])
{
  if (!s || strlen(s) != 64)
    return false;
  for (size_t i = 0; i < 32; i++) {
    unsigned v = 0;
    for (size_t k = 0; k < 2; k++) {
      char c = s[2 * i + k];
      unsigned x = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                   : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                                          : 16;
      if (x > 15)
        return false;
      v = v * 16 + x;
    }
    out[i] = (unsigned char)v;
  }
  return true;
}

static void hash_field(EVP_MD_CTX *ctx, const char *s)
{
  uint64_t len = s ? strlen(s) : UINT64_MAX; /* NULL and "" hash differently */
  EVP_DigestUpdate(ctx, &len, sizeof len);
  if (s)
    EVP_DigestUpdate(ctx, s, strlen(s));
}

/* SHA-256 fetched once: a write hashes each record and each object twice (an import,
 * 200,000 times), an API key's request hashes its key, and OpenSSL 3 looks an
 * implicit EVP_sha256() up under a lock each time. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static void sha256_fetch(void) { sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL); }

const EVP_MD *urbac__sha256(void)
{
  pthread_once(&sha256_once, sha256_fetch);
  return sha256_md;
}

/* SHA-256 over the fields, each length-prefixed. */
static bool hash_fields(const char *const *fields, size_t n, unsigned char md[32])
{
  unsigned int len = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  const EVP_MD *md256 = urbac__sha256();
  bool ok = ctx && md256 && EVP_DigestInit_ex(ctx, md256, NULL);
  for (size_t i = 0; ok && i < n; i++)
    hash_field(ctx, fields[i]);
  ok = ok && EVP_DigestFinal_ex(ctx, md, &len) && len == 32;
  EVP_MD_CTX_free(ctx);
  return ok;
}

/* The record's hash over the previous hash and each field, in hex. */
urbac_err urbac__audit_record_hash(const urbac_audit_record *r, char out[URBAC__HASH_HEX])
{
  unsigned char md[32];
  char num[64];
  snprintf(num, sizeof num, "%llu/%llu", (unsigned long long)r->seq, (unsigned long long)r->revision);
  const char *fields[] = {r->prev_hash, num,       r->at,     r->actor, r->command,
                          r->kind,      r->object, r->before, r->after, r->state};
  /* a record from before schema 2 has no state and hashes without it */
  if (!hash_fields(fields, r->state ? 10 : 9, md))
    return URBAC_ENOMEM;
  urbac__audit_hex(md, 32, out);
  return URBAC_OK;
}

bool urbac__audit_record_mac(const urbac_store *store, const char *hash, char out[URBAC__HASH_HEX])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), store->audit_key, (int)store->audit_key_len, (const unsigned char *)hash,
            strlen(hash), md, &len) ||
      len != 32)
    return false;
  urbac__audit_hex(md, 32, out);
  return true;
}

/* ---------------------------------------------------------------- the state digest */

static bool object_hash(const char *kind, const char *id, const char *body, unsigned char md[32])
{
  const char *fields[] = {kind, id, body};
  return hash_fields(fields, 3, md);
}

/* d += sign * SHA-256(kind, id, body); nothing when body is NULL. */
bool urbac__audit_digest_step(urbac__audit_digest *d, int sign, const char *kind, const char *id,
                              const char *body)
{
  unsigned char h[32];
  if (!body)
    return true;
  if (!object_hash(kind, id, body, h))
    return false;
  unsigned carry = sign > 0 ? 0 : 1; /* subtracting: add the two's complement */
  for (int i = 31; i >= 0; i--) {
    unsigned x = d->v[i] + (unsigned)(sign > 0 ? h[i] : (unsigned char)~h[i]) + carry;
    d->v[i] = (unsigned char)x;
    carry = x >> 8;
  }
  return true;
}

urbac_err urbac__audit_state_of_rows(urbac_store *store, const char *tenant, char out[URBAC__HASH_HEX],
                                     urbac_diag *d)
{
  urbac__audit_digest sum = {{0}};
  urbac_err err = URBAC_OK;
  for (int keys = 0; keys < 2 && !err; keys++) {
    urbac__object *o = NULL;
    size_t n = 0;
    err = store->ops->objects(store->db, tenant, keys ? URBAC__KIND_API_KEY : NULL, &o, &n, d);
    for (size_t i = 0; !err && i < n; i++)
      if (!urbac__audit_digest_step(&sum, 1, o[i].kind, o[i].id, o[i].body))
        err = URBAC_ENOMEM;
    urbac__objects_free(o, n);
  }
  urbac__audit_hex(sum.v, 32, out);
  return err;
}

/* ---------------------------------------------------------------- writing */

urbac_err urbac__audit_writer_key(const urbac_store *store, const char *tenant, urbac__tenant_row *row,
                                  urbac_diag *d)
{
  if (row->audit_key[0] && !store->audit_key_len)
    return urbac__diag_add(d, URBAC_EREFUSED, NULL, 0, 0, NULL,
                           "tenant '%s' has a keyed audit log (key id %s): give its key with --audit-key",
                           tenant, row->audit_key);
  if (row->audit_key[0] && strcmp(row->audit_key, store->audit_key_id) != 0)
    return urbac__diag_add(d, URBAC_EREFUSED, NULL, 0, 0, NULL,
                           "tenant '%s' has an audit log keyed with key id %s, but the key given has id %s",
                           tenant, row->audit_key, store->audit_key_id);
  if (store->audit_key_len)
    memcpy(row->audit_key, store->audit_key_id, sizeof row->audit_key);
  return URBAC_OK;
}

urbac_err urbac__audit_chain(const urbac_store *store, urbac__tenant_row *row, urbac_audit_record *r,
                             urbac__audit_sums *sums)
{
  urbac__audit_digest state = {{0}};
  urbac_err err =
      row->state_hash[0] && !urbac__audit_unhex(row->state_hash, state.v) ? URBAC_ESTORE : URBAC_OK;
  if (!err && (!urbac__audit_digest_step(&state, -1, r->kind, r->object, r->before) ||
               !urbac__audit_digest_step(&state, 1, r->kind, r->object, r->after)))
    err = URBAC_ENOMEM;
  urbac__audit_hex(state.v, 32, sums->state);
  memcpy(sums->prev, row->audit_seq ? row->audit_hash : urbac__audit_zero_hash, URBAC__HASH_HEX);
  r->prev_hash = sums->prev;
  r->state = sums->state;
  r->hash = sums->hash;
  r->mac = store->audit_key_len ? sums->mac : NULL;
  if (!err)
    err = urbac__audit_record_hash(r, sums->hash);
  if (!err && store->audit_key_len && !urbac__audit_record_mac(store, sums->hash, sums->mac))
    err = URBAC_ENOMEM;
  if (err)
    return err;
  row->audit_seq = r->seq;
  memcpy(row->audit_hash, sums->hash, URBAC__HASH_HEX);
  memcpy(row->state_hash, sums->state, URBAC__HASH_HEX);
  return URBAC_OK;
}

/* The head as one JSON line (no newline); the caller frees it with free(). */
static char *head_line(const char *tenant, const urbac__tenant_row *row)
{
  char at[32];
  urbac__utc_now(at, sizeof at);
  json_t *j =
      json_pack("{s:s, s:s, s:I, s:I, s:s}", "at", at, "tenant", tenant, "seq", (json_int_t)row->audit_seq,
                "revision", (json_int_t)row->revision, "hash", row->audit_hash);
  char *line = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref(j);
  return line;
}

urbac_err urbac__audit_witness(const urbac_store *store, const char *tenant, const urbac__tenant_row *row,
                               urbac_diag *d)
{
  if ((!store->witness && !store->witness_syslog) || !row->audit_seq)
    return URBAC_OK;
  char *line = head_line(tenant, row);
  urbac_err err = line ? URBAC_OK : URBAC_ENOMEM;
  if (!err && store->witness_syslog)
    syslog(LOG_AUTHPRIV | LOG_NOTICE, "urbac audit head %s", line);
  if (!err && store->witness) {
    int fd = open(store->witness, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    size_t len = strlen(line);
    line[len] = '\n'; /* replaces the NUL: written by length */
    bool ok = fd >= 0 && write(fd, line, len + 1) == (ssize_t)(len + 1) && fsync(fd) == 0;
    line[len] = '\0';
    if (!ok)
      err = urbac__diag_add(
          d, URBAC_EIO, store->witness, 0, 0, NULL,
          "tenant '%s': the change is committed (record %llu) but its head could not be written to "
          "the witness: %s",
          tenant, (unsigned long long)row->audit_seq, strerror(errno));
    if (fd >= 0)
      close(fd);
  }
  free(line);
  return err;
}

/* ---------------------------------------------------------------- the key */

/* Reads the key file: the owner's alone, a regular file, 32 bytes or more. */
static urbac_err read_key(urbac_store *store, const char *path, urbac_diag *d)
{
  unsigned char buf[URBAC__AUDIT_KEY_MAX + 2];
  struct stat st;
  ssize_t n = 0;
  urbac_err err = URBAC_OK;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) != 0)
    err = urbac__diag_add(d, URBAC_EIO, path, 0, 0, NULL, "cannot read the audit key: %s", strerror(errno));
  else if (!S_ISREG(st.st_mode))
    err = urbac__diag_add(d, URBAC_EVALUE, path, 0, 0, NULL, "the audit key is not a regular file");
  else if (st.st_mode & 077)
    err = urbac__diag_add(d, URBAC_EREFUSED, path, 0, 0, NULL,
                          "the audit key may be read or written by others (mode %04o): chmod 600 it",
                          (unsigned)(st.st_mode & 07777));
  else if ((n = read(fd, buf, sizeof buf)) < 0)
    err = urbac__diag_add(d, URBAC_EIO, path, 0, 0, NULL, "cannot read the audit key: %s", strerror(errno));
  while (!err && n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
    n--;
  if (!err && (n < 32 || n > URBAC__AUDIT_KEY_MAX))
    err = urbac__diag_add(d, URBAC_EVALUE, path, 0, 0, NULL,
                          "an audit key is 32 to %d bytes (make one: openssl rand -hex 32 > FILE)",
                          URBAC__AUDIT_KEY_MAX);
  if (!err) { /* the key's id: a MAC of a constant, which tells nothing about the key */
    char id[URBAC__HASH_HEX];
    memcpy(store->audit_key, buf, (size_t)n);
    store->audit_key_len = (size_t)n;
    if (!urbac__audit_record_mac(store, "urbac audit key id", id))
      err = URBAC_ENOMEM;
    snprintf(store->audit_key_id, sizeof store->audit_key_id, "%.16s", id);
  }
  OPENSSL_cleanse(buf, sizeof buf);
  if (fd >= 0)
    close(fd);
  return err;
}

void urbac__audit_forget(urbac_store *store)
{
  OPENSSL_cleanse(store->audit_key, sizeof store->audit_key);
  store->audit_key_len = 0;
  store->audit_key_id[0] = '\0';
  urbac__free(store->witness);
  store->witness = NULL;
  store->witness_syslog = false;
}

urbac_err urbac_store_set_audit(urbac_store *store, const urbac_audit_opts *o, urbac_diag *d)
{
  urbac_err err = URBAC_OK;
  urbac__audit_forget(store);
  store->witness_syslog = o->witness_syslog;
  if (o->key_file)
    err = read_key(store, o->key_file, d);
  if (!err && o->witness_file && !(store->witness = urbac__strdup(o->witness_file)))
    err = URBAC_ENOMEM;
  return err;
}
