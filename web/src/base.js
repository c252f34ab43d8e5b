// web/src/base.js - what every page shares: light DOM (the portal's one style
// sheet applies), the signed-in context (tenant, what the person may do), and
// errors shown in the API's words, next to the field they name when they name one.
// Depends on: lit, api.js.
import { LitElement, html, nothing } from 'lit';
import { ApiError } from './api.js';

export class Page extends LitElement {
  static properties = { ctx: { attribute: false }, error: { state: true }, busy: { state: true } };

  createRenderRoot() {
    return this;
  }

  get base() {
    return `/api/v1/tenants/${encodeURIComponent(this.ctx.tenant)}`;
  }

  get canManage() {
    return this.ctx.access === 'manage';
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
