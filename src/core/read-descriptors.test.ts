/**
 * A read that is refused, or whose stream is dropped unread, gives its file descriptor back at once.
 * Node warned "Closing file descriptor N on garbage collection" in rules.test.ts: an unsatisfiable
 * Range was judged after the file was opened, and the open FileHandle was left to the collector (on
 * a busy gateway, one descriptor per such request until a collection ran).
 */
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { body, makeCore, readAll, type TestCore } from '../../test/helpers/core.js';
import { isCoreError } from './errors.js';

let t: TestCore;
beforeEach(async () => {
  t = await makeCore();
});
afterEach(async () => {
  await t.close();
});

/** Descriptors this process holds (vitest runs each test file in its own process: pool 'forks'). */
const openFds = () => readdirSync('/proc/self/fd').length;

async function settled(before: number): Promise<number> {
  // Closing is asynchronous (a FileHandle closes on the thread pool): give it a few turns, no more.
  for (let i = 0; i < 50 && openFds() > before + 5; i += 1) await new Promise((r) => setTimeout(r, 10));
  return openFds() - before;
}

describe('file descriptors of reads', () => {
  it('are closed when a range is refused, for the head and for an old version', async () => {
    const alice = t.core.connect(t.admin);
    await alice.write('docs', 'f.txt', body('0123456789'));
    await alice.write('docs', 'f.txt', body('abc'));
    const before = openFds();
    for (let i = 0; i < 200; i += 1) {
      await expect(alice.read('docs', 'f.txt', { start: 50 })).rejects.toSatisfy((e) => isCoreError(e, 'RANGE_NOT_SATISFIABLE'));
      await expect(alice.read('docs', 'f.txt', { version: 1, start: 50 })).rejects.toSatisfy((e) => isCoreError(e, 'RANGE_NOT_SATISFIABLE'));
    }
    expect(await settled(before)).toBeLessThanOrEqual(5);
  });

  it('are closed when a door drops the stream unread (a 304, a HEAD, a client gone)', async () => {
    const alice = t.core.connect(t.admin);
    await alice.write('docs', 'g.bin', body(Buffer.alloc(100_000, 7)));
    const before = openFds();
    for (let i = 0; i < 200; i += 1) (await alice.read('docs', 'g.bin')).stream.destroy();
    expect(await settled(before)).toBeLessThanOrEqual(5);
  });

  it('are closed after sendTo, and when the file on disk no longer matches its record (read again after settling)', async () => {
    const alice = t.core.connect(t.admin);
    await alice.write('docs', 'h.bin', body(Buffer.alloc(200_000, 1)));
    const sink = () => new Writable({ write: (_c, _e, done) => done() });
    const before = openFds();
    for (let i = 0; i < 100; i += 1) await (await alice.read('docs', 'h.bin')).sendTo(sink());
    // Changed beside the gateway, not yet seen: the first descriptor (old fingerprint) is let go, the
    // edit recorded, and the read serves the new content.
    writeFileSync(path.join(t.rootDir, 'h.bin'), 'edited on disk');
    const r = await alice.read('docs', 'h.bin');
    expect((await readAll(r.stream)).toString()).toBe('edited on disk');
    expect(await settled(before)).toBeLessThanOrEqual(5);
  });
});
