import { and, eq, gt, isNull } from 'drizzle-orm';
import type { Db } from './index.js';
import { deviceCursors, pairingCodes } from './schema/index.js';

export type DeviceCursorRow = typeof deviceCursors.$inferSelect;

/** Per-device cursors of the change feed, and pairing codes. */
export class DevicesRepo {
  constructor(private readonly db: Db) {}

  setCursor(deviceId: number, rootId: number, cursor: number): void {
    const updatedAt = Date.now();
    this.db
      .insert(deviceCursors)
      .values({ deviceId, rootId, cursor, updatedAt })
      .onConflictDoUpdate({ target: [deviceCursors.deviceId, deviceCursors.rootId], set: { cursor, updatedAt } })
      .run();
  }

  cursorsOf(deviceId: number): DeviceCursorRow[] {
    return this.db.select().from(deviceCursors).where(eq(deviceCursors.deviceId, deviceId)).all();
  }

  addPairingCode(userId: number, codeHash: string, expiresAt: number): void {
    this.db.insert(pairingCodes).values({ userId, codeHash, expiresAt }).run();
  }

  /** Marks a valid code used and returns its user; undefined if unknown, used or expired. */
  consumePairingCode(codeHash: string, now: number): number | undefined {
    const row = this.db
      .update(pairingCodes)
      .set({ usedAt: now })
      .where(and(eq(pairingCodes.codeHash, codeHash), isNull(pairingCodes.usedAt), gt(pairingCodes.expiresAt, now)))
      .returning()
      .get();
    return row?.userId;
  }
}
