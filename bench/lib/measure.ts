/**
 * Shared benchmark helpers: timing, medians, peak RSS of a child process (VmHWM from
 * /proc/PID/status), running shell peers and syncgate itself, test files, and printing syncgate/peer ratios.
 * Benchmarks measure syncgate and its peer in the same run: rounds drift 10-25% on a shared machine.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, createWriteStream, fdatasyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Seconds taken by fn. */
export async function timeIt(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Runs fn n times (after `setup` each time, untimed) and returns every duration in seconds. */
export async function timeRuns(n: number, fn: () => Promise<unknown>, setup?: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i += 1) {
    if (setup) await setup();
    out.push(await timeIt(fn));
  }
  return out;
}

/** A field of /proc/PID/status in KiB (VmHWM = peak RSS, VmRSS = current), or NaN. */
export function procStatusKiB(pid: number | 'self', field: 'VmHWM' | 'VmRSS' = 'VmHWM'): number {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
    return m ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time (user + system, µs) a process has used, or only its first thread (`mainThread`: a Node
 * server's event loop). From /proc, in clock ticks of 10 ms: measure over a second or more.
 */
export function cpuMicros(pid: number, mainThread = false): number {
  try {
    const stat = readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return Number.NaN;
  }
}

/** inotify watches held by a process (lines `inotify wd:` in its inotify descriptors' fdinfo). */
export async function inotifyWatches(pid: number | 'self'): Promise<number> {
  const { readdir, readlink } = await import('node:fs/promises');
  let n = 0;
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    if (!target.includes('inotify')) continue;
    const info = await readFile(`/proc/${pid}/fdinfo/${fd}`, 'utf8').catch(() => '');
    n += info.split('\n').filter((l) => l.startsWith('inotify wd:')).length;
  }
  return n;
}

export interface ChildRun {
  stdout: string;
  stderr: string;
  code: number | null;
  /** Peak RSS in KiB: the child's own last report of VmHWM when it prints `VmHWM <kB>`, else polled. */
  peakRssKiB: number;
  secs: number;
}

/**
 * Runs a child (for TypeScript: process.execPath with ['--import', 'tsx', file, ...] so the PID is the
 * measured process, not a launcher) and tracks its peak RSS by polling /proc/PID/status every 20 ms.
 * A child that prints a line `VmHWM <kB>` just before exiting gives the exact figure.
 */
export function runChild(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd: opts.cwd ?? REPO, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let polled = 0;
    const poll = setInterval(() => {
      const v = procStatusKiB(child.pid!, 'VmHWM');
      if (!Number.isNaN(v)) polled = Math.max(polled, v);
    }, 20);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e) => {
      clearInterval(poll);
      reject(e);
    });
    child.on('exit', (code) => {
      clearInterval(poll);
      const reported = stdout.match(/^VmHWM (\d+)$/m);
      resolve({ stdout, stderr, code, peakRssKiB: reported ? Number(reported[1]) : polled, secs: Number(process.hrtime.bigint() - t0) / 1e9 });
    });
  });
}

/** Runs a TypeScript file as a child through tsx (no launcher process in between). */
export function runTsChild(file: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<ChildRun> {
  return runChild(process.execPath, ['--import', 'tsx', file, ...args], { env: opts.env });
}

/** Prints `VmHWM <kB>` for runChild (call at the very end of a child). */
export function reportPeakRss(): void {
  process.stdout.write(`VmHWM ${procStatusKiB('self', 'VmHWM')}\n`);
}

/** Runs a shell command; rejects with its stderr on failure. */
export function sh(command: string, opts: { cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('sh', ['-c', command], { cwd: opts.cwd, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${command} failed: ${stderr || err.message}`)) : resolve(stdout),
    ),
  );
}

/** Runs a program with its arguments (no shell); rejects with its stderr on failure. */
export function exec(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} failed: ${stderr || err.message}`)) : resolve(stdout))),
  );
}

/** A TCP port free on 127.0.0.1 right now (for a server started just after). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** A non-default setting a benchmark measures beside the defaults: its label and its SYNCGATE_* variables. */
export interface SyncgateVariant {
  label: string;
  env: Record<string, string>;
  /** Another checkout of syncgate to run (an A/B against this one); this checkout when absent. */
  repo?: string;
}

