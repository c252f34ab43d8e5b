// web/src/roles.js - Permissions > Microsoft Defender XDR > Roles: the unified
// roles (/roleDefinitions, /roleAssignments, shaped like Graph's
// roleManagement/defender) and the Create custom role wizard: Basics >
// Permissions, by group, with "All read-only permissions", "All read and manage
// permissions" or "Select custom permissions" > Assignments > Review and
// finish. Edit, delete, export as CSV. The permission groups come from the
// catalog (GET /api/v1/catalog): each permission's first name part.
// Depends on: lit, base.js, api.js.
import { html, nothing } from 'lit';
import { Page, lines } from './base.js';
import { api, all, enc } from './api.js';

const GROUPS = [['Security operations', 'Security operations'], ['Security posture', 'Security posture'], ['Configuration', 'Authorization and settings']];
const SOURCES = [['Mde', 'Microsoft Defender for Endpoint'], ['Mdo', 'Microsoft Defender for Office 365'], ['Mdi', 'Microsoft Defender for Identity']];
const STEPS = ['Basics', 'Permissions', 'Assignments', 'Review and finish'];
let catalog = null;

const csvCell = (s) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

class Roles extends Page {
  static properties = { ...Page.properties, roles: { state: true }, assignments: { state: true }, w: { state: true }, deviceGroups: { state: true } };

  willUpdate(changed) {
    if (changed.has('ctx')) this.load();
  }

  async load() {
    this.w = null;
    this.byRole = this.byRole || new Map();
    await this.run(async () => {
      catalog = catalog || (await api('GET', '/api/v1/catalog')).json;
      [this.roles, this.assignments] = await Promise.all([all(`${this.base}/roleDefinitions`), all(`${this.base}/roleAssignments`)]);
      this.byRole = new Map();
      for (const a of this.assignments) this.byRole.set(a.roleDefinitionId, [...(this.byRole.get(a.roleDefinitionId) || []), a]);
    });
  }

  perms(group) {
    return catalog.permissions.filter((p) => p.name.split(' \\ ')[0] === group);
  }

  // The actions a group's choice grants.
  actions(w) {
    const out = [];
    for (const [g] of GROUPS) {
      const c = w.groups[g];
      for (const p of this.perms(g)) {
        if (c === 'read' && p.levels.includes('read')) out.push(`${p.id}/read`);
        else if (c === 'manage') out.push(`${p.id}/${p.levels.includes('manage') ? 'manage' : 'read'}`);
        else if (c === 'custom' && w.custom[p.id]) out.push(`${p.id}/${w.custom[p.id]}`);
      }
    }
    return out;
  }

  async start(role) {
    this.deviceGroups = (await this.run(() => all(`${this.base}/deviceGroups`))) || [];
    const w = { step: 0, isNew: !role, name: role?.displayName || '', description: role?.description || '', groups: {}, custom: {}, assignments: [] };
    for (const [g] of GROUPS) w.groups[g] = 'none';
    if (role) {
      const have = new Set(role.rolePermissions.flatMap((rp) => rp.allowedResourceActions));
      for (const p of catalog.permissions) {
        const lvl = have.has(`${p.id}/manage`) || have.has(`${p.id}/all`) ? 'manage' : have.has(`${p.id}/read`) ? 'read' : null;
        if (lvl) w.custom[p.id] = lvl;
      }
      for (const [g] of GROUPS) if (this.perms(g).some((p) => w.custom[p.id])) w.groups[g] = 'custom';
      w.assignments = this.assignments.filter((a) => a.roleDefinitionId === role.id).map((a) => ({
        id: a.id, name: a.displayName, principals: a.principalIds.join(', '),
        all: a.appScopeIds.includes('/'), sources: a.appScopeIds.filter((s) => !s.startsWith('/')),
        deviceGroups: a.appScopeIds.filter((s) => s.startsWith('/DeviceGroups/')).map((s) => s.slice(14)),
      }));
      w.id = role.id;
    }
    this.w = w;
  }

  set(patch) {
    this.w = { ...this.w, ...patch };
  }

  readBasics() {
    const name = this.querySelector('#role-name')?.value.trim();
    if (name !== undefined) this.set({ name, description: this.querySelector('#role-description').value.trim() });
  }

  go(step) {
    if (this.w.step === 0) this.readBasics();
    if (step > 0 && !this.w.name) {
      this.error = { message: 'Enter a role name', target: 'displayName' };
      return;
    }
    this.error = null;
    this.set({ step });
    this.updateComplete.then(() => this.querySelector('.wizard h2')?.focus());
  }

  assignmentBody(a, roleId) {
    const scopes = a.all ? ['/'] : [...a.sources];
    if (a.sources.includes('Mde') || a.all) scopes.push(...a.deviceGroups.map((d) => `/DeviceGroups/${d}`));
    return { displayName: a.name, roleDefinitionId: roleId, principalIds: lines(a.principals), appScopeIds: scopes };
  }

