import type { UserRow } from '../db/accounts-repo.js';
import { randomToken, sha256Hex } from '../lib/ids.js';
import { hashSecret, secretMatches, type KdfCost } from '../lib/kdf.js';
import { AccountSecrets, sessionUser, TOKEN_PREFIX } from './account-secrets.js';
import type { CoreContext } from './context.js';
import { fail } from './errors.js';
import type { LoginGuard } from './guard.js';
import type { Protocol, SessionUser } from './session.js';
import { VerifiedPasswords } from './verified-passwords.js';

export interface UserInfo {
  id: number;
  name: string;
  isAdmin: boolean;
  disabled: boolean;
  createdAt: number;
}

const USER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._@-]{0,63}$/;

function userInfo(u: UserRow): UserInfo {
  return { id: u.id, name: u.name, isAdmin: u.isAdmin, disabled: u.disabled, createdAt: u.createdAt };
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

/**
 * Users, passwords (Argon2id) and authentication; the API tokens, login sessions and devices they
 * hold are AccountSecrets' (account-secrets.ts).
 */
export class Accounts extends AccountSecrets {
  /** Passwords verified recently: see verified-passwords.ts for what a hit may skip and why. */
  private readonly verified: VerifiedPasswords;

  /**
   * A hash of a random secret at the configured cost: unknown and disabled users are verified
   * against it, so their wrong answer costs the same Argon2 run as a real user's (a quicker one
   * told which names exist: 2-4 ms against 9-13 ms). Made once, on the first such login.
   */
  private dummyHash: Promise<string> | null = null;

  constructor(
    ctx: CoreContext,
    guard: LoginGuard,
    private readonly kdf: KdfCost,
    opts: AccountsOptions = {},
  ) {
    super(ctx, guard, opts.now ?? Date.now, opts.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS);
    this.verify = opts.verify ?? secretMatches;
    this.verified = new VerifiedPasswords(this.now);
  }

  private readonly verify: (encoded: string, password: string) => Promise<boolean>;

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
    return (await this.authenticateAs(name, secret, meta)).user;
  }

  /** authenticate, with the API token's id when the secret was one (undefined for a password). */
  async authenticateAs(name: string, secret: string, meta: { address?: string; protocol: Protocol }): Promise<{ user: SessionUser; tokenId?: number }> {
    await this.guard.admit(meta.address, name);
    const key = secret.startsWith(TOKEN_PREFIX) ? '' : this.verified.keyOf(name, secret);
    const hit = key === '' ? undefined : this.verified.hit(key, () => this.ctx.accounts.userByName(name));
    if (hit) {
      this.guard.succeeded(meta.address, name);
      return { user: hit };
    }
    let u = this.ctx.accounts.userByName(name);
    const usable = u !== undefined && !u.disabled;
    let ok = false;
    let tokenId: number | undefined;
    if (secret.length > 1024) {
      // Refused before any work, whoever the user: the same answer in the same time.
    } else if (secret.startsWith(TOKEN_PREFIX)) {
      const token = this.ctx.accounts.tokenByHash(sha256Hex(secret));
      ok = usable && token !== undefined && token.userId === u!.id;
      if (ok) {
        this.useToken(token!);
        tokenId = token!.id;
      }
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
    return { user: sessionUser(u), tokenId };
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
}
