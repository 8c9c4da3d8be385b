import { and, asc, eq, sql } from 'drizzle-orm';
import type { Db } from './index.js';
import { conflicts } from './schema/index.js';

export type ConflictRow = typeof conflicts.$inferSelect;

/** Conflict records: a copy made, an edit that met a delete, a delete that met an edit; and their resolution. */
export class ConflictsRepo {
  constructor(private readonly db: Db) {}

  add(row: typeof conflicts.$inferInsert): ConflictRow {
    return this.db.insert(conflicts).values(row).returning().get();
  }

  list(rootId: number, includeResolved = false): ConflictRow[] {
    const cond = includeResolved
      ? eq(conflicts.rootId, rootId)
      : and(eq(conflicts.rootId, rootId), sql`${conflicts.resolvedAt} is null`);
    return this.db.select().from(conflicts).where(cond).orderBy(asc(conflicts.id)).all();
  }

  get(rootId: number, id: number): ConflictRow | undefined {
    return this.db.select().from(conflicts).where(and(eq(conflicts.rootId, rootId), eq(conflicts.id, id))).get();
  }

  resolve(id: number, resolution: string): void {
    this.db.update(conflicts).set({ resolvedAt: Date.now(), resolution }).where(eq(conflicts.id, id)).run();
  }
}
