/**
 * CPU of the content writers alone, in one process: every thread's time from schedstat (the
 * thread pool's writes and syncs included) per GiB written, for each writer in turn, several rounds
 * interleaved. Compares this checkout's writer with another checkout's (BENCH_OLD=/path), where the
 * older one had three: the client's FileSink, lib/hashed-sink's HashedSink, and Staging.stage.
 *   BENCH_OLD=/path/to/checkout BENCH_MIB=256 BENCH_REPS=5 npx tsx bench/writer-cpu.ts
 * Sources: socket-sized kept chunks (16-64 KiB, a download or an upload), and a patch's output in
 * one reused buffer (2 MiB copied pieces and 100-byte literals between them).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { median, REPO } from './lib/measure.js';

const MIB = 1 << 20;
const SIZE = Number(process.env.BENCH_MIB ?? 256) * MIB;
const REPS = Number(process.env.BENCH_REPS ?? 5);
const OLD = process.env.BENCH_OLD;

function cpuNs(): number {
  let ns = 0;
  for (const t of readdirSync('/proc/self/task')) {
    try {
      ns += Number(readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // a thread that ended
    }
  }
  return ns;
}

const data = randomBytes(SIZE);
function* kept(): Generator<Buffer> {
  for (let at = 0, i = 0; at < SIZE; i += 1) {
    const n = Math.min([16 << 10, 64 << 10, 40_000][i % 3]!, SIZE - at);
    yield data.subarray(at, at + n);
    at += n;
  }
}
async function* patchOutput(): AsyncGenerator<Uint8Array> {
  const shared = Buffer.alloc(2 * MIB);
  for (let at = 0, i = 0; at < SIZE; i += 1) {
    const n = Math.min(i % 2 === 0 ? 2 * MIB : 100, SIZE - at);
    data.copy(shared, 0, at, at + n);
    yield shared.subarray(0, n);
    at += n;
  }
}
const volatile = <T extends AsyncIterable<Uint8Array>>(s: T): T => Object.defineProperty(s, Symbol.for('syncgate.volatileChunks'), { value: true });

type Writer = { label: string; run: (file: string, tmp: string) => Promise<void> };

async function writers(repo: string, tag: string): Promise<Writer[]> {
  const lib = await import(path.join(repo, 'src/lib/hashed-sink.ts'));
  const { Staging } = await import(path.join(repo, 'src/storage/staging.ts'));
  const out: Writer[] = [];
  const staging = async (tmp: string, source: AsyncIterable<Uint8Array> | Readable) => {
    const s = new Staging(tmp);
    await s.init();
    const staged = await s.stage(source);
    s.close();
    await rm(staged.tempPath);
  };
  out.push({ label: `${tag} staging, socket chunks`, run: (_f, tmp) => staging(tmp, Readable.from(kept())) });
  out.push({ label: `${tag} staging, patch output`, run: (_f, tmp) => staging(tmp, volatile(patchOutput())) });
  // This checkout's one writer, or the older checkout's two: the client's FileSink for kept chunks,
  // HashedSink (on a FileHandle of the caller's) for volatile ones.
  type Sink = { write(c: Uint8Array): Promise<void>; finish(): Promise<string>; close(): Promise<void> };
  let openSink: (file: string, volatile: boolean) => Promise<Sink>;
  if (typeof lib.HashedSink.open === 'function') openSink = (file, volatile) => lib.HashedSink.open(file, { volatile });
  else {
    const { FileSink } = await import(path.join(repo, 'src/client/file-sink.ts'));
    const { open } = await import('node:fs/promises');
    openSink = async (file, volatile) => {
      if (!volatile) return FileSink.open(file, 'w');
      const fh = await open(file, 'w');
      const sink = new lib.HashedSink(fh);
      return { write: (c) => sink.write(c), finish: () => sink.finish(), close: async () => (await sink.settle(), await fh.close()) };
    };
  }
  const client = async (file: string, volatile: boolean, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) => {
    const sink = await openSink(file, volatile);
    for await (const c of source) await sink.write(c);
    await sink.finish();
    await sink.close();
  };
  out.push({ label: `${tag} client download (kept)`, run: (file) => client(file, false, kept()) });
  out.push({ label: `${tag} client patch (volatile)`, run: (file) => client(file, true, patchOutput()) });
  return out;
}

const work = await mkdtemp(path.join(os.tmpdir(), 'bench-writer-cpu-'));
try {
  const all = [...(await writers(REPO, 'new')), ...(OLD ? await writers(path.resolve(OLD), 'old') : [])];
  const results = new Map<string, number[]>();
  for (let rep = 0; rep < REPS; rep += 1) {
    // Each kind's old and new writer run one after the other: drift hits both alike.
    const half = all.length / (OLD ? 2 : 1);
    for (let k = 0; k < half; k += 1) {
      for (const w of OLD ? (rep % 2 === 0 ? [all[k]!, all[k + half]!] : [all[k + half]!, all[k]!]) : [all[k]!]) {
        const file = path.join(work, 'out.bin');
        const c0 = cpuNs();
        await w.run(file, path.join(work, 'tmp'));
        const ms = (cpuNs() - c0) / 1e6 / (SIZE / (1 << 30));
        (results.get(w.label) ?? results.set(w.label, []).get(w.label)!).push(ms);
        await rm(file, { force: true });
      }
    }
  }
  console.log(`CPU per GiB (ms, every thread), medians of ${REPS}, ${SIZE / MIB} MiB, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  for (const [label, xs] of results) console.log(`  ${label.padEnd(36)} ${median(xs).toFixed(0).padStart(6)}   (${xs.map((x) => x.toFixed(0)).join(' ')})`);
} finally {
  await rm(work, { recursive: true, force: true });
}
