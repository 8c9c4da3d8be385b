import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import { FilesRepo } from './files-repo.js';
import { HistoryRepo } from './history-repo.js';
import { RootsRepo } from './roots-repo.js';
import { closeDb, commitUnsynced, migrateDb, openDb, tx, txUnsynced, type Db } from './index.js';
import { changes, entries, roots, users } from './schema/index.js';

const MIGRATIONS = fileURLToPath(new URL('./migrations', import.meta.url));

interface Journal {
  entries: { idx: number; version: string; when: number; tag: string; breakpoints: boolean }[];
}

/** A copy of our migrations up to `last` (all by default), plus `extra` ones, in `folder`. */
function migrationsIn(folder: string, last?: string, extra: Record<string, string> = {}): string {
  mkdirSync(path.join(folder, 'meta'), { recursive: true });
  const journal = JSON.parse(readFileSync(path.join(MIGRATIONS, 'meta/_journal.json'), 'utf8')) as Journal;
  if (last) journal.entries = journal.entries.slice(0, journal.entries.findIndex((e) => e.tag === last) + 1);
  for (const e of journal.entries) copyFileSync(path.join(MIGRATIONS, `${e.tag}.sql`), path.join(folder, `${e.tag}.sql`));
  for (const [tag, text] of Object.entries(extra)) {
    const prev = journal.entries.at(-1)!;
    journal.entries.push({ ...prev, idx: prev.idx + 1, when: prev.when + 1000, tag });
    writeFileSync(path.join(folder, `${tag}.sql`), text);
  }
  writeFileSync(path.join(folder, 'meta/_journal.json'), JSON.stringify(journal));
  return folder;
}

/** A database as the gateway left it at migration `last` (its data migrated later by openDb). */
function databaseAt(file: string, last: string): void {
  const client = new Database(file);
  migrate(drizzle(client), { migrationsFolder: migrationsIn(path.join(path.dirname(file), 'old-migrations'), last) });
  client.close();
}