/** The defaults, as `npm start` runs (watcher on, request logs at info): every benchmark's main row. */
export const DEFAULTS: SyncgateVariant = { label: 'defaults', env: {} };

/**
 * Build B of an A/B (issue 24, "must not regress"): `SYNCGATE_B=/path/to/other/checkout` (with its
 * node_modules) makes bench/webdav and bench/ftp start that build beside this one (A) with the same
 * settings and interleave their rounds, printing A, B and B/A per row. `BENCH_AB_ONLY=1` leaves the
 * peers out (a quicker A/B). Null without SYNCGATE_B.
 */
export const BUILD_B: SyncgateVariant | null = process.env.SYNCGATE_B ? { label: 'build B', env: {}, repo: path.resolve(process.env.SYNCGATE_B) } : null;
export const AB_ONLY = BUILD_B !== null && process.env.BENCH_AB_ONLY === '1';

/** `<short commit> <subject>` of a checkout, and `(+ uncommitted changes)` when its tree is dirty. */
export function describeBuild(repo: string = REPO): string {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
  return `${repo}: ${git('log', '-1', '--format=%h %s') || 'not a git checkout'}${dirty ? ' (+ uncommitted changes)' : ''}`;
}

/** Where the gateway keeps its data and listens, and its first password: they change no figure. */
const PLACEMENT = /^SYNCGATE_(DATA__DIR|ADMIN__PASSWORD|(HTTP|FTP)__(HOST|PORT|PASSIVE_PORT_M(IN|AX))|FTP__ENABLED)$/;

/** The settings that change what a benchmark measures, and where each comes from (default or variable). */
export function describeSettings(env: Record<string, string>, repo: string = REPO): string {
  const defaults = JSON.parse(readFileSync(path.join(repo, 'config', 'default.json'), 'utf8')) as { watcher: { enabled: boolean }; log: { level: string } };
  const one = (name: string, key: string, value: unknown) => `${name} ${env[key] ?? String(value)}${env[key] === undefined ? ' (default)' : ' (NOT the default)'}`;
  const others = Object.keys(env).filter((k) => !PLACEMENT.test(k) && k !== 'SYNCGATE_WATCHER__ENABLED' && k !== 'SYNCGATE_LOG__LEVEL');
  return [one('watcher.enabled', 'SYNCGATE_WATCHER__ENABLED', defaults.watcher.enabled), one('log.level', 'SYNCGATE_LOG__LEVEL', defaults.log.level), ...others.map((k) => `${k}=${env[k]} (NOT the default)`)].join(', ');
}

/**
 * syncgate as its own process, as `npm start` runs it (`node --import tsx src/main.ts`, so the PID is
 * the gateway's and its RSS its own): the defaults (watcher on, request logs at info), plus `settings`
 * (data folder, password, doors and ports) and the `variant`'s settings when a row measures another
 * setting beside the defaults'. Its logs (stdout) go to `logFile` (default `<data dir>.log`), as to a
 * log file of an operator's; its stderr to the bench's. Prints the settings it runs with.
 * BENCH_NODE_FLAGS adds node flags (e.g. `--cpu-prof --cpu-prof-dir=DIR` to profile the gateway).
 */
