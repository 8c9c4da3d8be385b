import type { Roots } from './roots.js';
import type { Session } from './session.js';
import type { Change } from './types.js';
import type { VfsReader } from './vfs-read.js';

export interface FollowOptions {
  /** Replay the change feed after this sequence number first; absent: only live changes. */
  after?: number;
  /** How often (at most) the session's access to the root is checked again; a lost grant ends the follower. */
  accessCheckMs?: number;
  /** Called once when the follower ends by itself: access lost, or the replay failed (err set). */
  onEnd?: (err?: unknown) => void;
  /** Replay page size. */
  pageSize?: number;
}

/** A running follower of a root's change feed. */
export interface Follower {
  /** The sequence number of the last change delivered (the cursor to resume from); -1 when none yet. */
  readonly last: number;
  readonly stopped: boolean;
  /** Checks access again if `accessCheckMs` passed (doors call it on their heartbeat); false once it ended. */
  stillAllowed(): boolean;
  stop(): void;
}

/**
 * Follows a root: replays the feed after a cursor, then delivers live changes, with no gap and no
 * duplicate. It subscribes before reading the feed, so nothing committed in between is missed;
 * changes arriving during the replay are held back and released in order, and anything at or below
 * the last delivered sequence number is dropped.
 *
 * `deliver` runs synchronously for each change, in sequence order, starting on the event loop's next
 * turn after `follow` resolves; it may call `stop`.
 */
export async function follow(
  reader: VfsReader,
  roots: Roots,
  session: Session,
  root: string,
  deliver: (c: Change) => void,
  opts: FollowOptions = {},
  now: () => number = Date.now,
): Promise<Follower> {
  const accessCheckMs = opts.accessCheckMs ?? 1000;
  const name = root.normalize('NFC');
  let last = opts.after ?? -1;
  let replaying = true;
  let stopped = false;
  let checkedAt = now();
  const held: Change[] = [];

  const stillAllowed = (): boolean => {
    if (stopped) return false;
    if (now() - checkedAt < accessCheckMs) return true;
    checkedAt = now();
    if (roots.list(session).some((x) => x.name === name)) return true;
    end();
    return false;
  };
  const send = (c: Change) => {
    if (stopped || c.seq <= last) return;
    if (!stillAllowed()) return;
    last = c.seq;
    deliver(c);
  };
  // Refuses (NOT_FOUND) a root the session may not see, before anything is delivered.
  const unsubscribe = await reader.subscribe(session, root, (c) => {
    if (replaying) held.push(c);
    else send(c);
  });
  const stop = () => {
    if (stopped) return;
    stopped = true;
    held.length = 0;
    unsubscribe();
  };
  const end = (err?: unknown) => {
    if (stopped) return;
    stop();
    opts.onEnd?.(err);
  };
  const follower: Follower = {
    get last() {
      return last;
    },
    get stopped() {
      return stopped;
    },
    stillAllowed,
    stop,
  };

  // The replay starts on the next turn of the event loop: the door first answers (headers of an
  // event stream, a WebSocket hello) once `follow` resolved, then the changes come.
  setImmediate(() => void replay());
  const replay = async () => {
    try {
      if (opts.after !== undefined) {
        let cursor = opts.after;
        for (;;) {
          const page = await reader.changes(session, root, cursor, opts.pageSize ?? 1000);
          for (const c of page.changes) send(c);
          if (stopped || !page.more) break;
          cursor = page.cursor;
        }
      }
    } catch (err) {
      end(err);
      return;
    }
    replaying = false;
    for (const c of held.splice(0)) send(c);
  };
  return follower;
}
