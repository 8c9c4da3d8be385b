/**
 * One linked folder kept in step with its root. A pass compares three things per path: the state
 * we last agreed on (ClientState), the folder now, and the root's changes after our cursor;
 * whichever side moved since the state wins, and when both did the gateway decides (our upload
 * names its base version: an outdated one becomes a conflict copy, never an overwrite).
 * A full pass walks the whole folder (at start, after a reconnect, for `sync`); a watch pass looks
 * only at the paths the watcher named and the changes the gateway pushed.
 * Per-file problems are results of the pass; only an unreachable gateway or a refused device stop it.
 */
import type { WireChange } from '../sync-wire/index.js';
import type { Api } from './api.js';
import { evictUnselected } from './evict.js';
import { failureText, unreadableText } from './failure-text.js';
import { ignored, loadIgnore, statEntry, type LocalEntry } from './local.js';
import { removeLeftovers } from './leftovers.js';
import { checkLinkedFolder } from './linked-folder.js';
import { LocalDiff, sortedHas, type LocalChange, type NewEntrySink } from './local-diff.js';
import { NewEntryStream } from './new-entries.js';
import { PathSync } from './path-sync.js';
import { applyRemoteMoves, fatal, sendLocalMoves } from './moves.js';
import { DEFAULT_CONCURRENCY, runInPassOrder } from './pass-order.js';
import { fetchChanges, fetchFolder, heldBy, lastPerPath, type RemoteChanges } from './remote-feed.js';
import { Selection } from './selection.js';
import type { ClientState, FileState, LinkRow } from './state.js';
import { ChangedWhileSent } from './send.js';
import type { TransferOptions } from './transfers.js';

export interface PassReport {
  uploaded: number;
  downloaded: number;
  deleted: number;
  moved: number;
  /** Per conflict: the copy holding our content, or the path itself when the policy made none. */
  conflicts: string[];
  /** Per conflict, what happened, in words. */
  conflictNotes: string[];
  errors: string[];
  /** Paths whose local change could not be sent (a watch pass names them again later). */
  failed: string[];
  bytesUp: number;
  bytesDown: number;
  /** Local entries looked at (a watch pass: the paths named, not the whole folder). */
  looked: number;
  /** Pages of the feed fetched (a watch pass with the socket up applies the pushes: none). */
  fetched: number;
}

/** What a pass looks at: every local path or those named, and the feed fetched or the changes pushed. */
export interface Scope {
  local: 'all' | Iterable<string>;
  remote: 'fetch' | { changes: WireChange[]; cursor: number };
}

export const FULL: Scope = { local: 'all', remote: 'fetch' };

const emptyReport = (): PassReport => ({ uploaded: 0, downloaded: 0, deleted: 0, moved: 0, conflicts: [], conflictNotes: [], errors: [], failed: [], bytesUp: 0, bytesDown: 0, looked: 0, fetched: 0 });

function worked(r: PassReport): boolean {
  return r.uploaded + r.downloaded + r.deleted + r.moved > 0;
}

export class LinkSync {
  constructor(
    private readonly api: Api,
    private readonly state: ClientState,
    readonly link: LinkRow,
    private readonly deviceId: number,
    transfer: Omit<TransferOptions, 'resume'> & { concurrency?: number } = {},
  ) {
    const { concurrency, ...rest } = transfer;
    this.transfer = { ...rest, resume: { state, linkId: link.id } };
    this.concurrency = concurrency ?? DEFAULT_CONCURRENCY;
    this.paths = new PathSync(api, state, link, this.transfer);
  }

  private readonly transfer: TransferOptions;
  /** Each path's upload or download (path-sync.ts). */
  private readonly paths: PathSync;
  /** Paths handled at once in a pass (1: one after another). */
  private readonly concurrency: number;
  /** The selection the last pass ran with (another process may change it: then a full pass). */
  private selectionKey: string | null = null;

  /** Passes until nothing is left to do (our own uploads come back once, as echoes), then saves the cursor. */
  async syncOnce(): Promise<PassReport> {
    const total = emptyReport();
    this.before = total;
    try {
      return await this.passes(total);
    } finally {
      this.before = null;
      this.transfer.progress?.status?.(null);
    }
  }

  /** The counts of this sync's passes before the running one (status line); null: not a `sync`. */
  private before: PassReport | null = null;

  /** The status line: the sync's counts so far (a terminal redraws it in place, see progress.ts). */
  private tell(r: PassReport): void {
    const b = this.before;
    if (!b || !this.transfer.progress?.status) return;
    const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
    this.transfer.progress.status(`${this.link.dir}: ${b.uploaded + r.uploaded} up, ${b.downloaded + r.downloaded} down, ${b.deleted + r.deleted} deleted, ${b.moved + r.moved} moved (${mib(b.bytesUp + r.bytesUp)} sent, ${mib(b.bytesDown + r.bytesDown)} received)${b.errors.length + r.errors.length ? `, ${b.errors.length + r.errors.length} not synced` : ''}`);
  }

