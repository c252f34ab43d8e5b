// tests/web/impact.test.mjs - the impact report as a person sees it: urbac
// writes the HTML page, Debian's chromium opens it (driven by playwright-core),
// and the test reads what is on the page and clicks a column to sort it.
// Environment: URBAC (the binary), URBAC_SRC (the source tree), URBAC_OUT (a folder).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
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

test('the impact page shows the summary, the charts and sortable changes', async () => {
  const page_file = path.join(out, 'impact.html');
  const r = spawnSync(urbac, ['impact', 'mde', '--tenant', path.join(src, 'examples/litware.yaml'), '--import',
    '--format', 'html', '--explain', '--output', page_file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const browser = await launch();
  try {
    const page = await browser.newPage();
    await page.goto('file://' + page_file);
    assert.match(await page.title(), /activating mde on litware/);
    assert.equal(await page.textContent('#changes b'), '12');
    assert.equal(await page.textContent('#users b'), '3');
    assert.equal(await page.textContent('#gains b'), '6');
    assert.equal(await page.textContent('#losses b'), '6');
    // one pair of bars per permission that changes, drawn to scale
    assert.equal(await page.locator('#chart-permissions rect.gain').count(), 5);
    const widths = await page.locator('#chart-permissions rect.gain').evaluateAll(
      (rects) => rects.map((r) => Number(r.getAttribute('width'))));
    assert.ok(Math.max(...widths) > 0 && widths.includes(0));
    assert.equal(await page.locator('#chart-groups rect.loss').count(), await page.locator('#by-group tbody tr').count());
    // every change is a row, with its reasons
    const rows = page.locator('#changes-table tbody tr');
    assert.equal(await rows.count(), 12);
    assert.ok((await page.textContent('#changes-table')).includes('directory role Security reader now counts on mde'));
    // sorting: click "user" twice for descending
    const header = page.locator('#changes-table th', { hasText: 'user' });
    await header.click();
    assert.equal(await rows.first().locator('td').first().textContent(), 'ana@litware.com');
    await header.click();
    assert.equal(await header.getAttribute('aria-sort'), 'descending');
    assert.equal(await rows.first().locator('td').first().textContent(), 'dev@litware.com');
    // and numbers sort as numbers in the summary tables
    const gains = page.locator('#by-permission th', { hasText: 'gains' });
    await gains.click();
    await gains.click();
    assert.equal(await page.locator('#by-permission tbody tr').first().locator('td').nth(1).textContent(), '3');
    await page.screenshot({ path: path.join(out, 'impact.png'), fullPage: true });
  } finally {
    await browser.close();
  }
});
