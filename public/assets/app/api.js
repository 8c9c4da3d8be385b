// Every request of the page: same-origin cookie session, CSRF token on unsafe methods, and
// X-Requested-With so the API never answers with a Basic challenge (the browser's dialog).
const session = { csrf: '', onLoggedOut: () => {} };

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message || `request failed (${status})`);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

export function setCsrf(token) {
  session.csrf = token || '';
}
export const csrf = () => session.csrf;
export function onLoggedOut(fn) {
  session.onLoggedOut = fn;
}

export const pageHeaders = () => ({ 'x-requested-with': 'fetch', ...(session.csrf ? { 'x-csrf-token': session.csrf } : {}) });

export async function api(method, url, body) {
  const headers = pageHeaders();
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(url, { method, credentials: 'same-origin', headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'NETWORK', 'the server cannot be reached');
  }
  if (!res.ok) {
    let error = {};
    try {
      error = (await res.json()).error || {};
    } catch {}
    if (res.status === 401 && !url.endsWith('/login')) session.onLoggedOut();
    throw new ApiError(res.status, error.code || String(res.status), error.message, error.details);
  }
  return res.status === 204 ? null : res.json();
}

const enc = (p) => p.split('/').map(encodeURIComponent).join('/');
/** /api/v1/roots/<root>/<what>[/<path>] */
export const rootUrl = (root, what, p) => `/api/v1/roots/${encodeURIComponent(root)}/${what}${p ? `/${enc(p)}` : ''}`;
