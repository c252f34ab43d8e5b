// web/src/devicegroups.js - Settings > Endpoints > Device groups: the device
// groups in rank order and the Ungrouped devices row; add and edit (name, rank,
// automation level, the rules a device must match, and user access: the Azure
// AD groups that may see it), with a live preview of the devices the rules
// match as they are edited (POST /deviceGroups/preview: the server's own
// matching, nothing saved); move a group up or down a rank. The groups are
// /deviceGroups objects (docs/api.md).
// Depends on: lit, base.js, api.js, picker.js.
import { html, nothing } from 'lit';
import { Page, lines } from './base.js';
import { api, all, enc } from './api.js';
import './picker.js';

const RULES = [['name', 'Device name'], ['domain', 'Domain'], ['os', 'OS'], ['tags', 'Tag']];
const OPS = ['equals', 'startsWith', 'endsWith', 'contains'];
const PREVIEW_ROWS = 20;
const PREVIEW_DELAY_MS = 300; // the preview waits for typing to pause
const LEVELS = [['full', 'Full - remediate threats automatically'], ['semi', 'Semi - require approval'], ['none', 'No automated response']];

class DeviceGroups extends Page {
  static properties = { ...Page.properties, items: { state: true }, form: { state: true }, preview: { state: true } };

  willUpdate(changed) {
    if (changed.has('ctx')) this.load();
  }

  async load() {
    this.form = null;
    clearTimeout(this.previewTimer); // a preview asked for a form now closed is not made
    await this.run(async () => {
      const items = await all(`${this.base}/deviceGroups`);
      this.items = items.sort((a, b) => (a.rank ?? 1e9) - (b.rank ?? 1e9));
    });
  }

  open(g) {
    // one row per field and operator: a field may have several ({"name": {"startsWith": [...], "endsWith": [...]}})
    const rules = Object.entries(g?.rules || {}).flatMap(([field, cond]) =>
      Object.entries(cond).map(([op, values]) => ({ field, op, values: values.join(', ') })));
    const ranks = (this.items || []).map((x) => x.rank || 0);
    this.form = g ? { ...g, isNew: false, rules, userAccess: [...(g.userAccess || [])] }
      : { isNew: true, id: '', name: '', rank: Math.max(0, ...ranks) + 1, remediation: 'full', rules: [{ field: 'name', op: 'startsWith', values: '' }], userAccess: [] };
    this.preview = null;
    this.schedulePreview();
  }

  // The preview follows the rules: asked PREVIEW_DELAY_MS after the last change;
  // an answer to older rules than the latest is dropped.
  schedulePreview() {
    clearTimeout(this.previewTimer);
    if (!this.form || this.form.id === 'ungrouped') return;
    this.previewTimer = setTimeout(() => this.loadPreview(), PREVIEW_DELAY_MS);
  }

  async loadPreview(more) {
    const f = this.form;
    if (!f) return;
    const body = { rules: this.body(f).rules, ...(f.isNew ? {} : { id: f.id }) };
    const url = more || `${this.base}/deviceGroups/preview?$top=${PREVIEW_ROWS}`;
    const seq = (this.previewSeq = (this.previewSeq || 0) + 1);
    let p;
    try {
      const { json } = await api('POST', url, body);
      const devices = more ? [...this.preview.devices, ...json.value] : json.value;
      p = { count: json.count, devices, next: json['@odata.nextLink'] || null };
    } catch (e) {
      p = { error: e };
    }
    if (seq === this.previewSeq && this.form === f) this.preview = p;
  }

  previewView() {
    const p = this.preview;
    if (!p) return html`<section class="preview" aria-label="Preview of matching devices"><h3>Matching devices</h3><p role="status">Checking the rules…</p></section>`;
    if (p.error) return html`<section class="preview" aria-label="Preview of matching devices"><h3>Matching devices</h3><p class="field-error" role="alert">${p.error.message}</p></section>`;
    return html`<section class="preview" aria-label="Preview of matching devices"><h3>Matching devices</h3>
      <p role="status">${p.count.toLocaleString()} ${p.count === 1 ? 'device matches' : 'devices match'} these rules</p>
      ${p.devices.length ? html`<ul>${p.devices.map((d) => html`<li>${d.id}</li>`)}</ul>` : nothing}
      ${p.next ? html`<fluent-button role="button" size="small" @click=${() => this.loadPreview(p.next)}>Show more devices</fluent-button>` : nothing}</section>`;
  }

