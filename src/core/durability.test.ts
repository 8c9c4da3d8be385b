import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { body, makeCore, readAll, type TestCore } from '../../test/helpers/core.js';
import pino from 'pino';
import { Durability } from './durability.js';
import { ChangeBus } from './events.js';
import type { Change } from './types.js';

let t: TestCore;
beforeEach(async () => {
  t = await makeCore();
});
afterEach(async () => {
  await t.close();
});

/** A Durability of its own (no WAL), fed changes by hand. */
function standalone(commit: () => void): { d: Durability; bus: ChangeBus } {
  const bus = new ChangeBus();
  return { d: new Durability(commit, null, t.core.ctx.store, bus, pino({ level: 'silent' })), bus };
}
const readlinkOrNull = (p: string) => {
  try {
    return readlinkSync(p);
  } catch {
    return null; // closed meanwhile
  }
};
const change = (seq: number) => ({ root: 'docs', seq, path: `f${seq}`, op: 'create', kind: 'file', version: 1, deleted: false, hash: '', size: 0, mtimeMs: 0, oldPath: null, protocol: 'core', user: 'x', at: 0 }) as unknown as Change;

describe('group commit (Durability)', () => {
  it('makes concurrent writers share flushes, each answered once its change is durable and published', async () => {
    const { vfs, ctx } = t.core;
    const rootId = ctx.roots.byName('docs')!.id;
    const published: Change[] = [];
    const stop = ctx.bus.subscribe(rootId, (c) => published.push(c));
    const before = ctx.durable.flushes;
    const n = 24;
    const results = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const r = await vfs.write(t.admin, 'docs', `g/f${i}.txt`, body(`file ${i}`), { createParents: true });
        // Answered only after the flush that covered it, which published its event first.
        expect(published.some((c) => c.path === `g/f${i}.txt` && c.seq === r.entry.seq)).toBe(true);
        return r;
      }),
    );
    stop();
    const flushes = ctx.durable.flushes - before;
    expect(flushes).toBeGreaterThan(0);
    expect(flushes).toBeLessThan(n);
    // One clock per root: every change got its own seq, and events went out in seq order.
    const seqs = published.map((c) => c.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(results.map((r) => r.entry.seq)).size).toBe(n);
  });

  it('keeps the WAL open from one flush to the next, and closes it with the core', async () => {
    const c = await makeCore();
    const wal = `${realpathSync(c.core.ctx.db.$client.name)}-wal`;
    const walFds = () => readdirSync('/proc/self/fd').filter((fd) => readlinkOrNull(`/proc/self/fd/${fd}`)?.startsWith(wal)).length; // "(deleted)" once SQLite removed it
    await c.core.vfs.write(c.admin, 'docs', 'a.txt', body('a'));
    expect(walFds()).toBe(2); // SQLite's own, and the flushes'
    await c.core.vfs.write(c.admin, 'docs', 'b.txt', body('b'));
    expect(walFds()).toBe(2);
    await c.close();
    await expect.poll(walFds).toBe(0);
  });

  it('does not flush for a change that recorded nothing', async () => {
    const { vfs, ctx } = t.core;
    await vfs.write(t.admin, 'docs', 'same.txt', body('same'));
    const before = ctx.durable.flushes;
    const r = await vfs.write(t.admin, 'docs', 'same.txt', body('same'));
    expect(r.unchanged).toBe(true);
    await expect(vfs.write(t.admin, 'docs', 'missing/x.txt', body('x'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(ctx.durable.flushes).toBe(before);
  });

  it('still answers when a folder marked for syncing is gone by the time of the flush', async () => {
    const { ctx } = t.core;
    const rootId = ctx.roots.byName('docs')!.id;
    const parent = path.join(t.rootDir, 'short-lived');
    await mkdir(parent);
    await ctx.durable.changeRoot(rootId, async () => {
      await ctx.store.makeDir(path.join(parent, 'child')); // marks 'short-lived' for the flush
      await rm(parent, { recursive: true });
    });
    expect(ctx.store.hasUnsyncedDirs()).toBe(false);
  });

  it('answers a write that changed nothing only once the change it matched is durable', async () => {
    const { vfs, ctx } = t.core;
    const rootId = ctx.roots.byName('docs')!.id;
    const published: Change[] = [];
    const stop = ctx.bus.subscribe(rootId, (c) => published.push(c));
    const write = async () => {
      const r = await vfs.write(t.admin, 'docs', 'twice.txt', body('the same bytes'));
      // Created or unchanged, the answer comes after the creating change was flushed (and published).
      expect(published.map((c) => c.path)).toContain('twice.txt');
      return r;
    };
    const results = await Promise.all([write(), write()]);
    stop();
    expect(results.map((r) => r.unchanged).sort()).toEqual([false, true]);
  });

  it('syncs hundreds of folders changed in one section, a bounded number at a time', async () => {
    const { ctx } = t.core;
    const rootId = ctx.roots.byName('docs')!.id;
    await ctx.durable.changeRoot(rootId, async () => {
      for (let i = 0; i < 600; i += 1) await ctx.store.makeDir(path.join(t.rootDir, `d${i}`)); // marks the root
      for (let i = 0; i < 600; i += 1) await ctx.store.makeDir(path.join(t.rootDir, `d${i}`, 'x')); // marks 600 folders
    });
    expect(ctx.store.hasUnsyncedDirs()).toBe(false);
  });

  it('starts syncing a changed folder at once when no flush is running, and waits for that sync', async () => {
    const { ctx } = t.core;
    const rootId = ctx.roots.byName('docs')!.id;
    const before = ctx.durable.flushes;
    await ctx.durable.changeRoot(rootId, async () => {
      await ctx.store.makeDir(path.join(t.rootDir, 'early'));
      expect(ctx.store.hasUnsyncedDirs()).toBe(false); // taken by the early sync, before any flush
    });
    // The section recorded nothing, but its folder sync was under way: a flush waited for it.
    expect(ctx.durable.flushes).toBe(before + 1);
  });

  it('unlinks the name a delete set aside in staging before the delete is answered', async () => {
    const { vfs, ctx } = t.core;
    // Same content twice: the second delete finds its content kept already and only drops the name.
    await vfs.write(t.admin, 'docs', 'a.txt', body('same'));
    await vfs.write(t.admin, 'docs', 'b.txt', body('same'));
    await vfs.delete(t.admin, 'docs', 'a.txt');
    await vfs.delete(t.admin, 'docs', 'b.txt');
    const staged = readdirSync(ctx.store.tempDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    const withContent = staged.filter((e) => statSync(path.join(e.parentPath, e.name)).size > 0);
    expect(withContent).toEqual([]);
    expect((await readAll((await vfs.read(t.admin, 'docs', 'b.txt', { version: 1 })).stream)).toString()).toBe('same');
  });

  it('keeps the change feed short of changes not yet durable', async () => {
    const { d, bus } = standalone(() => {});
    d.recorded(7, [change(5), change(6)]); // starts a flush at once
    d.recorded(8, [change(1)]); // waits for the next one
    expect(d.firstUnflushedSeq(7)).toBe(5);
    expect(d.firstUnflushedSeq(8)).toBe(1);
    expect(d.firstUnflushedSeq(9)).toBeUndefined();
    const next = d.flush();
    d.recorded(7, [change(7)]);
    expect(d.firstUnflushedSeq(7)).toBe(5); // still syncing
    const published: number[] = [];
    bus.subscribe(7, (c) => published.push(c.seq));
    await next;
    expect(published).toEqual([5, 6, 7]);
    expect(d.firstUnflushedSeq(7)).toBeUndefined();
    expect(d.firstUnflushedSeq(8)).toBeUndefined();
  });

  it('fails a flush whose metadata commit fails, and publishes none of its changes', async () => {
    let fail = true;
    const commit = () => {
      if (fail) throw new Error('database or disk is full');
    };
    const { d, bus } = standalone(commit);
    const published: number[] = [];
    bus.subscribe(7, (c) => published.push(c.seq));
    d.recorded(7, [change(5)]);
    await expect(d.flush()).rejects.toThrow('disk is full');
    expect(published).toEqual([]);
    fail = false;
    d.recorded(7, [change(5)]); // the same seq again: the failed one was rolled back
    await d.flush();
    expect(published).toEqual([5]);
  });

  it('works the same on a root outside the data folder (metadata calls through the thread pool)', async () => {
    const { vfs, ctx, roots } = t.core;
    const outside = await mkdtemp(path.join(os.tmpdir(), 'syncgate-outside-'));
    try {
      await roots.create('far', outside, t.admin.user.id, undefined, { operator: true });
      const h = await roots.open(t.admin, 'far', 'write');
      expect(h.local).toBe(false);
      expect((await roots.open(t.admin, 'docs', 'write')).local).toBe(true);
      await vfs.write(t.admin, 'far', 'a/f.txt', body('one'), { createParents: true });
      await vfs.write(t.admin, 'far', 'a/f.txt', body('two'));
      await vfs.move(t.admin, 'far', 'a', 'b');
      const hist = await vfs.history(t.admin, 'far', 'b/f.txt');
      expect(hist[0]!.op).toBe('move-in');
      const old = await vfs.history(t.admin, 'far', 'a/f.txt');
      expect(await readAll((await vfs.read(t.admin, 'far', 'a/f.txt', { version: old.find((v) => v.op === 'create')!.version })).stream)).toEqual(Buffer.from('one'));
      await vfs.delete(t.admin, 'far', 'b/f.txt');
      expect(ctx.store.hasUnsyncedDirs()).toBe(false);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});
