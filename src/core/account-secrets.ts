import type { UserRow } from '../db/accounts-repo.js';
import { randomToken, sha256Hex } from '../lib/ids.js';
import type { CoreContext } from './context.js';
import { fail, isCoreError } from './errors.js';
import type { LoginGuard } from './guard.js';
import type { Protocol, Session, SessionUser } from './session.js';

/** Tokens are `sgt_` + 256 random bits; the prefix lets a door tell them from passwords. */
export const TOKEN_PREFIX = 'sgt_';

/** A login session's last use is written at most this often: not one write per request. */
const SESSION_SEEN_GRANULARITY_MS = 60_000;

export function sessionUser(u: UserRow): SessionUser {
  return { id: u.id, name: u.name, isAdmin: u.isAdmin };
}

/**
 * The secrets that carry no user name: API tokens, login sessions, devices. Each is 128 bits or
 * more of randomness, only its SHA-256 is stored, and presenting one costs no KDF. Accounts
 * (accounts.ts) extends this with users, passwords and their authentication.
 */
export class AccountSecrets {
  constructor(
    protected readonly ctx: CoreContext,
    protected readonly guard: LoginGuard,
    protected readonly now: () => number,
    private readonly sessionIdleMs: number,
  ) {}

  /** For bearer tokens without a user name (REST scripts). */
  authenticateToken(secret: string, meta: { address?: string }): SessionUser {
    return this.tokenSession(secret, meta).user;
  }

  /** The same, with the token's id (a device registered by this session records it). */
  tokenSession(secret: string, meta: { address?: string }): { user: SessionUser; tokenId: number } {
    return this.bySecret(meta.address, () => {
      const token = secret.startsWith(TOKEN_PREFIX) ? this.ctx.accounts.tokenByHash(sha256Hex(secret)) : undefined;
      const u = token ? this.ctx.accounts.userById(token.userId) : undefined;
      if (!token || !u || u.disabled) fail('UNAUTHENTICATED', 'invalid or revoked token');
      this.useToken(token);
      return { user: sessionUser(u), tokenId: token.id };
    });
  }

  /**
   * A token's last use, written at most once a minute: each write commits the pending group commit
   * and syncs the database on the event loop, which a script calling the API per file paid per request.
   */
  protected useToken(token: { id: number; lastUsedAt: number | null }): void {
    const now = this.now();
    if (token.lastUsedAt === null || now - token.lastUsedAt > SESSION_SEEN_GRANULARITY_MS) this.ctx.accounts.touchToken(token.id, now);
  }

  /**
   * A secret that carries no user name (API token, login session, device token): a failure counts
   * toward the address's ban, like a wrong password. No slow-down: these secrets are 128 bits or more
   * of randomness, which no number of guesses reaches; the ban keeps the noise down.
   */
  private bySecret<T>(address: string | undefined, resume: () => T): T {
    this.guard.check(address, undefined);
    try {
      return resume();
    } catch (err) {
      if (isCoreError(err, 'UNAUTHENTICATED')) this.guard.failed(address, undefined);
      throw err;
    }
  }

  createToken(userId: number, name: string): { id: number; name: string; token: string } {
    if (!name || name.length > 100) fail('INVALID_INPUT', 'a token needs a name of 1-100 characters');
    const token = `${TOKEN_PREFIX}${randomToken(32)}`;
    const row = this.ctx.accounts.addToken(userId, name, sha256Hex(token));
    return { id: row.id, name: row.name, token };
  }

  tokens(userId: number): { id: number; name: string; createdAt: number; lastUsedAt: number | null }[] {
    return this.ctx.accounts.tokensOf(userId).map((t) => ({ id: t.id, name: t.name, createdAt: t.createdAt, lastUsedAt: t.lastUsedAt }));
  }

  /** Also revokes the devices the token's sessions registered (AccountsRepo.revokeToken, one transaction). */
  revokeToken(userId: number, id: number): void {
    if (!this.ctx.accounts.revokeToken(userId, id)) fail('NOT_FOUND', `token ${id} does not exist`);
  }

