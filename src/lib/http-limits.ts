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
    server.on('request', (req: IncomingMessage, res: ServerResponse) => watchBody(req, res, l, onRefused));
  }
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

function watchBody(req: IncomingMessage, res: ServerResponse, l: HttpLimits, onRefused?: (what: 'slow-body', address: string) => void): void {
  if (!hasBody(req) || req.complete) return;
  const socket = req.socket;
  const minPerWindow = (l.bodyMinBytesPerSec * l.bodyRateWindowMs) / 1000;
  // bytesRead counts what reached us, without adding a 'data' listener (that would start the body flowing).
  let last = socket.bytesRead;
  const timer = setInterval(() => {
    if (req.complete || socket.destroyed) return stop();
    const now = socket.bytesRead;
    const got = now - last;
    last = now;
    // Unread data waiting on our side means the client is not the slow one.
    if (got >= minPerWindow || req.readableLength > 0 || socket.readableLength > 0) return;
    stop();
    onRefused?.('slow-body', socket.remoteAddress ?? '');
    if (!res.headersSent) {
      const body = JSON.stringify({ error: { code: 'REQUEST_TIMEOUT', message: `the request body arrived slower than ${l.bodyMinBytesPerSec} bytes/s` } });
      res.writeHead(408, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
      res.end(body, () => socket.destroy());
      // A client that does not read its answer either must not hold the socket.
      setTimeout(() => socket.destroy(), 1000).unref();
    } else socket.destroy();
  }, l.bodyRateWindowMs);
  timer.unref();
  const stop = () => clearInterval(timer);
  req.once('end', stop);
  req.once('close', stop);
  res.once('close', stop);
}
