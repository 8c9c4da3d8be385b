import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { body, makeCore, readAll, type TestCore } from '../../test/helpers/core.js';
import { markVolatile } from '../lib/hashed-sink.js';
import { SPARES } from '../storage/staging.js';

/**
 * A write whose content is not the SHA-256 its writer announced (the sync door's upload, a patch)
 * records nothing and leaves nothing in staging but the empty spares, through each of the one
 * writer's paths: a small body, a streamed one, a patch's volatile pieces, and an append (prefix).
 */
let t: TestCore;
beforeEach(async () => {
  t = await makeCore();
});
afterEach(() => t.close());

const WRONG = 'f'.repeat(64);
const big = (n: number) => Buffer.alloc(n, 'x');
const volatilePieces = (data: Buffer) =>
  markVolatile({
    async *[Symbol.asyncIterator]() {
      const shared = Buffer.alloc(300 << 10);
      for (let at = 0; at < data.length; at += shared.length) {
        const piece = shared.subarray(0, Math.min(shared.length, data.length - at));
        data.copy(piece, 0, at);
        yield piece;
        piece.fill(0);
      }
    },
  });

/** Staging holds nothing but empty spares (created ahead for small uploads). */
async function expectStagingEmpty(): Promise<void> {
  const dir = t.core.ctx.store.tempDir;
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((d) => d.isFile());
  expect(files.length).toBeLessThanOrEqual(SPARES);
  for (const f of files) expect((await stat(path.join(f.parentPath, f.name))).size).toBe(0);
}

describe('a write whose hash is not the announced one', () => {
  const sources: Array<[string, () => Readable | AsyncIterable<Uint8Array>]> = [
    ['a small body', () => body('small')],
    ['a streamed body', () => Readable.from([big(1 << 20), big(2 << 20)])],
    ["a patch's volatile pieces", () => volatilePieces(big(3 << 20))],
  ];
  for (const [label, source] of sources) {
    it(`records nothing and leaves staging empty (${label}; new path and existing one)`, async () => {
      await expect(t.core.vfs.write(t.admin, 'docs', 'new.bin', source(), { sha256: WRONG })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
      await expect(t.core.vfs.stat(t.admin, 'docs', 'new.bin')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await t.core.vfs.write(t.admin, 'docs', 'old.bin', body('as it was'));
      await expect(t.core.vfs.write(t.admin, 'docs', 'old.bin', source(), { sha256: WRONG })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
      expect((await readAll((await t.core.vfs.read(t.admin, 'docs', 'old.bin')).stream)).toString()).toBe('as it was');
      expect(await t.core.vfs.history(t.admin, 'docs', 'old.bin')).toHaveLength(1);
      await expectStagingEmpty();
    });
  }

  it('an append (a prefix from the live file) records nothing either', async () => {
    await t.core.vfs.write(t.admin, 'docs', 'log.bin', Readable.from([big(2 << 20)]));
    await expect(t.core.vfs.write(t.admin, 'docs', 'log.bin', volatilePieces(big(1 << 20)), { offset: 2 << 20, sha256: WRONG })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
    expect((await t.core.vfs.stat(t.admin, 'docs', 'log.bin')).size).toBe(2 << 20);
    expect(await t.core.vfs.history(t.admin, 'docs', 'log.bin')).toHaveLength(1);
    await expectStagingEmpty();
  });
});
