// tests/web/portal.test.mjs - the portal as a person uses it: a real `urbac
// serve` on loopback (tests/server/serve.mjs), Debian's chromium driven by
// playwright-core. Seed 000's walk step by step on a tenant whose Defender for
// Endpoint still runs on legacy roles (+ Add item, the seed's permission
// options, Next, the group filter, Save; a device group with user access; the
// access checker's decision changing); the Create custom role wizard, by
// keyboard only; import, impact, activate, deactivate; a reader who cannot
// write; someone without Configuration \ Authorization who sees only the access
// checker; a write without the CSRF token refused; sign-out and a revoked key
// ending the session. axe-core checks every page (no serious or critical
// violation), and no page may break its Content-Security-Policy. Screenshots of
// each page go to URBAC_OUT/portal.
// Environment: URBAC (the binary), URBAC_SRC (the source tree), URBAC_OUT (a folder).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { store, serve, client } from '../server/serve.mjs';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const PSK = 'portal-test-preshared-key-0123456789';
const out = path.join(process.env.URBAC_OUT || '/tmp/urbac-web', 'portal');
mkdirSync(out, { recursive: true });

let s, server, browser, call, keys = {};

// tailspin: a small tenant on legacy roles where nobody holds Configuration \
// Authorization (manage), so activating Defender for Endpoint is refused; two of
// its legacy roles hold the one permission the import cannot map; a nested group
// and directory roles on a user and a group.
const TAILSPIN = `urbac: 1
tenant: tailspin
workloads: {mde: legacy, mdo: legacy, mdi: legacy}
users:
- id: ann@tailspin.com
  name: Ann Analyst
  directoryRoles: [Security reader]
- id: ray@tailspin.com
  name: Ray Responder
- id: sam@tailspin.com
groups:
- id: responders
  name: Responders
  members: [ray@tailspin.com]
- id: soc
  name: SOC
  members: [ann@tailspin.com, 'group:responders']
  directoryRoles: [Security reader]
deviceGroups:
- id: servers
  rank: 1
  remediation: full
  rules:
    name: {startsWith: [srv-], endsWith: ['-01']}
  userAccess: [soc]
- id: kiosks
  rank: 2
  remediation: semi
  rules:
    tags: {equals: [kiosk]}
  userAccess: [responders]
devices:
- id: srv-01
- id: kiosk-01
  tags: [kiosk]
- id: lobby-01
  tags: [kiosk, lobby]
legacy:
  mde:
    roles:
    - name: Viewers
      description: Read alerts
      permissions: [View data - Security operations, Alerts investigation]
      groups: [soc]
    - name: Endpoint managers
      permissions: [Live response capabilities, Manage endpoint security settings in Microsoft Endpoint Manager]
      groups: [responders]
    - name: Intune admins
      permissions: [Manage endpoint security settings in Microsoft Endpoint Manager]
      groups: [soc]
    - name: Old role
      permissions: [View data - Threat and vulnerability management]
      groups: [soc]
`;

before(async () => {
  s = store('urbac-portal-', PSK);
  s.cli('apply', '-f', path.join(process.env.URBAC_SRC, 'examples/litware.yaml'));
  // fabrikam: litware with 1,200 more security readers, so activating mde changes thousands of rows
  const fab = readFileSync(path.join(process.env.URBAC_SRC, 'examples/litware.yaml'), 'utf8')
    .replace('tenant: litware', 'tenant: fabrikam').replaceAll('litware.com', 'fabrikam.com')
    .replace('users:\n', `users:\n${Array.from({ length: 1200 }, (_, i) => `- id: r${i}@fabrikam.com\n  directoryRoles: [Security reader]\n`).join('')}`);
  writeFileSync(path.join(s.dir, 'fabrikam.yaml'), fab);
  s.cli('apply', '-f', path.join(s.dir, 'fabrikam.yaml'));
  // northwind: 20,000 more, so the impact takes long enough for its progress to be shown
  writeFileSync(path.join(s.dir, 'northwind.yaml'), fab.replace('tenant: fabrikam', 'tenant: northwind')
    .replace('users:\n', `users:\n${Array.from({ length: 20000 }, (_, i) => `- id: n${i}@fabrikam.com\n  directoryRoles: [Security reader]\n`).join('')}`));
  s.cli('apply', '-f', path.join(s.dir, 'northwind.yaml'));
  writeFileSync(path.join(s.dir, 'tailspin.yaml'), TAILSPIN);
  s.cli('apply', '-f', path.join(s.dir, 'tailspin.yaml'));
  server = await serve(s.db, ['--preshared-key-file', path.join(s.dir, 'psk')]);
  call = client(server.base, PSK);
  // a reader of contoso: a unified role with Configuration \ Authorization (read) only
  const C = '/api/v1/tenants/contoso';
  let r = await call('POST', `${C}/roleDefinitions`, { body: { displayName: 'Auth readers', rolePermissions: [{ allowedResourceActions: ['Configuration \\ Authorization (read)', 'Security operations \\ Security data \\ Security data basics (read)'] }] } });
  assert.equal(r.status, 201, r.text);
  r = await call('POST', `${C}/roleAssignments`, { body: { displayName: 'readers', roleDefinitionId: 'Auth readers', principalIds: ['dave@contoso.com'], appScopeIds: ['/'] } });
  assert.equal(r.status, 201, r.text);
  // a device for seed 000's device group, and a group to give the role to
  const L = '/api/v1/tenants/litware';
  assert.equal((await call('PUT', `${L}/devices/lab-01`, { body: { name: 'lab-01', tags: ['lab'] } })).status < 300, true);
  assert.equal((await call('PUT', `${L}/groups/lab-responders`, { body: { name: 'Lab responders', members: ['cleo@litware.com'] } })).status < 300, true);
  const key = (tenant, user) => s.cli('key', 'create', '--tenant-id', tenant, '--user', user).trim().split(/\s+/).find((w) => w.startsWith('urbac_'));
  keys = { reader: key('contoso', 'dave@contoso.com'), plain: key('litware', 'ana@litware.com'), admin: key('contoso', 'erin@contoso.com') };
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  server?.p.kill('SIGTERM');
  if (s) rmSync(s.dir, { recursive: true, force: true });
});

// A new browser context (its own cookies), a page on the portal, and every CSP
// violation and script error it reports.
async function open(tenant) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  page.problems = [];
  page.on('console', (m) => { if (/Content.Security.Policy|Refused to/i.test(m.text())) page.problems.push(m.text()); });
  page.on('pageerror', (e) => page.problems.push(e.stack || e.message));
  page.on('dialog', (d) => d.accept());
  await page.goto(`${server.base}/${tenant ? `?tenant=${tenant}` : ''}`);
  return page;
}

