/**
 * PUT of one big file alone, across several builds in the same run (issue 24's "PUT 1 GiB within 5%
 * of bc2b1c4"), with what the full bench/webdav leaves out: the gateway's CPU from schedstat (every
 * thread, nanoseconds: the 10 ms ticks of /proc/PID/stat are coarse for a 2-3 s PUT), the main
 * thread's share, the load average beside each wall time, the dirty pages left before each round,
 * and the disk's own durable write speed (dd conv=fdatasync) measured in the same round, so a slow
 * round can be told from a slow build. Usage:
 *   BENCH_BUILDS='new=.,old=/work/ab-old' npx tsx bench/put-big.ts
 *   BENCH_BUILDS  label=checkout,... (default: this checkout, plus SYNCGATE_B as `B`); a build may
 *                 carry settings of its own: label=checkout?SYNCGATE_WATCHER__ENABLED=false&...
 *   BENCH_REPS (default 4) rounds; the order of the builds turns each round
 *   BENCH_BIG_MIB (default 1024)
 *   BENCH_STRACE=1  also times the gateway's fdatasync/fsync calls in each PUT (strace -f -T, a
 *                   little slower): how long the early flushes and the last sync waited for the disk
 *   BENCH_PERF=DIR  records each PUT with `perf record -g` of the gateway (DIR/perf-LABEL-ROUND.data),
 *                   to read where a slow round's CPU went (perf report --sort comm,sym)
 * SYNCGATE_* settings of this environment reach every build (printed, as in the other benches).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { basicAuth, curlClient, startSyncgateHttp, stopServers, waitForHttp } from './lib/http-peers.js';
import { durableWriteMBps, median, REPO, settleDisk, writeRandomFile } from './lib/measure.js';

const REPS = Number(process.env.BENCH_REPS ?? 4);
const BIG = Number(process.env.BENCH_BIG_MIB ?? 1024) * 1024 * 1024;
const PASS = 'bench-password-1';

interface Build {
  label: string;
  repo: string;
  env: Record<string, string>;
  proc?: ChildProcess;
  base?: string;
  rows: Array<{ mbps: number; cpuMs: number; mainMs: number; load: number; dirtyMiB: number; ddMBps: number }>;
}

function builds(): Build[] {
  const spec = process.env.BENCH_BUILDS ?? `A=${REPO}${process.env.SYNCGATE_B ? `,B=${process.env.SYNCGATE_B}` : ''}`;
  return spec.split(',').map((s) => {
    const [label, rest] = [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)];
    const [repo, query] = rest.split('?');
    return { label, repo: path.resolve(repo!), env: Object.fromEntries(new URLSearchParams(query ?? '')), rows: [] };
  });
}

/** CPU time (ns) of the process's threads from schedstat, or of its main thread alone. */
function schedNs(pid: number, mainOnly = false): number {
  const tasks = mainOnly ? [String(pid)] : readdirSync(`/proc/${pid}/task`);
  let ns = 0;
  for (const t of tasks) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // a thread that ended between the listing and the read
    }
  }
  return ns;
}

/**
 * Starts strace on the gateway's syncs; the function it answers stops it and sums them up: the
 * count and seconds of the syncs during the PUT, the longest, and the last three (the staging
 * file's final sync, then the record's: folder and WAL).
 */
async function traceSyncs(pid: number, out: string): Promise<() => Promise<string>> {
  const st = spawn('strace', ['-f', '-T', '-e', 'trace=fdatasync,fsync', '-o', out, '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    st.stderr!.on('data', (d: Buffer) => {
      seen += d.toString();
      // "Process N attached with M threads": every thread is traced from here.
      if (seen.includes('attached')) resolve();
    });
    st.once('error', reject);
  });
  return async () => {
    st.kill('SIGINT');
    await new Promise((r) => st.once('close', r));
    const secs = readFileSync(out, 'utf8')
      .split('\n')
      .filter((l) => /sync/.test(l) && /= 0 <[\d.]+>$/.test(l))
      .map((l) => Number(l.match(/<([\d.]+)>$/)![1]));
    const sum = secs.reduce((a, x) => a + x, 0);
    return `${secs.length} calls, ${sum.toFixed(2)} s in all, longest ${Math.max(0, ...secs).toFixed(2)} s, last three ${secs.slice(-3).map((x) => x.toFixed(3)).join(' / ')} s`;
  };
}

