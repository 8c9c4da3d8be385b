import path from 'node:path';
import { watch as fsWatch, type FSWatcher as FSWatcher_ } from 'node:fs';
import type { Logger } from 'pino';
import type { CoreParts } from './index.js';

export interface WatchedRoot {
  id: number;
  name: string;
  dir: string;
  mode: 'files' | 'folders';
  close: () => Promise<void>;
  /** Folders mode: whether the folder `rel` has its watch open. */
  watches?: (rel: string) => boolean;
  /** Folders mode: the gateway is about to rename the tree `from` to `to` (OwnChanges.expectMove). */
  moving?: (from: string, to: string) => void;
}

/** What a root's folder watches share with the rest of the watcher (watcher.ts). */
export interface FolderWatchDeps {
  core: CoreParts;
  log: Logger;
  isIgnoredName: (name: string) => boolean;
  isInternal: (abs: string) => boolean;
  /** Debounces an event on `abs` and reconciles it. */
  schedule: (root: WatchedRoot, abs: string) => void;
  /** Looks once into a new folder for what was made before its watch opened. */
  recheck: (rootId: number, rel: string) => void;
  /** The paths with an event waiting for its timer, then those being reconciled. */
  waiting: () => { rootId: number; rel: string }[];
  counts: { ownIgnored: number };
}

/**
 * Large roots: one native watch per recorded folder, none per file. On Linux (inotify) a folder's
 * watch reports its children's creation, modification, attribute change, deletion and moves by
 * name, which is all the reconciler needs. The folders come from the metadata (no walk of the
 * tree, no stat per file: measured with 50k files, chokidar even with files ignored walks and
 * stats them all, about +200 MiB and 5 s); the change stream adds and drops watches as folders
 * come and go, whoever made them.
 */
export async function watchFolders(root: WatchedRoot, deps: FolderWatchDeps): Promise<() => Promise<void>> {
  const { core, log, isIgnoredName, isInternal } = deps;
  const store = core.ctx.store;
  /**
   * Each folder's watch, and where it is now (a watch follows its folder's moves: `moving`). `self`:
   * the name it was opened at, by which it reports its own folder's move (inotify's IN_MOVE_SELF).
   */
  const watchers = new Map<string, { w: FSWatcher_; rel: string; abs: string; self: string }>();
  let stopped = false;
  const at = (key: string, rel: string) => rel === '' || key === rel || key.startsWith(`${rel}/`);
  const drop = (rel: string) => {
    for (const [key, x] of watchers) {
      if (at(key, rel)) {
        x.w.close();
        watchers.delete(key);
      }
    }
  };
  const add = (rel: string) => {
    if (stopped || watchers.has(rel) || (rel !== '' && rel.split('/').some(isIgnoredName))) return;
    const abs = rel === '' ? root.dir : path.join(root.dir, rel);
    if (isInternal(abs)) return;
    try {
      const x = { w: null as unknown as FSWatcher_, rel, abs, self: path.basename(abs) };
      x.w = fsWatch(abs, { persistent: true }, (event, name) => {
        if (!name) return;
        const changed = path.join(x.abs, name.toString());
        // The gateway's own write: dropped before any timer, stat or query (see OwnChanges).
        if (store.own.consume(changed, event)) deps.counts.ownIgnored += 1;
        else deps.schedule(root, changed);
      });
      x.w.on('error', () => {
        x.w.close();
        if (watchers.get(x.rel) === x) watchers.delete(x.rel);
      });
      watchers.set(rel, x);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') log.warn({ err, root: root.name, path: rel }, 'cannot watch folder');
    }
  };
  /**
   * The gateway renames the tree `from` to `to` (just before the rename): its watches, which watch
   * the folders themselves, are re-pointed at once. An edit another program makes inside it after
   * the rename and before the move is recorded is read at its new name (under the old one it would
   * be dropped as ours or reconciled where nothing is); the move's records then find the watches
   * open. Edits seen under the old names and not yet reconciled are looked at under the new ones too.
   */
  root.moving = (from, to) => {
    if (stopped) return;
    const moved = [...watchers].filter(([key]) => at(key, from));
    if (moved.length === 0) return;
    for (const [key] of moved) watchers.delete(key);
    drop(to); // what was watched there (a tree an overwriting move removed) is gone
    for (const [key, x] of moved) {
      x.rel = to + key.slice(from.length);
      x.abs = path.join(root.dir, x.rel);
      watchers.set(x.rel, x);
      // The moved folder's own watch reports the move itself, by the name it was opened at.
      if (key === from) store.own.expect(path.join(x.abs, x.self), 'rename');
    }
    const pending = deps.waiting().filter((p) => p.rootId === root.id && at(p.rel, from));
    for (const p of pending) deps.schedule(root, path.join(root.dir, to + p.rel.slice(from.length)));
  };
  const unsubscribe = core.ctx.bus.subscribe(root.id, (c) => {
    if (c.kind !== 'dir') return;
    if (c.deleted) return drop(c.path);
    const fresh = !watchers.has(c.path);
    add(c.path);
    // A folder another program made (recorded by a reconcile's walk, e.g. `cp -r` into the root),
    // or one the gateway moved here whose watch did not follow it (an overwriting move drops the
    // watches at its target): what was written into it before this watch raised no event. Look once.
    if (fresh && (c.protocol === 'local' || c.op === 'move-in') && watchers.has(c.path)) deps.recheck(root.id, c.path);
    // Folders only: a folder's move or delete then costs it its folders' changes, not every file's.
  }, { dirsOnly: true });
  add('');
  for (const d of core.ctx.files.liveDirs(root.id)) add(d);
  root.watches = (rel) => !stopped && watchers.has(rel);
  return async () => {
    stopped = true;
    root.moving = undefined;
    unsubscribe();
    drop('');
  };
}
