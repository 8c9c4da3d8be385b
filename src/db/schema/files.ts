import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { roots } from './roots.js';

const now = sql`(cast(unixepoch('subsec') * 1000 as integer))`;

/** The current state (head) of every path ever seen in a root; deleted = tombstone. */
export const entries = sqliteTable(
  'entries',
  {
    // No AUTOINCREMENT (here and in versions): ids are never referenced from outside, and it would
    // cost every write one more page (sqlite_sequence) in the WAL.
    id: integer('id').primaryKey(),
    rootId: integer('root_id').notNull().references(() => roots.id, { onDelete: 'cascade' }),
    path: text('path').notNull(),
    parent: text('parent').notNull(),
    name: text('name').notNull(),
    kind: text('kind', { enum: ['file', 'dir'] }).notNull(),
    size: integer('size').notNull().default(0),
    mtimeMs: integer('mtime_ms').notNull(),
    /** SHA-256 hex of the content; '' for folders. */
    hash: text('hash').notNull().default(''),
    version: integer('version').notNull(),
    deleted: integer('deleted', { mode: 'boolean' }).notNull().default(false),
    seq: integer('seq').notNull(),
    /** Inode and ctime of the live file when recorded: a cheap check that disk still matches. */
    ino: integer('ino').notNull().default(0),
    /** ctime cannot be set back by programs (utimes), so it catches same-size edits that keep mtime. */
    ctimeMs: integer('ctime_ms').notNull().default(0),
    changedAt: integer('changed_at').notNull().default(now),
  },
  (t) => [
    uniqueIndex('entries_root_path').on(t.rootId, t.path),
    // name last: a folder listing is read in name order straight from the index, no sort. Live
    // entries only (every query by parent says `deleted = 0`, as a literal: a bound parameter cannot
    // use a partial index): a tombstone leaves the index instead of moving to another key, which
    // spares a 1,000-file folder's move or delete 1,000 index inserts (UPDATE 1.5 -> 1.06 ms, min).
    index('entries_root_parent_name').on(t.rootId, t.parent, t.deleted, t.name).where(sql`deleted = 0`),
    // No index on hash: heads with a given content are found through versions_hash (every head is
    // also a version), which saves each write a page at a random place of a second hash index.
  ],
);

/** Every version of every path: who made it, from which door, and which content. */
export const versions = sqliteTable(
  'versions',
  {
    id: integer('id').primaryKey(),
    rootId: integer('root_id').notNull().references(() => roots.id, { onDelete: 'cascade' }),
    path: text('path').notNull(),
    version: integer('version').notNull(),
    seq: integer('seq').notNull(),
    op: text('op').notNull(),
    kind: text('kind', { enum: ['file', 'dir'] }).notNull(),
    deleted: integer('deleted', { mode: 'boolean' }).notNull().default(false),
    hash: text('hash').notNull().default(''),
    size: integer('size').notNull().default(0),
    mtimeMs: integer('mtime_ms').notNull(),
    userId: integer('user_id'),
    userName: text('user_name').notNull(),
    deviceId: integer('device_id'),
    deviceName: text('device_name'),
    protocol: text('protocol').notNull(),
    createdAt: integer('created_at').notNull().default(now),
    /** Content removed by the retention policy (before 0013, also content lost on disk). */
    contentGone: integer('content_gone', { mode: 'boolean' }).notNull().default(false),
    /**
     * Content lost to an edit made on disk by another program (Reconciler.noteLost). Unlike a
     * pruned version, a lost one reads again once the same bytes are stored again (content is
     * one per hash): history asks the store whether they are (VfsReader.history).
     */
    contentLost: integer('content_lost', { mode: 'boolean' }).notNull().default(false),
    /**
     * A move's arrival ('move-in'): the path the file came from and its version there when it left.
     * History follows the file through these (HistoryRepo.lineage); null for every other version.
     */
    fromPath: text('from_path'),
    fromVersion: integer('from_version'),
  },
  (t) => [
    uniqueIndex('versions_root_path_version').on(t.rootId, t.path, t.version),
    // Versions that bring content of their own only. A tombstone holds none (the version before it has
    // the same hash), and a move's arrival holds its source version's: both are left out, which spares
    // a folder's delete or move one insert per path at a random place of this index (a 1,000-file
    // MOVE: about 1,000 pages written, half its time). Every query by hash says both terms to use it,
    // and reaches the arrivals from their sources through versions_moved_from (HELD, history-repo.ts).
    index('versions_hash').on(t.hash).where(sql`deleted = 0 AND from_path IS NULL`),
    // A move's arrival by where it came from: written in path order by a folder move (sequential).
    index('versions_moved_from').on(t.rootId, t.fromPath, t.fromVersion).where(sql`from_path IS NOT NULL`),
  ],
);

