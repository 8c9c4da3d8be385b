import type { UserRow } from '../db/accounts-repo.js';
import { randomToken, sha256Hex } from '../lib/ids.js';
import { hashSecret, secretMatches, type KdfCost } from '../lib/kdf.js';
import type { CoreContext } from './context.js';
import { fail, isCoreError } from './errors.js';
import type { LoginGuard } from './guard.js';
import type { Protocol, Session, SessionUser } from './session.js';
import { VerifiedPasswords } from './verified-passwords.js';

export interface UserInfo {
  id: number;
  name: string;
  isAdmin: boolean;
  disabled: boolean;
  createdAt: number;
}

const USER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._@-]{0,63}$/;
/** Tokens are `sgt_` + 256 random bits; the prefix lets a door tell them from passwords. */
const TOKEN_PREFIX = 'sgt_';

function userInfo(u: UserRow): UserInfo {
  return { id: u.id, name: u.name, isAdmin: u.isAdmin, disabled: u.disabled, createdAt: u.createdAt };
}

function sessionUser(u: UserRow): SessionUser {
  return { id: u.id, name: u.name, isAdmin: u.isAdmin };
}

export interface AccountsOptions {
  /** The password check; a test passes a counting one to see which paths run the KDF. */
  verify?: (encoded: string, password: string) => Promise<boolean>;
  /** The clock of login sessions' expiry and idle timeout. */
  now?: () => number;
  /** A login session unused this long ends, whatever its absolute expiry. */
  sessionIdleMs?: number;
}

const DEFAULT_SESSION_IDLE_MS = 12 * 3600_000;
/** A login session's last use is written at most this often: not one write per request. */
const SESSION_SEEN_GRANULARITY_MS = 60_000;

/** Users, passwords (Argon2id), API tokens, login sessions, devices, and authentication. */
export class Accounts {
  /** Passwords verified recently: see verified-passwords.ts for what a hit may skip and why. */
  private readonly verified: VerifiedPasswords;

  /**
   * A hash of a random secret at the configured cost: unknown and disabled users are verified
   * against it, so their wrong answer costs the same Argon2 run as a real user's (a quicker one
   * told which names exist: 2-4 ms against 9-13 ms). Made once, on the first such login.
   */
  private dummyHash: Promise<string> | null = null;

  constructor(
    private readonly ctx: CoreContext,
    private readonly guard: LoginGuard,
    private readonly kdf: KdfCost,
    opts: AccountsOptions = {},
  ) {
    this.verify = opts.verify ?? secretMatches;
    this.now = opts.now ?? Date.now;
    this.verified = new VerifiedPasswords(this.now);
    this.sessionIdleMs = opts.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS;
  }

  private readonly verify: (encoded: string, password: string) => Promise<boolean>;
  private readonly now: () => number;
  private readonly sessionIdleMs: number;

  async hashPassword(password: string): Promise<string> {
    return hashSecret(password, this.kdf);
  }

  async createUser(name: string, password: string, isAdmin = false): Promise<UserInfo> {
    if (!USER_NAME.test(name)) fail('INVALID_INPUT', 'a user name is 1-64 letters, digits, dots, dashes, underscores or @');
    if (password.length < 8) fail('INVALID_INPUT', 'a password needs at least 8 characters');
    if (password.length > 1024) fail('INVALID_INPUT', 'a password may have at most 1024 characters');
    if (this.ctx.accounts.userByName(name) || name === 'local') fail('ALREADY_EXISTS', `user ${name} already exists`);
    return userInfo(this.ctx.accounts.createUser(name, await this.hashPassword(password), isAdmin));
  }

  users(): UserInfo[] {
    return this.ctx.accounts.users().map(userInfo);
  }

  user(name: string): UserInfo {
    const u = this.ctx.accounts.userByName(name) ?? fail('NOT_FOUND', `user ${name} does not exist`);
    return userInfo(u);
  }

  userById(id: number): UserInfo | undefined {
    const u = this.ctx.accounts.userById(id);
    return u ? userInfo(u) : undefined;
  }

  setDisabled(name: string, disabled: boolean): void {
    const u = this.ctx.accounts.userByName(name) ?? fail('NOT_FOUND', `user ${name} does not exist`);
    this.ctx.accounts.updateUser(u.id, { disabled });
    this.forget(u.id);
    if (disabled) this.ctx.accounts.deleteLoginSessionsOf(u.id);
  }

  deleteUser(name: string): void {
    const u = this.ctx.accounts.userByName(name) ?? fail('NOT_FOUND', `user ${name} does not exist`);
    this.forget(u.id);
    this.ctx.accounts.deleteUser(u.id);
  }

  async setPassword(name: string, password: string): Promise<void> {
    if (password.length < 8) fail('INVALID_INPUT', 'a password needs at least 8 characters');
    const u = this.ctx.accounts.userByName(name) ?? fail('NOT_FOUND', `user ${name} does not exist`);
    this.ctx.accounts.updateUser(u.id, { passwordHash: await this.hashPassword(password) });
    this.forget(u.id);
    this.ctx.accounts.deleteLoginSessionsOf(u.id);
  }

