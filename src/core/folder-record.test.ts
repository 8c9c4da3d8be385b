import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { body, makeCore, readAll, type TestCore } from '../../test/helpers/core.js';
import type { Change } from './types.js';

/**
 * A folder's move or delete is one row of the change feed (FOLDER_RECORD, db/schema/files.ts), read
 * back as every path's change: a follower replaying from any cursor sees the same per-path changes,
 * seqs and order as when each path had its own row, with no gap and no duplicate; history,
 * restore and conflicts still see every path.
 */
let t: TestCore;

const line = (c: Change) => `${c.seq} ${c.op} ${c.path}${c.oldPath ? ` <- ${c.oldPath}` : ''} v${c.version}`;
const feedAfter = async (cursor: number, limit?: number) => (await t.core.vfs.changes(t.admin, 'docs', cursor, limit)).changes.map(line);
const feedRows = () => (t.core.ctx.db.$client.prepare('SELECT count(*) FROM changes').pluck().get() as number);
const read = async (p: string) => (await readAll((await t.core.vfs.read(t.admin, 'docs', p)).stream)).toString();

describe('a folder move or delete recorded as one feed row', () => {
  let start: number;
  beforeEach(async () => {
    t = await makeCore();
    for (const p of ['d/f1.txt', 'd/f2.txt', 'd/sub/f3.txt']) await t.core.vfs.write(t.admin, 'docs', p, body(`${p} v1`), { createParents: true });
    start = (await t.core.vfs.changes(t.admin, 'docs', 0)).cursor;
  });
  afterEach(() => t.close());

  it('is one row per move, read back as every path, in every page and from every cursor', async () => {
    const rows = feedRows();
    await t.core.vfs.move(t.admin, 'docs', 'd', 'e');
    await t.core.vfs.move(t.admin, 'docs', 'e', 'f');
    expect(feedRows()).toBe(rows + 2);
    const s = start;
    const whole = [
      `${s + 1} move-in e <- d v2`, `${s + 2} move-in e/f1.txt <- d/f1.txt v2`, `${s + 3} move-in e/f2.txt <- d/f2.txt v2`,
      `${s + 4} move-in e/sub <- d/sub v2`, `${s + 5} move-in e/sub/f3.txt <- d/sub/f3.txt v2`,
      `${s + 6} move-out d/sub/f3.txt v2`, `${s + 7} move-out d/sub v2`, `${s + 8} move-out d/f2.txt v2`, `${s + 9} move-out d/f1.txt v2`, `${s + 10} move-out d v2`,
      `${s + 11} move-in f <- e v3`, `${s + 12} move-in f/f1.txt <- e/f1.txt v3`, `${s + 13} move-in f/f2.txt <- e/f2.txt v3`,
      `${s + 14} move-in f/sub <- e/sub v3`, `${s + 15} move-in f/sub/f3.txt <- e/sub/f3.txt v3`,
      `${s + 16} move-out e/sub/f3.txt v3`, `${s + 17} move-out e/sub v3`, `${s + 18} move-out e/f2.txt v3`, `${s + 19} move-out e/f1.txt v3`, `${s + 20} move-out e v3`,
    ];
    expect(await feedAfter(start)).toEqual(whole);
    // From a cursor inside a record, and in pages that end inside one: the rest, once each.
    for (let cursor = start; cursor <= start + 20; cursor += 1) expect(await feedAfter(cursor)).toEqual(whole.slice(cursor - start));
    for (const limit of [1, 3, 7]) {
      const paged: string[] = [];
      let cursor = start;
      for (;;) {
        const page = await t.core.vfs.changes(t.admin, 'docs', cursor, limit);
        paged.push(...page.changes.map(line));
        if (!page.more) break;
        cursor = page.cursor;
      }
      expect(paged).toEqual(whole);
    }
    // A change after the records: the root's seq is still the feed's last.
    await t.core.vfs.write(t.admin, 'docs', 'after.txt', body('after'));
    expect(await feedAfter(start + 20)).toEqual([`${s + 21} create after.txt v1`]);
  });

  it('keeps the device of every path for the sync door (echo suppression), as its versions have it', async () => {
    const phone = { ...t.admin, device: { id: 7, name: 'phone' }, protocol: 'sync' } as typeof t.admin;
    await t.core.vfs.move(phone, 'docs', 'd', 'e');
    const page = await t.core.vfs.changes(t.admin, 'docs', start);
    expect(page.changes).toHaveLength(10);
    for (const c of page.changes) expect([c.deviceId, c.device, c.protocol, c.user]).toEqual([7, 'phone', 'sync', 'alice']);
  });

  it('replays to a follower from a cursor before, inside and after the record, then goes live', async () => {
    await t.core.vfs.move(t.admin, 'docs', 'd', 'e');
    const whole = await feedAfter(start);
    for (const after of [start, start + 4, start + 10]) {
      const seen: Change[] = [];
      const follower = await t.core.connect(t.admin).follow('docs', (c) => seen.push(c), { after, pageSize: 3 });
      await t.core.vfs.move(t.admin, 'docs', 'e/sub', `e/sub-${after}`);
      await t.core.vfs.move(t.admin, 'docs', `e/sub-${after}`, 'e/sub');
      follower.stop();
      const all = await feedAfter(start);
      expect(seen.map(line)).toEqual(all.slice(after - start));
      expect(all.slice(0, 10)).toEqual(whole);
    }
  });

  it('gives live listeners every path in seq order, and a listener of folders its folders only', async () => {
    const every: Change[] = [];
    const folders: Change[] = [];
    const rootId = t.core.ctx.roots.byName('docs')!.id;
    const offEvery = t.core.ctx.bus.subscribe(rootId, (c) => every.push(c));
    const offFolders = t.core.ctx.bus.subscribe(rootId, (c) => folders.push(c), { dirsOnly: true });
    await t.core.vfs.move(t.admin, 'docs', 'd', 'e');
    await t.core.vfs.delete(t.admin, 'docs', 'e/sub');
    offEvery();
    offFolders();
    expect(every.map(line)).toEqual(await feedAfter(start));
    expect(folders.map(line)).toEqual(every.filter((c) => c.kind === 'dir').map(line));
    expect(folders.map((c) => c.path)).toEqual(['e', 'e/sub', 'd/sub', 'd', 'e/sub']);
  });

  it('records a folder delete as one row too: every path deleted, deepest first', async () => {
    const rows = feedRows();
    await t.core.vfs.delete(t.admin, 'docs', 'd');
    expect(feedRows()).toBe(rows + 1);
    const s = start;
    expect(await feedAfter(start)).toEqual([`${s + 1} delete d/sub/f3.txt v2`, `${s + 2} delete d/sub v2`, `${s + 3} delete d/f2.txt v2`, `${s + 4} delete d/f1.txt v2`, `${s + 5} delete d v2`]);
    expect((await t.core.vfs.deleted(t.admin, 'docs')).map((e) => e.path).sort()).toEqual(['d/f1.txt', 'd/f2.txt', 'd/sub/f3.txt']);
  });

  it('keeps the history of a file moved with its folder twice, and restores its first version', async () => {
    await t.core.vfs.write(t.admin, 'docs', 'd/sub/f3.txt', body('d/sub/f3.txt v2'));
    await t.core.vfs.move(t.admin, 'docs', 'd', 'e');
    await t.core.vfs.move(t.admin, 'docs', 'e', 'f');
    const h = await t.core.vfs.history(t.admin, 'docs', 'f/sub/f3.txt');
    expect(h.map((v) => [v.op, v.path, v.version])).toEqual([['move-in', 'f/sub/f3.txt', 4], ['move-in', 'e/sub/f3.txt', 3], ['write', 'd/sub/f3.txt', 2], ['create', 'd/sub/f3.txt', 1]]);
    const restored = await t.core.vfs.restore(t.admin, 'docs', 'f/sub/f3.txt', 1, 'd/sub/f3.txt');
    expect(restored).toMatchObject({ path: 'f/sub/f3.txt', version: 5 });
    expect(await read('f/sub/f3.txt')).toBe('d/sub/f3.txt v1');
  });

  it('restores a file deleted after its folder moved', async () => {
    await t.core.vfs.move(t.admin, 'docs', 'd', 'e');
    await t.core.vfs.delete(t.admin, 'docs', 'e/f1.txt');
    expect((await t.core.vfs.deleted(t.admin, 'docs')).map((e) => e.path)).toEqual(['e/f1.txt']);
    const restored = await t.core.vfs.restore(t.admin, 'docs', 'e/f1.txt', 2);
    expect(restored).toMatchObject({ path: 'e/f1.txt', version: 4 });
    expect(await read('e/f1.txt')).toBe('d/f1.txt v1');
    expect((await feedAfter(start)).slice(-2)).toEqual([`${start + 11} delete e/f1.txt v3`, `${start + 12} restore e/f1.txt v4`]);
  });

  it('makes a conflict copy for an edit whose base is from before the folder moved', async () => {
    await t.core.vfs.move(t.admin, 'docs', 'd', 'e');
    await t.core.vfs.write(t.admin, 'docs', 'e/f2.txt', body('edited from version 1'), { baseVersion: 1 });
    expect(await read('e/f2.txt')).toBe('d/f2.txt v1');
    const conflicts = await t.core.vfs.conflicts(t.admin, 'docs');
    expect(conflicts.map((c) => c.path)).toEqual(['e/f2.txt']);
    expect(await read(conflicts[0]!.copyPath)).toBe('edited from version 1');
    expect((await feedAfter(start + 10)).map((l) => l.split(' ')[1])).toEqual(['conflict-copy']);
  });
});
