import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { SharesRepo, type LinkRow } from '../db/shares-repo.js';
import { randomToken, safeEqual, sha256Hex } from '../lib/ids.js';
import { secretMatches } from '../lib/kdf.js';
import type { Accounts } from './accounts.js';
import type { CoreContext } from './context.js';
import { fail } from './errors.js';
import { dropUnderFreeName } from './share-drops.js';
import type { LoginGuard } from './guard.js';
import { safePath } from './live.js';
import type { Roots } from './roots.js';
import type { Session } from './session.js';
import type { WriteResult } from './types.js';
import type { Vfs } from './vfs.js';



/** 'ended': the shared file or folder was deleted, and the link with it. */
export type ShareState = 'active' | 'expired' | 'exhausted' | 'revoked' | 'ended';

export interface ShareLinkInfo {
  id: number;
  root: string;
  path: string;
  /** Last path segment ('' for a whole root: the root's name is shown instead). */
  name: string;
  kind: 'file' | 'dir';
  createdBy: string;
  createdAt: number;
  expiresAt: number | null;
  hasPassword: boolean;
  maxDownloads: number | null;
  downloads: number;
  uploadOnly: boolean;
  revokedAt: number | null;
  /** When the shared entry was deleted (the link ended with it). */
  endedAt: number | null;
  state: ShareState;
}

export interface ShareAccessInfo {
  at: number;
  action: string;
  address: string | null;
  userAgent: string | null;
  bytes: number;
  path: string | null;
}

export interface CreateShareInput {
  root: string;
  path: string;
  /** Epoch ms; null/absent = never. */
  expiresAt?: number | null;
  password?: string | null;
  /** Downloads allowed (uploads, for a drop link); null/absent = unlimited. */
  maxDownloads?: number | null;
  uploadOnly?: boolean;
}

export interface AccessMeta {
  address?: string | null;
  userAgent?: string | null;
  requestId?: string;
}

/** What a door gets for a valid token: the link and a restricted session acting as its creator. */
export interface OpenedShare {
  link: ShareLinkInfo;
  root: string;
  session: Session;
}

export interface ShareLinksOptions {
  /** How long a password cookie stays valid (the link itself is checked on every request anyway). */
  cookieTtlMs?: number;
  now?: () => number;
  /** Largest file an anonymous visitor may drop through a link (bytes; 0 = only the caller's cap). */
  dropMaxFileBytes?: number;
  /** Files a drop link accepts when its creator set no limit (0 = unlimited). */
  dropMaxFiles?: number;
  /** Drop uploads in progress at once through one link. */
  dropMaxOpenUploads?: number;
  /** Where drops are written (the core's Vfs); drop() needs it. */
  vfs?: Vfs;
}

/**
 * One counted use of a link: a download that sends content, or a drop upload. Counted when it
 * starts, so two requests cannot both take the last one; given back by cancel() when the use did
 * not happen after all (a server-side failure, a refused upload).
 */
export interface ShareUse {
  /** Idempotent; a use that sent content to a client who then went away is not cancelled. */
  cancel(): void;
}

export interface DropOptions extends AccessMeta {
  /** The size the sender announced (HTTP Content-Length): refused at once when over the cap. */
  declaredSize?: number;
  /** The door's own cap (e.g. the server's largest upload), applied with the link's. */
  maxSize?: number;
}

/**
 * Public share links. Tokens carry 256 random bits and only their SHA-256 is stored. A link opens
 * a Session scoped to its root and path (mode 'read' or 'upload') acting as the link's creator, so
 * every read and write goes through the same core path as any other door.
 *
 * Errors: unknown, revoked or expired links are NOT_FOUND (nothing distinguishes them from a token
 * that never existed); a missing or wrong password is UNAUTHENTICATED and counts in the brute-force
 * guard; a link whose download (or, for drop links, upload) limit is used up is PERMISSION_DENIED
 * with details.reason = 'exhausted'.
 */
export class ShareLinks {
  /** Per-gateway random key for password cookies: a restart logs every visitor out. */
  private readonly secret = randomBytes(32);
  private readonly cookieTtlMs: number;
  private readonly now: () => number;
  private readonly repo: SharesRepo;
  private readonly dropMaxFileBytes: number;
  private readonly dropMaxFiles: number;
  private readonly dropMaxOpenUploads: number;
  private readonly vfs: Vfs | undefined;
  /** Drop uploads in progress, per link id. */
  private readonly openDrops = new Map<number, number>();

