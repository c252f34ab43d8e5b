// tests/server/query.test.mjs - query arguments are never silently ignored
// (issue 15, item 8): an argument a route does not take is a 400 that names it,
// the OData options a route does not implement are refused by name, and $filter
// on the Graph-shaped lists filters (or says exactly where it cannot). The
// OpenAPI document's query parameters are checked against what each route takes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { store, serve, client, T, q } from './serve.mjs';

const PSK = 'preshared-query-key-0123456789';
const ALERTS = 'Security operations \\ Security data \\ Alerts (manage)';
let s, server, call;

before(async () => {
  s = store('urbac-query-', PSK);
  server = await serve(s.db, ['--preshared-key-file', join(s.dir, 'psk')]);
  call = client(server.base, PSK);
});

after(() => {
  if (server && server.p.exitCode === null) server.p.kill('SIGKILL');
  rmSync(s.dir, { recursive: true, force: true });
});

// A 400 whose target is `target` and whose message matches `re`.
async function bad(path, target, re) {
  const r = await call('GET', path);
  assert.equal(r.status, 400, `${path}: ${r.text}`);
  assert.equal(r.json.error.target, target);
  assert.match(r.json.error.message, re);
  return r;
}

test('a misspelt argument is a 400 naming it, not a silent deny', async () => {
  const ask = { user: 'alice@contoso.com', permission: ALERTS, workload: 'mde' };
  await bad(`${T}/check?${q({ ...ask, scop: 'device:srv-001' })}`, 'scop',
    /unknown query argument 'scop' is not supported here \(this route takes user, permission, workload, scope, minRevision\)/);
  await bad(`${T}/check?${q(ask)}&user=bob@contoso.com`, 'user', /'user' is given twice/);
  await bad(`${T}/users?top=5`, 'top', /this route takes minRevision, \$top, \$skiptoken/);
  await bad('/healthz?verbose=1', 'verbose', /takes none/);
  // the arguments a route does take still work
  assert.equal((await call('GET', `${T}/check?${q({ ...ask, scope: 'device:lap-042' })}`)).json.decision, 'allow');
});

test('OData options that are not implemented are refused by name', async () => {
  for (const option of ['$orderby', '$expand', '$search', '$count', '$select', '$skip'])
    for (const list of ['roleDefinitions', 'roleAssignments', 'users'])
      await bad(`${T}/${list}?${option}=displayName`, option, new RegExp(`the OData option '\\${option}' is not supported here`));
  await bad(`${T}/users?$filter=${encodeURIComponent("id eq 'x'")}`, '$filter', /OData option '\$filter' is not supported here/);
});

test('$filter on roleDefinitions and roleAssignments: FIELD eq VALUE joined by and', async () => {
  const f = (expr) => `$filter=${encodeURIComponent(expr)}`;
  const roles = (await call('GET', `${T}/roleDefinitions?$top=1000`)).json.value;
  const assignments = (await call('GET', `${T}/roleAssignments?$top=1000`)).json.value;
  assert.ok(roles.length >= 2 && assignments.length >= 2);
  let r = await call('GET', `${T}/roleDefinitions?${f("displayName eq 'SOC analyst'")}`);
  assert.deepEqual(r.json.value, roles.filter((x) => x.displayName === 'SOC analyst'));
  assert.equal(r.json.value.length, 1);
  r = await call('GET', `${T}/roleAssignments?${f("principalId eq 'group:soc-tier2'")}`);
  assert.deepEqual(r.json.value, assignments.filter((a) => a.principalIds.includes('group:soc-tier2')));
  assert.equal(r.json.value.length, 1);
  r = await call('GET', `${T}/roleAssignments?${f("roleDefinitionId eq 'SOC analyst' AND displayName eq 'tier1'")}`);
  assert.deepEqual(r.json.value.map((a) => a.id), ['SOC analyst/tier1']);
  r = await call('GET', `${T}/roleAssignments?${f("roleDefinitionId eq 'SOC analyst' and displayName eq 'tier2'")}`);
  assert.deepEqual(r.json.value, []);
  // a quote inside a value is doubled
  assert.equal((await call('POST', `${T}/roleDefinitions`, { body: { displayName: "Bob's triage" } })).status, 201);
  r = await call('GET', `${T}/roleDefinitions?${f("displayName eq 'Bob''s triage'")}`);
  assert.deepEqual(r.json.value.map((x) => x.id), ["Bob's triage"]);
  // paging keeps the filter: every page is filtered, every item seen once
  const want = (await call('GET', `${T}/roleAssignments?$top=1000`)).json.value.filter((a) => a.appScopeIds.includes('Mde'));
  const seen = [];
  let next = `${T}/roleAssignments?${f("appScopeId eq 'Mde'")}&$top=1`;
  while (next) {
    const page = await call('GET', next);
    assert.equal(page.status, 200, page.text);
    seen.push(...page.json.value);
    next = page.json['@odata.nextLink'];
  }
  assert.deepEqual(seen, want);
  assert.ok(want.length >= 2);
});

test('a $filter it cannot do is refused, saying where', async () => {
  const f = (expr) => `${T}/roleAssignments?$filter=${encodeURIComponent(expr)}`;
  await bad(f("displayName ne 'x'"), '$filter', /at character 13, 'ne': expected eq/);
  await bad(f("colour eq 'red'"), '$filter', /at character 1, 'colour': expected a field.*on id, displayName, roleDefinitionId, principalId, appScopeId/);
  await bad(f("displayName eq 'x' or id eq 'y'"), '$filter', /at character 20, 'or': expected and/);
  await bad(f("displayName eq 'x"), '$filter', /the string at character 16 does not end/);
  await bad(f("displayName eq x"), '$filter', /at character 16, 'x': expected a quoted string/);
  await bad(f("startswith(displayName, 'S')"), '$filter', /'startswith': expected a field/);
  await bad(f("displayName eq 'x' and"), '$filter', /at character 23, the end: expected a field/);
  await bad(f(''), '$filter', /at character 1, the end: expected a field/);
  await bad(f(Array.from({ length: 9 }, () => "id eq 'x'").join(' and ')), '$filter', /at most 8 conditions/);
  await bad(f(`id eq '${'x'.repeat(1100)}'`), '$filter', /longer than 1024 bytes/);
  await bad(`${T}/roleDefinitions?$filter=${encodeURIComponent("principalId eq 'x'")}`, '$filter', /on id, displayName$/);
});

test('the OpenAPI document lists exactly the query arguments each route takes', async () => {
  const doc = (await call('GET', '/api/v1/openapi.json', { token: null })).json;
  const resolve = (p) => (p.$ref ? doc.components.parameters[p.$ref.split('/').pop()] : p);
  let routes = 0;
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const documented = (op.parameters ?? []).map(resolve).filter((p) => p.in === 'query').map((p) => p.name).sort();
      const concrete = path.replace('{tenant}', 'contoso').replace('{workload}', 'mde').replace('{id}', 'x');
      // an argument no route takes: refused before anything runs, listing what the route takes
      const r = await call(method.toUpperCase(), `${concrete}?zz_not_an_argument=1`);
      assert.equal(r.status, 400, `${method} ${path}: ${r.text}`);
      // SCIM routes answer in SCIM's error schema (detail), the others in the API's (error.message)
      const message = path.includes('/scim/v2') ? r.json.detail : r.json.error.message;
      const takes = message.match(/this route takes (.*)\)$/)[1];
      assert.deepEqual(takes === 'none' ? [] : takes.split(', ').sort(), documented, `${method.toUpperCase()} ${path}`);
      routes++;
    }
  }
  assert.ok(routes >= 50);
});
