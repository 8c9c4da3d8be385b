import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { HashedSink, hasVolatileChunks, markVolatile } from './hashed-sink.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'syncgate-sink-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * `data` cut at `cuts`, each piece handed over in one buffer that is scribbled over as soon as the
 * next piece is asked for: what a patch with reused buffers does.
 */
async function* volatile(data: Buffer, cuts: number[]): AsyncGenerator<Uint8Array> {
  const shared = Buffer.alloc(data.length);
  let at = 0;
  for (const end of [...cuts, data.length]) {
    const piece = shared.subarray(0, end - at);
    data.copy(piece, 0, at, end);
    yield piece;
    piece.fill(0xee); // the consumer must be done with it by now
    at = end;
  }
}

/** `data` cut at `cuts`, each piece a buffer of its own that the consumer may keep (a socket's). */
async function* kept(data: Buffer, cuts: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (const end of [...cuts, data.length]) {
    yield Buffer.from(data.subarray(at, end));
    at = end;
  }
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Socket-sized pieces: 16 KiB to 64 KiB. */
const socketCuts = (total: number) => {
  const cuts: number[] = [];
  for (let at = 0, i = 0; ; i += 1) {
    at += [16 << 10, 64 << 10, 40_000][i % 3]!;
    if (at >= total) return cuts;
    cuts.push(at);
  }
};

const CASES = [
  ['small pieces only', [1, 100, 5000, 70_000, 300_000 - 1]],
  ['big pieces only', [2 << 20, 4 << 20, 6 << 20]],
  ['small and big mixed, batches that fill', [10, 2 << 20, (2 << 20) + 200_000, (2 << 20) + 400_000, (2 << 20) + 1_100_000, 5 << 20]],
  ['socket-sized pieces', socketCuts(7 << 20)],
] as const;

describe('HashedSink', () => {
  for (const [label, cuts] of CASES) {
    it(`writes and hashes volatile chunks scribbled over after each write (${label})`, async () => {
      const data = randomBytes(7 << 20);
      const file = path.join(dir, 'out');
      const sink = await HashedSink.open(file, { volatile: true });
      for await (const c of volatile(data, [...cuts])) await sink.write(c);
      const hash = await sink.finish();
      await sink.close();
      expect(sink.size).toBe(data.length);
      expect(hash).toBe(sha(data));
      expect(sha(await readFile(file))).toBe(sha(data));
    });

    it(`writes and hashes chunks it may keep (${label})`, async () => {
      const data = randomBytes(7 << 20);
      const file = path.join(dir, 'out');
      const sink = await HashedSink.open(file);
      for await (const c of kept(data, [...cuts])) await sink.write(c);
      const hash = await sink.finish();
      await sink.close();
      expect(hash).toBe(sha(data));
      expect(sha(await readFile(file))).toBe(sha(data));
    });
  }

  it('continues a part file from its end, with the hash of what it holds', async () => {
    const data = randomBytes(3 << 20);
    const file = path.join(dir, 'part');
    const cut = 1_234_567;
    await writeFile(file, data.subarray(0, cut));
    const h = createHash('sha256').update(data.subarray(0, cut));
    const sink = await HashedSink.open(file, { hash: h, start: cut });
    for await (const c of kept(data.subarray(cut), socketCuts(data.length - cut))) await sink.write(c);
    expect(await sink.finish()).toBe(sha(data));
    await sink.close();
    expect(sink.size).toBe(data.length);
    expect(sha(await readFile(file))).toBe(sha(data));
  });

  it('hands dirty pages to the disk as it goes, every 32 MiB', async () => {
    const data = randomBytes(1 << 20);
    const file = path.join(dir, 'out');
    for (const mode of [false, true]) {
      const sink = await HashedSink.open(file, { volatile: mode });
      const whole = createHash('sha256');
      for (let i = 0; i < 80; i += 1) {
        data[0] = i; // every MiB differs
        whole.update(data);
        await sink.write(mode ? data : Buffer.from(data));
      }
      expect(await sink.finish()).toBe(whole.digest('hex'));
      await sink.close();
      expect(sink.earlyFlushes).toBeGreaterThanOrEqual(2);
      expect(sha(await readFile(file))).toBe(sha(Buffer.concat(Array.from({ length: 80 }, (_, i) => Buffer.concat([Buffer.from([i]), data.subarray(1)])))));
    }
  });

  it('refuses a chunk that passes the limit, before writing it', async () => {
    const sink = await HashedSink.open(path.join(dir, 'out'), { volatile: true, limit: 1000 });
    await sink.write(Buffer.alloc(600));
    await expect(sink.write(Buffer.alloc(500))).rejects.toMatchObject({ code: 'EFBIG' });
    await sink.close();
  });

  // /dev/full answers every write with ENOSPC: a full disk, without filling one.
  for (const mode of [false, true]) {
    it(`reports a full disk to its caller and closes (${mode ? 'volatile' : 'kept'} chunks)`, async () => {
      const sink = await HashedSink.open('/dev/full', { volatile: mode });
      const run = async () => {
        for await (const c of (mode ? volatile : kept)(randomBytes(5 << 20), socketCuts(5 << 20))) await sink.write(c);
        await sink.finish();
      };
      await expect(run()).rejects.toMatchObject({ code: 'ENOSPC' });
      await sink.close();
    });
  }

  it('marks sources whose chunks are volatile', () => {
    const plain = volatile(Buffer.alloc(1), []);
    expect(hasVolatileChunks(plain)).toBe(false);
    expect(hasVolatileChunks(markVolatile(plain))).toBe(true);
    expect(hasVolatileChunks(null)).toBe(false);
  });
});
