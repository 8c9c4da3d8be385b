/**
 * The one way into the core for a door.
 *
 * A door authenticates (`core.authenticate`, or `core.openShare` for a share link), builds a
 * `Session` ({user, device, protocol, requestId, scope, lockTokens, address}) and calls
 * `core.connect(session)`. The Connection it gets back holds every rule: each method checks the
 * session's user, its grant on the root, a share link's scope and the locks, and takes root NAMES
 * and raw client paths (normalised and refused here, never in the door). A door only translates
 * its wire format to these calls and the core's errors (`SyncgateError`, a closed set of codes) to
 * its own replies.
 *
 * A connection is cheap (one object over shared services, no query of its own): an HTTP door makes
 * one per request, FTP one per logged-in control connection. It reads its session object on every
 * call, so a door may update what belongs to the request in it (the lock tokens of WebDAV's If
 * header, FTP's request id); a new login is a new session and a new connection.
 */
import { Readable } from 'node:stream';
import { AccountConnection } from './connection-accounts.js';
import { fail, isCoreError } from './errors.js';
import { follow, type Follower, type FollowOptions } from './follower.js';
import { checkScope, safePath } from './live.js';
import { lockCovers, type LockRequest, type LockRow } from './locks.js';
import type { DeadProperty } from './properties.js';
import type { Session } from './session.js';
import type { AccessMeta, CreateShareInput, DropOptions, ShareAccessInfo, ShareLinkInfo, ShareUse } from './shares.js';
import type { BriefEntry, Change, ConflictInfo, ConflictResolution, DeleteResult, EntryInfo, VersionInfo, WriteResult } from './types.js';
import type { AppendResult, NewUpload, UploadInfo } from './uploads.js';
import type { ChangePage, ReadOptions, ReadResult } from './vfs-read.js';
import type { CopyOptions, MoveOptions, WriteOptions } from './vfs-write.js';

/** A lock as a door shows it: with the seconds it has left on the core's clock (WebDAV's Timeout). */
export type LockInfo = LockRow & { secondsLeft: number };

export interface ListPage {
  entries: EntryInfo[];
  /** No more entries after these. */
  last: boolean;
}

export interface BriefListPage {
  entries: BriefEntry[];
  last: boolean;
}

export class Connection extends AccountConnection {
  // Files

  stat(root: string, path: string): Promise<EntryInfo> {
    return this.core.reader.stat(this.session, root, path);
  }
  /** The entry, or null where nothing lives at the path. */
  async statOrNull(root: string, path: string): Promise<EntryInfo | null> {
    try {
      return await this.core.reader.stat(this.session, root, path);
    } catch (err) {
      if (isCoreError(err, 'NOT_FOUND')) return null;
      throw err;
    }
  }
  /**
   * A folder's live entries `pageSize` at a time, in name order, one short query per page. Every
   * door lists through this: a door that sends a large listing writes each page as it comes.
   */
  listPages(root: string, path: string, pageSize?: number): AsyncGenerator<ListPage>;
  /** 'brief': only name, kind, size and mtime of each entry, for a plain file listing (FTP). */
  listPages(root: string, path: string, pageSize: number, projection: 'brief'): AsyncGenerator<BriefListPage>;
  listPages(root: string, path: string, pageSize = 1000, projection?: 'brief'): AsyncGenerator<ListPage | BriefListPage> {
    if (projection === 'brief') return this.core.reader.listPages(this.session, root, path, pageSize, projection);
    return this.core.reader.listPages(this.session, root, path, pageSize);
  }
  /** A whole folder, page by page (other requests run between pages). */
  list(root: string, path: string): Promise<EntryInfo[]> {
    return this.core.reader.list(this.session, root, path);
  }
  read(root: string, path: string, opts?: ReadOptions): Promise<ReadResult> {
    return this.core.reader.read(this.session, root, path, opts);
  }
  write(root: string, path: string, source: Readable | AsyncIterable<Uint8Array>, opts?: WriteOptions): Promise<WriteResult> {
    return this.core.writer.write(this.session, root, path, source, opts);
  }
  mkdir(root: string, path: string, opts?: { createParents?: boolean }): Promise<EntryInfo> {
    return this.core.writer.mkdir(this.session, root, path, opts);
  }
  /**
   * Deletes a file or a folder with everything in it; with `baseVersion`, only if still at it, and a
   * folder with `baseSeq` without the files changed after that seq of the feed (see VfsTreeWriter.delete).
   */
  delete(root: string, path: string, opts?: { baseVersion?: number; baseSeq?: number; onConflict?: 'record' | 'fail' }): Promise<DeleteResult> {
    return this.core.writer.delete(this.session, root, path, opts);
  }
  /** Deletes a file, never a folder (FTP DELE), checked and done as one step. */
  async removeFile(root: string, path: string): Promise<void> {
    await this.core.writer.delete(this.session, root, path, { fileOnly: true });
  }
  /** Deletes a folder only if it is empty (FTP RMD), checked and done as one step. */
  async removeEmptyDir(root: string, path: string): Promise<void> {
    await this.core.writer.delete(this.session, root, path, { emptyDirOnly: true });
  }
  move(root: string, from: string, to: string, opts?: MoveOptions): Promise<EntryInfo> {
    return this.core.writer.move(this.session, root, from, to, opts);
  }
  copy(root: string, from: string, to: string, opts?: CopyOptions): Promise<EntryInfo> {
    return this.core.writer.copy(this.session, root, from, to, opts);
  }
  setMtime(root: string, path: string, mtimeMs: number): Promise<EntryInfo> {
    return this.core.writer.setMtime(this.session, root, path, mtimeMs);
  }

