import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { body, makeCore, type TestCore } from '../../test/helpers/core.js';
import type { Change } from './types.js';

let t: TestCore;
beforeEach(async () => {
  t = await makeCore();
});
afterEach(async () => {
  await t.close();
});

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
});
