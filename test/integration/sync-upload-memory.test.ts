/**
 * A big upload streams: the client's memory does not grow with the file (Node 20's fetch kept every
 * chunk of a streamed request body until the request ended; 256 MiB cost about 240 MB more).
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Api } from '../../src/client/api.js';
import { saveCredentials } from '../../src/client/home.js';
import { ClientState } from '../../src/client/state.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const BIN = path.resolve('bin/syncgate.js');
const MIB = 1024 * 1024;
const SIZE = 256 * MIB;
let t: TestGateway;
let tmp: string;

beforeEach(async () => {
  t = await startTestGateway();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'sg-upmem-'));
});
afterEach(async () => {
  await t?.close();
  await rm(tmp, { recursive: true, force: true });
});

/** Highest resident memory of a process, read from /proc until it ends. */
async function peakRssMiB(pid: number, done: Promise<unknown>): Promise<number> {
  let peak = 0;
  let ended = false;
  void done.then(() => (ended = true));
  while (!ended) {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    if (hwm) peak = Math.max(peak, Number(hwm[1]) / 1024);
    await new Promise((r) => setTimeout(r, 20));
  }
  return peak;
}

it('uploads a 256 MiB file with the client\'s memory far below the file\'s size', async () => {
  const home = path.join(tmp, 'home');
  const dir = path.join(tmp, 'folder');
  await mkdir(dir, { recursive: true });
  const login = await new Api(t.url, null).login({ uuid: randomUUID(), name: 'laptop', user: 'alice', password: 'alice-password' });
  await saveCredentials(home, { url: t.url, token: login.token, user: 'alice', device: login.device });
  const state = new ClientState(home);
  state.link(dir, 'docs');
  state.close();
  const out = createWriteStream(path.join(dir, 'big.bin'));
  const block = randomBytes(MIB);
  for (let i = 0; i < SIZE / MIB; i += 1) if (!out.write(block)) await new Promise<void>((r) => out.once('drain', () => r()));
  await new Promise<void>((r) => out.end(() => r()));

  const proc = spawn(process.execPath, [BIN, 'client', 'sync'], { env: { ...process.env, SYNCGATE_CLIENT_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout!.on('data', (d) => (log += String(d)));
  proc.stderr!.on('data', (d) => (log += String(d)));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const peak = await peakRssMiB(proc.pid!, exited);
  expect(await exited, log).toBe(0);
  expect((await t.gw.core.connect(t.alice.session).stat('docs', 'big.bin')).size).toBe(SIZE);
  // The process itself is about 120-150 MiB; a body held in memory adds the file's 256 MiB.
  expect(peak).toBeLessThan(230);
}, 120_000);
