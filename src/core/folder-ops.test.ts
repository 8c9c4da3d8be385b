import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { body, makeCore, readAll, type TestCore } from '../../test/helpers/core.js';
import { isCoreError } from './errors.js';

/**
 * A folder deleted or moved is recorded as one set of changes (FilesRepo.recordTree*), and must read
 * exactly as if each path had been recorded one by one: every path a version +1, its own gap-free
 * seq (children before their folder for departures, folders before their children for arrivals),
 * its history kept, its content readable.
 */
let t: TestCore;
beforeEach(async () => {
  t = await makeCore();
});
afterEach(async () => {
  await t.close();
});

const read = async (p: string, version?: number) => (await readAll((await t.core.vfs.read(t.admin, 'docs', p, version ? { version } : {})).stream)).toString();

/** d/a.txt (twice written), d/sub/b.txt, d/sub/deeper/c.txt, and an outside file. */
async function tree(): Promise<number> {
  const { vfs } = t.core;
  await vfs.write(t.admin, 'docs', 'd/a.txt', body('a1'), { createParents: true });
  await vfs.write(t.admin, 'docs', 'd/a.txt', body('a2'));
  await vfs.write(t.admin, 'docs', 'd/sub/b.txt', body('b1'), { createParents: true });
  await vfs.write(t.admin, 'docs', 'd/sub/deeper/c.txt', body('c1'), { createParents: true });
  await vfs.write(t.admin, 'docs', 'outside.txt', body('o'));
  return (await vfs.changes(t.admin, 'docs', 0)).cursor;
}

describe('the folder and nothing beside it', () => {
  it('moves and deletes d with d/..., never d.txt, d-2/... or d0 (names that sort between d/ and d0)', async () => {
    const { vfs } = t.core;
    await tree();
    for (const p of ['d.txt', 'd-2/x.txt', 'd0', 'd 3/y.txt']) await vfs.write(t.admin, 'docs', p, body(p), { createParents: true });
    const before = (await vfs.changes(t.admin, 'docs', 0)).cursor;
    await vfs.move(t.admin, 'docs', 'd', 'e');
    await vfs.delete(t.admin, 'docs', 'e');
    const paths = new Set((await vfs.changes(t.admin, 'docs', before)).changes.map((c) => c.path.split('/')[0]));
    expect([...paths].sort()).toEqual(['d', 'e']);
    for (const p of ['d.txt', 'd-2/x.txt', 'd0', 'd 3/y.txt']) expect(await read(p)).toBe(p);
  });
});

describe('a folder replaced by what it holds', () => {
  // Overwrite onto an ancestor removed the destination first, the source with it, then failed
  // (WebDAV 404, FTP's RNTO overwrites always): the folder went to deleted files and nothing moved.
  it('is refused for a move and a copy, and nothing changes', async () => {
    const { vfs } = t.core;
    const before = await tree();
    for (const [op, from] of [['move', 'd/sub'], ['copy', 'd/sub'], ['move', 'd/sub/b.txt'], ['copy', 'd/sub/deeper/c.txt']] as const) {
      const err = await vfs[op](t.admin, 'docs', from, 'd', { overwrite: true }).catch((e: unknown) => e);
      expect(isCoreError(err, 'INVALID_INPUT'), `${op} ${from}`).toBe(true);
    }
    expect((await vfs.changes(t.admin, 'docs', before)).changes).toEqual([]);
    expect([await read('d/a.txt'), await read('d/sub/b.txt'), await read('d/sub/deeper/c.txt')]).toEqual(['a2', 'b1', 'c1']);
  });
});