export function spawnSyncgate(settings: Record<string, string>, variant: SyncgateVariant = DEFAULTS, logFile?: string): ChildProcess {
  // SYNCGATE_* settings of the bench's own environment reach the gateway too: printed with the rest.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('SYNCGATE_') && k !== 'SYNCGATE_B')) as Record<string, string>;
  const env = { ...inherited, ...settings, ...variant.env };
  const log = logFile ?? (settings.SYNCGATE_DATA__DIR ? `${path.resolve(settings.SYNCGATE_DATA__DIR)}.log` : '/dev/null');
  const repo = variant.repo ?? REPO;
  console.log(`syncgate [${variant.label}]${variant.repo ? ` from ${describeBuild(repo)}` : ''}: ${describeSettings(env, repo)}; logs to ${log}`);
  // A setting from the bench's own environment applies to every row, so no row shows the defaults.
  const changed = Object.keys(inherited).filter((k) => !PLACEMENT.test(k));
  if (changed.length > 0) {
    console.log(`  NOTE: ${changed.join(', ')} set in this bench's environment: every row of this run is NOT what \`npm start\` users get; quote the rows of a run without it.`);
  }
  const out = openSync(log, 'a');
  try {
    return spawn(process.execPath, [...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), '--import', 'tsx', 'src/main.ts'], {
      cwd: repo,
      stdio: ['ignore', out, 'inherit'],
      env: { ...process.env, ...env },
    });
  } finally {
    closeSync(out);
  }
}

/** A file of `bytes` random bytes, written 1 MiB at a time; each block differs a little (no trivially repeating content). */
export async function writeRandomFile(file: string, bytes: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(file);
    const block = randomBytes(1 << 20);
    let left = bytes;
    const more = () => {
      while (left > 0) {
        const n = Math.min(left, block.length);
        left -= n;
        block[0] = left & 0xff;
        if (!out.write(Buffer.from(block.subarray(0, n)))) return void out.once('drain', more);
      }
      out.end(resolve);
    };
    out.on('error', reject);
    more();
  });
}

/** `n` files f<i>.bin of 4 KiB random bytes in a new folder `dir`: the small-file rounds' sources. */
export async function writeSmallFiles(dir: string, n: number): Promise<void> {
  await mkdir(dir);
  for (let i = 0; i < n; i += 1) await writeFile(path.join(dir, `f${i}.bin`), randomBytes(4096));
}

/** A folder of `n` tiny files entry-<00000>.txt for the listing measures (PROPFIND, LIST). */
export async function fillListingFolder(dir: string, n: number, content: (i: number) => string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < n; i += 1) await writeFile(path.join(dir, `entry-${String(i).padStart(5, '0')}.txt`), content(i));
}

/**
 * Writes back every dirty page of the machine (sync(1)) before a timed run. A server that never
 * syncs (rclone) leaves its writes to the kernel, whose writeback then lands in whichever run comes
 * next and slows the fsyncs of a server that does. Settled outside the timing, each run pays for its
 * own writes only.
 */
export function settleDisk(): Promise<void> {
  return new Promise((resolve, reject) => execFile('sync', (err) => (err ? reject(err) : resolve())));
}

/**
 * How fast the disk under `dir` creates and syncs small files right now, printed before the small-file
 * rounds so their figures can be read. On the development machines the root filesystem is ext4
 * without a journal: its inode allocator skips, one by one, every free inode of the folder's block
 * group deleted in the last minute, or the last six while their inode table block is unwritten
 * (`recently_deleted`, kernel 6.18). After a large deletion (a previous run's clean-up) a creation
 * there costs 200-600 µs of CPU instead of about 20 µs, for syncgate and its peer alike, for
 * minutes. The test files are left in place: deleting them would slow the creations that follow.
 */
export async function printDiskCheck(dir: string): Promise<{ createUs: number; syncUs: number }> {
  const at = path.join(dir, 'disk-check');
  await mkdir(at, { recursive: true });
  const created: number[] = [];
  const synced: number[] = [];
  const block = randomBytes(4096);
  for (let i = 0; i < 200; i += 1) {
    let t = performance.now();
    const fd = openSync(path.join(at, `f${i}`), 'w');
    created.push((performance.now() - t) * 1000);
    writeSync(fd, block);
    t = performance.now();
    fdatasyncSync(fd);
    synced.push((performance.now() - t) * 1000);
    closeSync(fd);
  }
  const [c, y] = [median(created), median(synced)];
  console.log(`disk under ${dir}: creating a file ${c.toFixed(0)} µs, fdatasync of 4 KiB ${y.toFixed(0)} µs (medians; quiet: about 20 and 150 µs)`);
  if (c > 100) console.log('  file creation is slow here (many files deleted near this folder in the last minutes?): the small-file figures will be low for both servers; wait or pick another TMPDIR');
  return { createUs: c, syncUs: y };
}

