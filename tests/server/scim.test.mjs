// tests/server/scim.test.mjs - the SCIM 2.0 endpoint (src/server/scim.c) against a
// real `urbac serve` over loopback, on a SQLite file and, under tests/pg.sh, on
// PostgreSQL:
//  - every request of Microsoft's tutorial "Develop and plan provisioning for a
//    SCIM endpoint in Microsoft Entra ID" (User operations, then Group operations),
//    in its order, with the status, headers and bodies the tutorial shows (the ids
//    are the server's: the tutorial's own are examples);
//  - the cases of "Known issues and resolutions with SCIM 2.0 protocol compliance
//    of the Microsoft Entra user provisioning service": op in any case, paths as
//    keys of a path-less value, "active" as "True"/"False", members removed by a
//    value filter or a value list, emails[type eq "work"];
//  - what a SCIM client also expects: discovery documents, paging, attributes=,
//    the error schema, 404, 409 uniqueness, 501 for what is not supported;
//  - a provisioning lifecycle as Entra runs it, with GET /check after each step.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { store, serve, client, holdStoreLock, metricOf, T, q } from './serve.mjs';

const PSK = 'scim-test-preshared-key-0123456789';
const S = `${T}/scim/v2`;
const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const PATCHOP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ALERTS = 'Security operations \\ Security data \\ Alerts (manage)';
let s, server, call;

before(async () => {
  s = store('urbac-scim-', PSK);
  server = await serve(s.db, ['--preshared-key-file', join(s.dir, 'psk')]);
  call = client(server.base, PSK);
});

after(() => {
  if (server && server.p.exitCode === null) server.p.kill('SIGKILL');
  rmSync(s.dir, { recursive: true, force: true });
});

// A SCIM request, as Entra sends it (application/scim+json).
const scim = (method, path, body) =>
  call(method, S + path, { body, headers: body === undefined ? {} : { 'content-type': 'application/scim+json' } });
const patch = (...ops) => ({ schemas: [PATCHOP], Operations: ops });
const filter = (f, more = {}) => `?${q({ filter: f, ...more })}`;

function scimType(r) {
  assert.match(r.headers.get('content-type'), /^application\/scim\+json/);
}
function scimError(r, status, type) {
  assert.equal(r.status, status, r.text);
  scimType(r);
  assert.deepEqual(r.json.schemas, [ERROR]);
  assert.equal(r.json.status, String(status));
  if (type) assert.equal(r.json.scimType, type);
  assert.equal(typeof r.json.detail, 'string');
}
function listOf(r, total) {
  assert.equal(r.status, 200, r.text);
  scimType(r);
  assert.deepEqual(r.json.schemas, [LIST]);
  assert.equal(r.json.totalResults, total);
  assert.equal(r.json.itemsPerPage, r.json.Resources.length);
  return r.json.Resources;
}
async function decision(user, permission = ALERTS) {
  const r = await call('GET', `${T}/check?${q({ user, permission, workload: 'mde' })}`);
  return r.status === 200 ? r.json.decision : `status ${r.status}`;
}

// ---------------------------------------------------------------- the tutorial: User operations