  // History, deleted files, conflicts

  history(root: string, path: string): Promise<VersionInfo[]> {
    return this.core.reader.history(this.session, root, path);
  }
  /** `from`: the path the version had (history lists it), for a version from before a move. */
  restore(root: string, path: string, version: number, from?: string): Promise<EntryInfo> {
    return this.core.restorer.restore(this.session, root, path, version, from);
  }
  deleted(root: string, path?: string): Promise<EntryInfo[]> {
    return this.core.reader.deleted(this.session, root, path);
  }
  conflicts(root: string, includeResolved?: boolean): Promise<ConflictInfo[]> {
    return this.core.reader.conflicts(this.session, root, includeResolved);
  }
  resolveConflict(root: string, id: number, resolution: ConflictResolution): Promise<EntryInfo | null> {
    return this.core.restorer.resolveConflict(this.session, root, id, resolution);
  }

  // The change feed

  /** One page of the feed after a cursor (only durable changes). */
  changes(root: string, after: number, limit?: number): Promise<ChangePage> {
    return this.core.reader.changes(this.session, root, after, limit);
  }
  /** Live changes only; returns the unsubscribe function. Use `follow` to resume from a cursor. */
  subscribe(root: string, listener: (c: Change) => void): Promise<() => void> {
    return this.core.reader.subscribe(this.session, root, listener);
  }
  /** Replays the feed after `opts.after`, then goes live: no gap, no duplicate (see follower.ts). */
  follow(root: string, deliver: (c: Change) => void, opts?: FollowOptions): Promise<Follower> {
    return follow(this.core.reader, this.core.roots, this.session, root, deliver, opts, this.core.now);
  }

  // Resumable uploads (tus, the sync door)

  createUpload(input: NewUpload): Promise<UploadInfo> {
    return this.core.uploads.create(this.session, input);
  }
  upload(id: string): Promise<UploadInfo> {
    return this.core.uploads.status(this.session, id);
  }
  appendUpload(id: string, offset: number, source: Readable | AsyncIterable<Uint8Array>): Promise<AppendResult> {
    return this.core.uploads.append(this.session, id, offset, source);
  }
  /**
   * Writes the complete upload as one version (its base version decides a conflict). `sha256`: the
   * content's hash when the upload was created without one (a client that hashes while it sends).
   */
  finishUpload(id: string, sha256?: string): Promise<WriteResult> {
    return this.core.uploads.finish(this.session, id, sha256);
  }
  cancelUpload(id: string): Promise<void> {
    return this.core.uploads.cancel(this.session, id);
  }

  // Locks (WebDAV takes them; every door's writes respect them)

  /** Locks whose scope includes the path. */
  async locksOn(root: string, path: string): Promise<LockInfo[]> {
    const rel = safePath(path);
    const h = await this.core.roots.open(this.session, root, 'read');
    checkScope(this.session, rel, 'read');
    return this.core.locks.covering(h.row.id, rel).map((l) => this.timed(l));
  }
  /** Every live lock of a root. */
  async locksOfRoot(root: string): Promise<LockInfo[]> {
    const h = await this.core.roots.open(this.session, root, 'read');
    return this.core.locks.all(h.row.id).map((l) => this.timed(l));
  }
  private timed(l: LockRow): LockInfo {
    return { ...l, secondsLeft: Math.max(0, Math.ceil((l.expiresAt - this.core.now()) / 1000)) };
  }
  /**
   * The locks covering each path of a root, for a listing (WebDAV's lockdiscovery per entry): one
   * read of the root's locks, then the core's one rule of coverage per path, no query per entry.
   */
  async lockCoverage(root: string): Promise<(path: string) => LockInfo[]> {
    const locks = await this.locksOfRoot(root);
    return (path) => (locks.length === 0 ? [] : locks.filter((l) => lockCovers(l, path)));
  }
  /**
   * Locks a path. A path where nothing lives gets an empty file under the new lock, as RFC 4918
   * (7.3) asks: both happen or neither (the lock is dropped if the file cannot be made).
   */
  async lock(root: string, path: string, req: LockRequest): Promise<{ lock: LockInfo; created: boolean }> {
    const rel = safePath(path);
    const h = await this.core.roots.open(this.session, root, 'write');
    checkScope(this.session, rel, 'write');
    const existing = await this.statOrNull(root, rel);
    const lock = this.timed(this.core.locks.lock(this.session, h.row.id, rel, req));
    if (existing) return { lock, created: false };
    const holder: Session = { ...this.session, lockTokens: [...(this.session.lockTokens ?? []), lock.token] };
    try {
      await this.core.writer.write(holder, root, rel, Readable.from([]), { createOnly: true });
    } catch (err) {
      this.core.locks.unlock(holder, h.row.id, rel, lock.token);
      throw err;
    }
    return { lock, created: true };
  }
  /** Refreshes the lock, among `tokens`, that covers the path (PRECONDITION_FAILED when none does). */
  async refreshLock(root: string, path: string, tokens: string[], timeoutSec: number): Promise<LockInfo> {
    const rel = safePath(path);
    const h = await this.core.roots.open(this.session, root, 'write');
    checkScope(this.session, rel, 'write');
    const mine = this.core.locks.covering(h.row.id, rel).find((l) => tokens.includes(l.token));
    if (!mine) fail('PRECONDITION_FAILED', 'no lock named covers this resource');
    return this.timed(this.core.locks.refresh(this.session, h.row.id, mine.path, mine.token, timeoutSec));
  }
  async unlock(root: string, path: string, token: string): Promise<void> {
    const rel = safePath(path);
    const h = await this.core.roots.open(this.session, root, 'write');
    checkScope(this.session, rel, 'write');
    this.core.locks.unlock(this.session, h.row.id, rel, token);
  }