async function recordPerf(pid: number, out: string): Promise<() => Promise<void>> {
  const p = spawn('perf', ['record', '-F', '499', '-g', '-p', String(pid), '-o', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  // perf says nothing once attached: a first sample file on disk is the sign.
  await new Promise<void>((resolve) => {
    const poll = () => (existsSync(out) ? resolve() : setTimeout(poll, 20));
    poll();
  });
  return async () => {
    p.kill('SIGINT');
    await new Promise((r) => p.once('close', r));
  };
}

function dirtyMiB(): number {
  const m = readFileSync('/proc/meminfo', 'utf8').match(/^Dirty:\s+(\d+) kB/m);
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'syncgate-bench-putbig-'));
  const list = builds();
  const curl = curlClient('admin', PASS);
  try {
    const big = path.join(work, 'big.bin');
    await writeRandomFile(big, BIG);
    for (const b of list) {
      const s = await startSyncgateHttp(path.join(work, `sg-${b.label}`), PASS, { label: b.label, env: b.env, repo: b.repo });
      await waitForHttp(`${s.origin}/dav/default/`, { method: 'PROPFIND', headers: { depth: '0', authorization: basicAuth('admin', PASS) } });
      b.proc = s.proc;
      b.base = `${s.origin}/dav/default`;
    }
    for (let rep = 0; rep < REPS; rep += 1) {
      for (let k = 0; k < list.length; k += 1) {
        const b = list[(rep + k) % list.length]!;
        const ddMBps = await durableWriteMBps(work, 256 << 20);
        await settleDisk();
        const dirty = dirtyMiB();
        const pid = b.proc!.pid!;
        const [c0, m0] = [schedNs(pid), schedNs(pid, true)];
        const url = `${b.base}/big-${rep}.bin`;
        const trace = process.env.BENCH_STRACE === '1' ? await traceSyncs(pid, path.join(work, `strace-${b.label}-${rep}.txt`)) : null;
        const perf = process.env.BENCH_PERF ? await recordPerf(pid, path.join(process.env.BENCH_PERF, `perf-${b.label}-${rep + 1}.data`)) : null;
        const put = await curl.time(['-T', big, url]);
        if (trace) console.log(`  ${b.label} syncs: ${await trace()}`);
        if (perf) await perf();
        if (put.code < 200 || put.code >= 300) throw new Error(`${b.label} PUT: HTTP ${put.code}`);
        const gib = BIG / (1 << 30);
        b.rows.push({ mbps: BIG / put.secs / 1e6, cpuMs: (schedNs(pid) - c0) / 1e6 / gib, mainMs: (schedNs(pid, true) - m0) / 1e6 / gib, load: os.loadavg()[0]!, dirtyMiB: dirty, ddMBps });
        const r = b.rows.at(-1)!;
        console.log(`round ${rep + 1} ${b.label}: ${r.mbps.toFixed(0)} MB/s, CPU ${r.cpuMs.toFixed(0)} ms/GiB (main ${r.mainMs.toFixed(0)}), load ${r.load.toFixed(2)}, dirty before ${r.dirtyMiB.toFixed(0)} MiB, dd ${r.ddMBps.toFixed(0)} MB/s`);
        await curl.run(['-o', '/dev/null', '-X', 'DELETE', url]);
      }
    }
    console.log(`\nmedians of ${REPS} rounds, ${BIG / 1048576} MiB:`);
    for (const b of list) {
      const med = (f: (r: Build['rows'][number]) => number) => median(b.rows.map(f));
      console.log(`${b.label.padEnd(8)} ${med((r) => r.mbps).toFixed(0)} MB/s (${Math.min(...b.rows.map((r) => r.mbps)).toFixed(0)}-${Math.max(...b.rows.map((r) => r.mbps)).toFixed(0)}), CPU ${med((r) => r.cpuMs).toFixed(0)} ms/GiB, main ${med((r) => r.mainMs).toFixed(0)}, dd ${med((r) => r.ddMBps).toFixed(0)} MB/s`);
    }
    const first = list[0]!;
    for (const b of list.slice(1)) {
      // Paired by round: each ratio compares runs that met the same disk and load.
      const ratio = (f: (r: Build['rows'][number]) => number) => median(first.rows.map((r, i) => f(r) / f(b.rows[i]!)));
      console.log(`${first.label}/${b.label} paired medians: MB/s ${ratio((r) => r.mbps).toFixed(3)}, CPU per GiB ${ratio((r) => r.cpuMs).toFixed(3)}`);
    }
  } finally {
    await stopServers(list.map((b) => b.proc).filter((p): p is ChildProcess => p !== undefined));
    await rm(work, { recursive: true, force: true });
  }
}

await main();
