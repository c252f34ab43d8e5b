/*
 * tests/unit/test_store.c - the SQLite store: apply, plan and dump round trips
 * on random tenants, revisions and conflicts, the audit chain against edited,
 * deleted, reordered and truncated records, what the chain alone cannot see (rows
 * edited directly, records rewritten with their hashes recomputed, the log cut
 * short and the head fixed: found by the replay, the key and the witness),
 * hostile files (not a database, a
 * database of something else, a schema from the future) refused untouched, and
 * API keys (hashed, audited, kept across applies, revoked, a bad row refused,
 * who created them), a write's check refusing a change before it is written, and a
 * new tenant of many objects written at once or not at all.
 */
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "helpers.h"
#include "random_tenant.h"
#include "store/store.h"
#include "store_fixture.h"
#include "util/util.h"

static int setup(void **state)
{
  (void)state;
  fixture_setup("store");
  return 0;
}

static void remove_db(void)
{
  if (pg_url)
    pg_exec("DROP TABLE IF EXISTS refs, audit, objects, tenants, urbac_schema, invoices");
  else
    remove_file();
}

static urbac_store *fresh(void)
{
  urbac_store *s;
  int from, to;
  remove_db();
  assert_int_equal(urbac_store_open(target(), URBAC_STORE_CREATE, &s, NULL), URBAC_OK);
  assert_int_equal(urbac_store_migrate(s, &from, &to, NULL), URBAC_OK);
  assert_int_equal(from, 0);
  assert_int_equal(to, urbac_store_schema());
  return s;
}

static char *saved(const urbac_model *m)
{
  char *out;
  size_t len;
  assert_int_equal(urbac_tenant_save_buffer(m, URBAC_FORMAT_YAML, &out, &len, NULL), URBAC_OK);
  return out;
}

/* Tenant `id` as `s` loads it is `want`, saved the same. */
static void loads_as(urbac_store *s, const char *id, const urbac_model *want)
{
  urbac_model *back = NULL;
  assert_int_equal(urbac_store_load(s, id, &back, NULL, NULL), URBAC_OK);
  char *x = saved(want), *y = saved(back);
  assert_string_equal(x, y);
  free(x);
  free(y);
  urbac_model_free(back);
}

static size_t plan_size(urbac_store *s, const urbac_model *m)
{
  urbac_plan *p;
  assert_int_equal(urbac_store_plan(s, m, &p, NULL), URBAC_OK);
  size_t n = urbac_plan_count(p);
  urbac_plan_free(p);
  return n;
}

static void test_round_trip(void **state)
{
  (void)state;
  urbac_store *s = fresh();
  size_t cap = 1 << 16;
  char *y = malloc(cap);
  urbac_write w = {"test", "test_round_trip", false, 0, NULL, NULL};
  urbac_store_prune_provisioned(s, true); /* each file replaces the last, groups managed by scim too */
  uint64_t rev = 0, prev = 0;
  rng = 0xD00Dull;
  for (int i = 0; i < 40; i++) {
    int nu, nd;
    random_tenant(y, cap, &nu, &nd); /* every tenant is "r": each apply replaces the last */
    tenant t = tenant_load(y);
    assert_int_equal(urbac_store_apply(s, t.m, &w, &rev, NULL), URBAC_OK);
    assert_true(rev >= prev);
    prev = rev;
    assert_int_equal(plan_size(s, t.m), 0); /* apply, then plan: nothing */
    urbac_model *back;
    uint64_t r2;
    assert_int_equal(urbac_store_load(s, "r", &back, &r2, NULL), URBAC_OK);
    assert_int_equal(r2, rev);
    char *a = saved(t.m), *b = saved(back);
    assert_string_equal(a, b); /* dump gives the file back */
    free(a);
    free(b);
    urbac_model_free(back);
    tenant_free(&t);
  }
  uint64_t count, bad;
  assert_int_equal(urbac_store_audit_verify(s, "r", &count, &bad, NULL), URBAC_OK);
  assert_true(count > 40);
  free(y);
  urbac_store_close(s);
}

static const char *t1 =
    "urbac: 1\ntenant: acme\nusers: [{id: a}, {id: b}]\ngroups: [{id: g, members: [a]}]\n";
static const char *t2 =
    "urbac: 1\ntenant: acme\nusers: [{id: a, name: Ann}, {id: c}]\ngroups: [{id: g, members: [a, c]}]\n";

static void test_changes_and_conflicts(void **state)
{
  (void)state;
  urbac_store *s = fresh();
  tenant a = tenant_load(t1), b = tenant_load(t2);
  uint64_t rev;
  urbac_write w = {"ann", "cmd", false, 0, NULL, NULL};
  urbac_plan *p;
  assert_int_equal(urbac_store_apply(s, a.m, &w, &rev, NULL), URBAC_OK);
  assert_int_equal(rev, 1);
  assert_int_equal(urbac_store_plan(s, b.m, &p, NULL), URBAC_OK);
  assert_int_equal(urbac_plan_revision(p), 1);
  /* user a changed, c created, g changed, b deleted (deletes come last) */
  assert_int_equal(urbac_plan_count(p), 4);
  assert_int_equal(urbac_plan_change(p, 0)->op, URBAC_UPDATE);
  assert_string_equal(urbac_plan_change(p, 0)->id, "a");
  assert_non_null(strstr(urbac_plan_change(p, 0)->after, "\"name\":\"Ann\""));
  assert_int_equal(urbac_plan_change(p, 1)->op, URBAC_CREATE);
  assert_int_equal(urbac_plan_change(p, 3)->op, URBAC_DELETE);
  assert_string_equal(urbac_plan_change(p, 3)->id, "b");
  urbac_plan_free(p);
  /* a write based on an old revision is refused and changes nothing */
  urbac_write stale = {"bob", "cmd", true, 0, NULL, NULL};
  urbac_diag *d = urbac_diag_new();
  assert_int_equal(urbac_store_apply(s, b.m, &stale, &rev, d), URBAC_ECONFLICT);
  assert_non_null(strstr(urbac_diag_get(d, 0)->message, "is at revision 1"));
  assert_int_equal(urbac_store_revision(s, "acme", &rev, NULL), URBAC_OK);
  assert_int_equal(rev, 1);
  urbac_write fresh_w = {"bob", "cmd", true, 1, NULL, NULL};
  assert_int_equal(urbac_store_apply(s, b.m, &fresh_w, &rev, NULL), URBAC_OK);
  assert_int_equal(rev, 2);
  /* nothing to change: no write, same revision */
  assert_int_equal(urbac_store_apply(s, b.m, &w, &rev, NULL), URBAC_OK);
  assert_int_equal(rev, 2);
  urbac_model *none;
  assert_int_equal(urbac_store_load(s, "nobody", &none, NULL, NULL), URBAC_ENOTFOUND);
  urbac_diag_free(d);
  tenant_free(&a);
  tenant_free(&b);
  urbac_store_close(s);
}

/* Runs SQL on the store file behind urbac's back. */
static uint64_t tampered(const char *stmt, char *why, size_t size)
{
  urbac_store *s = fresh();
  tenant a = tenant_load(t1), b = tenant_load(t2);
  urbac_write w = {"ann", "cmd", false, 0, NULL, NULL};
  uint64_t rev, count = 0, bad = 0;
  assert_int_equal(urbac_store_apply(s, a.m, &w, &rev, NULL), URBAC_OK); /* records 1..4 */
  assert_int_equal(urbac_store_apply(s, b.m, &w, &rev, NULL), URBAC_OK); /* records 5..8 */
  assert_int_equal(urbac_store_audit_verify(s, "acme", &count, &bad, NULL), URBAC_OK);
  assert_int_equal(count, 8);
  urbac_store_close(s);
  sql(stmt);
  assert_int_equal(urbac_store_open(target(), URBAC_STORE_WRITE, &s, NULL), URBAC_OK);
  urbac_diag *d = urbac_diag_new();
  assert_int_equal(urbac_store_audit_verify(s, "acme", &count, &bad, d), URBAC_ETAMPERED);
  assert_int_equal(urbac_diag_get(d, 0)->code, URBAC_ETAMPERED);
  snprintf(why, size, "%s", diag_msg(d));
  urbac_diag_free(d);
  urbac_store_close(s);
  tenant_free(&a);
  tenant_free(&b);
  return bad;
}

static void test_tampering(void **state)
{
  (void)state;
  char why[512];
  assert_int_equal(tampered("UPDATE audit SET actor = 'mallory' WHERE seq = 3", why, sizeof why), 3);
  assert_non_null(strstr(why, "the record was edited"));
  assert_int_equal(tampered("UPDATE audit SET after = '{\"id\":\"x\"}' WHERE seq = 6", why, sizeof why), 6);
  assert_int_equal(tampered("DELETE FROM audit WHERE seq = 5", why, sizeof why), 6);
  assert_non_null(strstr(why, "records were deleted, inserted or reordered"));
  /* swapping two records' places */
  assert_int_equal(tampered("UPDATE audit SET seq = -1 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3;"
                            "UPDATE audit SET seq = 3 WHERE seq = -1",
                            why, sizeof why),
                   3);
  /* cutting the end off shows against the tenant's chain head */
  assert_int_equal(tampered("DELETE FROM audit WHERE seq >= 7", why, sizeof why), 7);
  assert_non_null(strstr(why, "removed from the end"));
}

