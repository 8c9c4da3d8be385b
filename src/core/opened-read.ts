// One read of a version whose file is open: the ways a door takes the content (a stream, a send to a
// socket, positional reads) and when the descriptor is let go.
import { Readable, type Writable } from 'node:stream';
import { createReadStream, read as fsRead } from 'node:fs';
import { closeFile, sendFileRange } from '../storage/file-sender.js';
import type { EntryInfo } from './types.js';

export interface ReadResult {
  entry: EntryInfo;
  /** Total size of the version read. */
  size: number;
  start: number;
  end: number;
  /** The content as a stream (made when first asked for: a door that uses `sendTo` never makes it). */
  readonly stream: Readable;
  /**
   * Writes the content to `out` (an HTTP response, a data socket) without ending it, the quickest
   * way out (storage/file-sender.ts), and lets the file go. Instead of `stream`, not beside it.
   * `part`: only those bytes (inclusive, within start..end), for a door that judges a Range against
   * the version it has opened.
   */
  sendTo(out: Writable, part?: { start: number; end: number }): Promise<void>;
  /**
   * Random access (a delta's COPY commands): reads into `buf` from `position` (within start..end)
   * straight from the file, no stream and no buffer of its own; resolves to the bytes read, 0 past
   * `end`. Instead of `stream` and `sendTo`, not beside them; close() when done (the file goes once
   * the reads under way are over).
   */
  readAt(buf: Uint8Array, position: number): Promise<number>;
  /** Lets the file go without reading it (or stops a read under way). */
  close(): void;
}

/** A read of an open file: its stream made on demand, or sent by sendTo; the file closed once either is done. */
export function openedRead(entry: EntryInfo, size: number, start: number, end: number, fd: number): ReadResult {
  let stream: Readable | null = null;
  let released = false;
  let reading = 0; // readAt calls under way: the descriptor is closed only after them
  let closing = false;
  const release = () => {
    if (released) return;
    released = true;
    closeFile(fd);
  };
  return {
    entry,
    size,
    start,
    end,
    get stream(): Readable {
      if (!stream) {
        if (released) throw new Error('this read was already sent or closed');
        if (size === 0) {
          release();
          stream = Readable.from([]);
        } else {
          released = true; // the stream closes the file (autoClose) when it ends or is destroyed
          stream = createReadStream('', { fd, start, end, highWaterMark: 1 << 20 });
        }
      }
      return stream;
    },
    async sendTo(out: Writable, part?: { start: number; end: number }): Promise<void> {
      if (stream || released) throw new Error('this read was already sent or closed');
      if (part && (part.start < start || part.end > end || part.end < part.start)) {
        release();
        throw new Error(`bytes ${part.start}-${part.end} are outside this read (${start}-${end})`);
      }
      try {
        if (size > 0) await sendFileRange(fd, part?.start ?? start, part?.end ?? end, out);
      } finally {
        release();
      }
    },
    async readAt(buf: Uint8Array, position: number): Promise<number> {
      if (stream || released || closing) throw new Error('this read was already sent or closed');
      if (position < start) throw new Error(`byte ${position} is outside this read (${start}-${end})`);
      const len = Math.min(buf.length, end + 1 - position);
      if (len <= 0) return 0;
      reading += 1;
      try {
        return await new Promise<number>((resolve, reject) => fsRead(fd, buf, 0, len, position, (err, n) => (err ? reject(err) : resolve(n))));
      } finally {
        reading -= 1;
        if (closing && reading === 0) release();
      }
    },
    close(): void {
      if (stream) stream.destroy();
      else if (reading > 0) closing = true;
      else release();
    },
  };
}