async function signIn(page, key) {
  // this server has no OIDC portal client: the sign-in page offers none (tests/web/portal-oidc.test.mjs: with one)
  await page.getByLabel('API key or preshared admin key').waitFor();
  assert.equal(await page.getByRole('link', { name: /Sign in with your organization/ }).count(), 0);
  await page.getByLabel('API key or preshared admin key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

// axe-core on the page as it is: no serious or critical violation; a screenshot.
async function checkPage(page, name) {
  await page.waitForLoadState('networkidle');
  await page.evaluate(AXE);
  const found = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`));
  assert.deepEqual(found, [], `axe on ${name}`);
  assert.deepEqual(page.problems, [], `no CSP violation or script error on ${name}`);
  await page.screenshot({ path: path.join(out, `${name}.png`), fullPage: true });
}

// Waits (at most 10 s) until `cond()` holds.
async function until(cond, what) {
  for (let t0 = Date.now(); Date.now() - t0 < 10000; await new Promise((r) => setTimeout(r, 50))) if (await cond()) return;
  assert.fail(`never: ${what}`);
}

const nav = (page, label) => page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: label, exact: true }).click();

async function decide(page, user, permission, scope) {
  await nav(page, 'Access checker');
  await page.getByLabel('User', { exact: true }).fill(user);
  await page.getByLabel('Permission', { exact: true }).fill(permission);
  await page.getByLabel('Workload').selectOption('mde');
  await page.getByLabel('Device or device group (mde)').fill(scope);
  await page.getByRole('button', { name: 'Check access' }).click();
  const answer = page.getByRole('region', { name: 'Decision' });
  await answer.waitFor();
  return answer.innerText();
}

test('the page and the API carry the security headers; the portal is compiled in', async () => {
  for (const p of ['/', '/api/v1/tenants/contoso/workloads']) {
    const r = await fetch(server.base + p);
    const csp = r.headers.get('content-security-policy');
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
  }
  const html = await (await fetch(server.base + '/')).text();
  const js = html.match(/src="(\/portal\/portal-[0-9a-f]+\.js)"/);
  assert.ok(js, 'the page names its hashed script');
  assert.doesNotMatch(html, /<script>[^<]/, 'no inline script');
  const r = await fetch(server.base + js[1]);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /javascript/);
  assert.match(r.headers.get('cache-control'), /immutable/);
});

test('seed 000: Settings > Endpoints > Roles, + Add item, the seed\'s permissions, Next, filter, Save; then a device group with user access', async () => {
  const page = await open('litware');
  await checkPage(page, 'signin');
  await signIn(page, PSK);
  assert.match(await decide(page, 'cleo@litware.com', 'Alerts (manage)', 'device:lab-01'), /Denied/);
  await checkPage(page, 'access-checker');
  // 1-2. Settings, then Endpoints, then Roles
  await nav(page, 'Settings > Endpoints > Roles');
  await page.getByRole('table', { name: 'Defender for Endpoint roles' }).waitFor();
  await checkPage(page, 'settings-endpoints-roles');
  // 3. + Add item
  await page.getByRole('button', { name: '+ Add item' }).click();
  // 4. the role name, description and permissions, in the seed's words
  await page.getByLabel('Role name').fill('Lab responders');
  await page.getByLabel('Description').fill('Investigate alerts and run live response on lab devices');
  const perms = page.getByRole('group', { name: 'Permissions' });
  await perms.getByRole('group', { name: 'View data' }).getByLabel('Security operations').check();
  await perms.getByLabel('Alerts investigation').check();
  await perms.getByRole('group', { name: 'Live response capabilities' }).getByLabel('Basic').check();
  await checkPage(page, 'settings-endpoints-roles-add');
  // 5. Next
  await page.getByRole('button', { name: 'Next' }).click();
  // 6. the filter, then the group
  const groups = page.getByRole('group', { name: 'Azure AD user groups' });
  await groups.getByLabel('Filter user groups').fill('lab');
  await until(async () => (await groups.getByRole('checkbox').count()) === 1, 'the filter leaves the matching group');
  await groups.getByLabel('Lab responders (lab-responders)').check();
  await checkPage(page, 'settings-endpoints-roles-groups');
  // 7. Save
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('cell', { name: 'Lab responders', exact: true }).waitFor();
  const role = (await call('GET', '/api/v1/tenants/litware/legacy/mde/roles/Lab%20responders')).json;
  assert.deepEqual(role.groups, ['lab-responders']);
  // the server keeps each permission by its catalog name (the seed's "Basic commands" is "Live response capabilities")
  const mde = (await call('GET', '/api/v1/catalog')).json.legacy.mdePermissions;
  const named = (id) => mde.find((p) => p.id === id).name;
  assert.deepEqual(role.permissions.sort(), [named('alerts-investigation'), named('live-response'), named('view-secops')].sort());
  // then a device group, and the role's group given access to it
  await nav(page, 'Settings > Endpoints > Device groups');
  await page.getByRole('button', { name: '+ Add device group' }).click();
  await page.getByLabel('Device group name').fill('labs');
  await page.getByLabel('Rank').fill('3');
  await page.getByLabel('Rule 1 field').selectOption('tags');
  await page.getByLabel('Rule 1 operator').selectOption('equals');
  // the preview follows the rules as they are typed: the devices the test finds by itself
  const preview = page.getByRole('region', { name: 'Preview of matching devices' });
  const devices = (await call('GET', '/api/v1/tenants/litware/devices?$top=10000')).json.value;
  const tagged = (t) => devices.filter((d) => (d.tags || []).some((x) => x.toLowerCase() === t)).map((d) => d.id);
  assert.deepEqual(tagged('workstation'), ['ws-17']);
  await page.getByLabel('Rule 1 values (comma separated)').fill('Workstation');
  await preview.getByText('1 device matches these rules').waitFor();
  assert.deepEqual(await preview.getByRole('listitem').allInnerTexts(), tagged('workstation'));
  await page.getByLabel('Rule 1 values (comma separated)').fill('nothing-has-this-tag');
  await preview.getByText('0 devices match these rules').waitFor();
  await page.getByLabel('Rule 1 values (comma separated)').fill('lab');
  await preview.getByText(`${tagged('lab').length} device matches these rules`).waitFor();
  assert.deepEqual(await preview.getByRole('listitem').allInnerTexts(), tagged('lab'));
  assert.equal((await call('GET', '/api/v1/tenants/litware/deviceGroups/labs')).status, 404, 'a preview saves nothing');
  await page.getByRole('group', { name: /User access/ }).getByLabel('Lab responders (lab-responders)').check();
  await checkPage(page, 'settings-endpoints-device-groups-add');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('cell', { name: 'labs', exact: true }).waitFor();
  await checkPage(page, 'settings-endpoints-device-groups');
  const dg = (await call('GET', '/api/v1/tenants/litware/deviceGroups/labs')).json;
  assert.deepEqual(dg.userAccess, ['lab-responders']);
  assert.deepEqual(dg.rules, { tags: { equals: ['lab'] } });
  // the decision changed, and the checker shows the chain
  const answer = await decide(page, 'cleo@litware.com', 'Alerts (manage)', 'device:lab-01');
  assert.match(answer, /Allowed/);
  assert.match(answer, /lab-responders/);
  assert.match(answer, /Lab responders/);
  const api = (await call('GET', `/api/v1/tenants/litware/check?user=cleo%40litware.com&permission=Alerts%20(manage)&workload=mde&scope=device:lab-01`)).json;
  assert.equal(api.decision, 'allow', 'the API agrees');
  await page.context().close();
});

// Issue 12: "Device groups: ... reorder ranks, the Ungrouped devices row".
test('Device groups: Move down swaps two ranks; the Ungrouped devices row opens and saves its user access', async () => {
  const page = await open('litware');
  await signIn(page, PSK);
  const groups = async () => (await call('GET', '/api/v1/tenants/litware/deviceGroups')).json.value;
  const ranked = (await groups()).filter((g) => g.id !== 'ungrouped').sort((a, b) => a.rank - b.rank);
  const [first, second] = ranked;
  await nav(page, 'Settings > Endpoints > Device groups');
  await page.getByRole('button', { name: `Move down ${first.id}` }).click();
  for (let i = 0; i < 50; i++) {
    const now = await groups();
    if (now.find((g) => g.id === first.id).rank === second.rank) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const after = await groups();
  assert.equal(after.find((g) => g.id === first.id).rank, second.rank, 'the first moved down');
  assert.equal(after.find((g) => g.id === second.id).rank, first.rank, 'the second moved up');
  const before = (after.find((g) => g.id === 'ungrouped') || { userAccess: [] }).userAccess || [];
  await page.getByRole('button', { name: 'Edit Ungrouped devices' }).click();
  await page.getByText("Ungrouped devices (default): the devices no group's rules match.").waitFor();
  const box = page.getByRole('group', { name: /User access/ }).getByRole('checkbox', { checked: false }).first();
  await box.check();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('table', { name: 'Device groups, in rank order' }).waitFor();
  const ungrouped = (await groups()).find((g) => g.id === 'ungrouped');
  assert.equal(ungrouped.userAccess.length, before.length + 1, JSON.stringify(ungrouped));
  await page.context().close();
});

// Presses Tab until the focused element is the one `name` labels (a keyboard
// user's way), the first of that name inside `within` (a locator) when given.
async function tabTo(page, role, name, within = page) {
  const target = within.getByRole(role, { name, exact: true }).first();
  for (let i = 0; i < 120; i++) {
    await page.keyboard.press('Tab');
    if (await target.evaluate((el) => el === document.activeElement || el.contains(document.activeElement)).catch(() => false)) return;
  }
  assert.fail(`Tab never reached the ${role} '${name}'`);
}

test('Permissions > Microsoft Defender XDR > Roles: the Create custom role wizard, by keyboard only', async () => {
  const page = await open('contoso');
  await signIn(page, PSK);
  await nav(page, 'Permissions > Microsoft Defender XDR > Roles');
  await page.getByRole('table', { name: 'Microsoft Defender XDR roles' }).waitFor();
  await checkPage(page, 'permissions-roles');
  await tabTo(page, 'button', 'Create custom role');
  await page.keyboard.press('Enter');
  // Basics
  await tabTo(page, 'textbox', 'Role name');
  await page.keyboard.type('Mail triage');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Release quarantined mail');
  await checkPage(page, 'wizard-basics');
  await tabTo(page, 'button', 'Next');
  await page.keyboard.press('Enter');
  // Permissions: all read-only permissions of Security operations, and one custom permission of Authorization and settings
  // (Tab enters a radio group at its checked option, "No permissions"; the arrows choose)
  const secops = page.getByRole('group', { name: 'Security operations' });
  await tabTo(page, 'radio', 'No permissions', secops);
  await page.keyboard.press('ArrowDown');
  assert.ok(await secops.getByLabel('All read-only permissions').isChecked());
  const settings = page.getByRole('group', { name: 'Authorization and settings' });
  await tabTo(page, 'radio', 'No permissions', settings);
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
  assert.ok(await settings.getByLabel('Select custom permissions').isChecked());
  await tabTo(page, 'combobox', 'System settings');
  await page.keyboard.press('ArrowDown'); // None -> Read
  await checkPage(page, 'wizard-permissions');
  await tabTo(page, 'button', 'Next');
  await page.keyboard.press('Enter');
  // Assignments
  await tabTo(page, 'button', 'Add assignment');
  await page.keyboard.press('Enter');
  await tabTo(page, 'textbox', 'Assignment name');
  await page.keyboard.type('mail-ops');
  await page.keyboard.press('Tab');
  await page.keyboard.type('group:soc, carol@contoso.com');
  await checkPage(page, 'wizard-assignments');
  await tabTo(page, 'button', 'Next');
  await page.keyboard.press('Enter');
  // Review and finish
  await page.getByRole('heading', { name: 'Review and finish' }).waitFor();
  await checkPage(page, 'wizard-review');
  await tabTo(page, 'button', 'Submit');
  await page.keyboard.press('Enter');
  await page.getByRole('cell', { name: 'Mail triage', exact: true }).waitFor();
  const role = (await call('GET', '/api/v1/tenants/contoso/roleDefinitions/Mail%20triage')).json;
  const actions = role.rolePermissions[0].allowedResourceActions;
  const catalog = (await call('GET', '/api/v1/catalog')).json;
  const readOnly = catalog.permissions.filter((p) => p.name.startsWith('Security operations \\') && p.levels.includes('read')).map((p) => `${p.id}/read`);
  const settingsPerm = catalog.permissions.find((p) => p.name.startsWith('Configuration \\') && /System settings$/.test(p.name));
  assert.deepEqual(actions.sort(), [...readOnly, `${settingsPerm.id}/read`].sort());
  const as = (await call('GET', '/api/v1/tenants/contoso/roleAssignments?roleDefinitionId=Mail%20triage')).json.value;
  assert.equal(as.length, 1);
  assert.deepEqual(as[0].principalIds.sort(), ['carol@contoso.com', 'group:soc']);
  assert.deepEqual(as[0].appScopeIds, ['/']);
  // export as CSV: the file holds the new role
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export' }).click()]);
  const csv = readFileSync(await download.path(), 'utf8');
  assert.match(csv, /^Role name,Description,Permissions/);
  assert.match(csv, /Mail triage,Release quarantined mail,.*,mail-ops,group:soc; carol@contoso.com,\//);
  // delete
  await page.getByRole('button', { name: 'Delete Mail triage' }).click();
  await page.getByRole('cell', { name: 'Mail triage', exact: true }).waitFor({ state: 'detached' });
  assert.equal((await call('GET', '/api/v1/tenants/contoso/roleDefinitions/Mail%20triage')).status, 404);
  await page.context().close();
});

test('Activation: import (dry run first), impact, activate, deactivate', async () => {
  const page = await open('litware');
  await signIn(page, PSK);
  await nav(page, 'Activation');
  await checkPage(page, 'activation');
  // impact before anything changes: the count the API gives, and its rows
  await page.getByRole('button', { name: 'Impact mde' }).click();
  const impact = page.getByRole('region', { name: 'Impact' });
  await impact.waitFor();
  const want = (await call('GET', '/api/v1/tenants/litware/workloads/mde/impact?import=true&$top=1')).json.count;
  assert.ok(want > 0);
  assert.match(await impact.innerText(), new RegExp(`^${want.toLocaleString('en-US')} changed rows in all`, 'm'));
  assert.equal(await impact.getByRole('table', { name: 'The rows behind them (last page read)' }).getByRole('row').count(), Math.min(want, 200) + 1);
  await checkPage(page, 'activation-impact');
  await page.getByRole('button', { name: 'Import roles mdo' }).click();
  const imp = page.getByRole('region', { name: 'Import roles' });
  await imp.getByText('dry run').waitFor();
  assert.match(await imp.innerText(), /created: /);
  assert.equal((await call('GET', '/api/v1/tenants/litware/roleDefinitions')).json.value.length, 0, 'a dry run writes nothing');
  await imp.getByRole('button', { name: 'Import' }).click();
  await imp.getByText('dry run').waitFor({ state: 'detached' });
  assert.ok((await call('GET', '/api/v1/tenants/litware/roleDefinitions')).json.value.length > 0);
  await page.getByRole('button', { name: 'Impact mdo' }).click();
  await page.getByRole('region', { name: 'Impact' }).getByText('0 changed rows in all').waitFor(); // the import maps mdo exactly
  await page.getByRole('button', { name: 'Activate mdo' }).click();
  await page.getByRole('status').getByText('mdo: activated').waitFor();
  const mode = async () => (await call('GET', '/api/v1/tenants/litware/workloads')).json.value.find((w) => w.id === 'mdo').mode;
  assert.equal(await mode(), 'unified');
  await page.getByRole('button', { name: 'Deactivate mdo' }).click();
  await page.getByRole('status').getByText('mdo: deactivated').waitFor();
  assert.equal(await mode(), 'legacy');
  await page.context().close();
});

test('Activation: the impact charts count every row, not only the rows read so far', async () => {
  const F = '/api/v1/tenants/fabrikam';
  // the whole impact, page by page, counted here
  const rows = [];
  for (let next = `${F}/workloads/mde/impact?import=true&$top=5000`; next;) {
    const p = (await call('GET', next)).json;
    rows.push(...p.value);
    next = p['@odata.nextLink'];
  }
  assert.ok(rows.length > 3000, `fabrikam's impact has thousands of rows (${rows.length})`);
  const tally = (key) => {
    const m = new Map();
    for (const r of rows) m.set(r[key] || 'tenant-wide', (m.get(r[key] || 'tenant-wide') || 0) + 1);
    return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 10);
  };
  const page = await open('fabrikam');
  await signIn(page, PSK);
  await nav(page, 'Activation');
  await page.getByRole('button', { name: 'Impact mde' }).click();
  const impact = page.getByRole('region', { name: 'Impact' });
  await impact.waitFor();
  assert.match(await impact.innerText(), /rows read so far/, 'the portal has not read every row');
  const shown = async (caption) => (await impact.getByRole('figure', { name: caption }).getByRole('row').allInnerTexts())
    .map((t) => t.split('\t').map((x) => x.trim()).filter(Boolean)).map(([k, n]) => [k, Number(n.replaceAll(',', ''))])
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  assert.deepEqual(await shown('By permission'), tally('permission'));
  assert.deepEqual(await shown('By device group'), tally('deviceGroup'));
  const gains = rows.filter((r) => ['none', 'read', 'manage'].indexOf(r.after) > ['none', 'read', 'manage'].indexOf(r.before)).length;
  assert.match(await impact.innerText(), new RegExp(`${gains.toLocaleString('en-US')} gains and ${(rows.length - gains).toLocaleString('en-US')} losses`));
  await checkPage(page, 'activation-impact-charts');
  await page.context().close();
});

