// bench/peers/cedar.mjs - the workload in Cedar (@cedar-policy/cedar-wasm), as a
// Cedar user writes it: users and groups are entities (a user's parents are its
// groups, a group's its parent groups; directory roles and MDI roles are entities
// the user or group is in); one permit policy per role assignment, one per
// directory role and workload, one per MDI role; a forbid for disabled users.
// The resource is the device group asked about (DeviceGroup::"dg001"), or
// Scope::"all" / Scope::"any". The policy set is parsed once
// (preparsePolicySet); each request carries the slice of entities it needs (the
// user and everything above it), as Cedar recommends.
// Usage: node cedar.mjs DATA_DIR N RUNS
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { load, loadQueries, engineMemory, groupIndex, dirRoleCounts, now, measure, report, version } from './common.mjs';

const [dir, nArg, runsArg] = process.argv.slice(2);
const world = load(dir);
const t0 = now();

const q = (s) => JSON.stringify(s);
const actionList = (actions) => `[${actions.map((a) => `Action::${q(a)}`).join(', ')}]`;

function scopeCondition(a) {
  const parts = [];
  const others = a.workloads.filter((w) => world.modes[w] === 'unified' && (w !== 'mde' || a.deviceGroups === null));
  if (others.length) parts.push(`[${others.map(q).join(', ')}].contains(context.workload)`);
  if (a.workloads.includes('mde') && world.modes.mde === 'unified' && a.deviceGroups !== null && a.deviceGroups.length) {
    const dgs = a.deviceGroups.map((d) => `DeviceGroup::${q(d)}`).join(', ');
    parts.push(`(context.workload == "mde" && (resource == Scope::"any" || resource in [${dgs}]))`);
  }
  return parts.length ? parts.join(' || ') : 'false';
}

const policies = [];
world.assignments.forEach((a, i) => {
  const who = [...a.groups.map((g) => `principal in Group::${q(g)}`), ...a.users.map((u) => `principal == User::${q(u)}`)];
  if (!who.length) return;
  policies.push(`@id("assignment${i}")\npermit(principal, action in ${actionList(world.roles[a.role].actions)}, resource)\n` +
    `when { (${who.join(' || ')}) && (${scopeCondition(a)}) };`);
});
for (const [role, perWorkload] of Object.entries(world.directoryRoles))
  for (const [w, actions] of Object.entries(perWorkload))
    if (actions.length && dirRoleCounts(world, role, w))
      policies.push(`permit(principal in DirectoryRole::${q(role)}, action in ${actionList(actions)}, resource)\nwhen { context.workload == ${q(w)} };`);
if (world.modes.mdi === 'legacy')
  for (const r of world.legacyMdi)
    policies.push(`permit(principal in MdiRole::${q(r.role)}, action in ${actionList(r.actions)}, resource)\nwhen { context.workload == "mdi" };`);
policies.push('forbid(principal, action, resource) unless { principal.enabled };');
const parsed = cedar.preparsePolicySet('urbac', { staticPolicies: policies.join('\n') });
if (parsed.type !== 'success') throw new Error(JSON.stringify(parsed.errors));

// Entities: each user's slice is built once and kept.
const groupsOf = groupIndex(world);
const group = new Map(world.groups.map((g) => [g.id, g]));
const mdiOf = new Map();
for (const r of world.legacyMdi) for (const p of [...r.users, ...r.groups]) {
  if (!mdiOf.has(p)) mdiOf.set(p, []);
  mdiOf.get(p).push({ type: 'MdiRole', id: r.role });
}
const roleParents = (id, dirRoles) => [...dirRoles.map((r) => ({ type: 'DirectoryRole', id: r })), ...(mdiOf.get(id) || [])];
const users = new Map(world.users.map((u) => [u.id, u]));
const slices = new Map();
function slice(userId) {
  if (slices.has(userId)) return slices.get(userId);
  const u = users.get(userId);
  let entities = [];
  if (u) {
    entities = [{ uid: { type: 'User', id: u.id }, attrs: { enabled: u.enabled },
      parents: [...u.groups.map((g) => ({ type: 'Group', id: g })), ...roleParents(u.id, u.dirRoles)] }];
    for (const g of groupsOf(u)) {
      const gr = group.get(g);
      entities.push({ uid: { type: 'Group', id: g }, attrs: {},
        parents: [...gr.parents.map((p) => ({ type: 'Group', id: p })), ...roleParents(g, gr.dirRoles)] });
    }
  }
  slices.set(userId, entities);
  return entities;
}
const loadS = now() - t0;
const engineMib = engineMemory();
const { queries, answers } = loadQueries(dir);

const n = Math.min(Number(nArg), queries.length);
const rate = await measure('cedar', queries, answers, n, Number(runsArg), (x) => {
  const answer = cedar.statefulIsAuthorized({
    principal: { type: 'User', id: x.user }, action: { type: 'Action', id: x.action },
    resource: x.scope === 'dg' ? { type: 'DeviceGroup', id: x.dg } : { type: 'Scope', id: x.scope },
    context: { workload: x.workload }, preparsedPolicySetId: 'urbac', entities: slice(x.user),
  });
  if (answer.type !== 'success') throw new Error(JSON.stringify(answer.errors));
  return answer.response.decision === 'allow';
});
report({ engine: 'Cedar', package: '@cedar-policy/cedar-wasm', version: version('@cedar-policy/cedar-wasm'), load_s: loadS, engine_mib: engineMib, checks: n, checks_per_s: rate, policies: policies.length });
