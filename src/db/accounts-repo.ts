import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from './index.js';
import { apiTokens, devices, loginSessions, users } from './schema/index.js';

export type UserRow = typeof users.$inferSelect;
export type ApiTokenRow = typeof apiTokens.$inferSelect;
export type DeviceRow = typeof devices.$inferSelect;
export type LoginSessionRow = typeof loginSessions.$inferSelect;

export class AccountsRepo {
  // Prepared once: the lookups below run on every request, and building a drizzle query each
  // time cost about 100 µs, more than the query.
  private readonly q;

  constructor(private readonly db: Db) {
    const p = sql.placeholder;
    this.q = {
      userByName: db.select().from(users).where(eq(users.name, p('name'))).prepare(),
      userById: db.select().from(users).where(eq(users.id, p('id'))).prepare(),
      tokenByHash: db.select().from(apiTokens).where(and(eq(apiTokens.tokenHash, p('hash')), isNull(apiTokens.revokedAt))).prepare(),
      loginSessionByHash: db.select().from(loginSessions).where(eq(loginSessions.tokenHash, p('hash'))).prepare(),
      deviceByTokenHash: db.select().from(devices).where(and(eq(devices.tokenHash, p('hash')), isNull(devices.revokedAt))).prepare(),
    };
  }

  createUser(name: string, passwordHash: string, isAdmin: boolean): UserRow {
    return this.db.insert(users).values({ name, passwordHash, isAdmin }).returning().get();
  }
  userByName(name: string): UserRow | undefined {
    return this.q.userByName.get({ name });
  }
  userById(id: number): UserRow | undefined {
    return this.q.userById.get({ id });
  }
  users(): UserRow[] {
    return this.db.select().from(users).orderBy(asc(users.name)).all();
  }
  updateUser(id: number, set: Partial<Pick<UserRow, 'passwordHash' | 'disabled' | 'isAdmin'>>): void {
    this.db.update(users).set(set).where(eq(users.id, id)).run();
  }
  deleteUser(id: number): void {
    this.db.delete(users).where(eq(users.id, id)).run();
  }

  addToken(userId: number, name: string, tokenHash: string): ApiTokenRow {
    return this.db.insert(apiTokens).values({ userId, name, tokenHash }).returning().get();
  }
  tokenByHash(tokenHash: string): ApiTokenRow | undefined {
    return this.q.tokenByHash.get({ hash: tokenHash });
  }
  tokensOf(userId: number): ApiTokenRow[] {
    return this.db.select().from(apiTokens).where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt))).all();
  }
  /** Revokes the token and, in the same transaction, the devices its sessions registered. */
  revokeToken(userId: number, id: number): boolean {
    return this.db.transaction((tx) => {
      const now = Date.now();
      const r = tx
        .update(apiTokens)
        .set({ revokedAt: now })
        .where(and(eq(apiTokens.id, id), eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
        .run();
      if (r.changes === 0) return false;
      tx.update(devices)
        .set({ revokedAt: now, tokenHash: null })
        .where(and(eq(devices.userId, userId), eq(devices.apiTokenId, id), isNull(devices.revokedAt)))
        .run();
      return true;
    });
  }
  touchToken(id: number, at: number): void {
    this.db.update(apiTokens).set({ lastUsedAt: at }).where(eq(apiTokens.id, id)).run();
  }

  addLoginSession(userId: number, tokenHash: string, expiresAt: number, address: string | null, now: number = Date.now()): LoginSessionRow {
    return this.db.insert(loginSessions).values({ userId, tokenHash, expiresAt, lastAddress: address, lastSeenAt: now }).returning().get();
  }
  seeLoginSession(id: number, at: number): void {
    this.db.update(loginSessions).set({ lastSeenAt: at }).where(eq(loginSessions.id, id)).run();
  }
  loginSessionByHash(tokenHash: string): LoginSessionRow | undefined {
    return this.q.loginSessionByHash.get({ hash: tokenHash });
  }
  deleteLoginSession(tokenHash: string): void {
    this.db.delete(loginSessions).where(eq(loginSessions.tokenHash, tokenHash)).run();
  }
  deleteLoginSessionsOf(userId: number): void {
    this.db.delete(loginSessions).where(eq(loginSessions.userId, userId)).run();
  }

  /** `apiTokenId`: the API token whose session registers it, or null; a re-registration sets it anew. */
  upsertDevice(userId: number, uuid: string, name: string, tokenHash: string | null, address: string | null, apiTokenId: number | null = null): DeviceRow {
    return this.db
      .insert(devices)
      .values({ userId, uuid, name, tokenHash, lastAddress: address, lastSeenAt: Date.now(), apiTokenId })
      .onConflictDoUpdate({
        target: [devices.userId, devices.uuid],
        set: { name, lastAddress: address, lastSeenAt: Date.now(), revokedAt: null, apiTokenId, ...(tokenHash ? { tokenHash } : {}) },
      })
      .returning()
      .get();
  }
  deviceById(id: number): DeviceRow | undefined {
    return this.db.select().from(devices).where(eq(devices.id, id)).get();
  }
  deviceByTokenHash(tokenHash: string): DeviceRow | undefined {
    return this.q.deviceByTokenHash.get({ hash: tokenHash });
  }
  devicesOf(userId: number): DeviceRow[] {
    return this.db.select().from(devices).where(eq(devices.userId, userId)).orderBy(asc(devices.name)).all();
  }
  seeDevice(id: number, address: string | null, at: number): void {
    this.db.update(devices).set({ lastSeenAt: at, lastAddress: address }).where(eq(devices.id, id)).run();
  }
  revokeDevice(userId: number, id: number): boolean {
    const r = this.db
      .update(devices)
      .set({ revokedAt: Date.now(), tokenHash: null })
      .where(and(eq(devices.id, id), eq(devices.userId, userId)))
      .run();
    return r.changes > 0;
  }
}
