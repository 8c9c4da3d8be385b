/**
 * Symlinks placed in a root by other programs (nobody can make one through a door) must never let a
 * core call read or change anything outside the root: dangling links included.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { body, makeCore, readAll, type TestCore } from '../../test/helpers/core.js';
import { isCoreError } from './errors.js';

let t: TestCore;
let outside: string;
beforeEach(async () => {
  t = await makeCore();
  outside = await mkdtemp(path.join(os.tmpdir(), 'sg-outside-'));
  await writeFile(path.join(outside, 'secret.txt'), 'secret');
});
afterEach(async () => {
  await t.close();
  await rm(outside, { recursive: true, force: true });
});

/** The call fails (with any core error) or succeeds without touching `outside`. */
async function harmless(call: () => Promise<unknown>): Promise<void> {
  await call().catch((e) => {
    if (!isCoreError(e)) throw e;
  });
  expect((await readdir(outside)).sort()).toEqual(['secret.txt']);
  expect(await readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('secret');
}

describe('symlinks that lead out of a root', () => {
  it('never reads or writes through a link to an outside folder', async () => {
    const { vfs } = t.core;
    await symlink(outside, path.join(t.rootDir, 'out'));
    await t.core.diskEdits.scanRoot(t.core.ctx.roots.byName('docs')!.id);
    expect((await vfs.list(t.admin, 'docs', '')).map((e) => e.name)).toEqual([]); // links are not recorded
    await expect(vfs.read(t.admin, 'docs', 'out/secret.txt')).rejects.toSatisfy((e) => isCoreError(e));
    await expect(vfs.write(t.admin, 'docs', 'out/new.txt', body('x'))).rejects.toSatisfy((e) => isCoreError(e));
    await harmless(() => vfs.write(t.admin, 'docs', 'out/secret.txt', body('overwritten'), { createParents: true }));
    await harmless(() => vfs.mkdir(t.admin, 'docs', 'out/sub', { createParents: true }));
    await harmless(() => vfs.delete(t.admin, 'docs', 'out/secret.txt'));
    await harmless(() => vfs.delete(t.admin, 'docs', 'out'));
    await vfs.write(t.admin, 'docs', 'mine.txt', body('mine'));
    await harmless(() => vfs.move(t.admin, 'docs', 'mine.txt', 'out/mine.txt'));
    await harmless(() => vfs.copy(t.admin, 'docs', 'mine.txt', 'out/mine.txt'));
    await harmless(() => vfs.copy(t.admin, 'docs', 'out/secret.txt', 'copied.txt'));
    await expect(vfs.stat(t.admin, 'docs', 'copied.txt')).rejects.toSatisfy((e) => isCoreError(e, 'NOT_FOUND'));
  });

  it('never follows a link to an outside file, existing or dangling', async () => {
    const { vfs } = t.core;
    await symlink(path.join(outside, 'secret.txt'), path.join(t.rootDir, 'link.txt'));
    await symlink(path.join(outside, 'dangling.txt'), path.join(t.rootDir, 'dangling.txt'));
    await symlink(path.join(outside, 'nodir'), path.join(t.rootDir, 'danglingdir'));
    await expect(vfs.read(t.admin, 'docs', 'link.txt')).rejects.toSatisfy((e) => isCoreError(e));
    await harmless(() => vfs.write(t.admin, 'docs', 'link.txt', body('overwritten')));
    await harmless(() => vfs.write(t.admin, 'docs', 'dangling.txt', body('created outside?')));
    await harmless(() => vfs.write(t.admin, 'docs', 'danglingdir/f.txt', body('created outside?'), { createParents: true }));
    await harmless(() => vfs.mkdir(t.admin, 'docs', 'danglingdir/sub', { createParents: true }));
    // Whatever the core did with the link names, what it serves is its own content.
    for (const p of ['link.txt', 'dangling.txt']) {
      const r = await vfs.read(t.admin, 'docs', p).catch(() => null);
      if (r) expect((await readAll(r.stream)).toString()).not.toBe('secret');
    }
  });

  it('refuses a path below a folder that was swapped for a link after it was recorded', async () => {
    const { vfs } = t.core;
    await vfs.mkdir(t.admin, 'docs', 'dir');
    await vfs.write(t.admin, 'docs', 'dir/a.txt', body('a'));
    await rm(path.join(t.rootDir, 'dir'), { recursive: true });
    await symlink(outside, path.join(t.rootDir, 'dir'));
    await harmless(() => vfs.write(t.admin, 'docs', 'dir/secret.txt', body('overwritten')));
    await harmless(() => vfs.read(t.admin, 'docs', 'dir/a.txt'));
    await harmless(() => vfs.delete(t.admin, 'docs', 'dir'));
    await mkdir(path.join(t.rootDir, 'ok'));
  });

  // A read opens the file itself with O_NOFOLLOW (core/live.ts openLiveForRead): a link there must
  // fail that open and go the long way, which judges where the link leads.
  it('never serves a recorded file that was swapped for a link to an outside file', async () => {
    const { vfs } = t.core;
    await vfs.write(t.admin, 'docs', 'a.txt', body('mine'));
    await vfs.mkdir(t.admin, 'docs', 'sub');
    await vfs.write(t.admin, 'docs', 'sub/b.txt', body('mine too'));
    for (const p of ['a.txt', 'sub/b.txt']) {
      await rm(path.join(t.rootDir, p));
      await symlink(path.join(outside, 'secret.txt'), path.join(t.rootDir, p));
      await harmless(async () => {
        const r = await vfs.read(t.admin, 'docs', p);
        expect((await readAll(r.stream)).toString()).not.toBe('secret');
      });
    }
  });

  // An old version read from a live file that holds its content (no blob: a head costs none) is
  // located by an lstat and a fingerprint check, then opened by name, following links. Another program
  // swapping the file for a link to an outside file between the two had the open serve that file as
  // the version's content. The swap is made at the exact moment here (after locate's lstat).
  it('never serves an outside file as a version when the live copy is swapped for a link during the read', async () => {
    const { vfs } = t.core;
    await vfs.write(t.admin, 'docs', 'v.txt', body('version one'));
    const store = t.core.ctx.store;
    const lstatFirst = store.statPath.bind(store);
    let swapped = false;
    store.statPath = async (file: string) => {
      const st = await lstatFirst(file);
      if (!swapped && file === path.join(t.rootDir, 'v.txt')) {
        swapped = true;
        await rm(file);
        await symlink(path.join(outside, 'secret.txt'), file);
      }
      return st;
    };
    await harmless(async () => {
      const r = await vfs.read(t.admin, 'docs', 'v.txt', { version: 1 });
      expect((await readAll(r.stream)).toString()).not.toBe('secret');
    });
    expect(swapped).toBe(true);
  });

  // Start-up and the watcher record an edit made on disk by an lstat, then a read of the file by
  // name (following links). A file swapped for a link to an outside file between the two had that
  // file's SHA-256 and size recorded as a version of the root's file (shown in listings, ETags and
  // history), and the same race with an edit in progress recorded a hash the file never held.
  it('never records the hash of an outside file when an edited file is swapped for a link while it is hashed', async () => {
    const { vfs } = t.core;
    await vfs.write(t.admin, 'docs', 'h.txt', body('before'));
    const abs = path.join(t.rootDir, 'h.txt');
    await writeFile(abs, 'edited on disk'); // an edit to record
    const store = t.core.ctx.store;
    const hashFirst = store.hashFile.bind(store);
    let swapped = false;
    store.hashFile = async (file: string, sizeHint?: number) => {
      if (!swapped && file === abs) {
        swapped = true;
        await rm(abs);
        await symlink(path.join(outside, 'secret.txt'), abs);
      }
      return hashFirst(file, sizeHint);
    };
    await t.core.diskEdits.reconcile(t.core.ctx.roots.byName('docs')!.id, 'h.txt');
    expect(swapped).toBe(true);
    const secretHash = createHash('sha256').update('secret').digest('hex');
    const recorded = (await vfs.history(t.admin, 'docs', 'h.txt')).map((v) => v.hash);
    expect(recorded).not.toContain(secretHash);
    expect((await vfs.stat(t.admin, 'docs', 'h.txt').catch(() => null))?.hash).not.toBe(secretHash);
  });

  it('reads a file whose folder is a link inside the root the long way, and serves its content', async () => {
    const { vfs } = t.core;
    await vfs.mkdir(t.admin, 'docs', 'real');
    await vfs.write(t.admin, 'docs', 'real/c.txt', body('inside'));
    expect((await readAll((await vfs.read(t.admin, 'docs', 'real/c.txt')).stream)).toString()).toBe('inside');
    await symlink(path.join(t.rootDir, 'real'), path.join(t.rootDir, 'alias'));
    // Not recorded (links never are): nothing is served at the alias, and the file stays readable.
    await expect(vfs.read(t.admin, 'docs', 'alias/c.txt')).rejects.toSatisfy((e) => isCoreError(e));
    expect((await readAll((await vfs.read(t.admin, 'docs', 'real/c.txt')).stream)).toString()).toBe('inside');
  });
});
