import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';

/**
 * Sends a streamed request body with node:http and answers with a fetch Response. Node 20's fetch
 * (undici 6) keeps every chunk of a streamed request body alive until the request ends: a 1 GiB
 * upload held 1.1 GB of client memory. node:http writes with backpressure and lets each chunk go.
 */
export function sendStream(url: string, method: string, headers: Record<string, string>, body: Readable): Promise<Response> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = send(target, { method, headers }, (res) => {
      const answer = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined) answer.set(name, Array.isArray(value) ? value.join(', ') : value);
      }
      const status = res.statusCode ?? 502;
      const empty = status === 204 || status === 304;
      if (empty) res.resume();
      resolve(new Response(empty ? null : (res as unknown as ReadableStream<Uint8Array>), { status, headers: answer }));
    });
    req.once('error', reject);
    body.once('error', (err) => req.destroy(err));
    body.pipe(req);
  });
}
