/**
 * Writing a stream of chunks into a file while hashing it, for sources whose chunks live in reused
 * buffers (a patch's output: each chunk is valid only until the next one is asked for). Each big
 * chunk's write(2) goes to the thread pool first and the chunk is hashed on this thread while the
 * kernel copies it: hash and write of a piece overlap instead of following each other (patching 1
 * GiB spent as long in SHA-256 as in write(2), one after the other). Small chunks (a patch's
 * literals, some bytes each) are gathered into one buffer of our own and written in batches.
 * Dirty pages are handed to the disk every 32 MiB beside the next writes (a datasync), so the final
 * sync has little left to do.
 */
import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

/** Chunks at least this big are written from where they are; smaller ones are copied into a batch. */
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

export class HashedSink {
  private readonly batch = Buffer.allocUnsafeSlow(BATCH);
  private batched = 0;
  private flushedAt = 0;
  private flushing: Promise<void> | null = null;
  /** Bytes written or batched. */
  size = 0;
  /** Bytes handed to write(2). */
  private written = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly hash: Hash = createHash('sha256'),
    /** Refused past this many bytes (EFBIG), before anything past it is written. */
    private readonly limit = Number.POSITIVE_INFINITY,
  ) {}

  /** Writes and hashes `chunk`; it may be reused by its owner once this resolves. */
  async write(chunk: Uint8Array): Promise<void> {
    if (chunk.length === 0) return;
    if (this.size + chunk.length > this.limit) throw Object.assign(new Error('upload exceeds the size limit'), { code: 'EFBIG' });
    this.size += chunk.length;
    if (chunk.length < DIRECT) {
      this.hash.update(chunk);
      if (this.batched + chunk.length > BATCH) await this.writeBatch();
      this.batch.set(chunk, this.batched);
      this.batched += chunk.length;
      return;
    }
    await this.writeBatch();
    const w = this.writeAll(chunk);
    // The kernel copies the chunk into the page cache on a pool thread while it is hashed here.
    this.hash.update(chunk);
    await w;
    this.flushEarly();
  }

  /** Writes what is batched, syncs the file's data, and returns the content's SHA-256 (hex). */
  async finish(): Promise<string> {
    await this.writeBatch();
    await this.flushing;
    await this.fh.datasync(); // the data and the size: all a reader needs
    return this.hash.digest('hex');
  }

  /** Waits for a datasync under way (before the file is closed or removed after a failure). */
  async settle(): Promise<void> {
    await this.flushing;
  }

  private async writeBatch(): Promise<void> {
    if (this.batched === 0) return;
    const n = this.batched;
    this.batched = 0;
    await this.writeAll(this.batch.subarray(0, n));
    this.flushEarly();
  }

  private async writeAll(bytes: Uint8Array): Promise<void> {
    for (let off = 0; off < bytes.length; ) {
      const { bytesWritten } = await this.fh.write(bytes, off, bytes.length - off, this.written);
      off += bytesWritten;
      this.written += bytesWritten;
    }
  }

  private flushEarly(): void {
    if (this.flushing || this.written - this.flushedAt < EARLY_FLUSH) return;
    this.flushedAt = this.written;
    // A failure here is met again by the final sync, which reports it.
    this.flushing = this.fh.datasync().then(
      () => void (this.flushing = null),
      () => void (this.flushing = null),
    );
  }
}
