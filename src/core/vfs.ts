import type { Readable } from 'node:stream';
import type { Session } from './session.js';
import type { Change, ConflictInfo, ConflictResolution, DeleteResult, EntryInfo, VersionInfo, WriteResult } from './types.js';
import type { ChangePage, ReadOptions, ReadResult, VfsReader } from './vfs-read.js';
import type { CopyOptions, MoveOptions, VfsWriter, WriteOptions } from './vfs-write.js';
import type { VfsRestore } from './vfs-restore.js';

/**
 * The virtual filesystem every door uses: one call per operation, a session on each.
 * Paths are raw client paths relative to the root ('' or '/' is the root itself).
 */
export class Vfs {
  constructor(
    private readonly reader: VfsReader,
    private readonly writer: VfsWriter,
    private readonly restorer: VfsRestore,
  ) {}

  stat(s: Session, root: string, path: string): Promise<EntryInfo> {
    return this.reader.stat(s, root, path);
  }
  list(s: Session, root: string, path: string): Promise<EntryInfo[]> {
    return this.reader.list(s, root, path);
  }

  listPages(s: Session, root: string, path: string, pageSize: number): AsyncGenerator<{ entries: EntryInfo[]; last: boolean }> {
    return this.reader.listPages(s, root, path, pageSize);
  }
  read(s: Session, root: string, path: string, opts?: ReadOptions): Promise<ReadResult> {
    return this.reader.read(s, root, path, opts);
  }
  history(s: Session, root: string, path: string): Promise<VersionInfo[]> {
    return this.reader.history(s, root, path);
  }
  deleted(s: Session, root: string, path?: string): Promise<EntryInfo[]> {
    return this.reader.deleted(s, root, path);
  }
  changes(s: Session, root: string, after: number, limit?: number): Promise<ChangePage> {
    return this.reader.changes(s, root, after, limit);
  }
  conflicts(s: Session, root: string, includeResolved?: boolean): Promise<ConflictInfo[]> {
    return this.reader.conflicts(s, root, includeResolved);
  }
  subscribe(s: Session, root: string, listener: (c: Change) => void): Promise<() => void> {
    return this.reader.subscribe(s, root, listener);
  }

  write(s: Session, root: string, path: string, source: Readable | AsyncIterable<Uint8Array>, opts?: WriteOptions): Promise<WriteResult> {
    return this.writer.write(s, root, path, source, opts);
  }
  mkdir(s: Session, root: string, path: string, opts?: { createParents?: boolean }): Promise<EntryInfo> {
    return this.writer.mkdir(s, root, path, opts);
  }
  delete(s: Session, root: string, path: string, opts?: { baseVersion?: number; baseSeq?: number; onConflict?: 'record' | 'fail' }): Promise<DeleteResult> {
    return this.writer.delete(s, root, path, opts);
  }
  move(s: Session, root: string, from: string, to: string, opts?: MoveOptions): Promise<EntryInfo> {
    return this.writer.move(s, root, from, to, opts);
  }
  copy(s: Session, root: string, from: string, to: string, opts?: CopyOptions): Promise<EntryInfo> {
    return this.writer.copy(s, root, from, to, opts);
  }
  restore(s: Session, root: string, path: string, version: number, from?: string): Promise<EntryInfo> {
    return this.restorer.restore(s, root, path, version, from);
  }
  resolveConflict(s: Session, root: string, id: number, resolution: ConflictResolution): Promise<EntryInfo | null> {
    return this.restorer.resolveConflict(s, root, id, resolution);
  }
  setMtime(s: Session, root: string, path: string, mtimeMs: number): Promise<EntryInfo> {
    return this.writer.setMtime(s, root, path, mtimeMs);
  }
}
