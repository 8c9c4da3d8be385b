/**
 * Sync benchmark: propagation of an edit from one synced folder to another, syncgate's companion
 * client (two `syncgate client sync --watch` processes and a gateway with the defaults) beside
 * Syncthing (two instances on 127.0.0.1, configured through its REST API, watcher delay at its
 * lowest, 1 s), in the same run. An edit is a small file rewritten in folder A; the time runs until
 * folder B holds the new content (polled every 2 ms). Prints p50/p95/p99 and ratios.
 * Usage: npx tsx bench/sync.ts     BENCH_EDITS (default 200)   BENCH_SKIP_SYNCTHING=1
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Api } from '../src/client/api.js';
import { saveCredentials } from '../src/client/home.js';
import { ClientState } from '../src/client/state.js';
import { configSchema } from '../src/app/config.js';
import { startGateway } from '../src/app/gateway.js';
import { fmt, freePort, printRatio, REPO } from './lib/measure.js';

const EDITS = Number(process.env.BENCH_EDITS ?? 200);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function until(fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(2);
  }
}

/** Edits a file in `a` EDITS times; each time, how long until `b` has it. */
async function propagation(a: string, b: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < EDITS; i += 1) {
    const body = `edit ${i} ${randomUUID()}\n`;
    const t0 = performance.now();
    await writeFile(path.join(a, 'note.txt'), body);
    await until(async () => (await readFile(path.join(b, 'note.txt'), 'utf8').catch(() => '')) === body, 30_000);
    out.push(performance.now() - t0);
    if (process.env.BENCH_VERBOSE) process.stderr.write(`edit ${i}: ${(performance.now() - t0).toFixed(0)} ms\n`);
    await sleep(20); // edits a person makes are apart; and both tools coalesce bursts
  }
  return out;
}

