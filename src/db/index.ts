import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { chmodSync, closeSync, existsSync, openSync, realpathSync } from 'node:fs';
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
  ownerOnly(file);
  const client = new Database(file);
  client.pragma('journal_mode = WAL');
  // FULL, not NORMAL: a commit lost to a power cut would hand out the same version and seq twice.
  client.pragma('synchronous = FULL');
  client.pragma('busy_timeout = 5000');
  // Every drizzle query passes the logger first: a write commits the pending unsynced transaction
  // before it runs (see txUnsynced), so it is never acknowledged before its own commit.
  const logger = { logQuery: (query: string) => commitBeforeWrite(client, query) };
  const db = drizzle(client, { schema, logger }) as Db;
  // A drizzle transaction inside the pending one would be a savepoint, committed only with it.
  const transaction = db.transaction.bind(db);
  db.transaction = ((fn, config) => {
    beforeSyncedWrite(client);
    return transaction(fn, config);
  }) as typeof db.transaction;
  migrateDb(db, MIGRATIONS);
  // Prepared now: a PRAGMA cannot be prepared inside a transaction, where txUnsynced may first run.
  helpersOf(client);
  return db;
}

/**
 * The database holds the password hashes: readable by its owner only (0600). SQLite gives the WAL
 * and shared-memory files the database file's mode when it makes them; files left by an older
 * version (0644 under the usual umask) are tightened too.
 */