/**
 * The durable floor of a large upload: MB/s of writing `bytes` to a new file under `dir` and
 * syncing it (dd conv=fdatasync, 4 MiB blocks), nothing else (no network, no hash). A server that
 * syncs before it answers cannot beat it; one that never syncs (pure-ftpd, rclone) is bounded by
 * the page cache instead, often several times faster.
 */
export async function durableWriteMBps(dir: string, bytes: number): Promise<number> {
  const file = path.join(dir, `durable-floor-${process.pid}.bin`);
  await settleDisk();
  try {
    const secs = await timeIt(() => exec('dd', ['if=/dev/zero', `of=${file}`, 'bs=4M', `count=${Math.ceil(bytes / (4 << 20))}`, 'conv=fdatasync']));
    return bytes / secs / 1e6;
  } finally {
    await rm(file, { force: true });
  }
}

export const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
export const mib = (bytes: number) => bytes / (1 << 20);

/**
 * One result line: syncgate vs its peer and the ratio. `higherIsBetter` for throughputs (ratio =
 * ours/peer), false for durations (ratio = peer/ours, so above 1 still means syncgate is faster).
 */
export function printRatio(label: string, ours: number, peer: number, unit: string, opts: { higherIsBetter?: boolean; peerName?: string; target?: number } = {}): number {
  const higher = opts.higherIsBetter ?? true;
  const ratio = higher ? ours / peer : peer / ours;
  const target = opts.target !== undefined ? `  (target >= ${opts.target}x: ${ratio >= opts.target ? 'met' : 'NOT met'})` : '';
  console.log(`${label.padEnd(44)} syncgate ${fmt(ours).padStart(9)} ${unit.padEnd(8)} ${(opts.peerName ?? 'peer').padEnd(10)} ${fmt(peer).padStart(9)} ${unit.padEnd(8)} ratio ${fmt(ratio)}x${target}`);
  return ratio;
}

export function printValue(label: string, value: number, unit: string): void {
  console.log(`${label.padEnd(44)} ${fmt(value).padStart(9)} ${unit}`);
}

/** A row of an A/B table: every run of A and of B (run i of each made next to each other). */
export interface AbRow {
  label: string;
  a: number[];
  b: number[];
  /** Throughputs true, durations and CPU false: says which way "A is better" reads. */
  higherIsBetter: boolean;
}

/**
 * The A/B table (BUILD_B): medians of A (this checkout) and B, B/A of the medians, the median of
 * each round's own B/A ("paired": a slow minute of the machine weighs on both sides of it), and how
 * A compares (+: A better, -: A worse; issue 24 asks for no row worse than -5%).
 */
export function printAbTable(rows: AbRow[], b: SyncgateVariant = BUILD_B!): void {
  console.log(`\nA/B: A = ${describeBuild()}\n     B = ${describeBuild(b.repo)}`);
  console.log(`${'measure'.padEnd(46)}${'A'.padStart(10)}${'B'.padStart(10)}${'B/A'.padStart(8)}${'paired'.padStart(8)}${'A vs B'.padStart(9)}`);
  for (const { label, a, b: bs, higherIsBetter } of rows) {
    const [ma, mb] = [median(a), median(bs)];
    const n = Math.min(a.length, bs.length);
    const paired = n > 0 ? median(Array.from({ length: n }, (_, i) => bs[i]! / a[i]!)) : Number.NaN;
    // A's advantage in percent of B's figure, by the paired ratio (the steadier one).
    const gain = higherIsBetter ? (1 / paired - 1) * 100 : (paired - 1) * 100;
    const sign = gain >= 0 ? '+' : '';
    console.log(`${label.padEnd(46)}${fmt(ma, 1).padStart(10)}${fmt(mb, 1).padStart(10)}${fmt(mb / ma).padStart(8)}${fmt(paired).padStart(8)}${`${sign}${fmt(gain, 1)}%`.padStart(9)}`);
  }
  console.log(`raw A/B: ${JSON.stringify(rows.map((r) => ({ label: r.label, a: r.a, b: r.b })))}`);
}
