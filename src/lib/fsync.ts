import { closeSync, fdatasync, fsync, openSync } from 'node:fs';
import { promisify } from 'node:util';

const fsyncFd = promisify(fsync);
const fdatasyncFd = promisify(fdatasync);

/** fsync a directory so a rename or unlink inside it survives a power cut. */
export async function fsyncDir(dir: string, opts: { ignoreMissing?: boolean } = {}): Promise<void> {
  await syncPath(dir, 'r', false, opts.ignoreMissing ?? false);
}

/** fdatasync a file by name (content and size, not its times). */
export async function fsyncFile(file: string, opts: { ignoreMissing?: boolean } = {}): Promise<void> {
  await syncPath(file, 'r+', true, opts.ignoreMissing ?? false);
}

/** The sync itself goes to the thread pool (it waits for the disk); open and close do not. */
export async function syncFd(fd: number, dataOnly: boolean): Promise<void> {
  await (dataOnly ? fdatasyncFd(fd) : fsyncFd(fd));
}

async function syncPath(p: string, flags: string, dataOnly: boolean, ignoreMissing: boolean): Promise<void> {
  // open(2) and close(2) of a local path take microseconds: a thread-pool round trip costs more.
  let fd: number;
  try {
    fd = openSync(p, flags);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (ignoreMissing && (code === 'ENOENT' || code === 'ENOTDIR')) return;
    throw err;
  }
  try {
    await syncFd(fd, dataOnly);
  } finally {
    closeSync(fd);
  }
}
