import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeCore, type TestCore } from '../../test/helpers/core.js';
import { Readable } from 'node:stream';

let t: TestCore;
beforeEach(async () => {
  t = await makeCore();
});
afterEach(async () => {
  await t.close();
});

const N = 100_000;

/** A folder of N files recorded straight in the metadata (making them on disk would take minutes). */
function bigFolder(): void {
  const root = t.core.ctx.roots.byName('docs')!;
  const db = t.core.ctx.db.$client;
  const now = Date.now();
  db.prepare("INSERT INTO entries (root_id, path, parent, name, kind, size, mtime_ms, hash, version, deleted, seq) VALUES (?, 'big', '', 'big', 'dir', 0, ?, '', 1, 0, 1)").run(root.id, now);
  const insert = db.prepare("INSERT INTO entries (root_id, path, parent, name, kind, size, mtime_ms, hash, version, deleted, seq) VALUES (?, ?, 'big', ?, 'file', 1, ?, ?, 1, 0, ?)");
  db.transaction(() => {
    for (let i = 0; i < N; i += 1) {
      const name = `f${String(i).padStart(6, '0')}.txt`;
      insert.run(root.id, `big/${name}`, name, now, 'a'.repeat(64), i + 2);
    }
  })();
}

describe('the paged listing every door uses', () => {
  it.each(['full', 'brief'] as const)(`lists ${N} entries in name order, each page holding the event loop less than 10 ms (%s projection)`, async (projection) => {
    bigFolder();
    const conn = t.core.connect(t.admin);
    const pages = () => (projection === 'brief' ? conn.listPages('docs', 'big', 1000, 'brief') : conn.listPages('docs', 'big'));
    // A running gateway has its code compiled: one listing first, so the measure is not the JIT's.
    for await (const page of pages()) if (page.entries.length === 0) break;
    let n = 0;
    let last = '';
    let ordered = true;
    // CPU time per page, from the page's request to its arrival: what the event loop is held for.
    // (Wall time on a shared test machine also counts the time other processes ran.)
    const cpu: number[] = [];
    let before = process.cpuUsage();
    for await (const page of pages()) {
      const used = process.cpuUsage(before);
      cpu.push((used.user + used.system) / 1000);
      for (const e of page.entries) {
        if (e.name <= last) ordered = false;
        last = e.name;
      }
      n += page.entries.length;
      // What a door does between pages: let other work in (a socket's drain, another request).
      await new Promise((r) => setImmediate(r));
      before = process.cpuUsage();
    }
    expect(n).toBe(N);
    expect(ordered).toBe(true);
    const sorted = [...cpu].sort((x, y) => x - y);
    // The median page, and all but the rare one a garbage collection lands in.
    expect(sorted[Math.floor(sorted.length / 2)]!).toBeLessThan(10);
    expect(sorted[Math.floor(sorted.length * 0.95)]!).toBeLessThan(10);
  });
});

describe("the listing's brief projection (plain file listings)", () => {
  it('gives the same entries as the full one, page for page, with only name, kind, size and mtime', async () => {
    const conn = t.core.connect(t.admin);
    await conn.mkdir('docs', 'd');
    await conn.mkdir('docs', 'd/sub');
    for (let i = 0; i < 7; i += 1) await conn.write('docs', `d/f${i}.txt`, Readable.from([Buffer.from('x'.repeat(i + 1))]));
    // A name the core hides (its own temporary files) is left out of both.
    const root = t.core.ctx.roots.byName('docs')!;
    t.core.ctx.db.$client
      .prepare("INSERT INTO entries (root_id, path, parent, name, kind, size, mtime_ms, hash, version, deleted, seq) VALUES (?, 'd/.syncgate-tmp', 'd', '.syncgate-tmp', 'file', 1, 0, '', 1, 0, 999)")
      .run(root.id);
    const pages = async <T>(gen: AsyncGenerator<{ entries: T[]; last: boolean }>) => {
      const out: T[][] = [];
      for await (const p of gen) out.push(p.entries);
      return out;
    };
    const full = await pages(conn.listPages('docs', 'd', 3));
    const brief = await pages(conn.listPages('docs', 'd', 3, 'brief'));
    expect(brief.map((p) => p.length)).toEqual(full.map((p) => p.length));
    expect(brief.flat()).toEqual(full.flat().map((e) => ({ name: e.name, kind: e.kind, size: e.size, mtimeMs: e.mtimeMs })));
    expect(brief.flat().map((e) => e.name)).toEqual(['f0.txt', 'f1.txt', 'f2.txt', 'f3.txt', 'f4.txt', 'f5.txt', 'f6.txt', 'sub']);
    await expect(pages(conn.listPages('docs', 'd/f1.txt', 3, 'brief'))).rejects.toMatchObject({ code: 'NOT_A_DIRECTORY' });
  });
});