  // Dead properties (WebDAV PROPPATCH; they follow their path through moves, copies, deletes)

  async properties(root: string, path: string): Promise<DeadProperty[]> {
    const rel = safePath(path);
    const h = await this.core.roots.open(this.session, root, 'read');
    checkScope(this.session, rel, 'read');
    return this.core.properties.list(h.row.id, rel);
  }
  /** The dead properties of a folder and its direct children, by path (one query). */
  async propertiesOfChildren(root: string, dir: string): Promise<Map<string, DeadProperty[]>> {
    const rel = safePath(dir);
    const h = await this.core.roots.open(this.session, root, 'read');
    checkScope(this.session, rel, 'read');
    return this.core.properties.ofChildren(h.row.id, rel);
  }
  /** Sets and removes all or nothing, on an existing entry the session may change (write access, locks held). */
  async patchProperties(root: string, path: string, set: DeadProperty[], remove: { namespace: string; name: string }[]): Promise<void> {
    const rel = safePath(path);
    const h = await this.core.roots.open(this.session, root, 'write');
    checkScope(this.session, rel, 'write');
    const entry = await this.stat(root, rel);
    this.core.locks.assertCanChange(this.session, h.row.id, entry.path);
    this.core.properties.patch(h.row.id, entry.path, set, remove);
  }

  // Share links

  createShare(input: CreateShareInput): Promise<{ link: ShareLinkInfo; token: string }> {
    return this.core.shares.create(this.session, input);
  }
  /** Links the user created, and every link into roots the user owns. */
  shares(root?: string): ShareLinkInfo[] {
    return this.core.shares.list(this.session, root);
  }
  share(id: number): ShareLinkInfo {
    return this.core.shares.get(this.session, id);
  }
  revokeShare(id: number): ShareLinkInfo {
    return this.core.shares.revoke(this.session, id);
  }
  shareAccesses(id: number, limit?: number): ShareAccessInfo[] {
    return this.core.shares.accesses(this.session, id, limit);
  }

  // A visitor's session opened through a share link (core.openShare)

  private linkOfSession(): number {
    return this.session.scope?.linkId ?? fail('PERMISSION_DENIED', 'only a share link session does this');
  }
  /**
   * Counts one use of the link (a download that sends content) before it happens: the last use
   * cannot be taken twice. `cancel()` gives it back when the download failed on our side.
   */
  beginShareUse(): ShareUse {
    return this.core.shares.begin(this.linkOfSession());
  }
  /** Throws NOT_FOUND once the link was revoked, expired or ended: a long response asks before it sends more. */
  assertShareOpen(): void {
    this.core.shares.assertStillOpen(this.linkOfSession());
  }
  /** A file dropped through an upload-only link: named, capped and counted by the link's rules (shares.ts). */
  dropIntoShare(link: ShareLinkInfo, name: string, source: Readable, opts?: DropOptions): Promise<WriteResult> {
    if (link.id !== this.linkOfSession()) fail('PERMISSION_DENIED', 'not this session\'s link');
    return this.core.shares.drop({ link, root: link.root, session: this.session }, name, source, opts);
  }
  logShareAccess(entry: { action: string; bytes?: number; path?: string | null } & AccessMeta): void {
    this.core.shares.logAccess(this.linkOfSession(), entry);
  }
  /** A cookie that stands for the link's password on the next requests (path /s/<token>). */
  issueShareCookie(token: string): { value: string; maxAgeSec: number } {
    this.linkOfSession();
    return this.core.shares.issueCookie(token);
  }
}