/* ---------------------------------------------------------------- what the chain alone cannot see */

static char keypath[256], witpath[256], otherkey[256];

static void write_key(const char *path, const char *text, mode_t mode)
{
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  chmod(path, mode);
}

/* A fresh store written through a handle with `o` (a then b: records 1..8). */
static void audited_store(const urbac_audit_opts *o)
{
  urbac_store *s = fresh();
  tenant a = tenant_load(t1), b = tenant_load(t2);
  urbac_write w = {"ann", "cmd", false, 0, NULL, NULL};
  uint64_t rev;
  unlink(witpath);
  assert_int_equal(urbac_store_set_audit(s, o, NULL), URBAC_OK);
  assert_int_equal(urbac_store_apply(s, a.m, &w, &rev, NULL), URBAC_OK);
  assert_int_equal(urbac_store_apply(s, b.m, &w, &rev, NULL), URBAC_OK);
  urbac_store_close(s);
  tenant_free(&a);
  tenant_free(&b);
}

/* Checks the store through a handle with `o`; the diagnostics joined by " | ". */
static urbac_err checked(const urbac_audit_opts *o, urbac_audit_report *r, char *out, size_t size)
{
  urbac_store *s;
  urbac_diag *d = urbac_diag_new();
  assert_int_equal(urbac_store_open(target(), URBAC_STORE_READ, &s, NULL), URBAC_OK);
  if (o)
    assert_int_equal(urbac_store_set_audit(s, o, NULL), URBAC_OK);
  urbac_err err = urbac_store_audit_check(s, "acme", r, d);
  out[0] = '\0';
  for (size_t i = 0; i < urbac_diag_count(d); i++)
    snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? " | " : "", urbac_diag_get(d, i)->message);
  urbac_diag_free(d);
  urbac_store_close(s);
  return err;
}

/* The attacker's tool, written from the documented algorithm (docs/operations.md),
 * not from urbac's code: SHA-256 over the previous hash and each field, each
 * prefixed with its length as 8 native bytes (NULL: all ones). */
static void forge_hash(const char *const *f, size_t n, char out[65])
{
  unsigned char md[32];
  unsigned int len;
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  EVP_DigestInit_ex(c, EVP_sha256(), NULL);
  for (size_t i = 0; i < n; i++) {
    uint64_t l = f[i] ? strlen(f[i]) : UINT64_MAX;
    EVP_DigestUpdate(c, &l, sizeof l);
    if (f[i])
      EVP_DigestUpdate(c, f[i], strlen(f[i]));
  }
  EVP_DigestFinal_ex(c, md, &len);
  EVP_MD_CTX_free(c);
  for (int i = 0; i < 32; i++)
    sprintf(out + 2 * i, "%02x", md[i]);
}

typedef struct forged {
  char sql[32768];
  char prev[65];
  uint64_t from;
  bool legacy; /* rewrite every record as schema 1 wrote it: no state, no MAC, keys shown */
} forged;

/* 'text' or NULL, for SQL. */
static const char *quoted(const char *s, char *buf, size_t size)
{
  if (!s)
    return "NULL";
  snprintf(buf, size, "'%s'", s);
  return buf;
}

/* Renames record `from`'s actor to mallory and recomputes every hash after it and the head. */
static int forge_one(void *ctx, const urbac_audit_record *r)
{
  forged *f = ctx;
  char num[64], hash[65];
  if (r->seq < f->from) {
    snprintf(f->prev, sizeof f->prev, "%s", r->hash);
    return 0;
  }
  snprintf(num, sizeof num, "%llu/%llu", (unsigned long long)r->seq, (unsigned long long)r->revision);
  const char *actor = r->seq == f->from && !f->legacy ? "mallory" : r->actor;
  const char *fields[] = {f->prev, num,       r->at,     actor,    r->command,
                          r->kind, r->object, r->before, r->after, r->state};
  forge_hash(fields, r->state && !f->legacy ? 10 : 9, hash);
  snprintf(
      f->sql + strlen(f->sql), sizeof f->sql - strlen(f->sql),
      "UPDATE audit SET actor = '%s', prev_hash = '%s', hash = '%s' WHERE tenant = 'acme' AND seq = %llu;",
      actor, f->prev, hash, (unsigned long long)r->seq);
  char b1[4096], b2[4096];
  if (f->legacy)
    snprintf(f->sql + strlen(f->sql), sizeof f->sql - strlen(f->sql),
             "UPDATE audit SET before = %s, after = %s, state = NULL, mac = NULL WHERE tenant = 'acme' AND "
             "seq = %llu;",
             quoted(r->before, b1, sizeof b1), quoted(r->after, b2, sizeof b2), (unsigned long long)r->seq);
  snprintf(f->prev, sizeof f->prev, "%s", hash);
  return 0;
}

static void forge_from(uint64_t from, bool legacy)
{
  urbac_store *s;
  forged *f = calloc(1, sizeof *f);
  f->from = from;
  f->legacy = legacy;
  memset(f->prev, '0', 64); /* record 1 links to 64 zeros */
  assert_int_equal(urbac_store_open(target(), URBAC_STORE_READ, &s, NULL), URBAC_OK);
  assert_int_equal(urbac_store_audit(s, "acme", NULL, forge_one, f, NULL), URBAC_OK);
  urbac_store_close(s);
  snprintf(f->sql + strlen(f->sql), sizeof f->sql - strlen(f->sql),
           "UPDATE tenants SET audit_hash = '%s' WHERE id = 'acme'", f->prev);
  sql(f->sql);
  free(f);
}

