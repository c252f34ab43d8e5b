// tests/server/api.test.mjs - `urbac serve` as a whole process, over loopback, with
// a real HTTP client (Node's fetch): every route, every way authentication can
// fail, malformed requests, read-your-writes, changes from another process,
// SIGHUP (preshared keys, OIDC providers), TLS and a graceful SIGTERM.
// OIDC discovery against a real provider: oidc.test.mjs.
//
// Env: URBAC (the binary), URBAC_SRC (the repository), URBAC_TEST_PG_URL (when
// set, the store is that PostgreSQL database instead of a SQLite file).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { generateKeyPairSync, sign, createHmac } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threads, BOUNDED } from './serve.mjs';

const URBAC = process.env.URBAC;
const SRC = process.env.URBAC_SRC;
const dir = mkdtempSync(join(tmpdir(), 'urbac-server-'));
const db = process.env.URBAC_TEST_PG_URL || join(dir, 'store.db');
const PSK = 'preshared-admin-key-0123456789';
const ISS = 'https://idp.test/contoso';
let server, base, keys = {};
let rsa, ec;
const servers = new Set(); // every server started: killed after the tests, if still running
const CALL_MS = 60000; // a request unanswered this long: the server is wedged

const cli = (...args) => execFileSync(BOUNDED, ['120', URBAC, ...args, '--db', db], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

// The server did not answer `what` in time: its threads and log are printed and it
// is killed, so the rest fails at once instead of waiting out ctest's timeout.
function wedged(what) {
  const p = server.p;
  process.stderr.write(`\n== the server (pid ${p.pid}) did not answer ${what} in time; its threads:\n${threads(p.pid)}\n== its log:\n${server.stderr()}\n`);
  p.kill('SIGKILL');
  return new Error(`the server did not answer ${what} in time (threads and log on stderr)`);
}

function jwt(claims, { alg = 'RS256', key = rsa.privateKey, kid = 'rsa1', header = {} } = {}) {
  const b64 = (o) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');
  const h = b64({ alg, typ: 'JWT', kid, ...header });
  const p = b64(claims);
  let s;
  if (alg === 'HS256') s = createHmac('sha256', key).update(`${h}.${p}`).digest();
  else if (alg === 'ES256') s = sign('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' });
  else s = sign('sha256', Buffer.from(`${h}.${p}`), key);
  return `${h}.${p}.${Buffer.from(s).toString('base64url')}`;
}
const now = () => Math.floor(Date.now() / 1000);
const claims = (extra = {}) => ({ iss: ISS, aud: 'urbac', sub: 's-1', preferred_username: 'erin@contoso.com', exp: now() + 300, ...extra });

function start(args = [], env = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(URBAC, ['serve', '--db', db, '--listen', '127.0.0.1:0', '--threads', '2', ...args],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    servers.add(p);
    let out = '', err = '';
    const late = setTimeout(() => { // not serving after a minute: where it waits, then kill it
      process.stderr.write(`\n== the server (pid ${p.pid}) is not serving after 60 s; its threads:\n${threads(p.pid)}\n== its log:\n${err}\n`);
      p.kill('SIGKILL');
    }, 60000);
    p.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/serving on (https?:\/\/[^ ]+)/);
      if (m) {
        clearTimeout(late);
        resolve({ p, base: m[1], stderr: () => err });
      }
    });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code, signal) => {
      clearTimeout(late);
      reject(new Error(`serve exited ${code ?? signal}: ${err}`));
    });
  });
}

async function call(method, path, { token = PSK, body, headers = {}, raw } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  const res = await fetch(base + path, { method, headers: h, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    signal: AbortSignal.timeout(CALL_MS) }).catch((e) => { throw e.name === 'TimeoutError' ? wedged(`${method} ${path}`) : e; });
  const text = await res.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, json, text, headers: res.headers };
}
const T = '/api/v1/tenants/contoso';
const q = (o) => new URLSearchParams(o).toString();
const ALERTS = 'Security operations \\ Security data \\ Alerts (manage)';

before(async () => {
  cli('init');
  cli('apply', '-f', join(SRC, 'examples/contoso.yaml'));
  cli('apply', '-f', join(SRC, 'examples/litware.yaml'));
  writeFileSync(join(dir, 'psk'), `# not a comment: lines are keys\n\n${PSK}\n`, { mode: 0o600 });
  const key = (tenant, user, ...more) => cli('key', 'create', '--tenant-id', tenant, '--user', user, '--name', 'test', ...more).trim();
  keys.erin = key('contoso', 'erin@contoso.com');
  keys.alice = key('contoso', 'alice@contoso.com');
  keys.dave = key('contoso', 'dave@contoso.com');
  keys.service = key('contoso', 'erin@contoso.com', '--key-scope', 'decisions');
  keys.provisioning = key('contoso', 'erin@contoso.com', '--key-scope', 'provisioning');
  keys.expired = key('contoso', 'erin@contoso.com', '--expires', '2020-01-01T00:00:00Z');
  keys.revoked = key('contoso', 'erin@contoso.com');
  cli('key', 'revoke', '--tenant-id', 'contoso', keys.revoked.split('_')[1]);
  keys.litware = key('litware', 'root@litware.com');
  rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  keys.otherRsa = other.privateKey;
  const jwk = (k, kid) => ({ ...k.publicKey.export({ format: 'jwk' }), kid });
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [jwk(rsa, 'rsa1'), jwk(ec, 'ec1')] }));
  writeFileSync(join(dir, 'oidc.json'), JSON.stringify({ providers: [
    { tenant: 'contoso', issuer: ISS, audience: 'urbac', jwksFile: 'jwks.json', userClaim: 'preferred_username' },
    { tenant: 'litware', issuer: 'https://idp.test/litware', audience: 'urbac', jwksFile: 'jwks.json', userClaim: 'preferred_username' }] }));
  server = await start(['--preshared-key-file', join(dir, 'psk'), '--oidc', join(dir, 'oidc.json'),
    '--access-log', join(dir, 'access.log')]);
  base = server.base;
});

