// web/src/legacy.js - Settings > Endpoints > Roles: Defender for Endpoint's
// legacy roles, in seed 000's steps and words: + Add item; Role name,
// Description and the permission options as checkboxes; Next; the filter and
// the Azure AD groups it matches; Save. Edit and delete. When Defender for
// Endpoint already runs on unified roles, the page says so and links there.
// The roles are /legacy/mde/roles objects (docs/api.md), groups /groups.
// Depends on: lit, base.js, api.js, picker.js.
import { html, nothing } from 'lit';
import { Page } from './base.js';
import { api, all, enc } from './api.js';
import './picker.js';

// The seed's permission options: [heading, [[label, value sent, other spellings]]].
export const MDE_OPTIONS = [
  ['View data', [
    ['Security operations', 'View data - Security operations'],
    ['Threat and vulnerability management', 'View data - Threat and vulnerability management']]],
  ['Active remediation actions', [
    ['Security operations', 'Active remediation actions - Security operations'],
    ['Threat and vulnerability management - Exception handling', 'Active remediation actions - Threat and vulnerability management - Exception handling'],
    ['Threat and vulnerability management - Remediation handling', 'Active remediation actions - Threat and vulnerability management - Remediation handling']]],
  [null, [['Alerts investigation', 'Alerts investigation']]],
  [null, [['Manage security settings in Security Center', 'Manage security settings in Security Center', 'Manage security settings in the Security Center']]],
  ['Live response capabilities', [
    ['Basic', 'Live response capabilities - Basic commands', 'Live response capabilities'],
    ['Advanced', 'Live response capabilities - Advanced commands', 'Live response capabilities - advanced']]],
];
const spellings = (o) => [o[1], ...o.slice(2)].map((s) => s.toLowerCase());
const SEED = MDE_OPTIONS.flatMap(([, opts]) => opts);

class LegacyRoles extends Page {
  static properties = { ...Page.properties, roles: { state: true }, mode: { state: true }, form: { state: true } };

  willUpdate(changed) {
    if (changed.has('ctx')) this.load();
  }

  async load() {
    this.form = null;
    await this.run(async () => {
      this.roles = await all(`${this.base}/legacy/mde/roles`);
      const w = (await api('GET', `${this.base}/workloads`)).json.value;
      this.mode = w.find((x) => x.id === 'mde')?.mode;
    });
  }

  // Shows a step of the form, the focus on `selector` in it (a keyboard user
  // goes on from there, not from the top of the page).
  step(form, selector) {
    this.form = form;
    this.updateComplete.then(() => this.querySelector(selector)?.focus());
  }

  add() {
    this.step({ step: 1, isNew: true, name: '', description: '', permissions: [], groups: [] }, '#role-name');
  }

  edit(role) {
    const picked = (role.permissions || []).map((p) => SEED.find((o) => spellings(o).includes(p.toLowerCase()))?.[1] || p);
    this.step({ step: 1, isNew: false, name: role.name, description: role.description || '', permissions: picked, groups: [...(role.groups || [])] },
      this.canManage ? '#role-description' : '#role-name');
  }

  async deleteItem(role) {
    if (!confirm(`Delete the role ${role.name}?`)) return;
    if (await this.run(() => api('DELETE', `${this.base}/legacy/mde/roles/${enc(role.name)}`))) this.load();
  }

  // Step 1 -> 2: keeps what was typed and chosen, then lists the groups.
  async next(ev) {
    ev.preventDefault();
    const f = this.form;
    f.name = this.querySelector('#role-name').value.trim();
    f.description = this.querySelector('#role-description').value.trim();
    f.permissions = [...this.querySelectorAll('input[name=permission]:checked')].map((c) => c.value);
    if (!f.name) {
      this.error = { message: 'Enter a role name', target: 'name' };
      return;
    }
    this.step({ ...f, step: 2 }, '#role-groups-heading');
  }

  async save(ev) {
    ev.preventDefault();
    const f = this.form;
    const body = { name: f.name, description: f.description || undefined, permissions: f.permissions, groups: f.groups };
    if (await this.run(() => api('PUT', `${this.base}/legacy/mde/roles/${enc(f.name)}`, body))) this.load();
  }

