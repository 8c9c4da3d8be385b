/**
 * Moving content between the linked folder and the gateway: whole or as a librsync delta, each
 * verified by SHA-256 before it replaces anything.
 */
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { delta, DeltaError, fileBasis, fileSource, patchChunks, readSignature, signature } from '../delta/index.js';
import { FileSink } from './file-sink.js';
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { DELTA_MIN_SIZE, RESUMABLE_MIN_SIZE, SIGNATURE, type WriteResponse } from '../sync-wire/index.js';
import { ApiError, type Api, type Download } from './api.js';
import { isLocalDiskFull } from './failure-text.js';
import { discard, install, partBeside, SMALL_FILE, tempBeside, writeTemp, type LocalEntry } from './local.js';
import type { Progress } from './progress.js';
import type { ClientState } from './state.js';
import type { Throttle } from './throttle.js';
import type { BodyWriter } from './stream-request.js';

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

async function* counted(source: AsyncIterable<Uint8Array>, onBytes: (n: number) => void, throttle?: Throttle): AsyncGenerator<Uint8Array> {
  for await (const c of source) {
    if (throttle) {
      // In pieces, so a big chunk does not pass as one burst.
      for (let off = 0; off < c.length; off += 65536) {
        const piece = c.subarray(off, Math.min(c.length, off + 65536));
        await throttle.take(piece.length);
        onBytes(piece.length);
        yield piece;
      }
      continue;
    }
    onBytes(c.length);
    yield c;
  }
}

const CHUNK = 1 << 20;

/**
 * A file's bytes from `start` as a request body: read into two buffers that take turns, each read
 * again once the socket has taken the last write from it (its callback), so reading overlaps
 * sending and no new 1 MiB buffer is made per read (fs streams do: their pages faulted in and
 * freed again cost a tenth of a big upload's CPU, as on the gateway's side: storage/file-sender.ts).
 * The throttle is asked before each 64 KiB.
 */