describe('folder delete as one change', () => {
  it('gives every path its tombstone, version +1 and seq, deepest first; history and content kept', async () => {
    const before = await tree();
    const versionsBefore = new Map<string, number>();
    for (const p of ['d', 'd/a.txt', 'd/sub', 'd/sub/b.txt', 'd/sub/deeper', 'd/sub/deeper/c.txt']) versionsBefore.set(p, (await t.core.vfs.stat(t.admin, 'docs', p)).version);

    await t.core.vfs.delete(t.admin, 'docs', 'd');

    const page = await t.core.vfs.changes(t.admin, 'docs', before);
    expect(page.changes.map((c) => c.seq)).toEqual([1, 2, 3, 4, 5, 6].map((i) => before + i));
    expect(page.changes.map((c) => c.path)).toEqual(['d/sub/deeper/c.txt', 'd/sub/deeper', 'd/sub/b.txt', 'd/sub', 'd/a.txt', 'd']);
    for (const c of page.changes) {
      expect(c).toMatchObject({ op: 'delete', deleted: true, version: versionsBefore.get(c.path)! + 1, user: 'alice' });
      const h = await t.core.vfs.history(t.admin, 'docs', c.path);
      expect(h[0]).toMatchObject({ version: c.version, seq: c.seq, op: 'delete', deleted: true });
      expect(h.length).toBe(c.version);
    }
    await expect(t.core.vfs.stat(t.admin, 'docs', 'd/sub/b.txt')).rejects.toSatisfy((e) => isCoreError(e, 'NOT_FOUND'));
    await expect(readdir(path.join(t.rootDir, 'd'))).rejects.toMatchObject({ code: 'ENOENT' });
    // Every version's content is still readable, the last heads included (kept as blobs).
    expect(await read('d/a.txt', 1)).toBe('a1');
    expect(await read('d/a.txt', 2)).toBe('a2');
    expect(await read('d/sub/deeper/c.txt', 1)).toBe('c1');
    expect(await read('outside.txt')).toBe('o');
    // The next change continues the sequence without a gap, and a path written again continues its clock.
    const again = await t.core.vfs.write(t.admin, 'docs', 'd/a.txt', body('a3'), { createParents: true });
    expect(again.entry.version).toBe(4);
    expect(again.entry.seq).toBe(before + 8); // d made again (+7), then d/a.txt
  });

  it('records an edit made on disk inside the folder before deleting it (its content kept too)', async () => {
    const before = await tree();
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(t.rootDir, 'd/sub/b.txt'), 'edited on disk, not seen yet');
    await t.core.vfs.delete(t.admin, 'docs', 'd');
    const page = await t.core.vfs.changes(t.admin, 'docs', before);
    expect(page.changes[0]).toMatchObject({ path: 'd/sub/b.txt', op: 'write', user: 'local' });
    expect(await read('d/sub/b.txt', 2)).toBe('edited on disk, not seen yet');
    expect(page.changes.map((c) => c.seq)).toEqual(page.changes.map((_, i) => before + i + 1));
  });
});

describe('folder move as one change', () => {
  it('records arrivals (folders first) then departures (deepest first), each file keeping its clock', async () => {
    const before = await tree();
    // A path the folder arrives at was used before: its clock is higher than the file's, and goes on.
    await t.core.vfs.write(t.admin, 'docs', 'e/a.txt', body('old e'), { createParents: true });
    await t.core.vfs.delete(t.admin, 'docs', 'e');
    const mid = (await t.core.vfs.changes(t.admin, 'docs', 0)).cursor;
    expect(mid).toBe(before + 4);

    const moved = await t.core.vfs.move(t.admin, 'docs', 'd', 'e');
    expect(moved).toMatchObject({ path: 'e', kind: 'dir', version: 3 });

    const page = await t.core.vfs.changes(t.admin, 'docs', mid);
    expect(page.changes.map((c) => c.seq)).toEqual(Array.from({ length: 12 }, (_, i) => mid + i + 1));
    expect(page.changes.map((c) => `${c.op} ${c.path} v${c.version}${c.oldPath ? ` from ${c.oldPath}` : ''}`)).toEqual([
      'move-in e v3 from d',
      'move-in e/a.txt v3 from d/a.txt',
      // A new path: the file's own clock goes on (version 1 at d/..., 2 at e/...).
      'move-in e/sub v2 from d/sub',
      'move-in e/sub/b.txt v2 from d/sub/b.txt',
      'move-in e/sub/deeper v2 from d/sub/deeper',
      'move-in e/sub/deeper/c.txt v2 from d/sub/deeper/c.txt',
      'move-out d/sub/deeper/c.txt v2',
      'move-out d/sub/deeper v2',
      'move-out d/sub/b.txt v2',
      'move-out d/sub v2',
      'move-out d/a.txt v3',
      'move-out d v2',
    ]);
    for (const c of page.changes) {
      const h = await t.core.vfs.history(t.admin, 'docs', c.path);
      expect(h[0]).toMatchObject({ version: c.version, seq: c.seq, op: c.op, deleted: c.op === 'move-out' });
    }
    // Entries at the new paths: listed, with their folder, hash and size; content served from the disk.
    expect((await t.core.vfs.list(t.admin, 'docs', 'e/sub')).map((x) => x.name)).toEqual(['b.txt', 'deeper']);
    const c = await t.core.vfs.stat(t.admin, 'docs', 'e/sub/deeper/c.txt');
    expect(c).toMatchObject({ version: 2, size: 2 });
    expect(await read('e/sub/deeper/c.txt')).toBe('c1');
    expect(await read('e/a.txt')).toBe('a2');
    expect(await read('d/a.txt', 1)).toBe('a1'); // the old path's history is kept
    expect((await stat(path.join(t.rootDir, 'e/sub/b.txt'))).isFile()).toBe(true);
    await expect(t.core.vfs.stat(t.admin, 'docs', 'd')).rejects.toSatisfy((e) => isCoreError(e, 'NOT_FOUND'));
    // The moved files still match their records: writing the same bytes again changes nothing.
    expect((await t.core.vfs.write(t.admin, 'docs', 'e/sub/b.txt', body('b1'))).unchanged).toBe(true);
    // And moving back continues every clock.
    await t.core.vfs.move(t.admin, 'docs', 'e', 'd');
    expect((await t.core.vfs.stat(t.admin, 'docs', 'd/sub/deeper/c.txt')).version).toBe(3);
  });
});

