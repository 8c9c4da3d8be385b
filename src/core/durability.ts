import { fsyncDir, fsyncFile } from '../lib/fsync.js';
import { KeyedMutex } from '../lib/mutex.js';
import type { ContentStore } from '../storage/content-store.js';
import type { ChangeBus } from './events.js';
import type { Change } from './types.js';

/**
 * Group commit for every change to every root.
 *
 * A change is applied under its root's mutex without waiting for the disk: its metadata transaction
 * writes the WAL but does not sync it (FilesRepo.record), and its renames leave their folders
 * unsynced (ContentStore marks them). `changeRoot` answers only after a flush has made all of it
 * durable: the WAL and every folder touched, synced in parallel. A flush covers every change made
 * while the previous one ran, so eight concurrent writers pay for about two flushes, not eight,
 * and the root's mutex is never held across a flush.
 *
 * What must reach the disk in a given order still does so before this point: a staged file is
 * synced before it is renamed into place, a replaced head's blob link before the rename (keepBlob).
 * Events are published after the flush, so no client hears of a change a power cut could undo.
 */
export class Durability {
  private readonly mutex = new KeyedMutex();
  private events: Array<{ rootId: number; change: Change }> = [];
  /** Bumped by every recorded change: a section that recorded nothing skips the flush. */
  private generation = 0;
  private running: Promise<void> | null = null;
  private next: Promise<void> | null = null;
  /** Flushes started so far (each syncs the WAL and the folders touched since the one before). */
  flushes = 0;

  /** `walFile` is null for an in-memory database (nothing to sync). */
  constructor(
    private readonly walFile: string | null,
    private readonly store: ContentStore,
    private readonly bus: ChangeBus,
  ) {}

  /** Runs `fn` alone among its root's changes; resolves once what it changed is durable. */
  async changeRoot<T>(rootId: number, fn: () => Promise<T>): Promise<T> {
    const before = this.generation;
    try {
      return await this.mutex.run(`root:${rootId}`, fn);
    } finally {
      if (this.generation !== before || this.store.hasUnsyncedDirs()) await this.flush();
    }
  }

  /** Called for each committed transaction of changes: publishes them once they are durable. */
  recorded(rootId: number, changes: Change[]): void {
    this.generation += 1;
    for (const change of changes) this.events.push({ rootId, change });
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
    const dirs = this.store.takeUnsyncedDirs();
    const events = this.events;
    this.events = [];
    const run = (async () => {
      try {
        // A folder removed since it was marked needs no sync: its removal is in its parent, marked too.
        await Promise.all([this.walFile ? fsyncFile(this.walFile, { ignoreMissing: true }) : undefined, ...dirs.map((d) => fsyncDir(d, { ignoreMissing: true }))]);
      } finally {
        this.running = null;
        for (const e of events) this.bus.publish(e.rootId, e.change);
      }
    })();
    this.running = run;
    return run;
  }
}