describe('metadata database transactions', () => {
  let dir: string;
  let db: Db;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'syncgate-db-'));
    db = openDb(path.join(dir, 'meta.db'));
  });
  afterEach(() => {
    closeDb(db);
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs an unsynced transaction nested in another, even as the first one of the connection', () => {
    // Its PRAGMAs used to be prepared on first use, which SQLite refuses inside a transaction.
    const insert = () => db.$client.prepare("INSERT INTO roots (name, dir) VALUES ('r', '/x')").run();
    db.$client.transaction(() => txUnsynced(db, insert))();
    expect(db.$client.prepare('SELECT count(*) AS n FROM roots').get()).toEqual({ n: 1 });
    expect(db.$client.pragma('synchronous', { simple: true })).toBe(2); // FULL again outside
  });

  it('a pending group SQLite rolled back on SQLITE_FULL is refused by the next commit, and the one after works', () => {
    const insert = (name: string, bytes = 100) => () => db.$client.prepare('INSERT INTO roots (name, dir) VALUES (?, ?)').run(name, 'x'.repeat(bytes));
    txUnsynced(db, insert('first'));
    commitUnsynced(db);
    // The database may not grow now: SQLite's own SQLITE_FULL, which rolls back the whole transaction.
    db.$client.pragma(`max_page_count = ${db.$client.pragma('page_count', { simple: true }) as number}`);
    txUnsynced(db, insert('lost'));
    expect(() => txUnsynced(db, insert('big', 200_000))).toThrow(expect.objectContaining({ code: 'SQLITE_FULL' }));
    db.$client.pragma('max_page_count = 4294967294');
    // Before: still marked pending, the next change ran in a transaction of its own, committed at once,
    // and the commit failed with "cannot commit - no transaction is active".
    txUnsynced(db, insert('after'));
    expect(() => commitUnsynced(db)).toThrow(expect.objectContaining({ code: 'SQLITE_FULL' }));
    const names = () => (db.$client.prepare('SELECT name FROM roots ORDER BY name').all() as { name: string }[]).map((r) => r.name);
    expect(names()).toEqual(['first']);
    txUnsynced(db, insert('later'));
    commitUnsynced(db);
    expect(names()).toEqual(['first', 'later']);
    // A refusal as the first change of a group loses nothing else: the next commit has nothing to refuse.
    db.$client.pragma(`max_page_count = ${db.$client.pragma('page_count', { simple: true }) as number}`);
    expect(() => txUnsynced(db, insert('big', 200_000))).toThrow(expect.objectContaining({ code: 'SQLITE_FULL' }));
    db.$client.pragma('max_page_count = 4294967294');
    commitUnsynced(db);
  });

  it('rolls back an unsynced transaction whole when it throws', () => {
    expect(() =>
      txUnsynced(db, () => {
        db.$client.prepare("INSERT INTO roots (name, dir) VALUES ('r', '/x')").run();
        throw new Error('abort');
      }),
    ).toThrow('abort');
    expect(db.$client.prepare('SELECT count(*) AS n FROM roots').get()).toEqual({ n: 0 });
  });

  describe('group commit (txUnsynced)', () => {
    let other: Database.Database;
    const insertRoot = (name: string) => () => db.$client.prepare('INSERT INTO roots (name, dir) VALUES (?, ?)').run(name, `/${name}`);
    const rootsSeenByOther = () => (other.prepare('SELECT name FROM roots ORDER BY name').pluck().all() as string[]).join(',');
    beforeEach(() => {
      other = new Database(path.join(dir, 'meta.db'), { readonly: true });
    });
    afterEach(() => other.close());

    it('keeps unsynced transactions in one open transaction until commitUnsynced, and NORMAL until a synced write', () => {
      txUnsynced(db, insertRoot('a'));
      txUnsynced(db, insertRoot('b'));
      expect(db.$client.inTransaction).toBe(true);
      expect(db.$client.prepare('SELECT count(*) FROM roots').pluck().get()).toBe(2); // its own connection reads them
      expect(rootsSeenByOther()).toBe('');
      expect(db.$client.pragma('synchronous', { simple: true })).toBe(1); // NORMAL: the WAL is synced by the caller
      commitUnsynced(db);
      expect(rootsSeenByOther()).toBe('a,b');
      expect(db.$client.inTransaction).toBe(false);
      // Left NORMAL: the next unsynced transaction needs no PRAGMA run (each one re-prepares).
      expect(db.$client.pragma('synchronous', { simple: true })).toBe(1);
      commitUnsynced(db); // nothing pending: nothing to do
      db.insert(users).values({ name: 'ann', passwordHash: 'x' }).run();
      expect(db.$client.pragma('synchronous', { simple: true })).toBe(2); // set before the write ran
      txUnsynced(db, insertRoot('c'));
      expect(db.$client.pragma('synchronous', { simple: true })).toBe(1);
    });

    it('undoes only the transaction that threw', () => {
      txUnsynced(db, insertRoot('a'));
      expect(() =>
        txUnsynced(db, () => {
          insertRoot('b')();
          throw new Error('abort');
        }),
      ).toThrow('abort');
      txUnsynced(db, insertRoot('c'));
      commitUnsynced(db);
      expect(rootsSeenByOther()).toBe('a,c');
    });

    it('commits the pending transaction before any other write: drizzle, tx, drizzle transaction, close', () => {
      txUnsynced(db, insertRoot('a'));
      db.select().from(roots).all(); // a read leaves it pending
      expect(rootsSeenByOther()).toBe('');
      db.insert(users).values({ name: 'ann', passwordHash: 'x' }).run();
      expect(rootsSeenByOther()).toBe('a');
      expect(db.$client.inTransaction).toBe(false);
      expect(db.$client.pragma('synchronous', { simple: true })).toBe(2); // the write itself ran synced

      const level = () => db.$client.pragma('synchronous', { simple: true });
      txUnsynced(db, insertRoot('b'));
      expect(tx(db, () => (db.$client.prepare("UPDATE users SET name = 'bob'").run(), level()))).toBe(2);
      expect(rootsSeenByOther()).toBe('a,b');

      txUnsynced(db, insertRoot('c'));
      expect(db.transaction((t) => (t.update(users).set({ name: 'cy' }).run(), level()))).toBe(2);
      expect(rootsSeenByOther()).toBe('a,b,c');
      expect(other.prepare('SELECT name FROM users').pluck().get()).toBe('cy');

      txUnsynced(db, insertRoot('d'));
      closeDb(db);
      expect(rootsSeenByOther()).toBe('a,b,c,d');
    });

    it('rolls the pending changes back and throws when their commit fails', () => {
      db.$client.exec('CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE child (p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)');
      txUnsynced(db, insertRoot('a'));
      txUnsynced(db, () => db.$client.prepare('INSERT INTO child (p) VALUES (42)').run()); // checked at commit
      expect(() => commitUnsynced(db)).toThrow(/FOREIGN KEY/);
      expect(db.$client.inTransaction).toBe(false);
      expect(db.$client.prepare('SELECT count(*) FROM roots').pluck().get()).toBe(0);
      db.update(users).set({ name: 'x' }).run();
      expect(db.$client.pragma('synchronous', { simple: true })).toBe(2); // a synced write sets FULL again
      txUnsynced(db, insertRoot('b')); // and the connection goes on
      commitUnsynced(db);
      expect(rootsSeenByOther()).toBe('b');
    });
  });

  // FilesRepo reads and writes entries with its own SQL (not drizzle's) on the hot path: a column
  // added to the schema must show up there too, typed as drizzle types it.
  it('reads an entry with every column of the schema, as drizzle would', () => {
    db.$client.prepare("INSERT INTO roots (name, dir) VALUES ('r', '/x')").run();
    const repo = new FilesRepo(db);
    const actor = { userId: 1, userName: 'ann', deviceId: null, deviceName: null, protocol: 'rest' };
    const [rec] = repo.record(1, actor, [{ path: 'a/b.txt', kind: 'file', op: 'create', deleted: false, hash: 'h1', size: 3, mtimeMs: 5, ino: 7, ctimeMs: 9 }]);
    const viaDrizzle = db.select().from(entries).where(eq(entries.path, 'a/b.txt')).get();
    expect(repo.entry(1, 'a/b.txt')).toEqual(viaDrizzle);
    expect(rec!.entry).toEqual(viaDrizzle);
    expect(rec!.change).toEqual(db.select().from(changes).where(eq(changes.seq, 1)).get());
    expect(repo.lastSeq(1)).toBe(1);
  });

  it('reads a root by name with every column of the schema, as drizzle would', () => {
    db.$client.prepare("INSERT INTO users (name, password_hash) VALUES ('ann', 'x')").run();
    const repo = new RootsRepo(db);
    repo.create('r', '/x', 1, '{"mode":"count","keep":3}');
    expect(repo.byName('r')).toEqual(db.select().from(roots).where(eq(roots.name, 'r')).get());
    expect(repo.byName('nope')).toBeUndefined();
  });
});

