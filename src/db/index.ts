import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { realpathSync } from 'node:fs';
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
  client.pragma('busy_timeout = 5000');
  const db = drizzle(client, { schema }) as Db;
  migrateDb(db, MIGRATIONS);
  // Prepared now: a PRAGMA cannot be prepared inside a transaction, where txUnsynced may first run.
  helpersOf(client);
  return db;
}

/**
 * Applies the pending migrations with foreign keys off, then checks them and turns them on.
 * drizzle runs every migration inside one transaction, where SQLite ignores the
 * `PRAGMA foreign_keys=OFF` that drizzle-kit writes around a table rebuild: with them on, the
 * DROP TABLE of a rebuilt parent (roots, users) would cascade and delete every row that refers to it.
 */
export function migrateDb(db: Db, folder: string): void {
  const applied = (): number => {
    const table = db.$client.prepare("SELECT 1 FROM sqlite_master WHERE name = '__drizzle_migrations'").get();
    return table ? (db.$client.prepare('SELECT count(*) AS n FROM __drizzle_migrations').get() as { n: number }).n : 0;
  };
  const before = applied();
  db.$client.pragma('foreign_keys = OFF');
  migrate(db, { migrationsFolder: folder });
  // Checked only after a migration ran: the check reads every row, too slow for each start.
  const broken = applied() === before ? [] : (db.$client.pragma('foreign_key_check') as unknown[]);
  if (broken.length > 0) throw new Error(`the database migration left ${broken.length} rows with a broken reference (${JSON.stringify(broken.slice(0, 3))}): restore the data folder from its backup and report this`);
  db.$client.pragma('foreign_keys = ON');
}

export function closeDb(db: Db): void {
  if (db.$client.open) db.$client.close();
}

/** Runs fn in one synchronous transaction (never async: better-sqlite3 cannot await inside). */
export function tx<T>(db: Db, fn: () => T): T {
  return helpersOf(db.$client).inTx(fn) as T;
}

/**
 * Like `tx`, but the commit does not wait for the disk (synchronous=NORMAL for this transaction):
 * the WAL is written, not synced. Only for callers that sync the WAL themselves before they report
 * success (core/durability.ts: one fdatasync of the WAL for many transactions). A power cut before
 * that sync loses the transaction whole, never part of it.
 */
export function txUnsynced<T>(db: Db, fn: () => T): T {
  const h = helpersOf(db.$client);
  // Inside another transaction the safety level cannot change: the outer commit decides.
  if (db.$client.inTransaction) return h.inTx(fn) as T;
  h.unsynced.run();
  try {
    return h.inTx(fn) as T;
  } finally {
    h.synced.run();
  }
}

// Built once per connection: better-sqlite3's transaction() and pragma() prepare anew on each call.
const helpers = new WeakMap<Database.Database, { inTx: (fn: () => unknown) => unknown; unsynced: Database.Statement; synced: Database.Statement }>();
function helpersOf(client: Database.Database) {
  let h = helpers.get(client);
  if (!h) {
    h = {
      inTx: client.transaction((fn: () => unknown) => fn()),
      unsynced: client.prepare('PRAGMA synchronous = NORMAL'),
      synced: client.prepare('PRAGMA synchronous = FULL'),
    };
    helpers.set(client, h);
  }
  return h;
}

/** The WAL file to sync after `txUnsynced` commits, or null for an in-memory database. */
export function walFileOf(db: Db): string | null {
  const name = db.$client.name;
  // SQLite keeps the WAL next to the real file when the database path is a symlink.
  return name === ':memory:' || name === '' ? null : `${realpathSync(name)}-wal`;
}
