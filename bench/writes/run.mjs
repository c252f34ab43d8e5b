// bench/writes/run.mjs - what a write costs through `urbac serve`, as an identity
// provider, a portal or a script would see it: sequential latency of three kinds of
// write, sustained writes from 16 clients with checks beside them, the server's
// memory across 10,000 mixed writes and 10,000 that add nothing, and (given a
// second server on the same PostgreSQL store) how soon a write is visible there.
//
// Usage: node run.mjs URBAC DB TENANT.YAML QUERIES.TSV TENANT_ID
// Env: WRITES (per kind, default 200), WRITES_SECONDS (sustained phase, default 10),
//      MEMORY_WRITES (the memory phase, default 10000),
//      SECOND (any value: start a second server on DB and measure visibility).
// Prints one JSON object with every figure (milliseconds, writes per second).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agent, request } from '../client.mjs';

const [URBAC, DB, TENANT_FILE, QUERIES, TENANT] = process.argv.slice(2);
if (!TENANT) {
  console.error('usage: node run.mjs URBAC DB TENANT.YAML QUERIES.TSV TENANT');
  process.exit(2);
}
const WRITES = Number(process.env.WRITES || 200);
const SECONDS = Number(process.env.WRITES_SECONDS || 10);
const PSK = 'bench-writes-preshared-key-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'urbac-writes-'));
writeFileSync(join(dir, 'psk'), `${PSK}\n`, { mode: 0o600 });

// the servers: tests/server/serve.mjs's starter (it reads the binary from $URBAC)
process.env.URBAC = URBAC;
const { serve: start } = await import('../../tests/server/serve.mjs');
const serve = () => start(DB, ['--preshared-key-file', join(dir, 'psk'), '--max-connections', '256']);

const rss = (pid) => {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return m ? Math.round(Number(m[1]) / 1024) : null;
};

const pool = agent(32); // 16 writers, 2 checkers, the second server's probes
async function call(base, method, path, body) {
  const res = await request(pool, method, base + path,
    { authorization: `Bearer ${PSK}`, 'content-type': 'application/json' },
    body === undefined ? undefined : JSON.stringify(body));
  const text = res.text;
  if (res.status >= 300 && res.status !== 404)
    throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return { status: res.status, text, revision: res.headers.etag ?? null };
}

async function timed(fn) {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Number(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(2)) : null;
}
const summary = (xs) => ({ n: xs.length, p50: pct(xs, 50), p99: pct(xs, 99), max: pct(xs, 100) });

// Users from the tenant file's head (bench/gen.c writes `- {id: ...}` lines first),
// check paths from the bench questions.
const head = readFileSync(TENANT_FILE, 'utf8').slice(0, 1 << 20);
const users = [...head.matchAll(/^  - \{id: ([^,}]+)/gm)].map((m) => m[1]).slice(0, 1100);
const lines = readFileSync(QUERIES, 'utf8').split('\n', 10001).filter(Boolean).map((l) => l.split('\t'));
const T = `/api/v1/tenants/${TENANT}`;
const checkPaths = lines.slice(0, 10000).map(([user, permission, workload, scope]) =>
  `${T}/check?` + new URLSearchParams({ user, permission, workload, scope: scope ?? '' }));
if (users.length < 1100)
  throw new Error(`${TENANT_FILE}: needs at least 1,100 users in its first megabyte, has ${users.length}`);

