import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closeDb, openDb, type Db } from '../db/index.js';
import { LoginFailuresRepo } from '../db/guard-repo.js';
import { isCoreError } from './errors.js';
import { addressKey, LoginGuard, type GuardOptions } from './guard.js';
import { makeCore, type TestCore } from '../../test/helpers/core.js';

const opts: GuardOptions = { freeAttempts: 2, banAfter: 5, windowMs: 60_000, banMs: 30_000, maxDelayMs: 4000 };

function banned(g: LoginGuard, address: string, name?: string): boolean {
  try {
    g.check(address, name);
    return false;
  } catch (e) {
    if (isCoreError(e, 'TOO_MANY_ATTEMPTS')) return true;
    throw e;
  }
}

describe('LoginGuard', () => {
  it('slows one name down from one address, bans the address, then forgets after the ban', () => {
    let now = 1_000_000;
    const g = new LoginGuard(opts, null, () => now);
    expect(g.check('1.2.3.4', 'bob')).toBe(0);
    g.failed('1.2.3.4', 'bob');
    g.failed('1.2.3.4', 'bob');
    expect(g.check('1.2.3.4', 'bob')).toBe(0);
    g.failed('1.2.3.4', 'bob');
    expect(g.check('1.2.3.4', 'bob')).toBe(250);
    expect(g.check('1.2.3.4', 'carol')).toBe(0); // the slow-down is the pair's, not the address's
    g.failed('1.2.3.4', 'bob');
    expect(g.check('1.2.3.4', 'bob')).toBe(500);
    g.failed('1.2.3.4', 'bob');
    expect(banned(g, '1.2.3.4', 'bob')).toBe(true);
    expect(banned(g, '1.2.3.4', 'carol')).toBe(true);
    expect(banned(g, '1.2.3.4')).toBe(true);
    now += 61_000;
    expect(g.check('1.2.3.4', 'bob')).toBe(0);
  });

  it('never bans or slows down a name from another address (no lockout by name)', () => {
    const now = 1_000_000;
    const g = new LoginGuard(opts, null, () => now);
    for (let i = 0; i < 50; i += 1) g.failed('203.0.113.9', 'alice');
    expect(banned(g, '203.0.113.9', 'alice')).toBe(true);
    expect(banned(g, '198.51.100.7', 'alice')).toBe(false);
    expect(g.check('198.51.100.7', 'alice')).toBe(0);
    // Share-link passwords: a link key is a name like any other.
    for (let i = 0; i < 50; i += 1) g.failed('203.0.113.10', 'share:7');
    expect(g.check('198.51.100.7', 'share:7')).toBe(0);
  });

  it("a success clears its own name's failures (typos), not the guesses at other names", () => {
    const g = new LoginGuard({ ...opts, freeAttempts: 0, banAfter: 3 });
    g.failed('a', 'u');
    g.failed('a', 'u');
    expect(g.check('a', 'u')).toBe(500);
    g.succeeded('a', 'u');
    expect(g.check('a', 'u')).toBe(0);
    g.failed('a', 'v');
    g.failed('a', 'w');
    expect(banned(g, 'a', 'u')).toBe(false); // two failures count, u's two typos do not
    g.succeeded('a', 'u'); // the attacker's own account: wipes nothing of v's and w's
    g.failed('a', undefined);
    expect(banned(g, 'a', 'u')).toBe(true);
  });

  it('one IPv6 /64 is one address; IPv4-mapped IPv6 is the IPv4 address', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe(addressKey('2001:db8:1:2:ffff:1:2:3'));
    expect(addressKey('2001:db8:1:2::1')).not.toBe(addressKey('2001:db8:1:3::1'));
    expect(addressKey('::ffff:127.0.0.2')).toBe(addressKey('127.0.0.2'));
    expect(addressKey('::1')).toBe('addr:0:0:0:0::/64');
    const g = new LoginGuard(opts);
    for (let i = 0; i < 5; i += 1) g.failed(`2001:db8:1:2::${i + 1}`, `user${i}`);
    expect(banned(g, '2001:db8:1:2:dead:beef:0:1', 'someone')).toBe(true);
    expect(banned(g, '2001:db8:1:3::1', 'someone')).toBe(false);
  });

  it('keeps at most maxEntries keys, dropping finished then oldest counts, never a live ban', () => {
    const now = 1_000_000;
    const g = new LoginGuard({ ...opts, banAfter: 2, maxEntries: 100 }, null, () => now);
    g.failed('10.9.9.9', undefined);
    g.failed('10.9.9.9', undefined); // banned
    for (let i = 0; i < 1000; i += 1) g.failed(`10.0.${i >> 8}.${i & 255}`, undefined);
    expect((g as unknown as { records: Map<string, unknown> }).records.size).toBeLessThanOrEqual(100);
    expect(banned(g, '10.9.9.9')).toBe(true);
  });
});