  /**
   * Checks a user name and a password or API token, with brute-force protection shared by all
   * doors. Wrong name, wrong secret and disabled account give the same answer.
   */
  async authenticate(name: string, secret: string, meta: { address?: string; protocol: Protocol }): Promise<SessionUser> {
    await this.guard.admit(meta.address, name);
    const key = secret.startsWith(TOKEN_PREFIX) ? '' : this.verified.keyOf(name, secret);
    const hit = key === '' ? undefined : this.verified.hit(key, () => this.ctx.accounts.userByName(name));
    if (hit) {
      this.guard.succeeded(meta.address, name);
      return hit;
    }
    let u = this.ctx.accounts.userByName(name);
    const usable = u !== undefined && !u.disabled;
    let ok = false;
    if (secret.length > 1024) {
      // Refused before any work, whoever the user: the same answer in the same time.
    } else if (secret.startsWith(TOKEN_PREFIX)) {
      const token = this.ctx.accounts.tokenByHash(sha256Hex(secret));
      ok = usable && token !== undefined && token.userId === u!.id;
      if (ok) this.useToken(token!);
    } else if (usable) {
      u = await this.verifyCurrent(name, secret, u!);
      if (u) {
        // Verified afresh (first time, or the account changed since): remember it.
        ok = true;
        this.verified.remember(key, Object.freeze(sessionUser(u)), u);
      }
    } else {
      await this.verify(await this.dummy(), secret);
    }
    if (!ok || !u) {
      this.guard.failed(meta.address, name);
      this.ctx.log.warn({ user: name, address: meta.address, protocol: meta.protocol }, 'login failed');
      fail('UNAUTHENTICATED', 'wrong user name or password');
    }
    this.guard.succeeded(meta.address, name);
    return sessionUser(u);
  }

  /**
   * The user of a password verified within the minute (VerifiedPasswords), without a wait, or
   * undefined when more is needed (a token, a slow-down, a password not verified lately, an account
   * changed since): then `authenticate`. The rules are authenticate's: a banned address is refused
   * (TOO_MANY_ATTEMPTS) before the cache is asked, and a success clears the pair's typos. WebDAV
   * and REST clients send Basic credentials on every request, and every async step between the
   * door and this answer cost a cold request (a big GET's first byte) tens of microseconds.
   */
  recentlyVerified(name: string, secret: string, address: string | undefined): SessionUser | undefined {
    if (secret.startsWith(TOKEN_PREFIX) || secret.length > 1024) return undefined;
    if (this.guard.check(address, name) > 0) return undefined;
    const hit = this.verified.hit(this.verified.keyOf(name, secret), () => this.ctx.accounts.userByName(name));
    if (hit) this.guard.succeeded(address, name);
    return hit;
  }

  /**
   * The account as it is once the password is verified against it, or undefined. Argon2 runs on
   * the thread pool, and a password change, a disable or a delete (forget) may land meanwhile: an
   * answer for the account as it was would be remembered after forget ran, and let the old password
   * or the closed account in from memory for a minute. A changed hash is verified once more.
   */
  private async verifyCurrent(name: string, secret: string, u: UserRow): Promise<UserRow | undefined> {
    for (let tries = 0; tries < 2; tries += 1) {
      const matched = await this.verify(u.passwordHash, secret);
      const now = this.ctx.accounts.userByName(name);
      if (!now || now.disabled || now.id !== u.id) return undefined;
      if (now.passwordHash === u.passwordHash) return matched ? now : undefined;
      u = now;
    }
    return undefined;
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= this.hashPassword(randomToken(16));
    return this.dummyHash;
  }

  /** A changed password, a disabled or deleted account: forget its verified passwords at once. */
  private forget(userId: number): void {
    this.verified.forget(userId);
  }

  /** For bearer tokens without a user name (REST scripts). */
  authenticateToken(secret: string, meta: { address?: string }): SessionUser {
    return this.bySecret(meta.address, () => {
      const token = secret.startsWith(TOKEN_PREFIX) ? this.ctx.accounts.tokenByHash(sha256Hex(secret)) : undefined;
      const u = token ? this.ctx.accounts.userById(token.userId) : undefined;
      if (!token || !u || u.disabled) fail('UNAUTHENTICATED', 'invalid or revoked token');
      this.useToken(token);
      return sessionUser(u);
    });
  }

  /**
   * A token's last use, written at most once a minute: each write commits the pending group commit
   * and syncs the database on the event loop, which a script calling the API per file paid per request.
   */
  private useToken(token: { id: number; lastUsedAt: number | null }): void {
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

  registerDevice(user: SessionUser, uuid: string, name: string, address: string | null): { id: number; uuid: string; name: string; token: string } {
    if (!/^[0-9a-fA-F-]{16,64}$/.test(uuid)) fail('INVALID_INPUT', 'a device id is a uuid');
    if (!name || name.length > 100) fail('INVALID_INPUT', 'a device needs a name of 1-100 characters');
    // Another device of the user with that name (two folders of one machine both log in as its host
    // name): this one is 'name (2)', as conflict copies say 'from DEVICE' and `device list` names them.
    const taken = new Set(this.ctx.accounts.devicesOf(user.id).filter((d) => d.uuid !== uuid.toLowerCase() && d.revokedAt === null).map((d) => d.name));
    for (let n = 2, base = name; taken.has(name); n += 1) name = `${base} (${n})`;
    const token = `sgd_${randomToken(32)}`;
    const row = this.ctx.accounts.upsertDevice(user.id, uuid.toLowerCase(), name, sha256Hex(token), address);
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