static void test_state_key_witness(void **state)
{
  (void)state;
  char why[4096];
  urbac_audit_report r;
  snprintf(keypath, sizeof keypath, "/tmp/urbac-test-key-%d", (int)getpid());
  snprintf(otherkey, sizeof otherkey, "/tmp/urbac-test-key2-%d", (int)getpid());
  snprintf(witpath, sizeof witpath, "/tmp/urbac-test-witness-%d", (int)getpid());
  write_key(keypath, "0123456789abcdef0123456789abcdef0123456789abcdef\n", 0600);
  write_key(otherkey, "fedcba9876543210fedcba9876543210fedcba9876543210\n", 0600);
  urbac_audit_opts plain = {0}, keyed = {keypath, NULL, false}, witnessed = {NULL, witpath, false};
  urbac_audit_opts both = {keypath, witpath, false}, wrong = {otherkey, NULL, false};

  /* untouched: everything agrees */
  audited_store(&both);
  assert_int_equal(checked(&both, &r, why, sizeof why), URBAC_OK);
  assert_int_equal(r.records, 8);
  assert_int_equal(r.stated, 8);
  assert_int_equal(r.keyed, 8);
  assert_int_equal(r.objects, 4); /* a, c, g and the workloads */
  assert_int_equal(r.witnessed, 2);
  assert_int_equal(checked(&wrong, &r, why, sizeof why), URBAC_ETAMPERED);
  assert_non_null(strstr(why, "does not match the audit key"));

  /* an object row edited directly: named, by the replay, with no key needed */
  audited_store(&plain);
  sql("UPDATE objects SET body = '{\"directoryRoles\":[\"Security administrator\"],\"id\":\"a\"}'"
      " WHERE tenant = 'acme' AND kind = 'user' AND id = 'a'");
  assert_int_equal(checked(NULL, &r, why, sizeof why), URBAC_ETAMPERED);
  assert_non_null(strstr(why, "user a: the stored row differs from what the log's changes produce"));
  /* a row added and one deleted */
  audited_store(&plain);
  sql("INSERT INTO objects (tenant, kind, id, position, body) VALUES ('acme', 'user', 'eve', 9, "
      "'{\"id\":\"eve\"}');"
      "DELETE FROM objects WHERE tenant = 'acme' AND kind = 'group'");
  assert_int_equal(checked(NULL, &r, why, sizeof why), URBAC_ETAMPERED);
  assert_non_null(strstr(why, "user eve: a stored row that the log's changes never created"));
  assert_non_null(strstr(why, "group g: the log's changes leave it in place, but the store has no such row"));

  /* a record rewritten and every hash after it and the head recomputed: the plain
   * chain cannot see it (which shows the forger is right); the key and the witness do */
  audited_store(&both);
  forge_from(6, false);
  assert_int_equal(checked(NULL, &r, why, sizeof why), URBAC_OK);
  assert_int_equal(checked(&keyed, &r, why, sizeof why), URBAC_ETAMPERED);
  assert_int_equal(r.bad, 6);
  assert_non_null(strstr(why, "audit record 6 (revision 2, user c): its MAC does not match the audit key"));
  assert_int_equal(checked(&witnessed, &r, why, sizeof why), URBAC_ETAMPERED);
  assert_int_equal(r.bad, 8);
  assert_non_null(strstr(why, "audit record 8 (revision 2, user b): the witness (line 2)"));
  /* stripping the MACs does not help */
  sql("UPDATE audit SET mac = NULL WHERE tenant = 'acme' AND seq >= 6");
  assert_int_equal(checked(&keyed, &r, why, sizeof why), URBAC_ETAMPERED);
  assert_non_null(
      strstr(why, "audit record 6 (revision 2, user c): it carries no MAC though records before it do"));
  sql("UPDATE audit SET mac = NULL WHERE tenant = 'acme'");
  assert_int_equal(checked(&keyed, &r, why, sizeof why), URBAC_ETAMPERED);
  assert_non_null(strstr(why, "no record carries a MAC under the audit key"));

  /* the last record deleted and the head fixed: the row it changed shows */
  audited_store(&both);
  sql("UPDATE tenants SET audit_seq = 7, audit_hash = (SELECT hash FROM audit WHERE tenant = 'acme' AND seq "
      "= 7),"
      " state_hash = (SELECT state FROM audit WHERE tenant = 'acme' AND seq = 7) WHERE id = 'acme';"
      "DELETE FROM audit WHERE tenant = 'acme' AND seq = 8");
  assert_int_equal(checked(&keyed, &r, why, sizeof why), URBAC_ETAMPERED);
  assert_non_null(strstr(why, "user b: the log's changes leave it in place, but the store has no such row"));
  /* and with the row put back too (a rollback of the last change), only the witness sees it */
  sql("INSERT INTO objects (tenant, kind, id, position, body) VALUES ('acme', 'user', 'b', 1, "
      "'{\"id\":\"b\"}')");
  assert_int_equal(checked(&keyed, &r, why, sizeof why), URBAC_OK);
  assert_int_equal(checked(&both, &r, why, sizeof why), URBAC_ETAMPERED);
  assert_int_equal(r.bad, 8);
  assert_non_null(strstr(why, "the witness saw record 8 (revision 2, line 2), but the log ends at record 7"));

  /* a write through a handle without the key, or with another, is refused */
  urbac_store *s;
  urbac_diag *d = urbac_diag_new();
  urbac_write w = {"eve", "cmd", false, 0, NULL, NULL};
  uint64_t rev;
  assert_int_equal(urbac_store_open(target(), URBAC_STORE_WRITE, &s, NULL), URBAC_OK);
  assert_int_equal(urbac_store_put(s, "acme", "user", "z", "{\"id\": \"z\"}", &w, &rev, d), URBAC_EREFUSED);
  assert_non_null(strstr(urbac_diag_get(d, 0)->message, "give its key with --audit-key"));
  assert_int_equal(urbac_store_set_audit(s, &wrong, NULL), URBAC_OK);
  assert_int_equal(urbac_store_put(s, "acme", "user", "z", "{\"id\": \"z\"}", &w, &rev, NULL),
                   URBAC_EREFUSED);
  /* a key others may read, or too short, is refused */
  urbac_diag_clear(d);
  write_key(otherkey, "fedcba9876543210fedcba9876543210fedcba9876543210\n", 0640);
  assert_int_equal(urbac_store_set_audit(s, &wrong, d), URBAC_EREFUSED);
  assert_non_null(strstr(urbac_diag_get(d, 0)->message, "mode 0640"));
  write_key(otherkey, "short\n", 0600);
  assert_int_equal(urbac_store_set_audit(s, &wrong, NULL), URBAC_EVALUE);
  urbac_diag_free(d);
  urbac_store_close(s);
  unlink(keypath);
  unlink(otherkey);
  unlink(witpath);
}

/* A store written by schema 1 (no state digests, no MACs, API key records
 * without salt or hash), migrated: its records are replayed, the first write
 * counts the digest from the rows, and a legacy key's hash changed later shows. */
static void test_schema1_store(void **state)
{
  (void)state;
  urbac_store *s = fresh();
  tenant a = tenant_load(t1), b = tenant_load(t2);
  urbac_write w = {"ann", "cmd", false, 0, NULL, NULL};
  urbac_api_key spec = {.user = "a", .name = "ci", .scope = "all"};
  urbac_audit_report r;
  char *token = NULL, why[4096];
  uint64_t rev;
  int from, to;
  assert_int_equal(urbac_store_apply(s, a.m, &w, &rev, NULL), URBAC_OK);                  /* records 1..4 */
  assert_int_equal(urbac_store_key_create(s, "acme", &spec, &w, &token, NULL), URBAC_OK); /* 5 */
  urbac_store_close(s);
  forge_from(1, true);
  sql("UPDATE tenants SET state_hash = NULL, audit_key = NULL; ALTER TABLE audit DROP COLUMN state;"
      "ALTER TABLE audit DROP COLUMN mac; ALTER TABLE tenants DROP COLUMN state_hash;"
      "ALTER TABLE tenants DROP COLUMN audit_key; DROP TABLE refs; DROP INDEX objects_position;"
      "DROP INDEX audit_revision; DROP INDEX objects_kind; DELETE FROM urbac_schema WHERE version >= 2");
  urbac_diag *d = urbac_diag_new();
  assert_int_equal(urbac_store_open(target(), URBAC_STORE_WRITE, &s, NULL), URBAC_OK);
  assert_int_equal(urbac_store_apply(s, b.m, &w, &rev, d), URBAC_ESCHEMA);
  assert_non_null(strstr(urbac_diag_get(d, 0)->message, "run 'urbac migrate'"));
  assert_int_equal(urbac_store_migrate(s, &from, &to, NULL), URBAC_OK);
  assert_int_equal(from, 1);
  assert_int_equal(to, urbac_store_schema());
  urbac_store_close(s);
  assert_int_equal(checked(NULL, &r, why, sizeof why), URBAC_OK);
  assert_int_equal(r.records, 5);
  assert_int_equal(r.stated, 0);
  assert_int_equal(r.objects, 5);
  assert_int_equal(urbac_store_open(target(), URBAC_STORE_WRITE, &s, NULL), URBAC_OK);
  assert_int_equal(urbac_store_apply(s, b.m, &w, &rev, NULL), URBAC_OK); /* 6..9, with state */
  urbac_store_close(s);
  assert_int_equal(checked(NULL, &r, why, sizeof why), URBAC_OK);
  assert_int_equal(r.records, 9);
  assert_int_equal(r.stated, 4);
  /* the old key's hash replaced: its record cannot say, the digest does */
  sql("UPDATE objects SET body = replace(body, '\"hash\":\"', '\"hash\":\"0') WHERE kind = 'apiKey'");
  assert_int_equal(checked(NULL, &r, why, sizeof why), URBAC_ETAMPERED);
  assert_non_null(
      strstr(why, "do not add up to the state digest of the last record (an API key from before"));
  urbac_diag_free(d);
  free(token);
  tenant_free(&a);
  tenant_free(&b);
}

/* A put hands back the tenant exactly as it was written, only when it was. */
static void test_written(void **state)
{
  (void)state;
  urbac_store *s = fresh();
  tenant a = tenant_load(t1);
  urbac_model *written = NULL, *loaded = NULL;
  urbac_write w = {"ann", "test_written", false, 0, &written, NULL};
  uint64_t rev, rev2;
  assert_int_equal(urbac_store_apply(s, a.m, &w, &rev, NULL), URBAC_OK);
  assert_int_equal(
      urbac_store_put(s, "acme", "user", "z", "{\"id\": \"z\", \"name\": \"Zed\"}", &w, &rev, NULL),
      URBAC_OK);
  assert_non_null(written);
  assert_int_equal(urbac_store_load(s, "acme", &loaded, &rev2, NULL), URBAC_OK);
  assert_int_equal(rev, rev2);
  char *x = saved(written), *y = saved(loaded);
  assert_string_equal(x, y);
  free(x);
  free(y);
  urbac_model_free(written);
  urbac_model_free(loaded);
  written = (urbac_model *)1; /* a refused put leaves NULL */
  urbac_diag *d = urbac_diag_new();
  assert_int_not_equal(
      urbac_store_put(s, "acme", "group", "g", "{\"id\": \"g\", \"members\": [\"nobody\"]}", &w, &rev, d),
      URBAC_OK);
  assert_int_equal(urbac_diag_get(d, 0)->code, URBAC_EDANGLING);
  assert_null(written);
  urbac_diag_free(d);
  tenant_free(&a);
  urbac_store_close(s);
}

/* A put says whether its object existed before it, on the incremental path and
 * on the whole-tenant one (w.written set), read with the write itself. */