  constructor(
    private readonly ctx: CoreContext,
    private readonly roots: Roots,
    private readonly accounts: Accounts,
    private readonly guard: LoginGuard,
    opts: ShareLinksOptions = {},
  ) {
    this.cookieTtlMs = opts.cookieTtlMs ?? 60 * 60 * 1000;
    this.now = opts.now ?? Date.now;
    this.dropMaxFileBytes = opts.dropMaxFileBytes ?? 0;
    this.dropMaxFiles = opts.dropMaxFiles ?? 0;
    this.dropMaxOpenUploads = opts.dropMaxOpenUploads ?? Number.POSITIVE_INFINITY;
    this.vfs = opts.vfs;
    this.repo = new SharesRepo(ctx.db);
  }

  async create(session: Session, input: CreateShareInput): Promise<{ link: ShareLinkInfo; token: string }> {
    if (session.scope) fail('PERMISSION_DENIED', 'a share link cannot create share links');
    const rel = safePath(input.path);
    const h = await this.roots.open(session, input.root, 'read');
    if (h.access === 'read') fail('PERMISSION_DENIED', 'only the owner or a user with write access may share');
    let kind: 'file' | 'dir' = 'dir';
    if (rel !== '') {
      const row = this.ctx.files.entry(h.row.id, rel);
      if (!row || row.deleted) fail('NOT_FOUND', `${rel} does not exist`);
      kind = row.kind;
    }
    const uploadOnly = input.uploadOnly ?? false;
    if (uploadOnly && kind !== 'dir') fail('INVALID_INPUT', 'an upload-only link needs a folder');
    const expiresAt = input.expiresAt ?? null;
    if (expiresAt !== null && (!Number.isFinite(expiresAt) || expiresAt <= this.now())) fail('INVALID_INPUT', 'the expiry must lie in the future');
    const max = input.maxDownloads ?? null;
    if (max !== null && (!Number.isInteger(max) || max < 1)) fail('INVALID_INPUT', 'a download limit is a positive whole number');
    const password = input.password ?? null;
    if (password !== null && (password.length < 1 || password.length > 1024)) fail('INVALID_INPUT', 'a link password has 1-1024 characters');
    const token = randomToken(32);
    const row = this.repo.insert({
        tokenHash: sha256Hex(token),
        rootId: h.row.id,
        path: rel,
        kind,
        createdBy: session.user.id,
        createdAt: this.now(),
        expiresAt,
        passwordHash: password === null ? null : await this.accounts.hashPassword(password),
        maxDownloads: max,
      uploadOnly,
    });
    this.ctx.log.info({ share: row.id, root: h.row.name, path: rel, user: session.user.name }, 'share link created');
    return { link: this.info(row), token };
  }

  /** Links the user created, and every link into roots the user owns. */
  list(session: Session, root?: string): ShareLinkInfo[] {
    const rows = this.repo.all();
    return rows.filter((r) => this.mayManage(session, r) && (root === undefined || this.ctx.roots.byId(r.rootId)?.name === root)).map((r) => this.info(r));
  }

  get(session: Session, id: number): ShareLinkInfo {
    return this.info(this.managed(session, id));
  }

  /** Revokes at once: the next request with the token, or with a cookie issued for it, fails. */
  revoke(session: Session, id: number): ShareLinkInfo {
    const row = this.managed(session, id);
    if (row.revokedAt === null) {
      this.repo.setRevoked(id, this.now());
      this.ctx.log.info({ share: id, user: session.user.name }, 'share link revoked');
    }
    return this.info(this.repo.byId(id)!);
  }

  accesses(session: Session, id: number, limit = 1000): ShareAccessInfo[] {
    this.managed(session, id);
    return this.repo
      .accesses(id, Math.max(1, Math.min(limit, 10_000)))
      .map((a) => ({ at: a.at, action: a.action, address: a.address, userAgent: a.userAgent, bytes: a.bytes, path: a.path }));
  }

  /**
   * Opens a link by its token. A password-protected link needs the password (checked with the
   * brute-force guard, per address and per link) or a valid cookie from `issueCookie`.
   */
  async open(token: string, auth: { password?: string; cookie?: string }, meta: AccessMeta = {}): Promise<OpenedShare> {
    const row = this.usable(token);
    if (row.passwordHash !== null) {
      const viaCookie = auth.cookie !== undefined && this.cookieValid(row, auth.cookie);
      if (!viaCookie) await this.checkPassword(row, auth.password, meta);
    }
    return this.opened(row, meta);
  }

