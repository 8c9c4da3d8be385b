import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, constants as fsc } from 'node:fs';
import { copyFile, link, lstat, mkdir, open, readdir, readFile, realpath, rename, rm, stat, unlink, utimes } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fsyncDir } from '../lib/fsync.js';

/** Socket chunks are small: buffer up to 4 MiB before each write(2) call. */
const WRITE_BUFFER = 4 << 20;
const EARLY_FLUSH = 32 << 20;

export interface StagedFile {
  tempPath: string;
  hash: string;
  size: number;
}

export interface FileStat {
  size: number;
  mtimeMs: number;
  ino: number;
  ctimeMs: number;
  kind: 'file' | 'dir' | 'symlink' | 'other';
}

/**
 * The content store: live trees (plain folders, one per root), a content-addressed blob store
 * (history without copies: replaced files are hard-linked or renamed in) and staging files.
 * It knows nothing of versions or users; the core decides, this only moves bytes durably.
 */
export class ContentStore {
  readonly blobDir: string;
  readonly tempDir: string;
  readonly uploadDir: string;

  constructor(readonly dataDir: string) {
    this.blobDir = path.join(dataDir, 'blobs');
    this.tempDir = path.join(dataDir, 'tmp');
    this.uploadDir = path.join(dataDir, 'uploads');
  }

  async init(): Promise<void> {
    await mkdir(this.blobDir, { recursive: true });
    await mkdir(this.uploadDir, { recursive: true });
    // Staging files left by a crash were never acknowledged: drop them.
    await rm(this.tempDir, { recursive: true, force: true });
    await mkdir(this.tempDir, { recursive: true });
  }

  blobPath(hash: string): string {
    return path.join(this.blobDir, hash.slice(0, 2), hash);
  }

  newTempPath(): string {
    return path.join(this.tempDir, `${Date.now()}-${randomBytes(8).toString('hex')}`);
  }

  /**
   * Streams `source` into a new staging file while hashing, then fsyncs it. On any error the
   * staging file is removed and the error rethrown; nothing live is touched.
   * `prefix` (a file path) is copied first, for appends and resumed uploads.
   */
  async stage(source: Readable | AsyncIterable<Uint8Array>, opts: { prefixFrom?: string; prefixLength?: number; maxSize?: number } = {}): Promise<StagedFile> {
    const tempPath = this.newTempPath();
    const hasher = createHash('sha256');
    let size = 0;
    // Dirty pages are not written back before fsync (the kernel waits for gigabytes): flushing
    // as we go lets the disk work while we hash, so the final fsync has little left to do.
    let flushedAt = 0;
    let flushing: Promise<void> | null = null;
    const handle = await open(tempPath, 'w');
    const flushEarly = () => {
      if (flushing || size - flushedAt < EARLY_FLUSH) return;
      flushedAt = size;
      flushing = handle.datasync().then(
        () => void (flushing = null),
        () => void (flushing = null),
      );
    };
    // A numeric fd, not the FileHandle: a FileHandle stream that does not close it keeps close() waiting.
    const sink = () => createWriteStream('', { fd: handle.fd, autoClose: false, emitClose: false, highWaterMark: WRITE_BUFFER });
    try {
      if (opts.prefixFrom !== undefined && (opts.prefixLength ?? 0) > 0) {
        await pipeline(createReadStream(opts.prefixFrom, { start: 0, end: (opts.prefixLength ?? 0) - 1 }), counter(), sink());
      }
      await pipeline(source, counter(opts.maxSize ?? Number.POSITIVE_INFINITY), sink());
      await flushing;
      await handle.datasync();
      await handle.close();
      return { tempPath, hash: hasher.digest('hex'), size };
    } catch (err) {
      await flushing;
      await handle.close().catch(() => {});
      await rm(tempPath, { force: true });
      throw err;
    }

    function counter(limit = Number.POSITIVE_INFINITY): Transform {
      return new Transform({
        highWaterMark: WRITE_BUFFER,
        transform(chunk: Buffer, _enc, done) {
          size += chunk.length;
          if (size > limit) return done(Object.assign(new Error('upload exceeds the size limit'), { code: 'EFBIG' }));
          hasher.update(chunk);
          flushEarly();
          done(null, chunk);
        },
      });
    }
  }

