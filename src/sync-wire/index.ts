/**
 * The sync protocol's wire format, shared by the gateway's sync door (protocols/sync) and the
 * companion client (src/client). It imports neither side (nothing of the project at all), so the
 * client ships without the server and the two cannot drift apart silently.
 *
 * HTTP, under PREFIX on the gateway's HTTP port, authenticated with `Authorization: Bearer sgd_...`
 * (the device token from POST /login), plus one WebSocket at PREFIX/ws for pushed changes.
 *   POST   /login                                  LoginRequest -> LoginResponse (no token needed)
 *   GET    /roots                                  -> RootsResponse
 *   GET    /roots/:root/changes?after=N&limit=M    -> ChangesPage (410 STALE_CURSOR: rescan)
 *   PUT    /roots/:root/cursor                     CursorRequest -> CursorResponse
 *   GET    /roots/:root/file?path=P                whole content, Range honoured; HEADER.* headers
 *   POST   /roots/:root/delta?path=P               body: the client's librsync signature -> delta to the head
 *   GET    /roots/:root/signature?path=P           the head's librsync signature (cached per content hash)
 *   PUT    /roots/:root/file?path=P&base=V&sha256=H&mtime=T   whole content -> WriteResponse
 *   POST   /roots/:root/patch?path=P&base=V&sha256=H&mtime=T  librsync delta against version V -> WriteResponse
 *                                                  (or trailer=sha256 instead of sha256=H: the body's last
 *                                                  32 bytes, after the delta, are the result's SHA-256)
 *   POST   /roots/:root/uploads?path=P&length=N&base=V&sha256=H&mtime=T  -> UploadStatus (resumable, big files;
 *                                                  sha256 may wait for finish: a client hashing as it sends)
 *   GET    /roots/:root/uploads/:id                -> UploadStatus (the offset to resume from)
 *   PATCH  /roots/:root/uploads/:id?offset=N       bytes from N -> UploadStatus (409 CONFLICT: resume at details.offset)
 *   POST   /roots/:root/uploads/:id/finish[?sha256=H]  -> WriteResponse (SHA-256 checked first; H if not given at creation)
 *   DELETE /roots/:root/file?path=P&base=V         -> DeleteResponse (a file: base = the version deleted;
 *                                                  a folder: cursor=N, the feed cursor it was in step with)
 *   POST   /roots/:root/mkdir?path=P               -> WriteResponse
 *   POST   /roots/:root/move                       MoveRequest -> WriteResponse
 *   GET    /roots/:root/conflicts                  -> ConflictsResponse
 *   POST   /roots/:root/conflicts/:id              ResolveRequest -> 204
 * Errors: a status and ErrorBody; `code` says what the client should do (see SyncErrorCode).
 */

export const PREFIX = '/sync/v1';
export const WS_PATH = `${PREFIX}/ws`;
export const DEVICE_TOKEN_PREFIX = 'sgd_';

/** Response headers of downloads and signature/delta answers: which version the bytes are of. */
export const HEADER = {
  version: 'x-sync-version',
  sha256: 'x-sync-sha256',
  size: 'x-sync-size',
  mtime: 'x-sync-mtime',
  seq: 'x-sync-seq',
} as const;

export type Kind = 'file' | 'dir';

export type SyncErrorCode =
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'NOT_A_DIRECTORY'
  | 'IS_A_DIRECTORY'
  | 'NOT_EMPTY'
  | 'PERMISSION_DENIED'
  /** Wrong credentials, or a device token that is unknown or revoked: log in again. */
  | 'UNAUTHENTICATED'
  | 'TOO_MANY_ATTEMPTS'
  | 'LOCKED'
  /** The base version is not the head (a delete or a move): fetch the head first. */
  | 'CONFLICT'
  | 'INVALID_PATH'
  | 'INVALID_INPUT'
  | 'QUOTA_EXCEEDED'
  | 'PRECONDITION_FAILED'
  | 'RANGE_NOT_SATISFIABLE'
  | 'INSUFFICIENT_STORAGE'
  | 'ABORTED'
  /** The cursor is beyond the root's feed (the server's data was restored): rescan from 0. */
  | 'STALE_CURSOR'
  /** The uploaded content (or patched result) does not have the announced SHA-256: nothing recorded. */
  | 'HASH_MISMATCH'
  /** A delta or signature that cannot be read: nothing recorded. */
  | 'CORRUPT_DELTA'
  | 'INTERNAL';

export interface ErrorBody {
  error: { code: SyncErrorCode; message: string; details?: Record<string, unknown> };
}

export type LoginRequest = {
  uuid: string;
  name: string;
} & ({ user: string; password: string } | { pairingCode: string });

export interface LoginResponse {
  device: { id: number; uuid: string; name: string };
  user: string;
  token: string;
}

export interface RootSummary {
  name: string;
  access: 'owner' | 'read' | 'write';
  seq: number;
}

export interface RootsResponse {
  roots: RootSummary[];
}

export type ChangeOp =
  | 'create' | 'write' | 'delete' | 'mkdir' | 'move-in' | 'move-out' | 'copy' | 'restore' | 'resolve' | 'conflict-copy' | 'mtime';

