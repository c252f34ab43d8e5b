// web/src/picker.js - choosing Azure AD groups in a tenant of 10,000 of them:
// a filter box and the first groups whose id or name holds its text (GET
// /groups?search=...), read as the person types; the chosen ones are kept
// whatever the filter shows. Fires "select-groups" with detail = the chosen ids.
// Depends on: lit, api.js.
import { LitElement, html, nothing } from 'lit';
import { page, qs } from './api.js';

const SHOWN = 50;

class GroupPicker extends LitElement {
  static properties = {
    base: {}, legend: {}, selected: { attribute: false }, readonly: { type: Boolean },
    filter: { state: true }, found: { state: true }, more: { state: true }, error: { state: true },
  };

  createRenderRoot() {
    return this;
  }

  constructor() {
    super();
    this.filter = '';
    this.selected = [];
    this.found = null;
  }

  connectedCallback() {
    super.connectedCallback();
    this.search();
  }

  async search() {
    const asked = this.filter;
    try {
      const r = await page(`${this.base}/groups?${qs({ search: asked })}`, SHOWN);
      if (asked !== this.filter) return; // typed on since
      this.found = r.items;
      this.more = !!r.next;
      this.error = null;
    } catch (e) {
      this.error = e.message;
    }
  }

  typed(e) {
    this.filter = e.target.value;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.search(), 150);
  }

  toggle(id, on) {
    const s = new Set(this.selected);
    if (on) s.add(id);
    else s.delete(id);
    this.selected = [...s];
    this.dispatchEvent(new CustomEvent('select-groups', { detail: this.selected }));
  }

  render() {
    const id = `${this.id || 'groups'}-filter`;
    return html`<fieldset><legend>${this.legend}</legend>
      <label for=${id}>Filter user groups</label>
      <input id=${id} type="search" .value=${this.filter} @input=${this.typed}>
      ${this.error ? html`<p class="field-error" role="alert">${this.error}</p>` : nothing}
      ${this.found === null ? html`<p>Loading groups…</p>` : html`<ul class="groups" aria-label="Matching user groups">
        ${this.found.map((g) => html`<li><label><input type="checkbox" ?disabled=${this.readonly} .checked=${this.selected.includes(g.id)}
          @change=${(e) => this.toggle(g.id, e.target.checked)}> ${g.name ? `${g.name} (${g.id})` : g.id}</label></li>`)}
      </ul>${this.more ? html`<p class="help">The first ${SHOWN} groups; type in the filter to find others.</p>` : nothing}
      ${this.found.length ? nothing : html`<p>No group matches.</p>`}`}
      <p>Selected: ${this.selected.join(', ') || 'none'}</p>
    </fieldset>`;
  }
}
customElements.define('urbac-group-picker', GroupPicker);
