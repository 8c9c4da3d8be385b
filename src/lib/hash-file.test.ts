import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashFile } from './hash-file.js';

const MIB = 1 << 20;

describe('hashFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'hash-file-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // Around the read size, where the two buffers change turns and the last read comes up short.
  for (const size of [0, 1, MIB - 1, MIB, MIB + 1, 2 * MIB, 3 * MIB + 5]) {
    it(`hashes ${size} bytes whole, with and without a size hint`, async () => {
      const data = randomBytes(size);
      const file = path.join(dir, `f-${size}`);
      await writeFile(file, data);
      const want = { hash: createHash('sha256').update(data).digest('hex'), size };
      expect(await hashFile(file)).toEqual(want);
      expect(await hashFile(file, size)).toEqual(want);
    });
  }

  it('refuses a file that is not there', async () => {
    await expect(hashFile(path.join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(hashFile(path.join(dir, 'missing'), 10)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
