import type { Readable } from 'node:stream';
import type { ChangeInput, ConflictRow, EntryRow } from '../db/files-repo.js';
import { baseName, isWithin, parentOf } from '../lib/paths.js';
import { SMALL_FILE, type StagedFile } from '../storage/content-store.js';
import { fingerprint } from '../storage/fingerprint.js';
import { conflictCopyPath } from './conflict-name.js';
import type { CoreContext } from './context.js';
import { fail, fromFsError, isCoreError } from './errors.js';
import { checkScope, livePath, safePath } from './live.js';
import type { Locks } from './locks.js';
import { actorOf, conflictInfo, entryInfo } from './present.js';
import type { Properties } from './properties.js';
import type { Reconciler } from './reconcile.js';
import type { Retention } from './retention.js';
import type { RootHandle, Roots } from './roots.js';
import type { Session } from './session.js';
import { actorLabel } from './session.js';
import { followMove } from './shares.js';
import type { ConflictKind, EntryInfo, WriteResult } from './types.js';

export interface WriteOptions {
  /** The version the writer edited (0 = it believes the file is new). Absent: last writer wins. */
  baseVersion?: number;
  /** On an outdated base: 'copy' keeps the incoming content as a conflict copy, 'fail' refuses. */
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
  /** The SHA-256 the sender announced: any other content is refused before it is recorded (a delta or a resumed upload has no checksum of its own). */
  sha256?: string;
}

export interface MoveOptions {
  overwrite?: boolean;
  baseVersion?: number;
  toRoot?: string;
}

export interface CopyOptions {
  overwrite?: boolean;
  /** '0' copies a folder without its members (WebDAV Depth: 0). */
  depth?: '0' | 'infinity';
  toRoot?: string;
}

/** The write side of the virtual filesystem: every change from every door passes here. */
export class VfsWriter {
  /** Writes under way, all roots (see write). */
  private writing = 0;

  constructor(
    private readonly ctx: CoreContext,
    private readonly roots: Roots,
    private readonly reconciler: Reconciler,
    private readonly locks: Locks,
    private readonly props: Properties,
    private readonly retention: Retention,
    /** The largest file any door may write (bytes; 0 = no cap): one rule for every door. */
    private readonly maxFileBytes = 0,
  ) {}

  // The steps below (inRootQueue, commit, preserve, requireParent, liveHead, removeInQueue) are also
  // used by vfs-restore.ts: restore and conflict resolution follow the same rules.

  /** Runs fn alone among the root's changes; resolves once its changes are durable. */
  inRootQueue<T>(h: RootHandle, fn: () => Promise<T>): Promise<T> {
    return this.ctx.durable.changeRoot(h.row.id, fn);
  }

  /** Records the changes; returns the entry of the last one. */
  commit(h: RootHandle, session: Session, inputs: ChangeInput[]): EntryRow {
    const recorded = this.reconciler.commit(h, session, inputs);
    return recorded[recorded.length - 1]!.entry;
  }

  /** Keeps a head's content in the blob store before it is replaced or removed (a link, no copy). */
  async preserve(h: RootHandle, head: EntryRow): Promise<void> {
    if (head.kind === 'file' && !head.deleted) await this.ctx.store.keepBlob(head.hash, await livePath(h, head.path));
  }

  async requireParent(h: RootHandle, session: Session, rel: string, create: boolean): Promise<void> {
    const parent = parentOf(rel);
    if (parent === '') return;
    const row = await this.reconciler.settle(h, parent);
    if (row && !row.deleted) {
      if (row.kind !== 'dir') fail('NOT_A_DIRECTORY', `${parent} is not a folder`);
      return;
    }
    if (!create) fail('NOT_FOUND', `the folder ${parent} does not exist`, { missingParent: true });
    await this.requireParent(h, session, parent, true);
    this.locks.assertCanChange(session, h.row.id, parent);
    const st = await this.ctx.store.makeDir(await livePath(h, parent)).catch((e) => fromFsError(e, parent));
    this.commit(h, session, [{ path: parent, kind: 'dir', op: 'mkdir', deleted: false, hash: '', size: 0, ...fingerprint(st) }]);
  }