static void test_existed(void **state)
{
  (void)state;
  urbac_store *s = fresh();
  tenant a = tenant_load(t1);
  urbac_model *written = NULL;
  bool existed = true;
  uint64_t rev;
  urbac_write w = {"ann", "test_existed", false, 0, NULL, &existed};
  assert_int_equal(urbac_store_apply(s, a.m, &w, &rev, NULL), URBAC_OK);
  for (int whole = 0; whole < 2; whole++) {
    const char *id = whole ? "y" : "z";
    char body[64];
    snprintf(body, sizeof body, "{\"id\": \"%s\"}", id);
    w.written = whole ? &written : NULL;
    existed = true;
    assert_int_equal(urbac_store_put(s, "acme", "user", id, body, &w, &rev, NULL), URBAC_OK);
    assert_false(existed); /* created */
    urbac_model_free(written);
    written = NULL;
    assert_int_equal(urbac_store_put(s, "acme", "user", id, body, &w, &rev, NULL), URBAC_OK);
    assert_true(existed); /* there, even when nothing changes */
    urbac_model_free(written);
    written = NULL;
    assert_int_equal(urbac_store_put(s, "acme", "user", id, NULL, &w, &rev, NULL), URBAC_OK);
    assert_true(existed); /* deleted */
    urbac_model_free(written);
    written = NULL;
  }
  tenant_free(&a);
  urbac_store_close(s);
}

typedef struct key_list {
  int n;
  char id[17], user[64], scope[16], revoked[32], hash[80], created_by[64];
  bool matches, matches_wrong;
  const char *secret;
} key_list;

static int list_key(void *ctx, const urbac_api_key *k)
{
  key_list *l = ctx;
  l->n++;
  snprintf(l->id, sizeof l->id, "%s", k->id);
  snprintf(l->user, sizeof l->user, "%s", k->user);
  snprintf(l->scope, sizeof l->scope, "%s", k->scope);
  snprintf(l->revoked, sizeof l->revoked, "%s", k->revoked);
  snprintf(l->hash, sizeof l->hash, "%s", k->hash);
  snprintf(l->created_by, sizeof l->created_by, "%s", k->created_by);
  char wrong[65];
  snprintf(wrong, sizeof wrong, "%s", l->secret);
  wrong[0] = wrong[0] == '0' ? '1' : '0';
  l->matches = urbac_key_matches(k, l->secret, 64);
  l->matches_wrong = urbac_key_matches(k, wrong, 64);
  return 0;
}

static void key_refused(urbac_store *s, urbac_api_key spec, urbac_err want, const char *needle)
{
  urbac_write w = {"test", "key", false, 0, NULL, NULL};
  urbac_diag *d = urbac_diag_new();
  char *token = NULL;
  assert_int_equal(urbac_store_key_create(s, "acme", &spec, &w, &token, d), want);
  assert_null(token);
  assert_non_null(strstr(urbac_diag_get(d, 0)->message, needle));
  urbac_diag_free(d);
}

/* A write's check sees the tenant as it would be and can refuse it: nothing is
 * written, the revision stays; it is not asked when nothing would change. */
typedef struct check_log {
  int calls;
  bool refuse, saw_zed;
} check_log;

static urbac_err check_write(void *ctx, const urbac_model *after, urbac_diag *d)
{
  check_log *c = ctx;
  c->calls++;
  c->saw_zed = false;
  for (size_t i = 0; i < urbac_model_count(after, URBAC_OBJ_USER); i++)
    c->saw_zed = c->saw_zed || strcmp(urbac_model_id(after, URBAC_OBJ_USER, i), "z") == 0;
  return c->refuse ? urbac_diag_add(d, URBAC_EREFUSED, NULL, 0, 0, NULL, "refused by the check") : URBAC_OK;
}

static void test_write_check(void **state)
{
  (void)state;
  urbac_store *s = fresh();
  tenant a = tenant_load(t1), b = tenant_load(t2);
  check_log c = {0, true, false};
  urbac_write w = {"ann", "test_write_check", false, 0, NULL, NULL};
  uint64_t rev, now, count, bad;
  assert_int_equal(urbac_store_apply(s, a.m, &w, &rev, NULL), URBAC_OK);
  urbac_store_check_writes(s, check_write, &c);
  urbac_diag *d = urbac_diag_new();
  assert_int_equal(urbac_store_put(s, "acme", "user", "z", "{\"id\": \"z\"}", &w, &now, d), URBAC_EREFUSED);
  assert_int_equal(c.calls, 1);
  assert_true(c.saw_zed); /* the tenant as it would be */
  assert_non_null(strstr(urbac_diag_get(d, 0)->message, "refused by the check"));
  assert_int_equal(urbac_store_apply(s, b.m, &w, &now, NULL), URBAC_EREFUSED);
  assert_int_equal(urbac_store_revision(s, "acme", &now, NULL), URBAC_OK);
  assert_int_equal(now, rev); /* nothing written */
  char *json = NULL;
  assert_int_equal(urbac_store_get(s, "acme", "user", "z", &json, NULL, NULL), URBAC_ENOTFOUND);
  assert_int_equal(urbac_store_audit_verify(s, "acme", &count, &bad, NULL), URBAC_OK);
  c.calls = 0;
  assert_int_equal(urbac_store_apply(s, a.m, &w, &now, NULL), URBAC_OK); /* no change: not asked */
  assert_int_equal(c.calls, 0);
  c.refuse = false;
  assert_int_equal(urbac_store_put(s, "acme", "user", "z", "{\"id\": \"z\"}", &w, &now, NULL), URBAC_OK);
  assert_int_equal(c.calls, 1);
  assert_int_equal(now, rev + 1);
  urbac_store_check_writes(s, NULL, NULL);
  c.refuse = true;
  assert_int_equal(urbac_store_put(s, "acme", "user", "y", "{\"id\": \"y\"}", &w, &now, NULL), URBAC_OK);
  assert_int_equal(c.calls, 1); /* unset: not asked */
  urbac_diag_free(d);
  tenant_free(&a);
  tenant_free(&b);
  urbac_store_close(s);
}

static void test_keys(void **state)
{
  (void)state;
  urbac_store *s = fresh();
  tenant a = tenant_load(t1), b = tenant_load(t2);
  urbac_write w = {"ann", "test_keys", false, 0, NULL, NULL};
  uint64_t rev, after, count, bad;
  char *token, id[17];
  const char *secret;
  size_t slen;
  assert_int_equal(urbac_store_apply(s, a.m, &w, &rev, NULL), URBAC_OK);
  urbac_api_key spec = {.user = "a", .name = "ci", .scope = "decisions", .expires = "2099-01-01T00:00:00Z"};
  assert_int_equal(urbac_store_key_create(s, "acme", &spec, &w, &token, NULL), URBAC_OK);
  assert_true(urbac_key_token_split(token, strlen(token), id, &secret, &slen));
  assert_int_equal(slen, 64);
  assert_false(urbac_key_token_split(token, strlen(token) - 1, id, &secret, &slen));
  assert_false(urbac_key_token_split("urbac_zz", 8, id, &secret, &slen));
  key_list l = {.secret = secret};
  assert_int_equal(urbac_store_keys(s, "acme", list_key, &l, NULL), URBAC_OK);
  assert_int_equal(l.n, 1);
  assert_string_equal(l.id, id);
  assert_string_equal(l.user, "a");
  assert_string_equal(l.scope, "decisions");
  assert_string_equal(l.revoked, "");
  assert_string_equal(l.created_by, "ann"); /* who minted it, from the write */
  assert_true(l.matches);                   /* the secret hashes to the stored hash */
  assert_false(l.matches_wrong);            /* and nothing else does */
  assert_null(strstr(l.hash, secret));
  /* a key is audited but is not part of the tenant: the revision stays, and
   * applying the tenant file (which has no keys) keeps it */
  assert_int_equal(urbac_store_revision(s, "acme", &after, NULL), URBAC_OK);
  assert_int_equal(after, rev);
  assert_int_equal(urbac_store_apply(s, b.m, &w, &rev, NULL), URBAC_OK);
  assert_int_equal(plan_size(s, b.m), 0);
  l.n = 0;
  assert_int_equal(urbac_store_keys(s, "acme", list_key, &l, NULL), URBAC_OK);
  assert_int_equal(l.n, 1);
  assert_int_equal(urbac_store_audit_verify(s, "acme", &count, &bad, NULL), URBAC_OK);
  /* bad requests change nothing */
  key_refused(s, (urbac_api_key){.user = "zz", .name = "x", .scope = "all"}, URBAC_EDANGLING, "no user 'zz'");
  key_refused(s, (urbac_api_key){.user = "a", .name = "x", .scope = "root"}, URBAC_EVALUE, "scope 'root'");
  key_refused(s, (urbac_api_key){.user = "a", .name = "x", .scope = "all", .expires = "soon"}, URBAC_EVALUE,
              "expires");
  assert_int_equal(urbac_store_key_revoke(s, "acme", "0123456789abcdef", &w, NULL), URBAC_ENOTFOUND);
  urbac_write by_bob = {"bob", "revoke", false, 0, NULL, NULL};
  assert_int_equal(urbac_store_key_revoke(s, "acme", id, &by_bob, NULL), URBAC_OK);
  l.n = 0;
  assert_int_equal(urbac_store_keys(s, "acme", list_key, &l, NULL), URBAC_OK);
  assert_int_equal(l.n, 1);
  assert_true(l.revoked[0] != '\0');
  assert_string_equal(l.created_by, "ann"); /* revoking keeps who created it */
  assert_int_equal(urbac_store_audit_verify(s, "acme", &count, &bad, NULL), URBAC_OK);
  /* a key row edited behind urbac's back is refused, by name */
  urbac_store_close(s);
  sql("UPDATE objects SET body = '{\"id\": 5}' WHERE kind = 'apiKey'");
  assert_int_equal(urbac_store_open(target(), URBAC_STORE_WRITE, &s, NULL), URBAC_OK);
  urbac_diag *d = urbac_diag_new();
  assert_int_equal(urbac_store_keys(s, "acme", list_key, &l, d), URBAC_ESTORE);
  assert_non_null(strstr(urbac_diag_get(d, 0)->message, id));
  urbac_diag_clear(d);
  assert_int_equal(urbac_store_audit_verify(s, "acme", &count, &bad, d), URBAC_ETAMPERED);
  assert_non_null(strstr(urbac_diag_get(d, 0)->message, id)); /* and the audit check names it */
  urbac_diag_free(d);
  free(token);
  tenant_free(&a);
  tenant_free(&b);
  urbac_store_close(s);
}

