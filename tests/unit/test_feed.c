/*
 * tests/unit/test_feed.c - how a server follows a tenant (issue 10), on a real
 * store: random small writes go through urbac_store_put_many() (refused or
 * written, as the store decides), and a follower that loaded the tenant once
 * catches up every few writes as `urbac serve` does: the changes since its
 * revision from urbac_store_changes(), the last one per object, applied with
 * urbac_model_edit() and compiled with urbac_snapshot_update(). After each
 * catch-up the follower must be exactly the tenant as the store has it: its
 * model saves to the same text as urbac_store_load()'s, every user's effective
 * permissions equal a whole compile of that load, and users its update does not
 * list as changed decide as before. Then a follower too far behind is told so
 * (URBAC_EBEHIND) rather than given part of the story. The last tenants' writes
 * go in store batches: each batch's journal (urbac_store_batch_changes(), what
 * `urbac serve` edits its next snapshot from while the batch commits) must say
 * what the feed says once it committed.
 *
 * The collapsing of changes is the test's own (a list scan), not the server's.
 * SQLite by default; PostgreSQL when URBAC_TEST_PG_URL is set (tests/pg.sh); under
 * the sanitizers in the ASan build.
 */
#include "helpers.h"
#include "model/model.h"
#include "store_fixture.h"

#include "random_change.h"

/* The changes since a revision, the last state of each object; an object deleted
 * and made again is a delete and a later put (the store gives it a new place),
 * and deleted once more, the first delete only. */
typedef struct caught {
  urbac_object_put *v;
  size_t n, cap;
} caught;

static int collect(void *ctx, uint64_t revision, const char *kind, const char *id, const char *json)
{
  caught *c = ctx;
  (void)revision;
  size_t at = c->n;
  while (at > 0 && !(strcmp(c->v[at - 1].kind, kind) == 0 && strcmp(c->v[at - 1].id, id) == 0))
    at--;
  size_t first = at > 0 ? at - 1 : 0; /* an earlier entry of the object: it was made again */
  while (first > 0 && !(strcmp(c->v[first - 1].kind, kind) == 0 && strcmp(c->v[first - 1].id, id) == 0))
    first--;
  if (!json && at > 0 && c->v[at - 1].json && first > 0) { /* made again, deleted again: one delete */
    free((char *)(uintptr_t)c->v[at - 1].kind);
    free((char *)(uintptr_t)c->v[at - 1].id);
    free((char *)(uintptr_t)c->v[at - 1].json);
    memmove(&c->v[at - 1], &c->v[at], (c->n - at) * sizeof *c->v);
    c->n--;
    return 0;
  }
  at = at == 0 || (json && !c->v[at - 1].json) ? c->n : at - 1; /* none, or made again */
  if (at == c->n) {
    if (c->n == c->cap) {
      c->cap = c->cap ? 2 * c->cap : 8;
      c->v = realloc(c->v, c->cap * sizeof *c->v);
      assert_non_null(c->v);
    }
    c->v[c->n++] = (urbac_object_put){strdup(kind), strdup(id), NULL};
  } else {
    free((char *)(uintptr_t)c->v[at].json);
  }
  c->v[at].json = json ? strdup(json) : NULL;
  return 0;
}

static void caught_free(caught *c)
{
  for (size_t i = 0; i < c->n; i++) {
    free((char *)(uintptr_t)c->v[i].kind);
    free((char *)(uintptr_t)c->v[i].id);
    free((char *)(uintptr_t)c->v[i].json);
  }
  free(c->v);
}

typedef struct follower {
  urbac_model *m;
  urbac_snapshot *s;
  uint64_t revision;
} follower;

/* An object created and deleted since the follower last caught up comes as a
 * delete of what it never had: nothing to it (the server reloads on such a feed). */
static void drop_unseen(const urbac_model *m, caught *c)
{
  urbac__object *o = NULL;
  size_t n = 0, k = 0;
  assert_int_equal(urbac__model_objects(m, &o, &n), URBAC_OK);
  for (size_t i = 0; i < c->n; i++) {
    bool seen = c->v[i].json != NULL;
    for (size_t j = 0; j < n && !seen; j++)
      seen = strcmp(o[j].kind, c->v[i].kind) == 0 && strcmp(o[j].id, c->v[i].id) == 0;
    if (seen) {
      c->v[k++] = c->v[i];
    } else {
      free((char *)(uintptr_t)c->v[i].kind);
      free((char *)(uintptr_t)c->v[i].id);
    }
  }
  c->n = k;
  urbac__objects_free(o, n);
}

/* The objects the writer's store handle parsed, kept for the next catch-up (half
 * the tenants, as `urbac serve` does: urbac_store_keep_parsed()), or NULL. */
