import type { ConflictRow } from '../db/conflicts-repo.js';
import type { EntryRow } from '../db/files-repo.js';
import type { StagedFile } from '../storage/content-store.js';
import { fingerprint } from '../storage/fingerprint.js';
import { conflictCopyPath } from './conflict-name.js';
import type { CoreContext } from './context.js';
import { fail } from './errors.js';
import { livePath } from './live.js';
import { conflictInfo, entryInfo } from './present.js';
import type { Retention } from './retention.js';
import type { RootHandle } from './roots.js';
import { actorLabel, type Session } from './session.js';
import type { ConflictInfo, ConflictKind, WriteResult } from './types.js';
import type { VfsWriter, WriteOptions } from './vfs-write.js';

export interface ConflictFacts {
  kind: ConflictKind;
  kept: 'server' | 'incoming';
  path: string;
  baseVersion: number;
  serverVersion: number;
  /** The incoming content's hash ('' for a delete). */
  incomingHash: string;
  copyPath?: string;
}

/**
 * What happens to a change whose base is outdated, decided here once for every door by the root's
 * conflict policy (docs/conflict-policy.md). Every outcome leaves a conflict record, so the user sees
 * it and can undo it, and keeps both contents: at the path, in a conflict copy, in the path's
 * history, or held by the record (invariant 1). Called inside the root's queue.
 */
export class ConflictRules {
  constructor(
    private readonly ctx: CoreContext,
    private readonly retention: Retention,
    private readonly w: VfsWriter,
  ) {}

  /** Edit-edit: the live head is not the version the writer edited. */
  async outdatedWrite(h: RootHandle, session: Session, rel: string, head: EntryRow, staged: StagedFile, live: string, opts: WriteOptions): Promise<WriteResult> {
    const policy = h.row.conflictPolicy;
    if (policy === 'keep-both') return this.conflictCopy(h, session, rel, head, staged, opts);
    // The writer's file mtime, or for a door that sends none the time the server received it. A
    // tie keeps the head: nothing changes at the path without a reason.
    const incomingAt = opts.mtimeMs ?? this.ctx.now();
    if (policy === 'newest-wins' && incomingAt > head.mtimeMs) {
      await this.w.preserve(h, head);
      const st = await this.ctx.store.install(staged.tempPath, live, opts.mtimeMs);
      const entry = this.w.commit(h, session, [{ path: rel, kind: 'file', op: 'write', deleted: false, hash: staged.hash, size: staged.size, ...fingerprint(st) }]);
      const conflict = this.record(h, session, { kind: 'edit-edit', kept: 'incoming', path: rel, baseVersion: opts.baseVersion ?? 0, serverVersion: head.version, incomingHash: staged.hash });
      // After the record: the server's version it names is not pruned before it exists.
      await this.retention.pruneAfterChange(h, rel);
      return { entry: entryInfo(h.row.name, entry), created: false, unchanged: false, conflict };
    }
    return this.holdIncoming(h, session, 'edit-edit', rel, head, staged, opts);
  }

  /**
   * Edit-delete: the writer edited a version deleted since. An edit beats a delete under every
   * policy but server-wins (the delete has no content to lose; invariant 9), so null lets the write
   * bring the file back. Server-wins keeps the file deleted and holds the edit with the record.
   */
  async editOfDeleted(h: RootHandle, session: Session, rel: string, head: EntryRow, staged: StagedFile, opts: WriteOptions): Promise<WriteResult | null> {
    if (h.row.conflictPolicy !== 'server-wins') return null;
    return this.holdIncoming(h, session, 'edit-delete', rel, head, staged, opts);
  }

  /**
   * Delete-edit: a delete whose base is older than the head deletes nothing under every policy
   * (invariant 9: a delete carries no content and no time of its own to be "newer" with), and the
   * record tells the deleting client, who was not asked (the sync door).
   */
  outdatedDelete(h: RootHandle, session: Session, rel: string, baseVersion: number, head: EntryRow): never {
    const c = this.record(h, session, { kind: 'delete-edit', kept: 'server', path: rel, baseVersion, serverVersion: head.version, incomingHash: '' });
    fail('PRECONDITION_FAILED', `${rel} is at version ${head.version}, not ${baseVersion}: nothing was deleted`, { version: head.version, conflict: c });
  }

  /** Keep both: the head stays, the incoming content becomes `name (conflict … from DEVICE).ext`. */
  private async conflictCopy(h: RootHandle, session: Session, rel: string, head: EntryRow, staged: StagedFile, opts: WriteOptions): Promise<WriteResult> {
    const copyRel = await this.freeCopyPath(h, rel, actorLabel(session));
    const st = await this.ctx.store.install(staged.tempPath, await livePath(h, copyRel), opts.mtimeMs);
    const entry = this.w.commit(h, session, [
      { path: copyRel, kind: 'file', op: 'conflict-copy', deleted: false, hash: staged.hash, size: staged.size, ...fingerprint(st) },
    ]);
    const conflict = this.record(h, session, { kind: 'edit-edit', kept: 'server', path: rel, baseVersion: opts.baseVersion ?? 0, serverVersion: head.version, incomingHash: staged.hash, copyPath: copyRel });
    return { entry: entryInfo(h.row.name, entry), created: true, unchanged: false, conflict };
  }

  /** A conflict copy's name that neither the records nor the disk use yet. */
  async freeCopyPath(h: RootHandle, rel: string, device: string): Promise<string> {
    let copyRel = conflictCopyPath(rel, device, new Date(this.ctx.now()));
    for (let i = 1; this.ctx.files.entry(h.row.id, copyRel)?.deleted === false || (await this.ctx.store.statPath(await livePath(h, copyRel))); i += 1) {
      copyRel = conflictCopyPath(rel, device, new Date(this.ctx.now()), i);
    }
    return copyRel;
  }

  /**
   * The head (live or deleted) stays; the incoming content goes into the blob store under its hash,
   * held there by the record (HistoryRepo.hashInUse) until it is resolved. Its content is synced
   * before the link, and the link before the answer: acknowledged means durable.
   */
  private async holdIncoming(h: RootHandle, session: Session, kind: ConflictKind, rel: string, head: EntryRow, staged: StagedFile, opts: WriteOptions): Promise<WriteResult> {
    await staged.synced;
    await this.ctx.store.keepBlob(staged.hash, staged.tempPath);
    await this.ctx.store.discard(staged.tempPath);
    const conflict = this.record(h, session, { kind, kept: 'server', path: rel, baseVersion: opts.baseVersion ?? 0, serverVersion: head.version, incomingHash: staged.hash });
    return { entry: entryInfo(h.row.name, head), created: false, unchanged: false, conflict };
  }

  record(h: RootHandle, session: Session, f: ConflictFacts): ConflictInfo {
    const row: ConflictRow = this.ctx.conflicts.add({
      rootId: h.row.id,
      kind: f.kind,
      policy: h.row.conflictPolicy,
      kept: f.kept,
      path: f.path,
      copyPath: f.copyPath ?? '',
      baseVersion: f.baseVersion,
      serverVersion: f.serverVersion,
      incomingHash: f.incomingHash,
      deviceName: actorLabel(session),
      userName: session.user.name,
    });
    this.ctx.log.info({ root: h.row.name, path: f.path, kind: f.kind, policy: row.policy, kept: f.kept, ...(f.copyPath ? { copy: f.copyPath } : {}) }, 'conflict recorded');
    return conflictInfo(h.row.name, row);
  }
}
