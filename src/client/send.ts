/**
 * Sending content from the linked folder to the gateway: a librsync delta against the version
 * edited, the whole file, or a resumable upload for a big one; a new file is hashed from the read
 * that sends it (the scan does not read it), and one that changes meanwhile is not recorded.
 */
import { createReadStream } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHash, type Hash } from 'node:crypto';
import { delta, fileSource, readSignature, type PullSource } from '../delta/index.js';
import { DELTA_MIN_SIZE, RESUMABLE_MIN_SIZE, type WriteResponse } from '../sync-wire/index.js';
import { ApiError, type Api } from './api.js';
import { hashFile, sameFingerprint, SMALL_FILE, statEntry, type LocalEntry } from './local.js';
import { counted, type Throttle } from './throttle.js';
import type { BodyWriter } from './stream-request.js';
import type { TransferOptions } from './transfers.js';

const CHUNK = 1 << 20;

/**
 * The file changed while it was being sent (a new file is hashed as it goes up, not before): nothing
 * is recorded, and the watcher or the next pass names it again once it settles, as for a file that
 * changes while the scan hashes it.
 */
export class ChangedWhileSent extends Error {}

/** What a body reader does with each piece it read: hash it, and stop if the file is changing. */
interface Reading {
  hash: Hash;
  /** The fingerprint the file had when the pass saw it. */
  entry: LocalEntry;
}

/**
 * A file's bytes from `start` as a request body: read into two buffers that take turns, each read
 * again once the socket has taken the last write from it (its callback), so reading overlaps
 * sending and no new 1 MiB buffer is made per read (fs streams do: their pages faulted in and
 * freed again cost a tenth of a big upload's CPU, as on the gateway's side: storage/file-sender.ts).
 * The throttle is asked before each 64 KiB.
 */
function fileBody(abs: string, local: LocalEntry, start: number, onBytes: (n: number) => void, throttle?: Throttle, reading?: Reading): BodyWriter {
  return async (out) => {
    const fh = await open(abs, 'r');
    // Never past the length the request announced: the bytes of a file that grew meanwhile went on
    // the wire after the body, the gateway read them as a next request (HPE_INVALID_METHOD) and
    // answered 400, although it had recorded the body: the pass took the upload for failed, and
    // the next one made a conflict copy of the whole file against its own prefix, left at its name.
    const stop = local.size;
    let reads = 0;
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
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, stop - pos), pos);
        if (bytesRead === 0 && pos < stop) throw new ChangedWhileSent(`${local.path}: cut short while it was sent`);
        if (bytesRead === 0) break;
        pos += bytesRead;
        if (reading) {
          // A file still being written stops here (looked at every 8 MiB), not after the whole
          // length went up; the end is checked again by path once all is sent.
          if (++reads % 8 === 0) {
            const now = await fh.stat();
            if (now.size !== reading.entry.size || Math.trunc(now.mtimeMs) !== reading.entry.mtimeMs) throw new ChangedWhileSent(`${reading.entry.path}: changed while it was sent`);
          }
          reading.hash.update(buf.subarray(0, bytesRead));
        }
        if (!throttle) {
          // One write per buffer (16 calls per MiB cost CPU of their own), not waiting for it to
          // drain: the next read overlaps it, and the two buffers bound what is in flight.
          if (failed) throw failed;
          onBytes(bytesRead);
          out.write(buf.subarray(0, bytesRead), () => (free.push(buf), poke()));
          continue;
        }
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

/** What went up: the gateway's answer, the bytes sent, and the content's SHA-256. */
export interface Sent {
  res: WriteResponse;
  bytes: number;
  sha256: string;
}

/**
 * Sends the local file as a new version of `rel` edited from `base`: a delta against the server's
 * copy of `base` when the file is big enough, else whole. `sha256` '' (a new big file the scan did
 * not read): a resumable upload hashes it as it sends and names the hash at the end.
 */
