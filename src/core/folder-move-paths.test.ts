import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { body, makeCore, readAll, type TestCore } from '../../test/helpers/core.js';
import type { Actor } from '../db/files-repo.js';
import { isCoreError } from './errors.js';

/**
 * A folder move is recorded by set-based statements over a range of paths (db/files-tree.ts), and
 * the listings read live entries from an index that holds no tombstone (entries_root_parent_name,
 * migration 0012). What that must not change: names with SQL pattern characters and names that
 * are a prefix of a sibling's move alone and whole; a locked file stops the move; the target's
 * listing and history stay right; and the queries keep the indexes they were written for.
 */
let t: TestCore;
beforeEach(async () => {
  t = await makeCore();
});
afterEach(async () => {
  await t.close();
});

const read = async (p: string, version?: number) => (await readAll((await t.core.vfs.read(t.admin, 'docs', p, version ? { version } : {})).stream)).toString();
const versionOf = async (p: string) => (await t.core.vfs.stat(t.admin, 'docs', p)).version;
const names = async (p: string) => (await t.core.vfs.list(t.admin, 'docs', p)).map((e) => e.name);
const cursor = async () => (await t.core.vfs.changes(t.admin, 'docs', 0, 10_000)).cursor;
const changedPaths = async (after: number) => new Set((await t.core.vfs.changes(t.admin, 'docs', after, 10_000)).changes.map((c) => c.path));

async function write(paths: string[]): Promise<void> {
  for (const p of paths) await t.core.vfs.write(t.admin, 'docs', p, body(p), { createParents: true });
}

describe('a folder move takes its tree and nothing beside it', () => {
  it('moves a folder named with LIKE and GLOB characters (% _ * [ ]); siblings that such a pattern would match stay', async () => {
    const odd = '50%_[x]*';
    const inside = [`${odd}/a.txt`, `${odd}/sub/b.txt`];
    // Each would match `50%_[x]*%` as LIKE or `50%_[x]*` as GLOB, or sorts right beside the folder.
    const beside = [`${odd}b/f.txt`, '50%a_[x]*/f.txt', '50x_[x]*/f.txt', `${odd}.txt`, '50%_[y]*/f.txt', '5000/f.txt'];
    await write([...inside, ...beside]);
    await t.core.vfs.write(t.admin, 'docs', `${odd}/a.txt`, body('a, second'));
    const before = await cursor();

    await t.core.vfs.move(t.admin, 'docs', odd, 'to %_[*]');

    const moved = [odd, `${odd}/a.txt`, `${odd}/sub`, `${odd}/sub/b.txt`];
    expect(await changedPaths(before)).toEqual(new Set([...moved, ...moved.map((p) => `to %_[*]${p.slice(odd.length)}`)]));
    for (const p of beside) {
      expect(await read(p)).toBe(p);
      expect(await versionOf(p)).toBe(1);
    }
    expect((await names('')).sort()).toEqual(['5000', '50%_[x]*.txt', '50%_[x]*b', '50%_[y]*', '50%a_[x]*', '50x_[x]*', 'to %_[*]'].sort());
    // The moved file keeps its clock and its history: version 3 now, and version 1 restores.
    expect(await versionOf('to %_[*]/a.txt')).toBe(3);
    expect((await t.core.vfs.history(t.admin, 'docs', 'to %_[*]/a.txt')).map((v) => v.version).sort()).toEqual([1, 2, 3]);
    await t.core.vfs.restore(t.admin, 'docs', 'to %_[*]/a.txt', 1);
    expect(await read('to %_[*]/a.txt')).toBe(`${odd}/a.txt`);
    expect(await versionOf('to %_[*]/a.txt')).toBe(4);
  });

  it('moves a, never ab beside it, and moves it back onto its own tombstones', async () => {
    await write(['a/1.txt', 'a/s/2.txt', 'ab/1.txt', 'a b/1.txt', 'a.txt']);
    await t.core.vfs.move(t.admin, 'docs', 'a', 'c');
    expect((await names('')).sort()).toEqual(['a b', 'a.txt', 'ab', 'c']);
    expect(await names('c')).toEqual(['1.txt', 's']);
    for (const p of ['ab/1.txt', 'a b/1.txt', 'a.txt']) expect(await versionOf(p)).toBe(1);
    await t.core.vfs.move(t.admin, 'docs', 'c', 'a');
    // created 1, moved out 2, moved back in 3: the path's clock never goes back.
    expect(await versionOf('a/s/2.txt')).toBe(3);
    expect(await names('a')).toEqual(['1.txt', 's']);
    expect(await names('c').catch((e: unknown) => (isCoreError(e, 'NOT_FOUND') ? 'gone' : e))).toBe('gone');
    expect(await read('ab/1.txt')).toBe('ab/1.txt');
  });

  it('onto an existing folder: refused without overwrite; with it, the target lists the moved names only', async () => {
    await write(['src/keep.txt', 'src/s/x.txt', 'dst/old.txt', 'dst/s/y.txt']);
    const refused = await t.core.vfs.move(t.admin, 'docs', 'src', 'dst').catch((e: unknown) => e);
    expect(isCoreError(refused, 'ALREADY_EXISTS')).toBe(true);
    await t.core.vfs.move(t.admin, 'docs', 'src', 'dst', { overwrite: true });
    expect(await names('dst')).toEqual(['keep.txt', 's']);
    expect(await names('dst/s')).toEqual(['x.txt']);
    expect(await names('')).toEqual(['dst']);
    // The replaced file is in history, restorable at its path.
    await t.core.vfs.restore(t.admin, 'docs', 'dst/old.txt', 1);
    expect(await read('dst/old.txt')).toBe('dst/old.txt');
  });

  it('a locked file inside stops the move; its holder moves the folder and the lock ends with it', async () => {
    await write(['d/locked.txt', 'd/free.txt']);
    const rootId = t.core.ctx.roots.byName('docs')!.id;
    const lock = t.core.locks.lock(t.admin, rootId, 'd/locked.txt', { scope: 'exclusive', depth: '0', timeoutSec: 600, owner: 'test' });
    const before = await cursor();
    const refused = await t.core.vfs.move(t.admin, 'docs', 'd', 'e').catch((e: unknown) => e);
    expect(isCoreError(refused, 'LOCKED')).toBe(true);
    expect(await cursor()).toBe(before);
    expect(await names('d')).toEqual(['free.txt', 'locked.txt']);

    await t.core.vfs.move({ ...t.admin, lockTokens: [lock.token] }, 'docs', 'd', 'e');
    expect(await names('e')).toEqual(['free.txt', 'locked.txt']);
    expect(await versionOf('e/locked.txt')).toBe(2);
    expect(t.core.locks.all(rootId)).toEqual([]);
  });
});

