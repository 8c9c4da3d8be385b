import { and, asc, eq, gt, gte, lt, or, sql } from 'drizzle-orm';
import { entries, locks, properties } from '../db/schema/index.js';
import type { CoreContext } from './context.js';
import type { LockRow } from './locks.js';
import type { DeadProperty } from './properties.js';
import { etagOf, type EntryInfo } from './types.js';

/**
 * Bulk reads for WebDAV listings: a PROPFIND Depth 1 on a 10,000-entry folder must not cost one
 * query per entry for its locks and dead properties. Read-only; the rules stay in locks.ts and
 * properties.ts.
 */

/** Every unexpired lock of a root (one query). */
export function liveLocksOfRoot(ctx: CoreContext, rootId: number): LockRow[] {
  return ctx.db.select().from(locks).where(and(eq(locks.rootId, rootId), gte(locks.expiresAt, Date.now()))).all();
}

/** Dead properties of `dir` and its direct children, keyed by path (one query). */
export function deadPropertiesOfChildren(ctx: CoreContext, rootId: number, dir: string): Map<string, DeadProperty[]> {
  const p = properties.path;
  const where = dir === '' ? eq(properties.rootId, rootId) : and(eq(properties.rootId, rootId), or(eq(p, dir), and(gte(p, `${dir}/`), lt(p, `${dir}0`))));
  const rows = ctx.db.select().from(properties).where(where).all();
  const out = new Map<string, DeadProperty[]>();
  const prefix = dir === '' ? '' : `${dir}/`;
  for (const r of rows) {
    if (r.path !== dir && r.path.slice(prefix.length).includes('/')) continue;
    let list = out.get(r.path);
    if (!list) out.set(r.path, (list = []));
    list.push({ namespace: r.namespace, name: r.name, value: r.value });
  }
  return out;
}

/**
 * A folder's live children a page at a time, in storage order (not by name: WebDAV clients sort
 * themselves), so a 10,000-entry listing is read in small steps between which other requests run.
 * One prepared statement per listing. The caller has already opened the root for the session and
 * checked the folder (vfs.stat).
 */
export function childrenPager(ctx: CoreContext, rootName: string, rootId: number, parent: string): (limit: number) => { entries: EntryInfo[]; done: boolean } {
  const query = ctx.db
    .select({ id: entries.id, path: entries.path, name: entries.name, kind: entries.kind, size: entries.size, mtimeMs: entries.mtimeMs, hash: entries.hash, version: entries.version, seq: entries.seq })
    .from(entries)
    .where(and(eq(entries.rootId, rootId), eq(entries.parent, parent), eq(entries.deleted, false), gt(entries.id, sql.placeholder('after'))))
    .orderBy(asc(entries.id))
    .limit(sql.placeholder('limit'))
    .prepare();
  let after = 0;
  let done = false;
  return (limit) => {
    if (done) return { entries: [], done };
    const rows = query.all({ after, limit });
    done = rows.length < limit;
    if (rows.length) after = rows[rows.length - 1]!.id;
    const out: EntryInfo[] = [];
    for (const r of rows) {
      if (ctx.isIgnoredName(r.name)) continue;
      out.push({ root: rootName, path: r.path, name: r.name, kind: r.kind, size: r.size, mtimeMs: r.mtimeMs, hash: r.hash, version: r.version, deleted: false, seq: r.seq, etag: etagOf(r.version, r.hash) });
    }
    return { entries: out, done };
  };
}
