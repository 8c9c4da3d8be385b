import { and, eq, lt, sql } from 'drizzle-orm';
import type { Db } from './index.js';
import { locks } from './schema/index.js';

export type LockRow = typeof locks.$inferSelect;
export type NewLock = typeof locks.$inferInsert;

/** WebDAV locks, by root; every write of every door asks whether its root has any. */
export class LocksRepo {
  private readonly byRoot;
  /** Whether a root has any lock row (one cheap read, no rows mapped). */
  private readonly anyInRoot;

  constructor(private readonly db: Db) {
    this.byRoot = db.select().from(locks).where(eq(locks.rootId, sql.placeholder('rootId'))).prepare();
    this.anyInRoot = db.$client.prepare<[number], number>('SELECT 1 FROM locks WHERE root_id = ? LIMIT 1').pluck();
  }

  hasAny(rootId: number): boolean {
    return this.anyInRoot.get(rootId) !== undefined;
  }

  ofRoot(rootId: number): LockRow[] {
    return this.byRoot.all({ rootId });
  }

  deleteExpired(now: number): void {
    this.db.delete(locks).where(lt(locks.expiresAt, now)).run();
  }

  insert(lock: NewLock): LockRow {
    return this.db.insert(locks).values(lock).returning().get();
  }

  refresh(token: string, timeoutSec: number, expiresAt: number): LockRow | undefined {
    return this.db.update(locks).set({ timeoutSec, expiresAt }).where(eq(locks.token, token)).returning().get();
  }

  delete(token: string, rootId?: number): void {
    this.db.delete(locks).where(rootId === undefined ? eq(locks.token, token) : and(eq(locks.token, token), eq(locks.rootId, rootId))).run();
  }
}
