// Signatures of stored versions, kept on disk by content hash: a version's content never changes,
// so its signature for given parameters is computed once, whoever asks and however often.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ByteSource } from './bytes.js';
import { DeltaError, ResultCode, resolveSignatureParams, type SignatureOptions } from './format.js';
import { readSignature, signature, type Signature } from './signature.js';

const HASH_RE = /^[A-Za-z0-9_-]{8,128}$/;

export class SignatureCache {
  private readonly inflight = new Map<string, Promise<string>>();
  /** How many signatures this instance actually computed (the rest were served from disk). */
  computed = 0;

  constructor(readonly dir: string) {}

  /** The cache file for a content hash and parameters (blockLen 0 resolves with `fileSize`). */
  pathFor(contentHash: string, opts: SignatureOptions = {}): string {
    if (!HASH_RE.test(contentHash)) {
      throw new DeltaError(ResultCode.PARAM_ERROR, 'content hash must be 8-128 characters of [A-Za-z0-9_-]');
    }
    const p = resolveSignatureParams(opts);
    return join(this.dir, `${contentHash}.${p.kind}.b${p.blockLen}.s${p.strongLen}.sig`);
  }

  /**
   * Path of the signature of the content `contentHash`, computing it from `openContent()` only when
   * it is not cached yet. Concurrent calls for the same key share one computation; the file appears
   * atomically (temp file + rename), so a crash never leaves a truncated signature behind.
   */
  async getOrCompute(
    contentHash: string,
    opts: SignatureOptions,
    openContent: () => ByteSource | Promise<ByteSource>,
  ): Promise<string> {
    const path = this.pathFor(contentHash, opts);
    const running = this.inflight.get(path);
    if (running) return running;
    const job = this.compute(path, opts, openContent).finally(() => this.inflight.delete(path));
    this.inflight.set(path, job);
    return job;
  }

  /** Like getOrCompute, opened for streaming (to a client that computes a delta against it). */
  async open(contentHash: string, opts: SignatureOptions, openContent: () => ByteSource | Promise<ByteSource>): Promise<Readable> {
    try {
      return createReadStream(await this.getOrCompute(contentHash, opts, openContent), { highWaterMark: 1 << 20 });
    } catch (err) {
      // The cache is a saving, not a need: with no room to keep it, the signature is streamed as made.
      if (!isDiskFull(err)) throw err;
      return Readable.from(signature(await openContent(), opts));
    }
  }

  /** Like getOrCompute, loaded for delta(). */
  async getSignature(
    contentHash: string,
    opts: SignatureOptions,
    openContent: () => ByteSource | Promise<ByteSource>,
  ): Promise<Signature> {
    try {
      return await readSignature(createReadStream(await this.getOrCompute(contentHash, opts, openContent)));
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      return readSignature(Readable.from(signature(await openContent(), opts)));
    }
  }

  /** Where a delta from content `from` to content `to` is kept (beside the signatures). */
  deltaPathFor(from: string, to: string): string {
    if (!HASH_RE.test(from) || !HASH_RE.test(to)) throw new DeltaError(ResultCode.PARAM_ERROR, 'content hash must be 8-128 characters of [A-Za-z0-9_-]');
    return join(this.dir, 'deltas', `${from}.${to}.delta`);
  }

  /** A kept delta from content `from` to content `to`, opened for streaming, or null. */
  async openDelta(from: string, to: string): Promise<Readable | null> {
    const path = this.deltaPathFor(from, to);
    try {
      await stat(path);
    } catch {
      return null;
    }
    return createReadStream(path, { highWaterMark: 1 << 20 });
  }

  /**
   * Keeps a delta while it passes through (an upload being patched): `source` is yielded unchanged
   * and copied to a temp file. `keep()` files it as the delta from `from` to `to` once the content it
   * built was checked and recorded; `drop()` otherwise. One longer than `maxBytes` is not kept. The
   * folder keeps the `maxFiles` newest deltas. A delta is librsync's from one content to another:
   * any device holding `from` can be sent it as is, instead of one computed against its signature.
   */
  recordDelta(source: AsyncIterable<Uint8Array>, opts: { maxBytes?: number; maxFiles?: number } = {}): {
    body: AsyncGenerator<Uint8Array>;
    keep(from: string, to: string): Promise<void>;
    drop(): Promise<void>;
  } {
    const maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
    const maxFiles = opts.maxFiles ?? 200;
    const dir = join(this.dir, 'deltas');
    const tmp = join(dir, `rec.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    let out: ReturnType<typeof createWriteStream> | null = null;
    let size = 0;
    let complete = false;
    let failed = false;
    const closeOut = () => new Promise<void>((resolve) => (out ? out.end(() => resolve()) : resolve()));
    async function* body(): AsyncGenerator<Uint8Array> {
      // Keeping the delta is a saving: a folder that cannot be made (a full disk: ENOSPC, or ENOENT
      // from a recursive mkdir whose parent could not be made) must not fail the upload itself.
      try {
        await mkdir(dir, { recursive: true });
        out = createWriteStream(tmp);
        out.on('error', () => (failed = true));
      } catch {
        failed = true;
      }
      for await (const c of source) {
        size += c.length;
        if (size > maxBytes) failed = true;
        // A copy: the consumer may reuse or keep the chunk it was given.
        if (!failed && out && !out.write(Buffer.from(c))) await new Promise<void>((r) => out!.once('drain', () => r()));
        yield c;
      }
      complete = true;
    }
    return {
      body: body(),
      keep: async (from, to) => {
        await closeOut();
        if (!complete || failed) return void (await rm(tmp, { force: true }));
        await rename(tmp, this.deltaPathFor(from, to));
        await prune(dir, maxFiles);
      },
      drop: async () => {
        await closeOut();
        await rm(tmp, { force: true });
      },
    };
  }

  private async compute(
    path: string,
    opts: SignatureOptions,
    openContent: () => ByteSource | Promise<ByteSource>,
  ): Promise<string> {
    try {
      await stat(path);
      return path;
    } catch {
      // not cached yet
    }
    await mkdir(this.dir, { recursive: true });
    const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
    try {
      const source = await openContent();
      await pipeline(Readable.from(signature(source, opts)), createWriteStream(tmp));
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    this.computed++;
    return path;
  }
}

/** No room left where the cache lives (see open): ENOSPC, or a quota. */
function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** Removes the oldest deltas beyond `maxFiles` (by modification time). */
async function prune(dir: string, maxFiles: number): Promise<void> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.delta'));
  if (names.length <= maxFiles) return;
  const dated = await Promise.all(names.map(async (n) => ({ n, t: (await stat(join(dir, n)).catch(() => null))?.mtimeMs ?? 0 })));
  dated.sort((a, b) => a.t - b.t);
  for (const { n } of dated.slice(0, dated.length - maxFiles)) await rm(join(dir, n), { force: true });
}
