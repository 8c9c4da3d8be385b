/**
 * The client's local state in SQLite (outside the synced folder): linked folders with their cursor,
 * and per path the base version we hold with its hash and the fingerprint (size, mtime, inode) it
 * had on disk, so a restart knows what changed without uploading everything again.
 */
import Database from 'better-sqlite3';
import path from 'node:path';
import type { Kind } from '../sync-wire/index.js';

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

const SCHEMA = `
CREATE TABLE IF NOT EXISTS links (id INTEGER PRIMARY KEY, dir TEXT NOT NULL UNIQUE, root TEXT NOT NULL, cursor INTEGER NOT NULL DEFAULT 0, last_sync_at INTEGER);
CREATE TABLE IF NOT EXISTS files (
  link_id INTEGER NOT NULL REFERENCES links(id) ON DELETE CASCADE, path TEXT NOT NULL, kind TEXT NOT NULL,
  version INTEGER NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL, mtime_ms INTEGER NOT NULL, ino INTEGER NOT NULL,
  PRIMARY KEY (link_id, path)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS uploads (
  link_id INTEGER NOT NULL REFERENCES links(id) ON DELETE CASCADE, path TEXT NOT NULL, sha256 TEXT NOT NULL, id TEXT NOT NULL,
  PRIMARY KEY (link_id, path, sha256)) WITHOUT ROWID;
`;

export class ClientState {
  readonly db: Database.Database;

  constructor(home: string) {
    this.db = new Database(path.join(home, 'state.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
    this.db.exec(SCHEMA);
  }

  close(): void {
    this.db.close();
  }

  links(): LinkRow[] {
    return this.db.prepare('SELECT id, dir, root, cursor, last_sync_at AS lastSyncAt FROM links ORDER BY dir').all() as LinkRow[];
  }

  link(dir: string, root: string): LinkRow {
    this.db.prepare('INSERT INTO links (dir, root) VALUES (?, ?) ON CONFLICT(dir) DO UPDATE SET root = excluded.root').run(dir, root);
    return this.links().find((l) => l.dir === dir)!;
  }

  unlink(dir: string): boolean {
    return this.db.prepare('DELETE FROM links WHERE dir = ?').run(dir).changes > 0;
  }

  setCursor(linkId: number, cursor: number): void {
    this.db.prepare('UPDATE links SET cursor = ?, last_sync_at = ? WHERE id = ?').run(cursor, Date.now(), linkId);
  }

  files(linkId: number): Map<string, FileState> {
    const rows = this.db.prepare('SELECT path, kind, version, sha256, size, mtime_ms AS mtimeMs, ino FROM files WHERE link_id = ?').all(linkId) as FileState[];
    return new Map(rows.map((r) => [r.path, r]));
  }

  put(linkId: number, f: FileState): void {
    this.db
      .prepare('INSERT OR REPLACE INTO files (link_id, path, kind, version, sha256, size, mtime_ms, ino) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(linkId, f.path, f.kind, f.version, f.sha256, f.size, Math.trunc(f.mtimeMs), f.ino);
  }

  drop(linkId: number, p: string): void {
    this.db.prepare('DELETE FROM files WHERE link_id = ? AND path = ?').run(linkId, p);
  }

  /** A resumable upload under way for this content of this path (survives a crash). */
  uploadOf(linkId: number, p: string, sha256: string): string | undefined {
    const row = this.db.prepare('SELECT id FROM uploads WHERE link_id = ? AND path = ? AND sha256 = ?').get(linkId, p, sha256) as { id: string } | undefined;
    return row?.id;
  }

  setUpload(linkId: number, p: string, sha256: string, id: string | null): void {
    if (id === null) this.db.prepare('DELETE FROM uploads WHERE link_id = ? AND path = ?').run(linkId, p);
    else this.db.prepare('INSERT OR REPLACE INTO uploads (link_id, path, sha256, id) VALUES (?, ?, ?, ?)').run(linkId, p, sha256, id);
  }

  /** Forgets everything known of a link's files (a rescan after a stale cursor). */
  reset(linkId: number): void {
    this.db.prepare('DELETE FROM files WHERE link_id = ?').run(linkId);
    this.db.prepare('UPDATE links SET cursor = 0 WHERE id = ?').run(linkId);
  }
}
