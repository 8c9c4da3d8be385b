/**
 * The sync door's one view of the core. Everything the door asks of the core passes here, so moving
 * to the session-scoped connection (`core.connect(session)`, issue 24) changes this file only.
 */
import type { Readable } from 'node:stream';
import type {
  Change, ConflictInfo, ConflictResolution, Core, DeviceCredentials, DeviceCursorInfo, EntryInfo, ReadResult, RootInfo, Session, WriteResult,
} from '../../src/core/index.js';
import type { ChangePage } from '../../src/core/index.js';

export interface SyncCore {
  login(creds: DeviceCredentials, device: { uuid: string; name: string; address: string | null }): Promise<{ id: number; uuid: string; name: string; token: string; user: string }>;
  deviceSession(token: string, requestId: string, address: string | null): Session;
  roots(s: Session): RootInfo[];
  /** The root's last seq (durable or not). */
  seq(s: Session, root: string): Promise<number>;
  changes(s: Session, root: string, after: number, limit: number): Promise<ChangePage>;
  subscribe(s: Session, root: string, listener: (c: Change) => void): Promise<() => void>;
  setCursor(s: Session, root: string, cursor: number): Promise<DeviceCursorInfo>;
  stat(s: Session, root: string, path: string): Promise<EntryInfo>;
  read(s: Session, root: string, path: string, opts?: { version?: number; start?: number; end?: number }): Promise<ReadResult>;
  write(s: Session, root: string, path: string, source: AsyncIterable<Uint8Array> | Readable, opts: { baseVersion?: number; mtimeMs?: number }): Promise<WriteResult>;
  mkdir(s: Session, root: string, path: string): Promise<EntryInfo>;
  delete(s: Session, root: string, path: string, baseVersion?: number): Promise<void>;
  move(s: Session, root: string, from: string, to: string, baseVersion?: number): Promise<EntryInfo>;
  conflicts(s: Session, root: string): Promise<ConflictInfo[]>;
  resolve(s: Session, root: string, id: number, resolution: ConflictResolution): Promise<void>;
}

export function syncCore(core: Core): SyncCore {
  const { vfs } = core;
  return {
    login: (creds, device) => core.devices.login(creds, device),
    deviceSession: (token, requestId, address) => core.accounts.deviceSession(token, 'sync', requestId, address),
    roots: (s) => core.roots.list(s),
    seq: async (s, root) => (await vfs.stat(s, root, '')).seq,
    changes: (s, root, after, limit) => vfs.changes(s, root, after, limit),
    subscribe: (s, root, listener) => vfs.subscribe(s, root, listener),
    setCursor: (s, root, cursor) => core.devices.setCursor(s, root, cursor),
    stat: (s, root, path) => vfs.stat(s, root, path),
    read: (s, root, path, opts) => vfs.read(s, root, path, opts),
    // A sync client always knows its base: an outdated one gives a conflict copy, never an overwrite.
    write: (s, root, path, source, opts) => vfs.write(s, root, path, source, { ...opts, onConflict: 'copy', createParents: true }),
    mkdir: (s, root, path) => vfs.mkdir(s, root, path, { createParents: true }),
    delete: (s, root, path, baseVersion) => vfs.delete(s, root, path, { baseVersion }),
    move: (s, root, from, to, baseVersion) => vfs.move(s, root, from, to, { baseVersion }),
    conflicts: (s, root) => vfs.conflicts(s, root),
    resolve: async (s, root, id, resolution) => {
      await vfs.resolveConflict(s, root, id, resolution);
    },
  };
}
