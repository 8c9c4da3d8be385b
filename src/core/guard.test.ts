import { describe, expect, it } from 'vitest';
import { isCoreError } from './errors.js';
import { LoginGuard } from './guard.js';

describe('LoginGuard', () => {
  it('slows down after the free attempts, bans, then forgets after the ban', () => {
    let now = 1_000_000;
    const g = new LoginGuard({ freeAttempts: 2, banAfter: 5, windowMs: 60_000, banMs: 30_000, maxDelayMs: 4000 }, () => now);
    expect(g.check('1.2.3.4', 'bob')).toBe(0);
    g.failed('1.2.3.4', 'bob');
    g.failed('1.2.3.4', 'bob');
    expect(g.check('1.2.3.4', 'bob')).toBe(0);
    g.failed('1.2.3.4', 'bob');
    expect(g.check('1.2.3.4', 'bob')).toBe(250);
    g.failed('1.2.3.4', 'bob');
    expect(g.check('1.2.3.4', 'bob')).toBe(500);
    g.failed('1.2.3.4', 'bob');
    expect(() => g.check('9.9.9.9', 'bob')).toThrow(expect.objectContaining({ code: 'TOO_MANY_ATTEMPTS' }));
    expect(() => g.check('1.2.3.4', 'carol')).toSatisfy(() => true);
    try {
      g.check('1.2.3.4', undefined);
      expect.unreachable();
    } catch (e) {
      expect(isCoreError(e, 'TOO_MANY_ATTEMPTS')).toBe(true);
    }
    now += 61_000;
    expect(g.check('1.2.3.4', 'bob')).toBe(0);
  });

  it('a success clears the failures', () => {
    const g = new LoginGuard({ freeAttempts: 0, banAfter: 3, windowMs: 60_000, banMs: 30_000, maxDelayMs: 4000 });
    g.failed('a', 'u');
    g.succeeded('a', 'u');
    expect(g.check('a', 'u')).toBe(0);
  });
});
