/**
 * Editors' temporary files and machine-local names are not sent by default (ignore-rules.ts). Seen
 * in a user tour: gedit's save (write .goutputstream-XXXX, rename it over the file) and vim's (the
 * file renamed to name~, .name.swp beside it) went up and were deleted moments later, costing
 * versions, history entries and events on every device. Files the gateway holds keep syncing
 * whatever their name; `!PATTERN` in .syncgateignore takes a default back. Real gateway, real folders.
 */
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { PassReport } from '../../src/client/engine.js';
import { DEFAULT_IGNORES, IgnoreRules } from '../../src/client/ignore-rules.js';
import { runClient } from '../../src/client/main.js';
import { watchLinks } from '../../src/client/watch.js';
import type { TestGateway } from '../helpers/gateway.js';
import { twoClients, tree, type TestClient } from '../helpers/sync-client.js';

let t: TestGateway;
let a: TestClient;
let b: TestClient;

twoClients((s) => ({ t, a, b } = s));

const put = (c: TestClient, p: string, body: string) => writeFile(path.join(c.dir, p), body);
/** Every path the gateway's feed for docs names (uploads, deletes, moves: what every device gets). */
async function feedPaths(c: TestClient): Promise<string[]> {
  const page = await c.api.changes('docs', 0, 1000);
  return page.changes.flatMap((x) => [x.path, ...(x.oldPath ? [x.oldPath] : [])]);
}
const history = (p: string) => t.gw.core.vfs.history(t.alice.session, 'docs', p).catch(() => []);

