/**
 * Sync row "small edits in a big file" (issue 25): a file of BENCH_BIG_MIB (default 1024 MiB),
 * synced, then edited (10 overwrites of 4 KiB spread over it and 1 MiB inserted in the middle) and
 * synced again A -> gateway -> B: `syncgate client sync` in A (a delta upload against the head's
 * signature, which the gateway has cached: it is fetched once before the timed part), then in B (a
 * delta download from the version B holds: POST delta?base=, which the gateway answers with the delta
 * A uploaded, kept; B reads its copy only to patch it). Beside it, in the same run, rsync the same way through an rsync
 * daemon on 127.0.0.1: push A -> daemon, then pull daemon -> B, both deltas. Bytes are counted on
 * the wire by one counting proxy that both go through (both directions), and also taken from
 * `rsync --stats`. Targets: bytes <= 1.1x rsync's, wall time <= 1.0x rsync's.
 * Note: the gateway fsyncs what it records and the client what it installs; plain rsync syncs
 * nothing. So a second rsync row runs with `--fsync` (each side syncs each file it writes, as we
 * do): the durability-matched comparison, printed beside the target row, never instead of it.
 * Usage: npm run bench -- sync-delta      BENCH_QUICK=1 (64 MiB)   BENCH_BIG_MIB=N
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { procStatusKiB, settleDisk, writeRandomFile } from './lib/measure.js';
import {
  client, clientHome, countingProxy, cpuSecs, expectSynced, setupSync, printLoad, printRow, printSettings, procUsage, QUICK, rsyncStats, startGateway, startRsyncDaemon, timed, usageSince,
} from './lib/sync-peers.js';

const MIB = 1 << 20;
const SIZE = Number(process.env.BENCH_BIG_MIB ?? (QUICK ? 64 : 1024)) * MIB;
const OVERWRITES = 10;
const INSERT = MIB;

/** The edited copy: `INSERT` random bytes inserted at the middle, then 4 KiB overwritten at 10 spread places. */
async function makeEdited(orig: string, edited: string): Promise<void> {
  const mid = Math.floor(SIZE / 2) + 777;
  const out = createWriteStream(edited);
  await pipeline(createReadStream(orig, { end: mid - 1 }), out, { end: false });
  out.write(randomBytes(INSERT));
  await pipeline(createReadStream(orig, { start: mid }), out);
  const fh = await open(edited, 'r+');
  for (let i = 0; i < OVERWRITES; i += 1) await fh.write(randomBytes(4096), 0, 4096, Math.floor(((i + 0.5) * (SIZE + INSERT)) / OVERWRITES));
  await fh.close();
}

/**
 * The disk's floor for one step of ours: the edited file (read from the page cache) written to a new
 * file with a datasync every 32 MiB and an fsync at the end, as the gateway's staging and the
 * client's HashedSink do. Each of A's and B's steps writes and syncs the whole file once at least.
 */
async function syncFloor(from: string, to: string): Promise<number> {
  const buf = Buffer.allocUnsafe(4 * MIB);
  const src = await open(from, 'r');
  const out = await open(to, 'w');
  try {
    for await (const _ of createReadStream(from, { highWaterMark: 4 * MIB })) void _; // into the page cache
    const t0 = performance.now();
    let flushed = 0;
    let flushing: Promise<void> | null = null;
    for (let pos = 0; ; ) {
      const { bytesRead } = await src.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      await out.write(buf, 0, bytesRead, pos);
      pos += bytesRead;
      if (!flushing && pos - flushed >= 32 * MIB) {
        flushed = pos;
        flushing = out.datasync().finally(() => void (flushing = null));
      }
    }
    await flushing;
    await out.sync();
    return (performance.now() - t0) / 1000;
  } finally {
    await src.close();
    await out.close();
    await rm(to, { force: true });
  }
}

async function sha(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(file, { highWaterMark: 4 * MIB })) h.update(c as Buffer);
  return h.digest('hex');
}

interface Result {
  secs: number;
  bytes: number;
  /** CPU seconds: the client processes, the server side. */
  clientCpu: number;
  serverCpu: number;
  /** The first step (A's upload, rsync's push) and the second (B's download, the pull), seconds. */
  stepSecs: [number, number];
  detail: string;
}

