/**
 * The client's HTTP requests, through node:http. Node 20's fetch (undici 6) keeps every chunk of a
 * streamed request body alive until the request ends (a 1 GiB upload held 1.1 GB of client memory),
 * reading a 1 GiB answer through its web stream cost about twice the CPU of node's stream, and its
 * Request/Response/web-stream objects cost about 0.4 ms of client CPU per request (an initial sync
 * of 10,000 small files makes 20,000 requests).
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { Readable, type Writable } from 'node:stream';

/** Writes a request body to `out` (without ending it), honouring its backpressure. */
export type BodyWriter = (out: Writable) => Promise<void>;

/** An answer whose body is node's own stream (big chunks, no web-stream layer between). */
export interface Answer {
  status: number;
  /** A response header (joined with ", " when repeated), or null. */
  header(name: string): string | null;
  /** The body, read once: as a stream, or whole with bytes(). */
  body: IncomingMessage;
  bytes(): Promise<Buffer>;
}

const fromBody = new WeakSet<object>();

/**
 * Whether a failed request failed in its body writer (reading the local file, or the file changing
 * while sent): a problem of this file here, not of the gateway or the network.
 */
export function isBodyError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && fromBody.has(err);
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of body) parts.push(c);
  return Buffer.concat(parts);
}

/** A request whose body (a stream, a writer, bytes, or none) is written with backpressure and each chunk let go. */
export function request(url: string, method: string, headers: Record<string, string>, body?: Readable | BodyWriter | Uint8Array | string | null): Promise<Answer> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? https.request : http.request;
  const data = typeof body === 'string' ? Buffer.from(body) : body;
  if (data instanceof Uint8Array) headers = { ...headers, 'content-length': String(data.length) };
  return new Promise((resolve, reject) => {
    const req = send(target, { method, headers }, (res) => {
      const status = res.statusCode ?? 502;
      // Nothing follows these: read to the end now, so the connection goes back to the pool.
      if (status === 204 || status === 304) res.resume();
      // Answered before the body was all sent (refused: a full disk, a conflict): the rest is
      // not wanted, so stop sending it once the answer is read.
      res.once('end', () => {
        if (!req.writableFinished) req.destroy();
      });
      resolve({
        status,
        header: (name) => {
          const v = res.headers[name.toLowerCase()];
          return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
        },
        body: res,
        bytes: () => collect(res),
      });
    });
    req.once('error', reject);
    if (data instanceof Readable) {
      data.once('error', (err) => req.destroy(err));
      data.pipe(req);
    } else if (typeof data === 'function') {
      data(req).then(
        () => req.end(),
        (err: Error) => {
          fromBody.add(err);
          reject(err);
          req.destroy(err);
        },
      );
    } else req.end(data ?? undefined);
  });
}
