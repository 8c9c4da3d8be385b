import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { and, count, eq } from 'drizzle-orm';
import { entries } from '../db/schema/index.js';
import type { Core } from './index.js';

export interface WatcherOptions {
  /**
   * Past this many live entries in a root, watch folders only: one inotify watch per folder instead
   * of one per file (chokidar's default), and learn about files from their folder's raw events.
   */
  maxWatchedFiles: number;
  /** Quiet time after the last event on a path before it is reconciled (default 150 ms). */
  debounceMs?: number;
  /** A path that keeps changing is still reconciled at least this often (default 2 s). */
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
}

interface WatchedRoot {
  id: number;
  name: string;
  dir: string;
  mode: 'files' | 'folders';
  fsw: FSWatcher;
}

/**
 * Records edits made on disk by other programs as versions by the `local` actor: every event is
 * debounced per path, then handed to `writer.reconcile`, which compares disk and metadata under
 * the root's mutex. The gateway's own writes already match their entry, so they record nothing.
 */
export async function startWatcher(core: Core, opts: WatcherOptions): Promise<RootWatcher> {
  const log = core.ctx.log.child({ category: 'watcher' });
  const debounceMs = opts.debounceMs ?? 150;
  const maxDelayMs = opts.maxDelayMs ?? 2000;
  const store = core.ctx.store;
  // The data folder (blobs, staging, uploads) may sit inside a root: never report it.
  const internal = [store.blobDir, store.tempDir, store.uploadDir];
  const watched = new Map<number, WatchedRoot>();
  const timers = new Map<string, { timer: NodeJS.Timeout; first: number; rootId: number; rel: string }>();
  const running = new Set<Promise<void>>();
  let closed = false;

  const isIgnoredName = (name: string) => name.startsWith('.syncgate-') || core.ctx.isIgnoredName(name);
  const isInternal = (abs: string) => internal.some((d) => abs === d || abs.startsWith(d + path.sep));

  const liveEntries = (rootId: number): number =>
    core.ctx.db
      .select({ n: count() })
      .from(entries)
      .where(and(eq(entries.rootId, rootId), eq(entries.deleted, false)))
      .get()?.n ?? 0;

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
    const p = core.writer
      .reconcile(rootId, rel)
      .catch((err: unknown) => {
        // A file that vanished while being hashed is seen again by the event its removal caused.
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') log.warn({ err, rootId, path: rel }, 'reconcile failed');
      })
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

  const watchRoot = async (rootId: number): Promise<void> => {
    const h = await core.roots.openById(rootId);
    const mode: WatchedRoot['mode'] = liveEntries(rootId) >= opts.maxWatchedFiles ? 'folders' : 'files';
    const fsw = watch(h.dir, {
      ignoreInitial: true,
      followSymlinks: false, // a symlink leading out of the root is not part of it
      persistent: true,
      ignored: (p: string, stats?: { isFile(): boolean }) => {
        if (p === h.dir) return false;
        if (isIgnoredName(path.basename(p)) || isInternal(p)) return true;
        return mode === 'folders' && stats !== undefined && stats.isFile();
      },
    });
    const root: WatchedRoot = { id: rootId, name: h.row.name, dir: h.dir, mode, fsw };
    watched.set(rootId, root);
    for (const ev of ['add', 'change', 'unlink', 'addDir', 'unlinkDir'] as const) {
      fsw.on(ev, (p: string) => schedule(root, path.resolve(h.dir, p)));
    }
    if (mode === 'folders') {
      // Folder watches report their children's events (inotify: create, modify, attrib, delete, moves).
      fsw.on('raw', (_event, name: string | null, details: unknown) => {
        const dir = (details as { watchedPath?: string } | undefined)?.watchedPath;
        if (!name || !dir) return;
        schedule(root, path.resolve(h.dir, dir, name));
      });
    }
    fsw.on('error', (err: unknown) => log.warn({ err, root: h.row.name }, 'watch error'));
    await new Promise<void>((resolve) => fsw.once('ready', () => resolve()));
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
    await root.fsw.close();
  };

  const initial = new Set(core.ctx.roots.all().map((r) => r.id));
  const syncRoots = async (initialRun: boolean) => {
    const current = new Set(core.ctx.roots.all().map((r) => r.id));
    for (const id of current) {
      if (closed || watched.has(id)) continue;
      try {
        await watchRoot(id);
        // A root added while running has not been scanned by the gateway's start-up scan.
        if (!initialRun && !initial.has(id)) await core.writer.scanRoot(id);
      } catch (err) {
        log.warn({ err, rootId: id }, 'cannot watch root');
      }
    }
    for (const id of [...watched.keys()]) if (!current.has(id)) await unwatchRoot(id);
  };

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
      if (poller) clearInterval(poller);
      await polling;
      for (const t of timers.values()) clearTimeout(t.timer);
      timers.clear();
      await Promise.all([...watched.values()].map((r) => r.fsw.close()));
      watched.clear();
      await Promise.all([...running]);
    },
    async idle() {
      while (timers.size > 0 || running.size > 0) {
        await Promise.all([...running]);
        if (timers.size > 0) await new Promise((r) => setTimeout(r, debounceMs));
      }
    },
    modes() {
      return Object.fromEntries([...watched.values()].map((r) => [r.name, r.mode]));
    },
  };
}
