import { randomBytes } from 'node:crypto';
import { closeSync, createReadStream, renameSync, unlinkSync, writeSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { CREATE_DSYNC, openFd, syncFd, writeSynced } from '../lib/fsync.js';
import { sha256Hex } from '../lib/ids.js';
import { readHead } from '../lib/read-head.js';
import { HashedSink, hasVolatileChunks } from '../lib/hashed-sink.js';

/** Uploads up to this size are gathered in memory and written with one call (most files are small). */
export const SMALL_FILE = 256 << 10;
/**
 * Staging files created ahead. One was not enough: eight concurrent uploads queued behind its
 * creation (0.4 ms each while the journal commits), which made it the slowest step of a small PUT.
 */
export const SPARES = 4;
/**
 * Staging files are spread over this many sub-folders, in turn. Creating a file locks its folder
 * while the file system finds a free inode (hundreds of µs after many deletions), and a rename out
 * of that folder waits for the lock, spinning on the event loop: with one folder, the spares being
 * made in the pool held up every rename into place (17% of the event loop's time on one connection).
 * In turn over 16, the file renamed and those being made are never in the same folder.
 */
const FOLDERS = 16;

export interface StageOptions {
  /** A file whose first `prefixLength` bytes come first (appends, resumed uploads). */
  prefixFrom?: string;
  prefixLength?: number;
  maxSize?: number;
  /**
   * The caller's checks: run before a large body is read past its first 256 KiB, or while a small
   * one is synced. If they throw, nothing is staged and their error is thrown.
   */
  checks?: () => Promise<void>;
  /** The size the sender announced (see readHead): a small body is whole once that many bytes came. */
  declaredSize?: number;
  /**
   * A small file is returned before its sync ends, which `synced` then tells (large files are always
   * synced first). For new paths: the sync then runs beside the rename, the record and the WAL's sync
   * instead of before them (one disk round trip per write instead of two; see core/durability.ts).
   */
  syncLater?: boolean;
}

export interface StagedFile {
  tempPath: string;
  hash: string;
  size: number;
  /**
   * Set with `syncLater` for a small file: the content's sync, still running. It must be awaited
   * before the file replaces another, and before the write is reported done. Never rejects before it
   * is awaited (a failure is held for whoever awaits it).
   */
  synced?: Promise<void>;
}

interface SpareFile {
  tempPath: string;
  fd: number;
}

/** Spares of each kind: written on the loop and synced after (`later`), or written synced in the pool (`synced`). */
type SpareKind = 'later' | 'synced';

/**
 * Staging files: where an upload is written, hashed and synced before the store renames it into
 * place. They live in the sub-folders of one folder of the data folder, cleared at the gateway's start.
 */
export class Staging {
  private readonly spares: Record<SpareKind, Array<Promise<SpareFile>>> = { later: [], synced: [] };
  private closed = false;
  /** Deleted names moved into staging, not yet unlinked (see setAside). */
  private setAsideNames: string[] = [];
  private readonly tempPrefix = `${Date.now()}-${randomBytes(6).toString('hex')}`;
  private tempCount = 0;

  /** The staging folders' paths, joined once (path.join costs about 1 µs, and every write takes a name). */
  private readonly folders: string[];

  constructor(readonly tempDir: string) {
    this.folders = Array.from({ length: FOLDERS }, (_, i) => path.join(tempDir, String(i)));
  }

  /** Makes the staging folders (the parent must exist). */
  async init(): Promise<void> {
    for (const folder of this.folders) await mkdir(folder, { recursive: true });
  }

  newTempPath(): string {
    // Unique within this process by the counter, against other processes by the random prefix.
    this.tempCount += 1;
    return `${this.folders[this.tempCount % FOLDERS]}/${this.tempPrefix}-${this.tempCount}`;
  }

  /**
   * Streams `source` into a new staging file while hashing (lib/hashed-sink.ts), then syncs it. On
   * any error the staging file is removed and the error rethrown; nothing live is touched.
   * `prefixFrom` (a file path) is copied first, for appends and resumed uploads. A source of volatile
   * chunks (a patch's output) is not read ahead (that would hold chunks back): it is staged as a
   * large one (synced before this returns) whatever its size, its checks run before it is read.
   */
  async stage(source: Readable | AsyncIterable<Uint8Array>, opts: StageOptions = {}): Promise<StagedFile> {
    const volatile = hasVolatileChunks(source);
    let release = async (): Promise<void> => {};
    if (opts.prefixFrom === undefined && !volatile) {
      const head = await readHead(source, SMALL_FILE, opts.declaredSize);
      if (head.rest === null) return this.stageSmall(head.chunks, opts);
      source = head.rest;
      release = head.release;
    }
    const tempPath = this.newTempPath();
    let sink: HashedSink;
    try {
      await opts.checks?.();
      sink = await HashedSink.open(tempPath, { volatile, limit: opts.maxSize });
    } catch (err) {
      await release(); // refused, or no file to write to: the rest of the body is not read
      throw err;
    }
    try {
      const prefixLength = opts.prefixLength ?? 0;
      if (opts.prefixFrom !== undefined && prefixLength > 0) {
        for await (const chunk of createReadStream(opts.prefixFrom, { start: 0, end: prefixLength - 1, highWaterMark: 1 << 20 })) await sink.write(chunk as Buffer);
      }
      // A throw here returns the iterator, which lets the source go.
      for await (const chunk of source) await sink.write(chunk);
      const hash = await sink.finish();
      await sink.close();
      return { tempPath, hash, size: sink.size };
    } catch (err) {
      await sink.close().catch(() => {});
      await rm(tempPath, { force: true });
      throw err;
    }
  }

  /**
   * A whole small upload: hashed in memory, written with one call and synced; creating the file
   * (which can wait for the journal) is done ahead (takeSpare). The caller's checks run while the
   * disk syncs: on one connection that time was otherwise idle.
   *
   * With `syncLater` (a write alone) the content is written on the loop at once, a direct call, and
   * only the sync goes to the pool, not awaited here (StagedFile.synced): the file may be renamed into
   * place while it syncs, and a reader must then find the whole content. Among other writes the
   * file is opened O_DSYNC and written in the pool, write and sync in one call, awaited before the
   * file is handed over: with 8 in flight the loop's write(2) waited for the journal that the other
   * writes' syncs kept committing (about 40 µs a write on the event loop, measured with perf trace).
   */
  private async stageSmall(chunks: Uint8Array[], opts: StageOptions): Promise<StagedFile> {
    const data = Buffer.concat(chunks);
    if (data.length > (opts.maxSize ?? Number.POSITIVE_INFINITY)) throw Object.assign(new Error('upload exceeds the size limit'), { code: 'EFBIG' });
    const kind: SpareKind = opts.syncLater ? 'later' : 'synced';
    const { tempPath, fd } = await this.takeSpare(kind);
    let synced: Promise<void> | null = null;
    try {
      if (kind === 'later') {
        for (let done = 0; done < data.length; ) done += writeSync(fd, data, done);
        synced = syncFd(fd, true).finally(() => closeSync(fd));
      } else synced = writeSynced(fd, data).finally(() => closeSync(fd));
      synced.catch(() => {}); // held for whoever awaits it: the checks may still be running when it fails
      const hash = sha256Hex(data);
      await opts.checks?.();
      if (!opts.syncLater) await synced;
      return { tempPath, hash, size: data.length, ...(opts.syncLater ? { synced } : {}) };
    } catch (err) {
      if (synced) await synced.catch(() => {});
      else closeSync(fd);
      await rm(tempPath, { force: true });
      throw err;
    }
  }

  /**
   * An empty staging file of `kind`, created ahead. Creating a file waits for the journal when a sync
   * has just run (about 0.4 ms here, right after the previous write's flush, against 40 µs otherwise):
   * made while earlier uploads were being committed, it costs the next ones nothing.
   */
  private takeSpare(kind: SpareKind): Promise<SpareFile> {
    const spares = this.spares[kind];
    // A spare that failed (disk full a moment ago) gets one fresh attempt before the error counts.
    const first = spares.shift();
    const next = first?.catch(() => this.createSpare(kind)) ?? this.createSpare(kind);
    while (!this.closed && spares.length < SPARES) {
      const spare = this.createSpare(kind);
      spare.catch(() => {}); // reported to whoever takes it
      spares.push(spare);
    }
    return next;
  }

  private async createSpare(kind: SpareKind): Promise<SpareFile> {
    const tempPath = this.newTempPath();
    return { tempPath, fd: await openFd(tempPath, kind === 'synced' ? CREATE_DSYNC : 'w') };
  }

  /**
   * Removes a name of the live tree in the data folder: renamed into staging (a change of two
   * folders, 10-20 µs here), unlinked there by the flush once its syncs are under way
   * (removeSetAside). An unlink frees the inode and its blocks under the journal: 70-150 µs per
   * 4 KiB file on this disk, which every DELE of content already kept spent before its syncs began;
   * now the event loop spends it while the disk works. A crash leaves the staged name, which the next
   * start clears with the staging area. The live folder's sync makes the rename durable.
   */
  setAside(livePath: string): void {
    const staged = this.newTempPath();
    try {
      renameSync(livePath, staged);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      unlinkSync(livePath); // a mount inside the data folder
      return;
    }
    this.setAsideNames.push(staged);
  }

  /** Unlinks the names deleted since the last call (see setAside); one that fails stays in staging until the next start. */
  removeSetAside(): void {
    if (this.setAsideNames.length === 0) return;
    const names = this.setAsideNames;
    this.setAsideNames = [];
    for (const name of names) {
      try {
        unlinkSync(name);
      } catch {
        // Nothing live depends on it: the staging area is cleared at start.
      }
    }
  }

  /** Releases the spare staging files (at shutdown). */
  close(): void {
    this.closed = true;
    for (const spare of [...this.spares.later.splice(0), ...this.spares.synced.splice(0)]) {
      void spare.then(
        ({ tempPath, fd }) => {
          try {
            closeSync(fd);
          } catch {
            // already closed: nothing to release
          }
          return rm(tempPath, { force: true });
        },
        () => {},
      );
    }
  }
}
