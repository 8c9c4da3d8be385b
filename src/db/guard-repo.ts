import { eq, lte, and, sql } from 'drizzle-orm';
import type { Db } from './index.js';
import { loginFailures } from './schema/index.js';

export type LoginFailureRow = typeof loginFailures.$inferSelect;

/** The login guard's counts and bans (see core/guard.ts): one small row per key. */
export class LoginFailuresRepo {
  private readonly q;

  constructor(private readonly db: Db) {
    const p = sql.placeholder;
    this.q = {
      upsert: db
        .insert(loginFailures)
        .values({ key: p('key'), failures: p('failures'), firstAt: p('firstAt'), bannedUntil: p('bannedUntil') })
        .onConflictDoUpdate({ target: loginFailures.key, set: { failures: sql`excluded.failures`, firstAt: sql`excluded.first_at`, bannedUntil: sql`excluded.banned_until` } })
        .prepare(),
      remove: db.delete(loginFailures).where(eq(loginFailures.key, p('key'))).prepare(),
    };
  }

  /** Drops rows whose window began before `windowStart` and whose ban is over, then returns the rest. */
  live(now: number, windowStart: number): LoginFailureRow[] {
    this.db.delete(loginFailures).where(and(lte(loginFailures.firstAt, windowStart), lte(loginFailures.bannedUntil, now))).run();
    return this.db.select().from(loginFailures).all();
  }

  save(row: LoginFailureRow): void {
    this.q.upsert.run(row);
  }

  remove(key: string): void {
    this.q.remove.run({ key });
  }
}
