/**
 * REST benchmark: syncgate's REST API (/api/v1/roots/<root>/files/...) against `rclone serve webdav`
 * (Debian) serving a folder, in the same run, with curl as the client for both. Prints medians and
 * syncgate/rclone ratios. Usage: npx tsx bench/rest.ts
 *   BENCH_REPS_BIG (default 3)  runs of the 1 GiB PUT and GET     BENCH_BIG_MIB (default 1024)
 *   BENCH_REPS (default 3)      runs of 1,000 x 4 KiB PUTs and GETs (1 connection and 8 parallel)
 * Servers are interleaved in every round so that drift on the shared machine hits both alike.
 * The share-link download of the same 1 GiB file (part B) belongs in the big rounds, as another row.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPS_BIG = Number(process.env.BENCH_REPS_BIG ?? 3);
const REPS = Number(process.env.BENCH_REPS ?? 3);
const BIG = Number(process.env.BENCH_BIG_MIB ?? 1024) * 1024 * 1024;
const SMALL = 1000;
const USER = 'admin';
const PASS = 'bench-password-1';
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Server {
  name: string;
  /** URL of a file path: PUT/GET on it. */
  file: (p: string) => string;
  mkdir: (p: string) => Promise<void>;
  proc: ChildProcess;
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

async function waitFor(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<void> {
  for (let i = 0; i < 600; i += 1) {
    try {
      const r = await fetch(url, { method, headers });
      if (r.status < 400) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not come up`);
}

async function peakRssMiB(pid: number): Promise<number> {
  const s = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? NaN) / 1024;
}

async function writeBig(file: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(file);
    const block = randomBytes(1 << 20);
    let left = BIG;
    const more = () => {
      while (left > 0) {
        const n = Math.min(left, block.length);
        left -= n;
        block[0] = left & 0xff;
        if (!out.write(Buffer.from(block.subarray(0, n)))) return void out.once('drain', more);
      }
      out.end(resolve);
    };
    out.on('error', reject);
    more();
  });
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'syncgate-bench-rest-'));
  const servers: Server[] = [];
  const procs: ChildProcess[] = [];
  const auth = { authorization: `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}` };
  try {
    console.log(`preparing a ${BIG / 1048576} MiB file and ${SMALL} x 4 KiB files in ${work}`);
    const big = path.join(work, 'big.bin');
    await writeBig(big);
    const small = path.join(work, 'small');
    await mkdir(small);
    for (let i = 0; i < SMALL; i += 1) await writeFile(path.join(small, `f${i}.bin`), randomBytes(4096));

    const sgPort = await freePort();
    const sg = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: repo,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        SYNCGATE_DATA__DIR: path.join(work, 'sg'),
        SYNCGATE_HTTP__HOST: '127.0.0.1',
        SYNCGATE_HTTP__PORT: String(sgPort),
        SYNCGATE_ADMIN__PASSWORD: PASS,
        SYNCGATE_LOG__LEVEL: 'warn',
        SYNCGATE_WATCHER__ENABLED: 'false',
        SYNCGATE_FTP__ENABLED: 'false',
      },
    });
    procs.push(sg);
    const sgBase = `http://127.0.0.1:${sgPort}/api/v1/roots/default`;
    await waitFor(`http://127.0.0.1:${sgPort}/health`);
    await waitFor(`${sgBase}/list`, auth);
    servers.push({
      name: 'syncgate',
      file: (p) => `${sgBase}/files/${p}`,
      mkdir: async (p) => {
        const r = await fetch(`${sgBase}/mkdir`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ path: p }) });
        if (r.status !== 201) throw new Error(`mkdir: ${r.status}`);
      },
      proc: sg,
      results: {},
    });

    const rcPort = await freePort();
    const rcDir = path.join(work, 'rc');
    await mkdir(rcDir);
    const rc = spawn('rclone', ['serve', 'webdav', rcDir, '--addr', `127.0.0.1:${rcPort}`, '--user', USER, '--pass', PASS, '--config', '/dev/null'], { stdio: 'ignore' });
    procs.push(rc);
    const rcBase = `http://127.0.0.1:${rcPort}`;
    await waitFor(`${rcBase}/`, { ...auth, depth: '0' }, 'PROPFIND');
    servers.push({
      name: 'rclone',
      file: (p) => `${rcBase}/${p}`,
      mkdir: async (p) => void (await sh('curl', [...curlBase, '-o', '/dev/null', '-X', 'MKCOL', `${rcBase}/${p}/`])),
      proc: rc,
      results: {},
    });

    const add = (s: Server, k: string, v: number) => (s.results[k] ??= []).push(v);
    const expectOk = (code: number, what: string) => {
      if (code < 200 || code >= 300) throw new Error(`${what}: HTTP ${code}`);
    };

    for (let rep = 0; rep < REPS_BIG; rep += 1) {
      for (const s of servers) {
        const put = await curlTime(['-T', big, s.file(`big-${rep}.bin`)]);
        expectOk(put.code, `${s.name} PUT big`);
        add(s, 'put_MBps', BIG / put.secs / 1e6);
        const get = await curlTime([s.file(`big-${rep}.bin`)]);
        expectOk(get.code, `${s.name} GET big`);
        add(s, 'get_MBps', BIG / get.secs / 1e6);
        await sh('curl', [...curlBase, '-o', '/dev/null', '-X', 'DELETE', s.file(`big-${rep}.bin`)]);
      }
      process.stdout.write(`  big round ${rep + 1}/${REPS_BIG}\n`);
    }
    for (const s of servers) add(s, 'rss_peak_MiB', await peakRssMiB(s.proc.pid!));

    for (let rep = 0; rep < REPS; rep += 1) {
      for (const s of servers) {
        for (const [mode, extra] of [['one', []], ['par8', ['--parallel', '--parallel-max', '8']]] as const) {
          const dir = `small-${mode}-${rep}`;
          await s.mkdir(dir);
          const up = path.join(work, `up-${s.name}-${dir}.cfg`);
          const down = path.join(work, `down-${s.name}-${dir}.cfg`);
          const ups: string[] = [];
          const downs: string[] = [];
          for (let i = 0; i < SMALL; i += 1) {
            ups.push(`upload-file = "${path.join(small, `f${i}.bin`)}"`, `url = "${s.file(`${dir}/f${i}.bin`)}"`, 'output = "/dev/null"');
            downs.push(`url = "${s.file(`${dir}/f${i}.bin`)}"`, 'output = "/dev/null"');
          }
          await writeFile(up, `${ups.join('\n')}\n`);
          await writeFile(down, `${downs.join('\n')}\n`);
          let t0 = performance.now();
          await sh('curl', [...curlBase, '-f', ...extra, '-K', up]);
          add(s, `small_put_${mode}_files_per_s`, SMALL / ((performance.now() - t0) / 1000));
          t0 = performance.now();
          await sh('curl', [...curlBase, '-f', ...extra, '-K', down]);
          add(s, `small_get_${mode}_files_per_s`, SMALL / ((performance.now() - t0) / 1000));
        }
      }
      process.stdout.write(`  small-file round ${rep + 1}/${REPS}\n`);
    }

    const [a, b] = servers as [Server, Server];
    const rows: [string, string][] = [
      ['put_MBps', 'PUT 1 GiB (MB/s)'],
      ['get_MBps', 'GET 1 GiB (MB/s)'],
      ['small_put_one_files_per_s', '1,000 x 4 KiB PUT, 1 connection (files/s)'],
      ['small_get_one_files_per_s', '1,000 x 4 KiB GET, 1 connection (files/s)'],
      ['small_put_par8_files_per_s', '1,000 x 4 KiB PUT, 8 parallel (files/s)'],
      ['small_get_par8_files_per_s', '1,000 x 4 KiB GET, 8 parallel (files/s)'],
      ['rss_peak_MiB', 'peak RSS after the 1 GiB transfers (MiB)'],
    ];
    console.log(`\nREST benchmark (syncgate REST vs rclone serve webdav, curl), medians (1 GiB: ${REPS_BIG} runs, small files: ${REPS} runs)`);
    console.log(`${'measure'.padEnd(46)}${'syncgate'.padStart(12)}${'rclone'.padStart(12)}${'ratio'.padStart(10)}`);
    for (const [key, label] of rows) {
      const x = median(a.results[key] ?? []);
      const y = median(b.results[key] ?? []);
      console.log(`${label.padEnd(46)}${x.toFixed(1).padStart(12)}${y.toFixed(1).padStart(12)}${(x / y).toFixed(2).padStart(9)}x`);
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
