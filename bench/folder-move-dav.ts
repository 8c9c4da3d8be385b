/**
 * WebDAV MOVE of a 1,000-file folder through the door, the gateway as `npm start` runs it (watcher on,
 * request logs at info), alone: bench/webdav.ts's MOVE row without the peers and the other rows. Each
 * round COPYs the template to a new folder (untimed), syncs the disk, then times one MOVE to a new
 * name: curl's total time, and the gateway's CPU (every thread, from /proc/PID/task/x/schedstat, in
 * nanoseconds: /proc/PID/stat counts 10 ms ticks, too coarse for one MOVE). The root also holds a
 * BENCH_ENTRIES-entry folder (default 10,000), as in bench/webdav.ts.
 * Usage: npx tsx bench/folder-move-dav.ts   BENCH_REPS (default 15)
 *   BENCH_NODE_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the gateway (written at its stop).
 *   BENCH_REPO=/path/to/other/checkout runs that build's gateway instead (an A/B, one build per run).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { basicAuth, curlClient, startSyncgateHttp, stopServers, waitForHttp } from './lib/http-peers.js';
import { fillListingFolder, median, settleDisk } from './lib/measure.js';

const REPS = Number(process.env.BENCH_REPS ?? 15);
const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 10_000);
const FOLDER = 1000;
const USER = 'admin';
const PASS = 'bench-password-1';

/**
 * CPU time of every thread of `pid` so far (ns), from schedstat (its first field: time on a CPU);
 * with `eventLoop`, of its main thread only (the thread whose id is the pid): the MOVE's own work,
 * without a background checkpoint (db/checkpointer.ts) that may or may not fall inside the request.
 */
function cpuNanos(pid: number, eventLoop = false): number {
  let sum = 0;
  for (const t of eventLoop ? [String(pid)] : readdirSync(`/proc/${pid}/task`)) {
    try {
      sum += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      /* a thread that ended */
    }
  }
  return sum;
}

const work = await mkdtemp(path.join(os.tmpdir(), 'syncgate-bench-move-'));
const data = path.join(work, 'sg');
const root = path.join(data, 'roots', 'default');
await fillListingFolder(path.join(root, 'listing'), ENTRIES, (i) => `entry ${i}\n`);
await fillListingFolder(path.join(root, 'folder-template'), FOLDER, (i) => `entry ${i}\n`);
const sg = await startSyncgateHttp(data, PASS, process.env.BENCH_REPO ? { label: 'build', env: {}, repo: path.resolve(process.env.BENCH_REPO) } : undefined);
const base = `${sg.origin}/dav/default`;
try {
  await waitForHttp(`${base}/`, { method: 'PROPFIND', headers: { depth: '0', authorization: basicAuth(USER, PASS) } });
  const curl = curlClient(USER, PASS);
  const wall: number[] = [];
  const cpu: number[] = [];
  const loopCpu: number[] = [];
  // Every copy first, then a quiet moment, then the moves: a profile's samples after its last long
  // idle stretch are the moves' (and the disk syncs between them). Round 0 warms up, not recorded.
  for (let rep = 0; rep <= REPS; rep += 1) {
    const copy = await curl.time(['-X', 'COPY', '-H', `Destination: ${base}/mv1k-${rep}/`, `${base}/folder-template/`]);
    if (copy.code !== 201 && copy.code !== 204) throw new Error(`COPY: HTTP ${copy.code}`);
  }
  await new Promise((r) => setTimeout(r, 3000));
  for (let rep = 0; rep <= REPS; rep += 1) {
    await settleDisk();
    const l0 = cpuNanos(sg.proc.pid!, true);
    const c0 = cpuNanos(sg.proc.pid!);
    const r = await curl.time(['-X', 'MOVE', '-H', `Destination: ${base}/moved1k-${rep}/`, `${base}/mv1k-${rep}/`]);
    const c1 = cpuNanos(sg.proc.pid!);
    const l1 = cpuNanos(sg.proc.pid!, true);
    if (r.code !== 201 && r.code !== 204) throw new Error(`MOVE: HTTP ${r.code}`);
    if (rep === 0) continue;
    wall.push(r.secs * 1000);
    cpu.push((c1 - c0) / 1e6);
    loopCpu.push((l1 - l0) / 1e6);
  }
  const load = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`WebDAV MOVE of a ${FOLDER}-file folder${process.env.BENCH_REPO ? ` (${process.env.BENCH_REPO})` : ''}, defaults (watcher on, info logs), ${REPS} moves, medians; load ${load}`);
  console.log(`  wall ${median(wall).toFixed(1)} ms (min ${Math.min(...wall).toFixed(1)}), gateway CPU ${median(cpu).toFixed(1)} ms (min ${Math.min(...cpu).toFixed(1)}), of it on the event loop ${median(loopCpu).toFixed(1)} ms (min ${Math.min(...loopCpu).toFixed(1)})`);
} finally {
  // Waited for: a profile (--cpu-prof) is written as the gateway exits.
  const exited = new Promise((r) => sg.proc.once('exit', r));
  await stopServers([sg.proc]);
  await exited;
  await rm(work, { recursive: true, force: true });
}
