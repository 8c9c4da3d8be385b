/**
 * What the sync benchmarks (bench/sync*.ts) share: the gateway as `npm start` runs it, companion
 * clients (one home and one linked folder each) run as the user runs them (`syncgate client sync`,
 * timed by /usr/bin/time for CPU and peak RSS), a counting TCP proxy that measures the bytes on the
 * wire both ways, an rsync daemon, and Syncthing instances configured through their REST API.
 * Figures: wall time is noise on a loaded machine, so every row also prints CPU seconds (user +
 * system, of each process involved) and bytes, and the load average it ran under.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { buildClient } from '../../scripts/build-client.mjs';
import { Api } from '../../src/client/api.js';
import { saveCredentials } from '../../src/client/home.js';
import { ClientState } from '../../src/client/state.js';
import { startSyncgateHttp } from './http-peers.js';
import { freePort, REPO } from './measure.js';

export const USER = 'admin';
export const PASS = 'bench-password-1';
/** BENCH_QUICK=1: the reduced sizes, for a quick check (figures not comparable with the full ones). */
export const QUICK = process.env.BENCH_QUICK === '1';
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Prints what the row runs with: its settings, the machine and its load (wall times are noise when loaded). */
export function printSettings(row: string, settings: Record<string, string | number>): void {
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`== ${row}${QUICK ? ' (BENCH_QUICK=1: reduced sizes)' : ''}`);
  console.log(`   settings: ${Object.entries(settings).map(([k, v]) => `${k}=${v}`).join('  ')}`);
  console.log(`   machine: ${os.availableParallelism()} cores, load average ${load} (1/5/15 min), node ${process.version}`);
}

export function printLoad(): void {
  console.log(`   load average now ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

export async function until(fn: () => Promise<boolean> | boolean, timeoutMs: number, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** CPU seconds of a process and of its reaped children (utime + stime + cutime + cstime). */
export function cpuSecs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** A process's user and system CPU seconds (every thread, ended ones too) and its read/write calls' bytes and counts (/proc/PID/io). */
export interface ProcUsage {
  user: number;
  sys: number;
  rchar: number;
  wchar: number;
  syscr: number;
  syscw: number;
}

export function procUsage(pid: number): ProcUsage {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const io = Object.fromEntries(readFileSync(`/proc/${pid}/io`, 'utf8').trim().split('\n').map((l) => l.split(': ')).map(([k, v]) => [k!, Number(v)]));
  return { user: Number(f[11]) / 100, sys: Number(f[12]) / 100, rchar: io.rchar ?? 0, wchar: io.wchar ?? 0, syscr: io.syscr ?? 0, syscw: io.syscw ?? 0 };
}

/**
 * What a process spent between two procUsage readings: user and system CPU apart (on this machine
 * the system time of writing new page cache swings several-fold with the memory's state, whatever
 * the code does), and the bytes it read and wrote (a second pass over a file shows there).
 */
export function usageSince(before: ProcUsage, after: ProcUsage): string {
  const mib = (n: number) => (n / (1 << 20)).toFixed(0);
  return `user ${(after.user - before.user).toFixed(2)} s, system ${(after.sys - before.sys).toFixed(2)} s, read ${mib(after.rchar - before.rchar)} MiB in ${after.syscr - before.syscr} calls, wrote ${mib(after.wchar - before.wchar)} MiB in ${after.syscw - before.syscw} calls`;
}

/**
 * CPU seconds of a process and all its live descendants (Syncthing's `serve` runs the real
 * instance as a child process: its own figures are the monitor's, near zero).
 */
export function cpuTree(pid: number): number {
  let total = cpuSecs(pid);
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return total;
  }
  for (const t of tasks) {
    let kids = '';
    try {
      kids = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const k of kids.split(' ').filter(Boolean)) total += cpuTree(Number(k));
  }
  return total;
}

/** A TCP proxy to 127.0.0.1:`target` that counts the bytes each way: what went over the wire. */
export interface CountingProxy {
  port: number;
  /** Client to server, server to client, since the last reset. */
  up: number;
  down: number;
  reset(): void;
  close(): Promise<void>;
}

export async function countingProxy(target: number): Promise<CountingProxy> {
  const sockets = new Set<net.Socket>();
  const p = { up: 0, down: 0 } as CountingProxy;
  const server = net.createServer((c) => {
    const s = net.connect(target, '127.0.0.1');
    sockets.add(c).add(s);
    c.on('data', (d) => (p.up += d.length));
    s.on('data', (d) => (p.down += d.length));
    c.pipe(s);
    s.pipe(c);
    const end = () => {
      c.destroy();
      s.destroy();
      sockets.delete(c);
      sockets.delete(s);
    };
    c.on('error', end).on('close', end);
    s.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  p.port = (server.address() as net.AddressInfo).port;
  p.reset = () => {
    p.up = 0;
    p.down = 0;
  };
  p.close = () => {
    for (const s of sockets) s.destroy();
    return new Promise((r) => server.close(() => r()));
  };
  return p;
}

export interface Gateway {
  proc: ChildProcess;
  pid: number;
  origin: string;
  port: number;
  stop(): Promise<void>;
}

/** The gateway as `npm start` runs it (defaults: watcher on, request logs at info), HTTP door only. */
export async function startGateway(work: string): Promise<Gateway> {
  const { proc, origin } = await startSyncgateHttp(path.join(work, 'sg-data'), PASS);
  return { proc, pid: proc.pid!, origin, port: Number(new URL(origin).port), stop: () => stopProc(proc) };
}

export function stopProc(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    proc.once('exit', () => r());
    proc.kill(signal);
  });
}

/** A client home logged in to `url` (through the proxy, to count its bytes) with `dir` linked to the root `default`. */
export async function clientHome(work: string, name: string, url: string, dir: string): Promise<{ home: string; token: string }> {
  const home = path.join(work, `client-${name}-home`);
  await mkdir(dir, { recursive: true });
  const login = await new Api(url, null).login({ uuid: randomUUID(), name, user: USER, password: PASS });
  await saveCredentials(home, { url, token: login.token, user: USER, device: login.device });
  const st = new ClientState(home);
  st.link(dir, 'default');
  st.close();
  return { home, token: login.token };
}

export interface Timed {
  secs: number;
  /** user + system CPU seconds, and peak RSS, of the process (from /usr/bin/time). */
  cpu: number;
  maxRssKiB: number;
  stdout: string;
}

/** Runs a command under /usr/bin/time; rejects when it fails. */
export function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('/usr/bin/time', ['-f', 'TIMED %U %S %M', cmd, ...args], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const secs = (performance.now() - t0) / 1000;
      const m = /TIMED ([\d.]+) ([\d.]+) (\d+)/.exec(stderr);
      if (code !== 0 || !m) return reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${stderr.slice(-2000)}${stdout.slice(-2000)}`));
      resolve({ secs, cpu: Number(m[1]) + Number(m[2]), maxRssKiB: Number(m[3]), stdout });
    });
  });
}

