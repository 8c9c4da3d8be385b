/**
 * The prebuilt client (scripts/build-client.mjs, loaded by bin/client-bundle.js): used only while
 * every source it was made from is unchanged, and, run as a user runs it, it finds the delta engine
 * beside the sources (its WebAssembly and hash worker are located through import.meta.url).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshClientBundle } from '../../bin/client-bundle.js';
import { BUNDLE, buildClient } from '../../scripts/build-client.mjs';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/syncgate.js');

describe('prebuilt client', () => {
  let t: TestGateway;
  let tmp: string;
  beforeAll(async () => {
    await buildClient();
    t = await startTestGateway();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'sg-bundle-'));
  });
  afterAll(async () => {
    await t?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('is used while its sources are unchanged, and not once one of them changes', async () => {
    expect(freshClientBundle()).toBe(`file://${BUNDLE}`);
    // A source touched (as an edit or a checkout does) makes the bundle stale, even with an older time.
    const source = path.resolve('src/client/throttle.ts');
    const before = await stat(source);
    try {
      await utimes(source, before.atime, new Date(before.mtimeMs - 60_000));
      expect(freshClientBundle()).toBeUndefined();
    } finally {
      await utimes(source, before.atime, before.mtime); // to the millisecond: the next build takes it
    }
    await buildClient();
    expect(freshClientBundle()).toBe(`file://${BUNDLE}`);
  });

  it('a bundle without its list of sources, or cut short, is not used', async () => {
    const copy = await readFile(BUNDLE);
    try {
      await writeFile(BUNDLE, copy.subarray(copy.indexOf('\n') + 1));
      expect(freshClientBundle()).toBeUndefined();
      await writeFile(BUNDLE, copy.subarray(0, 100));
      expect(freshClientBundle()).toBeUndefined();
    } finally {
      await buildClient();
    }
  });

  it('syncs as `syncgate client`, sending an edit of a big file as a delta', async () => {
    expect(freshClientBundle()).toBeDefined();
    const env = { ...process.env, SYNCGATE_CLIENT_HOME: path.join(tmp, 'home'), SYNCGATE_PASSWORD: 'alice-password' };
    const cli = async (...args: string[]) => (await run(process.execPath, [BIN, 'client', ...args], { env, timeout: 60_000 })).stdout;
    const dir = path.join(tmp, 'a');
    await cli('login', t.url, '--user', 'alice', '--name', 'bundle');
    await cli('link', dir, 'docs');
    const file = path.join(dir, 'big.bin');
    await writeFile(file, randomBytes(1 << 20));
    expect(await cli('sync')).toMatch(/1 up/);
    const fh = await open(file, 'r+');
    await fh.write(Buffer.from('edit'), 0, 4, 500_000);
    await fh.close();
    const out = await cli('sync');
    expect(out).toMatch(/1 up/);
    const sent = Number(/\((\d+) bytes sent/.exec(out)?.[1]);
    expect(sent).toBeLessThan(64 * 1024);
  });
});
