// Delta engine vs rdiff (librsync 2.3.2) and rsync, measured in the same run:
//   npx tsx bench/delta.ts            (BENCH_SIZE_MIB=1024 BENCH_ROUNDS=5 BENCH_DIR=os.tmpdir())
// A random basis and a copy with 10 scattered 4 KiB edits plus a 1 MiB insertion; 32 KiB blocks.
// Each step runs BENCH_ROUNDS times, rdiff and ours interleaved, and the best round counts (this
// machine is shared: rounds drift, so only figures from one run are compared). Ours runs in a child
// process so that its peak RSS is its own.
import { execFile, spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const MiB = 1024 * 1024;
const BLOCK = 32768;

interface Run {
  ms: number; // wall time of the whole process
  engineMs?: number; // ours: time inside the process, without node start-up
  rssMiB: number;
  cpuS?: number; // user + system CPU seconds (all threads): steadier than wall time on a busy machine
}

// Ours runs as plain JavaScript, the way it is deployed: the TypeScript of src/delta transpiled
// (no type check) beside its wasm and worker, under node_modules so that hash-wasm resolves. Running
// it under tsx instead would add the loader's start-up and some 35 MB to every figure.
const root = fileURLToPath(new URL('..', import.meta.url));
const jsDir = join(root, 'node_modules/.cache/syncgate-bench-delta');

async function buildEngineJs(): Promise<string> {
  const ts = (await import('typescript')).default;
  const src = join(root, 'src/delta');
  const out = join(jsDir, 'delta');
  await mkdir(join(out, 'assembly/build'), { recursive: true });
  for (const f of await readdir(src)) {
    if (!f.endsWith('.ts') || f.endsWith('.test.ts')) continue;
    const js = ts.transpileModule(await readFile(join(src, f), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    await writeFile(join(out, f.replace(/\.ts$/, '.js')), js);
  }
  await copyFile(join(src, 'hash-worker.mjs'), join(out, 'hash-worker.mjs'));
  for (const wasm of ['engine.wasm', 'engine-shared.wasm']) {
    await copyFile(join(src, 'assembly/build', wasm), join(out, 'assembly/build', wasm));
  }
  const runner = join(jsDir, 'run.mjs');
  await writeFile(runner, `const { signatureFile, deltaFile, patchFile } = await import('./delta/index.js');
const [op, a, b, c] = process.argv.slice(2);
const t = performance.now();
if (op === 'signature') await signatureFile(a, b, { blockLen: ${BLOCK} });
else if (op === 'delta') await deltaFile(a, b, c);
else if (op === 'patch') await patchFile(a, b, c);
else throw new Error('unknown op ' + op);
process.stdout.write(JSON.stringify({ engineMs: performance.now() - t, rssMiB: process.resourceUsage().maxRSS / 1024 }));
`);
  return runner;
}

/** Runs a command under /usr/bin/time for its wall time and peak RSS. */
async function timed(cmd: string, args: string[]): Promise<Run & { stdout: string }> {
  const t = performance.now();
  const { stdout, stderr } = await exec('/usr/bin/time', ['-f', 'MAXRSS %M CPU %U %S', cmd, ...args], { maxBuffer: 64 * MiB });
  const ms = performance.now() - t;
  const m = /MAXRSS (\d+) CPU ([\d.]+) ([\d.]+)/.exec(stderr);
  return { ms, rssMiB: m ? Number(m[1]) / 1024 : NaN, cpuS: m ? Number(m[2]) + Number(m[3]) : NaN, stdout };
}

let runner = '';
async function ours(op: string, ...files: string[]): Promise<Run> {
  const r = await timed(process.execPath, [runner, op, ...files]);
  const j = JSON.parse(r.stdout) as { engineMs: number; rssMiB: number };
  return { ms: r.ms, engineMs: j.engineMs, rssMiB: Math.max(r.rssMiB, j.rssMiB), cpuS: r.cpuS };
}

async function makeFiles(dir: string, size: number): Promise<{ basis: string; next: string }> {
  const basis = join(dir, 'basis');
  const next = join(dir, 'new');
  const out = createWriteStream(basis);
  for (let left = size; left > 0; left -= 4 * MiB) {
    if (!out.write(randomBytes(Math.min(4 * MiB, left)))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  // new = basis with 10 scattered 4 KiB edits and 1 MiB inserted at a random place
  const edits = Array.from({ length: 10 }, () => randomInt(0, size - 4096)).sort((x, y) => x - y);
  const insertAt = randomInt(0, size);
  const w = createWriteStream(next);
  let pos = 0;
  for await (const chunk of createReadStream(basis, { highWaterMark: 4 * MiB }) as AsyncIterable<Buffer>) {
    const buf = Buffer.from(chunk);
    for (const e of edits) {
      for (let i = Math.max(e, pos); i < Math.min(e + 4096, pos + buf.length); i++) buf[i - pos] = randomInt(256);
    }
    if (insertAt >= pos && insertAt < pos + buf.length) {
      w.write(buf.subarray(0, insertAt - pos));
      w.write(randomBytes(MiB));
      if (!w.write(buf.subarray(insertAt - pos))) await once(w, 'drain');
    } else if (!w.write(buf)) await once(w, 'drain');
    pos += buf.length;
  }
  w.end();
  await once(w, 'finish');
  return { basis, next };
}

async function same(a: string, b: string): Promise<boolean> {
  return new Promise((resolve) => spawn('cmp', ['-s', a, b]).on('exit', (code) => resolve(code === 0)));
}

function best(runs: Run[]): Run {
  return runs.reduce((x, y) => ((y.engineMs ?? y.ms) < (x.engineMs ?? x.ms) ? y : x));
}

async function main(): Promise<void> {
  const size = Number(process.env.BENCH_SIZE_MIB ?? 1024) * MiB;
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  const dir = await mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), 'sg-bench-delta-'));
  try {
    const load0 = loadavg()[0]!.toFixed(1);
    runner = await buildEngineJs();
    process.stderr.write(`making ${size / MiB} MiB basis and edited copy in ${dir}\n`);
    const { basis, next } = await makeFiles(dir, size);
    const f = (n: string): string => join(dir, n);
    const r: Record<string, Run[]> = {};
    const add = (k: string, v: Run): void => void (r[k] ??= []).push(v);
    for (let i = 0; i < rounds; i++) {
      process.stderr.write(`round ${i + 1}/${rounds}\n`);
      await rm(f('r.sig'), { force: true });
      add('rdiff signature', await timed('rdiff', ['signature', '-b', String(BLOCK), basis, f('r.sig')]));
      add('ours signature', await ours('signature', basis, f('o.sig')));
      await rm(f('r.delta'), { force: true });
      add('rdiff delta', await timed('rdiff', ['delta', f('r.sig'), next, f('r.delta')]));
      add('ours delta', await ours('delta', f('r.sig'), next, f('o.delta')));
      await rm(f('r.out'), { force: true });
      add('rdiff patch', await timed('rdiff', ['patch', basis, f('r.delta'), f('r.out')]));
      await rm(f('o.out'), { force: true }); // as for rdiff: a new file, not a 1 GiB truncation
      add('ours patch', await ours('patch', basis, f('o.delta'), f('o.out')));
      // rsync: the pair synchronised locally with its delta algorithm forced on, same block size
      await copyFile(basis, f('rsync-dest'));
      const rs = await timed('rsync', ['--no-whole-file', '--stats', '-B', String(BLOCK), next, f('rsync-dest')]);
      add('rsync', rs);
      const sent = /Total bytes sent: ([\d,.]+)/.exec(rs.stdout)?.[1]?.replace(/[,.]/g, '');
      add('rsync sent', { ms: Number(sent ?? NaN), rssMiB: NaN });
    }
    const checks = {
      'our signature == rdiff signature': await same(f('o.sig'), f('r.sig')),
      'our patch output == new': await same(f('o.out'), next),
      'rdiff patch output == new': await same(f('r.out'), next),
    };
    await rm(f('r.out2'), { force: true });
    await exec('rdiff', ['patch', basis, f('o.delta'), f('r.out2')]);
    Object.assign(checks, { 'rdiff applies our delta == new': await same(f('r.out2'), next) });

    const row = (name: string, rd: Run, o: Run): string =>
      `${name.padEnd(10)} rdiff ${(rd.ms / 1000).toFixed(2)} s   ours ${((o.engineMs ?? o.ms) / 1000).toFixed(2)} s ` +
      `(${(o.ms / 1000).toFixed(2)} s with process start-up)   ratio ${((o.engineMs ?? o.ms) / rd.ms).toFixed(2)}x ` +
      `(${(o.ms / rd.ms).toFixed(2)}x)   CPU rdiff ${rd.cpuS?.toFixed(2)} s, ours ${o.cpuS?.toFixed(2)} s ` +
      `(${((o.cpuS ?? NaN) / (rd.cpuS ?? NaN)).toFixed(2)}x)   peak RSS rdiff ${rd.rssMiB.toFixed(0)} MiB, ours ${o.rssMiB.toFixed(0)} MiB`;
    const lines = [
      `\nDelta engine vs rdiff, ${size / MiB} MiB, ${BLOCK}-byte blocks, best of ${rounds} ` +
        `(load average at start ${load0}, at end ${loadavg()[0]!.toFixed(1)}; ours = in-process time, its ratio first):`,
    ];
    for (const step of ['signature', 'delta', 'patch']) lines.push(row(step, best(r[`rdiff ${step}`]!), best(r[`ours ${step}`]!)));
    const rd = (await stat(f('r.delta'))).size;
    const od = (await stat(f('o.delta'))).size;
    lines.push(`delta size rdiff ${rd} B   ours ${od} B   ratio ${(od / rd).toFixed(4)}x`);
    const rsync = best(r.rsync!);
    lines.push(`rsync --no-whole-file -B ${BLOCK}: ${(rsync.ms / 1000).toFixed(2)} s, sent ${r['rsync sent']![0]!.ms} B, peak RSS ${rsync.rssMiB.toFixed(0)} MiB`);
    lines.push(`rounds (s): ${Object.entries(r).filter(([k]) => k !== 'rsync sent').map(([k, v]) => `${k}: ${v.map((x) => ((x.engineMs ?? x.ms) / 1000).toFixed(2)).join('/')}`).join('; ')}`);
    for (const [k, v] of Object.entries(checks)) lines.push(`check: ${k}: ${v ? 'yes' : 'NO'}`);
    process.stdout.write(`${lines.join('\n')}\n`);
    if (Object.values(checks).some((v) => !v)) process.exitCode = 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
