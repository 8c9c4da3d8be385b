import type { FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';

/** Bytes read per call once the first bytes are out. */
const CHUNK = 1 << 20;
/** The first read is small: the client's first byte should not wait for a whole chunk. */
const FIRST_CHUNK = 64 << 10;
/** Chunks read ahead of the socket: one being written while the next is read. */
const BUFFERS = 2;

/**
 * Sends bytes `start`..`end` (inclusive) of an open file to `out` (an HTTP response, an FTP data
 * socket), without ending it. A fs.ReadStream piped into the socket allocated a new 1 MiB buffer
 * per chunk (its pages faulted in and freed again: a tenth of a GET's CPU) and read the next chunk
 * only once the socket had drained; here two buffers go round, each read again as soon as the
 * socket is done with it, so the disk read of one chunk overlaps the socket write of the other.
 * A buffer is reused only after `out` reports it written (its write callback): until then the
 * socket may still hold it. Rejects when `out` fails or closes first, or the file is shorter.
 */
export function sendFileRange(handle: FileHandle, start: number, end: number, out: Writable): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const last = end + 1;
    let pos = start;
    let inFlight = 0;
    let reading = false;
    let settled = false;
    let made = 0;
    const free: Buffer[] = [];

    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      out.off('close', onClose);
      out.off('error', settle);
      if (err) reject(err);
      else resolve();
    };
    const onClose = () => settle(new Error('the connection closed before the content was sent'));
    out.once('close', onClose);
    out.once('error', settle);

    const bufferFor = (want: number): Buffer | null => {
      const kept = free.pop();
      if (kept) return kept;
      if (made >= BUFFERS) return null;
      made += 1;
      // A small file (or range) gets a buffer of its size, a large one full chunks.
      return Buffer.allocUnsafeSlow(Math.min(CHUNK, want));
    };

    const pump = (): void => {
      if (settled || reading) return;
      if (pos >= last) {
        if (inFlight === 0) settle();
        return;
      }
      if (out.destroyed) return settle(new Error('the connection closed before the content was sent'));
      const buf = bufferFor(last - pos);
      if (!buf) return;
      const want = Math.min(buf.length, last - pos, pos === start ? FIRST_CHUNK : CHUNK);
      reading = true;
      handle.read(buf, 0, want, pos).then(({ bytesRead }) => {
        reading = false;
        if (settled) return;
        if (bytesRead === 0) return settle(new Error('the file is shorter than its record'));
        pos += bytesRead;
        inFlight += 1;
        out.write(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead), (err) => {
          inFlight -= 1;
          if (err) return settle(err);
          free.push(buf);
          pump();
        });
        pump();
      }, settle);
    };
    pump();
  });
}
