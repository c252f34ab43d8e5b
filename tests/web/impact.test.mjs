// tests/web/impact.test.mjs - the impact report as a person sees it: urbac
// writes the HTML page, Debian's chromium opens it (driven by playwright-core),
// and the test measures what is on the page: every loss listed, the losses' bars
// visible beside millions of gains, numbers with separators, a bounded height,
// no label over a bar or another label, no script and no request. Screenshots go
// to URBAC_OUT for a person to look at.
// Environment: URBAC (the binary), URBAC_SRC (the source tree), URBAC_OUT (a folder).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const urbac = process.env.URBAC;
const src = process.env.URBAC_SRC;
const out = process.env.URBAC_OUT || '/tmp/urbac-web';
mkdirSync(out, { recursive: true });

function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

function run(args) {
  const r = spawnSync(urbac, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

// Opens a page, failing on any request but the page itself and on any script error.
async function open(browser, file, width) {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  const requests = [];
  page.on('request', (req) => requests.push(req.url()));
  await page.goto('file://' + file);
  assert.deepEqual(requests, ['file://' + file], 'the page loads nothing else');
  assert.equal(await page.locator('script').count(), 0, 'the page has no script');
  return page;
}

// Every bar row's label, bar and value, measured where the browser drew them.
async function layoutProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    const labels = [];
    const inside = (a, b) => a.left >= b.left - 0.5 && a.right <= b.right + 0.5 && a.top >= b.top - 0.5 &&
      a.bottom <= b.bottom + 0.5;
    const meets = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 &&
      b.top < a.bottom - 0.5;
    for (const row of document.querySelectorAll('.bar-row')) {
      const label = row.querySelector('.label');
      const value = row.querySelector('.value');
      const track = row.querySelector('svg.track');
      const fig = row.closest('figure').getBoundingClientRect();
      const l = label.getBoundingClientRect();
      const v = value.getBoundingClientRect();
      const name = label.textContent;
      labels.push([name, l]);
      if (!inside(l, fig) || !inside(v, fig)) problems.push(`${name}: label or value outside its chart`);
      if (label.scrollWidth > label.clientWidth + 1 && !label.title.endsWith(name))
        problems.push(`${name}: cut without its full text as a tooltip`);
      if (value.scrollWidth > value.clientWidth + 1) problems.push(`${name}: value ${value.textContent} cut`);
      if (track) {
        const t = track.getBoundingClientRect();
        const bar = track.querySelector('rect').getBoundingClientRect();
        if (meets(l, t) || meets(v, t)) problems.push(`${name}: label or value over the bar's area`);
        if (!inside(bar, t)) problems.push(`${name}: bar escapes its area`);
      }
    }
    for (let i = 0; i < labels.length; i++)
      for (let j = i + 1; j < labels.length; j++)
        if (meets(labels[i][1], labels[j][1]))
          problems.push(`labels '${labels[i][0]}' and '${labels[j][0]}' overlap`);
    return problems;
  });
}

test('the impact page shows the summary, the charts and every change (litware)', async () => {
  const pageFile = path.join(out, 'impact.html');
  run(['impact', 'mde', '--tenant', path.join(src, 'examples/litware.yaml'), '--import', '--format', 'html',
    '--explain', '--output', pageFile]);
  const browser = await launch();
  try {
    const page = await open(browser, pageFile, 1280);
    assert.match(await page.title(), /activating mde on litware/);
    assert.equal(await page.textContent('#changes b'), '12');
    assert.equal(await page.textContent('#users b'), '3');
    assert.equal(await page.textContent('#gains b'), '6');
    assert.equal(await page.textContent('#losses b'), '6');
    // one bar per permission that loses, one per permission that gains, each chart to its own scale
    assert.equal(await page.locator('#chart-losses-permission rect.loss').count(), 4);
    assert.equal(await page.locator('#chart-gains-permission rect.gain').count(), 2);
    const widths = await page.locator('#chart-losses-permission rect').evaluateAll(
      (rects) => rects.map((r) => Number(r.getAttribute('width'))));
    assert.deepEqual(widths, [1000, 1000, 500, 500]);
    // every change is a row, with its reasons; the gains are few enough to be all there
    assert.equal(await page.locator('#losses-table tbody tr').count(), 6);
    assert.equal(await page.locator('#gains-table tbody tr').count(), 6);
    const gainsText = await page.textContent('#gains-table');
    assert.ok(gainsText.includes('directory role Security reader now counts on mde'));
    assert.deepEqual(await layoutProblems(page), []);
    await page.screenshot({ path: path.join(out, 'impact.png'), fullPage: true });
  } finally {
    await browser.close();
  }
});

