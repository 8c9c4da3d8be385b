import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeltaError, ResultCode } from './format.js';
import { parseSignature } from './signature.js';
import { deltaOf, patchOf, sigOf } from './testing.js';

const basis = randomBytes(20_000);
const next = Buffer.concat([basis.subarray(0, 7000), randomBytes(500), basis.subarray(9000)]);

async function fixtures(): Promise<{ sig: Buffer; d: Buffer }> {
  const sig = await sigOf(basis, { blockLen: 512 });
  return { sig, d: await deltaOf(sig, next) };
}

describe('corrupt or truncated signatures', () => {
  it('every truncation is refused with a clear error, except at a block boundary', async () => {
    const { sig } = await fixtures();
    for (let len = 0; len < sig.length; len++) {
      const cut = sig.subarray(0, len);
      if (len >= 12 && (len - 12) % 36 === 0) {
        // A signature cut between blocks is a valid signature of a shorter basis: deltas stay correct.
        const d = await deltaOf(cut, next);
        expect((await patchOf(basis, d)).equals(next)).toBe(true);
      } else {
        expect(() => parseSignature(cut)).toThrow(/signature is truncated/);
      }
    }
  });

  it('refuses wrong magic, MD4 signatures and implausible header fields', async () => {
    const { sig } = await fixtures();
    const bad = (patch: (b: Buffer) => void): Buffer => {
      const b = Buffer.from(sig);
      patch(b);
      return b;
    };
    expect(() => parseSignature(bad((b) => b.writeUInt32BE(0x12345678, 0)))).toThrow(/not a librsync signature/);
    expect(() => parseSignature(bad((b) => b.writeUInt32BE(0x72730136, 0)))).toThrow(/MD4/);
    expect(() => parseSignature(bad((b) => b.writeUInt32BE(0, 4)))).toThrow(/block length 0/);
    expect(() => parseSignature(bad((b) => b.writeUInt32BE(99, 8)))).toThrow(/strong sum length 99/);
  });

  it('damaged block sums cost matches but never correctness', async () => {
    const { sig } = await fixtures();
    const damaged = Buffer.from(sig);
    for (let i = 12; i < damaged.length; i += 97) damaged[i] = (damaged[i] ?? 0) ^ 0x5a;
    const d = await deltaOf(damaged, next);
    expect((await patchOf(basis, d)).equals(next)).toBe(true);
  });
});

describe('corrupt or truncated deltas', () => {
  it('every truncation is refused, none yields a file', async () => {
    const { d } = await fixtures();
    for (let len = 0; len < d.length; len += len < 64 ? 1 : 37) {
      const err = await patchOf(basis, d.subarray(0, len)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DeltaError);
      expect((err as DeltaError).message).toMatch(/delta is truncated/);
      expect((err as DeltaError).code).toBe(ResultCode.INPUT_ENDED);
    }
  });

  it('refuses bad magic, unknown commands, copies outside the basis and trailing garbage', async () => {
    const { d } = await fixtures();
    const magic = d.subarray(0, 4);
    await expect(patchOf(basis, Buffer.from('rs\x016hello'))).rejects.toThrow(/not a librsync delta/);
    await expect(patchOf(basis, Buffer.concat([magic, Buffer.of(0x60)]))).rejects.toThrow(/unknown command byte 0x60/);
    // COPY_N4_N2 at 19999 for 2 bytes: one byte past the end of the 20000-byte basis
    const past = Buffer.concat([magic, Buffer.of(0x4e, 0, 0, 0x4e, 0x1f, 0, 2, 0)]);
    await expect(patchOf(basis, past)).rejects.toThrow(/reads past the basis end/);
    const far = Buffer.concat([magic, Buffer.of(0x51, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0)]); // at 2^48
    await expect(patchOf(basis, far)).rejects.toThrow(/reads past the basis end/);
    const huge = Buffer.concat([magic, Buffer.of(0x51, 1, 0, 0, 0, 0, 0, 0, 0, 10, 0)]); // at 2^56
    await expect(patchOf(basis, huge)).rejects.toThrow(/COPY position is too large/);
    await expect(patchOf(basis, Buffer.concat([magic, Buffer.of(0x45, 0, 0, 0)]))).rejects.toThrow(/COPY of length 0/);
    await expect(patchOf(basis, Buffer.concat([d, Buffer.of(1)]))).rejects.toThrow(/data after the END/);
  });

  it('random damage ends in a DeltaError or a patch, never a crash or a hang', async () => {
    const { d } = await fixtures();
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), async (flips) => {
        const bad = Buffer.from(d);
        for (const [at, x] of flips) bad[at % bad.length] = (bad[at % bad.length] ?? 0) ^ x;
        const r = await patchOf(basis, bad).catch((e: unknown) => e);
        expect(r instanceof DeltaError || Buffer.isBuffer(r)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
