// bench/scim/checker.mjs - GET /check one question at a time, in its own process
// (so the writers' event loop does not stretch its latencies), until told to stop;
// then sends {ms: [latency per check], failed} to its parent (bench/scim/run.mjs).
// Usage: forked by run.mjs with BASE PSK.
const [base, psk] = process.argv.slice(2);
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
    const res = await fetch(questions[i % questions.length], { headers: { authorization: `Bearer ${psk}` } });
    await res.text();
    if (res.status !== 200) failed++;
  } catch {
    failed++;
  }
  ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  await new Promise((r) => setTimeout(r, 2)); // about 400 checks a second: a steady reader, not a flood
}
process.send({ ms, failed });
process.disconnect();
