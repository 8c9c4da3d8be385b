import { SharesRepo } from '../db/shares-repo.js';
import type { CoreContext } from './context.js';

/**
 * A user whose grant on a root drops below write (or goes) may no longer share it: the links they
 * made into it are revoked, not suspended. Raising the grant again later does not bring them back,
 * so an owner who lowered a grant never finds old public links alive again without a word; the
 * user makes new ones. (The root's owner sees and manages these links all along.)
 */
export function revokeLinksOfCreator(ctx: CoreContext, rootId: number, userId: number): void {
  const revoked = new SharesRepo(ctx.db).revokeOfCreator(rootId, userId, ctx.now());
  if (revoked > 0) ctx.log.info({ root: rootId, user: userId, links: revoked }, 'share links revoked: their creator may no longer share this root');
}

/**
 * Links to a moved file or folder, or to something inside a moved folder, follow it (as Nextcloud's
 * and Seafile's do): a link names what was shared, not where it was. Called by the move itself,
 * under the root's mutex. A move to another root is a copy and a delete: the link does not follow.
 */
export function followMove(ctx: CoreContext, rootId: number, from: string, to: string): void {
  const repo = new SharesRepo(ctx.db);
  const rows = repo.atOrBelow(rootId, from);
  if (rows.length === 0) return;
  repo.setPaths(rows.map((r) => ({ id: r.id, path: to + r.path.slice(from.length) })));
}

/**
 * A link ends with the entry it was made for: a delete (from any door, the watcher, or a move or
 * copy that replaces it) ends every link to a deleted path, so whatever is put at that path later
 * is not served by the old link. Moves are not deletes here: their 'move-out' records leave the
 * links to followMove. One query per batch of changes that deletes anything.
 */
export function endLinksOfDeleted(ctx: CoreContext, rootId: number, changes: readonly { path: string; deleted: boolean; op: string }[], now?: number): void {
  // Nothing made (no set, no clock read) for the usual batch, which deletes nothing.
  let gone: Set<string> | undefined;
  for (const c of changes) if (c.deleted && c.op !== 'move-out') (gone ??= new Set()).add(c.path);
  if (!gone) return;
  const paths = gone;
  endLive(ctx, rootId, (p) => paths.has(p), now);
}

/**
 * The same for a folder deleted as one change (every path at or below `path` deleted): its links and
 * those to anything in it end, found by the path range instead of one path each.
 */
export function endLinksBelow(ctx: CoreContext, rootId: number, path: string, now?: number): void {
  endLive(ctx, rootId, (p) => path === '' || p === path || p.startsWith(`${path}/`), now);
}

/** Ends the root's live links whose path `ended` names. */
function endLive(ctx: CoreContext, rootId: number, ended: (path: string) => boolean, now?: number): void {
  const repo = new SharesRepo(ctx.db);
  const live = repo.liveOfRoot(rootId).filter((r) => ended(r.path));
  if (live.length === 0) return;
  repo.setEnded(live.map((r) => r.id), now ?? ctx.now());
  ctx.log.info({ rootId, links: live.map((r) => r.id) }, 'share links ended with their deleted entries');
}
