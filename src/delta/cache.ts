// Signatures of stored versions, kept on disk by content hash: a version's content never changes,
// so its signature for given parameters is computed once, whoever asks and however often.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
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
    return createReadStream(await this.getOrCompute(contentHash, opts, openContent), { highWaterMark: 1 << 20 });
  }

  /** Like getOrCompute, loaded for delta(). */
  async getSignature(
    contentHash: string,
    opts: SignatureOptions,
    openContent: () => ByteSource | Promise<ByteSource>,
  ): Promise<Signature> {
    return readSignature(createReadStream(await this.getOrCompute(contentHash, opts, openContent)));
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
