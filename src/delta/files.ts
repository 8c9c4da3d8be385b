// File-to-file forms of signature / delta / patch, used by the rdiff command and the signature cache.
// Output goes to the named path; on failure a partially written output is removed, so an error never
// leaves a plausible-looking wrong file behind.
import { createReadStream } from 'node:fs';
import { open, rm, stat, type FileHandle } from 'node:fs/promises';
import { fileSource, type PullSource } from './bytes.js';
import { delta, type DeltaOptions } from './delta.js';
import { DeltaError, ResultCode } from './format.js';
import { fileBasis, patchChunks } from './patch.js';
import { readSignature, signature, type SignatureJobOptions } from './signature.js';

export interface FileJobOptions {
  /** Called as input is consumed, with the bytes read so far. */
  onProgress?: (bytesRead: number) => void;
  /** Refuse to replace an existing output file (rdiff's behaviour without --force). */
  noClobber?: boolean;
}

async function openOrFail(path: string, flags: string): Promise<FileHandle> {
  try {
    return await open(path, flags);
  } catch (err) {
    throw ioError(err, path);
  }
}

/** Writes each chunk before pulling the next (patchChunks relies on it to reuse its buffer). */
export async function writeChunks(fh: FileHandle, source: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const chunk of source) {
    for (let off = 0; off < chunk.length; ) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
  }
}

async function writeOutput(path: string, source: AsyncIterable<Uint8Array>, noClobber = false): Promise<void> {
  const fh = await openOrFail(path, noClobber ? 'wx' : 'w');
  try {
    await writeChunks(fh, source);
    await fh.close();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(path, { force: true });
    throw ioError(err, path);
  }
}

/** Runs `job` with the input file open as a pull source. */
async function withInput<T>(path: string, onProgress: ((n: number) => void) | undefined, job: (s: PullSource) => Promise<T>): Promise<T> {
  const fh = await openOrFail(path, 'r');
  try {
    return await job(fileSource(fh, onProgress));
  } finally {
    await fh.close();
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
  basisPath: string, sigPath: string, opts: SignatureJobOptions = {}, job: FileJobOptions = {},
): Promise<void> {
  const fileSize = opts.fileSize ?? (await sizeOf(basisPath));
  await withInput(basisPath, job.onProgress, (src) => writeOutput(sigPath, signature(src, { ...opts, fileSize }), job.noClobber));
}

export async function deltaFile(
  sigPath: string, newPath: string, deltaPath: string, job: FileJobOptions & DeltaOptions = {},
): Promise<void> {
  let sig;
  try {
    sig = await readSignature(createReadStream(sigPath));
  } catch (err) {
    throw ioError(err, sigPath);
  }
  await withInput(newPath, job.onProgress, (src) => writeOutput(deltaPath, delta(sig, src, job), job.noClobber));
}

export async function patchFile(basisPath: string, deltaPath: string, newPath: string, job: FileJobOptions = {}): Promise<void> {
  const basis = await openOrFail(basisPath, 'r');
  try {
    await sizeOf(deltaPath);
    const deltaIn = createReadStream(deltaPath, { highWaterMark: 1024 * 1024 });
    const counted = job.onProgress ? counting(deltaIn, job.onProgress) : deltaIn;
    await writeOutput(newPath, patchChunks(fileBasis(basis), counted, true), job.noClobber);
  } finally {
    await basis.close();
  }
}

async function* counting(source: AsyncIterable<Uint8Array>, onProgress: (n: number) => void): AsyncGenerator<Uint8Array> {
  let n = 0;
  for await (const chunk of source) {
    n += chunk.length;
    onProgress(n);
    yield chunk;
  }
}
