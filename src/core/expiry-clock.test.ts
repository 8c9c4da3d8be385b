/**
 * Every expiry of the core runs on its clock (CoreOptions.now): these tests move the clock, never
 * sleep, and each fails when its rule is removed (or reads the wall clock instead).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { body, makeCore, readAll, type TestCore } from '../../test/helpers/core.js';
import { isCoreError, type ErrorCode } from './errors.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
let t: TestCore;
let clock = 0;
beforeEach(async () => {
  clock = Date.now();
  t = await makeCore({ now: () => clock });
});
afterEach(async () => {
  await t.close();
});

const code = (c: ErrorCode) => (e: unknown) => isCoreError(e, c);

describe('locks', () => {
  it('hold for their timeout, end after it, and a refresh extends them', async () => {
    const alice = t.core.connect(t.admin);
    await alice.write('docs', 'l.txt', body('x'));
    const bob = t.core.connect(await t.session('bob'));
    await alice.grant('docs', 'bob', 'write');
    const { lock } = await alice.lock('docs', 'l.txt', { scope: 'exclusive', depth: '0', timeoutSec: 60, owner: '' });
    clock += 59_000;
    await expect(bob.write('docs', 'l.txt', body('bob'))).rejects.toSatisfy(code('LOCKED'));
    expect((await alice.locksOn('docs', 'l.txt'))[0]!.secondsLeft).toBe(1); // WebDAV's Timeout: Second-1
    await alice.refreshLock('docs', 'l.txt', [lock.token], 60);
    clock += 59_000; // 118 s after the lock, 59 s after the refresh
    await expect(bob.write('docs', 'l.txt', body('bob'))).rejects.toSatisfy(code('LOCKED'));
    clock += 2_000;
    expect((await bob.write('docs', 'l.txt', body('bob'))).entry.version).toBe(2);
    expect(await alice.locksOn('docs', 'l.txt')).toEqual([]);
  });
});

describe('share links', () => {
  it('expire "in N seconds" counted on the core clock', async () => {
    const alice = t.core.connect(t.admin);
    await alice.write('docs', 's.txt', body('s'));
    const { link, token } = await alice.createShare({ root: 'docs', path: 's.txt', expiresInSec: 60 });
    expect(link.expiresAt).toBe(clock + 60_000);
    clock += 59_000;
    expect((await t.core.openShare(token, {})).link.state).toBe('active');
    clock += 1_000;
    await expect(t.core.openShare(token, {})).rejects.toSatisfy(code('NOT_FOUND'));
    expect(alice.share(link.id).state).toBe('expired');
  });
});

describe('retention by age', () => {
  it('prunes versions older than the policy on the core clock, never the head', async () => {
    const alice = t.core.connect(t.admin);
    t.core.roots.setRetention('docs', { mode: 'days', days: 5 });
    await alice.write('docs', 'r.txt', body('one'));
    await alice.write('docs', 'r.txt', body('two'));
    clock += 4 * DAY;
    await alice.write('docs', 'r.txt', body('three'));
    expect((await alice.history('docs', 'r.txt')).map((v) => v.available)).toEqual([true, true, true]);
    clock += 2 * DAY; // every old version is now 6 days old (versions are stamped on the wall clock)
    await alice.write('docs', 'r.txt', body('four'));
    expect((await alice.history('docs', 'r.txt')).map((v) => [v.version, v.available])).toEqual([
      [4, true],
      [3, false],
      [2, false],
      [1, false],
    ]);
    expect((await readAll((await alice.read('docs', 'r.txt')).stream)).toString()).toBe('four');
  });
});

describe('login sessions', () => {
  it('end when idle for sessionIdleMs, and at their absolute expiry while in use', async () => {
    const { accounts } = t.core;
    const alice = accounts.user('alice');
    const idle = accounts.openLoginSession(alice, 30 * DAY, null);
    const used = accounts.openLoginSession(alice, 30 * HOUR, null);
    for (let i = 0; i < 2; i += 1) {
      clock += 11 * HOUR;
      expect(accounts.resumeLoginSession(used.token).name).toBe('alice');
    }
    clock += 1 * HOUR + 1; // 23 h + 1 ms unused: past the default 12 h idle time
    expect(() => accounts.resumeLoginSession(idle.token)).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
    expect(accounts.resumeLoginSession(used.token).name).toBe('alice'); // used 1 h ago, 23 h old
    clock += 7 * HOUR; // 30 h old, used 7 h ago
    expect(() => accounts.resumeLoginSession(used.token)).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
  });
});
