/**
 * `sync --watch` is incremental: after the first full pass, a local edit is looked at alone (not a
 * rescan of the folder) and a change pushed by the gateway is applied from the push (no feed page
 * fetched). Real gateway, real folders, real watcher and WebSocket.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PassReport } from '../../src/client/engine.js';
import { watchLinks, type Watching } from '../../src/client/watch.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startTestClient, type TestClient } from '../helpers/sync-client.js';

let t: TestGateway;
let a: TestClient;
let b: TestClient;
const watching: Watching[] = [];

beforeEach(async () => {
  t = await startTestGateway();
  a = await startTestClient(t, 'laptop');
  b = await startTestClient(t, 'desktop');
});
afterEach(async () => {
  for (const w of watching.splice(0)) await w.stop();
  await a?.close();
  await b?.close();
  await t.close();
});

function watch(c: TestClient): PassReport[] {
  const passes: PassReport[] = [];
  const w = watchLinks([c.sync], { url: t.url, token: c.token, say: () => {}, onPass: (_l, r) => passes.push(r) });
  watching.push(w);
  return passes;
}

const content = (c: TestClient, p: string) => readFile(path.join(c.dir, p), 'utf8').catch(() => null);

describe('sync --watch is incremental', () => {
  it('an edit is looked at alone and reaches the other client from the push, without a rescan or a feed page', async () => {
    for (let i = 0; i < 40; i += 1) {
      await mkdir(path.join(a.dir, `d${i % 4}`), { recursive: true });
      await writeFile(path.join(a.dir, `d${i % 4}`, `f${i}.txt`), `file ${i}`);
    }
    await a.once();
    await b.once();
    const pa = watch(a);
    const pb = watch(b);
    await Promise.all(watching.map((w) => w.ready));
    // The first pass of each is a full one.
    expect(pa[0]!.looked).toBeGreaterThanOrEqual(44);
    const [na, nb] = [pa.length, pb.length];

    await writeFile(path.join(a.dir, 'd2', 'f6.txt'), 'edited on the laptop');
    await expect.poll(() => content(b, 'd2/f6.txt'), { timeout: 15_000, interval: 20 }).toBe('edited on the laptop');
    const upload = pa.slice(na).find((r) => r.uploaded === 1)!;
    expect(upload).toBeDefined();
    expect(upload.looked).toBeLessThanOrEqual(2);
    const download = pb.slice(nb).find((r) => r.downloaded === 1)!;
    expect(download).toBeDefined();
    expect(download.fetched).toBe(0);
    expect(download.looked).toBeLessThanOrEqual(2);

    // A new folder with files in it, and a delete, the same way.
    await mkdir(path.join(b.dir, 'new/deep'), { recursive: true });
    await writeFile(path.join(b.dir, 'new/deep/n.txt'), 'new');
    await expect.poll(() => content(a, 'new/deep/n.txt'), { timeout: 15_000, interval: 20 }).toBe('new');
    await rm(path.join(a.dir, 'd1'), { recursive: true });
    await expect.poll(() => content(b, 'd1/f1.txt'), { timeout: 15_000, interval: 20 }).toBe(null);
    expect(pa.slice(na).every((r) => r.looked < 40) && pb.slice(nb).every((r) => r.looked < 40)).toBe(true);
    expect(pa.slice(na).concat(pb.slice(nb)).flatMap((r) => r.errors)).toEqual([]);
  });
});

describe('sync --watch reports a refused name once', () => {
  // Each pass tries the name again (the retry, every full pass) and was refused the same way: one
  // 'not synced' line per pass, for as long as the client ran. Said once per run now, as a one-shot
  // sync says it once; a name refused for another reason, or again after it synced, is said again.
  it('says "not synced" for a name the gateway refuses once, however many passes meet it', async () => {
    await writeFile(path.join(a.dir, 'back\\slash.txt'), 'refused: a backslash');
    await writeFile(path.join(a.dir, 'fine.txt'), 'synced');
    const lines: string[] = [];
    const full: PassReport[] = [];
    const w = watchLinks([a.sync], { url: t.url, token: a.token, fullEveryMs: 100, say: (l) => lines.push(l), onPass: (_l, r) => r.looked >= 2 && full.push(r) });
    watching.push(w);
    await w.ready;
    await expect.poll(() => full.length, { timeout: 15_000, interval: 20 }).toBeGreaterThanOrEqual(4);
    expect(full.every((r) => r.errors.some((e) => e.startsWith('back\\slash.txt: ')))).toBe(true);
    const refused = lines.filter((l) => l.startsWith('not synced: '));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(/^not synced: back\\slash\.txt: /);
    // Renamed to a name the gateway takes, it syncs; the same bad name made again is said again.
    await rm(path.join(a.dir, 'back\\slash.txt'));
    await writeFile(path.join(a.dir, 'back-slash.txt'), 'refused: a backslash');
    await expect.poll(() => t.gw.core.vfs.stat(t.alice.session, 'docs', 'back-slash.txt').then((e) => e.size, () => 0), { timeout: 15_000, interval: 20 }).toBe(20);
    const n = full.length;
    await expect.poll(() => full.length, { timeout: 15_000, interval: 20 }).toBeGreaterThan(n + 1);
    await writeFile(path.join(a.dir, 'back\\slash.txt'), 'again');
    await expect.poll(() => lines.filter((l) => l.startsWith('not synced: ')).length, { timeout: 15_000, interval: 20 }).toBe(2);
  });
});
