import { describe, expect, it } from 'vitest';
import { passOrder, runInPassOrder } from './pass-order.js';

/** A job that ends when told (no clock): the test decides the order in which work finishes. */
function gate() {
  let open!: () => void;
  const done = new Promise<void>((r) => (open = r));
  return { done, open };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('runInPassOrder', () => {
  it('orders like a serial pass: the rest by depth, removals last and deepest first', () => {
    const removals = new Set(['gone', 'gone/a', 'gone/a/b']);
    expect(passOrder(['gone', 'x/y', 'gone/a/b', 'x', 'gone/a', 'b'], (p) => removals.has(p))).toEqual(['b', 'x', 'x/y', 'gone/a/b', 'gone/a', 'gone']);
  });

  it('starts a path only after the folder above it in the pass, and never more than the limit', async () => {
    const gates = new Map<string, ReturnType<typeof gate>>();
    const started: string[] = [];
    const run = runInPassOrder(['d', 'd/e', 'd/e/f', 'g', 'h', 'i'], () => false, 2, async (p) => {
      started.push(p);
      const g = gate();
      gates.set(p, g);
      await g.done;
    });
    await tick();
    expect(started).toEqual(['d', 'g']);
    gates.get('g')!.open();
    await tick();
    expect(started).toEqual(['d', 'g', 'h']); // d/e waits for d, not for a slot
    gates.get('d')!.open();
    await tick();
    expect(started).toEqual(['d', 'g', 'h', 'i']); // d/e asked for a slot after i did
    gates.get('h')!.open();
    await tick();
    expect(started).toEqual(['d', 'g', 'h', 'i', 'd/e']);
    for (const p of ['i', 'd/e']) gates.get(p)!.open();
    await tick();
    expect(started[5]).toBe('d/e/f');
    gates.get('d/e/f')!.open();
    await run;
  });

  it('runs removals after everything else, one depth at a time', async () => {
    const gates = new Map<string, ReturnType<typeof gate>>();
    const started: string[] = [];
    const removals = new Set(['r', 'r/s', 'r/t']);
    const run = runInPassOrder(['r', 'r/s', 'r/t', 'u'], (p) => removals.has(p), 4, async (p) => {
      started.push(p);
      const g = gate();
      gates.set(p, g);
      await g.done;
    });
    await tick();
    expect(started).toEqual(['u']);
    gates.get('u')!.open();
    await tick();
    expect(started.slice(1).sort()).toEqual(['r/s', 'r/t']);
    gates.get('r/s')!.open();
    await tick();
    expect(started).toHaveLength(3); // r waits for r/t
    gates.get('r/t')!.open();
    await tick();
    expect(started[3]).toBe('r');
    gates.get('r')!.open();
    await run;
  });

  it('what the work throws stops the run: nothing new starts, what runs finishes, the error comes out', async () => {
    const started: string[] = [];
    const finished: string[] = [];
    const slow = gate();
    const run = runInPassOrder(['a', 'b', 'c', 'd'], (p) => p === 'd', 2, async (p) => {
      started.push(p);
      if (p === 'a') await slow.done;
      if (p === 'b') throw new Error('the gateway is unreachable');
      finished.push(p);
    });
    await tick();
    slow.open();
    await expect(run).rejects.toThrow('unreachable');
    expect(started).toEqual(['a', 'b']);
    expect(finished).toEqual(['a']);
  });

  it('holds only the paths under way: 100,000 new files do not each wait as a task', async () => {
    // A first sync of 100,000 files started a task per path at once, each waiting for a slot: the
    // heap grew about 150 MB before the first file moved (the client peaked at 445 MB of RSS).
    const paths = Array.from({ length: 100 }, (_, i) => `d${i}`).concat(Array.from({ length: 100_000 }, (_, i) => `d${i % 100}/f${i}.txt`));
    const before = process.memoryUsage().heapUsed;
    let grown = 0;
    let done = 0;
    await runInPassOrder(paths, () => false, 8, async () => {
      grown = Math.max(grown, process.memoryUsage().heapUsed - before);
      await Promise.resolve();
      done += 1;
    });
    expect(done).toBe(paths.length);
    expect(grown).toBeLessThan(70e6);
  });
});
