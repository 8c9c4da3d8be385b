import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { body, makeCore, readAll, type TestCore } from '../../test/helpers/core.js';
import { isCoreError } from './errors.js';
import { startWatcher, type RootWatcher } from './watcher.js';

/** Polls until `check` stops throwing (no fixed sleeps: the machine is shared and slow). */
async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

for (const mode of ['files', 'folders'] as const) {
  describe(`watcher (${mode} mode)`, () => {
    let t: TestCore;
    let w: RootWatcher;
    beforeEach(async () => {
      t = await makeCore();
      w = await startWatcher(t.core, { maxWatchedFiles: mode === 'files' ? 1000 : 0, debounceMs: 50, rootPollMs: 100 });
      expect(w.modes()).toEqual({ docs: mode });
    });
    afterEach(async () => {
      await w.close();
      await t.close();
    });

    const history = (p: string) => t.core.vfs.history(t.admin, 'docs', p);
    const content = async (p: string) => (await readAll((await t.core.vfs.read(t.admin, 'docs', p)).stream)).toString();

    it('records a file written on disk as a version by local', async () => {
      await writeFile(path.join(t.rootDir, 'disk.txt'), 'from another program');
      const h = await eventually(async () => {
        const h = await history('disk.txt');
        expect(h).toHaveLength(1);
        return h;
      });
      expect(h[0]).toMatchObject({ version: 1, op: 'create', user: 'local', protocol: 'local' });
      await writeFile(path.join(t.rootDir, 'disk.txt'), 'edited again');
      await eventually(async () => expect((await history('disk.txt'))[0]).toMatchObject({ version: 2, op: 'write', user: 'local' }));
      expect(await content('disk.txt')).toBe('edited again');
    });

    it('records files in a new folder and in nested folders', async () => {
      await mkdir(path.join(t.rootDir, 'a', 'b'), { recursive: true });
      await writeFile(path.join(t.rootDir, 'a', 'b', 'deep.txt'), 'deep');
      await eventually(async () => expect(await content('a/b/deep.txt')).toBe('deep'));
      await writeFile(path.join(t.rootDir, 'a', 'b', 'deep.txt'), 'deeper');
      await eventually(async () => expect((await history('a/b/deep.txt'))[0]!.version).toBe(2));
    });

    it('records a folder before anything inside it, and debounces bursts', async () => {
      for (let i = 0; i < 3; i += 1) {
        await mkdir(path.join(t.rootDir, `x${i}`, 'y', 'z'), { recursive: true });
        for (let j = 0; j < 5; j += 1) await writeFile(path.join(t.rootDir, `x${i}`, 'y', 'z', `f${j}.txt`), `${i}${j}`);
      }
      for (let k = 0; k < 20; k += 1) await writeFile(path.join(t.rootDir, 'burst.txt'), `burst ${k}`);
      await eventually(async () => {
        expect(await content('burst.txt')).toBe('burst 19');
        expect(await t.core.vfs.list(t.admin, 'docs', 'x2/y/z')).toHaveLength(5);
      });
      await w.idle();
      const created = new Map<string, number>();
      for (const c of (await t.core.vfs.changes(t.admin, 'docs', 0)).changes) {
        if (!created.has(c.path)) created.set(c.path, c.seq);
        const parent = c.path.includes('/') ? c.path.slice(0, c.path.lastIndexOf('/')) : '';
        if (parent) expect(created.get(parent), `${parent} recorded before ${c.path}`).toBeLessThan(c.seq);
      }
      expect((await history('burst.txt')).length).toBeLessThan(20);
    });

    it('records nothing for the gateway’s own writes', async () => {
      await t.core.vfs.write(t.admin, 'docs', 'own.txt', body('one'));
      await t.core.vfs.write(t.admin, 'docs', 'own.txt', body('two'));
      await t.core.vfs.mkdir(t.admin, 'docs', 'dir');
      await t.core.vfs.write(t.admin, 'docs', 'dir/x.txt', body('x'));
      await t.core.vfs.move(t.admin, 'docs', 'dir/x.txt', 'dir/y.txt');
      const seqBefore = (await t.core.vfs.changes(t.admin, 'docs', 0)).cursor;
      // A disk edit after them proves the events were delivered and processed.
      await writeFile(path.join(t.rootDir, 'marker.txt'), 'm');
      await eventually(async () => expect((await history('marker.txt')).length).toBe(1));
      await w.idle();
      const page = await t.core.vfs.changes(t.admin, 'docs', seqBefore);
      expect(page.changes.map((c) => c.path)).toEqual(['marker.txt']);
      expect((await history('own.txt')).map((v) => v.user)).toEqual(['alice', 'alice']);
    });

    if (mode === 'folders') {
      it('drops the gateway’s own events unseen (no reconcile), and records another program’s edit right after one', async () => {
        await t.core.vfs.mkdir(t.admin, 'docs', 'dir');
        await t.core.vfs.write(t.admin, 'docs', 'dir/x.txt', body('x'));
        await t.core.vfs.write(t.admin, 'docs', 'own.txt', body('one'));
        await t.core.vfs.write(t.admin, 'docs', 'own.txt', body('two'));
        await t.core.vfs.setMtime(t.admin, 'docs', 'own.txt', 1_000_000_000_000);
        await t.core.vfs.move(t.admin, 'docs', 'dir/x.txt', 'dir/y.txt');
        await t.core.vfs.move(t.admin, 'docs', 'dir', 'moved');
        await t.core.vfs.delete(t.admin, 'docs', 'moved');
        await writeFile(path.join(t.rootDir, 'marker.txt'), 'm');
        await eventually(async () => expect((await history('marker.txt')).length).toBe(1));
        await w.idle();
        expect(w.counts().ownIgnored).toBeGreaterThanOrEqual(8);
        expect(w.counts().reconciled).toBe(1); // the marker's: creation and content, one debounce

        await t.core.vfs.write(t.admin, 'docs', 'own.txt', body('three'));
        await writeFile(path.join(t.rootDir, 'own.txt'), 'edited on disk at once');
        await eventually(async () => expect(await content('own.txt')).toBe('edited on disk at once'));
        await eventually(async () => expect((await history('own.txt'))[0]).toMatchObject({ user: 'local' }));
      });
    }

    it('records deletes and renames made on disk', async () => {
      await t.core.vfs.write(t.admin, 'docs', 'gone.txt', body('bye'));
      await t.core.vfs.write(t.admin, 'docs', 'gone.txt', body('bye again'));
      await t.core.vfs.write(t.admin, 'docs', 'old.txt', body('moving'));
      await t.core.vfs.mkdir(t.admin, 'docs', 'folder');
      await t.core.vfs.write(t.admin, 'docs', 'folder/in.txt', body('inside'));
      await rm(path.join(t.rootDir, 'gone.txt'));
      await rename(path.join(t.rootDir, 'old.txt'), path.join(t.rootDir, 'new.txt'));
      await rename(path.join(t.rootDir, 'folder'), path.join(t.rootDir, 'renamed'));
      await eventually(async () => {
        await expect(t.core.vfs.stat(t.admin, 'docs', 'gone.txt')).rejects.toSatisfy((e) => isCoreError(e, 'NOT_FOUND'));
        await expect(t.core.vfs.stat(t.admin, 'docs', 'old.txt')).rejects.toSatisfy((e) => isCoreError(e, 'NOT_FOUND'));
        await expect(t.core.vfs.stat(t.admin, 'docs', 'folder/in.txt')).rejects.toSatisfy((e) => isCoreError(e, 'NOT_FOUND'));
        expect(await content('new.txt')).toBe('moving');
        expect(await content('renamed/in.txt')).toBe('inside');
      });
      // Folders that appeared (by a disk rename, or made by the gateway) are watched too.
      await t.core.vfs.mkdir(t.admin, 'docs', 'made-by-gateway');
      await writeFile(path.join(t.rootDir, 'made-by-gateway', 'disk.txt'), 'in a gateway folder');
      await writeFile(path.join(t.rootDir, 'renamed', 'later.txt'), 'in a renamed folder');
      await eventually(async () => {
        expect(await content('made-by-gateway/disk.txt')).toBe('in a gateway folder');
        expect(await content('renamed/later.txt')).toBe('in a renamed folder');
      });
      const gone = await history('gone.txt');
      expect(gone[0]).toMatchObject({ version: 3, op: 'delete', user: 'local', deleted: true });
      // Replaced content stays readable from history (the head's own bytes went with the file:
      // the head has no blob of its own, by design).
      expect((await readAll((await t.core.vfs.read(t.admin, 'docs', 'gone.txt', { version: 1 })).stream)).toString()).toBe('bye');
    });

    it('ignores staging files, ignored names and symlinks leading out of the root', async () => {
      const outside = await import('node:fs/promises').then((fs) => fs.mkdtemp(path.join(os.tmpdir(), 'sg-outside-')));
      await writeFile(path.join(outside, 'secret.txt'), 'secret');
      await symlink(outside, path.join(t.rootDir, 'escape'));
      await writeFile(path.join(t.rootDir, '.syncgate-123.tmp'), 'temp');
      await writeFile(path.join(t.rootDir, 'after.txt'), 'a');
      await eventually(async () => expect(await content('after.txt')).toBe('a'));
      await w.idle();
      const names = (await t.core.vfs.list(t.admin, 'docs', '')).map((e) => e.name);
      expect(names).toEqual(['after.txt']);
      await rm(outside, { recursive: true, force: true });
    });

    it('watches roots created while running and stops on close', async () => {
      const otherDir = path.join(t.dir, 'roots', 'other');
      await t.core.roots.create('other', otherDir, t.admin.user.id);
      await eventually(() => expect(Object.keys(w.modes())).toContain('other'));
      await writeFile(path.join(otherDir, 'o.txt'), 'other root');
      await eventually(async () => expect((await t.core.vfs.history(t.admin, 'other', 'o.txt')).length).toBe(1));
      t.core.roots.remove('other');
      await eventually(() => expect(Object.keys(w.modes())).toEqual(['docs']));
      await w.close();
      expect(w.modes()).toEqual({});
      const cursor = (await t.core.vfs.changes(t.admin, 'docs', 0)).cursor;
      await writeFile(path.join(t.rootDir, 'after-close.txt'), 'not seen');
      await new Promise((r) => setTimeout(r, 300)); // absence can only be checked by waiting
      expect((await t.core.vfs.changes(t.admin, 'docs', 0)).cursor).toBe(cursor);
    });
  });
}