  async write(session: Session, root: string, rawPath: string, source: Readable | AsyncIterable<Uint8Array>, opts: WriteOptions = {}): Promise<WriteResult> {
    // Alone, a new file's content syncs beside its record: one disk round trip instead of two (one
    // connection: +15-25%). Among other writes it syncs first, as a replacement does: measured with 8
    // in parallel, syncing beside cost 10-25% (more flushes, each with fewer changes, and the syncs
    // queue together in the thread pool), while group commit already shares the round trips.
    if (this.maxFileBytes > 0) {
      if (opts.declaredSize !== undefined && opts.declaredSize > this.maxFileBytes) fail('QUOTA_EXCEEDED', `files of more than ${this.maxFileBytes} bytes are not accepted`);
      opts = { ...opts, maxSize: Math.min(opts.maxSize ?? Number.POSITIVE_INFINITY, this.maxFileBytes) };
    }
    const syncLater = this.writing === 0;
    this.writing += 1;
    try {
      return await this.writeFile(session, root, rawPath, source, opts, syncLater);
    } finally {
      this.writing -= 1;
    }
  }

  private async writeFile(session: Session, root: string, rawPath: string, source: Readable | AsyncIterable<Uint8Array>, opts: WriteOptions, syncLater: boolean): Promise<WriteResult> {
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
    try {
      // A resumed upload starts with the head's first bytes, and a refused create-only one may be
      // tried again under another name (share drops): both are checked before the body is read.
      const early = Boolean(opts.offset) || createOnly;
      if (early) await checks();
      const prefix = opts.offset && opts.offset > 0 ? { prefixFrom: live, prefixLength: opts.offset } : {};
      staged = await this.ctx.store.stage(source, { ...prefix, maxSize: opts.maxSize, declaredSize: opts.declaredSize, checks: early ? undefined : checks, syncLater });
      // Only a new path may be renamed into before its content is synced: a power cut in that window
      // could tear the file, and a file that was whole must stay so. Checked again under the lock.
      if (before && !before.deleted) await this.contentSynced(staged, rel);
    } catch (err) {
      if (isCoreError(err)) throw err;
      if ((err as NodeJS.ErrnoException).code === 'EFBIG') fail('QUOTA_EXCEEDED', 'the upload is larger than allowed');
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') fromFsError(err, rel);
      fail('ABORTED', 'the upload was interrupted; the previous version is unchanged');
    }
    if (opts.sha256 !== undefined && staged.hash !== opts.sha256) {
      await staged.synced?.catch(() => {});
      await this.ctx.store.discard(staged.tempPath);
      fail('PRECONDITION_FAILED', `the content's SHA-256 is ${staged.hash}, not the announced ${opts.sha256}: nothing was recorded`, { reason: 'hash-mismatch' });
    }
    const result = await this.inRootQueue(h, async () => {
      try {
        await this.requireParent(h, session, rel, opts.createParents ?? false);
        this.locks.assertCanChange(session, h.row.id, rel);
        const head = await this.reconciler.settle(h, rel);
        const exists = head !== undefined && !head.deleted;
        if (exists && head.kind === 'dir') fail('IS_A_DIRECTORY', `${rel} is a folder`);
        // A resumed upload was built on the head we saw before the lock: it must still be the head.
        if (opts.offset && head?.version !== before?.version) fail('CONFLICT', `${rel} changed while the upload was resumed; send it again from the start`);
        if (createOnly && exists) fail('ALREADY_EXISTS', `${rel} already exists`);
        if (exists) await staged.synced;
        if (exists && head.hash === staged.hash) {
          await this.ctx.store.discard(staged.tempPath);
          return { entry: entryInfo(h.row.name, head), created: false, unchanged: true };
        }
        if (exists && opts.baseVersion !== undefined && opts.baseVersion !== head.version) {
          if (opts.onConflict === 'fail') fail('PRECONDITION_FAILED', `${rel} is at version ${head.version}, not ${opts.baseVersion}`, { version: head.version });
          return await this.conflictCopy(h, session, rel, head, staged, opts);
        }
        if (exists) await this.preserve(h, head);
        const st = await this.ctx.store.install(staged.tempPath, live, opts.mtimeMs);
        const entry = this.commit(h, session, [
          { path: rel, kind: 'file', op: exists ? 'write' : 'create', deleted: false, hash: staged.hash, size: staged.size, mtimeMs: st.mtimeMs, ino: st.ino, ctimeMs: st.ctimeMs },
        ]);
        await this.retention.pruneAfterChange(h, rel);
        // An edit of a version deleted since brings the file back (invariant 9) and leaves a record.
        // Not in WriteResult.conflict: that means "entry is a copy", and here entry is the file itself.
        if (head?.deleted && opts.baseVersion !== undefined && opts.baseVersion > 0 && opts.baseVersion !== head.version) {
          this.recordConflict(h, session, 'edit-delete', rel, opts.baseVersion, head.version, staged.hash);
        }
        return { entry: entryInfo(h.row.name, entry), created: !exists, unchanged: false };
      } catch (err) {
        await staged.synced?.catch(() => {});
        await this.ctx.store.discard(staged.tempPath);
        if (isCoreError(err)) throw err;
        return fromFsError(err, rel);
      }
    });
    // A new file's content synced beside its record and folder: nothing is reported done before it.
    await staged.synced?.catch((err: unknown) => fromFsError(err, rel));
    return result;
  }

