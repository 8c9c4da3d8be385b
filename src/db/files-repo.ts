import { and, asc, eq, gt, gte, lte, sql } from 'drizzle-orm';
import { txUnsynced, type Db } from './index.js';
import { recordTreeMove, recordTreeRemoval, type FolderRecord } from './files-tree.js';
import { atOrBelow } from './path-range.js';
import { changes, entries, versions } from './schema/index.js';
import { HELD } from './history-repo.js';
import { FeedRepo } from './feed-repo.js';

export type EntryRow = typeof entries.$inferSelect;
export type VersionRow = typeof versions.$inferSelect;
export type ChangeRow = typeof changes.$inferSelect;
export type { FolderRecord };
export type ListingRow = Pick<EntryRow, 'path' | 'name' | 'kind' | 'size' | 'mtimeMs' | 'hash' | 'version' | 'seq'>;
export type BriefListingRow = Pick<EntryRow, 'name' | 'kind' | 'size' | 'mtimeMs'>;

export interface Actor {
  userId: number | null;
  userName: string;
  deviceId: number | null;
  deviceName: string | null;
  protocol: string;
}

/** One change to record: the new state of `path` after it. */
export interface ChangeInput {
  path: string;
  kind: 'file' | 'dir';
  op: string;
  deleted: boolean;
  hash: string;
  size: number;
  mtimeMs: number;
  ino: number;
  ctimeMs?: number;
  oldPath?: string | null;
}

export interface Recorded {
  change: ChangeRow;
  /** The path's entry after the change, as stored. */
  entry: EntryRow;
}

/** The entries columns in the order entryOf reads them (rows as arrays: a quarter faster than objects). */
/** Live entries, as a literal: a query by parent can then use entries_root_parent_name, partial on it. */
const LIVE = sql`${entries.deleted} = 0`;

const ENTRY_COLUMNS = 'id, root_id, path, parent, name, kind, size, mtime_ms, hash, version, deleted, seq, ino, ctime_ms, changed_at';
type EntryValues = [number, number, string, string, string, EntryRow['kind'], number, number, string, number, number, number, number, number, number];

function entryOf(r: EntryValues): EntryRow {
  return { id: r[0], rootId: r[1], path: r[2], parent: r[3], name: r[4], kind: r[5], size: r[6], mtimeMs: r[7], hash: r[8], version: r[9], deleted: r[10] === 1, seq: r[11], ino: r[12], ctimeMs: r[13], changedAt: r[14] };
}

function parentAndName(path: string): [string, string] {
  const i = path.lastIndexOf('/');
  return i < 0 ? ['', path] : [path.slice(0, i), path.slice(i + 1)];
}

/**
 * MOVE_CLOCK: a file keeps its clock across a move. Its arrival is version max(v, t) + 1, where v is
 * its version at the path it leaves and t the clock of the path it arrives at (a tombstone of an
 * earlier file there; 0 for a new path): the file's version grows by one as on every change event,
 * and a path's version still never goes back (clients hold per-path base versions). The departure
 * at the old path is v + 1, so a plain move is one number on both sides.
 */

/**
 * Entries, the change feed, and the recording of versions (HistoryRepo reads them). `record` is the
 * one place where versions and sequence numbers are handed out: each change gets entry.version + 1 and root.seq + 1, in one
 * synchronous transaction, so the clocks grow by exactly one whatever door the change came from.
 */
export class FilesRepo {
  // Prepared once: building drizzle queries per call cost more CPU than the fsyncs of a small write.
  private readonly q;
  /**
   * The statements every recorded change runs (entry, lastSeq, the three writes), on better-sqlite3
   * directly: drizzle's per-call work (placeholders filled by name, every column of a row mapped)
   * was half the CPU of recording a change (about 50 of 100 µs here). Same tables, same SQL.
   */
  private readonly hot;
  /** The change feed as followers read it (a folder's record expanded per path). */
  readonly feed: FeedRepo;

