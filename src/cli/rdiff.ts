// `syncgate rdiff ...`: rdiff's command line over our delta engine, so the two can be swapped in
// scripts and checked against each other. Exit statuses are rdiff's (librsync's rs_result codes).
import { createReadStream } from 'node:fs';
import { open, rm, stat, type FileHandle } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import cliProgress from 'cli-progress';
import {
  delta, DeltaError, fileBasis, fileSource, ioError, patchChunks, readSignature, ResultCode, signature, writeChunks,
  type DataSource, type PullSource, type WeakSumKind,
} from '../delta/index.js';

const USAGE = `Usage: syncgate rdiff [OPTIONS] signature [BASIS [SIGNATURE]]
                     [OPTIONS] delta SIGNATURE [NEWFILE [DELTA]]
                     [OPTIONS] patch BASIS [DELTA [NEWFILE]]
A missing file or '-' means standard input/output (patch needs BASIS as a file).

Options:
  -b, --block-size=BYTES    Signature block size, 0 (default) for recommended
  -S, --sum-size=BYTES      Signature strength, 0 (default) for max, -1 for min
  -R, --rollsum=ALG         Rollsum algorithm: rabinkarp (default), rollsum
  -H, --hash=ALG            Hash algorithm: blake2 (the only one supported)
  -f, --force               Force overwriting existing files
  -I, -O, -s, -v            Accepted for compatibility with rdiff, no effect
  -h, -?, --help            Show this help message
`;
const PROGRESS_MIN_BYTES = 64 * 1024 * 1024;

interface Args {
  action: string;
  files: string[];
  blockLen: number;
  strongLen: number;
  kind: WeakSumKind;
  force: boolean;
}

class UsageError extends Error {}

function parseIntArg(name: string, v: string | undefined): number {
  if (v === undefined || !/^-?\d+$/.test(v)) throw new UsageError(`option ${name} needs an integer, got '${v ?? ''}'`);
  return Number(v);
}

function parseArgs(argv: string[]): Args | 'help' {
  const a: Args = { action: '', files: [], blockLen: 0, strongLen: 0, kind: 'rabinkarp', force: false };
  const withValue: Record<string, (v: string | undefined) => void> = {
    b: (v) => (a.blockLen = parseIntArg('-b', v)),
    S: (v) => (a.strongLen = parseIntArg('-S', v)),
    R: (v) => {
      if (v !== 'rabinkarp' && v !== 'rollsum') throw new UsageError(`unknown rollsum algorithm '${v ?? ''}'`);
      a.kind = v;
    },
    // rdiff's buffer sizes: accepted for compatibility, our buffers are sized by the engine
    I: (v) => void parseIntArg('-I', v),
    O: (v) => void parseIntArg('-O', v),
    H: (v) => {
      if (v === 'md4') throw new DeltaError(ResultCode.UNIMPLEMENTED, 'MD4 signatures are not supported (insecure)');
      if (v !== 'blake2') throw new UsageError(`unknown hash algorithm '${v ?? ''}'`);
    },
  };
  const long: Record<string, string> = {
    'block-size': 'b', 'sum-size': 'S', rollsum: 'R', hash: 'H', 'input-size': 'I', 'output-size': 'O',
  };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '-' || !arg.startsWith('-') || /^-\d/.test(arg)) {
      positional.push(arg);
    } else if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    } else if (arg.startsWith('--')) {
      const [name = '', inline] = arg.slice(2).split(/=(.*)/s, 2);
      if (name === 'help') return 'help';
      if (name === 'force') a.force = true;
      else if (name === 'statistics' || name === 'verbose') continue; // accepted, nothing to report
      else if (long[name]) withValue[long[name]]?.(inline ?? argv[++i]);
      else throw new UsageError(`unknown option '${arg}'`);
    } else {
      const flag = arg[1] ?? '';
      if (flag === 'h' || flag === '?') return 'help';
      if (flag === 'f') a.force = true;
      else if (flag === 's' || flag === 'v') continue; // accepted, nothing to report
      else if (withValue[flag]) withValue[flag](arg.length > 2 ? arg.slice(2) : argv[++i]);
      else throw new UsageError(`unknown option '${arg}'`);
    }
  }
  a.action = positional.shift() ?? '';
  a.files = positional;
  return a;
}

function progress(total: number, label: string): ((n: number) => void) | undefined {
  if (!process.stderr.isTTY || total < PROGRESS_MIN_BYTES) return undefined;
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: `${label} [{bar}] {percentage}% | {value}/{total} MiB`, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  const mib = (n: number): number => Math.floor(n / 1048576);
  bar.start(mib(total), 0);
  return (n) => {
    bar.update(mib(n));
    if (n >= total) bar.stop();
  };
}