  /** Waits for a staged file's content sync; on failure the staged file is dropped and the error told. */
  private async contentSynced(staged: StagedFile, rel: string): Promise<void> {
    try {
      await staged.synced;
    } catch (err) {
      await this.ctx.store.discard(staged.tempPath);
      fromFsError(err, rel);
    }
  }

  private async conflictCopy(h: RootHandle, session: Session, rel: string, head: EntryRow, staged: StagedFile, opts: WriteOptions): Promise<WriteResult> {
    let copyRel = conflictCopyPath(rel, actorLabel(session), new Date());
    for (let i = 1; this.ctx.files.entry(h.row.id, copyRel)?.deleted === false || (await this.ctx.store.statPath(await livePath(h, copyRel))); i += 1) {
      copyRel = conflictCopyPath(rel, actorLabel(session), new Date(), i);
    }
    const st = await this.ctx.store.install(staged.tempPath, await livePath(h, copyRel), opts.mtimeMs);
    const entry = this.commit(h, session, [
      { path: copyRel, kind: 'file', op: 'conflict-copy', deleted: false, hash: staged.hash, size: staged.size, ...fingerprint(st) },
    ]);
    const conflict = this.recordConflict(h, session, 'edit-edit', rel, opts.baseVersion ?? 0, head.version, staged.hash, copyRel);
    return { entry: entryInfo(h.row.name, entry), created: true, unchanged: false, conflict: conflictInfo(h.row.name, conflict) };
  }

  private recordConflict(h: RootHandle, session: Session, kind: ConflictKind, rel: string, baseVersion: number, serverVersion: number, incomingHash: string, copyPath = ''): ConflictRow {
    const row = this.ctx.files.addConflict({
      rootId: h.row.id,
      kind,
      path: rel,
      copyPath,
      baseVersion,
      serverVersion,
      incomingHash,
      deviceName: actorLabel(session),
      userName: session.user.name,
    });
    this.ctx.log.info({ root: h.row.name, path: rel, kind, ...(copyPath ? { copy: copyPath } : {}) }, 'conflict recorded');
    return row;
  }

  async mkdir(session: Session, root: string, rawPath: string, opts: { createParents?: boolean } = {}): Promise<EntryInfo> {
    const rel = safePath(rawPath);
    if (rel === '') fail('ALREADY_EXISTS', 'the root exists');
    const h = await this.roots.open(session, root, 'write');
    checkScope(session, rel, 'write');
    return this.inRootQueue(h, async () => {
      await this.requireParent(h, session, rel, opts.createParents ?? false);
      this.locks.assertCanChange(session, h.row.id, rel);
      const head = await this.reconciler.settle(h, rel);
      if (head && !head.deleted) fail('ALREADY_EXISTS', `${rel} already exists`);
      const st = await this.ctx.store.makeDir(await livePath(h, rel)).catch((e) => fromFsError(e, rel));
      const entry = this.commit(h, session, [{ path: rel, kind: 'dir', op: 'mkdir', deleted: false, hash: '', size: 0, ...fingerprint(st) }]);
      return entryInfo(h.row.name, entry);
    });
  }