async function syncgateRun(work: string, orig: string, edited: string, want: string): Promise<Result> {
  const gw = await startGateway(work);
  const proxy = await countingProxy(gw.port);
  try {
    const url = `http://127.0.0.1:${proxy.port}`;
    const [dirA, dirB] = [path.join(work, 'sg-a'), path.join(work, 'sg-b')];
    const a = await clientHome(work, 'a', url, dirA);
    const b = await clientHome(work, 'b', url, dirB);
    await copyFile(orig, path.join(dirA, 'big.bin'));
    await setupSync(a.home, 'first upload');
    await setupSync(b.home, 'first download');
    // The head's signature, as a client asks for it: computed now, cached for the timed part.
    const sig = await fetch(`${url}/sync/v1/roots/default/signature?path=big.bin`, { headers: { authorization: `Bearer ${a.token}` } });
    if (!sig.ok) throw new Error(`signature: HTTP ${sig.status}`);
    await sig.arrayBuffer();
    await copyFile(edited, path.join(dirA, 'big.bin'));
    await settleDisk();
    proxy.reset();
    const cpu0 = cpuSecs(gw.pid);
    const usage0 = procUsage(gw.pid);
    const mb = () => (procStatusKiB(gw.pid, 'VmHWM') / 1024).toFixed(0);
    const peakBefore = mb(); // the first upload and the signature
    const up = await client(a.home, ['sync']);
    const cpuUp = cpuSecs(gw.pid) - cpu0;
    const usageUp = procUsage(gw.pid);
    const peakUp = mb();
    const down = await client(b.home, ['sync']);
    const serverCpu = cpuSecs(gw.pid) - cpu0;
    const usageDown = procUsage(gw.pid);
    expectSynced(up, 'delta upload');
    expectSynced(down, 'delta download');
    if ((await sha(path.join(dirB, 'big.bin'))) !== want) throw new Error('B does not hold the edited file');
    const say = (t: string) => t.trim().split('\n').filter((l) => l.includes('up,')).join(' ').replace(/^.*: /, '');
    return {
      secs: up.secs + down.secs,
      bytes: proxy.up + proxy.down,
      clientCpu: up.cpu + down.cpu,
      serverCpu,
      stepSecs: [up.secs, down.secs],
      detail: `A: ${say(up.stdout)} in ${up.secs.toFixed(2)} s (CPU ${up.cpu.toFixed(2)} s, gateway's ${cpuUp.toFixed(2)} s); B: ${say(down.stdout)} in ${down.secs.toFixed(2)} s (CPU ${down.cpu.toFixed(2)} s, gateway's ${(serverCpu - cpuUp).toFixed(2)} s); wire to gateway ${proxy.up}, from it ${proxy.down}; client peak RSS A ${(up.maxRssKiB / 1024).toFixed(0)} MB, B ${(down.maxRssKiB / 1024).toFixed(0)} MB; gateway peak RSS ${peakBefore} MB before the timed part, ${peakUp} MB after A, ${mb()} MB after B; the gateway during A: ${usageSince(usage0, usageUp)}; during B: ${usageSince(usageUp, usageDown)}`,
    };
  } finally {
    await proxy.close();
    await gw.stop();
  }
}

