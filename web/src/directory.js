// web/src/directory.js - the lists: Users and groups (members, nesting,
// directory roles), Devices, the Audit log (filtered by actor, object and
// time: since, until; its chain verified by the store on request) and API keys (create, the token shown once; revoke). Every list is
// read a page at a time from the API ($top, @odata.nextLink), so a tenant of
// 100,000 users shows its first page at once.
// Depends on: lit, base.js, api.js.
import { html, nothing } from 'lit';
import { Page, lines } from './base.js';
import { api, page, enc, qs } from './api.js';

// A paged list: `path()` is its first page; `row(item)` its cells.
class List extends Page {
  static properties = { ...Page.properties, items: { state: true }, next: { state: true }, pages: { state: true } };

  willUpdate(changed) {
    if (changed.has('ctx')) this.first();
  }

  async first() {
    this.pages = [];
    await this.show(this.path());
  }

  async show(url) {
    const r = await this.run(() => page(url));
    if (r) {
      this.items = r.items;
      this.next = r.next;
      this.current = url;
    }
  }

  pager() {
    return html`<div class="actions">
      <fluent-button role="button" ?disabled=${!this.pages.length} aria-disabled=${String(!this.pages.length)} @click=${() => this.show(this.pages.pop())}>Previous page</fluent-button>
      <fluent-button role="button" ?disabled=${!this.next} aria-disabled=${String(!this.next)} @click=${() => { this.pages = [...this.pages, this.current]; this.show(this.next); }}>Next page</fluent-button></div>`;
  }

  table(caption, heads, rows) {
    return html`<table><caption>${caption}</caption><thead><tr>${heads.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
      <tbody>${rows}</tbody></table>${this.pager()}`;
  }
}

class Users extends List {
  static properties = { ...List.properties, kind: { state: true } };

  constructor() {
    super();
    this.kind = 'users';
  }

  path() {
    return `${this.base}/${this.kind}`;
  }

  async save(ev) {
    ev.preventDefault();
    const v = (id) => this.querySelector(id).value.trim();
    const id = v('#obj-id');
    const body = { name: v('#obj-name') || undefined, directoryRoles: lines(v('#obj-roles')) };
    if (this.kind === 'groups') body.members = lines(v('#obj-members'));
    if (await this.run(() => api('PUT', `${this.base}/${this.kind}/${enc(id)}`, body))) this.first();
  }

  render() {
    const u = this.kind === 'users';
    return html`<h1>Users and groups</h1>
      <div role="tablist" aria-label="Users and groups">${[['users', 'Users'], ['groups', 'Groups']].map(([k, l]) => html`<button role="tab"
        aria-selected=${this.kind === k ? 'true' : 'false'} @click=${() => { this.kind = k; this.first(); }}>${l}</button>`)}</div>
      ${this.pageError('id', 'name', 'members', 'directoryRoles')}
      ${this.canManage ? html`<form @submit=${this.save} aria-label="Add or replace ${u ? 'a user' : 'a group'}" class="inline">
        <label for="obj-id">${u ? 'User id' : 'Group id'}</label><input id="obj-id" required>
        <label for="obj-name">Display name</label><input id="obj-name">
        ${u ? nothing : html`<label for="obj-members">Members (comma separated; a nested group as group:ID)</label><input id="obj-members">${this.fieldError('members')}`}
        <label for="obj-roles">Directory roles (comma separated)</label><input id="obj-roles">${this.fieldError('directoryRoles')}
        <fluent-button role="button" appearance="primary" type="submit">Save</fluent-button></form>` : nothing}
      ${u ? this.table('Users', ['User', 'Name', 'Directory roles'], (this.items || []).map((x) => html`<tr><td>${x.id}</td><td>${x.name || ''}</td><td>${(x.directoryRoles || []).join(', ')}</td></tr>`))
        : this.table('Groups', ['Group', 'Name', 'Members', 'Directory roles'], (this.items || []).map((x) => html`<tr><td>${x.id}</td><td>${x.name || ''}</td><td>${(x.members || []).join(', ')}</td><td>${(x.directoryRoles || []).join(', ')}</td></tr>`))}`;
  }
}
customElements.define('urbac-users', Users);

class Devices extends List {
  path() {
    return `${this.base}/devices`;
  }

  render() {
    return html`<h1>Devices</h1>${this.pageError()}
      ${this.table('Devices', ['Device', 'Name', 'Domain', 'OS', 'Tags'], (this.items || []).map((d) => html`<tr><td>${d.id}</td><td>${d.name || ''}</td><td>${d.domain || ''}</td><td>${d.os || ''}</td><td>${(d.tags || []).join(', ')}</td></tr>`))}`;
  }
}
customElements.define('urbac-devices', Devices);

class Audit extends List {
  static properties = { ...List.properties, verdict: { state: true } };

