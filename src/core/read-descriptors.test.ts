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

  it('sendTo(out, part) sends only those bytes; a part outside the read is refused and the file let go', async () => {
    const alice = t.core.connect(t.admin);
    await alice.write('docs', 'p.txt', body('0123456789'));
    const got: Buffer[] = [];
    const sink = new Writable({ write: (c: Buffer, _e, done) => (got.push(Buffer.from(c)), done()) });
    await (await alice.read('docs', 'p.txt')).sendTo(sink, { start: 3, end: 6 });
    expect(Buffer.concat(got).toString()).toBe('3456');
    const before = openFds();
    for (let i = 0; i < 50; i += 1) {
      const r = await alice.read('docs', 'p.txt', { start: 2, end: 5 });
      await expect(r.sendTo(sink, { start: 1, end: 4 })).rejects.toThrow(/outside/);
    }
    expect(await settled(before)).toBeLessThanOrEqual(5);
  });

  it('readAt reads at any position within the read, 0 past its end; close() during reads lets the file go after them', async () => {
    const alice = t.core.connect(t.admin);
    await alice.write('docs', 'r.txt', body('0123456789'));
    await alice.write('docs', 'r.txt', body('abcdefghij'));
    const old = await alice.read('docs', 'r.txt', { version: 1 });
    const buf = Buffer.alloc(4);
    expect(await old.readAt(buf, 6)).toBe(4);
    expect(buf.toString()).toBe('6789');
    expect(await old.readAt(buf, 1)).toBe(4);
    expect(buf.toString()).toBe('1234');
    expect(await old.readAt(buf, 8)).toBe(2);
    expect(await old.readAt(buf, 10)).toBe(0);
    old.close();
    await expect(old.readAt(buf, 0)).rejects.toThrow(/closed/);
    const before = openFds();
    for (let i = 0; i < 50; i += 1) {
      const r = await alice.read('docs', 'r.txt');
      const pending = [r.readAt(Buffer.alloc(3), 0), r.readAt(Buffer.alloc(3), 5)];
      r.close(); // with both reads under way: they still finish, from this version
      expect((await Promise.all(pending)).map(String)).toEqual(['3', '3']);
    }
    expect(await settled(before)).toBeLessThanOrEqual(5);
  });
});
