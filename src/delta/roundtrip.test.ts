import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyEdits, deltaOf, patchOf, sigOf } from './testing.js';

/** A new file made from the basis by edits, so that deltas contain both COPY and LITERAL commands. */
const editedPair = fc
  .record({
    basis: fc.uint8Array({ minLength: 0, maxLength: 6000 }),
    edits: fc.array(
      fc.record({
        at: fc.nat(),
        kind: fc.constantFrom('insert', 'delete', 'replace'),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 300 }),
      }),
      { maxLength: 6 },
    ),
  })
  .map(({ basis, edits }) => ({ basis: Buffer.from(basis), next: applyEdits(basis, edits) }));

const params = fc.record({
  kind: fc.constantFrom('rabinkarp' as const, 'rollsum' as const),
  blockLen: fc.constantFrom(0, 1, 7, 16, 64, 300),
  strongLen: fc.constantFrom(0, -1, 1, 8, 32),
  chunk: fc.constantFrom(1, 13, 4096, 65536),
});

describe('patch(basis, delta(new, signature(basis))) == new', () => {
  it('holds for edited copies, any parameters and chunking', async () => {
    await fc.assert(
      fc.asyncProperty(editedPair, params, async ({ basis, next }, p) => {
        const sig = await sigOf(basis, p, p.chunk);
        const d = await deltaOf(sig, next, p.chunk);
        expect((await patchOf(basis, d, p.chunk)).equals(next)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('holds for unrelated random pairs', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 3000 }), fc.uint8Array({ maxLength: 3000 }), params, async (a, b, p) => {
        const basis = Buffer.from(a);
        const next = Buffer.from(b);
        const d = await deltaOf(await sigOf(basis, p), next, p.chunk);
        expect((await patchOf(basis, d)).equals(next)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('sends little more than the change for a large file with a small edit', async () => {
    const basis = randomBytes(3 << 20);
    const next = Buffer.concat([basis.subarray(0, 1 << 20), randomBytes(1000), basis.subarray(1 << 20)]);
    const d = await deltaOf(await sigOf(basis, { blockLen: 4096 }), next);
    expect(d.length).toBeLessThan(1000 + 2 * 4096 + 100);
    expect((await patchOf(basis, d)).equals(next)).toBe(true);
  });

  it('encodes a run of identical blocks as one COPY (prefers extending the previous match)', async () => {
    const basis = Buffer.alloc(1 << 20);
    const d = await deltaOf(await sigOf(basis, { blockLen: 1024 }), basis);
    // magic + one COPY_N1_N4 (1 + 1 + 4 bytes) + END
    expect(d.length).toBe(4 + 6 + 1);
    expect((await patchOf(basis, d)).equals(basis)).toBe(true);
  });
});

describe('with a worker pool', () => {
  it('gives byte-identical signatures and deltas', async () => {
    const { HashPool } = await import('./pool.js');
    const { collect, chunksOf } = await import('./testing.js');
    const { signature, parseSignature } = await import('./signature.js');
    const { delta } = await import('./delta.js');
    const basis = randomBytes(6 << 20);
    const next = Buffer.concat([basis.subarray(0, 2 << 20), randomBytes(3000), basis.subarray((2 << 20) + 100)]);
    const pool = new HashPool(2);
    try {
      for (const kind of ['rabinkarp', 'rollsum'] as const) {
        const opts = { kind, blockLen: 2048, fileSize: basis.length };
        const sig = await sigOf(basis, opts);
        expect((await collect(signature(chunksOf(basis), { ...opts, pool }))).equals(sig)).toBe(true);
        const plain = await deltaOf(sig, next);
        const pooled = await collect(delta(parseSignature(sig), chunksOf(next), { pool }));
        expect(pooled.equals(plain)).toBe(true);
        expect((await patchOf(basis, pooled)).equals(next)).toBe(true);
      }
    } finally {
      await pool.close();
    }
  });
});