describe('LoginGuard with its table', () => {
  let dir: string | undefined;
  let db: Db | undefined;
  afterEach(async () => {
    if (db) closeDb(db);
    if (dir) await rm(dir, { recursive: true, force: true });
    db = undefined;
  });

  it('a ban and the counts survive a restart; finished rows are dropped at start', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'syncgate-guard-'));
    const file = path.join(dir, 'syncgate.db');
    let now = 5_000_000;
    db = openDb(file);
    let g = new LoginGuard(opts, new LoginFailuresRepo(db), () => now);
    for (let i = 0; i < 5; i += 1) g.failed('192.0.2.1', 'alice');
    g.failed('192.0.2.2', 'bob');
    g.failed('192.0.2.2', 'bob');
    g.failed('192.0.2.2', 'bob');
    closeDb(db);
    db = openDb(file);
    g = new LoginGuard(opts, new LoginFailuresRepo(db), () => now);
    expect(banned(g, '192.0.2.1', 'alice')).toBe(true);
    expect(g.check('192.0.2.2', 'bob')).toBe(250);
    now += 61_000; // ban (30 s) and window (60 s) over
    closeDb(db);
    db = openDb(file);
    g = new LoginGuard(opts, new LoginFailuresRepo(db), () => now);
    expect(banned(g, '192.0.2.1', 'alice')).toBe(false);
    expect(db.$client.prepare('SELECT count(*) AS n FROM login_failures').get()).toEqual({ n: 0 });
  });
});

/** A test clock: sleeping moves it and returns at once, so a slow-down costs no real time. */
function testClock(start: number) {
  const clock = {
    now: start,
    slept: [] as number[],
    read: () => clock.now,
    sleep: async (ms: number) => {
      clock.slept.push(ms);
      clock.now += ms;
    },
  };
  return clock;
}

describe('the slow-down waits on the core\'s clock', () => {
  let t: TestCore | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('admit waits the pair\'s delay on the clock it was given', async () => {
    const clock = testClock(1_000_000);
    const g = new LoginGuard(opts, null, clock.read, clock.sleep);
    for (let i = 0; i < 3; i += 1) g.failed('1.2.3.4', 'bob');
    await g.admit('1.2.3.4', 'carol');
    await g.admit('1.2.3.4', 'bob');
    expect(clock.slept).toEqual([250]);
    expect(clock.now).toBe(1_000_250);
  });

  it('a password login and a share link\'s password are slowed down on it, with no timer', async () => {
    const clock = testClock(Date.parse('2026-12-07T03:00:00Z'));
    t = await makeCore({ now: clock.read, sleep: clock.sleep, guard: { freeAttempts: 1, banAfter: 10, maxDelayMs: 4000 } });
    const meta = { address: '192.0.2.5', protocol: 'rest' as const };
    const login = (password: string) => t!.core.accounts.authenticate('alice', password, meta).then(() => 'OK', (e: { code?: string }) => e.code);
    expect(await login('wrong-1')).toBe('UNAUTHENTICATED');
    expect(await login('wrong-2')).toBe('UNAUTHENTICATED');
    expect(clock.slept).toEqual([]); // one free attempt, then the second failure counts
    expect(await login('alice-password')).toBe('OK');
    expect(clock.slept).toEqual([250]);

    const { token } = await t.core.shares.create(t.admin, { root: 'docs', path: '', password: 'pw-123' });
    const open = (password: string) => t!.core.shares.open(token, { password }, { address: '192.0.2.6' }).then(() => 'OK', (e: { code?: string }) => e.code);
    expect(await open('bad-1')).toBe('UNAUTHENTICATED');
    expect(await open('bad-2')).toBe('UNAUTHENTICATED');
    expect(await open('bad-3')).toBe('UNAUTHENTICATED');
    expect(await open('pw-123')).toBe('OK');
    expect(clock.slept).toEqual([250, 250, 500]);
  });
});
