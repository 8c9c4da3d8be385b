import path from 'node:path';
import { watch } from 'chokidar';
import type { CoreParts } from './index.js';
import { watchFolders as watchFoldersOf, type WatchedRoot } from './watch-folders.js';

export interface WatcherOptions {
  /**
   * Past this many live entries in a root, watch folders only: one inotify watch per folder instead
   * of one per file (chokidar's default); a folder's watch reports its files' events by name.
   */
  maxWatchedFiles: number;
  /** Quiet time after the last event on a path before it is reconciled (default 150 ms). */
  debounceMs?: number;
  /**
   * A path that keeps changing is still reconciled at least this often (default 30 s): a log that is
   * appended to all day gets versions, while a long copy into the root is not hashed every second.
   */
  maxDelayMs?: number;
  /** How often the list of roots is checked for roots added or removed (default 5 s; 0 = never). */
  rootPollMs?: number;
}

export interface RootWatcher {
  close(): Promise<void>;
  /** Resolves when nothing is pending: no debounce timer armed and no reconcile running. */
  idle(): Promise<void>;
  /** Per root: 'files' (chokidar watches every file) or 'folders' (folders only). */
  modes(): Record<string, 'files' | 'folders'>;
  /**
   * Events dropped as the gateway's own (folders mode), reconciles run, and trees the watcher
   * vouched for (a folder moved without walking it first: DiskWatch), since the start.
   */
  counts(): { ownIgnored: number; reconciled: number; vouched: number };
}

/**
 * Records edits made on disk by other programs as versions by the `local` actor: every event is
 * debounced per path, then handed to `diskEdits.reconcile`, which compares disk and metadata under
 * the root's mutex. The gateway's own writes already match their entry, so they record nothing.
 */
