/**
 * COPY with Overwrite: T removed the destination first and then read the source file by file. A
 * source file gone from disk (removed by another program before the watcher recorded it) failed
 * the copy half way: the destination's files were gone from the live folder (kept in history
 * only) and half of the source was in their place. Now every source file is read (staged) before
 * the destination is touched: a source that cannot be read leaves the destination as it was.
 */
import { readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { body } from '../helpers/core.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const auth = { authorization: `Basic ${Buffer.from('alice:alice-password').toString('base64')}` };
let t: TestGateway;
const onDisk = (p: string) => path.join(t.dir, 'roots', 'docs', p);
const dav = (p: string) => `${t.url}/dav/docs/${p}`;
const copy = (from: string, to: string) => fetch(dav(from), { method: 'COPY', headers: { ...auth, destination: dav(to), overwrite: 'T' } });
const read = async (p: string) => {
  const res = await fetch(dav(p), { headers: auth });
  return res.status === 200 ? res.text() : res.status;
};
const names = async (folder: string) => (await t.gw.core.vfs.list(t.alice.session, 'docs', folder)).map((e) => e.name).sort();
const staged = async () => (await readdir(path.join(t.dir, 'tmp')).catch(() => [])).length;

beforeAll(async () => {
  t = await startTestGateway(); // the watcher is off: a file removed on disk stays recorded
  const s = t.alice.session;
  for (const [p, text] of [['src/a.txt', 'new a'], ['src/b.txt', 'new b'], ['src/deep/c.txt', 'new c'], ['dst/old.txt', 'old'], ['dst/deep/kept.txt', 'kept'], ['one.txt', 'one'], ['other.txt', 'other']]) {
    await t.gw.core.vfs.write(s, 'docs', p!, body(text!), { createParents: true });
  }
});
afterAll(async () => {
  await t?.close();
});

describe('COPY with Overwrite onto a folder whose source fails to read', () => {
  it('leaves the destination folder as it was, and no staged copy behind', async () => {
    const before = await staged();
    await rm(onDisk('src/deep/c.txt'));
    const res = await copy('src/', 'dst/');
    expect(await names('dst')).toEqual(['deep', 'old.txt']);
    expect(await read('dst/old.txt')).toBe('old');
    expect(await read('dst/deep/kept.txt')).toBe('kept');
    expect(await read('dst/a.txt')).toBe(404);
    expect(await staged()).toBe(before);
    expect(res.status).toBe(404);
  });

  it('a file copy onto a file whose source is gone leaves the destination file', async () => {
    await rm(onDisk('one.txt'));
    const res = await copy('one.txt', 'other.txt');
    expect(await read('other.txt')).toBe('other');
    expect(res.status).toBe(404);
  });

  it('with the source whole again, the copy replaces the destination', async () => {
    await writeFile(onDisk('src/deep/c.txt'), 'new c');
    expect((await copy('src/', 'dst/')).status).toBe(204);
    expect(await names('dst')).toEqual(['a.txt', 'b.txt', 'deep']);
    expect(await names('dst/deep')).toEqual(['c.txt']);
    expect(await read('dst/deep/c.txt')).toBe('new c');
  });
});
