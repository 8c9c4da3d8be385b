/**
 * Sync row "a new big file A -> B" (issue 25): a new file of BENCH_BIG_MIB (default 1024 MiB) in
 * folder A, synced A -> gateway -> B with `syncgate client sync` in A (a resumable upload), then in
 * B (a download into a part file, checked by SHA-256, installed). Beside it, in the same run and
 * through the same gateway: a WebDAV PUT of the file then a GET of it into a file, with curl. Both
 * go through one counting proxy (bytes on the wire). Target: syncgate's throughput >= 0.8x WebDAV's
 * PUT + GET, i.e. its time <= 1.25x. BENCH_REPS (default 1; 3 when asked) alternates the two.
 * Usage: npm run bench -- sync-bigfile      BENCH_QUICK=1 (64 MiB)   BENCH_BIG_MIB=N   BENCH_REPS=N
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { median, settleDisk, writeRandomFile } from './lib/measure.js';
import {
  client, clientHome, countingProxy, cpuSecs, expectSynced, PASS, printLoad, printRow, printSettings, QUICK, startGateway, timed, USER,
} from './lib/sync-peers.js';

const MIB = 1 << 20;
const SIZE = Number(process.env.BENCH_BIG_MIB ?? (QUICK ? 64 : 1024)) * MIB;
const REPS = Number(process.env.BENCH_REPS ?? 1);

async function sha(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(file, { highWaterMark: 4 * MIB })) h.update(c as Buffer);
  return h.digest('hex');
}

const work = await mkdtemp(path.join(process.env.BENCH_DIR ?? os.tmpdir(), 'bench-sync-big-'));
const gw = await startGateway(work);
const proxy = await countingProxy(gw.port);
try {
  printSettings('sync-bigfile: a new big file A -> gateway -> B, beside WebDAV PUT + GET through the same gateway (curl)', {
    file_MiB: SIZE / MIB, reps: REPS, gateway: 'defaults (npm start), own process', clients: 'syncgate client sync (one-shot each)', webdav: 'curl -T, then curl -o FILE',
  });
  const src = path.join(work, 'src.bin');
  await writeRandomFile(src, SIZE);
  const want = await sha(src);
  const url = `http://127.0.0.1:${proxy.port}`;
  const [dirA, dirB] = [path.join(work, 'sg-a'), path.join(work, 'sg-b')];
  const a = await clientHome(work, 'a', url, dirA);
  const b = await clientHome(work, 'b', url, dirB);
  await mkdir(path.join(work, 'dav-b'));
  const ours: { secs: number; bytes: number; clientCpu: number; serverCpu: number }[] = [];
  const peer: typeof ours = [];
  for (let rep = 0; rep < REPS; rep += 1) {
    const name = `new-${rep}.bin`;
    await copyFile(src, path.join(dirA, name));
    await settleDisk();
    proxy.reset();
    let cpu0 = cpuSecs(gw.pid);
    const up = await client(a.home, ['sync']);
    const down = await client(b.home, ['sync']);
    expectSynced(up, 'upload');
    expectSynced(down, 'download');
    ours.push({ secs: up.secs + down.secs, bytes: proxy.up + proxy.down, clientCpu: up.cpu + down.cpu, serverCpu: cpuSecs(gw.pid) - cpu0 });
    if ((await sha(path.join(dirB, name))) !== want) throw new Error('B does not hold the file');
    console.log(`   syncgate #${rep + 1}: upload ${up.secs.toFixed(2)} s (CPU ${up.cpu.toFixed(2)} s, peak RSS ${(up.maxRssKiB / 1024).toFixed(0)} MB), download ${down.secs.toFixed(2)} s (CPU ${down.cpu.toFixed(2)} s, peak RSS ${(down.maxRssKiB / 1024).toFixed(0)} MB)`);

    await settleDisk();
    proxy.reset();
    cpu0 = cpuSecs(gw.pid);
    const dav = `${url}/dav/default/dav-${rep}.bin`;
    const curl = ['-s', '-f', '-u', `${USER}:${PASS}`, '-H', 'Expect:'];
    const put = await timed('curl', [...curl, '-T', src, '-o', '/dev/null', dav]);
    const get = await timed('curl', [...curl, '-o', path.join(work, 'dav-b', name), dav]);
    peer.push({ secs: put.secs + get.secs, bytes: proxy.up + proxy.down, clientCpu: put.cpu + get.cpu, serverCpu: cpuSecs(gw.pid) - cpu0 });
    if ((await sha(path.join(work, 'dav-b', name))) !== want) throw new Error('WebDAV GET did not return the file');
    console.log(`   WebDAV   #${rep + 1}: PUT ${put.secs.toFixed(2)} s, GET ${get.secs.toFixed(2)} s`);
    await rm(path.join(work, 'dav-b', name));
  }
  const med = (xs: typeof ours, k: keyof (typeof ours)[0]) => median(xs.map((x) => x[k]));
  printRow('throughput A -> B (MB/s, median)', SIZE / 1e6 / med(ours, 'secs'), SIZE / 1e6 / med(peer, 'secs'), 'MB/s', 'WebDAV', { min: 0.8 });
  printRow('wall time A -> B (median)', med(ours, 'secs'), med(peer, 'secs'), 's', 'WebDAV');
  printRow('bytes on the wire (both ways)', med(ours, 'bytes'), med(peer, 'bytes'), 'bytes', 'WebDAV');
  printRow('CPU, clients (user+sys)', med(ours, 'clientCpu'), med(peer, 'clientCpu'), 's', 'WebDAV');
  printRow('CPU, gateway (user+sys)', med(ours, 'serverCpu'), med(peer, 'serverCpu'), 's', 'WebDAV');
  printLoad();
} finally {
  await proxy.close();
  await gw.stop();
  if (process.env.BENCH_KEEP === '1') console.log(`   kept ${work}`);
  else await rm(work, { recursive: true, force: true });
}
