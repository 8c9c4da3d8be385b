/**
 * The new entries a full pass sends while its walk goes on (see NewEntrySink in local-diff.ts): at
 * most `limit` at once, each after the folder above it when that folder is itself being sent (the
 * walk meets a folder before what is in it). The walk waits while all `limit` run, so a first sync
 * of 100,000 files holds `limit` of them, not a change (and later a task) for each.
 * The work answers each path's problems itself; what it throws stops the stream: nothing new
 * starts, what runs is let finish, and `drain` throws the first thing thrown.
 */
import type { Present } from './local-diff.js';

export class NewEntryStream {
  private readonly running = new Set<Promise<void>>();
  /** Folders being sent: what is below one waits for it. */
  private readonly folders = new Map<string, Promise<void>>();
  private stopped = false;
  private thrown: unknown;

  constructor(
    private readonly limit: number,
    private readonly work: (c: Present) => Promise<void>,
  ) {}

  /** Whether something the work threw stopped the stream (the walk need not go on). */
  get failed(): boolean {
    return this.stopped;
  }

  /** Who waits for a slot (the walk): woken when a task ends. */
  private wake: (() => void) | null = null;

  /** Starts `c` once fewer than `limit` run. */
  async send(c: Present): Promise<void> {
    while (this.running.size >= Math.max(1, this.limit)) await new Promise<void>((r) => (this.wake = r));
    if (this.stopped) return;
    const p = c.entry.path;
    const above = this.folders.get(p.slice(0, Math.max(0, p.lastIndexOf('/'))));
    const task = (async () => {
      if (above) await above;
      if (this.stopped) return;
      try {
        await this.work(c);
      } catch (err) {
        if (!this.stopped) this.thrown = err;
        this.stopped = true;
      }
    })();
    if (c.entry.kind === 'dir') this.folders.set(p, task);
    this.running.add(task);
    void task.then(() => {
      this.running.delete(task);
      if (this.folders.get(p) === task) this.folders.delete(p);
      const w = this.wake;
      this.wake = null;
      w?.();
    });
  }

  /** Waits for everything sent; throws what stopped the stream, if anything did. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
    if (this.stopped) throw this.thrown;
  }
}
