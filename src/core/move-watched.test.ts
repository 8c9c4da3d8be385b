import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { body, makeCore, readAll, type TestCore } from '../../test/helpers/core.js';
import { startWatcher, type RootWatcher } from './watcher.js';

/**
 * A folder move walks the folder on disk first (edits made beside the gateway are recorded at the
 * paths they were made at, before the move), unless the watcher vouches for the tree (every folder
 * watched and no event of it left to record: DiskWatch) and one readdir per folder finds exactly
 * the recorded names (Reconciler.namesMatch). The watcher here waits 10 s before it
 * records anything itself, so whatever is recorded below was recorded by the move.
 */
let t: TestCore;
let w: RootWatcher;

async function folder(): Promise<void> {
  for (const p of ['d/f1.txt', 'd/f2.txt', 'd/sub/f3.txt']) await t.core.vfs.write(t.admin, 'docs', p, body(`${p} v1`), { createParents: true });
}

const read = async (p: string) => (await readAll((await t.core.vfs.read(t.admin, 'docs', p)).stream)).toString();
const feedAfter = async (cursor: number) => (await t.core.vfs.changes(t.admin, 'docs', cursor)).changes.map((c) => `${c.op} ${c.path}${c.oldPath ? ` <- ${c.oldPath}` : ''}`);

describe('folder move with the watcher on (folders mode)', () => {
  beforeEach(async () => {
    t = await makeCore();
    await folder();
    w = await startWatcher(t.core, { maxWatchedFiles: 0, debounceMs: 10_000, rootPollMs: 0 });
  });
  afterEach(async () => {
    await w.close();
    await t.close();
  });

  it('moves a folder the watcher saw whole without walking it, every path in the feed and in history', async () => {
    const cursor = (await t.core.vfs.changes(t.admin, 'docs', 0)).cursor;
    await t.core.vfs.move(t.admin, 'docs', 'd', 'e');
    expect(w.counts().vouched).toBe(1);
    expect(await feedAfter(cursor)).toEqual([
      'move-in e <- d', 'move-in e/f1.txt <- d/f1.txt', 'move-in e/f2.txt <- d/f2.txt', 'move-in e/sub <- d/sub', 'move-in e/sub/f3.txt <- d/sub/f3.txt',
      'move-out d/sub/f3.txt', 'move-out d/sub', 'move-out d/f2.txt', 'move-out d/f1.txt', 'move-out d',
    ]);
    const h = await t.core.vfs.history(t.admin, 'docs', 'e/sub/f3.txt');
    expect(h.map((v) => [v.op, v.path])).toEqual([['move-in', 'e/sub/f3.txt'], ['create', 'd/sub/f3.txt']]);
  });

  it('records an edit made on disk just before the move, at its old path, before the move', async () => {
    const cursor = (await t.core.vfs.changes(t.admin, 'docs', 0)).cursor;
    // Written and moved in the same turn of the event loop: the watcher has not read the event yet.
    writeFileSync(path.join(t.rootDir, 'd', 'f1.txt'), 'edited on disk, a longer content');
    await t.core.vfs.move(t.admin, 'docs', 'd', 'e');
    expect(w.counts().vouched).toBe(0);
    expect(await read('e/f1.txt')).toBe('edited on disk, a longer content');
    const h = await t.core.vfs.history(t.admin, 'docs', 'e/f1.txt');
    expect(h.map((v) => [v.op, v.path, v.user])).toEqual([['move-in', 'e/f1.txt', 'alice'], ['write', 'd/f1.txt', 'local'], ['create', 'd/f1.txt', 'alice']]);
    expect((await feedAfter(cursor))[0]).toBe('write d/f1.txt');
  });

  it('records a file and a folder made on disk just before the move (they would otherwise move unrecorded)', async () => {
    writeFileSync(path.join(t.rootDir, 'd', 'new.txt'), 'new on disk');
    mkdirSync(path.join(t.rootDir, 'd', 'sub', 'deeper'));
    writeFileSync(path.join(t.rootDir, 'd', 'sub', 'deeper', 'x.txt'), 'deep on disk');
    await t.core.vfs.move(t.admin, 'docs', 'd', 'e');
    expect(w.counts().vouched).toBe(0);
    for (const [p, text] of [['e/new.txt', 'new on disk'], ['e/sub/deeper/x.txt', 'deep on disk']] as const) {
      expect((await t.core.vfs.stat(t.admin, 'docs', p)).kind).toBe('file');
      expect(await read(p)).toBe(text);
    }
    const h = await t.core.vfs.history(t.admin, 'docs', 'e/sub/deeper/x.txt');
    expect(h.map((v) => [v.op, v.path, v.user])).toEqual([['move-in', 'e/sub/deeper/x.txt', 'alice'], ['create', 'd/sub/deeper/x.txt', 'local']]);
  });

  it('records a file the watcher never saw (made before its folder was watched): the names on disk differ', async () => {
    await w.close();
    writeFileSync(path.join(t.rootDir, 'd', 'sub', 'unseen.txt'), 'made while no watch was in place');
    w = await startWatcher(t.core, { maxWatchedFiles: 0, debounceMs: 10_000, rootPollMs: 0 });
    await t.core.vfs.move(t.admin, 'docs', 'd', 'e');
    expect(w.counts().vouched).toBe(1); // nothing pending, yet the names check sends the move to the walk
    expect(await read('e/sub/unseen.txt')).toBe('made while no watch was in place');
    const h = await t.core.vfs.history(t.admin, 'docs', 'e/sub/unseen.txt');
    expect(h.map((v) => [v.op, v.path, v.user])).toEqual([['move-in', 'e/sub/unseen.txt', 'alice'], ['create', 'd/sub/unseen.txt', 'local']]);
  });

  it('walks a tree back at a name it left a moment ago (events there are still taken for the gateway’s own)', async () => {
    await t.core.vfs.move(t.admin, 'docs', 'd', 'e');
    await t.core.vfs.move(t.admin, 'docs', 'e', 'd');
    expect(w.counts().vouched).toBe(2);
    // Back at d within OwnChanges' window of the first move: an edit below d would be dropped unseen.
    writeFileSync(path.join(t.rootDir, 'd', 'new.txt'), 'new on disk');
    await t.core.vfs.move(t.admin, 'docs', 'd', 'f');
    expect(w.counts().vouched).toBe(2);
    expect(await read('f/new.txt')).toBe('new on disk');
  });
});

describe('folder move with the watcher in files mode (chokidar)', () => {
  it('always walks the folder first', async () => {
    t = await makeCore();
    await folder();
    w = await startWatcher(t.core, { maxWatchedFiles: 1000, debounceMs: 10_000, rootPollMs: 0 });
    try {
      writeFileSync(path.join(t.rootDir, 'd', 'new.txt'), 'new on disk');
      await t.core.vfs.move(t.admin, 'docs', 'd', 'e');
      expect(w.counts().vouched).toBe(0);
      expect(await read('e/new.txt')).toBe('new on disk');
    } finally {
      await w.close();
      await t.close();
    }
    expect(t.core.ctx.diskWatch).toBeNull();
  });
});
