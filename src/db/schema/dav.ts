import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { roots } from './roots.js';
import { users } from './accounts.js';

const now = sql`(cast(unixepoch('subsec') * 1000 as integer))`;

/** Locks (WebDAV LOCK, respected by every door). */
export const locks = sqliteTable(
  'locks',
  {
    token: text('token').primaryKey(),
    rootId: integer('root_id').notNull().references(() => roots.id, { onDelete: 'cascade' }),
    path: text('path').notNull(),
    depth: text('depth', { enum: ['0', 'infinity'] }).notNull(),
    scope: text('scope', { enum: ['exclusive', 'shared'] }).notNull(),
    userId: integer('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
    /** The client's <D:owner> XML, returned verbatim in lockdiscovery. */
    owner: text('owner').notNull().default(''),
    timeoutSec: integer('timeout_sec').notNull(),
    expiresAt: integer('expires_at').notNull(),
    createdAt: integer('created_at').notNull().default(now),
  },
  (t) => [index('locks_root_path').on(t.rootId, t.path)],
);

/** Dead properties (WebDAV PROPPATCH), moved and copied with their path. */
export const properties = sqliteTable(
  'properties',
  {
    rootId: integer('root_id').notNull().references(() => roots.id, { onDelete: 'cascade' }),
    path: text('path').notNull(),
    namespace: text('namespace').notNull(),
    name: text('name').notNull(),
    /** The property's inner XML, stored verbatim. */
    value: text('value').notNull(),
  },
  (t) => [primaryKey({ columns: [t.rootId, t.path, t.namespace, t.name] })],
);
