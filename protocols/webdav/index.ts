import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { clientAddress } from '../common/client-address.js';
import { isCoreError, type Core, type Session } from '../../src/core/index.js';
import { isForeignOrigin, isOwnHost } from '../common/own-host.js';
import { SANDBOX_CSP } from '../common/safe-download.js';
import { parseBasicAuth } from '../common/basic-auth.js';
import { DavError, STATUS_OF } from './errors.js';
import { copyOrMove, get, mkcol, options, put, remove } from './files.js';
import { lock, unlock } from './locking.js';
import type { WebdavOptions } from './options.js';
import { propfind, proppatch } from './props.js';
import { header, parseTarget, send, sendXml, type DavContext } from './request.js';
import { escapeXml } from './xml.js';
import { closeAfterAnswer } from '../../src/lib/http-limits.js';

export interface WebdavDoorDeps {
  core: Core;
  options: WebdavOptions;
  log: Logger;
  metrics: Registry;
  /** URL prefix the door is mounted at, e.g. '/dav'. */
  prefix: string;
  /** Base URL clients reach the gateway at: with `Host`, what names this server (Origin, Destination). */
  publicUrl?: string;
  /** http.trustProxy: the client address is the last X-Forwarded-For entry (protocols/common/client-address.ts). */
  trustProxy?: boolean;
}

export interface WebdavDoor {
  handle(req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

type Handler = (ctx: DavContext) => Promise<void>;

/**
 * The WebDAV door (class 1 and 2) on node:http, every method our own small handler over the core.
 * webdav-server 2.6.3 is not used: its engine crashed on two inputs, blocked the event loop for
 * seconds on large folders, ignored conditional requests, kept dead properties and locks in memory
 * and answered CORS * with credentials (STACK-NOTES); replacing its handlers one by one left
 * nothing of it but the dispatch.
 */
const HANDLERS: Record<string, Handler> = {
  OPTIONS: options,
  GET: (ctx) => get(ctx, false),
  HEAD: (ctx) => get(ctx, true),
  PUT: put,
  DELETE: remove,
  MKCOL: mkcol,
  COPY: (ctx) => copyOrMove(ctx, false),
  MOVE: (ctx) => copyOrMove(ctx, true),
  PROPFIND: propfind,
  PROPPATCH: proppatch,
  LOCK: lock,
  UNLOCK: unlock,
};


export function createWebdavDoor(deps: WebdavDoorDeps): WebdavDoor {
  const { core, options: opts, log, prefix } = deps;
  // Counted in a plain map and handed to prom-client when scraped: its inc() hashes and checks the
  // labels on every call, a cost each request would pay.
  const counts = new Map<string, number>();
  new Counter({
    name: 'syncgate_webdav_requests_total',
    help: 'WebDAV requests by method and status',
    labelNames: ['method', 'status'],
    registers: [deps.metrics],
    collect() {
      this.reset();
      for (const [key, n] of counts) {
        const [method, status] = key.split(' ') as [string, string];
        this.inc({ method, status }, n);
      }
    },
  });
  const count = (rawMethod: string | undefined, status: number) => {
    const upper = (rawMethod ?? '').toUpperCase();
    const key = `${HANDLERS[upper] ? upper : 'OTHER'} ${status}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };

  /** Not async (a throw reaches serve's catch all the same): one layer less before every answer. */
  function authenticate(req: IncomingMessage, requestId: string): Promise<Session> {
    const basic = parseBasicAuth(req.headers.authorization);
    if (!basic) throw new DavError(401, 'authentication required');
    // The core remembers verified passwords for a minute (and still applies bans): no Argon2 per request.
    const cred = { kind: 'password' as const, user: basic.user, secret: basic.secret };
    return core.authenticate(cred, { address: clientAddress(req, deps.trustProxy ?? false), protocol: 'webdav', requestId });
  }

  function fail(ctx: { req: IncomingMessage; res: ServerResponse; requestId: string }, err: unknown): void {
    const { req, res } = ctx;
    let status = 500;
    let message = 'internal error';
    let condition: string | undefined;
    if (err instanceof DavError) {
      status = err.status;
      message = err.message;
      condition = err.condition;
    } else if (isCoreError(err)) {
      status = STATUS_OF[err.code];
      message = err.message;
      const method = req.method ?? '';
      if (err.code === 'NOT_FOUND' && err.details.missingParent) status = 409;
      if (err.code === 'ALREADY_EXISTS' && method !== 'MKCOL') status = 412;
      // Well formed, not allowed: a collection into itself, or over a collection holding the source
      // (the core's only INVALID_INPUTs for these).
      if (err.code === 'INVALID_INPUT' && (method === 'COPY' || method === 'MOVE')) status = 403;
      if (err.code === 'LOCKED') condition = 'lock-token-submitted';
      if (err.code === 'TOO_MANY_ATTEMPTS') res.setHeader('Retry-After', '60');
    } else {
      log.error({ err, requestId: ctx.requestId, method: req.method, url: req.url }, 'webdav request failed');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    for (const h of ['ETag', 'Last-Modified', 'Content-Type', 'Content-Disposition', 'Content-Range', 'Lock-Token', 'OC-ETag', 'X-OC-MTime']) res.removeHeader(h);
    if (status === 401) res.setHeader('WWW-Authenticate', `Basic realm="${opts.realm.replace(/"/g, '')}", charset="UTF-8"`);
    // An error answered before the body was read: do not wait for a large upload to finish.
    if (!req.complete && (req.method === 'PUT' || Number(req.headers['content-length'] ?? 0) > opts.maxXmlBytes)) closeAfterAnswer(req, res);
    if (condition) sendXml(res, status, `<D:error xmlns:D="DAV:"><D:${condition}/><D:responsedescription>${escapeXml(message)}</D:responsedescription></D:error>`);
    else send(res, status, `${message}\n`);
  }