/**
 * The change feed: one row per seq, gap-free per root; the last row's seq is the root's. Stored
 * WITHOUT ROWID (migration 0003, which drizzle cannot express): the rows live in their primary key,
 * one B-tree instead of a table plus its key index.
 */
export const changes = sqliteTable(
  'changes',
  {
    rootId: integer('root_id').notNull().references(() => roots.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    path: text('path').notNull(),
    op: text('op').notNull(),
    kind: text('kind', { enum: ['file', 'dir'] }).notNull(),
    version: integer('version').notNull(),
    deleted: integer('deleted', { mode: 'boolean' }).notNull().default(false),
    hash: text('hash').notNull().default(''),
    size: integer('size').notNull().default(0),
    mtimeMs: integer('mtime_ms').notNull(),
    oldPath: text('old_path'),
    protocol: text('protocol').notNull(),
    userName: text('user_name').notNull(),
    createdAt: integer('created_at').notNull().default(now),
    /**
     * FOLDER_RECORD: how many seqs this row stands for (1 for a change of one path). A folder's move
     * or delete is one row of `span` = its paths' changes, stored at the last of their seqs (so the
     * root's seq is still the last row's, and "seq > cursor" still finds it), with path = the folder,
     * old_path = where it went, size = how many entries it took, version 0. The per-path changes it
     * stands for are read from the versions the same operation wrote (each path still gets its own
     * version and seq there): ids versions_from .. versions_from + span - 1, contiguous because one
     * synchronous transaction inserted them (FeedRepo.after expands it, files-tree.ts writes it).
     */
    span: integer('span').notNull().default(1),
    versionsFrom: integer('versions_from'),
  },
  (t) => [primaryKey({ columns: [t.rootId, t.seq] })],
);

export const conflicts = sqliteTable(
  'conflicts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    rootId: integer('root_id').notNull().references(() => roots.id, { onDelete: 'cascade' }),
    path: text('path').notNull(),
    /**
     * incoming-server: 'edit-edit' two edits of one base, the incoming one kept at copyPath;
     * 'delete-edit' a delete whose base was older than the head, which deleted nothing;
     * 'edit-delete' an edit whose base was since deleted, which brought the file back.
     * The last two make no copy: copyPath is ''.
     */
    kind: text('kind', { enum: ['edit-edit', 'delete-edit', 'edit-delete'] }).notNull().default('edit-edit'),
    copyPath: text('copy_path').notNull(),
    /** The root's conflict policy when the record was made. */
    policy: text('policy', { enum: ['keep-both', 'newest-wins', 'server-wins'] }).notNull().default('keep-both'),
    /**
     * Whose content the path shows after the policy: 'server' (the head stayed; the incoming content
     * is at copyPath, or held by this record under incomingHash) or 'incoming' (it became the head;
     * the server's version serverVersion is in history).
     */
    kept: text('kept', { enum: ['server', 'incoming'] }).notNull().default('server'),
    baseVersion: integer('base_version').notNull(),
    serverVersion: integer('server_version').notNull(),
    incomingHash: text('incoming_hash').notNull(),
    deviceName: text('device_name').notNull(),
    userName: text('user_name').notNull(),
    createdAt: integer('created_at').notNull().default(now),
    resolvedAt: integer('resolved_at'),
    resolution: text('resolution'),
  },
  (t) => [index('conflicts_root').on(t.rootId, t.resolvedAt)],
);
