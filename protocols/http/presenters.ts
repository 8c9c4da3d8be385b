import type { ConflictInfo, EntryInfo, RootInfo, UserInfo, VersionInfo, WriteResult } from '../../src/core/index.js';

/** Response shapes of the REST API: the only place that decides what goes out as JSON. */
export function presentEntry(e: EntryInfo) {
  return {
    path: e.path,
    name: e.name,
    kind: e.kind,
    size: e.kind === 'file' ? e.size : 0,
    mtime: new Date(e.mtimeMs).toISOString(),
    mtimeMs: e.mtimeMs,
    hash: e.hash || null,
    version: e.version,
    etag: e.etag,
    seq: e.seq,
    ...(e.deleted ? { deleted: true } : {}),
  };
}

export function presentWrite(r: WriteResult) {
  return {
    entry: presentEntry(r.entry),
    created: r.created,
    unchanged: r.unchanged,
    ...(r.conflict ? { conflict: presentConflict(r.conflict) } : {}),
  };
}

export function presentVersion(v: VersionInfo) {
  return {
    // The path the version was made at: an earlier one for versions from before a move.
    path: v.path,
    fromPath: v.fromPath,
    fromVersion: v.fromVersion,
    version: v.version,
    seq: v.seq,
    op: v.op,
    kind: v.kind,
    deleted: v.deleted,
    hash: v.hash || null,
    size: v.size,
    mtimeMs: v.mtimeMs,
    user: v.user,
    device: v.device,
    protocol: v.protocol,
    createdAt: new Date(v.createdAt).toISOString(),
    available: v.available,
  };
}

export function presentConflict(c: ConflictInfo) {
  return {
    id: c.id,
    path: c.path,
    kind: c.kind,
    policy: c.policy,
    kept: c.kept,
    copyPath: c.copyPath,
    baseVersion: c.baseVersion,
    serverVersion: c.serverVersion,
    incomingHash: c.incomingHash,
    device: c.device,
    user: c.user,
    createdAt: new Date(c.createdAt).toISOString(),
    resolvedAt: c.resolvedAt === null ? null : new Date(c.resolvedAt).toISOString(),
    resolution: c.resolution,
  };
}

export function presentRoot(r: RootInfo) {
  return { name: r.name, owner: r.owner, access: r.access, retention: r.retention, conflictPolicy: r.conflictPolicy, seq: r.seq };
}

export function presentUser(u: UserInfo) {
  return { id: u.id, name: u.name, isAdmin: u.isAdmin, disabled: u.disabled, createdAt: new Date(u.createdAt).toISOString() };
}

export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
