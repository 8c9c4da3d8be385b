import { randomBytes } from 'node:crypto';
import { createReadStream, lstatSync, renameSync, utimesSync } from 'node:fs';
import { link, lstat, mkdir, readdir, realpath, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { BlobLinks } from './blob-links.js';
import { toFileStat, type FileStat } from './fingerprint.js';
import { hashFile } from '../lib/hash-file.js';
import { OwnChanges } from './own-changes.js';
import { StagedCopies } from './staged-copies.js';
import { Staging, type StagedFile, type StageOptions } from './staging.js';

export type { StagedFile } from './staging.js';
export { SMALL_FILE } from './staging.js';
export { isStagingLeftover } from './staged-copies.js';

/**
 * The content store: live trees (plain folders, one per root), a content-addressed blob store
 * (history without copies: replaced files are hard-linked or renamed in) and staging files.
 * It knows nothing of versions or users; the core decides, this only moves bytes durably.
 */
export class ContentStore {
  readonly blobDir: string;
  readonly tempDir: string;
  readonly uploadDir: string;

  readonly staging: Staging;
  private readonly copies: StagedCopies;
  private localPrefix = '';
  /** Folders whose entries changed (rename, unlink, mkdir) and are not yet synced: see takeUnsyncedDirs. */
  private unsyncedDirs = new Set<string>();
  /** Told when a folder's entries change (core/durability.ts may start its sync at once). */
  onFolderChanged: (() => void) | null = null;
  /** Our own changes to live trees, announced before each one, for the watcher to ignore (see OwnChanges). */
  readonly own = new OwnChanges();
  private readonly blobLinks: BlobLinks;

  constructor(readonly dataDir: string) {
    this.blobDir = path.join(dataDir, 'blobs');
    this.tempDir = path.join(dataDir, 'tmp');
    this.staging = new Staging(this.tempDir);
    this.copies = new StagedCopies(this.staging);
    this.uploadDir = path.join(dataDir, 'uploads');
    this.blobLinks = new BlobLinks({
      blobPath: (hash) => this.blobPath(hash),
      isLocal: (p) => this.isLocal(p),
      newTempPath: () => this.newTempPath(),
      markUnsynced: (dir) => this.markUnsynced(dir),
      own: this.own,
      folderChanged: (...dirs) => this.folderChanged(...dirs),
      removeLive: (livePath) => this.removeLive(livePath),
      dropLocal: (livePath) => this.staging.setAside(livePath),
    });
  }

  /** `dropStaging`: only for the gateway, at start; an admin command may run beside a live gateway. */
  async init(opts: { dropStaging?: boolean } = {}): Promise<void> {
    await mkdir(this.blobDir, { recursive: true });
    await mkdir(this.uploadDir, { recursive: true });
    // Staging files left by a crash were never acknowledged: drop them.
    if (opts.dropStaging ?? true) await rm(this.tempDir, { recursive: true, force: true });
    await mkdir(this.tempDir, { recursive: true });
    await this.staging.init();
    this.localPrefix = (await realpath(this.dataDir)) + path.sep;
  }

  /**
   * Whether `p` lies in the data folder, on the disk that also holds the metadata database. There a
   * metadata call (lstat, rename, link, open of a folder) takes microseconds, less than a thread-pool
   * round trip, and is made directly. Elsewhere (a root on a network share, say) it goes through the
   * pool, so a server that stops answering stalls that root, not the whole gateway.
   */
  isLocal(p: string): boolean {
    return this.localPrefix !== '' && p.startsWith(this.localPrefix);
  }

  blobPath(hash: string): string {
    return path.join(this.blobDir, hash.slice(0, 2), hash);
  }

  newTempPath(): string {
    return this.staging.newTempPath();
  }

  /** See Staging.stage. */
  stage(source: Readable | AsyncIterable<Uint8Array>, opts: StageOptions = {}): Promise<StagedFile> {
    return this.staging.stage(source, opts);
  }

  /** Releases the spare staging files (at shutdown). */
  close(): void {
    this.staging.close();
  }

  /** Hashes a file on disk (see hashFile). */
  hashFile(file: string, sizeHint?: number): Promise<{ hash: string; size: number }> {
    return hashFile(file, sizeHint);
  }

  async statPath(file: string): Promise<FileStat | null> {
    let st: Stats | undefined;
    try {
      st = this.isLocal(file) ? lstatSync(file, { throwIfNoEntry: false }) : await lstat(file);
      if (!st) return null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
      throw err;
    }
    return toFileStat(st);
  }

  /** See BlobLinks.keep: the blob `hash` made from `file` (a hard link when possible), durable. */
  keepBlob(hash: string, file: string): Promise<void> {
    return this.blobLinks.keep(hash, file);
  }

  /** See BlobLinks.keepMany: keepBlob for many files, one sync per blob folder. */
  keepBlobs(items: Array<{ hash: string; file: string }>): Promise<void> {
    return this.blobLinks.keepMany(items);
  }

  hasBlob(hash: string): Promise<boolean> {
    return this.blobLinks.has(hash);
  }

  async removeBlob(hash: string): Promise<void> {
    await rm(this.blobPath(hash), { force: true });
  }

  /**
   * Up to `limit` folders changed since they were last taken, for the caller to fsync (in one group
   * commit, see core/durability.ts) before it reports the changes done.
   */
  takeUnsyncedDirs(limit = Number.POSITIVE_INFINITY): string[] {
    const dirs: string[] = [];
    for (const d of this.unsyncedDirs) {
      if (dirs.length >= limit) break;
      dirs.push(d);
    }
    for (const d of dirs) this.unsyncedDirs.delete(d);
    return dirs;
  }

  /** A folder to sync again (its sync failed): left to the next flush. */
  markUnsynced(dir: string): void {
    this.unsyncedDirs.add(dir);
  }

  /** Marks the folders, then tells the listener once (an early sync takes them all). */
  private folderChanged(...dirs: string[]): void {
    for (const d of dirs) this.unsyncedDirs.add(d);
    this.onFolderChanged?.();
  }

  hasUnsyncedDirs(): boolean {
    return this.unsyncedDirs.size > 0;
  }

  /** Atomically puts a staged file at `livePath` (replacing what is there); its folder is left to sync. */
  async install(tempPath: string, livePath: string, mtimeMs?: number): Promise<FileStat> {
    try {
      if (mtimeMs !== undefined) utimesSync(tempPath, new Date(), new Date(mtimeMs)); // in the data folder
      this.own.expect(livePath, 'rename');
      if (this.isLocal(livePath)) renameSync(tempPath, livePath);
      else await rename(tempPath, livePath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      await this.copies.installAcross(tempPath, livePath, mtimeMs);
    }
    this.folderChanged(path.dirname(livePath));
    const st = await this.statPath(livePath);
    if (!st) throw new Error('installed file vanished');
    return st;
  }

  /**
   * Puts the kept content `hash` back at `livePath` (a file just installed there whose record then
   * failed): a hard link of its blob, renamed over the live name, so the live tree again shows what
   * the metadata says. The blob stays (history reads it).
   */
  async putBack(hash: string, livePath: string): Promise<void> {
    const tmp = this.newTempPath();
    await link(this.blobPath(hash), tmp);
    try {
      this.own.expect(livePath, 'rename');
      await rename(tmp, livePath);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    this.folderChanged(path.dirname(livePath));
  }

  /** See StagedCopies.adopt. */
  adopt(file: string, known?: { hash: string; size: number }): Promise<StagedFile | null> {
    return this.copies.adopt(file, known);
  }

  /** See StagedCopies.stageCopy. */
  stageCopy(from: string): Promise<StagedFile> {
    return this.copies.stageCopy(from);
  }

  async discard(tempPath: string): Promise<void> {
    await rm(tempPath, { force: true });
  }

  /** See BlobLinks.retire: deletes a live file by moving it into the blob store as `hash`. */
  retireLive(hash: string, livePath: string): Promise<void> {
    return this.blobLinks.retire(hash, livePath);
  }

  /** Unlinks the names deleted since the last call (see Staging.setAside): the flush calls it once its syncs are under way. */
  removeSetAside(): void {
    this.staging.removeSetAside();
  }

  async removeLive(livePath: string): Promise<void> {
    this.own.expect(livePath, 'rename');
    await unlink(livePath);
    this.folderChanged(path.dirname(livePath));
  }

  async makeDir(livePath: string): Promise<FileStat> {
    this.own.expect(livePath, 'rename');
    await mkdir(livePath);
    this.folderChanged(path.dirname(livePath));
    return (await this.statPath(livePath))!;
  }

  /**
   * Removes a folder from the live tree with one rename into the staging area, where it is deleted
   * after the caller's answer (what a crash leaves there goes with the staging area at the next
   * start). Its files' content must already be kept (keepBlobs). A root on another filesystem: in
   * place, file by file.
   */
  async removeDir(livePath: string): Promise<void> {
    this.own.expect(livePath, 'rename');
    this.own.expectTree(livePath);
    const removed = path.join(this.tempDir, `removed-${randomBytes(6).toString('hex')}`);
    try {
      if (this.isLocal(livePath)) renameSync(livePath, removed);
      else await rename(livePath, removed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      await rm(livePath, { recursive: true, force: true });
      this.folderChanged(path.dirname(livePath));
      return;
    }
    this.folderChanged(path.dirname(livePath));
    // Not awaited: the removal is done (and durable once the folder above is synced).
    setImmediate(() => void rm(removed, { recursive: true, force: true }).catch(() => {}));
  }

  async renameLive(from: string, to: string): Promise<void> {
    this.own.expect(from, 'rename');
    this.own.expect(to, 'rename');
    // A folder's watches, and those of its sub-folders, follow it: the watcher re-points them now.
    this.own.expectMove(from, to);
    try {
      await rename(from, to);
    } catch (err) {
      this.own.expectMove(to, from);
      throw err;
    }
    // Folders inside the moved one that still await their sync: sync them where they are now.
    for (const d of [...this.unsyncedDirs]) {
      if (d === from || d.startsWith(from + path.sep)) {
        this.unsyncedDirs.delete(d);
        this.unsyncedDirs.add(to + d.slice(from.length));
      }
    }
    this.folderChanged(path.dirname(to), path.dirname(from));
  }

  async setMtime(livePath: string, mtimeMs: number): Promise<FileStat> {
    const st = await stat(livePath);
    this.own.expect(livePath, 'change');
    await utimes(livePath, st.atime, new Date(mtimeMs));
    return (await this.statPath(livePath))!;
  }

  async readDir(dir: string): Promise<string[]> {
    return readdir(dir);
  }

  async realPath(p: string): Promise<string> {
    return realpath(p);
  }

  openRead(file: string, range?: { start: number; end: number }): Readable {
    return createReadStream(file, { start: range?.start, end: range?.end, highWaterMark: 1 << 20 });
  }
}
