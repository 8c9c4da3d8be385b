import { linkSync } from 'node:fs';
import { copyFile, link, mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir, fsyncFile } from '../lib/fsync.js';

export interface BlobLinksParts {
  blobPath(hash: string): string;
  /** In the data folder: a metadata call is made directly (see ContentStore.isLocal). */
  isLocal(p: string): boolean;
  newTempPath(): string;
  /** A folder whose sync failed: the next flush syncs it. */
  markUnsynced(dir: string): void;
}

/**
 * Puts content into the blob store without copying it when possible (a hard link; across
 * filesystems a copy), and syncs the blob folders before the caller replaces the live name. It keeps
 * count of the folders being linked into, so a delete that finds its blob there syncs that folder too.
 */
export class BlobLinks {
  /** Blob folders a keep/keepMany has linked into and not finished syncing (count per folder). */
  private readonly linking = new Map<string, number>();

  constructor(private readonly parts: BlobLinksParts) {}

  /**
   * Any other blob name is durable, or its folder is marked unsynced (a retireLive rename, a failed
   * sync), which every flush syncs before anything is acknowledged.
   */
  linkingInto(dir: string): boolean {
    return this.linking.has(dir);
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