  constructor(private readonly db: Db) {
    this.feed = new FeedRepo(db);
    const p = sql.placeholder;
    const c = db.$client;
    this.hot = {
      entry: c.prepare<[number, string], EntryValues>(`SELECT ${ENTRY_COLUMNS} FROM entries WHERE root_id = ? AND path = ?`).raw(true),
      // A scan reads every folder's children (a folder's delete or move scans its tree first).
      liveChildren: c.prepare<[number, string], EntryValues>(`SELECT ${ENTRY_COLUMNS} FROM entries WHERE root_id = ? AND parent = ? AND deleted = 0 ORDER BY name`).raw(true),
      childNames: c.prepare<[number, string], string>('SELECT name FROM entries WHERE root_id = ? AND parent = ? AND deleted = 0').pluck(),
      liveDirsBelow: c
        .prepare<{ root: number; path: string }, string>(
          // The range form of files-tree.ts SUBTREE (the index searched by path, not only root_id).
          "SELECT path FROM entries WHERE root_id = @root AND path >= @path AND path < @path || '0' AND (path = @path OR path >= @path || '/') AND kind = 'dir' AND deleted = 0",
        )
        .pluck(),
      // The feed's last row (its primary key's last entry): the root's seq, kept nowhere else, so a
      // change does not also rewrite the roots table's page.
      lastSeq: c.prepare<[number], number>('SELECT seq FROM changes WHERE root_id = ? ORDER BY seq DESC LIMIT 1').pluck(),
      updateEntry: c.prepare('UPDATE entries SET kind = ?, size = ?, mtime_ms = ?, hash = ?, version = ?, deleted = ?, seq = ?, ino = ?, ctime_ms = ?, changed_at = ? WHERE id = ?'),
      insertEntry: c.prepare(
        'INSERT INTO entries (kind, size, mtime_ms, hash, version, deleted, seq, ino, ctime_ms, changed_at, root_id, path, parent, name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      insertVersion: c.prepare(
        'INSERT INTO versions (root_id, path, version, seq, op, kind, deleted, hash, size, mtime_ms, protocol, user_name, created_at, user_id, device_id, device_name, from_path, from_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      // CROSS JOIN: the held versions first, each head then by its path (the planner scanned entries).
      liveWithHash: c.prepare<{ hash: string }, EntryValues>(
        `${HELD} SELECT DISTINCT ${ENTRY_COLUMNS.split(', ').map((col) => `e.${col}`).join(', ')} FROM held h
         CROSS JOIN entries e ON e.root_id = h.root_id AND e.path = h.path
         WHERE e.hash = @hash AND e.deleted = 0 AND e.kind = 'file' LIMIT 5`,
      ).raw(true),
      // The columns a plain listing shows, rows as SQLite makes them: no drizzle mapping, no copy.
      briefListing: c.prepare<[number, string, string, number], BriefListingRow>(
        'SELECT name, kind, size, mtime_ms AS mtimeMs FROM entries WHERE root_id = ? AND parent = ? AND deleted = 0 AND name > ? ORDER BY name LIMIT ?',
      ),
      insertChange: c.prepare(
        'INSERT INTO changes (root_id, path, version, seq, op, kind, deleted, hash, size, mtime_ms, protocol, user_name, created_at, old_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
    };
    this.q = {
      listing: db
        .select({ path: entries.path, name: entries.name, kind: entries.kind, size: entries.size, mtimeMs: entries.mtimeMs, hash: entries.hash, version: entries.version, seq: entries.seq })
        .from(entries)
        .where(and(eq(entries.rootId, p('rootId')), eq(entries.parent, p('parent')), LIVE, gt(entries.name, p('after'))))
        .orderBy(asc(entries.name))
        .limit(p('limit'))
        .prepare(),
    };
  }

  entry(rootId: number, path: string): EntryRow | undefined {
    const row = this.hot.entry.get(rootId, path);
    return row && entryOf(row);
  }

  /** The live children of a folder, by name (tombstones are not in the index by parent: entries_root_parent_name). */
  children(rootId: number, parent: string): EntryRow[] {
    return this.hot.liveChildren.all(rootId, parent).map(entryOf);
  }

  /**
   * Up to `limit` live children of a folder named after `after` (by name), with only what a listing
   * shows: half the columns, twice as fast.
   */
  listing(rootId: number, parent: string, after = '', limit = -1): ListingRow[] {
    return this.q.listing.all({ rootId, parent, after, limit });
  }

  /** Like `listing`, with only name, kind, size and mtime (a plain file listing: FTP). */
  briefListing(rootId: number, parent: string, after = '', limit = -1): BriefListingRow[] {
    return this.hot.briefListing.all(rootId, parent, after, limit);
  }

  hasLiveChildren(rootId: number, parent: string): boolean {
    const row = this.db
      .select({ n: sql<number>`1` })
      .from(entries)
      .where(and(eq(entries.rootId, rootId), eq(entries.parent, parent), LIVE))
      .limit(1)
      .get();
    return row !== undefined;
  }

  /** `path` and everything below it, shallowest first. */
  subtree(rootId: number, path: string, includeDeleted = false): EntryRow[] {
    const inside = atOrBelow(entries.path, path);
    const cond = includeDeleted
      ? and(eq(entries.rootId, rootId), inside)
      : and(eq(entries.rootId, rootId), inside, eq(entries.deleted, false));
    return this.db
      .select()
      .from(entries)
      .where(cond)
      .orderBy(asc(sql`length(${entries.path}) - length(replace(${entries.path}, '/', ''))`), asc(entries.path))
      .all();
  }

  deletedBelow(rootId: number, path: string): EntryRow[] {
    // Files that moved away are not "deleted": only tombstones whose last change was a delete.
    // One statement joined on the versions key: a query per tombstone (built by drizzle each time)
    // took 4.9 s of CPU for 20,000 tombstones, the event loop held the whole time.
    return this.db
      .select({ e: entries })
      .from(entries)
      .innerJoin(versions, and(eq(versions.rootId, entries.rootId), eq(versions.path, entries.path), eq(versions.version, entries.version)))
      .where(and(eq(entries.rootId, rootId), atOrBelow(entries.path, path), eq(entries.deleted, true), eq(entries.kind, 'file'), eq(versions.op, 'delete')))
      .orderBy(asc(sql`length(${entries.path}) - length(replace(${entries.path}, '/', ''))`), asc(entries.path))
      .all()
      .map((r) => r.e);
  }

  /**
   * Live files of at most `maxSize` bytes whose head was recorded at most `windowMs` before the root's
   * last recorded head (the writes that may have been in flight when the gateway stopped).
   */
  recentFiles(rootId: number, windowMs: number, maxSize: number): EntryRow[] {
    const last = this.db.select({ at: sql<number | null>`max(${entries.changedAt})` }).from(entries).where(eq(entries.rootId, rootId)).get()?.at;
    if (last === null || last === undefined) return [];
    const cond = and(eq(entries.rootId, rootId), eq(entries.kind, 'file'), eq(entries.deleted, false), lte(entries.size, maxSize), gte(entries.changedAt, last - windowMs));
    return this.db.select().from(entries).where(cond).all();
  }

  /** The last seq handed out in a root (0 before its first change). */
  /** How many live entries a root has (the watcher picks its mode by it). */
  liveCount(rootId: number): number {
    return this.db.select({ n: sql<number>`count(*)` }).from(entries).where(and(eq(entries.rootId, rootId), eq(entries.deleted, false))).get()?.n ?? 0;
  }

  /** The paths of a root's live folders. */
  liveDirs(rootId: number): string[] {
    return this.db
      .select({ path: entries.path })
      .from(entries)
      .where(and(eq(entries.rootId, rootId), eq(entries.kind, 'dir'), eq(entries.deleted, false)))
      .all()
      .map((r) => r.path);
  }

  /** The names of a folder's live children. */
  childNames(rootId: number, parent: string): string[] {
    return this.hot.childNames.all(rootId, parent);
  }

  /** The paths of the live folders at or below `path`. */
  liveDirsAtOrBelow(rootId: number, path: string): string[] {
    // Asked by every folder move the watcher vouches for: prepared, not a drizzle query built each time.
    if (path === '') return this.liveDirs(rootId);
    return this.hot.liveDirsBelow.all({ root: rootId, path });
  }

  lastSeq(rootId: number): number {
    return this.hot.lastSeq.get(rootId) ?? 0;
  }

  /**
   * Records changes atomically; returns the change rows in the same order. The commit is not yet
   * durable: the caller syncs the WAL before it reports success (core/durability.ts).
   */
  record(rootId: number, actor: Actor, inputs: ChangeInput[]): Recorded[] {
    if (inputs.length === 0) return [];
    return txUnsynced(this.db, () => {
      let seq = this.lastSeq(rootId);
      const out: Recorded[] = [];
      const now = Date.now();
      for (const input of inputs) {
        seq += 1;
        const previous = this.entry(rootId, input.path);
        // A move's arrival continues the file's clock (see MOVE_CLOCK), and records where it came from.
        const from = input.op === 'move-in' && input.oldPath ? this.entry(rootId, input.oldPath) : undefined;
        const version = Math.max(previous?.version ?? 0, from?.version ?? 0) + 1;
        const fromPath = from ? from.path : null;
        const fromVersion = from ? from.version : null;
        const [parent, name] = parentAndName(input.path);
        const deleted = input.deleted ? 1 : 0;
        const ctimeMs = input.ctimeMs ?? 0;
        const oldPath = input.oldPath ?? null;
        // Arguments listed, not spread, and rows built whole in one literal each, in the order
        // entryOf and drizzle build them: a spread call or a row grown field by field took the
        // engine's slow paths, a quarter of this function's CPU.
        const h = this.hot;
        let id = previous?.id;
        if (id !== undefined) h.updateEntry.run(input.kind, input.size, input.mtimeMs, input.hash, version, deleted, seq, input.ino, ctimeMs, now, id);
        else id = Number(h.insertEntry.run(input.kind, input.size, input.mtimeMs, input.hash, version, deleted, seq, input.ino, ctimeMs, now, rootId, input.path, parent, name).lastInsertRowid);
        h.insertVersion.run(rootId, input.path, version, seq, input.op, input.kind, deleted, input.hash, input.size, input.mtimeMs, actor.protocol, actor.userName, now, actor.userId, actor.deviceId, actor.deviceName, fromPath, fromVersion);
        h.insertChange.run(rootId, input.path, version, seq, input.op, input.kind, deleted, input.hash, input.size, input.mtimeMs, actor.protocol, actor.userName, now, oldPath);
        const change: ChangeRow = { rootId, seq, path: input.path, op: input.op, kind: input.kind, version, deleted: input.deleted, hash: input.hash, size: input.size, mtimeMs: input.mtimeMs, oldPath, protocol: actor.protocol, userName: actor.userName, createdAt: now, span: 1, versionsFrom: null };
        const entry: EntryRow = { id, rootId, path: input.path, parent, name, kind: input.kind, size: input.size, mtimeMs: input.mtimeMs, hash: input.hash, version, deleted: input.deleted, seq, ino: input.ino, ctimeMs, changedAt: now };
        out.push({ change, entry });
      }
      return out;
    });
  }

  /** Records the removal of a live folder and its whole tree as one set of changes (see files-tree.ts). */
  recordTreeRemoval(rootId: number, actor: Actor, path: string, op: string): FolderRecord {
    return recordTreeRemoval(this.db, rootId, actor, () => this.lastSeq(rootId), path, op);
  }

  /** Records the move of a live folder and its whole tree to `to` as one set of changes. */
  recordTreeMove(rootId: number, actor: Actor, from: string, to: string): FolderRecord {
    return recordTreeMove(this.db, rootId, actor, () => this.lastSeq(rootId), from, to);
  }

  /** Refreshes the disk fingerprint of an entry whose content did not change (no new version). */
  touchFingerprint(id: number, fp: { mtimeMs: number; ino: number; ctimeMs: number }): void {
    this.db.update(entries).set(fp).where(eq(entries.id, id)).run();
  }

  /**
   * A live head holding `hash`, to read content that has no blob. Found through the versions that
   * hold it (HELD): a head is always also a version (versions are never deleted, only their content
   * let go), a moved head its move's arrival.
   */
  liveWithHash(hash: string): EntryRow[] {
    return this.hot.liveWithHash.all({ hash }).map(entryOf);
  }
}
