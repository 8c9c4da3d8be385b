/**
 * Test support: the base URL where share, event and static routes answer for a test gateway.
 * When the gateway's HTTP door mounts them (the normal case) that is the gateway itself; until
 * then a small Koa app over the same core, with the door's own error and auth middleware.
 */
import type { AddressInfo } from 'node:net';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import Koa from 'koa';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { Core } from '../../../src/core/index.js';
import { authenticator } from '../auth.js';
import type { HttpDeps, HttpState } from '../context.js';
import { errorMiddleware } from '../errors.js';
import { eventRoutes, type EventStreamOptions } from '../events.js';
import { doorMetrics } from '../metrics.js';
import type { HttpOptions } from '../options.js';
import { shareRoutes } from './routes.js';
import { staticRoutes } from './static.js';

export interface RoutesUnderTest {
  url: string;
  close(): Promise<void>;
}

/** `ownApp` forces the separate app (e.g. to pass event-stream options such as a short heartbeat). */
export async function shareRoutesUnderTest(
  gw: { url: string; core: Core; options: HttpOptions },
  opts: { events?: EventStreamOptions; ownApp?: boolean } = {},
): Promise<RoutesUnderTest> {
  const probe = opts.ownApp ? null : await fetch(`${gw.url}/s/${'x'.repeat(43)}/meta`).catch(() => null);
  if (probe && /json/.test(probe.headers.get('content-type') ?? '')) return { url: gw.url, close: async () => {} };
  const metrics = new Registry();
  const base = { core: gw.core, options: gw.options, log: pino({ level: 'silent' }), metrics, publicUrl: '' };
  const authenticate = authenticator(gw.core, { secure: false });
  const deps: HttpDeps = { ...base, authenticate, httpMetrics: doorMetrics(metrics), secure: false } as HttpDeps;
  const app = new Koa<HttpState>();
  app.use(async (ctx, next) => {
    ctx.state.requestId = randomUUID();
    ctx.state.log = deps.log;
    ctx.state.address = ctx.req.socket.remoteAddress ?? '';
    ctx.state.door = 'rest';
    await next();
  });
  app.use(errorMiddleware as Koa.Middleware<HttpState>);
  app.use(authenticate as Koa.Middleware<HttpState>);
  for (const r of [shareRoutes(deps), eventRoutes(deps, opts.events), staticRoutes(deps)]) app.use(r.routes() as Koa.Middleware<HttpState>);
  const server = http.createServer(app.callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  (deps as { publicUrl: string }).publicUrl = url;
  return {
    url,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * The web UI for a browser test: the gateway itself when it serves /assets/, else a front server
 * that answers /, /app and /assets/ from public/ and passes everything else to the gateway.
 */
export async function webUiUnderTest(gw: { url: string; core: Core; options: HttpOptions }): Promise<RoutesUnderTest> {
  const probe = await fetch(`${gw.url}/assets/app.js`).catch(() => null);
  if (probe?.ok) return { url: gw.url, close: async () => {} };
  const metrics = new Registry();
  const deps = { core: gw.core, options: gw.options, log: pino({ level: 'silent' }), metrics, publicUrl: gw.url } as unknown as HttpDeps;
  const app = new Koa<HttpState>();
  app.use(staticRoutes(deps).routes() as Koa.Middleware<HttpState>);
  const handle = app.callback();
  const target = new URL(gw.url);
  const server = http.createServer((req, res) => {
    const u = req.url ?? '/';
    if (u === '/' || u === '/app' || u.startsWith('/app/') || u.startsWith('/assets/')) {
      void handle(req, res);
      return;
    }
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: u, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