test('Activation: the impact\'s progress while the server computes it, then the result', async () => {
  const N = '/api/v1/tenants/northwind';
  let users = 0;
  for (let next = `${N}/users?$top=1000`; next;) {
    const p = (await call('GET', next)).json;
    users += p.value.length;
    next = p['@odata.nextLink'];
  }
  const page = await open('northwind');
  await signIn(page, PSK);
  await nav(page, 'Activation');
  await page.getByRole('button', { name: 'Impact mde' }).click();
  // the server answers 202 at once and the portal waits a second before asking again: the bar is there
  const progress = page.getByRole('region', { name: 'Progress', exact: true });
  await progress.waitFor();
  const bar = progress.getByRole('progressbar', { name: 'Impact computed for mde' });
  assert.equal(await bar.evaluate((e) => e.localName), 'fluent-progress-bar');
  assert.equal(Number(await bar.getAttribute('max')), 3 * users); // three steps per user
  assert.ok(Number(await bar.getAttribute('value')) <= 3 * users);
  assert.match(await progress.innerText(),
    new RegExp(`of ${(3 * users).toLocaleString('en-US')} steps`));
  await checkPage(page, 'activation-impact-progress');
  const impact = page.getByRole('region', { name: 'Impact' });
  await impact.waitFor();
  await progress.waitFor({ state: 'detached' });
  // the result the portal shows is the one the server kept: the same count as a request now
  const r = await call('GET', `${N}/workloads/mde/impact?import=true&$top=1`);
  assert.equal(r.status, 200);
  assert.ok(r.json.count > 20000);
  assert.match(await impact.innerText(), new RegExp(`^${r.json.count.toLocaleString('en-US')} changed rows in all`, 'm'));
  await checkPage(page, 'activation-impact-after-progress');
  await page.context().close();
});

