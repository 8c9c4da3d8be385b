/**
 * The one way content is written to a new file while it passes: hashed on this thread, written in
 * batches on the thread pool, handed to the disk as it goes and synced at the end. It serves whole
 * downloads (the client), patch output (the client and the gateway's /patch), uploads (the
 * gateway's staging) and the appends of resumable uploads.
 *
 * - A socket hands over 16-64 KiB at a time, and one write(2) each cost more CPU than the hash
 *   (1 GiB: about 20,000 calls). Chunks the caller gives away are kept and go out as one writev(2)
 *   per 1 MiB, each batch written while the next gathers (at most two are held).
 * - A patch's output lives in reused buffers, valid only until the next chunk is asked for
 *   (`volatile`). A big piece is written from where it is: its write(2) goes to the pool first and
 *   the piece is hashed here while the kernel copies it, so hash and write overlap instead of
 *   following each other. Small pieces (a patch's literals) are copied into one of two buffers of
 *   our own, which then take turns like the batches above; copying every piece instead made 512
 *   new 2 MiB buffers per patched GiB, and the collector's marking was a sixth of the gateway's CPU.
 * - Dirty pages are not written back before the final sync (the kernel waits for gigabytes), so the
 *   last sync of 1 GiB took seconds: a datasync every 32 MiB, beside the next writes, lets the disk
 *   work while the network does.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';

/** Volatile pieces at least this big are written from where they are; smaller ones are copied. */
const DIRECT = 256 << 10;
const BATCH = 1 << 20;
const EARLY_FLUSH = 32 << 20;

/**
 * Marks an async iterable whose chunks are valid only until the next one is asked for: a consumer
 * that sees the mark must be done with each chunk (written, hashed) before it pulls the next, and
 * must never hold one back. Unmarked sources give chunks the consumer may keep.
 */
export const VOLATILE_CHUNKS = Symbol.for('syncgate.volatileChunks');

export function markVolatile<T extends AsyncIterable<Uint8Array>>(source: T): T {
  Object.defineProperty(source, VOLATILE_CHUNKS, { value: true });
  return source;
}

export function hasVolatileChunks(source: unknown): boolean {
  return typeof source === 'object' && source !== null && (source as Record<symbol, unknown>)[VOLATILE_CHUNKS] === true;
}

export interface SinkOptions {
  /** Each chunk may be reused by its owner once write() resolves (see markVolatile). */
  volatile?: boolean;
  /** Continues a file of `start` bytes whose content `hash` has seen (a resumed download's part file). */
  hash?: Hash;
  start?: number;
  /** Refused past this many bytes (EFBIG), before anything past it is written. */
  limit?: number;
}

export class HashedSink {
  private readonly volatile: boolean;
  private readonly hash: Hash;
  private readonly limit: number;
  /** Chunks gathered for the next batch: the caller's own, or slices of `slabs[slab]` when volatile. */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Volatile mode: the two buffers small pieces are copied into, one filling while the other is written. */
  private readonly slabs: Buffer[];
  private slab = 0;
  /** The batch or piece being written; a failure is reported by the next write or by finish. */
  private writing: Promise<void> | null = null;
  private flushing: Promise<void> | null = null;
  private flushedAt: number;
  /** Where the next write goes: the bytes in the file. */
  private written: number;
  /** Bytes in the file, written or pending. */
  size: number;
  /** Datasyncs started before the end (what a test or a bench can check). */
  earlyFlushes = 0;

  private constructor(
    private readonly fh: FileHandle,
    opts: SinkOptions,
  ) {
    this.volatile = opts.volatile ?? false;
    this.hash = opts.hash ?? createHash('sha256');
    this.limit = opts.limit ?? Number.POSITIVE_INFINITY;
    this.slabs = this.volatile ? [Buffer.allocUnsafeSlow(BATCH), Buffer.allocUnsafeSlow(BATCH)] : [];
    this.size = this.written = this.flushedAt = opts.start ?? 0;
  }

