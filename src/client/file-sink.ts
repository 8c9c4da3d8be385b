/**
 * Where downloaded content is written: hashed as it passes, written in batches, flushed to the disk
 * as it goes and synced at the end. A socket hands over 16-64 KiB at a time: one write(2) each
 * cost more CPU than the hash (1 GiB: ~20,000 calls); a batch goes out as one writev(2). Dirty
 * pages are not written back before the final fsync (the kernel waits for gigabytes), so the final
 * sync of 1 GiB took seconds: a datasync every 32 MiB, beside the next writes, lets the disk work
 * while the network does, as the gateway's staging does.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';

const BATCH = 1 << 20;
const EARLY_FLUSH = 32 << 20;

export class FileSink {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private flushedAt: number;
  private flushing: Promise<void> | null = null;
  /** A volatile chunk's write, under way. */
  private writing: Promise<void> | null = null;
  /** Bytes in the file, written or pending. */
  size: number;

  private constructor(
    private readonly fh: FileHandle,
    private readonly hash: Hash,
    start: number,
  ) {
    this.size = start;
    this.flushedAt = start;
  }

  /**
   * A new file (`w`), or one continued (`a`, a part file: `hash` has seen its first `start` bytes).
   */
  static async open(file: string, flags: 'w' | 'a' = 'w', hash: Hash = createHash('sha256'), start = 0): Promise<FileSink> {
    return new FileSink(await open(file, flags), hash, start);
  }

  /**
   * `volatile`: the chunk's memory is reused soon (patchChunks with reuse): it is written by the
   * time the next write() returns. Its write runs while the caller hashes the next chunk (on a big
   * download the hash and the write each took half the time, one after the other). Other chunks
   * (a socket's, ours to keep) go in batches, each written while the next one gathers: the
   * download no longer stops reading for every 1 MiB written (at most two batches are held).
   */
  async write(chunk: Uint8Array, volatile = false): Promise<void> {
    if (chunk.length === 0) return;
    this.hash.update(chunk);
    this.size += chunk.length;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (!volatile && this.pendingBytes < BATCH) return;
    await this.writing; // one write at a time: the file position moves with each
    this.writing = null;
    const w = this.drain();
    w.catch(() => undefined); // reported when awaited: at the next write or at finish
    this.writing = w;
  }

  private async drain(): Promise<void> {
    let parts = this.pending;
    let left = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    while (left > 0) {
      const { bytesWritten } = parts.length === 1 ? await this.fh.write(parts[0]!) : await this.fh.writev(parts);
      left -= bytesWritten;
      if (left > 0) parts = rest(parts, bytesWritten);
    }
    if (!this.flushing && this.size - this.flushedAt >= EARLY_FLUSH) {
      this.flushedAt = this.size;
      // A failure here is met again by the final sync, which reports it.
      this.flushing = this.fh.datasync().then(
        () => void (this.flushing = null),
        () => void (this.flushing = null),
      );
    }
  }

  /** Writes what is pending and syncs the file; returns the SHA-256 of its whole content. */
  async finish(): Promise<string> {
    await this.writing;
    this.writing = null;
    await this.drain();
    await this.flushing;
    await this.fh.sync();
    return this.hash.digest('hex');
  }

  async close(): Promise<void> {
    await this.writing?.catch(() => undefined);
    await this.flushing;
    await this.fh.close();
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