test('Access checker: effective permissions and who can, as the API answers; an error next to its field', async () => {
  const page = await open('contoso');
  await signIn(page, PSK);
  await page.getByRole('tab', { name: 'Effective permissions' }).click();
  await page.getByLabel('User', { exact: true }).fill('bob@contoso.com');
  await page.getByLabel('Workload').selectOption('mde');
  await page.getByRole('button', { name: 'Show effective permissions' }).click();
  const table = page.getByRole('table', { name: 'Effective permissions of bob@contoso.com' });
  await table.waitFor();
  const api = (await call('GET', '/api/v1/tenants/contoso/users/bob%40contoso.com/effectivePermissions?workload=mde')).json.value;
  const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.innerText)));
  assert.deepEqual(rows, api.map((g) => [g.workload, g.permission, g.scope, g.source]));
  await checkPage(page, 'effective-permissions');
  await page.getByRole('tab', { name: 'Who can' }).click();
  await page.getByLabel('Permission', { exact: true }).fill('Alerts (manage)');
  await page.getByLabel('Workload').selectOption('mde');
  await page.getByLabel('Device or device group (mde)').fill('devicegroup:servers');
  await page.getByRole('button', { name: 'Who can' }).click();
  const who = page.getByRole('list', { name: 'Users who can' });
  await who.waitFor();
  const want = (await call('GET', '/api/v1/tenants/contoso/whoCan?permission=Alerts%20(manage)&workload=mde&scope=devicegroup:servers')).json.value;
  assert.deepEqual(await who.getByRole('listitem').allInnerTexts(), want);
  await checkPage(page, 'who-can');
  // an unknown permission: the API's message, next to the Permission field
  await page.getByRole('tab', { name: 'Check access' }).click();
  await page.getByLabel('User', { exact: true }).fill('alice@contoso.com');
  await page.getByLabel('Permission', { exact: true }).fill('Alerts (mange)');
  await page.getByRole('button', { name: 'Check access' }).click();
  const err = page.locator('#ck-perm + .field-error');
  await err.waitFor();
  const apiErr = (await call('POST', '/api/v1/tenants/contoso/explain', { body: { user: 'alice@contoso.com', permission: 'Alerts (mange)', workload: 'mde' } })).json.error;
  assert.equal(await err.innerText(), apiErr.message);
  await page.context().close();
});

