import { and, eq, isNull } from 'drizzle-orm';
import { tx } from '../db/index.js';
import { atOrBelow } from '../db/path-range.js';
import { shareLinks } from '../db/schema/shares.js';
import type { CoreContext } from './context.js';

/*
 * A share link belongs to the entry it was made for, not to its path. Entries rows are per path
 * (a move records the entry under another row, a new file at a deleted path reuses the old row), so
 * there is no stable entry id to keep in the link: the writer tells the links instead, as the
 * changes are recorded. ShareLinks.open also refuses a link whose path holds no live entry of its
 * kind, for what no record told (a link older than this rule, a change made while stopped).
 */

/**
 * Links to a moved file or folder, or to something inside a moved folder, follow it (as Nextcloud's
 * and Seafile's do): a link names what was shared, not where it was. Called by the move itself,
 * under the root's mutex. A move to another root is a copy and a delete: the link does not follow.
 */
export function followMove(ctx: CoreContext, rootId: number, from: string, to: string): void {
  const rows = ctx.db.select({ id: shareLinks.id, path: shareLinks.path }).from(shareLinks).where(and(eq(shareLinks.rootId, rootId), atOrBelow(shareLinks.path, from))).all();
  if (rows.length === 0) return;
  tx(ctx.db, () => {
    for (const r of rows) ctx.db.update(shareLinks).set({ path: to + r.path.slice(from.length) }).where(eq(shareLinks.id, r.id)).run();
  });
}

/**
 * A link ends with the entry it was made for: a delete (from any door, the watcher, or a move or
 * copy that replaces it) ends every link to a deleted path, so whatever is put at that path later
 * is not served by the old link. Moves are not deletes here: their 'move-out' records leave the
 * links to followMove. One query per batch of changes that deletes anything.
 */
export function endLinksOfDeleted(ctx: CoreContext, rootId: number, changes: readonly { path: string; deleted: boolean; op: string }[], now = Date.now()): void {
  const gone = new Set<string>();
  for (const c of changes) if (c.deleted && c.op !== 'move-out') gone.add(c.path);
  if (gone.size === 0) return;
  const live = ctx.db
    .select({ id: shareLinks.id, path: shareLinks.path })
    .from(shareLinks)
    .where(and(eq(shareLinks.rootId, rootId), isNull(shareLinks.endedAt)))
    .all()
    .filter((r) => gone.has(r.path));
  if (live.length === 0) return;
  tx(ctx.db, () => {
    for (const r of live) ctx.db.update(shareLinks).set({ endedAt: now }).where(eq(shareLinks.id, r.id)).run();
  });
  ctx.log.info({ rootId, links: live.map((r) => r.id) }, 'share links ended with their deleted entries');
}