function fileBody(abs: string, start: number, onBytes: (n: number) => void, throttle?: Throttle): BodyWriter {
  return async (out) => {
    const fh = await open(abs, 'r');
    const free: Buffer[] = [Buffer.allocUnsafeSlow(CHUNK), Buffer.allocUnsafeSlow(CHUNK)];
    let failed: Error | null = null;
    // One waiter at a time (a buffer back, or drain); a broken connection wakes it too.
    let wake: (() => void) | null = null;
    const poke = () => {
      const w = wake;
      wake = null;
      w?.();
    };
    const wait = () => new Promise<void>((r) => (wake = r));
    const onError = (err: Error) => {
      failed ??= err;
      poke();
    };
    const onClose = () => onError(new Error('the connection closed while sending'));
    out.on('drain', poke).once('error', onError).once('close', onClose);
    try {
      for (let pos = start; ; ) {
        while (free.length === 0 && !failed) await wait();
        if (failed) throw failed;
        const buf = free.pop()!;
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
        for (let off = 0; off < bytesRead; off += 65536) {
          const end = Math.min(bytesRead, off + 65536);
          if (throttle) await throttle.take(end - off);
          if (failed) throw failed;
          onBytes(end - off);
          // The buffer goes back once its last piece has left (the write's callback).
          const last = end === bytesRead;
          out.write(buf.subarray(off, end), last ? () => (free.push(buf), poke()) : undefined);
          while (out.writableNeedDrain && !failed) await wait();
        }
      }
    } finally {
      out.off('drain', poke).off('error', onError).off('close', onClose);
      await fh.close();
    }
  };
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
      // patchChunks with reuse: each piece is written before the next is read (flat memory).
      const got = await writeTemp(temp, patchChunks(fileBasis(basis), counted(dl.body, onBytes, throttle), true), true);
      if (got.sha256 !== dl.entry.sha256) throw mismatch(rel);
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
  const sink = await FileSink.open(part, 'a', h, offset);
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

/**
 * Sends the local file as a new version of `rel` edited from `base`: a delta against the server's
 * copy of `base` when the file is big enough, else whole.
 */
export async function sendFile(api: Api, root: string, dir: string, local: LocalEntry, sha256: string, base: number | undefined, opts: TransferOptions = {}): Promise<{ res: WriteResponse; bytes: number }> {
  const { progress, throttle } = opts;
  const abs = path.join(dir, local.path);
  if (base && local.size >= DELTA_MIN_SIZE) {
    const sig = await api.signature(root, local.path).catch((err: unknown) => {
      if (err instanceof ApiError && err.code === 'NOT_FOUND') return null;
      throw err;
    });
    // Only a delta against the very version edited: another one would record the wrong content.
    if (sig && sig.entry.version === base) {
      const parsed = await readSignature(Readable.from([sig.body]));
      let sent = 0;
      const upload = async (trustRuns: boolean): Promise<WriteResponse> => {
        const fh = await open(abs, 'r');
        try {
          const body = Readable.from(counted(delta(parsed, fileSource(fh), { trustRuns }), (n) => (sent += n), throttle));
          return await api.uploadDelta(root, { path: local.path, base, sha256, mtimeMs: local.mtimeMs }, body);
        } finally {
          await fh.close();
        }
      };
      // Runs of unchanged blocks are matched by their weak sums alone (a BLAKE2b of every byte
      // was most of the upload's CPU): the gateway checks the result's SHA-256 before recording
      // anything, and a weak-sum collision that made it wrong is sent again, checked in full.
      const res = await upload(true).catch((err: unknown) => {
        if (err instanceof ApiError && err.code === 'HASH_MISMATCH') return upload(false);
        throw err;
      });
      return { res, bytes: sent + sig.body.length };
    }
  }
  if (local.size >= RESUMABLE_MIN_SIZE && opts.resume) return sendResumable(api, root, abs, local, sha256, base, opts);
  if (local.size <= SMALL_FILE) {
    // One read and one buffer: a stream costs two 1 MiB buffers per file (see hashFile).
    const content = await readFile(abs);
    for (let off = 0; throttle && off < content.length; off += 65536) await throttle.take(Math.min(65536, content.length - off));
    const res = await api.upload(root, { path: local.path, base, sha256, mtimeMs: local.mtimeMs, size: content.length }, content);
    return { res, bytes: content.length };
  }
  const bar = progress?.start(`↑ ${local.path}`, local.size);
  try {
    const body = fileBody(abs, 0, (n) => bar?.add(n), throttle);
    const res = await api.upload(root, { path: local.path, base, sha256, mtimeMs: local.mtimeMs, size: local.size }, body);
    return { res, bytes: local.size };
  } finally {
    progress?.stop();
  }
}

/** A big file through a resumable upload: after a broken connection or a crash, it goes on from the gateway's offset. */
async function sendResumable(api: Api, root: string, abs: string, local: LocalEntry, sha256: string, base: number | undefined, opts: TransferOptions): Promise<{ res: WriteResponse; bytes: number }> {
  const { state, linkId } = opts.resume!;
  let id = state.uploadOf(linkId, local.path, sha256);
  let offset = 0;
  if (id) {
    const status = await api.uploadStatus(root, id).catch((err: unknown) => {
      if (err instanceof ApiError && err.code === 'NOT_FOUND') return null; // expired or finished
      throw err;
    });
    if (status) offset = status.offset;
    else id = undefined;
  }
  if (!id) {
    id = (await api.createUpload(root, { path: local.path, base, sha256, mtimeMs: local.mtimeMs, length: local.size })).id;
    state.setUpload(linkId, local.path, sha256, id);
  }
  let sent = 0;
  const bar = opts.progress?.start(`↑ ${local.path}`, local.size);
  bar?.add(offset);
  try {
    if (offset < local.size) {
      const body = fileBody(abs, offset, (n) => {
        sent += n;
        bar?.add(n);
      }, opts.throttle);
      const r = await api.appendUpload(root, id, offset, body, local.size - offset);
      if (r.offset !== local.size) throw new ApiError('ABORTED', `${local.path}: the upload stopped at ${r.offset} of ${local.size} bytes; it resumes there`);
    }
    const res = await api.finishUpload(root, id);
    state.setUpload(linkId, local.path, sha256, null);
    return { res, bytes: sent };
  } catch (err) {
    if (err instanceof ApiError && (err.code === 'HASH_MISMATCH' || err.code === 'NOT_FOUND')) state.setUpload(linkId, local.path, sha256, null);
    throw err;
  } finally {
    opts.progress?.stop();
  }
}
