import { sql } from 'drizzle-orm';
import { integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { devices, users } from './accounts.js';
import { roots } from './roots.js';

const now = sql`(cast(unixepoch('subsec') * 1000 as integer))`;

/**
 * How far each device has applied each root's change feed, and when it last said so: the server
 * knows which device is behind and by how much (root seq - cursor).
 */
export const deviceCursors = sqliteTable(
  'device_cursors',
  {
    deviceId: integer('device_id').notNull().references(() => devices.id, { onDelete: 'cascade' }),
    rootId: integer('root_id').notNull().references(() => roots.id, { onDelete: 'cascade' }),
    cursor: integer('cursor').notNull().default(0),
    updatedAt: integer('updated_at').notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.deviceId, t.rootId] })],
);

/** One-time pairing codes (`syncgate device pair`): short-lived, single use, only a hash kept. */
export const pairingCodes = sqliteTable('pairing_codes', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  codeHash: text('code_hash').notNull().unique(),
  expiresAt: integer('expires_at').notNull(),
  usedAt: integer('used_at'),
  createdAt: integer('created_at').notNull().default(now),
});