  /**
   * With `emptyDirOnly` (FTP RMD) only an empty folder goes, with `fileOnly` (FTP DELE) only a
   * file: checked under the root's queue, with the delete, so no other change slips in between.
   * An outdated `baseVersion` deletes nothing (PRECONDITION_FAILED); with `onConflict: 'record'`
   * (the sync door, whose client is not asked) it also leaves a 'delete-edit' conflict record,
   * given in the error's details.conflict.
   */
  async delete(session: Session, root: string, rawPath: string, opts: { baseVersion?: number; onConflict?: 'record' | 'fail'; emptyDirOnly?: boolean; fileOnly?: boolean } = {}): Promise<void> {
    const rel = safePath(rawPath);
    if (rel === '') fail('PERMISSION_DENIED', 'the root itself cannot be deleted');
    const h = await this.roots.open(session, root, 'write');
    checkScope(session, rel, 'write');
    await this.inRootQueue(h, async () => {
      const seen = opts.onConflict === 'record' && opts.baseVersion !== undefined ? await this.reconciler.settle(h, rel) : undefined;
      if (seen && !seen.deleted && seen.version !== opts.baseVersion) {
        const c = this.recordConflict(h, session, 'delete-edit', rel, opts.baseVersion!, seen.version, '');
        fail('PRECONDITION_FAILED', `${rel} is at version ${seen.version}, not ${opts.baseVersion}: nothing was deleted`, { version: seen.version, conflict: conflictInfo(h.row.name, c) });
      }
      const head = await this.liveHead(h, rel, opts.baseVersion);
      if (opts.fileOnly && head.kind === 'dir') fail('IS_A_DIRECTORY', `${rel} is a folder`);
      if (opts.emptyDirOnly) {
        if (head.kind !== 'dir') fail('NOT_A_DIRECTORY', `${rel} is not a folder`);
        await this.reconciler.scan(h, rel);
        if (this.ctx.files.listing(h.row.id, rel, '', 1).length > 0) fail('NOT_EMPTY', `${rel} is not empty`);
      }
      this.locks.assertCanChange(session, h.row.id, rel, true);
      await this.removeInQueue(h, session, head, 'delete');
    });
  }

  /** The live head of `rel` (disk edits recorded first), which must still be at `baseVersion` if given. */
  async liveHead(h: RootHandle, rel: string, baseVersion: number | undefined): Promise<EntryRow> {
    const head = await this.reconciler.settle(h, rel);
    if (!head || head.deleted) fail('NOT_FOUND', `${rel} does not exist`);
    if (baseVersion !== undefined && baseVersion !== head.version) {
      fail('PRECONDITION_FAILED', `${rel} is at version ${head.version}, not ${baseVersion}`, { version: head.version });
    }
    return head;
  }

  /** Removes a live entry (and a folder's whole tree), keeping every file's content in history. */
  async removeInQueue(h: RootHandle, session: Session, head: EntryRow, op: string): Promise<void> {
    const abs = await livePath(h, head.path);
    if (head.kind === 'dir') {
      // One change for the folder: its files' content kept (a link each, their blob folders synced
      // once), one rename off the live tree, every path's tombstone recorded in one set.
      await this.reconciler.scan(h, head.path);
      const files = this.ctx.files.subtree(h.row.id, head.path).filter((e) => e.kind === 'file');
      await this.ctx.store.keepBlobs(files.map((e) => ({ hash: e.hash, file: abs + e.path.slice(head.path.length) })));
      await this.ctx.store.removeDir(abs);
      this.reconciler.published(h, this.ctx.files.recordTreeRemoval(h.row.id, actorOf(session), head.path, op), session);
    } else {
      // Its content moves into history by a rename, synced with the metadata by the group commit.
      await this.ctx.store.retireLive(head.hash, abs).catch((e) => fromFsError(e, head.path));
      this.commit(h, session, [{ path: head.path, kind: head.kind, op, deleted: true, hash: head.hash, size: head.size, mtimeMs: head.mtimeMs, ino: 0, oldPath: null }]);
    }
    this.props.deleteTree(h.row.id, head.path);
    this.locks.dropTree(h.row.id, head.path);
  }

