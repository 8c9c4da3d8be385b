import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * What one client may hold of an HTTP server, for every route (REST, WebDAV, share pages, sync):
 * without these, thousands of requests that never finish their body each keep a descriptor for
 * as long as they like (issue 22 item 4). Modelled on Apache's mod_reqtimeout (a header time, then
 * a minimum body rate) plus a cap on connections per address.
 */
export interface HttpLimits {
  /** Time to receive a request's headers (also a new connection's first request). */
  headersTimeoutMs: number;
  /** A kept-alive connection with no request is closed after this long. */
  idleTimeoutMs: number;
  /**
   * A body must arrive at this rate at least, measured over `bodyRateWindowMs`: a slower one is
   * answered 408 and its connection closed. Only counted while we wait for the client (a body we
   * have not read yet, e.g. behind a slow disk, is our delay, not theirs). 0 = no minimum.
   */
  bodyMinBytesPerSec: number;
  bodyRateWindowMs: number;
  /** Open connections from one address; beyond it a new one is closed at once. 0 = no cap. */
  maxConnectionsPerAddress: number;
}

/** Options for http(s).createServer: Node checks header and idle times every connectionsCheckingInterval. */
export function serverOptions(l: HttpLimits): ServerOptions {
  return {
    headersTimeout: l.headersTimeoutMs,
    keepAliveTimeout: l.idleTimeoutMs,
    // The body is held to a minimum rate instead: a whole-request time would cut large uploads.
    requestTimeout: 0,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(l.headersTimeoutMs / 4))),
  };
}

/** Installs the body rate check and the per-address cap on a server made with serverOptions(). */
export function enforceHttpLimits(server: Server, l: HttpLimits, onRefused?: (what: 'connection' | 'slow-body', address: string) => void): void {
  if (l.maxConnectionsPerAddress > 0) {
    const open = new Map<string, number>();
    // Before the HTTP parser is attached: a refused connection costs nothing more.
    server.prependListener('connection', (socket: Socket) => {
      const address = socket.remoteAddress ?? '';
      const n = open.get(address) ?? 0;
      if (n >= l.maxConnectionsPerAddress) {
        socket.destroy();
        onRefused?.('connection', address);
        return;
      }
      open.set(address, n + 1);
      socket.once('close', () => {
        const left = (open.get(address) ?? 1) - 1;
        if (left > 0) open.set(address, left);
        else open.delete(address);
      });
    });
  }
  if (l.bodyMinBytesPerSec > 0) {
    const watch = bodyWatcher(l, onRefused);
    server.on('request', watch);
  }
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

interface BodyWatch {
  req: IncomingMessage;
  res: ServerResponse;
  /** socket.bytesRead at the start of the current window, and when that window began. */
  last: number;
  since: number;
}

/**
 * The body-rate check for every request of one server: one timer for all of them, ticking four
 * times a window, and each request's body measured over windows of its own (from its start). A
 * timer and three listeners per request cost a small PUT about 10 µs; this costs an object and a
 * Set entry. A request leaves the set at the first tick after its body is done or its socket gone.
 */
function bodyWatcher(l: HttpLimits, onRefused?: (what: 'slow-body', address: string) => void): (req: IncomingMessage, res: ServerResponse) => void {
  const minPerWindow = (l.bodyMinBytesPerSec * l.bodyRateWindowMs) / 1000;
  const watched = new Set<BodyWatch>();
  let ticker: NodeJS.Timeout | null = null;

  const tick = () => {
    const now = Date.now();
    for (const w of watched) {
      // Null once the answer went out and the socket was handed back (an error answered before the
      // body was read: a disk-full 507): reading it crashed the whole gateway from this timer.
      const socket = w.req.socket as IncomingMessage['socket'] | null;
      if (!socket || w.req.complete || socket.destroyed || w.res.writableFinished) {
        watched.delete(w);
        continue;
      }
      if (now - w.since < l.bodyRateWindowMs) continue;
      // bytesRead counts what reached us, without adding a 'data' listener (that would start the body flowing).
      const bytes = socket.bytesRead;
      const got = bytes - w.last;
      w.last = bytes;
      w.since = now;
      // Unread data waiting on our side means the client is not the slow one.
      if (got >= minPerWindow || w.req.readableLength > 0 || socket.readableLength > 0) continue;
      watched.delete(w);
      cut(w);
    }
    if (watched.size === 0 && ticker) {
      clearInterval(ticker);
      ticker = null;
    }
  };

  const cut = ({ req, res }: BodyWatch) => {
    const socket = req.socket;
    onRefused?.('slow-body', socket.remoteAddress ?? '');
    if (!res.headersSent) {
      const body = JSON.stringify({ error: { code: 'REQUEST_TIMEOUT', message: `the request body arrived slower than ${l.bodyMinBytesPerSec} bytes/s` } });
      res.writeHead(408, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
      res.end(body, () => socket.destroy());
      // A client that does not read its answer either must not hold the socket.
      setTimeout(() => socket.destroy(), 1000).unref();
    } else socket.destroy();
  };

  return (req, res) => {
    if (!hasBody(req) || req.complete) return;
    watched.add({ req, res, last: req.socket.bytesRead, since: Date.now() });
    if (!ticker) {
      ticker = setInterval(tick, Math.max(10, Math.floor(l.bodyRateWindowMs / 4)));
      ticker.unref();
    }
  };
}
