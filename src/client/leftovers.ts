/**
 * Part and temporary files of downloads that will not be finished: a crash or a broken connection
 * leaves one, and when its download is not asked for again (the file was deleted or changed on the
 * gateway since, deselected, or an older client named its part files otherwise) nothing ever
 * resumes it. Like Syncthing's scanner with its `.syncthing.*.tmp` files, a full pass removes them
 * as it walks the folder, by this rule:
 *
 * - only names this client makes (local.ts isDownloadTemp), never another '.syncgate-' file;
 * - never the part file of a download the pass is about to make: it resumes from its end, however old;
 * - never one written in the last hour: a download in progress writes its file all along. A pass's
 *   own downloads start after its walk (and a link's passes run one at a time), so that hour only
 *   guards another client process syncing the same folder, even through a stalled connection.
 */
import { lstat, rm } from 'node:fs/promises';
import path from 'node:path';
import type { WireChange } from '../sync-wire/index.js';
import { partOf } from './local.js';

/** A download temp file untouched this long, that the pass does not want, is removed. */
export const LEFTOVER_QUIET_MS = 60 * 60_000;

/** A download temp file the walk met (LocalDiff.leftovers). */
export interface Leftover {
  path: string;
  mtimeMs: number;
}

/**
 * Removes the leftovers no download of `remote` (the pass's changes, fetched from the cursor: every
 * download not finished yet is among them) resumes; returns how many went.
 */
export async function removeLeftovers(dir: string, found: Leftover[], remote: Iterable<WireChange>, now = Date.now(), quietMs = LEFTOVER_QUIET_MS): Promise<number> {
  if (found.length === 0) return 0;
  const wanted = new Set<string>();
  for (const c of remote) if (!c.deleted && c.kind === 'file' && c.sha256) wanted.add(partOf(c.path, c.sha256));
  let removed = 0;
  for (const f of found) {
    if (wanted.has(f.path) || now - f.mtimeMs < quietMs) continue;
    const abs = path.join(dir, f.path);
    // Looked at again just before: written since the walk, it is someone's download after all.
    const st = await lstat(abs).catch(() => null);
    if (!st?.isFile() || now - st.mtimeMs < quietMs) continue;
    // One that cannot go (a read-only folder) stays: tidying never stops a pass.
    if (await rm(abs, { force: true }).then(() => true, () => false)) removed += 1;
  }
  return removed;
}
