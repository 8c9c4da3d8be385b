import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { LinkRow, SharesRepo } from '../db/shares-repo.js';
import { safeEqual, sha256Hex } from '../lib/ids.js';
import { secretMatches } from '../lib/kdf.js';
import type { CoreContext } from './context.js';
import { fail } from './errors.js';
import type { LoginGuard } from './guard.js';
import type { Session } from './session.js';
import { revokeLinksOfCreator } from './share-lifecycle.js';
import type { AccessMeta, OpenedShare, ShareLinkInfo } from './share-types.js';
import type { ShareUses } from './share-uses.js';

/**
 * The visitor's side of a link: a token (and its password, or a cookie issued for it) opens a
 * session confined to what was shared, acting as the link's creator. Unknown, revoked, expired and
 * ended links all look like a token that never existed (NOT_FOUND); a missing or wrong password is
 * UNAUTHENTICATED and counts in the brute-force guard, per address and per link.
 */
export class ShareVisits {
  /** Per-gateway random key for password cookies: a restart logs every visitor out. */
  private readonly secret = randomBytes(32);

  constructor(
    private readonly ctx: CoreContext,
    private readonly repo: SharesRepo,
    private readonly guard: LoginGuard,
    private readonly uses: ShareUses,
    private readonly present: (row: LinkRow) => ShareLinkInfo,
    private readonly now: () => number,
    private readonly cookieTtlMs: number,
  ) {}

  async open(token: string, auth: { password?: string; cookie?: string }, meta: AccessMeta = {}): Promise<OpenedShare> {
    const row = this.usable(token);
    if (row.passwordHash !== null) {
      const viaCookie = auth.cookie !== undefined && this.cookieValid(row, auth.cookie);
      // A cookie stands for the password: a banned address is refused it too (as a login session's).
      if (viaCookie) this.guard.check(meta.address ?? undefined, `share:${row.id}`);
      else await this.checkPassword(row, auth.password, meta);
    }
    return this.opened(row, meta);
  }

  /** A value for a cookie scoped to /s/<token>; it dies with the link (checked on every request). */
  issueCookie(token: string): { value: string; maxAgeSec: number } {
    const row = this.usable(token);
    const exp = this.now() + this.cookieTtlMs;
    return { value: `${exp}.${this.mac(row, exp)}`, maxAgeSec: Math.floor(this.cookieTtlMs / 1000) };
  }

  private async checkPassword(row: LinkRow, password: string | undefined, meta: AccessMeta): Promise<void> {
    const key = `share:${row.id}`;
    if (password === undefined || password === '') fail('UNAUTHENTICATED', 'this link needs a password', { passwordRequired: true });
    await this.guard.admit(meta.address ?? undefined, key);
    const ok = password.length <= 1024 && (await secretMatches(row.passwordHash!, password));
    if (!ok) {
      this.guard.failed(meta.address ?? undefined, key);
      this.uses.log(row.id, { ...meta, action: 'password-wrong' });
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
    this.uses.assertLeft(row);
    const session: Session = {
      user: { id: creator.id, name: creator.name, isAdmin: false },
      device: null,
      protocol: 'share',
      requestId: meta.requestId ?? randomUUID(),
      scope: { rootId: root.id, path: row.path, mode: row.uploadOnly ? 'upload' : 'read', linkId: row.id },
      address: meta.address ?? undefined,
    };
    return { link: this.present(row), root: root.name, session };
  }
}
