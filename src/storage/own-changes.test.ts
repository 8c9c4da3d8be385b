import { describe, expect, it } from 'vitest';
import { OwnChanges } from './own-changes.js';

describe('OwnChanges', () => {
  const clock = () => {
    let t = 1000;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };

  it('drops each announced event once, by kind, and nothing else', () => {
    const c = clock();
    const own = new OwnChanges(2000, c.now);
    own.expect('/r/a.txt', 'rename');
    expect(own.consume('/r/a.txt', 'change')).toBe(false); // another program's edit
    expect(own.consume('/r/a.txt', 'rename')).toBe(true);
    expect(own.consume('/r/a.txt', 'rename')).toBe(false); // a second rename is someone else's
    expect(own.consume('/r/b.txt', 'rename')).toBe(false);
  });

  it('forgets an expectation whose event never came, after its window', () => {
    const c = clock();
    const own = new OwnChanges(2000, c.now);
    own.expect('/r/a.txt', 'rename');
    c.advance(2001);
    expect(own.consume('/r/a.txt', 'rename')).toBe(false);
  });

  it('drops events strictly below a tree moved or removed as a whole, for the window', () => {
    const c = clock();
    const own = new OwnChanges(2000, c.now);
    own.expectTree('/r/dir');
    expect(own.consume('/r/dir/sub/x', 'rename')).toBe(true);
    expect(own.consume('/r/dir', 'rename')).toBe(false); // made again there: seen
    expect(own.consume('/r/dir2/x', 'rename')).toBe(false);
    c.advance(2001);
    expect(own.consume('/r/dir/sub/y', 'rename')).toBe(false);
  });
});