  async function serve(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const handler = HANDLERS[method];
    res.setHeader('DAV', '1, 2');
    res.setHeader('MS-Author-Via', 'DAV');
    // Nothing under /dav/ is ever a live page of this origin (uploaded HTML, SVG, the listing page).
    res.setHeader('Content-Security-Policy', SANDBOX_CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    // A page of another site (or a sandboxed, opaque one: Origin null) never drives this door
    // with the credentials a browser keeps for it.
    if (isForeignOrigin(header(req, 'origin'), req.headers.host, deps.publicUrl)) throw new DavError(403, 'requests from another site are refused');
    if (!handler) {
      res.setHeader('Allow', Object.keys(HANDLERS).join(', '));
      throw new DavError(405, 'method not allowed');
    }
    const url = req.url ?? '/';
    // Absolute form (RFC 9112 3.2.2) naming another server: this is no proxy.
    if (!url.startsWith('/') && !isOwnHost(url, req.headers.host, deps.publicUrl)) throw new DavError(400, 'the request names another server');
    const target = parseTarget(prefix, url);
    const session = method === 'OPTIONS' && !req.headers.authorization ? null : await authenticate(req, requestId);
    if (!session) return options({ req, res } as DavContext);
    await handler({ req, res, conn: core.connect(session), opts, prefix, publicUrl: deps.publicUrl, session, requestId, log, target });
  }

  return {
    handle(req, res) {
      const requestId = randomUUID();
      const started = performance.now();
      res.once('finish', () => {
        count(req.method, res.statusCode);
        if (log.isLevelEnabled('debug')) log.debug({ requestId, method: req.method, url: req.url, status: res.statusCode, ms: Math.round(performance.now() - started) }, 'webdav request');
      });
      serve(req, res, requestId).catch((err: unknown) => {
        try {
          fail({ req, res, requestId }, err);
        } catch (inner) {
          log.error({ err: inner, requestId }, 'webdav error answer failed');
          res.destroy();
        }
      });
    },
    close: async () => {},
  };
}
