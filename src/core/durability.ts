import type { Logger } from 'pino';
import { closeSync, openSync } from 'node:fs';
import { fsyncDir, syncFd } from '../lib/fsync.js';
import { KeyedMutex } from '../lib/mutex.js';
import type { ContentStore } from '../storage/content-store.js';
import { isStorageFull, storageFull } from './errors.js';
import { ChangeBatch, type ChangeBus } from './events.js';
import type { Change } from './types.js';

/** Folders opened for syncing at once (each costs a descriptor until its sync ends). */
const DIRS_PER_ROUND = 256;

/**
 * Group commit for every change to every root.
 *
 * A change is applied under its root's mutex without waiting for the disk: its metadata transaction
 * is left open, to be committed unsynced with the others of its flush (FilesRepo.record, db
 * txUnsynced), and its renames leave their folders unsynced (ContentStore marks them). A flush
 * starts as soon as a change is recorded, or after the one running. It commits that transaction,
 * then syncs the WAL and every folder touched, in parallel. `changeRoot` answers only once a flush
 * has made all of its changes durable, and everything it may have read too. A flush covers every
 * change made while the previous one ran, so eight concurrent writers pay for about two flushes
 * (and commits), not eight, and the root's mutex is never held across one. A folder changed while
 * no flush runs starts syncing at once (foldersChanged), and the next flush waits for that sync.
 *
 * What must reach the disk in a given order still does so before this point: a staged file that
 * replaces another is synced before it is renamed into place, a replaced head's blob link before the
 * rename (keepBlob). A small file written alone to a new path is renamed while its content syncs,
 * and the write waits for that sync as well as for the flush (VfsWriter.write): one disk round trip
 * per write on one connection instead of two in a row. Events are published after the flush, and
 * the change feed stops short of unflushed changes, so no client hears of a seq that a power cut
 * could hand out again.
 *
 * Left open: the WAL may reach the disk before the folders (they sync in parallel, and any other
 * commit syncs the WAL too), or before a new file's content. A power cut in that window can leave an
 * unacknowledged version recorded whose content never arrived. Start-up records the file on disk as
 * the next version (that version shows as unavailable); after an unclean stop it first reads again the
 * small files recorded in the last minute, whose size and times may match while their content does
 * not (VfsWriter.verifyRecent). Nothing acknowledged is lost.
 */
export class Durability {
  private readonly mutex = new KeyedMutex();
  private events: Array<{ rootId: number; change: Change | ChangeBatch }> = [];
  private flushingEvents: Array<{ rootId: number; change: Change | ChangeBatch }> = [];
  /** Bumped by every recorded transaction; `durable` is the value the last finished flush covered. */
  private generation = 0;
  private durable = 0;
  private running: Promise<void> | null = null;
  private runningCovers = 0;
  private next: Promise<void> | null = null;
  /** A sync of changed folders started before their changes' flush (see foldersChanged). */
  private early: Promise<void> | null = null;
  /**
   * The WAL, opened at the first flush and kept: SQLite keeps its file (truncated or restarted, never
   * replaced) while the gateway's connection is open, and each flush saves an open and a close.
   */
  private walFd: number | null = null;
  /** Flushes started so far (each syncs the WAL and the folders touched since the one before). */
  flushes = 0;

  /**
   * `commit` commits the metadata transaction the changes were recorded in (db commitUnsynced);
   * `walFile` is null for an in-memory database (nothing to sync).
   */
  constructor(
    private readonly commit: () => void,
    private readonly walFile: string | null,
    private readonly store: ContentStore,
    private readonly bus: ChangeBus,
    private readonly log: Logger,
  ) {
    store.onFolderChanged = () => this.foldersChanged();
  }

  /**
   * A folder changed (a file renamed into it, say): when no flush is running, its sync starts now,
   * while the change is recorded and committed, instead of after the commit. On one connection that
   * takes a folder sync off every write's path. Under load a flush is nearly always running and the
   * folders wait for the next one, as before: syncing a folder more often slows the renames into it.
   */
  private foldersChanged(): void {
    if (this.running || this.early) return;
    const early = this.syncDirs();
    this.early = early;
    // A failure is the flush's to report: the folders are marked again and synced by it.
    early.catch(() => {}).finally(() => {
      if (this.early === early) this.early = null;
    });
  }

  /** Runs `fn` alone among its root's changes; resolves once what it changed, or saw, is durable. */
  async changeRoot<T>(rootId: number, fn: () => Promise<T>): Promise<T> {
    try {
      try {
        return await this.mutex.run(`root:${rootId}`, fn);
      } finally {
        await this.settled();
      }
    } catch (err) {
      // A commit refused for want of space (SQLITE_FULL, ENOSPC under the WAL) is the door's 507,
      // not an internal error: the change was rolled back, nothing was recorded.
      if (isStorageFull(err)) throw storageFull('this change');
      throw err;
    }
  }

