import type { UserRow } from '../db/accounts-repo.js';
import { randomToken, sha256Hex } from '../lib/ids.js';
import type { SessionUser } from './session.js';

/** How long a verified password answers from memory alone, without reading the account. */
export const VERIFIED_FOR_MS = 60_000;
const MAX_ENTRIES = 10_000;

interface Verified {
  user: SessionUser;
  /** Until when a hit needs no read of the account. */
  until: number;
  /** SHA-256 of the stored Argon2 hash and the account's state the password was verified against. */
  account: string;
}

/** What a cached verification depends on: the stored hash, the disabled flag and the admin flag. */
function accountState(u: UserRow): string {
  return sha256Hex(`${u.passwordHash}\u0000${u.disabled}\u0000${u.isAdmin}`);
}

/**
 * Passwords verified recently. Argon2id costs tens of milliseconds by design, and WebDAV and REST
 * clients send Basic credentials on every request.
 *
 * Not a plain sliding window: a hit within VERIFIED_FOR_MS answers from memory; after that the
 * account is read again (one indexed query, microseconds), and when its stored hash, disabled and
 * admin flags are what the password was verified against, the entry renews without Argon2 (the same
 * password against the same hash gives the same answer). So a client in constant use never pays
 * Argon2 again, yet a change made beside the gateway (the admin CLI writes the database directly)
 * takes effect within VERIFIED_FOR_MS, and a change made through this process (forget) at once.
 * A sliding window without the re-read would let a disabled account live for as long as its client
 * kept sending requests.
 *
 * Keyed by SHA-256 over a per-process random key, the name and the password, so a memory dump holds
 * no plain hash of a password to guess against.
 */
export class VerifiedPasswords {
  private readonly entries = new Map<string, Verified>();
  /** Secret of this process, so the map's keys reveal nothing of the passwords. */
  private readonly key = randomToken();

  constructor(private readonly now: () => number) {}

  /**
   * SHA-256 of key, name and secret in one call: no HMAC object per request (it cost more than the
   * rest of a hit). One text per pair: the name goes with its length (the password is the rest), as
   * either may hold any character (a NUL separator made 'alice' + 'p\0q' and 'alice\0p' + 'q' one
   * key), and hashed as UTF-16 code units, which keep a lone surrogate (UTF-8 turns it into U+FFFD).
   */
  keyOf(name: string, password: string): string {
    return sha256Hex(Buffer.from(`${this.key}:${name.length}:${name}${password}`, 'utf16le'));
  }

  /**
   * The user for a verified password, or undefined when it must be verified (unknown, or the
   * account changed). `reread` reads the account; it runs only once the memory-only time ran out.
   */
  hit(key: string, reread: () => UserRow | undefined): SessionUser | undefined {
    const v = this.entries.get(key);
    if (!v) return undefined;
    const now = this.now();
    if (v.until > now) return v.user;
    const u = reread();
    if (!u || u.disabled || u.id !== v.user.id || accountState(u) !== v.account) {
      this.entries.delete(key);
      return undefined;
    }
    v.until = now + VERIFIED_FOR_MS;
    return v.user;
  }

  remember(key: string, user: SessionUser, row: UserRow): void {
    if (this.entries.size > MAX_ENTRIES) this.entries.clear();
    this.entries.set(key, { user, until: this.now() + VERIFIED_FOR_MS, account: accountState(row) });
  }

  /** A changed password, a disabled or deleted account: its verified passwords end at once. */
  forget(userId: number): void {
    for (const [k, v] of this.entries) if (v.user.id === userId) this.entries.delete(k);
  }
}
