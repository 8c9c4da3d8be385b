/**
 * Runs the per-path work of a pass several at a time while keeping the orders a pass one path at a
 * time had, which the work relies on:
 * - every path that is not a removal goes first, each only after the nearest folder above it that
 *   this pass also handles (a new folder is made, here or on the gateway, before its children);
 * - removals go last, deepest first: a folder is removed after everything below it, and after every
 *   download or upload of the pass (one may have brought a file back below a folder deleted elsewhere).
 * The work answers each path's problems itself (results of the pass); what it throws stops the run:
 * nothing new starts, what runs is let finish, and the first thing thrown is thrown again.
 */
import path from 'node:path';

/** Transfers at once by default: enough to overlap the round trips and fsyncs of small files. */
export const DEFAULT_CONCURRENCY = 8;

const depth = (p: string) => p.split('/').length;

/** At most `limit` holders at once, served in the order they asked. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(limit: number) {
    this.free = Math.max(1, limit);
  }

  async take(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }

  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }
}

/** Orders a pass's paths as one at a time would run them: the rest by depth, then removals deepest first. */
export function passOrder(paths: Iterable<string>, isRemoval: (p: string) => boolean): string[] {
  const tagged = [...paths].map((p) => ({ p, removal: isRemoval(p), depth: depth(p) }));
  return tagged
    .sort((a, b) => {
      if (a.removal !== b.removal) return a.removal ? 1 : -1;
      return a.removal ? b.depth - a.depth : a.depth - b.depth || (a.p < b.p ? -1 : 1);
    })
    .map((t) => t.p);
}

export async function runInPassOrder(paths: Iterable<string>, isRemoval: (p: string) => boolean, limit: number, work: (p: string) => Promise<void>): Promise<void> {
  const slots = new Slots(limit);
  let stopped = false;
  let thrown: unknown;
  const run = async (p: string, after: Promise<void> | undefined): Promise<void> => {
    if (after) await after;
    await slots.take();
    try {
      if (!stopped) await work(p);
    } catch (err) {
      if (!stopped) thrown = err;
      stopped = true;
    } finally {
      slots.give();
    }
  };

  const ordered = passOrder(paths, isRemoval);
  const firstRemoval = ordered.findIndex(isRemoval);
  const rest = firstRemoval < 0 ? ordered : ordered.slice(0, firstRemoval);
  const removals = firstRemoval < 0 ? [] : ordered.slice(firstRemoval);

  // The rest: each after the nearest folder above it in this pass (shallower paths were started first).
  const started = new Map<string, Promise<void>>();
  for (const p of rest) {
    let above: Promise<void> | undefined;
    for (let q = path.posix.dirname(p); q !== '.' && q !== '/' && !above; q = path.posix.dirname(q)) above = started.get(q);
    started.set(p, run(p, above));
  }
  await Promise.all(started.values());

  // Removals: one depth at a time, deepest first.
  for (let i = 0; i < removals.length && !stopped; ) {
    const level = depth(removals[i]!);
    const batch: Promise<void>[] = [];
    for (; i < removals.length && depth(removals[i]!) === level; i += 1) batch.push(run(removals[i]!, undefined));
    await Promise.all(batch);
  }
  if (stopped) throw thrown;
}
