// Small stream helpers shared by signature, delta and patch: batching many small writes into
// reasonably sized chunks, and pulling exact byte counts out of an async iterable of chunks.
import type { FileHandle } from 'node:fs/promises';
import { DeltaError, ResultCode } from './format.js';

export type ByteSource = AsyncIterable<Uint8Array>;

/** A source that reads straight into the caller's buffer (e.g. a file): no allocation per chunk. */
export interface PullSource {
  /** Fills the start of `buf`; resolves to the bytes read, 0 at the end. */
  readInto(buf: Uint8Array): Promise<number>;
}

export type DataSource = ByteSource | PullSource;

export function fileSource(fh: FileHandle, onProgress?: (bytesRead: number) => void): PullSource {
  let total = 0;
  return {
    async readInto(buf) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      total += bytesRead;
      onProgress?.(total);
      return bytesRead;
    },
  };
}

const PREFETCH = 4 * 1024 * 1024;

/**
 * Fills buffers from either kind of source. A pull source is read one chunk ahead into a spare
 * buffer, so that the next read is in flight while the caller computes on the last one.
 */
export class Filler {
  eof = false;
  private leftover: Uint8Array | undefined;
  private readonly it: AsyncIterator<Uint8Array> | undefined;
  private readonly pull: PullSource | undefined;
  private spare: Buffer | undefined;
  private ahead: Promise<number> | undefined;

  /** `direct`: a pull source reads straight into the target (the caller reads ahead itself). */
  constructor(
    source: DataSource,
    private readonly direct = false,
  ) {
    if ('readInto' in source) this.pull = source;
    else this.it = source[Symbol.asyncIterator]();
  }

  private async next(): Promise<Uint8Array | undefined> {
    if (this.it) {
      const r = await this.it.next();
      return r.done ? undefined : r.value;
    }
    this.spare ??= Buffer.allocUnsafe(PREFETCH);
    const n = await (this.ahead ?? this.pull!.readInto(this.spare));
    this.ahead = undefined;
    return n === 0 ? undefined : this.spare.subarray(0, n);
  }

  /** Fills `target` completely unless the source ends first; resolves to the bytes written. */
  async fill(target: Uint8Array): Promise<number> {
    let n = 0;
    while (n < target.length && !this.eof) {
      if (this.direct && this.pull) {
        const k = await this.pull.readInto(target.subarray(n));
        if (k === 0) this.eof = true;
        n += k;
        continue;
      }
      if (!this.leftover || this.leftover.length === 0) {
        const chunk = await this.next();
        if (!chunk) {
          this.eof = true;
          break;
        }
        this.leftover = chunk;
      }
      const k = Math.min(target.length - n, this.leftover.length);
      target.set(this.leftover.subarray(0, k), n);
      this.leftover = this.leftover.subarray(k);
      n += k;
      if (this.pull && this.leftover.length === 0) {
        this.ahead = this.pull.readInto(this.spare!);
        this.ahead.catch(() => undefined); // reported when awaited; never an unhandled rejection
      }
    }
    return n;
  }
}

const BATCH = 256 * 1024;

/** Collects output; pieces are copied (callers pass views into reused buffers) unless `owned`. */
export class ChunkBatcher {
  private buf: Buffer = Buffer.allocUnsafe(BATCH);
  private len = 0;
  private ready: Uint8Array[] = [];

  push(bytes: Uint8Array, owned = false): void {
    if (bytes.length >= BATCH / 4) {
      this.flush();
      this.ready.push(owned ? bytes : Buffer.from(bytes));
      return;
    }
    if (this.len + bytes.length > this.buf.length) this.flush();
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  /** Room for a command of at most `n` bytes, written directly by the caller. */
  reserve(n: number): { buf: Buffer; off: number } {
    if (this.len + n > this.buf.length) this.flush();
    const off = this.len;
    this.len += n;
    return { buf: this.buf, off };
  }

  /** Gives back `n` reserved bytes that were not used. */
  unreserve(n: number): void {
    this.len -= n;
  }

  flush(): void {
    if (this.len === 0) return;
    this.ready.push(this.buf.subarray(0, this.len));
    this.buf = Buffer.allocUnsafe(BATCH);
    this.len = 0;
  }

  get pendingBytes(): number {
    return this.len;
  }

  /** Chunks complete so far (call flush() first to include the partial one). */
  take(): Uint8Array[] {
    const r = this.ready;
    this.ready = [];
    return r;
  }
}

/** Pulls bytes from an async iterable of chunks without copying more than a command's header. */
export class ByteReader {
  private chunk: Uint8Array = new Uint8Array(0);
  private off = 0;
  private done = false;
  private readonly it: AsyncIterator<Uint8Array>;
  /** Bytes consumed so far, for error messages. */
  position = 0;

  constructor(
    source: ByteSource,
    private readonly what: string,
  ) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    while (this.off >= this.chunk.length) {
      if (this.done) return false;
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        return false;
      }
      this.chunk = r.value;
      this.off = 0;
    }
    return true;
  }

  truncated(detail: string): DeltaError {
    return new DeltaError(ResultCode.INPUT_ENDED, `${this.what} is truncated: ${detail} (at byte ${this.position})`);
  }

  async atEnd(): Promise<boolean> {
    return !(await this.fill());
  }

  async byte(): Promise<number | undefined> {
    if (!(await this.fill())) return undefined;
    this.position++;
    return this.chunk[this.off++];
  }

  /** A big-endian unsigned integer of `len` bytes (up to 8; must fit in a safe JS integer). */
  async uint(len: number, detail: string): Promise<number> {
    let v = 0;
    for (let i = 0; i < len; i++) {
      const b = await this.byte();
      if (b === undefined) throw this.truncated(detail);
      v = v * 256 + b;
    }
    if (!Number.isSafeInteger(v)) {
      throw new DeltaError(ResultCode.CORRUPT, `${this.what} is corrupt: ${detail} is too large (at byte ${this.position})`);
    }
    return v;
  }

  /** Yields exactly `n` bytes as views of the source's chunks. */
  async *take(n: number, detail: string): AsyncGenerator<Uint8Array> {
    while (n > 0) {
      if (!(await this.fill())) throw this.truncated(detail);
      const k = Math.min(n, this.chunk.length - this.off);
      const part = this.chunk.subarray(this.off, this.off + k);
      this.off += k;
      this.position += k;
      n -= k;
      yield part;
    }
  }

  /** Everything left, concatenated (for signatures, which are loaded whole by design). */
  async rest(): Promise<Buffer> {
    const parts: Uint8Array[] = [];
    if (this.off < this.chunk.length) parts.push(this.chunk.subarray(this.off));
    this.off = this.chunk.length;
    for (;;) {
      const r = await this.it.next();
      if (r.done) break;
      parts.push(r.value);
    }
    this.done = true;
    const all = Buffer.concat(parts);
    this.position += all.length;
    return all;
  }
}
