import type { EntryRow } from '../db/files-repo.js';
import type { StagedFile } from '../storage/content-store.js';
import type { CoreContext } from './context.js';
import { fromFsError } from './errors.js';
import type { RootHandle } from './roots.js';

// What a write (VfsWriter.writeFile) does when it cannot finish: the live tree must never show
// content whose record is not there, and a staged file that cannot be made durable is dropped.

/** Puts back what `live` showed before an install whose record failed: the head's content, or nothing. */
export async function undoInstall(ctx: CoreContext, h: RootHandle, rel: string, live: string, head: EntryRow | undefined): Promise<void> {
  try {
    if (head) await ctx.store.putBack(head.hash, live);
    else await ctx.store.removeLive(live);
  } catch (err) {
    // Left as it is, nothing is lost: the next scan records the file on disk as a `local` version.
    ctx.log.warn({ err, root: h.row.name, path: rel }, 'an unrecorded upload could not be taken back');
  }
}

/** After a failed group commit: takes the install back if its record is gone and the file is still ours. */
export async function undoUncommitted(ctx: CoreContext, h: RootHandle, rel: string, live: string, replaced: EntryRow | undefined, beforeVersion: number | undefined, ino: number): Promise<void> {
  // Only when the record is what it was before this write (else it was committed after all, or
  // changed since) and the live file is still the one installed.
  if (ctx.files.entry(h.row.id, rel)?.version !== beforeVersion) return;
  if ((await ctx.store.statPath(live))?.ino !== ino) return;
  await undoInstall(ctx, h, rel, live, replaced);
}

/** Waits for a staged file's content sync; on failure the staged file is dropped and the error told. */
export async function contentSynced(ctx: CoreContext, staged: StagedFile, rel: string): Promise<void> {
  try {
    await staged.synced;
  } catch (err) {
    await ctx.store.discard(staged.tempPath);
    fromFsError(err, rel);
  }
}
