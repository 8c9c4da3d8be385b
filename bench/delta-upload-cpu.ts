/**
 * The gateway's CPU for one delta upload (POST /sync/v1/roots/:root/patch) of a BENCH_MIB file
 * (default 1024), this checkout against another (BENCH_OLD=/path, a checkout with node_modules),
 * rounds interleaved in alternating order, a fresh gateway (`npm start` defaults) per run, the
 * same input for both: a random file, edited as bench/sync-delta edits it (1 MiB inserted in the
 * middle, 10 x 4 KiB overwritten). Printed per run: the gateway's CPU per patched GiB (every
 * thread, schedstat) until the answer and with BENCH_AFTER_MS (2000) after it (idle removed), the
 * event loop's share, user and system seconds, the bytes and calls of its reads and writes
 * (/proc/PID/io: a second pass over the file shows there), and the machine's reclaim counters.
 *   BENCH_OLD=/work/wt/old-dc496b5 BENCH_MIB=1024 BENCH_REPS=3 npx tsx bench/delta-upload-cpu.ts
 * Modes:
 *   default            the first version sent as the client sends a new big file (a resumable
 *                      upload; BENCH_FIRST=put: one PUT), read once whole (B's first download), its
 *                      signature asked for twice (cached), then the delta alone: the client engine's
 *                      (BENCH_DELTA=rdiff: rdiff's) with the SHA-256 after it (trailer=sha256).
 *   BENCH_MODE=client  bench/sync-delta's syncgate part without rsync: A's `client sync` (this
 *                      checkout's client; BENCH_CLIENT=own: each build's own) is the timed part.
 *   BENCH_FLOOR=1      adds, per round, the floor of any patch here in this process: the basis read
 *                      in 2 MiB pieces, hashed while written to a new file, synced as the gateway does.
 * BENCH_NODE_FLAGS reach the gateways (--cpu-prof --cpu-prof-dir=DIR); BENCH_PERF=DIR records the
 * gateway during the patch with `perf record -g`; BENCH_KEEP=1 keeps the files.
 * On this machine (a Firecracker VM, 2 vCPUs shared by several sessions) the system time of writing
 * 1 GiB of new page cache swings 0.5-3 s with the machine's memory state, whichever build runs:
 * compare user time, bytes and calls first, and total CPU only over many interleaved rounds.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { appendFile, copyFile, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { delta, fileSource, readSignature } from '../src/delta/index.js';
import { median, REPO, settleDisk, writeRandomFile } from './lib/measure.js';
import { startSyncgateHttp } from './lib/http-peers.js';
import { client, clientHome, expectSynced, PASS, procUsage, sleep, stopProc, timed, usageSince, USER, type Timed } from './lib/sync-peers.js';

const MIB = 1 << 20;
const SIZE = Number(process.env.BENCH_MIB ?? 1024) * MIB;
const REPS = Number(process.env.BENCH_REPS ?? 3);
const AFTER_MS = Number(process.env.BENCH_AFTER_MS ?? 2000);
const OLD = process.env.BENCH_OLD ? path.resolve(process.env.BENCH_OLD) : null;

/** CPU nanoseconds of every live thread of `pid` (the thread pool's included). */
function cpuNs(pid: number, only?: number): number {
  let ns = 0;
  for (const t of only ? [String(only)] : readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // a thread that ended
    }
  }
  return ns;
}

/** /proc/vmstat counters that tell where a write's kernel time may go: reclaim done by the writer, compaction, page faults. */
const VMSTAT = ['allocstall_normal', 'allocstall_movable', 'pgscan_direct', 'pgsteal_direct', 'compact_stall', 'pgfault'];
function vmstat(): Record<string, number> {
  const all = Object.fromEntries(readFileSync('/proc/vmstat', 'utf8').trim().split('\n').map((l) => l.split(' ')).map(([k, v]) => [k!, Number(v)]));
  return Object.fromEntries(VMSTAT.map((k) => [k, all[k] ?? 0]));
}
const vmDelta = (a: Record<string, number>, b: Record<string, number>) => VMSTAT.map((k) => `${k} ${b[k]! - a[k]!}`).join(', ');
const memFreeMiB = () => Number(/^MemFree:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) / 1024;

