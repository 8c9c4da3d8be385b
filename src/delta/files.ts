// File-to-file forms of signature / delta / patch, used by the rdiff command and the signature cache.
// Output goes to the named path; on failure a partially written output is removed, so an error never
// leaves a plausible-looking wrong file behind.
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ByteSource } from './bytes.js';
import { delta } from './delta.js';
import { DeltaError, ResultCode, type SignatureOptions } from './format.js';
import { fileBasis, patch } from './patch.js';
import { readSignature, signature } from './signature.js';

const READ_CHUNK = 1024 * 1024;

export interface FileJobOptions {
  /** Called as input is consumed, with the bytes read so far. */
  onProgress?: (bytesRead: number) => void;
  /** Refuse to replace an existing output file (rdiff's behaviour without --force). */
  noClobber?: boolean;
}

export function readFileStream(path: string, onProgress?: (n: number) => void): ByteSource {
  const stream = createReadStream(path, { highWaterMark: READ_CHUNK });
  if (!onProgress) return stream;
  return (async function* counted() {
    let n = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      n += chunk.length;
      onProgress(n);
      yield chunk;
    }
  })();
}

async function writeOutput(path: string, source: AsyncIterable<Uint8Array>, noClobber = false): Promise<void> {
  const out = createWriteStream(path, { flags: noClobber ? 'wx' : 'w' });
  try {
    await pipeline(Readable.from(source, { objectMode: false }), out);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') await rm(path, { force: true });
    throw ioError(err, path);
  }
}

/** Node's fs errors become DeltaErrors with rdiff's I/O status; our own errors pass through. */
export function ioError(err: unknown, path: string): Error {
  if (err instanceof DeltaError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EEXIST') return new DeltaError(ResultCode.IO_ERROR, `${path}: file exists (use --force to overwrite)`);
  if (typeof e.code === 'string' && e.syscall) {
    return new DeltaError(ResultCode.IO_ERROR, `${e.path ?? path}: ${e.code} (${e.syscall} failed)`);
  }
  return err instanceof Error ? err : new Error(String(err));
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    throw ioError(err, path);
  }
}

export async function signatureFile(
  basisPath: string, sigPath: string, opts: SignatureOptions = {}, job: FileJobOptions = {},
): Promise<void> {
  const fileSize = opts.fileSize ?? (await sizeOf(basisPath));
  await writeOutput(sigPath, signature(readFileStream(basisPath, job.onProgress), { ...opts, fileSize }), job.noClobber);
}

export async function deltaFile(sigPath: string, newPath: string, deltaPath: string, job: FileJobOptions = {}): Promise<void> {
  let sig;
  try {
    sig = await readSignature(createReadStream(sigPath));
  } catch (err) {
    throw ioError(err, sigPath);
  }
  await sizeOf(newPath);
  await writeOutput(deltaPath, delta(sig, readFileStream(newPath, job.onProgress)), job.noClobber);
}

export async function patchFile(basisPath: string, deltaPath: string, newPath: string, job: FileJobOptions = {}): Promise<void> {
  let fh;
  try {
    fh = await open(basisPath, 'r');
  } catch (err) {
    throw ioError(err, basisPath);
  }
  try {
    await sizeOf(deltaPath);
    await writeOutput(newPath, patch(fileBasis(fh), readFileStream(deltaPath, job.onProgress)), job.noClobber);
  } finally {
    await fh.close();
  }
}
