/**
 * Sync row "propagation" (issue 25): an edit in one synced folder until it is in another, syncgate's
 * companion client (two `syncgate client sync --watch` processes and the gateway as `npm start`
 * runs it: own process, defaults) beside Syncthing (two instances on 127.0.0.1, configured through
 * its REST API, watcher delay at its lowest, 1 s), in the same run. An edit is a small file rewritten
 * in folder A; the time runs until folder B holds the new content (polled every 2 ms). Prints
 * p50/p95/p99 and ratios. The other sync rows are bench/sync-*.ts (delta, initial, bigfile, memory);
 * `npm run bench -- sync sync-delta sync-initial sync-bigfile sync-memory` runs them all.
 * Usage: npm run bench -- sync     BENCH_EDITS (default 200; BENCH_QUICK=1: 30)   BENCH_SKIP_SYNCTHING=1
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fmt, printRatio, REPO } from './lib/measure.js';
import { clientHome, cpuSecs, cpuTree, printLoad, printSettings, QUICK, startGateway, stPair, stShare, stStart, stStop, until as untilFor } from './lib/sync-peers.js';

const EDITS = Number(process.env.BENCH_EDITS ?? (QUICK ? 30 : 200));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const until = (fn: () => Promise<boolean>, timeoutMs: number) => untilFor(fn, timeoutMs, 'the edit to arrive');

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

async function syncgate(tmp: string): Promise<{ latencies: number[]; cpu: number }> {
  const gw = await startGateway(tmp);
  const children: ChildProcess[] = [];
  try {
    const dirs: string[] = [];
    for (const name of ['a', 'b']) {
      const dir = path.join(tmp, `sg-${name}`);
      const { home } = await clientHome(tmp, name, gw.origin, dir);
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
    const pids = [gw.pid, ...children.map((c) => c.pid!)];
    const cpu0 = pids.reduce((t, p) => t + cpuSecs(p), 0);
    const latencies = await propagation(dirs[0]!, dirs[1]!);
    return { latencies, cpu: pids.reduce((t, p) => t + cpuSecs(p), 0) - cpu0 };
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    await gw.stop();
  }
}

async function syncthing(tmp: string): Promise<{ latencies: number[]; cpu: number }> {
  const a = await stStart(tmp, 'a', path.join(tmp, 'st-a'));
  const b = await stStart(tmp, 'b', path.join(tmp, 'st-b'));
  try {
    await stPair(a, b);
    await stShare(a, b);
    await writeFile(path.join(a.dir, 'note.txt'), 'start\n');
    await until(async () => (await readFile(path.join(b.dir, 'note.txt'), 'utf8').catch(() => '')) === 'start\n', 120_000);
    const cpu0 = cpuTree(a.proc.pid!) + cpuTree(b.proc.pid!);
    const latencies = await propagation(a.dir, b.dir);
    return { latencies, cpu: cpuTree(a.proc.pid!) + cpuTree(b.proc.pid!) - cpu0 };
  } finally {
    await stStop(a, b);
  }
}

const tmp = await mkdtemp(path.join(process.env.BENCH_DIR ?? os.tmpdir(), 'bench-sync-'));
try {
  printSettings('sync (propagation): an edit in A until B has it, beside Syncthing', {
    edits: EDITS, gateway: 'defaults (npm start), own process', clients: 'syncgate client sync --watch (A and B)', syncthing: 'fsWatcherDelayS 1 (its lowest), two instances on 127.0.0.1',
  });
  const ours = await syncgate(tmp);
  const o = ours.latencies;
  console.log(`syncgate propagation over ${EDITS} edits (ms): p50 ${fmt(pct(o, 50))}  p95 ${fmt(pct(o, 95))}  p99 ${fmt(pct(o, 99))}   (target p50 <= 50, p99 <= 250); CPU of gateway + both clients ${ours.cpu.toFixed(2)} s (${((ours.cpu / EDITS) * 1000).toFixed(1)} ms per edit)`);
  if (process.env.BENCH_SKIP_SYNCTHING !== '1') {
    const peer = await syncthing(tmp);
    const p = peer.latencies;
    console.log(`Syncthing propagation over ${EDITS} edits (ms): p50 ${fmt(pct(p, 50))}  p95 ${fmt(pct(p, 95))}  p99 ${fmt(pct(p, 99))}   (fsWatcherDelayS 1, its lowest); CPU of both instances ${peer.cpu.toFixed(2)} s (${((peer.cpu / EDITS) * 1000).toFixed(1)} ms per edit)`);
    for (const q of [50, 95, 99]) printRatio(`propagation p${q}`, pct(o, q), pct(p, q), 'ms', { peerName: 'Syncthing', higherIsBetter: false });
    printRatio('CPU per edit (all processes)', (ours.cpu / EDITS) * 1000, (peer.cpu / EDITS) * 1000, 'ms', { peerName: 'Syncthing', higherIsBetter: false });
  }
  printLoad();
} finally {
  await rm(tmp, { recursive: true, force: true });
}
