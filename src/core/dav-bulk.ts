import { and, eq, gte } from 'drizzle-orm';
import { atOrBelow } from '../db/path-range.js';
import { locks, properties } from '../db/schema/index.js';
import type { CoreContext } from './context.js';
import type { LockRow } from './locks.js';
import type { DeadProperty } from './properties.js';

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
  const rows = ctx.db.select().from(properties).where(and(eq(properties.rootId, rootId), atOrBelow(properties.path, dir))).all();
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