after(() => {
  for (const p of servers) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

test('the OpenAPI document lists exactly the routes the server serves', async () => {
  const table = execFileSync(URBAC, ['serve', '--routes'], { encoding: 'utf8' }).trim().split('\n').sort();
  const doc = (await call('GET', '/api/v1/openapi.json', { token: null })).json;
  assert.equal(doc.openapi, '3.1.0');
  const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort();
  assert.deepEqual(documented, table);
  const onDisk = JSON.parse(readFileSync(join(SRC, 'docs/openapi.json'), 'utf8'));
  assert.deepEqual(doc, onDisk);
});

test('health and readiness need no token; metrics need a preshared key (tests/server/attack.test.mjs)', async () => {
  assert.equal((await call('GET', '/healthz', { token: null })).json.status, 'ok');
  assert.equal((await call('GET', '/readyz', { token: null })).json.status, 'ready');
  await call('GET', `${T}/check?${q({ user: 'alice@contoso.com', permission: ALERTS, workload: 'mde', scope: 'device:lap-042' })}`);
  const m = await call('GET', '/metrics');
  assert.match(m.headers.get('content-type'), /text\/plain/);
  assert.match(m.text, /urbac_http_requests_total\{method="GET",route="\/api\/v1\/tenants\/\{tenant\}\/check",code="2xx"\} \d+/);
  assert.match(m.text, /urbac_http_request_duration_seconds_bucket\{method="GET",route="\/api\/v1\/tenants\/\{tenant\}\/check",le="\+Inf"\} \d+/);
  assert.match(m.text, /urbac_decisions_total\{decision="allow"\} [1-9]/);
  assert.match(m.text, /urbac_tenant_revision\{tenant="contoso"\} \d+/);
  assert.match(m.text, /urbac_snapshot_rebuild_seconds_total \d/);
});

test('decisions: check, checks, explain, effective permissions, who can', async () => {
  const yes = { user: 'alice@contoso.com', permission: ALERTS, workload: 'mde', scope: 'device:lap-042' };
  const no = { ...yes, scope: 'device:srv-001' };
  let r = await call('GET', `${T}/check?${q(yes)}`);
  assert.equal(r.status, 200);
  assert.equal(r.json.decision, 'allow');
  assert.equal(String(r.json.revision), r.headers.get('x-urbac-revision'));
  assert.equal((await call('GET', `${T}/check?${q(no)}`)).json.decision, 'deny');
  r = await call('POST', `${T}/checks`, { body: { checks: [yes, no, yes, { ...yes, user: 'nobody' }] } });
  assert.deepEqual(r.json.decisions, ['allow', 'deny', 'allow', 'deny']);
  r = await call('POST', `${T}/explain`, { body: no });
  assert.equal(r.json.decision, 'deny');
  assert.ok(r.json.reasons.length > 0);
  r = await call('POST', `${T}/explain`, { body: yes });
  assert.match(r.json.reasons[0], /SOC analyst/);
  r = await call('GET', `${T}/users/alice@contoso.com/effectivePermissions?workload=mde`);
  assert.ok(r.json.value.some((g) => g.permission === ALERTS && g.scope === 'workstations'));
  assert.equal((await call('GET', `${T}/users/nobody/effectivePermissions`)).status, 404);
  r = await call('GET', `${T}/whoCan?${q({ permission: ALERTS, workload: 'mde', scope: 'devicegroup:workstations' })}`);
  assert.deepEqual(r.json.value, ['alice@contoso.com', 'bob@contoso.com', 'erin@contoso.com']);
  // the same questions as the CLI answers them, from the same store
  for (const c of [yes, no]) {
    const cliAnswer = (() => { try { cli('check', '--tenant-id', 'contoso', '--user', c.user, '--permission', c.permission, '--workload', c.workload, '--scope', c.scope); return 'allow'; } catch { return 'deny'; } })();
    assert.equal((await call('GET', `${T}/check?${q(c)}`)).json.decision, cliAnswer);
  }
});

test('paging: $top and @odata.nextLink walk every item once', async () => {
  const all = (await call('GET', `${T}/users?$top=1000`)).json.value.map((u) => u.id);
  const seen = [];
  let next = `${T}/users?$top=2`;
  while (next) {
    const r = await call('GET', next);
    assert.equal(r.status, 200);
    seen.push(...r.json.value.map((u) => u.id));
    next = r.json['@odata.nextLink'];
  }
  assert.deepEqual(seen, all);
  assert.ok(all.length >= 6);
  assert.equal((await call('GET', `${T}/users?$top=0`)).status, 400);
  assert.equal((await call('GET', `${T}/users?$skiptoken=x`)).status, 400);
});

test('object lists page after a key: deletes and inserts between pages neither repeat nor skip an item', async () => {
  const D = `${T}/devices`;
  const put = async (id) => assert.equal((await call('PUT', `${D}/${id}`, { body: { name: `Paged ${id}` } })).status, 201);
  for (const id of ['pg-0', 'pg-1', 'pg-2', 'pg-3', 'pg-4']) await put(id);
  const ids = async (path) => (await call('GET', path)).json.value.map((d) => d.id);
  const before = await ids(`${D}?$top=10000`);
  // walks `first` a page at a time; once `pg-1` has been seen, deletes pg-0 and pg-2 and adds pg-9
  const walk = async (first) => {
    const seen = [];
    let changed = false;
    for (let next = first; next;) {
      const r = await call('GET', next);
      assert.equal(r.status, 200, r.text);
      seen.push(...r.json.value.map((d) => d.id));
      next = r.json['@odata.nextLink'];
      if (!changed && seen.includes('pg-1')) {
        changed = true;
        assert.equal((await call('DELETE', `${D}/pg-0`)).status, 204);
        assert.equal((await call('DELETE', `${D}/pg-2`)).status, 204);
        await put('pg-9');
      }
    }
    return seen;
  };
  // what a reader should see: everything up to pg-1 as it was, then the rest as it is
  const expect = (list) => {
    const cut = list.indexOf('pg-1') + 1;
    return [...list.slice(0, cut), ...list.slice(cut).filter((id) => id !== 'pg-2'), 'pg-9'];
  };
  const restore = async () => {
    assert.equal((await call('DELETE', `${D}/pg-9`)).status, 204);
    await put('pg-0');
    await put('pg-2');
  };
  assert.deepEqual(await walk(`${D}?$top=1`), expect(before));
  await restore();
  const found = (await ids(`${D}?search=PAGED&$top=10000`));
  assert.deepEqual(found, ['pg-1', 'pg-3', 'pg-4', 'pg-0', 'pg-2']);
  assert.deepEqual(await walk(`${D}?search=paged&$top=2`), ['pg-1', 'pg-3', 'pg-4', 'pg-9']);
  for (const id of ['pg-1', 'pg-3', 'pg-4', 'pg-9']) assert.equal((await call('DELETE', `${D}/${id}`)).status, 204);
  // a $skiptoken this server did not make is refused, naming it
  for (const token of ['x', '12', '', '12.', '.pg-1', '-1.pg-1']) {
    const r = await call('GET', `${D}?$skiptoken=${encodeURIComponent(token)}`);
    assert.equal(r.status, 400, `$skiptoken=${token}: ${r.text}`);
    assert.equal(r.json.error.target, '$skiptoken');
    assert.match(r.json.error.message, /\$skiptoken must come from an @odata\.nextLink/);
  }
});

test('role definitions and assignments, Graph-shaped, and their effect on decisions', async () => {
  const action = 'microsoft.xdr/secops/securitydata/emailquarantine/manage';
  let r = await call('POST', `${T}/roleDefinitions`, { body: { displayName: 'Mail triage', description: 'quarantine',
    rolePermissions: [{ allowedResourceActions: [action] }] } });
  assert.equal(r.status, 201);
  assert.deepEqual(r.json.rolePermissions[0].allowedResourceActions, [action]);
  const etag = r.headers.get('etag');
  assert.match(etag, /^"\d+"$/);
  assert.equal((await call('POST', `${T}/roleDefinitions`, { body: { displayName: 'Mail triage' } })).status, 409);
  r = await call('POST', `${T}/roleAssignments`, { body: { displayName: 'mail', roleDefinitionId: 'Mail triage',
    principalIds: ['group:mail-ops'], appScopeIds: ['Mdo', 'Mde', '/DeviceGroups/servers'] } });
  assert.equal(r.status, 201);
  assert.equal(r.json.id, 'Mail triage/mail');
  assert.deepEqual(r.json.appScopeIds, ['Mdo', 'Mde', '/DeviceGroups/servers']);
  const rev = Number(r.headers.get('x-urbac-revision'));
  // read your write: the decision reflects it at once
  r = await call('GET', `${T}/check?${q({ user: 'carol@contoso.com', permission: 'Email quarantine (manage)', workload: 'mde', scope: 'device:srv-001', minRevision: rev })}`);
  assert.equal(r.json.decision, 'allow');
  assert.ok(r.json.revision >= rev);
  const id = encodeURIComponent('Mail triage/mail');
  assert.equal((await call('GET', `${T}/roleAssignments/${id}`)).json.roleDefinitionId, 'Mail triage');
  r = await call('PATCH', `${T}/roleAssignments/${id}`, { body: { appScopeIds: ['/'] } });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.appScopeIds, ['/']);
  assert.equal((await call('GET', `${T}/roleAssignments?roleDefinitionId=${encodeURIComponent('Mail triage')}`)).json.value.length, 1);
  r = await call('PATCH', `${T}/roleDefinitions/${encodeURIComponent('Mail triage')}`, { body: { displayName: 'Mail triage 2' } });
  assert.equal(r.status, 200);
  assert.equal((await call('GET', `${T}/roleDefinitions/${encodeURIComponent('Mail triage')}`)).status, 404);
  assert.equal((await call('GET', `${T}/roleAssignments/${encodeURIComponent('Mail triage 2/mail')}`)).status, 200);
  // a stale If-Match fails, and nothing changes
  r = await call('DELETE', `${T}/roleDefinitions/${encodeURIComponent('Mail triage 2')}`, { headers: { 'if-match': etag } });
  assert.equal(r.status, 412);
  assert.equal(r.json.error.code, 'ECONFLICT');
  const cur = (await call('GET', `${T}/roleDefinitions/${encodeURIComponent('Mail triage 2')}`)).headers.get('etag');
  assert.equal((await call('DELETE', `${T}/roleAssignments/${encodeURIComponent('Mail triage 2/mail')}`, { headers: { 'if-match': cur } })).status, 204);
  assert.equal((await call('DELETE', `${T}/roleDefinitions/${encodeURIComponent('Mail triage 2')}`)).status, 204);
  // an id "ROLE/NAME" where both hold a '/': found by trying each split
  assert.equal((await call('POST', `${T}/roleDefinitions`, { body: { displayName: 'Tier 1/2',
    rolePermissions: [{ allowedResourceActions: ['microsoft.xdr/secops/securitydata/basics/read'] }] } })).status, 201);
  assert.equal((await call('POST', `${T}/roleAssignments`, { body: { displayName: 'ops/night', roleDefinitionId: 'Tier 1/2',
    principalIds: ['group:mail-ops'], appScopeIds: ['Mdo'] } })).status, 201);
  r = await call('GET', `${T}/roleAssignments/${encodeURIComponent('Tier 1/2/ops/night')}`);
  assert.equal(r.status, 200);
  assert.equal(r.json.roleDefinitionId, 'Tier 1/2');
  assert.equal((await call('GET', `${T}/roleAssignments/${encodeURIComponent('Tier 1/2/ops/day')}`)).status, 404);
  assert.equal((await call('GET', `${T}/roleAssignments/${encodeURIComponent('Tier/2/ops/night')}`)).status, 404);
  assert.equal((await call('DELETE', `${T}/roleDefinitions/${encodeURIComponent('Tier 1/2')}`)).status, 204);
  // invalid: an unknown permission is 422 and names it
  r = await call('POST', `${T}/roleDefinitions`, { body: { displayName: 'Bad', rolePermissions: [{ allowedResourceActions: ['Nope (read)'] }] } });
  assert.equal(r.status, 422);
  assert.equal(r.json.error.code, 'EUNKNOWNPERM');
  assert.match(r.json.error.message, /Nope/);
  r = await call('POST', `${T}/roleAssignments`, { body: { displayName: 'x', roleDefinitionId: 'SOC analyst', principalIds: ['u'], appScopeIds: ['Mars'] } });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.target, 'appScopeIds[0]');
});

