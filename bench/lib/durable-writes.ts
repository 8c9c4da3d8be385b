/**
 * What one durable small write costs on this disk with nothing around it, by kind, so a benchmark can
 * say what any design could reach, not only syncgate's. Each is the median of `n` rounds of 4 KiB,
 * measured with direct calls (no thread pool, no network, no hash, no metadata database):
 *
 * - `newFile`: create a file, write, fdatasync (what a server that keeps every upload as its own file
 *   pays: syncgate, and pure-ftpd if it synced);
 * - `append`: write at the end of a file that grows, fdatasync (a log whose size changes each time);
 * - `overwrite`: write over 4 KiB already written and synced, fdatasync (a log in pre-allocated
 *   space: the cheapest a journal-based design could reach per acknowledged command);
 * - `odsync`: the same through O_DSYNC, the write and its sync in one call;
 * - `unlink`: unlink a 4 KiB file, fsync its folder (a durable deletion of a file kept as a file).
 *
 * On this machine's ext4 without a journal (`ext4_fsync_nojournal`), a new file's first sync also
 * writes its folder, which is why `newFile` costs about two in-place overwrites.
 */
import { closeSync, constants, fdatasyncSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { median } from './measure.js';

export interface DurableWrites {
  newFile: number;
  append: number;
  overwrite: number;
  odsync: number;
  unlink: number;
}

export const DURABLE_WRITE_KINDS: Array<[keyof DurableWrites, string]> = [
  ['overwrite', 'overwrite in place + fdatasync'],
  ['odsync', 'O_DSYNC overwrite in place'],
  ['append', 'append + fdatasync'],
  ['newFile', 'new file + fdatasync'],
  ['unlink', 'unlink + folder fsync'],
];

/** Medians in µs of each kind of durable 4 KiB write (see above), measured in a new folder `dir`. */
export function durableWritesUs(dir: string, n = 200): DurableWrites {
  mkdirSync(dir, { recursive: true });
  const block = randomBytes(4096);
  const timed = (times: number[], fn: () => void) => {
    const t = performance.now();
    fn();
    times.push((performance.now() - t) * 1000);
  };
  const out = { newFile: [] as number[], append: [] as number[], overwrite: [] as number[], odsync: [] as number[], unlink: [] as number[] };
  // Interleaved, one of each kind per round: a disk shared with other work slows every kind alike.
  const log = openSync(path.join(dir, 'append.log'), 'w');
  const pre = openSync(path.join(dir, 'overwrite.log'), 'w');
  writeSync(pre, block, 0, block.length, 0);
  fsyncSync(pre);
  const dsync = openSync(path.join(dir, 'overwrite.log'), constants.O_WRONLY | constants.O_DSYNC);
  const dirFd = openSync(dir, 'r');
  try {
    for (let i = 0; i < n; i += 1) {
      timed(out.newFile, () => {
        const fd = openSync(path.join(dir, `new-${i}`), 'w');
        writeSync(fd, block);
        fdatasyncSync(fd);
        closeSync(fd);
      });
      timed(out.append, () => (writeSync(log, block), fdatasyncSync(log)));
      timed(out.overwrite, () => (writeSync(pre, block, 0, block.length, 0), fdatasyncSync(pre)));
      timed(out.odsync, () => writeSync(dsync, block, 0, block.length, 0));
      timed(out.unlink, () => (unlinkSync(path.join(dir, `new-${i}`)), fsyncSync(dirFd)));
    }
  } finally {
    for (const fd of [log, pre, dsync, dirFd]) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  return { newFile: median(out.newFile), append: median(out.append), overwrite: median(out.overwrite), odsync: median(out.odsync), unlink: median(out.unlink) };
}

/**
 * CPU (user + system, µs) of a process's children that have ended and been waited for: pure-ftpd
 * forks a process per session, which the master reaps when the session ends (/proc stat fields
 * cutime, cstime). Measured around a client step that logs out, it is that session's server CPU.
 */
export function reapedChildrenCpuMicros(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10_000;
  } catch {
    return Number.NaN;
  }
}
