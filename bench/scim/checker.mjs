// bench/scim/checker.mjs - GET /check one question at a time, in its own process
// (so the writers' event loop does not stretch its latencies), until told to stop;
// then sends {n, p50, p99, max, failed} (milliseconds) to its parent (bench/scim/run.mjs).
// Usage: forked by run.mjs with BASE PSK.
import { agent, request } from '../client.mjs';

const [base, psk] = process.argv.slice(2);
const pool = agent(1);
const questions = [
  ['analyst@bench.example', 'Security operations \\ Security data \\ Alerts (manage)'],
  ['analyst@bench.example', 'Security operations \\ Security data \\ Response (manage)'],
  ['reader@bench.example', 'Security operations \\ Security data \\ Alerts (manage)'],
].map(([user, permission]) => `${base}/api/v1/tenants/bench/check?` + new URLSearchParams({ user, permission, workload: 'mde' }));
const ms = [];
let failed = 0, stop = false;
process.on('message', () => { stop = true; });
process.send('running');
for (let i = 0; !stop; i++) {
  const t0 = process.hrtime.bigint();
  try { // a refused or reset connection is a failed check, not the end of the checker
    const res = await request(pool, 'GET', questions[i % questions.length], { authorization: `Bearer ${psk}` });
    if (res.status !== 200) failed++;
  } catch {
    failed++;
  }
  ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  await new Promise((r) => setTimeout(r, 2)); // about 400 checks a second: a steady reader, not a flood
}
// a summary, not every latency (a long run holds hundreds of thousands), and the
// channel closed only once it is sent
const sorted = ms.sort((a, b) => a - b);
const at = (p) => (sorted.length ? Number(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))].toFixed(2)) : null);
process.send({ n: sorted.length, p50: at(50), p99: at(99), max: at(100), failed }, () => process.disconnect());
