import type { Readable } from 'node:stream';
import type { ChangeInput, EntryRow } from '../db/files-repo.js';
import { parentOf } from '../lib/paths.js';
import { fingerprint } from '../storage/fingerprint.js';
import type { CoreContext } from './context.js';
import { fail, fromFsError, isCoreError, isStorageFull, storageFull } from './errors.js';
import { checkMtime, checkScope, livePath, safePath } from './live.js';
import type { Locks } from './locks.js';
import { entryInfo } from './present.js';
import type { Properties } from './properties.js';
import type { Reconciler } from './reconcile.js';
import type { Retention } from './retention.js';
import type { RootHandle, Roots } from './roots.js';
import type { Session } from './session.js';
import type { DeleteResult, EntryInfo, WriteResult } from './types.js';
import { ConflictRules } from './vfs-write-conflicts.js';
import { undoInstall, undoUncommitted } from './vfs-write-undo.js';
import { VfsTreeWriter, type CopyOptions, type DeleteOptions, type MoveOptions } from './vfs-write-tree.js';

import { WriteStager, type Adopted, type WriteOptions } from './vfs-write-stage.js';

export type { WriteOptions } from './vfs-write-stage.js';
export type { CopyOptions, DeleteOptions, MoveOptions } from './vfs-write-tree.js';

/** The write side of the virtual filesystem: every change from every door passes here. */
export class VfsWriter {
  /** Writes under way, all roots (see write). */
  private writing = 0;
  private readonly tree: VfsTreeWriter;
  private readonly stager: WriteStager;
  readonly conflicts: ConflictRules;

  constructor(
    private readonly ctx: CoreContext,
    private readonly roots: Roots,
    private readonly reconciler: Reconciler,
    private readonly locks: Locks,
    private readonly props: Properties,
    private readonly retention: Retention,
    /** The largest file any door may write (bytes; 0 = no cap): one rule for every door. */
    private readonly maxFileBytes = 0,
  ) {
    this.conflicts = new ConflictRules(ctx, retention, this);
    this.tree = new VfsTreeWriter(ctx, roots, reconciler, locks, props, this, this.conflicts);
    this.stager = new WriteStager(ctx, roots, locks);
  }

