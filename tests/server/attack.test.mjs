// tests/server/attack.test.mjs - `urbac serve` under attack, over loopback: a
// flood of idle connections and a slowloris (the server keeps serving everyone
// else and recovers), the connection limits, bodies sent without a key (never
// read, memory bounded), the memory budget of bodies in flight, made-up keys
// and tenants (answered from memory), ambiguous HTTP framing, 405 with Allow,
// one 401 for every bad API key, a preshared key file others can read, the
// access log with bytes that are not UTF-8, and /metrics behind a key.
//
// The attackers connect from other loopback addresses (127.0.0.2 and up) than
// the normal client (127.0.0.1), as they would from other hosts.
//
// Env: URBAC (the binary), URBAC_SRC (the repository).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const URBAC = process.env.URBAC;
const SRC = process.env.URBAC_SRC;
const dir = mkdtempSync(join(tmpdir(), 'urbac-attack-'));
const db = join(dir, 'store.db');
const PSK = 'attack-preshared-key-0123456789';
const T = '/api/v1/tenants/contoso';
const CHECK = `${T}/check?${new URLSearchParams({ user: 'alice@contoso.com', permission: 'Security operations \\ Security data \\ Alerts (manage)', workload: 'mde', scope: 'device:lap-042' })}`;
const servers = [], floods = [];
let erin;

const cli = (...args) => execFileSync(URBAC, [...args, '--db', db], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

function start(args = []) {
  return new Promise((resolve, reject) => {
    const psk = args.includes('--preshared-key-file') ? [] : ['--preshared-key-file', join(dir, 'psk')];
    const p = spawn(URBAC, ['serve', '--db', db, '--listen', '127.0.0.1:0', '--threads', '2', ...psk, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    servers.push({ p });
    let out = '', err = '';
    p.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/serving on http:\/\/([^ ]+)/);
      if (m) {
        const [host, port] = [m[1].slice(0, m[1].lastIndexOf(':')), +m[1].slice(m[1].lastIndexOf(':') + 1)];
        resolve({ p, host, port, base: `http://${m[1]}`, stderr: () => err });
      }
    });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}
const stop = (s) => new Promise((res) => { if (s.p.exitCode !== null || s.p.signalCode !== null) res(); else { s.p.on('exit', res); s.p.kill('SIGKILL'); } });

async function call(s, path, { token = PSK, method = 'GET', timeout = 2000 } = {}) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const res = await fetch(s.base + path, { method, headers, signal: AbortSignal.timeout(timeout) });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, text, json, headers: res.headers };
}

async function metric(s, name) {
  const m = (await call(s, '/metrics')).text.match(new RegExp(`^${name} (\\d+)`, 'm'));
  assert.ok(m, `${name} in /metrics`);
  return +m[1];
}

// One raw exchange: writes `bytes`, gathers what comes back until the server
// closes or `ms` pass. closed: the server ended the connection.
function raw(s, bytes, { ms = 1500, localAddress } = {}) {
  return new Promise((resolve) => {
    const c = net.connect({ host: s.host, port: s.port, localAddress });
    let got = Buffer.alloc(0), closed = false;
    const done = () => { clearTimeout(timer); c.destroy(); resolve({ text: got.toString('latin1'), closed }); };
    const timer = setTimeout(done, ms);
    c.on('data', (d) => { got = Buffer.concat([got, d]); });
    c.on('end', () => { closed = true; done(); });
    c.on('error', () => { closed = true; done(); });
    c.write(bytes);
  });
}

// `n` connections from 127.0.0.FIRST and up (`per` from each address), held
// open by flood.mjs; slow: a slowloris. Resolves once every one is connected,
// with closed() (how many the server ended, asked of flood.mjs) and end().
function flood(s, n, { per = 200, first = 2, slow = false } = {}) {
  const p = spawn(process.execPath, [join(SRC, 'tests/server/flood.mjs'), s.host, s.port, n, per, first, slow ? 1 : 0],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  floods.push(p);
  let out = '', waiting = null;
  return new Promise((resolve, reject) => {
    p.on('exit', (code) => reject(new Error(`flood.mjs exited ${code}`)));
    p.stdout.on('data', (d) => {
      out += d;
      let nl;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (line === 'connected') resolve({
          closed: () => new Promise((res) => { waiting = res; p.stdin.write('?\n'); }),
          end: () => new Promise((res) => { p.removeAllListeners('exit'); p.on('exit', res); p.stdin.end(); }),
        });
        else if (line.startsWith('closed ') && waiting) waiting(+line.slice(7));
      }
    });
  });
}

