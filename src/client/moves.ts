/**
 * Renames in a pass: a remote move replayed as a local rename when our copy is the one that moved
 * (no download), and a local rename (same inode under a new name) sent as a move, so history
 * follows the file. What cannot go as a move goes as a delete and an add.
 */
import type { WireChange } from '../sync-wire/index.js';
import { ApiError, type Api } from './api.js';
import { moveLocal, statEntry } from './local.js';
import { hashOf } from './send.js';
import type { Gone, LocalChange, Present } from './local-diff.js';
import type { ClientState, FileState, LinkRow } from './state.js';

export interface PassFiles {
  /** State rows of the paths this pass is about (rename keeps it current). */
  files: Map<string, FileState>;
  remote: Map<string, WireChange>;
  local: Map<string, LocalChange>;
  /** The folders above the paths the remote changes delete that we have no state of (see applyRemoteMoves). */
  aboveDeletes?: Set<string>;
}

const depth = (p: string) => p.split('/').length;
export const fatal = (err: unknown) => err instanceof ApiError && (err.code === 'UNREACHABLE' || err.code === 'UNAUTHENTICATED' || err.code === 'TOO_MANY_ATTEMPTS');

/** Rewrites the state of `from` (and below it) to `to`, keeping bases: the gateway moved them as they were. */
function rename(state: ClientState, link: LinkRow, files: Map<string, FileState>, from: string, to: string): void {
  for (const p of [...files.keys()]) if (p === from || p.startsWith(`${from}/`)) files.delete(p);
  for (const r of state.renameTree(link.id, from, to)) files.set(r.path, r);
}

export async function applyRemoteMoves(state: ClientState, link: LinkRow, f: PassFiles): Promise<number> {
  const { files, remote, local } = f;
  let moved = 0;
  const moves = [...remote.values()].filter((c) => c.op === 'move-in' && c.oldPath && !c.deleted).sort((a, b) => a.seq - b.seq);
  for (const c of moves) {
    const from = c.oldPath!;
    const st = files.get(from);
    if (!st || local.has(from) || local.has(c.path) || st.kind !== c.kind || (c.kind === 'file' && st.sha256 !== c.sha256)) continue;
    if (await statEntry(link.dir, c.path)) continue;
    if (!(await statEntry(link.dir, from))) continue;
    // Something below its new name was deleted after it moved: a rename would bring that back (its
    // delete, of a path we had no state of, was dropped). Its paths go as deletes and downloads.
    if (c.kind === 'dir' && f.aboveDeletes?.has(c.path)) continue;
    const e = await moveLocal(link.dir, from, c.path);
    rename(state, link, files, from, c.path);
    const row = { path: c.path, kind: c.kind, version: c.version, sha256: c.sha256, size: e.size, mtimeMs: e.mtimeMs, ino: e.ino };
    state.put(link.id, row);
    files.set(c.path, row);
    remote.delete(c.path);
    if (c.kind === 'dir') followMovedFolder(state, link, f, from, c.path);
    moved += 1;
  }
  return moved;
}

/**
 * Our changes below a folder the gateway moved (and we just renamed here) moved with it: each is
 * looked at under its new name, and where the gateway moved our base as it was (same content, a
 * new version number), that version is the base our edit goes up with: an edit made here inside a
 * folder renamed elsewhere is no conflict.
 */
function followMovedFolder(state: ClientState, link: LinkRow, f: PassFiles, from: string, to: string): void {
  const { files, remote, local } = f;
  for (const [p, l] of [...local]) {
    if (!p.startsWith(`${from}/`)) continue;
    const np = to + p.slice(from.length);
    local.delete(p);
    const row = files.get(np);
    const r = remote.get(np);
    let base = row;
    if (row && r && !r.deleted && r.kind === row.kind && r.sha256 === row.sha256) {
      base = { ...row, version: r.version };
      state.put(link.id, base);
      files.set(np, base);
      remote.delete(np);
    }
    if (l.kind !== 'deleted') local.set(np, { ...l, entry: { ...l.entry, path: np } });
    else if (base) local.set(np, { kind: 'deleted', state: base });
  }
}

export async function sendLocalMoves(api: Api, state: ClientState, link: LinkRow, f: PassFiles): Promise<number> {
  const { files, remote, local } = f;
  let moved = 0;
  const added = [...local.values()].filter((c): c is Present => c.kind === 'added');
  const gone = [...local.values()].filter((c): c is Gone => c.kind === 'deleted').sort((a, b) => depth(a.state.path) - depth(b.state.path));
  // A new big file is not hashed by the scan (local-diff.ts): one that may be a renamed file is, here.
  for (const a of added) {
    if (a.sha256 || a.entry.kind !== 'file') continue;
    if (!gone.some((d) => d.state.kind === 'file' && d.state.ino === a.entry.ino && d.state.size === a.entry.size)) continue;
    a.sha256 = await hashOf(link.dir, a.entry).catch(() => '');
  }
  for (const d of gone) {
    const from = d.state.path;
    if (!local.has(from) || remote.has(from)) continue; // handled with its folder already
    const to = added.find((a) => local.get(a.entry.path) === a && a.entry.ino === d.state.ino && a.entry.kind === d.state.kind && (a.entry.kind === 'dir' || a.sha256 === d.state.sha256));
    if (!to || remote.has(to.entry.path)) continue;
    try {
      const res = await api.move(link.root, from, to.entry.path, d.state.kind === 'file' ? d.state.version : undefined);
      rename(state, link, files, from, to.entry.path);
      const row = { path: to.entry.path, kind: d.state.kind, version: res.entry.version, sha256: d.state.sha256, size: to.entry.size, mtimeMs: to.entry.mtimeMs, ino: to.entry.ino };
      state.put(link.id, row);
      files.set(row.path, row);
      // Everything below a moved folder moved with it.
      for (const p of [...local.keys()]) if (p === from || p.startsWith(`${from}/`) || p === to.entry.path || p.startsWith(`${to.entry.path}/`)) {
        const c = local.get(p)!;
        if (c.kind === 'deleted' || (c.kind === 'added' && files.has(p))) local.delete(p);
      }
      local.delete(from);
      local.delete(to.entry.path);
      // Edits made elsewhere below the folder moved with it on the gateway: fetched at their old
      // names they were not found (an error in the report); the next pass's feed has them at the new.
      if (d.state.kind === 'dir') for (const [p, c] of [...remote]) if (!c.deleted && p.startsWith(`${from}/`)) remote.delete(p);
      moved += 1;
    } catch (err) {
      if (fatal(err)) throw err;
      // Refused (changed meanwhile, target exists): sent as a delete and an upload instead.
    }
  }
  return moved;
}
