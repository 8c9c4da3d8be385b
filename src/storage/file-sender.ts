import { close, closeSync, constants, fstat, fstatSync, open, openSync, read, type Stats } from 'node:fs';
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
export function sendFileRange(fd: number, start: number, end: number, out: Writable): Promise<void> {
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
      // fs.read with a callback: no promise and result object per chunk (FileHandle.read made both).
      read(fd, buf, 0, want, pos, (err, bytesRead) => {
        reading = false;
        if (settled) return;
        if (err) return settle(err);
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
      });
    };
    pump();
  });
}

/** A file opened for reading, with what fstat(2) says of the inode it pins. */
export interface OpenedFile {
  fd: number;
  stat: Stats;
}

/**
 * O_NONBLOCK: a FIFO or device put in a file's place (by another program) opens at once instead of
 * holding the event loop, or a pool thread, until a writer comes. It changes nothing for a regular file.
 */
const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/**
 * The opened file, unless it is a FIFO, socket or device: that is closed and read as nothing there. A
 * folder is kept: the caller's fingerprint check (kind, size) refuses it, as for any other change on disk.
 */
function regularOrNull(fd: number, stat: Stats): OpenedFile | null {
  if (stat.isFile() || stat.isDirectory()) return { fd, stat };
  closeSync(fd);
  return null;
}

/**
 * Opens `file` for reading and fstats it; null when either fails (gone, replaced, unreadable).
 * `direct`: open(2) and fstat(2) on the calling thread. In the data folder on a local disk they take
 * microseconds, while each trip through libuv's thread pool cost 0.2-0.8 ms before a GET's first byte
 * on a loaded machine (two trips: open, then fstat). Elsewhere (a root on a network mount) through the pool.
 */
export async function openForRead(file: string, direct: boolean): Promise<OpenedFile | null> {
  if (direct) {
    let fd: number;
    try {
      fd = openSync(file, READ_FLAGS);
    } catch {
      return null;
    }
    try {
      return regularOrNull(fd, fstatSync(fd));
    } catch {
      closeSync(fd);
      return null;
    }
  }
  const fd = await new Promise<number | null>((resolve) => open(file, READ_FLAGS, (err, n) => resolve(err ? null : n)));
  if (fd === null) return null;
  return new Promise((resolve) =>
    fstat(fd, (err, stat) => {
      if (!err) return resolve(regularOrNull(fd, stat));
      close(fd, () => resolve(null));
    }),
  );
}

/**
 * openForRead on the calling thread, refusing to follow a symlink at the last component: 'symlink'
 * when one is there (open(2) fails with ELOOP; the caller judges where it leads the long way), null
 * when nothing (or a FIFO, socket or device) is there or it cannot be opened. It spares the lstat(2) a symlink check would make
 * before the open: the open itself tells.
 */
export function openForReadNoFollow(file: string): OpenedFile | 'symlink' | null {
  let fd: number;
  try {
    fd = openSync(file, READ_FLAGS | constants.O_NOFOLLOW);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ELOOP' ? 'symlink' : null;
  }
  try {
    return regularOrNull(fd, fstatSync(fd));
  } catch {
    closeSync(fd);
    return null;
  }
}

/** Closes a descriptor of openForRead, errors ignored (nothing was written through it). */
export function closeFile(fd: number): void {
  close(fd, () => {});
}
