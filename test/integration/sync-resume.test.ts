/**
 * kill -9 in the middle of a 1 GiB transfer, each way, of the companion client and of the gateway
 * (both real processes: `syncgate client sync` and `npm start`'s entry, restarted on the same data
 * folder and port): the next run resumes from where it stopped (the part file's end with Range;
 * the gateway's upload offset), never from 0, and the result's SHA-256 is right.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { link, mkdir, mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Api } from '../../src/client/api.js';
import { saveCredentials } from '../../src/client/home.js';
import { ClientState } from '../../src/client/state.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/syncgate.js');
const MiB = 1024 * 1024;
const SIZE = 1024 * MiB;
const PART = /^\.syncgate-dl-.*\.part$/;
const PASSWORD = 'admin-password';

let tmp: string;
/** The 1 GiB content, made once; each test hard-links it where it needs it (no second GiB on disk). */
let source: string;
let sourceSha: string;
const children: ChildProcess[] = [];

/**
 * A random 1 MiB block repeated with each MiB's first bytes set to its index: fast to make, and
 * no two MiB alike, so nothing on the way can pass it off as a repetition of the first.
 */
async function makeContent(file: string): Promise<string> {
  const block = randomBytes(MiB);
  const h = createHash('sha256');
  const fh = await open(file, 'w');
  try {
    for (let i = 0; i < SIZE / MiB; i++) {
      block.writeUInt32BE(i, 0);
      block.writeUInt32BE(i ^ 0x5a5a5a5a, MiB / 2);
      h.update(block);
      await fh.write(block);
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}

async function shaOf(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(file, { highWaterMark: 4 * MiB })) h.update(c as Buffer);
  return h.digest('hex');
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'sg-resume-'));
  source = path.join(tmp, 'source.bin');
  sourceSha = await makeContent(source);
}, 120_000);
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

interface GatewayProcess {
  proc: ChildProcess;
  url: string;
  port: number;
  dataDir: string;
  exited: Promise<void>;
}

/** The gateway as `npm start` runs it, on `port` (0: any), over `dataDir`; resolves once it serves. */
async function startGateway(dataDir: string, port = 0): Promise<GatewayProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      SYNCGATE_DATA__DIR: dataDir,
      SYNCGATE_HTTP__HOST: '127.0.0.1',
      SYNCGATE_HTTP__PORT: String(port),
      SYNCGATE_FTP__ENABLED: 'false',
      SYNCGATE_WATCHER__ENABLED: 'false',
      SYNCGATE_MDNS__ENABLED: 'false',
      SYNCGATE_ADMIN__PASSWORD: PASSWORD,
      SYNCGATE_SECURITY__KDF_MEMORY_KI_B: '64',
      SYNCGATE_SECURITY__KDF_ITERATIONS: '1',
      SYNCGATE_LOG__LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', () => {
      const m = /syncgate is running: (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then(() => reject(new Error(`the gateway exited:\n${out}`)));
  });
  return { proc, url, port: Number(new URL(url).port), dataDir, exited };
}

async function kill9(p: { proc: ChildProcess; exited: Promise<unknown> }): Promise<void> {
  p.proc.kill('SIGKILL');
  await p.exited;
}

/** A client state folder logged in as admin, with `dir` linked to the root "default". */
async function setUpClient(url: string): Promise<{ home: string; dir: string }> {
  const home = await mkdtemp(path.join(tmp, 'home-'));
  const dir = await mkdtemp(path.join(tmp, 'folder-'));
  const login = await new Api(url, null).login({ uuid: randomUUID(), name: 'laptop', user: 'admin', password: PASSWORD });
  await saveCredentials(home, { url, token: login.token, user: 'admin', device: login.device });
  const state = new ClientState(home);
  state.link(dir, 'default');
  state.close();
  return { home, dir };
}

