import { describe, expect, it } from 'vitest';
import type { Present } from './local-diff.js';
import { NewEntryStream } from './new-entries.js';

/** A job that ends when told (no clock): the test decides the order in which work finishes. */
function gate() {
  let open!: () => void;
  const done = new Promise<void>((r) => (open = r));
  return { done, open };
}

const tick = () => new Promise<void>((r) => setImmediate(r));
const entry = (p: string, kind: 'file' | 'dir' = 'file'): Present => ({ kind: 'added', entry: { path: p, kind, size: 0, mtimeMs: 0, ino: 0 }, sha256: '' });

describe('NewEntryStream', () => {
  it('runs at most the limit, the walk waiting for a slot; what is in a folder being sent waits for it', async () => {
    const gates = new Map<string, ReturnType<typeof gate>>();
    const started: string[] = [];
    const s = new NewEntryStream(2, async (c) => {
      started.push(c.entry.path);
      const g = gate();
      gates.set(c.entry.path, g);
      await g.done;
    });
    const walked: string[] = [];
    const walk = (async () => {
      for (const c of [entry('d', 'dir'), entry('d/a'), entry('e'), entry('f')]) {
        await s.send(c);
        walked.push(c.entry.path);
      }
    })();
    await tick();
    expect(started).toEqual(['d']); // d/a holds the second slot, waiting for d
    expect(walked).toEqual(['d', 'd/a']);
    gates.get('d')!.open();
    await tick();
    expect(started).toEqual(['d', 'd/a', 'e']);
    gates.get('d/a')!.open();
    gates.get('e')!.open();
    await tick();
    expect(started).toEqual(['d', 'd/a', 'e', 'f']);
    gates.get('f')!.open();
    await walk;
    await s.drain();
  });

  it('what the work throws stops the stream: nothing new starts, drain throws it', async () => {
    const started: string[] = [];
    const s = new NewEntryStream(4, async (c) => {
      started.push(c.entry.path);
      if (c.entry.path === 'b') throw new Error('the gateway is unreachable');
    });
    await s.send(entry('a'));
    await s.send(entry('b'));
    await tick();
    expect(s.failed).toBe(true);
    await s.send(entry('c'));
    await expect(s.drain()).rejects.toThrow('unreachable');
    expect(started).toEqual(['a', 'b']);
  });

  it('holds only the entries under way: 100,000 new files pass through a few at a time', async () => {
    const before = process.memoryUsage().heapUsed;
    let grown = 0;
    let most = 0;
    let running = 0;
    const s = new NewEntryStream(8, async () => {
      running += 1;
      most = Math.max(most, running);
      grown = Math.max(grown, process.memoryUsage().heapUsed - before);
      await Promise.resolve();
      running -= 1;
    });
    for (let i = 0; i < 100_000; i += 1) await s.send(entry(`d${i % 100}/f${i}.txt`));
    await s.drain();
    expect(most).toBeLessThanOrEqual(8);
    expect(grown).toBeLessThan(40e6);
  });
});
