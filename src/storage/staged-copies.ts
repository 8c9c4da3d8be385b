import { randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { copyFile, link, rename, rm, utimes } from 'node:fs/promises';
import path from 'node:path';
import { fsyncFile } from '../lib/fsync.js';
import { hashFile } from '../lib/hash-file.js';
import type { Staging, StagedFile } from './staging.js';

/** Copies staged beside a live file on another filesystem (installAcross); one left by a crash is removed by a scan. */
const LEFTOVER_PREFIX = '.syncgate-';

export function isStagingLeftover(name: string): boolean {
  return name.startsWith(LEFTOVER_PREFIX) && name.endsWith('.tmp');
}

/**
 * Whole files already on disk, into staging and out of it without streaming them through the
 * gateway: a finished resumable upload linked in, a blob or live file copied in (restore, copy), and
 * a staged file put in place on another filesystem. What they share: the kernel moves the bytes
 * (link, reflink or copy_file_range), and each is synced before it counts.
 */
export class StagedCopies {
  constructor(private readonly staging: Staging) {}

  /**
   * A whole file of the data folder (a finished resumable upload) as a staged file, without copying
   * it: a hard link in staging (the original name stays until the caller removes it, so a refused
   * write loses nothing), synced, and hashed unless `known` (counted as it arrived). Copying 1 GiB
   * here doubled the gateway's disk writes for every big upload. Null where a link cannot be made
   * (another filesystem): the caller streams it instead.
   */
  async adopt(file: string, known?: { hash: string; size: number }): Promise<StagedFile | null> {
    const tempPath = this.staging.newTempPath();
    try {
      await link(file, tempPath);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EXDEV' || code === 'EPERM' || code === 'EMLINK' || code === 'ENOTSUP') return null;
      throw err;
    }
    try {
      await fsyncFile(tempPath);
      const { hash, size } = known ?? (await hashFile(tempPath));
      return { tempPath, hash, size };
    } catch (err) {
      await rm(tempPath, { force: true });
      throw err;
    }
  }

  /** Copies a blob or live file into a new staging file (for restore and copy). */
  async stageCopy(from: string): Promise<StagedFile> {
    const tempPath = this.staging.newTempPath();
    try {
      await copyFile(from, tempPath, fsc.COPYFILE_FICLONE);
      await fsyncFile(tempPath);
    } catch (err) {
      await rm(tempPath, { force: true });
      throw err;
    }
    const { hash, size } = await hashFile(tempPath);
    return { tempPath, hash, size };
  }

  /**
   * Puts a staged file at `livePath` on another filesystem (a root elsewhere, where a rename fails
   * with EXDEV): a copy beside the target, synced, then renamed over it. The staged file goes after.
   */
  async installAcross(tempPath: string, livePath: string, mtimeMs?: number): Promise<void> {
    const near = path.join(path.dirname(livePath), `${LEFTOVER_PREFIX}${randomBytes(6).toString('hex')}.tmp`);
    try {
      await copyFile(tempPath, near);
      if (mtimeMs !== undefined) await utimes(near, new Date(), new Date(mtimeMs));
      await fsyncFile(near);
      await rename(near, livePath);
    } catch (err) {
      await rm(near, { force: true });
      throw err;
    }
    await rm(tempPath, { force: true });
  }
}
