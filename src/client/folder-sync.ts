/**
 * Folders of a synced folder whose entries this client changed (a download renamed into place, a
 * move, a removal) and has not synced yet. A state row must never become durable before the rename
 * it describes: after a power cut the row would say "synced" for a file its folder lost, and the next
 * pass would send that file's deletion to the gateway (or, for a lost removal, upload it again). So
 * every commit of state rows first syncs these folders: one fsync per folder per batch, not per file.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';

const changed = new Set<string>();

export function folderChanged(absDir: string): void {
  changed.add(absDir);
}

/** Folders changed since the last sync (for tests and status). */
export function unsyncedFolders(): string[] {
  return [...changed];
}

/** Syncs every changed folder; one that is gone since needs nothing (its parent was noted too). */
export function syncChangedFolders(): void {
  for (const dir of changed) {
    let fd: number;
    try {
      fd = openSync(dir, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  changed.clear();
}
