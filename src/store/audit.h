/*
 * store/audit.h - the audit log's internals shared by the write path
 * (store/store.c, store/keys.c), store/audit.c which chains records and
 * store/audit_check.c which checks them.
 *
 * Depends on: store/store.h.
 */
#ifndef URBAC_STORE_AUDIT_H
#define URBAC_STORE_AUDIT_H

#include "store/store.h"

/* ---------------------------------------------------------------- for writers */

/* Refuses a write to a tenant whose chain is keyed with another key, or with
 * none when the handle has one (and the other way round); a first keyed write
 * marks the tenant's chain keyed (row->audit_key). */
urbac_err urbac__audit_writer_key(const urbac_store *store, const char *tenant, urbac__tenant_row *row,
                                  urbac_diag *d);
/* The state digest of `tenant`'s rows (objects and API keys), in hex; for a
 * tenant written before schema 2, once. */
urbac_err urbac__audit_state_of_rows(urbac_store *store, const char *tenant, char out[URBAC__HASH_HEX],
                                     urbac_diag *d);
/* Buffers for one chained record's hash, state digest and MAC. */
typedef struct urbac__audit_sums {
  char prev[URBAC__HASH_HEX], hash[URBAC__HASH_HEX], state[URBAC__HASH_HEX], mac[URBAC__HASH_HEX];
} urbac__audit_sums;
/* Chains `r` after the head in `row`: its prev_hash, the state digest after its
 * change (from row->state_hash), its hash and (with a key) MAC, all pointing
 * into `sums`; then advances row's head and state. */
urbac_err urbac__audit_chain(const urbac_store *store, urbac__tenant_row *row, urbac_audit_record *r,
                             urbac__audit_sums *sums);
/* Wipes the handle's audit key and frees its witness path (urbac_store_close()). */
void urbac__audit_forget(urbac_store *store);
/* Appends the head in `row` to the witness file and/or syslog (nothing when
 * the handle has no witness). */
urbac_err urbac__audit_witness(const urbac_store *store, const char *tenant, const urbac__tenant_row *row,
                               urbac_diag *d);
/* An API key row's body as the audit log shows it: without its salt and hash.
 * NULL on failure; the caller frees it with free(). (store/keys.c) */
char *urbac__key_redact(const char *body);

/* ---------------------------------------------------------------- for the check */

/* The state digest: a sum of SHA-256(kind, id, body), big-endian, modulo 2^256. */
typedef struct urbac__audit_digest {
  unsigned char v[32];
} urbac__audit_digest;
/* d += sign * SHA-256(kind, id, body) (sign 1 or -1); nothing when body is NULL. */
bool urbac__audit_digest_step(urbac__audit_digest *d, int sign, const char *kind, const char *id,
                              const char *body);
/* The record's chain hash over its prev_hash and fields, in hex. */
urbac_err urbac__audit_record_hash(const urbac_audit_record *r, char out[URBAC__HASH_HEX]);
/* HMAC-SHA256 of `hash` under the handle's key, in hex. */
bool urbac__audit_record_mac(const urbac_store *store, const char *hash, char out[URBAC__HASH_HEX]);
/* OpenSSL's SHA-256, fetched once for the process (NULL: OpenSSL has none); not to be freed. */
struct evp_md_st;
const struct evp_md_st *urbac__sha256(void);
/* `n` bytes of `b` as 2n lower-case hex digits and a NUL, into `out` (2n + 1 bytes). */
void urbac__audit_hex(const unsigned char *b, size_t n, char *out);
/* 64 hex digits to 32 bytes; false when it is not that. */
bool urbac__audit_unhex(const char *s, unsigned char out[32]);
/* Record 1's link: 64 zeros. */
extern const char urbac__audit_zero_hash[URBAC__HASH_HEX];

#endif
