import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { makeCore, type TestCore } from '../../test/helpers/core.js';
import { isCoreError } from './errors.js';

let t: TestCore;
beforeEach(async () => {
  t = await makeCore({ maxFileBytes: 10 });
});
afterEach(async () => {
  await t.close();
});

const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (isCoreError(e) ? e.code : String(e)));
const chunks = (...sizes: number[]) => Readable.from(sizes.map((n) => Buffer.alloc(n, 1)));

describe("the gateway's largest file (maxFileBytes), for every write", () => {
  it('refuses a body that passes it without announcing its size, and records nothing', async () => {
    const { vfs } = t.core;
    expect(await code(vfs.write(t.admin, 'docs', 'big.bin', chunks(8, 8)))).toBe('QUOTA_EXCEEDED');
    expect(await code(vfs.stat(t.admin, 'docs', 'big.bin'))).toBe('NOT_FOUND');
    expect(await code(vfs.write(t.admin, 'docs', 'big.bin', chunks(1), { declaredSize: 11 }))).toBe('QUOTA_EXCEEDED');
    expect(await code(vfs.write(t.admin, 'docs', 'fits.bin', chunks(6, 4)))).toBe('ok');
  });

  it("keeps a caller's lower cap, and the gateway's when the caller's is higher", async () => {
    const { vfs } = t.core;
    expect(await code(vfs.write(t.admin, 'docs', 'a.bin', chunks(6), { maxSize: 5 }))).toBe('QUOTA_EXCEEDED');
    expect(await code(vfs.write(t.admin, 'docs', 'b.bin', chunks(11), { maxSize: 100 }))).toBe('QUOTA_EXCEEDED');
    expect(await code(vfs.write(t.admin, 'docs', 'c.bin', chunks(10), { maxSize: 100 }))).toBe('ok');
  });
});
