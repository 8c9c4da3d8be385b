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
  deviceSession(token: string, requestId: string, address: string | null): Promise<Session>;
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
  return {
    async login(creds, device) {
      const cred = 'pairingCode' in creds ? { kind: 'pairing-code' as const, code: creds.pairingCode } : { kind: 'password' as const, user: creds.user, secret: creds.password };
      const session = await core.authenticate(cred, { protocol: 'sync', requestId: 'login', address: device.address ?? undefined });
      const d = core.connect(session).registerDevice(device.uuid, device.name);
      return { ...d, user: session.user.name };
    },
    deviceSession: (token, requestId, address) => core.authenticate({ kind: 'device', token }, { protocol: 'sync', requestId, address: address ?? undefined }),
    roots: (s) => core.connect(s).roots(),
    seq: async (s, root) => (await core.connect(s).stat(root, '')).seq,
    changes: (s, root, after, limit) => core.connect(s).changes(root, after, limit),
    subscribe: (s, root, listener) => core.connect(s).subscribe(root, listener),
    setCursor: (s, root, cursor) => core.connect(s).setDeviceCursor(root, cursor),
    stat: (s, root, path) => core.connect(s).stat(root, path),
    read: (s, root, path, opts) => core.connect(s).read(root, path, opts),
    // A sync client always knows its base: an outdated one gives a conflict copy, never an overwrite.
    write: (s, root, path, source, opts) => core.connect(s).write(root, path, source, { ...opts, onConflict: 'copy', createParents: true }),
    mkdir: (s, root, path) => core.connect(s).mkdir(root, path, { createParents: true }),
    delete: (s, root, path, baseVersion) => core.connect(s).delete(root, path, { baseVersion }),
    move: (s, root, from, to, baseVersion) => core.connect(s).move(root, from, to, { baseVersion }),
    conflicts: (s, root) => core.connect(s).conflicts(root),
    resolve: async (s, root, id, resolution) => {
      await core.connect(s).resolveConflict(root, id, resolution);
    },
  };
}
