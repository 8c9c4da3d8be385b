// Our delta engine against Debian's rdiff (librsync 2.3.2), which nobody here wrote: signatures must
// be byte-identical, and each side must apply the other's deltas to exactly the new file.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRdiff } from '../../src/cli/rdiff.js';
import { deltaFile, fileBasis, patch, signatureFile } from '../../src/delta/index.js';
import { chunksOf, collect } from '../../src/delta/testing.js';

const exec = promisify(execFile);
const RDIFF = '/usr/bin/rdiff';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sg-rdiff-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let seq = 0;
async function file(data: Uint8Array): Promise<string> {
  const p = join(dir, `f${seq++}`);
  await writeFile(p, data);
  return p;
}
const tmp = (): string => join(dir, `t${seq++}`);

async function ours(...argv: string[]): Promise<void> {
  expect(await runRdiff(argv)).toBe(0);
}

function edited(basis: Buffer, kind: string): Buffer {
  const b = Buffer.from(basis);
  const at = (f: number): number => Math.floor(b.length * f);
  switch (kind) {
    case 'scattered edits':
      for (let i = 1; i < 20; i++) randomBytes(50).copy(b, at(i / 20));
      return b;
    case 'insertions':
      return Buffer.concat([b.subarray(0, at(0.3)), randomBytes(777), b.subarray(at(0.3), at(0.7)), randomBytes(5), b.subarray(at(0.7))]);
    case 'deletions':
      return Buffer.concat([b.subarray(0, at(0.2)), b.subarray(at(0.2) + 3000, at(0.6)), b.subarray(at(0.6) + 1)]);
    case 'truncation':
      return b.subarray(0, at(0.55));
    case 'extension':
      return Buffer.concat([b, randomBytes(10_001)]);
    case 'moved blocks':
      return Buffer.concat([b.subarray(at(0.5)), b.subarray(0, at(0.5))]);
    case 'identical':
      return b;
    case 'empty':
      return Buffer.alloc(0);
    case 'smaller than a block':
      return b.subarray(100, 200);
    case 'unrelated':
      return randomBytes(b.length);
    default:
      throw new Error(kind);
  }
}

const PARAMS: string[][] = [[], ['-b', '1024'], ['-S', '8'], ['-R', 'rollsum'], ['-b', '333', '-S', '-1', '-R', 'rollsum']];
const KINDS = ['scattered edits', 'insertions', 'deletions', 'truncation', 'extension', 'moved blocks', 'identical', 'empty', 'smaller than a block', 'unrelated'];

async function crossCheck(basis: string, next: string, params: string[]): Promise<{ ourDelta: number; rdiffDelta: number }> {
  const rSig = tmp();
  const oSig = tmp();
  await exec(RDIFF, ['signature', ...params, basis, rSig]);
  await ours('signature', ...params, basis, oSig);
  expect((await readFile(oSig)).equals(await readFile(rSig))).toBe(true);

  const want = await readFile(next);
  const oDelta = tmp();
  const rOut = tmp();
  await ours('delta', rSig, next, oDelta);
  await exec(RDIFF, ['patch', basis, oDelta, rOut]);
  expect((await readFile(rOut)).equals(want)).toBe(true);

  const rDelta = tmp();
  const oOut = tmp();
  await exec(RDIFF, ['delta', rSig, next, rDelta]);
  await ours('patch', basis, rDelta, oOut);
  expect((await readFile(oOut)).equals(want)).toBe(true);
  return { ourDelta: (await stat(oDelta)).size, rdiffDelta: (await stat(rDelta)).size };
}

describe('signatures, deltas and patches interoperate with rdiff', () => {
  it.each([0, 1, 255, 256, 257, 4096, 65_537, 1_000_003])('random file of %i bytes against an unrelated one', async (size) => {
    const basis = await file(randomBytes(size));
    const next = await file(randomBytes(Math.floor(size / 2)));
    for (const params of [[], ['-R', 'rollsum'], ['-b', '64', '-S', '4']]) await crossCheck(basis, next, params);
  });

  it.each(KINDS)('edited copy of a 2 MB file: %s', async (kind) => {
    const b = randomBytes(2_000_000);
    const basis = await file(b);
    const next = await file(edited(b, kind));
    for (const params of PARAMS) {
      const { ourDelta, rdiffDelta } = await crossCheck(basis, next, params);
      expect(ourDelta).toBeLessThanOrEqual(Math.ceil(rdiffDelta * 1.05) + 16);
    }
  });

  it('an empty basis', async () => {
    const basis = await file(Buffer.alloc(0));
    const next = await file(randomBytes(100_000));
    await crossCheck(basis, next, []);
  });
});