describe('a folder operation reads the same through every view', () => {
  /**
   * What a live subscriber hears (the events, the sync door's pushes, a follower) must be exactly
   * what the feed replays afterwards (sync door pages, REST changes) and what each path's history
   * says: per path, in seq order, with the device that made it; the whole feed gap-free from 1, and
   * every change its file's previous version + 1 (a move's arrival: the higher of the path's and the
   * file's clocks, MOVE_CLOCK in files-repo.ts).
   */
  it('live events, feed replay and history agree for a folder move and delete by a device', async () => {
    await tree();
    await t.core.vfs.write(t.admin, 'docs', 'd/sub/more.txt', body('m'));
    const laptop = { ...t.admin, device: { id: 7, name: 'laptop' } };
    const heard: unknown[] = [];
    const unsubscribe = await t.core.vfs.subscribe(t.admin, 'docs', (c) => heard.push(c));
    const start = (await t.core.vfs.changes(t.admin, 'docs', 0)).cursor;
    await t.core.vfs.move(laptop, 'docs', 'd', 'moved');
    await t.core.vfs.delete(laptop, 'docs', 'moved/sub');
    await t.core.vfs.move(laptop, 'docs', 'moved', 'd');
    unsubscribe();

    const replay = await t.core.vfs.changes(t.admin, 'docs', start);
    // 7 paths in and out, 5 deleted (sub and its 4), 2 in and out (moved, moved/a.txt).
    expect(replay.changes.length).toBe(14 + 5 + 4);
    expect(heard).toEqual(replay.changes);
    expect(replay.changes.every((c) => c.deviceId === 7 && c.device === 'laptop' && c.user === 'alice')).toBe(true);

    const all = await t.core.vfs.changes(t.admin, 'docs', 0, 10_000);
    expect(all.changes.map((c) => c.seq)).toEqual(all.changes.map((_, i) => i + 1));
    const lastVersion = new Map<string, number>();
    for (const c of all.changes) {
      const own = lastVersion.get(c.path) ?? 0;
      const file = c.op === 'move-in' ? Math.max(own, lastVersion.get(c.oldPath!)!) : own;
      expect(c.version).toBe(file + 1);
      lastVersion.set(c.path, c.version);
    }
    for (const p of lastVersion.keys()) {
      const h = await t.core.vfs.history(t.admin, 'docs', p);
      // Newest first; the path's own versions exactly as the feed has them, the file's older ones beside.
      expect(h.map((x) => x.seq)).toEqual([...h.map((x) => x.seq)].sort((a, b) => b - a));
      const fromFeed = all.changes.filter((c) => c.path === p).reverse();
      expect(h.filter((x) => x.path === p).map((x) => [x.seq, x.version, x.op, x.deleted])).toEqual(fromFeed.map((c) => [c.seq, c.version, c.op, c.deleted]));
    }
  });
});