const result = { writes_per_kind: WRITES, sustained_seconds: SECONDS };
const a = await serve();
try {
  result.rss_start_mib = rss(a.p.pid);
  const run = Date.now().toString(36);

  // 1. PUT of a new user, one at a time.
  const putUser = [];
  for (let i = 0; i < WRITES; i++)
    putUser.push(await timed(() => call(a.base, 'PUT', `${T}/users/bw-${run}-${i}@bench`, { name: `Bench ${i}` })));
  result.put_user_ms = summary(putUser);

  // 2. A group of 1,000 members: one member swapped per write (the whole group PUT).
  const members = users.slice(0, 1000);
  const gid = `bw-${run}-g1000`;
  await call(a.base, 'PUT', `${T}/groups/${gid}`, { name: 'Bench 1,000', members });
  const membership = [];
  for (let i = 0; i < WRITES; i++) {
    const m = [...members];
    m[i % 1000] = users[1000 + (i % 100)];
    membership.push(await timed(() => call(a.base, 'PUT', `${T}/groups/${gid}`, { name: 'Bench 1,000', members: m })));
  }
  result.group_membership_ms = summary(membership);

  // 3. A role assignment to that group, its data sources changed per write.
  const role = `bw-${run}-role`;
  await call(a.base, 'POST', `${T}/roleDefinitions`, {
    displayName: role, rolePermissions: [{ allowedResourceActions: ['microsoft.xdr/secops/securitydata/basics/read'] }],
  });
  await call(a.base, 'POST', `${T}/roleAssignments`, {
    displayName: 'bw', roleDefinitionId: role, principalIds: [`group:${gid}`], appScopeIds: ['Mdo'],
  });
  const assign = [];
  const asgPath = `${T}/roleAssignments/${encodeURIComponent(`${role}/bw`)}`;
  for (let i = 0; i < WRITES; i++)
    assign.push(await timed(() => call(a.base, 'PATCH', asgPath, { appScopeIds: i % 2 ? ['Mdo'] : ['Mdo', 'Mdi'] })));
  result.role_assignment_ms = summary(assign);

  // 4. Sustained: 16 writers, 2 checkers, SECONDS long.
  const stopAt = Date.now() + SECONDS * 1000;
  let writes = 0, failed = 0;
  const checks = [];
  const writer = async (w) => {
    for (let i = 0; Date.now() < stopAt; i++) {
      try {
        await call(a.base, 'PUT', `${T}/users/bw-${run}-s${w}-${i}@bench`, { name: `S ${w} ${i}` });
        writes++;
      } catch {
        failed++;
      }
    }
  };
  let checkFailed = 0;
  const checker = async (c) => {
    for (let i = c; Date.now() < stopAt; i += 2) {
      try {
        checks.push(await timed(() => call(a.base, 'GET', checkPaths[i % checkPaths.length])));
      } catch {
        checkFailed++;
      }
    }
  };
  const t0 = Date.now();
  await Promise.all([...Array.from({ length: 16 }, (_, w) => writer(w)), checker(0), checker(1)]);
  result.sustained = { writes_per_s: Number((writes / ((Date.now() - t0) / 1000)).toFixed(1)), failed, check_ms: summary(checks), check_failed: checkFailed };
  result.rss_end_mib = rss(a.p.pid);

  // 5. Memory across MEMORY_WRITES writes from 8 clients: the server's RSS after
  // the first 1,000 (warm-up), every 1,000 after, and at the end. Twice: writes
  // that add users (a third new users, a third swaps in the 1,000-member group, a
  // third assignment changes), then writes that add nothing (half swaps, half
  // assignment changes), which must leave it flat: what the first phase grows
  // beyond that is the new objects themselves.
  const MEMORY_WRITES = Number(process.env.MEMORY_WRITES || 10000);
  const memoryPhase = async (adds) => {
    const samples = [];
    let done = 0, failed = 0;
    const one = (i) => {
      const k = adds ? i % 3 : 1 + (i % 2);
      if (k === 0)
        return call(a.base, 'PUT', `${T}/users/bw-${run}-m${i}@bench`, { name: `M ${i}` });
      if (k === 1) {
        const m = [...members];
        m[i % 1000] = users[1000 + (i % 100)];
        return call(a.base, 'PUT', `${T}/groups/${gid}`, { name: 'Bench 1,000', members: m });
      }
      return call(a.base, 'PATCH', asgPath, { appScopeIds: (i >> 1) % 2 ? ['Mdo'] : ['Mdo', 'Mdi'] });
    };
    const client = async (c) => {
      for (let i = c; i < MEMORY_WRITES; i += 8) {
        try {
          await one(i);
        } catch {
          failed++;
        }
        if (++done % 1000 === 0)
          samples.push(rss(a.p.pid));
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, c) => client(c)));
    const warm = samples[0], after = rss(a.p.pid);
    return { writes: MEMORY_WRITES, failed, warm_mib: warm, samples_mib: samples, end_mib: after,
      growth_mib: after - warm, max_mib: Math.max(...samples, after) };
  };
  result.memory = await memoryPhase(true);
  result.memory_no_new = await memoryPhase(false);

  // 6. A second server on the same store: how soon a decision written through the
  // first is served by checks on the second. A user alone in a group that the role
  // above is assigned to (on Mdo) gains and loses that role's permission in turn.
  if (process.env.SECOND) {
    const vu = `bw-${run}-vis@bench`, vg = `bw-${run}-vis-g`;
    await call(a.base, 'PUT', `${T}/users/${vu}`, { name: 'Visibility' });
    await call(a.base, 'PUT', `${T}/groups/${vg}`, { name: 'Visibility', members: [] });
    await call(a.base, 'POST', `${T}/roleAssignments`, {
      displayName: 'bw-vis', roleDefinitionId: role, principalIds: [`group:${vg}`], appScopeIds: ['Mdo'],
    });
    const b = await serve();
    const path = `${T}/check?` + new URLSearchParams({ user: vu, workload: 'mdo', scope: '',
      permission: 'Security operations \\ Security data \\ Security data basics (read)' });
    try {
      const seen = [];
      for (let i = 0; i < Math.min(WRITES, 100); i++) {
        const want = i % 2 === 0 ? 'allow' : 'deny';
        const t1 = process.hrtime.bigint();
        await call(a.base, 'PUT', `${T}/groups/${vg}`, { name: 'Visibility', members: want === 'allow' ? [vu] : [] });
        for (;;) {
          if (JSON.parse((await call(b.base, 'GET', path)).text).decision === want)
            break;
          if (Number(process.hrtime.bigint() - t1) > 10e9)
            throw new Error(`${vu}: '${want}' not served by the second server after 10 s`);
          await new Promise((res) => setTimeout(res, 1));
        }
        seen.push(Number(process.hrtime.bigint() - t1) / 1e6);
      }
      result.second_server_visible_ms = summary(seen);
    } finally {
      b.p.kill();
    }
  }
} finally {
  a.p.kill();
}
console.log(JSON.stringify(result));
