/**
 * Which paths of a linked folder change, as they change. On Linux one inotify watch per folder
 * (fs.watch of a folder names the child that changed), never one per file: 100,000 files cost a
 * few hundred watches, not 100,000 handles (chokidar watches every file). Elsewhere fs.watch is
 * recursive natively (macOS FSEvents, Windows). A watch that fails (the inotify limit reached, a
 * queue overflow) is reported as `lost`: the caller then makes a full pass.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { isInternal, statEntry } from './local.js';

export interface FolderWatch {
  close(): void;
}

export async function watchFolder(dir: string, onPath: (rel: string) => void, lost: (why: string) => void): Promise<FolderWatch> {
  const named = (rel: string) => {
    if (!isInternal(path.posix.basename(rel))) onPath(rel);
  };
  if (process.platform === 'darwin' || process.platform === 'win32') {
    const w = watch(dir, { recursive: true }, (_e, name) => (name ? named(String(name).split(path.sep).join('/')) : lost('the watcher named no file')));
    w.on('error', (err) => lost(err.message));
    return { close: () => w.close() };
  }
  const watches = new Map<string, FSWatcher>();
  let closed = false;
  let started = false;
  const unwatch = (rel: string) => {
    for (const [p, w] of watches) if (p === rel || p.startsWith(`${rel}/`)) {
      w.close();
      watches.delete(p);
    }
  };
  const add = async (rel: string): Promise<void> => {
    if (closed || watches.has(rel)) return;
    let w: FSWatcher;
    try {
      w = watch(rel ? path.join(dir, rel) : dir, { persistent: true }, (event, name) => {
        if (!name) return lost('the watcher named no file');
        const child = rel ? `${rel}/${String(name)}` : String(name);
        named(child);
        // A folder made (or moved in) is watched too; one gone is dropped.
        if (event === 'rename') void statEntry(dir, child).then((e) => (e?.kind === 'dir' ? add(child) : unwatch(child)));
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      return lost((err as Error).message);
    }
    w.on('error', (err) => {
      unwatch(rel);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'EPERM') lost(err.message);
    });
    watches.set(rel, w);
    // What was written in a new folder before its watch began is found by walking it once more.
    if (rel && started) named(rel);
    let names;
    try {
      names = await readdir(rel ? path.join(dir, rel) : dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of names) if (d.isDirectory() && !isInternal(d.name)) await add(rel ? `${rel}/${d.name}` : d.name);
  };
  await add('');
  started = true;
  return {
    close() {
      closed = true;
      for (const w of watches.values()) w.close();
      watches.clear();
    },
  };
}
