/**
 * Small-PUT CPU A/B (issue 24): the gateway's CPU per 4 KiB WebDAV PUT, for this checkout (A) and
 * SYNCGATE_B (B), started with the same settings (the defaults plus any SYNCGATE_* of the caller's
 * environment), warmed up alike, then measured in interleaved blocks (the order turns each round).
 * CPU is read from /proc/PID/task/<tid>/schedstat (nanoseconds): every thread, and the event loop's
 * thread alone; per build also user and system time and minor page faults per PUT over all blocks.
 * It holds on a busy machine where files/s does not; read the paired ratio (each block of A beside
 * the block of B next to it). Usage:
 *   SYNCGATE_B=/path/to/other/checkout npx tsx bench/put-cpu.ts
 *   PUTCPU_BLOCKS (10) blocks per build   PUTCPU_PER_BLOCK (200) PUTs per block   PUTCPU_WARM (2000) PUTs before
 *   PUTCPU_PARALLEL (1) requests in flight   PUTCPU_METHOD (PUT; OPTIONS, GET, PROPFIND: a request without a write)
 *   PUTCPU_B_ENV='SYNCGATE_X=1 ...' settings for B alone (SYNCGATE_B this checkout: what one setting costs)
 *   PUTCPU_IDLE=SECONDS first the CPU each build burns doing nothing
 *   PUTCPU_AA=0 leaves out A2, the second gateway of this checkout run beside an A/B (its A/A ratio)
 *   Profiling hooks: PUTCPU_SIGNAL=1 sends SIGUSR2 to the gateway around each block (for a preload of
 *   BENCH_NODE_FLAGS that starts/stops a profile), PUTCPU_STRACE=DIR straces the last block of each
 *   build (-c, or PUTCPU_STRACE_ARGS), PUTCPU_KEEP=1 keeps the data folders and logs. PUTCPU_PERF=DIR runs
 *   `perf record -e cpu-clock -F 2000 -g` (or PUTCPU_PERF_ARGS, e.g. `stat --per-thread -e syscalls:...`) on
 *   each build over the measured rounds; with BENCH_NODE_FLAGS=--perf-basic-prof perf names JS functions.
 * TMPDIR=/dev/shm takes the disk out (a CPU comparison of the code alone).
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { basicAuth, startSyncgateHttp, stopServers, waitForHttp } from './lib/http-peers.js';
import { BUILD_B, describeBuild, median, type SyncgateVariant } from './lib/measure.js';

const BLOCKS = Number(process.env.PUTCPU_BLOCKS ?? 10);
const PER_BLOCK = Number(process.env.PUTCPU_PER_BLOCK ?? 200);
const WARM = Number(process.env.PUTCPU_WARM ?? 2000);
const PARALLEL = Number(process.env.PUTCPU_PARALLEL ?? 1);
const PASS = 'bench-password-1';
/** PUTCPU_METHOD=OPTIONS (or another without a body, on the block's folder): a request's cost without a write. */
const METHOD = process.env.PUTCPU_METHOD ?? 'PUT';
const AUTH = basicAuth('admin', PASS);

/** CPU (ns) of every thread of a process: the sum of each task's schedstat run time. */
async function cpuNanos(pid: number): Promise<number> {
  let sum = 0;
  for (const t of await readdir(`/proc/${pid}/task`)) {
    const s = await readFile(`/proc/${pid}/task/${t}/schedstat`, 'utf8').catch(() => '0');
    sum += Number(s.split(' ')[0]);
  }
  return sum;
}

/** Minor page faults, user and system CPU (µs, in 10 ms ticks) of a process so far, from /proc/PID/stat. */
async function procStat(pid: number): Promise<{ minflt: number; userUs: number; sysUs: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { minflt: Number(f[7]), userUs: Number(f[11]) * 10_000, sysUs: Number(f[12]) * 10_000 };
}

/**
 * Voluntary context switches (the thread slept: epoll_wait, a futex) of the event loop and of all
 * threads: each is a wake-up later, whose first instructions run on caches other processes cooled.
 */
async function wakeUps(pid: number): Promise<{ loop: number; all: number }> {
  let all = 0;
  let loop = 0;
  for (const t of await readdir(`/proc/${pid}/task`)) {
    const s = await readFile(`/proc/${pid}/task/${t}/status`, 'utf8').catch(() => '');
    const n = Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(s)?.[1] ?? 0);
    all += n;
    if (t === String(pid)) loop = n;
  }
  return { loop, all };
}

async function mainNanos(pid: number): Promise<number> {
  return Number((await readFile(`/proc/${pid}/task/${pid}/schedstat`, 'utf8')).split(' ')[0]);
}

