import type { LinkRow, SharesRepo } from '../db/shares-repo.js';
import { fail } from './errors.js';
import type { AccessMeta, ShareUse } from './share-types.js';

/**
 * How often a link may be used, and the log of its accesses. A use is a download that sends
 * content (whatever its range) or a file dropped through an upload-only link.
 */
export class ShareUses {
  /** Entries logged per link since its log was last pruned. */
  private readonly sincePrune = new Map<number, number>();
  /** Entries logged between two prunes of a link's log: a tenth of what it keeps, at most 100. */
  private readonly pruneEvery: number;

  constructor(
    private readonly repo: SharesRepo,
    private readonly now: () => number,
    /** Files a drop link accepts when its creator set no limit (0 = unlimited). */
    private readonly dropMaxFiles: number,
    /** Entries of one link's log kept, the newest. */
    private readonly logKeep = 10_000,
  ) {
    this.pruneEvery = Math.max(1, Math.min(100, Math.floor(logKeep / 10)));
  }

  /** Uses allowed: the creator's limit, or for a drop link without one the server's default. */
  limitOf(row: LinkRow): number | null {
    if (row.maxDownloads !== null) return row.maxDownloads;
    return row.uploadOnly && this.dropMaxFiles > 0 ? this.dropMaxFiles : null;
  }

  /** Refuses a link whose uses are all taken, saying which limit it reached and what to do. */
  assertLeft(row: LinkRow): void {
    const limit = this.limitOf(row);
    if (limit !== null && row.downloads >= limit) this.usedUp(row, limit);
  }

  /**
   * Counts one use against the limit, atomically: two concurrent requests for the last download
   * cannot both pass. What counts is every access that sends content, whatever its range (a
   * download manager fetching a file in pieces uses one per piece: otherwise ranges that do not
   * start at byte 0 were a way around the limit), and every drop upload; cancel() gives the count
   * back when the use failed on our side or was refused, so only successes use up a link.
   */
  begin(linkId: number): ShareUse {
    const row = this.repo.byId(linkId);
    const limit = row ? this.limitOf(row) : null;
    if (!this.repo.takeUse(linkId, limit)) {
      // Refused also when the link was revoked or its entry deleted since it was opened.
      const now = this.repo.byId(linkId);
      if (!now || now.revokedAt !== null) fail('NOT_FOUND', 'this link was revoked');
      if (now.endedAt !== null) fail('NOT_FOUND', 'what this link shared was deleted');
      this.usedUp(now, limit ?? now.downloads);
    }
    let cancelled = false;
    return {
      cancel: () => {
        if (cancelled) return;
        cancelled = true;
        this.repo.giveUseBack(linkId);
      },
    };
  }

  /**
   * The answer for a used-up link, in the visitor's words: what ran out (downloads, or files for an
   * upload link), who set the limit, and that only a new link helps. details.reason stays 'exhausted'.
   */
  private usedUp(row: LinkRow, limit: number): never {
    const setBy = row.maxDownloads !== null ? 'owner' : 'server';
    const times = limit === 1 ? 'once' : `${limit} times`;
    const files = limit === 1 ? '1 file' : `${limit} files`;
    const message = row.uploadOnly
      ? setBy === 'owner'
        ? `this upload link has already received ${files}, as many as the person who shared it allowed; ask them for a new link to send more`
        : `this upload link has already received ${files}, as many as this server accepts through one link; ask the person who shared it for a new link to send more`
      : `this link has already been downloaded ${times}, as often as the person who shared it allowed; ask them for a new link`;
    fail('PERMISSION_DENIED', message, { reason: 'exhausted', limit, kind: row.uploadOnly ? 'uploads' : 'downloads', setBy });
  }

  log(linkId: number, entry: { action: string; bytes?: number; path?: string | null } & AccessMeta): void {
    this.repo.logAccess({
      shareId: linkId,
      at: this.now(),
      action: entry.action,
      address: entry.address ?? null,
      userAgent: entry.userAgent ? entry.userAgent.slice(0, 512) : null,
      bytes: Math.max(0, Math.floor(entry.bytes ?? 0)),
      path: entry.path ?? null,
    });
    // Anyone holding a link writes a row per view: without an end, a stranger's loop of views grew
    // the database without bound (about 2 KB a view). The log keeps its newest entries, as many as
    // it is ever shown; pruned every pruneEvery entries, by the index on the link.
    const n = (this.sincePrune.get(linkId) ?? 0) + 1;
    if (n >= this.pruneEvery) {
      this.sincePrune.delete(linkId);
      this.repo.pruneAccesses(linkId, this.logKeep);
    } else this.sincePrune.set(linkId, n);
  }
}
