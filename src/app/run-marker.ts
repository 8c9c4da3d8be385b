import { access, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir, fsyncFile } from '../lib/fsync.js';

/** Present while a gateway runs on the data folder: found at start, it says the last stop was unclean. */
const MARKER = 'syncgate.running';

/**
 * Marks the data folder as in use (synced, so a power cut keeps the mark); returns whether the last
 * run ended without removing its mark (a crash, a kill -9, a power cut).
 */
export async function markRunning(dataDir: string): Promise<boolean> {
  const file = path.join(dataDir, MARKER);
  const unclean = await access(file).then(
    () => true,
    () => false,
  );
  await writeFile(file, `${process.pid}\n`);
  await fsyncFile(file);
  await fsyncDir(dataDir);
  return unclean;
}

/** Removes the mark once everything is closed (the database last). */
export async function markStopped(dataDir: string): Promise<void> {
  await rm(path.join(dataDir, MARKER), { force: true });
}