  /** A value for a cookie scoped to /s/<token>; it dies with the link (checked on every request). */
  issueCookie(token: string): { value: string; maxAgeSec: number } {
    const row = this.usable(token);
    const exp = this.now() + this.cookieTtlMs;
    return { value: `${exp}.${this.mac(row, exp)}`, maxAgeSec: Math.floor(this.cookieTtlMs / 1000) };
  }

  /**
   * Counts one use against the limit, atomically: two concurrent requests for the last download
   * cannot both pass. What counts is every access that sends content, whatever its range (a
   * download manager fetching a file in pieces uses one per piece: otherwise ranges that do not
   * start at byte 0 were a way around the limit), and every drop upload; cancel() gives the count
   * back when the use failed on our side or was refused, so only successes use up a link.
   */
  begin(linkId: number): ShareUse {
    const row = this.repo.byId(linkId);
    const limit = row ? this.limitOf(row) : null;
    if (!this.repo.takeUse(linkId, limit)) fail('PERMISSION_DENIED', 'this link has reached its download limit', { reason: 'exhausted' });
    let cancelled = false;
    return {
      cancel: () => {
        if (cancelled) return;
        cancelled = true;
        this.repo.giveUseBack(linkId);
      },
    };
  }

  /** A use that cannot fail after it starts (kept for callers that count before they act). */
  consume(linkId: number): void {
    this.begin(linkId);
  }

  /**
   * An anonymous visitor drops a file through an upload-only link. The link's rules: a plain file
   * name, never an overwrite (an existing name gets ' (1)', ' (2)', ...), at most dropMaxFileBytes
   * (refused before the body is read when the size is announced, and nothing is kept when the body
   * runs over), at most dropMaxFiles files unless the creator set a limit, at most
   * dropMaxOpenUploads at once; only a stored file uses up the link. The file is written as the
   * link's creator: once quotas exist, a drop counts against that user's quota like any upload.
   */
  async drop(opened: OpenedShare, name: string, source: Readable, opts: DropOptions = {}): Promise<WriteResult> {
    const { link, session, root } = opened;
    if (!this.vfs) throw new Error('ShareLinks was built without a Vfs: drops need one');
    if (!link.uploadOnly) fail('PERMISSION_DENIED', 'this link does not accept uploads');
    if (!name || name.includes('/') || name.includes('\\') || name.length > 255) fail('INVALID_PATH', 'an upload needs a plain file name');
    const caps = [this.dropMaxFileBytes, opts.maxSize ?? 0].filter((c) => c > 0);
    const maxSize = caps.length > 0 ? Math.min(...caps) : undefined;
    if (maxSize !== undefined && opts.declaredSize !== undefined && opts.declaredSize > maxSize) {
      fail('QUOTA_EXCEEDED', `this link accepts files of at most ${maxSize} bytes`, { reason: 'too-large' });
    }
    const open = this.openDrops.get(link.id) ?? 0;
    if (open >= this.dropMaxOpenUploads) fail('TOO_MANY_ATTEMPTS', 'too many uploads through this link at once; try again when one has finished', { reason: 'open-uploads', retryAfterSec: 5 });
    this.openDrops.set(link.id, open + 1);
    try {
      const use = this.begin(link.id);
      try {
        const result = await dropUnderFreeName(this.vfs, session, root, link.path, name, source, { maxSize, declaredSize: opts.declaredSize });
        this.logAccess(link.id, { ...opts, action: 'upload', bytes: result.entry.size, path: link.path === '' ? result.entry.path : result.entry.path.slice(link.path.length + 1) });
        return result;
      } catch (err) {
        use.cancel();
        throw err;
      }
    } finally {
      const left = (this.openDrops.get(link.id) ?? 1) - 1;
      if (left > 0) this.openDrops.set(link.id, left);
      else this.openDrops.delete(link.id);
    }
  }

  /** Uses allowed: the creator's limit, or for a drop link without one the server's default. */
  private limitOf(row: LinkRow): number | null {
    if (row.maxDownloads !== null) return row.maxDownloads;
    return row.uploadOnly && this.dropMaxFiles > 0 ? this.dropMaxFiles : null;
  }

