import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { HttpContext } from '../context.js';
import { securityHeaders } from './static.js';

/**
 * The web page's libraries, served from the installed packages (no CDN, no build step, no copy in
 * git): Preact + its hooks, htm (tagged templates instead of JSX: no compiler and no eval, so the
 * page's CSP stays `script-src 'self'`), and tus-js-client's browser build for resumable uploads.
 * Only these names are served; nothing else under node_modules is reachable.
 */
const VENDOR: Record<string, { specifier: string; type: string }> = {
  'preact.mjs': { specifier: 'preact', type: 'text/javascript; charset=utf-8' },
  'hooks.mjs': { specifier: 'preact/hooks', type: 'text/javascript; charset=utf-8' },
  'htm.mjs': { specifier: 'htm', type: 'text/javascript; charset=utf-8' },
  'tus.min.js': { specifier: 'tus-js-client/dist/tus.min.js', type: 'text/javascript; charset=utf-8' },
};

/** Bare imports inside the packages, pointed at our URLs (an import map would need an inline script). */
function rewriteImports(source: string): string {
  return source.replace(/from\s*"preact"/g, 'from"/assets/vendor/preact.mjs"');
}

const cache = new Map<string, { body: Buffer; etag: string }>();

async function load(name: string): Promise<{ body: Buffer; etag: string } | null> {
  const hit = cache.get(name);
  if (hit) return hit;
  // Own names only: VENDOR.constructor is Object's (an inherited property), whose specifier is undefined.
  const v = Object.hasOwn(VENDOR, name) ? VENDOR[name] : undefined;
  if (!v) return null;
  const file = fileURLToPath(import.meta.resolve(v.specifier));
  const body = Buffer.from(rewriteImports(await readFile(file, 'utf8')));
  const out = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
  cache.set(name, out);
  return out;
}

/** Sends /assets/vendor/<name>, or leaves the response alone (404) for any other name. */
export async function sendVendorFile(ctx: HttpContext, name: string): Promise<void> {
  const file = await load(name);
  if (!file) return;
  securityHeaders(ctx);
  ctx.type = VENDOR[name]!.type;
  ctx.set('ETag', file.etag);
  ctx.set('Cache-Control', 'public, max-age=300');
  ctx.status = 200;
  if (ctx.fresh) {
    ctx.status = 304;
    return;
  }
  ctx.body = ctx.method === 'HEAD' ? null : file.body;
  ctx.length = file.body.length;
}