test('the other pages: users and groups, devices, audit log, API keys', async () => {
  const page = await open('contoso');
  await signIn(page, PSK);
  for (const [label, name, heading] of [['Users and groups', 'users-and-groups', 'Users'], ['Devices', 'devices', 'Devices'], ['Audit log', 'audit-log', 'Audit log'], ['API keys', 'api-keys', 'API keys']]) {
    await nav(page, label);
    await page.getByRole('table', { name: heading }).waitFor();
    await checkPage(page, name);
  }
  // the audit log's chain, verified by the store: OK with the count the log has; a tampered record named
  await nav(page, 'Audit log');
  let records = 0;
  for (let next = '/api/v1/tenants/contoso/auditLog?$top=1000'; next;) {
    const p = (await call('GET', next)).json;
    records += p.value.length;
    next = p['@odata.nextLink'];
  }
  await page.getByRole('button', { name: 'Verify the chain' }).click();
  await page.getByRole('status').getByText(`Audit log verified: OK, ${records.toLocaleString('en-US')} records, chain intact.`).waitFor();
  await checkPage(page, 'audit-log-verified');
  const sql = (actor) => `UPDATE audit SET actor = '${actor}' WHERE tenant = 'contoso' AND seq = 2`;
  const actor = execFileSync('sqlite3', [s.db, "SELECT actor FROM audit WHERE tenant = 'contoso' AND seq = 2"], { encoding: 'utf8' }).trim();
  execFileSync('sqlite3', [s.db, sql('mallory')]);
  try {
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    await page.getByRole('alert').getByText(/Audit log broken: first bad record #2/).waitFor();
  } finally {
    execFileSync('sqlite3', [s.db, sql(actor)]);
  }
  // contoso's Defender for Endpoint runs on unified roles: its legacy roles page says so and links there
  await nav(page, 'Settings > Endpoints > Roles');
  const note = page.getByRole('status').filter({ hasText: 'unified roles' });
  await note.getByRole('link', { name: 'Permissions > Microsoft Defender XDR > Roles' }).click();
  await page.getByRole('table', { name: 'Microsoft Defender XDR roles' }).waitFor();
  await nav(page, 'API keys');
  await page.getByLabel('User', { exact: true }).fill('alice@contoso.com');
  await page.getByLabel('Name', { exact: true }).fill('siem');
  await page.getByRole('button', { name: 'Create API key' }).click();
  const token = await page.getByLabel('Token').inputValue();
  assert.match(token, /^urbac_/);
  assert.equal((await client(server.base, token)('GET', '/api/v1/tenants/contoso/check?user=alice%40contoso.com&permission=Alerts%20(manage)&workload=mde')).status, 200, 'the key shown once works');
  await page.context().close();
});

test('a reader sees the pages read-only, and the server refuses their writes', async () => {
  const page = await open('contoso');
  await signIn(page, keys.reader);
  await page.getByText('read-only').waitFor();
  await nav(page, 'Permissions > Microsoft Defender XDR > Roles');
  await page.getByRole('table', { name: 'Microsoft Defender XDR roles' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Create custom role' }).count(), 0);
  await checkPage(page, 'reader-roles');
  await nav(page, 'Settings > Endpoints > Device groups');
  await page.getByRole('table', { name: /Device groups/ }).waitFor();
  assert.equal(await page.getByRole('button', { name: '+ Add device group' }).count(), 0);
  // the same write the portal would make, from the page with the session's CSRF token: 403
  const status = await page.evaluate(async () => {
    const s = await (await fetch('/api/v1/session')).json();
    const r = await fetch('/api/v1/tenants/contoso/groups/x', { method: 'PUT', headers: { 'x-csrf-token': s.csrfToken, 'content-type': 'application/json' }, body: '{}' });
    return r.status;
  });
  assert.equal(status, 403);
  await page.context().close();
});

test('without Configuration \\ Authorization: only the access checker, for oneself', async () => {
  const page = await open('litware');
  await signIn(page, keys.plain);
  const links = await page.getByRole('navigation', { name: 'Portal' }).getByRole('link').allInnerTexts();
  assert.deepEqual(links, ['Access checker']);
  assert.equal(await page.getByLabel('User', { exact: true }).count(), 0, 'no user to choose');
  await page.getByLabel('Permission', { exact: true }).fill('Alerts (manage)');
  await page.getByRole('button', { name: 'Check access' }).click();
  const answer = await page.getByRole('region', { name: 'Decision' }).innerText();
  assert.match(answer, /ana@litware\.com/);
  await checkPage(page, 'checker-for-oneself');
  await page.context().close();
});

test('sessions: HttpOnly SameSite=Strict cookie, CSRF token on every write, sign-out, a revoked key ends them', async () => {
  let r = await fetch(`${server.base}/api/v1/session`, { method: 'POST', body: JSON.stringify({ key: keys.admin }) });
  assert.equal(r.status, 201);
  const setCookie = r.headers.get('set-cookie');
  assert.match(setCookie, /^urbac_session=[0-9a-f]{64}; Path=\/; HttpOnly; SameSite=Strict/);
  assert.doesNotMatch(setCookie, /Secure/, 'not over plain HTTP');
  const cookie = setCookie.split(';')[0];
  const { csrfToken, user, access } = await r.json();
  assert.equal(user, 'erin@contoso.com');
  assert.deepEqual(access, { contoso: 'manage' });
  const put = (headers) => fetch(`${server.base}/api/v1/tenants/contoso/groups/csrf-test`, { method: 'PUT', headers: { cookie, ...headers }, body: '{"members":[]}' });
  r = await put({});
  assert.equal(r.status, 403);
  assert.equal((await r.json()).error.target, 'X-CSRF-Token');
  assert.equal((await put({ 'x-csrf-token': 'f'.repeat(64) })).status, 403);
  assert.equal((await call('GET', '/api/v1/tenants/contoso/groups/csrf-test')).status, 404, 'nothing written');
  assert.equal((await put({ 'x-csrf-token': csrfToken })).status < 300, true);
  // reads need no token; another tenant is not the key's
  assert.equal((await fetch(`${server.base}/api/v1/tenants/contoso/groups`, { headers: { cookie } })).status, 200);
  assert.equal((await fetch(`${server.base}/api/v1/tenants/litware/groups`, { headers: { cookie } })).status, 403);
  // signing in from another site's page (login CSRF) is refused; from the portal's own origin it is not
  r = await fetch(`${server.base}/api/v1/session`, { method: 'POST', headers: { origin: 'https://evil.example' }, body: JSON.stringify({ key: keys.reader }) });
  assert.equal(r.status, 403);
  assert.equal(r.headers.get('set-cookie'), null);
  r = await fetch(`${server.base}/api/v1/session`, { method: 'POST', headers: { origin: server.base }, body: JSON.stringify({ key: keys.reader }) });
  assert.equal(r.status, 201);
  // a bad key: 401, no cookie
  r = await fetch(`${server.base}/api/v1/session`, { method: 'POST', body: JSON.stringify({ key: 'urbac_0000000000000000_nope' }) });
  assert.equal(r.status, 401);
  assert.equal(r.headers.get('set-cookie'), null);
  // sign-out needs the token too, then the session is gone
  assert.equal((await fetch(`${server.base}/api/v1/session`, { method: 'DELETE', headers: { cookie } })).status, 403);
  r = await fetch(`${server.base}/api/v1/session`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrfToken } });
  assert.equal(r.status, 204);
  assert.match(r.headers.get('set-cookie'), /Max-Age=0/);
  assert.equal((await fetch(`${server.base}/api/v1/session`, { headers: { cookie } })).status, 401);
  // a revoked key ends its sessions at once
  r = await fetch(`${server.base}/api/v1/session`, { method: 'POST', body: JSON.stringify({ key: keys.admin }) });
  const cookie2 = r.headers.get('set-cookie').split(';')[0];
  const id = keys.admin.split('_')[1];
  assert.equal((await call('DELETE', `/api/v1/tenants/contoso/apiKeys/${id}`)).status < 300, true);
  assert.equal((await fetch(`${server.base}/api/v1/tenants/contoso/groups`, { headers: { cookie: cookie2 } })).status, 401);
});

test('the browser keeps no token: nothing in localStorage or sessionStorage, the cookie is HttpOnly', async () => {
  const page = await open('contoso');
  await signIn(page, PSK);
  const seen = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie }));
  assert.deepEqual(seen, { local: 0, session: 0, cookie: '' });
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('API key or preshared admin key').waitFor();
  await page.reload();
  await page.getByLabel('API key or preshared admin key').waitFor();
  await page.context().close();
});

