import type { ConflictRow } from '../db/conflicts-repo.js';
import { fingerprint } from '../storage/fingerprint.js';
import type { CoreContext } from './context.js';
import { fail } from './errors.js';
import { livePath } from './live.js';
import type { Locks } from './locks.js';
import { entryInfo } from './present.js';
import type { Reconciler } from './reconcile.js';
import type { RootHandle } from './roots.js';
import type { Session } from './session.js';
import type { ConflictResolution, EntryInfo } from './types.js';
import type { VfsReader } from './vfs-read.js';
import type { VfsWriter } from './vfs-write.js';

/**
 * A record left by newest-wins or server-wins without a conflict copy: one side's content is at the
 * path, the other is held by the record (kept 'server': its incomingHash) or in the path's history
 * (kept 'incoming': version serverVersion). Records of keep-both and of outdated deletes are
 * resolved by VfsRestore as before.
 */
export function isHeldConflict(c: ConflictRow): boolean {
  return (c.kind === 'edit-edit' && c.copyPath === '') || (c.kind === 'edit-delete' && c.kept === 'server');
}

export interface ResolveParts {
  ctx: CoreContext;
  reconciler: Reconciler;
  locks: Locks;
  reader: VfsReader;
  w: VfsWriter;
}

/**
 * Choosing the side the policy kept only closes the record. Choosing the other side puts its
 * content at the path (a new version: the replaced one stays in history); keep-both puts it beside
 * the file as a conflict copy, as keep-both would have (or at the path, when the kept side is a
 * delete). Runs in the root's queue. Returns the entry at the path or the copy, null if none.
 */
export async function resolveHeldConflict(p: ResolveParts, h: RootHandle, session: Session, c: ConflictRow, resolution: ConflictResolution): Promise<EntryInfo | null> {
  const head = await p.reconciler.settle(h, c.path);
  const live = head && !head.deleted ? head : undefined;
  if (resolution === (c.kept === 'server' ? 'keep-server' : 'keep-incoming')) {
    p.ctx.conflicts.resolve(c.id, resolution);
    // The held content is let go with its record, unless something else still holds it.
    if (c.kept === 'server' && !p.ctx.history.hashInUse(c.incomingHash)) await p.ctx.store.removeBlob(c.incomingHash);
    return live ? entryInfo(h.row.name, live) : null;
  }
  const other = c.kept === 'server' ? { hash: c.incomingHash, device: c.deviceName } : serverSide(p, h, c);
  const source = (await p.reader.locate(h, other.hash)) ?? fail('NOT_FOUND', 'the other content of this conflict is no longer stored');
  const staged = await p.ctx.store.stageCopy(source);
  try {
    if (staged.hash !== other.hash) fail('NOT_FOUND', 'the stored content of this conflict is damaged');
    const asCopy = resolution === 'keep-both' && live !== undefined;
    const target = asCopy ? await p.w.conflicts.freeCopyPath(h, c.path, other.device) : c.path;
    p.locks.assertCanChange(session, h.row.id, target);
    await p.w.requireParent(h, session, target, true);
    if (!asCopy && live) {
      if (live.kind === 'dir') fail('IS_A_DIRECTORY', `${c.path} is a folder now`);
      await p.w.preserve(h, live);
    }
    const st = await p.ctx.store.install(staged.tempPath, await livePath(h, target));
    const entry = p.w.commit(h, session, [{ path: target, kind: 'file', op: asCopy ? 'conflict-copy' : 'resolve', deleted: false, hash: staged.hash, size: staged.size, ...fingerprint(st) }]);
    p.ctx.conflicts.resolve(c.id, resolution);
    return entryInfo(h.row.name, entry);
  } catch (err) {
    await p.ctx.store.discard(staged.tempPath);
    throw err;
  }
}

/** The server's side when the incoming content won: its version in the path's history. */
function serverSide(p: ResolveParts, h: RootHandle, c: ConflictRow): { hash: string; device: string } {
  const v = p.ctx.history.version(h.row.id, c.path, c.serverVersion);
  if (!v || v.deleted || v.kind !== 'file' || v.contentGone) fail('NOT_FOUND', `version ${c.serverVersion} of ${c.path} is no longer stored`);
  return { hash: v.hash, device: v.deviceName ?? v.userName ?? 'server' };
}