describe('a 5 GiB sparse basis (64-bit offsets)', () => {
  const GiB = 2 ** 30;
  const writeAt = async (path: string, pos: number, data: Uint8Array): Promise<void> => {
    const fh = await open(path, 'r+');
    await fh.write(data, 0, data.length, pos);
    await fh.close();
  };
  const readAt = async (path: string, pos: number, len: number): Promise<Buffer> => {
    const fh = await open(path, 'r');
    try {
      const b = Buffer.alloc(len);
      await fh.read(b, 0, len, pos);
      return b;
    } finally {
      await fh.close();
    }
  };

  // Hashing 5 GiB twice (rdiff and us, in parallel) is the cost of this test; the new file is a
  // small one made of the basis' bytes beyond 4 GiB, so that deltas hold 64-bit COPY offsets
  // without a second pass over 5 GiB.
  it('signature equals rdiff; deltas with COPY offsets past 4 GiB go both ways', { timeout: 180_000 }, async () => {
    const basis = join(dir, 'sparse-basis');
    await writeFile(basis, '');
    await truncate(basis, 5 * GiB);
    const marks = [0, 3 * GiB, 4.5 * GiB, 5 * GiB - 100].map((pos) => ({ pos, data: randomBytes(pos === 5 * GiB - 100 ? 100 : 1 << 20) }));
    for (const m of marks) await writeAt(basis, m.pos, m.data);

    const rSig = join(dir, 'sparse-r.sig');
    const oSig = join(dir, 'sparse-o.sig');
    await Promise.all([exec(RDIFF, ['signature', basis, rSig]), signatureFile(basis, oSig)]);
    expect((await readFile(oSig)).equals(await readFile(rSig))).toBe(true);

    const next = await file(Buffer.concat([
      await readAt(basis, 4.5 * GiB - (1 << 20), 3 << 20),
      randomBytes(70_000),
      await readAt(basis, 5 * GiB - (1 << 20), 1 << 20),
      randomBytes(1000),
    ]));
    const want = await readFile(next);
    const oDelta = tmp();
    const rOut = tmp();
    await deltaFile(oSig, next, oDelta);
    expect((await stat(oDelta)).size).toBeLessThan(400_000);
    await exec(RDIFF, ['patch', basis, oDelta, rOut]);
    expect((await readFile(rOut)).equals(want)).toBe(true);
    const rDelta = tmp();
    const oOut = tmp();
    await exec(RDIFF, ['delta', rSig, next, rDelta]);
    await ours('patch', basis, rDelta, oOut);
    expect((await readFile(oOut)).equals(want)).toBe(true);

    // Our patch with COPY commands at offsets beyond 32 bits (N8 and N4 encodings).
    const m = marks[2]!;
    const delta = Buffer.concat([
      Buffer.from([0x72, 0x73, 0x02, 0x36]),
      Buffer.of(0x52, 0, 0, 0, 1, 0x20, 0, 0, 0, 0x10, 0), // COPY_N8_N2 at 4.5 GiB, 4096 bytes
      Buffer.of(0x4f, 0xc0, 0, 0, 0, 0, 0, 0x10, 0), // COPY_N4_N4 at 3 GiB, 4096 bytes
      Buffer.of(0),
    ]);
    const fh = await open(basis, 'r');
    try {
      const out = await collect(patch(fileBasis(fh), chunksOf(delta)));
      expect(out.equals(Buffer.concat([m.data.subarray(0, 4096), marks[1]!.data.subarray(0, 4096)]))).toBe(true);
    } finally {
      await fh.close();
    }
  });
});

describe('rdiff command line', () => {
  it('exits like rdiff on bad input and never leaves a partial output', async () => {
    const basis = await file(randomBytes(10_000));
    const sig = tmp();
    await ours('signature', basis, sig);
    expect(await runRdiff(['signature', basis, sig])).toBe(100); // exists, no --force
    expect(await runRdiff(['signature', '--force', basis, sig])).toBe(0);
    expect(await runRdiff(['-s', 'signature', '-I', '65536', '--output-size=4096', basis, tmp()])).toBe(0);
    expect(await runRdiff(['signature', '-H', 'md4', basis, tmp()])).toBe(105);
    expect(await runRdiff(['signature', join(dir, 'missing'), tmp()])).toBe(100);
    expect(await runRdiff(['frobnicate'])).toBe(101);
    expect(await runRdiff(['signature', '-S', '33', basis, tmp()])).toBe(108);
    const truncatedSig = await file((await readFile(sig)).subarray(0, 50));
    const out = tmp();
    expect(await runRdiff(['delta', truncatedSig, basis, out])).toBe(103);
    const d = tmp();
    await ours('delta', sig, basis, d);
    const truncatedDelta = await file((await readFile(d)).subarray(0, 8));
    const patched = tmp();
    expect(await runRdiff(['patch', basis, truncatedDelta, patched])).toBe(103);
    await expect(stat(patched)).rejects.toThrow(/ENOENT/);
  });
});
