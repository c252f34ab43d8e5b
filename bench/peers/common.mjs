// bench/peers/common.mjs - what every peer harness shares: reading the facts
// urbac exported (world.json, queries.json, answers.txt), the closure of a
// user's groups, timing, and checking every answer against urbac's.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export function load(dir) {
  return JSON.parse(readFileSync(path.join(dir, 'world.json'), 'utf8'));
}

// The questions and urbac's answers, read after the engine is built so that the
// engine's own memory can be measured first (engineMemory).
export function loadQueries(dir) {
  const queries = JSON.parse(readFileSync(path.join(dir, 'queries.json'), 'utf8'));
  const answers = readFileSync(path.join(dir, 'answers.txt'), 'utf8').trim();
  return { queries, answers };
}

// Resident memory now, in MiB: the facts and the engine built from them.
export function engineMemory() {
  return process.memoryUsage().rss / 1048576;
}

// Every group a user is in, directly or through nested groups.
export function groupIndex(world) {
  const parents = new Map(world.groups.map((g) => [g.id, g.parents]));
  const memo = new Map();
  function ancestors(id) {
    if (memo.has(id)) return memo.get(id);
    const out = new Set([id]);
    for (const p of parents.get(id) || []) for (const a of ancestors(p)) out.add(a);
    memo.set(id, out);
    return out;
  }
  return (user) => {
    const all = new Set();
    for (const g of user.groups) for (const a of ancestors(g)) all.add(a);
    return all;
  };
}

// Whether a directory role counts on a workload (semantics.md: legacy mde honours
// only Global and Security administrator).
export function dirRoleCounts(world, role, workload) {
  return world.modes[workload] === 'unified' || workload !== 'mde' ||
    role === 'Global administrator' || role === 'Security administrator';
}

export function now() { return Number(process.hrtime.bigint()) / 1e9; }
export function median(v) { const s = [...v].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; }

// Answers `n` queries with `check` (true: allow), `runs` times; compares every
// answer with urbac's and returns checks per second (median of the runs).
export async function measure(name, queries, answers, n, runs, check) {
  const rates = [];
  let mismatches = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = now();
    for (let i = 0; i < n; i++) {
      const allow = await check(queries[i]);
      if (r === 0 && (allow ? '1' : '0') !== answers[i]) {
        if (mismatches++ < 10)
          console.error(`${name}: query ${i + 1} ${JSON.stringify(queries[i])}: ${allow ? 'allow' : 'deny'}, urbac says ${answers[i] === '1' ? 'allow' : 'deny'}`);
      }
    }
    rates.push(n / (now() - t0));
  }
  if (mismatches) {
    console.error(`${name}: ${mismatches} of ${n} answers differ from urbac's: the harness is wrong and must be fixed`);
    process.exit(1);
  }
  return median(rates);
}

export function report(result) {
  result.peak_rss_mib = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify(result));
}

// The installed version of a package (from its package.json in node_modules).
export function version(pkg) {
  return JSON.parse(readFileSync(new URL(`./node_modules/${pkg}/package.json`, import.meta.url), 'utf8')).version;
}