// `n` normal requests (a check with a key, and /healthz), 4 at a time, from
// 127.0.0.1: how many were answered 200, and the 99th percentile in ms.
async function normal(s, n) {
  const times = [];
  let ok = 0, i = 0;
  const worker = async () => {
    while (i < n) {
      const path = i++ % 2 ? CHECK : '/healthz';
      const t0 = performance.now();
      try {
        if ((await call(s, path, { token: erin, timeout: 3000 })).status === 200) ok++;
      } catch { /* reset or timed out: not answered */ }
      times.push(performance.now() - t0);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  times.sort((a, b) => a - b);
  if (process.env.URBAC_ATTACK_DEBUG) console.log(times.slice(-10).map((t) => t.toFixed(1)).join(' '));
  return { ok, p99: times[Math.ceil(times.length * 0.99) - 1] };
}

// Waits for fn() to hold, asking again every 50 ms; a request that fails (a
// metric asked while the server closes 2,000 connections on a busy machine) is
// asked again too, and named if it is still failing at the end.
async function until(what, fn, ms = 5000) {
  const t0 = Date.now();
  for (;;) {
    let last = null;
    try { if (await fn()) return; } catch (e) { last = e; }
    assert.ok(Date.now() - t0 < ms, `waited ${ms} ms for ${what}${last ? ` (last: ${last.message})` : ''}`);
    await sleep(50);
  }
}

before(() => {
  cli('init');
  cli('apply', '-f', join(SRC, 'examples/contoso.yaml'));
  writeFileSync(join(dir, 'psk'), `${PSK}\n`, { mode: 0o600 });
  erin = cli('key', 'create', '--tenant-id', 'contoso', '--user', 'erin@contoso.com', '--name', 'attack').trim();
});

after(async () => {
  for (const f of floods) f.kill('SIGKILL');
  await Promise.all(servers.map(stop));
  rmSync(dir, { recursive: true, force: true });
});

for (const slow of [false, true]) {
  test(`${slow ? 'a slowloris' : 'idle connections'}: 2,000 held, every normal request answered, p99 < 50 ms (3x the quiet p99 on a busy machine), then recovered`, async () => {
    const s = await start();
    await normal(s, 40); // the client warmed up: its own start is not measured
    // the same requests without the flood: on a machine busy with other work
    // the bound is three times what it manages then
    const quiet = await normal(s, 300);
    assert.equal(quiet.ok, 300);
    const f = await flood(s, 2000, { per: 200, slow }); // 10 addresses, 200 each: under every limit
    // measured once the server holds them all (on 0.9.75 unfixed it never answers)
    await until('the server to hold them', async () => {
      try { return (await metric(s, 'urbac_http_connections')) >= 2000; } catch { return true; }
    }, 10000);
    const during = await normal(s, 300);
    assert.equal(during.ok, 300, `answered ${during.ok} of 300`);
    assert.equal(await f.closed(), 0, 'the server closed none of them');
    const bound = Math.max(50, 3 * quiet.p99);
    assert.ok(during.p99 < bound, `p99 ${during.p99.toFixed(1)} ms, without the flood ${quiet.p99.toFixed(1)} ms`);
    await f.end();
    await until('the connections to close', async () => (await metric(s, 'urbac_http_connections')) <= 5);
    const afterwards = await normal(s, 100);
    assert.equal(afterwards.ok, 100);
    await stop(s);
  });
}

test('connection limits: per address and in all; over them a connection is closed at once, and the server recovers', async () => {
  const s = await start(['--max-connections', '150', '--max-connections-per-ip', '50']);
  const f = await flood(s, 400, { per: 100, first: 30 }); // 4 addresses, 100 each
  await until('the server to close 250 of 400', async () => (await f.closed()) >= 250);
  await sleep(200);
  assert.equal(await f.closed(), 250); // 50 from each address at most, 150 in all
  const full = await raw(s, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.ok(full.closed && !full.text.includes('200 OK'), 'at the limit, a new connection is closed');
  await f.end();
  await until('room again', async () => { try { return (await call(s, '/healthz')).status === 200; } catch { return false; } });
  assert.ok((await metric(s, 'urbac_http_connections_refused_total')) >= 251);
  assert.equal((await normal(s, 50)).ok, 50);
  await stop(s);
});

test('more connections than file descriptors allow are refused before serving', () => {
  let err = '';
  try { // 2,048 descriptors, hard limit: room for half of them
    execFileSync('sh', ['-c', 'ulimit -n 2048 && exec "$0" serve --db "$1" --listen 127.0.0.1:0 --max-connections 5000', URBAC, db],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 });
  } catch (e) { err = e.stderr; assert.equal(e.status, 2); }
  assert.match(err, /--max-connections: 5000 connections need more file descriptors than the limit of 2048 allows \(at most 1024/);
});

const vm = (pid, field) => +readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))[1] * 1024;

test('a body sent without a key is never read: 401 on the headers, the connection closed, memory bounded', async () => {
  const s = await start();
  const head = (len, auth = '') => `POST ${T}/checks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${auth}Content-Length: ${len}\r\n\r\n`;
  // the headers alone get the answer: the body is not waited for
  const r = await raw(s, head(16 << 20));
  assert.match(r.text, /^HTTP\/1\.1 401/);
  assert.ok(r.closed, 'the connection is closed, the body unread');
  const chunked = await raw(s, `POST ${T}/checks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`);
  assert.match(chunked.text, /^HTTP\/1\.1 401/);
  const unknown = await raw(s, `POST /api/v1/nothing HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${PSK}\r\nContent-Length: 1000000\r\n\r\n`);
  assert.match(unknown.text, /^HTTP\/1\.1 404/);
  // 60 connections sending 16 MiB each
  const before = vm(s.p.pid, 'VmHWM');
  const body = Buffer.alloc(16 << 20, 0x20);
  const statuses = await Promise.all(Array.from({ length: 60 }, () => new Promise((resolve) => {
    const c = net.connect({ host: s.host, port: s.port });
    let got = '';
    c.on('data', (d) => { got += d; });
    c.on('close', () => resolve(got.slice(0, 12)));
    c.on('error', () => {});
    c.write(head(body.length));
    c.write(body);
  })));
  // a 401 or, when the server closed while the client was still writing, a reset
  assert.ok(statuses.every((x) => x === 'HTTP/1.1 401' || x === ''), JSON.stringify(statuses));
  const grew = vm(s.p.pid, 'VmHWM') - before;
  assert.ok(grew < 48 << 20, `the server grew by ${(grew / 1048576).toFixed(0)} MiB`);
  await stop(s);
});

test('bodies in flight share a memory budget: over it 503 with Retry-After, and room again when one ends', async () => {
  const s = await start(); // 16 MiB bodies, 64 MiB in all
  const len = 16 << 20;
  const head = `POST ${T}/checks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${PSK}\r\nContent-Type: application/json\r\nContent-Length: ${len}\r\n\r\n`;
  const holders = [];
  for (let i = 0; i < 4; i++) { // each announces 16 MiB and sends nothing yet
    const c = net.connect({ host: s.host, port: s.port });
    c.on('error', () => {});
    await new Promise((res) => c.on('connect', res));
    c.write(head);
    holders.push(c);
  }
  await sleep(200);
  const over = await raw(s, head);
  assert.match(over.text, /^HTTP\/1\.1 503/);
  assert.match(over.text, /Retry-After: 1/i);
  assert.ok(over.closed);
  holders[0].destroy();
  await until('the budget to come back', async () => !/^HTTP\/1\.1 503/.test((await raw(s, head, { ms: 300 })).text));
  assert.ok((await metric(s, 'urbac_http_bodies_refused_total')) >= 1);
  for (const c of holders) c.destroy();
  await stop(s);
});

test('made-up API keys and tenants are refused from memory: the store is never asked', async () => {
  const s = await start();
  const fake = () => `urbac_${randomBytes(8).toString('hex')}_${randomBytes(32).toString('hex')}`;
  const before = await metric(s, 'urbac_tenant_lookups_total');
  for (let i = 0; i < 200; i++) {
    const tenant = `nosuch${i}`;
    assert.equal((await call(s, `/api/v1/tenants/${tenant}/check?user=a&permission=b&workload=mde`, { token: fake() })).status, 401);
    assert.equal((await call(s, `/api/v1/tenants/${tenant}/users`)).status, 404);
    assert.equal((await call(s, `${T}/users`, { token: fake() })).status, 401);
  }
  assert.equal(await metric(s, 'urbac_tenant_lookups_total'), before, 'no lookup reached the store');
  // a tenant made by another process is found within a second or so
  cli('apply', '-f', join(SRC, 'examples/litware.yaml'));
  await until('litware to be served', async () => (await call(s, '/api/v1/tenants/litware/users')).status === 200, 3000);
  assert.equal(await metric(s, 'urbac_tenant_lookups_total'), before + 1);
  await stop(s);
});

test('one 401 for an unknown key id and a wrong secret', async () => {
  const s = await start();
  const [, id, secret] = erin.split('_');
  const wrong = `urbac_${id}_${secret.slice(0, -1)}${secret.endsWith('0') ? '1' : '0'}`;
  const unknownId = `urbac_${randomBytes(8).toString('hex')}_${secret}`;
  const a = await call(s, CHECK, { token: wrong });
  const b = await call(s, CHECK, { token: unknownId });
  assert.equal(a.status, 401);
  assert.equal(b.status, 401);
  const shape = (r, token) => r.json.error.message.replace(token.split('_')[1], 'ID');
  assert.equal(shape(a, wrong), shape(b, unknownId));
  assert.equal(a.json.error.code, b.json.error.code);
  await stop(s);
});

test('HTTP framing: Content-Length with Transfer-Encoding, or two lengths, is a 400 and the connection closes', async () => {
  const s = await start();
  const both = await raw(s, `POST ${T}/checks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${PSK}\r\nContent-Length: 4\r\n` +
    'Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(both.text, /^HTTP\/1\.1 400/);
  assert.match(both.text, /Transfer-Encoding/);
  assert.ok(both.closed, 'closed');
  assert.equal(both.text.match(/HTTP\/1\.1 /g).length, 1, 'the smuggled request is not answered');
  const two = await raw(s, `POST ${T}/checks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${PSK}\r\nContent-Length: 2\r\n` +
    'Content-Length: 40\r\n\r\n{}');
  assert.match(two.text, /^HTTP\/1\.1 400/);
  assert.match(two.text, /Content-Length/);
  assert.ok(two.closed, 'closed');
  await stop(s);
});

test('every 405 carries Allow: HEAD, OPTIONS and the other methods', async () => {
  const s = await start();
  const cases = [['HEAD', '/healthz', 'GET'], ['OPTIONS', `${T}/roleDefinitions`, 'GET, POST'],
    ['DELETE', '/healthz', 'GET'], ['PUT', `${T}/check`, 'GET'], ['POST', `${T}/users/a`, 'GET, PUT, DELETE']];
  for (const [method, path, allow] of cases) {
    const r = await raw(s, `${method} ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${PSK}\r\nConnection: close\r\n\r\n`);
    assert.match(r.text, /^HTTP\/1\.1 405/, `${method} ${path}`);
    assert.equal(r.text.match(/\r\nAllow: ([^\r]*)\r\n/i)?.[1], allow, `${method} ${path}`);
  }
  await stop(s);
});

test('a preshared key file others can read is refused at start and on SIGHUP', async () => {
  writeFileSync(join(dir, 'open-psk'), `${PSK}\n`);
  chmodSync(join(dir, 'open-psk'), 0o644);
  let err = '';
  try {
    execFileSync(URBAC, ['serve', '--db', db, '--listen', '127.0.0.1:0', '--preshared-key-file', join(dir, 'open-psk')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 });
  } catch (e) { err = e.stderr; assert.equal(e.status, 2); }
  assert.match(err, /open-psk.*mode 0644/);
  chmodSync(join(dir, 'open-psk'), 0o600);
  const s = await start(['--preshared-key-file', join(dir, 'open-psk'), '--access-log', join(dir, 'sighup.log')]);
  const fresh = 'a-fresh-key-others-could-read-0123';
  writeFileSync(join(dir, 'open-psk'), `${fresh}\n`);
  chmodSync(join(dir, 'open-psk'), 0o640);
  s.p.kill('SIGHUP');
  await until('the refusal in the log', () => /"event":"sighup".*mode 0640/.test(readFileSync(join(dir, 'sighup.log'), 'utf8')), 3000);
  assert.equal((await call(s, `${T}/users`)).status, 200, 'the old key stays');
  assert.equal((await call(s, `${T}/users`, { token: fresh })).status, 401);
  await stop(s);
});

test('the access log keeps a line whose path is not UTF-8, the bytes escaped', async () => {
  const s = await start(['--access-log', join(dir, 'utf8.log')]);
  // the log keeps 255 bytes of the path: the cut falls inside "é"
  const prefix = `${T}/users/`;
  const path = prefix + 'a'.repeat(254 - prefix.length) + 'é';
  const cut = await raw(s, Buffer.concat([Buffer.from('GET '), Buffer.from(path, 'utf8'), Buffer.from(` HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${PSK}\r\nConnection: close\r\n\r\n`)]));
  assert.match(cut.text, /^HTTP\/1\.1 \d/);
  const bad = await raw(s, Buffer.concat([Buffer.from(`GET ${T}/users/x`), Buffer.from([0xff, 0xfe]), Buffer.from(`y HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)]));
  assert.match(bad.text, /^HTTP\/1\.1 \d/);
  await until('both lines', () => {
    const lines = readFileSync(join(dir, 'utf8.log'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    return lines.some((l) => l.path === `${path.slice(0, 254)}%C3`) && lines.some((l) => l.path === `${T}/users/x%FF%FEy`);
  }, 3000);
  await stop(s);
});

test('/metrics names the tenants: a preshared key, or --metrics-public', async () => {
  const s = await start();
  assert.equal((await call(s, '/metrics', { token: null })).status, 401);
  assert.equal((await call(s, '/metrics', { token: erin })).status, 403);
  const m = await call(s, '/metrics');
  assert.equal(m.status, 200);
  assert.match(m.text, /urbac_tenant_revision\{tenant="contoso"\}/);
  await stop(s);
  const open = await start(['--metrics-public']);
  assert.equal((await call(open, '/metrics', { token: null })).status, 200);
  await stop(open);
});