test('Graph-shaped routes take the bodies of Graph\'s documentation, with object ids', async () => {
  const fx = (f) => JSON.parse(readFileSync(join(SRC, 'tests/fixtures/graph/docs', f), 'utf8'));
  const MEGAN = '8e811502-ebda-4782-8f81-071d17f0f892', ADELE = '87d349ed-44d7-43e1-9a83-5f2406dee5bd';
  const SOC = '30e3492f-964c-4d73-88c6-986a53c6e2a0';
  assert.equal((await call('PUT', `${T}/users/megan@contoso.com`, { body: { name: 'Megan Bowen', externalId: MEGAN } })).status, 201);
  assert.equal((await call('PUT', `${T}/users/adele@contoso.com`, { body: { name: 'Adele Vance', externalId: ADELE } })).status, 201);
  assert.equal((await call('PUT', `${T}/groups/${SOC}`, { body: { name: 'SOC analysts', externalId: SOC, members: ['megan@contoso.com'] } })).status, 201);
  // the documented get response, posted back as a create body
  const { ['@odata.context']: _c, id: _id, ...def } = fx('defender-roleDefinitions-get.json');
  let r = await call('POST', `${T}/roleDefinitions`, { body: { ...def, displayName: 'Graph SOC analyst' } });
  assert.equal(r.status, 201);
  assert.deepEqual(r.json.rolePermissions[0].allowedResourceActions, def.rolePermissions[0].allowedResourceActions);
  const role = encodeURIComponent('Graph SOC analyst');
  const upd = fx('defender-roleDefinitions-update.request.json');
  r = await call('PATCH', `${T}/roleDefinitions/${role}`, { body: upd });
  assert.equal(r.status, 200);
  assert.equal(r.json.description, upd.description);
  assert.deepEqual(r.json.rolePermissions[0].allowedResourceActions, upd.rolePermissions[0].allowedResourceActions);
  // the documented create body: its CloudSet scope is not one urbac models
  const create = { ...fx('defender-roleAssignments-create.request.json'), roleDefinitionId: 'Graph SOC analyst' };
  r = await call('POST', `${T}/roleAssignments`, { body: create });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.target, 'appScopeIds[1]');
  r = await call('POST', `${T}/roleAssignments`, { body: { ...create, appScopeIds: ['Mde', 'Mdo'] } });
  assert.equal(r.status, 201);
  assert.deepEqual(r.json.principalIds, create.principalIds); // object ids in, object ids out
  assert.deepEqual(r.json.appScopeIds, ['Mde', 'Mdo']);
  const id = encodeURIComponent(r.json.id);
  assert.deepEqual((await call('GET', `${T}/roleAssignments/${id}`)).json.principalIds, create.principalIds);
  // stored as the tenant names them, so decisions see them
  const rev = Number(r.headers.get('x-urbac-revision'));
  r = await call('GET', `${T}/check?${q({ user: 'megan@contoso.com', permission: ALERTS, workload: 'mde', minRevision: rev })}`);
  assert.equal(r.json.decision, 'allow');
  r = await call('GET', `${T}/roleAssignments?$filter=${encodeURIComponent(`principalId eq '${MEGAN}'`)}`);
  assert.equal(r.json.value.length, 1);
  const patch = fx('defender-roleAssignments-update.request.json');
  r = await call('PATCH', `${T}/roleAssignments/${id}`, { body: patch });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.principalIds, patch.principalIds);
  assert.deepEqual(r.json.appScopeIds, patch.appScopeIds);
  r = await call('GET', `${T}/check?${q({ user: 'adele@contoso.com', permission: ALERTS, workload: 'mde', minRevision: Number(r.headers.get('x-urbac-revision')) })}`);
  assert.equal(r.json.decision, 'allow');
  assert.equal((await call('DELETE', `${T}/roleDefinitions/${role}`)).status, 204);
  assert.equal((await call('DELETE', `${T}/groups/${SOC}`)).status, 204);
  assert.equal((await call('DELETE', `${T}/users/megan@contoso.com`)).status, 204);
  assert.equal((await call('DELETE', `${T}/users/adele@contoso.com`)).status, 204);
});

test('Graph-shaped routes take principals as Graph names them: a group by its object id, an unknown object id pending until the group comes', async () => {
  const UMA = '7a1b0000-aaaa-4bbb-8ccc-000000000001', NG = '7a1b0000-aaaa-4bbb-8ccc-000000000002';
  const LATER = '7a1b0000-aaaa-4bbb-8ccc-000000000003';
  const uma = encodeURIComponent('uma@contoso.com'), A = `${T}/roleAssignments/${encodeURIComponent('SOC analyst/night')}`;
  const decide = async (r) => (await call('GET', `${T}/check?${q({ user: 'uma@contoso.com', permission: ALERTS, workload: 'mde',
    scope: 'device:srv-001', minRevision: Number(r.headers.get('x-urbac-revision')) })}`)).json.decision;
  assert.equal((await call('PUT', `${T}/users/${uma}`, { body: { name: 'Uma', externalId: UMA } })).status, 201);
  // a group whose id is not its object id
  let r = await call('PUT', `${T}/groups/night-ops`, { body: { name: 'Night ops', externalId: NG, members: ['uma@contoso.com'] } });
  assert.equal(r.status, 201, r.text);
  assert.equal(await decide(r), 'deny');
  r = await call('POST', `${T}/roleAssignments`, { body: { displayName: 'night', roleDefinitionId: 'SOC analyst',
    principalIds: [NG.toUpperCase()], appScopeIds: ['Mde'] } });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.json.principalIds, [NG]); // the group's object id, as Graph gives it
  assert.equal(await decide(r), 'allow'); // the group, found by its externalId
  assert.deepEqual((await call('GET', A)).json.principalIds, [NG]);
  r = await call('GET', `${T}/roleAssignments?$filter=${encodeURIComponent(`principalId eq '${NG}'`)}`);
  assert.deepEqual(r.json.value.map((a) => a.id), ['SOC analyst/night']);
  // group:OID and group:ID, and a user by object id: object ids out
  r = await call('PATCH', A, { body: { principalIds: [`group:${NG.toUpperCase()}`, UMA] } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.principalIds, [NG, UMA]);
  r = await call('PATCH', A, { body: { principalIds: ['group:night-ops'] } });
  assert.deepEqual(r.json.principalIds, [NG]);
  // an object id nothing has yet: kept pending, given back as the object id, granting once the group comes
  r = await call('PATCH', A, { body: { principalIds: [LATER.toUpperCase()] } });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.principalIds, [LATER]);
  assert.equal(await decide(r), 'deny');
  r = await call('PUT', `${T}/groups/later-ops`, { body: { externalId: LATER, members: ['uma@contoso.com'] } });
  assert.equal(r.status, 201, r.text);
  assert.equal(await decide(r), 'allow');
  assert.deepEqual((await call('GET', A)).json.principalIds, [LATER]);
  assert.equal((await call('DELETE', A)).status, 204);
  for (const g of ['night-ops', 'later-ops']) assert.equal((await call('DELETE', `${T}/groups/${g}`)).status, 204);
  assert.equal((await call('DELETE', `${T}/users/${uma}`)).status, 204);
});

