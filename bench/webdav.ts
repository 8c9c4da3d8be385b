/**
 * WebDAV benchmark: syncgate's door against `rclone serve webdav` (Debian), in the same run, with
 * curl as the client. Prints medians and syncgate/rclone ratios (for PROPFIND, time ratios: lower
 * is better). Usage: npx tsx bench/webdav.ts
 *   BENCH_REPS_BIG (default 5)  runs of the 1 GiB PUT and GET      BENCH_BIG_MIB (default 1024)
 *   BENCH_REPS (default 5)      runs of the 1,000 x 4 KiB PUTs     BENCH_ENTRIES (default 10000)
 *   BENCH_REPS_PROPFIND (default 11)
 * The issue's reference figures are medians of 25 runs; fewer runs are the default here to keep a
 * whole run within a few minutes on a shared machine.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPS_BIG = Number(process.env.BENCH_REPS_BIG ?? 5);
const REPS = Number(process.env.BENCH_REPS ?? 5);
const REPS_PROPFIND = Number(process.env.BENCH_REPS_PROPFIND ?? 11);
const BIG = Number(process.env.BENCH_BIG_MIB ?? 1024) * 1024 * 1024;
const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 10_000);
const SMALL = 1000;
const USER = 'admin';
const PASS = 'bench-password-1';
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Server {
  name: string;
  base: string;
  proc: ChildProcess;
  rssStartKiB: number;
  results: Record<string, number[]>;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function sh(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} failed: ${stderr || err.message}`)) : resolve(stdout))),
  );
}

const curlBase = ['-s', '-u', `${USER}:${PASS}`, '-H', 'Expect:'];
async function curlTime(args: string[]): Promise<{ code: number; secs: number }> {
  const out = await sh('curl', [...curlBase, '-o', '/dev/null', '-w', '%{http_code} %{time_total}', ...args]);
  const [code, secs] = out.trim().split(' ');
  return { code: Number(code), secs: Number(secs) };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function waitFor(url: string, auth = false): Promise<void> {
  for (let i = 0; i < 600; i += 1) {
    try {
      const r = await fetch(url, { method: auth ? 'PROPFIND' : 'GET', headers: auth ? { depth: '0', authorization: `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}` } : {} });
      if (r.status < 400) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not come up`);
}

async function statusKiB(pid: number, field: 'VmHWM' | 'VmRSS'): Promise<number> {
  const s = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN);
}

async function fillFolder(dir: string, n: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let i = 0; i < n; i += 1) await writeFile(path.join(dir, `entry-${String(i).padStart(5, '0')}.txt`), `entry ${i}\n`);
}

async function main(): Promise<void> {
  const loadStart = os.loadavg();
  const work = await mkdtemp(path.join(os.tmpdir(), 'syncgate-bench-dav-'));
  const servers: Server[] = [];
  const procs: ChildProcess[] = [];
  try {
    console.log(`preparing ${BIG / 1048576} MiB file, ${SMALL} small files, two ${ENTRIES}-entry folders in ${work}`);
    const big = path.join(work, 'big.bin');
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(big);
      const block = randomBytes(1 << 20);
      let left = BIG;
      const more = () => {
        while (left > 0) {
          const n = Math.min(left, block.length);
          left -= n;
          block[0] = left & 0xff; // blocks differ a little: no trivially repeating content
          if (!out.write(Buffer.from(block.subarray(0, n)))) return void out.once('drain', more);
        }
        out.end(resolve);
      };
      out.on('error', reject);
      more();
    });
    const small = path.join(work, 'small');
    await mkdir(small);
    for (let i = 0; i < SMALL; i += 1) await writeFile(path.join(small, `f${i}.bin`), randomBytes(4096));
    const sgData = path.join(work, 'sg');
    await fillFolder(path.join(sgData, 'roots', 'default', 'listing'), ENTRIES);
    const rcDir = path.join(work, 'rc');
    await fillFolder(path.join(rcDir, 'listing'), ENTRIES);

    // syncgate as its own process, like an operator runs it.
    const sgPort = await freePort();
    const sg = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: repo,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        SYNCGATE_DATA__DIR: sgData,
        SYNCGATE_HTTP__HOST: '127.0.0.1',
        SYNCGATE_HTTP__PORT: String(sgPort),
        SYNCGATE_ADMIN__PASSWORD: PASS,
        SYNCGATE_LOG__LEVEL: 'warn',
        SYNCGATE_WATCHER__ENABLED: 'false',
        SYNCGATE_FTP__ENABLED: 'false',
      },
    });
    procs.push(sg);
    await waitFor(`http://127.0.0.1:${sgPort}/health`);
    await waitFor(`http://127.0.0.1:${sgPort}/dav/default/`, true);
    servers.push({ name: 'syncgate', base: `http://127.0.0.1:${sgPort}/dav/default`, proc: sg, rssStartKiB: await statusKiB(sg.pid!, 'VmRSS'), results: {} });

    const rcPort = await freePort();
    const rc = spawn('rclone', ['serve', 'webdav', rcDir, '--addr', `127.0.0.1:${rcPort}`, '--user', USER, '--pass', PASS, '--config', '/dev/null'], { stdio: 'ignore' });
    procs.push(rc);
    await waitFor(`http://127.0.0.1:${rcPort}/`, true);
    servers.push({ name: 'rclone', base: `http://127.0.0.1:${rcPort}`, proc: rc, rssStartKiB: await statusKiB(rc.pid!, 'VmRSS'), results: {} });

    const add = (s: Server, k: string, v: number) => (s.results[k] ??= []).push(v);
    const expectOk = (code: number, what: string) => {
      if (code < 200 || code >= 300) throw new Error(`${what}: HTTP ${code}`);
    };

    // 1 GiB PUT and GET (servers interleaved in every round: drift hits both alike).
    for (let rep = 0; rep < REPS_BIG; rep += 1) {
      for (const s of servers) {
        const put = await curlTime(['-T', big, `${s.base}/big-${rep}.bin`]);
        expectOk(put.code, `${s.name} PUT big`);
        add(s, 'put_MBps', BIG / put.secs / 1e6);
        const get = await curlTime([`${s.base}/big-${rep}.bin`]);
        expectOk(get.code, `${s.name} GET big`);
        add(s, 'get_MBps', BIG / get.secs / 1e6);
        await sh('curl', [...curlBase, '-o', '/dev/null', '-X', 'DELETE', `${s.base}/big-${rep}.bin`]);
      }
      process.stdout.write(`  big round ${rep + 1}/${REPS_BIG}\n`);
    }
    for (const s of servers) {
      add(s, 'rss_start_MiB', s.rssStartKiB / 1024);
      add(s, 'rss_peak_MiB', (await statusKiB(s.proc.pid!, 'VmHWM')) / 1024);
    }

    // 1,000 PUTs of 4 KiB: one connection, then 8 in parallel.
    for (let rep = 0; rep < REPS; rep += 1) {
      for (const s of servers) {
        for (const [mode, extra] of [['one', []], ['par8', ['--parallel', '--parallel-max', '8']]] as const) {
          const dir = `small-${mode}-${rep}`;
          await sh('curl', [...curlBase, '-o', '/dev/null', '-X', 'MKCOL', `${s.base}/${dir}/`]);
          const cfg = path.join(work, `curl-${s.name}-${dir}.cfg`);
          const lines: string[] = [];
          for (let i = 0; i < SMALL; i += 1) lines.push(`upload-file = "${path.join(small, `f${i}.bin`)}"`, `url = "${s.base}/${dir}/f${i}.bin"`, 'output = "/dev/null"');
          await writeFile(cfg, `${lines.join('\n')}\n`);
          const t0 = performance.now();
          await sh('curl', [...curlBase, ...extra, '-K', cfg]);
          const secs = (performance.now() - t0) / 1000;
          add(s, `small_${mode}_files_per_s`, SMALL / secs);
        }
      }
      process.stdout.write(`  small-file round ${rep + 1}/${REPS}\n`);
    }

    // PROPFIND Depth 1 (allprop: no body) on the large folder; then a small GET during one.
    for (let rep = 0; rep < REPS_PROPFIND; rep += 1) {
      for (const s of servers) {
        const r = await curlTime(['-X', 'PROPFIND', '-H', 'Depth: 1', `${s.base}/listing/`]);
        if (r.code !== 207) throw new Error(`${s.name} PROPFIND: HTTP ${r.code}`);
        add(s, 'propfind_ms', r.secs * 1000);
      }
    }
    for (const s of servers) {
      for (let rep = 0; rep < 5; rep += 1) {
        const listing = curlTime(['-X', 'PROPFIND', '-H', 'Depth: 1', `${s.base}/listing/`]);
        await new Promise((r) => setTimeout(r, 20));
        const get = await curlTime([`${s.base}/listing/entry-00001.txt`]);
        const l = await listing;
        add(s, 'get_during_propfind_ms', get.secs * 1000);
        add(s, 'propfind_concurrent_ms', l.secs * 1000);
      }
    }

    const [a, b] = servers as [Server, Server];
    const rows: [string, string, boolean][] = [
      ['put_MBps', 'PUT 1 GiB (MB/s)', true],
      ['get_MBps', 'GET 1 GiB (MB/s)', true],
      ['small_one_files_per_s', '1,000 x 4 KiB PUT, 1 connection (files/s)', true],
      ['small_par8_files_per_s', '1,000 x 4 KiB PUT, 8 parallel (files/s)', true],
      ['propfind_ms', `PROPFIND Depth 1, ${ENTRIES} entries (ms)`, false],
      ['rss_start_MiB', 'RSS after start (MiB)', false],
      ['rss_peak_MiB', 'peak RSS, after the 1 GiB transfers (MiB)', false],
      ['get_during_propfind_ms', 'small GET during a PROPFIND (ms)', false],
      ['propfind_concurrent_ms', 'that PROPFIND (ms)', false],
    ];
    console.log(`\nWebDAV benchmark, medians (1 GiB: ${REPS_BIG} runs, small files: ${REPS} runs, PROPFIND: ${REPS_PROPFIND} runs)`);
    console.log(`load average at start ${loadStart.map((x) => x.toFixed(1)).join(' ')}, now ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} (${os.cpus().length} CPUs)`);
    console.log(`${'measure'.padEnd(46)}${'syncgate'.padStart(12)}${'rclone'.padStart(12)}${'ratio'.padStart(10)}`);
    for (const [key, label, higherBetter] of rows) {
      const x = median(a.results[key] ?? []);
      const y = median(b.results[key] ?? []);
      const ratio = x / y;
      const note = key.startsWith('rss') || key.includes('concurrent') || key.includes('during') ? '' : higherBetter ? (ratio >= 1 ? '  ok' : '  below') : ratio <= 1 ? '  ok' : '  above';
      console.log(`${label.padEnd(46)}${x.toFixed(1).padStart(12)}${y.toFixed(1).padStart(12)}${ratio.toFixed(2).padStart(9)}x${note}`);
    }
    console.log(`\nraw: ${JSON.stringify(Object.fromEntries(servers.map((s) => [s.name, s.results])))}`);
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
