/**
 * Moving content between the linked folder and the gateway: whole or as a librsync delta, each
 * verified by SHA-256 before it replaces anything.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { delta, fileBasis, fileSource, patch, readSignature, signature } from '../delta/index.js';
import { DELTA_MIN_SIZE, SIGNATURE, type WriteResponse } from '../sync-wire/index.js';
import { ApiError, type Api, type Download } from './api.js';
import { discard, install, tempBeside, writeTemp, type LocalEntry } from './local.js';
import type { Progress } from './progress.js';

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

async function* counted(source: AsyncIterable<Uint8Array>, onBytes: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const c of source) {
    onBytes(c.length);
    yield c;
  }
}

/**
 * Fetches the head of `rel` into a temp file beside it, as a delta against the local copy when
 * there is one worth it; `stillOk` is asked just before the rename (a local edit made meanwhile
 * must not be overwritten: the temp file is dropped and null returned).
 */
export async function fetchFile(api: Api, root: string, dir: string, rel: string, have: LocalEntry | null, stillOk: () => Promise<boolean>, progress?: Progress): Promise<Fetched | null> {
  const temp = await tempBeside(dir, rel);
  let bytes = 0;
  try {
    let dl: Download;
    let content: AsyncIterable<Uint8Array>;
    let basis: Awaited<ReturnType<typeof open>> | null = null;
    if (have && have.kind === 'file' && have.size >= DELTA_MIN_SIZE) {
      basis = await open(path.join(dir, rel), 'r');
      const sig = await collect(signature(fileSource(basis), { ...SIGNATURE, fileSize: have.size }));
      dl = await api.deltaDownload(root, rel, sig);
      content = patch(fileBasis(basis), counted(dl.body, (n) => (bytes += n)));
    } else {
      dl = await api.download(root, rel);
      const bar = progress?.start(`↓ ${rel}`, dl.entry.size);
      content = counted(dl.body, (n) => {
        bytes += n;
        bar?.add(n);
      });
    }
    try {
      const got = await writeTemp(temp, content);
      if (got.sha256 !== dl.entry.sha256) throw new ApiError('HASH_MISMATCH', `${rel}: the content received does not have the SHA-256 the gateway announced; nothing was replaced`);
    } finally {
      await basis?.close();
      progress?.stop();
    }
    if (!(await stillOk())) {
      await discard(temp);
      return null;
    }
    const local = await install(dir, temp, rel, dl.entry.mtimeMs);
    return { entry: dl.entry, local, bytes };
  } catch (err) {
    await discard(temp);
    throw err;
  }
}

/**
 * Sends the local file as a new version of `rel` edited from `base`: a delta against the server's
 * copy of `base` when the file is big enough, else whole.
 */
export async function sendFile(api: Api, root: string, dir: string, local: LocalEntry, sha256: string, base: number | undefined, progress?: Progress): Promise<{ res: WriteResponse; bytes: number }> {
  const abs = path.join(dir, local.path);
  if (base && local.size >= DELTA_MIN_SIZE) {
    const sig = await api.signature(root, local.path).catch((err: unknown) => {
      if (err instanceof ApiError && err.code === 'NOT_FOUND') return null;
      throw err;
    });
    // Only a delta against the very version edited: another one would record the wrong content.
    if (sig && sig.entry.version === base) {
      const parsed = await readSignature(Readable.from([sig.body]));
      const fh = await open(abs, 'r');
      try {
        let sent = 0;
        const body = Readable.from(counted(delta(parsed, fileSource(fh)), (n) => (sent += n)));
        const res = await api.uploadDelta(root, { path: local.path, base, sha256, mtimeMs: local.mtimeMs }, body);
        return { res, bytes: sent + sig.body.length };
      } finally {
        await fh.close();
      }
    }
  }
  const bar = progress?.start(`↑ ${local.path}`, local.size);
  try {
    const body = Readable.from(counted(createReadStream(abs, { highWaterMark: 1 << 20 }), (n) => bar?.add(n)));
    const res = await api.upload(root, { path: local.path, base, sha256, mtimeMs: local.mtimeMs, size: local.size }, body);
    return { res, bytes: local.size };
  } finally {
    progress?.stop();
  }
}