test('users, groups, devices, device groups and legacy configuration as objects', async () => {
  for (const [coll, id, body] of [['users', 'zed@contoso.com', { name: 'Zed' }], ['groups', 'auditors', { members: ['zed@contoso.com'] }],
    ['devices', 'srv-900', { name: 'srv-900', domain: 'corp.contoso.com' }],
    ['deviceGroups', 'labs', { rank: 3, rules: { tags: { equals: ['lab'] } } }],
    ['legacy/mdo/roleGroups', 'Security reader', { members: ['dave@contoso.com'] }]]) {
    const path = `${T}/${coll}/${encodeURIComponent(id)}`;
    let r = await call('PUT', path, { body });
    assert.ok(r.status === 201 || r.status === 200, `${coll}: ${r.text}`);
    r = await call('GET', path);
    assert.equal(r.status, 200);
    assert.equal(r.json.id ?? r.json.name, id);
    assert.ok((await call('GET', `${T}/${coll}`)).json.value.some((o) => (o.id ?? o.name) === id));
  }
  let r = await call('PUT', `${T}/users/x`, { body: { id: 'y' } });
  assert.equal(r.status, 422);
  r = await call('PUT', `${T}/groups/g`, { body: { members: ['nobody@nowhere'] } });
  assert.equal(r.status, 422);
  assert.equal(r.json.error.code, 'EDANGLING');
  assert.equal((await call('DELETE', `${T}/groups/auditors`)).status, 204);
  assert.equal((await call('DELETE', `${T}/users/${encodeURIComponent('zed@contoso.com')}`)).status, 204);
  assert.equal((await call('GET', `${T}/users/${encodeURIComponent('zed@contoso.com')}`)).status, 404);
  assert.equal((await call('GET', `${T}/legacy/mde/roles`)).json.value[0].name, 'Tier 1');
  assert.equal((await call('GET', `${T}/legacy/mdi/roles/${encodeURIComponent('MDI user')}`)).status, 200);
});

test('PUT of an object takes its body as sent: the id put first when left out; a bad body refused where it is wrong', async () => {
  const put = (id, raw) => call('PUT', `${T}/users/${encodeURIComponent(id)}`, { raw });
  const ann = 'o"ann\u00e9@contoso.com'; // a quote and a non-ASCII letter in the id
  let r = await put(ann, ' \n {"name": "Ann"}');
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(Object.keys(r.json), ['id', 'name']); // the reply is the body as put
  assert.equal(r.json.id, ann);
  assert.deepEqual((await call('GET', `${T}/users/${encodeURIComponent(ann)}`)).json, { id: ann, name: 'Ann' });
  r = await put('bo@contoso.com', '{}');
  assert.equal(r.status, 201, r.text);
  assert.deepEqual(r.json, { id: 'bo@contoso.com' });
  r = await put('cy@contoso.com', '{"name": "C\\u0079", "id": "cy@contoso.com"}'); // an escape in a string
  assert.equal(r.status, 201, r.text);
  assert.deepEqual((await call('GET', `${T}/users/cy%40contoso.com`)).json, { id: 'cy@contoso.com', name: 'Cy' });
  r = await put('bo@contoso.com', '{"name": "Bo"}');
  assert.equal(r.status, 200, r.text); // it existed
  for (const [raw, status, re] of [
    ['{"name": "x"', 400, /^body:1:\d+: /],
    ['{"name": "x",\n "name"', 400, /^body:2:\d+: /],
    ['[{"id": "dee@contoso.com"}]', 400, /must be a JSON object/],
    ['{name: x}', 400, /^body:1:\d+: /], // YAML's flow mapping is not JSON
    ['{"id": "dee@contoso.com",\n  "id": "dee@contoso.com"}', 400, /^body:2:3: duplicate object key/],
    ['{"id": "other@contoso.com"}', 422, /must be 'dee@contoso.com', as in the path/],
    ['{"id": 5}', 422, /as in the path/],
    ['{"id": "dee@contoso.com", "rules": {"a": 1,\n "a": 2}}', 400, /^body:2:2: duplicate object key/],
  ]) {
    r = await put('dee@contoso.com', raw);
    assert.equal(r.status, status, `${raw}: ${r.text}`);
    assert.match(r.json.error.message, re, raw);
  }
  assert.equal((await call('GET', `${T}/users/dee%40contoso.com`)).status, 404); // nothing half-written
  for (const id of [ann, 'bo@contoso.com', 'cy@contoso.com'])
    assert.equal((await call('DELETE', `${T}/users/${encodeURIComponent(id)}`)).status, 204);
});

test('lists take search (id or name, any case); the catalog is public (for the portal: its pickers and forms)', async () => {
  const all = (await call('GET', `${T}/groups?$top=10000`)).json.value;
  const want = all.filter((g) => g.id.toLowerCase().includes('soc') || (g.name || '').toLowerCase().includes('soc')).map((g) => g.id);
  assert.ok(want.length > 1 && want.length < all.length);
  const got = (await call('GET', `${T}/groups?search=SoC&$top=10000`)).json.value.map((g) => g.id);
  assert.deepEqual(got, want);
  assert.deepEqual((await call('GET', `${T}/users?search=${encodeURIComponent('Alice')}`)).json.value.map((u) => u.id), ['alice@contoso.com']);
  assert.deepEqual((await call('GET', `${T}/groups?search=no-such-group`)).json.value, []);
  let r = await call('GET', `${T}/groups?search=${'x'.repeat(257)}`);
  assert.equal(r.status, 400);
  assert.equal(r.json.error.target, 'search');
  r = await call('GET', '/api/v1/catalog', { token: null });
  assert.equal(r.status, 200);
  const alerts = r.json.permissions.find((p) => p.name === 'Security operations \\ Security data \\ Alerts');
  assert.deepEqual(alerts, { name: 'Security operations \\ Security data \\ Alerts', id: 'microsoft.xdr/secops/securitydata/alerts', levels: ['manage'] });
  assert.deepEqual(r.json.workloads.map((w) => w.id), ['mde', 'mdo', 'mdi', 'mda', 'mdc', 'exposure']);
  assert.ok(r.json.legacy.mdePermissions.some((p) => p.name === 'Alerts investigation'));
});

test('identities from Entra ID: externalId and managedBy over the admin API; decisions name users by externalId', async () => {
  const XU = '5e1a0000-aaaa-4bbb-8ccc-000000000001', XG = '6e1a0000-aaaa-4bbb-8ccc-000000000001';
  let r = await call('PUT', `${T}/users/${encodeURIComponent('xena@contoso.com')}`, { body: { name: 'Xena',
    externalId: XU.toUpperCase(), managedBy: 'scim', scim: { name: { givenName: 'Xena' }, emails: [{ value: 'x@c.com', primary: true }] } } });
  assert.equal(r.status, 201, r.text);
  r = await call('GET', `${T}/users/${encodeURIComponent('xena@contoso.com')}`);
  assert.equal(r.json.externalId, XU.toUpperCase());
  assert.equal(r.json.managedBy, 'scim');
  assert.deepEqual(r.json.scim, { emails: [{ primary: true, value: 'x@c.com' }], name: { givenName: 'Xena' } });
  // a second holder of the object id is refused; a group may name her by it
  r = await call('PUT', `${T}/users/${encodeURIComponent('yann@contoso.com')}`, { body: { externalId: XU } });
  assert.equal(r.status, 409, r.text);
  assert.match(r.text, /duplicate user externalId/);
  r = await call('PUT', `${T}/groups/entra-soc`, { body: { externalId: XG, managedBy: 'scim', members: [XU] } });
  assert.equal(r.status, 201, r.text);
  r = await call('POST', `${T}/roleAssignments`, { body: { displayName: 'entra', roleDefinitionId: 'SOC analyst',
    principalIds: [`group:${XG.toUpperCase()}`], appScopeIds: ['Mde'] } });
  assert.equal(r.status, 201, r.text);
  const rev = Number(r.headers.get('x-urbac-revision'));
  for (const user of ['xena@contoso.com', XU, XU.toUpperCase()]) {
    r = await call('GET', `${T}/check?${q({ user, permission: ALERTS, workload: 'mde', scope: 'device:srv-001', minRevision: rev })}`);
    assert.equal(r.json.decision, 'allow', user);
  }
  r = await call('GET', `${T}/users/${XU}/effectivePermissions?workload=mde`);
  assert.ok(r.json.value.some((g) => g.permission === ALERTS), r.text);
  r = await call('POST', `${T}/explain`, { body: { user: XU, permission: ALERTS, workload: 'mde', scope: 'device:srv-001' } });
  assert.match(r.json.reasons[0], /xena@contoso.com -> group entra-soc/);
  // her object id taken away: the group's name for her (a GUID) is pending, and grants her nothing
  r = await call('PUT', `${T}/users/${encodeURIComponent('xena@contoso.com')}`, { body: { name: 'Xena' } });
  assert.equal(r.status, 200, r.text);
  r = await call('GET', `${T}/check?${q({ user: 'xena@contoso.com', permission: ALERTS, workload: 'mde', scope: 'device:srv-001', minRevision: Number(r.headers.get('x-urbac-revision')) })}`);
  assert.equal(r.json.decision, 'deny');
  // given back, it names her again
  r = await call('PUT', `${T}/users/${encodeURIComponent('xena@contoso.com')}`, { body: { name: 'Xena', externalId: XU } });
  assert.equal(r.status, 200, r.text);
  r = await call('GET', `${T}/check?${q({ user: 'xena@contoso.com', permission: ALERTS, workload: 'mde', scope: 'device:srv-001', minRevision: Number(r.headers.get('x-urbac-revision')) })}`);
  assert.equal(r.json.decision, 'allow');
  assert.equal((await call('DELETE', `${T}/roleAssignments/${encodeURIComponent('SOC analyst/entra')}`)).status, 204);
  assert.equal((await call('DELETE', `${T}/groups/entra-soc`)).status, 204);
  assert.equal((await call('DELETE', `${T}/users/${encodeURIComponent('xena@contoso.com')}`)).status, 204);
  r = await call('GET', `${T}/check?${q({ user: XU, permission: ALERTS, workload: 'mde', scope: 'device:srv-001' })}`);
  assert.equal(r.json.decision, 'deny');
});

