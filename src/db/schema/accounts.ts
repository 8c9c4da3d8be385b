import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

const now = sql`(cast(unixepoch('subsec') * 1000 as integer))`;

export const users = sqliteTable('users', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique(),
  passwordHash: text('password_hash').notNull(),
  isAdmin: integer('is_admin', { mode: 'boolean' }).notNull().default(false),
  disabled: integer('disabled', { mode: 'boolean' }).notNull().default(false),
  createdAt: integer('created_at').notNull().default(now),
});

/** Personal API tokens (app passwords); only a SHA-256 of the 256-bit secret is kept. */
export const apiTokens = sqliteTable(
  'api_tokens',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: integer('created_at').notNull().default(now),
    lastUsedAt: integer('last_used_at'),
    revokedAt: integer('revoked_at'),
  },
  (t) => [index('api_tokens_user').on(t.userId)],
);

/** Login sessions (browser cookie or bearer token). */
export const loginSessions = sqliteTable('login_sessions', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  tokenHash: text('token_hash').notNull().unique(),
  createdAt: integer('created_at').notNull().default(now),
  expiresAt: integer('expires_at').notNull(),
  lastAddress: text('last_address'),
  /** Last request made with it (updated at most once a minute): the idle timeout counts from here. */
  lastSeenAt: integer('last_seen_at'),
});

/** Companion client installations, registered by the uuid they made. */
export const devices = sqliteTable(
  'devices',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    uuid: text('uuid').notNull(),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    tokenHash: text('token_hash').unique(),
    lastAddress: text('last_address'),
    lastSeenAt: integer('last_seen_at'),
    createdAt: integer('created_at').notNull().default(now),
    revokedAt: integer('revoked_at'),
    /**
     * The API token whose session registered it (`client login --token`), or null (a password or a
     * pairing code): revoking the token revokes the device, or a leaked token's device outlived it.
     * Tokens are deleted only with their user, whose devices go too (no ON DELETE action needed).
     */
    apiTokenId: integer('api_token_id').references(() => apiTokens.id),
  },
  (t) => [uniqueIndex('devices_user_uuid').on(t.userId, t.uuid)],
);
