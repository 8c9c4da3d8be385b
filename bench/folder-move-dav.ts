/**
 * WebDAV MOVE of a 1,000-file folder through the door, the gateway as `npm start` runs it (watcher on,
 * request logs at info), alone: bench/webdav.ts's MOVE row without the peers and the other rows. Each
 * round COPYs the template to a new folder (untimed), syncs the disk, then times one MOVE to a new
 * name: curl's total time, and the gateway's CPU (every thread, from /proc/PID/task/x/schedstat, in
 * nanoseconds: /proc/PID/stat counts 10 ms ticks, too coarse for one MOVE). The root also holds a
 * BENCH_ENTRIES-entry folder (default 10,000), as in bench/webdav.ts.
 * Usage: npx tsx bench/folder-move-dav.ts   BENCH_REPS (default 15)
 *   BENCH_NODE_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the gateway (written at its stop).
 *   BENCH_REPO=/path/to/other/checkout runs that build's gateway instead (one build per run).
 *   BENCH_AB=/path/to/other/checkout runs this build (A) and that one (B) side by side, each in a data
 *   folder of its own, and alternates them move by move (A B, then B A): a paired, interleaved A/B.
 * Beside the medians it prints issue 23's target as a number, "10 ms plus the fsyncs": the syncs a
 * durable folder move cannot avoid (its two parent folders and one commit's fdatasync), timed with
 * plain Node on the same disk between the moves (bench/lib/durable-writes.ts, folderMoveSyncsMs).
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { basicAuth, curlClient, startSyncgateHttp, stopServers, waitForHttp } from './lib/http-peers.js';
import { folderMoveSyncsMs, folderMoveTarget, type FolderMoveSyncs } from './lib/durable-writes.js';
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
const AB = process.env.BENCH_AB ? path.resolve(process.env.BENCH_AB) : null;
const builds = AB ? [{ label: 'A (this build)', repo: undefined }, { label: `B (${AB})`, repo: AB }] : [{ label: process.env.BENCH_REPO ? `(${process.env.BENCH_REPO})` : '', repo: process.env.BENCH_REPO ? path.resolve(process.env.BENCH_REPO) : undefined }];
interface Gateway {
  label: string;
  proc: ChildProcess;
  base: string;
  wall: number[];
  cpu: number[];
  loopCpu: number[];
}
const gateways: Gateway[] = [];
const syncs: FolderMoveSyncs[] = [];
try {
  for (const [i, b] of builds.entries()) {
    const root = path.join(work, `sg${i}`, 'roots', 'default');
    await fillListingFolder(path.join(root, 'listing'), ENTRIES, (k) => `entry ${k}\n`);
    await fillListingFolder(path.join(root, 'folder-template'), FOLDER, (k) => `entry ${k}\n`);
    const sg = await startSyncgateHttp(path.join(work, `sg${i}`), PASS, b.repo ? { label: 'build', env: {}, repo: b.repo } : undefined);
    gateways.push({ label: b.label, proc: sg.proc, base: `${sg.origin}/dav/default`, wall: [], cpu: [], loopCpu: [] });
  }
  const curl = curlClient(USER, PASS);
  for (const g of gateways) await waitForHttp(`${g.base}/`, { method: 'PROPFIND', headers: { depth: '0', authorization: basicAuth(USER, PASS) } });
  // Every copy first, then a quiet moment, then the moves: a profile's samples after its last long
  // idle stretch are the moves' (and the disk syncs between them). Round 0 warms up, not recorded.
  for (let rep = 0; rep <= REPS; rep += 1) {
    for (const g of gateways) {
      const copy = await curl.time(['-X', 'COPY', '-H', `Destination: ${g.base}/mv1k-${rep}/`, `${g.base}/folder-template/`]);
      if (copy.code !== 201 && copy.code !== 204) throw new Error(`COPY: HTTP ${copy.code}`);
    }
  }
  await new Promise((r) => setTimeout(r, 3000));
  for (let rep = 0; rep <= REPS; rep += 1) {
    for (const g of rep % 2 === 0 ? gateways : [...gateways].reverse()) {
      await settleDisk();
      const pid = g.proc.pid!;
      const l0 = cpuNanos(pid, true);
      const c0 = cpuNanos(pid);
      const r = await curl.time(['-X', 'MOVE', '-H', `Destination: ${g.base}/moved1k-${rep}/`, `${g.base}/mv1k-${rep}/`]);
      const c1 = cpuNanos(pid);
      const l1 = cpuNanos(pid, true);
      if (r.code !== 201 && r.code !== 204) throw new Error(`MOVE: HTTP ${r.code}`);
      if (rep === 0) continue;
      g.wall.push(r.secs * 1000);
      g.cpu.push((c1 - c0) / 1e6);
      g.loopCpu.push((l1 - l0) / 1e6);
    }
    // The fsyncs' cost on the same disk, between the moves (the gateways idle meanwhile).
    await settleDisk();
    syncs.push(folderMoveSyncsMs(path.join(work, `syncs-${rep}`), 5));
  }
  const load = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  const target = folderMoveTarget(syncs);
  console.log(`WebDAV MOVE of a ${FOLDER}-file folder, defaults (watcher on, info logs), ${REPS} moves${AB ? ' each, interleaved' : ''}, medians; load ${load}`);
  for (const g of gateways) {
    const met = median(g.wall) <= target.ms ? 'met' : 'NOT met';
    console.log(`  ${g.label ? `${g.label}: ` : ''}wall ${median(g.wall).toFixed(1)} ms (min ${Math.min(...g.wall).toFixed(1)}; ${met}), gateway CPU ${median(g.cpu).toFixed(1)} ms (min ${Math.min(...g.cpu).toFixed(1)}), of it on the event loop ${median(g.loopCpu).toFixed(1)} ms (min ${Math.min(...g.loopCpu).toFixed(1)})`);
  }
  console.log(`  ${target.text}`);
  if (gateways.length === 2) {
    const [a, b] = gateways as [Gateway, Gateway];
    const paired = (k: 'wall' | 'loopCpu') => median(a[k].map((x, i) => x - b[k][i]!)).toFixed(1);
    console.log(`  paired A - B, median of the per-round differences: wall ${paired('wall')} ms, event-loop CPU ${paired('loopCpu')} ms`);
  }
} finally {
  // Waited for: a profile (--cpu-prof) is written as the gateway exits.
  const exited = gateways.map((g) => new Promise((r) => g.proc.once('exit', r)));
  await stopServers(gateways.map((g) => g.proc));
  await Promise.all(exited);
  await rm(work, { recursive: true, force: true });
}