test('a provisioning key may use nothing but its tenant\'s SCIM endpoint', async () => {
  const yes = { user: 'alice@contoso.com', permission: ALERTS, workload: 'mde' };
  for (const [method, path] of [['GET', `${T}/check?${q(yes)}`], ['GET', `${T}/users`], ['GET', `${T}/roleDefinitions`],
    ['PUT', `${T}/users/${encodeURIComponent('p@contoso.com')}`]]) {
    const r = await call(method, path, { token: keys.provisioning, body: method === 'PUT' ? {} : undefined });
    assert.equal(r.status, 403, `${method} ${path}: ${r.text}`);
    assert.match(r.text, /may only provision users and groups \(SCIM\)/);
  }
  assert.equal((await call('GET', `/api/v1/tenants/litware/users`, { token: keys.provisioning })).status, 403);
  assert.equal((await call('GET', `${T}/users`, { token: keys.erin })).status, 200); // scope all: as before
});

test('device group preview: the devices rules match, unsaved, paged, with the engine matching', async () => {
  const devices = (await call('GET', `${T}/devices?$top=10000`)).json.value;
  const rev = (await call('GET', `${T}/deviceGroups`)).json.revision;
  // expected by a filter of the test's own: a name starting with either prefix, any case
  const want = devices.filter((d) => /^(srv-|lap)/i.test(d.name || d.id)).map((d) => d.id).sort();
  assert.ok(want.length >= 2 && want.length < devices.length);
  let r = await call('POST', `${T}/deviceGroups/preview`, { body: { rules: { name: { startsWith: ['SRV-', 'lap'] } } } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.count, want.length);
  assert.deepEqual(r.json.value.map((d) => d.id).sort(), want);
  // paged: the count is the whole list's; the next page holds the rest
  r = await call('POST', `${T}/deviceGroups/preview?$top=1`, { body: { rules: { name: { startsWith: ['srv-', 'LAP'] } } } });
  assert.equal(r.json.value.length, 1);
  assert.equal(r.json.count, want.length);
  assert.match(r.json['@odata.nextLink'], /\$skiptoken=1/);
  // an existing group's id: its rules replaced in the preview only, its rank kept
  r = await call('POST', `${T}/deviceGroups/preview`, { body: { id: 'servers', rules: { tags: { equals: ['LOBBY'] } } } });
  assert.deepEqual(r.json.value.map((d) => d.id), devices.filter((d) => (d.tags || []).includes('lobby')).map((d) => d.id));
  assert.equal((await call('GET', `${T}/deviceGroups`)).json.revision, rev, 'a preview writes nothing');
  assert.equal((await call('GET', `${T}/deviceGroups/servers`)).json.rules.name.startsWith[0], 'srv-');
  assert.equal((await call('POST', `${T}/deviceGroups/preview`, { body: { rules: {} } })).json.count, 0);
  r = await call('POST', `${T}/deviceGroups/preview`, { body: { rules: { nam: { equals: ['x'] } } } });
  assert.equal(r.status, 422);
  assert.match(r.json.error.message, /unknown rule property 'nam'/);
  r = await call('POST', `${T}/deviceGroups/preview`, { body: { rules: 'srv-*' } });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.target, 'rules');
  assert.equal((await call('POST', `${T}/deviceGroups/preview`, { body: { id: 'ungrouped', rules: {} } })).json.error.target, 'id');
  // a reader may preview; a decisions-only key may not
  assert.equal((await call('POST', `${T}/deviceGroups/preview`, { token: keys.service, body: { rules: {} } })).status, 403);
});

test('audit log verify: intact with its count; a tampered record is named', async () => {
  let r = await call('GET', `${T}/auditLog/verify`);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.intact, true);
  assert.deepEqual(r.json.problems, []);
  let n = 0;
  for (let next = `${T}/auditLog?$top=1000`; next;) {
    const page = (await call('GET', next)).json;
    n += page.value.length;
    next = page['@odata.nextLink'];
  }
  assert.equal(r.json.records, n);
  const third = (await call('GET', `${T}/auditLog?$top=1&$skiptoken=2`)).json.value[0];
  const sql = (set) => `UPDATE audit SET actor = '${set}' WHERE tenant = 'contoso' AND seq = ${third.seq}`;
  const run = (s) => (process.env.URBAC_TEST_PG_URL ? execFileSync('psql', [db, '-qc', s], { timeout: 30000 })
    : execFileSync('sqlite3', [db, s], { timeout: 30000 }));
  run(sql('mallory'));
  try {
    r = await call('GET', `${T}/auditLog/verify`);
    assert.equal(r.status, 200);
    assert.equal(r.json.intact, false);
    assert.equal(r.json.firstBadRecord, third.seq);
    assert.ok(r.json.problems.length > 0);
  } finally {
    run(sql(third.actor));
  }
  assert.equal((await call('GET', `${T}/auditLog/verify`)).json.intact, true);
  assert.equal((await call('GET', `${T}/auditLog/verify`, { token: keys.dave })).status, 403);
});

test('audit log: since and until bound the time (a prefix: an hour is the whole hour); a bad time is refused', async () => {
  const pages = async (url) => {
    const out = [];
    for (let next = url; next;) {
      const r = await call('GET', next);
      assert.equal(r.status, 200, r.text);
      out.push(...r.json.value);
      next = r.json['@odata.nextLink'];
    }
    return out;
  };
  const first = (await call('GET', `${T}/auditLog?$top=1`)).json.value[0];
  // a write at least a second after the first record, so the log spans two times
  while (`${new Date().toISOString().slice(0, 19)}Z` <= first.at) await new Promise((r) => setTimeout(r, 100));
  assert.ok((await call('PUT', `${T}/groups/audit-window`, { body: { members: [] } })).status < 300);
  const all = await pages(`${T}/auditLog?$top=1000`);
  const last = all[all.length - 1];
  const seqs = (rows) => rows.map((a) => a.seq);
  const upTo = all.filter((a) => a.at <= first.at);
  assert.ok(upTo.length > 0 && upTo.length < all.length, `${upTo.length} of ${all.length}`);
  // paged by 2: the skip token counts the records the bound lets through
  assert.deepEqual(seqs(await pages(`${T}/auditLog?until=${first.at}&$top=2`)), seqs(upTo));
  const hour = first.at.slice(0, 13);
  assert.deepEqual(seqs(await pages(`${T}/auditLog?until=${hour}`)), seqs(all.filter((a) => a.at.slice(0, 13) <= hour)));
  assert.deepEqual(seqs(await pages(`${T}/auditLog?since=${last.at}&until=${last.at}`)), seqs(all.filter((a) => a.at === last.at)));
  assert.deepEqual(seqs(await pages(`${T}/auditLog?object=audit-window&until=${first.at}`)), []);
  for (const [arg, value] of [['until', 'yesterday'], ['since', '2026/11/30'], ['until', '2026-11-30T08:15:00Z+'], ['since', '26']]) {
    const r = await call('GET', `${T}/auditLog?${arg}=${encodeURIComponent(value)}`);
    assert.equal(r.status, 400, `${arg}=${value}: ${r.text}`);
    assert.equal(r.json.error.target, arg);
    assert.match(r.json.error.message, /is not a UTC time or its beginning/);
  }
  assert.equal((await call('DELETE', `${T}/groups/audit-window`)).status, 204);
});

test('session methods: a key always; OIDC only with a portal client', async () => {
  const r = await call('GET', '/api/v1/session/methods?tenant=contoso', { token: null });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { key: true, oidc: false }); // the providers here have no portal client
});

