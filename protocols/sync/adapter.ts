/**
 * The sync door's one view of the core: every call goes through the session's connection
 * (`core.connect(session)`), except the device login that makes the session.
 */
import type { Readable } from 'node:stream';
import type {
  AppendResult, Change, ChangePage, ConflictInfo, ConflictResolution, Core, DeleteResult, DeviceCredentials, DeviceCursorInfo, EntryInfo, Follower, NewUpload, ReadResult, RootInfo, Session, UploadInfo, WriteResult,
} from '../../src/core/index.js';

export interface SyncCore {
  login(creds: DeviceCredentials, device: { uuid: string; name: string; address: string | null }): Promise<{ id: number; uuid: string; name: string; token: string; user: string }>;
  deviceSession(token: string, requestId: string, address: string | null): Promise<Session>;
  roots(s: Session): RootInfo[];
  /** The root's last seq (durable or not). */
  seq(s: Session, root: string): Promise<number>;
  changes(s: Session, root: string, after: number, limit: number): Promise<ChangePage>;
  /** Replays the feed after `after`, then live changes: no gap, no duplicate. */
  follow(s: Session, root: string, after: number, deliver: (c: Change) => void, onEnd: (err?: unknown) => void): Promise<Follower>;
  setCursor(s: Session, root: string, cursor: number): Promise<DeviceCursorInfo>;
  stat(s: Session, root: string, path: string): Promise<EntryInfo>;
  read(s: Session, root: string, path: string, opts?: { version?: number; start?: number; end?: number }): Promise<ReadResult>;
  write(s: Session, root: string, path: string, source: AsyncIterable<Uint8Array> | Readable, opts: { baseVersion?: number; mtimeMs?: number; sha256?: string | (() => string) }): Promise<WriteResult>;
  createUpload(s: Session, input: NewUpload): Promise<UploadInfo>;
  upload(s: Session, id: string): Promise<UploadInfo>;
  appendUpload(s: Session, id: string, offset: number, source: AsyncIterable<Uint8Array>): Promise<AppendResult>;
  finishUpload(s: Session, id: string, sha256?: string): Promise<WriteResult>;
  mkdir(s: Session, root: string, path: string): Promise<EntryInfo>;
  /** `baseSeq`: a folder's delete keeps what changed after that seq of the feed (DeleteResult.kept). */
  delete(s: Session, root: string, path: string, base: { version?: number; seq?: number }): Promise<DeleteResult>;
  move(s: Session, root: string, from: string, to: string, baseVersion?: number): Promise<EntryInfo>;
  conflicts(s: Session, root: string): Promise<ConflictInfo[]>;
  resolve(s: Session, root: string, id: number, resolution: ConflictResolution): Promise<void>;
}

export function syncCore(core: Core): SyncCore {
  const c = (s: Session) => core.connect(s);
  return {
    // Before a session exists: a device logs in (password, API token or pairing code).
    async login(creds, device) {
      const cred = 'pairingCode' in creds ? { kind: 'pairing-code' as const, code: creds.pairingCode } : { kind: 'password' as const, user: creds.user, secret: creds.password };
      const session = await core.authenticate(cred, { protocol: 'sync', requestId: 'login', address: device.address ?? undefined });
      const d = c(session).registerDevice(device.uuid, device.name);
      return { ...d, user: session.user.name };
    },
    deviceSession: (token, requestId, address) => core.authenticate({ kind: 'device', token }, { protocol: 'sync', requestId, address: address ?? undefined }),
    roots: (s) => c(s).roots(),
    seq: async (s, root) => (await c(s).stat(root, '')).seq,
    changes: (s, root, after, limit) => c(s).changes(root, after, limit),
    follow: (s, root, after, deliver, onEnd) => c(s).follow(root, deliver, { after, onEnd }),
    setCursor: (s, root, cursor) => c(s).setDeviceCursor(root, cursor),
    stat: (s, root, path) => c(s).stat(root, path),
    read: (s, root, path, opts) => c(s).read(root, path, opts),
    // A sync client always knows its base: an outdated one gives a conflict copy, never an overwrite.
    write: (s, root, path, source, opts) => c(s).write(root, path, source, { ...opts, onConflict: 'copy', createParents: true }),
    createUpload: (s, input) => c(s).createUpload({ ...input, onConflict: 'copy' }),
    upload: (s, id) => c(s).upload(id),
    appendUpload: (s, id, offset, source) => c(s).appendUpload(id, offset, source),
    finishUpload: (s, id, sha256) => c(s).finishUpload(id, sha256),
    mkdir: (s, root, path) => c(s).mkdir(root, path, { createParents: true }),
    // An outdated delete deletes nothing; the client is not asked, so a conflict record tells of it.
    delete: (s, root, path, base) => c(s).delete(root, path, { baseVersion: base.version, baseSeq: base.seq, onConflict: 'record' }),
    move: (s, root, from, to, baseVersion) => c(s).move(root, from, to, { baseVersion }),
    conflicts: (s, root) => c(s).conflicts(root),
    resolve: async (s, root, id, resolution) => {
      await c(s).resolveConflict(root, id, resolution);
    },
  };
}
