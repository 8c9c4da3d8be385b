/**
 * Requests whose body is whole in memory (JSON, a small file, a signature, none) go through
 * node:http, answered as a light object. Node 20's fetch (undici) cost about 0.4 ms of client CPU
 * per request (Request, Response, WHATWG streams around every body): an initial sync of 10,000
 * small files makes 20,000 requests. Streamed bodies go through sendStream (stream-request.ts).
 */
import http from 'node:http';
import https from 'node:https';

export interface Answer {
  status: number;
  /** A response header ('' joined when repeated), or null. */
  header(name: string): string | null;
  /** The body, read once. */
  body: AsyncIterable<Uint8Array>;
  bytes(): Promise<Buffer>;
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of body) parts.push(c);
  return Buffer.concat(parts);
}

export function sendBuffered(url: string, method: string, headers: Record<string, string>, body?: Uint8Array | string): Promise<Answer> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? https.request : http.request;
  const data = typeof body === 'string' ? Buffer.from(body) : body;
  const all = data ? { ...headers, 'content-length': String(data.length) } : headers;
  return new Promise((resolve, reject) => {
    const req = send(target, { method, headers: all }, (res) => {
      const status = res.statusCode ?? 502;
      // Nothing follows these: read to the end now, so the connection goes back to the pool.
      if (status === 204 || status === 304) res.resume();
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
    req.end(data);
  });
}

/** A fetch Response (a streamed request's answer) seen as an Answer. */
export function fromResponse(res: Response): Answer {
  const body = (res.body ?? []) as unknown as AsyncIterable<Uint8Array>;
  return { status: res.status, header: (name) => res.headers.get(name), body, bytes: async () => Buffer.from(await res.arrayBuffer()) };
}