/* The bytes of the store file, to show a refused open changed nothing. */
static char *file_bytes(size_t *len)
{
  FILE *f = fopen(dbpath, "rb");
  char *buf = calloc(1, 1 << 20);
  *len = f ? fread(buf, 1, 1 << 20, f) : 0;
  if (f)
    fclose(f);
  return buf;
}

static void refused_at(const char *url, urbac_err want, const char *needle)
{
  size_t l1, l2;
  char *before = file_bytes(&l1);
  urbac_store *s = NULL;
  urbac_diag *d = urbac_diag_new();
  assert_int_equal(urbac_store_open(url, URBAC_STORE_WRITE, &s, d), want);
  assert_null(s);
  if (!strstr(urbac_diag_get(d, 0)->message, needle))
    print_error("expected '%s' in '%s'\n", needle, urbac_diag_get(d, 0)->message);
  assert_non_null(strstr(urbac_diag_get(d, 0)->message, needle));
  char *after = file_bytes(&l2);
  assert_int_equal(l1, l2);
  assert_memory_equal(before, after, l1);
  free(before);
  free(after);
  urbac_diag_free(d);
}

static void refused(urbac_err want, const char *needle) { refused_at(target(), want, needle); }

static void test_hostile_files(void **state)
{
  (void)state;
  if (pg_url) {
    refused_at(getenv("URBAC_TEST_PG_BADPASS_URL"), URBAC_ESTORE, "password authentication failed");
    refused_at("postgresql://postgres:x@127.0.0.1:1/postgres?connect_timeout=2", URBAC_ESTORE,
               "cannot connect to the store");
  }
  remove_db();
  FILE *f = pg_url ? NULL : fopen(dbpath, "wb");
  if (pg_url)
    goto database;
  for (int i = 0; i < 4096; i++)
    fputc((i * 7919) & 0xff, f);
  fclose(f);
  refused(URBAC_ESCHEMA, "not a urbac store");
database:
  remove_db();
  sql("CREATE TABLE invoices (id INTEGER)");
  refused(URBAC_ESCHEMA, "holds other tables");
  urbac_store *s = fresh();
  urbac_store_close(s);
  sql("INSERT INTO urbac_schema VALUES (99, 'later')");
  refused(URBAC_ESCHEMA, "version 99, newer than this urbac knows");
  /* a corrupt row: loading says where it came from and loads nothing */
  s = fresh();
  tenant a = tenant_load(t1);
  urbac_write w = {"ann", "cmd", false, 0, NULL, NULL};
  uint64_t rev;
  assert_int_equal(urbac_store_apply(s, a.m, &w, &rev, NULL), URBAC_OK);
  urbac_store_close(s);
  sql("UPDATE objects SET body = '{\"id\": 7' WHERE id = 'b'");
  assert_int_equal(urbac_store_open(target(), URBAC_STORE_WRITE, &s, NULL), URBAC_OK);
  urbac_model *m = NULL;
  urbac_diag *d = urbac_diag_new();
  assert_int_not_equal(urbac_store_load(s, "acme", &m, NULL, d), URBAC_OK);
  assert_null(m);
  assert_string_equal(urbac_diag_get(d, 0)->file, "store:acme");
  assert_int_equal(urbac_diag_get(d, 0)->line, 0); /* no position inside an assembled buffer */
  urbac_diag_free(d);
  urbac_store_close(s);
  tenant_free(&a);
  /* an empty store asks to be initialized */
  remove_db();
  assert_int_equal(urbac_store_open(target(), URBAC_STORE_CREATE, &s, NULL), URBAC_OK);
  assert_int_equal(urbac_store_load(s, "acme", &m, NULL, NULL), URBAC_ESCHEMA);
  urbac_store_close(s);
  remove_db();
}

/* Another process writes; the watcher sees the new revision well within its timeout. */
static void test_watch(void **state)
{
  (void)state;
  urbac_store *s = fresh();
  tenant a = tenant_load(t1);
  urbac_write w = {"ann", "cmd", false, 0, NULL, NULL};
  uint64_t rev;
  assert_int_equal(urbac_store_apply(s, a.m, &w, &rev, NULL), URBAC_OK);
  /* nothing happens: the wait ends on the timeout with the same revision */
  assert_int_equal(urbac_store_watch(s, "acme", 1, 120, &rev, NULL), URBAC_OK);
  assert_int_equal(rev, 1);
  pid_t child = fork();
  if (child == 0) {
    urbac_store *c;
    tenant b = tenant_load(t2);
    usleep(200 * 1000);
    _exit(urbac_store_open(target(), URBAC_STORE_WRITE, &c, NULL) || urbac_store_apply(c, b.m, &w, &rev, NULL)
              ? 1
              : 0);
  }
  struct timespec w0, w1;
  clock_gettime(CLOCK_MONOTONIC, &w0);
  assert_int_equal(urbac_store_watch(s, "acme", 1, 5000, &rev, NULL), URBAC_OK);
  clock_gettime(CLOCK_MONOTONIC, &w1);
  assert_int_equal(rev, 2);
  assert_true(w1.tv_sec - w0.tv_sec < 2); /* within a second of the write */
  int status;
  waitpid(child, &status, 0);
  assert_int_equal(WEXITSTATUS(status), 0);
  tenant_free(&a);
  urbac_store_close(s);
}

/* The one message `url` is refused with, or "" when it opens. */
static const char *refusal(const char *url, urbac_store_mode mode, urbac_err want, char *buf, size_t size)
{
  urbac_store *s = NULL;
  urbac_diag *d = urbac_diag_new();
  assert_int_equal(urbac_store_open(url, mode, &s, d), want);
  buf[0] = '\0';
  if (urbac_diag_count(d))
    urbac_diag_format(d, 0, buf, size);
  urbac_store_close(s);
  urbac_diag_free(d);
  return buf;
}

static bool exists(const char *path) { return access(path, F_OK) == 0; }

/* sqlite:///abs and sqlite:rel name the file; other schemes are refused by name; a
 * store that is not there is not created unless asked. */
