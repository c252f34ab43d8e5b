// tests/server/writes.test.mjs - writes through `urbac serve`, each tenant's writer
// (src/server/writer.c): a write never holds a worker thread, so checks are answered
// while writes wait on the store; the writes found queued are committed together
// (one store batch, a savepoint each), a failing one alone refused; every write gets
// its own revision and is visible to checks once answered.
//
// The store's write lock is held from outside (the sqlite3 shell's BEGIN IMMEDIATE,
// or psql holding the writers' advisory lock) to make writes wait for certain.
// Runs on a SQLite file, and on PostgreSQL under tests/pg.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { store, serve, client, holdStoreLock, metricOf, T, q } from './serve.mjs';

const PSK = 'writes-test-preshared-key-0123456789';
const ALERTS = 'Security operations \\ Security data \\ Alerts (manage)';
let s, server, call;

before(async () => {
  s = store('urbac-writes-', PSK);
  server = await serve(s.db, ['--preshared-key-file', join(s.dir, 'psk')]);
  call = client(server.base, PSK);
});

after(() => {
  if (server && server.p.exitCode === null) server.p.kill('SIGKILL');
  rmSync(s.dir, { recursive: true, force: true });
});

const user = (id) => ({ id, name: `Writer ${id}` });

test('writes waiting on the store hold up no check', async () => {
  const release = await holdStoreLock(s.db);
  let writes;
  try {
    // more writes than the server has worker threads (2), each on its own connection
    writes = Array.from({ length: 6 }, (_, i) => call('PUT', `${T}/users/stuck-${i}@contoso.com`, { body: user(`stuck-${i}@contoso.com`) }));
    await new Promise((res) => setTimeout(res, 300));
    const ask = { user: 'alice@contoso.com', permission: ALERTS, workload: 'mde', scope: 'device:lap-042' };
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      const r = await call('GET', `${T}/check?${q(ask)}`);
      assert.equal(r.json.decision, 'allow');
      assert.ok(Date.now() - t0 < 500, `a check took ${Date.now() - t0} ms while writes waited on the store`);
    }
  } finally {
    await release();
  }
  for (const w of await Promise.all(writes)) assert.equal(w.status, 201, w.text);
});

test('a full writer queue is answered 503 with Retry-After, and the writes queued still succeed', async () => {
  // a second server on the same store, its queue two requests long (--max-write-queue)
  const small = await serve(s.db, ['--preshared-key-file', join(s.dir, 'psk'), '--max-write-queue', '2']);
  const put = client(small.base, PSK);
  const release = await holdStoreLock(s.db);
  let writes;
  try {
    // one at a time, so the writer is stuck on the first before the rest arrive
    writes = [put('PUT', `${T}/users/queued-0@contoso.com`, { body: user('queued-0@contoso.com') })];
    await new Promise((res) => setTimeout(res, 300));
    for (let i = 1; i < 6; i++) {
      writes.push(put('PUT', `${T}/users/queued-${i}@contoso.com`, { body: user(`queued-${i}@contoso.com`) }));
      await new Promise((res) => setTimeout(res, 50));
    }
    await new Promise((res) => setTimeout(res, 200));
  } finally {
    await release();
  }
  const answers = await Promise.all(writes);
  small.p.kill();
  // the writer runs the first (waiting on the store); two wait in the queue; the other three are refused
  assert.deepEqual(answers.map((a) => a.status), [201, 201, 201, 503, 503, 503], answers.map((a) => a.text).join('\n'));
  for (const a of answers.slice(3)) {
    assert.equal(a.headers.get('retry-after'), '1');
    assert.match(a.json.error.message, /as many administration requests waiting as it may \(2\)/);
  }
  const after = await call('GET', `${T}/users/queued-3@contoso.com`);
  assert.equal(after.status, 404); /* refused, not written */
});

test('16 concurrent writers: every write succeeds with its own revision and is visible once answered', async () => {
  const ask = (id) => ({ user: id, permission: ALERTS, workload: 'mde' });
  const revisions = [];
  const writer = async (k) => {
    for (let i = 0; i < 8; i++) {
      const id = `w${k}-${i}@contoso.com`;
      const w = await call('PUT', `${T}/users/${id}`, { body: user(id) });
      assert.equal(w.status, 201, w.text);
      const rev = Number(w.headers.get('x-urbac-revision'));
      revisions.push(rev);
      // read your writes: the user is known to checks at once (an unknown user is a 422)
      const r = await call('GET', `${T}/check?${q(ask(id))}`);
      assert.equal(r.status, 200, r.text);
      assert.ok(r.json.revision >= rev);
    }
  };
  const batches = await metricOf(call, 'urbac_write_batches_total');
  const requests = await metricOf(call, 'urbac_write_batch_requests_total');
  await Promise.all(Array.from({ length: 16 }, (_, k) => writer(k)));
  assert.equal(new Set(revisions).size, 16 * 8, 'each write its own revision');
  const sorted = [...revisions].sort((a, b) => a - b);
  assert.equal(sorted.at(-1) - sorted[0], 16 * 8 - 1, 'no revision skipped or shared');
  const users = await call('GET', `${T}/users?$top=10000`);
  const ids = new Set(users.json.value.map((u) => u.id));
  for (let k = 0; k < 16; k++) for (let i = 0; i < 8; i++) assert.ok(ids.has(`w${k}-${i}@contoso.com`));
  // the writes and the list above ran on the tenant's writer (/metrics and checks did not)
  const ran = (await metricOf(call, 'urbac_write_batch_requests_total')) - requests;
  const grouped = (await metricOf(call, 'urbac_write_batches_total')) - batches;
  assert.ok(ran >= 16 * 8, `${ran} requests ran`);
  assert.ok(grouped < ran, `${grouped} batches for ${ran} requests: writes were grouped`);
});

