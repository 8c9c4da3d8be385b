import { close, closeSync, fdatasync, fsync, open, openSync } from 'node:fs';
import { promisify } from 'node:util';

/** open(2) through the thread pool, answering a numeric descriptor (no FileHandle to manage). */
export const openFd = promisify(open);
const closeFd = promisify(close);

const fsyncFd = promisify(fsync);
const fdatasyncFd = promisify(fdatasync);

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