test('tutorial: user operations, in order', async () => {
  // Create User
  const create = {
    schemas: [CORE_USER, ENTERPRISE],
    externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
    userName: 'Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1',
    active: true,
    emails: [{ primary: true, type: 'work', value: 'Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com' }],
    meta: { resourceType: 'User' },
    name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
    roles: [],
  };
  let r = await scim('POST', '/Users', create);
  assert.equal(r.status, 201, r.text);
  scimType(r);
  const user = r.json;
  assert.ok(user.schemas.includes(CORE_USER));
  assert.equal(typeof user.id, 'string');
  assert.ok(user.id.length > 0);
  for (const k of ['externalId', 'userName', 'active', 'emails', 'name', 'roles']) assert.deepEqual(user[k], create[k], k);
  assert.equal(user.meta.resourceType, 'User');
  assert.match(user.meta.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.match(user.meta.lastModified, /^\d{4}-\d\d-\d\dT/);

  // Get User
  r = await scim('GET', `/Users/${user.id}`);
  assert.equal(r.status, 200);
  scimType(r);
  assert.deepEqual(r.json, user);

  // Get User by query
  r = await scim('GET', `/Users${filter(`userName eq "${create.userName}"`)}`);
  assert.deepEqual(listOf(r, 1), [user]);
  assert.equal(r.json.startIndex, 1);

  // Get User by query - Zero results
  r = await scim('GET', `/Users${filter('userName eq "non-existent user"')}`);
  assert.deepEqual(listOf(r, 0), []);

  // Update User [Multi-valued properties]
  r = await scim('PATCH', `/Users/${user.id}`, patch(
    { op: 'Replace', path: 'emails[type eq "work"].value', value: 'updatedEmail@microsoft.com' },
    { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' }));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.id, user.id);
  assert.deepEqual(r.json.emails, [{ primary: true, type: 'work', value: 'updatedEmail@microsoft.com' }]);
  assert.equal(r.json.name.familyName, 'updatedFamilyName');
  assert.equal(r.json.name.givenName, 'givenName');

  // Update User [Single-valued properties]
  r = await scim('PATCH', `/Users/${user.id}`, patch(
    { op: 'Replace', path: 'userName', value: '5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com' }));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.userName, '5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com');
  assert.equal(r.json.id, user.id, 'the SCIM id survives a rename');
  assert.equal(r.json.name.familyName, 'updatedFamilyName');

  // Disable User
  r = await scim('PATCH', `/Users/${user.id}`, patch({ op: 'Replace', path: 'active', value: false }));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.active, false);
  assert.equal((await scim('GET', `/Users/${user.id}`)).json.active, false);

  // Delete User
  r = await scim('DELETE', `/Users/${user.id}`);
  assert.equal(r.status, 204, r.text);
  assert.equal(r.text, '');
  scimError(await scim('GET', `/Users/${user.id}`), 404);
});

// ---------------------------------------------------------------- the tutorial: Group operations

test('tutorial: group operations, in order', async () => {
  const member = (await scim('POST', '/Users', { schemas: [CORE_USER], userName: 'tutorial-member@contoso.com', active: true })).json;
  // Create Group
  const create = {
    schemas: [CORE_GROUP, 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group'],
    externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
    displayName: 'displayName',
    meta: { resourceType: 'Group' },
  };
  let r = await scim('POST', '/Groups', create);
  assert.equal(r.status, 201, r.text);
  scimType(r);
  const group = r.json;
  assert.deepEqual(group.schemas, [CORE_GROUP]);
  assert.equal(group.externalId, create.externalId);
  assert.equal(group.displayName, 'displayName');
  assert.deepEqual(group.members, []);
  assert.equal(group.meta.resourceType, 'Group');

  // Get Group
  r = await scim('GET', `/Groups/${group.id}?excludedAttributes=members`);
  assert.equal(r.status, 200);
  const { members, ...withoutMembers } = group;
  assert.deepEqual(members, []);
  assert.deepEqual(r.json, withoutMembers);

  // Get Group by displayName
  r = await scim('GET', `/Groups${filter('displayName eq "displayName"', { excludedAttributes: 'members' })}`);
  assert.deepEqual(listOf(r, 1), [withoutMembers]);

  // Update Group [Non-member attributes]
  r = await scim('PATCH', `/Groups/${group.id}`, patch(
    { op: 'Replace', path: 'displayName', value: '1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName' }));
  assert.equal(r.status, 204, r.text);
  assert.equal(r.text, '');
  assert.equal((await scim('GET', `/Groups/${group.id}`)).json.displayName,
    '1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName');

  // Update Group [Add Members]
  r = await scim('PATCH', `/Groups/${group.id}`, patch({ op: 'Add', path: 'members', value: [{ $ref: null, value: member.id }] }));
  assert.equal(r.status, 204, r.text);
  assert.deepEqual((await scim('GET', `/Groups/${group.id}`)).json.members.map((m) => m.value), [member.id]);
  const stored = await call('GET', `${T}/groups/${group.id}`); // the tenant group names the user by its id
  assert.deepEqual(stored.json.members, ['tutorial-member@contoso.com']);

  // Update Group [Remove Members]
  r = await scim('PATCH', `/Groups/${group.id}`, patch({ op: 'Remove', path: 'members', value: [{ $ref: null, value: member.id }] }));
  assert.equal(r.status, 204, r.text);
  assert.deepEqual((await scim('GET', `/Groups/${group.id}`)).json.members, []);

  // Delete Group
  r = await scim('DELETE', `/Groups/${group.id}`);
  assert.equal(r.status, 204, r.text);
  scimError(await scim('GET', `/Groups/${group.id}`), 404);
});

// ---------------------------------------------------------------- known issues (SCIM 2.0 compliance)

test('known issues: PATCH forms Entra sends, old and new', async () => {
  const u = (await scim('POST', '/Users', { userName: 'babs@contoso.com', displayName: 'Barbara', active: true,
    emails: [{ type: 'work', value: 'babs@contoso.com', primary: true }] })).json;
  // a single-value attribute, with a path (old) and as a path-less value (new)
  let r = await scim('PATCH', `/Users/${u.id}`, patch({ op: 'Add', path: 'nickName', value: 'Babs' }));
  assert.equal(r.json.nickName, 'Babs');
  r = await scim('PATCH', `/Users/${u.id}`, patch({ op: 'add', value: { nickName: 'Barb' } }));
  assert.equal(r.json.nickName, 'Barb');
  // several attributes in one path-less replace, keys being paths
  r = await scim('PATCH', `/Users/${u.id}`, patch({ op: 'replace', value: {
    displayName: 'Pvlo', 'emails[type eq "work"].value': 'pvlo@contoso.com', 'name.givenName': 'Pav', 'name.familyName': 'Lo' } }));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.displayName, 'Pvlo');
  assert.deepEqual(r.json.emails, [{ type: 'work', value: 'pvlo@contoso.com', primary: true }]);
  assert.deepEqual(r.json.name, { givenName: 'Pav', familyName: 'Lo' });
  // active: "False" and "True" (the old job), false (the new)
  r = await scim('PATCH', `/Users/${u.id}`, patch({ op: 'Replace', path: 'active', value: 'False' }));
  assert.equal(r.json.active, false);
  r = await scim('PATCH', `/Users/${u.id}`, patch({ op: 'Replace', path: 'active', value: 'True' }));
  assert.equal(r.json.active, true);
  r = await scim('PATCH', `/Users/${u.id}`, patch({ op: 'replace', value: { active: false } }));
  assert.equal(r.json.active, false);
  scimError(await scim('PATCH', `/Users/${u.id}`, patch({ op: 'replace', path: 'active', value: 'maybe' })), 400, 'invalidValue');
  // the enterprise extension
  r = await scim('PATCH', `/Users/${u.id}`, patch({ op: 'Add', path: `${ENTERPRISE}:department`, value: 'SOC' }));
  assert.deepEqual(r.json[ENTERPRISE], { department: 'SOC' });
  assert.ok(r.json.schemas.includes(ENTERPRISE));
  // filters Entra queries with: emails[type eq "work"].value, and
  r = await scim('GET', `/Users${filter('emails[type eq "work"].value eq "PVLO@contoso.com"')}`);
  assert.deepEqual(listOf(r, 1).map((x) => x.id), [u.id]);
  r = await scim('GET', `/Users${filter(`userName eq "babs@contoso.com" and active eq false`)}`);
  assert.equal(listOf(r, 1)[0].id, u.id);
  r = await scim('GET', `/Users${filter(`userName eq "babs@contoso.com" and active eq true`)}`);
  listOf(r, 0);
});

test('known issues: members added and removed as Entra does it', async () => {
  const ids = [];
  for (const n of ['m1', 'm2', 'm3']) ids.push((await scim('POST', '/Users', { userName: `${n}@contoso.com` })).json.id);
  const g = (await scim('POST', '/Groups', { displayName: 'Members test', members: [{ value: ids[0] }] })).json;
  assert.deepEqual(g.members.map((m) => m.value), [ids[0]]);
  let r = await scim('PATCH', `/Groups/${g.id}`, patch({ op: 'Add', path: 'members', value: [{ $ref: null, value: ids[1] }, { $ref: null, value: ids[2] }] }));
  assert.equal(r.status, 204);
  r = await scim('PATCH', `/Groups/${g.id}`, patch({ op: 'Remove', path: `members[value eq "${ids[1]}"]` }));
  assert.equal(r.status, 204);
  assert.deepEqual((await scim('GET', `/Groups/${g.id}`)).json.members.map((m) => m.value), [ids[0], ids[2]]);
  // Entra checks a membership with a filter on id and members
  r = await scim('GET', `/Groups${filter(`id eq "${g.id}" and members[value eq "${ids[2]}"]`, { excludedAttributes: 'members' })}`);
  assert.deepEqual(listOf(r, 1).map((x) => [x.id, x.members]), [[g.id, undefined]]);
  r = await scim('GET', `/Groups${filter(`id eq "${g.id}" and members[value eq "${ids[1]}"]`)}`);
  listOf(r, 0);
  // an unknown member is refused, and nothing is written
  const before = await call('GET', `${T}/groups/${g.id}`);
  scimError(await scim('PATCH', `/Groups/${g.id}`, patch({ op: 'add', path: 'members', value: [{ value: ids[1] }, { value: 'nobody' }] })),
    400, 'invalidValue');
  assert.deepEqual((await call('GET', `${T}/groups/${g.id}`)).json, before.json);
  // replace all members; remove them all
  r = await scim('PATCH', `/Groups/${g.id}`, patch({ op: 'replace', path: 'members', value: [{ value: ids[1] }] }));
  assert.equal(r.status, 204);
  assert.deepEqual((await call('GET', `${T}/groups/${g.id}`)).json.members, ['m2@contoso.com']);
  r = await scim('PATCH', `/Groups/${g.id}`, patch({ op: 'remove', path: 'members' }));
  assert.deepEqual((await scim('GET', `/Groups/${g.id}`)).json.members, []);
});

// ---------------------------------------------------------------- what a SCIM client expects

test('discovery: ServiceProviderConfig, ResourceTypes, Schemas; Bulk and sorting are 501', async () => {
  let r = await scim('GET', '/ServiceProviderConfig');
  assert.equal(r.status, 200);
  scimType(r);
  assert.equal(r.json.patch.supported, true);
  assert.equal(r.json.filter.supported, true);
  for (const k of ['bulk', 'sort', 'etag', 'changePassword']) assert.equal(r.json[k].supported, false, k);
  r = await scim('GET', '/ResourceTypes');
  assert.deepEqual(listOf(r, 2).map((x) => [x.id, x.endpoint, x.schema]), [['User', '/Users', CORE_USER], ['Group', '/Groups', CORE_GROUP]]);
  assert.equal((await scim('GET', '/ResourceTypes/Group')).json.endpoint, '/Groups');
  r = await scim('GET', '/Schemas');
  assert.deepEqual(listOf(r, 3).map((x) => x.id), [CORE_USER, CORE_GROUP, ENTERPRISE]);
  r = await scim('GET', `/Schemas/${CORE_USER}`);
  assert.equal(r.json.attributes.find((a) => a.name === 'userName').uniqueness, 'server');
  scimError(await scim('GET', '/Schemas/urn:nope'), 404);
  scimError(await scim('POST', '/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: [] }), 501);
  scimError(await scim('GET', '/Users?sortBy=userName'), 501);
});

test('errors: SCIM schema for 400, 401, 404, 405, 409', async () => {
  scimError(await scim('GET', '/Users/no-such-id'), 404);
  scimError(await scim('PATCH', '/Users/no-such-id', patch({ op: 'replace', path: 'active', value: false })), 404);
  scimError(await scim('DELETE', '/Groups/no-such-id'), 404);
  const r = await call('GET', `${S}/Users`, { token: 'wrong' });
  scimError(r, 401);
  scimError(await scim('PUT', '/Users'), 405);
  let e = await scim('GET', `/Users${filter('userName eq')}`);
  scimError(e, 400, 'invalidFilter');
  assert.match(e.json.detail, /column 12/);
  scimError(await scim('POST', '/Users', { displayName: 'no userName' }), 400, 'invalidValue');
  scimError(await call('POST', `${S}/Users`, { headers: { 'content-type': 'application/scim+json' } }), 400, 'invalidSyntax');
  e = await fetch(server.base + S + '/Users', { method: 'POST', headers: { authorization: `Bearer ${PSK}` }, body: '{"userName": "x",\n "active": tru}' });
  const bad = { status: e.status, headers: e.headers, json: await e.json() };
  scimError(bad, 400, 'invalidSyntax');
  assert.match(bad.json.detail, /body:2:/);
  scimError(await scim('GET', '/Users?count=many'), 400, 'invalidValue');
  scimError(await scim('GET', '/Users?nope=1'), 400);
  // uniqueness: userName in any case, externalId, a SCIM group's displayName
  await scim('POST', '/Users', { userName: 'unique@contoso.com', externalId: 'ext-unique' });
  scimError(await scim('POST', '/Users', { userName: 'UNIQUE@contoso.com' }), 409, 'uniqueness');
  scimError(await scim('POST', '/Users', { userName: 'other@contoso.com', externalId: 'ext-unique' }), 409, 'uniqueness');
  scimError(await scim('POST', '/Users', { userName: 'alice@contoso.com' }), 409, 'uniqueness'); // a tenant-file user
  await scim('POST', '/Groups', { displayName: 'Unique group' });
  scimError(await scim('POST', '/Groups', { displayName: 'unique GROUP' }), 409, 'uniqueness');
  e = await scim('PATCH', '/Users/' + (await scim('GET', `/Users${filter('userName eq "unique@contoso.com"')}`)).json.Resources[0].id,
    patch({ op: 'replace', path: 'id', value: 'x' }));
  scimError(e, 400, 'mutability');
  e = await scim('PATCH', '/Users/unique@contoso.com', { Operations: [{ op: 'jump' }] });
  scimError(e, 404);
});

// Writes found queued together are one batch of the tenant's writer (one store
// transaction, one commit): a create in it must see the creates before it in the
// batch, not only what is committed. The store's write lock is held from outside
// so that the first write takes the writer and the others queue behind it.
async function heldBatch(firstWrite, queued) {
  const release = await holdStoreLock(s.db);
  let first, rest;
  try {
    first = firstWrite();
    await sleep(200);
    rest = queued.map((w) => w());
    await sleep(300);
  } finally {
    await release();
  }
  return [await first, await Promise.all(rest)];
}

test('group commit: SCIM writes queued together are one commit, uniqueness exact inside it', async () => {
  const commits = () => metricOf(call, 'urbac_write_batch_commits_total');
  const c0 = await commits();
  const [f, [u1, u2, g1, g2]] = await heldBatch(() => scim('POST', '/Users', { userName: 'gc-first@contoso.com' }), [
    () => scim('POST', '/Users', { userName: 'gc-dup@contoso.com', externalId: 'gc-ext-1' }),
    () => scim('POST', '/Users', { userName: 'GC-Dup@contoso.com', externalId: 'gc-ext-2' }),
    () => scim('POST', '/Groups', { displayName: 'GC group' }),
    () => scim('POST', '/Groups', { displayName: 'gc GROUP' }),
  ]);
  assert.equal(f.status, 201, f.text);
  for (const pair of [[u1, u2], [g1, g2]]) {
    assert.deepEqual(pair.map((r) => r.status).sort(), [201, 409], pair.map((r) => r.text).join('\n'));
    scimError(pair.find((r) => r.status === 409), 409, 'uniqueness');
  }
  // two commits: the first create's, then one for the other creates together
  assert.equal((await commits()) - c0, 2);
  // the store holds one of each, as the admin API lists it
  const users = (await call('GET', `${T}/users?$top=10000`)).json.value.map((u) => u.id.toLowerCase());
  assert.equal(users.filter((id) => id === 'gc-dup@contoso.com').length, 1, users.join(' '));
  const groups = (await call('GET', `${T}/groups?$top=10000`)).json.value;
  assert.equal(groups.filter((g) => (g.name || '').toLowerCase() === 'gc group').length, 1);

  // a rename is a store batch of its own: what is open commits first, in either order
  const old = (await scim('GET', `/Users${filter('userName eq "gc-first@contoso.com"')}`)).json.Resources[0];
  const c1 = await commits();
  const [g, [rename, made]] = await heldBatch(() => scim('POST', '/Groups', { displayName: 'GC second' }), [
    () => scim('PATCH', `/Users/${old.id}`, patch({ op: 'replace', path: 'userName', value: 'gc-renamed@contoso.com' })),
    () => scim('POST', '/Users', { userName: 'gc-other@contoso.com' }),
  ]);
  assert.equal(g.status, 201, g.text);
  assert.equal(rename.status, 200, rename.text);
  assert.equal(rename.json.userName, 'gc-renamed@contoso.com');
  assert.equal(made.status, 201, made.text);
  assert.equal((await commits()) - c1, 2);
  const now = (await call('GET', `${T}/users?$top=10000`)).json.value.map((u) => u.id);
  assert.ok(now.includes('gc-renamed@contoso.com') && now.includes('gc-other@contoso.com'));
  assert.ok(!now.includes('gc-first@contoso.com'));
});

test('lists: paging, attributes=, excludedAttributes=, filters beyond eq', async () => {
  for (let i = 0; i < 7; i++) await scim('POST', '/Users', { userName: `page${i}@fabrikam.com`, title: i % 2 ? 'odd' : 'even' });
  let r = await scim('GET', `/Users${filter('userName sw "page"', { startIndex: 3, count: 2 })}`);
  assert.deepEqual(listOf(r, 7).map((x) => x.userName), ['page2@fabrikam.com', 'page3@fabrikam.com']);
  assert.equal(r.json.startIndex, 3);
  r = await scim('GET', `/Users${filter('userName sw "page"', { count: 0 })}`);
  assert.deepEqual(listOf(r, 7), []);
  r = await scim('GET', `/Users${filter('userName ew "@fabrikam.com" and not (title eq "even")', { attributes: 'userName' })}`);
  const odd = listOf(r, 3);
  assert.deepEqual(odd.map((x) => Object.keys(x).sort()), Array(3).fill(['id', 'schemas', 'userName']));
  r = await scim('GET', `/Users${filter('title eq "odd" or userName co "page0"')}`);
  listOf(r, 4);
  r = await scim('GET', `/Users${filter('title pr and userName co "PAGE"')}`);
  listOf(r, 7);
  r = await scim('GET', `/Users?${q({ count: 0 })}`); // the total, from the index
  const total = r.json.totalResults;
  assert.equal((await call('GET', `${T}/users?$top=10000`)).json.value.length, total);
});

test('authorization: a key whose user may manage the tenant may use SCIM; others, and decision keys, may not', async () => {
  const key = async (user, scope) => (await call('POST', `${T}/apiKeys`, { body: { user, name: `scim-${user}-${scope}`, scope } })).json.token;
  const admin = await key('erin@contoso.com', 'all'), analyst = await key('alice@contoso.com', 'all');
  const decisions = await key('erin@contoso.com', 'decisions');
  let r = await call('GET', `${S}/Users?count=1`, { token: admin });
  listOf(r, r.json.totalResults);
  r = await call('POST', `${S}/Users`, { token: admin, body: { userName: 'by-admin-key@contoso.com' } });
  assert.equal(r.status, 201, r.text);
  const audit = await call('GET', `${T}/auditLog?${q({ object: 'by-admin-key@contoso.com' })}`);
  assert.match(audit.json.value[0].actor, /^key:/, 'audited as the key');
  scimError(await call('GET', `${S}/Users`, { token: analyst }), 403);
  scimError(await call('GET', `${S}/Users`, { token: decisions }), 403);
});

test('a provisioning key: the whole SCIM endpoint, audited as the key, and nothing else', async () => {
  const token = s.cli('key', 'create', '--tenant-id', 'contoso', '--user', 'alice@contoso.com', '--name', 'entra',
    '--key-scope', 'provisioning').trim();
  const as = (method, path, body) => call(method, S + path, { token, body });
  // made by another process: this server's key set catches up within a second or so
  for (let i = 0; i < 50 && (await as('GET', '/ServiceProviderConfig')).status === 401; i++) await new Promise((res) => setTimeout(res, 100));
  const u = await as('POST', '/Users', { userName: 'by-entra@contoso.com', externalId: '3c0c7a55-3333-4d2e-9c1b-5f0c2d3e4a5b' });
  assert.equal(u.status, 201, u.text);
  // into a group whose role alice (the key's user) does not hold: the identity provider
  // decides membership; the no-escalation rule is for administrators' keys
  const g = (await as('GET', `/Groups${filter('displayName eq "SOC tier 2"')}`)).json.Resources[0];
  assert.equal(g.id, 'soc-tier2');
  let r = await as('PATCH', '/Groups/soc-tier2', patch({ op: 'add', path: 'members', value: [{ value: u.json.id }] }));
  assert.equal(r.status, 204, r.text);
  r = await call('GET', `${T}/check?${q({ user: 'by-entra@contoso.com', permission: 'Basic live response (manage)', workload: 'mde', scope: 'device:srv-001' })}`);
  assert.equal(r.json.decision, 'allow');
  const audit = await call('GET', `${T}/auditLog?${q({ object: 'soc-tier2' })}`);
  const last = audit.json.value.at(-1);
  assert.match(last.actor, /^key:.*alice@contoso\.com/);
  assert.equal(last.command, 'PATCH /scim/v2/Groups/{id}');
  for (const path of [`${T}/check?${q({ user: 'alice@contoso.com', permission: ALERTS, workload: 'mde' })}`, `${T}/users`])
    assert.equal((await call('GET', path, { token })).status, 403, path);
});

test('the index follows writes made outside SCIM: the admin API, and another process on the store', async () => {
  const find = async (name) => (await scim('GET', `/Users${filter(`userName eq "${name}"`)}`)).json.totalResults;
  assert.equal(await find('admin-made@contoso.com'), 0);
  assert.equal((await call('PUT', `${T}/users/admin-made@contoso.com`, { body: { name: 'Admin made', externalId: 'ext-admin-made' } })).status, 201);
  assert.equal(await find('ADMIN-made@contoso.com'), 1);
  let r = await scim('GET', `/Users${filter('externalId eq "ext-admin-made"')}`);
  assert.equal(listOf(r, 1)[0].id, 'admin-made@contoso.com', 'a user SCIM did not make has its id as SCIM id');
  s.cli('user', 'add', 'cli-made@contoso.com'); // another process, straight to the store
  assert.equal(await find('cli-made@contoso.com'), 1);
  scimError(await scim('POST', '/Users', { userName: 'Cli-Made@contoso.com' }), 409, 'uniqueness');
  assert.equal((await call('DELETE', `${T}/users/admin-made@contoso.com`)).status, 204);
  assert.equal(await find('admin-made@contoso.com'), 0);
  scimError(await scim('GET', '/Users/admin-made@contoso.com'), 404);
});

// ---------------------------------------------------------------- a provisioning lifecycle, with checks

test('lifecycle: what each provisioning step does to decisions', async () => {
  const objectId = '7e0c7a55-1111-4d2e-9c1b-5f0c2d3e4a5b';
  // an administrator assigns a role to the Entra group's object id before it is provisioned
  let r = await call('POST', `${T}/roleDefinitions`, { body: { displayName: 'SCIM responders role',
    rolePermissions: [{ allowedResourceActions: [ALERTS] }] } });
  assert.equal(r.status, 201, r.text);
  r = await call('POST', `${T}/roleAssignments`, { body: { roleDefinitionId: 'SCIM responders role', displayName: 'scim',
    principalIds: [`group:${objectId}`], appScopeIds: ['Mde'] } });
  assert.equal(r.status, 201, r.text);
  // the group, provisioned empty
  const g = (await scim('POST', '/Groups', { externalId: objectId, displayName: 'SCIM responders', members: [] })).json;
  assert.equal(g.id, objectId, 'a group from Entra keeps its object id as its id');
  // users, created as Entra does (a query, then a create)
  const users = [];
  for (let i = 0; i < 6; i++) {
    const userName = `life${i}@contoso.com`;
    assert.equal((await scim('GET', `/Users${filter(`userName eq "${userName}"`)}`)).json.totalResults, 0);
    const ext = `0000000${i}-aaaa-4bbb-8ccc-dddddddddddd`;
    r = await scim('POST', '/Users', { userName, externalId: ext, active: true, displayName: `Life ${i}` });
    assert.equal(r.status, 201, r.text);
    users.push(r.json);
  }
  for (const u of users) assert.equal(await decision(u.userName), 'deny', 'no membership yet');
  // members in chunks
  await scim('PATCH', `/Groups/${g.id}`, patch({ op: 'Add', path: 'members', value: users.slice(0, 3).map((u) => ({ value: u.id })) }));
  assert.deepEqual(await Promise.all(users.map((u) => decision(u.userName))), ['allow', 'allow', 'allow', 'deny', 'deny', 'deny']);
  await scim('PATCH', `/Groups/${g.id}`, patch({ op: 'Add', path: 'members', value: users.slice(3).map((u) => ({ value: u.id })) }));
  for (const u of users) assert.equal(await decision(u.userName), 'allow', `${u.userName} is a member`);
  assert.equal(await decision(users[0].externalId), 'allow', 'a user is named by its externalId too');
  // update: attributes that do not change decisions
  r = await scim('PATCH', `/Users/${users[0].id}`, patch({ op: 'replace', value: { displayName: 'Life zero', title: 'Analyst' } }));
  assert.equal(r.status, 200);
  assert.equal(await decision(users[0].userName), 'allow');
  // disable, then re-enable: the membership stays
  await scim('PATCH', `/Users/${users[1].id}`, patch({ op: 'Replace', path: 'active', value: 'False' }));
  assert.equal(await decision(users[1].userName), 'deny');
  const explain = await call('POST', `${T}/explain`, { body: { user: users[1].userName, permission: ALERTS, workload: 'mde' } });
  assert.match(JSON.stringify(explain.json), /disabled/);
  await scim('PATCH', `/Users/${users[1].id}`, patch({ op: 'Replace', path: 'active', value: true }));
  assert.equal(await decision(users[1].userName), 'allow');
  // rename: the new name holds the membership, the old one is unknown
  r = await scim('PATCH', `/Users/${users[2].id}`, patch({ op: 'Replace', path: 'userName', value: 'renamed2@contoso.com' }));
  assert.equal(r.status, 200, r.text);
  assert.equal(await decision('renamed2@contoso.com'), 'allow');
  assert.notEqual(await decision(users[2].userName), 'allow');
  // remove a member
  await scim('PATCH', `/Groups/${g.id}`, patch({ op: 'Remove', path: `members[value eq "${users[3].id}"]` }));
  assert.equal(await decision(users[3].userName), 'deny');
  // delete a member user: its memberships go with it
  r = await scim('DELETE', `/Users/${users[4].id}`);
  assert.equal(r.status, 204, r.text);
  assert.notEqual(await decision(users[4].userName), 'allow');
  assert.ok(!(await call('GET', `${T}/groups/${g.id}`)).json.members.includes(users[4].userName));
  // the audit log names the writes
  const audit = await call('GET', `${T}/auditLog?${q({ object: users[4].userName })}`);
  assert.equal(audit.status, 200);
  assert.ok(audit.json.value.some((a) => /DELETE \/scim\/v2\/Users/.test(a.command)), JSON.stringify(audit.json.value));
});

// A group Entra deletes while a role assignment names it: the group goes, and so
// does every name given to it (the store's cascade delete, audited): nobody holds
// the role through it, and a group provisioned again with the same object id is
// not named by the assignment until an administrator names it again.
test('deleting a group a role names: the group and the names given to it go', async () => {
  const objectId = '9a0c7a55-2222-4d2e-9c1b-5f0c2d3e4a5b';
  let r = await call('POST', `${T}/roleDefinitions`, { body: { displayName: 'Deleted group role', rolePermissions: [{ allowedResourceActions: [ALERTS] }] } });
  assert.equal(r.status, 201, r.text);
  const u = (await scim('POST', '/Users', { userName: 'deleted-group-member@contoso.com' })).json;
  const g = (await scim('POST', '/Groups', { externalId: objectId, displayName: 'Deleted group', members: [{ value: u.id }] })).json;
  r = await call('POST', `${T}/roleAssignments`, { body: { roleDefinitionId: 'Deleted group role', displayName: 'd',
    principalIds: [`group:${objectId}`, 'dave@contoso.com'], appScopeIds: ['Mde'] } });
  assert.equal(r.status, 201, r.text);
  assert.equal(await decision(u.userName), 'allow');
  r = await scim('DELETE', `/Groups/${g.id}`);
  assert.equal(r.status, 204, r.text);
  assert.equal(await decision(u.userName), 'deny');
  assert.deepEqual((await call('GET', `${T}/roleAssignments/${encodeURIComponent('Deleted group role/d')}`)).json.principalIds, ['dave@contoso.com']);
  assert.equal(await decision('dave@contoso.com'), 'allow', 'the assignment stays for its other principals');
  scimError(await scim('GET', `/Groups/${g.id}`), 404);
});
