/**
 * A pass runs several transfers at once (src/client/pass-order.ts). Through a real gateway and real
 * folders, the orders a serial pass had still hold: a folder is made before anything below it,
 * removals come after every upload, deepest first; and a file the gateway refuses stays one result
 * of the pass while everything else goes on. The client's calls are recorded (a subclass of the
 * real Api, nothing answered in its place) with a counter, so "before" means ended before started.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Api } from '../../src/client/api.js';
import { LinkSync } from '../../src/client/engine.js';
import type { TestGateway } from '../helpers/gateway.js';
import { twoClients, type TestClient, tree } from '../helpers/sync-client.js';

interface Call {
  op: string;
  path: string;
  start: number;
  end: number;
}

/** The real client API, with each call's start and end numbered in one sequence. */
class RecordingApi extends Api {
  calls: Call[] = [];
  private tick = 0;
  inFlight = 0;
  maxInFlight = 0;

  private async record<T>(op: string, p: string, job: () => Promise<T>): Promise<T> {
    const call: Call = { op, path: p, start: (this.tick += 1), end: Infinity };
    this.calls.push(call);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      return await job();
    } finally {
      this.inFlight -= 1;
      call.end = this.tick += 1;
    }
  }
  override upload(root: string, p: Parameters<Api['upload']>[1], body: Readable | Uint8Array) {
    return this.record('upload', p.path, () => super.upload(root, p, body));
  }
  override mkdir(root: string, p: string) {
    return this.record('mkdir', p, () => super.mkdir(root, p));
  }
  override remove(root: string, p: string, base?: number) {
    return this.record('remove', p, () => super.remove(root, p, base));
  }
  override download(root: string, p: string, offset?: number) {
    return this.record('download', p, () => super.download(root, p, offset));
  }
}

let t: TestGateway;
let a: TestClient;
let b: TestClient;

twoClients((s) => ({ t, a, b } = s));

const put = async (c: TestClient, p: string, s: string) => {
  await mkdir(path.dirname(path.join(c.dir, p)), { recursive: true });
  await writeFile(path.join(c.dir, p), s);
};
const below = (child: string, folder: string) => child.startsWith(`${folder}/`);

describe('a pass with several transfers at once', () => {
  it('keeps folders before their children and removals last, deepest first; a refused file stops nothing', async () => {
    // Synced before: a tree that is then deleted on the laptop.
    for (const p of ['old/x/y/f1', 'old/x/y/f2', 'old/x/g', 'old/h']) await put(a, p, `was ${p}`);
    await a.once();
    await b.once();
    expect(await tree(b.dir)).toContain('old/x/y/f2');

    const made: string[] = [];
    let folder = 'new';
    for (let level = 0; level < 5; level += 1) {
      for (let i = 0; i < 3; i += 1) made.push(`${folder}/f${level}-${i}.txt`);
      folder = `${folder}/d${level}`;
    }
    for (let i = 0; i < 24; i += 1) made.push(`flat/n${i}.txt`);
    for (const p of made) await put(a, p, `content of ${p}`);
    // The gateway refuses this name (webdav.appleDouble: ignore): one result among the others.
    await put(a, 'new/d0/._photo.jpg', 'finder');
    // Deleted after the new files exist: no inode of the old tree comes back in the new (a move).
    await rm(path.join(a.dir, 'old'), { recursive: true });

    const api = new RecordingApi(t.url, a.token);
    const sync = new LinkSync(api, a.state, a.sync.link, a.deviceId, { concurrency: 6 });
    const r = await sync.pass();

    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^new\/d0\/\._photo\.jpg: /);
    expect(r.failed).toEqual(['new/d0/._photo.jpg']);
    const uploads = api.calls.filter((c) => c.op === 'upload');
    expect(uploads.map((c) => c.path).sort()).toEqual([...made, 'new/d0/._photo.jpg'].sort());
    expect(api.maxInFlight).toBeGreaterThan(1);

    const mkdirs = api.calls.filter((c) => c.op === 'mkdir');
        expect(mkdirs.map((c) => c.path).sort()).toEqual(['flat', 'new', 'new/d0', 'new/d0/d1', 'new/d0/d1/d2', 'new/d0/d1/d2/d3']);
    for (const m of mkdirs) {
      for (const c of api.calls) if (below(c.path, m.path) && c.op !== 'remove') expect(c.start, `${c.op} ${c.path} after mkdir ${m.path}`).toBeGreaterThan(m.end);
    }
    const removals = api.calls.filter((c) => c.op === 'remove');
    expect(removals.map((c) => c.path).sort()).toEqual(['old', 'old/h', 'old/x', 'old/x/g', 'old/x/y', 'old/x/y/f1', 'old/x/y/f2']);
    const lastWrite = Math.max(...api.calls.filter((c) => c.op !== 'remove').map((c) => c.end));
    for (const d of removals) {
      expect(d.start, `remove ${d.path} after every upload`).toBeGreaterThan(lastWrite);
      for (const c of removals) if (below(c.path, d.path)) expect(d.start, `remove ${d.path} after ${c.path}`).toBeGreaterThan(c.end);
    }

    // The other side: downloads below new folders, the old tree removed whole (a folder removed
    // before its files would stay behind, as rmdir of a non-empty folder leaves it).
    await sync.syncOnce();
    const apiB = new RecordingApi(t.url, b.token);
    const syncB = new LinkSync(apiB, b.state, b.sync.link, b.deviceId, { concurrency: 6 });
    const rb = await syncB.syncOnce();
    expect(rb.errors).toEqual([]);
    expect(apiB.maxInFlight).toBeGreaterThan(1);
    const onB = await tree(b.dir);
    expect(onB.filter((p) => p.startsWith('old'))).toEqual([]);
    for (const p of made) expect(onB).toContain(p);
    expect(onB).not.toContain('new/d0/._photo.jpg');
  });

  it('one at a time (concurrency 1) gives the same result; an empty folder is not looked at path by path', async () => {
    for (let i = 0; i < 5; i += 1) await put(a, `deep/${'s/'.repeat(i)}f${i}`, `f${i}`);
    const api = new RecordingApi(t.url, a.token);
    const r = await new LinkSync(api, a.state, a.sync.link, a.deviceId, { concurrency: 1 }).syncOnce();
    expect(r.errors).toEqual([]);
    expect(api.maxInFlight).toBe(1);
    // An empty folder walked whole: the remote paths it did not meet are not looked at one by one.
    const first = await b.sync.pass();
    expect(first.downloaded).toBe(5);
    expect(first.looked).toBe(0);
    await b.once();
    expect(await tree(b.dir)).toEqual(await tree(a.dir));
  });
});
