/**
 * The root's changes a pass applies: fetched page by page after the link's cursor (the last change
 * per path), or handed over from the WebSocket's pushes (no round trip). A stale cursor (the
 * gateway's data was restored) starts over from 0, forgetting our bases: local files then upload
 * with base 0 and conflict rather than overwrite.
 */
import type { WireChange } from '../sync-wire/index.js';
import { ApiError, type Api } from './api.js';
import type { ClientState, LinkRow } from './state.js';

export interface RemoteChanges {
  byPath: Map<string, WireChange>;
  cursor: number;
  /** Pages fetched over HTTP (0: the changes came pushed). */
  pages?: number;
}

/**
 * Keeps the last change per path, in feed order. `held`: a change this device already holds (its own
 * upload coming back, one applied before a crash) is dropped with any earlier one of its path, so
 * the echoes of a first sync of 100,000 files are not all held at once.
 */
export function lastPerPath(changes: Iterable<WireChange>, into = new Map<string, WireChange>(), keep: (c: WireChange) => boolean = () => true, held: (c: WireChange) => boolean = () => false): Map<string, WireChange> {
  for (const c of changes) {
    if (!keep(c)) continue;
    const before = into.get(c.path);
    into.delete(c.path);
    // A delete of a path we do not have is held, unless these changes brought the path first (a
    // move's arrival, a folder's with it): our copy may get there by a rename in this pass
    // (applyRemoteMoves), and the delete must then find it.
    if (!held(c) || (c.deleted && before !== undefined && !before.deleted)) into.set(c.path, c);
  }
  return into;
}

/** Whether this device already holds a change (the same version and content, or a delete of a path it does not have). */
export function heldBy(state: ClientState, linkId: number): (c: WireChange) => boolean {
  return (c) => {
    const st = state.file(linkId, c.path);
    return c.deleted ? !st : st !== undefined && st.kind === c.kind && st.version === c.version && st.sha256 === c.sha256;
  };
}

export async function fetchChanges(api: Api, state: ClientState, link: LinkRow, keep: (c: WireChange) => boolean, held?: (c: WireChange) => boolean): Promise<RemoteChanges> {
  const byPath = new Map<string, WireChange>();
  let after = link.cursor;
  let pages = 0;
  for (;;) {
    let page;
    pages += 1;
    try {
      page = await api.changes(link.root, after);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'STALE_CURSOR' && after > 0) {
        state.reset(link.id);
        link.cursor = 0;
        byPath.clear();
        after = 0;
        continue;
      }
      throw err;
    }
    lastPerPath(page.changes, byPath, keep, held);
    after = page.cursor;
    if (!page.more) return { byPath, cursor: after, pages };
  }
}

/**
 * The changes from 0 up to `upTo` of the folder `top` (newly selected: the feed after our cursor
 * does not hold it), under those already in `into` (which are newer).
 */
export async function fetchFolder(api: Api, root: string, top: string, upTo: number, into: Map<string, WireChange>): Promise<void> {
  const found = new Map<string, WireChange>();
  const under = (c: WireChange) => top === '' || c.path === top || c.path.startsWith(`${top}/`);
  let after = 0;
  while (after < upTo) {
    const page = await api.changes(root, after);
    lastPerPath(page.changes.filter((c) => c.seq <= upTo), found, under);
    if (!page.more || page.cursor <= after) break;
    after = page.cursor;
  }
  for (const [p, c] of found) if (!into.has(p) && !c.deleted) into.set(p, c);
}
