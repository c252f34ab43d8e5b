// bench/peers/report.mjs - bench/RESULTS.md from urbac's figures and the peers'.
// Usage: node report.mjs URBAC_TSV PEERS_JSONL
import { readFileSync } from 'node:fs';
import os from 'node:os';

const [urbacTsv, peersJsonl] = process.argv.slice(2);
const u = Object.fromEntries(readFileSync(urbacTsv, 'utf8').trim().split('\n').map((l) => l.split('\t')));
const peers = readFileSync(peersJsonl, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const targets = { CASL: 20, Cedar: 1000, Casbin: 1000, 'Casbin (Go)': 1000 };
const fmt = (x, d = 0) => Number(x).toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const urbacRate = Number(u.checks_per_s_1_thread), urbacMib = Number(u.engine_mib);

const rows = peers.map((p) => {
  const ratio = urbacRate / p.checks_per_s, mem = p.engine_mib / urbacMib;
  const ok = ratio >= targets[p.engine] && urbacMib < p.engine_mib;
  return `| ${p.engine} | ${p.package} ${p.version} | ${fmt(p.load_s, 2)} s | ${fmt(p.checks_per_s)} | ${fmt(p.checks)} | ${fmt(p.engine_mib)} MiB | **${fmt(ratio)}x** (target ${targets[p.engine]}x) | ${fmt(mem, 1)}x less | ${ok ? 'met' : 'MISSED'} |`;
});

console.log(`# urbac against the engines people would pick instead

Measured in one run of \`make bench-peers\` on one machine: ${os.cpus()[0].model}, ${os.cpus().length} cores,
${fmt(os.totalmem() / 2 ** 30, 1)} GiB; Node.js ${process.version} for the peers. Date: ${new Date().toISOString().slice(0, 10)}.

Workload: bench/gen.c, seed 42 (the core benchmark's): 100,000 users in 1 to 5 groups (skewed),
10,000 groups (some nested), 500 roles of 1 to 8 permissions with 1 to 3 assignments, 200 device
groups, 5,000 devices; mde and mdo on unified roles, mdi on its legacy roles; 1,000,000 questions,
${fmt(Number(u.allowed_fraction) * 100, 1)}% of them allowed. How each peer models it, and why that is fair to it:
[bench/README.md](README.md).

Every answer of every peer was compared with urbac's: a single difference fails the run. The slow
peers answer the first questions of the same list (the count is in the table), each run timed.

| engine | package | load and build | checks/s, 1 thread (median of runs) | questions answered and compared | memory once built | urbac's speed | urbac's memory | targets |
|---|---|---|---|---|---|---|---|---|
| urbac | liburbac (this repository) | ${fmt(Number(u.tenant_load_s) + Number(u.compile_s), 2)} s | ${fmt(urbacRate)} | ${fmt(Number(u.queries))} | ${fmt(urbacMib)} MiB | | | |
${rows.join('\n')}

"Memory once built" is the process's resident memory after loading the facts and building the
engine, before the questions are read (urbac: the tenant file loaded and the snapshot compiled,
\`/proc/self/statm\`; the peers: \`process.memoryUsage().rss\`, Node.js itself included).
urbac's checks per second are in process on one thread, as the peers' are; \`make bench\` has
its end-to-end and multi-core figures (bench/results/core.md).`);
