import type { Change, ConflictInfo, EntryInfo, WriteResult } from '../../src/core/index.js';
import type { WireChange, WireConflict, WireEntry, WriteResponse } from '../../src/sync-wire/index.js';

/** Core shapes -> wire shapes: what goes out is fixed here, whatever the core adds. */
export function wireChange(c: Change): WireChange {
  return {
    seq: c.seq,
    path: c.path,
    op: c.op,
    kind: c.kind,
    version: c.version,
    deleted: c.deleted,
    sha256: c.hash,
    size: c.size,
    mtimeMs: c.mtimeMs,
    oldPath: c.oldPath,
    door: c.protocol,
    user: c.user,
    deviceId: c.deviceId,
    device: c.device,
  };
}

export function wireEntry(e: EntryInfo): WireEntry {
  return { path: e.path, kind: e.kind, version: e.version, sha256: e.hash, size: e.size, mtimeMs: e.mtimeMs, seq: e.seq };
}

export function wireConflict(c: ConflictInfo): WireConflict {
  return {
    id: c.id,
    path: c.path,
    kind: c.kind,
    policy: c.policy,
    kept: c.kept,
    copyPath: c.copyPath,
    baseVersion: c.baseVersion,
    serverVersion: c.serverVersion,
    device: c.device,
    createdAt: c.createdAt,
    resolvedAt: c.resolvedAt,
    resolution: c.resolution,
  };
}

export function wireWrite(r: WriteResult): WriteResponse {
  return { entry: wireEntry(r.entry), unchanged: r.unchanged, conflict: r.conflict ? wireConflict(r.conflict) : null };
}