test('a failing write in a batch is refused alone; the others commit', async () => {
  const batches = await metricOf(call, 'urbac_write_batches_total');
  const release = await holdStoreLock(s.db);
  let first, rest;
  try {
    // the first write takes the writer (it waits on the lock); the next 15 queue behind it
    first = call('PUT', `${T}/users/b-first@contoso.com`, { body: user('b-first@contoso.com') });
    await new Promise((res) => setTimeout(res, 200));
    rest = Array.from({ length: 15 }, (_, i) => i === 7
      ? call('PUT', `${T}/groups/b-bad`, { body: { id: 'b-bad', members: ['nobody@contoso.com'] } })
      : call('PUT', `${T}/users/b-${i}@contoso.com`, { body: user(`b-${i}@contoso.com`) }));
    await new Promise((res) => setTimeout(res, 300));
  } finally {
    await release();
  }
  const f = await first;
  assert.equal(f.status, 201, f.text);
  const replies = await Promise.all(rest);
  const bad = replies[7];
  assert.equal(bad.status, 422, bad.text);
  assert.match(bad.text, /nobody@contoso\.com/);
  const good = replies.filter((_, i) => i !== 7);
  for (const r of good) assert.equal(r.status, 201, r.text);
  const revs = good.map((r) => Number(r.headers.get('x-urbac-revision'))).sort((a, b) => a - b);
  assert.equal(new Set(revs).size, 14);
  assert.equal(revs[0], Number(f.headers.get('x-urbac-revision')) + 1);
  assert.equal(revs.at(-1) - revs[0], 13, 'the refused write took no revision');
  // two batches: the first write alone, then the 15 together
  assert.equal((await metricOf(call, 'urbac_write_batches_total')) - batches, 2);
  assert.equal((await call('GET', `${T}/groups/b-bad`)).status, 404);
  for (let i = 0; i < 15; i++) {
    if (i === 7) continue;
    const r = await call('GET', `${T}/users/b-${i}@contoso.com`);
    assert.equal(r.status, 200, r.text);
  }
});

test('a batch\'s snapshot, edited while it commits, decides as the store read afresh does', async () => {
  const ahead = await metricOf(call, 'urbac_write_batch_published_ahead_total');
  // 16 writers at once, so their writes are batched: users made and deleted, each
  // writer's team of them, and the SOC tier 1 group (its members hold roles) given
  // one team after another (the last write wins; both servers must agree on which)
  const writer = async (k) => {
    for (let i = 0; i < 5; i++) {
      const id = `a${k}-${i}@contoso.com`, gone = `x${k}-${i}@contoso.com`;
      for (const u of [id, gone]) assert.equal((await call('PUT', `${T}/users/${u}`, { body: user(u) })).status, 201);
      const members = Array.from({ length: i + 1 }, (_, j) => `a${k}-${j}@contoso.com`);
      let r = await call('PUT', `${T}/groups/team-${k}`, { body: { id: `team-${k}`, members } });
      assert.ok(r.status === 200 || r.status === 201, r.text);
      r = await call('PUT', `${T}/groups/soc-tier1`, { body: { id: 'soc-tier1', name: 'SOC tier 1', members: ['alice@contoso.com', `group:team-${k}`] } });
      assert.equal(r.status, 200, r.text);
      assert.equal((await call('DELETE', `${T}/users/${gone}`)).status, 204);
    }
  };
  await Promise.all(Array.from({ length: 16 }, (_, k) => writer(k)));
  assert.ok((await metricOf(call, 'urbac_write_batch_published_ahead_total')) > ahead, 'edited beside the commit');
  const people = ['alice@contoso.com', 'frank@contoso.com', 'bob@contoso.com',
    ...Array.from({ length: 16 * 5 }, (_, n) => `a${n % 16}-${Math.floor(n / 16)}@contoso.com`)];
  const answers = async (c) => {
    const out = [];
    for (const id of people) {
      const r = await c('GET', `${T}/users/${id}/effectivePermissions?workload=mde`);
      assert.equal(r.status, 200, r.text);
      out.push([id, r.json.revision, JSON.stringify(r.json.value ?? r.json.permissions ?? r.json)]);
    }
    return out;
  };
  const served = await answers(call);
  const fresh = await serve(s.db, ['--preshared-key-file', join(s.dir, 'psk')]);
  try {
    const afresh = await answers(client(fresh.base, PSK));
    assert.deepEqual(served, afresh);
  } finally {
    fresh.p.kill('SIGKILL');
  }
  assert.ok(served.some(([, , v]) => v !== served[3][2]), 'the answers differ between users');
});
