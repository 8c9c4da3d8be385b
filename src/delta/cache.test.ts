import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SignatureCache } from './cache.js';
import { chunksOf, sigOf } from './testing.js';

describe('SignatureCache', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sg-sigcache-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('computes a version signature once, then serves it from disk', async () => {
    const content = randomBytes(100_000);
    const cache = new SignatureCache(join(dir, 'sigs'));
    let opened = 0;
    const open = () => {
      opened++;
      return chunksOf(content);
    };
    const opts = { fileSize: content.length };
    const [p1, p2] = await Promise.all([cache.getOrCompute('abcdef0123', opts, open), cache.getOrCompute('abcdef0123', opts, open)]);
    const p3 = await new SignatureCache(join(dir, 'sigs')).getOrCompute('abcdef0123', opts, open);
    expect(p1).toBe(p2);
    expect(p3).toBe(p1);
    expect(opened).toBe(1);
    expect((await readFile(p1)).equals(await sigOf(content))).toBe(true);
    // different parameters are a different entry
    await cache.getOrCompute('abcdef0123', { ...opts, blockLen: 1024 }, open);
    expect(opened).toBe(2);
    expect((await readdir(join(dir, 'sigs'))).length).toBe(2);
  });

  it('leaves nothing behind when the content cannot be read, and refuses unsafe keys', async () => {
    const cache = new SignatureCache(dir);
    const failing = async function* (): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(10);
      throw new Error('disk gone');
    };
    await expect(cache.getOrCompute('deadbeef00', {}, failing)).rejects.toThrow(/disk gone/);
    expect(await readdir(dir)).toEqual([]);
    expect(() => cache.pathFor('../../etc/passwd')).toThrow(/content hash/);
  });
});
