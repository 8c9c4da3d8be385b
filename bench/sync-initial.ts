/**
 * Sync row "initial sync of many small files" (issue 25): BENCH_FILES (default 10,000) files of
 * 4 KiB in folder A, none anywhere else. syncgate: `syncgate client sync` in A (uploads), then in B
 * (downloads), through the gateway with the defaults; the time runs from the start of A's sync to
 * the end of B's. Beside it, in the same run, Syncthing: two instances on 127.0.0.1, configured
 * through their REST API and connected before the clock starts; the time runs from sharing the
 * folder (A already full) until B holds every file under its final name. CPU of every process
 * involved (clients and gateway; both Syncthing instances) is printed beside wall time.
 * Usage: npm run bench -- sync-initial      BENCH_QUICK=1 (1,000 files)   BENCH_FILES=N   BENCH_SKIP_SYNCTHING=1
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { settleDisk, writeSmallFiles } from './lib/measure.js';
import {
  client, clientHome, cpuSecs, cpuTree, expectSynced, printLoad, printRow, printSettings, QUICK, startGateway, stPair, stShare, stStart, stStop, until,
} from './lib/sync-peers.js';

const FILES = Number(process.env.BENCH_FILES ?? (QUICK ? 1000 : 10_000));

interface Result {
  secs: number;
  cpu: number;
  detail: string;
}

async function countFinal(dir: string): Promise<number> {
  return (await readdir(dir).catch(() => [] as string[])).filter((n) => /^f\d+\.bin$/.test(n)).length;
}

async function syncgate(work: string): Promise<Result> {
  const gw = await startGateway(work);
  try {
    const [dirA, dirB] = [path.join(work, 'sg-a'), path.join(work, 'sg-b')];
    const a = await clientHome(work, 'a', gw.origin, dirA);
    const b = await clientHome(work, 'b', gw.origin, dirB);
    await rm(dirA, { recursive: true });
    await writeSmallFiles(dirA, FILES);
    await settleDisk();
    const cpu0 = cpuSecs(gw.pid);
    const up = await client(a.home, ['sync']);
    const down = await client(b.home, ['sync']);
    const gwCpu = cpuSecs(gw.pid) - cpu0;
    expectSynced(up, 'upload');
    expectSynced(down, 'download');
    if ((await countFinal(dirB)) !== FILES) throw new Error(`B holds ${await countFinal(dirB)} of ${FILES} files`);
    return {
      secs: up.secs + down.secs,
      cpu: up.cpu + down.cpu + gwCpu,
      detail: `A ${up.secs.toFixed(2)} s (CPU ${up.cpu.toFixed(2)} s, peak RSS ${(up.maxRssKiB / 1024).toFixed(0)} MB), B ${down.secs.toFixed(2)} s (CPU ${down.cpu.toFixed(2)} s, peak RSS ${(down.maxRssKiB / 1024).toFixed(0)} MB), gateway CPU ${gwCpu.toFixed(2)} s`,
    };
  } finally {
    await gw.stop();
  }
}

async function syncthing(work: string): Promise<Result> {
  const [dirA, dirB] = [path.join(work, 'st-a'), path.join(work, 'st-b')];
  await writeSmallFiles(dirA, FILES);
  const a = await stStart(work, 'a', dirA);
  const b = await stStart(work, 'b', dirB);
  try {
    await stPair(a, b);
    await settleDisk();
    const cpu0 = cpuTree(a.proc.pid!) + cpuTree(b.proc.pid!);
    const t0 = performance.now();
    await stShare(a, b);
    await until(async () => (await countFinal(dirB)) === FILES, 30 * 60_000, 'Syncthing to copy every file');
    const secs = (performance.now() - t0) / 1000;
    const cpu = cpuTree(a.proc.pid!) + cpuTree(b.proc.pid!) - cpu0;
    return { secs, cpu, detail: `both instances' CPU ${cpu.toFixed(2)} s` };
  } finally {
    await stStop(a, b);
  }
}

const work = await mkdtemp(path.join(process.env.BENCH_DIR ?? os.tmpdir(), 'bench-sync-initial-'));
try {
  printSettings('sync-initial: many small files A -> gateway -> B, beside Syncthing (two instances on 127.0.0.1)', {
    files: FILES, file_size: '4 KiB', gateway: 'defaults (npm start), own process', clients: 'syncgate client sync (one-shot: A, then B)', syncthing: 'fsWatcherDelayS 1, connected before the clock starts',
  });
  const ours = await syncgate(work);
  console.log(`   syncgate: ${ours.detail}`);
  if (process.env.BENCH_SKIP_SYNCTHING === '1') {
    console.log(`   syncgate wall time ${ours.secs.toFixed(2)} s, CPU ${ours.cpu.toFixed(2)} s (Syncthing skipped)`);
  } else {
    const peer = await syncthing(work);
    console.log(`   Syncthing: ${peer.detail}`);
    printRow(`wall time, ${FILES} files A -> B`, ours.secs, peer.secs, 's', 'Syncthing', { max: 1.0 });
    printRow('files/s', FILES / ours.secs, FILES / peer.secs, 'files/s', 'Syncthing');
    printRow('CPU, every process (user+sys)', ours.cpu, peer.cpu, 's', 'Syncthing');
  }
  printLoad();
} finally {
  if (process.env.BENCH_KEEP === '1') console.log(`   kept ${work}`);
  else await rm(work, { recursive: true, force: true });
}
