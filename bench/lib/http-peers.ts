/**
 * The HTTP benchmarks' peers and client: syncgate with only its HTTP door, `rclone serve webdav`
 * (Debian) on a folder, curl as the one client of both, and the rounds the REST and WebDAV benchmarks
 * run alike (1 GiB PUT/GET, batches of small files through one curl process, the result table).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuMicros, DEFAULTS, exec, freePort, median, settleDisk, spawnSyncgate, timeIt, type SyncgateVariant } from './measure.js';

export const basicAuth = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

/** Polls `url` until it answers below 400 (2 minutes at most): a server is up once it serves. */
export async function waitForHttp(url: string, init: { method?: string; headers?: Record<string, string> } = {}): Promise<void> {
  for (let i = 0; i < 600; i += 1) {
    try {
      const r = await fetch(url, { method: init.method ?? 'GET', headers: init.headers ?? {} });
      if (r.status < 400) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not come up`);
}

/** Waits for `url`; a server that never comes up is stopped before the error goes on (the caller never got its process). */
async function upOrStopped(proc: ChildProcess, url: string, init?: Parameters<typeof waitForHttp>[1]): Promise<void> {
  try {
    await waitForHttp(url, init);
  } catch (err) {
    proc.kill('SIGTERM');
    throw err;
  }
}

/**
 * syncgate with its HTTP door alone on 127.0.0.1 (FTP off), up once /health answers. `origin` is
 * http://127.0.0.1:<port>. The defaults unless a `variant` (a row measured beside the defaults').
 */
export async function startSyncgateHttp(dataDir: string, adminPassword: string, variant: SyncgateVariant = DEFAULTS): Promise<{ proc: ChildProcess; origin: string }> {
  const port = await freePort();
  const proc = spawnSyncgate({
    SYNCGATE_DATA__DIR: dataDir,
    SYNCGATE_HTTP__HOST: '127.0.0.1',
    SYNCGATE_HTTP__PORT: String(port),
    SYNCGATE_ADMIN__PASSWORD: adminPassword,
    SYNCGATE_FTP__ENABLED: 'false',
  }, variant);
  const origin = `http://127.0.0.1:${port}`;
  await upOrStopped(proc, `${origin}/health`);
  return { proc, origin };
}

/** `rclone serve webdav` of `dir` with one user (no rclone config), up once a PROPFIND of / answers. */
export async function startRcloneWebdav(dir: string, user: string, pass: string): Promise<{ proc: ChildProcess; origin: string }> {
  const port = await freePort();
  const proc = spawn('rclone', ['serve', 'webdav', dir, '--addr', `127.0.0.1:${port}`, '--user', user, '--pass', pass, '--config', '/dev/null'], { stdio: 'ignore' });
  const origin = `http://127.0.0.1:${port}`;
  await upOrStopped(proc, `${origin}/`, { method: 'PROPFIND', headers: { authorization: basicAuth(user, pass), depth: '0' } });
  return { proc, origin };
}

/**
 * Apache httpd with mod_dav_fs (Debian's apache2) serving `dir` to one Basic-auth user, from a config of
 * its own in `workDir`/apache (no system config, no root-owned paths), up once a PROPFIND of / answers. Run as
 * root, Apache hands its workers to www-data: `dir` is given to that user. Apache's defaults
 * otherwise (event MPM, EnableSendfile off, no fsync), as a Debian install serves.
 */
export async function startApacheDav(dir: string, workDir: string, user: string, pass: string): Promise<{ proc: ChildProcess; origin: string }> {
  const port = await freePort();
  const work = path.join(workDir, 'apache');
  await mkdir(work, { recursive: true });
  const mods = '/usr/lib/apache2/modules';
  const load = ['mpm_event', 'authn_core', 'authn_file', 'authz_core', 'authz_user', 'auth_basic', 'dav', 'dav_fs'].map((m) => `LoadModule ${m}_module ${mods}/mod_${m}.so`);
  const sha = createHash('sha1').update(pass).digest('base64');
  await writeFile(path.join(work, 'apache.htpasswd'), `${user}:{SHA}${sha}\n`);
  const conf = [
    ...load,
    `ServerName 127.0.0.1`,
    `Listen 127.0.0.1:${port}`,
    `DefaultRuntimeDir ${work}`,
    `PidFile ${path.join(work, 'apache.pid')}`,
    `ErrorLog ${path.join(work, 'apache-error.log')}`,
    'User www-data',
    'Group www-data',
    `DavLockDB ${path.join(work, 'apache-davlock')}`,
    `DocumentRoot ${dir}`,
    `<Directory ${dir}>`,
    '  Dav On',
    '  AuthType Basic',
    '  AuthName bench',
    `  AuthUserFile ${path.join(work, 'apache.htpasswd')}`,
    '  Require valid-user',
    '</Directory>',
  ];
  const file = path.join(work, 'apache.conf');
  await writeFile(file, `${conf.join('\n')}\n`);
  if (process.getuid?.() === 0) {
    await exec('chown', ['-R', 'www-data:www-data', dir, work]);
    await chmod(workDir, 0o755); // mkdtemp made it 0700: www-data must pass through
  }
  const proc = spawn('apache2', ['-f', file, '-DFOREGROUND'], { stdio: 'ignore' });
  const origin = `http://127.0.0.1:${port}`;
  await upOrStopped(proc, `${origin}/`, { method: 'PROPFIND', headers: { authorization: basicAuth(user, pass), depth: '0' } });
  return { proc, origin };
}

/**
 * The durable floor (durable-floor.ts) on `dir`: the least a durable PUT costs in plain Node, the
 * reference that tells syncgate's own overhead from the price of syncing (`serial`: the content
 * synced before its rename, as for a replacement). Up once it answers.
 */
export async function startDurableFloor(dir: string, user: string, pass: string, mode: 'design' | 'serial' = 'design'): Promise<{ proc: ChildProcess; origin: string }> {
  const port = await freePort();
  const script = fileURLToPath(new URL('./durable-floor.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', script, dir, String(port), user, pass, mode], { stdio: 'inherit' });
  const origin = `http://127.0.0.1:${port}`;
  await upOrStopped(proc, `${origin}/`, { headers: { authorization: basicAuth(user, pass) } });
  return { proc, origin };
}

/**
 * Headers curl sends on every request of every server alike. `Expect:` drops the
 * `Expect: 100-continue` curl 7.88 adds to every PUT with a body (4 KiB ones and each transfer of a
 * `-K` batch too, measured here), a round trip before each body that clients like rclone do not pay.
 */
export const CURL_HEADERS = ['Expect:'] as const;

/** curl as the client of every server: Basic auth, and CURL_HEADERS. */
export function curlClient(user: string, pass: string) {
  const base = ['-s', '-u', `${user}:${pass}`, ...CURL_HEADERS.flatMap((h) => ['-H', h])];
  return {
    /** The client's settings, for the settings a benchmark prints. */
    async settings(): Promise<string> {
      const version = (await exec('curl', ['--version'])).split(' ', 2).join(' ');
      return `${version}, ${CURL_HEADERS.map((h) => `-H '${h}'`).join(' ')} on every request of every server (no Expect: 100-continue before a PUT body)`;
    },
    run: (args: string[]) => exec('curl', [...base, ...args]),
    /** HTTP status, curl's own total time of one request and its time to the first byte, the body to /dev/null. */
    async time(args: string[]): Promise<{ code: number; secs: number; firstByteSecs: number }> {
      const out = await exec('curl', [...base, '-o', '/dev/null', '-w', '%{http_code} %{time_total} %{time_starttransfer}', ...args]);
      const [code, secs, first] = out.trim().split(' ');
      return { code: Number(code), secs: Number(secs), firstByteSecs: Number(first) };
    },
  };
}
export type Curl = ReturnType<typeof curlClient>;

/** A server under measure and its figures, every run of each measure (medians are taken at the end). */
export interface HttpPeer {
  name: string;
  /** URL of a file path: PUT/GET/DELETE on it. */
  file: (p: string) => string;
  proc: ChildProcess;
  results: Record<string, number[]>;
}

export const record = (peer: HttpPeer, key: string, value: number) => (peer.results[key] ??= []).push(value);

export function expectOk(code: number, what: string): void {
  if (code < 200 || code >= 300) throw new Error(`${what}: HTTP ${code}`);
}

/** One big round on one peer: PUT then GET of `src` (`bytes` long) as big-<rep>.bin into put_MBps and get_MBps, then DELETE it. */
export async function putGetBig(curl: Curl, peer: HttpPeer, src: string, bytes: number, rep: number, opts: { cpu?: boolean } = {}): Promise<void> {
  const url = peer.file(`big-${rep}.bin`);
  // Server CPU per GiB (user + system, all threads, from /proc): steadier than MB/s on a busy machine.
  // Not for Apache (its work is in child processes this does not count).
  const cpu = opts.cpu ?? true;
  const perGiB = (micros: number) => micros / 1000 / (bytes / (1 << 30));
  let c0 = cpu ? cpuMicros(peer.proc.pid!) : 0;
  const put = await curl.time(['-T', src, url]);
  expectOk(put.code, `${peer.name} PUT big`);
  record(peer, 'put_MBps', bytes / put.secs / 1e6);
  if (cpu) record(peer, 'put_cpu_ms_per_GiB', perGiB(cpuMicros(peer.proc.pid!) - c0));
  c0 = cpu ? cpuMicros(peer.proc.pid!) : 0;
  const get = await curl.time([url]);
  expectOk(get.code, `${peer.name} GET big`);
  record(peer, 'get_MBps', bytes / get.secs / 1e6);
  if (cpu) record(peer, 'get_cpu_ms_per_GiB', perGiB(cpuMicros(peer.proc.pid!) - c0));
  record(peer, 'get_first_byte_ms', get.firstByteSecs * 1000);
  await curl.run(['-o', '/dev/null', '-X', 'DELETE', url]);
}

/** The small-file runs: one connection, then 8 in parallel (curl's options for each). */
export const SMALL_FILE_MODES = [
  ['one', []],
  ['par8', ['--parallel', '--parallel-max', '8']],
] as const;

/** Makes a small-file run's folder, then settles the disk (settleDisk): the run pays for its own writes only. */
export async function prepareSmallRun(curl: Curl, base: string, dir: string): Promise<void> {
  await curl.run(['-o', '/dev/null', '-X', 'MKCOL', `${base}/${dir}/`]);
  await settleDisk();
}

/**
 * Files/s of one curl process working through a `-K` config of `n` small files (`extra` e.g. --parallel):
 * PUTs of <uploadFrom>/f<i>.bin to url(i), or GETs of url(i) without `uploadFrom`; bodies to /dev/null.
 * One process for the whole batch, so the figure is the server's and not curl's start-up.
 */
export async function smallFileBatch(curl: Curl, cfg: string, n: number, url: (i: number) => string, extra: readonly string[], uploadFrom?: string): Promise<number> {
  const lines: string[] = [];
  for (let i = 0; i < n; i += 1) {
    if (uploadFrom !== undefined) lines.push(`upload-file = "${path.join(uploadFrom, `f${i}.bin`)}"`);
    lines.push(`url = "${url(i)}"`, 'output = "/dev/null"');
  }
  await writeFile(cfg, `${lines.join('\n')}\n`);
  return n / (await timeIt(() => curl.run([...extra, '-K', cfg])));
}

/** A table row: `higherIsBetter` set only for figures with a verdict against the peer (ok / below / above). */
export interface PeerRow {
  key: string;
  label: string;
  higherIsBetter?: boolean;
}

/**
 * Medians of syncgate (`a`) and its peer (`b`) with the ratio a/b, then every run as raw JSON.
 * "paired" is the median of the runs' own ratios: each run of `a` beside the run of `b` made just
 * before or after it, so a slow minute of the machine (here one run could be twice as fast as the
 * next, for every server) weighs on both sides of a ratio instead of on one median.
 */
export function printPeerTable(a: HttpPeer, b: HttpPeer, rows: PeerRow[]): void {
  console.log(`${'measure'.padEnd(46)}${a.name.padStart(12)}${b.name.padStart(12)}${'ratio'.padStart(10)}${'paired'.padStart(10)}`);
  for (const { key, label, higherIsBetter } of rows) {
    const xs = a.results[key] ?? [];
    const ys = b.results[key] ?? [];
    const ratio = median(xs) / median(ys);
    const paired = xs.length === ys.length && xs.length > 1 ? `${median(xs.map((v, i) => v / ys[i]!)).toFixed(2)}x` : '';
    const note = higherIsBetter === undefined ? '' : higherIsBetter ? (ratio >= 1 ? '  ok' : '  below') : ratio <= 1 ? '  ok' : '  above';
    console.log(`${label.padEnd(46)}${median(xs).toFixed(1).padStart(12)}${median(ys).toFixed(1).padStart(12)}${ratio.toFixed(2).padStart(9)}x${paired.padStart(10)}${note}`);
  }
  console.log(`\nraw: ${JSON.stringify(Object.fromEntries([a, b].map((s) => [s.name, s.results])))}`);
}

/**
 * The small-file figures of syncgate, the durable floor and rclone side by side: floor/rclone is what
 * syncing every write costs here, syncgate/floor what syncgate adds to it (1.00x: nothing). CPU rows
 * are per PUT: there the ratios read the other way (syncgate/floor 1.50x: half as much again).
 */
export function printFloorTable(sg: HttpPeer, floor: HttpPeer, peer: HttpPeer, rows: PeerRow[]): void {
  console.log(`\n${'measure'.padEnd(46)}${sg.name.padStart(10)}${floor.name.padStart(10)}${peer.name.padStart(10)}${'floor/peer'.padStart(12)}${'sg/floor'.padStart(10)}`);
  for (const { key, label } of rows) {
    const [x, f, y] = [sg, floor, peer].map((s) => median(s.results[key] ?? [])) as [number, number, number];
    const num = (v: number, width: number, suffix = '') => (Number.isFinite(v) ? `${v.toFixed(suffix ? 2 : 1)}${suffix}` : '-').padStart(width);
    console.log(`${label.padEnd(46)}${num(x, 10)}${num(f, 10)}${num(y, 10)}${num(f / y, 12, 'x')}${num(x / f, 10, 'x')}`);
  }
  console.log(`raw ${floor.name}: ${JSON.stringify(floor.results)}`);
}

/**
 * Medians of every server side by side, then the first server's ratio to each other one (for
 * durations, theirs/ours: above 1 means the first is faster), a verdict against `target` where a row
 * has one, and every run as raw JSON. Rows without `higherIsBetter` get no ratio.
 */
export function printServersTable(servers: HttpPeer[], rows: Array<PeerRow & { target?: number }>): void {
  const [first, ...others] = servers as [HttpPeer, ...HttpPeer[]];
  const w = 12;
  console.log(`${'measure'.padEnd(46)}${servers.map((s) => s.name.padStart(w)).join('')}${others.map((o) => `vs ${o.name}`.padStart(w + 2)).join('')}`);
  for (const { key, label, higherIsBetter, target } of rows) {
    const med = servers.map((s) => median(s.results[key] ?? []));
    const cells = med.map((m) => (Number.isFinite(m) ? m.toFixed(1) : '-').padStart(w)).join('');
    const ratios = others.map((_, i) => {
      const [ours, theirs] = [med[0]!, med[i + 1]!];
      if (higherIsBetter === undefined || !Number.isFinite(theirs) || !Number.isFinite(ours)) return ''.padStart(w + 2);
      return `${(higherIsBetter ? ours / theirs : theirs / ours).toFixed(2)}x`.padStart(w + 2);
    });
    const verdict = target === undefined || higherIsBetter === undefined ? '' : `  target >= ${target}x of the best peer: ${others.every((_, i) => { const r = higherIsBetter ? med[0]! / med[i + 1]! : med[i + 1]! / med[0]!; return !Number.isFinite(r) || r >= target; }) ? 'met' : 'NOT met'}`;
    console.log(`${label.padEnd(46)}${cells}${ratios.join('')}${verdict}`);
  }
  console.log(`\nraw: ${JSON.stringify(Object.fromEntries([first, ...others].map((s) => [s.name, s.results])))}`);
}

/** Stops the servers a bench started and gives them half a second to let go of their files. */
export async function stopServers(procs: ChildProcess[]): Promise<void> {
  for (const p of procs) p.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
}