describe('migrations', () => {
  let dir: string;
  const opened: Db[] = [];
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'syncgate-db-'));
  });
  afterEach(() => {
    for (const db of opened.splice(0)) closeDb(db);
    rmSync(dir, { recursive: true, force: true });
  });

  it('0011 (folder records): a folder move recorded per path before it reads the same after it, and the next move is one record after them', () => {
    const file = path.join(dir, 'meta.db');
    databaseAt(file, '0010_moved_versions_by_source');
    const old = new Database(file);
    // d/a.txt created (seq 1, 2), then d moved to e per path: arrivals shallowest first, departures deepest first.
    old.exec(`
      INSERT INTO roots (id, name, dir) VALUES (1, 'docs', '/d');
      INSERT INTO entries (id, root_id, path, parent, name, kind, size, mtime_ms, hash, version, deleted, seq) VALUES
        (1, 1, 'd', '', 'd', 'dir', 0, 1, '', 2, 1, 6), (2, 1, 'd/a.txt', 'd', 'a.txt', 'file', 3, 1, 'h1', 2, 1, 5),
        (3, 1, 'e', '', 'e', 'dir', 0, 1, '', 2, 0, 3), (4, 1, 'e/a.txt', 'e', 'a.txt', 'file', 3, 1, 'h1', 2, 0, 4);
      INSERT INTO versions (id, root_id, path, version, seq, op, kind, deleted, hash, size, mtime_ms, user_name, protocol, from_path, from_version) VALUES
        (1, 1, 'd', 1, 1, 'mkdir', 'dir', 0, '', 0, 1, 'ann', 'webdav', NULL, NULL), (2, 1, 'd/a.txt', 1, 2, 'create', 'file', 0, 'h1', 3, 1, 'ann', 'webdav', NULL, NULL),
        (3, 1, 'e', 2, 3, 'move-in', 'dir', 0, '', 0, 1, 'ann', 'webdav', 'd', 1), (4, 1, 'e/a.txt', 2, 4, 'move-in', 'file', 0, 'h1', 3, 1, 'ann', 'webdav', 'd/a.txt', 1),
        (5, 1, 'd/a.txt', 2, 5, 'move-out', 'file', 1, 'h1', 3, 1, 'ann', 'webdav', NULL, NULL), (6, 1, 'd', 2, 6, 'move-out', 'dir', 1, '', 0, 1, 'ann', 'webdav', NULL, NULL);
      INSERT INTO changes (root_id, seq, path, op, kind, version, deleted, hash, size, mtime_ms, protocol, user_name, old_path) VALUES
        (1, 1, 'd', 'mkdir', 'dir', 1, 0, '', 0, 1, 'webdav', 'ann', NULL), (1, 2, 'd/a.txt', 'create', 'file', 1, 0, 'h1', 3, 1, 'webdav', 'ann', NULL),
        (1, 3, 'e', 'move-in', 'dir', 2, 0, '', 0, 1, 'webdav', 'ann', 'd'), (1, 4, 'e/a.txt', 'move-in', 'file', 2, 0, 'h1', 3, 1, 'webdav', 'ann', 'd/a.txt'),
        (1, 5, 'd/a.txt', 'move-out', 'file', 2, 1, 'h1', 3, 1, 'webdav', 'ann', NULL), (1, 6, 'd', 'move-out', 'dir', 2, 1, '', 0, 1, 'webdav', 'ann', NULL);`);
    old.close();

    const db = openDb(file);
    opened.push(db);
    const files = new FilesRepo(db);
    const line = (c: { seq: number; op: string; path: string; oldPath: string | null; version: number }) => `${c.seq} ${c.op} ${c.path} ${c.oldPath ?? '-'} v${c.version}`;
    const before = ['1 mkdir d - v1', '2 create d/a.txt - v1', '3 move-in e d v2', '4 move-in e/a.txt d/a.txt v2', '5 move-out d/a.txt - v2', '6 move-out d - v2'];
    expect(files.feed.after(1, 0, 100).map(line)).toEqual(before);
    files.recordTreeMove(1, { userId: null, userName: 'bob', protocol: 'rest', deviceId: null, deviceName: null }, 'e', 'f');
    commitUnsynced(db);
    const after = [...before, '7 move-in f e v3', '8 move-in f/a.txt e/a.txt v3', '9 move-out e/a.txt - v3', '10 move-out e - v3'];
    expect(files.lastSeq(1)).toBe(10);
    for (let cursor = 0; cursor <= 10; cursor += 1) {
      for (let limit = 1; limit <= 11; limit += 1) {
        const got: string[] = [];
        for (let c = cursor; ; ) {
          const page = files.feed.after(1, c, limit);
          got.push(...page.map(line));
          if (page.length < limit) break;
          c = page.at(-1)!.seq;
        }
        expect(got).toEqual(after.slice(cursor));
      }
    }
  });

  it('0003 (leaner writes) keeps every entry, version and change, and each root seq, of a database made before it', () => {
    const file = path.join(dir, 'meta.db');
    databaseAt(file, '0002_listing_index');
    const old = new Database(file);
    old.exec(`
      INSERT INTO roots (id, name, dir, seq) VALUES (1, 'docs', '/d', 2), (2, 'empty', '/e', 0);
      INSERT INTO entries (id, root_id, path, parent, name, kind, size, mtime_ms, hash, version, seq) VALUES (7, 1, 'a.txt', '', 'a.txt', 'file', 3, 1, 'h2', 2, 2);
      INSERT INTO versions (id, root_id, path, version, seq, op, kind, hash, size, mtime_ms, user_name, protocol) VALUES
        (1, 1, 'a.txt', 1, 1, 'create', 'file', 'h1', 3, 1, 'ann', 'webdav'), (2, 1, 'a.txt', 2, 2, 'write', 'file', 'h2', 3, 1, 'ann', 'ftp');
      INSERT INTO changes (root_id, seq, path, op, kind, version, hash, size, mtime_ms, protocol, user_name) VALUES
        (1, 1, 'a.txt', 'create', 'file', 1, 'h1', 3, 1, 'webdav', 'ann'), (1, 2, 'a.txt', 'write', 'file', 2, 'h2', 3, 1, 'ftp', 'ann');`);
    old.close();

    const db = openDb(file);
    opened.push(db);
    const files = new FilesRepo(db);
    expect([files.lastSeq(1), files.lastSeq(2)]).toEqual([2, 0]);
    expect(new HistoryRepo(db).versions(1, 'a.txt').map((v) => [v.id, v.version, v.hash, v.protocol])).toEqual([
      [2, 2, 'h2', 'ftp'],
      [1, 1, 'h1', 'webdav'],
    ]);
    expect(files.feed.after(1, 0, 10).map((c) => [c.seq, c.op, c.hash])).toEqual([
      [1, 'create', 'h1'],
      [2, 'write', 'h2'],
    ]);
    expect(files.liveWithHash('h2').map((e) => e.id)).toEqual([7]);
    expect(files.liveWithHash('h1')).toEqual([]); // an old version, no longer a head
    const schemaOf = (name: string) => (db.$client.prepare('SELECT sql FROM sqlite_master WHERE name = ?').get(name) as { sql: string } | undefined)?.sql;
    expect(schemaOf('changes')).toMatch(/WITHOUT ROWID/);
    expect(schemaOf('entries_hash')).toBeUndefined();
    // The clocks go on from where they were.
    const [next] = files.record(1, { userId: null, userName: 'ann', deviceId: null, deviceName: null, protocol: 'rest' }, [
      { path: 'a.txt', kind: 'file', op: 'write', deleted: false, hash: 'h3', size: 3, mtimeMs: 2, ino: 0 },
    ]);
    expect([next!.change.seq, next!.change.version, next!.entry.id]).toEqual([3, 3, 7]);
    expect(files.lastSeq(1)).toBe(3);
  });

  it('rebuild a table others refer to without deleting the rows that refer to it', () => {
    const db = openDb(path.join(dir, 'meta.db'));
    opened.push(db);
    db.$client.exec("INSERT INTO roots (id, name, dir) VALUES (1, 'docs', '/d')");
    new FilesRepo(db).record(1, { userId: null, userName: 'ann', deviceId: null, deviceName: null, protocol: 'rest' }, [
      { path: 'a.txt', kind: 'file', op: 'create', deleted: false, hash: 'h1', size: 1, mtimeMs: 1, ino: 0 },
    ]);
    // What drizzle-kit writes for a changed column of roots: a copy, DROP TABLE roots, a rename.
    const ddl = (db.$client.prepare("SELECT sql FROM sqlite_master WHERE name = 'roots'").get() as { sql: string }).sql;
    const rebuild = [
      'PRAGMA foreign_keys=OFF;',
      `${ddl.replace(/^CREATE TABLE [`"]?roots[`"]?/, 'CREATE TABLE `__new_roots`')};`,
      'INSERT INTO `__new_roots` SELECT * FROM `roots`;',
      'DROP TABLE `roots`;',
      'ALTER TABLE `__new_roots` RENAME TO `roots`;',
      'PRAGMA foreign_keys=ON;',
    ].join('--> statement-breakpoint\n');
    migrateDb(db, migrationsIn(path.join(dir, 'migrations'), undefined, { '9999_rebuild_roots': rebuild }));
    const count = (table: string) => (db.$client.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    expect([count('roots'), count('entries'), count('versions'), count('changes')]).toEqual([1, 1, 1, 1]);
    expect(db.$client.pragma('foreign_keys', { simple: true })).toBe(1);
  });
});
