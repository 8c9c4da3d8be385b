/**
 * kill -9 of the companion client in the middle of a big transfer, each way: the next run resumes
 * from where it stopped (the gateway's upload offset; the part file's end with Range), and the
 * result's SHA-256 is right.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Api } from '../../src/client/api.js';
import { saveCredentials } from '../../src/client/home.js';
import { ClientState } from '../../src/client/state.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const BIN = path.resolve('bin/syncgate.js');
const SIZE = 24 * 1024 * 1024;
let t: TestGateway;
let tmp: string;
let home: string;
let dir: string;

beforeEach(async () => {
  t = await startTestGateway();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'sg-resume-'));
  home = path.join(tmp, 'home');
  dir = path.join(tmp, 'folder');
  await mkdir(dir, { recursive: true });
  const login = await new Api(t.url, null).login({ uuid: randomUUID(), name: 'laptop', user: 'alice', password: 'alice-password' });
  await saveCredentials(home, { url: t.url, token: login.token, user: 'alice', device: login.device });
  const state = new ClientState(home);
  state.link(dir, 'docs');
  state.close();
});
afterEach(async () => {
  await t?.close();
  await rm(tmp, { recursive: true, force: true });
});

function sync(limitKbps = 0): { proc: ChildProcess; done: Promise<string> } {
  const env = { ...process.env, SYNCGATE_CLIENT_HOME: home, SYNCGATE_CLIENT_LIMIT_KBPS: String(limitKbps) };
  const proc = spawn(process.execPath, [BIN, 'client', 'sync'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += String(d)));
  proc.stderr!.on('data', (d) => (out += String(d)));
  return { proc, done: new Promise((r) => proc.once('exit', () => r(out))) };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sizeOfFirst = async (folder: string, pattern: RegExp) => {
  for (const n of await readdir(folder).catch(() => [] as string[])) if (pattern.test(n)) return (await stat(path.join(folder, n))).size;
  return 0;
};

describe('resume after kill -9 of the client', () => {
  it('a download resumes from the part file it left', async () => {
    const body = randomBytes(SIZE);
    await t.gw.core.connect(t.alice.session).write('docs', 'video.bin', Readable.from([body]));
    const first = sync(4096);
    await expect.poll(() => sizeOfFirst(dir, /^\.syncgate-dl-.*\.part$/), { timeout: 60_000, interval: 50 }).toBeGreaterThan(4 * 1024 * 1024);
    first.proc.kill('SIGKILL');
    await first.done;
    const kept = await sizeOfFirst(dir, /^\.syncgate-dl-.*\.part$/);
    expect(kept).toBeLessThan(SIZE);
    const out = await sync().done;
    const received = Number(/(\d+) received/.exec(out)?.[1]);
    expect(received).toBeLessThanOrEqual(SIZE - kept);
    expect(sha(await readFile(path.join(dir, 'video.bin')))).toBe(sha(body));
    expect(await readdir(dir)).toEqual(['video.bin']);
  }, 120_000);

  it('an upload resumes from the gateway\'s offset', async () => {
    const body = randomBytes(SIZE);
    await writeFile(path.join(dir, 'backup.tar'), body);
    const first = sync(4096);
    const partials = path.join(t.dir, 'uploads', 'tus');
    await expect.poll(() => sizeOfFirst(partials, /\.bin$/), { timeout: 60_000, interval: 50 }).toBeGreaterThan(4 * 1024 * 1024);
    first.proc.kill('SIGKILL');
    await first.done;
    const out = await sync().done;
    const sent = Number(/(\d+) bytes sent/.exec(out)?.[1]);
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThan(SIZE - 4 * 1024 * 1024);
    const head = await t.gw.core.connect(t.alice.session).stat('docs', 'backup.tar');
    expect(head.hash).toBe(sha(body));
    expect(head.version).toBe(1);
  }, 120_000);
});