  logAccess(linkId: number, entry: { action: string; bytes?: number; path?: string | null } & AccessMeta): void {
    this.repo.logAccess({
      shareId: linkId,
      at: this.now(),
      action: entry.action,
      address: entry.address ?? null,
      userAgent: entry.userAgent ? entry.userAgent.slice(0, 512) : null,
      bytes: Math.max(0, Math.floor(entry.bytes ?? 0)),
      path: entry.path ?? null,
    });
  }

  private async checkPassword(row: LinkRow, password: string | undefined, meta: AccessMeta): Promise<void> {
    const key = `share:${row.id}`;
    if (password === undefined || password === '') fail('UNAUTHENTICATED', 'this link needs a password', { passwordRequired: true });
    const delay = this.guard.check(meta.address ?? undefined, key);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    const ok = password.length <= 1024 && (await secretMatches(row.passwordHash!, password));
    if (!ok) {
      this.guard.failed(meta.address ?? undefined, key);
      this.logAccess(row.id, { ...meta, action: 'password-wrong' });
      this.ctx.log.warn({ share: row.id, address: meta.address }, 'wrong share link password');
      fail('UNAUTHENTICATED', 'wrong password for this link', { passwordRequired: true });
    }
    this.guard.succeeded(meta.address ?? undefined, key);
  }

  private cookieValid(row: LinkRow, cookie: string): boolean {
    const dot = cookie.indexOf('.');
    if (dot < 1) return false;
    const exp = Number(cookie.slice(0, dot));
    if (!Number.isSafeInteger(exp) || exp <= this.now()) return false;
    return safeEqual(cookie.slice(dot + 1), this.mac(row, exp));
  }

  /** Bound to the link's id, token hash and password hash: a new link never accepts an old cookie. */
  private mac(row: LinkRow, exp: number): string {
    return createHmac('sha256', this.secret).update(`${row.id}\n${row.tokenHash}\n${row.passwordHash ?? ''}\n${exp}`).digest('base64url');
  }

  /** The link for a token if it can be used now; every other case looks like an unknown token. */
  private usable(token: string): LinkRow {
    const row = typeof token === 'string' && token.length >= 20 && token.length <= 100 ? this.byToken(token) : undefined;
    if (!row || row.revokedAt !== null) fail('NOT_FOUND', 'this link does not exist or was revoked');
    if (row.expiresAt !== null && row.expiresAt <= this.now()) fail('NOT_FOUND', 'this link has expired');
    if (row.endedAt !== null) fail('NOT_FOUND', 'what this link shared was deleted');
    return row;
  }

  private byToken(token: string): LinkRow | undefined {
    const hash = sha256Hex(token);
    const row = this.repo.byTokenHash(hash);
    // The lookup is by an index on the hash; compare again in constant time all the same.
    return row && safeEqual(row.tokenHash, hash) ? row : undefined;
  }

  private opened(row: LinkRow, meta: AccessMeta): OpenedShare {
    const root = this.ctx.roots.byId(row.rootId);
    const creator = this.ctx.accounts.userById(row.createdBy);
    // The creator must still be allowed to share. A disabled account suspends the link (enabling the
    // account again brings it back); a grant lowered below write, or removed, revokes it for good
    // (revokeLinksOfCreator, at the grant change: this catches a change no call told of).
    const grant = root && creator ? (root.ownerId === creator.id ? 'owner' : this.ctx.roots.grantOf(root.id, creator.id)?.mode) : undefined;
    if (root && creator && grant !== 'owner' && grant !== 'write') revokeLinksOfCreator(this.ctx, root.id, creator.id);
    if (!root || !creator || creator.disabled || (grant !== 'owner' && grant !== 'write')) fail('NOT_FOUND', 'this link does not exist or was revoked');
    // Deletes end links as they are recorded (endLinksOfDeleted); this catches what no record told:
    // a link made before links ended with their entry, or a file replaced by a folder while stopped.
    const entry = row.path === '' ? undefined : this.ctx.files.entry(root.id, row.path);
    if (row.path !== '' && (!entry || entry.deleted || entry.kind !== row.kind)) {
      this.repo.setEnded([row.id], this.now());
      fail('NOT_FOUND', 'what this link shared was deleted');
    }
    const limit = this.limitOf(row);
    if (limit !== null && row.downloads >= limit) {
      fail('PERMISSION_DENIED', 'this link has reached its download limit', { reason: 'exhausted' });
    }
    const session: Session = {
      user: { id: creator.id, name: creator.name, isAdmin: false },
      device: null,
      protocol: 'share',
      requestId: meta.requestId ?? randomUUID(),
      scope: { rootId: root.id, path: row.path, mode: row.uploadOnly ? 'upload' : 'read', linkId: row.id },
      address: meta.address ?? undefined,
    };
    return { link: this.info(row), root: root.name, session };
  }