static urbac_parsed *kept;

/* Catches `f` up with the store and compares it with a whole load of the tenant. */
static void catch_up(urbac_store *st, const char *tid, follower *f, size_t *updates)
{
  caught c = {0};
  uint64_t to = 0;
  urbac_diag *d = urbac_diag_new();
  urbac_err err = urbac_store_changes(st, tid, f->revision, collect, &c, &to, d);
  if (err)
    print_error("changes after %llu: %s\n", (unsigned long long)f->revision, diag_msg(d));
  assert_int_equal(err, URBAC_OK);
  urbac_model *m = NULL, *whole = NULL;
  urbac_snapshot *s = NULL;
  drop_unseen(f->m, &c);
  err = urbac_model_edit_parsed(f->m, c.v, c.n, kept, &m, d);
  urbac_parsed_clear(kept);
  if (err)
    print_error("edit of %zu changes: %s\n", c.n, diag_msg(d));
  assert_int_equal(err, URBAC_OK);
  assert_int_equal(urbac_snapshot_update(f->s, m, &s, NULL), URBAC_OK);
  unchanged_alike(f->s, s);
  uint64_t rev = 0;
  assert_int_equal(urbac_store_load(st, tid, &whole, &rev, NULL), URBAC_OK);
  assert_int_equal(rev, to);
  char *a = save(m), *b = save(whole), *da = snapshot_decisions(s), *db = decisions(whole);
  if (strcmp(a, b) != 0)
    print_error("followed:\n%s\nloaded:\n%s\n", a, b);
  assert_string_equal(a, b);
  assert_string_equal(da, db);
  urbac_free(a);
  urbac_free(b);
  free(da);
  free(db);
  urbac_model_free(whole);
  urbac_snapshot_free(f->s);
  urbac_model_free(f->m);
  *f = (follower){m, s, to};
  *updates += c.n > 0;
  caught_free(&c);
  urbac_diag_free(d);
}

/* `a` and `b` hold the same changes, in the same order. */
static void caught_same(const caught *a, const caught *b)
{
  assert_int_equal(a->n, b->n);
  for (size_t i = 0; i < a->n; i++) {
    assert_string_equal(a->v[i].kind, b->v[i].kind);
    assert_string_equal(a->v[i].id, b->v[i].id);
    if (a->v[i].json || b->v[i].json)
      assert_string_equal(a->v[i].json ? a->v[i].json : "(deleted)",
                          b->v[i].json ? b->v[i].json : "(deleted)");
  }
}

/* Ends the open batch of random writes after revision `after`: what the batch's
 * journal says it wrote (urbac_store_batch_changes(), asked before the commit)
 * must be what the change feed gives once it committed, and it must answer
 * exactly when something was written. */
static void batch_end_alike(urbac_store *st, const char *tid, uint64_t after, size_t *journaled)
{
  caught j = {0}, c = {0};
  uint64_t jrev = 0, to = 0;
  urbac_err je = urbac_store_batch_changes(st, tid, after, collect, &j, &jrev);
  assert_int_equal(urbac_store_batch_end(st, true, NULL), URBAC_OK);
  assert_int_equal(urbac_store_changes(st, tid, after, collect, &c, &to, NULL), URBAC_OK);
  assert_int_equal(je, to > after ? URBAC_OK : URBAC_ENOTFOUND);
  if (je == URBAC_OK) {
    assert_int_equal(jrev, to);
    caught_same(&j, &c);
    (*journaled)++;
  }
  caught_free(&j);
  caught_free(&c);
}

/* One random write (one or two puts) against the tenant as the store has it. */
static bool random_write(urbac_store *st, const char *tid, unsigned *fresh)
{
  urbac_model *now = NULL;
  urbac__object *o = NULL;
  size_t n = 0;
  change c;
  assert_int_equal(urbac_store_load(st, tid, &now, NULL, NULL), URBAC_OK);
  assert_int_equal(urbac__model_objects(now, &o, &n), URBAC_OK);
  random_change(o, n, &c, fresh);
  urbac_write w = {"test", "test_feed", false, 0, NULL, NULL};
  bool ok = urbac_store_put_many(st, tid, c.puts, c.n, &w, NULL, NULL) == URBAC_OK;
  change_free(&c);
  urbac__objects_free(o, n);
  urbac_model_free(now);
  return ok;
}

