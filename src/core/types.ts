/** Shapes the core hands to doors. Plain data: no rows, no streams, no library types. */
export type EntryKind = 'file' | 'dir';

export interface EntryInfo {
  root: string;
  path: string;
  name: string;
  kind: EntryKind;
  size: number;
  mtimeMs: number;
  /** SHA-256 hex of the content, '' for folders. */
  hash: string;
  version: number;
  deleted: boolean;
  /** Root sequence number of the last change to this path. */
  seq: number;
  /** Strong HTTP entity tag derived from the version and content. */
  etag: string;
}

/**
 * What a plain file listing shows of an entry (FTP LIST/MLSD/NLST): `listPages`' 'brief'
 * projection reads only these columns and hands SQLite's rows on as they are.
 */
export interface BriefEntry {
  name: string;
  kind: EntryKind;
  size: number;
  mtimeMs: number;
}

export type ChangeOp =
  | 'create'
  | 'write'
  | 'delete'
  | 'mkdir'
  | 'move-in'
  | 'move-out'
  | 'copy'
  | 'restore'
  | 'resolve'
  | 'conflict-copy'
  | 'mtime';

export interface VersionInfo {
  path: string;
  version: number;
  seq: number;
  op: ChangeOp;
  kind: EntryKind;
  deleted: boolean;
  hash: string;
  size: number;
  mtimeMs: number;
  user: string;
  device: string | null;
  protocol: string;
  createdAt: number;
  /** False once retention pruned the content (or an in-place disk edit destroyed it). */
  available: boolean;
  /**
   * A move's arrival: the path the file came from and its version there. History follows the file:
   * the versions it had before a move are listed after the arrival with their own `path`.
   */
  fromPath: string | null;
  fromVersion: number | null;
}

export interface Change {
  root: string;
  seq: number;
  path: string;
  op: ChangeOp;
  kind: EntryKind;
  version: number;
  deleted: boolean;
  hash: string;
  size: number;
  mtimeMs: number;
  oldPath: string | null;
  protocol: string;
  user: string;
  /** The device that made the change (sync clients), for echo suppression; null for other doors. */
  deviceId: number | null;
  device: string | null;
  createdAt: number;
}

export interface ConflictInfo {
  id: number;
  root: string;
  path: string;
  /** See ConflictKind; only 'edit-edit' has a copy ('' otherwise). */
  kind: ConflictKind;
  copyPath: string;
  /** The root's policy that decided it. */
  policy: ConflictPolicy;
  /**
   * Whose content `path` shows after the policy: 'server' (the head stayed: the incoming content is
   * at copyPath, or held with this record when copyPath is ''), or 'incoming' (it became the head, or
   * brought a deleted file back: the server's version `serverVersion` is in history).
   */
  kept: 'server' | 'incoming';
  baseVersion: number;
  serverVersion: number;
  incomingHash: string;
  device: string;
  user: string;
  createdAt: number;
  resolvedAt: number | null;
  resolution: ConflictResolution | null;
}

/**
 * incoming-server. 'edit-edit': two edits of one base, the incoming kept as a copy. 'delete-edit':
 * an outdated delete, which deleted nothing. 'edit-delete': an edit whose base was since deleted,
 * which brought the file back (design invariant 9).
 */
export type ConflictKind = 'edit-edit' | 'delete-edit' | 'edit-delete';

/**
 * What a root does with a write or delete whose base is outdated (docs/conflict-policy.md).
 * 'keep-both': the head stays, the incoming content becomes a conflict copy. 'newest-wins': the
 * content with the later modification time becomes the head, the other is kept in history (or
 * with the record). 'server-wins': the head stays, the incoming content is kept with the record.
 * Every one leaves a conflict record: nothing acknowledged is lost and the user can undo it.
 */
export type ConflictPolicy = 'keep-both' | 'newest-wins' | 'server-wins';
export const CONFLICT_POLICIES: readonly ConflictPolicy[] = ['keep-both', 'newest-wins', 'server-wins'];

export type ConflictResolution = 'keep-server' | 'keep-incoming' | 'keep-both';

/**
 * What a delete left. Empty lists: everything asked went. A folder deleted with a `baseSeq` keeps
 * the files changed after it (invariant 9) and the folders above them: `kept` names those files,
 * `conflicts` holds the 'delete-edit' record of each, in the same order.
 */
export interface DeleteResult {
  kept: EntryInfo[];
  conflicts: ConflictInfo[];
}

export interface WriteResult {
  entry: EntryInfo;
  created: boolean;
  /** The content equalled the head: nothing was recorded. */
  unchanged: boolean;
  /**
   * The conflict record this write left (its base was outdated, or its file deleted since). `entry`
   * is the conflict copy when the policy kept both (`conflict.copyPath`), else the file itself.
   */
  conflict?: ConflictInfo;
}

export type RetentionPolicy =
  | { mode: 'all' }
  | { mode: 'count'; keep: number }
  | { mode: 'days'; days: number }
  | { mode: 'staggered'; maxAgeDays: number };

export interface RootInfo {
  id: number;
  name: string;
  owner: string | null;
  access: 'owner' | 'read' | 'write';
  retention: RetentionPolicy;
  conflictPolicy: ConflictPolicy;
  seq: number;
}

/** A root as an admin manages it: who owns it, who it is shared with, how long it keeps versions. */
export interface AdminRootInfo {
  name: string;
  owner: string | null;
  /** The admin's own access to its files: null when it neither owns it nor was granted it. */
  access: 'owner' | 'read' | 'write' | null;
  retention: RetentionPolicy;
  conflictPolicy: ConflictPolicy;
  grants: { user: string; mode: 'read' | 'write' }[];
}