  body(f) {
    const rules = {};
    for (const r of f.rules) {
      if (!lines(r.values).length) continue;
      const cond = (rules[r.field] = rules[r.field] || {}); // rows on one field and operator add up
      cond[r.op] = [...(cond[r.op] || []), ...lines(r.values)];
    }
    const o = { userAccess: f.userAccess };
    if (f.id === 'ungrouped') return o;
    return { name: f.name || undefined, rank: Number(f.rank), remediation: f.remediation, rules, ...o };
  }

  async save(ev) {
    ev.preventDefault();
    const f = this.form;
    const q = (id) => this.querySelector(id);
    if (f.isNew) f.id = q('#dg-id').value.trim();
    if (f.id !== 'ungrouped') {
      f.name = q('#dg-name').value.trim();
      f.rank = q('#dg-rank').value;
      f.remediation = q('#dg-remediation').value;
    }
    if (!f.id) {
      this.error = { message: 'Enter a device group name', target: 'id' };
      return;
    }
    if (await this.run(() => api('PUT', `${this.base}/deviceGroups/${enc(f.id)}`, this.body(f)))) this.load();
  }

  // Swaps ranks with the neighbour: two writes (ranks are unique), through a free rank.
  async move(i, d) {
    const a = this.items[i], b = this.items[i + d];
    if (!a || !b || a.rank == null || b.rank == null) return;
    const free = Math.max(...this.items.map((x) => x.rank || 0)) + 1;
    await this.run(async () => {
      await api('PUT', `${this.base}/deviceGroups/${enc(a.id)}`, { ...a, rank: free });
      await api('PUT', `${this.base}/deviceGroups/${enc(b.id)}`, { ...b, rank: a.rank });
      await api('PUT', `${this.base}/deviceGroups/${enc(a.id)}`, { ...a, rank: b.rank });
    });
    this.load();
  }

  async deleteItem(g) {
    if (!confirm(`Delete the device group ${g.id}?`)) return;
    if (await this.run(() => api('DELETE', `${this.base}/deviceGroups/${enc(g.id)}`))) this.load();
  }

  setRule(i, key, value) {
    const rules = this.form.rules.map((r, k) => (k === i ? { ...r, [key]: value } : r));
    this.form = { ...this.form, rules };
    this.schedulePreview();
  }

  formView() {
    const f = this.form;
    const ro = !this.canManage;
    const ungrouped = f.id === 'ungrouped';
    return html`<form @submit=${this.save} aria-label="Device group">
      <h2>${f.isNew ? 'Add device group' : `Edit device group ${f.id}`}</h2>
      ${f.isNew ? html`<label for="dg-id">Device group name</label><input id="dg-id" required>${this.fieldError('id')}` : nothing}
      ${ungrouped ? html`<p>Ungrouped devices (default): the devices no group's rules match.</p>` : html`
      <label for="dg-name">Description</label><input id="dg-name" .value=${f.name || ''} ?readonly=${ro}>
      <label for="dg-rank">Rank</label><input id="dg-rank" type="number" min="1" .value=${String(f.rank ?? '')} ?readonly=${ro}>${this.fieldError('rank')}
      <label for="dg-remediation">Automation level</label>
      <select id="dg-remediation" ?disabled=${ro}>${LEVELS.map(([v, l]) => html`<option value=${v} ?selected=${f.remediation === v}>${l}</option>`)}</select>
      <fieldset><legend>Devices: every rule must match</legend>
        ${f.rules.map((r, i) => html`<div class="rule">
          <label for="rule-field-${i}">Rule ${i + 1} field</label>
          <select id="rule-field-${i}" ?disabled=${ro} @change=${(e) => this.setRule(i, 'field', e.target.value)}>${RULES.map(([v, l]) => html`<option value=${v} ?selected=${r.field === v}>${l}</option>`)}</select>
          <label for="rule-op-${i}">Rule ${i + 1} operator</label>
          <select id="rule-op-${i}" ?disabled=${ro} @change=${(e) => this.setRule(i, 'op', e.target.value)}>${OPS.map((v) => html`<option ?selected=${r.op === v}>${v}</option>`)}</select>
          <label for="rule-values-${i}">Rule ${i + 1} values (comma separated)</label>
          <input id="rule-values-${i}" .value=${r.values} ?readonly=${ro} @input=${(e) => this.setRule(i, 'values', e.target.value)}></div>`)}
        ${ro ? nothing : html`<fluent-button role="button" @click=${() => { this.form = { ...f, rules: [...f.rules, { field: 'tags', op: 'equals', values: '' }] }; }}>Add rule</fluent-button>`}
      </fieldset>${this.fieldError('rules')}${this.previewView()}`}
      <urbac-group-picker id="dg-access" legend="User access: Azure AD user groups with access to this device group" .base=${this.base}
        .selected=${f.userAccess} ?readonly=${ro} @select-groups=${(e) => { f.userAccess = e.detail; }}></urbac-group-picker>${this.fieldError('userAccess')}
      <div class="actions">${ro ? nothing : html`<fluent-button role="button" appearance="primary" type="submit">Save</fluent-button>`}
        <fluent-button role="button" @click=${() => { this.form = null; clearTimeout(this.previewTimer); }}>Cancel</fluent-button></div>
    </form>`;
  }