  private async passes(total: PassReport): Promise<PassReport> {
    for (let i = 0; i < 6; i += 1) {
      const r = await this.pass();
      for (const k of ['uploaded', 'downloaded', 'deleted', 'moved', 'bytesUp', 'bytesDown', 'looked', 'fetched'] as const) total[k] += r[k];
      total.conflicts.push(...r.conflicts);
      total.conflictNotes.push(...r.conflictNotes);
      total.errors.push(...r.errors);
      total.failed.push(...r.failed);
      if (!worked(r)) break;
    }
    // A path refused in one pass is tried again in the next and refused the same way: say it once
    // (and a conflict met again, as a folder's delete keeping a file it cannot bring here).
    total.errors = [...new Set(total.errors)];
    total.conflicts = [...new Set(total.conflicts)];
    total.conflictNotes = [...new Set(total.conflictNotes)];
    total.failed = [...new Set(total.failed)];
    await this.saveCursor();
    return total;
  }

  /** Tells the gateway how far we applied its feed (for `device list`; not needed to go on). */
  async saveCursor(): Promise<void> {
    await this.api.setCursor(this.link.root, this.link.cursor).catch((err: unknown) => {
      if (fatal(err)) throw err;
    });
  }

  selection(): Selection {
    return new Selection(this.state.selection(this.link.id));
  }

  async pass(scope: Scope = FULL): Promise<PassReport> {
    // A folder that is not there (or another one) would look like every file deleted.
    await checkLinkedFolder(this.state, this.link);
    const report = emptyReport();
    const id = this.link.id;
    const ig = await loadIgnore(this.link.dir);
    const sel = this.selection();
    if (this.selectionKey !== null && sel.key !== this.selectionKey) scope = FULL; // deselected copies go, selected folders come
    this.selectionKey = sel.key;
    // A change from the gateway is of a path it holds: default patterns do not leave it out (ignore-rules.ts).
    const keep = (c: Pick<WireChange, 'path' | 'kind'>) => !ignored(ig, c.path, c.kind, () => true) && sel.includes(c.path, c.kind);
    let remote: RemoteChanges;
    // What we already hold needs nothing (the same test is made again below, after the scan).
    if (scope.remote === 'fetch') remote = await fetchChanges(this.api, this.state, this.link, keep, heldBy(this.state, id));
    else {
      const cursor = this.link.cursor;
      remote = { byPath: lastPerPath(scope.remote.changes.filter((c) => c.seq > cursor), undefined, keep), cursor: Math.max(cursor, scope.remote.cursor) };
    }
    // Folders selected again since: the feed after our cursor does not hold them.
    const refetch = this.state.refetches(id);
    for (const top of refetch) await fetchFolder(this.api, this.link.root, top, remote.cursor, remote.byPath);

    this.paths.beginPass(remote.byPath, keep);
    let remoteFailed = false;
    // One path's work: its problems are results of the pass; only what stops the pass is thrown.
    const settle = async (p: string, r: WireChange | undefined, l: LocalChange | undefined, st: FileState | undefined, seen: LocalEntry | null) => {
      try {
        await this.paths.reconcile(p, r, l, st, seen, report);
      } catch (err) {
        if (fatal(err)) throw err;
        if (r) remoteFailed = true;
        if (err instanceof ChangedWhileSent) return; // still being written: named again once it settles
        // Gone since the walk saw it (an editor's or a build's temporary file): nothing to send, and
        // not a failure (it made `sync` exit 1); its removal is named again like any other.
        if (l && l.kind !== 'deleted' && !(await statEntry(this.link.dir, p))) return;
        if (l) report.failed.push(p);
        this.paths.forgetFalseFolder(p, err);
        report.errors.push(`${p}: ${failureText(err, this.link.dir)}`);
      }
      this.tell(report);
      this.state.commitBatchIfFull();
    };
    // Several paths at once (their round trips and fsyncs overlap, and the gateway commits them
    // together), in the orders a serial pass had (pass-order.ts); the state rows go in batches.
    this.state.beginBatch();
    try {
      // A full walk sends new entries as it meets them (new-entries.ts), the rest waits for the walk.
      const stream = scope.local === 'all' ? new NewEntryStream(this.concurrency, (c) => settle(c.entry.path, undefined, c, undefined, c.entry)) : null;
      const diff = new LocalDiff(this.link.dir, id, this.state, ig, sel, stream ? this.sink(stream, remote.byPath) : undefined);
      if (scope.local === 'all') {
        try {
          await diff.tree('', true, remote.byPath);
        } finally {
          await stream!.drain();
        }
        // The feed from our cursor holds every download not finished yet: other part files are stale.
        if (scope.remote === 'fetch') await removeLeftovers(this.link.dir, diff.leftovers, remote.byPath.values());
        if (!sel.everything) report.deleted += await evictUnselected(this.state, this.link, sel, report);
      } else for (const p of scope.local) await diff.path(p);
      for (const u of diff.unreadable) {
        report.errors.push(`${u.path || '.'}: ${unreadableText(u.code)}`);
        report.failed.push(u.path);
      }
      for (const p of diff.badNames) report.errors.push(`${p}: its name is not valid UTF-8 (shown here with \uFFFD; the gateway keeps names in UTF-8): not synced; rename it (convmv -f latin1 -t utf-8 renames such names)`);
      for (const p of diff.twinForms) report.errors.push(`${p}: another name in its folder differs from it only in Unicode form (NFC/NFD): rename one of them`);
      await this.settleRest(diff, remote, report, settle);
    } finally {
      this.state.endBatch();
    }
    // A change that could not be applied is asked for again: the cursor stays before it.
    if (!remoteFailed) {
      for (const top of refetch) this.state.doneRefetch(id, top);
      if (remote.cursor !== this.link.cursor) {
        this.link.cursor = remote.cursor;
        this.state.setCursor(id, remote.cursor);
      }
    }
    return report;
  }

