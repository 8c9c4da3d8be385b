import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { body, makeCore, readAll, type TestCore } from '../../test/helpers/core.js';
import { isCoreError } from './errors.js';
import type { ConflictPolicy } from './types.js';

// The root's conflict policy decides what an outdated base does, in the core, for every door; each
// outcome keeps both contents and leaves a record (docs/conflict-policy.md). "Sync style" passes a
// base version as the sync door does (onConflict 'copy'); "If-Match style" is REST's default
// (also 'copy', no mtime) and WebDAV's precondition ('fail').
let t: TestCore;
let clock = 5_000_000;
beforeEach(async () => {
  clock = 5_000_000;
  t = await makeCore({ now: () => clock });
});
afterEach(async () => {
  await t.close();
});

const OLD = 1_000_000;
const NEW = 9_000_000;

async function text(path: string): Promise<string> {
  return (await readAll((await t.core.vfs.read(t.admin, 'docs', path)).stream)).toString();
}
async function names(): Promise<string[]> {
  return (await t.core.vfs.list(t.admin, 'docs', '')).map((e) => e.name).sort();
}
async function policy(p: ConflictPolicy): Promise<void> {
  expect((await t.core.connect(t.admin).setConflictPolicy('docs', p)).conflictPolicy).toBe(p);
}
/** plan.txt: version 1 'one', then version 2 'theirs' (file mtime OLD) by someone who saw version 1. */
async function editedSince(mtimeMs = OLD): Promise<void> {
  await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('one'), { mtimeMs: OLD - 1 });
  await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('theirs'), { baseVersion: 1, mtimeMs });
}
/** plan.txt at version 1, then deleted (version 2). */
async function deletedSince(): Promise<void> {
  await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('one'));
  await t.core.vfs.delete(t.admin, 'docs', 'plan.txt', { baseVersion: 1 });
}
async function onlyConflict() {
  const [c, ...more] = await t.core.vfs.conflicts(t.admin, 'docs');
  expect(more).toEqual([]);
  return c!;
}
const outdatedDelete = () => t.core.vfs.delete(t.admin, 'docs', 'plan.txt', { baseVersion: 1, onConflict: 'record' }).then(() => null, (e: unknown) => e);

describe('setting the policy', () => {
  it('is keep-both by default, stored per root, the owner or an admin only, one of three names', async () => {
    expect((await t.core.connect(t.admin).root('docs')).conflictPolicy).toBe('keep-both');
    const bob = await t.session('bob');
    await t.core.connect(t.admin).grant('docs', 'bob', 'write');
    await expect(t.core.connect(bob).setConflictPolicy('docs', 'server-wins')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(t.core.connect(t.admin).setConflictPolicy('docs', 'last-wins')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await policy('server-wins');
    expect((await t.core.connect(bob).root('docs')).conflictPolicy).toBe('server-wins');
    expect(t.core.connect(t.admin).adminRoots().find((r) => r.name === 'docs')?.conflictPolicy).toBe('server-wins');
  });
});

describe('an outdated precondition (WebDAV If-Match, REST Prefer: conflict=fail)', () => {
  it('writes nothing and records nothing under every policy: the writer asked for that', async () => {
    for (const p of ['keep-both', 'newest-wins', 'server-wins'] as const) {
      await policy(p);
      await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('one'), { mtimeMs: OLD });
      const head = await t.core.vfs.stat(t.admin, 'docs', 'plan.txt');
      await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body(`theirs ${p}`), { baseVersion: head.version, mtimeMs: OLD });
      const err = await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('mine'), { baseVersion: head.version, onConflict: 'fail', mtimeMs: NEW }).catch((e: unknown) => e);
      expect(isCoreError(err) && err.code).toBe('PRECONDITION_FAILED');
      expect(await text('plan.txt')).toBe(`theirs ${p}`);
    }
    expect(await t.core.vfs.conflicts(t.admin, 'docs')).toEqual([]);
  });
});

describe('keep-both', () => {
  it('edit-edit: the head stays, the incoming content is a conflict copy with a record', async () => {
    await editedSince();
    const w = await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('mine'), { baseVersion: 1, onConflict: 'copy', mtimeMs: NEW });
    expect(await text('plan.txt')).toBe('theirs');
    expect(await text(w.entry.path)).toBe('mine');
    expect(w.conflict).toMatchObject({ kind: 'edit-edit', policy: 'keep-both', kept: 'server', copyPath: w.entry.path });
  });
});

