// bench/scim/run.mjs - an initial provisioning cycle through the SCIM endpoint
// (src/server/scim.c), as Microsoft Entra ID runs one: USERS users created, then
// GROUPS groups, then their members added in PATCH requests of up to 1,000, by 8
// concurrent clients, while a separate process asks GET /check one question at a
// time (its latency is measured apart from the writers' event loop).
//
// Usage: node run.mjs URBAC DB       (DB: a store made by `urbac init` + apply of
//                                     bench/scim/tenant.yaml)
// Env: SCIM_USERS (default 100000), SCIM_GROUPS (10000), SCIM_CLIENTS (8), URBAC_TEST_PG_URL (run.sh).
// Prints one JSON object with every figure.
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agent, request } from '../client.mjs';

const [URBAC, DB] = process.argv.slice(2);
if (!DB) {
  console.error('usage: node run.mjs URBAC DB');
  process.exit(2);
}
const USERS = Number(process.env.SCIM_USERS || 100000);
const GROUPS = Number(process.env.SCIM_GROUPS || 10000);
const CLIENTS = Number(process.env.SCIM_CLIENTS || 8);
const CHUNK = 1000;
const PSK = 'bench-scim-preshared-key-0123456789';
const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'urbac-scim-bench-'));
writeFileSync(join(dir, 'psk'), `${PSK}\n`, { mode: 0o600 });
process.env.URBAC = URBAC;
const { serve } = await import('../../tests/server/serve.mjs');
const S = '/api/v1/tenants/bench/scim/v2';
const PATCHOP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

// CPU seconds (user + system) a process has used: what the cycle costs the server,
// whatever else the machine runs meanwhile.
const cpu = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (100 Hz)
};
const rss = (pid) => Math.round(Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/)[1]) / 1024);

let base;
let failed = 0, firstFailure = null;
const pool = agent(CLIENTS);
async function scim(method, path, body, want) {
  const res = await request(pool, method, base + S + path,
    { authorization: `Bearer ${PSK}`, 'content-type': 'application/scim+json' }, JSON.stringify(body));
  const text = res.text;
  if (res.status !== want) {
    failed++;
    firstFailure ??= `${method} ${path}: ${res.status} ${text.slice(0, 300)}`;
    return null;
  }
  return text ? JSON.parse(text) : null;
}

// The writer's counters (GET /metrics): batches run, requests in them, commits.
async function writes() {
  const res = await request(pool, 'GET', `${base}/metrics`, { authorization: `Bearer ${PSK}` });
  const n = (name) => Number((res.text.match(new RegExp(`^${name} (\\d+)$`, 'm')) || [])[1]);
  return { batches: n('urbac_write_batches_total'), requests: n('urbac_write_batch_requests_total'),
    commits: n('urbac_write_batch_commits_total') };
}

// Runs `n` jobs by CLIENTS concurrent loops; the wall time in seconds.
async function phase(n, job) {
  const t0 = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    for (let i = next++; i < n; i = next++) await job(i);
  }));
  return (Date.now() - t0) / 1000;
}

const userIds = new Array(USERS), groupIds = new Array(GROUPS);
const guid = (kind, i) => `${kind}${String(i).padStart(7, '0')}-0000-4000-8000-000000000000`;
// Memberships: the first 10 groups hold 5,000 users each (5 PATCHes of 1,000), every
// other group 45 (one PATCH): about 500,000 memberships in about 10,040 PATCHes.
const patches = [];
for (let g = 0; g < GROUPS; g++) {
  const size = g < 10 ? 5000 : 45;
  const members = Array.from({ length: Math.min(size, USERS) }, (_, k) => (g * 7919 + k * 104729) % USERS);
  for (let k = 0; k < members.length; k += CHUNK) patches.push([g, members.slice(k, k + CHUNK)]);
}

const server = await serve(DB, ['--preshared-key-file', join(dir, 'psk')]);
base = server.base;
const checker = fork(join(here, 'checker.mjs'), [base, PSK], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
const result = { users: USERS, groups: GROUPS, clients: CLIENTS, rss_start_mib: rss(server.p.pid) };
try {
  await new Promise((res) => checker.once('message', res)); // the checker runs
  const t0 = Date.now(), cpu0 = cpu(server.p.pid);
  const cpuAt = [cpu0], writesAt = [await writes()];
  result.users_s = await phase(USERS, async (i) => {
    const u = await scim('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], externalId: guid('a', i), userName: `user${i}@bench.example`,
      active: true, displayName: `User ${i}`, emails: [{ primary: true, type: 'work', value: `user${i}@bench.example` }],
      name: { givenName: 'User', familyName: String(i) } }, 201);
    userIds[i] = u && u.id;
  });
  cpuAt.push(cpu(server.p.pid));
  writesAt.push(await writes());
  result.groups_s = await phase(GROUPS, async (g) => {
    const r = await scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      externalId: guid('b', g), displayName: `Group ${g}` }, 201);
    groupIds[g] = r && r.id;
  });
  cpuAt.push(cpu(server.p.pid));
  writesAt.push(await writes());
  result.member_patches = patches.length;
  result.memberships = patches.reduce((n, [, m]) => n + m.length, 0);
  result.members_s = await phase(patches.length, async (i) => {
    const [g, members] = patches[i];
    await scim('PATCH', `/Groups/${groupIds[g]}`, { schemas: [PATCHOP],
      Operations: [{ op: 'Add', path: 'members', value: members.map((u) => ({ $ref: null, value: userIds[u] })) }] }, 204);
  });
  result.total_s = (Date.now() - t0) / 1000;
  cpuAt.push(cpu(server.p.pid));
  writesAt.push(await writes());
  result.server_cpu_s = Number((cpuAt[3] - cpu0).toFixed(1));
  // the server's CPU seconds in each phase (users, groups, members), and the
  // requests the tenant's writer took in one batch, on average
  result.server_cpu_phases_s = cpuAt.slice(1).map((c, k) => Number((c - cpuAt[k]).toFixed(1)));
  result.batch_phases = writesAt.slice(1).map((w, k) =>
    Number(((w.requests - writesAt[k].requests) / Math.max(1, w.batches - writesAt[k].batches)).toFixed(2)));
  result.load_average = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
} finally {
  // the checker's figures; if it died, say so rather than wait for them forever
  const checks = await new Promise((res) => {
    checker.once('message', res);
    checker.once('exit', (code) => setTimeout(() => res({ n: 0, failed: `checker exited ${code}` }), 2000));
    try { checker.send('stop'); } catch { res({ n: 0, failed: 'checker gone' }); }
  });
  result.check_ms = { n: checks.n, p50: checks.p50, p99: checks.p99, max: checks.max };
  result.check_failed = checks.failed;
  result.rss_end_mib = rss(server.p.pid);
  result.failed = failed;
  if (firstFailure) result.first_failure = firstFailure;
  server.p.kill('SIGTERM');
}
console.log(JSON.stringify(result));