static void test_urls_and_modes(void **state)
{
  (void)state;
  char url[400], msg[1024], cwd[512];
  urbac_store *s = NULL;
  urbac_write w = {"ann", "cmd", false, 0, NULL, NULL};
  uint64_t rev = 0, rev2 = 0;
  remove_file();
  /* a read or a write of a store that is not there creates nothing */
  assert_non_null(
      strstr(refusal(dbpath, URBAC_STORE_READ, URBAC_ENOTFOUND, msg, sizeof msg), "run 'urbac init'"));
  assert_false(exists(dbpath));
  assert_non_null(
      strstr(refusal(dbpath, URBAC_STORE_WRITE, URBAC_ENOTFOUND, msg, sizeof msg), "no store here"));
  assert_false(exists(dbpath));
  snprintf(url, sizeof url, "sqlite://%s", dbpath);
  refusal(url, URBAC_STORE_READ, URBAC_ENOTFOUND, msg, sizeof msg);
  assert_false(exists(dbpath));
  /* sqlite:///ABSOLUTE/PATH creates (when asked) and names the same file as the path */
  assert_int_equal(urbac_store_open(url, URBAC_STORE_CREATE, &s, NULL), URBAC_OK);
  int from, to;
  assert_int_equal(urbac_store_migrate(s, &from, &to, NULL), URBAC_OK);
  tenant a = tenant_load(t1);
  assert_int_equal(urbac_store_apply(s, a.m, &w, &rev, NULL), URBAC_OK);
  urbac_store_close(s);
  assert_true(exists(dbpath));
  assert_int_equal(urbac_store_open(dbpath, URBAC_STORE_READ, &s, NULL), URBAC_OK);
  assert_int_equal(urbac_store_revision(s, "acme", &rev2, NULL), URBAC_OK);
  assert_int_equal(rev2, rev);
  urbac_store_close(s);
  /* sqlite:RELATIVE/PATH, from the file's folder */
  assert_non_null(getcwd(cwd, sizeof cwd));
  assert_int_equal(chdir("/tmp"), 0);
  snprintf(url, sizeof url, "sqlite:%s", strrchr(dbpath, '/') + 1);
  assert_int_equal(urbac_store_open(url, URBAC_STORE_READ, &s, NULL), URBAC_OK);
  assert_int_equal(urbac_store_revision(s, "acme", &rev2, NULL), URBAC_OK);
  assert_int_equal(rev2, rev);
  urbac_store_close(s);
  assert_int_equal(chdir(cwd), 0);
  /* a store opened for reading is not written */
  assert_int_equal(urbac_store_open(dbpath, URBAC_STORE_READ, &s, NULL), URBAC_OK);
  tenant b = tenant_load(t2);
  assert_int_not_equal(urbac_store_apply(s, b.m, &w, &rev2, NULL), URBAC_OK);
  urbac_store_close(s);
  /* schemes this urbac does not know, and a sqlite URL with a host */
  assert_non_null(strstr(refusal("mysql://u:hunter2@db/x", URBAC_STORE_READ, URBAC_EINVAL, msg, sizeof msg),
                         "not a store URL this urbac knows"));
  assert_null(strstr(msg, "hunter2"));
  assert_non_null(
      strstr(refusal("sqlite://host/x.db", URBAC_STORE_READ, URBAC_EINVAL, msg, sizeof msg), "no host"));
  refusal("sqlite:", URBAC_STORE_CREATE, URBAC_EINVAL, msg, sizeof msg);
  refusal("", URBAC_STORE_READ, URBAC_EINVAL, msg, sizeof msg);
  assert_false(exists("/tmp/x.db"));
  tenant_free(&a);
  tenant_free(&b);
  remove_file();
}

/* A password in a store URL is never shown, even when libpq quotes the URL back. */
static void test_password_redacted(void **state)
{
  (void)state;
  static const char *const bad[] = {
      "postgresql://urbac:hunter2%zz@127.0.0.1/urbac",    /* libpq quotes the bad escape */
      "postgresql://urbac:hunter2pw@[::1/urbac",          /* libpq quotes the whole URL */
      "postgresql://urbac@[::1/urbac?password=hunter2pw", /* the password as a parameter */
      "postgresql://urbac:hunter2@pw@[::1/urbac",         /* an unescaped @ in it */
  };
  char msg[1024], shown[256];
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    refusal(bad[i], URBAC_STORE_READ, URBAC_ESTORE, msg, sizeof msg);
    if (strstr(msg, "hunter2"))
      print_error("%s: %s\n", bad[i], msg);
    assert_null(strstr(msg, "hunter2"));
    assert_non_null(strstr(msg, "cannot connect to the store"));
  }
  urbac_store_url_redacted("postgresql://u:s3cret@h:5432/db?sslmode=require", shown, sizeof shown);
  assert_string_equal(shown, "postgresql://u:***@h:5432/db?sslmode=require");
  urbac_store_url_redacted("postgresql://u@h/db?sslmode=require&password=s3cret", shown, sizeof shown);
  assert_string_equal(shown, "postgresql://u@h/db?sslmode=require&password=***");
  urbac_store_url_redacted("/var/lib/urbac/a@b:c.db", shown, sizeof shown);
  assert_string_equal(shown, "/var/lib/urbac/a@b:c.db");
}

/* Every client connection to the test database but this one, ended by the server. */
static void kill_connections(void)
{
  pg_exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
          " AND pid <> pg_backend_pid() AND backend_type = 'client backend'");
  usleep(100 * 1000);
}

