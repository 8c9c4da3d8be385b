import type { EntryRow } from '../db/files-repo.js';
import { isWithin } from '../lib/paths.js';
import type { CoreContext } from './context.js';
import { conflictInfo, entryInfo } from './present.js';
import type { Reconciler } from './reconcile.js';
import type { RootHandle } from './roots.js';
import { actorLabel, type Session } from './session.js';
import type { DeleteResult } from './types.js';
import type { ConflictRules } from './vfs-write-conflicts.js';

/** Removes one live entry, a folder with its whole tree (VfsTreeWriter.removeInQueue). */
type Remove = (h: RootHandle, session: Session, head: EntryRow, op: string) => Promise<void>;

const parentOf = (p: string) => p.slice(0, Math.max(0, p.lastIndexOf('/')));

/**
 * A folder's delete by a writer who had seen the root's feed up to `baseSeq` (the sync client: the
 * cursor its folder was in step with when the user deleted it there). A file changed after that
 * seq (made, edited or moved in by someone else meanwhile, or edited on the gateway's disk) is one
 * the writer never saw: it is not deleted, nor are the folders above it, and each such file gets
 * a 'delete-edit' record (invariant 9, as a file's delete with an outdated base version). The rest
 * goes, each part the largest folder holding nothing kept, so a delete that meets nothing new is
 * the one folder change it always was. Called inside the root's queue, the folder's locks checked.
 */
export async function removeFolderSeenAt(ctx: CoreContext, reconciler: Reconciler, conflicts: ConflictRules, remove: Remove, h: RootHandle, session: Session, folder: EntryRow, baseSeq: number): Promise<DeleteResult> {
  // Edits made on the gateway's disk are recorded first: they are changes after the base too.
  await reconciler.scan(h, folder.path);
  const live = ctx.files.subtree(h.row.id, folder.path);
  const newer = live.filter((e) => e.kind === 'file' && e.seq > baseSeq);
  if (newer.length === 0) {
    await remove(h, session, folder, 'delete');
    return { kept: [], conflicts: [] };
  }
  const held = new Set<string>();
  for (const e of newer) for (let p = e.path; isWithin(p, folder.path) && !held.has(p); p = parentOf(p)) held.add(p);
  // In depth order (FilesRepo.subtree): an entry goes whole when its folder stays, which leaves out
  // whatever lies below an entry already gone.
  for (const e of live) if (!held.has(e.path) && held.has(parentOf(e.path))) await remove(h, session, e, 'delete');
  // The same delete meeting the same version again (a client that cannot bring the file back, or
  // the folder above it deleted next) is the conflict already recorded, not one more to resolve.
  const device = actorLabel(session);
  const open = ctx.conflicts.list(h.row.id).filter((c) => c.kind === 'delete-edit' && c.deviceName === device);
  const out: DeleteResult = { kept: [], conflicts: [] };
  for (const e of newer) {
    out.kept.push(entryInfo(h.row.name, e));
    const same = open.find((c) => c.path === e.path && c.serverVersion === e.version);
    out.conflicts.push(same ? conflictInfo(h.row.name, same) : conflicts.record(h, session, { kind: 'delete-edit', kept: 'server', path: e.path, baseVersion: 0, serverVersion: e.version, incomingHash: '' }));
  }
  return out;
}