export async function startWatcher(core: CoreParts, opts: WatcherOptions): Promise<RootWatcher> {
  const log = core.ctx.log.child({ category: 'watcher' });
  const debounceMs = opts.debounceMs ?? 150;
  const maxDelayMs = opts.maxDelayMs ?? 30_000;
  const store = core.ctx.store;
  // The store announces its own changes only while a watcher reads them.
  const unlisten = store.own.listen((fromAbs, toAbs) => {
    for (const root of watched.values()) {
      const from = path.relative(root.dir, fromAbs);
      const to = path.relative(root.dir, toAbs);
      if (from === '' || from.startsWith('..') || path.isAbsolute(from) || to === '' || to.startsWith('..') || path.isAbsolute(to)) continue;
      root.moving?.(from.split(path.sep).join('/').normalize('NFC'), to.split(path.sep).join('/').normalize('NFC'));
    }
  });
  // The data folder (blobs, staging, uploads) may sit inside a root: never report it.
  const internal = [store.blobDir, store.tempDir, store.uploadDir];
  const watched = new Map<number, WatchedRoot>();
  const timers = new Map<string, { timer: NodeJS.Timeout; first: number; rootId: number; rel: string }>();
  const running = new Set<Promise<void>>();
  /** The paths of the reconciles running or waiting for their root's queue. */
  const reconciling = new Set<{ rootId: number; rel: string }>();
  let closed = false;
  const counts = { ownIgnored: 0, reconciled: 0, vouched: 0 };

  const isIgnoredName = (name: string) => name.startsWith('.syncgate-') || core.ctx.isIgnoredName(name);
  const isInternal = (abs: string) => internal.some((d) => abs === d || abs.startsWith(d + path.sep));

  const liveEntries = (rootId: number): number => core.ctx.files.liveCount(rootId);

  /** A path whose parent folder is not recorded yet is reached through its highest unrecorded
   * ancestor: reconciling a new folder scans its whole tree, so children never precede parents. */
  const entryPoint = (rootId: number, rel: string): string => {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i += 1) {
      const dir = parts.slice(0, i).join('/');
      const e = core.ctx.files.entry(rootId, dir);
      if (!e || e.deleted || e.kind !== 'dir') return dir;
    }
    return rel;
  };

  const reconcileNow = (rootId: number, relRaw: string) => {
    if (closed || !watched.has(rootId)) return;
    const rel = entryPoint(rootId, relRaw);
    counts.reconciled += 1;
    const at = { rootId, rel };
    reconciling.add(at);
    const p = core.diskEdits
      .reconcile(rootId, rel)
      .catch((err: unknown) => {
        // A file that vanished while being hashed is seen again by the event its removal caused.
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') log.warn({ err, rootId, path: rel }, 'reconcile failed');
      })
      .finally(() => {
        running.delete(p);
        reconciling.delete(at);
      });
    running.add(p);
  };

  const recheck = (rootId: number, rel: string) => {
    if (closed) return;
    const p = core.diskEdits
      .recheckFolder(rootId, rel)
      .catch((err: unknown) => log.warn({ err, rootId, path: rel }, 'recheck of a new folder failed'))
      .finally(() => running.delete(p));
    running.add(p);
  };

  const schedule = (root: WatchedRoot, abs: string) => {
    if (closed) return;
    const relRaw = path.relative(root.dir, abs);
    if (relRaw === '' || relRaw.startsWith('..') || path.isAbsolute(relRaw) || isInternal(abs)) return;
    const rel = relRaw.split(path.sep).join('/').normalize('NFC');
    if (rel.split('/').some(isIgnoredName)) return;
    const key = `${root.id}:${rel}`;
    const now = Date.now();
    const pending = timers.get(key);
    if (pending) clearTimeout(pending.timer);
    const first = pending?.first ?? now;
    const wait = Math.max(0, Math.min(debounceMs, first + maxDelayMs - now));
    const timer = setTimeout(() => {
      timers.delete(key);
      reconcileNow(root.id, rel);
    }, wait);
    timers.set(key, { timer, first, rootId: root.id, rel });
  };

  /** chokidar: one watch per file and per folder (its default), for roots below maxWatchedFiles. */
  const watchFiles = async (root: WatchedRoot): Promise<() => Promise<void>> => {
    const fsw = watch(root.dir, {
      ignoreInitial: true,
      followSymlinks: false, // a symlink leading out of the root is not part of it
      persistent: true,
      ignored: (p: string) => p !== root.dir && (isIgnoredName(path.basename(p)) || isInternal(p)),
    });
    for (const ev of ['add', 'change', 'unlink', 'addDir', 'unlinkDir'] as const) {
      fsw.on(ev, (p: string) => schedule(root, path.resolve(root.dir, p)));
    }
    fsw.on('error', (err: unknown) => {
      log.warn({ err, root: root.name }, 'watch error');
      // Out of inotify watches (fs.inotify.max_user_watches): fall back to one watch per folder.
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') void toFolders(root.id);
    });
    await new Promise<void>((resolve) => fsw.once('ready', () => resolve()));
    return () => fsw.close();
  };

  const watchFolders = (root: WatchedRoot): Promise<() => Promise<void>> =>
    watchFoldersOf(root, { core, log, isIgnoredName, isInternal, schedule, recheck, waiting: () => [...timers.values(), ...reconciling], counts });

  /** A root in 'files' mode that grew past maxWatchedFiles (or ran out of watches) switches over. */
  const toFolders = async (rootId: number): Promise<void> => {
    const root = watched.get(rootId);
    if (!root || root.mode === 'folders' || closed) return;
    root.mode = 'folders';
    root.watches = undefined;
    root.moving = undefined;
    const closeFiles = root.close;
    root.close = await watchFolders(root);
    await closeFiles();
    log.info({ root: root.name }, 'root now watched by folder');
  };

  const watchRoot = async (rootId: number): Promise<void> => {
    const h = await core.roots.openById(rootId);
    const mode: WatchedRoot['mode'] = liveEntries(rootId) >= opts.maxWatchedFiles ? 'folders' : 'files';
    const root: WatchedRoot = { id: rootId, name: h.row.name, dir: h.dir, mode, close: async () => {} };
    watched.set(rootId, root);
    root.close = mode === 'files' ? await watchFiles(root) : await watchFolders(root);
    log.info({ root: h.row.name, mode }, 'watching root');
  };

  const unwatchRoot = async (rootId: number) => {
    const root = watched.get(rootId);
    if (!root) return;
    watched.delete(rootId);
    for (const [key, t] of timers) {
      if (t.rootId === rootId) {
        clearTimeout(t.timer);
        timers.delete(key);
      }
    }
    await root.close();
  };

  const initial = new Set(core.ctx.roots.all().map((r) => r.id));
  const syncRoots = async (initialRun: boolean) => {
    const current = new Set(core.ctx.roots.all().map((r) => r.id));
    for (const id of current) {
      if (closed || watched.has(id)) continue;
      try {
        await watchRoot(id);
        // A root added while running has not been scanned by the gateway's start-up scan.
        if (!initialRun && !initial.has(id)) await core.diskEdits.scanRoot(id);
      } catch (err) {
        log.warn({ err, rootId: id }, 'cannot watch root');
      }
    }
    for (const id of [...watched.keys()]) if (!current.has(id)) await unwatchRoot(id);
    for (const root of [...watched.values()]) {
      if (root.mode === 'files' && liveEntries(root.id) >= opts.maxWatchedFiles) await toFolders(root.id);
    }
  };

  /**
   * DiskWatch: the tree at `rel` needs no walk before a move when this watcher saw it whole. Only
   * with one inotify watch per folder (Linux, folders mode; chokidar's own scans of new folders
   * are not followed), every folder of the tree watched, no tree of ours moved or removed there in
   * the last moments (its events are dropped as ours: OwnChanges.hidesEventsAt), and no event at
   * or below it waiting for its reconcile. An edit made on disk before the request raised its
   * inotify event at once, in the kernel's queue; the queue is read in the event loop's poll phase,
   * so one full turn of the loop (two setImmediate) brings it into `timers` before they are looked at.
   */
  const vouchesFor = async (rootId: number, rel: string): Promise<string[] | null> => {
    const root = watched.get(rootId);
    if (process.platform !== 'linux' || !root || root.mode !== 'folders' || closed) return null;
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    if (closed || watched.get(rootId) !== root || !root.watches) return null;
    const under = (p: string) => rel === '' || p === rel || p.startsWith(`${rel}/`);
    for (const t of timers.values()) if (t.rootId === rootId && under(t.rel)) return null;
    for (const r of reconciling) if (r.rootId === rootId && under(r.rel)) return null;
    if (store.own.hidesEventsAt(rel === '' ? root.dir : path.join(root.dir, rel))) return null;
    const dirs = core.ctx.files.liveDirsAtOrBelow(rootId, rel);
    for (const d of dirs) if (!root.watches(d)) return null;
    counts.vouched += 1;
    return dirs;
  };
  const diskWatch = { vouchesFor };
  core.ctx.diskWatch = diskWatch;

  await syncRoots(true);
  const pollMs = opts.rootPollMs ?? 5000;
  let polling: Promise<void> | null = null;
  const poller =
    pollMs > 0
      ? setInterval(() => {
          if (!polling) polling = syncRoots(false).finally(() => (polling = null));
        }, pollMs)
      : null;
  poller?.unref();

  return {
    async close() {
      closed = true;
      if (core.ctx.diskWatch === diskWatch) core.ctx.diskWatch = null;
      unlisten();
      if (poller) clearInterval(poller);
      await polling;
      for (const t of timers.values()) clearTimeout(t.timer);
      timers.clear();
      await Promise.all([...watched.values()].map((r) => r.close()));
      watched.clear();
      await Promise.all([...running]);
    },
    async idle() {
      while (timers.size > 0 || running.size > 0) {
        await Promise.all([...running]);
        if (timers.size > 0) await new Promise((r) => setTimeout(r, debounceMs));
      }
    },
    counts() {
      return { ...counts };
    },
    modes() {
      return Object.fromEntries([...watched.values()].map((r) => [r.name, r.mode]));
    },
  };
}