  async finish() {
    const w = this.w;
    const def = { displayName: w.name, description: w.description, rolePermissions: [{ allowedResourceActions: this.actions(w) }] };
    const ok = await this.run(async () => {
      let id = w.id;
      if (w.isNew) id = (await api('POST', `${this.base}/roleDefinitions`, def)).json.id;
      else await api('PATCH', `${this.base}/roleDefinitions/${enc(id)}`, { description: def.description, rolePermissions: def.rolePermissions });
      const old = this.assignments.filter((a) => a.roleDefinitionId === id);
      for (const a of old) if (!w.assignments.some((x) => x.id === a.id)) await api('DELETE', `${this.base}/roleAssignments/${enc(a.id)}`);
      for (const a of w.assignments) {
        const body = this.assignmentBody(a, id);
        if (a.id) await api('PATCH', `${this.base}/roleAssignments/${enc(a.id)}`, { principalIds: body.principalIds, appScopeIds: body.appScopeIds });
        else await api('POST', `${this.base}/roleAssignments`, body);
      }
      return true;
    });
    if (ok) this.load();
  }

  async deleteItem(role) {
    if (!confirm(`Delete the role ${role.displayName}?`)) return;
    if (await this.run(() => api('DELETE', `${this.base}/roleDefinitions/${enc(role.id)}`))) this.load();
  }

