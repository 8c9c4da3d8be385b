import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { body, makeCore, readAll, type TestCore } from '../../test/helpers/core.js';
import type { VersionInfo } from './types.js';

/**
 * History follows the file (issue 25): a move's arrival records where the file came from
 * (fromPath, fromVersion), history(newPath) walks back across moves (each older version listed with
 * the path it was made at), and reading or restoring one of them at the new path works. The
 * version goes on across a move: max(the file's version, the arrival path's clock) + 1.
 */
let t: TestCore;
beforeEach(async () => {
  t = await makeCore();
});
afterEach(async () => {
  await t.close();
});

const write = (p: string, text: string) => t.core.vfs.write(t.admin, 'docs', p, body(text), { createParents: true });
const history = (p: string) => t.core.vfs.history(t.admin, 'docs', p);
const text = async (p: string, version?: number, versionPath?: string) =>
  (await readAll((await t.core.vfs.read(t.admin, 'docs', p, version ? { version, ...(versionPath ? { versionPath } : {}) } : {})).stream)).toString();
/** `version path op` per row, newest first. */
const rows = (h: VersionInfo[]) => h.map((v) => `${v.version} ${v.path} ${v.op}`);

describe('a moved file keeps its history', () => {
  it('lists the versions before the move under their old path, reads and restores them at the new one', async () => {
    await write('a.txt', 'one');
    await write('a.txt', 'two');
    const moved = await t.core.vfs.move(t.admin, 'docs', 'a.txt', 'b.txt');
    expect(moved.version).toBe(3); // the file's clock goes on: 1, 2, then the move
    const h = await history('b.txt');
    expect(rows(h)).toEqual(['3 b.txt move-in', '2 a.txt write', '1 a.txt create']);
    expect(h[0]).toMatchObject({ fromPath: 'a.txt', fromVersion: 2 });
    expect(await text('b.txt', 1)).toBe('one');

    const restored = await t.core.vfs.restore(t.admin, 'docs', 'b.txt', 1);
    expect(restored).toMatchObject({ path: 'b.txt', version: 4 });
    expect(await text('b.txt')).toBe('one');
    expect(rows(await history('b.txt'))).toEqual(['4 b.txt restore', '3 b.txt move-in', '2 a.txt write', '1 a.txt create']);
    // The old path keeps its own history, ending with the departure.
    expect(rows(await history('a.txt'))).toEqual(['3 a.txt move-out', '2 a.txt write', '1 a.txt create']);
  });

  it('follows several moves, and a file under a moved folder', async () => {
    await write('d/sub/x.txt', 'x1');
    await write('d/sub/x.txt', 'x2');
    await t.core.vfs.move(t.admin, 'docs', 'd', 'e');
    await write('e/sub/x.txt', 'x3');
    await t.core.vfs.mkdir(t.admin, 'docs', 'f');
    await t.core.vfs.move(t.admin, 'docs', 'e/sub', 'f/g');
    await t.core.vfs.move(t.admin, 'docs', 'f/g/x.txt', 'f/y.txt');
    expect(rows(await history('f/y.txt'))).toEqual([
      '6 f/y.txt move-in',
      '5 f/g/x.txt move-in',
      '4 e/sub/x.txt write',
      '3 e/sub/x.txt move-in',
      '2 d/sub/x.txt write',
      '1 d/sub/x.txt create',
    ]);
    expect(await text('f/y.txt', 1)).toBe('x1');
    await t.core.vfs.restore(t.admin, 'docs', 'f/y.txt', 2);
    expect(await text('f/y.txt')).toBe('x2');
    expect((await t.core.vfs.stat(t.admin, 'docs', 'f/y.txt')).version).toBe(7);
  });

  it('arriving at a path with a higher clock continues that one; `from` tells equal numbers apart', async () => {
    await write('b.txt', 'old b 1');
    await write('b.txt', 'old b 2');
    await t.core.vfs.delete(t.admin, 'docs', 'b.txt'); // b.txt's clock: 3
    await write('a.txt', 'a 1');
    const moved = await t.core.vfs.move(t.admin, 'docs', 'a.txt', 'b.txt');
    expect(moved.version).toBe(4); // never back on a path: max(3, 1) + 1
    const h = await history('b.txt');
    expect(rows(h)).toEqual(['4 b.txt move-in', '1 a.txt create', '3 b.txt delete', '2 b.txt write', '1 b.txt create']);
    // Two versions 1: the path's own by default, the moved file's with its path.
    expect(await text('b.txt', 1)).toBe('old b 1');
    expect(await text('b.txt', 1, 'a.txt')).toBe('a 1');
    await t.core.vfs.restore(t.admin, 'docs', 'b.txt', 1, 'a.txt');
    expect(await text('b.txt')).toBe('a 1');
    await t.core.vfs.restore(t.admin, 'docs', 'b.txt', 1);
    expect(await text('b.txt')).toBe('old b 1');
  });

  it('a file moved away and back lists each version once, and restores the one with content', async () => {
    await write('a.txt', 'one');
    await t.core.vfs.move(t.admin, 'docs', 'a.txt', 'b.txt');
    await write('b.txt', 'two');
    await t.core.vfs.move(t.admin, 'docs', 'b.txt', 'a.txt');
    const h = await history('a.txt');
    expect(rows(h)).toEqual(['4 a.txt move-in', '3 b.txt write', '2 a.txt move-out', '2 b.txt move-in', '1 a.txt create']);
    expect(new Set(h.map((v) => `${v.path}@${v.version}`)).size).toBe(h.length);
    // Version 2 is both the departure from a.txt (no content) and the arrival at b.txt.
    await t.core.vfs.restore(t.admin, 'docs', 'a.txt', 2);
    expect(await text('a.txt')).toBe('one');
  });

  it('a version from another path is reached only through the file\'s own moves', async () => {
    await write('a.txt', 'a');
    await write('other.txt', 'not this file');
    await t.core.vfs.move(t.admin, 'docs', 'a.txt', 'b.txt');
    await expect(t.core.vfs.restore(t.admin, 'docs', 'b.txt', 1, 'other.txt')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('retention counts a file\'s versions across its moves', () => {
  it("'keep 2' keeps two versions of the file, not two at each path it had", async () => {
    await t.core.connect(t.admin).setRetention('docs', { mode: 'count', keep: 2 });
    await write('a.txt', 'one');
    await write('a.txt', 'two');
    await write('a.txt', 'three');
    await t.core.vfs.move(t.admin, 'docs', 'a.txt', 'b.txt');
    await write('b.txt', 'four');
    const h = await history('b.txt');
    expect(h.filter((v) => v.available).map((v) => `${v.version} ${v.path}`)).toEqual(['5 b.txt', '4 b.txt']);
    // The moved content itself stays readable through the arrival that holds it.
    expect(await text('b.txt', 4)).toBe('three');
    await expect(text('b.txt', 2)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a root sweep judges a path the file left by where it went', async () => {
    await write('a.txt', 'one');
    await write('a.txt', 'two');
    await t.core.vfs.move(t.admin, 'docs', 'a.txt', 'b.txt');
    await write('b.txt', 'three');
    await t.core.connect(t.admin).setRetention('docs', { mode: 'count', keep: 2 });
    const h = t.core.ctx.roots.all().find((r) => r.name === 'docs')!;
    await t.core.retention.pruneRoot(await t.core.roots.openById(h.id));
    expect((await history('b.txt')).filter((v) => v.available).map((v) => `${v.version} ${v.path}`)).toEqual(['4 b.txt', '3 b.txt']);
  });
});

describe('content a move carried away', () => {
  it('an old version with the content of the moved head reads from the head at its new path (file and folder moves)', async () => {
    await write('d/x.txt', 'same');
    await write('a.txt', 'same too');
    await t.core.vfs.move(t.admin, 'docs', 'd', 'e');
    await t.core.vfs.move(t.admin, 'docs', 'a.txt', 'e/b.txt');
    await t.core.vfs.move(t.admin, 'docs', 'e', 'f');
    // No blob holds either (heads cost none): found through the arrivals that carried them.
    expect(await text('f/x.txt', 1)).toBe('same');
    expect(await text('f/b.txt', 1)).toBe('same too');
    const hash = (await history('f/b.txt'))[0]!.hash;
    expect(t.core.ctx.files.liveWithHash(hash).map((e) => e.path)).toEqual(['f/b.txt']);
    expect(t.core.ctx.history.hashInUse(hash)).toBe(true);
    // Another program overwrites the head in place, and no blob holds its content: it is gone, so
    // every version that held it is marked so, the arrivals and those from before the moves too.
    await writeFile(path.join(t.rootDir, 'f', 'b.txt'), 'overwritten in place by another program');
    await t.core.diskEdits.reconcile(t.core.ctx.roots.byName('docs')!.id, 'f/b.txt');
    const held = (await history('f/b.txt')).filter((v) => !v.deleted && v.hash === hash);
    expect(held.map((v) => `${v.path} ${v.available}`)).toEqual(['f/b.txt false', 'e/b.txt false', 'a.txt false']);
    await expect(text('f/b.txt', 1, 'a.txt')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(t.core.ctx.history.hashInUse(hash)).toBe(false);
  });
});