/** Open files of one command, closed when it ends. */
class Files {
  private readonly handles: FileHandle[] = [];

  async open(path: string, flags: string): Promise<FileHandle> {
    let fh;
    try {
      fh = await open(path, flags);
    } catch (err) {
      throw ioError(err, path);
    }
    this.handles.push(fh);
    return fh;
  }

  async input(path: string | undefined, onProgress?: (n: number) => void): Promise<DataSource> {
    if (!path || path === '-') return process.stdin;
    return fileSource(await this.open(path, 'r'), onProgress);
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled(this.handles.map((fh) => fh.close()));
  }
}

async function sizeOf(path: string | undefined): Promise<number | undefined> {
  if (!path || path === '-') return undefined;
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : undefined;
  } catch (err) {
    throw ioError(err, path);
  }
}

async function writeAll(out: Writable, source: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const chunk of source) {
    if (!out.write(chunk)) await once(out, 'drain');
  }
}

const toStdout = (path: string | undefined): boolean => !path || path === '-';

/** Streams `source` to `path` (or stdout); a failed job removes the partial output file. */
async function output(files: Files, path: string | undefined, source: AsyncIterable<Uint8Array>, force: boolean): Promise<void> {
  if (toStdout(path)) return writeAll(process.stdout, source);
  const fh = await files.open(path!, force ? 'w' : 'wx');
  try {
    await writeChunks(fh, source);
  } catch (err) {
    await rm(path!, { force: true });
    throw ioError(err, path!);
  }
}

async function run(a: Args, files: Files): Promise<void> {
  const [f1, f2, f3] = a.files;
  const wanted = { signature: 3, delta: 3, patch: 3 }[a.action];
  if (wanted === undefined) {
    throw new UsageError(a.action ? `unknown action '${a.action}'` : "you must specify an action: 'signature', 'delta', or 'patch'");
  }
  if (a.files.length > wanted) throw new UsageError(`too many arguments for ${a.action}`);
  if (a.action === 'signature') {
    const size = await sizeOf(f1);
    const src = await files.input(f1, size === undefined ? undefined : progress(size, 'signature'));
    const gen = signature(src, { kind: a.kind, blockLen: a.blockLen, strongLen: a.strongLen, fileSize: size });
    await output(files, f2, gen, a.force);
  } else if (a.action === 'delta') {
    if (!f1) throw new UsageError('delta needs a SIGNATURE file');
    let sig;
    try {
      sig = await readSignature(!f1 || f1 === '-' ? process.stdin : createReadStream(f1));
    } catch (err) {
      throw ioError(err, f1);
    }
    const size = await sizeOf(f2);
    const src = await files.input(f2, size === undefined ? undefined : progress(size, 'delta'));
    await output(files, f3, delta(sig, src), a.force);
  } else {
    if (!f1 || f1 === '-') throw new UsageError('patch needs BASIS as a file (it is read at random offsets)');
    const basis = await files.open(f1, 'r');
    const size = await sizeOf(f2);
    const onProgress = size === undefined ? undefined : progress(size, 'patch');
    const deltaIn = await files.input(f2, onProgress);
    const deltaChunks = 'readInto' in deltaIn ? pulled(deltaIn) : deltaIn;
    // Reusing the read buffer is safe only where each chunk is written before the next is made.
    await output(files, f3, patchChunks(fileBasis(basis), deltaChunks, !toStdout(f3)), a.force);
  }
}

async function* pulled(src: PullSource): AsyncGenerator<Uint8Array> {
  for (;;) {
    const buf = Buffer.allocUnsafe(1 << 20);
    const n = await src.readInto(buf);
    if (n === 0) return;
    yield buf.subarray(0, n);
  }
}

/** Runs `syncgate rdiff` with the arguments after the word `rdiff`; resolves to the exit status. */
export async function runRdiff(argv: string[]): Promise<number> {
  try {
    const a = parseArgs(argv);
    if (a === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    const files = new Files();
    try {
      await run(a, files);
    } finally {
      await files.closeAll();
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`syncgate rdiff: ${err.message}\nTry 'syncgate rdiff --help' for more information.\n`);
      return ResultCode.SYNTAX_ERROR;
    }
    if (err instanceof DeltaError) {
      process.stderr.write(`syncgate rdiff: ${err.message}\n`);
      return err.code;
    }
    process.stderr.write(`syncgate rdiff: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