const TS = '/api/v1/tenants/tailspin';
const catalogName = async (id) => (await call('GET', '/api/v1/catalog')).json.legacy.mdePermissions.find((p) => p.id === id).name;

// Issue 12: "Activation: ... Import roles (dry run first: ... each unmapped
// permission); ... Activate ..., with the safety check and its reason when refused".
test('Activation: the import\'s dry run lists each unmapped permission; a refused Activate shows the server\'s reason', async () => {
  const page = await open('tailspin');
  await signIn(page, PSK);
  await nav(page, 'Activation');
  await page.getByRole('button', { name: 'Import roles mde' }).click();
  const imp = page.getByRole('region', { name: 'Import roles' });
  await imp.getByText('dry run').waitFor();
  const dry = (await call('POST', `${TS}/workloads/mde/import?dryRun=true`)).json;
  assert.ok(dry.unmapped.length >= 2, JSON.stringify(dry.unmapped));
  const unmapped = imp.getByRole('list', { name: 'Permissions that cannot be mapped' });
  assert.deepEqual(await unmapped.getByRole('listitem').allInnerTexts(), dry.unmapped.map((u) => `${u.permission} (in ${u.source})`));
  assert.deepEqual(await imp.getByRole('list', { name: 'Roles the import creates or updates' }).getByRole('listitem').allInnerTexts(),
    dry.roles.map((r) => `${r.action}: ${r.role} (from ${r.source}; ${r.permissions} permissions, ${r.principals} principals${r.deviceGroups ? `, device groups ${r.deviceGroups}` : ''})`));
  await checkPage(page, 'activation-import-unmapped');
  // nobody would manage authorization on unified roles: the server refuses, and says why
  await page.getByRole('button', { name: 'Activate mde' }).click();
  const refused = page.getByRole('alert');
  await refused.waitFor();
  const api = await call('POST', `${TS}/workloads/mde/activate`);
  assert.equal(api.status, 409);
  assert.match(api.json.error.message, /would leave nobody able to manage authorization/);
  assert.equal(await refused.innerText(), api.json.error.message);
  await checkPage(page, 'activation-refused');
  assert.equal((await call('GET', `${TS}/workloads`)).json.value.find((w) => w.id === 'mde').mode, 'legacy');
  assert.equal(await page.getByRole('row', { name: /Microsoft Defender for Endpoint/ }).getByRole('cell', { name: 'Legacy roles' }).count(), 1);
  await page.context().close();
});

// Issue 12: "Settings > Endpoints > Roles ... Edit and delete."
test('Settings > Endpoints > Roles: edit a role (description, a permission, its groups), delete one; the API shows each', async () => {
  const page = await open('tailspin');
  await signIn(page, PSK);
  await nav(page, 'Settings > Endpoints > Roles');
  await page.getByRole('button', { name: 'Edit Viewers' }).click();
  assert.equal(await page.getByLabel('Role name').inputValue(), 'Viewers');
  assert.equal(await page.getByLabel('Description').inputValue(), 'Read alerts');
  const perms = page.getByRole('group', { name: 'Permissions' });
  // the role's permissions, as the API holds them, are the boxes checked
  const before = (await call('GET', `${TS}/legacy/mde/roles/Viewers`)).json;
  assert.deepEqual(before.permissions.sort(), [await catalogName('view-secops'), await catalogName('alerts-investigation')].sort());
  assert.ok(await perms.getByRole('group', { name: 'View data' }).getByLabel('Security operations').isChecked());
  assert.ok(await perms.getByLabel('Alerts investigation').isChecked());
  assert.equal(await perms.getByRole('checkbox', { checked: true }).count(), 2);
  await page.getByLabel('Description').fill('Read and triage alerts');
  await perms.getByLabel('Alerts investigation').uncheck();
  await perms.getByRole('group', { name: 'View data' }).getByLabel('Threat and vulnerability management').check();
  await checkPage(page, 'settings-endpoints-roles-edit');
  await page.getByRole('button', { name: 'Next' }).click();
  const groups = page.getByRole('group', { name: 'Azure AD user groups' });
  assert.ok(await groups.getByLabel('SOC (soc)').isChecked());
  await groups.getByLabel('SOC (soc)').uncheck();
  await groups.getByLabel('Responders (responders)').check();
  await checkPage(page, 'settings-endpoints-roles-edit-groups');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('cell', { name: 'Read and triage alerts', exact: true }).waitFor();
  const role = (await call('GET', `${TS}/legacy/mde/roles/Viewers`)).json;
  assert.equal(role.description, 'Read and triage alerts');
  assert.deepEqual(role.permissions.sort(), [await catalogName('view-secops'), await catalogName('view-tvm')].sort());
  assert.deepEqual(role.groups, ['responders']);
  // delete
  assert.equal((await call('GET', `${TS}/legacy/mde/roles/Old%20role`)).status, 200);
  await page.getByRole('button', { name: 'Delete Old role' }).click();
  await page.getByRole('cell', { name: 'Old role', exact: true }).waitFor({ state: 'detached' });
  assert.equal((await call('GET', `${TS}/legacy/mde/roles/Old%20role`)).status, 404);
  assert.deepEqual((await call('GET', `${TS}/legacy/mde/roles`)).json.value.map((r) => r.name).sort(), ['Endpoint managers', 'Intune admins', 'Viewers']);
  await page.context().close();
});

// Issue 12: "Device groups: add and edit (... rules with a live preview ..., user access ...)"; delete.
test('Settings > Endpoints > Device groups: edit a group\'s rule and user access, delete another; the API shows each', async () => {
  const page = await open('tailspin');
  await signIn(page, PSK);
  await nav(page, 'Settings > Endpoints > Device groups');
  // saved unchanged at once, before the preview's 300 ms: the group as it was, and no script error after
  const kiosks = (await call('GET', `${TS}/deviceGroups/kiosks`)).json;
  await page.getByRole('button', { name: 'Edit kiosks' }).click();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('table', { name: 'Device groups, in rank order' }).waitFor();
  await page.waitForTimeout(600);
  assert.deepEqual(page.problems, []);
  assert.deepEqual((await call('GET', `${TS}/deviceGroups/kiosks`)).json, kiosks);
  await page.getByRole('button', { name: 'Edit kiosks' }).click();
  assert.equal(await page.getByLabel('Rule 1 field').inputValue(), 'tags');
  assert.equal(await page.getByLabel('Rule 1 operator').inputValue(), 'equals');
  assert.equal(await page.getByLabel('Rule 1 values (comma separated)').inputValue(), 'kiosk');
  const preview = page.getByRole('region', { name: 'Preview of matching devices' });
  const devices = (await call('GET', `${TS}/devices`)).json.value;
  const tagged = (t) => devices.filter((d) => (d.tags || []).includes(t)).map((d) => d.id).sort();
  await preview.getByText(`${tagged('kiosk').length} devices match these rules`).waitFor();
  await page.getByLabel('Rule 1 values (comma separated)').fill('lobby');
  await preview.getByText(`${tagged('lobby').length} device matches these rules`).waitFor();
  assert.deepEqual((await preview.getByRole('listitem').allInnerTexts()).sort(), tagged('lobby'));
  await page.getByLabel('Description').fill('Lobby kiosks');
  const access = page.getByRole('group', { name: /User access/ });
  assert.ok(await access.getByLabel('Responders (responders)').isChecked());
  await access.getByLabel('Responders (responders)').uncheck();
  await access.getByLabel('SOC (soc)').check();
  await checkPage(page, 'settings-endpoints-device-groups-edit');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('table', { name: 'Device groups, in rank order' }).waitFor();
  const dg = (await call('GET', `${TS}/deviceGroups/kiosks`)).json;
  assert.deepEqual(dg.rules, { tags: { equals: ['lobby'] } });
  assert.deepEqual(dg.userAccess, ['soc']);
  assert.equal(dg.name, 'Lobby kiosks');
  assert.equal(dg.rank, 2);
  assert.equal(dg.remediation, 'semi');
  // a field with two operators (name starts with srv- and ends with -01): two rows, both kept on save
  const servers = (await call('GET', `${TS}/deviceGroups/servers`)).json;
  assert.equal(Object.keys(servers.rules.name).length, 2);
  await page.getByRole('button', { name: 'Edit servers' }).click();
  const rows = Object.entries(servers.rules).flatMap(([field, cond]) => Object.entries(cond).map(([op, v]) => [field, op, v.join(', ')]));
  for (const [i, [field, op, values]] of rows.entries()) {
    assert.equal(await page.getByLabel(`Rule ${i + 1} field`).inputValue(), field);
    assert.equal(await page.getByLabel(`Rule ${i + 1} operator`).inputValue(), op);
    assert.equal(await page.getByLabel(`Rule ${i + 1} values (comma separated)`).inputValue(), values);
  }
  assert.equal(await page.getByLabel(`Rule ${rows.length + 1} field`).count(), 0);
  await page.getByRole('group', { name: /User access/ }).getByLabel('Responders (responders)').check();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('table', { name: 'Device groups, in rank order' }).waitFor();
  const saved = (await call('GET', `${TS}/deviceGroups/servers`)).json;
  assert.deepEqual(saved.rules, servers.rules);
  assert.deepEqual(saved.userAccess, ['soc', 'responders']);
  // delete
  await page.getByRole('button', { name: 'Delete servers' }).click();
  await page.getByRole('cell', { name: 'servers', exact: true }).waitFor({ state: 'detached' });
  assert.equal((await call('GET', `${TS}/deviceGroups/servers`)).status, 404);
  assert.deepEqual((await call('GET', `${TS}/deviceGroups`)).json.value.map((g) => g.id).filter((id) => id !== 'ungrouped'), ['kiosks']);
  await checkPage(page, 'settings-endpoints-device-groups-deleted');
  await page.context().close();
});

