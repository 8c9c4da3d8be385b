/**
 * Benchmark of the core alone, each figure against its peer measured in the same run:
 *   big    writing a 1 GiB file through the core vs `cp` + fsync (`cp src dst && sync dst`; dd conv=fsync
 *          shown too). Target: >= 0.5x of cp.
 *   small  1,000 small files (4 KiB) created, then each overwritten once (history kept), in files/s vs
 *          `cp` of the 1,000 files (+ one `sync -f`, and + fsync of each file like the core does).
 *   watch  the watcher's cost on a root of 50,000 files: RSS, inotify watches, start time, event
 *          latency, in 'files' mode (chokidar's one watch per file) and 'folders' mode.
 * The core runs in a child process so its peak RSS (VmHWM) is its own.
 * Usage: npx tsx bench/core.ts [big] [small] [watch]   (default: big small watch)
 *   BENCH_BIG_MIB (1024)  BENCH_REPS_BIG (3)  BENCH_SMALL (1000)  BENCH_REPS (3)  BENCH_WATCH_FILES (50000)
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, inotifyWatches, median, mib, printRatio, printValue, procStatusKiB, reportPeakRss, runTsChild, sh, timeIt, timeRuns } from './lib/measure.js';

const SELF = fileURLToPath(import.meta.url);
const BIG = Number(process.env.BENCH_BIG_MIB ?? 1024) << 20;
const REPS_BIG = Number(process.env.BENCH_REPS_BIG ?? 3);
const SMALL = Number(process.env.BENCH_SMALL ?? 1000);
const REPS = Number(process.env.BENCH_REPS ?? 3);
const WATCH_FILES = Number(process.env.BENCH_WATCH_FILES ?? 50_000);

// ---------------------------------------------------------------- children (the core's side)

async function openCore(dataDir: string) {
  const { makeCore } = await import('../test/helpers/core.js');
  return makeCore({ dir: dataDir, keepDir: true });
}

async function child(task: string, arg: Record<string, unknown>): Promise<void> {
  const t = await openCore(String(arg.dataDir));
  const { vfs } = t.core;
  const out: Record<string, number> = {};
  if (task === 'write-big') {
    out.secs = await timeIt(() => vfs.write(t.admin, 'docs', 'big.bin', createReadStream(String(arg.src), { highWaterMark: 1 << 20 })));
  } else if (task === 'small') {
    const n = Number(arg.n);
    const write = (dir: string) => async () => {
      for (let i = 0; i < n; i += 1) await vfs.write(t.admin, 'docs', `small/f${i}.bin`, createReadStream(path.join(dir, `f${i}.bin`)), { createParents: true });
    };
    out.createSecs = await timeIt(write(String(arg.a)));
    out.updateSecs = await timeIt(write(String(arg.b)));
    const h = await vfs.history(t.admin, 'docs', 'small/f0.bin');
    if (h.length !== 2 || !h[1]!.available) throw new Error('history was not kept');
  } else if (task === 'prepare-watch') {
    const files = Number(arg.files);
    const perDir = 100;
    for (let d = 0; d < Math.ceil(files / perDir); d += 1) {
      const dir = path.join(t.rootDir, `d${d}`);
      await mkdir(dir, { recursive: true });
      await Promise.all(Array.from({ length: Math.min(perDir, files - d * perDir) }, (_, i) => writeFile(path.join(dir, `f${i}.txt`), `${d}/${i}\n`)));
    }
    out.scanSecs = await timeIt(() => t.core.diskEdits.scanRoot(t.core.ctx.roots.byName('docs')!.id));
  } else if (task === 'watch') {
    const { startWatcher } = await import('../src/core/watcher.js');
    out.rssBeforeKiB = procStatusKiB('self', 'VmRSS');
    let w: Awaited<ReturnType<typeof startWatcher>> | null = null;
    if (arg.mode !== 'none') {
      out.readySecs = await timeIt(async () => {
        w = await startWatcher(t.core, { maxWatchedFiles: arg.mode === 'files' ? 1e9 : 0, rootPollMs: 0 });
      });
    }
    out.rssAfterKiB = procStatusKiB('self', 'VmRSS');
    out.watches = await inotifyWatches('self');
    if (w) {
      // Latency of one edit deep in the tree, until its version is recorded.
      const rel = 'd0/f3.txt';
      const before = (await vfs.stat(t.admin, 'docs', rel)).version;
      const t0 = Date.now();
      await writeFile(path.join(t.rootDir, rel), `edited by another program at ${t0}\n`);
      while ((await vfs.stat(t.admin, 'docs', rel)).version === before) {
        if (Date.now() - t0 > 30_000) throw new Error('the watcher did not record the edit');
        await new Promise((r) => setTimeout(r, 10));
      }
      out.latencyMs = Date.now() - t0;
      await (w as { close(): Promise<void> }).close();
    }
  }
  t.core.close();
  process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
  reportPeakRss();
}

function resultOf(stdout: string, stderr: string): Record<string, number> {
  const m = stdout.match(/^RESULT (.*)$/m);
  if (!m) throw new Error(`child failed: ${stderr.slice(-2000)}`);
  return JSON.parse(m[1]!) as Record<string, number>;
}

// ---------------------------------------------------------------- parent (orchestration and peers)

async function makeSource(file: string, size: number): Promise<void> {
  const block = randomBytes(16 << 20);
  const ws = createWriteStream(file);
  for (let off = 0, i = 0; off < size; off += block.length, i += 1) {
    block.writeUInt32LE(i, 0); // every block differs
    const part = block.subarray(0, Math.min(block.length, size - off));
    if (!ws.write(Buffer.from(part))) await new Promise<void>((r) => ws.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => ws.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

async function benchBig(work: string): Promise<void> {
  console.log(`\n== 1 GiB file: core vs cp + fsync (${mib(BIG)} MiB, median of ${REPS_BIG})`);
  const src = path.join(work, 'big.src');
  await makeSource(src, BIG);
  await sh(`sync '${src}'`); // its writeback must not run during the first measured copy
  const dst = path.join(work, 'big.dst');
  const core: number[] = [];
  const rss: number[] = [];
  const cp: number[] = [];
  const dd: number[] = [];
  for (let r = 0; r < REPS_BIG; r += 1) {
    await rm(dst, { force: true });
    cp.push(await timeIt(() => sh(`cp '${src}' '${dst}' && sync '${dst}'`)));
    await rm(dst, { force: true });
    dd.push(await timeIt(() => sh(`dd if='${src}' of='${dst}' bs=4M conv=fsync status=none`)));
    await rm(dst, { force: true });
    const dataDir = path.join(work, `core-big-${r}`);
    await (await openCore(dataDir)).core.close();
    const run = await runTsChild(SELF, ['--child', 'write-big', JSON.stringify({ dataDir, src })]);
    core.push(resultOf(run.stdout, run.stderr).secs!);
    rss.push(run.peakRssKiB);
    await rm(dataDir, { recursive: true, force: true });
  }
  const mbs = (secs: number[]) => mib(BIG) / median(secs);
  printRatio('1 GiB write, MiB/s (vs cp + fsync)', mbs(core), mbs(cp), 'MiB/s', { peerName: 'cp+sync', target: 0.5 });
  printRatio('1 GiB write, MiB/s (vs dd conv=fsync)', mbs(core), mbs(dd), 'MiB/s', { peerName: 'dd' });
  printValue('peak RSS of the core process (1 GiB write)', Math.max(...rss) / 1024, 'MiB');
  console.log(`  runs (s): core ${core.map((x) => fmt(x)).join(' ')} | cp ${cp.map((x) => fmt(x)).join(' ')} | dd ${dd.map((x) => fmt(x)).join(' ')}`);
  await rm(src, { force: true });
  await rm(dst, { force: true });
}

async function benchSmall(work: string): Promise<void> {
  console.log(`\n== ${SMALL} small files (4 KiB), created then each overwritten once (history), median of ${REPS}`);
  const a = path.join(work, 'small-a');
  const b = path.join(work, 'small-b');
  for (const dir of [a, b]) {
    await mkdir(dir, { recursive: true });
    for (let i = 0; i < SMALL; i += 1) await writeFile(path.join(dir, `f${i}.bin`), randomBytes(4096));
  }
  await sh(`sync -f '${a}'`);
  const dst = path.join(work, 'small-dst');
  const fsyncEach = `find '${dst}' -type f -exec sync {} +`;
  const core = { create: [] as number[], update: [] as number[] };
  const rss: number[] = [];
  let cpSync: number[] = [];
  let cpFsync: number[] = [];
  const cpSyncU: number[] = [];
  const cpFsyncU: number[] = [];
  for (let r = 0; r < REPS; r += 1) {
    cpSync = cpSync.concat(await timeRuns(1, () => sh(`cp -r '${a}' '${dst}' && sync -f '${dst}'`), () => rm(dst, { recursive: true, force: true })));
    cpSyncU.push(await timeIt(() => sh(`cp -r '${b}/.' '${dst}/' && sync -f '${dst}'`)));
    cpFsync = cpFsync.concat(await timeRuns(1, () => sh(`cp -r '${a}' '${dst}' && ${fsyncEach}`), () => rm(dst, { recursive: true, force: true })));
    cpFsyncU.push(await timeIt(() => sh(`cp -r '${b}/.' '${dst}/' && ${fsyncEach}`)));
    await rm(dst, { recursive: true, force: true });
    const dataDir = path.join(work, `core-small-${r}`);
    await (await openCore(dataDir)).core.close();
    const run = await runTsChild(SELF, ['--child', 'small', JSON.stringify({ dataDir, a, b, n: SMALL })]);
    const res = resultOf(run.stdout, run.stderr);
    core.create.push(res.createSecs!);
    core.update.push(res.updateSecs!);
    rss.push(run.peakRssKiB);
    await rm(dataDir, { recursive: true, force: true });
  }
  const fps = (secs: number[]) => SMALL / median(secs);
  printRatio('create, files/s (vs cp -r + sync -f)', fps(core.create), fps(cpSync), 'files/s', { peerName: 'cp+syncfs' });
  printRatio('create, files/s (vs cp -r + fsync each)', fps(core.create), fps(cpFsync), 'files/s', { peerName: 'cp+fsync' });
  printRatio('overwrite w/ history, files/s (vs cp+syncfs)', fps(core.update), fps(cpSyncU), 'files/s', { peerName: 'cp+syncfs' });
  printRatio('overwrite w/ history, files/s (vs cp+fsync)', fps(core.update), fps(cpFsyncU), 'files/s', { peerName: 'cp+fsync' });
  printValue('peak RSS of the core process (small files)', Math.max(...rss) / 1024, 'MiB');
  await rm(a, { recursive: true, force: true });
  await rm(b, { recursive: true, force: true });
}

async function benchWatch(work: string): Promise<void> {
  console.log(`\n== watcher on a root of ${WATCH_FILES} files in ${Math.ceil(WATCH_FILES / 100)} folders`);
  const dataDir = path.join(work, 'core-watch');
  await (await openCore(dataDir)).core.close();
  const prep = await runTsChild(SELF, ['--child', 'prepare-watch', JSON.stringify({ dataDir, files: WATCH_FILES })]);
  printValue('start-up scan of the root (first time)', resultOf(prep.stdout, prep.stderr).scanSecs!, 's');
  const runs: Record<string, Record<string, number> & { peak: number }> = {};
  for (const mode of ['none', 'files', 'folders']) {
    const run = await runTsChild(SELF, ['--child', 'watch', JSON.stringify({ dataDir, mode })]);
    runs[mode] = { ...resultOf(run.stdout, run.stderr), peak: run.peakRssKiB };
  }
  const base = runs.none!;
  for (const mode of ['files', 'folders']) {
    const r = runs[mode]!;
    console.log(
      `${`watcher '${mode}' mode`.padEnd(44)} watches ${String(r.watches).padStart(6)}  ready ${fmt(r.readySecs!)} s  RSS +${fmt((r.rssAfterKiB! - base.rssAfterKiB!) / 1024, 0)} MiB (${fmt(r.rssAfterKiB! / 1024, 0)} MiB total, peak ${fmt(r.peak / 1024, 0)})  edit recorded in ${r.latencyMs} ms`,
    );
  }
  console.log(`${'core without watcher'.padEnd(44)} RSS ${fmt(base.rssAfterKiB! / 1024, 0)} MiB`);
  await rm(dataDir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') return child(argv[1]!, JSON.parse(argv[2]!) as Record<string, unknown>);
  const tasks = argv.length > 0 ? argv : ['big', 'small', 'watch'];
  const work = await mkdtemp(path.join(os.tmpdir(), 'syncgate-bench-core-'));
  console.log(`core benchmark in ${work} (${os.cpus().length} CPUs, Node ${process.version})`);
  try {
    if (tasks.includes('big')) await benchBig(work);
    if (tasks.includes('small')) await benchSmall(work);
    if (tasks.includes('watch')) await benchWatch(work);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
