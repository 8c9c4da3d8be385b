/**
 * A small filesystem of its own for a test that needs a full disk: a tmpfs the test mounts (we run
 * as root), or, where tmpfs cannot be mounted, a loop-mounted ext4 image. `fill` leaves only a few
 * KiB free with one filler file, `free` removes it; `unmount` always runs from the test's afterAll.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, statfs, unlink, writeFile } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SmallDisk {
  /** The mount point (empty at first). */
  dir: string;
  /** 'tmpfs' or 'ext4-loop': what was mounted. */
  kind: string;
  /** Bytes free now. */
  available(): Promise<number>;
  /** Fills the disk until at most `leave` bytes are free. */
  fill(leave?: number): Promise<void>;
  /** Removes the filler: the space is back. */
  free(): Promise<void>;
  unmount(): Promise<void>;
}

/** `kind` 'ext4-loop' skips tmpfs (to check the fallback itself). */
export async function mountSmallDisk(sizeMiB: number, kind: 'tmpfs' | 'ext4-loop' = 'tmpfs'): Promise<SmallDisk> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sg-small-disk-'));
  let image: string | null = null;
  try {
    if (kind !== 'tmpfs') throw new Error('ext4 asked for');
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir]);
  } catch {
    // No tmpfs here (a container without it): an ext4 image on a loop device instead.
    kind = 'ext4-loop';
    image = `${dir}.img`;
    await run('truncate', ['-s', `${sizeMiB}M`, image]);
    await run('mkfs.ext4', ['-q', '-F', '-m', '0', image]);
    await run('mount', ['-o', 'loop', image, dir]);
  }
  const filler = path.join(dir, '.filler');
  let fillers = 0;
  const available = async () => {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  };
  return {
    dir,
    kind,
    available,
    async fill(leave = 64 << 10) {
      const fh = await open(`${filler}${fillers++}`, 'w');
      try {
        const chunk = Buffer.alloc(1 << 20);
        for (let n = (await available()) - leave; n > 0; n -= chunk.length) await fh.write(chunk, 0, Math.min(chunk.length, n));
        await fh.sync();
      } finally {
        await fh.close();
      }
    },
    async free() {
      for (let i = 0; i < fillers; i += 1) await unlink(`${filler}${i}`).catch(() => {});
      fillers = 0;
    },
    async unmount() {
      // Lazy: a gateway that failed to close may still hold a file open; the mount goes with it.
      await run('umount', ['-l', dir]).catch(() => {});
      if (image) await rm(image, { force: true });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Writes `bytes` of `fill` into a file (test data, not the filler). */
export async function fileOf(p: string, bytes: number, fill = 0x61): Promise<Buffer> {
  const data = Buffer.alloc(bytes, fill);
  await writeFile(p, data);
  return data;
}
