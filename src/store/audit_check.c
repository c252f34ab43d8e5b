/*
 * store/audit_check.c - `audit verify`: everything that can vouch for a
 * tenant's audit log, checked in one read transaction.
 *
 * First the store's own pages (SQLite's integrity_check); then each record in
 * order: its place and link in the chain, its hash, its MAC (with a key: from
 * the first keyed record on, every one must carry a valid MAC, and the last
 * must), the witness's heads at its sequence number; and the replay: each
 * record's before must be what the records before it left, its state digest
 * what their changes add up to. Last the ends (the head in the tenant row, the
 * witness past the log's end) and the stored rows against the replay, each row
 * that differs named by kind and id. Every problem found is reported, the
 * first of each kind.
 *
 * Depends on: util, io/objects, store, store/audit.c, store/refs.c (the reference index), jansson.
 */
#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/audit.h"
#include "store/refs.h"

#define MAX_NAMED 20          /* rows named by a check before "and N more" */
#define WITNESS_LINE_MAX 4096 /* bytes per witness line */
#define WITNESS_MAX 100000000 /* witness lines of one tenant */

/* ---------------------------------------------------------------- checking: the witness */

typedef struct witnessed {
  uint64_t seq, revision;
  char hash[URBAC__HASH_HEX];
  uint64_t line;
} witnessed;