function ownerOnly(file: string): void {
  if (file === ':memory:' || file === '') return;
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      chmodSync(f, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

/**
 * Applies the pending migrations with foreign keys off, then checks them and turns them on.
 * drizzle runs every migration inside one transaction, where SQLite ignores the
 * `PRAGMA foreign_keys=OFF` that drizzle-kit writes around a table rebuild: with them on, the
 * DROP TABLE of a rebuilt parent (roots, users) would cascade and delete every row that refers to it.
 */
export function migrateDb(db: Db, folder: string): void {
  beforeSyncedWrite(db.$client); // PRAGMA foreign_keys does nothing inside a transaction
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
  if (!db.$client.open) return;
  commitUnsynced(db);
  db.$client.close();
}

/** Runs fn in one synchronous transaction (never async: better-sqlite3 cannot await inside). */
export function tx<T>(db: Db, fn: () => T): T {
  beforeSyncedWrite(db.$client);
  return helpersOf(db.$client).run(fn) as T;
}

/**
 * Like `tx`, but the commit neither waits for the disk nor happens at once: SQLite-level group
 * commit. The first call opens a transaction with synchronous=NORMAL and leaves it open; each call
 * runs fn in a savepoint of it (a throw undoes that fn only); `commitUnsynced` commits them all,
 * the WAL written, not synced. The connection stays NORMAL until another kind of write needs FULL
 * (beforeSyncedWrite): each switch re-prepares its PRAGMA, 20 µs per small PUT for two.
 *
 * Only for callers that sync the WAL themselves before they report success: core/durability.ts
 * commits at the start of each flush, then syncs the WAL once for every change since the last one.
 * Changes recorded while a flush runs (8 writers in parallel: about 4) share one commit, so the
 * WAL pages they all touch (the last leaf of each table and index) are written once, not 4 times.
 *
 * Every other write commits the pending transaction first (tx, drizzle's transaction, any drizzle
 * write through the logger, closeDb), then runs with synchronous=FULL as before. A write made on
 * better-sqlite3 directly outside those gates would run NORMAL: FilesRepo's run only in txUnsynced.
 * A crash before the commit loses unacknowledged changes only: their files are in place, and the
 * scan at start-up records them. The same connection reads its pending changes; others see them after.
 */
export function txUnsynced<T>(db: Db, fn: () => T): T {
  const h = helpersOf(db.$client);
  // Inside another transaction the safety level cannot change: the outer commit decides.
  if (db.$client.inTransaction && !h.pending) return h.run(fn) as T;
  if (!h.pending) {
    if (!h.normal) {
      h.unsynced.run();
      h.normal = true;
    }
    h.begin.run();
    h.pending = true;
    h.pendingCalls = 0;
  }
  try {
    const out = h.run(fn) as T;
    h.pendingCalls += 1;
    return out;
  } catch (err) {
    // SQLite may roll back the whole transaction on some errors (SQLITE_FULL, IOERR, NOMEM): the
    // changes pending in it are gone. Left marked pending, the next call ran outside any transaction
    // (committed at once) and the flush failed with "cannot commit - no transaction is active".
    if (h.pending && !db.$client.inTransaction) {
      h.pending = false;
      if (h.pendingCalls > 0) h.lost = err;
    }
    throw err;
  }
}

/**
 * Commits what `txUnsynced` left pending (without syncing the WAL). If the commit fails, the
 * pending changes are rolled back and the error thrown: the caller must not report them done.
 */
export function commitUnsynced(db: Db): void {
  const h = helpers.get(db.$client);
  if (h?.lost) {
    // Changes recorded for this commit were rolled back with the transaction (see txUnsynced): the
    // flush must refuse them, with the error that undid them. Those recorded since go back too, so
    // that every writer this flush answers was refused whole (core/vfs-write.ts takes its file back).
    const lost = h.lost;
    h.lost = null;
    if (h.pending && h.depth === 0) {
      h.pending = false;
      if (db.$client.inTransaction) h.rollback.run();
    }
    throw lost;
  }
  commitPending(db.$client);
}

function commitPending(client: Database.Database): void {
  const h = helpers.get(client);
  if (!h?.pending || h.depth > 0) return;
  h.pending = false;
  try {
    h.commit.run();
  } catch (err) {
    if (client.inTransaction) h.rollback.run();
    throw err;
  }
}

/** Before a write that must be durable by its own commit: the pending one committed, FULL again. */
function beforeSyncedWrite(client: Database.Database): void {
  commitPending(client);
  const h = helpers.get(client);
  // Inside a transaction the level cannot change, nor need to: the outer commit decides.
  if (h?.normal && !client.inTransaction) {
    h.synced.run();
    h.normal = false;
  }
}

function commitBeforeWrite(client: Database.Database, query: string): void {
  // Anything but a plain read (writes, and queries drizzle starts with WITH) commits first.
  const h = helpers.get(client);
  if ((h?.pending || h?.normal) && !/^\s*select\b/i.test(query)) beforeSyncedWrite(client);
}

interface Helpers {
  /** Runs fn in a transaction, or a savepoint inside one (better-sqlite3's transaction()). */
  run: (fn: () => unknown) => unknown;
  /** Calls of `run` under way: a commit inside one would cut its savepoint. */
  depth: number;
  /** A transaction opened by txUnsynced is waiting for commitUnsynced. */
  pending: boolean;
  /** synchronous is NORMAL (set by txUnsynced), until a write that needs FULL sets it back. */
  normal: boolean;
  /** The error with which SQLite rolled back the pending transaction, for the next commitUnsynced. */
  lost: unknown;
  /** txUnsynced calls recorded in the pending transaction. */
  pendingCalls: number;
  unsynced: Database.Statement;
  synced: Database.Statement;
  begin: Database.Statement;
  commit: Database.Statement;
  rollback: Database.Statement;
}

// Built once per connection: better-sqlite3's transaction() and pragma() prepare anew on each call.
const helpers = new WeakMap<Database.Database, Helpers>();
function helpersOf(client: Database.Database): Helpers {
  let h = helpers.get(client);
  if (!h) {
    const inTx = client.transaction((fn: () => unknown) => fn());
    const made: Helpers = {
      run: (fn) => {
        made.depth += 1;
        try {
          return inTx(fn);
        } finally {
          made.depth -= 1;
        }
      },
      depth: 0,
      pending: false,
      normal: false,
      lost: null,
      pendingCalls: 0,
      unsynced: client.prepare('PRAGMA synchronous = NORMAL'),
      synced: client.prepare('PRAGMA synchronous = FULL'),
      begin: client.prepare('BEGIN'),
      commit: client.prepare('COMMIT'),
      rollback: client.prepare('ROLLBACK'),
    };
    // SQLite applies a PRAGMA when it prepares it, and marks it to be prepared again after each
    // run: a first run would do nothing. Run both once now, FULL last, so every later run applies.
    made.unsynced.run();
    made.synced.run();
    h = made;
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