// The impact is computed once per tenant, revision, workload and import flag and kept;
// compared here with what the CLI computes from the store itself.
test('impact: computed once and kept, progress while it runs, pages equal the CLI, a new revision recomputed', async () => {
  const B = '/api/v1/tenants/bigco';
  // bigco: litware with 20,000 more security readers, so the comparison has users to count
  const yaml = readFileSync(join(SRC, 'examples/litware.yaml'), 'utf8')
    .replace('tenant: litware', 'tenant: bigco').replaceAll('litware.com', 'bigco.com')
    .replace('users:\n', `users:\n${Array.from({ length: 20000 }, (_, i) => `- id: r${i}@bigco.com\n  directoryRoles: [Security reader]\n`).join('')}`);
  writeFileSync(join(dir, 'bigco.yaml'), yaml);
  cli('apply', '-f', join(dir, 'bigco.yaml'));
  for (let i = 0; (await call('GET', `${B}/workloads`)).status !== 200; i++) { // the server's directory learns of it
    assert.ok(i < 200, 'the server finds the new tenant');
    await new Promise((ok) => setTimeout(ok, 50));
  }
  const users = 20000 + (await call('GET', '/api/v1/tenants/litware/users?$top=1000')).json.value.length;
  const computations = async () => Number((await call('GET', '/metrics')).text.match(/^urbac_impact_computations_total (\d+)$/m)[1]);
  const cliRows = () => (cli('impact', 'mde', '--import', '--rows', '--format', 'tsv', '--tenant-id', 'bigco', '--output',
    join(dir, 'impact.tsv')), readFileSync(join(dir, 'impact.tsv'), 'utf8'))
    .split('\n').filter(Boolean).map((l) => {
      const [user, permission, , scope, before, after] = l.split('\t');
      return [user, permission, scope ? scope.replace(/^devicegroup:/, '') : null, before, after].join('|');
    });
  const all = async (path) => {
    const rows = [];
    for (let next = path; next;) {
      const p = (await call('GET', next)).json;
      rows.push(...p.value.map((r) => [r.user, r.permission, r.deviceGroup, r.before, r.after].join('|')));
      next = p['@odata.nextLink'];
    }
    return rows;
  };
  const c0 = await computations();
  // asked to answer at once: 202 with the progress while it runs, then 200
  const url = `${B}/workloads/mde/impact?import=true&$top=500`;
  const async = { headers: { prefer: 'respond-async' } };
  let r = await call('GET', url, async);
  assert.equal(r.status, 202, 'the first answer comes before 20,000 users are compared');
  let last = -1;
  for (; r.status === 202; r = await call('GET', url, async)) {
    assert.equal(r.json.status, 'running');
    assert.equal(r.json.total, 3 * users); // each user compiled before, after, then compared
    assert.ok(r.json.done >= last && r.json.done <= r.json.total, JSON.stringify(r.json));
    last = r.json.done;
    assert.equal(r.headers.get('retry-after'), '1');
    assert.match(r.headers.get('location'), /\/workloads\/mde\/impact\?import=true&\$top=500/);
    await new Promise((ok) => setTimeout(ok, 20));
  }
  assert.equal(r.status, 200);
  assert.equal(r.json.status, 'succeeded');
  const want = cliRows();
  assert.ok(want.length > 20000, `the impact has rows for every reader (${want.length})`);
  assert.equal(r.json.count, want.length);
  // every page, cut from the kept result, equals the CLI's rows; none computed again
  assert.deepEqual(await all(`${B}/workloads/mde/impact?import=true&$top=7000`), want);
  assert.equal(await computations(), c0 + 1, 'one computation for every page');
  // a fresh key asked by several at once: one computation, shared
  const same = await Promise.all(Array.from({ length: 4 }, () => call('GET', `${B}/workloads/mde/impact?$top=3`)));
  assert.equal(await computations(), c0 + 2, 'concurrent requests share one computation');
  for (const x of same) assert.deepEqual(x.json, same[0].json);
  assert.equal(same[0].status, 200);
  // a new revision: a new reader, recomputed, the old result not served
  const w = await call('PUT', `${B}/users/new@bigco.com`, { body: { name: 'New', directoryRoles: ['Security reader'] } });
  assert.equal(w.status, 201);
  const rev = Number(w.headers.get('x-urbac-revision'));
  r = await call('GET', `${B}/workloads/mde/impact?import=true&$top=1`);
  assert.equal(r.status, 200);
  assert.equal(r.json.revision, rev);
  assert.equal(await computations(), c0 + 3);
  const after = cliRows();
  assert.ok(after.some((x) => x.startsWith('new@bigco.com|')), 'the CLI sees the new reader');
  assert.equal(r.json.count, after.length);
  assert.deepEqual(await all(`${B}/workloads/mde/impact?import=true&$top=7000`), after);
  // a workload without a legacy model is refused at once, as before
  r = await call('GET', `${B}/workloads/mda/impact`);
  assert.equal(r.status, 409);
  assert.equal(r.json.error.code, 'EREFUSED');
  assert.equal(r.json.error.target, 'workload');
});

test('migration: workloads, import (dry run and applied), impact, activate, deactivate', async () => {
  const L = '/api/v1/tenants/litware';
  let r = await call('GET', `${L}/workloads`);
  assert.deepEqual(r.json.value.map((w) => w.mode), ['legacy', 'legacy', 'legacy']);
  r = await call('GET', `${L}/workloads/mdo/impact?import=true&$top=5`);
  assert.equal(r.status, 200);
  assert.ok(r.json.count >= 0);
  // the tallies cover every row, whatever the page: counted here from all the pages
  for (const [t, w] of [[L, 'mdo'], [L, 'mde'], [T, 'mde']]) {
    const first = (await call('GET', `${t}/workloads/${w}/impact?import=true&$top=1`)).json;
    const rows = [];
    for (let next = `${t}/workloads/${w}/impact?import=true&$top=1`; next;) {
      const p = (await call('GET', next)).json;
      rows.push(...p.value);
      next = p['@odata.nextLink'];
    }
    assert.equal(rows.length, first.count);
    const rank = { none: 0, read: 1, manage: 2 };
    const tallies = (key) => {
      const m = new Map();
      for (const row of rows) {
        const e = m.get(row[key]) || { [key]: row[key], rows: 0, gains: 0, losses: 0 };
        e.rows++;
        e.gains += rank[row.after] > rank[row.before];
        e.losses += rank[row.after] < rank[row.before];
        m.set(row[key], e);
      }
      return [...m.values()].sort((a, b) => String(a[key]).localeCompare(String(b[key])));
    };
    const sorted = (a, key) => [...a].sort((x, y) => String(x[key]).localeCompare(String(y[key])));
    assert.deepEqual(sorted(first.byPermission, 'permission'), tallies('permission'), `${t} ${w}`);
    assert.deepEqual(sorted(first.byDeviceGroup, 'deviceGroup'), tallies('deviceGroup'), `${t} ${w}`);
    if (t === T) assert.ok(rows.length > 1, 'contoso mde changes more than one row');
  }
  const dry = await call('POST', `${L}/workloads/mdo/import?dryRun=true`);
  assert.equal(dry.status, 200);
  assert.equal(dry.json.dryRun, true);
  assert.ok(dry.json.roles.length > 0);
  assert.equal((await call('GET', `${L}/roleDefinitions`)).json.value.length, 0);
  r = await call('POST', `${L}/workloads/mdo/import`);
  assert.equal(r.json.changed, true);
  assert.equal((await call('GET', `${L}/roleDefinitions`)).json.value.length, dry.json.roles.length);
  r = await call('POST', `${L}/workloads/mdo/import`);
  assert.equal(r.json.changed, false);
  r = await call('POST', `${L}/workloads/mdo/activate`);
  assert.equal(r.status, 200);
  assert.equal(r.json.mode, 'unified');
  r = await call('POST', `${L}/workloads/mdo/deactivate`);
  assert.equal(r.json.mode, 'legacy');
  // refused when nobody could manage authorization, unless forced
  r = await call('POST', `${T}/workloads/mdi/activate`, { headers: {} });
  assert.ok(r.status === 200 || r.status === 409);
  assert.equal((await call('POST', `${L}/workloads/mars/activate`)).status, 404);
  r = await call('GET', `${T}/auditLog?actor=preshared:3&$top=3`);
  assert.equal(r.json.value.length, 3);
  assert.ok(r.json['@odata.nextLink']);
});