static int by_seq(const void *a, const void *b)
{
  const witnessed *x = a, *y = b;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* One witness line (its JSON from the first '{': a syslog line carries a prefix). */
static urbac_err witness_parse(const char *file, uint64_t ln, const char *line, const char *tenant,
                               witnessed *w, bool *mine, urbac_diag *d)
{
  const char *brace = strchr(line, '{');
  json_t *j = brace ? json_loads(brace, JSON_DISABLE_EOF_CHECK, NULL) : NULL;
  const char *t = json_string_value(json_object_get(j, "tenant"));
  const char *h = json_string_value(json_object_get(j, "hash"));
  json_t *seq = json_object_get(j, "seq"), *rev = json_object_get(j, "revision");
  urbac_err err = URBAC_OK;
  if (!t || !h || strlen(h) != 64 || !json_is_integer(seq) || !json_is_integer(rev) ||
      json_integer_value(seq) < 1 || json_integer_value(rev) < 0)
    err = urbac__diag_add(d, URBAC_ESYNTAX, file, (uint32_t)ln, 0, NULL,
                          "not a witness line (want {\"tenant\", \"seq\", \"revision\", \"hash\"})");
  *mine = !err && strcmp(t, tenant) == 0;
  if (*mine) {
    *w = (witnessed){(uint64_t)json_integer_value(seq), (uint64_t)json_integer_value(rev), "", ln};
    memcpy(w->hash, h, URBAC__HASH_HEX);
  }
  json_decref(j);
  return err;
}

/* The witness lines of `tenant`, by sequence number; empty lines are skipped. */
static urbac_err witness_read(const char *file, const char *tenant, witnessed **out, size_t *n, urbac_diag *d)
{
  char line[WITNESS_LINE_MAX + 2];
  size_t cap = 0;
  uint64_t ln = 0;
  urbac_err err = URBAC_OK;
  FILE *f = fopen(file, "re");
  *out = NULL;
  *n = 0;
  if (!f)
    return urbac__diag_add(d, URBAC_EIO, file, 0, 0, NULL, "cannot read the witness: %s", strerror(errno));
  while (!err && fgets(line, sizeof line, f)) {
    witnessed w;
    bool mine = false;
    size_t len = strlen(line);
    ln++;
    if (len > WITNESS_LINE_MAX)
      err = urbac__diag_add(d, URBAC_ELIMIT, file, (uint32_t)ln, 0, NULL,
                            "a witness line is at most %d bytes", WITNESS_LINE_MAX);
    else if (strspn(line, " \t\r\n") != len)
      err = witness_parse(file, ln, line, tenant, &w, &mine, d);
    if (!err && mine && *n >= WITNESS_MAX)
      err = urbac__diag_add(d, URBAC_ELIMIT, file, (uint32_t)ln, 0, NULL, "more than %d witness lines",
                            WITNESS_MAX);
    else if (!err && mine && URBAC_GROW(*out, cap, *n + 1))
      err = URBAC_ENOMEM;
    else if (!err && mine)
      (*out)[(*n)++] = w;
  }
  if (!err && ferror(f))
    err = urbac__diag_add(d, URBAC_EIO, file, 0, 0, NULL, "cannot read the witness: %s", strerror(errno));
  fclose(f);
  if (!err)
    qsort(*out, *n, sizeof **out, by_seq);
  return err;
}

/* ---------------------------------------------------------------- checking: the replay */

/* One object as the log's changes leave it. */
typedef struct replayed {
  char *key;   /* "kind\nid" */
  char *body;  /* NULL: deleted */
  bool legacy; /* an API key from a record before schema 2: its body has no salt or hash */
  bool stored; /* a stored row matched it */
} replayed;

typedef struct check {
  urbac_store *s;
  const char *tenant;
  urbac_audit_report *r;
  urbac_diag *d;
  bool tampered;
  /* the chain */
  char prev[URBAC__HASH_HEX];
  bool chain_broken, mac_seen, mac_problem, state_problem;
  /* the replay */
  urbac__strmap map;
  replayed *objs;
  size_t nobjs, cap;
  urbac__audit_digest state;
  char last_state[URBAC__HASH_HEX]; /* the last record's state digest, or "" */
  /* the witness */
  witnessed *wit;
  size_t nwit, at_wit;
  uint64_t agreed; /* the last witnessed record the log agrees with */
  bool wit_problem;
} check;

/* Adds a problem; a record's sequence number becomes r->bad if it is the first. */
static void problem(check *c, uint64_t seq, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(check *c, uint64_t seq, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  c->tampered = true;
  if (seq && (!c->r->bad || seq < c->r->bad))
    c->r->bad = seq;
  urbac__diag_add(c->d, URBAC_ETAMPERED, NULL, 0, 0, NULL, "%s", msg);
}

/* The replayed object (kind, id), added (deleted) when new; NULL on no memory. */
static replayed *replay_slot(check *c, const char *kind, const char *id)
{
  urbac__buf b = {0};
  uint32_t at;
  urbac__buf_printf(&b, "%s\n%s", kind, id);
  char *key = urbac__buf_take(&b, NULL);
  if (!key)
    return NULL;
  if (urbac__strmap_get(&c->map, key, strlen(key), &at)) {
    urbac__free(key);
    return &c->objs[at];
  }
  if (c->nobjs >= UINT32_MAX - 1 || URBAC_GROW(c->objs, c->cap, c->nobjs + 1) ||
      urbac__strmap_put(&c->map, key, strlen(key), (uint32_t)c->nobjs, NULL)) {
    urbac__free(key);
    return NULL;
  }
  c->objs[c->nobjs] = (replayed){key, NULL, false, false};
  return &c->objs[c->nobjs++];
}

/* Is `body` (a stored row or a record's before) what the replay holds? An API
 * key replayed from a record before schema 2 is compared without its secret hash. */
static bool same_body(const replayed *o, const char *body)
{
  if (!o->body || !body)
    return !o->body && !body;
  if (!o->legacy)
    return strcmp(o->body, body) == 0;
  char *shown = urbac__key_redact(body);
  bool same = shown && strcmp(o->body, shown) == 0;
  free(shown);
  return same;
}

static int legacy_keys(const check *c)
{
  int n = 0;
  for (size_t i = 0; i < c->nobjs; i++)
    n += c->objs[i].legacy && c->objs[i].body;
  return n;
}

/* Applies the record's change to the replay; checks its before and its state digest. */
static bool replay_record(check *c, const urbac_audit_record *r)
{
  replayed *o = replay_slot(c, r->kind, r->object);
  if (!o)
    return false;
  if (!c->state_problem && !same_body(o, r->before)) {
    c->state_problem = true;
    problem(
        c, r->seq,
        "audit record %llu (%s %s): the object it changed was not as the records before it left it: the row "
        "was changed outside urbac before this write",
        (unsigned long long)r->seq, r->kind, r->object);
  }
  if (!urbac__audit_digest_step(&c->state, -1, r->kind, r->object, r->before) ||
      !urbac__audit_digest_step(&c->state, 1, r->kind, r->object, r->after))
    return false;
  char *body = r->after ? urbac__strdup(r->after) : NULL;
  if (r->after && !body)
    return false;
  urbac__free(o->body);
  o->body = body;
  o->legacy = !r->state && strcmp(r->kind, URBAC__KIND_API_KEY) == 0;
  snprintf(c->last_state, sizeof c->last_state, "%s", r->state ? r->state : "");
  if (!r->state)
    return true;
  c->r->stated++;
  unsigned char stated[32];
  bool agrees = urbac__audit_unhex(r->state, stated) && memcmp(stated, c->state.v, 32) == 0;
  if (!agrees && !c->state_problem && !legacy_keys(c)) {
    c->state_problem = true;
    problem(c, r->seq,
            "audit record %llu (%s %s): its state digest is not what the log's changes up to it produce: a "
            "row was "
            "changed outside urbac before it was written",
            (unsigned long long)r->seq, r->kind, r->object);
  }
  memcpy(c->state.v, stated, 32); /* on from here, as the writer counted */
  return true;
}

/* ---------------------------------------------------------------- checking: each record */

static void check_mac(check *c, const urbac_audit_record *r)
{
  char mac[URBAC__HASH_HEX];
  if (!c->s->audit_key_len || c->mac_problem)
    return;
  if (r->mac && strlen(r->mac) == 64 && urbac__audit_record_mac(c->s, r->hash, mac) &&
      CRYPTO_memcmp(mac, r->mac, 64) == 0) {
    c->mac_seen = true;
    c->r->keyed++;
  } else if (r->mac) {
    c->mac_problem = true;
    problem(c, r->seq,
            "audit record %llu (revision %llu, %s %s): its MAC does not match the audit key: the record was "
            "rewritten by someone without the key (or the key is not this log's)",
            (unsigned long long)r->seq, (unsigned long long)r->revision, r->kind, r->object);
  } else if (c->mac_seen) {
    c->mac_problem = true;
    problem(c, r->seq,
            "audit record %llu (revision %llu, %s %s): it carries no MAC though records before it do: it was "
            "written "
            "or rewritten without the key",
            (unsigned long long)r->seq, (unsigned long long)r->revision, r->kind, r->object);
  }
}

static void check_witness(check *c, const urbac_audit_record *r)
{
  for (; c->at_wit < c->nwit && c->wit[c->at_wit].seq == r->seq; c->at_wit++) {
    const witnessed *w = &c->wit[c->at_wit];
    c->r->witnessed++;
    if (c->wit_problem)
      continue;
    if (strcmp(w->hash, r->hash) == 0 && w->revision == r->revision) {
      c->agreed = r->seq;
      continue;
    }
    c->wit_problem = true;
    problem(c, r->seq,
            "audit record %llu (revision %llu, %s %s): the witness (line %llu) saw revision %llu with hash "
            "%.16s..., "
            "the log has %.16s...: the log was rewritten after record %llu, where it last agrees with the "
            "witness",
            (unsigned long long)r->seq, (unsigned long long)r->revision, r->kind, r->object,
            (unsigned long long)w->line, (unsigned long long)w->revision, w->hash, r->hash,
            (unsigned long long)c->agreed);
  }
}

static int check_record(void *ctx, const urbac_audit_record *r)
{
  check *c = ctx;
  char hash[URBAC__HASH_HEX];
  const char *why = NULL;
  if (r->seq != c->r->records + 1)
    why = "its sequence number is not the next one: records were deleted, inserted or reordered";
  else if (strcmp(r->prev_hash, c->prev) != 0)
    why = "its link to the record before does not match (a record was deleted, inserted or reordered)";
  else if (urbac__audit_record_hash(r, hash) || strcmp(hash, r->hash) != 0)
    why = "its contents do not match its hash (the record was edited)";
  if (why) {
    c->chain_broken = true;
    problem(c, r->seq, "audit record %llu (revision %llu, %s %s): %s", (unsigned long long)r->seq,
            (unsigned long long)r->revision, r->kind, r->object, why);
    return 1;
  }
  c->r->records++;
  snprintf(c->prev, sizeof c->prev, "%s", r->hash);
  check_mac(c, r);
  check_witness(c, r);
  return replay_record(c, r) ? 0 : (c->chain_broken = true, 1);
}

/* ---------------------------------------------------------------- checking: the end */

/* The head, the last MAC and the witness past the end of the log. */
static void check_ends(check *c, const urbac__tenant_row *row)
{
  uint64_t n = c->r->records;
  if (n != row->audit_seq || (n && strcmp(c->prev, row->audit_hash) != 0))
    problem(c, n + 1,
            "the log ends at record %llu but the tenant's chain head is record %llu: records were removed "
            "from the end",
            (unsigned long long)n, (unsigned long long)row->audit_seq);
  if (c->s->audit_key_len && row->audit_key[0] && strcmp(row->audit_key, c->s->audit_key_id) != 0)
    problem(c, 0, "the log is keyed with key id %s, but the key given has id %s", row->audit_key,
            c->s->audit_key_id);
  else if (c->s->audit_key_len && n && !c->r->keyed && !c->mac_problem)
    problem(c, n,
            "no record carries a MAC under the audit key: the log was never written with it, or its keyed "
            "records were removed or rewritten");
  if (c->at_wit < c->nwit) {
    const witnessed *w = &c->wit[c->nwit - 1];
    c->r->witnessed += c->nwit - c->at_wit;
    problem(c, n + 1,
            "the witness saw record %llu (revision %llu, line %llu), but the log ends at record %llu: "
            "records were "
            "removed from the end, or the store was restored from an older copy",
            (unsigned long long)w->seq, (unsigned long long)w->revision, (unsigned long long)w->line,
            (unsigned long long)n);
  }
}

static void name_row(check *c, int *named, const char *kind, const char *id, const char *what)
{
  if ((*named)++ < MAX_NAMED)
    problem(c, 0, "%s %s: %s", kind, id, what);
}

/* Compares the stored rows with the replay, naming each that differs. */
static urbac_err check_rows(check *c, const urbac__tenant_row *row)
{
  int named = 0;
  bool agree = true;
  char rows_state[URBAC__HASH_HEX];
  urbac__audit_digest sum = {{0}};
  urbac_err err = URBAC_OK;
  for (int keys = 0; keys < 2 && !err; keys++) {
    urbac__object *o = NULL;
    size_t n = 0;
    err = c->s->ops->objects(c->s->db, c->tenant, keys ? URBAC__KIND_API_KEY : NULL, &o, &n, c->d);
    for (size_t i = 0; !err && i < n; i++) {
      replayed *x = replay_slot(c, o[i].kind, o[i].id);
      c->r->objects++;
      if (!x || !urbac__audit_digest_step(&sum, 1, o[i].kind, o[i].id, o[i].body))
        err = URBAC_ENOMEM;
      else if (!x->body)
        name_row(c, &named, o[i].kind, o[i].id,
                 "a stored row that the log's changes never created (or deleted)");
      else if (!same_body(x, o[i].body))
        name_row(c, &named, o[i].kind, o[i].id, "the stored row differs from what the log's changes produce");
      else if (!keys &&
               !(err = urbac__refs_agree(c->s, c->tenant, o[i].kind, o[i].id, o[i].body, &agree, c->d)) &&
               !agree)
        name_row(c, &named, o[i].kind, o[i].id, "the reference index differs from what the row names");
      if (x)
        x->stored = true;
    }
    urbac__objects_free(o, n);
  }
  for (size_t i = 0; !err && i < c->nobjs; i++)
    if (c->objs[i].body && !c->objs[i].stored) {
      char *nl = strchr(c->objs[i].key, '\n');
      *nl = '\0';
      name_row(c, &named, c->objs[i].key, nl + 1,
               "the log's changes leave it in place, but the store has no such row");
      *nl = '\n';
    }
  urbac__audit_hex(sum.v, 32, rows_state);
  if (named > MAX_NAMED)
    problem(c, 0, "and %d more rows", named - MAX_NAMED);
  if (!err && !named &&
      ((row->state_hash[0] && strcmp(rows_state, row->state_hash) != 0) ||
       (c->last_state[0] && strcmp(rows_state, c->last_state) != 0)))
    problem(c, 0, "the stored rows do not add up to the state digest of the last record%s",
            legacy_keys(c) ? " (an API key from before schema 2 had its salt or hash changed)" : "");
  return err;
}

/* ---------------------------------------------------------------- checking: all */

static void check_free(check *c)
{
  for (size_t i = 0; i < c->nobjs; i++) {
    urbac__free(c->objs[i].key);
    urbac__free(c->objs[i].body);
  }
  urbac__free(c->objs);
  urbac__strmap_free(&c->map);
  urbac__free(c->wit);
}

/* Everything, inside the caller's read transaction. */
static urbac_err check_in_tx(check *c)
{
  urbac__tenant_row row;
  urbac_err err = c->s->ops->integrity ? c->s->ops->integrity(c->s->db, c->d) : URBAC_OK;
  if (!err)
    err = urbac__store_row_get(c->s, c->tenant, &row, c->d);
  if (!err && !row.exists)
    err =
        urbac__diag_add(c->d, URBAC_ENOTFOUND, NULL, 0, 0, NULL, "the store holds no tenant '%s'", c->tenant);
  if (!err && c->s->witness)
    err = witness_read(c->s->witness, c->tenant, &c->wit, &c->nwit, c->d);
  if (!err)
    err = urbac__strmap_init(&c->map, 1024);
  if (!err)
    err = c->s->ops->audit_each(c->s->db, c->tenant, check_record, c, c->d);
  if (!err && c->chain_broken && !c->tampered)
    err = URBAC_ENOMEM; /* the replay ran out of memory */
  if (!err && !c->chain_broken) {
    check_ends(c, &row);
    err = check_rows(c, &row);
  }
  return err;
}

urbac_err urbac_store_audit_check(urbac_store *store, const char *tenant, urbac_audit_report *r,
                                  urbac_diag *d)
{
  check c = {.s = store, .tenant = tenant, .r = r, .d = d};
  memset(r, 0, sizeof *r);
  memcpy(c.prev, urbac__audit_zero_hash, sizeof c.prev);
  urbac_err err = urbac__store_need_schema(store, d);
  if (!err)
    err = store->ops->begin(store->db, false, d);
  if (err)
    return err;
  err = check_in_tx(&c);
  store->ops->rollback(store->db);
  check_free(&c);
  return err ? err : c.tampered ? URBAC_ETAMPERED : URBAC_OK;
}

urbac_err urbac_store_audit_verify(urbac_store *store, const char *tenant, uint64_t *count, uint64_t *bad,
                                   urbac_diag *d)
{
  urbac_audit_report r = {0};
  urbac_err err = urbac_store_audit_check(store, tenant, &r, d);
  *count = r.records;
  *bad = r.bad;
  return err;
}