/** `perf record -g` of `pid` into `out` until the returned function is called (BENCH_PERF=DIR). */
async function recordPerf(pid: number, out: string): Promise<() => Promise<void>> {
  const p = spawn('perf', ['record', '-F', '499', '-g', '-p', String(pid), '-o', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve) => {
    const poll = () => (existsSync(out) ? resolve() : setTimeout(poll, 20)); // attached once its file is there
    poll();
  });
  return async () => {
    p.kill('SIGINT');
    await new Promise((r) => p.once('close', r));
  };
}

async function sha(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(file, { highWaterMark: 4 * MIB })) h.update(c as Buffer);
  return h.digest('hex');
}

/** An HTTP request with a file (or nothing) as its body; resolves with the status and the JSON body. */
function send(url: string, method: string, headers: Record<string, string>, file?: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: file ? { ...headers, 'content-length': String(statSync(file).size) } : headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    if (file) pipeline(createReadStream(file, { highWaterMark: MIB }), req).catch(reject);
    else req.end();
  });
}

interface Figures {
  /** ms of gateway CPU per patched GiB: until the answer, and the whole (answer + after, idle removed). */
  untilAnswer: number;
  whole: number;
  /** The main thread's (the event loop's) share of untilAnswer. */
  mainThread: number;
  /** ms of gateway CPU for the cached signature asked for again (A's client asks before its delta). */
  sigMs: number;
  secs: number;
}

/**
 * The body A's client sends: the delta its engine makes from the gateway's signature (as
 * src/client/send.ts does: runs trusted on their weak sums), then the result's SHA-256. Made once,
 * from the first gateway's signature; BENCH_DELTA=rdiff takes rdiff's delta instead.
 */
async function makeUpload(sig: Buffer, edited: string, editedSha: string, upload: string): Promise<void> {
  if (existsSync(upload)) return;
  if (process.env.BENCH_DELTA === 'rdiff') {
    const sigFile = `${upload}.sig`;
    await writeFile(sigFile, sig);
    execFileSync('rdiff', ['delta', sigFile, edited, upload]);
  } else {
    const fh = await open(edited, 'r');
    try {
      await pipeline(Readable.from(delta(await readSignature(Readable.from([sig])), fileSource(fh), { trustRuns: true })), createWriteStream(upload));
    } finally {
      await fh.close();
    }
  }
  await appendFile(upload, Buffer.from(editedSha, 'hex'));
}