/** `syncgate client <args>` with the given home, as a user runs it. */
export async function client(home: string, args: string[]): Promise<Timed> {
  // BENCH_NODE_FLAGS (e.g. --cpu-prof --cpu-prof-dir=DIR) reach the clients as they reach the gateway.
  const flags = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  // The client as installed runs its prebuilt bundle: made here from the current sources, once per run
  // (bin/ would fall back to tsx for a stale one). SYNCGATE_CLIENT_SOURCES=1 measures the tsx start.
  await (clientBuild ??= buildClient());
  return timed(process.execPath, [...flags, path.join(REPO, 'bin/syncgate.js'), 'client', ...args], { ...process.env, SYNCGATE_CLIENT_HOME: home });
}
let clientBuild: Promise<unknown> | undefined;

/** What a row prints: syncgate's figure, the peer's, and syncgate/peer with the issue's target for it. */
export function printRow(label: string, ours: number, peer: number, unit: string, peerName: string, target?: { max?: number; min?: number }): void {
  const ratio = ours / peer;
  const f = (n: number) => (Number.isFinite(n) ? (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2)) : 'n/a');
  let verdict = '';
  if (target?.max !== undefined) verdict = `  (target <= ${target.max}x: ${ratio <= target.max ? 'met' : 'NOT met'})`;
  if (target?.min !== undefined) verdict = `  (target >= ${target.min}x: ${ratio >= target.min ? 'met' : 'NOT met'})`;
  console.log(`   ${label.padEnd(40)} syncgate ${f(ours).padStart(10)} ${unit.padEnd(6)} ${peerName.padEnd(10)} ${f(peer).padStart(10)} ${unit.padEnd(6)} syncgate/${peerName} ${f(ratio)}x${verdict}`);
}

/**
 * An untimed `client sync` (a row's setup): retried when the gateway was unreachable (exit 3) — on a
 * machine loaded far beyond its cores a starved client can fall under the gateway's minimum body
 * rate and be cut off; a big transfer then resumes where it stopped. Printed when it happens.
 */
export async function setupSync(home: string, what: string): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      expectSynced(await client(home, ['sync']), what);
      return;
    } catch (err) {
      if (attempt >= 3 || !/failed \(3\)/.test((err as Error).message)) throw err;
      console.log(`   (setup: ${what} was cut off, attempt ${attempt}; resuming: ${(err as Error).message.split('\n')[0]?.slice(0, 200)})`);
    }
  }
}

/** Checks a one-shot `client sync` moved what was expected and reported no error. */
export function expectSynced(t: Timed, what: string): void {
  if (/not synced|conflict/.test(t.stdout)) throw new Error(`${what}: ${t.stdout}`);
}

