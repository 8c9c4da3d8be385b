import type { EntryRow } from '../db/files-repo.js';
import { isWithin } from '../lib/paths.js';
import { fingerprint } from '../storage/fingerprint.js';
import type { StagedFile } from '../storage/staging.js';
import type { CoreContext } from './context.js';
import { fail, fromFsError } from './errors.js';
import { checkScope, livePath, safePath } from './live.js';
import type { Locks } from './locks.js';
import { actorOf, entryInfo } from './present.js';
import type { Properties } from './properties.js';
import type { Reconciler } from './reconcile.js';
import type { RootHandle, Roots } from './roots.js';
import type { Session } from './session.js';
import { followMove } from './shares.js';
import type { DeleteResult, EntryInfo } from './types.js';
import type { ConflictRules } from './vfs-write-conflicts.js';
import { removeFolderSeenAt } from './vfs-write-folder-delete.js';
import type { VfsWriter } from './vfs-write.js';

/**
 * A folder replaced by what it holds (Overwrite onto an ancestor): removing the destination first
 * would remove the source with it, leaving nothing to move or copy. Apache mod_dav refuses it (403).
 */
const REPLACED_BY_OWN = 'a folder cannot be replaced by something inside it';

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

export interface DeleteOptions {
  baseVersion?: number;
  onConflict?: 'record' | 'fail';
  emptyDirOnly?: boolean;
  fileOnly?: boolean;
  /** A folder's delete by a writer who saw the root's feed up to this seq: see removeFolderSeenAt. */
  baseSeq?: number;
}

/** Changes to the tree: deletes, moves and copies of files and whole folders (VfsWriter's part). */
export class VfsTreeWriter {
  constructor(
    private readonly ctx: CoreContext,
    private readonly roots: Roots,
    private readonly reconciler: Reconciler,
    private readonly locks: Locks,
    private readonly props: Properties,
    private readonly w: VfsWriter,
    private readonly conflicts: ConflictRules,
  ) {}

