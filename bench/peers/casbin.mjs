// bench/peers/casbin.mjs - the workload in Casbin (npm casbin), as a Casbin user
// writes it: RBAC with domains, the workload being the domain. Role inheritance
// (g) carries user -> group, group -> parent group, and user or group ->
// directory role or MDI role; policies (p) say which principal may do which
// action on which workload and object: "*" (all device groups) or a device
// group ("dg:dg001"). A question's object is "all", "any" or "dg:<id>"; the
// matcher lets "*" serve every object, and "any" be served by any device group.
// Disabled users get no role links. Usage: node casbin.mjs DATA_DIR N RUNS
import { newEnforcer, newModelFromString, StringAdapter } from 'casbin';
import { load, loadQueries, engineMemory, dirRoleCounts, now, measure, report, version } from './common.mjs';

const [dir, nArg, runsArg] = process.argv.slice(2);
const world = load(dir);
const t0 = now();

const model = newModelFromString(`
[request_definition]
r = sub, dom, obj, act
[policy_definition]
p = sub, dom, obj, act
[role_definition]
g = _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = g(r.sub, p.sub) && r.dom == p.dom && (p.obj == "*" || r.obj == "any" || r.obj == p.obj) && r.act == p.act
`);

const lines = [];
const csv = (...f) => lines.push(f.map((x) => (/[,"]/.test(x) ? `"${x.replaceAll('"', '""')}"` : x)).join(', '));
world.assignments.forEach((a) => {
  const who = [...a.groups.map((g) => `group:${g}`), ...a.users.map((u) => `user:${u}`)];
  const objects = a.deviceGroups === null ? null : a.deviceGroups.map((d) => `dg:${d}`);
  for (const w of a.workloads) {
    if (world.modes[w] !== 'unified') continue;
    for (const p of who)
      for (const action of world.roles[a.role].actions)
        for (const obj of w === 'mde' && objects ? objects : ['*']) csv('p', p, w, obj, action);
  }
});
for (const [role, perWorkload] of Object.entries(world.directoryRoles))
  for (const [w, actions] of Object.entries(perWorkload))
    if (dirRoleCounts(world, role, w)) for (const action of actions) csv('p', `dirrole:${role}`, w, '*', action);
if (world.modes.mdi === 'legacy')
  for (const r of world.legacyMdi) for (const action of r.actions) csv('p', `mdirole:${r.role}`, 'mdi', '*', action);
for (const u of world.users) {
  if (!u.enabled) continue;
  for (const g of u.groups) csv('g', `user:${u.id}`, `group:${g}`);
  for (const r of u.dirRoles) csv('g', `user:${u.id}`, `dirrole:${r}`);
}
for (const g of world.groups) {
  for (const p of g.parents) csv('g', `group:${g.id}`, `group:${p}`);
  for (const r of g.dirRoles) csv('g', `group:${g.id}`, `dirrole:${r}`);
}
const enabled = new Set(world.users.filter((u) => u.enabled).map((u) => u.id));
for (const r of world.legacyMdi) {
  for (const u of r.users) if (enabled.has(u)) csv('g', `user:${u}`, `mdirole:${r.role}`);
  for (const g of r.groups) csv('g', `group:${g}`, `mdirole:${r.role}`);
}
// a disabled user named directly in an assignment must not be served by it
const policyText = lines.filter((l) => !/^p, user:/.test(l) || enabled.has(l.split(', ')[1].slice(5))).join('\n');
const enforcer = await newEnforcer(model, new StringAdapter(policyText));
const loadS = now() - t0;
const engineMib = engineMemory();
const { queries, answers } = loadQueries(dir);

const n = Math.min(Number(nArg), queries.length);
const rate = await measure('casbin', queries, answers, n, Number(runsArg), (x) =>
  enforcer.enforceSync(`user:${x.user}`, x.workload, x.scope === 'dg' ? `dg:${x.dg}` : x.scope, x.action));
report({ engine: 'Casbin', package: 'casbin', version: version('casbin'), load_s: loadS, engine_mib: engineMib, checks: n, checks_per_s: rate, policy_lines: lines.length });
