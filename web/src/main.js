// web/src/main.js - the portal's shell: sign-in, the navigation (the Defender
// portal's words), the tenant, and which page shows (the URL's #fragment).
// What a person sees follows what the API lets them do: the session says, per
// tenant, "manage", "read" or "decide"; a reader's pages are read-only, and
// someone without Configuration \ Authorization sees only the access checker,
// for themselves.
// Depends on: lit, @fluentui/web-components, api.js and the pages.
import { LitElement, html, nothing } from 'lit';
import { setTheme } from '@fluentui/web-components';
import { webLightTheme } from '@fluentui/tokens';
import '@fluentui/web-components/button.js';
import '@fluentui/web-components/spinner.js';
import '@fluentui/web-components/progress-bar.js';
import '@fluentui/web-components/divider.js';
import { api, qs, setCsrf, ApiError } from './api.js';
import './checker.js';
import './legacy.js';
import './devicegroups.js';
import './roles.js';
import './activation.js';
import './directory.js';

setTheme(webLightTheme);

const PAGES = [
  { hash: '#/checker', label: 'Access checker', tag: 'urbac-checker', needs: 'decide' },
  { hash: '#/permissions/roles', label: 'Permissions > Microsoft Defender XDR > Roles', tag: 'urbac-roles', needs: 'read' },
  { hash: '#/settings/endpoints/roles', label: 'Settings > Endpoints > Roles', tag: 'urbac-legacy-roles', needs: 'read' },
  { hash: '#/settings/endpoints/devicegroups', label: 'Settings > Endpoints > Device groups', tag: 'urbac-device-groups', needs: 'read' },
  { hash: '#/activation', label: 'Activation', tag: 'urbac-activation', needs: 'read' },
  { hash: '#/users', label: 'Users and groups', tag: 'urbac-users', needs: 'read' },
  { hash: '#/devices', label: 'Devices', tag: 'urbac-devices', needs: 'read' },
  { hash: '#/audit', label: 'Audit log', tag: 'urbac-audit', needs: 'read' },
  { hash: '#/keys', label: 'API keys', tag: 'urbac-keys', needs: 'read' },
];
const RANK = { decide: 0, read: 1, manage: 2 };

class App extends LitElement {
  static properties = { session: { state: true }, tenant: { state: true }, hash: { state: true }, error: { state: true }, loading: { state: true }, oidc: { state: true } };

  createRenderRoot() {
    return this;
  }

  constructor() {
    super();
    this.loading = true;
    this.hash = location.hash || '#/checker';
    window.addEventListener('hashchange', () => {
      this.hash = location.hash || '#/checker';
    });
    this.load();
  }

  async load() {
    try {
      this.adopt((await api('GET', '/api/v1/session')).json);
    } catch (e) {
      this.session = null;
      if (e instanceof ApiError && e.status !== 401) this.error = e;
      await this.loadMethods();
    }
    this.loading = false;
  }

  // Whether "Sign in with your organization" leads anywhere: only when the
  // server has an OIDC portal client for the tenant (GET /api/v1/session/methods).
  async loadMethods() {
    try {
      const tenant = new URLSearchParams(location.search).get('tenant') || '';
      this.oidc = (await api('GET', `/api/v1/session/methods?${qs({ tenant })}`)).json.oidc;
    } catch {
      this.oidc = false;
    }
  }

  adopt(s) {
    this.session = s;
    setCsrf(s.csrfToken);
    const params = new URLSearchParams(location.search);
    const wanted = params.get('tenant');
    this.tenant = s.tenants.includes(wanted) ? wanted : s.tenants[0];
  }

  async signIn(ev) {
    ev.preventDefault();
    const key = this.querySelector('#signin-key').value;
    this.error = null;
    try {
      this.adopt((await api('POST', '/api/v1/session', { key })).json);
    } catch (e) {
      this.error = e;
    }
  }

  async signOut() {
    try {
      await api('DELETE', '/api/v1/session');
    } finally {
      setCsrf(null);
      this.session = null;
      this.loadMethods();
    }
  }

  signInView() {
    return html`<main class="signin" aria-labelledby="signin-title">
      <h1 id="signin-title">Sign in to urbac</h1>
      <form @submit=${this.signIn}>
        <label for="signin-key">API key or preshared admin key</label>
        <input id="signin-key" type="password" autocomplete="off" required aria-describedby="signin-help">
        <p id="signin-help" class="help">Pasted once and exchanged for a session; the key is not stored in this browser.</p>
        ${this.error ? html`<p class="field-error" role="alert">${this.error.message}</p>` : nothing}
        <fluent-button role="button" appearance="primary" type="submit">Sign in</fluent-button>
      </form>
      ${this.oidc ? html`<p><a href="/api/v1/session/oidc?tenant=${new URLSearchParams(location.search).get('tenant') || ''}">Sign in with your organization (OpenID Connect)</a></p>` : nothing}
    </main>`;
  }

  render() {
    if (this.loading) return html`<p class="loading">Loading…</p>`;
    if (!this.session) return this.signInView();
    const access = this.session.access[this.tenant] || 'decide';
    const pages = PAGES.filter((p) => RANK[access] >= RANK[p.needs]);
    const page = pages.find((p) => p.hash === this.hash.split('?')[0]) || pages[0];
    const ctx = { tenant: this.tenant, access, user: this.session.user, kind: this.session.kind };
    return html`<header class="top">
        <span class="brand">urbac</span>
        <label class="tenant">Tenant
          <select @change=${(e) => { this.tenant = e.target.value; }}>
            ${this.session.tenants.map((t) => html`<option ?selected=${t === this.tenant}>${t}</option>`)}
          </select></label>
        <span class="who">${this.session.user || this.session.actor} (${access === 'manage' ? 'can manage' : access === 'read' ? 'read-only' : 'access checker only'})</span>
        <fluent-button role="button" @click=${this.signOut}>Sign out</fluent-button>
      </header>
      <div class="layout">
        <nav aria-label="Portal"><ul>
          ${pages.map((p) => html`<li><a href=${p.hash} aria-current=${p === page ? 'page' : 'false'}>${p.label}</a></li>`)}
        </ul></nav>
        <main id="main">${this.pageView(page, ctx)}</main>
      </div>`;
  }

  pageView(page, ctx) {
    switch (page.tag) {
      case 'urbac-checker': return html`<urbac-checker .ctx=${ctx}></urbac-checker>`;
      case 'urbac-roles': return html`<urbac-roles .ctx=${ctx}></urbac-roles>`;
      case 'urbac-legacy-roles': return html`<urbac-legacy-roles .ctx=${ctx}></urbac-legacy-roles>`;
      case 'urbac-device-groups': return html`<urbac-device-groups .ctx=${ctx}></urbac-device-groups>`;
      case 'urbac-activation': return html`<urbac-activation .ctx=${ctx}></urbac-activation>`;
      case 'urbac-users': return html`<urbac-users .ctx=${ctx}></urbac-users>`;
      case 'urbac-devices': return html`<urbac-devices .ctx=${ctx}></urbac-devices>`;
      case 'urbac-audit': return html`<urbac-audit .ctx=${ctx}></urbac-audit>`;
      default: return html`<urbac-keys .ctx=${ctx}></urbac-keys>`;
    }
  }
}
customElements.define('urbac-app', App);
const root = document.getElementById('app');
root.replaceChildren(document.createElement('urbac-app'));
