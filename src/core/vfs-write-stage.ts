import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { EntryRow } from '../db/files-repo.js';
import { baseName } from '../lib/paths.js';
import type { StagedFile } from '../storage/content-store.js';
import type { CoreContext } from './context.js';
import { fail, isCoreError, isStorageFull, storageFull } from './errors.js';
import { checkScope, livePath, safePath } from './live.js';
import type { Locks } from './locks.js';
import type { RootHandle, Roots } from './roots.js';
import type { Session } from './session.js';
import { contentSynced } from './vfs-write-undo.js';

export interface WriteOptions {
  /** The version the writer edited (0 = it believes the file is new). Absent: last writer wins. */
  baseVersion?: number;
  /**
   * On an outdated base: 'copy' lets the root's conflict policy decide (ConflictRules: a conflict
   * copy, the newer content, or the server's, always with a record); 'fail' refuses (an HTTP
   * precondition: the writer asked for nothing to happen then, so nothing is acknowledged or lost).
   */
  onConflict?: 'copy' | 'fail';
  /** Refuse if the path exists (If-None-Match: *, share-link drops). */
  createOnly?: boolean;
  /** Create missing parent folders instead of answering NO_PARENT... as NOT_FOUND. */
  createParents?: boolean;
  mtimeMs?: number;
  /** Keep the first `offset` bytes of the head and append the stream (FTP REST+STOR, APPE). */
  offset?: number;
  maxSize?: number;
  /** The size the sender announced (HTTP Content-Length): see readHead. */
  declaredSize?: number;
  /**
   * The SHA-256 the sender announced: any other content is refused before it is recorded (a delta or
   * a resumed upload has no checksum of its own). A function is asked once the source has ended
   * (a hash sent after the content).
   */
  sha256?: string | (() => string);
}

/** A whole file already in the data folder, to be linked into staging (writeAdopted). */
export interface Adopted {
  adopt: string;
  known?: { hash: string; size: number };
}

/** A write's content staged and checked, ready to be recorded under the root's lock (VfsWriter.writeFile). */
export interface StagedWrite {
  h: RootHandle;
  rel: string;
  createOnly: boolean;
  /** The head seen before the lock (a resumed upload is built on it). */
  before: EntryRow | undefined;
  live: string;
  staged: StagedFile;
  /** The adopted file when it was linked into staging: its name goes before the content is installed. */
  linkedFrom: string | null;
}

/**
 * The first step of every file write, before the root's lock: the path and scope checks, the body
 * read into staging (or a finished upload linked there) and the announced SHA-256 compared. Nothing
 * is recorded or made live here; a refusal leaves the previous version as it was.
 */
export class WriteStager {
  constructor(
    private readonly ctx: CoreContext,
    private readonly roots: Roots,
    private readonly locks: Locks,
  ) {}

  async stage(session: Session, root: string, rawPath: string, source: Readable | AsyncIterable<Uint8Array> | Adopted, opts: WriteOptions, maxSize: number | undefined, syncLater: boolean): Promise<StagedWrite> {
    const rel = safePath(rawPath);
    if (rel === '') fail('IS_A_DIRECTORY', 'the root is a folder');
    if (this.ctx.isIgnoredName(baseName(rel))) fail('INVALID_PATH', `files named ${baseName(rel)} are not stored by this server (storage.ignoredNames, webdav.appleDouble)`);
    const h = await this.roots.open(session, root, 'write');
    checkScope(session, rel, opts.createOnly || session.scope?.mode === 'upload' ? 'create' : 'write');
    const createOnly = opts.createOnly || session.scope?.mode === 'upload';
    let before: EntryRow | undefined;
    let live = '';
    // Refuse early what will surely be refused: before a large body is read, while a small one syncs.
    const checks = async () => {
      before = this.ctx.files.entry(h.row.id, rel);
      if (before && !before.deleted && before.kind === 'dir') fail('IS_A_DIRECTORY', `${rel} is a folder`);
      if (createOnly && before && !before.deleted) fail('ALREADY_EXISTS', `${rel} already exists`);
      this.locks.assertCanChange(session, h.row.id, rel);
      live = await livePath(h, rel);
      if (opts.offset && (!before || before.deleted || before.size < opts.offset)) fail('INVALID_INPUT', `cannot resume at ${opts.offset}: the file is shorter`);
    };
    let staged: StagedFile;
    // The adopted file when it was linked into staging: its name goes before the content is installed.
    let linkedFrom: string | null = null;
    try {
      // A resumed upload starts with the head's first bytes, and a refused create-only one may be
      // tried again under another name (share drops): both are checked before the body is read.
      const early = Boolean(opts.offset) || createOnly;
      if (early) await checks();
      const prefix = opts.offset && opts.offset > 0 ? { prefixFrom: live, prefixLength: opts.offset } : {};
      if ('adopt' in source) {
        if (!early) await checks();
        const adopted = await this.ctx.store.adopt(source.adopt, source.known);
        staged = adopted ?? (await this.ctx.store.stage(createReadStream(source.adopt), { maxSize }));
        if (adopted) linkedFrom = source.adopt;
        if (adopted && adopted.size > (maxSize ?? Number.POSITIVE_INFINITY)) {
          await this.ctx.store.discard(adopted.tempPath);
          fail('QUOTA_EXCEEDED', 'the upload is larger than allowed');
        }
      } else staged = await this.ctx.store.stage(source, { ...prefix, maxSize, declaredSize: opts.declaredSize, checks: early ? undefined : checks, syncLater });
      // Only a new path may be renamed into before its content is synced: a power cut in that window
      // could tear the file, and a file that was whole must stay so. Checked again under the lock.
      if (before && !before.deleted) await contentSynced(this.ctx, staged, rel);
    } catch (err) {
      if (isCoreError(err)) throw err;
      if ((err as NodeJS.ErrnoException).code === 'EFBIG') fail('QUOTA_EXCEEDED', 'the upload is larger than allowed');
      if (isStorageFull(err)) throw storageFull(rel);
      fail('ABORTED', 'the upload was interrupted; the previous version is unchanged');
    }
    const announced = typeof opts.sha256 === 'function' ? opts.sha256() : opts.sha256;
    if (announced !== undefined && staged.hash !== announced) {
      await staged.synced?.catch(() => {});
      await this.ctx.store.discard(staged.tempPath);
      fail('PRECONDITION_FAILED', `the content's SHA-256 is ${staged.hash}, not the announced ${announced || '(none)'}: nothing was recorded`, { reason: 'hash-mismatch' });
    }
    return { h, rel, createOnly, before, live, staged, linkedFrom };
  }
}
