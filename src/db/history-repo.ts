import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from './index.js';
import type { VersionRow } from './files-repo.js';
import { conflicts, versions } from './schema/index.js';

/**
 * The lineage: the path's versions, then for each move-in among those reached the source path's
 * versions up to the version it left with. UNION drops repeats (a file moved back and forth), and
 * the depth bound stops a cycle. A path is read once, up to the highest version any step reached.
 */
const LINEAGE = `WITH RECURSIVE steps(path, upto, depth) AS (
    SELECT @path, 9223372036854775807, 0
    UNION
    SELECT v.from_path, v.from_version, s.depth + 1 FROM steps s
    JOIN versions v ON v.root_id = @root AND v.path = s.path AND v.version <= s.upto
    WHERE v.from_path IS NOT NULL AND s.depth < 64
  )
  SELECT v.* FROM versions v JOIN (SELECT path, max(upto) AS upto FROM steps GROUP BY path) s
    ON v.root_id = @root AND v.path = s.path AND v.version <= s.upto
  ORDER BY v.seq DESC`;

/**
 * The versions that hold content `@hash`: those that brought it (found in versions_hash, whose
 * terms are written out so that the partial index applies), then the arrivals of moves that carried
 * one of them away, recursively (versions_moved_from). An arrival has its source version's hash.
 */
export const HELD = `WITH RECURSIVE held(id, root_id, path, version, content_gone, content_lost) AS (
    SELECT id, root_id, path, version, content_gone, content_lost FROM versions WHERE hash = @hash AND deleted = 0 AND from_path IS NULL
    UNION
    SELECT m.id, m.root_id, m.path, m.version, m.content_gone, m.content_lost FROM held h
    JOIN versions m ON m.root_id = h.root_id AND m.from_path = h.path AND m.from_version = h.version AND m.from_path IS NOT NULL
  )`;

function versionOf(r: Record<string, unknown>): VersionRow {
  return {
    id: r.id as number, rootId: r.root_id as number, path: r.path as string, version: r.version as number, seq: r.seq as number, op: r.op as string,
    kind: r.kind as VersionRow['kind'], deleted: r.deleted === 1, hash: r.hash as string, size: r.size as number, mtimeMs: r.mtime_ms as number,
    userId: r.user_id as number | null, userName: r.user_name as string, deviceId: r.device_id as number | null, deviceName: r.device_name as string | null,
    protocol: r.protocol as string, createdAt: r.created_at as number, contentGone: r.content_gone === 1,
    contentLost: r.content_lost === 1,
    fromPath: r.from_path as string | null, fromVersion: r.from_version as number | null,
  };
}

/**
 * The versions: a file's history (across its moves) and the content its versions still hold. Only
 * FilesRepo.record writes versions; this reads them and lets their content go.
 */
export class HistoryRepo {
  // Prepared once: the recursive queries are asked on every history read and every blob let go.
  private readonly hot;

  constructor(private readonly db: Db) {
    const c = db.$client;
    this.hot = {
      lineage: c.prepare<{ root: number; path: string }>(LINEAGE),
      heldInUse: c.prepare<{ hash: string }>(`${HELD} SELECT 1 FROM held WHERE content_gone = 0 AND content_lost = 0 LIMIT 1`).pluck(),
    };
  }

  /**
   * The history of the file at `path`, newest first (by seq): the path's own versions, and through
   * every move that brought a file here ('move-in', fromPath/fromVersion) the versions it had at its
   * earlier paths up to the one it left with, recursively (each row keeps its own path).
   */
  lineage(rootId: number, path: string): VersionRow[] {
    return (this.hot.lineage.all({ root: rootId, path }) as Record<string, unknown>[]).map(versionOf);
  }

  /**
   * Version `version` of the file at `path` as its history lists it: the path's own first, then
   * along the moves; `from` picks the row of that earlier path when numbers meet (a path reused).
   */
  versionInHistory(rootId: number, path: string, version: number, from?: string): VersionRow | undefined {
    const own = from === undefined || from === path ? this.version(rootId, path, version) : undefined;
    const rows = own && own.op !== 'move-out' ? [] : this.lineage(rootId, path);
    if (own) {
      // A file moved away and back: its departure from here and its arrival elsewhere are one move,
      // one number; the arrival holds the content.
      if (own.op !== 'move-out' || from === path) return own;
      return rows.find((v) => v.version === version && v.op === 'move-in' && v.fromPath === path && v.fromVersion === version - 1) ?? own;
    }
    return rows.find((v) => v.version === version && (from === undefined || v.path === from));
  }

  versions(rootId: number, path: string): VersionRow[] {
    return this.db
      .select()
      .from(versions)
      .where(and(eq(versions.rootId, rootId), eq(versions.path, path)))
      .orderBy(desc(versions.version))
      .all();
  }

  version(rootId: number, path: string, version: number): VersionRow | undefined {
    return this.db
      .select()
      .from(versions)
      .where(and(eq(versions.rootId, rootId), eq(versions.path, path), eq(versions.version, version)))
      .get();
  }

  markContentGone(ids: number[]): void {
    if (ids.length === 0) return;
    this.db.update(versions).set({ contentGone: true }).where(inArray(versions.id, ids)).run();
  }

  /**
   * Content `hash` is stored nowhere any more (Reconciler.noteLost): every version holding it says
   * so. Lost, not pruned: such a version reads again if the same bytes are stored again.
   */
  markHashLost(hash: string): void {
    // Tombstones hold no content: only versions with content are marked, moves' arrivals too. Through
    // drizzle, whose every write first commits what txUnsynced left pending (db/index.ts).
    const [before, after] = HELD.split('@hash');
    this.db.run(sql`${sql.raw(before!)}${hash}${sql.raw(after!)} UPDATE versions SET content_lost = 1 WHERE id IN (SELECT id FROM held)`);
  }

  /**
   * True while any version (not pruned) or live head still needs content `hash`. A lost version
   * does not: it holds the bytes only while something else keeps them (as before it was told apart).
   */
  hashInUse(hash: string): boolean {
    if (this.hot.heldInUse.get({ hash }) !== undefined) return true;
    // A conflict record whose incoming content lost to the policy holds that content (its only
    // copy): it stays until the record is resolved (nothing acknowledged is lost).
    const held = this.db
      .select({ n: sql<number>`1` })
      .from(conflicts)
      .where(and(eq(conflicts.incomingHash, hash), eq(conflicts.kept, 'server'), eq(conflicts.copyPath, ''), sql`${conflicts.resolvedAt} is null`))
      .limit(1)
      .get();
    return held !== undefined;
  }
}