  /**
   * Waits until every change recorded so far is durable. Also for a section that recorded nothing:
   * it may answer from another writer's unflushed change (the same bytes sent again: "unchanged").
   */
  private settled(): Promise<void> {
    const target = this.generation;
    if (this.store.hasUnsyncedDirs()) return this.flush();
    // An early folder sync is waited for by the flush running (started after it) or the next one.
    if (this.durable >= target && !this.early) return Promise.resolve();
    if (this.running && this.runningCovers >= target) return this.running;
    return this.flush();
  }

  /** Called for each committed transaction of changes: publishes them once they are durable. */
  recorded(rootId: number, changes: Array<Change | ChangeBatch>): void {
    this.generation += 1;
    for (const change of changes) this.events.push({ rootId, change });
    // Started now, not when the change's section ends: the disk works while the section finishes
    // and the answer is made. A failure reaches the writers through settled().
    if (!this.next) this.flush().catch((err: unknown) => this.log.warn({ err }, 'flush failed: the changes waiting for it are refused'));
  }

  /** The lowest seq of `rootId` not yet durable (the change feed stops before it), if any. */
  firstUnflushedSeq(rootId: number): number | undefined {
    // Both lists are in commit order, so the first match is the lowest.
    for (const list of [this.flushingEvents, this.events]) {
      const e = list.find((x) => x.rootId === rootId);
      if (e) return e.change instanceof ChangeBatch ? e.change.firstSeq : e.change.seq;
    }
    return undefined;
  }

  flush(): Promise<void> {
    // A flush that has started may have missed our changes: wait for the one after it.
    if (this.next) return this.next;
    if (!this.running) return this.start();
    const after = () => {
      this.next = null;
      return this.start();
    };
    this.next = this.running.then(after, after);
    return this.next;
  }

  private start(): Promise<void> {
    this.flushes += 1;
    const covers = this.generation;
    this.flushingEvents = this.events;
    this.events = [];
    const run = (async () => {
      try {
        try {
          this.commit();
        } catch (err) {
          // Rolled back: these changes never happened, and nobody may hear of them (any that another
          // write committed earlier are in the change feed all the same: clients read it from the database).
          this.flushingEvents = [];
          throw err;
        }
        await this.syncAll();
        this.durable = Math.max(this.durable, covers);
      } finally {
        this.running = null;
        const events = this.flushingEvents;
        this.flushingEvents = [];
        for (const e of events) this.bus.publish(e.rootId, e.change);
      }
    })();
    this.running = run;
    this.runningCovers = covers;
    return run;
  }

  /** Closes the WAL kept open (before the database closes; a sync under way ends first). */
  close(): void {
    const fd = this.walFd;
    this.walFd = null;
    if (fd !== null) void (this.running ?? Promise.resolve()).catch(() => {}).finally(() => closeSync(fd));
  }

  private async syncAll(): Promise<void> {
    if (this.walFile) this.walFd ??= openSync(this.walFile, 'r+');
    const wal = this.walFd === null ? undefined : syncFd(this.walFd, true);
    try {
      // The folders marked since the early sync started sync beside it, not after it (one disk
      // round trip, not two); those a failed early sync marked again are taken once it ended.
      let earlyFailed = false;
      const synced = Promise.all([this.early?.catch(() => (earlyFailed = true)), this.syncDirs()]);
      // The syncs are under way: names deleted into staging are unlinked meanwhile (Staging.setAside).
      this.store.removeSetAside();
      await synced;
      if (earlyFailed) await this.syncDirs();
    } catch (err) {
      await wal?.catch(() => {});
      throw err;
    }
    await wal;
  }

  /** Syncs every folder changed and not yet synced; on failure they stay marked. */
  private async syncDirs(): Promise<void> {
    // Local folders are opened as they are taken (a direct open): one renamed later is still the one
    // synced. Those left for a later round stay marked, and follow a rename (ContentStore.renameLive).
    // A folder elsewhere renamed between take and open is missed; the rename marks its parents.
    for (let dirs = this.store.takeUnsyncedDirs(DIRS_PER_ROUND); dirs.length > 0; dirs = this.store.takeUnsyncedDirs(DIRS_PER_ROUND)) {
      try {
        // A folder removed since it was marked needs no sync: its removal is in its parent, marked too.
        await Promise.all(dirs.map((d) => fsyncDir(d, { ignoreMissing: true, direct: this.store.isLocal(d) })));
      } catch (err) {
        for (const d of dirs) this.store.markUnsynced(d); // tried again by the next flush
        throw err;
      }
    }
  }
}