static void test_feed_follows(void **state)
{
  (void)state;
  static char y[1 << 16];
  size_t written = 0, refused = 0, updates = 0, journaled = 0;
  urbac_store *st = NULL;
  assert_int_equal(urbac_store_open(target(), URBAC_STORE_CREATE, &st, NULL), URBAC_OK);
  int from, to_v;
  assert_int_equal(urbac_store_migrate(st, &from, &to_v, NULL), URBAC_OK);
  seed_rng(0x2545f4914f6cdd1dull);
  for (int t = 0; t < 12; t++) {
    int nusers, ndevices;
    char tid[32];
    urbac_model *m = NULL;
    snprintf(tid, sizeof tid, "feed%d", t);
    random_tenant(y, sizeof y, &nusers, &ndevices);
    char *line = strstr(y, "tenant: r\n");
    assert_non_null(line);
    char rest[1 << 16];
    snprintf(rest, sizeof rest, "%s", line + strlen("tenant: r\n"));
    snprintf(line, sizeof y - (size_t)(line - y), "tenant: %s\n%s", tid, rest);
    assert_int_equal(urbac_tenant_load_buffer(y, strlen(y), "r.yaml", &m, NULL), URBAC_OK);
    urbac_write w = {"test", "test_feed", false, 0, NULL, NULL};
    assert_int_equal(urbac_store_apply(st, m, &w, NULL, NULL), URBAC_OK);
    urbac_model_free(m);
    follower f = {0};
    assert_int_equal(urbac_store_load(st, tid, &f.m, &f.revision, NULL), URBAC_OK);
    assert_int_equal(urbac_snapshot_compile(f.m, &f.s, NULL), URBAC_OK);
    urbac_parsed_free(kept);
    kept = t % 2 ? urbac_parsed_new() : NULL;
    urbac_store_keep_parsed(st, kept);
    unsigned fresh = 0;
    bool batched = t >= 6; /* the last six tenants' writes go in store batches, as the server's do */
    for (int step = 0; step < 60;) {
      if (batched)
        assert_int_equal(urbac_store_batch_begin(st, NULL), URBAC_OK);
      for (uint32_t k = 1 + rnd(4); k > 0; k--, step++)
        *(random_write(st, tid, &fresh) ? &written : &refused) += 1;
      if (batched)
        batch_end_alike(st, tid, f.revision, &journaled);
      catch_up(st, tid, &f, &updates);
    }
    urbac_snapshot_free(f.s);
    urbac_model_free(f.m);
  }
  urbac_store_close(st);
  urbac_parsed_free(kept);
  kept = NULL;
  print_message(
      "feed: %zu writes, %zu refused, %zu catch-ups with changes, %zu batches told by their journal\n",
      written, refused, updates, journaled);
  assert_true(written > 300 && refused > 50 && updates > 100 && journaled > 40);
}

/* A follower more than URBAC_STORE_CHANGES_MAX changes behind reloads: the feed
 * says so and gives nothing. */
static void test_feed_behind(void **state)
{
  (void)state;
  urbac_store *st = NULL;
  urbac_model *m = NULL;
  static const char y[] = "urbac: 1\ntenant: behind\nusers: [{id: ann}]\n";
  assert_int_equal(urbac_store_open(target(), URBAC_STORE_CREATE, &st, NULL), URBAC_OK);
  int from, to_v;
  assert_int_equal(urbac_store_migrate(st, &from, &to_v, NULL), URBAC_OK);
  assert_int_equal(urbac_tenant_load_buffer(y, sizeof y - 1, "b.yaml", &m, NULL), URBAC_OK);
  urbac_write w = {"test", "test_feed", false, 0, NULL, NULL};
  uint64_t start = 0;
  assert_int_equal(urbac_store_apply(st, m, &w, &start, NULL), URBAC_OK);
  urbac_model_free(m);
  enum { N = URBAC_STORE_CHANGES_MAX + 1 };
  static urbac_object_put puts[N];
  static char ids[N][16], json[N][48];
  for (int i = 0; i < N; i++) {
    snprintf(ids[i], sizeof ids[i], "u%d", i);
    snprintf(json[i], sizeof json[i], "{\"id\":\"u%d\"}", i);
    puts[i] = (urbac_object_put){"user", ids[i], json[i]};
  }
  assert_int_equal(urbac_store_put_many(st, "behind", puts, N, &w, NULL, NULL), URBAC_OK);
  caught c = {0};
  uint64_t to = 0;
  assert_int_equal(urbac_store_changes(st, "behind", start, collect, &c, &to, NULL), URBAC_EBEHIND);
  assert_int_equal(c.n, 0);
  assert_int_equal(urbac_store_changes(st, "behind", start + 1, collect, &c, &to, NULL), URBAC_OK);
  assert_int_equal(c.n, 0);
  assert_int_equal(to, start + 1);
  /* a log that lost records (pruned, or tampered with) cannot answer either */
  assert_int_equal(urbac_store_put(st, "behind", "user", "zed", "{\"id\":\"zed\"}", &w, NULL, NULL),
                   URBAC_OK);
  assert_int_equal(urbac_store_put(st, "behind", "user", "yan", "{\"id\":\"yan\"}", &w, NULL, NULL),
                   URBAC_OK);
  char stmt[200];
  snprintf(stmt, sizeof stmt, "DELETE FROM audit WHERE tenant = 'behind' AND revision = %llu",
           (unsigned long long)(start + 2));
  sql(stmt);
  assert_int_equal(urbac_store_changes(st, "behind", start + 1, collect, &c, &to, NULL), URBAC_EBEHIND);
  assert_int_equal(c.n, 0);
  urbac_store_close(st);
}