  async move(session: Session, root: string, rawFrom: string, rawTo: string, opts: MoveOptions = {}): Promise<EntryInfo> {
    const from = safePath(rawFrom);
    const to = safePath(rawTo);
    if (opts.toRoot !== undefined && opts.toRoot !== root) {
      const copied = await this.copy(session, root, from, to, { overwrite: opts.overwrite, toRoot: opts.toRoot });
      await this.delete(session, root, from, { baseVersion: opts.baseVersion });
      return copied;
    }
    if (from === '' || to === '') fail('PERMISSION_DENIED', 'the root itself cannot be moved or replaced');
    if (isWithin(to, from)) fail('INVALID_INPUT', 'a folder cannot be moved into itself');
    const h = await this.roots.open(session, root, 'write');
    checkScope(session, from, 'write');
    checkScope(session, to, 'write');
    return this.inRootQueue(h, async () => {
      const src = await this.liveHead(h, from, opts.baseVersion);
      this.locks.assertCanChange(session, h.row.id, from, true);
      this.locks.assertCanChange(session, h.row.id, to, true);
      await this.requireParent(h, session, to, false);
      const dst = await this.reconciler.settle(h, to);
      if (dst && !dst.deleted) {
        if (!opts.overwrite) fail('ALREADY_EXISTS', `${to} already exists`);
        await this.removeInQueue(h, session, dst, 'delete');
      }
      if (src.kind === 'dir') await this.reconciler.scan(h, from);
      await this.ctx.store.renameLive(await livePath(h, from), await livePath(h, to)).catch((e) => fromFsError(e, from));
      if (src.kind === 'dir') {
        // One set of changes: every path's arrival and departure recorded together (FilesRepo.recordTreeMove).
        this.reconciler.published(h, this.ctx.files.recordTreeMove(h.row.id, actorOf(session), from, to), session);
      } else {
        // A rename changes the moved inode's ctime: take a file's fingerprint afresh.
        const st = await this.ctx.store.statPath(await livePath(h, to));
        const fp = st ? fingerprint(st) : { mtimeMs: src.mtimeMs, ino: src.ino, ctimeMs: src.ctimeMs };
        this.commit(h, session, [
          { path: to, kind: src.kind, op: 'move-in', deleted: false, hash: src.hash, size: src.size, ...fp, oldPath: from },
          { path: from, kind: src.kind, op: 'move-out', deleted: true, hash: src.hash, size: src.size, mtimeMs: src.mtimeMs, ino: 0 },
        ]);
      }
      this.props.moveTree(h.row.id, from, to);
      followMove(this.ctx, h.row.id, from, to);
      this.locks.dropTree(h.row.id, from);
      return entryInfo(h.row.name, this.ctx.files.entry(h.row.id, to)!);
    });
  }