  /**
   * With `emptyDirOnly` (FTP RMD) only an empty folder goes, with `fileOnly` (FTP DELE) only a
   * file: checked under the root's queue, with the delete, so no other change slips in between.
   * An outdated `baseVersion` deletes nothing (PRECONDITION_FAILED); with `onConflict: 'record'`
   * (the sync door, whose client is not asked) it also leaves a 'delete-edit' conflict record,
   * given in the error's details.conflict. A folder with `baseSeq` keeps what changed after it.
   */
  async delete(session: Session, root: string, rawPath: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    const rel = safePath(rawPath);
    if (rel === '') fail('PERMISSION_DENIED', 'the root itself cannot be deleted');
    const h = await this.roots.open(session, root, 'write');
    checkScope(session, rel, 'write');
    return this.w.inRootQueue(h, async () => {
      const seen = opts.onConflict === 'record' && opts.baseVersion !== undefined ? await this.reconciler.settle(h, rel) : undefined;
      if (seen && !seen.deleted && seen.version !== opts.baseVersion) this.conflicts.outdatedDelete(h, session, rel, opts.baseVersion!, seen);
      const head = await this.liveHead(h, rel, opts.baseVersion);
      if (opts.fileOnly && head.kind === 'dir') fail('IS_A_DIRECTORY', `${rel} is a folder`);
      if (opts.emptyDirOnly) {
        if (head.kind !== 'dir') fail('NOT_A_DIRECTORY', `${rel} is not a folder`);
        await this.reconciler.scan(h, rel);
        if (this.ctx.files.listing(h.row.id, rel, '', 1).length > 0) fail('NOT_EMPTY', `${rel} is not empty`);
      }
      this.locks.assertCanChange(session, h.row.id, rel, true);
      if (head.kind === 'dir' && opts.baseSeq !== undefined) {
        return removeFolderSeenAt(this.ctx, this.reconciler, this.conflicts, (...a) => this.removeInQueue(...a), h, session, head, opts.baseSeq);
      }
      await this.removeInQueue(h, session, head, 'delete');
      return { kept: [], conflicts: [] };
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
      this.reconciler.publishedFolder(h, this.ctx.files.recordTreeRemoval(h.row.id, actorOf(session), head.path, op), head.path);
    } else {
      // Its content moves into history by a rename, synced with the metadata by the group commit.
      await this.ctx.store.retireLive(head.hash, abs).catch((e) => fromFsError(e, head.path));
      try {
        this.w.commit(h, session, [{ path: head.path, kind: head.kind, op, deleted: true, hash: head.hash, size: head.size, mtimeMs: head.mtimeMs, ino: 0, oldPath: null }]);
      } catch (err) {
        // Not recorded (SQLITE_FULL): the delete is refused, so the file comes back from its blob (a
        // scan would otherwise record it gone, after the writer was told nothing happened).
        await this.ctx.store.putBack(head.hash, abs).catch((e: unknown) => this.ctx.log.warn({ err: e, path: head.path }, 'a refused delete could not be taken back'));
        throw err;
      }
    }
    this.props.deleteTree(h.row.id, head.path);
    this.locks.dropTree(h.row.id, head.path);
  }

  async move(session: Session, root: string, rawFrom: string, rawTo: string, opts: MoveOptions = {}): Promise<EntryInfo> {
    const from = safePath(rawFrom);
    const to = safePath(rawTo);
    if (opts.toRoot !== undefined && opts.toRoot !== root) {
      // A copy there and a delete here: the delete's checks come first, so a move refused for the
      // source (read-only grant, a lock, an outdated base) has copied nothing. The copy checks the
      // destination before it writes.
      await this.assertCanLeave(session, root, from, opts.baseVersion);
      const copied = await this.copy(session, root, from, to, { overwrite: opts.overwrite, toRoot: opts.toRoot });
      await this.delete(session, root, from, { baseVersion: opts.baseVersion });
      return copied;
    }
    if (from === '' || to === '') fail('PERMISSION_DENIED', 'the root itself cannot be moved or replaced');
    if (isWithin(to, from)) fail('INVALID_INPUT', 'a folder cannot be moved into itself');
    if (opts.overwrite && isWithin(from, to)) fail('INVALID_INPUT', REPLACED_BY_OWN);
    const h = await this.roots.open(session, root, 'write');
    checkScope(session, from, 'write');
    checkScope(session, to, 'write');
    return this.w.inRootQueue(h, async () => {
      const src = await this.liveHead(h, from, opts.baseVersion);
      this.locks.assertCanChange(session, h.row.id, from, true);
      this.locks.assertCanChange(session, h.row.id, to, true);
      await this.w.requireParent(h, session, to, false);
      const dst = await this.reconciler.settle(h, to);
      if (dst && !dst.deleted) {
        if (!opts.overwrite) fail('ALREADY_EXISTS', `${to} already exists`);
        await this.removeInQueue(h, session, dst, 'delete');
      }
      // Edits made on disk in the folder are recorded before it moves (at the paths they were made
      // at): by a walk of it, unless the watcher vouches for the tree (it saw it whole and has
      // nothing of it left to record) and every folder's names on disk are the recorded ones.
      if (src.kind === 'dir') {
        const dirs = (await this.ctx.diskWatch?.vouchesFor(h.row.id, from)) ?? null;
        if (!dirs || !(await this.reconciler.namesMatch(h, from, dirs))) await this.reconciler.scan(h, from);
      }
      await this.ctx.store.renameLive(await livePath(h, from), await livePath(h, to)).catch((e) => fromFsError(e, from));
      if (src.kind === 'dir') {
        // One set of changes: every path's arrival and departure recorded together, one feed record
        // for them all (FilesRepo.recordTreeMove).
        this.reconciler.publishedFolder(h, this.ctx.files.recordTreeMove(h.row.id, actorOf(session), from, to));
      } else {
        // A rename changes the moved inode's ctime: take a file's fingerprint afresh.
        const st = await this.ctx.store.statPath(await livePath(h, to));
        const fp = st ? fingerprint(st) : { mtimeMs: src.mtimeMs, ino: src.ino, ctimeMs: src.ctimeMs };
        this.w.commit(h, session, [
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

  /** What delete() will require of `from`, checked without changing anything. */
  private async assertCanLeave(session: Session, root: string, from: string, baseVersion: number | undefined): Promise<void> {
    if (from === '') fail('PERMISSION_DENIED', 'the root itself cannot be moved');
    const h = await this.roots.open(session, root, 'write');
    checkScope(session, from, 'write');
    await this.w.inRootQueue(h, async () => {
      await this.liveHead(h, from, baseVersion);
      this.locks.assertCanChange(session, h.row.id, from, true);
    });
  }

  async copy(session: Session, root: string, rawFrom: string, rawTo: string, opts: CopyOptions = {}): Promise<EntryInfo> {
    const from = safePath(rawFrom);
    const to = safePath(rawTo);
    const toRoot = opts.toRoot ?? root;
    if (to === '') fail('PERMISSION_DENIED', 'the root itself cannot be replaced');
    if (toRoot === root && isWithin(to, from)) fail('INVALID_INPUT', 'a folder cannot be copied into itself');
    if (toRoot === root && opts.overwrite && isWithin(from, to)) fail('INVALID_INPUT', REPLACED_BY_OWN);
    const src = await this.roots.open(session, root, 'read');
    const dstRoot = await this.roots.open(session, toRoot, 'write');
    checkScope(session, from, 'read');
    checkScope(session, to, 'write');
    const srcRow = this.ctx.files.entry(src.row.id, from);
    if (from !== '' && (!srcRow || srcRow.deleted)) fail('NOT_FOUND', `${from} does not exist`);
    const tree = from === '' || srcRow!.kind === 'dir' ? (opts.depth === '0' ? [] : this.ctx.files.subtree(src.row.id, from).filter((e) => e.path !== from)) : [];
    return this.w.inRootQueue(dstRoot, async () => {
      this.locks.assertCanChange(session, dstRoot.row.id, to, true);
      await this.w.requireParent(dstRoot, session, to, false);
      const dst = await this.reconciler.settle(dstRoot, to);
      if (dst && !dst.deleted && !opts.overwrite) fail('ALREADY_EXISTS', `${to} already exists`);
      const top = from === '' ? ({ kind: 'dir', path: '' } as EntryRow) : srcRow!;
      const entries = [top, ...tree];
      // Every source file is read before the destination is removed: a source file that cannot be
      // (gone from disk, a folder now) refuses the copy with the destination as it was, where it
      // used to leave it removed from the live folder and half replaced.
      const staged = await this.stageSources(src, entries);
      try {
        if (dst && !dst.deleted) await this.removeInQueue(dstRoot, session, dst, 'delete');
        for (const e of entries) {
          // A whole root's entries go below `to` (its paths carry no leading separator to keep).
          const target = from === '' ? (e.path === '' ? to : `${to}/${e.path}`) : to + e.path.slice(from.length);
          const targetAbs = await livePath(dstRoot, target);
          if (e.kind === 'dir') {
            const st = await this.ctx.store.makeDir(targetAbs).catch((err) => fromFsError(err, target));
            this.w.commit(dstRoot, session, [{ path: target, kind: 'dir', op: 'copy', deleted: false, hash: '', size: 0, ...fingerprint(st) }]);
            continue;
          }
          const file = staged.get(e.path)!;
          const st = await this.ctx.store.install(file.tempPath, targetAbs, e.mtimeMs);
          staged.delete(e.path);
          this.w.commit(dstRoot, session, [{ path: target, kind: 'file', op: 'copy', deleted: false, hash: file.hash, size: file.size, ...fingerprint(st), oldPath: e.path }]);
        }
      } finally {
        await this.discardStaged(staged);
      }
      if (src.row.id === dstRoot.row.id) this.props.copyTree(src.row.id, from, to);
      return entryInfo(dstRoot.row.name, this.ctx.files.entry(dstRoot.row.id, to)!);
    });
  }

  /** A staged copy of every file among `entries`, by path; none left behind if one cannot be read. */
  private async stageSources(src: RootHandle, entries: EntryRow[]): Promise<Map<string, StagedFile>> {
    const staged = new Map<string, StagedFile>();
    for (const e of entries) {
      if (e.kind !== 'file') continue;
      try {
        staged.set(e.path, await this.ctx.store.stageCopy(await livePath(src, e.path)));
      } catch (err) {
        await this.discardStaged(staged);
        fromFsError(err, e.path);
      }
    }
    return staged;
  }

  private async discardStaged(staged: Map<string, StagedFile>): Promise<void> {
    await Promise.all([...staged.values()].map((f) => this.ctx.store.discard(f.tempPath)));
  }
}