// Issue 12: unified roles "Edit" (the same wizard).
test('Permissions > Microsoft Defender XDR > Roles: edit a role in the wizard (a permission, an assignment\'s data sources and device groups)', async () => {
  const C = '/api/v1/tenants/contoso';
  const catalog = (await call('GET', '/api/v1/catalog')).json;
  const perm = (suffix) => catalog.permissions.find((p) => p.name.endsWith(suffix));
  const basics = perm('\\ Security data basics'), alerts = perm('\\ Security data \\ Alerts');
  let r = await call('POST', `${C}/roleDefinitions`, { body: { displayName: 'Tier 3', description: 'Escalations', rolePermissions: [{ allowedResourceActions: [`${basics.id}/read`] }] } });
  assert.equal(r.status, 201, r.text);
  r = await call('POST', `${C}/roleAssignments`, { body: { displayName: 'tier3-servers', roleDefinitionId: 'Tier 3', principalIds: ['group:soc'], appScopeIds: ['Mde', '/DeviceGroups/servers'] } });
  assert.equal(r.status, 201, r.text);
  const page = await open('contoso');
  await signIn(page, PSK);
  await nav(page, 'Permissions > Microsoft Defender XDR > Roles');
  await page.getByRole('button', { name: 'Edit Tier 3' }).click();
  const wizard = page.getByRole('region', { name: 'Edit role' });
  assert.equal(await wizard.getByLabel('Role name').inputValue(), 'Tier 3');
  await wizard.getByLabel('Description').fill('Escalations and alerts');
  await wizard.getByRole('button', { name: 'Next' }).click();
  // the role's permission shows as a custom choice, at its level; Alerts is added at Manage
  const secops = wizard.getByRole('group', { name: 'Security operations' });
  assert.ok(await secops.getByLabel('Select custom permissions').isChecked());
  assert.equal(await secops.getByLabel('Security data \\ Security data basics').inputValue(), 'read');
  await secops.getByLabel('Security data \\ Alerts').selectOption('manage');
  await wizard.getByRole('button', { name: 'Next' }).click();
  // the assignment: Office 365 added to its data sources, device group servers swapped for workstations
  const as = wizard.getByRole('group', { name: 'Assignment 1' });
  assert.equal(await as.getByLabel('Assignment name').inputValue(), 'tier3-servers');
  assert.ok(await as.getByLabel('Microsoft Defender for Endpoint').isChecked());
  assert.equal(await as.getByLabel('Microsoft Defender for Office 365').isChecked(), false);
  const dgs = as.getByRole('group', { name: /Device groups/ });
  assert.ok(await dgs.getByLabel('servers', { exact: true }).isChecked());
  await as.getByLabel('Microsoft Defender for Office 365').check();
  await dgs.getByLabel('servers', { exact: true }).uncheck();
  await dgs.getByLabel('workstations', { exact: true }).check();
  await checkPage(page, 'wizard-edit-assignments');
  await wizard.getByRole('button', { name: 'Next' }).click();
  await wizard.getByRole('heading', { name: 'Review and finish' }).waitFor();
  await wizard.getByRole('button', { name: 'Submit' }).click();
  await page.getByRole('table', { name: 'Microsoft Defender XDR roles' }).waitFor();
  const role = (await call('GET', `${C}/roleDefinitions/Tier%203`)).json;
  assert.equal(role.description, 'Escalations and alerts');
  assert.deepEqual(role.rolePermissions.flatMap((p) => p.allowedResourceActions).sort(), [`${alerts.id}/manage`, `${basics.id}/read`].sort());
  const after = (await call('GET', `${C}/roleAssignments?roleDefinitionId=Tier%203`)).json.value;
  assert.equal(after.length, 1);
  assert.equal(after[0].displayName, 'tier3-servers');
  assert.deepEqual(after[0].principalIds, ['group:soc']);
  assert.deepEqual([...after[0].appScopeIds].sort(), ['/DeviceGroups/workstations', 'Mde', 'Mdo'].sort());
  await page.context().close();
});

// Issue 12: "Audit log (filter by actor, object and time ...)".
test('Audit log: each filter (actor, object, since, until) shows exactly the records the API returns for it', async () => {
  const all = (await call('GET', `${TS}/auditLog?$top=1000`)).json.value;
  assert.ok(all.length < 100, 'one page of the table holds them all');
  const actors = [...new Set(all.map((a) => a.actor))];
  assert.ok(actors.length >= 2, `the earlier tests wrote through the portal: ${actors}`);
  const last = all[all.length - 1];
  const page = await open('tailspin');
  await signIn(page, PSK);
  await nav(page, 'Audit log');
  const table = page.getByRole('table', { name: 'Audit log' });
  const shown = async () => (await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Number(tr.cells[0].innerText))));
  await until(async () => (await shown()).length === all.length, 'the whole log');
  const filters = [['Actor', 'actor', last.actor], ['Object', 'object', 'kiosks'], ['Since (date or time, UTC)', 'since', last.at], ['Until (date or time, UTC)', 'until', all[0].at]];
  for (const [label, param, value] of filters) {
    for (const [f] of filters) await page.getByLabel(f, { exact: true }).fill(f === label ? value : '');
    await page.getByRole('button', { name: 'Filter' }).click();
    const want = (await call('GET', `${TS}/auditLog?${param}=${encodeURIComponent(value)}&$top=1000`)).json.value.map((a) => a.seq);
    assert.ok(want.length > 0 && want.length < all.length, `${param}=${value} narrows the log (${want.length} of ${all.length})`);
    await until(async () => JSON.stringify(await shown()) === JSON.stringify(want), `${param}=${value}: the table shows ${want}`);
    if (param === 'object') assert.ok((await table.locator('tbody tr td:nth-child(5)').allInnerTexts()).every((o) => o === 'kiosks'));
    if (param === 'actor') assert.ok((await table.locator('tbody tr td:nth-child(3)').allInnerTexts()).every((o) => o === last.actor));
    await checkPage(page, `audit-log-by-${param}`);
  }
  // a time that is not one: the API's words, next to the field
  await page.getByLabel('Until (date or time, UTC)', { exact: true }).fill('yesterday');
  await page.getByRole('button', { name: 'Filter' }).click();
  const err = page.locator('#au-until + .field-error');
  await err.waitFor();
  assert.equal(await err.innerText(), (await call('GET', `${TS}/auditLog?until=yesterday`)).json.error.message);
  await page.context().close();
});