/** `extra`: more rsync options, on both ends (the client passes them to the daemon). */
async function rsyncRun(work: string, orig: string, edited: string, want: string, extra: string[] = []): Promise<Result> {
  const tag = extra.join('').replace(/[^a-z]/g, '');
  const [dirA, dirB, dirD] = ['a', 'b', 'daemon'].map((d) => path.join(work, `rs${tag}-${d}`)) as [string, string, string];
  const daemon = await startRsyncDaemon(work, dirD);
  const proxy = await countingProxy(daemon.port);
  try {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dirA, { recursive: true });
    await mkdir(dirB, { recursive: true });
    for (const d of [dirA, dirB, dirD]) await copyFile(orig, path.join(d, 'big.bin'));
    await copyFile(edited, path.join(dirA, 'big.bin'));
    await settleDisk();
    const mod = `rsync://127.0.0.1:${proxy.port}/bench`;
    proxy.reset();
    const cpu0 = cpuSecs(daemon.proc.pid!);
    const push = await timed('rsync', ['-a', '--stats', ...extra, path.join(dirA, 'big.bin'), `${mod}/`]);
    const pull = await timed('rsync', ['-a', '--stats', ...extra, `${mod}/big.bin`, path.join(dirB, 'big.bin')]);
    await new Promise((r) => setTimeout(r, 200)); // the daemon reaps its children (their CPU counts then)
    const serverCpu = cpuSecs(daemon.proc.pid!) - cpu0;
    if ((await sha(path.join(dirB, 'big.bin'))) !== want) throw new Error('rsync: B does not hold the edited file');
    for (const d of [dirA, dirB, dirD]) await rm(d, { recursive: true, force: true }); // room for the next run
    const [s1, s2] = [rsyncStats(push.stdout), rsyncStats(pull.stdout)];
    return {
      secs: push.secs + pull.secs,
      bytes: proxy.up + proxy.down,
      clientCpu: push.cpu + pull.cpu,
      serverCpu,
      stepSecs: [push.secs, pull.secs],
      detail: `push ${push.secs.toFixed(2)} s (--stats: sent ${s1.sent}, received ${s1.received}), pull ${pull.secs.toFixed(2)} s (--stats: sent ${s2.sent}, received ${s2.received}); --stats total ${s1.sent + s1.received + s2.sent + s2.received}; wire to daemon ${proxy.up}, from it ${proxy.down}`,
    };
  } finally {
    await proxy.close();
    await daemon.stop();
  }
}

const work = await mkdtemp(path.join(process.env.BENCH_DIR ?? os.tmpdir(), 'bench-sync-delta-'));
try {
  printSettings('sync-delta: small edits in a big file, A -> gateway -> B, beside rsync (daemon on 127.0.0.1, push then pull)', {
    file_MiB: SIZE / MIB, overwrites: `${OVERWRITES}x4KiB`, insert_KiB: INSERT / 1024, gateway: 'defaults (npm start), own process', clients: 'syncgate client sync (one-shot each)', rsync: '-a --stats (delta over the daemon protocol); then again with --fsync',
  });
  const orig = path.join(work, 'orig.bin');
  const edited = path.join(work, 'edited.bin');
  await writeRandomFile(orig, SIZE);
  await makeEdited(orig, edited);
  const want = await sha(edited);
  await settleDisk();
  const floor = await syncFloor(edited, path.join(work, 'floor.bin'));
  console.log(`   disk floor: writing and syncing the ${(SIZE + INSERT) / MIB} MiB file once (from the page cache, a datasync every 32 MiB) takes ${floor.toFixed(2)} s now; each of A's and B's steps does it once`);
  const ours = await syncgateRun(work, orig, edited, want);
  console.log(`   syncgate: ${ours.detail}`);
  const peer = await rsyncRun(work, orig, edited, want);
  console.log(`   rsync:    ${peer.detail}`);
  const synced = await rsyncRun(work, orig, edited, want, ['--fsync']);
  console.log(`   rsync --fsync: ${synced.detail}`);
  printRow('bytes on the wire (both ways)', ours.bytes, peer.bytes, 'bytes', 'rsync', { max: 1.1 });
  printRow('wall time A -> B', ours.secs, peer.secs, 's', 'rsync', { max: 1.0 });
  // Durability matched: rsync syncing each file it writes, as the gateway and the client do.
  printRow('wall time A -> B, vs rsync --fsync', ours.secs, synced.secs, 's', 'rsync-fsync');
  printRow('  A (upload) vs push', ours.stepSecs[0], peer.stepSecs[0], 's', 'rsync');
  printRow('  B (download) vs pull', ours.stepSecs[1], peer.stepSecs[1], 's', 'rsync');
  printRow('CPU, clients (user+sys)', ours.clientCpu, peer.clientCpu, 's', 'rsync');
  printRow('CPU, server (user+sys)', ours.serverCpu, peer.serverCpu, 's', 'rsync');
  printRow('CPU, all', ours.clientCpu + ours.serverCpu, peer.clientCpu + peer.serverCpu, 's', 'rsync');
  printRow('CPU, all, vs rsync --fsync', ours.clientCpu + ours.serverCpu, synced.clientCpu + synced.serverCpu, 's', 'rsync-fsync');
  printLoad();
} finally {
  if (process.env.BENCH_KEEP === '1') console.log(`   kept ${work}`);
  else await rm(work, { recursive: true, force: true });
}