static double cpu_seconds(void)
{
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double since(const struct timespec *t0)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* PostgreSQL: tenant `a` applied to `s` (its revision in *rev), and a second
 * handle on the store whose watch already listens (the caller closes it). */
static urbac_store *listening(urbac_store *s, const tenant *a, const urbac_write *w, uint64_t *rev)
{
  urbac_store *watcher = NULL;
  uint64_t seen = 0;
  assert_int_equal(urbac_store_apply(s, a->m, w, rev, NULL), URBAC_OK);
  assert_int_equal(urbac_store_open(target(), URBAC_STORE_WRITE, &watcher, NULL), URBAC_OK);
  assert_int_equal(urbac_store_watch(watcher, "acme", *rev, 100, &seen, NULL), URBAC_OK);
  return watcher;
}

/* PostgreSQL: a notification libpq already read ends a wait at once. It comes in
 * with the answer to the watcher's own query (its revision read) when a write
 * commits while that query runs: the revision read saw the old revision, and the
 * notification is no longer on the socket, so a wait that only polled the socket
 * slept its whole timeout (a second server's p99 of ~500 ms in
 * bench/results/writes.md). Here the notification is made to arrive before a
 * revision read; the backend's wait is then asked directly. */
static void test_watch_held_notification(void **state)
{
  (void)state;
  if (!pg_url)
    skip();
  urbac_store *s = fresh(), *watcher = NULL;
  urbac_write w = {"ann", "cmd", false, 0, NULL, NULL};
  tenant a = tenant_load(t1), b = tenant_load(t2);
  uint64_t rev = 0, seen = 0;
  watcher = listening(s, &a, &w, &rev);
  assert_int_equal(urbac_store_apply(s, b.m, &w, &rev, NULL), URBAC_OK); /* NOTIFY at its commit */
  usleep(100 * 1000);                                                    /* on the watcher's socket */
  /* libpq reads the notification in with the answer */
  assert_int_equal(urbac_store_revision(watcher, "acme", &seen, NULL), URBAC_OK);
  assert_int_equal(seen, rev);
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_int_equal(watcher->ops->wait(watcher->db, 3000), URBAC_OK);
  double waited = since(&t0);
  if (waited > 1.0)
    fail_msg("a notification libpq held was slept over: the wait took %.2f s", waited);
  /* and the next wait, with nothing new, sleeps again till its timeout */
  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_int_equal(watcher->ops->wait(watcher->db, 300), URBAC_OK);
  assert_true(since(&t0) >= 0.25);
  tenant_free(&a);
  tenant_free(&b);
  urbac_store_close(watcher);
  urbac_store_close(s);
}

/* PostgreSQL: connections that broke are made again; a watcher listens again and
 * catches up; while the server is down calls fail at once with URBAC_EUNAVAILABLE
 * and a watch sleeps instead of spinning. */
static void test_reconnect(void **state)
{
  (void)state;
  const char *ctl = getenv("URBAC_TEST_PG_CTL");
  if (!pg_url)
    skip();
  urbac_store *s = fresh(), *watcher = NULL;
  urbac_write w = {"ann", "cmd", false, 0, NULL, NULL};
  tenant a = tenant_load(t1), b = tenant_load(t2);
  uint64_t rev = 0, seen = 0;
  urbac_store_health h;
  watcher = listening(s, &a, &w, &rev);
  /* the server ends both connections (an administrator, a failover): the next call works */
  kill_connections();
  assert_int_equal(urbac_store_apply(s, b.m, &w, &rev, NULL), URBAC_OK);
  assert_int_equal(rev, 2);
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_int_equal(urbac_store_watch(watcher, "acme", 1, 5000, &seen, NULL), URBAC_OK);
  assert_int_equal(seen, 2); /* caught up from the revision it had */
  assert_true(since(&t0) < 1.0);
  urbac_store_health_get(watcher, &h);
  assert_true(h.up);
  assert_int_equal(h.reconnects, 1);
  /* notifications arrive again on the new connection */
  pid_t child = fork();
  if (child == 0) {
    urbac_store *c;
    usleep(200 * 1000);
    _exit(urbac_store_open(target(), URBAC_STORE_WRITE, &c, NULL) || urbac_store_apply(c, a.m, &w, &rev, NULL)
              ? 1
              : 0);
  }
  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_int_equal(urbac_store_watch(watcher, "acme", 2, 5000, &seen, NULL), URBAC_OK);
  assert_int_equal(seen, 3);
  assert_true(since(&t0) < 1.0);
  int status;
  waitpid(child, &status, 0);
  assert_int_equal(WEXITSTATUS(status), 0);
  if (ctl) { /* the server stopped: fail fast, sleep in watch, come back after a start */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "%s stop", ctl);
    assert_int_equal(system(cmd), 0);
    urbac_diag *d = urbac_diag_new();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(urbac_store_apply(s, b.m, &w, &rev, d), URBAC_EUNAVAILABLE);
    assert_non_null(strstr(urbac_diag_get(d, 0)->message, "the store is unavailable"));
    const char *pw = strchr(pg_url + 13, ':') + 1; /* postgresql://postgres:PASSWORD@... */
    char secret[128];
    snprintf(secret, sizeof secret, "%.*s", (int)(strchr(pw, '@') - pw), pw);
    assert_null(strstr(urbac_diag_get(d, 0)->message, secret));
    urbac_diag_free(d);
    assert_true(since(&t0) < 1.0);
    double c0 = cpu_seconds();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(urbac_store_watch(watcher, "acme", 3, 1500, &seen, NULL), URBAC_EUNAVAILABLE);
    double waited = since(&t0), used = cpu_seconds() - c0;
    assert_true(waited >= 1.4);
    if (used > 0.1)
      print_error("a watch on a stopped server used %.3f s of CPU in %.2f s\n", used, waited);
    assert_true(used < 0.1);
    urbac_store_health_get(watcher, &h);
    assert_false(h.up);
    assert_non_null(strstr(h.why, "127.0.0.1"));
    snprintf(cmd, sizeof cmd, "%s start", ctl);
    assert_int_equal(system(cmd), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    urbac_err err = URBAC_EUNAVAILABLE;
    while (err == URBAC_EUNAVAILABLE && since(&t0) < 15) /* the back-off is at most 5 s */
      err = urbac_store_watch(watcher, "acme", 3, 500, &seen, NULL);
    assert_int_equal(err, URBAC_OK);
    urbac_store_health_get(watcher, &h);
    assert_true(h.up);
    assert_int_equal(h.reconnects, 2);
    for (err = URBAC_EUNAVAILABLE; err == URBAC_EUNAVAILABLE && since(&t0) < 15; usleep(100 * 1000))
      err = urbac_store_apply(s, b.m, &w, &rev, NULL);
    assert_int_equal(err, URBAC_OK);
    assert_int_equal(rev, 4);
  }
  tenant_free(&a);
  tenant_free(&b);
  urbac_store_close(watcher);
  urbac_store_close(s);
}

/* The audit key and witness belong to the handle, not to its connection: writes
 * after the server ended the connection (and, with pg.sh's control, after a
 * stop and start) are MACed and witnessed as before, and verify agrees. */
static void test_audit_across_reconnect(void **state)
{
  (void)state;
  const char *ctl = getenv("URBAC_TEST_PG_CTL");
  if (!pg_url)
    skip();
  snprintf(keypath, sizeof keypath, "/tmp/urbac-test-key-%d", (int)getpid());
  snprintf(witpath, sizeof witpath, "/tmp/urbac-test-witness-%d", (int)getpid());
  write_key(keypath, "0123456789abcdef0123456789abcdef0123456789abcdef\n", 0600);
  unlink(witpath);
  urbac_audit_opts both = {keypath, witpath, false};
  urbac_store *s = fresh();
  urbac_write w = {"ann", "cmd", false, 0, NULL, NULL};
  tenant a = tenant_load(t1), b = tenant_load(t2);
  urbac_audit_report r;
  char why[4096];
  uint64_t rev = 0, writes = 2;
  assert_int_equal(urbac_store_set_audit(s, &both, NULL), URBAC_OK);
  assert_int_equal(urbac_store_apply(s, a.m, &w, &rev, NULL), URBAC_OK);
  kill_connections();
  assert_int_equal(urbac_store_apply(s, b.m, &w, &rev, NULL), URBAC_OK);
  assert_int_equal(rev, 2);
  if (ctl) {
    char cmd[600];
    struct timespec t0;
    snprintf(cmd, sizeof cmd, "%s stop", ctl);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(urbac_store_apply(s, a.m, &w, &rev, NULL), URBAC_EUNAVAILABLE);
    snprintf(cmd, sizeof cmd, "%s start", ctl);
    assert_int_equal(system(cmd), 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    urbac_err err = URBAC_EUNAVAILABLE;
    for (; err == URBAC_EUNAVAILABLE && since(&t0) < 15; usleep(100 * 1000)) /* the back-off is at most 5 s */
      err = urbac_store_apply(s, a.m, &w, &rev, NULL);
    assert_int_equal(err, URBAC_OK);
    assert_int_equal(rev, 3);
    writes = 3;
  }
  urbac_store_close(s);
  assert_int_equal(checked(&both, &r, why, sizeof why), URBAC_OK);
  assert_true(r.records > 0);
  assert_int_equal(r.keyed, r.records); /* every record MACed, those after the reconnect too */
  assert_int_equal(r.stated, r.records);
  assert_int_equal(r.witnessed, writes);
  tenant_free(&a);
  tenant_free(&b);
  unlink(keypath);
  unlink(witpath);
}

/* The one number `query` gives, read behind urbac's back. */
static long long scalar(const char *query)
{
  long long v = -1;
  if (pg_url) {
    PGconn *c = PQconnectdb(pg_url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, query);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    v = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
    return v;
  }
  sqlite3 *h;
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_open(dbpath, &h), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(h, query, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(h);
  return v;
}

/* A new tenant of many objects applied at once, as import-graph writes one: past
 * the SQLite store's bulk threshold (20,000 rows: a bigger page cache, rows
 * inserted many to a statement, the index by target built after them) and not a
 * multiple of the rows a statement takes. Refused at its very last audit record,
 * it leaves nothing (no tenant, object, index row or record; the index by target
 * still there) and the connection usable; applied again on it, it loads back as
 * given, its index holds one row per name it gives, and its log checks. */
/* The SQLite file's journal mode, read by a connection of its own. */
static const char *journal_mode(void)
{
  static char mode[16];
  sqlite3 *h;
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_open(dbpath, &h), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  snprintf(mode, sizeof mode, "%s", (const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(h);
  return mode;
}

/* The size of the SQLite file's -wal file (0 when there is none). */
static long long wal_size(void)
{
  char p[300];
  struct stat st;
  snprintf(p, sizeof p, "%s-wal", dbpath);
  return stat(p, &st) == 0 ? (long long)st.st_size : 0;
}

enum { BULK_USERS = 20101, IN_FIRST = 12000 };

/* Tenant "bulk": BULK_USERS users named `name` and their number, IN_FIRST of them
 * in group "first", the last and "first" in group "second". */
static tenant bulk_tenant(const char *name)
{
  urbac__buf b = {0};
  urbac__buf_puts(&b, "urbac: 1\ntenant: bulk\nusers:\n");
  for (int i = 0; i < BULK_USERS; i++)
    urbac__buf_printf(&b, "  - {id: u%05d, name: %s %d}\n", i, name, i);
  urbac__buf_puts(&b, "groups:\n  - id: first\n    members: [");
  for (int i = 0; i < IN_FIRST; i++)
    urbac__buf_printf(&b, "%su%05d", i ? ", " : "", i);
  urbac__buf_printf(&b, "]\n  - {id: second, members: [u%05d, group:first]}\n", BULK_USERS - 1);
  assert_false(b.failed);
  tenant t = tenant_load(b.s);
  urbac__buf_free(&b);
  return t;
}

static void test_bulk_apply(void **state)
{
  (void)state;
  urbac_store *s = fresh();
  tenant t = bulk_tenant("User");
  urbac_write w = {"test", "test_bulk_apply", false, 0, NULL, NULL};
  uint64_t rev = 0, count = 0, bad_seq = 0;
  urbac_diag *d = urbac_diag_new();
  if (pg_url)
    sql("CREATE OR REPLACE FUNCTION urbac_test_refuse() RETURNS trigger AS $$ BEGIN"
        " RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql;"
        "CREATE TRIGGER refuse_last BEFORE INSERT ON audit FOR EACH ROW WHEN (NEW.object = 'second')"
        " EXECUTE FUNCTION urbac_test_refuse()");
  else
    sql("CREATE TRIGGER refuse_last BEFORE INSERT ON audit WHEN NEW.object = 'second'"
        " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
  assert_int_equal(urbac_store_apply(s, t.m, &w, &rev, d), URBAC_ESTORE);
  assert_non_null(strstr(urbac_diag_get(d, 0)->message, "refused by the test"));
  assert_int_equal(scalar("SELECT count(*) FROM tenants"), 0);
  assert_int_equal(scalar("SELECT count(*) FROM objects"), 0);
  assert_int_equal(scalar("SELECT count(*) FROM refs"), 0);
  assert_int_equal(scalar("SELECT count(*) FROM audit"), 0);
  assert_int_equal(scalar(pg_url ? "SELECT count(*) FROM pg_indexes WHERE indexname = 'refs_to'"
                                 : "SELECT count(*) FROM sqlite_master WHERE name = 'refs_to'"),
                   1);
  sql(pg_url ? "DROP TRIGGER refuse_last ON audit; DROP FUNCTION urbac_test_refuse()"
             : "DROP TRIGGER refuse_last");
  if (!pg_url) /* out of the rollback journal the refused write went through (test_bulk_journal) */
    assert_string_equal(journal_mode(), "wal");
  /* the same connection: on PostgreSQL the refusal came with the COMMIT, which once left
   * the transaction open and aborted, so every later write failed */
  assert_int_equal(urbac_store_apply(s, t.m, &w, &rev, NULL), URBAC_OK);
  assert_int_equal(rev, 1);
  loads_as(s, "bulk", t.m);
  assert_int_equal(scalar("SELECT count(*) FROM objects WHERE kind = 'user'"), BULK_USERS);
  assert_int_equal(scalar("SELECT count(*) FROM refs WHERE from_id = 'first' AND to_kind = 'user'"),
                   IN_FIRST);
  assert_int_equal(scalar("SELECT count(*) FROM refs WHERE from_id = 'second'"), 2);
  assert_int_equal(scalar("SELECT count(*) FROM refs"), IN_FIRST + 2);
  assert_int_equal(urbac_store_audit_verify(s, "bulk", &count, &bad_seq, NULL), URBAC_OK);
  assert_int_equal(count, BULK_USERS + 2 + 1); /* and the tenant's workloads */
  urbac_diag_free(d);
  tenant_free(&t);
  urbac_store_close(s);
}

/* A whole tenant written into a SQLite file no other connection has open goes
 * through a rollback journal, each page written once: the WAL stays empty, and
 * the file is in WAL mode again after. With another connection holding the file
 * (a server's), the same write goes through the WAL, which then holds its pages;
 * that connection reads the new state. Both load back as written. */
static void test_bulk_journal(void **state)
{
  (void)state;
  if (pg_url)
    skip();
  urbac_store *s = fresh();
  tenant a = bulk_tenant("User"), b = bulk_tenant("Renamed");
  urbac_write w = {"test", "test_bulk_journal", false, 0, NULL, NULL};
  uint64_t rev = 0, count = 0, bad_seq = 0;
  assert_int_equal(urbac_store_apply(s, a.m, &w, &rev, NULL), URBAC_OK);
  assert_int_equal(rev, 1);
  assert_true(wal_size() < 64 * 1024); /* through the WAL: several MiB */
  assert_string_equal(journal_mode(), "wal");

  sqlite3 *other;
  assert_int_equal(sqlite3_open(dbpath, &other), SQLITE_OK);
  assert_int_equal(sqlite3_exec(other, "SELECT count(*) FROM objects", NULL, NULL, NULL), SQLITE_OK);
  assert_int_equal(urbac_store_apply(s, b.m, &w, &rev, NULL), URBAC_OK); /* every user renamed */
  assert_int_equal(rev, 2);
  assert_true(wal_size() > 1024 * 1024);
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(other, "SELECT body FROM objects WHERE kind = 'user' AND id = 'u00007'",
                                      -1, &st, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_non_null(strstr((const char *)sqlite3_column_text(st, 0), "Renamed 7"));
  sqlite3_finalize(st);
  sqlite3_close(other);

  loads_as(s, "bulk", b.m);
  assert_int_equal(urbac_store_audit_verify(s, "bulk", &count, &bad_seq, NULL), URBAC_OK);
  assert_int_equal(count, (BULK_USERS + 2 + 1) + BULK_USERS); /* the second renamed the users alone */
  assert_int_equal(scalar("SELECT count(*) FROM refs"), IN_FIRST + 2);
  tenant_free(&a);
  tenant_free(&b);
  urbac_store_close(s);
}

/* Runs `sql` on its own connection to the SQLite file and leaves that connection
 * open (the caller closes it): another process's handle on the store. */
static sqlite3 *other_connection(const char *sql)
{
  sqlite3 *h;
  assert_int_equal(sqlite3_open(dbpath, &h), SQLITE_OK);
  sqlite3_busy_timeout(h, 5000);
  assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
  return h;
}

/* Another process holds the file in rollback mode and writes (a bulk write by
 * another urbac): a handle opened for writing meanwhile opens at once instead of
 * waiting to put the file in WAL mode, and puts it there at its next write once
 * the other is done (here the other left it in rollback mode, as one whose switch
 * back was refused would). */
static void test_bulk_journal_others(void **state)
{
  (void)state;
  if (pg_url)
    skip();
  urbac_store *s = fresh();
  tenant a = tenant_load("urbac: 1\ntenant: t\nusers:\n  - id: u1\n");
  tenant b = tenant_load("urbac: 1\ntenant: t\nusers:\n  - id: u1\n  - id: u2\n");
  urbac_write w = {"test", "test_bulk_journal_others", false, 0, NULL, NULL};
  assert_int_equal(urbac_store_apply(s, a.m, &w, NULL, NULL), URBAC_OK);
  urbac_store_close(s);
  sqlite3 *other = other_connection("PRAGMA journal_mode=DELETE; BEGIN IMMEDIATE;"
                                    " UPDATE tenants SET audit_seq = audit_seq;");
  struct timespec from, to;
  clock_gettime(CLOCK_MONOTONIC, &from);
  assert_int_equal(urbac_store_open(target(), URBAC_STORE_WRITE, &s, NULL), URBAC_OK);
  urbac_model *back = NULL; /* reads while the other writes (it holds no exclusive lock yet) */
  assert_int_equal(urbac_store_load(s, "t", &back, NULL, NULL), URBAC_OK);
  urbac_model_free(back);
  clock_gettime(CLOCK_MONOTONIC, &to);
  assert_true(to.tv_sec - from.tv_sec < 2); /* not the 5 s busy timeout */
  assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(other);
  assert_string_equal(journal_mode(), "delete");
  assert_int_equal(urbac_store_apply(s, b.m, &w, NULL, NULL), URBAC_OK);
  assert_string_equal(journal_mode(), "wal");
  tenant_free(&a);
  tenant_free(&b);
  urbac_store_close(s);
}

/* A bulk write a crash cut short leaves its rollback journal, the pages it changed
 * already written into the file: a handle opened only to read rolls it back
 * (SQLite would otherwise refuse the read), and reads the tenant as committed. */
static void test_bulk_journal_crash(void **state)
{
  (void)state;
  if (pg_url)
    skip();
  urbac_store *s = fresh();
  tenant a = bulk_tenant("User");
  urbac_write w = {"test", "test_bulk_journal_crash", false, 0, NULL, NULL};
  assert_int_equal(urbac_store_apply(s, a.m, &w, NULL, NULL), URBAC_OK);
  urbac_store_close(s);
  pid_t child = fork();
  assert_true(child >= 0);
  if (child == 0) { /* a small cache: the changed pages spill into the file before any commit */
    sqlite3 *h = other_connection("PRAGMA journal_mode=DELETE; PRAGMA cache_size=16; BEGIN IMMEDIATE;"
                                  " UPDATE objects SET body = replace(body, 'User', 'Crashed');");
    (void)h;
    _exit(0); /* no commit, no close: as a kill */
  }
  int status;
  assert_int_equal(waitpid(child, &status, 0), child);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  char journal[300];
  struct stat st;
  snprintf(journal, sizeof journal, "%s-journal", dbpath);
  assert_int_equal(stat(journal, &st), 0);
  assert_true(st.st_size > 0);
  assert_int_equal(urbac_store_open(target(), URBAC_STORE_READ, &s, NULL), URBAC_OK);
  loads_as(s, "bulk", a.m);
  urbac_store_close(s);
  assert_true(stat(journal, &st) != 0 || st.st_size == 0);
  assert_int_equal(scalar("SELECT count(*) FROM objects WHERE body LIKE '%Crashed%'"), 0);
  tenant_free(&a);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_bulk_apply),
      cmocka_unit_test(test_bulk_journal),
      cmocka_unit_test(test_bulk_journal_others),
      cmocka_unit_test(test_bulk_journal_crash),
      cmocka_unit_test(test_existed),
      cmocka_unit_test(test_changes_and_conflicts),
      cmocka_unit_test(test_tampering),
      cmocka_unit_test(test_hostile_files),
      cmocka_unit_test(test_watch),
      cmocka_unit_test(test_keys),
      cmocka_unit_test(test_written),
      cmocka_unit_test(test_urls_and_modes),
      cmocka_unit_test(test_password_redacted),
      cmocka_unit_test(test_reconnect),
      cmocka_unit_test(test_watch_held_notification),
      cmocka_unit_test(test_write_check),
      cmocka_unit_test(test_state_key_witness),
      cmocka_unit_test(test_schema1_store),
      cmocka_unit_test(test_audit_across_reconnect),
  };
  return cmocka_run_group_tests_name(getenv("URBAC_TEST_PG_URL") ? "store (PostgreSQL)" : "store (SQLite)",
                                     tests, setup, NULL);
}
