import { createHash, type Hash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { HashedSink, hasVolatileChunks } from '../lib/hashed-sink.js';
import { randomToken } from '../lib/ids.js';
import { KeyedMutex } from '../lib/mutex.js';
import { fail, isCoreError, isStorageFull, storageFull } from './errors.js';
import { checkMtime, checkScope, safePath } from './live.js';
import type { Roots } from './roots.js';
import type { Session } from './session.js';
import type { WriteResult } from './types.js';
import type { VfsWriter } from './vfs-write.js';

export interface NewUpload {
  root: string;
  path: string;
  /** Total bytes the upload will have. */
  length: number;
  /** The version the sender edited: checked when the upload finishes, as for any write. */
  baseVersion?: number;
  onConflict?: 'copy' | 'fail';
  mtimeMs?: number;
  /** Opaque to the core: what the door wants back on a status request (tus: Upload-Metadata). */
  metadata?: string;
  /** The SHA-256 the whole content must have: checked when it finishes, before anything is recorded. */
  sha256?: string;
}

export interface UploadInfo {
  id: string;
  root: string;
  path: string;
  length: number;
  /** Bytes received so far. */
  offset: number;
  baseVersion?: number;
  onConflict: 'copy' | 'fail';
  mtimeMs?: number;
  sha256?: string;
  metadata: string;
  createdAt: number;
  expiresAt: number;
}

/** What is kept beside the partial content. */
interface Stored extends Omit<UploadInfo, 'offset' | 'expiresAt'> {
  userId: number;
  /** A share-link session's upload belongs to that link's scope only. */
  scope: string;
}

export interface AppendResult {
  offset: number;
  /** The sender's stream broke: what arrived is kept and the upload resumes from `offset`. */
  interrupted: boolean;
}

const ID = /^[A-Za-z0-9_-]{20,64}$/;

export interface UploadLimits {
  /**
   * Unfinished uploads one user may hold at once; a share link's uploads (made as its creator)
   * are counted apart, per link, with the same cap, so strangers cannot use up the owner's.
   */
  maxOpenPerUser?: number;
}

/**
 * Resumable uploads, for any door (tus over REST, the sync door): the partial content lives in the
 * data folder (`uploads/tus/<id>.bin` + `.json`), never in a root, and belongs to the user (and
 * share-link scope) that created it. Finishing streams it through the one write path (one version,
 * history, conflicts through the base version as usual) and removes the partial.
 */
export class ResumableUploads {
  private readonly dir: string;
  private readonly ready: Promise<unknown>;
  /** One append per upload at a time: a retry after a broken connection waits for the old one to end. */
  private readonly busy = new Map<string, Promise<void>>();
  private readonly creating = new KeyedMutex();
  /** The SHA-256 of each upload's bytes so far, while this process received them all in order. */
  private readonly hashes = new Map<string, { hash: Hash; at: number }>();

  constructor(
    uploadDir: string,
    private readonly roots: Roots,
    private readonly writer: VfsWriter,
    private readonly now: () => number = Date.now,
    private readonly expireMs = 24 * 3600_000,
    private readonly limits: UploadLimits = {},
  ) {
    this.dir = path.join(uploadDir, 'tus');
    this.ready = mkdir(this.dir, { recursive: true });
  }

  /** Unfinished, unexpired uploads of one owner (creations are rare: reading the records is fine). */
  private async openOf(userId: number, scope: string): Promise<number> {
    let n = 0;
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      if (!name.endsWith('.json')) continue;
      const s = await readFile(path.join(this.dir, name), 'utf8').then((t) => JSON.parse(t) as Stored, () => null);
      if (s && s.userId === userId && (s.scope ?? '') === scope && this.now() - s.createdAt <= this.expireMs) n += 1;
    }
    return n;
  }

  private files(id: string) {
    return { bin: path.join(this.dir, `${id}.bin`), json: path.join(this.dir, `${id}.json`) };
  }

  async create(session: Session, input: NewUpload): Promise<UploadInfo> {
    await this.ready;
    if (!Number.isSafeInteger(input.length) || input.length < 0) fail('INVALID_INPUT', 'an upload length is a whole number of bytes');
    if (input.baseVersion !== undefined && (!Number.isInteger(input.baseVersion) || input.baseVersion < 0)) fail('INVALID_INPUT', 'baseVersion must be an integer');
    checkMtime(input.mtimeMs);
    const rel = safePath(input.path);
    if (rel === '') fail('IS_A_DIRECTORY', 'the root is a folder');
    // Invisible roots are NOT_FOUND, read-only ones PERMISSION_DENIED, before any byte.
    await this.roots.open(session, input.root, 'write');
    checkScope(session, rel, session.scope?.mode === 'upload' ? 'create' : 'write');
    const stored: Stored = {
      id: randomToken(24),
      userId: session.user.id,
      scope: scopeKey(session),
      root: input.root,
      path: rel,
      length: input.length,
      ...(input.baseVersion !== undefined ? { baseVersion: input.baseVersion } : {}),
      onConflict: input.onConflict === 'fail' ? 'fail' : 'copy',
      ...(input.mtimeMs !== undefined ? { mtimeMs: input.mtimeMs } : {}),
      ...(input.sha256 !== undefined ? { sha256: input.sha256 } : {}),
      createdAt: this.now(),
      metadata: input.metadata ?? '',
    };
    void this.sweep();
    const f = this.files(stored.id);
    const owner = `${stored.userId}/${stored.scope}`;
    // Counted and recorded one creation at a time per owner: parallel creations cannot pass the cap together.
    await this.creating.run(owner, async () => {
      const max = this.limits.maxOpenPerUser ?? Number.POSITIVE_INFINITY;
      if ((await this.openOf(stored.userId, stored.scope)) >= max) {
        fail('TOO_MANY_ATTEMPTS', `at most ${max} unfinished uploads at once: finish or delete one first`, { reason: 'open-uploads' });
      }
      try {
        await writeFile(f.bin, '');
        await writeFile(f.json, JSON.stringify(stored));
      } catch (err) {
        await this.remove(stored.id);
        if (isStorageFull(err)) throw storageFull(rel);
        throw err;
      }
    });
    return this.info(stored, 0);
  }

  /** The upload and its offset; waits for an append still draining, so the offset is settled. */
  async status(session: Session, id: string): Promise<UploadInfo> {
    const stored = await this.load(session, id);
    await this.busy.get(id);
    return this.info(stored, await this.offsetOf(id));
  }

  /**
   * Appends `source` at `offset`, which must be the upload's current offset (else CONFLICT with
   * details.offset). More bytes than the length is INVALID_INPUT; a broken stream keeps what arrived.
   */
  async append(session: Session, id: string, offset: number, source: Readable | AsyncIterable<Uint8Array>): Promise<AppendResult> {
    const stored = await this.load(session, id);
    const before = this.busy.get(id) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((res) => (release = res));
    const chain = before.then(() => mine);
    this.busy.set(id, chain);
    await before;
    try {
      const at = await this.offsetOf(id);
      if (!Number.isSafeInteger(offset) || offset !== at) fail('CONFLICT', `the upload is at offset ${at}`, { offset: at });
      // Hashed as it arrives, so finishing needs no second read (see finish); kept only while this
      // process has seen every byte since 0 in order (after a restart or a broken stream, finish
      // hashes the file).
      const running = this.hashes.get(id);
      this.hashes.delete(id);
      const continued = at === 0 || running?.at === at;
      const hash = at > 0 && continued ? running!.hash : createHash('sha256');
      // Written as the gateway's staging writes (batched, handed to the disk every 32 MiB, so the
      // final sync of the file finish links does not wait for every dirty page at once).
      const sink = await HashedSink.open(this.files(id).bin, { start: at, limit: stored.length, hash, volatile: hasVolatileChunks(source) });
      let failure: unknown = null;
      try {
        // The source is the caller's (a request): a full disk must not destroy it, or its socket
        // goes with it and the sender never reads why it stopped (EPIPE instead of the 507).
        for await (const chunk of source instanceof Readable ? source.iterator({ destroyOnReturn: false }) : source) await sink.write(chunk);
        await sink.end();
      } catch (err) {
        failure = err;
        await sink.end().catch(() => {}); // what arrived is kept, as far as the disk took it
      } finally {
        await sink.close().catch(() => {});
      }
      if (failure !== null) {
        if ((failure as NodeJS.ErrnoException).code === 'EFBIG') fail('INVALID_INPUT', 'more bytes than the upload length');
        // Not an interruption the sender can just retry at once: what arrived is kept (the upload
        // resumes from its offset once space is freed), and the sender is told why it stopped.
        if (isStorageFull(failure)) {
          const kept = await this.offsetOf(id);
          fail('INSUFFICIENT_STORAGE', `the gateway's disk is full: ${stored.path} stopped at byte ${kept} of ${stored.length}; nothing was recorded, and the upload resumes there once space is freed`, { offset: kept });
        }
        return { offset: await this.offsetOf(id), interrupted: true };
      }
      if (continued) this.hashes.set(id, { hash, at: sink.size });
      return { offset: sink.size, interrupted: false };
    } finally {
      release();
      if (this.busy.get(id) === chain) this.busy.delete(id);
    }
  }

  /**
   * Every byte arrived: one write through the core, then the partial goes away. `sha256` is checked
   * like the one given at creation (a client may name it only now, having hashed while sending).
   */
  async finish(session: Session, id: string, sha256?: string): Promise<WriteResult> {
    const stored = await this.load(session, id);
    if (sha256 !== undefined && stored.sha256 !== undefined && sha256 !== stored.sha256) {
      fail('PRECONDITION_FAILED', `the upload was announced with SHA-256 ${stored.sha256}, not ${sha256}: nothing was recorded`, { reason: 'hash-mismatch' });
    }
    const want = sha256 ?? stored.sha256;
    await this.busy.get(id);
    const offset = await this.offsetOf(id);
    if (offset !== stored.length) fail('CONFLICT', `the upload has ${offset} of ${stored.length} bytes`, { offset });
    const running = this.hashes.get(id);
    this.hashes.delete(id);
    const known = running?.at === stored.length ? { hash: running.hash.digest('hex'), size: stored.length } : undefined;
    let result: WriteResult;
    try {
      // The partial itself becomes the version (linked, not copied: 1 GiB was read and written again).
      result = await this.writer.writeAdopted(session, stored.root, stored.path, this.files(id).bin, known, {
        ...(stored.baseVersion !== undefined ? { baseVersion: stored.baseVersion, onConflict: stored.onConflict } : {}),
        createParents: true,
        ...(stored.mtimeMs !== undefined ? { mtimeMs: stored.mtimeMs } : {}),
        ...(want !== undefined ? { sha256: want } : {}),
      });
    } catch (err) {
      // Storage trouble may pass; anything else (conflict refused, root gone) never will.
      if (!isCoreError(err, 'INSUFFICIENT_STORAGE')) await this.remove(id);
      throw err;
    }
    await this.remove(id);
    return result;
  }

  async cancel(session: Session, id: string): Promise<void> {
    await this.load(session, id);
    await this.remove(id);
  }

  private info(s: Stored, offset: number): UploadInfo {
    const { userId: _u, scope: _s, ...rest } = s;
    return { ...rest, offset, expiresAt: s.createdAt + this.expireMs };
  }

  private async load(session: Session, id: string): Promise<Stored> {
    await this.ready;
    if (!ID.test(id)) fail('NOT_FOUND', 'no such upload');
    const text = await readFile(this.files(id).json, 'utf8').catch(() => fail('NOT_FOUND', 'no such upload'));
    const stored = JSON.parse(text) as Stored;
    if (stored.userId !== session.user.id || (stored.scope ?? '') !== scopeKey(session)) fail('NOT_FOUND', 'no such upload');
    if (this.now() - stored.createdAt > this.expireMs) {
      await this.remove(id);
      fail('NOT_FOUND', 'the upload expired');
    }
    return stored;
  }

  private async remove(id: string): Promise<void> {
    const f = this.files(id);
    this.hashes.delete(id);
    await rm(f.json, { force: true });
    await rm(f.bin, { force: true });
  }

  private async sweep(): Promise<void> {
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      const st = await stat(path.join(this.dir, name)).catch(() => null);
      if (st && this.now() - st.mtimeMs > this.expireMs) await rm(path.join(this.dir, name), { force: true });
    }
  }

  private async offsetOf(id: string): Promise<number> {
    return (await stat(this.files(id).bin).catch(() => ({ size: 0 }))).size;
  }
}

function scopeKey(session: Session): string {
  const s = session.scope;
  return s ? `${s.rootId}:${s.mode}:${s.path}` : '';
}
