/**
 * Sync row "memory" (issue 25), two parts, each selectable (BENCH_PART=client|gateway, default both):
 * - client: BENCH_FILES (default 100,000) files of 64 bytes in a linked folder. Peak RSS of the first
 *   `syncgate client sync` (uploads them all), of a second one (nothing to do), and RSS of
 *   `client sync --watch` once it is watching and idle. Target: <= 200 MB.
 * - gateway: BENCH_DEVICES (default 50) devices logged in, each with a WebSocket subscribed to the root
 *   from its cursor (as `client sync --watch` does). Gateway RSS before, idle with them connected, and
 *   peak during a burst of BENCH_BURST (default 1,000) small WebDAV PUTs, each change pushed to every
 *   socket (the bench checks every socket got every change).
 * Usage: npm run bench -- sync-memory      BENCH_QUICK=1 (10,000 files, 1,000-file burst)   BENCH_PART=client|gateway
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { Api } from '../src/client/api.js';
import { procStatusKiB, REPO } from './lib/measure.js';
import { basicAuth } from './lib/http-peers.js';
import { client, clientHome, cpuSecs, PASS, printLoad, printSettings, QUICK, sleep, startGateway, until, USER } from './lib/sync-peers.js';

const FILES = Number(process.env.BENCH_FILES ?? (QUICK ? 10_000 : 100_000));
const DEVICES = Number(process.env.BENCH_DEVICES ?? 50);
const BURST = Number(process.env.BENCH_BURST ?? 1000);
const PART = process.env.BENCH_PART ?? 'both';
const MB = (kib: number) => `${(kib / 1024).toFixed(0)} MB`;

async function clientMemory(work: string): Promise<void> {
  const gw = await startGateway(work);
  try {
    const dir = path.join(work, 'many');
    const { home } = await clientHome(work, 'many', gw.origin, dir);
    // 100 folders of FILES/100 files: a tree as a user's has, not one huge folder.
    for (let d = 0; d < 100; d += 1) {
      await mkdir(path.join(dir, `d${d}`), { recursive: true });
      for (let i = 0; i < FILES / 100; i += 1) await writeFile(path.join(dir, `d${d}`, `f${i}.txt`), `file ${d}/${i} ${randomUUID()}\n`.padEnd(64, '.'));
    }
    const first = await client(home, ['sync']);
    console.log(`   first sync (uploads ${FILES} files): ${first.secs.toFixed(1)} s, CPU ${first.cpu.toFixed(1)} s, peak RSS ${MB(first.maxRssKiB)}   (target <= 200 MB)`);
    console.log(`     ${first.stdout.trim().split('\n').pop()}`);
    const again = await client(home, ['sync']);
    console.log(`   second sync (nothing changed): ${again.secs.toFixed(1)} s, CPU ${again.cpu.toFixed(1)} s, peak RSS ${MB(again.maxRssKiB)}   (target <= 200 MB)`);
    const watch = spawn(process.execPath, [path.join(REPO, 'bin/syncgate.js'), 'client', 'sync', '--watch'], { env: { ...process.env, SYNCGATE_CLIENT_HOME: home }, stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const t0 = performance.now();
      await new Promise<void>((resolve, reject) => {
        watch.stdout!.on('data', (d) => String(d).includes('watching') && resolve());
        watch.once('exit', (c) => reject(new Error(`client sync --watch exited (${c})`)));
      });
      await sleep(5000);
      console.log(`   sync --watch: watching after ${((performance.now() - t0) / 1000).toFixed(1)} s; idle 5 s later RSS ${MB(procStatusKiB(watch.pid!, 'VmRSS'))}, peak ${MB(procStatusKiB(watch.pid!, 'VmHWM'))}   (target <= 200 MB)`);
    } finally {
      watch.kill('SIGTERM');
      await new Promise((r) => (watch.exitCode !== null ? r(null) : watch.once('exit', r)));
    }
  } finally {
    await gw.stop();
  }
}

async function gatewayMemory(work: string): Promise<void> {
  const gw = await startGateway(work);
  const sockets: WebSocket[] = [];
  try {
    const put = (p: string, body: string) => fetch(`${gw.origin}/dav/default/${p}`, { method: 'PUT', headers: { authorization: basicAuth(USER, PASS) }, body });
    await fetch(`${gw.origin}/dav/default/burst/`, { method: 'MKCOL', headers: { authorization: basicAuth(USER, PASS) } });
    await sleep(1000);
    const before = procStatusKiB(gw.pid, 'VmRSS');
    const got: number[] = [];
    const cursor = (await (await fetch(`${gw.origin}/sync/v1/roots`, { headers: { authorization: `Bearer ${(await login(gw.origin, 'probe')).token}` } })).json()) as { roots: { name: string; seq: number }[] };
    const after = cursor.roots.find((r) => r.name === 'default')!.seq;
    for (let i = 0; i < DEVICES; i += 1) {
      const { token } = await login(gw.origin, `dev-${i}`);
      const ws = new WebSocket(`${gw.origin.replace(/^http/, 'ws')}/sync/v1/ws`, { headers: { authorization: `Bearer ${token}` } });
      got.push(0);
      let live = false;
      ws.on('message', (d) => {
        const m = JSON.parse(String(d)) as { type: string; changes?: unknown[] };
        if (m.type === 'live') live = true;
        if (m.type === 'changes') got[i] = (got[i] ?? 0) + m.changes!.length;
      });
      await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
      ws.send(JSON.stringify({ type: 'subscribe', root: 'default', after }));
      await until(() => live, 30_000, `device ${i} to be live`);
      sockets.push(ws);
    }
    await sleep(3000);
    const idle = procStatusKiB(gw.pid, 'VmRSS');
    console.log(`   gateway RSS: before ${MB(before)}, ${DEVICES} devices subscribed and idle ${MB(idle)} (${((idle - before) / DEVICES).toFixed(0)} KiB per device)`);
    let peak = idle;
    const poll = setInterval(() => (peak = Math.max(peak, procStatusKiB(gw.pid, 'VmRSS'))), 20);
    const cpu0 = cpuSecs(gw.pid);
    const t0 = performance.now();
    const body = 'x'.repeat(4096);
    let next = 0;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < BURST) {
        const r = await put(`burst/f${next++}.txt`, body);
        if (r.status >= 300) throw new Error(`PUT: HTTP ${r.status}`);
      }
    }));
    // Each PUT is one change (or a few): wait until every socket has at least BURST changes.
    await until(() => got.every((n) => n >= BURST), 120_000, 'every device to get the burst');
    const secs = (performance.now() - t0) / 1000;
    clearInterval(poll);
    const cpu = cpuSecs(gw.pid) - cpu0;
    console.log(`   burst of ${BURST} PUTs of 4 KiB (4 at a time), pushed to ${DEVICES} sockets: ${secs.toFixed(1)} s, gateway CPU ${cpu.toFixed(1)} s (${((cpu / BURST) * 1000).toFixed(1)} ms per change), RSS peak ${MB(peak)}, VmHWM ${MB(procStatusKiB(gw.pid, 'VmHWM'))}`);
    await sleep(3000);
    console.log(`   gateway RSS 3 s after the burst: ${MB(procStatusKiB(gw.pid, 'VmRSS'))}`);
  } finally {
    for (const ws of sockets) ws.terminate();
    await gw.stop();
  }
}

async function login(origin: string, name: string): Promise<{ token: string }> {
  return new Api(origin, null).login({ uuid: randomUUID(), name, user: USER, password: PASS });
}

const work = await mkdtemp(path.join(process.env.BENCH_DIR ?? os.tmpdir(), 'bench-sync-mem-'));
try {
  printSettings('sync-memory: client RSS with many files linked; gateway RSS with many devices connected', {
    part: PART, files: FILES, devices: DEVICES, burst: BURST, gateway: 'defaults (npm start), own process',
  });
  if (PART !== 'gateway') await clientMemory(work);
  if (PART !== 'client') await gatewayMemory(work);
  printLoad();
} finally {
  if (process.env.BENCH_KEEP === '1') console.log(`   kept ${work}`);
  else await rm(work, { recursive: true, force: true });
}
