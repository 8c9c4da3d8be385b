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
    own.listen();
    own.expect('/r/a.txt', 'rename');
    expect(own.consume('/r/a.txt', 'change')).toBe(false); // another program's edit
    expect(own.consume('/r/a.txt', 'rename')).toBe(true);
    expect(own.consume('/r/a.txt', 'rename')).toBe(false); // a second rename is someone else's
    expect(own.consume('/r/b.txt', 'rename')).toBe(false);
  });

  it('forgets an expectation whose event never came, after its window', () => {
    const c = clock();
    const own = new OwnChanges(2000, c.now);
    own.listen();
    own.expect('/r/a.txt', 'rename');
    c.advance(2001);
    expect(own.consume('/r/a.txt', 'rename')).toBe(false);
  });

  it('tells its listeners of a tree about to move, drops nothing below it, and hides it from a vouch', () => {
    const own = new OwnChanges(2000, clock().now);
    const moves: string[] = [];
    const stop = own.listen((from, to) => moves.push(`${from} -> ${to}`));
    own.expectMove('/r/dir', '/r/new');
    expect(moves).toEqual(['/r/dir -> /r/new']);
    expect(own.consume('/r/dir/x', 'rename')).toBe(false);
    expect(own.consume('/r/new/x', 'change')).toBe(false);
    expect(own.hidesEventsAt('/r/dir/sub')).toBe(true);
    stop();
    own.listen();
    own.expectMove('/r/a', '/r/b');
    expect(moves).toHaveLength(1);
  });

  it('drops events strictly below a tree removed as a whole, for the window', () => {
    const c = clock();
    const own = new OwnChanges(2000, c.now);
    own.listen();
    own.expectTree('/r/dir');
    expect(own.consume('/r/dir/sub/x', 'rename')).toBe(true);
    expect(own.consume('/r/dir', 'rename')).toBe(false); // made again there: seen
    expect(own.consume('/r/dir2/x', 'rename')).toBe(false);
    c.advance(2001);
    expect(own.consume('/r/dir/sub/y', 'rename')).toBe(false);
  });

  it('keeps about one window of unconsumed expectations (no watcher reading them), and those still open keep working', () => {
    const c = clock();
    const own = new OwnChanges(2000, c.now);
    own.listen();
    const size = () => (own as unknown as { paths: Map<string, unknown> }).paths.size;
    own.expect('/r/kept.txt', 'rename');
    for (let i = 0; i < 5000; i += 1) {
      own.expect(`/r/f${i}.bin`, 'rename');
      c.advance(1); // 5,000 writes over 5 s, none consumed
    }
    own.expect('/r/kept.txt', 'change'); // an old entry extended in place: still expected, by kind
    own.expect('/r/last.bin', 'rename');
    expect(size()).toBeLessThan(2100);
    expect(own.consume('/r/kept.txt', 'change')).toBe(true);
    expect(own.consume('/r/f4999.bin', 'rename')).toBe(true);
    expect(own.consume('/r/f10.bin', 'rename')).toBe(false); // its window is over
    c.advance(4001);
    own.expect('/r/next.bin', 'rename');
    expect(own.consume('/r/kept.txt', 'rename')).toBe(false);
    expect(size()).toBeLessThan(300);
  });

  it('records nothing while no watcher listens (watcher off), and again once one does', () => {
    const c = clock();
    const own = new OwnChanges(2000, c.now);
    const size = () => (own as unknown as { paths: Map<string, unknown> }).paths.size;
    own.expect('/r/a.txt', 'rename');
    own.expectTree('/r/dir');
    expect(size()).toBe(0);
    const stop = own.listen();
    expect(own.consume('/r/a.txt', 'rename')).toBe(false);
    expect(own.consume('/r/dir/x', 'rename')).toBe(false);
    own.expect('/r/b.txt', 'rename');
    expect(own.consume('/r/b.txt', 'rename')).toBe(true);
    own.expect('/r/c.txt', 'rename');
    stop();
    expect(size()).toBe(0);
  });
});