  permissionsStep() {
    const f = this.form;
    const box = ([label, value], heading) => html`<li><label><input type="checkbox" name="permission" value=${value}
      ?checked=${f.permissions.includes(value)} ?disabled=${!this.canManage}> ${label}</label></li>`;
    return html`<form @submit=${this.next} aria-label="Role">
      <h2>${f.isNew ? 'Add role' : `Edit role ${f.name}`}</h2>
      <label for="role-name">Role name</label>
      <input id="role-name" .value=${f.name} ?readonly=${!f.isNew} required>${this.fieldError('name')}
      <label for="role-description">Description</label>
      <input id="role-description" .value=${f.description}>${this.fieldError('description')}
      <fieldset><legend>Permissions</legend>
        ${MDE_OPTIONS.map(([heading, opts]) => heading
          ? html`<fieldset class="sub"><legend>${heading}</legend><ul>${opts.map((o) => box(o, heading))}</ul></fieldset>`
          : html`<ul>${opts.map((o) => box(o))}</ul>`)}
        ${f.permissions.filter((p) => !SEED.some((o) => o[1] === p)).map((p) => html`<ul><li><label><input type="checkbox" name="permission" value=${p} checked> ${p}</label></li></ul>`)}
      </fieldset>${this.fieldError('permissions')}
      <div class="actions"><fluent-button role="button" appearance="primary" type="submit">Next</fluent-button>
      <fluent-button role="button" @click=${() => { this.form = null; }}>Cancel</fluent-button></div>
    </form>`;
  }

  groupsStep() {
    const f = this.form;
    return html`<form @submit=${this.save} aria-label="Assigned user groups">
      <h2 id="role-groups-heading" tabindex="-1">Assigned user groups: ${f.name}</h2>
      <urbac-group-picker id="role-groups" legend="Azure AD user groups" .base=${this.base} .selected=${f.groups}
        ?readonly=${!this.canManage} @select-groups=${(e) => { this.form = { ...this.form, groups: e.detail }; }}></urbac-group-picker>
      ${this.fieldError('groups')}
      <div class="actions">
        <fluent-button role="button" @click=${() => this.step({ ...f, step: 1 }, '#role-name')}>Back</fluent-button>
        ${this.canManage ? html`<fluent-button role="button" appearance="primary" type="submit">Save</fluent-button>` : nothing}
        <fluent-button role="button" @click=${() => { this.form = null; }}>Cancel</fluent-button></div>
    </form>`;
  }

  render() {
    return html`<h1>Roles</h1><p class="crumbs">Settings > Endpoints > Permissions > Roles</p>
      ${this.mode === 'unified' ? html`<div class="message info" role="status">Microsoft Defender for Endpoint uses
        Microsoft Defender XDR unified roles: these roles no longer decide access. Manage access in
        <a href="#/permissions/roles">Permissions > Microsoft Defender XDR > Roles</a>.</div>` : nothing}
      ${this.pageError('name', 'description', 'permissions', 'groups')}
      ${this.form ? (this.form.step === 1 ? this.permissionsStep() : this.groupsStep()) : html`
        ${this.canManage ? html`<fluent-button role="button" appearance="primary" @click=${this.add}>+ Add item</fluent-button>` : nothing}
        <table><caption>Defender for Endpoint roles</caption>
        <thead><tr><th scope="col">Role</th><th scope="col">Description</th><th scope="col">Permissions</th><th scope="col">Assigned user groups</th><th scope="col">Actions</th></tr></thead>
        <tbody>${this.shown(this.roles || []).map((r) => html`<tr><td>${r.name}</td><td>${r.description || ''}</td>
          <td>${(r.permissions || []).join('; ')}</td><td>${(r.groups || []).join(', ')}</td>
          <td><fluent-button role="button" size="small" @click=${() => this.edit(r)}>${this.canManage ? 'Edit' : 'View'}<span class="visually-hidden"> ${r.name}</span></fluent-button>
          ${this.canManage ? html`<fluent-button role="button" size="small" @click=${() => this.deleteItem(r)}>Delete<span class="visually-hidden"> ${r.name}</span></fluent-button>` : nothing}</td></tr>`)}
        </tbody></table>${this.rowsPager(this.roles || [])}`}`;
  }
}
customElements.define('urbac-legacy-roles', LegacyRoles);