describe('default ignores', () => {
  it("an editor's save makes one new version of the file, and nothing of its temporary names", async () => {
    await put(a, 'notes.txt', 'v1');
    await put(a, 'paper.md', 'p1');
    await a.once();

    // gedit: the new content in .goutputstream-XXXX, a pass while it is there, then the rename.
    await put(a, '.goutputstream-K2V7T1', 'v2');
    await a.once();
    await rename(path.join(a.dir, '.goutputstream-K2V7T1'), path.join(a.dir, 'notes.txt'));
    await a.once();
    // vim: the file renamed to its backup, the swap file beside it, the new content written.
    await put(a, '.paper.md.swp', 'swap');
    await rename(path.join(a.dir, 'paper.md'), path.join(a.dir, 'paper.md~'));
    await put(a, 'paper.md', 'p2');
    await a.once();
    await rm(path.join(a.dir, 'paper.md~'));
    await rm(path.join(a.dir, '.paper.md.swp'));
    await a.once();

    expect((await history('notes.txt')).length).toBe(2);
    expect((await history('paper.md')).length).toBe(2);
    for (const temp of ['.goutputstream-K2V7T1', 'paper.md~', '.paper.md.swp']) expect(await history(temp)).toEqual([]);
    expect([...new Set(await feedPaths(a))].sort()).toEqual(['notes.txt', 'paper.md']);
    await b.once();
    expect(await tree(b.dir)).toEqual(['notes.txt', 'paper.md']);
    expect(await readFile(path.join(b.dir, 'notes.txt'), 'utf8')).toBe('v2');
    expect(await readFile(path.join(b.dir, 'paper.md'), 'utf8')).toBe('p2');
  });

  it('in watch mode too: a watched gedit save sends the file once, never its temporary name', async () => {
    await put(a, 'notes.txt', 'v1');
    await a.once();
    const passes: PassReport[] = [];
    const w = watchLinks([a.sync], { url: t.url, token: a.token, say: () => {}, debounceMs: 10, onPass: (_l, r) => passes.push(r) });
    try {
      await w.ready;
      for (const v of ['v2', 'v3']) {
        const n = passes.length;
        await put(a, '.goutputstream-K2V7T1', v);
        // A pass that looked at the temporary file while it was there.
        await expect.poll(() => passes.slice(n).some((r) => r.looked > 0), { timeout: 15_000, interval: 20 }).toBe(true);
        await rename(path.join(a.dir, '.goutputstream-K2V7T1'), path.join(a.dir, 'notes.txt'));
        await expect.poll(async () => (await history('notes.txt')).length, { timeout: 15_000, interval: 20 }).toBe(v === 'v2' ? 2 : 3);
      }
    } finally {
      await w.stop();
    }
    expect(await history('.goutputstream-K2V7T1')).toEqual([]);
    expect([...new Set(await feedPaths(a))]).toEqual(['notes.txt']);
    expect(passes.flatMap((r) => r.errors)).toEqual([]);
  });

  it('leaves out every name of the list, in sub-folders too, and sends the rest', async () => {
    await mkdir(path.join(a.dir, 'sub'));
    for (const d of DEFAULT_IGNORES) for (const at of ['', 'sub/']) await put(a, `${at}${d.example}`, d.why);
    await put(a, 'keep.txt', 'kept');
    const r = await a.once();
    expect(r.errors).toEqual([]);
    expect((await feedPaths(a)).sort()).toEqual(['keep.txt', 'sub']);
  });

  it('a user override in .syncgateignore brings a pattern back; !* brings them all back', async () => {
    await put(a, 'film.mkv.part', 'half a film');
    await put(a, 'notes.txt~', 'backup');
    await put(a, '.syncgateignore', '!*.part\n');
    await a.once();
    expect(await feedPaths(a)).toEqual(['film.mkv.part']);
    expect(new IgnoreRules('!*.part\n').defaultsOn()).toHaveLength(DEFAULT_IGNORES.length - 1);

    await put(a, '.syncgateignore', '!*\nsecret/\n');
    await a.once();
    expect((await feedPaths(a)).sort()).toEqual(['film.mkv.part', 'notes.txt~']);
    expect(new IgnoreRules('!*\nsecret/\n').defaultsOn()).toEqual([]);
    expect(new IgnoreRules('!*\nsecret/\n').byUser('secret', 'dir')).toBe(true);
  });

  it('files the gateway holds keep syncing whatever their name', async () => {
    // Put there through another door (or by a client before this list, or with the defaults off).
    await t.gw.core.vfs.write(t.alice.session, 'docs', 'report.docx.part', Readable.from([Buffer.from('from the web')]));
    await a.once();
    expect(await readFile(path.join(a.dir, 'report.docx.part'), 'utf8')).toBe('from the web');
    await put(a, 'report.docx.part', 'edited here');
    expect((await a.once()).uploaded).toBe(1);
    expect((await history('report.docx.part')).length).toBe(2);
    await rm(path.join(a.dir, 'report.docx.part'));
    expect((await a.once()).deleted).toBe(1);
    expect(await t.gw.core.vfs.list(t.alice.session, 'docs', '')).toEqual([]);
  });

  it('help and status say the defaults are on and how to turn them off', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'sg-ignores-home-'));
    const was = process.env.SYNCGATE_CLIENT_HOME;
    process.env.SYNCGATE_CLIENT_HOME = home;
    try {
      const lines: string[] = [];
      const out = (l: string) => lines.push(l);
      expect(await runClient(['help'], out)).toBe(0);
      expect(lines.join('\n')).toMatch(/\.goutputstream-\*[\s\S]*!PATTERN in \.syncgateignore[\s\S]*SYNCGATE_CLIENT_DEFAULT_IGNORES=off/);
      expect(await runClient(['login', t.url, '--user', t.alice.name, '--password', t.alice.password], out)).toBe(0);
      expect(await runClient(['link', a.dir, 'docs'], out)).toBe(0);
      lines.length = 0;
      await runClient(['status'], out);
      expect(lines.join('\n')).toMatch(/default ignores on \(all \d+ patterns/);
      await put(a, '.syncgateignore', '!*\n');
      lines.length = 0;
      await runClient(['status'], out);
      expect(lines.join('\n')).toMatch(/default ignores off/);
    } finally {
      if (was === undefined) delete process.env.SYNCGATE_CLIENT_HOME;
      else process.env.SYNCGATE_CLIENT_HOME = was;
      await rm(home, { recursive: true, force: true });
    }
  });
});
