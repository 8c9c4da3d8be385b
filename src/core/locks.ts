import { randomUUID } from 'node:crypto';
import { LocksRepo, type LockRow } from '../db/locks-repo.js';
import { isWithin, parentOf } from '../lib/paths.js';
import type { CoreContext } from './context.js';
import { fail } from './errors.js';
import type { Session } from './session.js';

export type { LockRow };

export interface LockRequest {
  scope: 'exclusive' | 'shared';
  depth: '0' | 'infinity';
  timeoutSec: number;
  owner: string;
}

const MAX_TIMEOUT = 7 * 24 * 3600;

/** Whether a lock's scope includes `path`: on it, or depth infinity on an ancestor. The one definition. */
export function lockCovers(l: Pick<LockRow, 'path' | 'depth'>, path: string): boolean {
  return l.path === path || (l.depth === 'infinity' && isWithin(path, l.path));
}

/**
 * Locks held in SQLite and checked by every write in the core, so an FTP or REST write to a file
 * locked through WebDAV is refused like a WebDAV one. A lock belongs to its token (and user).
 */
export class Locks {
  private readonly repo: LocksRepo;
  /**
   * Roots found without any lock row. Only `lock` adds rows (the gateway's one Locks: no other
   * process takes locks), so the answer holds until it runs, and a write asks no query at all.
   */
  private readonly unlocked = new Set<number>();

  /** The core's clock: a lock's timeout runs on it, so tests of expiry set time instead of sleeping. */
  private readonly now: () => number;

  constructor(private readonly ctx: CoreContext) {
    this.repo = new LocksRepo(ctx.db);
    this.now = ctx.now;
  }

  private live(rootId: number): LockRow[] {
    if (this.unlocked.has(rootId)) return [];
    // Most roots have no lock, and every write asks.
    if (!this.repo.hasAny(rootId)) {
      this.unlocked.add(rootId);
      return [];
    }
    const now = this.now();
    let rows = this.repo.ofRoot(rootId);
    if (!rows.every((l) => l.expiresAt >= now)) {
      this.repo.deleteExpired(now);
      rows = rows.filter((l) => l.expiresAt >= now);
    }
    return this.heldByWriters(rootId, rows);
  }

  /**
   * A lock lasts as long as its holder may write the root: the locks of a user whose grant was
   * removed or lowered to read (or whose account was disabled or removed) are dropped here, where
   * every write looks, whatever made the change. Before, they outlived it and held the owner's
   * files (423 at every door) for up to MAX_TIMEOUT, with no way for the owner to break them.
   * One look per holder, not per lock.
   */
  private heldByWriters(rootId: number, rows: LockRow[]): LockRow[] {
    if (rows.length === 0) return rows;
    const root = this.ctx.roots.byId(rootId);
    const mayWrite = new Map<number, boolean>();
    const writes = (userId: number): boolean => {
      let ok = mayWrite.get(userId);
      if (ok === undefined) {
        const user = this.ctx.accounts.userById(userId);
        ok = Boolean(root && user && !user.disabled && (root.ownerId === userId || this.ctx.roots.grantOf(rootId, userId)?.mode === 'write'));
        mayWrite.set(userId, ok);
      }
      return ok;
    };
    const kept = rows.filter((l) => writes(l.userId));
    if (kept.length === rows.length) return rows;
    for (const l of rows) if (!writes(l.userId)) this.repo.delete(l.token, rootId);
    return kept;
  }

  /** Locks whose scope includes `path` (on it, or depth-infinity on an ancestor). */
  covering(rootId: number, path: string): LockRow[] {
    return this.live(rootId).filter((l) => lockCovers(l, path));
  }

  /** Every unexpired lock of a root: a listing shows each entry's locks without a query per entry. */
  all(rootId: number): LockRow[] {
    return this.live(rootId);
  }

  lock(session: Session, rootId: number, path: string, req: LockRequest): LockRow {
    const timeoutSec = Math.max(1, Math.min(req.timeoutSec, MAX_TIMEOUT));
    const clashing = this.live(rootId).filter((l) => {
      const overlaps = lockCovers(l, path) || (req.depth === 'infinity' && isWithin(l.path, path));
      return overlaps && (req.scope === 'exclusive' || l.scope === 'exclusive');
    });
    if (clashing.length > 0) fail('LOCKED', `${path || '/'} is locked`, { tokens: clashing.map((l) => l.token) });
    const token = `urn:uuid:${randomUUID()}`;
    this.unlocked.delete(rootId);
    return this.repo.insert({
      token,
      rootId,
      path,
      depth: req.depth,
      scope: req.scope,
      userId: session.user.id,
      owner: req.owner,
      timeoutSec,
      expiresAt: this.now() + timeoutSec * 1000,
    });
  }

  refresh(session: Session, rootId: number, path: string, token: string, timeoutSec: number): LockRow {
    const lock = this.covering(rootId, path).find((l) => l.token === token);
    if (!lock || lock.userId !== session.user.id) fail('PRECONDITION_FAILED', 'no such lock on this resource');
    const t = Math.max(1, Math.min(timeoutSec, MAX_TIMEOUT));
    return this.repo.refresh(token, t, this.now() + t * 1000)!;
  }

  unlock(session: Session, rootId: number, path: string, token: string): void {
    const lock = this.covering(rootId, path).find((l) => l.token === token);
    if (!lock) fail('CONFLICT', 'the lock token does not apply to this resource');
    // The root's owner may break a grantee's lock too (a crashed editor's): otherwise only waiting
    // out the timeout (up to 7 days) or removing the grant frees the owner's own file.
    const ownsRoot = !session.scope && this.ctx.roots.byId(rootId)?.ownerId === session.user.id;
    if (lock.userId !== session.user.id && !session.user.isAdmin && !ownsRoot) fail('PERMISSION_DENIED', 'the lock belongs to another user');
    this.repo.delete(token, rootId);
  }

  /** Drops the locks of a path tree that no longer exists (after delete or move). */
  dropTree(rootId: number, path: string): void {
    for (const l of this.live(rootId)) {
      if (isWithin(l.path, path)) this.repo.delete(l.token);
    }
  }

  /**
   * Refuses a change of `path` unless the session holds every lock that protects it: locks on
   * the path or an ancestor (depth infinity), a depth-0 lock on the parent (its membership),
   * and with `deep` the locks anywhere below (deleting or moving a folder).
   */
  assertCanChange(session: Session, rootId: number, path: string, deep = false): void {
    const all = this.live(rootId);
    if (all.length === 0) return;
    const parent = parentOf(path);
    const relevant = all.filter(
      (l) =>
        lockCovers(l, path) ||
        (path !== '' && l.path === parent) ||
        (deep && isWithin(l.path, path)),
    );
    const held = new Set(session.lockTokens ?? []);
    for (const l of relevant) {
      if (!held.has(l.token) || l.userId !== session.user.id) {
        fail('LOCKED', `${l.path || '/'} is locked`, { lockPath: l.path });
      }
    }
  }
}