  /**
   * Where a full walk sends the new entries nothing else in the pass is about: not the path of a
   * remote change (or below one), not one whose inode a state row has (it may be a rename, which
   * goes as a move once the walk has found what is gone).
   */
  private sink(stream: NewEntryStream, remote: Map<string, WireChange>): NewEntrySink {
    const movedFrom = new Set<string>();
    for (const c of remote.values()) if (c.oldPath) movedFrom.add(c.oldPath);
    let inodes: Float64Array | null = null;
    return {
      held: (p) => remote.has(p) || movedFrom.has(p),
      mayBeMoved: (ino) => sortedHas((inodes ??= this.state.inodes(this.link.id)), ino),
      send: (c) => stream.send(c),
    };
  }

  /** The pass's changes held until the walk ended: moves, then every other path in pass order. */
  private async settleRest(diff: LocalDiff, remote: RemoteChanges, report: PassReport, settle: (p: string, r: WireChange | undefined, l: LocalChange | undefined, st: FileState | undefined, seen: LocalEntry | null) => Promise<void>): Promise<void> {
    const id = this.link.id;
    // The state of every path this pass is about, and our local view of each remote one.
    const files = new Map<string, FileState>();
    const row = (p: string) => {
      if (files.has(p)) return;
      const st = this.state.file(id, p);
      if (st) files.set(p, st);
    };
    for (const [p, c] of remote.byPath) {
      row(p);
      if (c.oldPath) row(c.oldPath);
      if (diff.changes.has(p) || diff.seen.has(p)) continue;
      // Not met by a walk of the whole folder: not there (download checks again before its rename).
      if (diff.walkedAll) diff.seen.set(p, null);
      else await diff.one(p, await statEntry(this.link.dir, p));
    }
    for (const [p, l] of diff.changes) if (l.kind === 'deleted') files.set(p, l.state);
    else row(p);
    // What we already hold (our own changes coming back, or applied before a crash) needs nothing.
    // The folders above a delete of a path we do not have: a folder move that would bring our copy
    // there by a rename must not (applyRemoteMoves), or the path would come back without the delete.
    const aboveDeletes = new Set<string>();
    for (const [p, c] of remote.byPath) {
      const st = files.get(p);
      const echo = st && !c.deleted && st.kind === c.kind && st.version === c.version && st.sha256 === c.sha256;
      if (!st && c.deleted) for (let i = p.lastIndexOf('/'); i > 0 && !aboveDeletes.has(p.slice(0, i)); i = p.lastIndexOf('/', i - 1)) aboveDeletes.add(p.slice(0, i));
      if (echo || (!st && c.deleted)) remote.byPath.delete(p);
    }
    const local = diff.changes;
    const f = { files, remote: remote.byPath, local, aboveDeletes };
    report.moved += await applyRemoteMoves(this.state, this.link, f);
    report.moved += await sendLocalMoves(this.api, this.state, this.link, f);

    const paths = new Set([...remote.byPath.keys(), ...local.keys()]);
    const isRemoval = (p: string) => {
      const r = remote.byPath.get(p);
      const l = local.get(p);
      return (l?.kind === 'deleted' && (!r || r.deleted)) || (r?.deleted === true && !l);
    };
    report.looked = diff.looked;
    report.fetched = remote.pages ?? 0;
    await runInPassOrder(paths, isRemoval, this.concurrency, (p) => {
      const l = local.get(p);
      return settle(p, remote.byPath.get(p), l, files.get(p), l && l.kind !== 'deleted' ? l.entry : (diff.seen.get(p) ?? null));
    });
  }

  /** Local changes not sent yet (for status), without sending anything. */
  async pendingLocal(): Promise<number> {
    const diff = new LocalDiff(this.link.dir, this.link.id, this.state, await loadIgnore(this.link.dir), this.selection());
    await diff.tree('');
    return diff.changes.size;
  }

  /** Whether a change pushed by the gateway concerns us (not our own echo). */
  isForeign(c: WireChange): boolean {
    return c.deviceId !== this.deviceId;
  }
}