  /** A login session (cookie or bearer); the secret is returned once, only its hash is kept. */
  openLoginSession(user: SessionUser, ttlMs: number, address: string | null): { token: string; expiresAt: number } {
    const token = `sgs_${randomToken(32)}`;
    const now = this.now();
    const expiresAt = now + ttlMs;
    this.ctx.accounts.addLoginSession(user.id, sha256Hex(token), expiresAt, address, now);
    return { token, expiresAt };
  }

  /**
   * A login session works until its absolute expiry, and only while it is in use: one left idle
   * for `sessionIdleMs` (a browser left logged in on a shared machine) ends, and is deleted.
   */
  resumeLoginSession(token: string, address?: string): SessionUser {
    return this.bySecret(address, () => {
      const now = this.now();
      const row = this.ctx.accounts.loginSessionByHash(sha256Hex(token));
      const seen = row ? (row.lastSeenAt ?? row.createdAt) : 0;
      const idle = row !== undefined && now - seen > this.sessionIdleMs;
      if (row && (idle || row.expiresAt <= now)) this.ctx.accounts.deleteLoginSession(row.tokenHash);
      const u = row && !idle && row.expiresAt > now ? this.ctx.accounts.userById(row.userId) : undefined;
      if (!u || u.disabled) fail('UNAUTHENTICATED', 'the session expired; log in again');
      if (now - seen > SESSION_SEEN_GRANULARITY_MS) this.ctx.accounts.seeLoginSession(row!.id, now);
      return sessionUser(u);
    });
  }

  closeLoginSession(token: string): void {
    this.ctx.accounts.deleteLoginSession(sha256Hex(token));
  }

  /** `apiTokenId`: the API token whose session registers it (revoking that token revokes the device). */
  registerDevice(user: SessionUser, uuid: string, name: string, address: string | null, apiTokenId: number | null = null): { id: number; uuid: string; name: string; token: string } {
    if (!/^[0-9a-fA-F-]{16,64}$/.test(uuid)) fail('INVALID_INPUT', 'a device id is a uuid');
    if (!name || name.length > 100) fail('INVALID_INPUT', 'a device needs a name of 1-100 characters');
    // Another device of the user with that name (two folders of one machine both log in as its host
    // name): this one is 'name (2)', as conflict copies say 'from DEVICE' and `device list` names them.
    const taken = new Set(this.ctx.accounts.devicesOf(user.id).filter((d) => d.uuid !== uuid.toLowerCase() && d.revokedAt === null).map((d) => d.name));
    for (let n = 2, base = name; taken.has(name); n += 1) name = `${base} (${n})`;
    const token = `sgd_${randomToken(32)}`;
    const row = this.ctx.accounts.upsertDevice(user.id, uuid.toLowerCase(), name, sha256Hex(token), address, apiTokenId);
    return { id: row.id, uuid: row.uuid, name: row.name, token };
  }

  /** A device's token opens a session as its user, from that device. */
  deviceSession(token: string, protocol: Protocol, requestId: string, address: string | null): Session {
    return this.bySecret(address ?? undefined, () => {
      const device = this.ctx.accounts.deviceByTokenHash(sha256Hex(token));
      const u = device ? this.ctx.accounts.userById(device.userId) : undefined;
      if (!device || !u || u.disabled) fail('UNAUTHENTICATED', 'unknown or revoked device');
      // Written only when it tells something new (as login sessions): a write here committed the
      // pending group commit and synced the WAL on the event loop, once per sync request.
      const now = this.now();
      if (device.lastAddress !== address || device.lastSeenAt === null || now - device.lastSeenAt > SESSION_SEEN_GRANULARITY_MS) this.ctx.accounts.seeDevice(device.id, address, now);
      return { user: sessionUser(u), device: { id: device.id, name: device.name }, protocol, requestId, address: address ?? undefined };
    });
  }

  revokeDevice(userId: number, id: number): void {
    if (!this.ctx.accounts.revokeDevice(userId, id)) fail('NOT_FOUND', `device ${id} does not exist`);
  }
}
