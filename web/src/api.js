// web/src/api.js - the portal's only way to the server: the public HTTP API
// (docs/api.md) on the same origin, with the session cookie the browser holds
// (HttpOnly: this script never sees it) and the CSRF token, kept in memory
// only, on every write. Errors keep the API's own words and target.
// Depends on: fetch.

let csrfToken = null;
export function setCsrf(token) {
  csrfToken = token;
}

export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = error?.code;
    this.target = error?.target;
  }
}

export async function api(method, path, body, headers = {}) {
  const h = { accept: 'application/json', ...headers };
  if (body !== undefined) h['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) h['x-csrf-token'] = csrfToken;
  const res = await fetch(path, {
    method, headers: h, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) throw new ApiError(res.status, json?.error || { message: text || res.statusText });
  return { json, status: res.status, etag: res.headers.get('etag') };
}

export const enc = encodeURIComponent;
export const qs = (o) => new URLSearchParams(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')).toString();

// One page of a list: {items, next, count, json} (next: the API's @odata.nextLink,
// or null; count: the whole list's length when the route gives it; json: the
// whole answer, for what else the route gives with the page).
export async function page(path, top = 100) {
  const sep = path.includes('?') ? '&' : '?';
  const url = path.includes('$skiptoken') ? path : `${path}${sep}$top=${top}`;
  const { json } = await api('GET', url);
  return { items: json.value || [], next: json['@odata.nextLink'] || null, count: json.count, json };
}

// Every item of a list, page by page, at most `max` items.
export async function all(path, max = 10000) {
  const items = [];
  let next = path;
  while (next && items.length < max) {
    const p = await page(next, 1000);
    items.push(...p.items);
    next = p.next;
  }
  return items;
}