describe('watcher mode choice', () => {
  it('switches a root that grows past maxWatchedFiles to folders mode and keeps recording', async () => {
    const t = await makeCore();
    const w = await startWatcher(t.core, { maxWatchedFiles: 3, debounceMs: 50, rootPollMs: 100 });
    try {
      expect(w.modes()).toEqual({ docs: 'files' });
      for (let i = 0; i < 4; i += 1) await t.core.vfs.write(t.admin, 'docs', `g${i}.txt`, body(`${i}`));
      await eventually(() => expect(w.modes()).toEqual({ docs: 'folders' }));
      await writeFile(path.join(t.rootDir, 'g0.txt'), 'edited after the switch');
      await eventually(async () => expect((await t.core.vfs.history(t.admin, 'docs', 'g0.txt'))[0]).toMatchObject({ version: 2, user: 'local' }));
    } finally {
      await w.close();
      await t.close();
    }
  });

  it('watches folders only past maxWatchedFiles entries', async () => {
    const t = await makeCore();
    try {
      for (let i = 0; i < 5; i += 1) await t.core.vfs.write(t.admin, 'docs', `f${i}.txt`, body(`${i}`));
      const small = await startWatcher(t.core, { maxWatchedFiles: 10 });
      expect(small.modes()).toEqual({ docs: 'files' });
      await small.close();
      const large = await startWatcher(t.core, { maxWatchedFiles: 4 });
      expect(large.modes()).toEqual({ docs: 'folders' });
      await large.close();
    } finally {
      await t.close();
    }
  });

  it('records a file another program wrote into its new folder after the walk that recorded the folder and before its watch opened', async () => {
    const t = await makeCore();
    const rootId = t.core.ctx.roots.all().find((r) => r.name === 'docs')!.id;
    // Subscribed before the watcher, so this runs when the folder's record is published and before
    // the watcher opens the folder's watch: the file it writes raises no event.
    let wrote = false;
    const unsubscribe = t.core.ctx.bus.subscribe(rootId, (c) => {
      if (c.path === 'copied' && c.kind === 'dir' && !c.deleted && !wrote) {
        wrote = true;
        writeFileSync(path.join(t.rootDir, 'copied', 'late.txt'), 'written between walk and watch');
      }
    });
    const w = await startWatcher(t.core, { maxWatchedFiles: 0, debounceMs: 20, rootPollMs: 0 });
    try {
      await mkdir(path.join(t.rootDir, 'copied'));
      await eventually(() => expect(wrote).toBe(true));
      await eventually(async () => expect(await t.core.vfs.history(t.admin, 'docs', 'copied/late.txt')).toHaveLength(1));
    } finally {
      unsubscribe();
      await w.close();
      await t.close();
    }
  });

  it('records edits another program makes inside a folder the gateway moved, after the move on disk and before the watcher hears of it', async () => {
    const t = await makeCore();
    await t.core.vfs.write(t.admin, 'docs', 'd/kept.txt', body('as moved'), { createParents: true });
    const w = await startWatcher(t.core, { maxWatchedFiles: 0, debounceMs: 20, rootPollMs: 0 });
    // The real rename, then another program's edits at the new name, read from inotify (one turn of the
    // event loop) before the move is recorded and published: the watch still open on the folder is
    // the one opened for its old name.
    const store = t.core.ctx.store;
    const renameLive = store.renameLive.bind(store);
    let wrote = false;
    store.renameLive = async (from: string, to: string) => {
      await renameLive(from, to);
      if (to !== path.join(t.rootDir, 'e')) return;
      writeFileSync(path.join(to, 'late.txt'), 'written in the window');
      writeFileSync(path.join(to, 'kept.txt'), 'edited in the window');
      wrote = true;
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
    };
    try {
      await t.core.vfs.move(t.admin, 'docs', 'd', 'e');
      expect(wrote).toBe(true);
      const content = async (p: string) => (await readAll((await t.core.vfs.read(t.admin, 'docs', p)).stream)).toString();
      await eventually(async () => expect(await content('e/late.txt')).toBe('written in the window'), 5000);
      await eventually(async () => expect(await content('e/kept.txt')).toBe('edited in the window'), 5000);
      expect((await t.core.vfs.history(t.admin, 'docs', 'e/kept.txt')).map((v) => [v.op, v.user])).toEqual([['write', 'local'], ['move-in', 'alice'], ['create', 'alice']]);
    } finally {
      await w.close();
      await t.close();
    }
  });
});
