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

/** What the limits hold, for tests: requests whose body rate is watched. */
export interface HttpLimitsState {
  watchedRequests(): number;
}

/** Installs the body rate check and the per-address cap on a server made with serverOptions(). */
export function enforceHttpLimits(server: Server, l: HttpLimits, onRefused?: (what: 'connection' | 'slow-body', address: string) => void): HttpLimitsState {
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
    const watcher = bodyWatcher(l, onRefused);
    server.on('request', watcher.watch);
    return { watchedRequests: watcher.held };
  }
  return { watchedRequests: () => 0 };
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

/** A socket's request under watch, kept on the socket itself (one at a time: requests on a connection follow each other). */
const kWatch = Symbol('syncgate.bodyWatch');
type WatchedSocket = Socket & { [kWatch]?: BodyWatch | null };

/**
 * The body-rate check for every request of one server: one timer for all of them, ticking four
 * times a window, and each request's body measured over windows of its own (from its start). A
 * timer and three listeners per request cost a small PUT about 10 µs; this costs an object per
 * request and one listener per connection.
 *
 * The watch hangs on its socket, and the set holds sockets, not requests: a connection's next
 * request replaces the last one's watch, and a closed connection leaves the set at once. A set of
 * requests held every request (its message, response and buffers) until the next tick, up to a
 * quarter of a window (5 s by default): a thousand small PUTs a second kept thousands of them
 * alive through each young-generation collection, which then copied them (3.5 ms per scavenge
 * instead of 1.3) and promoted them, so the heap grew by about 1 KB per request.
 */
function bodyWatcher(l: HttpLimits, onRefused?: (what: 'slow-body', address: string) => void): { watch: (req: IncomingMessage, res: ServerResponse) => void; held: () => number } {
  const minPerWindow = (l.bodyMinBytesPerSec * l.bodyRateWindowMs) / 1000;
  const watched = new Set<WatchedSocket>();
  let ticker: NodeJS.Timeout | null = null;

  const forget = (socket: WatchedSocket) => {
    socket[kWatch] = null;
    watched.delete(socket);
  };

  const tick = () => {
    const now = Date.now();
    for (const socket of watched) {
      const w = socket[kWatch];
      // An early answer (a disk-full 507 before the body was read) finished the response: let go.
      if (!w || w.req.complete || socket.destroyed || w.res.writableFinished) {
        forget(socket);
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
      forget(socket);
      cut(w, socket);
    }
    if (watched.size === 0 && ticker) {
      clearInterval(ticker);
      ticker = null;
    }
  };

  // The socket the watch hangs on, never req.socket: that is null once an early answer (a disk-full
  // 507 before the body was read) handed the socket back, and reading it crashed the gateway.
  const cut = ({ res }: BodyWatch, socket: Socket) => {
    onRefused?.('slow-body', socket.remoteAddress ?? '');
    if (!res.headersSent) {
      const body = JSON.stringify({ error: { code: 'REQUEST_TIMEOUT', message: `the request body arrived slower than ${l.bodyMinBytesPerSec} bytes/s` } });
      res.writeHead(408, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
      res.end(body, () => socket.destroy());
      // A client that does not read its answer either must not hold the socket.
      setTimeout(() => socket.destroy(), 1000).unref();
    } else socket.destroy();
  };

  const watch = (req: IncomingMessage, res: ServerResponse) => {
    if (!hasBody(req) || req.complete) return;
    const socket = req.socket as WatchedSocket;
    if (socket[kWatch] === undefined) socket.once('close', () => forget(socket)); // once per connection
    socket[kWatch] = { req, res, last: socket.bytesRead, since: Date.now() };
    watched.add(socket);
    if (!ticker) {
      ticker = setInterval(tick, Math.max(10, Math.floor(l.bodyRateWindowMs / 4)));
      ticker.unref();
    }
  };

  // Requests held: at most one per open connection (those the next tick has not let go of yet).
  return { watch, held: () => [...watched].filter((s) => s[kWatch]).length };
}

/**
 * Answers a request whose body was not all read (refused early: a full disk, a conflict) with
 * `Connection: close`, and closes gently: after the answer the socket is half-closed and what the
 * client still sends is read and dropped, for `lingerMs` at most. Closed at once, the kernel answers
 * the client's next body bytes with a reset, which can destroy the answer before the client reads it
 * (it saw EPIPE instead of the 507 saying why). Kept alive instead, the unread rest of the body sits
 * before the next request on that connection.
 */
export function closeAfterAnswer(req: IncomingMessage, res: ServerResponse, lingerMs = 5_000): void {
  res.setHeader('Connection', 'close');
  const socket = req.socket as Socket | null;
  if (!socket || socket.destroyed) return;
  socket.destroySoon = function lingeringClose(this: Socket) {
    if (this.writable) this.end();
    const timer = setTimeout(() => this.destroy(), lingerMs);
    timer.unref();
    this.once('end', () => this.destroy());
    this.once('close', () => clearTimeout(timer));
  };
}
