import type Database from 'better-sqlite3';
import { and, eq } from 'drizzle-orm';
import type { Db } from './index.js';
import { atOrBelow } from './path-range.js';
import { properties } from './schema/index.js';

export interface DeadProperty {
  namespace: string;
  name: string;
  /** Inner XML of the property element, stored verbatim. */
  value: string;
}

/** Dead properties of WebDAV resources, by root and path; moved, copied and deleted with their path. */
export class PropertiesRepo {
  constructor(private readonly db: Db) {}

  /**
   * Whether anything at or below `path` has a dead property. Asked before every delete and move:
   * most trees have none, and a drizzle write (even one that deletes nothing) commits the group
   * commit's pending transaction at once and switches the connection to synchronous=FULL and back,
   * about a tenth of an FTP DELE's CPU. A plain statement prepared once per connection.
   */
  private anyInTree(rootId: number, path: string): boolean {
    const c = this.db.$client;
    let q = anyInTreeQuery.get(c);
    if (!q) anyInTreeQuery.set(c, (q = c.prepare<[number, string, string, string, string], number>("SELECT 1 FROM properties WHERE root_id = ? AND path >= ? AND path < ? || '0' AND (path = ? OR path >= ? || '/') LIMIT 1").pluck()));
    return path === '' ? true : q.get(rootId, path, path, path, path) !== undefined;
  }

  private inTree(rootId: number, path: string) {
    return and(eq(properties.rootId, rootId), atOrBelow(properties.path, path));
  }

  list(rootId: number, path: string): DeadProperty[] {
    return this.db
      .select({ namespace: properties.namespace, name: properties.name, value: properties.value })
      .from(properties)
      .where(and(eq(properties.rootId, rootId), eq(properties.path, path)))
      .all();
  }

  /** Dead properties of `dir` and its direct children, keyed by path (one query for a whole listing). */
  ofChildren(rootId: number, dir: string): Map<string, DeadProperty[]> {
    const rows = this.db.select().from(properties).where(this.inTree(rootId, dir)).all();
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

  /** Applies sets and removes all-or-nothing (PROPPATCH is atomic). */
  patch(rootId: number, path: string, set: DeadProperty[], remove: { namespace: string; name: string }[]): void {
    this.db.transaction((t) => {
      for (const p of set) {
        t.insert(properties)
          .values({ rootId, path, ...p })
          .onConflictDoUpdate({ target: [properties.rootId, properties.path, properties.namespace, properties.name], set: { value: p.value } })
          .run();
      }
      for (const r of remove) {
        t.delete(properties)
          .where(and(eq(properties.rootId, rootId), eq(properties.path, path), eq(properties.namespace, r.namespace), eq(properties.name, r.name)))
          .run();
      }
    });
  }

  deleteTree(rootId: number, path: string): void {
    if (!this.anyInTree(rootId, path)) return;
    this.db.delete(properties).where(this.inTree(rootId, path)).run();
  }

  moveTree(rootId: number, from: string, to: string): void {
    this.deleteTree(rootId, to);
    if (!this.anyInTree(rootId, from)) return;
    const rows = this.db.select().from(properties).where(this.inTree(rootId, from)).all();
    this.db.transaction((t) => {
      for (const row of rows) {
        t.update(properties)
          .set({ path: to + row.path.slice(from.length) })
          .where(and(eq(properties.rootId, rootId), eq(properties.path, row.path), eq(properties.namespace, row.namespace), eq(properties.name, row.name)))
          .run();
      }
    });
  }

  copyTree(rootId: number, from: string, to: string): void {
    this.deleteTree(rootId, to);
    if (!this.anyInTree(rootId, from)) return;
    const rows = this.db.select().from(properties).where(this.inTree(rootId, from)).all();
    if (rows.length === 0) return;
    this.db.insert(properties).values(rows.map((r) => ({ ...r, path: to + r.path.slice(from.length) }))).run();
  }
}

const anyInTreeQuery = new WeakMap<Database.Database, Database.Statement<[number, string, string, string, string], number>>();