/** An rsync daemon on 127.0.0.1 with one writable module `bench` at `dir`. */
export async function startRsyncDaemon(work: string, dir: string): Promise<{ proc: ChildProcess; port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const conf = path.join(work, 'rsyncd.conf');
  await mkdir(dir, { recursive: true });
  await writeFile(conf, [`port = ${port}`, 'address = 127.0.0.1', 'use chroot = false', `log file = ${path.join(work, 'rsyncd.log')}`, '[bench]', `path = ${dir}`, 'read only = false', 'uid = root', 'gid = root', ''].join('\n'));
  const proc = spawn('rsync', ['--daemon', '--no-detach', `--config=${conf}`], { stdio: 'ignore' });
  await until(() => new Promise<boolean>((r) => {
    const s = net.connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
    s.on('error', () => r(false));
  }), 30_000, 'the rsync daemon');
  return { proc, port, stop: () => stopProc(proc) };
}

/** `rsync --stats` bytes: what it reports it sent and received. */
export function rsyncStats(out: string): { sent: number; received: number } {
  const num = (re: RegExp) => Number((re.exec(out)?.[1] ?? 'NaN').replace(/,/g, ''));
  return { sent: num(/Total bytes sent: ([\d,]+)/), received: num(/Total bytes received: ([\d,]+)/) };
}

export interface St {
  proc: ChildProcess;
  api: string;
  key: string;
  id: string;
  port: number;
  dir: string;
  call(method: string, p: string, body?: unknown): Promise<Response>;
}

/** A Syncthing instance on 127.0.0.1 (no discovery, relays or NAT), its folder `dir`. */
export async function stStart(work: string, name: string, dir: string): Promise<St> {
  const home = path.join(work, `st-${name}-home`);
  await mkdir(dir, { recursive: true });
  const key = randomUUID().replace(/-/g, '');
  const gui = await freePort();
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    const g = spawn('syncthing', ['generate', `--home=${home}`, '--gui-user=bench', '--gui-password=bench'], { stdio: 'ignore' });
    g.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`syncthing generate: ${code}`))));
  });
  const xml = await readFile(path.join(home, 'config.xml'), 'utf8');
  await writeFile(path.join(home, 'config.xml'), xml.replace(/<apikey>[^<]*<\/apikey>/, `<apikey>${key}</apikey>`));
  const proc = spawn('syncthing', ['serve', `--home=${home}`, '--no-browser', '--no-restart', `--gui-address=127.0.0.1:${gui}`, '--no-upgrade'], {
    stdio: 'ignore',
    env: { ...process.env, STNODEFAULTFOLDER: '1', STNOUPGRADE: '1' },
  });
  const api = `http://127.0.0.1:${gui}`;
  const call = (method: string, p: string, body?: unknown) =>
    fetch(`${api}${p}`, { method, headers: { 'X-API-Key': key, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  let id = '';
  await until(async () => {
    const r = await call('GET', '/rest/system/status').catch(() => null);
    if (!r?.ok) return false;
    id = ((await r.json()) as { myID: string }).myID;
    return true;
  }, 60_000, 'syncthing to start');
  await call('PATCH', '/rest/config/options', { listenAddresses: [`tcp://127.0.0.1:${port}`], globalAnnounceEnabled: false, localAnnounceEnabled: false, relaysEnabled: false, natEnabled: false, urAccepted: -1 });
  return { proc, api, key, id, port, dir, call };
}

/** Each instance knows the other (both ways), and they are connected. */
export async function stPair(a: St, b: St): Promise<void> {
  for (const [me, other] of [[a, b], [b, a]] as const) {
    await me.call('POST', '/rest/config/devices', { deviceID: other.id, name: other === a ? 'a' : 'b', addresses: [`tcp://127.0.0.1:${other.port}`], autoAcceptFolders: false });
  }
  await until(async () => {
    const r = await a.call('GET', '/rest/system/connections');
    const c = ((await r.json()) as { connections: Record<string, { connected: boolean }> }).connections[b.id];
    return c?.connected === true;
  }, 120_000, 'the Syncthing instances to connect');
}

/** The folder `bench` shared by both (watcher delay at its lowest, 1 s). */
export async function stShare(a: St, b: St): Promise<void> {
  for (const [me, other] of [[b, a], [a, b]] as const) {
    await me.call('POST', '/rest/config/folders', {
      id: 'bench', label: 'bench', path: me.dir, type: 'sendreceive', fsWatcherEnabled: true, fsWatcherDelayS: 1, rescanIntervalS: 3600,
      devices: [{ deviceID: me.id }, { deviceID: other.id }],
    });
  }
}

export async function stStop(...all: St[]): Promise<void> {
  await Promise.all(all.map((s) => stopProc(s.proc)));
}