static int teardown(void **state)
{
  (void)state;
  if (!pg_url)
    remove_file();
  return 0;
}

/* A role assigned to a group by its Entra object id before the group exists (a
 * pending principal: nothing granted), then the group provisioned with that
 * externalId and a member named by hers: the follower (urbac_store_put ->
 * urbac_model_edit -> urbac_snapshot_update) decides as a whole compile of the
 * same final tenant, and she holds the role. Then the group goes: pending again. */
static void test_pending_wakes(void **state)
{
  (void)state;
  static const char *const y =
      "urbac: 1\ntenant: pend\nworkloads: {mde: unified}\n"
      "users: [{id: ann, externalId: 0B9F0000-AAAA-4BBB-8CCC-000000000001}, {id: ben}]\n"
      "groups: [{id: staff, members: [ben]}]\n";
  const char *const role =
      "{\"name\": \"R\", \"permissions\": [\"Alerts (manage)\"], \"assignments\": "
      "[{\"name\": \"a\", \"principals\": [\"group:7e0c0000-aaaa-4bbb-8ccc-000000000001\"], "
      "\"dataSources\": [\"mde\"]}]}";
  const char *const group =
      "{\"id\": \"soc\", \"externalId\": \"7E0C0000-AAAA-4BBB-8CCC-000000000001\", "
      "\"managedBy\": \"scim\", \"members\": [\"0b9f0000-aaaa-4bbb-8ccc-000000000001\"]}";
  urbac_store *st = NULL;
  int from, to_v;
  size_t updates = 0;
  urbac_model *m = NULL;
  assert_int_equal(urbac_store_open(target(), URBAC_STORE_CREATE, &st, NULL), URBAC_OK);
  assert_int_equal(urbac_store_migrate(st, &from, &to_v, NULL), URBAC_OK);
  assert_int_equal(urbac_tenant_load_buffer(y, strlen(y), "pend.yaml", &m, NULL), URBAC_OK);
  urbac_write w = {"test", "pending", false, 0, NULL, NULL};
  assert_int_equal(urbac_store_apply(st, m, &w, NULL, NULL), URBAC_OK);
  urbac_model_free(m);
  follower f = {0};
  assert_int_equal(urbac_store_load(st, "pend", &f.m, &f.revision, NULL), URBAC_OK);
  assert_int_equal(urbac_snapshot_compile(f.m, &f.s, NULL), URBAC_OK);
  const char *steps[][3] = {{"role", "R", role},
                            {"group", "soc", group},
                            {"role", "R", NULL},
                            {"role", "R", role},
                            {"group", "soc", NULL}};
  const bool holds[] = {false, true, false, true, false};
  for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
    urbac_diag *d = urbac_diag_new();
    urbac_err err = urbac_store_put(st, "pend", steps[k][0], steps[k][1], steps[k][2], &w, NULL, d);
    if (err)
      print_error("step %zu: %s\n", k, diag_msg(d));
    assert_int_equal(err, URBAC_OK);
    urbac_diag_free(d);
    catch_up(st, "pend", &f, &updates); /* compares with the whole load and compile */
    urbac_query q;
    urbac_parser *p = urbac_parser_new(f.s);
    const char *ann = "0B9F0000-aaaa-4bbb-8ccc-000000000001", *perm = "Alerts (manage)";
    urbac_question qn = {{ann, strlen(ann)}, {perm, strlen(perm)}, {"mde", 3}, {NULL, 0}};
    assert_int_equal(urbac_parse_query(p, &qn, &q, NULL), URBAC_OK);
    assert_int_equal(urbac_check(f.s, &q), holds[k]);
    urbac_parser_free(p);
  }
  assert_int_equal(updates, 5);
  urbac_snapshot_free(f.s);
  urbac_model_free(f.m);
  urbac_store_close(st);
}

int main(void)
{
  fixture_setup("feed");
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_feed_follows),
      cmocka_unit_test(test_feed_behind),
      cmocka_unit_test(test_pending_wakes),
  };
  return cmocka_run_group_tests(tests, NULL, teardown);
}