  // The store's own check of the chain (GET /auditLog/verify, as `urbac audit verify`).
  async verify() {
    this.verdict = null;
    const r = await this.run(() => api('GET', `${this.base}/auditLog/verify`));
    if (r) this.verdict = r.json;
  }

  verdictView(v) {
    if (v.intact) return html`<div class="message info" role="status">Audit log verified: OK, ${v.records.toLocaleString()} records, chain intact.</div>`;
    return html`<div class="message error" role="alert">Audit log broken${v.firstBadRecord ? html`: first bad record #${v.firstBadRecord}` : nothing} (${v.records.toLocaleString()} records read).
      <ul>${v.problems.map((p) => html`<li>${p}</li>`)}</ul></div>`;
  }

  path() {
    const v = (id) => this.querySelector(id)?.value.trim();
    return `${this.base}/auditLog?${qs({ actor: v('#au-actor'), object: v('#au-object'), since: v('#au-since'), until: v('#au-until') })}`;
  }

  render() {
    return html`<h1>Audit log</h1>
      <form class="inline" aria-label="Filter the audit log" @submit=${(e) => { e.preventDefault(); this.first(); }}>
        <label for="au-actor">Actor</label><input id="au-actor">${this.fieldError('actor')}
        <label for="au-object">Object</label><input id="au-object">${this.fieldError('object')}
        <label for="au-since">Since (date or time, UTC)</label><input id="au-since" placeholder="2026-11-30">${this.fieldError('since')}
        <label for="au-until">Until (date or time, UTC)</label><input id="au-until" placeholder="2026-11-30T18:00">${this.fieldError('until')}
        <fluent-button role="button" appearance="primary" type="submit">Filter</fluent-button></form>
      <div class="actions"><fluent-button role="button" @click=${this.verify}>Verify the chain</fluent-button></div>
      ${this.verdict ? this.verdictView(this.verdict) : nothing}
      ${this.pageError('actor', 'object', 'since', 'until')}
      ${this.table('Audit log', ['#', 'Time', 'Actor', 'Command', 'Object', 'Hash'], (this.items || []).map((a) => html`<tr><td>${a.seq}</td><td>${a.at}</td><td>${a.actor}</td><td>${a.command}</td><td>${a.object}</td><td class="hash">${a.hash.slice(0, 16)}…</td></tr>`))}`;
  }
}
customElements.define('urbac-audit', Audit);

class Keys extends List {
  static properties = { ...List.properties, created: { state: true } };

  path() {
    return `${this.base}/apiKeys`;
  }

  async create(ev) {
    ev.preventDefault();
    const v = (id) => this.querySelector(id).value.trim();
    const body = { user: v('#key-user'), name: v('#key-name') || undefined, scope: v('#key-scope') || undefined, expires: v('#key-expires') || undefined };
    const r = await this.run(() => api('POST', `${this.base}/apiKeys`, body));
    if (r) {
      this.created = r.json;
      this.first();
    }
  }

  async revoke(k) {
    if (!confirm(`Revoke API key ${k.id}?`)) return;
    if (await this.run(() => api('DELETE', `${this.base}/apiKeys/${enc(k.id)}`))) this.first();
  }

  render() {
    const m = this.canManage;
    return html`<h1>API keys</h1>${this.pageError('user', 'name', 'scope', 'expires')}
      ${m ? html`<form class="inline" aria-label="Create an API key" @submit=${this.create}>
        <label for="key-user">User</label><input id="key-user" required>${this.fieldError('user')}
        <label for="key-name">Name</label><input id="key-name">${this.fieldError('name')}
        <label for="key-scope">Scope</label><select id="key-scope"><option value="">Everything the user may do</option><option value="decisions">Decisions only (a service key)</option></select>
        <label for="key-expires">Expires (UTC, e.g. 2027-06-30T00:00:00Z)</label><input id="key-expires">${this.fieldError('expires')}
        <fluent-button role="button" appearance="primary" type="submit">Create API key</fluent-button></form>` : nothing}
      ${this.created ? html`<div class="message info" role="status">New key ${this.created.id}: copy it now, it is not shown again.
        <label for="key-token">Token</label><input id="key-token" readonly .value=${this.created.token}></div>` : nothing}
      ${this.table('API keys', ['Id', 'User', 'Name', 'Scope', 'Created by', 'Expires', 'Revoked', 'Actions'], (this.items || []).map((k) => html`<tr>
        <td>${k.id}</td><td>${k.user}</td><td>${k.name || ''}</td><td>${k.scope}</td><td>${k.createdBy || ''}</td><td>${k.expires || ''}</td><td>${k.revoked || ''}</td>
        <td>${m && !k.revoked ? html`<fluent-button role="button" size="small" @click=${() => this.revoke(k)}>Revoke<span class="visually-hidden"> ${k.id}</span></fluent-button>` : nothing}</td></tr>`))}`;
  }
}
customElements.define('urbac-keys', Keys);
