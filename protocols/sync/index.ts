/**
 * The sync door: the companion client's protocol on the main HTTP port (HTTP under /sync/v1 and a
 * WebSocket at /sync/v1/ws). Wire shapes live in src/sync-wire, shared with src/client.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import Koa from 'koa';
import type { Logger } from 'pino';
import type { Core } from '../../src/core/index.js';
import type { SignatureCache } from '../../src/delta/index.js';
import { PREFIX, WS_PATH } from '../../src/sync-wire/index.js';
import { syncCore } from './adapter.js';
import { wireError } from './errors.js';
import type { SyncOptions } from './options.js';
import { PushServer } from './push.js';
import { deviceOf, syncRoutes, type SyncState } from './routes.js';
import { TRUSTED_PROXY_HOPS } from '../common/client-address.js';
import { closeAfterAnswer } from '../../src/lib/http-limits.js';

export interface SyncDoorDeps {
  core: Core;
  options: SyncOptions;
  log: Logger;
  /** Signatures of stored contents, by hash (kept in the data folder by the composition root). */
  signatures: SignatureCache;
  /** Whether the HTTP port trusts X-Forwarded-For. */
  trustProxy?: boolean;
}

export interface SyncDoor {
  /** True for the requests this door serves. */
  owns(url: string): boolean;
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** The WebSocket upgrade of WS_PATH; false when the upgrade is not this door's. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  close(): Promise<void>;
}

/** Errors of a connection the client closed or lost in the middle of a request (node's http and net). */
const CLIENT_GONE = new Set(['HPE_INVALID_EOF_STATE', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

export function createSyncDoor(deps: SyncDoorDeps): SyncDoor {
  const core = syncCore(deps.core);
  const push = new PushServer(core, deps.options, deps.log);
  const app = new Koa<SyncState>({ proxy: deps.trustProxy ?? false, maxIpsCount: TRUSTED_PROXY_HOPS });
  app.silent = true;
  app.on('error', (err: Error & { code?: string }, ctx?: { req?: IncomingMessage }) => {
    // A client that went away mid-request (killed, asleep, network gone) is an everyday event: what
    // arrived is kept and its next sync resumes from there. Anything else is worth a warning.
    if (err.code !== undefined && CLIENT_GONE.has(err.code)) deps.log.info({ code: err.code }, 'sync client went away mid-request; its transfer resumes from what arrived');
    else deps.log.warn({ err }, 'sync response failed after it started');
    ctx?.req?.socket.destroy();
  });
  app.use(async (ctx, next) => {
    ctx.state.requestId = randomUUID();
    ctx.state.address = ctx.ip || ctx.req.socket.remoteAddress || 'unknown';
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Content-Type-Options', 'nosniff');
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        ctx.body = { error: { code: 'NOT_FOUND', message: `no such sync route: ${ctx.method} ${ctx.path}` } };
        ctx.status = 404; // a body set on koa's default 404 turns it into 200: set again, explicitly
      }
    } catch (err) {
      const w = wireError(err);
      if (!w) deps.log.error({ err, requestId: ctx.state.requestId, path: ctx.path }, 'sync request failed');
      ctx.status = w?.status ?? 500;
      ctx.body = w?.body ?? { error: { code: 'INTERNAL', message: `internal error (request ${ctx.state.requestId})` } };
      // Refused before its body was all read (a full disk, say): the rest of it is still on the
      // socket, which no next request can use; kept alive, the client's next request there hung
      // until the server timed the connection out (ECONNRESET after about 16 s).
      if (!ctx.req.complete) closeAfterAnswer(ctx.req, ctx.res);
    }
  });
  const routes = syncRoutes(core, deps.signatures, deps.options);
  app.use(routes.routes()).use(routes.allowedMethods());
  const callback = app.callback();
  return {
    owns: (url) => url === PREFIX || url.startsWith(`${PREFIX}/`),
    handle: (req, res) => void callback(req, res),
    upgrade(req, socket, head) {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== WS_PATH) return false;
      const requestId = randomUUID();
      deviceOf(core, req.headers.authorization, requestId, req.socket.remoteAddress ?? 'unknown')
        .then((session) => push.upgrade(req, socket, head, session))
        .catch((err: unknown) => {
          const w = wireError(err);
          if (!w) deps.log.error({ err, requestId }, 'sync upgrade failed');
          const status = w?.status ?? 500;
          const body = JSON.stringify(w?.body ?? { error: { code: 'INTERNAL', message: 'internal error' } });
          socket.end(`HTTP/1.1 ${status} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
        });
      return true;
    },
    close: () => push.close(),
  };
}