  async copy(session: Session, root: string, rawFrom: string, rawTo: string, opts: CopyOptions = {}): Promise<EntryInfo> {
    const from = safePath(rawFrom);
    const to = safePath(rawTo);
    const toRoot = opts.toRoot ?? root;
    if (to === '') fail('PERMISSION_DENIED', 'the root itself cannot be replaced');
    if (toRoot === root && isWithin(to, from)) fail('INVALID_INPUT', 'a folder cannot be copied into itself');
    const src = await this.roots.open(session, root, 'read');
    const dstRoot = await this.roots.open(session, toRoot, 'write');
    checkScope(session, from, 'read');
    checkScope(session, to, 'write');
    const srcRow = this.ctx.files.entry(src.row.id, from);
    if (from !== '' && (!srcRow || srcRow.deleted)) fail('NOT_FOUND', `${from} does not exist`);
    const tree = from === '' || srcRow!.kind === 'dir' ? (opts.depth === '0' ? [] : this.ctx.files.subtree(src.row.id, from).filter((e) => e.path !== from)) : [];
    return this.inRootQueue(dstRoot, async () => {
      this.locks.assertCanChange(session, dstRoot.row.id, to, true);
      await this.requireParent(dstRoot, session, to, false);
      const dst = await this.reconciler.settle(dstRoot, to);
      if (dst && !dst.deleted) {
        if (!opts.overwrite) fail('ALREADY_EXISTS', `${to} already exists`);
        await this.removeInQueue(dstRoot, session, dst, 'delete');
      }
      const top = from === '' ? ({ kind: 'dir', path: '' } as EntryRow) : srcRow!;
      for (const e of [top, ...tree]) {
        const target = to + e.path.slice(from.length);
        const targetAbs = await livePath(dstRoot, target);
        if (e.kind === 'dir') {
          const st = await this.ctx.store.makeDir(targetAbs).catch((err) => fromFsError(err, target));
          this.commit(dstRoot, session, [{ path: target, kind: 'dir', op: 'copy', deleted: false, hash: '', size: 0, ...fingerprint(st) }]);
          continue;
        }
        const staged = await this.ctx.store.stageCopy(await livePath(src, e.path));
        const st = await this.ctx.store.install(staged.tempPath, targetAbs, e.mtimeMs);
        this.commit(dstRoot, session, [{ path: target, kind: 'file', op: 'copy', deleted: false, hash: staged.hash, size: staged.size, ...fingerprint(st), oldPath: e.path }]);
      }
      if (src.row.id === dstRoot.row.id) this.props.copyTree(src.row.id, from, to);
      return entryInfo(dstRoot.row.name, this.ctx.files.entry(dstRoot.row.id, to)!);
    });
  }

  /** Sets a file's modification time (FTP MFMT, X-OC-Mtime after the fact): a new version. */
  async setMtime(session: Session, root: string, rawPath: string, mtimeMs: number): Promise<EntryInfo> {
    const rel = safePath(rawPath);
    const h = await this.roots.open(session, root, 'write');
    checkScope(session, rel, 'write');
    return this.inRootQueue(h, async () => {
      const head = await this.reconciler.settle(h, rel);
      if (!head || head.deleted) fail('NOT_FOUND', `${rel} does not exist`);
      this.locks.assertCanChange(session, h.row.id, rel);
      const st = await this.ctx.store.setMtime(await livePath(h, rel), mtimeMs);
      const entry = this.commit(h, session, [{ path: rel, kind: head.kind, op: 'mtime', deleted: false, hash: head.hash, size: head.size, ...fingerprint(st) }]);
      return entryInfo(h.row.name, entry);
    });
  }

  /** For the watcher: reconcile one path (and a folder's tree when it is new). */
  async reconcile(rootId: number, rel: string): Promise<void> {
    const h = await this.roots.openById(rootId);
    await this.inRootQueue(h, async () => {
      const before = this.ctx.files.entry(rootId, rel);
      const after = await this.reconciler.settle(h, rel);
      if (after && !after.deleted && after.kind === 'dir' && (!before || before.deleted || before.kind !== 'dir')) await this.reconciler.scan(h, rel);
    });
  }

  /**
   * After an unclean stop: reads again the small files recorded in the root's last `windowMs`. A new
   * file's content syncs beside its record (see write), so a power cut may have left a record whose
   * content never reached the disk while the file's size and times match it. What the disk holds is
   * recorded as a `local` version, as a scan would. Returns the number of changes recorded.
   */
  async verifyRecent(rootId: number, windowMs: number): Promise<number> {
    const h = await this.roots.openById(rootId);
    return this.inRootQueue(h, () => this.reconciler.verify(h, this.ctx.files.recentFiles(rootId, windowMs, SMALL_FILE)));
  }

  async scanRoot(rootId: number, onProgress?: (n: number) => void): Promise<number> {
    const h = await this.roots.openById(rootId);
    return this.inRootQueue(h, () => this.reconciler.scan(h, '', onProgress));
  }
}