  private mayManage(session: Session, row: LinkRow): boolean {
    if (session.scope) return false;
    if (row.createdBy === session.user.id) return true;
    return this.ctx.roots.byId(row.rootId)?.ownerId === session.user.id;
  }

  private managed(session: Session, id: number): LinkRow {
    const row = this.repo.byId(id);
    if (!row || !this.mayManage(session, row)) fail('NOT_FOUND', `share link ${id} does not exist`);
    return row;
  }

  private info(row: LinkRow): ShareLinkInfo {
    const rootName = this.ctx.roots.byId(row.rootId)?.name ?? '';
    const name = row.path === '' ? rootName : row.path.slice(row.path.lastIndexOf('/') + 1);
    let state: ShareState = 'active';
    if (row.revokedAt !== null) state = 'revoked';
    else if (row.endedAt !== null) state = 'ended';
    else if (row.expiresAt !== null && row.expiresAt <= this.now()) state = 'expired';
    const limit = this.limitOf(row);
    if (state === 'active' && limit !== null && row.downloads >= limit) state = 'exhausted';
    return {
      id: row.id,
      root: rootName,
      path: row.path,
      name,
      kind: row.kind,
      createdBy: this.ctx.accounts.userById(row.createdBy)?.name ?? '',
      createdAt: row.createdAt,
      expiresAt: row.expiresAt,
      hasPassword: row.passwordHash !== null,
      maxDownloads: limit,
      downloads: row.downloads,
      uploadOnly: row.uploadOnly,
      revokedAt: row.revokedAt,
      endedAt: row.endedAt,
      state,
    };
  }
}

/**
 * A user whose grant on a root drops below write (or goes) may no longer share it: the links they
 * made into it are revoked, not suspended. Raising the grant again later does not bring them back,
 * so an owner who lowered a grant never finds old public links alive again without a word; the
 * user makes new ones. (The root's owner sees and manages these links all along.)
 */
export function revokeLinksOfCreator(ctx: CoreContext, rootId: number, userId: number): void {
  const revoked = new SharesRepo(ctx.db).revokeOfCreator(rootId, userId, Date.now());
  if (revoked > 0) ctx.log.info({ root: rootId, user: userId, links: revoked }, 'share links revoked: their creator may no longer share this root');
}

/**
 * Links to a moved file or folder, or to something inside a moved folder, follow it (as Nextcloud's
 * and Seafile's do): a link names what was shared, not where it was. Called by the move itself,
 * under the root's mutex. A move to another root is a copy and a delete: the link does not follow.
 */
export function followMove(ctx: CoreContext, rootId: number, from: string, to: string): void {
  const repo = new SharesRepo(ctx.db);
  const rows = repo.atOrBelow(rootId, from);
  if (rows.length === 0) return;
  repo.setPaths(rows.map((r) => ({ id: r.id, path: to + r.path.slice(from.length) })));
}

/**
 * A link ends with the entry it was made for: a delete (from any door, the watcher, or a move or
 * copy that replaces it) ends every link to a deleted path, so whatever is put at that path later
 * is not served by the old link. Moves are not deletes here: their 'move-out' records leave the
 * links to followMove. One query per batch of changes that deletes anything.
 */
export function endLinksOfDeleted(ctx: CoreContext, rootId: number, changes: readonly { path: string; deleted: boolean; op: string }[], now = Date.now()): void {
  const gone = new Set<string>();
  for (const c of changes) if (c.deleted && c.op !== 'move-out') gone.add(c.path);
  if (gone.size === 0) return;
  const repo = new SharesRepo(ctx.db);
  const live = repo.liveOfRoot(rootId).filter((r) => gone.has(r.path));
  if (live.length === 0) return;
  repo.setEnded(live.map((r) => r.id), now);
  ctx.log.info({ rootId, links: live.map((r) => r.id) }, 'share links ended with their deleted entries');
}
