// `syncgate rdiff ...`: rdiff's command line over our delta engine, so the two can be swapped in
// scripts and checked against each other. Exit statuses are rdiff's (librsync's rs_result codes).
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import cliProgress from 'cli-progress';
import {
  delta, DeltaError, fileBasis, patch, readSignature, ResultCode, signature, type ByteSource, type WeakSumKind,
} from '../delta/index.js';
import { ioError } from '../delta/files.js';

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
    H: (v) => {
      if (v === 'md4') throw new DeltaError(ResultCode.UNIMPLEMENTED, 'MD4 signatures are not supported (insecure)');
      if (v !== 'blake2') throw new UsageError(`unknown hash algorithm '${v ?? ''}'`);
    },
  };
  const long: Record<string, string> = { 'block-size': 'b', 'sum-size': 'S', rollsum: 'R', hash: 'H' };
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
      else if (long[name]) withValue[long[name]]?.(inline ?? argv[++i]);
      else throw new UsageError(`unknown option '${arg}'`);
    } else {
      const flag = arg[1] ?? '';
      if (flag === 'h' || flag === '?') return 'help';
      if (flag === 'f') a.force = true;
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

function input(path: string | undefined, onProgress?: (n: number) => void): ByteSource {
  const stream: ByteSource = !path || path === '-' ? process.stdin : createReadStream(path, { highWaterMark: 1 << 20 });
  if (!onProgress) return stream;
  return (async function* counted() {
    let n = 0;
    for await (const chunk of stream) {
      n += chunk.length;
      onProgress(n);
      yield chunk;
    }
  })();
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

/** Streams `source` to `path` (or stdout); a failed job removes the partial output file. */
async function output(path: string | undefined, source: AsyncIterable<Uint8Array>, force: boolean): Promise<void> {
  if (!path || path === '-') return writeAll(process.stdout, source);
  const out = createWriteStream(path, { flags: force ? 'w' : 'wx' });
  try {
    await once(out, 'open');
  } catch (err) {
    throw ioError(err, path);
  }
  try {
    await writeAll(out, source);
    out.end();
    await once(out, 'finish');
  } catch (err) {
    out.destroy();
    await rm(path, { force: true });
    throw ioError(err, path);
  }
}

async function run(a: Args): Promise<void> {
  const [f1, f2, f3] = a.files;
  const wanted = { signature: 3, delta: 3, patch: 3 }[a.action];
  if (wanted === undefined) {
    throw new UsageError(a.action ? `unknown action '${a.action}'` : "you must specify an action: 'signature', 'delta', or 'patch'");
  }
  if (a.files.length > wanted) throw new UsageError(`too many arguments for ${a.action}`);
  if (a.action === 'signature') {
    const size = await sizeOf(f1);
    const gen = signature(input(f1, size === undefined ? undefined : progress(size, 'signature')), {
      kind: a.kind, blockLen: a.blockLen, strongLen: a.strongLen, fileSize: size,
    });
    await output(f2, gen, a.force);
  } else if (a.action === 'delta') {
    if (!f1) throw new UsageError('delta needs a SIGNATURE file');
    let sig;
    try {
      sig = await readSignature(input(f1));
    } catch (err) {
      throw ioError(err, f1);
    }
    const size = await sizeOf(f2);
    await output(f3, delta(sig, input(f2, size === undefined ? undefined : progress(size, 'delta'))), a.force);
  } else {
    if (!f1 || f1 === '-') throw new UsageError('patch needs BASIS as a file (it is read at random offsets)');
    let fh;
    try {
      fh = await open(f1, 'r');
    } catch (err) {
      throw ioError(err, f1);
    }
    try {
      const size = await sizeOf(f2);
      await output(f3, patch(fileBasis(fh), input(f2, size === undefined ? undefined : progress(size, 'patch'))), a.force);
    } finally {
      await fh.close();
    }
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
    await run(a);
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