// A tenant with millions of gains and six losses: litware, plus READERS Security
// readers in GROUPS groups, and DGS more device groups (the first with a long name).
const READERS = 40000, GROUPS = 2001, DGS = 60; // 36,000 readers in 2,000 groups of 18
const LONG_DG = 'the-device-group-of-the-northern-european-datacenter-servers-that-run-the-payroll-01';
const LONG_GROUP = 'every-security-reader-of-the-northern-european-operations-centre-and-its-contractors';

function bigTenant(file) {
  const lit = readFileSync(path.join(src, 'examples/litware.yaml'), 'utf8');
  const [head, rest] = lit.split(/^users:\n/m);
  const [users, afterUsers] = rest.split(/^groups:\n/m);
  const [groups, afterGroups] = afterUsers.split(/^deviceGroups:\n/m);
  const [dgs, afterDgs] = afterGroups.split(/^devices:\n/m);
  const id = (i) => `reader${String(i).padStart(6, '0')}@litware.com`;
  const lines = [head, 'users:\n', users];
  for (let i = 0; i < READERS; i++) lines.push(`- {id: ${id(i)}, directoryRoles: [Security reader]}\n`);
  lines.push('groups:\n', groups);
  // the first group is the largest (a tenth of the readers), the rest share the others
  const tenth = READERS / 10, per = (READERS - tenth) / (GROUPS - 1);
  for (let g = 0; g < GROUPS; g++) {
    const from = g === 0 ? 0 : tenth + (g - 1) * per, to = g === 0 ? tenth : from + per;
    const members = [];
    for (let i = from; i < to; i++) members.push(id(i));
    const name = g === 0 ? LONG_GROUP : 'team-' + String(g).padStart(4, '0');
    lines.push(`- {id: ${name}, members: [${members.join(', ')}]}\n`);
  }
  lines.push('deviceGroups:\n', dgs);
  for (let d = 0; d < DGS; d++) {
    lines.push(`- id: ${d === 0 ? LONG_DG : 'site-' + String(d).padStart(3, '0')}\n  rank: ${d + 3}\n` +
      `  rules: {tags: {equals: [site-${d}]}}\n`);
  }
  lines.push('devices:\n', afterDgs);
  writeFileSync(file, lines.join(''));
}

