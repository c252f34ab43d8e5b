// bench/portal/run.mjs - how soon each portal page is interactive on the bench
// tenant (bench/gen.c: 100,000 users, 10,000 groups, 500 roles, 200 device
// groups): a real `urbac serve` on loopback, Debian's chromium through
// playwright-core (tests/web's, after its npm ci), signed in with a preshared
// key. For each page: the time from the click on its link to its data shown
// (its first table or form filled); then the slower actions (opening a form
// that lists every group, Impact). Best of RUNS, median too; the figures go to
// bench/results/portal.md.
// Usage: node bench/portal/run.mjs URBAC TENANT_YAML OUT_MD
import { createRequire } from 'node:module';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../tests/web/package.json'));
const { chromium } = require('playwright-core');
const [urbac, tenantFile, outFile] = process.argv.slice(2);
const RUNS = 5;
const PSK = 'bench-portal-preshared-key-0123456789';

const dir = mkdtempSync(path.join(tmpdir(), 'urbac-bench-portal-'));
const db = path.join(dir, 'store.db');
execFileSync(urbac, ['init', '--db', db]);
execFileSync(urbac, ['apply', '--db', db, '-f', tenantFile], { maxBuffer: 1 << 30 });
const tenant = readFileSync(tenantFile, 'utf8').match(/^tenant: (.+)$/m)[1].trim();
writeFileSync(path.join(dir, 'psk'), `${PSK}\n`, { mode: 0o600 });
const server = spawn(urbac, ['serve', '--db', db, '--listen', '127.0.0.1:0', '--preshared-key-file', path.join(dir, 'psk')]);
const base = await new Promise((resolve) => {
  let out = '';
  server.stdout.on('data', (d) => {
    out += d;
    const m = out.match(/serving on (http:\/\/[^ \n]+)/);
    if (m) resolve(m[1]);
  });
});

// a failed step leaves no server behind
process.on('exit', () => server.kill('SIGTERM'));

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
await page.goto(`${base}/?tenant=${tenant}`);
await page.getByLabel('API key or preshared admin key').fill(PSK);
await page.getByRole('button', { name: 'Sign in' }).click();
await page.getByRole('button', { name: 'Sign out' }).waitFor();

// [what, how to start it, what shows it is ready]
const nav = (label) => () => page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: label, exact: true }).click();
const rows = (name) => () => page.getByRole('table', { name }).locator('tbody tr').first().waitFor();
const steps = [
  ['Access checker (page)', nav('Access checker'), () => page.getByRole('button', { name: 'Check access' }).waitFor()],
  ['Permissions > Microsoft Defender XDR > Roles (500 roles, their assignments)', nav('Permissions > Microsoft Defender XDR > Roles'), rows('Microsoft Defender XDR roles')],
  ['Settings > Endpoints > Roles', nav('Settings > Endpoints > Roles'), rows('Defender for Endpoint roles')],
  ['Settings > Endpoints > Device groups (200)', nav('Settings > Endpoints > Device groups'), rows('Device groups, in rank order')],
  ['Activation', nav('Activation'), rows('Workloads')],
  ['Users and groups (first page of 100,000 users)', nav('Users and groups'), rows('Users')],
  ['Devices (first page)', nav('Devices'), rows('Devices')],
  ['Audit log (first page)', nav('Audit log'), rows('Audit log')],
  ['API keys', nav('API keys'), () => page.getByRole('table', { name: 'API keys' }).waitFor()],
  ['Users: next page', () => page.getByRole('button', { name: 'Next page' }).click(), rows('Users')],
  ['Create custom role wizard: open (reads the 200 device groups)', async () => { await nav('Permissions > Microsoft Defender XDR > Roles')(); await rows('Microsoft Defender XDR roles')(); }, null, () => page.getByRole('button', { name: 'Create custom role' }).click(), () => page.getByLabel('Role name').waitFor()],
  ['Device groups: + Add device group (the group picker: the first 50 of 10,000 groups)', async () => { await nav('Settings > Endpoints > Device groups')(); await rows('Device groups, in rank order')(); }, null, () => page.getByRole('button', { name: '+ Add device group' }).click(), () => page.getByLabel('Device group name').waitFor()],
  ['Activation: Impact mde (first 1,000 rows and the count)', async () => { await nav('Activation')(); await rows('Workloads')(); }, null, () => page.getByRole('button', { name: 'Impact mde' }).click(), () => page.getByRole('region', { name: 'Impact' }).waitFor({ timeout: 120000 })],
];

const results = [];
for (const [what, a, ready, b, readyB] of steps) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    if (!b) {
      await nav('Access checker')();
      await page.getByRole('button', { name: 'Check access' }).waitFor();
      if (what.startsWith('Users: next')) { await nav('Users and groups')(); await rows('Users')(); }
      const t0 = performance.now();
      await a();
      await ready();
      times.push(performance.now() - t0);
    } else {
      await nav('Access checker')(); // leaves any form open on the page
      await page.getByRole('button', { name: 'Check access' }).waitFor();
      await a();
      const t0 = performance.now();
      await b();
      await readyB();
      times.push(performance.now() - t0);
    }
  }
  times.sort((x, y) => x - y);
  results.push([what, times[0], times[Math.floor(times.length / 2)]]);
  console.log(`${what}: best ${times[0].toFixed(0)} ms, median ${times[Math.floor(times.length / 2)].toFixed(0)} ms`);
}
await browser.close();
server.kill('SIGTERM');
rmSync(dir, { recursive: true, force: true });

const ms = (v) => `${Math.round(v).toLocaleString('en-US')} ms`;
writeFileSync(outFile, `# The portal on the bench tenant

\`node bench/portal/run.mjs\` (see its header): the bench tenant of bench/gen.c
(seed 42: 100,000 users, 10,000 groups, 500 roles, 200 device groups, 5,000
devices) in a SQLite store, \`urbac serve\` on loopback, Debian's chromium
(headless, through playwright-core) signed in with a preshared key, on this
project's ${cpus().length}-core machine shared with other work. Each figure is
the time from the click to the page's data on screen (its first table row, or
its form), ${RUNS} runs, best and median.

| page or action | best | median |
|---|---:|---:|
${results.map(([w, b, m]) => `| ${w} | ${ms(b)} | ${ms(m)} |`).join('\n')}

Every list is read from the API a page at a time (100 rows, the next on
demand); the tables of what is read whole (500 roles, 200 device groups) are
drawn 50 rows at a time (a Fluent button costs about a millisecond to make: 500
rows of them took 2 to 3 s before); the group pickers ask the API for the groups
matching the filter (\`?search=\`), 50 at a time, instead of reading all 10,000.
The object lists (users, groups, devices, the legacy lists) are read from the
store a page at a time after a key (\`urbac_store_list_page()\`, schema 4's
index of each kind in list order): a page of users costs the page, not the
100,000 (before, each page was cut from all of them read and parsed, about
0.4 s of the figure; bench/results/pages.md has a page at 100,000 and at
1,000,000 users). Impact is computed once per tenant revision, workload and
import flag, on a thread of its own, and kept (server/impact.c): its pages are
cut from the kept result, and while it runs the portal asks with \`Prefer:
respond-async\` and shows a progress bar with the steps done (three per user).
The audit log's first page holds the record of the \`urbac apply\` that wrote
the whole tenant (the bench tenant's 11 MB), its slowest.
`);