async function syncgate(tmp: string): Promise<number[]> {
  const dataDir = path.join(tmp, 'sg-data');
  const config = configSchema.parse({ data: { dir: dataDir }, admin: { password: 'bench-password' }, http: { host: '127.0.0.1', port: 0 }, ftp: { enabled: false }, log: { level: 'warn' } });
  const gw = await startGateway(config, { log: pino({ level: 'warn' }) });
  const children: ChildProcess[] = [];
  try {
    const dirs: string[] = [];
    for (const name of ['a', 'b']) {
      const home = path.join(tmp, `sg-${name}-home`);
      const dir = path.join(tmp, `sg-${name}`);
      await mkdir(dir, { recursive: true });
      const login = await new Api(gw.url, null).login({ uuid: randomUUID(), name, user: 'admin', password: 'bench-password' });
      await saveCredentials(home, { url: gw.url, token: login.token, user: 'admin', device: login.device });
      const st = new ClientState(home);
      st.link(dir, 'default');
      st.close();
      const c = spawn(process.execPath, [path.join(REPO, 'bin/syncgate.js'), 'client', 'sync', '--watch'], { env: { ...process.env, SYNCGATE_CLIENT_HOME: home }, stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(c);
      await new Promise<void>((resolve) => c.stdout!.on('data', (d) => {
        if (process.env.BENCH_VERBOSE) process.stderr.write(`[${name}] ${String(d)}`);
        if (String(d).includes('watching')) resolve();
      }));
      dirs.push(dir);
    }
    await writeFile(path.join(dirs[0]!, 'note.txt'), 'start\n');
    await until(async () => (await readFile(path.join(dirs[1]!, 'note.txt'), 'utf8').catch(() => '')) === 'start\n', 30_000);
    return await propagation(dirs[0]!, dirs[1]!);
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    await gw.close();
  }
}

interface St {
  proc: ChildProcess;
  api: string;
  key: string;
  id: string;
  port: number;
  dir: string;
}

async function stStart(tmp: string, name: string): Promise<St> {
  const home = path.join(tmp, `st-${name}-home`);
  const dir = path.join(tmp, `st-${name}`);
  await mkdir(dir, { recursive: true });
  const key = randomUUID().replace(/-/g, '');
  const gui = await freePort();
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    const g = spawn('syncthing', ['generate', `--home=${home}`, `--gui-user=bench`, `--gui-password=bench`], { stdio: 'ignore' });
    g.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`syncthing generate: ${code}`))));
  });
  const xml = await readFile(path.join(home, 'config.xml'), 'utf8');
  await writeFile(path.join(home, 'config.xml'), xml.replace(/<apikey>[^<]*<\/apikey>/, `<apikey>${key}</apikey>`));
  const proc = spawn('syncthing', ['serve', `--home=${home}`, '--no-browser', '--no-restart', `--gui-address=127.0.0.1:${gui}`, '--no-upgrade'], {
    stdio: 'ignore',
    env: { ...process.env, STNODEFAULTFOLDER: '1', STNOUPGRADE: '1' },
  });
  const api = `http://127.0.0.1:${gui}`;
  let id = '';
  await until(async () => {
    const r = await fetch(`${api}/rest/system/status`, { headers: { 'X-API-Key': key } }).catch(() => null);
    if (!r?.ok) return false;
    id = ((await r.json()) as { myID: string }).myID;
    return true;
  }, 60_000);
  const call = (method: string, p: string, body: unknown) => fetch(`${api}${p}`, { method, headers: { 'X-API-Key': key, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await call('PATCH', '/rest/config/options', { listenAddresses: [`tcp://127.0.0.1:${port}`], globalAnnounceEnabled: false, localAnnounceEnabled: false, relaysEnabled: false, natEnabled: false, urAccepted: -1 });
  return { proc, api, key, id, port, dir };
}

async function syncthing(tmp: string): Promise<number[]> {
  const a = await stStart(tmp, 'a');
  const b = await stStart(tmp, 'b');
  try {
    for (const [me, other] of [[a, b], [b, a]] as const) {
      const call = (method: string, p: string, body: unknown) => fetch(`${me.api}${p}`, { method, headers: { 'X-API-Key': me.key, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      await call('POST', '/rest/config/devices', { deviceID: other.id, name: other === a ? 'a' : 'b', addresses: [`tcp://127.0.0.1:${other.port}`], autoAcceptFolders: false });
      await call('POST', '/rest/config/folders', {
        id: 'bench', label: 'bench', path: me.dir, type: 'sendreceive', fsWatcherEnabled: true, fsWatcherDelayS: 1, rescanIntervalS: 3600,
        devices: [{ deviceID: me.id }, { deviceID: other.id }],
      });
    }
    await writeFile(path.join(a.dir, 'note.txt'), 'start\n');
    await until(async () => (await readFile(path.join(b.dir, 'note.txt'), 'utf8').catch(() => '')) === 'start\n', 120_000);
    return await propagation(a.dir, b.dir);
  } finally {
    for (const s of [a, b]) s.proc.kill('SIGTERM');
    await Promise.all([a, b].map((s) => new Promise((r) => (s.proc.exitCode !== null ? r(null) : s.proc.once('exit', r)))));
  }
}

const tmp = await mkdtemp(path.join(os.tmpdir(), 'bench-sync-'));
try {
  const ours = await syncgate(tmp);
  console.log(`syncgate propagation over ${EDITS} edits (ms): p50 ${fmt(pct(ours, 50))}  p95 ${fmt(pct(ours, 95))}  p99 ${fmt(pct(ours, 99))}   (target p50 <= 50, p99 <= 250)`);
  if (process.env.BENCH_SKIP_SYNCTHING !== '1') {
    const peer = await syncthing(tmp);
    console.log(`Syncthing propagation over ${EDITS} edits (ms): p50 ${fmt(pct(peer, 50))}  p95 ${fmt(pct(peer, 95))}  p99 ${fmt(pct(peer, 99))}   (fsWatcherDelayS 1, its lowest)`);
    for (const p of [50, 95, 99]) printRatio(`propagation p${p}`, pct(ours, p), pct(peer, p), 'ms', { peerName: 'Syncthing', higherIsBetter: false });
  }
} finally {
  await rm(tmp, { recursive: true, force: true });
}
