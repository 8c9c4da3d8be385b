import { close, closeSync, constants, fdatasync, fsync, open, openSync, write } from 'node:fs';
import { promisify } from 'node:util';

/** open(2) through the thread pool, answering a numeric descriptor (no FileHandle to manage). */
export const openFd = promisify(open);
const closeFd = promisify(close);

const fsyncFd = promisify(fsync);
const fdatasyncFd = promisify(fdatasync);
const writeFd = promisify(write);

/**
 * Flags of a new file whose every write returns only once its data (and the size and blocks that
 * reach it) is on the disk, as write(2) then fdatasync(2) would: see writeSynced.
 */
export const CREATE_DSYNC = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_DSYNC;

/**
 * `ignoreMissing`: a path gone (or no longer under a folder) is no error. `direct`: open and close
 * are direct calls, for paths on a local disk where they take microseconds (see ContentStore.isLocal);
 * the sync itself always goes to the thread pool, as it waits for the disk.
 */
export interface SyncOptions {
  ignoreMissing?: boolean;
  direct?: boolean;
}

/** fsync a directory so a rename or unlink inside it survives a power cut. */
export async function fsyncDir(dir: string, opts: SyncOptions = {}): Promise<void> {
  await syncPath(dir, 'r', false, opts);
}

/** fdatasync a file by name (content and size, not its times). */
export async function fsyncFile(file: string, opts: SyncOptions = {}): Promise<void> {
  await syncPath(file, 'r+', true, opts);
}

export async function syncFd(fd: number, dataOnly: boolean): Promise<void> {
  await (dataOnly ? fdatasyncFd(fd) : fsyncFd(fd));
}

/**
 * Writes `data` at the start of `fd`, a file opened with CREATE_DSYNC, through the thread pool: the
 * write and its sync in one call on a pool thread, none of it on the event loop. Under concurrent
 * writes a buffered write(2) on the loop was not the copy it looks like: it waits for the file
 * system's journal while other writes' syncs commit it (tens of µs a write, every request held up).
 */
export async function writeSynced(fd: number, data: Uint8Array): Promise<void> {
  if (data.length === 0) return syncFd(fd, true); // no write to carry the sync: the file's creation
  for (let done = 0; done < data.length; ) done += (await writeFd(fd, data, done, data.length - done, done)).bytesWritten;
}

async function syncPath(p: string, flags: string, dataOnly: boolean, opts: SyncOptions): Promise<void> {
  let fd: number;
  try {
    // Opened at once when direct: a caller that renames the folder right after still syncs this one.
    fd = opts.direct ? openSync(p, flags) : await openFd(p, flags);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (opts.ignoreMissing && (code === 'ENOENT' || code === 'ENOTDIR')) return;
    throw err;
  }
  try {
    await syncFd(fd, dataOnly);
  } finally {
    if (opts.direct) closeSync(fd);
    else await closeFd(fd);
  }
}
