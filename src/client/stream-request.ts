import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { Readable, type Writable } from 'node:stream';

/** Writes a request body to `out` (without ending it), honouring its backpressure. */
export type BodyWriter = (out: Writable) => Promise<void>;

/** An answer whose body is node's own stream (big chunks, no web-stream layer between). */
export interface StreamAnswer {
  status: number;
  headers: Headers;
  body: IncomingMessage;
}

/**
 * A request with node:http: the body (a stream, bytes, or none) is written with backpressure and
 * each chunk let go, and the answer's body is node's stream. Node 20's fetch (undici 6) keeps every
 * chunk of a streamed request body alive until the request ends (a 1 GiB upload held 1.1 GB of
 * client memory), and reading a 1 GiB answer through its web stream cost about twice the CPU of
 * node's stream (small chunks, a promise per chunk, more garbage).
 */
export function request(url: string, method: string, headers: Record<string, string>, body?: Readable | BodyWriter | Uint8Array | null): Promise<StreamAnswer> {
  const target = new URL(url);
  const tls = target.protocol === 'https:';
  const send = tls ? https.request : http.request;
  if (body instanceof Uint8Array) headers = { ...headers, 'content-length': String(body.length) };
  return new Promise((resolve, reject) => {
    const req = send(target, { method, headers }, (res) => {
      const answer = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined) answer.set(name, Array.isArray(value) ? value.join(', ') : value);
      }
      resolve({ status: res.statusCode ?? 502, headers: answer, body: res });
    });
    req.once('error', reject);
    if (body instanceof Readable) {
      body.once('error', (err) => req.destroy(err));
      body.pipe(req);
    } else if (typeof body === 'function') {
      body(req).then(
        () => req.end(),
        (err: Error) => req.destroy(err),
      );
    } else req.end(body ?? undefined);
  });
}

/** A request with a streamed body, answered as a fetch Response (for JSON answers). */
export async function sendStream(url: string, method: string, headers: Record<string, string>, body: Readable | BodyWriter): Promise<Response> {
  const a = await request(url, method, headers, body);
  const empty = a.status === 204 || a.status === 304;
  if (empty) a.body.resume();
  return new Response(empty ? null : (Readable.toWeb(a.body) as ReadableStream<Uint8Array>), { status: a.status, headers: a.headers });
}