  exportCsv() {
    const rows = [['Role name', 'Description', 'Permissions', 'Assignment', 'Users and groups', 'Data sources']];
    for (const r of this.roles) {
      const perms = r.rolePermissions.flatMap((p) => p.allowedResourceActions).join('; ');
      const as = this.assignments.filter((a) => a.roleDefinitionId === r.id);
      if (!as.length) rows.push([r.displayName, r.description || '', perms, '', '', '']);
      for (const a of as) rows.push([r.displayName, r.description || '', perms, a.displayName, a.principalIds.join('; '), a.appScopeIds.join('; ')]);
    }
    const blob = new Blob([rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n'], { type: 'text/csv' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${this.ctx.tenant}-roles.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  basicsStep() {
    return html`<label for="role-name">Role name</label>
      <input id="role-name" .value=${this.w.name} ?readonly=${!this.w.isNew} required>${this.fieldError('displayName')}
      <label for="role-description">Description</label><input id="role-description" .value=${this.w.description}>${this.fieldError('description')}`;
  }

  permissionsStep() {
    const w = this.w;
    const choose = (g, v) => this.set({ groups: { ...w.groups, [g]: v } });
    return html`${GROUPS.map(([g, label]) => html`<fieldset><legend>${label}</legend>
      ${[['none', 'No permissions'], ['read', 'All read-only permissions'], ['manage', 'All read and manage permissions'], ['custom', 'Select custom permissions']].map(([v, l]) => html`
        <label class="radio"><input type="radio" name="grp-${g}" .checked=${w.groups[g] === v} @change=${() => choose(g, v)}> ${l}</label>`)}
      ${w.groups[g] === 'custom' ? html`<ul class="perms">${this.perms(g).map((p) => html`<li>
        <label for="perm-${p.id}">${p.name.split(' \\ ').slice(1).join(' \\ ')}</label>
        <select id="perm-${p.id}" @change=${(e) => this.set({ custom: { ...w.custom, [p.id]: e.target.value || undefined } })}>
          <option value="">None</option>${p.levels.map((l) => html`<option value=${l} ?selected=${w.custom[p.id] === l}>${l === 'read' ? 'Read' : 'Manage'}</option>`)}
        </select></li>`)}</ul>` : nothing}</fieldset>`)}
      ${this.fieldError('rolePermissions')}`;
  }

  editAssignment(i, patch) {
    this.set({ assignments: this.w.assignments.map((a, k) => (k === i ? { ...a, ...patch } : a)) });
  }

  assignmentsStep() {
    const w = this.w;
    return html`${w.assignments.map((a, i) => html`<fieldset><legend>Assignment ${i + 1}</legend>
        <label for="as-name-${i}">Assignment name</label>
        <input id="as-name-${i}" .value=${a.name} ?readonly=${!!a.id} @input=${(e) => this.editAssignment(i, { name: e.target.value })}>
        <label for="as-principals-${i}">Users and groups (comma separated; a group as group:ID)</label>
        <input id="as-principals-${i}" .value=${a.principals} @input=${(e) => this.editAssignment(i, { principals: e.target.value })}>
        <fieldset class="sub"><legend>Data sources</legend>
          <label><input type="checkbox" .checked=${a.all} @change=${(e) => this.editAssignment(i, { all: e.target.checked })}> Choose all data sources (now and future)</label>
          ${a.all ? nothing : SOURCES.map(([id, l]) => html`<label><input type="checkbox" .checked=${a.sources.includes(id)}
            @change=${(e) => this.editAssignment(i, { sources: e.target.checked ? [...a.sources, id] : a.sources.filter((s) => s !== id) })}> ${l}</label>`)}
        </fieldset>
        ${a.all || a.sources.includes('Mde') ? html`<fieldset class="sub"><legend>Device groups (Microsoft Defender for Endpoint; none chosen: all device groups)</legend>
          ${this.deviceGroups.map((d) => html`<label><input type="checkbox" .checked=${a.deviceGroups.includes(d.id)}
            @change=${(e) => this.editAssignment(i, { deviceGroups: e.target.checked ? [...a.deviceGroups, d.id] : a.deviceGroups.filter((x) => x !== d.id) })}> ${d.id}</label>`)}</fieldset>` : nothing}
        <fluent-button role="button" @click=${() => this.set({ assignments: w.assignments.filter((_, k) => k !== i) })}>Remove assignment ${i + 1}</fluent-button>
      </fieldset>`)}
      <fluent-button role="button" @click=${() => this.set({ assignments: [...w.assignments, { name: '', principals: '', all: true, sources: [], deviceGroups: [] }] })}>Add assignment</fluent-button>`;
  }

  reviewStep() {
    const w = this.w;
    const actions = this.actions(w);
    return html`<dl>
      <dt>Role name</dt><dd>${w.name}</dd><dt>Description</dt><dd>${w.description || '-'}</dd>
      <dt>Permissions</dt><dd><ul>${actions.map((a) => html`<li>${a}</li>`)}</ul>${actions.length ? nothing : 'none'}</dd>
      <dt>Assignments</dt><dd><ul>${w.assignments.map((a) => html`<li>${a.name}: ${a.principals}; ${this.assignmentBody(a, '').appScopeIds.join(', ')}</li>`)}</ul></dd></dl>`;
  }

  wizard() {
    const w = this.w;
    const views = [() => this.basicsStep(), () => this.permissionsStep(), () => this.assignmentsStep(), () => this.reviewStep()];
    return html`<section class="wizard" aria-label=${w.isNew ? 'Create custom role' : 'Edit role'}>
      <ol class="steps">${STEPS.map((s, i) => html`<li aria-current=${i === w.step ? 'step' : 'false'}>${s}</li>`)}</ol>
      <h2 tabindex="-1">${STEPS[w.step]}</h2>
      ${views[w.step]()}
      <div class="actions">
        ${w.step > 0 ? html`<fluent-button role="button" @click=${() => this.go(w.step - 1)}>Back</fluent-button>` : nothing}
        ${w.step < 3 ? html`<fluent-button role="button" appearance="primary" @click=${() => this.go(w.step + 1)}>Next</fluent-button>`
          : html`<fluent-button role="button" appearance="primary" @click=${this.finish}>Submit</fluent-button>`}
        <fluent-button role="button" @click=${() => { this.w = null; this.error = null; }}>Cancel</fluent-button>
      </div></section>`;
  }

  render() {
    const m = this.canManage;
    return html`<h1>Roles</h1><p class="crumbs">Permissions > Microsoft Defender XDR > Roles</p>
      ${this.pageError(...(this.w ? ['displayName', 'description', 'rolePermissions'] : []))}
      ${this.w ? this.wizard() : html`<div class="actions">
        ${m ? html`<fluent-button role="button" appearance="primary" @click=${() => this.start(null)}>Create custom role</fluent-button>` : nothing}
        <fluent-button role="button" @click=${this.exportCsv}>Export</fluent-button></div>
      <table><caption>Microsoft Defender XDR roles</caption>
        <thead><tr><th scope="col">Role name</th><th scope="col">Description</th><th scope="col">Permissions</th><th scope="col">Assignments</th><th scope="col">Actions</th></tr></thead>
        <tbody>${this.shown(this.roles || []).map((r) => html`<tr><td>${r.displayName}</td><td>${r.description || ''}</td>
          <td>${r.rolePermissions.flatMap((p) => p.allowedResourceActions).length}</td>
          <td>${(this.byRole.get(r.id) || []).map((a) => a.displayName).join(', ')}</td>
          <td>${m ? html`<fluent-button role="button" size="small" @click=${() => this.start(r)}>Edit<span class="visually-hidden"> ${r.displayName}</span></fluent-button>
            <fluent-button role="button" size="small" @click=${() => this.deleteItem(r)}>Delete<span class="visually-hidden"> ${r.displayName}</span></fluent-button>` : nothing}</td></tr>`)}
        </tbody></table>${this.rowsPager(this.roles || [])}`}`;
  }
}
customElements.define('urbac-roles', Roles);
