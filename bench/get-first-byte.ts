/**
 * WebDAV GET of a big file, time to the first byte, measured as bench/webdav.ts measures it (the row
 * "GET 1 GiB, first byte"): curl's time_starttransfer, a new curl process and connection with Basic
 * credentials, the GET sent right after the PUT of the same file, the disk settled (sync) before each
 * PUT; syncgate with the defaults `npm start` runs, Apache mod_dav beside it in every round. Only this
 * row, so it can be repeated in seconds instead of the whole bench's minutes. Also prints curl's
 * connect and pretransfer times (what the client spent before the request went out) and the
 * server's share: starttransfer - pretransfer. Usage: npx tsx bench/get-first-byte.ts
 *   BENCH_REPS_BIG (default 5)   rounds            BENCH_BIG_MIB (default 1024)   file size
 *   BENCH_NO_APACHE=1            syncgate only     SYNCGATE_B=/path/to/other/checkout: that build too
 * To see where a GET's time goes: BENCH_STRACE=FILE (strace -f -tt -T of the gateway), BENCH_PERF=FILE
 * (perf record at 20 kHz or BENCH_PERF_EVENT, monotonic clock; FILE.B for build B; with BENCH_NODE_FLAGS="--perf-basic-prof
 * --interpreted-frames-native-stack" for JavaScript names), BENCH_KEEP_LOG=FILE (the gateway's log,
 * e.g. with --trace-gc in BENCH_NODE_FLAGS). The main thread's CPU per GET, which holds on a loaded
 * machine where the wall times do not: BENCH_PERF_EVENT="-e task-clock -c 50000 -e
 * syscalls:sys_enter_accept4 -e syscalls:sys_enter_write" (a sample per 50 µs of CPU), then count
 * the gateway's main-thread samples between the second accept4 of each round (PUT, GET, DELETE) and
 * its next write to a socket (not fd 1 or 2, nor --perf-basic-prof's map file): the GET's headers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { basicAuth, startApacheDav, startSyncgateHttp, stopServers, waitForHttp } from './lib/http-peers.js';
import { BUILD_B, exec, fmt, median, settleDisk, writeRandomFile } from './lib/measure.js';

const REPS = Number(process.env.BENCH_REPS_BIG ?? 5);
const BIG = Number(process.env.BENCH_BIG_MIB ?? 1024) * 1024 * 1024;
const USER = 'admin';
const PASS = 'bench-password-1';
const CURL = ['-s', '-u', `${USER}:${PASS}`, '-H', 'Expect:'];

interface Peer {
  name: string;
  base: string;
  firstByte: number[];
  connect: number[];
  server: number[];
}

async function main(): Promise<void> {
  const load = os.loadavg();
  const work = await mkdtemp(path.join(os.tmpdir(), 'syncgate-bench-fb-'));
  const procs: ChildProcess[] = [];
  const peers: Peer[] = [];
  const peer = (name: string, base: string): Peer => ({ name, base, firstByte: [], connect: [], server: [] });
  try {
    const big = path.join(work, 'big.bin');
    await writeRandomFile(big, BIG);
    const sg = await startSyncgateHttp(path.join(work, 'sg'), PASS);
    procs.push(sg.proc);
    await waitForHttp(`${sg.origin}/dav/default/`, { method: 'PROPFIND', headers: { depth: '0', authorization: basicAuth(USER, PASS) } });
    peers.push(peer('syncgate', `${sg.origin}/dav/default`));
    // BENCH_STRACE=FILE: the gateway's system calls, timed (strace -f -tt -T), for reading where a GET waits.
    if (process.env.BENCH_STRACE) {
      const st = spawn('strace', ['-f', '-tt', '-T', '-s', '80', '-o', process.env.BENCH_STRACE, '-p', String(sg.proc.pid)], { stdio: 'ignore' });
      procs.push(st);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const perf = async (pid: number, file: string) => {
      const what = process.env.BENCH_PERF_EVENT?.split(' ') ?? ['-F', '20000', '-g'];
      procs.push(spawn('perf', ['record', ...what, '-k', 'CLOCK_MONOTONIC', '-o', file, '-p', String(pid)], { stdio: 'ignore' }));
      await new Promise((r) => setTimeout(r, 1000));
    };
    // BENCH_PERF=FILE: perf samples of the gateway (monotonic clock, to be cut to the GETs' windows).
    if (process.env.BENCH_PERF) await perf(sg.proc.pid!, process.env.BENCH_PERF);
    if (BUILD_B) {
      const b = await startSyncgateHttp(path.join(work, 'sg-b'), PASS, BUILD_B);
      procs.push(b.proc);
      await waitForHttp(`${b.origin}/dav/default/`, { method: 'PROPFIND', headers: { depth: '0', authorization: basicAuth(USER, PASS) } });
      peers.push(peer('build-B', `${b.origin}/dav/default`));
      if (process.env.BENCH_PERF) await perf(b.proc.pid!, `${process.env.BENCH_PERF}.B`);
    }
    if (process.env.BENCH_NO_APACHE !== '1') {
      await mkdir(path.join(work, 'ap'));
      const ap = await startApacheDav(path.join(work, 'ap'), work, USER, PASS);
      procs.push(ap.proc);
      peers.push(peer('apache', ap.origin));
    }
    console.log(`GET first byte after a ${BIG / 1048576} MiB PUT, ${REPS} rounds; load average at start ${load.map((l) => l.toFixed(2)).join(' ')}`);
    for (let rep = 0; rep < REPS; rep += 1) {
      for (const p of peers) {
        await settleDisk();
        const url = `${p.base}/big-${rep}.bin`;
        await exec('curl', [...CURL, '-o', '/dev/null', '-T', big, url]);
        const out = await exec('curl', [...CURL, '-o', '/dev/null', '-w', '%{http_code} %{time_connect} %{time_pretransfer} %{time_starttransfer}', url]);
        const [code, connect, pre, first] = out.trim().split(' ').map(Number) as [number, number, number, number];
        if (code !== 200) throw new Error(`${p.name} GET: HTTP ${code}`);
        p.firstByte.push(first * 1000);
        p.connect.push(connect * 1000);
        p.server.push((first - pre) * 1000);
        await exec('curl', [...CURL, '-o', '/dev/null', '-X', 'DELETE', url]);
      }
      console.log(`  round ${rep + 1}: ${peers.map((p) => `${p.name} ${fmt(p.firstByte.at(-1)!)} ms (server ${fmt(p.server.at(-1)!)})`).join(', ')}; load ${os.loadavg()[0]!.toFixed(2)}`);
    }
    console.log('\n| server | first byte, median (ms) | every run (ms) | connect (ms) | request sent to first byte (ms) |\n|---|---|---|---|---|');
    for (const p of peers) {
      console.log(`| ${p.name} | ${fmt(median(p.firstByte))} | ${p.firstByte.map((x) => fmt(x)).join(', ')} | ${fmt(median(p.connect))} | ${fmt(median(p.server))} |`);
    }
    console.log(`load average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    await stopServers(procs);
    if (process.env.BENCH_KEEP_LOG) await copyFile(path.join(work, 'sg.log'), process.env.BENCH_KEEP_LOG).catch(() => {});
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
