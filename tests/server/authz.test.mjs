// tests/server/authz.test.mjs - no escalation through the API (issue 15, item 5).
// mia may manage authorization on Defender for Endpoint only, with a few mde
// permissions. Every way she could give someone (herself included) more than
// she holds is refused with 403, names the permission and workload, and writes
// nothing; what stays within her reach still works, and a full administrator
// may do all of it. The server is the real process on loopback, on a SQLite
// file or (tests/pg.sh) PostgreSQL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { store, serve, client, T } from './serve.mjs';

const PSK = 'preshared-authz-key-0123456789';
const MIA = 'mia@contoso.com';
const AUTHZ = 'Configuration \\ Authorization';
const DATA = 'Security operations \\ Security data';
let s, server, call, keys = {}, other;

before(async () => {
  s = store('urbac-authz-', PSK);
  server = await serve(s.db, ['--preshared-key-file', join(s.dir, 'psk')]);
  call = client(server.base, PSK);
  const ok = async (method, path, body) => {
    const r = await call(method, path, { body });
    assert.ok(r.status < 300, `${method} ${path}: ${r.text}`);
  };
  await ok('PUT', `${T}/users/${MIA}`, { name: 'Mia, Endpoint authorization' });
  await ok('PUT', `${T}/users/zed@contoso.com`, { name: 'Zed, holds nothing' });
  await ok('POST', `${T}/roleDefinitions`, { displayName: 'Endpoint authorization', rolePermissions: [{ allowedResourceActions: [
    `${AUTHZ} (manage)`, `${AUTHZ} (read)`, `${DATA} \\ Alerts (manage)`, `${DATA} \\ Security data basics (read)`] }] });
  await ok('POST', `${T}/roleAssignments`, { displayName: 'mia', roleDefinitionId: 'Endpoint authorization',
    principalIds: [MIA], appScopeIds: ['Mde'] });
  const key = async (user) => (await call('POST', `${T}/apiKeys`, { body: { user, name: 'test' } })).json.token;
  keys.mia = await key(MIA);
  keys.erin = await key('erin@contoso.com');
});

after(() => {
  for (const x of [server, other])
    if (x && x.p.exitCode === null) x.p.kill('SIGKILL');
  rmSync(s.dir, { recursive: true, force: true });
});

// The tenant's revision and how many audit records it has: a refused request changes neither.
async function state() {
  const w = await call('GET', `${T}/workloads`);
  const a = await call('GET', `${T}/auditLog?$top=10000`);
  return { revision: w.headers.get('x-urbac-revision'), audited: a.json.value.length };
}

// `method path body` as mia is refused with 403, a reason matching `re`, and nothing written.
async function refused(method, path, body, re) {
  const was = await state();
  const r = await call(method, path, { token: keys.mia, body });
  assert.equal(r.status, 403, `${method} ${path}: ${r.text}`);
  assert.equal(r.json.error.code, 'forbidden');
  assert.match(r.json.error.message, re);
  assert.deepEqual(await state(), was, `${method} ${path} wrote something`);
  return r;
}

const names = (perm, workload) => new RegExp(`'${perm.replace(/[\\()]/g, '\\$&')}[^']*' on ${workload}`);

