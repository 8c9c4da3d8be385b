import { SMALL_FILE } from '../storage/content-store.js';
import type { CoreContext } from './context.js';
import type { Reconciler } from './reconcile.js';
import type { Roots } from './roots.js';
import type { VfsWriter } from './vfs-write.js';

/**
 * Edits made on disk by other programs, recorded as versions by the `local` actor: the entry points
 * of the watcher (reconcile, recheckFolder) and of start-up (verifyRecent, scanRoot). Each runs in
 * the root's queue, like every write from a door (VfsWriter.inRootQueue).
 */
export class DiskEdits {
  constructor(
    private readonly ctx: CoreContext,
    private readonly roots: Roots,
    private readonly reconciler: Reconciler,
    private readonly writer: VfsWriter,
  ) {}

  /** For the watcher: reconcile one path (and a folder's tree when it is new). */
  async reconcile(rootId: number, rel: string): Promise<void> {
    const h = await this.roots.openById(rootId);
    await this.writer.inRootQueue(h, async () => {
      const before = this.ctx.files.entry(rootId, rel);
      const after = await this.reconciler.settle(h, rel);
      if (after && !after.deleted && after.kind === 'dir' && (!before || before.deleted || before.kind !== 'dir')) await this.reconciler.scan(h, rel);
    });
  }

  /**
   * For the watcher, once a new folder's watch is open: records what was made in it between the walk
   * that recorded it and the watch (its children, and the trees of folders new since).
   */
  async recheckFolder(rootId: number, rel: string): Promise<void> {
    const h = await this.roots.openById(rootId);
    await this.writer.inRootQueue(h, () => this.reconciler.scan(h, rel, undefined, true));
  }

  /**
   * After an unclean stop: reads again the small files recorded in the root's last `windowMs`. A new
   * file's content syncs beside its record (see VfsWriter.write), so a power cut may have left a
   * record whose content never reached the disk while the file's size and times match it. What the
   * disk holds is recorded as a `local` version, as a scan would. Returns the number of changes recorded.
   */
  async verifyRecent(rootId: number, windowMs: number): Promise<number> {
    const h = await this.roots.openById(rootId);
    return this.writer.inRootQueue(h, () => this.reconciler.verify(h, this.ctx.files.recentFiles(rootId, windowMs, SMALL_FILE)));
  }

  async scanRoot(rootId: number, onProgress?: (n: number) => void): Promise<number> {
    const h = await this.roots.openById(rootId);
    return this.writer.inRootQueue(h, () => this.reconciler.scan(h, '', onProgress));
  }
}
