// web/src/activation.js - Activation: each workload on its legacy model or on
// unified roles; Import roles (a dry run first: the roles it would create and
// each permission it cannot map, then the import); Impact (who gains and who
// loses what: charts by permission and by device group of every row, from
// the server's tallies, and the rows, paged); Activate and Deactivate, with
// the safety check's reason when the server refuses. The impact is asked with
// `Prefer: respond-async`: while the server computes it (202, steps done of
// three per user) a progress bar shows how far it has got, polled every second as
// its Retry-After says; then the result. An import is one request: a spinner.
// Depends on: lit, base.js, api.js, @fluentui/web-components' progress bar (main.js).
import { html, nothing } from 'lit';
import { Page } from './base.js';
import { api } from './api.js';

// The ten largest of the server's tallies (every row of the impact, not only those
// read), as [label, rows] for a chart.
const top10 = (tallies, key) => (tallies || []).map((t) => [t[key] || 'tenant-wide', t.rows])
  .sort((a, b) => b[1] - a[1]).slice(0, 10);
const sum = (tallies, field) => (tallies || []).reduce((n, t) => n + t[field], 0);

class Activation extends Page {
  static properties = { ...Page.properties, workloads: { state: true }, dry: { state: true }, impact: { state: true }, progress: { state: true }, done: { state: true } };

  willUpdate(changed) {
    if (changed.has('ctx')) this.load();
  }

  async load() {
    await this.run(async () => {
      this.workloads = (await api('GET', `${this.base}/workloads`)).json.value;
    });
  }

  async importRoles(w, dryRun) {
    this.done = null;
    const r = await this.run(() => api('POST', `${this.base}/workloads/${w}/import${dryRun ? '?dryRun=true' : ''}`));
    if (r) this.dry = { w, dryRun, ...r.json };
  }

  // One page of the impact; while the server computes it, its progress (202) every second.
  async showImpact(w, next) {
    const url = next || `${this.base}/workloads/${w}/impact?import=true&$top=1000`;
    const r = await this.run(async () => {
      try {
        for (;;) {
          const res = await api('GET', url, undefined, { prefer: 'respond-async' });
          if (res.status !== 202) return res.json;
          this.progress = { w, done: res.json.done, total: res.json.total };
          await new Promise((ok) => setTimeout(ok, 1000));
        }
      } finally {
        this.progress = null;
      }
    });
    if (r) {
      const items = r.value || [];
      const rows = next && this.impact?.w === w ? [...this.impact.rows, ...items] : items;
      this.impact = { w, rows, next: r['@odata.nextLink'] || null, shown: items, count: r.count ?? rows.length, tallies: r };
    }
  }

  progressView() {
    const p = this.progress;
    if (!p) return nothing;
    return html`<section aria-label="Progress"><h2>Computing the impact of activating ${p.w}</h2>
      <p>${p.done.toLocaleString()} of ${p.total.toLocaleString()} steps (three per user: before, after, compared)</p>
      <fluent-progress-bar role="progressbar" aria-label="Impact computed for ${p.w}" min="0" max=${p.total} value=${p.done}
        aria-valuemin="0" aria-valuemax=${p.total} aria-valuenow=${p.done}></fluent-progress-bar></section>`;
  }

  async switchMode(w, on) {
    this.done = null;
    const r = await this.run(() => api('POST', `${this.base}/workloads/${w}/${on ? 'activate' : 'deactivate'}`));
    if (r) {
      this.done = `${w}: ${on ? 'activated' : 'deactivated'}`;
      this.load();
    }
  }

  chart(title, rows) {
    const max = Math.max(1, ...rows.map((r) => r[1]));
    return html`<figure><figcaption>${title}</figcaption><table class="chart"><tbody>${rows.map(([k, n]) => html`<tr>
      <th scope="row">${k}</th><td><progress max=${max} value=${n} aria-label="${k}: ${n}"></progress></td><td>${n.toLocaleString()}</td></tr>`)}</tbody></table></figure>`;
  }

