import { linkSync, lstatSync, renameSync } from 'node:fs';
import { copyFile, link, mkdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir, fsyncFile } from '../lib/fsync.js';
import type { OwnChanges } from './own-changes.js';

export interface BlobLinksParts {
  blobPath(hash: string): string;
  /** In the data folder: a metadata call is made directly (see ContentStore.isLocal). */
  isLocal(p: string): boolean;
  newTempPath(): string;
  /** A folder whose sync failed: the next flush syncs it. */
  markUnsynced(dir: string): void;
  /** Our own changes to live trees, announced before each one (for the watcher). */
  own: OwnChanges;
  /** Folders whose entries changed, left to the group commit's sync. */
  folderChanged(...dirs: string[]): void;
  removeLive(livePath: string): Promise<void>;
  /** Removes a live name in the data folder without waiting for the journal (see Staging.setAside). */
  dropLocal(livePath: string): void;
}

/**
 * Puts content into the blob store without copying it when possible: a live file about to be
 * replaced by a hard link (across filesystems a copy), with the blob folders synced before the
 * caller replaces the live name; a live file deleted by a rename. It keeps count of the folders
 * being linked into, so a delete that finds its blob there syncs that folder too.
 */
export class BlobLinks {
  /** Blob folders a keep/keepMany has linked into and not finished syncing (count per folder). */
  private readonly linking = new Map<string, number>();

  constructor(private readonly parts: BlobLinksParts) {}

  has(hash: string): Promise<boolean> {
    return exists(this.parts.blobPath(hash));
  }

  /** Makes sure a blob of `hash` exists, taken from `file`. The blob is what history reads. */
  async keep(hash: string, file: string): Promise<void> {
    const target = this.parts.blobPath(hash);
    await this.counted([path.dirname(target)], async () => {
      const linked = await this.link(file, target);
      if (linked && linked.code !== 'EEXIST') {
        // Another filesystem (a root elsewhere), or no hard links there: a copy instead.
        if (linked.code !== 'EXDEV' && linked.code !== 'EPERM' && linked.code !== 'EMLINK') throw linked;
        const tmp = this.parts.newTempPath();
        await copyFile(file, tmp);
        await fsyncFile(tmp);
        await rename(tmp, target);
      }
      // The live name is about to be replaced: the blob's name must survive a power cut first. An
      // existing blob is synced too, as another root's writer may have linked it a moment ago.
      await fsyncDir(path.dirname(target), { direct: true });
    });
  }

  /**
   * keep for many files at once (a folder about to be removed): a hard link each, then one sync of
   * each blob folder they went to (256 at most), in parallel, instead of one sync per file.
   */
  async keepMany(items: Array<{ hash: string; file: string }>): Promise<void> {
    const all = [...new Set(items.map((i) => path.dirname(this.parts.blobPath(i.hash))))];
    await this.counted(all, async () => {
      const dirs = new Set<string>();
      for (const { hash, file } of items) {
        const target = this.parts.blobPath(hash);
        const linked = await this.link(file, target);
        if (linked && linked.code !== 'EEXIST') await this.keep(hash, file); // a copy, synced on its own
        else dirs.add(path.dirname(target));
      }
      await Promise.all([...dirs].map((d) => fsyncDir(d, { direct: true })));
    });
  }

  /**
   * Deletes a live file by moving it into the blob store as `hash` (its history): one rename, no
   * sync of its own. Both folders are left to the group commit, which syncs them with the metadata
   * before the delete is acknowledged; a rename is atomic, so a power cut leaves the name either
   * live (a scan records it again) or in the blob store, never neither. keepBlob + removeLive
   * instead needed the blob's folder synced before the unlink: a second disk round trip per delete.
   * Across filesystems (a root elsewhere) it falls back to them.
   */
  async retire(hash: string, livePath: string): Promise<void> {
    const target = this.parts.blobPath(hash);
    const local = this.parts.isLocal(livePath);
    const blob = lstatSync(target, { throwIfNoEntry: false }); // in the data folder: microseconds
    if (blob) {
      // The content is kept already (the same bytes elsewhere): the live name only goes. The blob's
      // name is durable, unless a keepBlob linked it and is still syncing its folder (another root's
      // writer, a moment ago): then that folder syncs with this delete's group commit too. Syncing
      // it on every delete cost an FTP DELE a second folder sync (an open, an fsync and a close).
      // In the data folder the name is set aside, to be unlinked while the flush syncs (dropLocal).
      this.parts.own.expect(livePath, 'rename');
      if (local) this.parts.dropLocal(livePath);
      else await unlink(livePath);
      const blobDir = path.dirname(target);
      // Any other blob name is durable, or its folder is marked unsynced (a retire's rename, a failed
      // sync), which every flush syncs before anything is acknowledged.
      if (this.linking.has(blobDir)) this.parts.folderChanged(path.dirname(livePath), blobDir);
      else this.parts.folderChanged(path.dirname(livePath));
      return;
    }
    this.parts.own.expect(livePath, 'rename');
    const move = async () => (local ? renameSync(livePath, target) : rename(livePath, target));
    try {
      await move().catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT' || !(await exists(livePath))) throw err;
        await mkdir(path.dirname(target), { recursive: true });
        await move();
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      await this.keep(hash, livePath);
      return this.parts.removeLive(livePath);
    }
    this.parts.folderChanged(path.dirname(livePath), path.dirname(target));
  }

  /**
   * Runs `fn`, which links blobs into `dirs` and syncs them, with those folders counted as linking.
   * A failed sync leaves them marked unsynced: the link may exist without being durable, and the
   * next flush syncs them.
   */
  private async counted(dirs: string[], fn: () => Promise<void>): Promise<void> {
    for (const d of dirs) this.linking.set(d, (this.linking.get(d) ?? 0) + 1);
    try {
      await fn();
    } catch (err) {
      for (const d of dirs) this.parts.markUnsynced(d);
      throw err;
    } finally {
      for (const d of dirs) {
        const n = this.linking.get(d)! - 1;
        if (n > 0) this.linking.set(d, n);
        else this.linking.delete(d);
      }
    }
  }

  /**
   * link(2) of `from` as `target`, making the blob's folder when missing (link first and ask
   * questions after: the blob and its folder usually exist or not, together). Answers its error
   * instead of throwing it.
   */
  private async link(from: string, target: string): Promise<NodeJS.ErrnoException | null> {
    let err = await this.tryLink(from, target);
    if (err?.code === 'ENOENT') {
      await mkdir(path.dirname(target), { recursive: true });
      err = await this.tryLink(from, target);
    }
    return err;
  }

  private async tryLink(from: string, to: string): Promise<NodeJS.ErrnoException | null> {
    try {
      if (this.parts.isLocal(from)) linkSync(from, to);
      else await link(from, to);
      return null;
    } catch (err) {
      return err as NodeJS.ErrnoException;
    }
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
