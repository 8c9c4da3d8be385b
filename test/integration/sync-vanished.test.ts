/**
 * A file that goes between the walk that saw it and its upload (an editor's temporary file renamed
 * over the real one, a build's scratch file) is nothing to sync, not a failure. Seen in watch mode
 * with gedit's save pattern (write .goutputstream-XXXX, rename over the file), 50 saves:
 * `not synced: .goutputstream-ABC41: ENOENT: no such file or directory, open '/abs/...'` lines, and
 * a one-shot `sync` running meanwhile exits 1 (cron mails a failure). And one that grows while it
 * goes up is sent at the length announced.
 */
import { appendFileSync, rmSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LinkSync } from '../../src/client/engine.js';
import type { Progress } from '../../src/client/progress.js';
import type { TestGateway } from '../helpers/gateway.js';
import { twoClients, tree, type TestClient } from '../helpers/sync-client.js';

let t: TestGateway;
let a: TestClient;
let b: TestClient;

twoClients((s) => ({ t, a, b } = s));

describe('a file gone before its upload', () => {
  it('is not reported as a failure; the rest of the pass goes on', async () => {
    const kept = Buffer.alloc(300 * 1024, 'k'); // past SMALL_FILE: its transfer has a progress lane
    await writeFile(path.join(a.dir, 'a.txt'), kept);
    await writeFile(path.join(a.dir, 'b.tmp'), 'scratch');
    // One path at a time, in pass order: when a.txt starts going up, b.tmp has been seen and now goes.
    const progress: Progress = {
      start(label) {
        if (label.endsWith('a.txt')) rmSync(path.join(a.dir, 'b.tmp'));
        return undefined;
      },
      stop() {},
    };
    const sync = new LinkSync(a.api, a.state, a.state.links()[0]!, a.deviceId, { concurrency: 1, progress });
    const r = await sync.pass({ local: ['a.txt', 'b.tmp'], remote: 'fetch' });
    expect(r.errors).toEqual([]);
    expect(r.failed).toEqual([]);
    expect(r.uploaded).toBe(1);
    await b.once();
    expect(await tree(b.dir)).toEqual(['a.txt']);
    expect((await readFile(path.join(b.dir, 'a.txt'))).equals(kept)).toBe(true);
    expect((await t.gw.core.vfs.list(t.alice.session, 'docs', '')).map((e) => e.name)).toEqual(['a.txt']);
  });
});

describe('a file that grows while it goes up', () => {
  it('sends the length it announced: no self-conflict, and the whole file ends at its name everywhere', async () => {
    // Past SMALL_FILE, under RESUMABLE_MIN_SIZE: hashed first, then streamed (the path that read to EOF).
    const first = Buffer.alloc(1 << 20, 'a');
    const more = Buffer.alloc(1 << 20, 'b');
    await writeFile(path.join(a.dir, 'video.bin'), first);
    // Still being written (a download, a recording): more arrives once its upload has begun.
    const progress: Progress = {
      start(label) {
        if (label.endsWith('video.bin') && statSync(path.join(a.dir, 'video.bin')).size === first.length) appendFileSync(path.join(a.dir, 'video.bin'), more);
        return undefined;
      },
      stop() {},
    };
    const sync = new LinkSync(a.api, a.state, a.state.links()[0]!, a.deviceId, { progress });
    const r = await sync.syncOnce();
    expect({ errors: r.errors, conflicts: r.conflicts }).toEqual({ errors: [], conflicts: [] });
    const whole = Buffer.concat([first, more]);
    expect((await readFile(path.join(a.dir, 'video.bin'))).equals(whole)).toBe(true);
    await b.once();
    expect(await tree(b.dir)).toEqual(['video.bin']);
    expect((await readFile(path.join(b.dir, 'video.bin'))).equals(whole)).toBe(true);
  });
});
