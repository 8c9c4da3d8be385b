/**
 * The client's bandwidth limit holds for whole uploads (read from the file into reused buffers)
 * and downloads: with the bucket full from the start, 1.5 MiB at 512 KiB/s cannot pass in less than
 * about 2 s (a lower bound: a loaded machine only makes it slower).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Api } from '../../src/client/api.js';
import { statEntry } from '../../src/client/local.js';
import { Throttle } from '../../src/client/throttle.js';
import { sendFile } from '../../src/client/send.js';
import { fetchFile } from '../../src/client/transfers.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway | undefined;
let dir: string | undefined;
afterEach(async () => {
  await t?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('bandwidth limit', () => {
  it('holds for a whole upload and a whole download, and the content arrives intact', async () => {
    t = await startTestGateway();
    const login = await new Api(t.url, null).login({ uuid: randomUUID(), name: 'laptop', user: 'alice', password: 'alice-password' });
    const api = new Api(t.url, login.token);
    dir = await mkdtemp(path.join(os.tmpdir(), 'sg-throttle-'));
    const data = randomBytes(1536 * 1024);
    await writeFile(path.join(dir, 'up.bin'), data);
    const local = (await statEntry(dir, 'up.bin'))!;

    let t0 = performance.now();
    const sent = await sendFile(api, 'docs', dir, local, sha(data), undefined, { throttle: new Throttle(512 * 1024) });
    expect(performance.now() - t0).toBeGreaterThan(1800);
    expect(sent.res.entry.sha256).toBe(sha(data));

    t0 = performance.now();
    const got = await fetchFile(api, 'docs', dir, 'up.bin', null, async () => true, { throttle: new Throttle(512 * 1024) });
    expect(performance.now() - t0).toBeGreaterThan(1800);
    expect(got?.bytes).toBe(data.length);
    expect(sha(await readFile(path.join(dir, 'up.bin')))).toBe(sha(data));
  });
});
