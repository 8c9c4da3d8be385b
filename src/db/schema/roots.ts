import { sql } from 'drizzle-orm';
import { integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { users } from './accounts.js';

const now = sql`(cast(unixepoch('subsec') * 1000 as integer))`;

export const roots = sqliteTable('roots', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique(),
  dir: text('dir').notNull(),
  ownerId: integer('owner_id').references(() => users.id, { onDelete: 'set null' }),
  /** JSON of RetentionPolicy. */
  retention: text('retention').notNull().default('{"mode":"all"}'),
  /** What an outdated base does here (ConflictPolicy in src/core/types.ts): decided in the core for every door. */
  conflictPolicy: text('conflict_policy', { enum: ['keep-both', 'newest-wins', 'server-wins'] }).notNull().default('keep-both'),
  createdAt: integer('created_at').notNull().default(now),
});

/** A user's access to a root that is not theirs (or to any root, for non-owners). */
export const grants = sqliteTable(
  'grants',
  {
    rootId: integer('root_id').notNull().references(() => roots.id, { onDelete: 'cascade' }),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    mode: text('mode', { enum: ['read', 'write'] }).notNull(),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.rootId, t.userId] })],
);