test('a key acts as its user: minted only for oneself or for someone who holds nothing more', async () => {
  let r = await refused('POST', `${T}/apiKeys`, { user: 'erin@contoso.com' }, /a key for erin@contoso\.com would act with '[^']+ \((read|manage)\)' on (mde|mdo|mdi)/);
  assert.match(r.json.error.message, /which mia@contoso\.com does not hold/);
  await refused('POST', `${T}/apiKeys`, { user: 'carol@contoso.com' }, /'[^']*Quarantine[^']*' on mdo|' on mdo/);
  r = await call('POST', `${T}/apiKeys`, { token: keys.mia, body: { user: MIA, name: 'mine' } });
  assert.equal(r.status, 201, r.text);
  assert.match(r.json.createdBy, /^key:[0-9a-f]{16} \(mia@contoso\.com\)$/);
  r = await call('POST', `${T}/apiKeys`, { token: keys.mia, body: { user: 'zed@contoso.com', name: 'less' } });
  assert.equal(r.status, 201, r.text);
  const listed = (await call('GET', `${T}/apiKeys?$top=1000`)).json.value.find((k) => k.id === r.json.id);
  assert.equal(listed.createdBy, r.json.createdBy);
  // a full administrator may mint a key for anyone
  assert.equal((await call('POST', `${T}/apiKeys`, { token: keys.erin, body: { user: 'alice@contoso.com' } })).status, 201);
});

test('directory roles are given only by someone who holds what they grant', async () => {
  const bob = (await call('GET', `${T}/users/bob@contoso.com`)).json;
  await refused('PUT', `${T}/users/bob@contoso.com`, { ...bob, directoryRoles: ['Security administrator'] },
    /would give bob@contoso\.com '[^']+' on (mde|mdo|mdi)/);
  await refused('PUT', `${T}/users/${MIA}`, { name: 'Mia', directoryRoles: ['Security administrator'] }, /would give mia@contoso\.com/);
  assert.deepEqual((await call('GET', `${T}/users/bob@contoso.com`)).json, bob);
});

test('role definitions, assignments, groups and legacy roles cannot widen anyone past the caller', async () => {
  const soc = (await call('GET', `${T}/roleDefinitions/SOC%20analyst`)).json;
  const perms = soc.rolePermissions[0].allowedResourceActions;
  // editing a role's permissions: everyone assigned gains them
  await refused('PATCH', `${T}/roleDefinitions/SOC%20analyst`,
    { rolePermissions: [{ allowedResourceActions: [...perms, `${DATA} \\ Basic live response (manage)`] }] },
    names(`${DATA} \\ Basic live response (manage)`, 'mde'));
  // an assignment of a role with permissions she lacks
  await refused('POST', `${T}/roleAssignments`, { displayName: 'zed', roleDefinitionId: 'Incident responder',
    principalIds: ['zed@contoso.com'], appScopeIds: ['Mde'] }, / live response \(manage\)' on mde/);
  // widening an assignment's scope: workstations -> every data source and device group
  await refused('PATCH', `${T}/roleAssignments/${encodeURIComponent('SOC analyst/tier1')}`, { appScopeIds: ['/'] },
    names(`${DATA} \\ Response (manage)`, 'mde'));
  // group membership: soc-tier2 holds Incident responder
  const tier2 = (await call('GET', `${T}/groups/soc-tier2`)).json;
  await refused('PUT', `${T}/groups/soc-tier2`, { ...tier2, members: [...tier2.members, 'zed@contoso.com'] },
    /would give zed@contoso\.com '[^']+ \((read|manage)\)' on mde(, device group (workstations|servers))?, which/);
  // the legacy role groups and roles of workloads still on them
  await refused('PUT', `${T}/legacy/mdo/roleGroups/Quarantine`, { members: ['group:mail-ops', 'zed@contoso.com'] },
    /would give zed@contoso\.com '[^']+' on mdo/);
  await refused('PUT', `${T}/legacy/mdi/roles/${encodeURIComponent('MDI user')}`, { members: ['group:identity-team', MIA] },
    /would give mia@contoso\.com '[^']+' on mdi/);
  // activation and import need authorization on the workload itself
  await refused('POST', `${T}/workloads/mdo/activate`, undefined, /Authorization \(manage\) on mdo/);
  await refused('POST', `${T}/workloads/mdi/import`, undefined, /Authorization \(manage\) on mdi/);
});

test('legacy roles and device-group access count on a workload that is on unified roles: they give at deactivation', async () => {
  // mde runs on unified roles; its legacy Tier 1 role (soc-tier1 on the device groups soc reaches) waits
  const TIER1 = `${T}/legacy/mde/roles/Tier%201`;
  const tier1 = (await call('GET', TIER1)).json;
  assert.equal((await call('PUT', TIER1, { body: { ...tier1, permissions: [...tier1.permissions, 'Live response capabilities'] } })).status, 200);
  await refused('PUT', TIER1, { ...tier1, permissions: [...tier1.permissions, 'Live response capabilities - advanced'] },
    /would give alice@contoso\.com 'Security operations \\ Security data \\ Advanced live response \(manage\)' on mde, device group workstations once mde is deactivated, which/);
  const servers = (await call('GET', `${T}/deviceGroups/servers`)).json;
  await refused('PUT', `${T}/deviceGroups/servers`, { ...servers, userAccess: [...servers.userAccess, 'soc'] },
    /would give alice@contoso\.com 'Security operations \\ Security data \\ Basic live response \(manage\)' on mde(, device group servers)? once mde is deactivated/);
  // within her reach (Alerts, Security data basics): allowed
  const r = await call('PUT', TIER1, { token: keys.mia, body: { ...tier1, permissions: ['Alerts investigation'] } });
  assert.equal(r.status, 200, r.text);
});

test('the twin with the other modes takes the writes made meanwhile before it judges (it follows them lazily)', async () => {
  const TIER1 = `${T}/legacy/mde/roles/Tier%201`;
  const tier1 = (await call('GET', TIER1)).json;
  const base = tier1.permissions.filter((p) => p !== 'Live response capabilities - advanced' && p !== 'Alerts investigation');
  // a judged write first: the twin exists from here on
  let r = await call('PUT', TIER1, { token: keys.mia, body: { ...tier1, permissions: base } });
  assert.equal(r.status, 200, r.text);
  // a full administrator gives Tier 1 advanced live response (and more) while mde is on unified roles
  r = await call('PUT', TIER1, { body: { ...tier1, permissions: [...base, 'Live response capabilities - advanced', 'Alerts investigation'] } });
  assert.equal(r.status, 200, r.text);
  // mia takes away what she may; advanced live response stays, given by someone else: hers is no gain.
  // A twin that had not taken the write above would see her giving it, and refuse.
  r = await call('PUT', TIER1, { token: keys.mia, body: { ...tier1, permissions: [...base, 'Live response capabilities - advanced'] } });
  assert.equal(r.status, 200, r.text);
  assert.equal((await call('PUT', TIER1, { body: { ...tier1, permissions: base } })).status, 200);
});

test('within her reach a delegated administrator still manages; a full administrator may do it all', async () => {
  let r = await call('POST', `${T}/roleDefinitions`, { token: keys.mia, body: { displayName: 'Alert triage',
    rolePermissions: [{ allowedResourceActions: [`${DATA} \\ Alerts (manage)`] }] } });
  assert.equal(r.status, 201, r.text);
  r = await call('POST', `${T}/roleAssignments`, { token: keys.mia, body: { displayName: 'zed', roleDefinitionId: 'Alert triage',
    principalIds: ['zed@contoso.com'], appScopeIds: ['Mde'] } });
  assert.equal(r.status, 201, r.text);
  r = await call('GET', `${T}/users/zed@contoso.com/effectivePermissions?workload=mde`);
  assert.ok(r.json.value.some((g) => g.permission === `${DATA} \\ Alerts (manage)`));
  // the same role on a workload she does not hold is refused, by name
  await refused('PATCH', `${T}/roleAssignments/${encodeURIComponent('Alert triage/zed')}`, { appScopeIds: ['Mde', 'Mdo'] },
    names(`${DATA} \\ Alerts (manage)`, 'mdo'));
  // erin, a Security administrator, may do what mia may not
  const bob = (await call('GET', `${T}/users/bob@contoso.com`)).json;
  r = await call('PUT', `${T}/users/bob@contoso.com`, { token: keys.erin, body: { ...bob, directoryRoles: ['Security administrator'] } });
  assert.equal(r.status, 200, r.text);
  r = await call('PUT', `${T}/legacy/mdo/roleGroups/Quarantine`, { token: keys.erin, body: { members: ['group:mail-ops', 'zed@contoso.com'] } });
  assert.equal(r.status, 200, r.text);
  r = await call('PATCH', `${T}/roleAssignments/${encodeURIComponent('Alert triage/zed')}`, { token: keys.erin, body: { appScopeIds: ['/'] } });
  assert.equal(r.status, 200, r.text);
  r = await call('POST', `${T}/workloads/mdi/import`, { token: keys.erin });
  assert.equal(r.status, 200, r.text);
});

test('what a key does is audited with its user and with who created it', async () => {
  const erinId = keys.erin.split('_')[1];
  let r = await call('POST', `${T}/apiKeys`, { token: keys.erin, body: { user: MIA, name: 'for mia' } });
  assert.equal(r.status, 201, r.text);
  const token = r.json.token;
  r = await call('PUT', `${T}/groups/triage`, { token, body: { name: 'Triage', members: ['zed@contoso.com'] } });
  assert.equal(r.status, 201, r.text);
  const records = (await call('GET', `${T}/auditLog?object=triage`)).json.value;
  assert.equal(records.length, 1);
  assert.equal(records[0].actor, `key:${token.split('_')[1]} (${MIA}) created by key:${erinId} (erin@contoso.com)`);
});

// The change feed's watcher re-reads the keys on its own connection beside the write
// that creates one; a read that began before the key was written must never replace
// the writer's (tenants.c, keys_lock). Each new key works at once, every time.
test("a key works the moment it is created, however the watcher's refresh falls", async () => {
  for (let i = 0; i < 40; i++) {
    const r = await call('POST', `${T}/apiKeys`, { token: keys.erin, body: { user: MIA, name: `at once ${i}` } });
    assert.equal(r.status, 201, r.text);
    const use = await call('GET', `${T}/groups/soc-tier2`, { token: r.json.token });
    assert.equal(use.status, 200, `key ${i}: ${use.text}`);
  }
});

// A guarded write is judged before it is written, on the tenant as served and its
// twin with the other modes, for the users the change reaches (reach.c).
const ok = async (r, status = 200) => assert.equal(r.status, status, r.text);
const allowed = async (user, permission) =>
  (await call('GET', `${T}/check?${new URLSearchParams({ user, permission, workload: 'mde' })}`)).json.decision === 'allow';

test('a gain through nested groups is refused: every level counts', async () => {
  // nest-inner sits in nest-middle, which sits in soc-tier2 (Incident responder on mde)
  await ok(await call('PUT', `${T}/groups/nest-inner`, { body: { name: 'Nest inner', members: [] } }), 201);
  await ok(await call('PUT', `${T}/groups/nest-middle`, { body: { name: 'Nest middle', members: ['group:nest-inner'] } }), 201);
  const tier2 = (await call('GET', `${T}/groups/soc-tier2`)).json;
  await ok(await call('PUT', `${T}/groups/soc-tier2`, { body: { ...tier2, members: [...tier2.members, 'group:nest-middle'] } }));
  await refused('PUT', `${T}/groups/nest-inner`, { name: 'Nest inner', members: ['zed@contoso.com'] },
    /would give zed@contoso\.com '[^']+ \((read|manage)\)' on mde(, device group \w+)?, which mia@contoso\.com does not hold/);
  // the same group outside soc-tier2 gives nothing: mia may fill it
  await ok(await call('PUT', `${T}/groups/soc-tier2`, { body: tier2 }));
  await ok(await call('PUT', `${T}/groups/nest-inner`, { token: keys.mia, body: { name: 'Nest inner', members: ['zed@contoso.com'] } }));
  assert.deepEqual((await call('GET', `${T}/groups/nest-inner`)).json.members, ['zed@contoso.com']);
});

test('a role edit reaching many users is judged for each of them, and served at once when within reach', async () => {
  const N = 300, users = Array.from({ length: N }, (_, i) => `many${String(i).padStart(3, '0')}@contoso.com`);
  for (const u of users)
    await ok(await call('PUT', `${T}/users/${u}`, { body: { name: u } }), 201);
  await ok(await call('PUT', `${T}/groups/many`, { body: { name: 'Many', members: users } }), 201);
  await ok(await call('POST', `${T}/roleDefinitions`, { body: { displayName: 'Many role',
    rolePermissions: [{ allowedResourceActions: [`${DATA} \\ Alerts (manage)`] }] } }), 201);
  await ok(await call('POST', `${T}/roleAssignments`, { body: { displayName: 'many', roleDefinitionId: 'Many role',
    principalIds: ['group:many'], appScopeIds: ['Mde'] } }), 201);
  await refused('PATCH', `${T}/roleDefinitions/Many%20role`,
    { rolePermissions: [{ allowedResourceActions: [`${DATA} \\ Alerts (manage)`, `${DATA} \\ Basic live response (manage)`] }] },
    /would give many\d{3}@contoso\.com 'Security operations \\ Security data \\ Basic live response \(manage\)' on mde/);
  const basics = `${DATA} \\ Security data basics (read)`;
  assert.equal(await allowed(users[150], basics), false);
  await ok(await call('PATCH', `${T}/roleDefinitions/Many%20role`, { token: keys.mia, body:
    { rolePermissions: [{ allowedResourceActions: [`${DATA} \\ Alerts (manage)`, basics] }] } }));
  // read your write: the judged edit is what is served
  for (const u of [users[0], users[150], users[N - 1]])
    assert.equal(await allowed(u, basics), true, u);
});

test('deletes are judged and served; one the store refuses says why, as it would to anyone', async () => {
  const ALERTS = `${DATA} \\ Alerts (manage)`;
  await ok(await call('PUT', `${T}/users/del@contoso.com`, { body: { name: 'Del' } }), 201);
  await ok(await call('POST', `${T}/roleDefinitions`, { token: keys.mia, body: { displayName: 'Del role',
    rolePermissions: [{ allowedResourceActions: [ALERTS] }] } }), 201);
  await ok(await call('POST', `${T}/roleAssignments`, { token: keys.mia, body: { displayName: 'del',
    roleDefinitionId: 'Del role', principalIds: ['del@contoso.com'], appScopeIds: ['Mde'] } }), 201);
  assert.equal(await allowed('del@contoso.com', ALERTS), true);
  await ok(await call('DELETE', `${T}/roleAssignments/${encodeURIComponent('Del role/del')}`, { token: keys.mia }), 204);
  assert.equal(await allowed('del@contoso.com', ALERTS), false);
  await ok(await call('DELETE', `${T}/roleDefinitions/Del%20role`, { token: keys.mia }), 204);
  await ok(await call('DELETE', `${T}/users/del@contoso.com`, { token: keys.mia }), 204);
  assert.equal((await call('GET', `${T}/users/del@contoso.com`)).status, 404);
  // zed is named by groups: the store refuses mia exactly as it refuses the preshared key
  const was = await state();
  const byMia = await call('DELETE', `${T}/users/zed@contoso.com`, { token: keys.mia });
  const byKey = await call('DELETE', `${T}/users/zed@contoso.com`);
  // the same reasons, in whatever order the two checks find them
  const why = (r) => [r.status, r.json.error.code, [r.json.error.message, ...r.json.error.details.map((x) => x.message)].sort()];
  assert.ok(byKey.status >= 400, byKey.text);
  assert.match(byKey.json.error.message, /zed@contoso\.com/);
  assert.deepEqual(why(byMia), why(byKey));
  assert.deepEqual(await state(), was);
});

test('two servers: a write judged on a revision another server has passed is judged again, never written unjudged', async () => {
  other = await serve(s.db, ['--preshared-key-file', join(s.dir, 'psk')]);
  const there = client(other.base, PSK);
  let after = 0;
  for (let i = 0; i < 25; i++) {
    const g = `race${i}`, u = `racer${i}@contoso.com`; // u holds nothing but what this round gives
    await ok(await call('PUT', `${T}/users/${u}`, { body: { name: u } }), 201);
    await ok(await call('PUT', `${T}/groups/${g}`, { body: { name: g, members: [] } }), 201);
    // at once: mia (here) puts u in the group; the administrator (there) makes the group Incident responders
    const [byMia, byAdmin] = await Promise.all([
      call('PUT', `${T}/groups/${g}`, { token: keys.mia, body: { name: g, members: [u] } }),
      there('POST', `${T}/roleAssignments`, { body: { displayName: g, roleDefinitionId: 'Incident responder',
        principalIds: [`group:${g}`], appScopeIds: ['Mde'] } })]);
    await ok(byAdmin, 201);
    const adminAt = Number(byAdmin.headers.get('x-urbac-revision'));
    if (byMia.status === 200) { // written first: the administrator gave u the role afterwards
      assert.ok(Number(byMia.headers.get('x-urbac-revision')) < adminAt, `${g}: mia's write landed after the assignment`);
    } else {
      assert.equal(byMia.status, 403, byMia.text);
      assert.match(byMia.json.error.message, new RegExp(`would give ${u.replace(/\./g, '\\.')} `));
      after++;
    }
    assert.deepEqual((await call('GET', `${T}/groups/${g}`)).json.members, byMia.status === 200 ? [u] : [], g);
  }
  console.log(`# ${after} of 25 of mia's writes came after the assignment and were refused`);
});
