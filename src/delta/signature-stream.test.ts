// readSignature reads a signature as it streams in (a download's signature is a request body): any
// chunking gives what parseSignature gives for the whole, truncation and garbage are DeltaErrors, and
// a body over the limit is refused while it streams.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DeltaError } from './format.js';
import { parseSignature, readSignature } from './signature.js';
import { chunksOf, sigOf } from './testing.js';

describe('readSignature (streamed)', () => {
  it('gives what parseSignature gives for the whole, whatever the chunk boundaries', async () => {
    const basis = randomBytes(300_000);
    for (const opts of [{}, { strongLen: -1 }, { strongLen: 8, blockLen: 1000 }]) {
      const sig = await sigOf(basis, opts);
      const whole = parseSignature(sig);
      for (const chunk of [1, 3, 7, 12, 13, 37, 4096, sig.length]) {
        const got = await readSignature(chunksOf(sig, chunk));
        expect(got.params).toEqual(whole.params);
        expect(got.blockCount).toBe(whole.blockCount);
        expect(Buffer.from(got.weak.buffer, got.weak.byteOffset, got.weak.byteLength).equals(Buffer.from(whole.weak.buffer, whole.weak.byteOffset, whole.weak.byteLength))).toBe(true);
        expect(Buffer.from(got.strong).equals(Buffer.from(whole.strong))).toBe(true);
      }
    }
  });

  it('an empty basis has a signature of its header alone', async () => {
    const got = await readSignature(chunksOf(await sigOf(new Uint8Array(0))));
    expect(got.blockCount).toBe(0);
  });

  it('truncated, garbage and over-long inputs are DeltaErrors', async () => {
    const sig = await sigOf(randomBytes(50_000));
    await expect(readSignature(chunksOf(sig.subarray(0, 7), 3))).rejects.toThrow(/truncated.*header alone/);
    await expect(readSignature(chunksOf(sig.subarray(0, sig.length - 5), 10))).rejects.toThrow(/truncated.*not a multiple/);
    await expect(readSignature(chunksOf(Buffer.from('garbage, not a signature')))).rejects.toThrow(/not a librsync signature/);
    const err = await readSignature(chunksOf(sig, 100), sig.length - 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeltaError);
    expect((err as Error).message).toMatch(/larger than/);
    expect((await readSignature(chunksOf(sig, 100), sig.length)).blockCount).toBeGreaterThan(0);
  });
});
