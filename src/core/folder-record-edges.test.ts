import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { body, makeCore, type TestCore } from '../../test/helpers/core.js';
import type { Change } from './types.js';

/**
 * Edges of the folder records (FOLDER_RECORD, db/schema/files.ts) that folder-record.test.ts does not
 * reach: a feed of records mixed with single changes read in pages of every size from every cursor,
 * records committed in one flush with other changes, overwriting moves, moves onto tombstones, empty
 * folders, two roots at once, a removed root, a throwing listener. The oracle is the versions table:
 * every change of the feed is one version row, so the feed ordered by seq must be exactly the
 * versions ordered by seq, with seqs 1..last and no gap.
 */
let t: TestCore;

const line = (c: { seq: number; op: string; path: string; version: number; oldPath?: string | null }) => `${c.seq} ${c.op} ${c.path}${c.oldPath ? ` <- ${c.oldPath}` : ''} v${c.version}`;
const rootId = (name: string) => t.core.ctx.roots.byName(name)!.id;

/** The versions of a root in seq order, as feed lines (a departure's from_path is null, as a feed's old path). */
function versionsLines(name: string): string[] {
  const rows = t.core.ctx.db.$client
    .prepare('SELECT seq, op, path, version, from_path AS oldPath FROM versions WHERE root_id = ? ORDER BY seq')
    .all(rootId(name)) as Array<{ seq: number; op: string; path: string; version: number; oldPath: string | null }>;
  return rows.map(line);
}

async function wholeFeed(name: string, after = 0): Promise<string[]> {
  return (await t.core.vfs.changes(t.admin, name, after, 10_000)).changes.map(line);
}

/** The feed read in pages of `limit` from `cursor` to its end. */
async function paged(name: string, cursor: number, limit: number): Promise<string[]> {
  const out: string[] = [];
  for (let guard = 0; guard < 1000; guard += 1) {
    const page = await t.core.vfs.changes(t.admin, name, cursor, limit);
    expect(page.changes.length).toBeLessThanOrEqual(limit);
    out.push(...page.changes.map(line));
    if (!page.more) return out;
    expect(page.changes.length).toBe(limit);
    cursor = page.cursor;
  }
  throw new Error('the feed never ended');
}

/** The invariant: the feed is the versions in seq order, seqs 1..last with no gap, from every cursor and in every page size. */
async function expectWholeFeed(name: string, everyPage = true): Promise<string[]> {
  const whole = await wholeFeed(name);
  expect(whole).toEqual(versionsLines(name));
  expect(whole.map((l) => Number(l.split(' ')[0]))).toEqual(whole.map((_, i) => i + 1));
  if (everyPage) {
    for (let cursor = 0; cursor <= whole.length; cursor += 1) {
      expect(await wholeFeed(name, cursor)).toEqual(whole.slice(cursor));
      for (let limit = 1; limit <= whole.length - cursor + 1; limit += 1) expect(await paged(name, cursor, limit)).toEqual(whole.slice(cursor));
    }
  }
  return whole;
}