/** `syncgate client sync` (once) as its own process. */
function sync(home: string): { proc: ChildProcess; exited: Promise<string> } {
  const proc = spawn(process.execPath, [BIN, 'client', 'sync'], { env: { ...process.env, SYNCGATE_CLIENT_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  let out = '';
  proc.stdout!.on('data', (d) => (out += String(d)));
  proc.stderr!.on('data', (d) => (out += String(d)));
  return { proc, exited: new Promise((r) => proc.once('exit', () => r(out))) };
}

const sizeOfFirst = async (folder: string, pattern: RegExp) => {
  for (const n of await readdir(folder).catch(() => [] as string[])) if (pattern.test(n)) return (await stat(path.join(folder, n))).size;
  return 0;
};
/** Polls (no fixed sleep) until the partial transfer holds a quarter of the content. */
const untilAQuarter = (size: () => Promise<number>) => expect.poll(size, { timeout: 120_000, interval: 20 }).toBeGreaterThan(SIZE / 4);
const received = (out: string) => Number(/(\d+) received/.exec(out)?.[1] ?? NaN);
const sent = (out: string) => Number(/(\d+) bytes sent/.exec(out)?.[1] ?? NaN);

/** A gateway whose root "default" already holds the content (recorded by its start-up scan). */
async function gatewayWithContent(name: string): Promise<GatewayProcess> {
  const dataDir = await mkdtemp(path.join(tmp, 'data-'));
  await mkdir(path.join(dataDir, 'roots', 'default'), { recursive: true });
  await link(source, path.join(dataDir, 'roots', 'default', name));
  return startGateway(dataDir);
}

describe('kill -9 in the middle of a 1 GiB transfer', () => {
  it('of the client during a download: the next run resumes from its part file', async () => {
    const gw = await gatewayWithContent('video.bin');
    const { home, dir } = await setUpClient(gw.url);
    const first = sync(home);
    await untilAQuarter(() => sizeOfFirst(dir, PART));
    await kill9(first);
    const kept = await sizeOfFirst(dir, PART);
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(SIZE);

    const out = await sync(home).exited;
    expect(received(out)).toBeGreaterThan(0);
    expect(received(out)).toBeLessThanOrEqual(SIZE - kept);
    expect(await shaOf(path.join(dir, 'video.bin'))).toBe(sourceSha);
    expect(await readdir(dir)).toEqual(['video.bin']);
    await kill9(gw);
  }, 180_000);

  it('of the gateway during a download: restarted on its data folder and port, the client resumes', async () => {
    let gw = await gatewayWithContent('video.bin');
    const { home, dir } = await setUpClient(gw.url);
    const first = sync(home);
    await untilAQuarter(() => sizeOfFirst(dir, PART));
    await kill9(gw);
    const firstOut = await first.exited;
    expect(firstOut).toMatch(/the gateway at \S+ is unreachable/);
    const kept = await sizeOfFirst(dir, PART);
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(SIZE);

    gw = await startGateway(gw.dataDir, gw.port);
    const out = await sync(home).exited;
    expect(received(out)).toBeGreaterThan(0);
    expect(received(out)).toBeLessThanOrEqual(SIZE - kept);
    expect(await shaOf(path.join(dir, 'video.bin'))).toBe(sourceSha);
    expect(await readdir(dir)).toEqual(['video.bin']);
    await kill9(gw);
  }, 180_000);

  it('of the client during an upload: the next run goes on from the gateway\'s offset', async () => {
    const gw = await startGateway(await mkdtemp(path.join(tmp, 'data-')));
    const { home, dir } = await setUpClient(gw.url);
    await link(source, path.join(dir, 'backup.tar'));
    const partials = path.join(gw.dataDir, 'uploads', 'tus');
    const first = sync(home);
    await untilAQuarter(() => sizeOfFirst(partials, /\.bin$/));
    await kill9(first);
    const offset = await sizeOfFirst(partials, /\.bin$/);
    expect(offset).toBeLessThan(SIZE);

    const out = await sync(home).exited;
    expect(sent(out)).toBeGreaterThan(0);
    expect(sent(out)).toBeLessThanOrEqual(SIZE - offset);
    const rootDir = path.join(gw.dataDir, 'roots', 'default');
    expect(await readdir(rootDir)).toEqual(['backup.tar']); // one version, no conflict copy
    expect(await shaOf(path.join(rootDir, 'backup.tar'))).toBe(sourceSha);
    await kill9(gw);
  }, 180_000);

  it('of the gateway during an upload: restarted on its data folder and port, the upload goes on from what it had kept', async () => {
    let gw = await startGateway(await mkdtemp(path.join(tmp, 'data-')));
    const { home, dir } = await setUpClient(gw.url);
    await link(source, path.join(dir, 'backup.tar'));
    const partials = path.join(gw.dataDir, 'uploads', 'tus');
    const first = sync(home);
    await untilAQuarter(() => sizeOfFirst(partials, /\.bin$/));
    await kill9(gw);
    const firstOut = await first.exited;
    expect(firstOut).toMatch(/the gateway at \S+ is unreachable/);
    const offset = await sizeOfFirst(partials, /\.bin$/);
    expect(offset).toBeGreaterThan(SIZE / 4);
    expect(offset).toBeLessThan(SIZE);

    gw = await startGateway(gw.dataDir, gw.port);
    const out = await sync(home).exited;
    expect(sent(out)).toBeGreaterThan(0);
    expect(sent(out)).toBeLessThanOrEqual(SIZE - offset);
    const rootDir = path.join(gw.dataDir, 'roots', 'default');
    expect(await readdir(rootDir)).toEqual(['backup.tar']);
    expect(await shaOf(path.join(rootDir, 'backup.tar'))).toBe(sourceSha);
    expect(await readdir(partials)).toEqual([]); // the partial is gone once recorded
    await kill9(gw);
  }, 180_000);
});
