// bench/peers/casl.mjs - the workload in CASL (@casl/ability), as a CASL user
// writes it: one ability per user, built from the rules of every role
// assignment, directory role and legacy MDI role that reaches the user; each
// question asks the ability whether the action is allowed on a "Scope" subject
// ({workload, kind: all | any | dg, dg}). An assignment to all device groups
// matches any scope of its workloads; one scoped to device groups matches "any"
// and those groups. Usage: node casl.mjs DATA_DIR N RUNS
import { createMongoAbility, subject } from '@casl/ability';
import { load, loadQueries, engineMemory, groupIndex, dirRoleCounts, now, measure, report, version } from './common.mjs';

const [dir, nArg, runsArg] = process.argv.slice(2);
const world = load(dir);

const t0 = now();
const groupsOf = groupIndex(world);
const byGroup = new Map(), byUser = new Map();
function index(map, key, value) { if (!map.has(key)) map.set(key, []); map.get(key).push(value); }
world.assignments.forEach((a) => {
  a.groups.forEach((g) => index(byGroup, g, a));
  a.users.forEach((u) => index(byUser, u, a));
});
const mdiByGroup = new Map(), mdiByUser = new Map();
world.legacyMdi.forEach((r) => {
  r.groups.forEach((g) => index(mdiByGroup, g, r));
  r.users.forEach((u) => index(mdiByUser, u, r));
});
const groupDir = new Map(world.groups.map((g) => [g.id, g.dirRoles]));

function rulesFor(user) {
  const rules = [];
  if (!user.enabled) return rules;
  const groups = groupsOf(user);
  const assignments = new Set(byUser.get(user.id) || []);
  for (const g of groups) for (const a of byGroup.get(g) || []) assignments.add(a);
  for (const a of assignments) {
    const actions = world.roles[a.role].actions;
    for (const w of a.workloads) {
      if (world.modes[w] !== 'unified') continue;
      for (const action of actions) {
        if (w !== 'mde' || a.deviceGroups === null) {
          rules.push({ action, subject: 'Scope', conditions: { workload: w } });
        } else if (a.deviceGroups.length) {
          rules.push({ action, subject: 'Scope', conditions: { workload: w, kind: 'any' } });
          rules.push({ action, subject: 'Scope', conditions: { workload: w, kind: 'dg', dg: { $in: a.deviceGroups } } });
        }
      }
    }
  }
  const dirRoles = new Set(user.dirRoles);
  for (const g of groups) for (const r of groupDir.get(g) || []) dirRoles.add(r);
  for (const r of dirRoles)
    for (const [w, actions] of Object.entries(world.directoryRoles[r]))
      if (dirRoleCounts(world, r, w)) for (const action of actions) rules.push({ action, subject: 'Scope', conditions: { workload: w } });
  if (world.modes.mdi === 'legacy') {
    const mdi = new Set(mdiByUser.get(user.id) || []);
    for (const g of groups) for (const r of mdiByGroup.get(g) || []) mdi.add(r);
    for (const r of mdi) for (const action of r.actions) rules.push({ action, subject: 'Scope', conditions: { workload: 'mdi' } });
  }
  return rules;
}

const abilities = new Map(world.users.map((u) => [u.id, createMongoAbility(rulesFor(u))]));
const none = createMongoAbility([]);
const loadS = now() - t0;
const engineMib = engineMemory();
const { queries, answers } = loadQueries(dir);

const n = Math.min(Number(nArg), queries.length);
const rate = await measure('casl', queries, answers, n, Number(runsArg), (q) =>
  (abilities.get(q.user) || none).can(q.action, subject('Scope', { workload: q.workload, kind: q.scope, dg: q.dg })));
report({ engine: 'CASL', package: '@casl/ability', version: version('@casl/ability'), load_s: loadS, engine_mib: engineMib, checks: n, checks_per_s: rate });
