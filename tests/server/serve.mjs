// tests/server/serve.mjs - what the server suites share: a store with the demo
// tenants, `urbac serve` started on loopback, and a fetch helper.
//
// Env: URBAC (the binary), URBAC_SRC (the repository), URBAC_TEST_PG_URL (when
// set, the store is that PostgreSQL database instead of a SQLite file).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const URBAC = process.env.URBAC;
export const SRC = process.env.URBAC_SRC;
export const T = '/api/v1/tenants/contoso';
// bounded.sh: a command that hangs is killed after its threads are printed
export const BOUNDED = fileURLToPath(new URL('./bounded.sh', import.meta.url));
export const q = (o) => new URLSearchParams(o).toString();

// A fresh store holding the examples' tenants and a preshared key file; `cli`
// runs the CLI on it.
export function store(prefix, psk) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const db = process.env.URBAC_TEST_PG_URL || join(dir, 'store.db');
  const cli = (...args) => execFileSync(BOUNDED, ['120', URBAC, ...args, '--db', db], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  cli('init');
  cli('apply', '-f', join(SRC, 'examples/contoso.yaml'));
  writeFileSync(join(dir, 'psk'), `${psk}\n`, { mode: 0o600 });
  return { dir, db, cli };
}

// Starts `urbac serve` on the store (on `listen`: a free port unless given);
// resolves once it listens.
export function serve(db, args = [], listen = '127.0.0.1:0') {
  return new Promise((resolve, reject) => {
    const p = spawn(URBAC, ['serve', '--db', db, '--listen', listen, '--threads', '2', ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const late = setTimeout(() => { // not serving after 5 minutes (the benchmarks load a million users): where it waits, then kill it
      process.stderr.write(`\n== the server (pid ${p.pid}) is not serving after 300 s; its threads:\n${threads(p.pid)}\n== its log:\n${err}\n`);
      p.kill('SIGKILL');
    }, 300000);
    p.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/serving on (https?:\/\/[^ ]+)/);
      if (m) {
        clearTimeout(late);
        resolve({ p, base: m[1] });
      }
    });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code, signal) => {
      clearTimeout(late);
      reject(new Error(`serve exited ${code ?? signal}: ${err}`));
    });
  });
}

// A client of the server at `base`: call(method, path, {token, body, headers}).
export function client(base, defaultToken) {
  return async (method, path, { token = defaultToken, body, headers = {} } = {}) => {
    const h = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    const res = await fetch(base + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60000) }).catch((e) => {
      throw e.name === 'TimeoutError' ? new Error(`${method} ${path}: no answer in 60 s`) : e;
    });
    const text = await res.text();
    let json;
    try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
    return { status: res.status, json, text, headers: res.headers };
  };
}

// Holds the store's write lock from outside (the sqlite3 shell's BEGIN IMMEDIATE
// on the SQLite file `db`, or psql holding the writers' advisory lock under
// URBAC_TEST_PG_URL), so that writes wait for certain; resolves to release().
export async function holdStoreLock(db) {
  const PG = process.env.URBAC_TEST_PG_URL;
  const p = PG ? spawn('psql', ['-X', '-q', '-A', '-t', PG], { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn('sqlite3', [db], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const locked = new Promise((res, rej) => {
    p.stdout.on('data', (d) => { out += d; if (out.includes('locked')) res(); });
    p.on('exit', (code) => rej(new Error(`lock holder exited ${code}`)));
  });
  p.stdin.write(PG ? "BEGIN; SELECT pg_advisory_xact_lock(7365147322); SELECT 'locked';\n"
    : "BEGIN IMMEDIATE; SELECT 'locked';\n");
  await locked;
  return () => new Promise((res) => {
    p.removeAllListeners('exit');
    p.on('exit', res);
    p.stdin.end(PG ? 'ROLLBACK;\n\\q\n' : 'ROLLBACK;\n.quit\n');
  });
}

// The value of counter `name` in /metrics, asked with client `call`.
export async function metricOf(call, name) {
  const m = await call('GET', '/metrics');
  const line = m.status === 200 ? m.text.split('\n').find((l) => l.startsWith(`${name} `)) : undefined;
  if (!line) throw new Error(`${name} not in /metrics (${m.status})`);
  return Number(line.split(' ')[1]);
}

// Where each thread of process `pid` is (gdb's backtraces, or /proc's thread
// names and wait channels where gdb is missing): what a test prints when a server
// does not answer in time, before it kills it, so a hang is a failure that says
// where, not a suite that runs into ctest's timeout.
export function threads(pid) {
  try {
    return execFileSync('gdb', ['-p', String(pid), '-batch', '-ex', 'thread apply all bt'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30000 });
  } catch { /* no gdb, or it could not attach */ }
  try {
    const at = (tid, f) => { try { return readFileSync(`/proc/${pid}/task/${tid}/${f}`, 'utf8').trim(); } catch { return '?'; } };
    return readdirSync(`/proc/${pid}/task`).map((tid) => `${tid} ${at(tid, 'comm')} waits in ${at(tid, 'wchan')}`).join('\n');
  } catch (e) {
    return `no /proc/${pid}: ${e.message}`;
  }
}