  impactView() {
    const im = this.impact;
    if (!im) return nothing;
    const t = im.tallies;
    return html`<section aria-label="Impact"><h2>Impact of activating ${im.w}</h2>
      <p>${im.count.toLocaleString()} changed rows in all: ${sum(t.byPermission, 'gains').toLocaleString()} gains and
        ${sum(t.byPermission, 'losses').toLocaleString()} losses${im.next ? `; ${im.rows.length.toLocaleString()} rows read so far` : ''}.</p>
      <div class="charts">${this.chart('By permission', top10(t.byPermission, 'permission'))}${this.chart('By device group', top10(t.byDeviceGroup, 'deviceGroup'))}</div>
      ${im.next ? html`<fluent-button role="button" @click=${() => this.showImpact(im.w, im.next)}>Read more rows</fluent-button>` : nothing}
      <table><caption>The rows behind them (last page read)</caption><thead><tr><th scope="col">User</th><th scope="col">Permission</th><th scope="col">Device group</th><th scope="col">Before</th><th scope="col">After</th></tr></thead>
      <tbody>${im.shown.slice(0, 200).map((r) => html`<tr><td>${r.user}</td><td>${r.permission}</td><td>${r.deviceGroup || ''}</td><td>${r.before}</td><td>${r.after}</td></tr>`)}</tbody></table></section>`;
  }

  dryView() {
    const d = this.dry;
    if (!d) return nothing;
    return html`<section aria-label="Import roles"><h2>Import roles for ${d.w}${d.dryRun ? ' (dry run: nothing written)' : ''}</h2>
      <ul aria-label="Roles the import creates or updates">${d.roles.map((r) => html`<li>${r.action}: ${r.role} (from ${r.source}; ${r.permissions} permissions, ${r.principals} principals${r.deviceGroups ? `, device groups ${r.deviceGroups}` : ''})</li>`)}</ul>
      ${d.unmapped?.length ? html`<h3 id="import-unmapped">Permissions that cannot be mapped</h3><ul aria-labelledby="import-unmapped">${d.unmapped.map((u) => html`<li>${u.permission} (in ${u.source})</li>`)}</ul>` : nothing}
      ${d.dryRun && this.canManage ? html`<fluent-button role="button" appearance="primary" @click=${() => this.importRoles(d.w, false)}>Import</fluent-button>` : nothing}</section>`;
  }

  render() {
    const m = this.canManage;
    return html`<h1>Activation</h1><p class="crumbs">Permissions > Microsoft Defender XDR > Workload settings</p>
      ${this.pageError()}${this.done ? html`<div class="message info" role="status">${this.done}</div>` : nothing}
      ${this.busy && !this.progress ? html`<fluent-spinner aria-label="Working"></fluent-spinner>` : nothing}${this.progressView()}
      <table><caption>Workloads</caption><thead><tr><th scope="col">Workload</th><th scope="col">Permissions model</th><th scope="col">Actions</th></tr></thead>
      <tbody>${(this.workloads || []).map((w) => html`<tr><td>${w.displayName}</td><td>${w.mode === 'unified' ? 'Unified roles (active)' : 'Legacy roles'}</td>
        <td>${m ? html`<fluent-button role="button" size="small" @click=${() => this.importRoles(w.id, true)}>Import roles<span class="visually-hidden"> ${w.id}</span></fluent-button>` : nothing}
          <fluent-button role="button" size="small" @click=${() => this.showImpact(w.id)}>Impact<span class="visually-hidden"> ${w.id}</span></fluent-button>
          ${m ? html`<fluent-button role="button" size="small" @click=${() => this.switchMode(w.id, w.mode !== 'unified')}>${w.mode === 'unified' ? 'Deactivate' : 'Activate'}<span class="visually-hidden"> ${w.id}</span></fluent-button>` : nothing}</td></tr>`)}</tbody></table>
      ${this.dryView()}${this.impactView()}`;
  }
}
customElements.define('urbac-activation', Activation);
