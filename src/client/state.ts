/**
 * The client's local state in SQLite (outside the synced folder): linked folders with their cursor,
 * and per path the base version we hold with its hash and the fingerprint (size, mtime, inode) it
 * had on disk, so a restart knows what changed without uploading everything again. Rows are read
 * by path or by folder (a watch pass touches a few paths, never the whole table) or streamed.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import type { Kind } from '../sync-wire/index.js';
import { syncChangedFolders } from './folder-sync.js';

export interface LinkRow {
  id: number;
  dir: string;
  root: string;
  cursor: number;
  lastSyncAt: number | null;
}

export interface FileState {
  path: string;
  kind: Kind;
  version: number;
  sha256: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

/** A selective-sync rule of a link: `only` (sync just these sub-folders) or `exclude` (never these). */
export interface SelectionRule {
  path: string;
  rule: 'only' | 'exclude';
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS links (id INTEGER PRIMARY KEY, dir TEXT NOT NULL UNIQUE, root TEXT NOT NULL, cursor INTEGER NOT NULL DEFAULT 0, last_sync_at INTEGER);
CREATE TABLE IF NOT EXISTS files (
  link_id INTEGER NOT NULL REFERENCES links(id) ON DELETE CASCADE, path TEXT NOT NULL, kind TEXT NOT NULL,
  version INTEGER NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL, mtime_ms INTEGER NOT NULL, ino INTEGER NOT NULL,
  PRIMARY KEY (link_id, path)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS uploads (
  link_id INTEGER NOT NULL REFERENCES links(id) ON DELETE CASCADE, path TEXT NOT NULL, sha256 TEXT NOT NULL, id TEXT NOT NULL,
  PRIMARY KEY (link_id, path, sha256)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS selection (
  link_id INTEGER NOT NULL REFERENCES links(id) ON DELETE CASCADE, path TEXT NOT NULL, rule TEXT NOT NULL,
  PRIMARY KEY (link_id, path)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS link_folder (
  link_id INTEGER PRIMARY KEY REFERENCES links(id) ON DELETE CASCADE, ino INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS refetch (
  link_id INTEGER NOT NULL REFERENCES links(id) ON DELETE CASCADE, path TEXT NOT NULL,
  PRIMARY KEY (link_id, path)) WITHOUT ROWID;
`;

const COLS = 'path, kind, version, sha256, size, mtime_ms AS mtimeMs, ino';
const BATCH_ROWS = 1000;
const BATCH_MS = 1000;
/** The page cache of the state database, in KiB (see the constructor). */
const CACHE_KIB = 2048;

export class ClientState {
  readonly db: Database.Database;
  private readonly stmts = new Map<string, Database.Statement>();

  constructor(home: string) {
    this.db = new Database(path.join(home, 'state.db'));
    this.db.pragma('journal_mode = WAL');
    // WAL with NORMAL: a commit is not fsynced (the file writes are); a power cut may lose the last
    // rows, which the next pass finds again by hash. Per-commit fsyncs cost each watch pass milliseconds.
    this.db.pragma('synchronous = NORMAL');
    // better-sqlite3 builds SQLite with a 16 MB page cache per connection: the state of 100,000 files
    // (about 13 MB) came to sit in the client's memory whole by the end of a first sync. Pages
    // missed are read again from the OS's cache (a pread each).
    this.db.pragma(`cache_size = -${CACHE_KIB}`);
    this.db.pragma('foreign_keys = ON');
    this.db.exec(SCHEMA);
  }

  /**
   * Writes of the passes running (several links may run at once) go in shared transactions: a pass
   * of 10,000 files made 10,000 commits. Committed every BATCH_ROWS rows or BATCH_MS (another
   * process of the client, `status` or `link`, waits for at most that), and when the last pass ends,
   * before it moves the cursor. A crash loses at most the rows of one batch: the next pass finds
   * those files again by hash (as after a power cut, see synchronous above), and sends nothing again.
   */
  private batches = 0;
  private batchRows = 0;
  private batchSince = 0;

  beginBatch(): void {
    if (this.batches++ > 0 || this.db.inTransaction) return;
    this.db.exec('BEGIN');
    this.batchRows = 0;
    this.batchSince = Date.now();
  }

  /** Between two paths of a pass (never inside a transaction of ours): commits a full batch. */
  commitBatchIfFull(): void {
    if (this.batches === 0 || !this.db.inTransaction) return;
    if (this.batchRows < BATCH_ROWS && Date.now() - this.batchSince < BATCH_MS) return;
    this.commit();
    this.db.exec('BEGIN');
    this.batchRows = 0;
    this.batchSince = Date.now();
  }

  endBatch(): void {
    if (this.batches === 0) return;
    this.batches -= 1;
    if (this.batches === 0 && this.db.inTransaction) this.commit();
  }

  /** The folders whose renames these rows describe are synced first (see folder-sync.ts). */
  private commit(): void {
    syncChangedFolders();
    this.db.exec('COMMIT');
  }

  private q(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) this.stmts.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  close(): void {
    if (this.db.inTransaction && this.batches > 0) this.commit();
    this.db.close();
  }

  links(): LinkRow[] {
    return this.q('SELECT id, dir, root, cursor, last_sync_at AS lastSyncAt FROM links ORDER BY dir').all() as LinkRow[];
  }

  link(dir: string, root: string): LinkRow {
    this.q('INSERT INTO links (dir, root) VALUES (?, ?) ON CONFLICT(dir) DO UPDATE SET root = excluded.root').run(dir, root);
    return this.links().find((l) => l.dir === dir)!;
  }

  unlink(dir: string): boolean {
    return this.q('DELETE FROM links WHERE dir = ?').run(dir).changes > 0;
  }

  /** The inode the linked folder had when it was first synced (linked-folder.ts). */
  folderInode(linkId: number): number | undefined {
    return (this.q('SELECT ino FROM link_folder WHERE link_id = ?').get(linkId) as { ino: number } | undefined)?.ino;
  }

  setFolderInode(linkId: number, ino: number): void {
    this.q('INSERT INTO link_folder (link_id, ino) VALUES (?, ?) ON CONFLICT(link_id) DO UPDATE SET ino = excluded.ino').run(linkId, ino);
  }

  hasFiles(linkId: number): boolean {
    return this.q('SELECT 1 FROM files WHERE link_id = ? LIMIT 1').get(linkId) !== undefined;
  }

  setCursor(linkId: number, cursor: number): void {
    this.q('UPDATE links SET cursor = ?, last_sync_at = ? WHERE id = ?').run(cursor, Date.now(), linkId);
  }

  /**
   * The rows below the folder `top` ('' = all) in pages of 2,000 (a full pass of 100,000 files never
   * holds them all); writes between pages are fine (no statement stays open).
   */
  *pagesUnder(linkId: number, top: string): Generator<FileState> {
    const [lo, hi] = top ? [`${top}/`, `${top}0`] : ['', '\u{10FFFF}'];
    let after = '';
    for (;;) {
      const rows = this.q(`SELECT ${COLS} FROM files WHERE link_id = ? AND path >= ? AND path < ? AND path > ? ORDER BY path LIMIT 2000`).all(linkId, lo, hi, after) as FileState[];
      yield* rows;
      if (rows.length < 2000) return;
      after = rows[rows.length - 1]!.path;
    }
  }

  /**
   * Every inode the link's rows name, sorted (a new entry with one of them may be a renamed file).
   * Numbers in one typed array: 800 KB for 100,000 rows, no object per row.
   */
  inodes(linkId: number): Float64Array {
    let out = new Float64Array(1024);
    let n = 0;
    for (const ino of this.q('SELECT ino FROM files WHERE link_id = ?').pluck().iterate(linkId) as IterableIterator<number>) {
      if (n === out.length) {
        const more = new Float64Array(n * 2);
        more.set(out);
        out = more;
      }
      out[n++] = ino;
    }
    return out.subarray(0, n).sort();
  }

  count(linkId: number): number {
    return (this.q('SELECT count(*) AS n FROM files WHERE link_id = ?').get(linkId) as { n: number }).n;
  }

  file(linkId: number, p: string): FileState | undefined {
    return this.q(`SELECT ${COLS} FROM files WHERE link_id = ? AND path = ?`).get(linkId, p) as FileState | undefined;
  }

  /** The rows strictly below the folder `p` ('' = all). */
  under(linkId: number, p: string): FileState[] {
    if (!p) return this.q(`SELECT ${COLS} FROM files WHERE link_id = ?`).all(linkId) as FileState[];
    // '/' + 1 is '0': the range [p/, p0) holds exactly the paths below p.
    return this.q(`SELECT ${COLS} FROM files WHERE link_id = ? AND path >= ? AND path < ?`).all(linkId, `${p}/`, `${p}0`) as FileState[];
  }

  put(linkId: number, f: FileState): void {
    this.q('INSERT OR REPLACE INTO files (link_id, path, kind, version, sha256, size, mtime_ms, ino) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(linkId, f.path, f.kind, f.version, f.sha256, f.size, Math.trunc(f.mtimeMs), f.ino);
    this.batchRows += 1;
  }

  drop(linkId: number, p: string): void {
    this.q('DELETE FROM files WHERE link_id = ? AND path = ?').run(linkId, p);
    this.batchRows += 1;
  }

  /** Renames `from` and everything below it to `to`, keeping bases (the gateway moved them as they were). */
  renameTree(linkId: number, from: string, to: string): FileState[] {
    const rows = [this.file(linkId, from), ...this.under(linkId, from)].filter((r): r is FileState => r !== undefined);
    const moved = rows.map((r) => ({ ...r, path: to + r.path.slice(from.length) }));
    this.db.transaction(() => {
      for (const r of rows) this.drop(linkId, r.path);
      for (const r of moved) this.put(linkId, r);
    })();
    return moved;
  }

  /** A resumable upload under way for this content of this path (survives a crash). */
  uploadOf(linkId: number, p: string, sha256: string): string | undefined {
    const row = this.q('SELECT id FROM uploads WHERE link_id = ? AND path = ? AND sha256 = ?').get(linkId, p, sha256) as { id: string } | undefined;
    return row?.id;
  }

  setUpload(linkId: number, p: string, sha256: string, id: string | null): void {
    if (id === null) this.q('DELETE FROM uploads WHERE link_id = ? AND path = ?').run(linkId, p);
    else this.q('INSERT OR REPLACE INTO uploads (link_id, path, sha256, id) VALUES (?, ?, ?, ?)').run(linkId, p, sha256, id);
    // A big upload resumes after a crash only if its id outlives the crash: committed now.
    this.batchRows = BATCH_ROWS;
    this.commitBatchIfFull();
  }

  /** Forgets everything known of a link's files (a rescan after a stale cursor). */
  reset(linkId: number): void {
    this.q('DELETE FROM files WHERE link_id = ?').run(linkId);
    this.q('UPDATE links SET cursor = 0 WHERE id = ?').run(linkId);
  }

  selection(linkId: number): SelectionRule[] {
    return this.q('SELECT path, rule FROM selection WHERE link_id = ? ORDER BY path').all(linkId) as SelectionRule[];
  }

  /** Replaces a link's rules; folders that become selected are fetched whole at the next pass. */
  setSelection(linkId: number, rules: SelectionRule[], fetch: string[]): void {
    this.db.transaction(() => {
      this.q('DELETE FROM selection WHERE link_id = ?').run(linkId);
      for (const r of rules) this.q('INSERT OR REPLACE INTO selection (link_id, path, rule) VALUES (?, ?, ?)').run(linkId, r.path, r.rule);
      for (const p of fetch) this.q('INSERT OR REPLACE INTO refetch (link_id, path) VALUES (?, ?)').run(linkId, p);
    })();
  }

  /** `p` and what is below it are fetched from the feed's start at the next passes, until applied. */
  addRefetch(linkId: number, p: string): void {
    this.q('INSERT OR REPLACE INTO refetch (link_id, path) VALUES (?, ?)').run(linkId, p);
  }

  refetches(linkId: number): string[] {
    return (this.q('SELECT path FROM refetch WHERE link_id = ?').all(linkId) as { path: string }[]).map((r) => r.path);
  }

  doneRefetch(linkId: number, p: string): void {
    this.q('DELETE FROM refetch WHERE link_id = ? AND path = ?').run(linkId, p);
  }
}
