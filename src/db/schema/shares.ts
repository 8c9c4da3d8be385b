import { sql } from 'drizzle-orm';
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { roots } from './roots.js';
import { users } from './accounts.js';

const now = sql`(cast(unixepoch('subsec') * 1000 as integer))`;

/**
 * Public share links; only a SHA-256 of the random token is stored. A link belongs to the entry it
 * was made for, not to its path: entries rows are per path (a move records the entry under another
 * row, a new file at a deleted path reuses the old row), so there is no entry id to keep. The core
 * follows the entry instead: a move rewrites `path`, a delete sets `endedAt` (see core/shares.ts).
 */
export const shareLinks = sqliteTable('share_links', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  tokenHash: text('token_hash').notNull().unique(),
  rootId: integer('root_id').notNull().references(() => roots.id, { onDelete: 'cascade' }),
  path: text('path').notNull(),
  kind: text('kind', { enum: ['file', 'dir'] }).notNull(),
  createdBy: integer('created_by').notNull().references(() => users.id, { onDelete: 'cascade' }),
  createdAt: integer('created_at').notNull().default(now),
  expiresAt: integer('expires_at'),
  passwordHash: text('password_hash'),
  maxDownloads: integer('max_downloads'),
  downloads: integer('downloads').notNull().default(0),
  uploadOnly: integer('upload_only', { mode: 'boolean' }).notNull().default(false),
  revokedAt: integer('revoked_at'),
  /** When the shared entry was deleted: the link ended with it, whatever is put at its path later. */
  endedAt: integer('ended_at'),
}, (t) => [index('share_links_root_path').on(t.rootId, t.path)]);

export const shareAccesses = sqliteTable(
  'share_accesses',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    shareId: integer('share_id').notNull().references(() => shareLinks.id, { onDelete: 'cascade' }),
    at: integer('at').notNull().default(now),
    action: text('action').notNull(),
    address: text('address'),
    userAgent: text('user_agent'),
    bytes: integer('bytes').notNull().default(0),
    path: text('path'),
  },
  (t) => [index('share_accesses_share').on(t.shareId)],
);

/** Resumable uploads in progress (tus, FTP resume, sync client); content lives in data/uploads. */
export const uploads = sqliteTable('uploads', {
  id: text('id').primaryKey(),
  rootId: integer('root_id').notNull().references(() => roots.id, { onDelete: 'cascade' }),
  path: text('path').notNull(),
  userId: integer('user_id').notNull(),
  length: integer('length'),
  offset: integer('offset').notNull().default(0),
  baseVersion: integer('base_version'),
  mtimeMs: integer('mtime_ms'),
  metadata: text('metadata').notNull().default('{}'),
  createdAt: integer('created_at').notNull().default(now),
  expiresAt: integer('expires_at').notNull(),
});