test('authentication: every way a credential fails', async () => {
  const path = `${T}/check?${q({ user: 'a', permission: ALERTS, workload: 'mde' })}`;
  const expect = async (token, status, re) => {
    const r = await call('GET', path, { token });
    assert.equal(r.status, status, `${token?.slice(0, 20)}: ${r.text}`);
    if (re) assert.match(r.json.error.message, re);
    return r;
  };
  const none = await expect(null, 401, /Bearer/);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer');
  await expect('nonsense', 401);
  await expect(keys.erin, 200);
  await expect(keys.erin.slice(0, -1) + (keys.erin.endsWith('0') ? '1' : '0'), 401, /invalid API key/);
  await expect(keys.expired, 401, /expired/);
  await expect(keys.revoked, 401, /revoked/);
  await expect(keys.litware, 403, /another tenant/);
  await expect(jwt(claims()), 200);
  await expect(jwt(claims(), { alg: 'ES256', key: ec.privateKey, kid: 'ec1' }), 200);
  // RFC 9068 access tokens (typ at+jwt), and tokens with no typ: the typ is not the signature's business
  await expect(jwt(claims(), { header: { typ: 'at+jwt' } }), 200);
  await expect(jwt(claims(), { alg: 'ES256', key: ec.privateKey, kid: 'ec1', header: { typ: undefined } }), 200);
  await expect(jwt(claims(), { key: keys.otherRsa }), 401, /signature/);
  await expect(jwt(claims({ exp: now() - 3600 })), 401, /expired/);
  await expect(jwt(claims({ aud: 'someone-else' })), 401, /audience/);
  await expect(jwt(claims({ nbf: now() + 3600 })), 401, /not valid yet/);
  await expect(jwt(claims({ exp: undefined })), 401, /expiry/);
  await expect(jwt(claims({ iss: 'https://evil.test' })), 401, /issuer/);
  await expect(jwt(claims({ iss: 'https://idp.test/litware' })), 403, /another tenant/);
  // alg confusion: an HMAC "signed" with the public key is never accepted
  const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' });
  await expect(jwt(claims(), { alg: 'HS256', key: pem }), 401, /RS256/);
  await expect(jwt(claims(), { alg: 'none' }), 401);
  assert.equal((await call('GET', '/api/v1/tenants/nope/users', { token: keys.erin })).status, 403);
  assert.equal((await call('GET', '/api/v1/tenants/nope/users')).status, 404);
});

test('authorization: the API is authorized by the tenant model itself', async () => {
  assert.equal((await call('GET', `${T}/roleDefinitions`, { token: keys.erin })).status, 200);
  assert.equal((await call('GET', `${T}/roleDefinitions`, { token: jwt(claims()) })).status, 200);
  let r = await call('GET', `${T}/roleDefinitions`, { token: keys.alice });
  assert.equal(r.status, 403);
  assert.match(r.headers.get('x-urbac-revision'), /^\d+$/); // errors about a tenant say its revision too
  assert.match(r.json.error.message, /Authorization \(read\)/);
  assert.equal((await call('GET', `${T}/check?${q({ user: 'a', permission: ALERTS, workload: 'mde' })}`, { token: keys.alice })).status, 200);
  // the service key answers decisions, nothing else, though its user is an admin
  assert.equal((await call('POST', `${T}/checks`, { token: keys.service, body: { checks: [] } })).status, 200);
  r = await call('GET', `${T}/users`, { token: keys.service });
  assert.equal(r.status, 403);
  assert.match(r.json.error.message, /decisions/);
  // dave reads once a role grants him Authorization (read), but may not change anything
  r = await call('POST', `${T}/roleDefinitions`, { token: keys.erin, body: { displayName: 'Auditors',
    rolePermissions: [{ allowedResourceActions: ['Configuration \\ Authorization (read)'] }] } });
  assert.equal(r.status, 201, r.text);
  r = await call('POST', `${T}/roleAssignments`, { token: keys.erin, body: { displayName: 'dave', roleDefinitionId: 'Auditors',
    principalIds: ['dave@contoso.com'], appScopeIds: ['/'] } });
  assert.equal(r.status, 201, r.text);
  assert.equal((await call('GET', `${T}/roleDefinitions`, { token: keys.dave })).status, 200);
  assert.equal((await call('PUT', `${T}/users/x`, { token: keys.dave, body: {} })).status, 403);
  // writes are audited as the caller
  r = await call('GET', `${T}/auditLog?object=Auditors`);
  assert.ok(r.json.value.every((a) => a.actor.startsWith('key:')));
  assert.ok(r.json.value.some((a) => a.actor.includes('erin@contoso.com')));
});

test('API keys over HTTP: created once, listed without secrets, revoked at once', async () => {
  let r = await call('POST', `${T}/apiKeys`, { token: keys.erin, body: { user: 'alice@contoso.com', name: 'siem', scope: 'decisions' } });
  assert.equal(r.status, 201, r.text);
  const { id, token } = r.json;
  assert.match(token, /^urbac_[0-9a-f]{16}_[0-9a-f]{64}$/);
  assert.ok(token.includes(id));
  const ask = `${T}/check?${q({ user: 'a', permission: ALERTS, workload: 'mde' })}`;
  assert.equal((await call('GET', ask, { token })).status, 200);
  assert.equal((await call('GET', `${T}/users`, { token })).status, 403); // a decisions key
  r = await call('GET', `${T}/apiKeys?$top=1000`, { token: keys.erin });
  const listed = r.json.value.find((k) => k.id === id);
  assert.deepEqual([listed.user, listed.scope, listed.name, listed.revoked], ['alice@contoso.com', 'decisions', 'siem', null]);
  assert.ok(!r.text.includes(token.split('_')[2]) && !('hash' in listed) && !('salt' in listed));
  assert.equal((await call('GET', `${T}/apiKeys`, { token: keys.alice })).status, 403);
  assert.equal((await call('POST', `${T}/apiKeys`, { body: { user: 'nobody' } })).status, 422);
  assert.equal((await call('POST', `${T}/apiKeys`, { body: { user: 5 } })).status, 400);
  assert.equal((await call('DELETE', `${T}/apiKeys/${id}`, { token: keys.erin })).status, 204);
  r = await call('GET', ask, { token });
  assert.equal(r.status, 401);
  assert.match(r.json.error.message, /revoked/);
  assert.equal((await call('DELETE', `${T}/apiKeys/0123456789abcdef`)).status, 404);
  r = await call('GET', `${T}/auditLog?object=${id}`);
  assert.deepEqual(r.json.value.map((a) => a.command), ['POST /apiKeys', 'DELETE /apiKeys/{id}']);
  assert.ok(r.json.value.every((a) => a.actor.includes('erin@contoso.com')));
});

test('malformed requests are 4xx, never a crash', async () => {
  const bad = [
    ['POST', `${T}/checks`, '{"checks": [', 400],
    ['POST', `${T}/checks`, '[]', 400],
    ['POST', `${T}/checks`, '{"checks": {"user": "a"}}', 400],
    ['POST', `${T}/checks`, '{"checks": [{"user": 5, "permission": "x", "workload": "mde"}]}', 400],
    ['POST', `${T}/checks`, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), 400],
    ['POST', `${T}/checks`, '{"checks": [], "checks": []}', 400],
    ['POST', `${T}/explain`, '{"user": "a"}', 400],
    ['PUT', `${T}/users/a`, 'null', 400],
    ['POST', `${T}/roleDefinitions`, '{"displayName": 5}', 400],
    ['GET', `${T}/check?user=a&permission=x&workload=mars`, undefined, 422],
    ['GET', `${T}/check?user=a&workload=mde`, undefined, 400],
    ['GET', `${T}/check?user=a&permission=${encodeURIComponent(ALERTS)}&workload=mde&minRevision=abc`, undefined, 400],
    ['GET', `${T}/check?user=%zz`, undefined, 400],
    ['GET', `${T}/check?user=a%00b`, undefined, 400],
    ['GET', `${T}/nothing`, undefined, 404],
    ['DELETE', `${T}/check`, undefined, 405],
    ['PATCH', `${T}/users/a`, '{}', 405],
  ];
  for (const [method, path, raw, status] of bad) {
    const r = await call(method, path, { raw });
    assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
    assert.ok(r.json.error.code && r.json.error.message, r.text);
  }
  const huge = await call('POST', `${T}/checks`, { raw: 'x'.repeat(17 << 20) }).catch((e) => ({ status: 413, e }));
  assert.equal(huge.status, 413);
  const many = { checks: Array.from({ length: 100001 }, () => ({ user: 'a', permission: ALERTS, workload: 'mde' })) };
  assert.equal((await call('POST', `${T}/checks`, { body: many })).status, 413);
  const future = await call('GET', `${T}/check?${q({ user: 'a', permission: ALERTS, workload: 'mde', minRevision: 1e9 })}`);
  assert.equal(future.status, 409);
  assert.equal((await call('GET', '/healthz', { token: null })).status, 200);
});