async function oneRun(repo: string, work: string, orig: string, origSha: string, edited: string, upload: string, editedSha: string): Promise<Figures> {
  const data = path.join(work, `sg-data-${path.basename(repo)}`);
  await rm(data, { recursive: true, force: true });
  const { proc, origin } = await startSyncgateHttp(data, PASS, { label: path.basename(repo), env: {}, repo });
  try {
    const pid = proc.pid!;
    const login = await fetch(`${origin}/sync/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ uuid: crypto.randomUUID(), name: 'bench', user: USER, password: PASS }) });
    const { token } = (await login.json()) as { token: string };
    const auth = { authorization: `Bearer ${token}` };
    // The first upload as the client sends a new big file: a resumable upload, hashed as it is sent
    // (the hash named at the end); BENCH_FIRST=put sends it whole instead.
    const mtime = Math.trunc(statSync(orig).mtimeMs);
    let first: { status: number; body: unknown };
    if (process.env.BENCH_FIRST === 'put') first = await send(`${origin}/sync/v1/roots/default/file?path=big.bin&sha256=${origSha}&mtime=${mtime}`, 'PUT', auth, orig);
    else {
      const made = await send(`${origin}/sync/v1/roots/default/uploads?path=big.bin&mtime=${mtime}&length=${SIZE}`, 'POST', auth);
      const id = (made.body as { id: string }).id;
      const sent = await send(`${origin}/sync/v1/roots/default/uploads/${id}?offset=0`, 'PATCH', { ...auth, 'content-type': 'application/offset+octet-stream' }, orig);
      if (sent.status !== 200) throw new Error(`append: ${sent.status} ${JSON.stringify(sent.body)}`);
      first = await send(`${origin}/sync/v1/roots/default/uploads/${id}/finish?sha256=${origSha}`, 'POST', auth);
    }
    if (first.status !== 200) throw new Error(`first upload: ${first.status} ${JSON.stringify(first.body)}`);
    const base = (first.body as { entry: { version: number } }).entry.version;
    // As in bench/sync-delta: B downloads the first version, the bench asks for the head's signature
    // (computed now, then cached), and A's sync asks for it again before it sends its delta.
    const got = await fetch(`${origin}/sync/v1/roots/default/file?path=big.bin`, { headers: auth });
    for await (const _ of got.body!) void _;
    const signature = async () => {
      const sig = await fetch(`${origin}/sync/v1/roots/default/signature?path=big.bin`, { headers: auth });
      return Buffer.from(await sig.arrayBuffer());
    };
    await makeUpload(await signature(), edited, editedSha, upload);
    await settleDisk();
    const s0 = cpuNs(pid);
    await signature();
    const sigMs = (cpuNs(pid) - s0) / 1e6;
    const i0 = cpuNs(pid);
    await sleep(AFTER_MS);
    const idle = cpuNs(pid) - i0;
    const perf = process.env.BENCH_PERF ? await recordPerf(pid, path.join(process.env.BENCH_PERF, `perf-${path.basename(repo)}-${Date.now()}.data`)) : null;
    const usage0 = procUsage(pid);
    const vm0 = vmstat();
    const free0 = memFreeMiB();
    const m0 = cpuNs(pid, pid);
    const c0 = cpuNs(pid);
    const t0 = performance.now();
    const res = await send(`${origin}/sync/v1/roots/default/patch?path=big.bin&base=${base}&trailer=sha256&mtime=${Math.trunc(statSync(edited).mtimeMs)}`, 'POST', auth, upload);
    const secs = (performance.now() - t0) / 1000;
    const c1 = cpuNs(pid);
    const m1 = cpuNs(pid, pid);
    await perf?.();
    console.log(`    gateway: ${usageSince(usage0, procUsage(pid))}; delta ${statSync(upload).size} bytes; machine: MemFree ${free0.toFixed(0)} MiB before, ${vmDelta(vm0, vmstat())}`);
    await sleep(AFTER_MS);
    const c2 = cpuNs(pid);
    const entry = (res.body as { entry?: { sha256: string; version: number } }).entry;
    if (res.status !== 200 || entry?.sha256 !== editedSha || entry.version !== base + 1) throw new Error(`patch: ${res.status} ${JSON.stringify(res.body)}`);
    const perGiB = (ns: number) => ns / 1e6 / (SIZE / (1 << 30));
    return { untilAnswer: perGiB(c1 - c0), whole: perGiB(c2 - c0 - idle), mainThread: perGiB(m1 - m0), sigMs, secs };
  } finally {
    await stopProc(proc);
  }
}

/**
 * BENCH_MODE=client: bench/sync-delta's syncgate part as it runs, with this checkout's client for
 * every build: A uploads the file, B downloads it, the bench asks for the signature, then A's
 * `client sync` sends the edit (timed: the gateway's CPU and I/O over A's whole run).
 * BENCH_CLIENT=own: each build's own client instead (as bench/sync-delta run from each checkout).
 */
async function clientRun(repo: string, work: string, orig: string, edited: string): Promise<Figures> {
  const own = process.env.BENCH_CLIENT === 'own' && repo !== REPO;
  const sync = async (home: string, what: string): Promise<Timed> => {
    const t = own ? await timed(process.execPath, [path.join(repo, 'bin/syncgate.js'), 'client', 'sync'], { ...process.env, SYNCGATE_CLIENT_HOME: home }) : await client(home, ['sync']);
    expectSynced(t, what);
    return t;
  };
  const data = path.join(work, `sg-data-${path.basename(repo)}`);
  for (const d of [data, path.join(work, 'c')]) await rm(d, { recursive: true, force: true });
  const { proc, origin } = await startSyncgateHttp(data, PASS, { label: path.basename(repo), env: {}, repo });
  try {
    const pid = proc.pid!;
    const [dirA, dirB] = [path.join(work, 'c', 'a'), path.join(work, 'c', 'b')];
    const a = await clientHome(path.join(work, 'c'), 'a', origin, dirA);
    const b = await clientHome(path.join(work, 'c'), 'b', origin, dirB);
    await copyFile(orig, path.join(dirA, 'big.bin'));
    await sync(a.home, 'first upload');
    await sync(b.home, 'first download');
    const sig = await fetch(`${origin}/sync/v1/roots/default/signature?path=big.bin`, { headers: { authorization: `Bearer ${a.token}` } });
    await sig.arrayBuffer();
    await copyFile(edited, path.join(dirA, 'big.bin'));
    await settleDisk();
    const usage0 = procUsage(pid);
    const vm0 = vmstat();
    const free0 = memFreeMiB();
    const m0 = cpuNs(pid, pid);
    const c0 = cpuNs(pid);
    const up = await sync(a.home, 'delta upload');
    const usage1 = procUsage(pid);
    const c1 = cpuNs(pid);
    const m1 = cpuNs(pid, pid);
    console.log(`    gateway: ${usageSince(usage0, usage1)}; client CPU ${up.cpu.toFixed(2)} s; machine: MemFree ${free0.toFixed(0)} MiB before, ${vmDelta(vm0, vmstat())}`);
    const perGiB = (ns: number) => ns / 1e6 / (SIZE / (1 << 30));
    return { untilAnswer: perGiB(c1 - c0), whole: perGiB(c1 - c0), mainThread: perGiB(m1 - m0), sigMs: 0, secs: up.secs };
  } finally {
    await stopProc(proc);
  }
}

/**
 * The floor of any patch of this file, in this process: the basis read in 2 MiB pieces (pread, as
 * the patch's COPYs do), each piece hashed (SHA-256) while the pool writes it to a new file, a
 * datasync every 32 MiB beside the writes and one at the end: one read, one write, one hash.
 * CPU of every thread of this process, per GiB (BENCH_FLOOR=1 runs it in each round).
 */
async function floorRun(basis: string, work: string): Promise<Figures> {
  const out = path.join(work, 'floor.bin');
  const src = await open(basis, 'r');
  const dst = await open(out, 'w');
  const bufs = [Buffer.allocUnsafe(2 * MIB), Buffer.allocUnsafe(2 * MIB)];
  const h = createHash('sha256');
  const m0 = cpuNs(process.pid, process.pid);
  const c0 = cpuNs(process.pid);
  const t0 = performance.now();
  try {
    let flushedAt = 0;
    let flushing: Promise<void> | null = null;
    let next = src.read(bufs[0]!, 0, 2 * MIB, 0);
    for (let pos = 0, turn = 0; ; turn ^= 1) {
      const { bytesRead } = await next;
      if (bytesRead === 0) break;
      const piece = bufs[turn]!.subarray(0, bytesRead);
      next = src.read(bufs[turn ^ 1]!, 0, 2 * MIB, pos + bytesRead);
      const w = dst.write(piece, 0, bytesRead, pos);
      h.update(piece);
      await w;
      pos += bytesRead;
      if (!flushing && pos - flushedAt >= 32 * MIB) {
        flushedAt = pos;
        flushing = dst.datasync().finally(() => void (flushing = null));
      }
    }
    await flushing;
    await dst.datasync();
    h.digest('hex');
  } finally {
    await src.close();
    await dst.close();
    await rm(out, { force: true });
  }
  const perGiB = (ns: number) => ns / 1e6 / (SIZE / (1 << 30));
  const c = cpuNs(process.pid) - c0;
  return { untilAnswer: perGiB(c), whole: perGiB(c), mainThread: perGiB(cpuNs(process.pid, process.pid) - m0), sigMs: 0, secs: (performance.now() - t0) / 1000 };
}

const work = await mkdtemp(path.join(process.env.BENCH_DIR ?? os.tmpdir(), 'bench-delta-upload-cpu-'));
try {
  const orig = path.join(work, 'orig.bin');
  const edited = path.join(work, 'edited.bin');
  await writeRandomFile(orig, SIZE);
  // As bench/sync-delta: 1 MiB inserted at the middle, then 4 KiB overwritten at 10 spread places.
  const mid = Math.floor(SIZE / 2) + 777;
  execFileSync('sh', ['-c', `head -c ${mid} ${orig} > ${edited} && head -c ${MIB} /dev/urandom >> ${edited} && tail -c +${mid + 1} ${orig} >> ${edited}`]);
  for (let i = 0; i < 10; i += 1) execFileSync('dd', [`if=/dev/urandom`, `of=${edited}`, 'bs=4096', 'count=1', 'conv=notrunc', 'oflag=seek_bytes', `seek=${Math.floor(((i + 0.5) * (SIZE + MIB)) / 10)}`], { stdio: 'ignore' });
  const [origSha, editedSha] = [await sha(orig), await sha(edited)];
  const upload = path.join(work, 'upload.bin');
  console.log(`delta-upload-cpu: ${SIZE / MIB} MiB, delta by ${process.env.BENCH_DELTA === 'rdiff' ? 'rdiff' : "the client's engine"}, ${REPS} rounds, after ${AFTER_MS} ms; this checkout ${REPO}${OLD ? `, old ${OLD}` : ''}`);
  const builds = [REPO, ...(OLD ? [OLD] : []), ...(process.env.BENCH_FLOOR === '1' ? ['floor'] : [])];
  const results = new Map<string, Figures[]>(builds.map((b) => [b, []]));
  for (let rep = 0; rep < REPS; rep += 1) {
    for (const b of rep % 2 === 0 ? builds : [...builds].reverse()) {
      const f = b === 'floor' ? await floorRun(orig, work) : process.env.BENCH_MODE === 'client' ? await clientRun(b, work, orig, edited) : await oneRun(b, work, orig, origSha, edited, upload, editedSha);
      results.get(b)!.push(f);
      console.log(`  round ${rep + 1} ${b}: until answer ${f.untilAnswer.toFixed(0)} ms/GiB (main thread ${f.mainThread.toFixed(0)}), with after ${f.whole.toFixed(0)} ms/GiB, signature again ${f.sigMs.toFixed(0)} ms, ${f.secs.toFixed(2)} s (load ${os.loadavg()[0]!.toFixed(2)})`);
    }
  }
  console.log(`gateway CPU per patched GiB (ms, every thread), medians of ${REPS}; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const [b, fs] of results) {
    const m = (k: keyof Figures) => median(fs.map((f) => f[k]));
    console.log(`  ${b.padEnd(28)} until answer ${m('untilAnswer').toFixed(0).padStart(5)} (main thread ${m('mainThread').toFixed(0).padStart(5)})  with after ${m('whole').toFixed(0).padStart(5)}  signature again ${m('sigMs').toFixed(0)} ms  wall ${m('secs').toFixed(2)} s`);
  }
} finally {
  if (process.env.BENCH_KEEP === '1') console.log(`kept ${work}`);
  else await rm(work, { recursive: true, force: true });
}
