import path from 'node:path';

/** What a folder watch (fs.watch on Linux: inotify) reports: 'rename' for a name that came or went, 'change' for content or attributes. */
export type WatchEvent = 'rename' | 'change';

/**
 * The gateway's own changes to the live tree, told before each system call that makes them, so a
 * folder watch can drop the events they cause without looking at the disk (no stat, no timer, no
 * reconcile): the watcher is on by default, so what it costs per write is every user's cost.
 *
 * Each announced change is expected once per kind of event (a rename into place: one 'rename' at its
 * name; a hard link to a live file: one 'change'), and only for `ttlMs`: inotify reports within
 * milliseconds, and an expectation whose event never came (no watch on that folder yet) must not hide
 * another program's later edit. A later edit of the same name by another program is a second event
 * and is seen. A tree removed as a whole (`expectTree`) has every event below it dropped for the
 * window: watches left on its sub-folders report its removal name by name. A tree moved as a whole
 * (`expectMove`) keeps its watches (inotify watches the folder, not its name): the watcher is told at
 * once, before the rename, and reads their events under the new name from then on (nothing is dropped).
 */
export class OwnChanges {
  private readonly paths = new Map<string, { rename: number; change: number; until: number }>();
  /** Trees removed (events below dropped) or moved (`moved`: events kept) in the window ending `until`. */
  private readonly trees = new Map<string, { until: number; moved: boolean }>();
  private readonly moveListeners = new Set<(from: string, to: string) => void>();
  /**
   * Watchers reading the expectations. With none (watcher.enabled false) nothing is recorded: every
   * write would otherwise keep about two seconds of expectations no one consumes, a map entry and
   * its path per write held through each young-generation collection.
   */
  private listeners = 0;

  constructor(
    private readonly ttlMs = 2000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A watcher starts reading; the function returned stops it (expectations made before are not kept).
   * `onTreeMoved` hears of each tree the gateway moves, synchronously, just before the rename (and
   * of the move back if the rename failed).
   */
  listen(onTreeMoved?: (from: string, to: string) => void): () => void {
    this.listeners += 1;
    if (onTreeMoved) this.moveListeners.add(onTreeMoved);
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      this.listeners -= 1;
      if (onTreeMoved) this.moveListeners.delete(onTreeMoved);
      if (this.listeners === 0) {
        this.paths.clear();
        this.trees.clear();
      }
    };
  }

  /** An event `event` at `abs` is about to come from our own change. */
  expect(abs: string, event: WatchEvent): void {
    if (this.listeners === 0) return;
    const now = this.now();
    const until = now + this.ttlMs;
    this.sweep(now);
    const e = this.paths.get(abs);
    if (e && e.until >= now) {
      e[event] += 1;
      e.until = until;
    } else this.paths.set(abs, { rename: event === 'rename' ? 1 : 0, change: event === 'change' ? 1 : 0, until });
  }

  /** Every event at or below `abs` for the window comes from our own move or removal of that tree. */
  expectTree(abs: string): void {
    this.tree(abs, false);
  }

  /**
   * The tree at `from` is about to be renamed to `to` (or back, after a failed rename): move
   * listeners re-point its watches now, so that an edit made inside it after the rename is read at
   * its new name, even before the move is recorded. The tree counts as ours for hidesEventsAt.
   */
  expectMove(from: string, to: string): void {
    if (this.listeners === 0) return;
    this.tree(from, true);
    for (const l of this.moveListeners) l(from, to);
  }

  private tree(abs: string, moved: boolean): void {
    if (this.listeners === 0) return;
    const now = this.now();
    this.sweep(now);
    this.trees.delete(abs); // set again below: the maps stay in the order of their windows' ends
    this.trees.set(abs, { until: now + this.ttlMs, moved });
  }

  /** True if the event is our own (and it is counted off): the watcher then ignores it. */
  consume(abs: string, event: WatchEvent): boolean {
    if (this.paths.size === 0 && this.trees.size === 0) return false;
    const now = this.now();
    const e = this.paths.get(abs);
    if (e && e.until >= now && e[event] > 0) {
      e[event] -= 1;
      if (e.rename === 0 && e.change === 0) this.paths.delete(abs);
      return true;
    }
    for (const [tree, { until, moved }] of this.trees) {
      // Strictly below: the tree's own name is the path expectation's (a folder made there again by
      // another program right after is seen, and its reconcile scans what it holds).
      if (!moved && until >= now && abs.startsWith(tree + path.sep)) return true;
    }
    return false;
  }

  /**
   * True while events at or below `abs` may be taken for our own: a tree moved or removed as a
   * whole within the window covers it or lies inside it. Another program's edit there could have
   * been dropped with ours, so the watcher cannot vouch for that tree yet.
   */
  hidesEventsAt(abs: string): boolean {
    const now = this.now();
    for (const [tree, { until }] of this.trees) {
      if (until < now) continue;
      if (tree === abs || abs.startsWith(tree + path.sep) || tree.startsWith(abs + path.sep)) return true;
    }
    return false;
  }

  /**
   * Drops expectations past their window (called as new ones come: the maps stay small). Oldest
   * first, stopping at the first one still open: a Map keeps insertion order, so this touches only
   * what it drops. Without a watcher consuming them (watcher off, or a folder it does not watch) the
   * map holds about two seconds of writes; a sweep of all of it on every write cost 10-20 µs per
   * small PUT. An entry whose window was extended in place may hold back younger expired ones for
   * at most one window: consume checks `until` anyway.
   */
  private sweep(now: number): void {
    if (this.paths.size >= 256) {
      for (const [k, e] of this.paths) {
        if (e.until >= now) break;
        this.paths.delete(k);
      }
    }
    if (this.trees.size >= 16) {
      for (const [k, { until }] of this.trees) {
        if (until >= now) break;
        this.trees.delete(k);
      }
    }
  }
}
