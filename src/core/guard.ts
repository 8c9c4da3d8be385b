import { fail } from './errors.js';

export interface GuardOptions {
  /** Failures before answers start to slow down. */
  freeAttempts: number;
  /** Failures (within `windowMs`) that ban the key for `banMs`. */
  banAfter: number;
  windowMs: number;
  banMs: number;
  maxDelayMs: number;
}

interface Record_ {
  failures: number;
  firstAt: number;
  bannedUntil: number;
}

/**
 * Brute-force protection shared by every door: failed logins count per address and per user
 * name; after a few, answers slow down progressively, then the key is banned for a while.
 */
export class LoginGuard {
  private records = new Map<string, Record_>();

  constructor(private readonly opts: GuardOptions, private readonly now: () => number = Date.now) {}

  private get(key: string): Record_ | undefined {
    const r = this.records.get(key);
    if (r && this.now() - r.firstAt > this.opts.windowMs && r.bannedUntil < this.now()) {
      this.records.delete(key);
      return undefined;
    }
    return r;
  }

  private keys(address: string | undefined, user: string | undefined): string[] {
    return [address ? `addr:${address}` : null, user ? `user:${user.toLowerCase()}` : null].filter((k): k is string => k !== null);
  }

  /** Throws TOO_MANY_ATTEMPTS while banned; otherwise returns how long to wait before answering. */
  check(address: string | undefined, user: string | undefined): number {
    if (this.records.size === 0) return 0; // the usual case: nobody failed lately, no keys to build
    let delay = 0;
    for (const key of this.keys(address, user)) {
      const r = this.get(key);
      if (!r) continue;
      if (r.bannedUntil > this.now()) {
        fail('TOO_MANY_ATTEMPTS', 'too many failed logins; try again later', { retryAfterSec: Math.ceil((r.bannedUntil - this.now()) / 1000) });
      }
      const extra = r.failures - this.opts.freeAttempts;
      if (extra > 0) delay = Math.max(delay, Math.min(this.opts.maxDelayMs, 250 * 2 ** (extra - 1)));
    }
    return delay;
  }

  failed(address: string | undefined, user: string | undefined): void {
    for (const key of this.keys(address, user)) {
      const r = this.get(key) ?? { failures: 0, firstAt: this.now(), bannedUntil: 0 };
      r.failures += 1;
      if (r.failures >= this.opts.banAfter) r.bannedUntil = this.now() + this.opts.banMs;
      this.records.set(key, r);
    }
  }

  succeeded(address: string | undefined, user: string | undefined): void {
    if (this.records.size === 0) return;
    for (const key of this.keys(address, user)) {
      const r = this.get(key);
      if (r && r.bannedUntil <= this.now()) this.records.delete(key);
    }
  }
}
