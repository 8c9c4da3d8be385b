import type { Readable } from 'node:stream';
import { SharesRepo, type LinkRow } from '../db/shares-repo.js';
import { randomToken, sha256Hex } from '../lib/ids.js';
import type { Accounts } from './accounts.js';
import type { CoreContext } from './context.js';
import { fail } from './errors.js';
import type { LoginGuard } from './guard.js';
import { safePath } from './live.js';
import type { Roots } from './roots.js';
import type { Session } from './session.js';
import { ShareDrops } from './share-drops.js';
import type { AccessMeta, CreateShareInput, DropOptions, OpenedShare, ShareAccessInfo, ShareLinkInfo, ShareLinksOptions, ShareState, ShareUse } from './share-types.js';
import { ShareUses } from './share-uses.js';
import { ShareVisits } from './share-visits.js';
import type { WriteResult } from './types.js';

/** Entries of a link's access log kept by default: the most `accesses` ever returns. */
const ACCESS_LOG_KEEP = 10_000;

/** The last expiry a link may have: 9999-12-31T23:59:59.999Z. */
const LAST_EXPIRY_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** The start of the Date range: a time before it cannot be presented (toISOString throws). */
const FIRST_DATE_MS = -8.64e15;

/**
 * A stored expiry as presented. Builds before 3ffb79b stored any safe integer: a row past the Date
 * range made every presentation throw, so its owner's list of links failed for good. Clamped, not
 * read as 'no expiry': the owner did set one, the link behaves as stored (open until a time later
 * than any it can show, or expired), and the ends are the bound creation applies and the range's start.
 */
function presentableExpiry(ms: number | null): number | null {
  return ms === null ? null : Math.min(Math.max(ms, FIRST_DATE_MS), LAST_EXPIRY_MS);
}

export type * from './share-types.js';
export { endLinksBelow, endLinksOfDeleted, followMove, revokeLinksOfCreator } from './share-lifecycle.js';

/**
 * Public share links. Tokens carry 256 random bits and only their SHA-256 is stored. A link opens
 * a Session scoped to its root and path (mode 'read' or 'upload') acting as the link's creator, so
 * every read and write goes through the same core path as any other door.
 *
 * This file is the creator's side (create, list, revoke, the access log); the visitor's side is in
 * share-visits.ts, counting uses in share-uses.ts, drop links in share-drops.ts, and how a link
 * follows its entry (move, delete, a lowered grant) in share-lifecycle.ts.
 *
 * Errors: unknown, revoked or expired links are NOT_FOUND (nothing distinguishes them from a token
 * that never existed); a missing or wrong password is UNAUTHENTICATED and counts in the brute-force
 * guard; a link whose download (or, for drop links, upload) limit is used up is PERMISSION_DENIED
 * with details.reason = 'exhausted'.
 */
export class ShareLinks {
  private readonly now: () => number;
  private readonly repo: SharesRepo;
  private readonly uses: ShareUses;
  private readonly visits: ShareVisits;
  private readonly drops: ShareDrops;

  constructor(
    private readonly ctx: CoreContext,
    private readonly roots: Roots,
    private readonly accounts: Accounts,
    guard: LoginGuard,
    opts: ShareLinksOptions = {},
  ) {
    this.now = opts.now ?? ctx.now;
    this.repo = new SharesRepo(ctx.db);
    this.uses = new ShareUses(this.repo, this.now, opts.dropMaxFiles ?? 0, opts.accessLogKeep ?? ACCESS_LOG_KEEP);
    this.visits = new ShareVisits(ctx, this.repo, guard, this.uses, (row) => this.info(row), this.now, opts.cookieTtlMs ?? 60 * 60 * 1000);
    this.drops = new ShareDrops(opts.vfs, this.uses, {
      maxFileBytes: opts.dropMaxFileBytes ?? 0,
      maxOpenUploads: opts.dropMaxOpenUploads ?? Number.POSITIVE_INFINITY,
    });
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
    if (input.expiresInSec !== undefined && (!Number.isFinite(input.expiresInSec) || input.expiresInSec <= 0)) fail('INVALID_INPUT', 'a link expires a positive number of seconds from now');
    const expiresAt = input.expiresInSec !== undefined ? this.now() + input.expiresInSec * 1000 : (input.expiresAt ?? null);
    // Before the year 10000: a time past the Date range was stored, then every presentation of the
    // link threw (toISOString), so the creation and the owner's whole list of links answered 500.
    if (expiresAt !== null && (!Number.isFinite(expiresAt) || expiresAt <= this.now() || expiresAt > LAST_EXPIRY_MS)) fail('INVALID_INPUT', 'the expiry must lie in the future, before the year 10000');
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

  /** Opens a link by its token (and password or cookie): see share-visits.ts. */
  open(token: string, auth: { password?: string; cookie?: string }, meta: AccessMeta = {}): Promise<OpenedShare> {
    return this.visits.open(token, auth, meta);
  }

  issueCookie(token: string): { value: string; maxAgeSec: number } {
    return this.visits.issueCookie(token);
  }

  /** Counts one use of a link, atomically; see share-uses.ts. */
  begin(linkId: number): ShareUse {
    return this.uses.begin(linkId);
  }

  /**
   * Refuses a link that was revoked, expired or ended since it was opened: what a response still
   * streaming asks before it sends more of the link's content (a zip, before each file).
   */
  assertStillOpen(linkId: number): void {
    const row = this.repo.byId(linkId);
    if (!row || row.revokedAt !== null) fail('NOT_FOUND', 'this link was revoked');
    if (row.expiresAt !== null && row.expiresAt <= this.now()) fail('NOT_FOUND', 'this link has expired');
    if (row.endedAt !== null) fail('NOT_FOUND', 'what this link shared was deleted');
  }

  /** A use that cannot fail after it starts (kept for callers that count before they act). */
  consume(linkId: number): void {
    this.uses.begin(linkId);
  }

  /** A visitor drops a file through an upload-only link; see share-drops.ts. */
  drop(opened: OpenedShare, name: string, source: Readable, opts: DropOptions = {}): Promise<WriteResult> {
    return this.drops.drop(opened, name, source, opts);
  }

  logAccess(linkId: number, entry: { action: string; bytes?: number; path?: string | null } & AccessMeta): void {
    this.uses.log(linkId, entry);
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
    const limit = this.uses.limitOf(row);
    if (state === 'active' && limit !== null && row.downloads >= limit) state = 'exhausted';
    return {
      id: row.id,
      root: rootName,
      path: row.path,
      name,
      kind: row.kind,
      createdBy: this.ctx.accounts.userById(row.createdBy)?.name ?? '',
      createdAt: row.createdAt,
      expiresAt: presentableExpiry(row.expiresAt),
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
