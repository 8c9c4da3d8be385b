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

/** Runs `work` on each item, at most `limit` at once, taking them in order (memory: `limit` tasks, not one per item). */
async function eachInOrder<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
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
  let stopped = false;
  let thrown: unknown;
  const one = async (p: string): Promise<void> => {
    if (stopped) return;
    try {
      await work(p);
    } catch (err) {
      if (!stopped) thrown = err;
      stopped = true;
    }
  };

  const ordered = passOrder(paths, isRemoval);
  const firstRemoval = ordered.findIndex(isRemoval);
  const rest = firstRemoval < 0 ? ordered : ordered.slice(0, firstRemoval);
  const removals = firstRemoval < 0 ? [] : ordered.slice(firstRemoval);

  // The rest: each after the nearest folder above it in this pass that is still under way (shallower
  // paths are taken first, and a path counts as under way from the moment it is taken). Only the
  // paths under way are held: a pass of 100,000 new files once held a task for each (445 MB).
  const underWay = new Map<string, Promise<void>>();
  await eachInOrder(rest, limit, async (p) => {
    let above: Promise<void> | undefined;
    for (let q = path.posix.dirname(p); q !== '.' && q !== '/' && !above; q = path.posix.dirname(q)) above = underWay.get(q);
    const task = (async () => {
      if (above) await above;
      await one(p);
    })();
    underWay.set(p, task);
    await task;
    underWay.delete(p);
  });

  // Removals: one depth at a time, deepest first.
  for (let i = 0; i < removals.length && !stopped; ) {
    const level = depth(removals[i]!);
    const batch: string[] = [];
    for (; i < removals.length && depth(removals[i]!) === level; i += 1) batch.push(removals[i]!);
    await eachInOrder(batch, limit, one);
  }
  if (stopped) throw thrown;
}
