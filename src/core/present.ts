import type { ConflictRow } from '../db/conflicts-repo.js';
import type { ChangeRow, EntryRow, VersionRow } from '../db/files-repo.js';
import type { Actor } from '../db/files-repo.js';
import type { Session } from './session.js';
import { etagOf } from '../lib/etag.js';
import { type Change, type ChangeOp, type ConflictInfo, type ConflictResolution, type EntryInfo, type VersionInfo } from './types.js';

/** Row -> plain shape conversions: rows never leave the core. */
export function entryInfo(root: string, row: EntryRow): EntryInfo {
  return {
    root,
    path: row.path,
    name: row.name,
    kind: row.kind,
    size: row.size,
    mtimeMs: row.mtimeMs,
    hash: row.hash,
    version: row.version,
    deleted: row.deleted,
    seq: row.seq,
    etag: etagOf(row.version, row.hash),
  };
}

export function rootEntryInfo(root: string, seq: number, mtimeMs: number): EntryInfo {
  return { root, path: '', name: '', kind: 'dir', size: 0, mtimeMs, hash: '', version: 1, deleted: false, seq, etag: etagOf(seq, '') };
}

/** `storedAgain`: for a version whose content was lost, whether the same bytes are stored now. */
export function versionInfo(row: VersionRow, storedAgain = false): VersionInfo {
  return {
    path: row.path,
    version: row.version,
    seq: row.seq,
    op: row.op as ChangeOp,
    kind: row.kind,
    deleted: row.deleted,
    hash: row.hash,
    size: row.size,
    mtimeMs: row.mtimeMs,
    user: row.userName,
    device: row.deviceName,
    protocol: row.protocol,
    createdAt: row.createdAt,
    available: !row.contentGone && (!row.contentLost || storedAgain) && !row.deleted && row.kind === 'file',
    fromPath: row.fromPath,
    fromVersion: row.fromVersion,
  };
}

export function changeInfo(root: string, row: ChangeRow, device: { id: number | null; name: string | null } = { id: null, name: null }): Change {
  return {
    root,
    seq: row.seq,
    path: row.path,
    op: row.op as ChangeOp,
    kind: row.kind,
    version: row.version,
    deleted: row.deleted,
    hash: row.hash,
    size: row.size,
    mtimeMs: row.mtimeMs,
    oldPath: row.oldPath,
    protocol: row.protocol,
    user: row.userName,
    deviceId: device.id,
    device: device.name,
    createdAt: row.createdAt,
  };
}

export function conflictInfo(root: string, row: ConflictRow): ConflictInfo {
  return {
    id: row.id,
    root,
    path: row.path,
    kind: row.kind,
    copyPath: row.copyPath,
    policy: row.policy,
    kept: row.kept,
    baseVersion: row.baseVersion,
    serverVersion: row.serverVersion,
    incomingHash: row.incomingHash,
    device: row.deviceName,
    user: row.userName,
    createdAt: row.createdAt,
    resolvedAt: row.resolvedAt,
    resolution: row.resolution as ConflictResolution | null,
  };
}

export function actorOf(session: Session): Actor {
  return {
    userId: session.user.id === 0 ? null : session.user.id,
    userName: session.user.name,
    deviceId: session.device?.id ?? null,
    deviceName: session.device?.name ?? null,
    protocol: session.protocol,
  };
}
