/**
 * What durability costs on this disk, without any of syncgate: 1,000 PUTs of 4 KiB (one connection,
 * then 8 in parallel) to rclone serve webdav (syncs nothing), to the durable floor in syncgate's order
 * for a new file (the content syncs beside the rename, the record and the WAL's sync: one disk round
 * trip per PUT) and to the floor in the serial order syncgate keeps for replacements (content synced
 * before the rename: two round trips one after the other; see lib/durable-floor.ts).
 * floor/rclone is the most syncgate can reach against rclone on the small-file figures (issue 3),
 * whatever its own overhead. Rounds turn the servers' order; round 0 warms up and is not counted.
 * BENCH_REPS sets the rounds (default 8).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { curlClient, type HttpPeer, prepareSmallRun, record, SMALL_FILE_MODES, smallFileBatch, startDurableFloor, startRcloneWebdav, stopServers } from './lib/http-peers.js';
import { median, printDiskCheck, writeSmallFiles } from './lib/measure.js';

const REPS = Number(process.env.BENCH_REPS ?? 8);
const SMALL = 1000;
const USER = 'admin';
const PASS = 'bench-password-1';

const work = await mkdtemp(path.join(os.tmpdir(), 'syncgate-bench-floor-'));
const procs: ChildProcess[] = [];
const curl = curlClient(USER, PASS);
try {
  const small = path.join(work, 'small');
  await writeSmallFiles(small, SMALL);
  const peer = (name: string, s: { proc: ChildProcess; origin: string }): HttpPeer & { base: string } => {
    procs.push(s.proc);
    return { name, base: s.origin, file: (p) => `${s.origin}/${p}`, proc: s.proc, results: {} };
  };
  const rclone = peer('rclone', await startRcloneWebdav(path.join(work, 'rc'), USER, PASS));
  const floor = peer('floor', await startDurableFloor(path.join(work, 'floor'), USER, PASS));
  const serial = peer('serial', await startDurableFloor(path.join(work, 'serial'), USER, PASS, 'serial'));
  const peers = [rclone, floor, serial];
  await printDiskCheck(work);
  for (let rep = 0; rep <= REPS; rep += 1) {
    for (let k = 0; k < peers.length; k += 1) {
      const s = peers[(rep + k) % peers.length]!;
      for (const [mode, extra] of SMALL_FILE_MODES) {
        const dir = `small-${mode}-${rep}`;
        await prepareSmallRun(curl, s.base, dir);
        const filesPerSec = await smallFileBatch(curl, path.join(work, `curl-${s.name}-${dir}.cfg`), SMALL, (i) => `${s.base}/${dir}/f${i}.bin`, extra, small);
        if (rep > 0) record(s, mode, filesPerSec);
      }
    }
    process.stdout.write(rep === 0 ? '  warm-up round\n' : `  round ${rep}/${REPS}\n`);
  }
  console.log(`\n1,000 x 4 KiB PUT (files/s, medians of ${REPS} runs; "paired": median of each run's ratio to rclone's beside it)`);
  console.log(`${''.padEnd(16)}${'rclone'.padStart(10)}${'floor'.padStart(10)}${'serial'.padStart(10)}${'floor/rclone'.padStart(22)}${'serial/rclone'.padStart(22)}`);
  for (const [mode] of SMALL_FILE_MODES) {
    const r = rclone.results[mode]!;
    const ratio = (s: HttpPeer) => {
      const xs = s.results[mode]!;
      return `${(median(xs) / median(r)).toFixed(2)}x (paired ${median(xs.map((v, i) => v / r[i]!)).toFixed(2)}x)`;
    };
    const label = mode === 'one' ? '1 connection' : '8 in parallel';
    console.log(`${label.padEnd(16)}${[rclone, floor, serial].map((s) => median(s.results[mode]!).toFixed(0).padStart(10)).join('')}${ratio(floor).padStart(22)}${ratio(serial).padStart(22)}`);
  }
  console.log(`\nraw: ${JSON.stringify(Object.fromEntries(peers.map((s) => [s.name, s.results])))}`);
} finally {
  await stopServers(procs);
  await rm(work, { recursive: true, force: true });
}