describe('the queries keep their indexes', () => {
  /** Every statement `fn` runs, with its arguments, and SQLite's plan for each. */
  function plansOf(fn: () => unknown): Array<{ sql: string; plan: string[] }> {
    const c = t.core.ctx.db.$client;
    const proto = Object.getPrototypeOf(c.prepare('SELECT 1')) as Record<string, (...a: unknown[]) => unknown>;
    const seen: Array<{ sql: string; args: unknown[] }> = [];
    const originals = ['run', 'get', 'all', 'iterate'].map((m) => [m, proto[m]!] as const);
    for (const [m, orig] of originals) {
      proto[m] = function (this: Database.Statement, ...a: unknown[]) {
        seen.push({ sql: this.source, args: a });
        return orig.apply(this, a);
      };
    }
    try {
      fn();
    } finally {
      for (const [m, orig] of originals) proto[m] = orig;
    }
    return seen.map(({ sql, args }) => ({ sql, plan: (c.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>).map((r) => r.detail) }));
  }

  it('every query of a folder by parent is answered from the index of live entries (a bound `deleted = ?` cannot use it)', async () => {
    await write(['d/a.txt', 'd/b.txt', 'gone/x.txt']);
    await t.core.vfs.delete(t.admin, 'docs', 'gone');
    const files = t.core.ctx.files;
    const rootId = t.core.ctx.roots.byName('docs')!.id;
    const plans = plansOf(() => {
      files.children(rootId, 'd');
      files.listing(rootId, 'd');
      files.briefListing(rootId, 'd');
      files.childNames(rootId, 'd');
      files.hasLiveChildren(rootId, 'd');
    });
    // Tombstones are not in it (a folder's delete or move then adds no key per path to it).
    const index = t.core.ctx.db.$client.prepare("SELECT sql FROM sqlite_master WHERE name = 'entries_root_parent_name'").pluck().get() as string;
    expect(index).toMatch(/WHERE deleted = 0$/);
    expect(plans.length).toBe(5);
    for (const p of plans) expect(p.plan.join(' | '), p.sql).toMatch(/USING (COVERING )?INDEX entries_root_parent_name/);
    expect(files.childNames(rootId, '')).toEqual(['d']);
  });

  it("a folder record's per-path changes are read by their ids, not by reading every version of the root", async () => {
    await write(['d/a.txt', 'd/s/b.txt']);
    await t.core.vfs.move(t.admin, 'docs', 'd', 'e');
    const rootId = t.core.ctx.roots.byName('docs')!.id;
    const record = t.core.ctx.db.$client.prepare('SELECT seq, span, versions_from AS versionsFrom FROM changes WHERE root_id = ? AND span > 1').get(rootId) as { seq: number; span: number; versionsFrom: number };
    const rec = { rootId, firstSeq: record.seq - record.span + 1, lastSeq: record.seq, versionsFrom: record.versionsFrom };
    const plans = plansOf(() => t.core.ctx.files.feed.ofFolder(rec, 0, true));
    expect(plans.map((p) => p.plan.join(' | '))).toEqual([expect.stringMatching(/^SEARCH versions USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)/)]);
    expect(t.core.ctx.files.feed.ofFolder(rec, 0, true).map((r) => `${r.op} ${r.path}`)).toEqual(['move-in e', 'move-in e/s', 'move-out d/s', 'move-out d']);
  });

  it("a folder record just made gives a listener of folders its folders' rows by their ids, not by reading every path's", async () => {
    await write(['d/a.txt', 'd/s/b.txt', 'd/s/t/c.txt', 'd/z.txt', 'x/y.txt', 'x/sub/w.txt']);
    const rootId = t.core.ctx.roots.byName('docs')!.id;
    const actor: Actor = { protocol: 'core', userName: 'alice', userId: null, deviceId: null, deviceName: null };
    // Two records in one pending transaction: the second's ids start after the first's rows.
    const moved = t.core.ctx.files.recordTreeMove(rootId, actor, 'd', 'e');
    const removed = t.core.ctx.files.recordTreeRemoval(rootId, actor, 'x', 'delete');
    for (const rec of [moved, removed]) {
      const plans = plansOf(() => t.core.ctx.files.feed.ofFolder(rec, 0, true));
      expect(plans.map((p) => p.plan.join(' | '))).toEqual([expect.stringMatching(/SEARCH versions USING INTEGER PRIMARY KEY \(rowid=\?\)/)]);
      // The same rows as the record read back from the feed (no ids: its folders among all its rows).
      const { dirs: _ids, ...stored } = rec;
      expect(t.core.ctx.files.feed.ofFolder(rec, 0, true)).toEqual(t.core.ctx.files.feed.ofFolder(stored, 0, true));
      expect(t.core.ctx.files.feed.ofFolder(rec, rec.firstSeq, true)).toEqual(t.core.ctx.files.feed.ofFolder(stored, rec.firstSeq, true));
    }
    expect(t.core.ctx.files.feed.ofFolder(moved, 0, true).map((r) => `${r.seq - moved.firstSeq + 1} ${r.op} ${r.path}`)).toEqual([
      '1 move-in e',
      '3 move-in e/s',
      '6 move-in e/s/t',
      '9 move-out d/s/t',
      '12 move-out d/s',
      '14 move-out d',
    ]);
    expect(t.core.ctx.files.feed.ofFolder(removed, 0, true).map((r) => `${r.op} ${r.path}`)).toEqual(['delete x/sub', 'delete x']);
  });

  it('two folder moves recorded in one pending transaction each rank their paths from 1 (arrivals shallowest first, departures deepest first)', async () => {
    await write(['d/a.txt', 'd/s/b.txt', 'd/s/t/c.txt', 'x/y.txt']);
    const rootId = t.core.ctx.roots.byName('docs')!.id;
    const actor: Actor = { protocol: 'core', userName: 'alice', userId: null, deviceId: null, deviceName: null };
    // Straight to the repository: no flush between them, so both sit in one unsynced transaction.
    const first = t.core.ctx.files.recordTreeMove(rootId, actor, 'd', 'e');
    const second = t.core.ctx.files.recordTreeMove(rootId, actor, 'x', 'e/x');
    expect(second.firstSeq).toBe(first.lastSeq + 1);
    const lines = (rec: typeof first) => t.core.ctx.files.feed.ofFolder(rec).map((r) => `${r.seq - rec.firstSeq + 1} ${r.op} ${r.path}`);
    expect(lines(first)).toEqual([
      '1 move-in e',
      '2 move-in e/a.txt',
      '3 move-in e/s',
      '4 move-in e/s/b.txt',
      '5 move-in e/s/t',
      '6 move-in e/s/t/c.txt',
      '7 move-out d/s/t/c.txt',
      '8 move-out d/s/t',
      '9 move-out d/s/b.txt',
      '10 move-out d/s',
      '11 move-out d/a.txt',
      '12 move-out d',
    ]);
    expect(lines(second)).toEqual(['1 move-in e/x', '2 move-in e/x/y.txt', '3 move-out x/y.txt', '4 move-out x']);
  });
});
