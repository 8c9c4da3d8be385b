import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readHead } from './read-head.js';

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
});