// Issue 12: "API keys (create, shown once; revoke)".
test('API keys: Revoke in the portal, and the key gets 401 from the API', async () => {
  const C = '/api/v1/tenants/contoso';
  const made = (await call('POST', `${C}/apiKeys`, { body: { user: 'alice@contoso.com', name: 'to-revoke' } })).json;
  const asKey = client(server.base, made.token);
  const check = `${C}/check?user=alice%40contoso.com&permission=Alerts%20(manage)&workload=mde`;
  assert.equal((await asKey('GET', check)).status, 200);
  const page = await open('contoso');
  await signIn(page, PSK);
  await nav(page, 'API keys');
  const row = page.getByRole('row').filter({ has: page.getByRole('cell', { name: made.id, exact: true }) });
  await row.getByRole('button', { name: `Revoke ${made.id}` }).click();
  await row.getByRole('button', { name: `Revoke ${made.id}` }).waitFor({ state: 'detached' });
  const key = (await call('GET', `${C}/apiKeys`)).json.value.find((k) => k.id === made.id);
  assert.ok(key.revoked, JSON.stringify(key));
  assert.equal((await row.getByRole('cell').allInnerTexts())[6], key.revoked, 'the row shows when it was revoked');
  assert.equal((await asKey('GET', check)).status, 401);
  await checkPage(page, 'api-keys-revoked');
  await page.context().close();
});

// Issue 12: "Users and groups (members, nesting, directory roles)".
test('Users and groups: members, nested groups and directory roles as the API gives them', async () => {
  const page = await open('tailspin');
  await signIn(page, PSK);
  await nav(page, 'Users and groups');
  const rows = async (name) => page.getByRole('table', { name }).locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.innerText)));
  const users = (await call('GET', `${TS}/users`)).json.value;
  assert.ok(users.some((u) => (u.directoryRoles || []).length), 'a user holds a directory role');
  await until(async () => (await rows('Users')).length === users.length, 'the users');
  assert.deepEqual(await rows('Users'), users.map((u) => [u.id, u.name || '', (u.directoryRoles || []).join(', ')]));
  await page.getByRole('tab', { name: 'Groups' }).click();
  const groups = (await call('GET', `${TS}/groups`)).json.value;
  assert.ok(groups.some((g) => g.members.some((m) => m.startsWith('group:'))), 'a group nests another');
  await page.getByRole('table', { name: 'Groups' }).waitFor();
  await until(async () => (await rows('Groups')).length === groups.length, 'the groups');
  const row = (g) => [g.id, g.name || '', (g.members || []).join(', '), (g.directoryRoles || []).join(', ')];
  assert.deepEqual(await rows('Groups'), groups.map(row));
  await checkPage(page, 'users-and-groups-groups');
  // a group made here: its members, a nested group among them, and its directory roles
  await page.getByLabel('Group id').fill('night-shift');
  await page.getByLabel('Display name').fill('Night shift');
  await page.getByLabel('Members (comma separated; a nested group as group:ID)').fill('sam@tailspin.com, group:soc');
  await page.getByLabel('Directory roles (comma separated)').fill('Security reader');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('cell', { name: 'night-shift', exact: true }).waitFor();
  const made = (await call('GET', `${TS}/groups/night-shift`)).json;
  assert.deepEqual(made.members, ['sam@tailspin.com', 'group:soc']);
  assert.deepEqual(made.directoryRoles, ['Security reader']);
  assert.deepEqual(await rows('Groups'), (await call('GET', `${TS}/groups`)).json.value.map(row));
  await page.context().close();
});

// Issue 12: "the whole flow works with the keyboard": seed 000's legacy role,
// signed in, + Add item ... Save, with Tab, Enter, Space and typing only.
test('seed 000 by keyboard only: sign in, Settings > Endpoints > Roles, + Add item, permissions, Next, filter, Save', async () => {
  const page = await open('litware');
  const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.localName);
  await tabTo(page, 'textbox', 'API key or preshared admin key');
  await page.keyboard.type(PSK);
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  await tabTo(page, 'link', 'Settings > Endpoints > Roles');
  await page.keyboard.press('Enter');
  await page.getByRole('table', { name: 'Defender for Endpoint roles' }).waitFor();
  await tabTo(page, 'button', '+ Add item');
  await page.keyboard.press('Enter');
  // the form opens with the focus in its first field
  await page.getByLabel('Role name').waitFor();
  assert.equal(await focused(), 'role-name');
  await page.keyboard.type('Keyboard responders');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Added without a mouse');
  const perms = page.getByRole('group', { name: 'Permissions' });
  await tabTo(page, 'checkbox', 'Security operations', perms.getByRole('group', { name: 'View data' }));
  await page.keyboard.press('Space');
  await tabTo(page, 'checkbox', 'Alerts investigation', perms);
  await page.keyboard.press('Space');
  await tabTo(page, 'checkbox', 'Basic', perms.getByRole('group', { name: 'Live response capabilities' }));
  await page.keyboard.press('Space');
  await checkPage(page, 'keyboard-roles-add');
  await tabTo(page, 'button', 'Next');
  await page.keyboard.press('Enter');
  // the next step takes the focus: its heading, then its filter
  await page.getByRole('heading', { name: 'Assigned user groups: Keyboard responders' }).waitFor();
  assert.equal(await focused(), 'role-groups-heading');
  const groups = page.getByRole('group', { name: 'Azure AD user groups' });
  await tabTo(page, 'searchbox', 'Filter user groups', groups);
  await page.keyboard.type('lab');
  await until(async () => (await groups.getByRole('checkbox').count()) === 1, 'the filter leaves the matching group');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Space');
  assert.ok(await groups.getByLabel('Lab responders (lab-responders)').isChecked());
  await checkPage(page, 'keyboard-roles-groups');
  await tabTo(page, 'button', 'Save');
  await page.keyboard.press('Enter');
  await page.getByRole('cell', { name: 'Keyboard responders', exact: true }).waitFor();
  const role = (await call('GET', '/api/v1/tenants/litware/legacy/mde/roles/Keyboard%20responders')).json;
  assert.equal(role.description, 'Added without a mouse');
  assert.deepEqual(role.groups, ['lab-responders']);
  assert.deepEqual(role.permissions.sort(), [await catalogName('alerts-investigation'), await catalogName('live-response'), await catalogName('view-secops')].sort());
  await page.context().close();
});
