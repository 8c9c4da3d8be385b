import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
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

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('HashedSink', () => {
  // Big pieces are written from where they are while hashed; small ones are batched (copied).
  for (const [label, cuts] of [
    ['small pieces only', [1, 100, 5000, 70_000, 300_000 - 1]],
    ['big pieces only', [2 << 20, 4 << 20, 6 << 20]],
    ['small and big mixed, batches that fill', [10, 2 << 20, (2 << 20) + 200_000, (2 << 20) + 400_000, (2 << 20) + 1_100_000, 5 << 20]],
  ] as const) {
    it(`writes and hashes chunks of reused buffers (${label})`, async () => {
      const data = randomBytes(7 << 20);
      const file = path.join(dir, 'out');
      const fh = await open(file, 'w');
      const sink = new HashedSink(fh);
      for await (const c of volatile(data, [...cuts])) await sink.write(c);
      const hash = await sink.finish();
      await fh.close();
      expect(sink.size).toBe(data.length);
      expect(hash).toBe(sha(data));
      expect(sha(await readFile(file))).toBe(sha(data));
    });
  }

  it('refuses a chunk that passes the limit, before writing it', async () => {
    const fh = await open(path.join(dir, 'out'), 'w');
    const sink = new HashedSink(fh, undefined, 1000);
    await sink.write(Buffer.alloc(600));
    await expect(sink.write(Buffer.alloc(500))).rejects.toMatchObject({ code: 'EFBIG' });
    await sink.settle();
    await fh.close();
  });

  it('marks sources whose chunks are volatile', () => {
    const plain = volatile(Buffer.alloc(1), []);
    expect(hasVolatileChunks(plain)).toBe(false);
    expect(hasVolatileChunks(markVolatile(plain))).toBe(true);
    expect(hasVolatileChunks(null)).toBe(false);
  });
});
