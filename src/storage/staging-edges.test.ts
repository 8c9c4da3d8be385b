import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ContentStore } from './content-store.js';
import { HashedSink, hasVolatileChunks, markVolatile } from '../lib/hashed-sink.js';

/**
 * Edges of the one writer (lib/hashed-sink.ts) as Staging.stage and a resumed download use it:
 * sizes at the early datasync's boundary, empty content, a source that breaks off (the socket
 * closed) with and without a prefix, the size limit exactly met, and a part file cut mid-way then
 * continued. Whatever fails leaves no staging file.
 */
let dir: string;
let store: ContentStore;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'syncgate-staging-edges-'));
  store = new ContentStore(dir);
  await store.init();
});
afterEach(async () => {
  store.close();
  await rm(dir, { recursive: true, force: true });
});

const MiB = 1 << 20;
const stagingFiles = async () => (await readdir(store.tempDir, { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).map((d) => d.name);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** Content that differs at every offset (a piece written twice or skipped shows). */
const pattern = (size: number) => {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i + 4 <= size; i += 4) b.writeUInt32LE(i, i);
  for (let i = size - (size % 4); i < size; i += 1) b[i] = i & 0xff;
  return b;
};

/** Socket-sized pieces of their own (kept). */
async function* kept(data: Buffer, piece = 64 << 10): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += piece) yield Buffer.from(data.subarray(at, at + piece));
}

/** A patch's output: small literals and big copies in one reused buffer, scribbled over after each. */
function volatile(data: Buffer): AsyncIterable<Uint8Array> {
  return markVolatile({
    async *[Symbol.asyncIterator]() {
      const shared = Buffer.alloc(600 << 10);
      const sizes = [1000, 300 << 10, 77, 600 << 10, 200 << 10];
      for (let at = 0, i = 0; at < data.length; i += 1) {
        const n = Math.min(sizes[i % sizes.length]!, data.length - at);
        const piece = shared.subarray(0, n);
        data.copy(piece, 0, at, at + n);
        yield piece;
        piece.fill(0xee);
        at += n;
      }
    },
  });
}

/** `source`, broken off after `after` bytes as a closed socket does. */
function breaking(source: AsyncIterable<Uint8Array>, after: number): AsyncIterable<Uint8Array> {
  const out = {
    async *[Symbol.asyncIterator]() {
      let n = 0;
      for await (const c of source) {
        if (n + c.length > after) throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
        n += c.length;
        yield c;
      }
    },
  };
  return hasVolatileChunks(source) ? markVolatile(out) : out;
}

describe('the one writer at its edges', () => {
  for (const size of [32 * MiB - 1, 32 * MiB, 32 * MiB + 1]) {
    for (const mode of ['kept', 'volatile'] as const) {
      it(`stages ${size} bytes whole (${mode} chunks), and datasyncs early from 32 MiB on`, async () => {
        const data = pattern(size);
        const staged = await store.stage(mode === 'kept' ? Readable.from(kept(data)) : volatile(data), { maxSize: size });
        expect(staged.size).toBe(size);
        expect(staged.hash).toBe(sha(data));
        expect((await readFile(staged.tempPath)).equals(data)).toBe(true);
        const file = path.join(dir, `sink-${mode}`);
        const sink = await HashedSink.open(file, { volatile: mode === 'volatile' });
        try {
          for await (const c of mode === 'kept' ? kept(data) : volatile(data)) await sink.write(c);
          expect(await sink.finish()).toBe(sha(data));
        } finally {
          await sink.close();
        }
        expect(sink.earlyFlushes).toBe(size >= 32 * MiB ? 1 : 0);
        expect((await readFile(file)).equals(data)).toBe(true);
      });
    }
  }

  it('stages empty content from every kind of source', async () => {
    const empty = sha(Buffer.alloc(0));
    const prefix = path.join(dir, 'prefix');
    await writeFile(prefix, 'abc');
    const cases = [
      await store.stage(Readable.from([])),
      await store.stage(volatile(Buffer.alloc(0))),
      await store.stage(Readable.from([]), { prefixFrom: prefix, prefixLength: 0 }),
      await store.stage(volatile(Buffer.alloc(0)), { prefixFrom: prefix, prefixLength: 0 }),
    ];
    for (const s of cases) {
      expect([s.size, s.hash, (await stat(s.tempPath)).size]).toEqual([0, empty, 0]);
    }
    // A prefix with nothing after it: the prefix alone.
    const p = await store.stage(volatile(Buffer.alloc(0)), { prefixFrom: prefix, prefixLength: 2 });
    expect([p.size, p.hash, await readFile(p.tempPath, 'utf8')]).toEqual([2, sha(Buffer.from('ab')), 'ab']);
  });

  for (const mode of ['kept', 'volatile'] as const) {
    for (const withPrefix of [false, true]) {
      it(`leaves nothing in staging when the source breaks off mid-body (${mode}${withPrefix ? ', after a prefix' : ''})`, async () => {
        const data = pattern(5 * MiB);
        const prefix = path.join(dir, 'prefix');
        await writeFile(prefix, pattern(3 * MiB));
        const source = breaking(mode === 'kept' ? kept(data) : volatile(data), 3 * MiB + 12345);
        const opts = withPrefix ? { prefixFrom: prefix, prefixLength: 3 * MiB } : {};
        await expect(store.stage(mode === 'kept' ? Readable.from(source) : source, opts)).rejects.toMatchObject({ code: 'ECONNRESET' });
        expect(await stagingFiles()).toEqual([]);
      });
    }
  }

  it('accepts exactly maxSize (prefix included) and refuses one byte more, leaving nothing', async () => {
    const prefix = path.join(dir, 'prefix');
    await writeFile(prefix, pattern(MiB));
    const data = pattern(2 * MiB);
    const ok = await store.stage(volatile(data), { prefixFrom: prefix, prefixLength: MiB, maxSize: 3 * MiB });
    expect(ok.size).toBe(3 * MiB);
    expect(ok.hash).toBe(sha(Buffer.concat([pattern(MiB), data])));
    await store.discard(ok.tempPath);
    await expect(store.stage(volatile(data), { prefixFrom: prefix, prefixLength: MiB, maxSize: 3 * MiB - 1 })).rejects.toMatchObject({ code: 'EFBIG' });
    await expect(store.stage(Readable.from(kept(data)), { prefixFrom: prefix, prefixLength: MiB, maxSize: 3 * MiB - 1 })).rejects.toMatchObject({ code: 'EFBIG' });
    expect(await stagingFiles()).toEqual([]);
  });

  it('a download cut mid-way leaves a part file that is a prefix of the content, and continuing it gives the whole', async () => {
    const data = pattern(5 * MiB + 777);
    const part = path.join(dir, 'x.part');
    const first = await HashedSink.open(part);
    try {
      for await (const c of breaking(kept(data, 40_000), 3 * MiB + 5000)) await first.write(c);
      expect.unreachable();
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    } finally {
      await first.close();
    }
    const held = await readFile(part);
    expect(held.length).toBeGreaterThan(0);
    expect(held.equals(data.subarray(0, held.length))).toBe(true);
    // Resumed as the client does: the part file's hash, then the rest from its end.
    const h = createHash('sha256').update(held);
    const again = await HashedSink.open(part, { hash: h, start: held.length });
    try {
      for await (const c of kept(data.subarray(held.length), 40_000)) await again.write(c);
      expect(await again.finish()).toBe(sha(data));
    } finally {
      await again.close();
    }
    expect((await readFile(part)).equals(data)).toBe(true);
  });
});
