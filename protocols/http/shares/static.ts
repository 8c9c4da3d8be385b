import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import type { HttpContext, HttpDeps, HttpRouter, HttpState } from '../context.js';
import { sendVendorFile } from './vendor.js';

/** The static web UI: plain files, no build step. */
export const PUBLIC_DIR = fileURLToPath(new URL('../../../public/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Headers every page, asset and share download carries. */
export function securityHeaders(ctx: HttpContext, csp = CSP): void {
  ctx.set('Content-Security-Policy', csp);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
  ctx.set('Cross-Origin-Resource-Policy', 'same-origin');
}

/**
 * Sends one file below public/ (`rel` is already a plain relative name, checked below), or
 * leaves the response untouched (404 by koa) when there is none.
 */
export async function sendPublicFile(ctx: HttpContext, rel: string, cache: 'no-cache' | 'short' = 'no-cache'): Promise<boolean> {
  if (!/^[a-zA-Z0-9_-]+(\/[a-zA-Z0-9_-]+)*\.[a-z]+$/.test(rel)) return false;
  const abs = path.join(PUBLIC_DIR, rel);
  if (!abs.startsWith(PUBLIC_DIR)) return false;
  const st = await stat(abs).catch(() => null);
  if (!st?.isFile()) return false;
  securityHeaders(ctx);
  ctx.type = TYPES[path.extname(rel)] ?? 'application/octet-stream';
  ctx.length = st.size;
  ctx.lastModified = st.mtime;
  ctx.set('Cache-Control', cache === 'short' ? 'public, max-age=300' : 'no-cache');
  ctx.status = 200;
  if (ctx.fresh) {
    ctx.status = 304;
    return true;
  }
  ctx.body = ctx.method === 'HEAD' ? null : createReadStream(abs);
  if (ctx.method === 'HEAD') ctx.length = st.size;
  return true;
}

/** Serves /, /app, /app/* (the file browser) and /assets/*. Mount it last. */
export function staticRoutes(_deps: HttpDeps): HttpRouter {
  const router = new Router<HttpState>();
  const app = async (ctx: HttpContext) => {
    ctx.state.door = 'web';
    await sendPublicFile(ctx, 'app.html');
  };
  router.get('/', app);
  router.get('/app', app);
  router.get('/app/{*rest}', app);
  router.get('/assets/vendor/:name', async (ctx) => {
    ctx.state.door = 'web';
    await sendVendorFile(ctx, String(ctx.params.name));
  });
  // Browsers ask for /favicon.ico whatever the page links: answer it instead of a 404 in the console.
  router.get('/favicon.ico', async (ctx) => {
    ctx.state.door = 'web';
    if (await sendPublicFile(ctx, 'assets/favicon.svg', 'short')) ctx.type = 'image/svg+xml';
  });
  router.get('/assets/{*file}', async (ctx) => {
    ctx.state.door = 'web';
    const file = ctx.params.file;
    if (typeof file === 'string') await sendPublicFile(ctx, `assets/${file}`, 'short');
  });
  return router;
}
