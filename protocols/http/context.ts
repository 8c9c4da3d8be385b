/**
 * What the HTTP door's routers share (REST API, share links, events, the web page's API).
 *
 * - The core: `connectionOf(ctx, core)` is the request's connection (made once, on first use);
 *   every rule is the connection's, a route only translates. A share link's routes connect with the
 *   session `core.openShare` returns.
 * - `protocols/http/shares/routes.ts` exports `shareRoutes(deps: HttpDeps): HttpRouter` and
 *   `protocols/http/events.ts` exports `eventRoutes(deps: HttpDeps): HttpRouter`.
 *   Routers carry FULL paths (no prefix is added when mounting): e.g. '/api/v1/shares',
 *   '/s/:token', '/api/v1/roots/:root/events'. index.ts mounts them with `app.use(r.routes())`.
 * - Each of those modules also exports `openapi: OpenApiPaths` (OpenAPI 3.1 path items keyed by the
 *   FULL path as the router has it, params written `{name}`, e.g. '/api/v1/shares/{id}'). index.ts
 *   merges them into /api/v1/openapi.json; a test checks that every router path under /api/v1 is
 *   documented and vice versa (paths outside /api/v1, like /s/..., need no entry).
 * - Errors: throw `SyncgateError` (or `fail(code, msg)`) from src/core; the door's error middleware
 *   (errors.ts, installed first) answers `{"error":{"code","message"}}` with the mapped status.
 *   Anything else becomes a logged 500 with a generic message.
 * - Authentication: `deps.authenticate` runs on every route of `/api/v1` (it is installed by
 *   index.ts before any router, for every request): it sets `ctx.state.session` when valid
 *   credentials were sent (Basic, Bearer sgt_/sgs_/sgd_, or the session cookie) and rejects bad
 *   credentials with 401. It never rejects a request that sent none: use `requireUser` on a route that
 *   needs a user, then `connectionOf(ctx, core)`. Cookie-authenticated unsafe methods must carry the CSRF
 *   header (checked by authenticate, not by routes).
 * - JSON bodies: `readJson(ctx, schema)` (bounded by options.maxJsonBytes, or 8 KB without
 *   credentials -> 413; nested deeper than 32 -> 400; zod -> 400).
 *   Query strings: `parseQuery(ctx, schema)`.
 * - Metrics: `deps.httpMetrics.bytes.inc({door, direction}, n)` for payload bytes you stream;
 *   request counting is done for every request by index.ts using `ctx.state.door`
 *   (set it to 'share' or 'events' in your routes; the default is 'rest').
 */
import type { RouterContext, RouterInstance, RouterMiddleware } from '@koa/router';
import type { Logger } from 'pino';
import type { Counter, Registry } from 'prom-client';
import type { z } from 'zod';
import { fail, type Connection, type Core, type Session } from '../../src/core/index.js';
import type { HttpOptions } from './options.js';

/** What src/app hands the HTTP door (the signature of createHttpDoor). */
export interface HttpDoorDeps {
  core: Core;
  options: HttpOptions;
  log: Logger;
  metrics: Registry;
  /** Base URL clients reach this port at (for share links). */
  publicUrl: string;
}

export type AuthVia = 'basic' | 'token' | 'login-session' | 'device' | 'cookie';

/** koa `ctx.state` for every request on the HTTP door. */
export interface HttpState {
  requestId: string;
  /** Child logger carrying the request id. */
  log: Logger;
  /** Client address (respects options.trustProxy). */
  address: string;
  /** 'rest' unless a route sets it ('share', 'events', ...); labels request metrics. */
  door: string;
  /** Set by `authenticate` when valid credentials were presented. */
  session?: Session;
  /** The session's core connection, made on first use (connectionOf). */
  conn?: Connection;
  authVia?: AuthVia;
  /** The raw login-session secret (`sgs_...`) when the request used one (for logout). */
  loginToken?: string;
}

export type HttpContext = RouterContext<HttpState>;
export type HttpMiddleware = RouterMiddleware<HttpState>;
/** What shareRoutes/eventRoutes return: `new Router<HttpState>()` from @koa/router. */
export type HttpRouter = RouterInstance<HttpState>;

export interface HttpMetrics {
  /** Payload bytes per door and direction ('in' | 'out'). */
  bytes: Counter<'door' | 'direction'>;
}

/** OpenAPI 3.1 path items keyed by full path with `{param}` segments. */
export type OpenApiPaths = Record<string, Record<string, unknown>>;

