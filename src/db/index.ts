import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { fileURLToPath } from 'node:url';
import * as schema from './schema/index.js';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };
export { schema };

const MIGRATIONS = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * Opens (and migrates) the metadata database. WAL for concurrent readers; synchronous=FULL
 * because an acknowledged write must survive a power cut, not only a crash.
 */
export function openDb(file: string): Db {
  const client = new Database(file);
  client.pragma('journal_mode = WAL');
  // FULL, not NORMAL: a commit lost to a power cut would hand out the same version and seq twice.
  client.pragma('synchronous = FULL');
  client.pragma('foreign_keys = ON');
  client.pragma('busy_timeout = 5000');
  const db = drizzle(client, { schema }) as Db;
  migrate(db, { migrationsFolder: MIGRATIONS });
  return db;
}

export function closeDb(db: Db): void {
  if (db.$client.open) db.$client.close();
}

/** Runs fn in one synchronous transaction (never async: better-sqlite3 cannot await inside). */
export function tx<T>(db: Db, fn: () => T): T {
  return db.$client.transaction(fn)();
}
