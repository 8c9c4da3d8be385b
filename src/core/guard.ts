import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { fail } from './errors.js';

export interface GuardOptions {
  /** Failures of one name from one address before its answers start to slow down. */
  freeAttempts: number;
  /** Failures from one address (whatever the names) within `windowMs` that ban the address for `banMs`. */
  banAfter: number;
  windowMs: number;
  banMs: number;
  maxDelayMs: number;
  /** Keys kept in memory at most; past it, finished ones go first, then the oldest counts. */
  maxEntries?: number;
}

/** One key's count, as kept in memory and in the database (so a restart lifts no ban). */
export interface FailureRecord {
  key: string;
  failures: number;
  firstAt: number;
  bannedUntil: number;
}

/** Where the counts survive a restart: src/db/guard-repo.ts. */
export interface FailureStore {
  /** Forgets records whose window and ban are over and returns the others. */
  live(now: number, windowStart: number): FailureRecord[];
  save(record: FailureRecord): void;
  remove(key: string): void;
}

/**
 * The key of an address: IPv4-mapped IPv6 as plain IPv4 (one client, whichever socket family it
 * reached), and IPv6 by its /64, the smallest block one subscriber usually holds: otherwise a
 * client would walk through its 2^64 addresses and never meet a ban.
 */
export function addressKey(address: string | undefined): string {
  if (!address) return 'addr:unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return `addr:${mapped[1]}`;
  if (!net.isIPv6(address)) return `addr:${address}`;
  const [head, tail = ''] = address.toLowerCase().split('%')[0]!.split('::') as [string, string?];
  const left = head ? head.split(':') : [];
  const right = address.includes('::') && tail ? tail.split(':') : [];
  const groups = [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `addr:${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/**
 * Brute-force protection shared by every door, in the manner of SFTPGo's defender: failures count
 * per address, and an address with `banAfter` failures within the window is banned from every
 * door for `banMs`, the right password included. Failures also count per address and user name
 * (or share link): past `freeAttempts`, that pair's answers slow down, so guessing one account's
 * password crawls while the others behind the same address (an office, a NAT) do not wait.
 *
 * Nothing is keyed on the name alone: a stranger who fails as alice bans only himself, and alice's
 * right password from her own address always works. A success takes that name's failures from this
 * address off the count (they were typos) and no others: an attacker holding one valid account
 * cannot wipe his guesses at other accounts with it.
 */
export class LoginGuard {
  private readonly records = new Map<string, FailureRecord>();
  private readonly maxEntries: number;

  constructor(
    private readonly opts: GuardOptions,
    private readonly store: FailureStore | null = null,
    private readonly now: () => number = Date.now,
    /** How the slow-down waits: the core's clock (CoreOptions.sleep), so a test moves time instead. */
    private readonly sleep: (ms: number) => Promise<void> = (ms) => delay(ms),
  ) {
    this.maxEntries = opts.maxEntries ?? 100_000;
    if (store) for (const r of store.live(now(), now() - opts.windowMs)) this.records.set(r.key, { ...r });
  }

  private pairKey(address: string | undefined, name: string): string {
    return `pair:${addressKey(address).slice(5)}\u0000${name.toLowerCase()}`;
  }

  /** The record of a key if it still counts; a finished one is forgotten on the way. */
  private get(key: string): FailureRecord | undefined {
    const r = this.records.get(key);
    if (r && this.finished(r, this.now())) {
      this.records.delete(key);
      this.store?.remove(key);
      return undefined;
    }
    return r;
  }

  private finished(r: FailureRecord, now: number): boolean {
    return now - r.firstAt > this.opts.windowMs && r.bannedUntil <= now;
  }

  /**
   * Throws TOO_MANY_ATTEMPTS while the address is banned; otherwise returns how long to wait
   * before answering (the pair's slow-down). `name` is a user name or a link's key, if any.
   */
  check(address: string | undefined, name: string | undefined): number {
    if (this.records.size === 0) return 0; // the usual case: nobody failed lately, no keys to build
    const a = this.get(addressKey(address));
    if (a && a.bannedUntil > this.now()) {
      fail('TOO_MANY_ATTEMPTS', 'too many failed logins; try again later', { retryAfterSec: Math.ceil((a.bannedUntil - this.now()) / 1000) });
    }
    const p = name === undefined ? undefined : this.get(this.pairKey(address, name));
    const extra = (p?.failures ?? 0) - this.opts.freeAttempts;
    return extra > 0 ? Math.min(this.opts.maxDelayMs, 250 * 2 ** Math.min(extra - 1, 20)) : 0;
  }

  /**
   * Throws TOO_MANY_ATTEMPTS while the address is banned; otherwise waits out the pair's slow-down
   * (check) on the clock, then lets the attempt go on.
   */
  async admit(address: string | undefined, name: string | undefined): Promise<void> {
    const wait = this.check(address, name);
    if (wait > 0) await this.sleep(wait);
  }

  failed(address: string | undefined, name: string | undefined): void {
    const now = this.now();
    this.makeRoom(now);
    const a = this.bump(addressKey(address), now);
    if (a.failures >= this.opts.banAfter && a.bannedUntil <= now) {
      a.bannedUntil = now + this.opts.banMs;
      this.store?.save(a);
    }
    if (name !== undefined) this.bump(this.pairKey(address, name), now);
  }

  /**
   * The name's failures from this address were typos, not guesses: they leave the address count.
   * Failures for other names, and for secrets without a name, stay.
   */
  succeeded(address: string | undefined, name: string | undefined): void {
    if (this.records.size === 0 || name === undefined) return;
    const key = this.pairKey(address, name);
    const p = this.get(key);
    if (!p) return;
    this.records.delete(key);
    this.store?.remove(key);
    const a = this.get(addressKey(address));
    if (a && a.bannedUntil <= this.now()) {
      a.failures = Math.max(0, a.failures - p.failures);
      this.store?.save(a);
    }
  }

  private bump(key: string, now: number): FailureRecord {
    const r = this.get(key) ?? { key, failures: 0, firstAt: now, bannedUntil: 0 };
    r.failures += 1;
    this.records.set(key, r);
    this.store?.save(r);
    return r;
  }

  /** Many addresses (an IPv6 sweep, a botnet) must not grow the map without end. */
  private makeRoom(now: number): void {
    if (this.records.size < this.maxEntries) return;
    for (const [k, r] of this.records) {
      if (this.finished(r, now)) {
        this.records.delete(k);
        this.store?.remove(k);
      }
    }
    // Still full: drop the oldest counts that ban nobody (a Map iterates in insertion order).
    for (const [k, r] of this.records) {
      if (this.records.size < this.maxEntries * 0.9) break;
      if (r.bannedUntil > now) continue;
      this.records.delete(k);
      this.store?.remove(k);
    }
  }
}
