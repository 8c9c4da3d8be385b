import { and, eq, gte, lt, or, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';

/**
 * `path` and everything below it, as a condition on a path column (undefined for the root, '':
 * everything; `and` skips it). A range instead of LIKE, which folds ASCII case and cannot use the
 * index: in binary collation every `path/...` sorts between `path/` and `path0` ('/' + 1 is '0').
 */
export function atOrBelow(column: SQLiteColumn, path: string): SQL | undefined {
  return path === '' ? undefined : or(eq(column, path), and(gte(column, `${path}/`), lt(column, `${path}0`)));
}
