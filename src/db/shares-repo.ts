import type Database from 'better-sqlite3';
import { and, desc, eq, isNull, lt, sql } from 'drizzle-orm';
import { tx, type Db } from './index.js';
import { shareAccesses, shareLinks } from './schema/shares.js';

export type LinkRow = typeof shareLinks.$inferSelect;
export type NewLink = typeof shareLinks.$inferInsert;
export type AccessRow = typeof shareAccesses.$inferSelect;
export type NewAccess = typeof shareAccesses.$inferInsert;

/** Share links and their access log. */
export class SharesRepo {
  constructor(private readonly db: Db) {}

  insert(link: NewLink): LinkRow {
    return this.db.insert(shareLinks).values(link).returning().get();
  }

  byId(id: number): LinkRow | undefined {
    return this.db.select().from(shareLinks).where(eq(shareLinks.id, id)).get();
  }

  byTokenHash(hash: string): LinkRow | undefined {
    return this.db.select().from(shareLinks).where(eq(shareLinks.tokenHash, hash)).get();
  }

  /** Every link, newest first. */
  all(): LinkRow[] {
    return this.db.select().from(shareLinks).orderBy(desc(shareLinks.id)).all();
  }

  setRevoked(id: number, at: number): void {
    this.db.update(shareLinks).set({ revokedAt: at }).where(eq(shareLinks.id, id)).run();
  }

  /** Revokes the live links a user made into a root; how many. */
  revokeOfCreator(rootId: number, userId: number, at: number): number {
    return this.db
      .update(shareLinks)
      .set({ revokedAt: at })
      .where(and(eq(shareLinks.rootId, rootId), eq(shareLinks.createdBy, userId), isNull(shareLinks.revokedAt)))
      .run().changes;
  }

  setEnded(ids: number[], at: number): void {
    tx(this.db, () => {
      for (const id of ids) this.db.update(shareLinks).set({ endedAt: at }).where(eq(shareLinks.id, id)).run();
    });
  }

  /** Counts one use unless the link is revoked, ended or (with a limit) used up; false when refused. */
  takeUse(id: number, limit: number | null): boolean {
    const res = this.db
      .update(shareLinks)
      .set({ downloads: sql`${shareLinks.downloads} + 1` })
      .where(and(eq(shareLinks.id, id), isNull(shareLinks.revokedAt), isNull(shareLinks.endedAt), limit === null ? undefined : lt(shareLinks.downloads, limit)))
      .run();
    return res.changes > 0;
  }

  giveUseBack(id: number): void {
    this.db
      .update(shareLinks)
      .set({ downloads: sql`max(${shareLinks.downloads} - 1, 0)` })
      .where(eq(shareLinks.id, id))
      .run();
  }

  /** Links of a root at or below a path. */
  atOrBelow(rootId: number, path: string): { id: number; path: string }[] {
    if (path === '') return this.db.select({ id: shareLinks.id, path: shareLinks.path }).from(shareLinks).where(eq(shareLinks.rootId, rootId)).all();
    // Asked by every move: prepared once per connection (the drizzle query built each time was about
    // 1 ms of a 1,000-file folder MOVE). The range form of files-tree.ts SUBTREE.
    const c = this.db.$client;
    let q = atOrBelowQuery.get(c);
    if (!q) {
      q = c.prepare<{ root: number; path: string }, { id: number; path: string }>(
        "SELECT id, path FROM share_links WHERE root_id = @root AND path >= @path AND path < @path || '0' AND (path = @path OR path >= @path || '/')",
      );
      atOrBelowQuery.set(c, q);
    }
    return q.all({ root: rootId, path });
  }

  /** Links of a root that have not ended. */
  liveOfRoot(rootId: number): { id: number; path: string }[] {
    // Asked by every delete (core/shares.ts endLinksOfDeleted): a statement prepared once per
    // connection, not a drizzle query built each time (a tenth of an FTP DELE's CPU).
    const c = this.db.$client;
    let q = liveOfRootQuery.get(c);
    if (!q) liveOfRootQuery.set(c, (q = c.prepare<[number], { id: number; path: string }>('SELECT id, path FROM share_links WHERE root_id = ? AND ended_at IS NULL')));
    return q.all(rootId);
  }

  setPaths(moves: { id: number; path: string }[]): void {
    tx(this.db, () => {
      for (const m of moves) this.db.update(shareLinks).set({ path: m.path }).where(eq(shareLinks.id, m.id)).run();
    });
  }

  logAccess(access: NewAccess): void {
    this.db.insert(shareAccesses).values(access).run();
  }

  /** Removes a link's access entries older than its newest `keep` (by the share_id index, newest first). */
  pruneAccesses(shareId: number, keep: number): void {
    this.db
      .delete(shareAccesses)
      .where(
        and(
          eq(shareAccesses.shareId, shareId),
          sql`${shareAccesses.id} <= (select id from share_accesses where share_id = ${shareId} order by id desc limit 1 offset ${keep})`,
        ),
      )
      .run();
  }

  accesses(id: number, limit: number): AccessRow[] {
    return this.db.select().from(shareAccesses).where(eq(shareAccesses.shareId, id)).orderBy(desc(shareAccesses.id)).limit(limit).all();
  }
}

const atOrBelowQuery = new WeakMap<Database.Database, Database.Statement<{ root: number; path: string }, { id: number; path: string }>>();
const liveOfRootQuery = new WeakMap<Database.Database, Database.Statement<[number], { id: number; path: string }>>();
