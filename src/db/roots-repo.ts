import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db } from './index.js';
import { grants, roots, users } from './schema/index.js';

export type RootRow = typeof roots.$inferSelect;
export type GrantRow = typeof grants.$inferSelect;

export class RootsRepo {
  private readonly q;
  private readonly byNameRaw;

  constructor(private readonly db: Db) {
    const p = sql.placeholder;
    this.q = {
      grantOf: db.select().from(grants).where(and(eq(grants.rootId, p('rootId')), eq(grants.userId, p('userId')))).prepare(),
    };
    // Read by every request of every door: on better-sqlite3 directly, columns named as drizzle
    // names them (plain text and integers, nothing to convert), without drizzle's mapping per call.
    this.byNameRaw = db.$client.prepare<[string], RootRow>('SELECT id, name, dir, owner_id AS ownerId, retention, conflict_policy AS conflictPolicy, created_at AS createdAt FROM roots WHERE name = ?');
  }

  create(name: string, dir: string, ownerId: number | null, retention: string): RootRow {
    return this.db.insert(roots).values({ name, dir, ownerId, retention }).returning().get();
  }

  byName(name: string): RootRow | undefined {
    return this.byNameRaw.get(name);
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
