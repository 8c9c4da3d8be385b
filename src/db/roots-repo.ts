import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db } from './index.js';
import { grants, roots, users } from './schema/index.js';

export type RootRow = typeof roots.$inferSelect;
export type GrantRow = typeof grants.$inferSelect;
/** A roots row as byName reads it: its columns in the schema's order. */
type RootValues = [RootRow['id'], RootRow['name'], RootRow['dir'], RootRow['ownerId'], RootRow['retention'], RootRow['conflictPolicy'], RootRow['createdAt']];

export class RootsRepo {
  private readonly q;
  private readonly byNameRaw;

  constructor(private readonly db: Db) {
    const p = sql.placeholder;
    this.q = {
      grantOf: db.select().from(grants).where(and(eq(grants.rootId, p('rootId')), eq(grants.userId, p('userId')))).prepare(),
    };
    // Read by every request of every door: on better-sqlite3 directly, without drizzle's mapping per
    // call, and as an array (raw) made into the row below. In object mode better-sqlite3 sets each
    // column on a new object by name, a property transition per column: in a cold request (a big
    // GET after a PUT) that made this one lookup cost three times the entry's, which is read raw.
    this.byNameRaw = db.$client.prepare<[string], RootValues>('SELECT id, name, dir, owner_id, retention, conflict_policy, created_at FROM roots WHERE name = ?').raw(true);
  }

  create(name: string, dir: string, ownerId: number | null, retention: string): RootRow {
    return this.db.insert(roots).values({ name, dir, ownerId, retention }).returning().get();
  }

  byName(name: string): RootRow | undefined {
    const v = this.byNameRaw.get(name);
    return v && { id: v[0], name: v[1], dir: v[2], ownerId: v[3], retention: v[4], conflictPolicy: v[5], createdAt: v[6] };
  }

  byId(id: number): RootRow | undefined {
    return this.db.select().from(roots).where(eq(roots.id, id)).get();
  }

  all(): RootRow[] {
    return this.db.select().from(roots).orderBy(asc(roots.name)).all();
  }

  remove(id: number): void {
    this.db.delete(roots).where(eq(roots.id, id)).run();
  }

  setRetention(id: number, retention: string): void {
    this.db.update(roots).set({ retention }).where(eq(roots.id, id)).run();
  }

  setConflictPolicy(id: number, conflictPolicy: RootRow['conflictPolicy']): void {
    this.db.update(roots).set({ conflictPolicy }).where(eq(roots.id, id)).run();
  }

  grant(rootId: number, userId: number, mode: 'read' | 'write'): void {
    this.db
      .insert(grants)
      .values({ rootId, userId, mode })
      .onConflictDoUpdate({ target: [grants.rootId, grants.userId], set: { mode } })
      .run();
  }

  revoke(rootId: number, userId: number): void {
    this.db.delete(grants).where(and(eq(grants.rootId, rootId), eq(grants.userId, userId))).run();
  }

  grantOf(rootId: number, userId: number): GrantRow | undefined {
    return this.q.grantOf.get({ rootId, userId });
  }

  grantsOfRoot(rootId: number): { userId: number; userName: string; mode: 'read' | 'write' }[] {
    return this.db
      .select({ userId: grants.userId, userName: users.name, mode: grants.mode })
      .from(grants)
      .innerJoin(users, eq(users.id, grants.userId))
      .where(eq(grants.rootId, rootId))
      .orderBy(asc(users.name))
      .all();
  }

  grantsOfUser(userId: number): GrantRow[] {
    return this.db.select().from(grants).where(eq(grants.userId, userId)).all();
  }
}