test('consistency: parallel writers and checkers; minRevision sees each write', async () => {
  const group = `${T}/groups/mail-ops`;
  const orig = (await call('GET', group)).json;
  const expected = new Map(); // revision -> is dave a member
  const ask = { user: 'dave@contoso.com', permission: 'Email quarantine (manage)', workload: 'mdo' };
  // dave is in mail-ops exactly when quarantine is granted to mail-ops members on mdo
  await call('PUT', `${T}/legacy/mdo/roleGroups/Quarantine`, { body: { members: ['group:mail-ops'] } });
  let stop = false;
  const observed = [];
  const checker = (async () => {
    while (!stop) {
      const r = await call('GET', `${T}/check?${q(ask)}`);
      observed.push([r.json.revision, r.json.decision]);
    }
  })();
  for (let i = 0; i < 20; i++) {
    const member = i % 2 === 0;
    const body = { ...orig, members: member ? [...orig.members, 'dave@contoso.com'] : orig.members };
    const w = await call('PUT', group, { body });
    assert.equal(w.status, 200, w.text);
    const rev = Number(w.headers.get('x-urbac-revision'));
    expected.set(rev, member);
    const r = await call('GET', `${T}/check?${q({ ...ask, minRevision: rev })}`);
    assert.ok(r.json.revision >= rev);
    if (r.json.revision === rev) assert.equal(r.json.decision, member ? 'allow' : 'deny');
  }
  stop = true;
  await checker;
  let compared = 0;
  for (const [rev, decision] of observed) {
    if (!expected.has(rev)) continue;
    compared++;
    assert.equal(decision, expected.get(rev) ? 'allow' : 'deny', `revision ${rev}`);
  }
  assert.ok(compared > 0);
});

test('a change committed by another process is served within a second', async () => {
  const before = Number((await call('GET', `${T}/workloads`)).headers.get('x-urbac-revision'));
  cli('user', 'add', 'walker@contoso.com', '--tenant-id', 'contoso', '--name', 'Walker');
  const t0 = Date.now();
  const r = await call('GET', `${T}/users/walker@contoso.com/effectivePermissions?minRevision=${before + 1}`);
  assert.equal(r.status, 200, r.text);
  assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
});

test('SIGHUP re-reads the preshared key file', async () => {
  const fresh = 'a-brand-new-preshared-key-42';
  writeFileSync(join(dir, 'psk'), `${fresh}\n`);
  server.p.kill('SIGHUP');
  let ok = false;
  for (let i = 0; i < 50 && !ok; i++) {
    ok = (await call('GET', `${T}/users`, { token: fresh })).status === 200;
    if (!ok) await new Promise((res) => setTimeout(res, 20));
  }
  assert.ok(ok);
  assert.equal((await call('GET', `${T}/users`, { token: PSK })).status, 401);
  writeFileSync(join(dir, 'psk'), `short\n`); // refused: the keys in force stay
  server.p.kill('SIGHUP');
  await new Promise((res) => setTimeout(res, 200));
  assert.equal((await call('GET', `${T}/users`, { token: fresh })).status, 200);
  writeFileSync(join(dir, 'psk'), `${PSK}\n`);
  server.p.kill('SIGHUP');
  for (let i = 0; i < 50 && (await call('GET', `${T}/users`)).status !== 200; i++) await new Promise((res) => setTimeout(res, 20));
});

test('SIGHUP re-reads the OIDC providers file and its JWKS file (static keys rotated by hand)', async () => {
  const rotated = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const token = jwt(claims(), { key: rotated.privateKey, kid: 'rsa2' });
  const r = await call('GET', `${T}/users`, { token });
  assert.equal(r.status, 401);
  assert.match(r.json.error.message, /key id is not among the issuer's keys/); // a file is not fetched again
  const jwk = (k, kid) => ({ ...k.publicKey.export({ format: 'jwk' }), kid });
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [jwk(rotated, 'rsa2'), jwk(rsa, 'rsa1'), jwk(ec, 'ec1')] }));
  server.p.kill('SIGHUP');
  let status = 0;
  for (let i = 0; i < 100 && status !== 200; i++) {
    status = (await call('GET', `${T}/check?user=erin@contoso.com&permission=Alerts%20(manage)&workload=mde`, { token })).status;
    if (status !== 200) await new Promise((res) => setTimeout(res, 20));
  }
  assert.equal(status, 200);
});

test('the access log has one JSON line per request, with the caller', async () => {
  await call('PUT', `${T}/users/logged`, { body: { name: 'Logged' } });
  await new Promise((res) => setTimeout(res, 1200)); // flushed each second
  const lines = readFileSync(join(dir, 'access.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const w = lines.find((l) => l.method === 'PUT' && l.path === `${T}/users/logged`);
  assert.equal(w?.status, 201, JSON.stringify(lines.slice(-3)));
  assert.ok(w && w.actor.startsWith('preshared:') && w.tenant === 'contoso' && typeof w.ms === 'number');
});

test('bad configuration is refused before serving, with the reason', () => {
  const refused = (args, re) => {
    let err = '';
    try {
      execFileSync(URBAC, ['serve', '--db', db, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 });
    } catch (e) { err = e.stderr; assert.equal(e.status, 2); }
    assert.match(err, re);
  };
  refused(['--listen', 'nonsense'], /--listen: 'nonsense': use HOST:PORT/);
  refused(['--listen', '127.0.0.1:99999'], /port 0 to 65535/);
  writeFileSync(join(dir, 'short'), 'tiny\n', { mode: 0o600 });
  refused(['--listen', '127.0.0.1:0', '--preshared-key-file', join(dir, 'short')], /short:1:1: a key of 4 bytes/);
  writeFileSync(join(dir, 'bad-oidc.json'), '{"providers": [{"tenant": "contoso"}]}');
  refused(['--listen', '127.0.0.1:0', '--oidc', join(dir, 'bad-oidc.json')], /providers\[0\]\.issuer: a string is required/);
  refused(['--listen', '127.0.0.1:0', '--tls-cert', join(dir, 'psk')], /TLS needs both/);
});

test('TLS: the same API over HTTPS', async () => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const tls = await start(['--preshared-key-file', join(dir, 'psk'), '--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')]);
  try {
    assert.match(tls.base, /^https:/);
    const out = execFileSync('curl', ['-sS', '-m', '30', '--cacert', join(dir, 'cert.pem'), '-H', `Authorization: Bearer ${PSK}`,
      `${tls.base}${T}/check?${q({ user: 'alice@contoso.com', permission: ALERTS, workload: 'mde', scope: 'device:lap-042' })}`], { encoding: 'utf8' });
    assert.equal(JSON.parse(out).decision, 'allow');
  } finally {
    tls.p.kill('SIGTERM');
  }
});

test('requests waiting for a revision hold no worker thread', async () => {
  const rev = Number((await call('GET', `${T}/workloads`)).headers.get('x-urbac-revision'));
  const ask = { user: 'alice@contoso.com', permission: ALERTS, workload: 'mde', scope: 'device:lap-042' };
  // more waiters than the server has threads (2), each on its own connection
  const waiting = Array.from({ length: 8 }, () => call('GET', `${T}/check?${q({ ...ask, minRevision: rev + 1000 })}`));
  await new Promise((res) => setTimeout(res, 200));
  const t0 = Date.now();
  const r = await call('GET', `${T}/check?${q(ask)}`);
  assert.equal(r.json.decision, 'allow');
  assert.ok(Date.now() - t0 < 500, `a plain check took ${Date.now() - t0} ms while others waited`);
  for (const w of await Promise.all(waiting)) assert.equal(w.status, 409);
});

test('SIGTERM: a request in flight finishes, then the server exits 0', async () => {
  // a read waiting for a revision no one writes is in the handler for 2 s: in flight for sure
  const rev = Number((await call('GET', `${T}/workloads`)).headers.get('x-urbac-revision'));
  const t0 = Date.now();
  const pending = call('GET', `${T}/check?${q({ user: 'a', permission: ALERTS, workload: 'mde', minRevision: rev + 1000 })}`);
  await new Promise((res) => setTimeout(res, 300));
  const exited = new Promise((res) => server.p.on('exit', (code) => res(code)));
  server.p.kill('SIGTERM');
  const r = await pending;
  assert.equal(r.status, 409); // answered, after its full wait, not cut off
  assert.ok(Date.now() - t0 >= 1900);
  let timer;
  const late = new Promise((res, rej) => { timer = setTimeout(() => rej(wedged('SIGTERM')), 20000); });
  try {
    assert.equal(await Promise.race([exited, late]), 0);
  } finally {
    clearTimeout(timer);
  }
  assert.equal((await call('GET', '/healthz', { token: null }).catch(() => ({ status: 0 }))).status, 0); // gone
});
