import { and, asc, eq, getTableColumns, gt } from 'drizzle-orm';
import type { Db } from './index.js';
import type { ChangeRow } from './files-repo.js';
import type { FolderRecord } from './files-tree.js';
import { changes, versions } from './schema/index.js';

/** A change of the feed with the device that made it (from its version). */
export type FeedRow = ChangeRow & { deviceId: number | null; deviceName: string | null };

type FeedValues = [number, number, string, string, ChangeRow['kind'], number, number, string, number, number, string | null, string, string, number, number | null, string | null];

function feedRowOf(r: FeedValues): FeedRow {
  return { rootId: r[0], seq: r[1], path: r[2], op: r[3], kind: r[4], version: r[5], deleted: r[6] === 1, hash: r[7], size: r[8], mtimeMs: r[9], oldPath: r[10], protocol: r[11], userName: r[12], createdAt: r[13], span: 1, versionsFrom: null, deviceId: r[14], deviceName: r[15] };
}

function folderRecordOf(r: ChangeRow): FolderRecord {
  return { rootId: r.rootId, firstSeq: r.seq - r.span + 1, lastSeq: r.seq, versionsFrom: r.versionsFrom! };
}

/**
 * The change feed as followers read it: one change per path, in seq order. A folder's move or delete
 * is stored as one row standing for its per-path changes (FOLDER_RECORD, schema/files.ts), which are
 * read back from the versions rows the same transaction wrote.
 */
export class FeedRepo {
  private readonly folderChanges;
  private readonly rowsById;

  constructor(private readonly db: Db) {
    // The columns the per-path feed rows had (a departure's old_path is null, as from_path is).
    // `+root_id`: the rows are found by their id range alone. With root_id = ? the planner took
    // versions_root_path_version (root_id only) and read every version of the root, each time: a
    // 1,000-file folder move's feed record cost 4-7 ms to read, growing with the root's history.
    this.folderChanges = db.$client
      .prepare<{ root: number; from: number; to: number; first: number; last: number; after: number; dirs: number; limit: number }, FeedValues>(
        `SELECT root_id, seq, path, op, kind, version, deleted, hash, size, mtime_ms, from_path, protocol, user_name, created_at, device_id, device_name
         FROM versions WHERE id BETWEEN @from AND @to AND +root_id = @root AND seq BETWEEN @first AND @last AND seq > @after AND (@dirs = 0 OR kind = 'dir')
         ORDER BY seq LIMIT @limit`,
      )
      .raw(true);
    // A record's folders by their versions ids (FolderRecord.dirs), in seq order.
    this.rowsById = db.$client
      .prepare<{ ids: string; after: number }, FeedValues>(
        `SELECT root_id, seq, path, op, kind, version, deleted, hash, size, mtime_ms, from_path, protocol, user_name, created_at, device_id, device_name
         FROM versions WHERE id IN (SELECT value FROM json_each(@ids)) AND seq > @after ORDER BY seq`,
      )
      .raw(true);
  }

  /** The feed after a seq, each change with the device that made it (from its version, which has it). */
  after(rootId: number, after: number, limit: number): FeedRow[] {
    const rows = this.db
      .select({ ...getTableColumns(changes), deviceId: versions.deviceId, deviceName: versions.deviceName })
      .from(changes)
      .leftJoin(versions, and(eq(versions.rootId, changes.rootId), eq(versions.path, changes.path), eq(versions.version, changes.version)))
      .where(and(eq(changes.rootId, rootId), gt(changes.seq, after)))
      .orderBy(asc(changes.seq))
      .limit(limit)
      .all();
    if (!rows.some((r) => r.versionsFrom !== null)) return rows;
    // A folder record stands for `span` changes: each one read from its versions, those after the
    // cursor only (a page may have ended inside it), up to the page's limit.
    const out: FeedRow[] = [];
    for (const r of rows) {
      const expanded = r.versionsFrom !== null ? this.ofFolder(folderRecordOf(r), after, false, limit - out.length) : [r];
      for (const x of expanded) {
        if (out.length >= limit) return out;
        out.push(x);
      }
    }
    return out;
  }

  /** The per-path changes a folder record stands for, after `after` (at most `limit`); with `dirsOnly`, its folders' only. */
  ofFolder(rec: FolderRecord, after = 0, dirsOnly = false, limit = -1): FeedRow[] {
    // A move of a 1,000-file folder holding no other folder: 2 rows read instead of 2,000 (0.4-0.6 ms).
    if (dirsOnly && rec.dirs) {
      const rows = this.rowsById.all({ ids: JSON.stringify(rec.dirs), after }).map(feedRowOf);
      return limit < 0 ? rows : rows.slice(0, limit);
    }
    const span = rec.lastSeq - rec.firstSeq + 1;
    const args = { root: rec.rootId, from: rec.versionsFrom, to: rec.versionsFrom + span - 1, first: rec.firstSeq, last: rec.lastSeq, after, dirs: dirsOnly ? 1 : 0, limit };
    return this.folderChanges.all(args).map(feedRowOf);
  }
}