test('millions of gains and six losses: every loss, visible bars, separators, no overlap', async () => {
  const tenant = path.join(out, 'many-gains.yaml');
  const pageFile = path.join(out, 'impact-many.html');
  bigTenant(tenant);
  run(['impact', 'mde', '--tenant', tenant, '--import', '--format', 'html', '--output', pageFile]);
  // the rows as the tsv lists them, counted by awk apart from urbac's summary: every loss, the gains' count
  const counted = spawnSync('sh', ['-c', `"$0" impact mde --tenant "$1" --import --format tsv |
    awk -F '\t' '$6 == "none" {print; next} {n++} END {print "gains\t" n}'`, urbac, tenant],
  { encoding: 'utf8' });
  assert.equal(counted.status, 0, counted.stderr);
  const lines = counted.stdout.trimEnd().split('\n').map((l) => l.split('\t'));
  const gains = Number(lines.pop()[1]);
  const losses = lines;
  const rows = { length: gains + losses.length };
  const lossesPerPerm = new Map();
  for (const r of losses) lossesPerPerm.set(r[1], (lossesPerPerm.get(r[1]) || 0) + 1);
  assert.equal(losses.length, 6); // ana and ben, as docs/migration.md explains
  assert.ok(gains > 4000000, `${gains} gains`);
  const browser = await launch();
  try {
    const page = await open(browser, pageFile, 1280);
    const fmt = (n) => n.toLocaleString('en-US');
    assert.equal(await page.textContent('#changes b'), fmt(rows.length));
    assert.equal(await page.textContent('#gains b'), fmt(gains));
    assert.equal(await page.textContent('#losses b'), '6');
    // every loss row, exactly as the tsv has it
    const shown = await page.locator('#losses-table tbody tr').evaluateAll(
      (trs) => trs.map((tr) => Array.from(tr.cells, (c) => c.textContent).join('\t')));
    assert.deepEqual(shown.sort(), losses.map((r) => [r[0], r[1], r[3], r[4], r[5]].join('\t')).sort());
    // the gains: the first thousand, and how many more
    assert.equal(await page.locator('#gains-table tbody tr').count(), 1000);
    assert.match(await page.textContent('#gains-rows'), new RegExp(`and ${fmt(gains - 1000)} more`));
    // the losses' chart on its own scale: its largest bar is wide though gains are millions of times more
    const lossBars = page.locator('#chart-losses-permission rect.loss');
    assert.equal(await lossBars.count(), lossesPerPerm.size);
    const lossWidth = (await lossBars.first().boundingBox()).width;
    assert.ok(lossWidth > 100, `the largest loss bar is ${lossWidth} px wide`);
    const perm = await page.locator('#chart-losses-permission .bar-row').evaluateAll(
      (rs) => rs.map((r) => [r.querySelector('.label').title, r.querySelector('.value').textContent]));
    assert.deepEqual(new Map(perm.map(([p, n]) => [p, Number(n)])), lossesPerPerm);
    const smallest = await page.locator('#chart-gains-devicegroup rect.gain').evaluateAll(
      (rects) => Math.min(...rects.map((r) => r.getBoundingClientRect().width)));
    assert.ok(smallest > 100, 'gains per device group drawn to their own scale');
    // the N largest groups and device groups, then one line for the rest
    assert.equal(await page.locator('#chart-gains-group rect').count(), 10);
    const more = await page.textContent("#chart-gains-group .more");
    assert.match(more, new RegExp(`^${fmt(GROUPS - 10)} more groups`));
    assert.equal(await page.locator('#chart-gains-devicegroup rect').count(), 10);
    assert.equal(await page.locator('#chart-gains-group .label').first().getAttribute('title'), LONG_GROUP);
    // every number with thousands separators
    const numbers = await page.locator('.card b, .value, td.num').allTextContents();
    assert.ok(numbers.length > 30);
    for (const n of numbers) assert.match(n, /^\d{1,3}(,\d{3})*$/, `'${n}' is not a number with separators`);
    assert.ok(numbers.some((n) => n.includes(',')));
    for (const width of [1280, 720]) {
      const p = width === 1280 ? page : await open(browser, pageFile, width);
      const height = await p.evaluate(() => document.documentElement.scrollHeight);
      assert.ok(height < 20000, `the page is ${height} px tall at ${width} px wide`);
      assert.deepEqual(await layoutProblems(p), [], `at ${width} px`);
      await p.screenshot({ path: path.join(out, `impact-many-${width}.png`), fullPage: true });
    }
    // opened, the gains' table is long but the page stays bounded by the thousand rows
    await page.locator('#gains-rows summary').click();
    assert.ok(await page.locator('#gains-table').isVisible());
  } finally {
    await browser.close();
  }
});
