// web/src/checker.js - the Access checker: may this user do this, on this
// workload and device or device group? allow or deny, with the chain that
// grants it or what is missing (POST /explain); a user's Effective permissions
// (GET /users/{id}/effectivePermissions, paged); and Who can (GET /whoCan, paged).
// Someone without Configuration \ Authorization asks about themselves only.
// Depends on: lit, base.js, api.js.
import { html, nothing } from 'lit';
import { Page } from './base.js';
import { api, page, enc, qs } from './api.js';

const WORKLOADS = [['mde', 'Microsoft Defender for Endpoint'], ['mdo', 'Microsoft Defender for Office 365'], ['mdi', 'Microsoft Defender for Identity']];

class Checker extends Page {
  static properties = { ...Page.properties, tab: { state: true }, answer: { state: true }, effective: { state: true }, who: { state: true } };

  constructor() {
    super();
    this.tab = 'check';
  }

  get self() {
    return this.ctx.access === 'decide';
  }

  val(id) {
    return this.querySelector(`#${id}`)?.value.trim() || '';
  }

  async check(ev) {
    ev.preventDefault();
    const q = { user: this.self ? this.ctx.user : this.val('ck-user'), permission: this.val('ck-perm'), workload: this.val('ck-workload') };
    const scope = this.val('ck-scope');
    if (scope) q.scope = scope;
    this.answer = null;
    const r = await this.run(() => api('POST', `${this.base}/explain`, q));
    if (r) this.answer = { ...r.json, q };
  }

  async showEffective(ev, next) {
    ev?.preventDefault();
    const user = this.self ? this.ctx.user : this.val('ef-user');
    const url = next || `${this.base}/users/${enc(user)}/effectivePermissions?${qs({ workload: this.val('ef-workload') })}`;
    const r = await this.run(() => page(url));
    if (r) this.effective = { user, ...r };
  }

  async showWho(ev, next) {
    ev?.preventDefault();
    const url = next || `${this.base}/whoCan?${qs({ permission: this.val('wc-perm'), workload: this.val('wc-workload'), scope: this.val('wc-scope') })}`;
    const r = await this.run(() => page(url));
    if (r) this.who = r;
  }

  workloadSelect(id) {
    return html`<label for=${id}>Workload</label>
      <select id=${id}>${WORKLOADS.map(([w, n]) => html`<option value=${w}>${n}</option>`)}</select>`;
  }

  userField(id) {
    if (this.self) return html`<p>User: <strong>${this.ctx.user}</strong> (you may ask about yourself only)</p>`;
    return html`<label for=${id}>User</label><input id=${id} required placeholder="alice@contoso.com">${this.fieldError('user')}`;
  }

  checkView() {
    const a = this.answer;
    return html`<form @submit=${this.check} aria-label="Check access">
        ${this.userField('ck-user')}
        <label for="ck-perm">Permission</label>
        <input id="ck-perm" required placeholder="Security operations \\ Security data \\ Alerts (manage)">${this.fieldError('permission')}
        ${this.workloadSelect('ck-workload')}${this.fieldError('workload')}
        <label for="ck-scope">Device or device group (mde)</label>
        <input id="ck-scope" placeholder="device:lap-042, devicegroup:servers, all or any">${this.fieldError('scope')}
        <fluent-button role="button" appearance="primary" type="submit">Check access</fluent-button>
      </form>
      ${a ? html`<section class="answer ${a.decision}" aria-live="polite" aria-label="Decision">
        <p class="decision">${a.decision === 'allow' ? 'Allowed' : 'Denied'}: ${a.q.user}, ${a.q.permission} on ${a.q.workload}${a.q.scope ? `, ${a.q.scope}` : ''}</p>
        <ul class="chain">${(a.reasons || []).map((r) => html`<li>${r}</li>`)}</ul></section>` : nothing}`;
  }

  effectiveView() {
    const e = this.effective;
    return html`<form @submit=${this.showEffective} aria-label="Effective permissions">
        ${this.userField('ef-user')}
        <label for="ef-workload">Workload</label>
        <select id="ef-workload"><option value="">All workloads</option>${WORKLOADS.map(([w, n]) => html`<option value=${w}>${n}</option>`)}</select>
        <fluent-button role="button" appearance="primary" type="submit">Show effective permissions</fluent-button>
      </form>
      ${e ? html`<table><caption>Effective permissions of ${e.user}</caption>
        <thead><tr><th scope="col">Workload</th><th scope="col">Permission</th><th scope="col">Device group</th><th scope="col">Granted by</th></tr></thead>
        <tbody>${e.items.map((g) => html`<tr><td>${g.workload}</td><td>${g.permission}</td><td>${g.scope}</td><td class="chain">${g.source}</td></tr>`)}</tbody></table>
        ${e.next ? html`<fluent-button role="button" @click=${() => this.showEffective(null, e.next)}>Next page</fluent-button>` : nothing}` : nothing}`;
  }

  whoView() {
    const w = this.who;
    return html`<form @submit=${this.showWho} aria-label="Who can">
        <label for="wc-perm">Permission</label><input id="wc-perm" required placeholder="Alerts (manage)">${this.fieldError('permission')}
        ${this.workloadSelect('wc-workload')}
        <label for="wc-scope">Device or device group (mde)</label><input id="wc-scope" placeholder="devicegroup:servers">${this.fieldError('scope')}
        <fluent-button role="button" appearance="primary" type="submit">Who can</fluent-button>
      </form>
      ${w ? html`<ul aria-label="Users who can">${w.items.map((u) => html`<li>${u}</li>`)}</ul>${w.items.length ? nothing : html`<p>Nobody.</p>`}
        ${w.next ? html`<fluent-button role="button" @click=${() => this.showWho(null, w.next)}>Next page</fluent-button>` : nothing}` : nothing}`;
  }

  render() {
    const tabs = [['check', 'Check access'], ['effective', 'Effective permissions'], ...(this.self ? [] : [['who', 'Who can']])];
    return html`<h1>Access checker</h1>
      <div role="tablist" aria-label="Access checker">${tabs.map(([id, label]) => html`<button role="tab" id="tab-${id}"
        aria-selected=${this.tab === id ? 'true' : 'false'} aria-controls="panel" @click=${() => { this.tab = id; this.error = null; }}>${label}</button>`)}</div>
      <div id="panel" role="tabpanel" aria-labelledby="tab-${this.tab}">
        ${this.pageError('user', 'permission', 'workload', 'scope')}
        ${this.tab === 'check' ? this.checkView() : this.tab === 'effective' ? this.effectiveView() : this.whoView()}
      </div>`;
  }
}
customElements.define('urbac-checker', Checker);