describe('folder records among other changes', () => {
  beforeEach(async () => {
    t = await makeCore();
  });
  afterEach(() => t.close());

  it('reads a mix of records and single changes the same from every cursor in pages of every size', async () => {
    const w = (p: string, s = p) => t.core.vfs.write(t.admin, 'docs', p, body(s), { createParents: true });
    await w('a/x.txt');
    await w('a/y/z.txt');
    await t.core.vfs.mkdir(t.admin, 'docs', 'a/empty/deeper', { createParents: true });
    await w('b/1.txt');
    await t.core.vfs.move(t.admin, 'docs', 'a', 'm');
    await w('m/x.txt', 'edited after the move');
    await t.core.vfs.delete(t.admin, 'docs', 'b');
    await w('c.txt');
    await t.core.vfs.move(t.admin, 'docs', 'm/y', 'n');
    await t.core.vfs.move(t.admin, 'docs', 'm/empty', 'n/empty');
    await t.core.vfs.restore(t.admin, 'docs', 'b/1.txt', 1);
    const whole = await expectWholeFeed('docs');
    // The empty folders moved as paths of their own.
    expect(whole.filter((l) => l.includes('empty'))).toContain(`${whole.findIndex((l) => l.includes('move-in n/empty <- m/empty')) + 1} move-in n/empty <- m/empty v3`);
    expect(whole.some((l) => / move-in n\/empty\/deeper <- m\/empty\/deeper v3$/.test(l))).toBe(true);
  });

  it('publishes a record and the changes committed in the same flush in seq order, as the feed has them', async () => {
    for (const p of ['d/1.txt', 'd/2.txt', 'd/s/3.txt', 'o/4.txt']) await t.core.vfs.write(t.admin, 'docs', p, body(p), { createParents: true });
    const start = (await t.core.vfs.changes(t.admin, 'docs', 0)).cursor;
    const seen: Change[] = [];
    const off = t.core.ctx.bus.subscribe(rootId('docs'), (c) => seen.push(c));
    await Promise.all([
      t.core.vfs.write(t.admin, 'docs', 'before.txt', body('x')),
      t.core.vfs.move(t.admin, 'docs', 'd', 'e'),
      t.core.vfs.write(t.admin, 'docs', 'e/1.txt', body('edited in the same flush')),
      t.core.vfs.delete(t.admin, 'docs', 'o'),
      t.core.vfs.write(t.admin, 'docs', 'after.txt', body('y')),
    ]);
    off();
    const feed = await wholeFeed('docs', start);
    expect(seen.map(line)).toEqual(feed);
    await expectWholeFeed('docs');
  });

  it('moves a folder over an existing one (replacing it) and onto the tombstones of a deleted one', async () => {
    for (const p of ['d/1.txt', 'd/s/2.txt', 't/1.txt', 't/old.txt', 't/s/x.txt']) await t.core.vfs.write(t.admin, 'docs', p, body(p), { createParents: true });
    await t.core.vfs.move(t.admin, 'docs', 'd', 't', { overwrite: true });
    await t.core.vfs.write(t.admin, 'docs', 'd/1.txt', body('a new d'), { createParents: true });
    await t.core.vfs.delete(t.admin, 'docs', 't');
    await t.core.vfs.move(t.admin, 'docs', 'd', 't');
    const whole = await expectWholeFeed('docs');
    // A path's clock never goes back: t/1.txt was at 1 (created), 2 (deleted by the replace), 3 (moved in), 4 (deleted), 5 (moved in again).
    expect(whole.filter((l) => / t\/1\.txt( |$)/.test(l)).map((l) => l.split(' ').slice(1, 3).join(' ') + ' ' + l.split(' ').at(-1))).toEqual([
      'create t/1.txt v1',
      'delete t/1.txt v2',
      'move-in t/1.txt v3',
      'delete t/1.txt v4',
      'move-in t/1.txt v5',
    ]);
    expect((await t.core.vfs.list(t.admin, 'docs', 't')).map((e) => e.name)).toEqual(['1.txt']);
  });

  it('restores every file of a deleted folder, and the feed stays whole', async () => {
    for (const p of ['d/1.txt', 'd/s/2.txt', 'd/s/t/3.txt']) await t.core.vfs.write(t.admin, 'docs', p, body(p), { createParents: true });
    await t.core.vfs.delete(t.admin, 'docs', 'd');
    const gone = (await t.core.vfs.deleted(t.admin, 'docs')).map((e) => e.path).sort();
    expect(gone).toEqual(['d/1.txt', 'd/s/2.txt', 'd/s/t/3.txt']);
    for (const p of gone) await t.core.vfs.restore(t.admin, 'docs', p, 1);
    expect(await t.core.vfs.deleted(t.admin, 'docs')).toEqual([]);
    await expectWholeFeed('docs');
  });

  it('keeps each root\'s records whole when two roots move folders at once, and after a root is removed', async () => {
    await t.core.roots.create('pics', path.join(t.dir, 'roots', 'pics'), t.admin.user.id);
    await t.core.roots.create('gone', path.join(t.dir, 'roots', 'gone'), t.admin.user.id);
    for (const r of ['docs', 'pics', 'gone']) for (const p of ['d/1.txt', 'd/s/2.txt', 'd/s/3.txt']) await t.core.vfs.write(t.admin, r, p, body(`${r} ${p}`), { createParents: true });
    await Promise.all(['docs', 'pics', 'gone'].flatMap((r) => [t.core.vfs.move(t.admin, r, 'd', 'e'), t.core.vfs.write(t.admin, r, 'x.txt', body(r))]));
    await Promise.all(['docs', 'pics', 'gone'].map((r) => t.core.vfs.move(t.admin, r, 'e', 'f')));
    // The last versions rows are the removed root's: their ids are taken again by the next records.
    t.core.roots.remove('gone');
    await Promise.all(['docs', 'pics'].map((r) => t.core.vfs.delete(t.admin, r, 'f/s')));
    await t.core.roots.create('new', path.join(t.dir, 'roots', 'new'), t.admin.user.id);
    await t.core.vfs.write(t.admin, 'new', 'd/1.txt', body('new'), { createParents: true });
    await t.core.vfs.move(t.admin, 'new', 'd', 'e');
    for (const r of ['docs', 'pics', 'new']) await expectWholeFeed(r, false);
  });

  it('a listener that throws inside a batch is dropped; the others still get every change of it', async () => {
    for (const p of ['d/1.txt', 'd/2.txt', 'd/3.txt']) await t.core.vfs.write(t.admin, 'docs', p, body(p), { createParents: true });
    const start = (await t.core.vfs.changes(t.admin, 'docs', 0)).cursor;
    let calls = 0;
    const before: Change[] = [];
    const after: Change[] = [];
    const offBefore = t.core.ctx.bus.subscribe(rootId('docs'), (c) => before.push(c));
    t.core.ctx.bus.subscribe(rootId('docs'), () => {
      calls += 1;
      throw new Error('a broken listener');
    });
    const offAfter = t.core.ctx.bus.subscribe(rootId('docs'), (c) => after.push(c));
    await t.core.vfs.move(t.admin, 'docs', 'd', 'e');
    await t.core.vfs.write(t.admin, 'docs', 'later.txt', body('later'));
    offBefore();
    offAfter();
    const feed = await wholeFeed('docs', start);
    expect(feed).toHaveLength(9);
    expect(before.map(line)).toEqual(feed);
    expect(after.map(line)).toEqual(feed);
    expect(calls).toBe(1);
  });

  it('gives a session scoped to a folder the changes inside it only, from a record too', async () => {
    for (const p of ['d/in/1.txt', 'd/out.txt', 'x/2.txt']) await t.core.vfs.write(t.admin, 'docs', p, body(p), { createParents: true });
    await t.core.vfs.move(t.admin, 'docs', 'd', 'e');
    const scoped = { ...t.admin, scope: { rootId: rootId('docs'), path: 'e/in', mode: 'read' as const } };
    const page = await t.core.vfs.changes(scoped, 'docs', 0);
    expect(page.changes.map((c) => c.path)).toEqual(['e/in', 'e/in/1.txt']);
    expect(page.cursor).toBe((await t.core.vfs.changes(t.admin, 'docs', 0)).cursor);
  });
});