  render() {
    const items = this.items || [];
    const ungrouped = items.find((g) => g.id === 'ungrouped') || { id: 'ungrouped', userAccess: [] };
    const ranked = items.filter((g) => g.id !== 'ungrouped');
    return html`<h1>Device groups</h1><p class="crumbs">Settings > Endpoints > Permissions > Device groups</p>
      ${this.pageError('id', 'rank', 'rules', 'userAccess')}
      ${this.form ? this.formView() : html`
      ${this.canManage ? html`<fluent-button role="button" appearance="primary" @click=${() => this.open(null)}>+ Add device group</fluent-button>` : nothing}
      <table><caption>Device groups, in rank order</caption>
        <thead><tr><th scope="col">Rank</th><th scope="col">Device group</th><th scope="col">Automation level</th><th scope="col">User access</th><th scope="col">Actions</th></tr></thead>
        <tbody>${this.shown(ranked).map((g) => { const i = ranked.indexOf(g); return html`<tr><td>${g.rank}</td><td>${g.id}${g.name ? html`<br><small>${g.name}</small>` : nothing}</td>
          <td>${g.remediation || ''}</td><td>${(g.userAccess || []).join(', ')}</td>
          <td><fluent-button role="button" size="small" @click=${() => this.open(g)}>${this.canManage ? 'Edit' : 'View'}<span class="visually-hidden"> ${g.id}</span></fluent-button>
          ${this.canManage ? html`
          <fluent-button role="button" size="small" ?disabled=${i === 0} aria-disabled=${String(i === 0)} @click=${() => this.move(i, -1)}>Move up<span class="visually-hidden"> ${g.id}</span></fluent-button>
          <fluent-button role="button" size="small" ?disabled=${i === ranked.length - 1} aria-disabled=${String(i === ranked.length - 1)} @click=${() => this.move(i, 1)}>Move down<span class="visually-hidden"> ${g.id}</span></fluent-button>
          <fluent-button role="button" size="small" @click=${() => this.deleteItem(g)}>Delete<span class="visually-hidden"> ${g.id}</span></fluent-button>` : nothing}</td></tr>`; })}
          <tr><td>Last</td><td>Ungrouped devices (default)</td><td></td><td>${(ungrouped.userAccess || []).join(', ')}</td>
          <td><fluent-button role="button" size="small" @click=${() => this.open(ungrouped)}>${this.canManage ? 'Edit' : 'View'}<span class="visually-hidden"> Ungrouped devices</span></fluent-button></td></tr>
        </tbody></table>${this.rowsPager(ranked)}`}`;
  }
}
customElements.define('urbac-device-groups', DeviceGroups);
