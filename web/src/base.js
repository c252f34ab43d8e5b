// web/src/base.js - what every page shares: light DOM (the portal's one style
// sheet applies), the signed-in context (tenant, what the person may do), and
// errors shown in the API's words, next to the field they name when they name one.
// Depends on: lit, api.js.
import { LitElement, html, nothing } from 'lit';
import { ApiError } from './api.js';

export const ROWS = 50;

export class Page extends LitElement {
  static properties = { ctx: { attribute: false }, error: { state: true }, busy: { state: true }, offset: { state: true } };

  createRenderRoot() {
    return this;
  }

  get base() {
    return `/api/v1/tenants/${encodeURIComponent(this.ctx.tenant)}`;
  }

  get canManage() {
    return this.ctx.access === 'manage';
  }

  // The rows of `items` shown now: ROWS at a time (a table of 500 roles, each
  // with its buttons, would take seconds to draw), from this.offset.
  shown(items) {
    const o = Math.min(this.offset || 0, Math.max(0, items.length - 1));
    return items.slice(o - (o % ROWS), o - (o % ROWS) + ROWS);
  }

  rowsPager(items) {
    if (items.length <= ROWS) return nothing;
    const o = (this.offset || 0) - ((this.offset || 0) % ROWS);
    const last = o + ROWS >= items.length;
    return html`<div class="actions">
      <fluent-button role="button" ?disabled=${o === 0} aria-disabled=${String(o === 0)} @click=${() => { this.offset = o - ROWS; }}>Previous rows</fluent-button>
      <span role="status">Rows ${o + 1} to ${Math.min(o + ROWS, items.length)} of ${items.length}</span>
      <fluent-button role="button" ?disabled=${last} aria-disabled=${String(last)} @click=${() => { this.offset = o + ROWS; }}>Next rows</fluent-button></div>`;
  }

  // Runs `fn`, showing its error; returns its result, or undefined on error.
  async run(fn) {
    this.error = null;
    this.busy = true;
    try {
      return await fn();
    } catch (e) {
      this.error = e instanceof ApiError ? e : { message: String(e) };
      return undefined;
    } finally {
      this.busy = false;
    }
  }

  // The error next to the field `target` names (the API's target), if it is this one.
  fieldError(...targets) {
    const e = this.error;
    if (!e || !e.target || !targets.some((t) => e.target === t || e.target.startsWith(`${t}[`) || e.target.startsWith(`${t}.`))) return nothing;
    return html`<p class="field-error" role="alert">${e.message}</p>`;
  }

  // The error no field shows.
  pageError(...fields) {
    const e = this.error;
    if (!e) return nothing;
    if (e.target && fields.some((t) => e.target === t || e.target.startsWith(`${t}[`) || e.target.startsWith(`${t}.`))) return nothing;
    return html`<div class="message error" role="alert">${e.message}</div>`;
  }
}

export const lines = (s) => s.split(/[\n,]/).map((x) => x.trim()).filter(Boolean);
