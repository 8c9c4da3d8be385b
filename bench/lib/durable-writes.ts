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
import { closeSync, constants, fdatasyncSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
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

/** Per-command figures of one kind of command each: a small STOR and a DELE (µs). */
export interface PerCommand {
  stor: number;
  dele: number;
}

/**
 * Prints what any durable server could reach on one session against a server that syncs nothing
 * (pure-ftpd), from that server's time and own CPU per command and the durable writes measured here.
 * On one session the reply waits for the sync and the client for the reply: nothing overlaps them,
 * so a durable server's command takes at least the peer's time less the peer's own CPU (the client,
 * the network, the kernel's TCP: a lower bound of it, as some of the peer's CPU may overlap the
 * client's), plus one durable write, plus whatever the server itself does on the path.
 */
export function printCeiling(peerUs: PerCommand, peerCpuUs: PerCommand, dw: DurableWrites, syncgateCpuUs: PerCommand): void {
  const ceiling = (k: keyof PerCommand, write: number) => (peerUs[k] / (Math.max(0, peerUs[k] - peerCpuUs[k]) + write)).toFixed(2);
  // Left for the server's own work on the command's path at the target ratio (negative: out of reach).
  const budget = (k: keyof PerCommand, write: number, target: number) => (peerUs[k] / target - Math.max(0, peerUs[k] - peerCpuUs[k]) - write).toFixed(0);
  console.log(
    `  pure-ftpd (no sync): ${peerUs.stor.toFixed(0)} µs per small STOR, ${peerUs.dele.toFixed(0)} µs per DELE, of which its own server CPU ${peerCpuUs.stor.toFixed(0)} and ` +
      `${peerCpuUs.dele.toFixed(0)} µs; the rest is the client, the network and the kernel's TCP, which any server's command waits for too`,
  );
  console.log(
    `  ceiling of a durable server with no CPU of its own, one session (pure-ftpd's time - its CPU + one durable write): small STOR (target 1.0x) ${ceiling('stor', dw.newFile)}x ` +
      `with a new file synced (syncgate's kind), ${ceiling('stor', dw.odsync)}x with a record written in place in a pre-written journal (O_DSYNC); ` +
      `DELE (target 0.3x) ${ceiling('dele', dw.unlink)}x with unlink + folder fsync, ${ceiling('dele', dw.odsync)}x with a journal record in place`,
  );
  console.log(
    `  server time left per command at the target beside the client and the write: STOR ${budget('stor', dw.newFile, 1)} µs (new file) or ${budget('stor', dw.odsync, 1)} µs (journal record); ` +
      `DELE ${budget('dele', dw.unlink, 0.3)} µs (unlink + folder fsync) or ${budget('dele', dw.odsync, 0.3)} µs (journal record); syncgate's server CPU now ${syncgateCpuUs.stor.toFixed(0)} and ${syncgateCpuUs.dele.toFixed(0)} µs`,
  );
}

/** What a durable folder move cannot avoid on this disk (ms, medians): see folderMoveSyncsMs. */
export interface FolderMoveSyncs {
  /** The two parent folders' fsyncs after the rename, one after the other. */
  dirs: number;
  /** One fdatasync of a 4 KiB commit appended to a log (the database's commit record). */
  commit: number;
  /** Both, in one round: the "X" of issue 23's "10 ms plus the fsyncs". */
  total: number;
}

/**
 * The syncs a durable folder move cannot avoid, timed with direct calls (no thread pool, no
 * database) in a new folder `dir` on the disk being measured: each round renames a folder holding a
 * file from one parent to another (untimed), then fsyncs both parents and appends 4 KiB to a log
 * with an fdatasync, one after the other (the least a move durable before its answer does: a
 * server may overlap them, which only makes it faster than this sum). The commit is counted at 4
 * KiB, not at the size syncgate writes: what the database writes beyond that is the server's cost.
 */
export function folderMoveSyncsMs(dir: string, n = 50): FolderMoveSyncs {
  const a = path.join(dir, 'from');
  const b = path.join(dir, 'to');
  mkdirSync(path.join(a, 'moved'), { recursive: true });
  mkdirSync(b, { recursive: true });
  closeSync(openSync(path.join(a, 'moved', 'file'), 'w'));
  const block = randomBytes(4096);
  const log = openSync(path.join(dir, 'commit.log'), 'w');
  const [aFd, bFd] = [openSync(a, 'r'), openSync(b, 'r')];
  fsyncSync(aFd);
  fsyncSync(bFd);
  const out = { dirs: [] as number[], commit: [] as number[], total: [] as number[] };
  try {
    for (let i = 0; i < n; i += 1) {
      const [src, dst] = i % 2 === 0 ? [a, b] : [b, a];
      renameSync(path.join(src, 'moved'), path.join(dst, 'moved'));
      const t0 = performance.now();
      fsyncSync(aFd);
      fsyncSync(bFd);
      const t1 = performance.now();
      writeSync(log, block);
      fdatasyncSync(log);
      const t2 = performance.now();
      out.dirs.push(t1 - t0);
      out.commit.push(t2 - t1);
      out.total.push(t2 - t0);
    }
  } finally {
    for (const fd of [log, aFd, bFd]) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  return { dirs: median(out.dirs), commit: median(out.commit), total: median(out.total) };
}

/**
 * Issue 23's MOVE target as a number: "10 ms plus the fsyncs", the fsyncs the medians of the rounds
 * of folderMoveSyncsMs taken between the moves.
 */
export function folderMoveTarget(rounds: FolderMoveSyncs[]): { ms: number; text: string } {
  const s = { dirs: median(rounds.map((x) => x.dirs)), commit: median(rounds.map((x) => x.commit)), total: median(rounds.map((x) => x.total)) };
  const ms = 10 + s.total;
  return { ms, text: `target = 10 ms + ${s.total.toFixed(1)} ms fsyncs = ${ms.toFixed(1)} ms (fsyncs on this disk: 2 parent folders ${s.dirs.toFixed(2)} ms, a 4 KiB commit's fdatasync ${s.commit.toFixed(2)} ms)` };
}
