import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import { accountRoutes } from './api/accounts.js';
import { fileRoutes } from './api/files.js';
import { historyRoutes } from './api/history.js';
import { retentionRoutes, openapi as retentionPaths } from './api/retention.js';
import { sessionRoutes, openapi as sessionPaths } from './api/session.js';
import { deviceRoutes, openapi as devicePaths } from './api/devices.js';
import { rootRoutes } from './api/roots.js';
import { tusRoutes } from './api/tus.js';
import { zipRoutes } from './api/zip.js';
import { authenticator } from './auth.js';
import type { HttpDeps, HttpDoorDeps, HttpMiddleware, HttpRouter, HttpState, OpenApiPaths } from './context.js';
import { errorMiddleware } from './errors.js';
import { eventRoutes, openapi as eventPaths } from './events.js';
import { TRUSTED_PROXY_HOPS } from '../common/client-address.js';
import { doorMetrics } from './metrics.js';
import { metricsHandler } from './metrics-access.js';
import { buildOpenApi } from './openapi.js';
import { redactSharePath } from './shares/redact.js';
import { openapi as sharePaths } from './shares/openapi.js';
import { shareRoutes } from './shares/routes.js';
import { securityHeaders, staticRoutes } from './shares/static.js';

export type { HttpDoorDeps } from './context.js';

export interface HttpDoor {
  handle(req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
  /** Every route (method + router path), for the OpenAPI completeness test. */
  routes?: { methods: string[]; path: string }[];
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const PAGE_CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/** Request id, child logger, client address, security headers, request/byte metrics, one log line. */
function requestFrame(deps: HttpDeps, metrics: ReturnType<typeof doorMetrics>): HttpMiddleware {
  return async (ctx, next) => {
    const started = Date.now();
    const sent = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(sent) ? sent : randomUUID();
    const socket = ctx.req.socket;
    const bytesRead = socket.bytesRead;
    const bytesWritten = socket.bytesWritten;
    ctx.state.requestId = requestId;
    ctx.state.log = deps.log.child({ requestId });
    ctx.state.address = ctx.ip || socket.remoteAddress || 'unknown';
    ctx.state.door = 'rest';
    ctx.set('X-Request-Id', requestId);
    securityHeaders(ctx, PAGE_CSP);
    if (deps.secure) ctx.set('Strict-Transport-Security', 'max-age=31536000');
    if (ctx.path.startsWith('/api/')) ctx.set('Cache-Control', 'no-store');
    const done = () => {
      const door = ctx.state.door;
      metrics.requests.inc({ door, method: ctx.method, status: String(ctx.status) });
      // Small bodies arrive with the headers, before this middleware sees the socket.
      metrics.bytes.inc({ door, direction: 'in' }, Math.max(0, socket.bytesRead - bytesRead, Number(ctx.get('content-length')) || 0));
      metrics.bytes.inc({ door, direction: 'out' }, Math.max(0, socket.bytesWritten - bytesWritten));
      const s = ctx.state.session;
      if (s) metrics.seen(door, `${ctx.state.authVia}:${s.user.id}:${s.device?.id ?? ''}`);
      ctx.state.log.info({ method: ctx.method, path: ctx.path, status: ctx.status, ms: Date.now() - started, user: s?.user.name, door }, 'request');
    };
    ctx.res.once('close', done);
    await next();
  };
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * A method no route of this door takes (MKCOL or PROPFIND outside /dav/, absolute form or not) is
 * refused for this URL with 405, as a WebDAV server answers on a plain resource: not koa's 501.
 */
const refuseUnknownMethods: HttpMiddleware = async (ctx, next) => {
  if (METHODS.has(ctx.method)) return next();
  ctx.set('Allow', [...METHODS].join(', '));
  ctx.status = 405;
  if (!ctx.path.startsWith('/api/')) ctx.body = 'method not allowed\n';
};

/** REST API, share pages, web UI, health and metrics on the main HTTP port. */
export function createHttpDoor(doorDeps: HttpDoorDeps): HttpDoor {
  const secure = Boolean(doorDeps.options.tlsCert) || doorDeps.publicUrl.startsWith('https:');
  const metrics = doorMetrics(doorDeps.metrics);
  const authenticate = authenticator(doorDeps.core, { secure });
  // Every log line of this door passes `path` and `url` through the share-token redaction, the
  // request line and whatever a route or limit logs later alike (issue 22 item 9).
  const log = doorDeps.log.child({}, { serializers: { path: redactSharePath, url: redactSharePath } });
  const deps: HttpDeps = { ...doorDeps, log, authenticate, httpMetrics: metrics, secure };
  // Behind a proxy, the address it appended (the last X-Forwarded-For entry), never the client's own claim.
  const app = new Koa<HttpState>({ proxy: doorDeps.options.trustProxy, maxIpsCount: TRUSTED_PROXY_HOPS });
  app.silent = true; // errors are logged once, by errorMiddleware, with the request id
  // Errors koa sees itself: a response stream (download, zip) failing after the headers went out.
  // The client must not wait for bytes that will never come: cut the connection.
  app.on('error', (err: Error & { headerSent?: boolean }, ctx?: { state?: HttpState; req?: IncomingMessage }) => {
    (ctx?.state?.log ?? log).warn({ err }, 'response failed after it started');
    if (err.headerSent) ctx?.req?.socket.destroy();
  });

  const base = new Router<HttpState>();
  base.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  base.get('/metrics', metricsHandler(deps));

  const routers: HttpRouter[] = [
    accountRoutes(deps),
    rootRoutes(deps),
    fileRoutes(deps, metrics),
    historyRoutes(deps, metrics),
    zipRoutes(deps),
    retentionRoutes(deps),
    sessionRoutes(deps),
    deviceRoutes(deps),
    tusRoutes(deps, metrics),
    eventRoutes(deps),
    shareRoutes(deps),
  ];
  const routes = [base, ...routers].flatMap((r) => r.stack.filter((l) => l.methods.length > 0).map((l) => ({ methods: l.methods.filter((m) => m !== 'HEAD' || !l.methods.includes('GET')), path: String(l.path) })));
  const extra: OpenApiPaths = { ...eventPaths, ...sharePaths, ...retentionPaths, ...sessionPaths, ...devicePaths };
  const doc = buildOpenApi(extra);
  const docRouter = new Router<HttpState>();
  docRouter.get('/api/v1/openapi.json', (ctx) => {
    ctx.body = doc;
  });
  routes.push({ methods: ['GET'], path: '/api/v1/openapi.json' });

  app.use(requestFrame(deps, metrics));
  app.use(errorMiddleware);
  app.use(refuseUnknownMethods);
  // Only the API takes credentials: share pages (/s/) open their own restricted sessions, and a
  // browser's API cookie must not turn a drop-box upload into a CSRF-checked user request.
  app.use((ctx, next) => (ctx.path.startsWith('/api/') ? authenticate(ctx as Parameters<typeof authenticate>[0], next) : next()));
  for (const r of [base, docRouter, ...routers]) app.use(r.routes()).use(r.allowedMethods());
  // The web UI last: static files, not part of the API document.
  const web = staticRoutes(deps);
  app.use(web.routes()).use(web.allowedMethods());
  const callback = app.callback();
  return {
    handle: (req, res) => void callback(req, res),
    close: async () => {},
    routes,
  };
}
