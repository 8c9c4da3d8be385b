// trustRuns: a run of matches goes on by weak sums alone. The delta must be the very one made with
// every strong sum checked whenever no weak sum collides, and a collision must give a wrong result
// (which the caller's whole-file hash catches), never an error or a hang.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HashPool } from './pool.js';
import { parseSignature } from './signature.js';
import { applyEdits, deltaOf, patchOf, sigOf, weakTwin } from './testing.js';

const edited = fc
  .record({
    basis: fc.uint8Array({ minLength: 0, maxLength: 20000 }),
    edits: fc.array(fc.record({ at: fc.nat(), kind: fc.constantFrom('insert', 'delete', 'replace'), bytes: fc.uint8Array({ minLength: 1, maxLength: 500 }) }), { maxLength: 5 }),
  })
  .map(({ basis, edits }) => ({ basis: Buffer.from(basis), next: applyEdits(basis, edits) }));

describe('delta with trustRuns', () => {
  it('makes the same delta as a full check when no weak sum collides', async () => {
    await fc.assert(
      fc.asyncProperty(edited, fc.constantFrom(16, 64, 300, 2048), fc.constantFrom(1, 13, 4096), async ({ basis, next }, blockLen, chunk) => {
        const sig = await sigOf(basis, { kind: 'rabinkarp', blockLen });
        const full = await deltaOf(sig, next, chunk);
        const trusted = await deltaOf(sig, next, chunk, { trustRuns: true });
        expect(trusted.equals(full)).toBe(true);
        expect((await patchOf(basis, trusted)).equals(next)).toBe(true);
      }),
      { numRuns: 120 },
    );
  });

  it('is the same on a big file with scattered edits and an insert (the worker pool path)', async () => {
    const basis = randomBytes(24 << 20);
    const next = Buffer.concat([basis.subarray(0, 9_000_001), randomBytes(1 << 20), basis.subarray(9_000_001)]);
    for (let i = 0; i < 10; i++) randomBytes(4096).copy(next, Math.floor(((i + 0.5) * next.length) / 10));
    const sig = await sigOf(basis, { kind: 'rabinkarp' });
    const pool = new HashPool(1); // whatever the load: the strong sums a batch still needs go to a worker
    try {
      const trusted = await deltaOf(sig, next, 1 << 20, { trustRuns: true, pool });
      expect(trusted.equals(await deltaOf(sig, next, 1 << 20, { pool }))).toBe(true);
      expect(trusted.length).toBeLessThan(1.2 * (1 << 20));
    } finally {
      await pool.close();
    }
  });

  it('takes a block whose weak sum collides as the basis block: a wrong result, which a full check avoids', async () => {
    const blockLen = 1024;
    const basis = randomBytes(8 * blockLen);
    const next = Buffer.from(basis);
    weakTwin(basis.subarray(3 * blockLen, 4 * blockLen)).copy(next, 3 * blockLen);
    const sig = await sigOf(basis, { kind: 'rabinkarp', blockLen });
    const s = parseSignature(sig);
    const twinSig = parseSignature(await sigOf(next, { kind: 'rabinkarp', blockLen }));
    expect(twinSig.weak[3]).toBe(s.weak[3]); // the twin really collides
    expect(next.equals(basis)).toBe(false);
    expect((await patchOf(basis, await deltaOf(sig, next))).equals(next)).toBe(true);
    expect((await patchOf(basis, await deltaOf(sig, next, undefined, { trustRuns: true }))).equals(next)).toBe(false);
  });

  it('checks the first block of a run and the basis\'s last block in full', async () => {
    const blockLen = 512;
    const basis = randomBytes(6 * blockLen);
    // A twin of the first block starts the run: no earlier match vouches for it.
    const first = Buffer.from(basis);
    weakTwin(basis.subarray(0, blockLen)).copy(first, 0);
    const sig = await sigOf(basis, { kind: 'rabinkarp', blockLen });
    expect((await patchOf(basis, await deltaOf(sig, first, undefined, { trustRuns: true }))).equals(first)).toBe(true);
    // A twin of the last block.
    const last = Buffer.from(basis);
    weakTwin(basis.subarray(5 * blockLen)).copy(last, 5 * blockLen);
    expect((await patchOf(basis, await deltaOf(sig, last, undefined, { trustRuns: true }))).equals(last)).toBe(true);
  });
});