  /** Hashes a file on disk (SHA-256, streamed). */
  async hashFile(file: string, sizeHint?: number): Promise<{ hash: string; size: number }> {
    if (sizeHint !== undefined && sizeHint < 1 << 20) {
      // Small files in one read: a 1 MiB stream buffer per tiny file made scans GC-bound.
      const data = await readFile(file);
      return { hash: createHash('sha256').update(data).digest('hex'), size: data.length };
    }
    const hasher = createHash('sha256');
    let size = 0;
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      hasher.update(chunk);
      size += chunk.length;
    }
    return { hash: hasher.digest('hex'), size };
  }

  async statPath(file: string): Promise<FileStat | null> {
    let st: Stats;
    try {
      st = await lstat(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
      throw err;
    }
    return toFileStat(st);
  }

  /**
   * Makes sure a blob of `hash` exists, taking it from `file` without copying when possible
   * (a hard link; across filesystems a copy). The blob is what history reads.
   */
  async keepBlob(hash: string, file: string): Promise<void> {
    const target = this.blobPath(hash);
    if (await exists(target)) return;
    await mkdir(path.dirname(target), { recursive: true });
    try {
      await link(file, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return;
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK') throw err;
      const tmp = this.newTempPath();
      await copyFile(file, tmp);
      await syncFile(tmp);
      await rename(tmp, target);
    }
    // The live name is about to be replaced: the blob's name must survive a power cut first.
    await fsyncDir(path.dirname(target));
  }

  async hasBlob(hash: string): Promise<boolean> {
    return exists(this.blobPath(hash));
  }

  async removeBlob(hash: string): Promise<void> {
    await rm(this.blobPath(hash), { force: true });
  }

  /** Atomically puts a staged file at `livePath` (replacing what is there), durably. */
  async install(tempPath: string, livePath: string, mtimeMs?: number): Promise<FileStat> {
    if (mtimeMs !== undefined) await utimes(tempPath, new Date(), new Date(mtimeMs));
    try {
      await rename(tempPath, livePath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      // Root on another filesystem: copy next to the target, then rename there.
      const near = path.join(path.dirname(livePath), `.syncgate-${randomBytes(6).toString('hex')}.tmp`);
      await copyFile(tempPath, near);
      if (mtimeMs !== undefined) await utimes(near, new Date(), new Date(mtimeMs));
      await syncFile(near);
      await rename(near, livePath);
      await rm(tempPath, { force: true });
    }
    await fsyncDir(path.dirname(livePath));
    const st = await this.statPath(livePath);
    if (!st) throw new Error('installed file vanished');
    return st;
  }

  /** Copies a blob or live file into a new staging file (for restore and copy). */
  async stageCopy(from: string): Promise<StagedFile> {
    const tempPath = this.newTempPath();
    try {
      await copyFile(from, tempPath, fsc.COPYFILE_FICLONE);
      await syncFile(tempPath);
    } catch (err) {
      await rm(tempPath, { force: true });
      throw err;
    }
    const { hash, size } = await this.hashFile(tempPath);
    return { tempPath, hash, size };
  }

  async discard(tempPath: string): Promise<void> {
    await rm(tempPath, { force: true });
  }

  async removeLive(livePath: string): Promise<void> {
    await unlink(livePath);
    await fsyncDir(path.dirname(livePath));
  }

  async makeDir(livePath: string): Promise<FileStat> {
    await mkdir(livePath);
    await fsyncDir(path.dirname(livePath));
    return (await this.statPath(livePath))!;
  }

  async removeDir(livePath: string): Promise<void> {
    await rm(livePath, { recursive: true, force: true });
    await fsyncDir(path.dirname(livePath));
  }

  async renameLive(from: string, to: string): Promise<void> {
    await rename(from, to);
    await fsyncDir(path.dirname(to));
    if (path.dirname(from) !== path.dirname(to)) await fsyncDir(path.dirname(from));
  }

  async setMtime(livePath: string, mtimeMs: number): Promise<FileStat> {
    const st = await stat(livePath);
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

/** The disk fingerprint recorded with an entry: if any of it changed, the file may have. */
export function fingerprint(st: FileStat): { mtimeMs: number; ino: number; ctimeMs: number } {
  return { mtimeMs: st.mtimeMs, ino: st.ino, ctimeMs: st.ctimeMs };
}

export function toFileStat(st: Stats): FileStat {
  const kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
  return { size: st.size, mtimeMs: Math.floor(st.mtimeMs), ino: st.ino, ctimeMs: Math.floor(st.ctimeMs), kind };
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function syncFile(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
