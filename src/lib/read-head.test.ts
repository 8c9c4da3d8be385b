import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { declaredBodySize, readHead } from './read-head.js';

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of it) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

const bytes = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) % 256));

describe('reading the head of an upload', () => {
  for (const kind of ['stream', 'iterable'] as const) {
    const sourceOf = (parts: Buffer[]) => (kind === 'stream' ? Readable.from(parts, { objectMode: false }) : (async function* () { yield* parts; })());

    it(`keeps a ${kind} that ends within the limit whole`, async () => {
      const head = await readHead(sourceOf([bytes(1000, 1), bytes(500, 2)]), 4096);
      expect(head.rest).toBeNull();
      expect(Buffer.concat(head.chunks)).toEqual(Buffer.concat([bytes(1000, 1), bytes(500, 2)]));
    });

    it(`hands a larger ${kind} back whole and in order`, async () => {
      const parts = Array.from({ length: 40 }, (_, i) => bytes(1000, i));
      const head = await readHead(sourceOf(parts), 4096);
      expect(head.rest).not.toBeNull();
      expect(await collect(head.rest!)).toEqual(Buffer.concat(parts));
    });
  }

  it('reports a stream that breaks before its end', async () => {
    const s = new PassThrough();
    const head = readHead(s, 4096);
    s.write(bytes(100, 3));
    setImmediate(() => s.destroy(new Error('connection reset')));
    await expect(head).rejects.toThrow('connection reset');
  });

  it('reports a stream closed without an end (a client gone mid-upload)', async () => {
    const s = new PassThrough();
    const head = readHead(s, 4096);
    s.write(bytes(100, 4));
    setImmediate(() => s.destroy());
    await expect(head).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });

  it('keeps an error that comes between the head and the rest for whoever reads the rest', async () => {
    const s = new PassThrough();
    const head = readHead(s, 10);
    s.write(bytes(100, 7));
    const h = await head;
    s.destroy(new Error('socket reset')); // no reader yet: must not be an uncaught error
    await new Promise((r) => setImmediate(r));
    await expect(collect(h.rest!)).rejects.toThrow('socket reset');
  });

  it('lets a large stream go unread on release', async () => {
    const s = new PassThrough();
    const head = readHead(s, 10);
    s.write(bytes(100, 5));
    const h = await head;
    await h.release();
    expect(s.destroyed).toBe(true);
  });

  it('answers at once for a stream already read to its end', async () => {
    const s = Readable.from([bytes(10, 6)]);
    await collect(s);
    expect(await readHead(s, 4096)).toMatchObject({ chunks: [], rest: null });
  });

  it('reads an HTTP request by its Content-Length: whole within the limit, on past it', async () => {
    const seen: Array<{ complete: boolean; head: number; rest: number | null }> = [];
    const server = http.createServer((req, res) => {
      // Read once the whole request is surely here, as the door reads it: by its announced size.
      setTimeout(async () => {
        const complete = req.complete;
        const h = await readHead(req, 1000, declaredBodySize(req.headers));
        const head = Buffer.concat(h.chunks).length;
        seen.push({ complete, head, rest: h.rest ? (await collect(h.rest)).length : null });
        res.end();
      }, 30);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      for (const n of [600, 0, 5000]) await fetch(url, { method: 'PUT', body: bytes(n, 8) });
    } finally {
      server.close();
    }
    expect(seen).toEqual([
      { complete: true, head: 600, rest: null },
      { complete: true, head: 0, rest: null },
      // Past the limit, the rest is the whole body again (the head's chunks first), read on by events.
      { complete: true, head: 5000, rest: 5000 },
    ]);
  });

  it('takes a stream whose announced size has come as whole, without waiting for its end', async () => {
    const s = new PassThrough();
    const head = readHead(s, 4096, 300);
    s.write(bytes(100, 9));
    s.write(bytes(200, 10)); // no end: an HTTP request's comes a turn later
    const h = await head;
    expect(h.rest).toBeNull();
    expect(Buffer.concat(h.chunks)).toEqual(Buffer.concat([bytes(100, 9), bytes(200, 10)]));
    s.destroy(new Error('the client went away')); // a late error finds a listener: no crash
  });

  it('reads the size an HTTP request announced, and nothing for a chunked one or a malformed length', () => {
    expect(declaredBodySize({ 'content-length': '4096' })).toBe(4096);
    expect(declaredBodySize({ 'content-length': '0' })).toBe(0);
    expect(declaredBodySize({ 'content-length': '12', 'transfer-encoding': 'chunked' })).toBeUndefined();
    expect(declaredBodySize({ 'content-length': '-1' })).toBeUndefined();
    expect(declaredBodySize({})).toBeUndefined();
  });
});