/** Everything a router of the HTTP door gets. */
export interface HttpDeps extends HttpDoorDeps {
  /** Installed globally by index.ts; exposed so a sub-app could reuse it. */
  authenticate: HttpMiddleware;
  httpMetrics: HttpMetrics;
  /** True when the port speaks HTTPS (cookies get `Secure`). */
  secure: boolean;
}

/**
 * Scripts get a Basic challenge; the browser page does not, or Chromium would hold the page's
 * requests behind its password dialog (after a logout elsewhere or a password change, a revoked
 * cookie leaves the page anonymous). The page is told apart by X-Requested-With (its fetches) or
 * Sec-Fetch-Site: same-origin (its EventSource, uploads and download links); a client that sent
 * Basic credentials itself is answered in Basic's terms. The login route never challenges.
 */
export function wantsChallenge(ctx: HttpContext): boolean {
  if (ctx.path.endsWith('/login')) return false;
  if (/^basic\b/i.test(ctx.get('authorization'))) return true;
  return !ctx.get('x-requested-with') && ctx.get('sec-fetch-site') !== 'same-origin';
}

/** Rejects a request without a user session (401 with WWW-Authenticate for scripts). */
export const requireUser: HttpMiddleware = async (ctx, next) => {
  if (!ctx.state.session) {
    if (wantsChallenge(ctx)) ctx.set('WWW-Authenticate', 'Basic realm="syncgate", charset="UTF-8"');
    fail('UNAUTHENTICATED', 'authentication required');
  }
  await next();
};

/** Rejects a request unless the core says the session is an administrator's (403), before its body is read. */
export const requireAdmin = (core: Core): HttpMiddleware => async (ctx, next) => {
  if (!ctx.state.session) fail('UNAUTHENTICATED', 'authentication required');
  connectionOf(ctx, core).requireAdmin();
  await next();
};

/** The session of a route behind `requireUser`. */
export function sessionOf(ctx: HttpContext): Session {
  return ctx.state.session ?? fail('UNAUTHENTICATED', 'authentication required');
}

/** The core connection of a route behind `requireUser`. */
export function connectionOf(ctx: HttpContext, core: Core): Connection {
  return (ctx.state.conn ??= core.connect(sessionOf(ctx)));
}

function zodMessage(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.length ? i.path.join('.') + ': ' : ''}${i.message}`).join('; ');
}

/** Reads and validates a JSON body, bounded by options.maxJsonBytes (413 beyond). */
/**
 * Largest JSON body of a request without credentials (the login; share links' password form uses
 * the same): a stranger's body costs parsing before any check, and none of these needs more.
 */
export const ANONYMOUS_JSON_BYTES = 8192;
/** No body of this API nests more than a few levels; deeper is refused before JSON.parse runs. */
const MAX_JSON_DEPTH = 32;

/** Nesting depth of JSON text, counted in one pass over the bytes (brackets inside strings skipped). */
function tooDeep(buf: Buffer, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i += 1) {
    const c = buf[i]!;
    if (inString) {
      if (c === 0x5c) i += 1; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth += 1;
      if (depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth -= 1;
  }
  return false;
}

export async function readJson<T extends z.ZodType>(ctx: HttpContext, schema: T, maxBytes: number): Promise<z.infer<T>> {
  const type = ctx.get('content-type');
  if (!ctx.state.session) maxBytes = Math.min(maxBytes, ANONYMOUS_JSON_BYTES);
  const declared = Number(ctx.get('content-length') || '0');
  if (declared > maxBytes) fail('QUOTA_EXCEEDED', 'the request body is too large');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) fail('QUOTA_EXCEEDED', 'the request body is too large');
    chunks.push(chunk);
  }
  let value: unknown = {};
  if (size > 0) {
    if (type && !/json/i.test(type)) fail('INVALID_INPUT', 'the body must be JSON (application/json)');
    const text = Buffer.concat(chunks);
    if (tooDeep(text, MAX_JSON_DEPTH)) fail('INVALID_INPUT', `the JSON body nests deeper than ${MAX_JSON_DEPTH} levels`);
    try {
      value = JSON.parse(text.toString('utf8'));
    } catch {
      fail('INVALID_INPUT', 'the body is not valid JSON');
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) fail('INVALID_INPUT', zodMessage(parsed.error));
  return parsed.data;
}

/** Validates the query string. */
export function parseQuery<T extends z.ZodType>(ctx: HttpContext, schema: T): z.infer<T> {
  const parsed = schema.safeParse({ ...ctx.query });
  if (!parsed.success) fail('INVALID_INPUT', zodMessage(parsed.error));
  return parsed.data;
}
