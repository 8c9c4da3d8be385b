import type { Logger } from 'pino';
import type { CoreContext } from './context.js';
import type { DiskEdits } from './disk-edits.js';
import type { Retention } from './retention.js';
import type { Roots } from './roots.js';

export interface StartOptions {
  /**
   * The last stop was unclean (the app's run mark was still in the data folder): the small files
   * written in its last `uncleanWindowMs` are read again, since their size and times may match a
   * content that never reached the disk.
   */
  unclean?: boolean;
  uncleanWindowMs?: number;
  /** Progress of a long first scan, at most every 5 s. */
  onScanProgress?: (root: string, seen: number) => void;
}

/**
 * Start-up recovery, root by root, before any door opens: mend an unclean stop, record what
 * changed on disk while the gateway was down, and prune what the retention policy no longer keeps.
 */
export async function startCore(
  parts: { ctx: CoreContext; roots: Roots; diskEdits: DiskEdits; retention: Retention; log: Logger },
  opts: StartOptions = {},
): Promise<void> {
  const { ctx, roots, diskEdits, retention, log } = parts;
  for (const root of ctx.roots.all()) {
    if (opts.unclean) {
      const mended = await diskEdits.verifyRecent(root.id, opts.uncleanWindowMs ?? 60_000);
      log.warn({ root: root.name, recorded: mended }, 'the last stop was unclean: the small files written in its last minute were read again');
    }
    // A large existing folder takes a while to hash on first start: say how far it got.
    let lastReport = Date.now();
    const recorded = await diskEdits.scanRoot(root.id, (seen) => {
      if (Date.now() - lastReport < 5000) return;
      lastReport = Date.now();
      if (opts.onScanProgress) opts.onScanProgress(root.name, seen);
      else log.info({ root: root.name, seen }, 'scanning root');
    });
    await retention.pruneRoot(await roots.openById(root.id));
    log.info({ root: root.name, dir: root.dir, recorded }, 'root scanned');
  }
}
