import type { VersionRow } from '../db/files-repo.js';
import type { CoreContext } from './context.js';
import type { RootHandle } from './roots.js';
import type { RetentionPolicy } from './types.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/**
 * Which old versions lose their content under a policy. The head (the latest) is never pruned;
 * metadata rows stay so history still tells who changed what and when. `rows` is a file's history
 * as it is shown (HistoryRepo.lineage: across its moves), so 'keep N' keeps N versions of the file,
 * not N at each path it had.
 */
export function versionsToPrune(policy: RetentionPolicy, rows: VersionRow[], now: number): VersionRow[] {
  // By seq: a file's history may span paths (moves), whose version numbers do not order it.
  const sorted = [...rows].sort((a, b) => b.seq - a.seq);
  // Pruned ones are done; lost ones hold nothing to free, and counted they would push out versions
  // that still read.
  const old = sorted.slice(1).filter((v) => v.kind === 'file' && !v.deleted && !v.contentGone && !v.contentLost);
  switch (policy.mode) {
    case 'all':
      return [];
    case 'count':
      return old.slice(Math.max(0, policy.keep - 1));
    case 'days':
      return old.filter((v) => now - v.createdAt > policy.days * DAY);
    case 'staggered':
      return staggered(old, now, policy.maxAgeDays * DAY);
  }
}

/**
 * Syncthing's staggered versioning: within the last hour one version per 30 s, within a day one
 * per hour, within 30 days one per day, then one per week until maxAge; older ones go.
 */
function staggered(old: VersionRow[], now: number, maxAge: number): VersionRow[] {
  const bands: [number, number][] = [
    [HOUR, 30_000],
    [DAY, HOUR],
    [30 * DAY, DAY],
    [maxAge, 7 * DAY],
  ];
  const prune: VersionRow[] = [];
  const keptSlots = new Set<string>();
  for (const v of old) {
    const age = now - v.createdAt;
    if (age > maxAge) {
      prune.push(v);
      continue;
    }
    const band = bands.findIndex(([limit]) => age <= limit);
    const slot = `${band}:${Math.floor(age / bands[band]![1])}`;
    if (keptSlots.has(slot)) prune.push(v);
    else keptSlots.add(slot);
  }
  return prune;
}

export class Retention {
  constructor(private readonly ctx: CoreContext) {}

  /** The last policy parsed, by its text: every write asks, and roots rarely differ. */
  private parsed = { text: '', policy: { mode: 'all' } as RetentionPolicy };

  private policy(h: RootHandle): RetentionPolicy {
    if (h.row.retention !== this.parsed.text) this.parsed = { text: h.row.retention, policy: JSON.parse(h.row.retention) as RetentionPolicy };
    return this.parsed.policy;
  }

  async pruneAfterChange(h: RootHandle, path: string): Promise<number> {
    const policy = this.policy(h);
    if (policy.mode === 'all') return 0;
    return this.apply(versionsToPrune(policy, this.ctx.history.lineage(h.row.id, path), this.ctx.now()));
  }

  /** Time-based policies also need a sweep (run at start-up and daily by the app). */
  async pruneRoot(h: RootHandle): Promise<number> {
    const policy = this.policy(h);
    if (policy.mode === 'all') return 0;
    let n = 0;
    for (const e of this.ctx.files.subtree(h.row.id, '', true)) {
      // A path the file moved away from is judged with the history of where it went (which holds
      // its versions), not on its own: counted per path, 'keep N' would keep more than N.
      if (e.deleted && this.ctx.history.version(h.row.id, e.path, e.version)?.op === 'move-out') continue;
      n += await this.apply(versionsToPrune(policy, this.ctx.history.lineage(h.row.id, e.path), this.ctx.now()));
    }
    return n;
  }

  private async apply(rows: VersionRow[]): Promise<number> {
    if (rows.length === 0) return 0;
    this.ctx.history.markContentGone(rows.map((r) => r.id));
    for (const hash of new Set(rows.map((r) => r.hash))) {
      if (!this.ctx.history.hashInUse(hash)) await this.ctx.store.removeBlob(hash);
    }
    return rows.length;
  }
}