  /** A new file, or with `start` an existing one continued from that offset. */
  static async open(file: string, opts: SinkOptions = {}): Promise<HashedSink> {
    return new HashedSink(await open(file, (opts.start ?? 0) > 0 ? 'r+' : 'w'), opts);
  }

  /** Hashes `chunk` and writes it (now or with its batch). */
  async write(chunk: Uint8Array): Promise<void> {
    const n = chunk.length;
    if (n === 0) return;
    if (this.size + n > this.limit) throw Object.assign(new Error('upload exceeds the size limit'), { code: 'EFBIG' });
    this.size += n;
    if (this.volatile && n >= DIRECT) return this.writeInPlace(chunk);
    this.hash.update(chunk);
    if (this.volatile) {
      if (this.pendingBytes + n > BATCH) await this.sendBatch();
      const slab = this.slabs[this.slab]!;
      slab.set(chunk, this.pendingBytes);
      // Pieces copied one after the other are one slice of the slab.
      if (this.pending.length === 0) this.pending.push(slab.subarray(0, n));
      else this.pending[0] = slab.subarray(0, this.pendingBytes + n);
    } else {
      this.pending.push(chunk);
    }
    this.pendingBytes += n;
    if (this.pendingBytes >= BATCH) await this.sendBatch();
  }

  /** Writes what is pending, syncs the file's data, and returns the content's SHA-256 (hex). */
  async finish(): Promise<string> {
    await this.end();
    await this.fh.datasync(); // the data and the size: all a reader needs
    return this.hash.digest('hex');
  }

  /**
   * Writes what is pending and waits for it, with no final sync and no digest: a part of the file
   * that a later sink continues (`start`, `hash`), as a resumable upload's appends do.
   */
  async end(): Promise<void> {
    await this.sendBatch();
    await this.writing;
    await this.flushing;
  }

  /** Waits for what is under way (a failure there was reported or is moot now) and closes the file. */
  async close(): Promise<void> {
    await this.writing?.catch(() => undefined);
    await this.flushing;
    await this.fh.close();
  }

  /** A volatile piece, big enough to write from where it is: hashed while the pool writes it. */
  private async writeInPlace(chunk: Uint8Array): Promise<void> {
    await this.sendBatch();
    await this.writing;
    this.writing = null;
    const w = this.writeAll([chunk]);
    this.hash.update(chunk);
    await w;
    this.flushEarly();
  }

  /** Hands what is pending to the pool once the write before it is done (it is rethrown if it failed). */
  private async sendBatch(): Promise<void> {
    if (this.pendingBytes === 0) return;
    await this.writing; // one write at a time; a volatile batch's slab is free once its write is
    const parts = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.slab ^= 1;
    const w = this.writeAll(parts).then(() => this.flushEarly());
    w.catch(() => undefined); // reported when awaited: at the next write, finish, or close
    this.writing = w;
  }

  private async writeAll(parts: Uint8Array[]): Promise<void> {
    let left = parts.reduce((sum, p) => sum + p.length, 0);
    while (left > 0) {
      const { bytesWritten } = parts.length === 1 ? await this.fh.write(parts[0]!, 0, parts[0]!.length, this.written) : await this.fh.writev(parts, this.written);
      this.written += bytesWritten;
      left -= bytesWritten;
      if (left > 0) parts = rest(parts, bytesWritten);
    }
  }

  private flushEarly(): void {
    if (this.flushing || this.written - this.flushedAt < EARLY_FLUSH) return;
    this.flushedAt = this.written;
    this.earlyFlushes += 1;
    // A failure here is met again by the final sync, which reports it.
    this.flushing = this.fh.datasync().then(
      () => void (this.flushing = null),
      () => void (this.flushing = null),
    );
  }
}

/** What is left of `parts` after the first `n` bytes were written. */
function rest(parts: Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const p of parts) {
    if (n >= p.length) {
      n -= p.length;
      continue;
    }
    out.push(n > 0 ? p.subarray(n) : p);
    n = 0;
  }
  return out;
}