function request(agent: http.Agent, url: string, method: string, body?: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: { authorization: AUTH, ...(body ? { 'content-length': body.length } : {}) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Build {
  label: string;
  pid: number;
  base: string;
  agent: http.Agent;
  cpuUs: number[];
  /** The event loop's thread alone: the JavaScript, without the thread pool's syncs and the checkpointer. */
  mainUs: number[];
  /** PUTs per second of wall time in each block (read beside the load average: wall time is the machine's too). */
  perSec: number[];
  totals?: string;
}

async function block(b: Build, dir: string, body: Buffer): Promise<void> {
  const code = await request(b.agent, `${b.base}/${dir}/`, 'MKCOL');
  if (code !== 201) throw new Error(`${b.label} MKCOL ${code}`);
  let next = 0;
  const c0 = await cpuNanos(b.pid);
  const m0 = await mainNanos(b.pid);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < PER_BLOCK) {
      const i = next++;
      const s = METHOD === 'PUT' ? await request(b.agent, `${b.base}/${dir}/f${i}.bin`, 'PUT', body) : await request(b.agent, `${b.base}/${dir}/`, METHOD);
      if (s >= 300 && !(METHOD !== 'PUT' && s === 404)) throw new Error(`${b.label} ${METHOD} ${s}`);
    }
  }));
  b.perSec.push(PER_BLOCK / ((performance.now() - t0) / 1000));
  b.mainUs.push(((await mainNanos(b.pid)) - m0) / 1000 / PER_BLOCK);
  b.cpuUs.push(((await cpuNanos(b.pid)) - c0) / 1000 / PER_BLOCK);
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'syncgate-putcpu-'));
  // PUTCPU_B_ENV='K=V K=V': settings for B alone (B the same checkout: one setting's cost).
  const bEnv = Object.fromEntries((process.env.PUTCPU_B_ENV ?? '').split(' ').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
  // Beside an A/B, a second gateway of this checkout (A2) runs in the same rounds: its A/A ratio says
  // how far the machine's load alone moves the A/B one (at load 20 on 2 cores it read +8%).
  const withAa = BUILD_B !== null && process.env.PUTCPU_AA !== '0';
  const variants: SyncgateVariant[] = [
    { label: 'A', env: {} },
    ...(BUILD_B ? [{ ...BUILD_B, env: { ...BUILD_B.env, ...bEnv }, label: 'B' }] : []),
    ...(withAa ? [{ label: 'A2', env: {} }] : []),
  ];
  const builds: Build[] = [];
  const procs = [];
  try {
    for (const v of variants) {
      const s = await startSyncgateHttp(path.join(work, v.label), PASS, v);
      procs.push(s.proc);
      await waitForHttp(`${s.origin}/dav/default/`, { method: 'PROPFIND', headers: { depth: '0', authorization: AUTH } });
      builds.push({ label: v.label, pid: s.proc.pid!, base: `${s.origin}/dav/default`, agent: new http.Agent({ keepAlive: true, maxSockets: PARALLEL }), cpuUs: [], mainUs: [], perSec: [] });
    }
    const body = randomBytes(4096);
    // PUTCPU_IDLE=SECONDS: first the CPU each build uses doing nothing (timers, background work).
    if (process.env.PUTCPU_IDLE) {
      const c0 = await Promise.all(builds.map((b) => cpuNanos(b.pid)));
      await new Promise((r) => setTimeout(r, Number(process.env.PUTCPU_IDLE) * 1000));
      const c1 = await Promise.all(builds.map((b) => cpuNanos(b.pid)));
      builds.forEach((b, i) => console.log(`${b.label} idle: ${((c1[i]! - c0[i]!) / 1e6 / Number(process.env.PUTCPU_IDLE)).toFixed(2)} ms of CPU per second`));
    }
    // Warm-up, unmeasured: V8 keeps compiling the hot path for the first thousands of requests.
    // Interleaved like the measured blocks: warming A whole, then B, left A idle for as long, and
    // an A/A run (SYNCGATE_B = this checkout) then read 10-14% more CPU for the build warmed first.
    for (let w = 0; w < WARM; w += PER_BLOCK) for (const b of w % (2 * PER_BLOCK) ? [...builds].reverse() : builds) await block(b, `warm${w}`, body);
    for (const b of builds) b.cpuUs.length = b.mainUs.length = b.perSec.length = 0;
    // PUTCPU_PERF=DIR: perf record (cpu-clock, so samples weigh CPU time, not wall time as V8's
    // sampler does on a loaded machine) of each build over the measured rounds, to DIR/<label>.data.
    // With BENCH_NODE_FLAGS=--perf-basic-prof, `perf report` names the JavaScript functions.
    // PUTCPU_PERF_ARGS replaces `record -e cpu-clock -F 2000 -g` (e.g. 'stat -e syscalls:sys_enter_fsync').
    const perfs = process.env.PUTCPU_PERF
      ? builds.map((b) => spawn('perf', [...(process.env.PUTCPU_PERF_ARGS?.split(' ') ?? ['record', '-e', 'cpu-clock', '-F', '2000', '-g']), '-p', String(b.pid), '-o', path.join(process.env.PUTCPU_PERF!, `${b.label}.data`)], { stdio: 'ignore' }))
      : [];
    if (perfs.length) await new Promise((res) => setTimeout(res, 1000));
    const stat0 = await Promise.all(builds.map((b) => procStat(b.pid)));
    const wake0 = await Promise.all(builds.map((b) => wakeUps(b.pid)));
    for (let r = 0; r < BLOCKS; r += 1) {
      for (let k = 0; k < builds.length; k += 1) {
        const b = builds[(r + k) % builds.length]!;
        // PUTCPU_SIGNAL=1: SIGUSR2 to the gateway around each block (a profiling preload's reset/dump).
        if (process.env.PUTCPU_SIGNAL === '1') process.kill(b.pid, 'SIGUSR2');
        // PUTCPU_STRACE=DIR: syscall counts of the last block of each build (strace -c -f), to DIR/<label>.
        // PUTCPU_STRACE_ARGS replaces -c (e.g. '-T -e trace=openat,rename' for a log of each call).
        const traceArgs = process.env.PUTCPU_STRACE_ARGS?.split(' ') ?? ['-c'];
        const trace = process.env.PUTCPU_STRACE && r === BLOCKS - 1 ? spawn('strace', [...traceArgs, '-f', '-p', String(b.pid), '-o', path.join(process.env.PUTCPU_STRACE, b.label)], { stdio: 'ignore' }) : null;
        if (trace) await new Promise((res) => setTimeout(res, 1000));
        await block(b, `blk${r}`, body);
        if (trace) {
          trace.kill('SIGINT');
          await new Promise((res) => trace.on('exit', res));
        }
        if (process.env.PUTCPU_SIGNAL === '1') process.kill(b.pid, 'SIGUSR2');
      }
    }
    for (const p of perfs) {
      p.kill('SIGINT');
      await new Promise((res) => p.on('exit', res));
    }
    console.log(`\nserver CPU per 4 KiB PUT (µs, all threads), ${BLOCKS} blocks x ${PER_BLOCK} PUTs, ${PARALLEL} in flight; load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
    const stat1 = await Promise.all(builds.map((b) => procStat(b.pid)));
    const wake1 = await Promise.all(builds.map((b) => wakeUps(b.pid)));
    for (const [i, b] of builds.entries()) {
      const [s0, s1] = [stat0[i]!, stat1[i]!];
      const n = BLOCKS * PER_BLOCK;
      b.totals = `per ${METHOD} over all blocks: user ${((s1.userUs - s0.userUs) / n).toFixed(0)} µs, system ${((s1.sysUs - s0.sysUs) / n).toFixed(0)} µs, minor page faults ${((s1.minflt - s0.minflt) / n).toFixed(2)}, sleeps (voluntary context switches) event loop ${((wake1[i]!.loop - wake0[i]!.loop) / n).toFixed(2)}, all threads ${((wake1[i]!.all - wake0[i]!.all) / n).toFixed(2)}`;
    }
    for (const b of builds) {
      console.log(`  ${b.label} ${b.label === 'B' ? describeBuild(BUILD_B!.repo) : describeBuild()}`);
      console.log(`    all threads median ${median(b.cpuUs).toFixed(0)}  runs ${b.cpuUs.map((x) => x.toFixed(0)).join(' ')}`);
      console.log(`    event loop  median ${median(b.mainUs).toFixed(0)}  runs ${b.mainUs.map((x) => x.toFixed(0)).join(' ')}`);
      console.log(`    ${METHOD}s/s  median ${median(b.perSec).toFixed(0)}  runs ${b.perSec.map((x) => x.toFixed(0)).join(' ')}`);
      console.log(`    ${b.totals}`);
    }
    if (builds.length >= 2) {
      const [a, b, a2] = builds as [Build, Build, Build | undefined];
      const paired = (xs: number[], ys: number[]) => median(xs.map((x, i) => x / ys[i]!));
      const pct = (r: number) => `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)}%`;
      console.log(`  A/B paired: all threads ${pct(paired(a.cpuUs, b.cpuUs))}, event loop ${pct(paired(a.mainUs, b.mainUs))} (+ = A costs more per ${METHOD}); ${METHOD}s/s ${pct(paired(a.perSec, b.perSec))} (+ = A faster)`);
      if (a2) console.log(`  A/A2 paired (the same build twice: the noise of this run): all threads ${pct(paired(a.cpuUs, a2.cpuUs))}, event loop ${pct(paired(a.mainUs, a2.mainUs))}; ${METHOD}s/s ${pct(paired(a.perSec, a2.perSec))}`);
    }
  } finally {
    await stopServers(procs);
    if (process.env.PUTCPU_KEEP !== '1') await rm(work, { recursive: true, force: true });
    else console.log(`kept ${work}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
