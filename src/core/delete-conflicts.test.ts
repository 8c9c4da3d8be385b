import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { body, makeCore, readAll, type TestCore } from '../../test/helpers/core.js';
import { isCoreError } from './errors.js';

// Design invariant 9: an edit is never lost to a delete, and both ways leave a conflict record.
let t: TestCore;
beforeEach(async () => {
  t = await makeCore();
});
afterEach(async () => {
  await t.close();
});

async function text(path: string): Promise<string> {
  return (await readAll((await t.core.vfs.read(t.admin, 'docs', path)).stream)).toString();
}

async function exists(path: string): Promise<boolean> {
  return t.core.vfs.stat(t.admin, 'docs', path).then(() => true, () => false);
}

/** plan.txt at version 1, then edited (version 2) by someone who saw it. */
async function editedSince(): Promise<void> {
  await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('one'));
  await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('two'), { baseVersion: 1 });
}

describe('a delete whose base is older than the head', () => {
  it('deletes nothing and leaves a delete-edit record', async () => {
    await editedSince();
    const err = await t.core.vfs.delete(t.admin, 'docs', 'plan.txt', { baseVersion: 1, onConflict: 'record' }).then(() => null, (e: unknown) => e);
    expect(isCoreError(err) && err.code).toBe('PRECONDITION_FAILED');
    expect(await text('plan.txt')).toBe('two');
    const [c, ...more] = await t.core.vfs.conflicts(t.admin, 'docs');
    expect(more).toEqual([]);
    expect(c).toMatchObject({ kind: 'delete-edit', path: 'plan.txt', copyPath: '', baseVersion: 1, serverVersion: 2, resolvedAt: null });
    expect(isCoreError(err) && (err.details.conflict as { id: number }).id).toBe(c!.id);
  });

  it('without onConflict record (HTTP If-Match: the client is told by 412) leaves no record', async () => {
    await editedSince();
    await expect(t.core.vfs.delete(t.admin, 'docs', 'plan.txt', { baseVersion: 1 })).rejects.toMatchObject({ code: 'PRECONDITION_FAILED' });
    expect(await t.core.vfs.conflicts(t.admin, 'docs')).toEqual([]);
  });

  it('resolving: keep-server keeps the file, keep-incoming applies the delete', async () => {
    await editedSince();
    await t.core.vfs.delete(t.admin, 'docs', 'plan.txt', { baseVersion: 1, onConflict: 'record' }).catch(() => {});
    const [c1] = await t.core.vfs.conflicts(t.admin, 'docs');
    expect(await t.core.vfs.resolveConflict(t.admin, 'docs', c1!.id, 'keep-server')).toMatchObject({ path: 'plan.txt', version: 2 });
    expect(await text('plan.txt')).toBe('two');
    expect(await t.core.vfs.conflicts(t.admin, 'docs')).toEqual([]);
    await t.core.vfs.delete(t.admin, 'docs', 'plan.txt', { baseVersion: 1, onConflict: 'record' }).catch(() => {});
    const [c2] = await t.core.vfs.conflicts(t.admin, 'docs');
    expect(await t.core.vfs.resolveConflict(t.admin, 'docs', c2!.id, 'keep-incoming')).toBeNull();
    expect(await exists('plan.txt')).toBe(false);
    const all = await t.core.vfs.conflicts(t.admin, 'docs', true);
    expect(all.map((c) => c.resolution)).toEqual(['keep-server', 'keep-incoming']);
  });
});

describe('an edit whose base was since deleted', () => {
  async function revived(): Promise<void> {
    await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('one'));
    await t.core.vfs.delete(t.admin, 'docs', 'plan.txt', { baseVersion: 1 });
    const w = await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('edited'), { baseVersion: 1, onConflict: 'copy' });
    expect(w.entry.path).toBe('plan.txt');
  }

  it('brings the file back and leaves an edit-delete record', async () => {
    await revived();
    expect(await text('plan.txt')).toBe('edited');
    const [c, ...more] = await t.core.vfs.conflicts(t.admin, 'docs');
    expect(more).toEqual([]);
    expect(c).toMatchObject({ kind: 'edit-delete', path: 'plan.txt', copyPath: '', baseVersion: 1, serverVersion: 2 });
  });

  it('a new file (base 0) on a tombstone is no conflict', async () => {
    await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('one'));
    await t.core.vfs.delete(t.admin, 'docs', 'plan.txt');
    await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('new'), { baseVersion: 0 });
    expect(await t.core.vfs.conflicts(t.admin, 'docs')).toEqual([]);
  });

  it('resolving: keep-incoming keeps the file, keep-server deletes it again', async () => {
    await revived();
    const [c1] = await t.core.vfs.conflicts(t.admin, 'docs');
    expect(await t.core.vfs.resolveConflict(t.admin, 'docs', c1!.id, 'keep-incoming')).toMatchObject({ path: 'plan.txt' });
    expect(await text('plan.txt')).toBe('edited');
    await t.core.vfs.delete(t.admin, 'docs', 'plan.txt');
    await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('edited again'), { baseVersion: 3 });
    const [c2] = await t.core.vfs.conflicts(t.admin, 'docs');
    expect(c2).toMatchObject({ kind: 'edit-delete', baseVersion: 3, serverVersion: 4 });
    expect(await t.core.vfs.resolveConflict(t.admin, 'docs', c2!.id, 'keep-server')).toBeNull();
    expect(await exists('plan.txt')).toBe(false);
    // History keeps what the deletion removed.
    expect((await readAll((await t.core.vfs.read(t.admin, 'docs', 'plan.txt', { version: 5 })).stream)).toString()).toBe('edited again');
  });

  it('two edits of one base still give an edit-edit record with its copy', async () => {
    await editedSince();
    const w = await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('three'), { baseVersion: 1 });
    expect(w.conflict).toMatchObject({ kind: 'edit-edit', copyPath: w.entry.path });
  });
});

