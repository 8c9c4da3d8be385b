/**
 * Fetching content from the gateway into the linked folder: whole (resumable, into a part file) or
 * as a librsync delta against the local copy, each verified by SHA-256 before it replaces anything.
 * Sending is in send.ts.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { DeltaError, fileBasis, fileSource, patchChunks, signature } from '../delta/index.js';
import { HashedSink } from '../lib/hashed-sink.js';
import { DELTA_MIN_SIZE, SIGNATURE } from '../sync-wire/index.js';
import { ApiError, type Api, type Download } from './api.js';
import { isLocalDiskFull } from './failure-text.js';
import { discard, install, partBeside, tempBeside, writeTemp, type LocalEntry } from './local.js';
import type { Progress } from './progress.js';
import type { ClientState } from './state.js';
import { counted, type Throttle } from './throttle.js';

export interface TransferOptions {
  progress?: Progress;
  throttle?: Throttle;
  /** Where resumable uploads are remembered (link id + state). */
  resume?: { state: ClientState; linkId: number };
}

export interface Fetched {
  entry: Download['entry'];
  local: LocalEntry;
  /** Bytes that crossed the network. */
  bytes: number;
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of source) parts.push(c);
  return Buffer.concat(parts);
}

/**
 * Fetches the head of `rel` into a temp file beside it, as a delta against the local copy when
 * there is one worth it; `stillOk` is asked just before the rename (a local edit made meanwhile
 * must not be overwritten: the temp file is dropped and null returned). `base`: the version the
 * local copy is, unchanged since it was synced (the gateway then makes the delta without a
 * signature from here).
 */
export async function fetchFile(api: Api, root: string, dir: string, rel: string, have: LocalEntry | null, stillOk: () => Promise<boolean>, opts: TransferOptions = {}, expect?: string, base?: number): Promise<Fetched | null> {
  const { progress, throttle } = opts;
  const whole = !(have && have.kind === 'file' && have.size >= DELTA_MIN_SIZE);
  // A whole download of a known content goes to a part file named after it: a broken connection
  // or a crash resumes from its end (Range) instead of starting over.
  if (whole && expect) return fetchResumable(api, root, dir, rel, expect, stillOk, opts);
  const temp = await tempBeside(dir, rel);
  let bytes = 0;
  const onBytes = (n: number) => (bytes += n);
  try {
    let entry: Download['entry'];
    if (!whole) entry = await fetchDelta(api, root, dir, rel, have!, temp, base, onBytes, throttle);
    else {
      const dl = await api.download(root, rel);
      const bar = progress?.start(`↓ ${rel}`, dl.entry.size);
      try {
        const got = await writeTemp(temp, counted(dl.body, (n) => {
          onBytes(n);
          bar?.add(n);
        }, throttle));
        if (got.sha256 !== dl.entry.sha256) throw mismatch(rel);
      } finally {
        progress?.stop();
      }
      entry = dl.entry;
    }
    if (!(await stillOk())) {
      await discard(temp);
      return null;
    }
    const local = await install(dir, temp, rel, entry.mtimeMs);
    return { entry, local, bytes };
  } catch (err) {
    await discard(temp);
    throw err;
  }
}

const mismatch = (rel: string) => new ApiError('HASH_MISMATCH', `${rel}: the content received does not have the SHA-256 the gateway announced; nothing was replaced`);

/**
 * The head as a delta against the local copy, patched into `temp` and checked. With `base` the
 * gateway makes it from its own signature of that version (or hands over the very delta that
 * version was edited by): nothing is read here for a signature. If that content is gone there, or
 * the result is not the head (the copy was not quite that version), the copy's own signature is
 * sent instead. Streamed: the delta is patched as it arrives and the output written piece by piece.
 */
async function fetchDelta(api: Api, root: string, dir: string, rel: string, have: LocalEntry, temp: string, base: number | undefined, onBytes: (n: number) => void, throttle?: Throttle): Promise<Download['entry']> {
  const basis = await open(path.join(dir, rel), 'r');
  try {
    const apply = async (dl: Download): Promise<Download['entry']> => {
      // patchChunks with reuse: each piece is written before the next is read (flat memory), and
      // hashed while the thread pool writes it.
      const { sha256 } = await writeTemp(temp, patchChunks(fileBasis(basis), counted(dl.body, onBytes, throttle), true), true);
      if (sha256 !== dl.entry.sha256) throw mismatch(rel);
      return dl.entry;
    };
    if (base !== undefined) {
      const dl = await api.deltaFromVersion(root, rel, base).catch((err: unknown) => {
        if (err instanceof ApiError && err.code === 'NOT_FOUND') return null;
        throw err;
      });
      if (dl) {
        try {
          return await apply(dl);
        } catch (err) {
          if (!(err instanceof DeltaError) && !(err instanceof ApiError && err.code === 'HASH_MISMATCH')) throw err;
        }
      }
    }
    const sig = await collect(signature(fileSource(basis), { ...SIGNATURE, fileSize: have.size }));
    return await apply(await api.deltaDownload(root, rel, sig));
  } finally {
    await basis.close();
  }
}

async function fetchResumable(api: Api, root: string, dir: string, rel: string, expect: string, stillOk: () => Promise<boolean>, opts: TransferOptions): Promise<Fetched | null> {
  const part = await partBeside(dir, rel, expect);
  const h = createHash('sha256');
  let offset = (await stat(part).catch(() => null))?.size ?? 0;
  if (offset > 0) for await (const c of createReadStream(part, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
  let dl = await api.download(root, rel, offset).catch(async (err: unknown) => {
    if (err instanceof ApiError && err.code === 'RANGE_NOT_SATISFIABLE') return null;
    throw err;
  });
  if (!dl || dl.entry.sha256 !== expect) {
    // The head is another content now (or the part is whole already): start that one from 0.
    (dl?.body as { destroy?: () => void } | undefined)?.destroy?.();
    await discard(part);
    if (!dl && offset > 0) return fetchResumable(api, root, dir, rel, expect, stillOk, opts);
    offset = 0;
    return fetchFile(api, root, dir, rel, null, stillOk, opts, undefined);
  }
  let bytes = 0;
  const bar = opts.progress?.start(`↓ ${rel}`, dl.entry.size);
  bar?.add(offset);
  const sink = await HashedSink.open(part, { hash: h, start: offset });
  let sha256: string;
  try {
    for await (const c of counted(dl.body, (n) => {
      bytes += n;
      bar?.add(n);
    }, opts.throttle)) await sink.write(c);
    sha256 = await sink.finish();
  } catch (err) {
    // A part that filled the disk holds the very space the user must free: it goes (a broken
    // connection keeps it, to resume from its end). Unlinked while open: its space returns at the close.
    if (isLocalDiskFull(err)) await discard(part);
    throw err;
  } finally {
    await sink.close();
    opts.progress?.stop();
  }
  if (sha256 !== expect) {
    await discard(part);
    throw mismatch(rel);
  }
  if (!(await stillOk())) {
    await discard(part);
    return null;
  }
  const local = await install(dir, part, rel, dl.entry.mtimeMs);
  return { entry: dl.entry, local, bytes };
}
