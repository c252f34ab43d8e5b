// bench/portal/pages.mjs - what one page of an object list costs the server, so
// it can be compared across tenant sizes (the 100,000- and 1,000,000-user bench
// tenants of bench/gen.c) and across builds (old binary, new binary, same data,
// same minute): a real `urbac serve` on loopback over a store already applied,
// Node's fetch, a preshared key. For each request: the median of 7 of the wall
// time and of the server's CPU time (utime + stime from /proc, in 10 ms ticks),
// which the other work on a shared machine does not inflate.
// Usage: node bench/portal/pages.mjs URBAC DB TENANT
// Depends on: Node 18+ (fetch), Linux /proc.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const [urbac, db, tenant] = process.argv.slice(2);
const PSK = 'bench-pages-preshared-key-0123456789';
const RUNS = 7;
const dir = mkdtempSync(path.join(tmpdir(), 'urbac-bench-pages-'));
writeFileSync(path.join(dir, 'psk'), `${PSK}\n`, { mode: 0o600 });
const srv = spawn(urbac, ['serve', '--db', db, '--listen', '127.0.0.1:0', '--preshared-key-file', path.join(dir, 'psk')]);
process.on('exit', () => {
  srv.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});
const base = await new Promise((resolve) => {
  let out = '';
  srv.stdout.on('data', (d) => {
    out += d;
    const m = out.match(/serving on (http:\/\/[^ \n]+)/);
    if (m) resolve(m[1]);
  });
});
const cpu = () => {
  const f = readFileSync(`/proc/${srv.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, ticks of 10 ms
};
const get = async (p) => (await fetch(base + p, { headers: { authorization: `Bearer ${PSK}` } })).json();
const median = (a) => a.sort((x, y) => x - y)[a.length >> 1];
const T = `/api/v1/tenants/${tenant}`;
async function time(what, fn) {
  const wall = [], used = [];
  for (let i = 0; i < RUNS; i++) {
    const c0 = cpu(), t0 = performance.now();
    await fn();
    wall.push(performance.now() - t0);
    used.push(cpu() - c0);
  }
  console.log(`| ${what} | ${median(wall).toFixed(1)} ms | ${median(used)} ms |`);
}
await get(`${T}/users?$top=1`); // the tenant loaded
console.log('| request | wall (median) | server CPU (median) |\n|---|---:|---:|');
await time('first page of 100 users', () => get(`${T}/users?$top=100`));
let next = `${T}/users?$top=100`;
for (let i = 0; i < 50; i++) next = (await get(next))['@odata.nextLink'];
const deep = next.replace(base, '');
await time('51st page of 100 users (its @odata.nextLink)', () => get(deep));
await time('`?search=user0999`: the first 50 that match', () => get(`${T}/users?search=user0999&$top=50`));
await time('`?search=no-such-user`: none match (the whole kind)', () => get(`${T}/users?search=no-such-user&$top=50`));
