import type { ConflictRow } from '../db/conflicts-repo.js';
import { fingerprint } from '../storage/fingerprint.js';
import type { CoreContext } from './context.js';
import { fail } from './errors.js';
import { checkScope, livePath, safePath } from './live.js';
import type { Locks } from './locks.js';
import { entryInfo } from './present.js';
import type { Reconciler } from './reconcile.js';
import type { RootHandle, Roots } from './roots.js';
import type { Session } from './session.js';
import type { ConflictResolution, EntryInfo } from './types.js';
import type { VfsReader } from './vfs-read.js';
import type { VfsWriter } from './vfs-write.js';
import { isHeldConflict, resolveHeldConflict } from './vfs-write-resolve.js';

/** Bringing content back: restoring old versions and resolving conflicts, each a new version. */
export class VfsRestore {
  constructor(
    private readonly ctx: CoreContext,
    private readonly roots: Roots,
    private readonly reconciler: Reconciler,
    private readonly locks: Locks,
    private readonly reader: VfsReader,
    private readonly w: VfsWriter,
  ) {}

  /**
   * Writes an old version's content as a new version (history itself is never rewritten). The
   * version is looked up along the file's history, so one from before a move (at its old path,
   * `from` when the numbers of two paths meet) is restored at the file's path now.
   */
  async restore(session: Session, root: string, rawPath: string, version: number, from?: string): Promise<EntryInfo> {
    const rel = safePath(rawPath);
    const h = await this.roots.open(session, root, 'write');
    checkScope(session, rel, 'write');
    const v = this.ctx.history.versionInHistory(h.row.id, rel, version, from === undefined ? undefined : safePath(from));
    if (!v || v.kind !== 'file' || v.deleted) fail('NOT_FOUND', `${rel} has no restorable version ${version}`);
    const source = (await this.reader.locate(h, v.hash)) ?? fail('NOT_FOUND', `the content of version ${version} is no longer stored`);
    const staged = await this.ctx.store.stageCopy(source);
    if (staged.hash !== v.hash) {
      await this.ctx.store.discard(staged.tempPath);
      fail('NOT_FOUND', `the stored content of version ${version} is damaged`);
    }
    return this.w.inRootQueue(h, async () => {
      try {
        await this.w.requireParent(h, session, rel, true);
        this.locks.assertCanChange(session, h.row.id, rel);
        const head = await this.reconciler.settle(h, rel);
        if (head && !head.deleted && head.kind === 'dir') fail('IS_A_DIRECTORY', `${rel} is a folder now`);
        if (head && !head.deleted) await this.w.preserve(h, head);
        const st = await this.ctx.store.install(staged.tempPath, await livePath(h, rel), v.mtimeMs);
        const entry = this.w.commit(h, session, [{ path: rel, kind: 'file', op: 'restore', deleted: false, hash: v.hash, size: v.size, ...fingerprint(st) }]);
        return entryInfo(h.row.name, entry);
      } catch (err) {
        await this.ctx.store.discard(staged.tempPath);
        throw err;
      }
    });
  }

  async resolveConflict(session: Session, root: string, id: number, resolution: ConflictResolution): Promise<EntryInfo | null> {
    const h = await this.roots.open(session, root, 'write');
    // Checked and applied under the root's mutex: two racing resolutions cannot both apply.
    return this.w.inRootQueue(h, async () => {
      const c = this.ctx.conflicts.get(h.row.id, id) ?? fail('NOT_FOUND', `conflict ${id} does not exist`);
      checkScope(session, c.path, 'write');
      if (c.resolvedAt !== null) fail('CONFLICT', `conflict ${id} is already resolved`);
      if (isHeldConflict(c)) return resolveHeldConflict({ ctx: this.ctx, reconciler: this.reconciler, locks: this.locks, reader: this.reader, w: this.w }, h, session, c, resolution);
      if (c.kind !== 'edit-edit') return this.resolveDeleteConflict(h, session, c, resolution);
      const copy = await this.reconciler.settle(h, c.copyPath);
      const copyLive = copy && !copy.deleted && copy.kind === 'file' ? copy : undefined;
      let result: EntryInfo | null = copyLive && resolution === 'keep-both' ? entryInfo(h.row.name, copyLive) : null;
      if (resolution === 'keep-incoming') {
        if (!copyLive) fail('NOT_FOUND', 'the conflict copy no longer exists');
        this.locks.assertCanChange(session, h.row.id, c.path);
        const staged = await this.ctx.store.stageCopy(await livePath(h, c.copyPath));
        try {
          await this.w.requireParent(h, session, c.path, true);
          const head = await this.reconciler.settle(h, c.path);
          if (head && !head.deleted && head.kind === 'dir') fail('IS_A_DIRECTORY', `${c.path} is a folder now`);
          if (head && !head.deleted) await this.w.preserve(h, head);
          const st = await this.ctx.store.install(staged.tempPath, await livePath(h, c.path), copyLive.mtimeMs);
          const entry = this.w.commit(h, session, [{ path: c.path, kind: 'file', op: 'resolve', deleted: false, hash: staged.hash, size: staged.size, ...fingerprint(st) }]);
          result = entryInfo(h.row.name, entry);
        } catch (err) {
          await this.ctx.store.discard(staged.tempPath);
          throw err;
        }
      }
      if (resolution !== 'keep-both' && copyLive) {
        this.locks.assertCanChange(session, h.row.id, c.copyPath);
        await this.w.removeInQueue(h, session, copyLive, 'delete');
      }
      this.ctx.conflicts.resolve(c.id, resolution);
      return result;
    });
  }

  /**
   * A delete met an edit: the file was kept either way, so the only choice left is whether it goes.
   * The delete's side wins by deleting the file as it is now (its content stays in history): that
   * is 'keep-incoming' for 'delete-edit' (the incoming delete) and 'keep-server' for 'edit-delete'
   * (the server's delete). Any other resolution, 'keep-both' included, keeps the file as it is.
   * Returns the file when it stays, null when it went (or was already gone).
   */
  private async resolveDeleteConflict(h: RootHandle, session: Session, c: ConflictRow, resolution: ConflictResolution): Promise<EntryInfo | null> {
    const head = await this.reconciler.settle(h, c.path);
    const live = head && !head.deleted ? head : undefined;
    const deleteWins = resolution === (c.kind === 'delete-edit' ? 'keep-incoming' : 'keep-server');
    if (deleteWins && live) {
      this.locks.assertCanChange(session, h.row.id, c.path, true);
      await this.w.removeInQueue(h, session, live, 'resolve');
    }
    this.ctx.conflicts.resolve(c.id, resolution);
    return live && !deleteWins ? entryInfo(h.row.name, live) : null;
  }
}
