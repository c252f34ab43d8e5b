// tests/server/pgrestart.test.mjs - `urbac serve` on PostgreSQL while PostgreSQL
// is stopped and started again under a steady stream of writes: during the
// outage writes are 503 with Retry-After (never 500), /readyz says not ready and
// why, /metrics says the store is down, and the server's CPU stays low (no busy
// retrying); after it, writes succeed again, a change made meanwhile by another
// writer (the CLI) is served, and /readyz and /metrics say ready again.
//
// Env: URBAC (the binary), URBAC_SRC (the repository), URBAC_TEST_PG_URL and
// URBAC_TEST_PG_CTL (tests/pg.sh: the database and a command to stop and start it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const URBAC = process.env.URBAC;
const SRC = process.env.URBAC_SRC;
const db = process.env.URBAC_TEST_PG_URL;
const CTL = process.env.URBAC_TEST_PG_CTL;
const skip = !db || !CTL ? 'needs tests/pg.sh (URBAC_TEST_PG_URL, URBAC_TEST_PG_CTL)' : false;
const dir = mkdtempSync(join(tmpdir(), 'urbac-pgrestart-'));
const PSK = 'preshared-admin-key-0123456789';
const T = '/api/v1/tenants/contoso';
let server, base, stderr = '';

const cli = (...args) => execFileSync(URBAC, [...args, '--db', db], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const pg = (verb) => execFileSync(CTL, [verb], { stdio: 'inherit', timeout: 60000 });
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

async function call(method, path, { token = PSK, body } = {}) {
  const h = token ? { authorization: `Bearer ${token}` } : {};
  const res = await fetch(base + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10000) });
  const text = await res.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, json, text, headers: res.headers };
}

// Polls `probe` every 100 ms until it returns true, for at most `ms`.
async function until(what, ms, probe) {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await probe()) return Date.now() - t0;
    await sleep(100);
  }
  assert.fail(`${what}: not within ${ms} ms`);
}

// CPU seconds (user + system) the process has used: /proc/PID/stat fields 14 and 15.
function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
  return (Number(f[11]) + Number(f[12])) / ticks;
}

const metric = (text, name) => {
  const m = text.match(new RegExp(`^${name} (\\S+)$`, 'm'));
  return m ? Number(m[1]) : undefined;
};

before(async () => {
  if (skip) return;
  cli('init');
  cli('apply', '-f', join(SRC, 'examples/contoso.yaml'));
  cli('apply', '-f', join(SRC, 'examples/litware.yaml')); // two tenants: two change feeds
  writeFileSync(join(dir, 'psk'), `${PSK}\n`, { mode: 0o600 });
  server = await new Promise((resolve, reject) => {
    const p = spawn(URBAC, ['serve', '--db', db, '--listen', '127.0.0.1:0', '--threads', '2', '--preshared-key-file',
      join(dir, 'psk')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/serving on (https?:\/\/[^ ]+)/);
      if (m) resolve({ p, base: m[1] });
    });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
  base = server.base;
});

after(() => {
  if (server && server.p.exitCode === null) server.p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('a PostgreSQL restart under writes: 503 while it is down, the truth in /readyz and /metrics, no busy loop, then everything resumes', { skip }, async () => {
  assert.equal((await call('GET', '/readyz', { token: null })).status, 200);
  // a steady writer: one user written every 50 ms, each answer kept
  const answers = [];
  let n = 0, writing = true;
  const writer = (async () => {
    while (writing) {
      const id = `load-${n++}@contoso.com`;
      const r = await call('PUT', `${T}/users/${encodeURIComponent(id)}`, { body: { id, name: `Load ${n}` } });
      answers.push({ at: Date.now(), status: r.status, code: r.json?.error?.code, retryAfter: r.headers.get('retry-after') });
      await sleep(50);
    }
  })();
  await until('writes succeed before the restart', 5000, () => answers.some((a) => a.status < 300));

  pg('stop');
  const stopped = Date.now();
  await until('/readyz says not ready', 5000, async () => (await call('GET', '/readyz', { token: null })).status === 503);
  const ready = await call('GET', '/readyz', { token: null });
  assert.equal(ready.json.status, 'store unavailable');
  assert.match(ready.json.reason, /^tenant (contoso|litware): the store is unavailable/);
  assert.doesNotMatch(ready.json.reason, new RegExp(new URL(db).password));
  let m = (await call('GET', '/metrics')).text;
  assert.equal(metric(m, 'urbac_store_up'), 0);
  // a write now fails cleanly: 503, Retry-After, the reason, fast
  const t0 = Date.now();
  const w = await call('PUT', `${T}/users/${encodeURIComponent('outage@contoso.com')}`, { body: { id: 'outage@contoso.com' } });
  assert.equal(w.status, 503, w.text);
  assert.equal(w.json.error.code, 'EUNAVAILABLE');
  assert.ok(Number(w.headers.get('retry-after')) >= 1);
  assert.ok(Date.now() - t0 < 2000, `a write took ${Date.now() - t0} ms to fail`);
  // no busy loop: the server's CPU over 2 s while the store is down (the writer keeps going)
  const c0 = cpuSeconds(server.p.pid);
  await sleep(2000);
  const used = cpuSeconds(server.p.pid) - c0;
  assert.ok(used < 0.3, `the server used ${used.toFixed(2)} s of CPU in 2 s while the store was down`);
  assert.equal((await call('GET', '/readyz', { token: null })).status, 503);

  pg('start');
  const started = Date.now();
  // another writer changes the tenant while the server is still reconnecting
  cli('user', 'add', 'walker@contoso.com', '--tenant-id', 'contoso', '--name', 'Walker');
  const caughtUp = await until('the CLI\'s change is served', 15000, async () =>
    (await call('GET', `${T}/users/${encodeURIComponent('walker@contoso.com')}`)).status === 200);
  await until('/readyz says ready again', 15000, async () => (await call('GET', '/readyz', { token: null })).status === 200);
  await until('writes succeed again', 15000, () => answers.some((a) => a.at > started && a.status < 300));
  writing = false;
  await writer;
  const w2 = await call('PUT', `${T}/users/${encodeURIComponent('after@contoso.com')}`, { body: { id: 'after@contoso.com' } });
  assert.ok(w2.status < 300, w2.text);
  m = (await call('GET', '/metrics')).text;
  assert.equal(metric(m, 'urbac_store_up'), 1);
  assert.ok(metric(m, 'urbac_store_reconnects_total') >= 1);
  assert.match(m, /^urbac_store_lag_revisions\{tenant="contoso"\} 0$/m);

  // during the outage every write was a clean 503, never a 500; outside it, successes
  const during = answers.filter((a) => a.status >= 500);
  assert.ok(during.length > 0, 'no write met the outage');
  for (const a of during) {
    assert.equal(a.status, 503, JSON.stringify(a));
    assert.equal(a.code, 'EUNAVAILABLE');
    assert.ok(a.retryAfter);
  }
  assert.ok(answers.every((a) => a.status < 300 || a.status === 503), JSON.stringify(answers.filter((a) => a.status >= 300 && a.status !== 503)));
  console.log(`outage: stopped ${started - stopped} ms, server CPU ${(used / 2 * 100).toFixed(1)}% of a core; ` +
    `${during.length} writes answered 503; ` +
    `the CLI's change served ${caughtUp} ms after the restart; ${answers.length} writes in all`);
  // nothing in the server's log shows the password
  assert.doesNotMatch(stderr, new RegExp(new URL(db).password));
});
