// bench/writes/delegated.mjs - what a delegated administrator's write costs: the
// no-escalation check (src/server/reach.c) judges every write by a caller who is
// not a preshared key. A user with Authorization on mde and Alerts only gets an
// API key (`urbac key create`); then, through `urbac serve`, her first PUT (which
// makes the tenant's twin with the other modes), WRITES PUTs of new users, WRITES
// PUTs of a 1,000-member group's membership (within her reach), and the same user
// PUTs by the preshared key for comparison; the server's RSS before and after.
//
// Usage: URBAC=BUILD/urbac node delegated.mjs DB TENANT_ID   (DB: a copy; it is written)
// Env: WRITES (per kind, default 100). Prints one JSON object (milliseconds, MiB).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, client, URBAC } from '../../tests/server/serve.mjs';

const [DB, TENANT] = process.argv.slice(2);
if (!TENANT || !URBAC) {
  console.error('usage: URBAC=BUILD/urbac node delegated.mjs DB TENANT_ID');
  process.exit(2);
}
const WRITES = Number(process.env.WRITES || 100);
const PSK = 'bench-delegated-preshared-key-0123456789';
const T = `/api/v1/tenants/${TENANT}`;
const DELE = 'delegated-admin@bench';
const AUTHZ = 'Configuration \\ Authorization';
const dir = mkdtempSync(join(tmpdir(), 'urbac-delegated-'));
writeFileSync(join(dir, 'psk'), `${PSK}\n`, { mode: 0o600 });

const rss = (pid) => Math.round(Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) / 1024);
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const summary = (xs) => ({ n: xs.length, p50: Number(pct(xs, 50).toFixed(2)), p99: Number(pct(xs, 99).toFixed(2)) });

const server = await serve(DB, ['--preshared-key-file', join(dir, 'psk')]);
const call = client(server.base, PSK);
const must = async (r, what) => {
  if ((await r).status >= 300)
    throw new Error(`${what}: ${(await r).status} ${(await r).text.slice(0, 300)}`);
};
// one request, timed; its status counted
async function timed(statuses, ...args) {
  const t0 = process.hrtime.bigint();
  const r = await call(...args);
  statuses[r.status] = (statuses[r.status] || 0) + 1;
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

try {
  await must(call('PUT', `${T}/users/${DELE}`, { body: { name: 'Delegated administrator' } }), 'user');
  await must(call('POST', `${T}/roleDefinitions`, { body: { displayName: 'Bench delegated', rolePermissions: [{
    allowedResourceActions: [`${AUTHZ} (manage)`, `${AUTHZ} (read)`, 'Security operations \\ Security data \\ Alerts (manage)'],
  }] } }), 'role');
  await must(call('POST', `${T}/roleAssignments`, { body: { displayName: 'delegated', roleDefinitionId: 'Bench delegated',
    principalIds: [DELE], appScopeIds: ['Mde'] } }), 'assignment');
  const out = execFileSync(URBAC, ['key', 'create', '--user', DELE, '--db', DB, '--tenant-id', TENANT], { encoding: 'utf8' });
  const token = out.match(/urbac_[A-Za-z0-9_]+/)[0];
  await new Promise((res) => setTimeout(res, 1500)); // the server re-reads keys twice a second
  const result = { rss_start_mib: rss(server.p.pid) };
  const first = {};
  result.first_put_ms = await timed(first, 'PUT', `${T}/users/bench-dele-first`, { token, body: { name: 'first' } });
  result.first_status = first;
  result.rss_after_first_mib = rss(server.p.pid);
  const kinds = {
    delegated_put_user: (i) => ['PUT', `${T}/users/bench-dele-${i}`, { token, body: { name: `d${i}` } }],
    preshared_put_user: (i) => ['PUT', `${T}/users/bench-psk-${i}`, { body: { name: `p${i}` } }],
  };
  // a group of 1,000 users holding her role: one member swapped per write, within her reach
  const ids = Array.from({ length: 1100 }, (_, i) => `user${String(i).padStart(6, '0')}@contoso.com`);
  await must(call('PUT', `${T}/groups/bench-dele-1000`, { body: { name: 'Bench 1,000', members: ids.slice(0, 1000) } }), 'group');
  await must(call('POST', `${T}/roleAssignments`, { body: { displayName: 'delegated-group', roleDefinitionId: 'Bench delegated',
    principalIds: ['group:bench-dele-1000'], appScopeIds: ['Mde'] } }), 'group assignment');
  kinds.delegated_group_membership = (i) => ['PUT', `${T}/groups/bench-dele-1000`, { token, body: {
    name: 'Bench 1,000', members: [...ids.slice(0, 1000).filter((_, k) => k !== i % 1000), ids[1000 + (i % 100)]] } }];
  for (const [name, req] of Object.entries(kinds)) {
    const xs = [], statuses = {};
    for (let i = 0; i < WRITES; i++)
      xs.push(await timed(statuses, ...req(i)));
    result[name] = { ...summary(xs), statuses };
  }
  result.rss_end_mib = rss(server.p.pid);
  console.log(JSON.stringify(result));
} finally {
  server.p.kill('SIGKILL');
}