  // The steps below (inRootQueue, commit, preserve, requireParent, liveHead, removeInQueue) are also
  // used by vfs-write-tree.ts, vfs-write-conflicts.ts and vfs-restore.ts: every change follows them.

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
    checkMtime(opts.mtimeMs);
    if (this.maxFileBytes > 0 && opts.declaredSize !== undefined && opts.declaredSize > this.maxFileBytes) fail('QUOTA_EXCEEDED', `files of more than ${this.maxFileBytes} bytes are not accepted`);
    const syncLater = this.writing === 0;
    this.writing += 1;
    try {
      return await this.writeFile(session, root, rawPath, source, opts, this.cap(opts), syncLater);
    } finally {
      this.writing -= 1;
    }
  }

  /**
   * Records a whole file of the data folder (a finished resumable upload) as `rawPath`, linked into
   * staging rather than copied (ContentStore.adopt); `known`: its hash and size, counted as it
   * arrived. A linked file's own name is removed just before its content goes live (see writeFile);
   * otherwise (a copy was staged, or the write was refused) the file is left for the caller to remove.
   */
  async writeAdopted(session: Session, root: string, rawPath: string, file: string, known: { hash: string; size: number } | undefined, opts: WriteOptions = {}): Promise<WriteResult> {
    this.writing += 1;
    try {
      return await this.writeFile(session, root, rawPath, { adopt: file, known }, opts, this.cap(opts), false);
    } finally {
      this.writing -= 1;
    }
  }

  /**
   * The largest size this write may reach: the caller's cap and the gateway's, whichever is lower.
   * Passed beside the options, not merged into a copy of them: on Node 20's V8 a spread plus a new
   * key (`{ ...opts, maxSize }`) gives every copy a map of its own, so every write made a map and
   * each read of an option missed its inline cache (7 misses per PUT, the options a megamorphic site).
   */
  private cap(opts: WriteOptions): number | undefined {
    return this.maxFileBytes > 0 ? Math.min(opts.maxSize ?? Number.POSITIVE_INFINITY, this.maxFileBytes) : opts.maxSize;
  }

  private async writeFile(session: Session, root: string, rawPath: string, source: Readable | AsyncIterable<Uint8Array> | Adopted, opts: WriteOptions, maxSize: number | undefined, syncLater: boolean): Promise<WriteResult> {
    const { h, rel, createOnly, before, live, staged, linkedFrom } = await this.stager.stage(session, root, rawPath, source, opts, maxSize, syncLater);
    // Set once the content is live and recorded: how to take it back if the record's commit fails.
    let takeBack: (() => Promise<void>) | null = null;
    let result: WriteResult;
    try {
      result = await this.inRootQueue(h, async () => {
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
            return await this.conflicts.outdatedWrite(h, session, rel, head, staged, live, opts);
          }
          // An edit of a version deleted since (invariant 9): the policy says whether it comes back.
          const ofDeleted = head?.deleted && opts.baseVersion !== undefined && opts.baseVersion > 0 && opts.baseVersion !== head.version ? head : undefined;
          if (ofDeleted) {
            const held = await this.conflicts.editOfDeleted(h, session, rel, ofDeleted, staged, opts);
            if (held) return held;
          }
          if (exists) await this.preserve(h, head);
          // A finished resumable upload shares the staged inode (a hard link). Its unlink changes the
          // inode's ctime: removed after the record (by the upload's finish), it left a fingerprint
          // that no longer matched, and the next read took the file for an edit made on disk and hashed
          // it again (1 GiB: about 1 s of gateway CPU before the other device's download began).
          if (linkedFrom !== null) await this.ctx.store.discard(linkedFrom);
          const st = await this.ctx.store.install(staged.tempPath, live, opts.mtimeMs);
          let entry: EntryRow;
          try {
            entry = this.commit(h, session, [
              { path: rel, kind: 'file', op: exists ? 'write' : 'create', deleted: false, hash: staged.hash, size: staged.size, mtimeMs: st.mtimeMs, ino: st.ino, ctimeMs: st.ctimeMs },
            ]);
          } catch (err) {
            // Not recorded (the database is full, say): the writer is told so, so the live tree must
            // not show its content either (a scan would record it later as someone else's edit).
            await undoInstall(this.ctx, h, rel, live, exists ? head : undefined);
            throw err;
          }
          const replaced = exists ? head : undefined;
          const beforeVersion = head?.version;
          takeBack = () => undoUncommitted(this.ctx, h, rel, live, replaced, beforeVersion, st.ino);
          await this.retention.pruneAfterChange(h, rel);
          if (ofDeleted) {
            const conflict = this.conflicts.record(h, session, { kind: 'edit-delete', kept: 'incoming', path: rel, baseVersion: opts.baseVersion!, serverVersion: ofDeleted.version, incomingHash: staged.hash });
            return { entry: entryInfo(h.row.name, entry), created: true, unchanged: false, conflict };
          }
          return { entry: entryInfo(h.row.name, entry), created: !exists, unchanged: false };
        } catch (err) {
          await staged.synced?.catch(() => {});
          await this.ctx.store.discard(staged.tempPath);
          if (isCoreError(err)) throw err;
          return fromFsError(err, rel);
        }
      });
    } catch (err) {
      // The commit of the record failed after the section (the group commit: SQLITE_FULL, a full
      // disk under the WAL): the change is not recorded, so its content goes from the live tree too.
      if (!isStorageFull(err) && !isCoreError(err, 'INSUFFICIENT_STORAGE')) throw err;
      if (takeBack) await this.inRootQueue(h, takeBack).catch(() => {});
      throw storageFull(rel);
    }
    // A new file's content synced beside its record and folder: nothing is reported done before it.
    await staged.synced?.catch((err: unknown) => fromFsError(err, rel));
    return result;
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


  /** See VfsTreeWriter.delete: FTP RMD/DELE variants, and an outdated base that deletes nothing. */
  delete(session: Session, root: string, rawPath: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    return this.tree.delete(session, root, rawPath, opts);
  }
  move(session: Session, root: string, rawFrom: string, rawTo: string, opts: MoveOptions = {}): Promise<EntryInfo> {
    return this.tree.move(session, root, rawFrom, rawTo, opts);
  }
  copy(session: Session, root: string, rawFrom: string, rawTo: string, opts: CopyOptions = {}): Promise<EntryInfo> {
    return this.tree.copy(session, root, rawFrom, rawTo, opts);
  }
  liveHead(h: RootHandle, rel: string, baseVersion: number | undefined): Promise<EntryRow> {
    return this.tree.liveHead(h, rel, baseVersion);
  }
  removeInQueue(h: RootHandle, session: Session, head: EntryRow, op: string): Promise<void> {
    return this.tree.removeInQueue(h, session, head, op);
  }

  /** Sets a file's modification time (FTP MFMT, X-OC-Mtime after the fact): a new version. */
  async setMtime(session: Session, root: string, rawPath: string, mtimeMs: number): Promise<EntryInfo> {
    checkMtime(mtimeMs);
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
}