describe('newest-wins', () => {
  beforeEach(() => policy('newest-wins'));

  it('edit-edit, incoming newer (sync style, file mtime): it becomes the head, the server version stays in history, undoable', async () => {
    await editedSince(OLD);
    const w = await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('mine'), { baseVersion: 1, onConflict: 'copy', mtimeMs: NEW });
    expect(w.entry).toMatchObject({ path: 'plan.txt', version: 3 });
    expect(await text('plan.txt')).toBe('mine');
    expect(await names()).toEqual(['plan.txt']);
    const c = await onlyConflict();
    expect(c).toMatchObject({ kind: 'edit-edit', policy: 'newest-wins', kept: 'incoming', copyPath: '', baseVersion: 1, serverVersion: 2 });
    expect(await t.core.vfs.resolveConflict(t.admin, 'docs', c.id, 'keep-server')).toMatchObject({ path: 'plan.txt', version: 4 });
    expect(await text('plan.txt')).toBe('theirs');
  });

  it('edit-edit, head newer: the head stays, the incoming content is held by the record, undoable', async () => {
    await editedSince(NEW);
    const w = await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('mine'), { baseVersion: 1, onConflict: 'copy', mtimeMs: OLD });
    expect(w.entry).toMatchObject({ path: 'plan.txt', version: 2 });
    expect(await text('plan.txt')).toBe('theirs');
    expect(await names()).toEqual(['plan.txt']);
    const c = await onlyConflict();
    expect(c).toMatchObject({ kind: 'edit-edit', policy: 'newest-wins', kept: 'server', copyPath: '' });
    await t.core.vfs.resolveConflict(t.admin, 'docs', c.id, 'keep-incoming');
    expect(await text('plan.txt')).toBe('mine');
  });

  it('edit-edit without an mtime (REST If-Match style): the server receive time is compared', async () => {
    await editedSince(OLD);
    clock = NEW;
    await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('mine'), { baseVersion: 1, onConflict: 'copy' });
    expect(await text('plan.txt')).toBe('mine');
    expect(await onlyConflict()).toMatchObject({ kept: 'incoming' });
  });

  it('delete-edit: an outdated delete still deletes nothing (an edit beats a delete)', async () => {
    await editedSince(OLD);
    clock = NEW;
    expect(await outdatedDelete()).toMatchObject({ code: 'PRECONDITION_FAILED' });
    expect(await text('plan.txt')).toBe('theirs');
    expect(await onlyConflict()).toMatchObject({ kind: 'delete-edit', policy: 'newest-wins', kept: 'server' });
  });

  it('edit-delete: an edit of a since-deleted file brings it back', async () => {
    await deletedSince();
    const w = await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('mine'), { baseVersion: 1, onConflict: 'copy', mtimeMs: OLD });
    expect(w.conflict).toMatchObject({ kind: 'edit-delete', policy: 'newest-wins', kept: 'incoming' });
    expect(await text('plan.txt')).toBe('mine');
  });
});

describe('server-wins', () => {
  beforeEach(() => policy('server-wins'));

  it('edit-edit (sync style): the head stays even when older, no copy, the incoming content held and undoable', async () => {
    await editedSince(OLD);
    const w = await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('mine'), { baseVersion: 1, onConflict: 'copy', mtimeMs: NEW });
    expect(w.entry).toMatchObject({ path: 'plan.txt', version: 2 });
    expect(await text('plan.txt')).toBe('theirs');
    expect(await names()).toEqual(['plan.txt']);
    const c = await onlyConflict();
    expect(c).toMatchObject({ kind: 'edit-edit', policy: 'server-wins', kept: 'server', copyPath: '', serverVersion: 2 });
    const copy = await t.core.vfs.resolveConflict(t.admin, 'docs', c.id, 'keep-both');
    expect(copy?.path).toMatch(/^plan \(conflict .*\)\.txt$/);
    expect(await text(copy!.path)).toBe('mine');
    expect(await text('plan.txt')).toBe('theirs');
  });

  it('edit-edit (REST If-Match style, no mtime): the same', async () => {
    await editedSince(OLD);
    clock = NEW;
    await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('mine'), { baseVersion: 1, onConflict: 'copy' });
    expect(await text('plan.txt')).toBe('theirs');
    expect(await onlyConflict()).toMatchObject({ kind: 'edit-edit', kept: 'server' });
  });

  it('the held content outlives retention pruning until the record is resolved', async () => {
    await t.core.connect(t.admin).setRetention('docs', { mode: 'count', keep: 1 });
    await editedSince(OLD);
    await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('mine'), { baseVersion: 1, onConflict: 'copy', mtimeMs: NEW });
    // The same bytes as a version of its own, then pruned: its blob is the record's content too.
    await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('mine'));
    await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('later'));
    await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('later still'));
    const c = await onlyConflict();
    expect((await t.core.vfs.history(t.admin, 'docs', 'plan.txt')).filter((v) => v.available).length).toBe(1);
    await t.core.vfs.resolveConflict(t.admin, 'docs', c.id, 'keep-incoming');
    expect(await text('plan.txt')).toBe('mine');
  });

  it('delete-edit: an outdated delete deletes nothing', async () => {
    await editedSince(OLD);
    expect(await outdatedDelete()).toMatchObject({ code: 'PRECONDITION_FAILED' });
    expect(await text('plan.txt')).toBe('theirs');
    expect(await onlyConflict()).toMatchObject({ kind: 'delete-edit', policy: 'server-wins', kept: 'server' });
  });

  it('edit-delete: the file stays deleted, the edit held by the record; keep-incoming brings it back', async () => {
    await deletedSince();
    const w = await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('mine'), { baseVersion: 1, onConflict: 'copy', mtimeMs: NEW });
    expect(w.entry).toMatchObject({ path: 'plan.txt', deleted: true });
    expect(await names()).toEqual([]);
    const c = await onlyConflict();
    expect(c).toMatchObject({ kind: 'edit-delete', policy: 'server-wins', kept: 'server', copyPath: '', serverVersion: 2 });
    expect(await t.core.vfs.resolveConflict(t.admin, 'docs', c.id, 'keep-incoming')).toMatchObject({ path: 'plan.txt', version: 3 });
    expect(await text('plan.txt')).toBe('mine');
  });

  it('closing the record on the kept side lets the held content go', async () => {
    await editedSince(OLD);
    await t.core.vfs.write(t.admin, 'docs', 'plan.txt', body('mine'), { baseVersion: 1, onConflict: 'copy' });
    const c = await onlyConflict();
    const blob = path.join(t.dir, 'blobs', c.incomingHash.slice(0, 2), c.incomingHash);
    expect(existsSync(blob)).toBe(true);
    expect(await t.core.vfs.resolveConflict(t.admin, 'docs', c.id, 'keep-server')).toMatchObject({ path: 'plan.txt', version: 2 });
    expect(await t.core.vfs.conflicts(t.admin, 'docs')).toEqual([]);
    expect(existsSync(blob)).toBe(false);
  });
});
