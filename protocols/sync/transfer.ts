/**
 * Content over the sync protocol: whole downloads (Range), delta downloads against the client's
 * signature, the head's signature (cached per content hash), and uploads whole or as a delta
 * against a version, each checked against its announced SHA-256 before anything is recorded.
 */
import type { Readable } from 'node:stream';
import { delta, DeltaError, patchChunks, readSignature, type BasisReader, type SignatureCache } from '../../src/delta/index.js';
import { isCoreError, type EntryInfo, type ReadResult, type Session, type WriteResult } from '../../src/core/index.js';
import { HEADER, SIGNATURE } from '../../src/sync-wire/index.js';
import type { SyncCore } from './adapter.js';
import { SyncError } from './errors.js';
import { markVolatile } from '../../src/lib/hashed-sink.js';

export interface Headers {
  set(name: string, value: string): void;
}

export function entryHeaders(h: Headers, e: EntryInfo): void {
  h.set(HEADER.version, String(e.version));
  h.set(HEADER.sha256, e.hash);
  h.set(HEADER.size, String(e.size));
  h.set(HEADER.mtime, String(e.mtimeMs));
  h.set(HEADER.seq, String(e.seq));
}

/** Reads at most `limit` bytes of a request body (a signature), refusing more. */
export async function readBounded(body: AsyncIterable<Uint8Array>, limit: number): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of body) {
    n += c.length;
    if (n > limit) throw new SyncError(413, 'QUOTA_EXCEEDED', `a signature may have at most ${limit} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/** Passes a request body (a signature) through, refusing it once it passes `limit` bytes. */
async function* bounded(body: AsyncIterable<Uint8Array>, limit: number): AsyncGenerator<Uint8Array> {
  let n = 0;
  for await (const c of body) {
    n += c.length;
    if (n > limit) throw new SyncError(413, 'QUOTA_EXCEEDED', `a signature may have at most ${limit} bytes`);
    yield c;
  }
}

/**
 * The delta from the client's copy to the head, streamed. The client's signature is read from the
 * request as it arrives, straight into the arrays the search uses (never buffered whole beside
 * them), and refused past `maxSignatureBytes`.
 */
export async function deltaToHead(core: SyncCore, s: Session, root: string, path: string, sigBody: AsyncIterable<Uint8Array>, maxSignatureBytes: number): Promise<{ entry: EntryInfo; body: AsyncIterable<Uint8Array> }> {
  const sig = await readSignature(bounded(sigBody, maxSignatureBytes));
  const head = await core.read(s, root, path);
  return { entry: head.entry, body: delta(sig, head.stream as AsyncIterable<Uint8Array>) };
}

/**
 * The delta from version `base` of `path` (the copy the client still has, unchanged) to the head,
 * against the gateway's own signature of that version, cached per content hash: the client neither
 * computes a signature of its copy (a full pass of strong sums over it) nor sends one. It is the
 * signature an upload from that version fetched already, so usually no work at all here. A version
 * whose content is no longer stored answers NOT_FOUND: the client then sends its signature.
 */
export async function deltaFromVersion(core: SyncCore, cache: SignatureCache, s: Session, root: string, path: string, base: number): Promise<{ entry: EntryInfo; body: AsyncIterable<Uint8Array> }> {
  const probe = await core.read(s, root, path, { version: base, start: 0, end: 0 });
  probe.stream.destroy();
  if (probe.entry.kind !== 'file') throw new SyncError(409, 'IS_A_DIRECTORY', `${path} is a folder`);
  const head = await core.read(s, root, path);
  // The head was uploaded as a delta from this very content: that delta serves as it is.
  const kept = await cache.openDelta(probe.entry.hash, head.entry.hash).catch(() => null);
  if (kept) {
    head.stream.destroy();
    return { entry: head.entry, body: kept };
  }
  try {
    const sig = await cache.getSignature(probe.entry.hash, { ...SIGNATURE, fileSize: probe.size }, async () => {
      const r = await core.read(s, root, path, { version: base });
      return r.stream as AsyncIterable<Uint8Array>;
    });
    // Runs matched by weak sums (delta.ts, trustRuns): the client checks the result's SHA-256 and,
    // when a weak-sum collision made it wrong, sends its copy's signature (deltaToHead, checked in full).
    return { entry: head.entry, body: delta(sig, head.stream as AsyncIterable<Uint8Array>, { trustRuns: true }) };
  } catch (err) {
    head.stream.destroy();
    throw err;
  }
}

/** The head's signature, computed once per content hash. */
export async function headSignature(core: SyncCore, cache: SignatureCache, s: Session, root: string, path: string): Promise<{ entry: EntryInfo; body: Readable }> {
  const entry = await core.stat(s, root, path);
  if (entry.kind !== 'file') throw new SyncError(409, 'IS_A_DIRECTORY', `${path} is a folder`);
  const body = await cache.open(entry.hash, { ...SIGNATURE, fileSize: entry.size }, async () => {
    const r = await core.read(s, root, path, { version: entry.version });
    return r.stream as AsyncIterable<Uint8Array>;
  });
  return { entry, body };
}

/** What went wrong inside a stream the core consumed: the core only sees it as an aborted upload. */
export interface StreamFault {
  err?: SyncError;
}

async function* faultOnDelta(source: AsyncIterable<Uint8Array>, fault: StreamFault): AsyncGenerator<Uint8Array> {
  try {
    yield* source;
  } catch (err) {
    if (err instanceof DeltaError) fault.err = new SyncError(400, 'CORRUPT_DELTA', `the delta cannot be applied: ${err.message}; nothing was recorded`);
    throw err;
  }
}

/** Runs a write; a broken delta or a content with another SHA-256 than announced answers in the protocol's terms. */
export async function recorded(fault: StreamFault, job: Promise<WriteResult>): Promise<WriteResult> {
  try {
    return await job;
  } catch (err) {
    if (fault.err && (isCoreError(err, 'ABORTED') || !isCoreError(err))) throw fault.err;
    if (isCoreError(err, 'PRECONDITION_FAILED') && err.details.reason === 'hash-mismatch') throw new SyncError(422, 'HASH_MISMATCH', err.message);
    throw err;
  }
}

export interface UploadParams {
  path: string;
  base?: number;
  sha256: string;
  mtimeMs?: number;
}

export function uploadWhole(core: SyncCore, s: Session, root: string, p: UploadParams, body: AsyncIterable<Uint8Array>): Promise<WriteResult> {
  const fault: StreamFault = {};
  return recorded(fault, core.write(s, root, p.path, body, { baseVersion: p.base, mtimeMs: p.mtimeMs, sha256: p.sha256 }));
}

/**
 * A delta against version `base` (the client fetched that version's signature): patched against
 * that version's content, whatever the head is now, so an outdated base still gives the client's
 * exact content (then a conflict copy, decided by the core).
 */
export async function uploadDelta(core: SyncCore, s: Session, root: string, p: UploadParams & { base: number }, body: AsyncIterable<Uint8Array>, cache?: SignatureCache): Promise<WriteResult> {
  const fault: StreamFault = {};
  const basis = versionBasis(core, s, root, p.path, p.base);
  // The delta is kept as it passes: a device that still has the base gets it as is (deltaFromVersion).
  const kept = cache?.recordDelta(body);
  try {
    // Patched into two reused buffers: the staging file takes each piece before the next is read.
    const patched = markVolatile(faultOnDelta(patchChunks(basis.reader, faultOnDelta(kept?.body ?? body, fault), true), fault));
    const result = await recorded(fault, core.write(s, root, p.path, patched, { baseVersion: p.base, mtimeMs: p.mtimeMs, sha256: p.sha256 }));
    const from = basis.hash();
    if (kept && from && !result.conflict && !result.unchanged && result.entry.hash === p.sha256) await kept.keep(from, p.sha256).catch(() => kept.drop());
    else await kept?.drop();
    return result;
  } catch (err) {
    await kept?.drop();
    throw err;
  } finally {
    basis.close();
  }
}

/**
 * Random access to one stored version: the core opens it once and a delta's COPY commands read it
 * at their positions straight into the patch's buffers (ReadResult.readAt). A stream per run of
 * COPYs made a 1 MiB buffer per read and a copy of every byte out of it: garbage for the collector
 * of the size of the file. A version that cannot be read is an empty basis: a COPY from it is a
 * corrupt delta (CORRUPT_DELTA), as before.
 */
function versionBasis(core: SyncCore, s: Session, root: string, path: string, version: number): { reader: BasisReader; close(): void; hash(): string | null } {
  let opened: Promise<ReadResult | null> | null = null;
  let file: ReadResult | null = null;
  let closed = false;
  const open = () =>
    (opened ??= core.read(s, root, path, { version }).then(
      (r) => {
        if (closed) r.close();
        return (file = closed ? null : r);
      },
      () => null,
    ));
  const reader: BasisReader = async (buf, position) => {
    const r = await open();
    return r ? r.readAt(buf, position) : 0;
  };
  return {
    reader,
    close: () => {
      closed = true;
      file?.close();
    },
    hash: () => file?.entry.hash ?? null,
  };
}