export async function sendFile(api: Api, root: string, dir: string, local: LocalEntry, sha256: string, base: number | undefined, opts: TransferOptions = {}): Promise<Sent> {
  const { progress, throttle } = opts;
  const abs = path.join(dir, local.path);
  if (local.size >= RESUMABLE_MIN_SIZE && opts.resume && !base) return sendResumable(api, root, dir, local, sha256, base, opts);
  const deltaWorthIt = Boolean(base) && local.size >= DELTA_MIN_SIZE;
  // Not hashed by the scan (a new file): a small one is hashed from the one read below, a medium
  // one now; one sent as a delta by the read that makes the delta.
  if (!sha256 && local.size > SMALL_FILE && !deltaWorthIt) sha256 = await hashOf(dir, local);
  const sent = (r: { res: WriteResponse; bytes: number }): Sent => ({ ...r, sha256 });
  if (base && deltaWorthIt) {
    const sig = await api.signature(root, local.path).catch((err: unknown) => {
      if (err instanceof ApiError && err.code === 'NOT_FOUND') return null;
      throw err;
    });
    // Only a delta against the very version edited: another one would record the wrong content.
    if (sig && sig.entry.version === base) {
      const parsed = await readSignature(Readable.from([sig.body]));
      let sent = 0;
      let hashed = sha256;
      const upload = async (trustRuns: boolean): Promise<WriteResponse> => {
        const fh = await open(abs, 'r');
        try {
          // Not hashed yet: hashed as the delta reads it, and the hash sent after the delta.
          const made = sha256
            ? delta(parsed, fileSource(fh), { trustRuns })
            : withHashAfter(local, dir, (hash) => delta(parsed, hashedSource(fh, hash), { trustRuns }), (hex) => (hashed = hex));
          // A writer, not a stream: its failure (the file changed, a read error) is this file's
          // problem, reported as such, not taken for an unreachable gateway.
          const body: BodyWriter = (out) => pipeline(Readable.from(counted(made, (n) => (sent += n), throttle)), out, { end: false });
          return await api.uploadDelta(root, { path: local.path, base, sha256: sha256 || 'trailer', mtimeMs: local.mtimeMs }, body);
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
      return { res, bytes: sent + sig.body.length, sha256: hashed };
    }
  }
  if (!sha256 && local.size > SMALL_FILE) sha256 = await hashOf(dir, local); // no delta after all
  if (local.size >= RESUMABLE_MIN_SIZE && opts.resume) return sendResumable(api, root, dir, local, sha256, base, opts);
  if (local.size <= SMALL_FILE) {
    // One read and one buffer: a stream costs two 1 MiB buffers per file (see hashFile); hashed
    // from that buffer when the scan did not, then checked against the fingerprint it was seen with.
    const content = await readFile(abs);
    if (!sha256) {
      sha256 = createHash('sha256').update(content).digest('hex');
      const after = await statEntry(dir, local.path);
      if (!after || !sameFingerprint(after, local)) throw new ChangedWhileSent(`${local.path}: changed while it was read`);
    }
    for (let off = 0; throttle && off < content.length; off += 65536) await throttle.take(Math.min(65536, content.length - off));
    const res = await api.upload(root, { path: local.path, base, sha256, mtimeMs: local.mtimeMs, size: content.length }, content);
    return { res, bytes: content.length, sha256 };
  }
  const bar = progress?.start(`↑ ${local.path}`, local.size);
  try {
    const body = fileBody(abs, local, 0, (n) => bar?.add(n), throttle);
    const res = await api.upload(root, { path: local.path, base, sha256, mtimeMs: local.mtimeMs, size: local.size }, body);
    return sent({ res, bytes: local.size });
  } finally {
    progress?.stop();
  }
}

/** A file read for a delta, each piece hashed as it is read (the delta reads it once, in order). */
function hashedSource(fh: FileHandle, hash: Hash): PullSource {
  return {
    async readInto(buf) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      hash.update(buf.subarray(0, bytesRead));
      return bytesRead;
    },
  };
}

/**
 * A delta made by `make` from a read that hashes the file, followed by that hash (the 32 bytes of
 * /patch's `trailer=sha256`), once the file is seen unchanged since the pass (else the upload
 * fails, and nothing is recorded: the gateway refuses a body cut short).
 */
async function* withHashAfter(local: LocalEntry, dir: string, make: (hash: Hash) => AsyncIterable<Uint8Array>, onHash: (hex: string) => void): AsyncGenerator<Uint8Array> {
  const hash = createHash('sha256');
  yield* make(hash);
  const after = await statEntry(dir, local.path);
  if (!after || !sameFingerprint(after, local)) throw new ChangedWhileSent(`${local.path}: changed while it was sent`);
  const digest = hash.digest();
  onHash(digest.toString('hex'));
  yield digest;
}

/** The file's SHA-256 read now, if it still has the fingerprint the pass saw. */
export async function hashOf(dir: string, local: LocalEntry): Promise<string> {
  const sha256 = await hashFile(path.join(dir, local.path), local.size);
  const after = await statEntry(dir, local.path);
  if (!after || !sameFingerprint(after, local)) throw new ChangedWhileSent(`${local.path}: changed while it was read`);
  return sha256;
}

/**
 * A big file through a resumable upload: after a broken connection or a crash, it goes on from the
 * gateway's offset. Without a hash from the scan (`sha256` ''), the file is hashed as it is read
 * for sending (one read instead of two, and the upload starts at once); the upload is remembered
 * by the file's fingerprint then, and its hash named at the finish, where the gateway checks it.
 */
async function sendResumable(api: Api, root: string, dir: string, local: LocalEntry, sha256: string, base: number | undefined, opts: TransferOptions): Promise<Sent> {
  const { state, linkId } = opts.resume!;
  const abs = path.join(dir, local.path);
  const key = sha256 || `unhashed:${local.size}:${local.mtimeMs}:${local.ino}`;
  let id = state.uploadOf(linkId, local.path, key);
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
    id = (await api.createUpload(root, { path: local.path, base, ...(sha256 ? { sha256 } : {}), mtimeMs: local.mtimeMs, length: local.size })).id;
    state.setUpload(linkId, local.path, key, id);
  }
  const reading = sha256 ? undefined : { hash: createHash('sha256'), entry: local };
  let sent = 0;
  const bar = opts.progress?.start(`↑ ${local.path}`, local.size);
  bar?.add(offset);
  try {
    // Resumed: what the gateway has already is hashed from here (the file is unchanged: same fingerprint).
    if (reading && offset > 0) for await (const c of createReadStream(abs, { start: 0, end: offset - 1, highWaterMark: CHUNK })) reading.hash.update(c as Buffer);
    if (offset < local.size) {
      const body = fileBody(abs, local, offset, (n) => {
        sent += n;
        bar?.add(n);
      }, opts.throttle, reading);
      const r = await api.appendUpload(root, id, offset, body, local.size - offset);
      if (r.offset !== local.size) throw new ApiError('ABORTED', `${local.path}: the upload stopped at ${r.offset} of ${local.size} bytes; it resumes there`);
    }
    if (reading) {
      const after = await statEntry(dir, local.path);
      if (!after || !sameFingerprint(after, local)) throw new ChangedWhileSent(`${local.path}: changed while it was sent`);
      sha256 = reading.hash.digest('hex');
    }
    const res = await api.finishUpload(root, id, reading ? sha256 : undefined);
    state.setUpload(linkId, local.path, key, null);
    return { res, bytes: sent, sha256 };
  } catch (err) {
    if (err instanceof ChangedWhileSent || (err instanceof ApiError && (err.code === 'HASH_MISMATCH' || err.code === 'NOT_FOUND'))) state.setUpload(linkId, local.path, key, null);
    throw err;
  } finally {
    opts.progress?.stop();
  }
}