/** One change of a root's feed: the state of `path` after it. */
export interface WireChange {
  seq: number;
  path: string;
  op: ChangeOp;
  kind: Kind;
  version: number;
  deleted: boolean;
  sha256: string;
  size: number;
  mtimeMs: number;
  /** For move-in: where the entry came from (the same change's move-out deletes that path). */
  oldPath: string | null;
  /** The door it came through ('sync', 'webdav', 'ftp', 'rest', 'local', ...). */
  door: string;
  user: string;
  /** The device that made it (sync clients): a client skips its own. */
  deviceId: number | null;
  device: string | null;
}

export interface ChangesPage {
  root: string;
  changes: WireChange[];
  /** Pass back as `after`. */
  cursor: number;
  more: boolean;
  /** The root's last seq when the page was read. */
  seq: number;
}

export interface CursorRequest {
  cursor: number;
}

export interface CursorResponse {
  root: string;
  cursor: number;
  seq: number;
  behind: number;
}

export interface WireEntry {
  path: string;
  kind: Kind;
  version: number;
  sha256: string;
  size: number;
  mtimeMs: number;
  seq: number;
}

/**
 * Named incoming-server. 'edit-edit': this device's edit met another edit of the same base.
 * 'delete-edit': this device's delete met an edit it had not seen: nothing was deleted.
 * 'edit-delete': this device's edit met a delete it had not seen.
 */
export type ConflictKind = 'edit-edit' | 'delete-edit' | 'edit-delete';

/**
 * The root's conflict policy that decided it. 'keep-both': the head stays, the edit is a conflict
 * copy. 'newest-wins': the later file mtime became the head. 'server-wins': the head stays, the edit
 * is held by the record. (For the delete kinds: an edit beats a delete, except that server-wins
 * keeps a file deleted.)
 */
export type ConflictPolicy = 'keep-both' | 'newest-wins' | 'server-wins';

export interface WireConflict {
  id: number;
  path: string;
  kind: ConflictKind;
  policy: ConflictPolicy;
  /**
   * Whose content `path` shows on the gateway now: 'server' (the other side's; this device's content
   * is at copyPath, or held with the record when copyPath is '') or 'incoming' (this device's; the
   * server's version serverVersion is in the file's history). Resolving for the other side undoes it.
   */
  kept: 'server' | 'incoming';
  /** The conflict copy holding the incoming content; '' when the policy made none. */
  copyPath: string;
  baseVersion: number;
  serverVersion: number;
  device: string;
  createdAt: number;
  resolvedAt: number | null;
  resolution: ConflictResolution | null;
}

export type ConflictResolution = 'keep-server' | 'keep-incoming' | 'keep-both';

export interface WriteResponse {
  /**
   * The entry written; on a conflict, the conflict copy when there is one (conflict.copyPath), else
   * the file itself as the policy left it (conflict.kept); after an 'edit-delete' kept 'server', the
   * file is deleted and this is its deletion's version.
   */
  entry: WireEntry;
  unchanged: boolean;
  conflict: WireConflict | null;
}

export interface UploadStatus {
  id: string;
  offset: number;
  length: number;
}

/** Files this big go up as resumable uploads (and resume after a broken connection or a crash). */
export const RESUMABLE_MIN_SIZE = 8 * 1024 * 1024;

export interface DeleteResponse {
  deleted: boolean;
  /** Set when the base was not the head: nothing was deleted (an edit is never lost to a delete). */
  head: WireEntry | null;
  /** With head: the 'delete-edit' record that tells of it. */
  conflict: WireConflict | null;
  /**
   * A folder deleted with `cursor`: the files changed after that seq (another device's, unseen by
   * this one), not deleted, each with its 'delete-edit' record; the folders above them stay too
   * (deleted false, head the folder), everything else went. Empty otherwise.
   */
  kept: { entry: WireEntry; conflict: WireConflict }[];
}

export interface MoveRequest {
  from: string;
  to: string;
  base?: number;
}

export interface ConflictsResponse {
  conflicts: WireConflict[];
}

export interface ResolveRequest {
  resolution: ConflictResolution;
}

/** WebSocket messages, JSON text frames. The client subscribes per root from its cursor. */
export type ClientMessage = { type: 'subscribe'; root: string; after: number } | { type: 'unsubscribe'; root: string };

export type ServerMessage =
  /** Changes in seq order, no gap, no duplicate after the subscribed cursor. */
  | { type: 'changes'; root: string; changes: WireChange[]; cursor: number }
  /** The backlog after the cursor was sent: what follows is live. */
  | { type: 'live'; root: string; cursor: number }
  | { type: 'error'; root?: string; code: SyncErrorCode; message: string };

/**
 * Signature parameters both sides use, so the server's cached signatures serve every client:
 * librsync's recommended block length and its minimum strong-sum length for the file's size (-1:
 * 8 bytes for 1 GiB; full 32-byte sums made the signature 3x larger, 1.2 MB for 1 GiB, and a
 * delta sync's bytes 1.46x rsync's). A false block match cannot go unnoticed: every transfer is
 * checked against the content's SHA-256. Signatures carry their parameters, so either side reads
 * the other's whatever they were made with.
 */
export const SIGNATURE = { blockLen: 0, strongLen: -1 } as const;

/** Below this size a whole transfer is cheaper than a signature round trip. */
export const DELTA_MIN_SIZE = 64 * 1024;

export function isServerMessage(v: unknown): v is ServerMessage {
  return typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string';
}
