import type { IncomingMessage } from 'node:http';

/**
 * The client's address as the login guard keys it. Behind a reverse proxy (`http.trustProxy`), the
 * last X-Forwarded-For entry: the one the proxy itself appended for the peer it saw. The entries
 * before it are whatever the client wrote: trusting the first (koa's default) let a client name
 * any address, to dodge its own ban with a new one per request or to get someone else's banned.
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string | undefined {
  if (trustProxy) {
    const header = req.headers['x-forwarded-for'];
    const value = Array.isArray(header) ? header.join(',') : header;
    const last = value?.split(',').pop()?.trim();
    if (last) return last;
  }
  return req.socket.remoteAddress;
}

/** For koa apps: read at most this many X-Forwarded-For entries, from the right (one proxy). */
export const TRUSTED_PROXY_HOPS = 1;