describe('a folder delete seen up to a seq of the feed', () => {
  const seq = async () => (await t.core.vfs.stat(t.admin, 'docs', '')).seq;
  const live = async (p: string): Promise<string[]> => {
    const out: string[] = [];
    for (const e of await t.core.vfs.list(t.admin, 'docs', p)) out.push(e.kind === 'dir' ? `${e.path}/` : e.path, ...(e.kind === 'dir' ? await live(e.path) : []));
    return out.sort();
  };
  /** d/old.txt, d/sub/a.txt, d/sub/deep/b.txt and d/gone/c.txt, all seen (the seq returned). */
  async function seenFolder(): Promise<number> {
    for (const [p, s] of [['d/old.txt', 'o'], ['d/sub/a.txt', 'a'], ['d/sub/deep/b.txt', 'b'], ['d/gone/c.txt', 'c']] as const) {
      await t.core.vfs.write(t.admin, 'docs', p, body(s), { createParents: true });
    }
    return seq();
  }

  it('keeps a file written in it after that seq, with the folders above it, and a delete-edit record; the rest goes', async () => {
    const seen = await seenFolder();
    await t.core.vfs.write(t.admin, 'docs', 'd/sub/new.txt', body('written elsewhere, not seen'));
    const res = await t.core.vfs.delete(t.admin, 'docs', 'd', { baseSeq: seen, onConflict: 'record' });
    expect(res.kept.map((e) => e.path)).toEqual(['d/sub/new.txt']);
    expect(res.conflicts).toMatchObject([{ kind: 'delete-edit', kept: 'server', path: 'd/sub/new.txt', copyPath: '', baseVersion: 0, serverVersion: 1 }]);
    expect(await t.core.vfs.conflicts(t.admin, 'docs')).toEqual(res.conflicts);
    expect(await live('')).toEqual(['d/', 'd/sub/', 'd/sub/new.txt']);
    expect(await text('d/sub/new.txt')).toBe('written elsewhere, not seen');
    // What went is in history, as from any delete.
    expect((await t.core.vfs.deleted(t.admin, 'docs')).map((e) => e.path).sort()).toEqual(['d/gone/c.txt', 'd/old.txt', 'd/sub/a.txt', 'd/sub/deep/b.txt']);
    // The same delete again (a client that could not bring the file back) meets the same record.
    const again = await t.core.vfs.delete(t.admin, 'docs', 'd/sub', { baseSeq: seen, onConflict: 'record' });
    expect(again.conflicts).toEqual(res.conflicts);
    expect(await t.core.vfs.conflicts(t.admin, 'docs')).toEqual(res.conflicts);
  });

  it('keeps a file edited after that seq, and one edited on the gateway\'s disk', async () => {
    const seen = await seenFolder();
    await t.core.vfs.write(t.admin, 'docs', 'd/old.txt', body('edited elsewhere'), { baseVersion: 1 });
    const { writeFile } = await import('node:fs/promises');
    const path = await import('node:path');
    await writeFile(path.join(t.rootDir, 'd/gone/c.txt'), 'edited on disk, not recorded yet');
    const res = await t.core.vfs.delete(t.admin, 'docs', 'd', { baseSeq: seen, onConflict: 'record' });
    expect(res.kept.map((e) => e.path).sort()).toEqual(['d/gone/c.txt', 'd/old.txt']);
    expect(await live('')).toEqual(['d/', 'd/gone/', 'd/gone/c.txt', 'd/old.txt']);
    expect(await text('d/old.txt')).toBe('edited elsewhere');
  });

  it('with nothing changed since, deletes the whole folder as one change', async () => {
    const seen = await seenFolder();
    expect(await t.core.vfs.delete(t.admin, 'docs', 'd', { baseSeq: seen, onConflict: 'record' })).toEqual({ kept: [], conflicts: [] });
    expect(await exists('d')).toBe(false);
    const page = await t.core.vfs.changes(t.admin, 'docs', seen);
    expect(page.changes.every((c) => c.deleted)).toBe(true);
    expect(await t.core.vfs.conflicts(t.admin, 'docs')).toEqual([]);
  });
});
