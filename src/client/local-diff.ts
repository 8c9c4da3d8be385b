/**
 * What changed in the linked folder since the state we last agreed on, path by path: a whole tree
 * (a full pass, streamed: only the changes are held, plus the set of paths seen) or just the paths a
 * watcher named. An entry whose fingerprint (size, mtime, inode) matches its state row is not read;
 * one that differs is hashed, and a touch without a new content only refreshes the fingerprint.
 */
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Ignore } from 'ignore';
import type { Kind } from '../sync-wire/index.js';
import { hashFile, ignored, sameFingerprint, statEntry, type LocalEntry } from './local.js';
import type { Selection } from './selection.js';
import type { ClientState, FileState } from './state.js';

/** Files edited since their version from this size on are hashed as their delta is made. */
export const HASHED_BY_DELTA = 4 << 20;

/** `sha256` '': a new file, or a big edited one, not read yet (hashed as it is sent). */
export type Present = { kind: 'added' | 'modified'; entry: LocalEntry; sha256: string };
export type Gone = { kind: 'deleted'; state: FileState };
export type LocalChange = Present | Gone;

export class LocalDiff {
  readonly changes = new Map<string, LocalChange>();
  /** Paths looked at that have not changed, with what is on disk (a remote change may need it). */
  readonly seen = new Map<string, LocalEntry | null>();
  looked = 0;

  constructor(
    private readonly dir: string,
    private readonly linkId: number,
    private readonly state: ClientState,
    private readonly ig: Ignore,
    private readonly sel: Selection,
  ) {}

  private skip(p: string, kind: Kind): boolean {
    return ignored(this.ig, p, kind) || !this.sel.includes(p, kind);
  }

  /** One path as it is now against its state row. */
  async one(p: string, e: LocalEntry | null, st = this.state.file(this.linkId, p), remember = true): Promise<void> {
    if (this.changes.has(p)) return;
    this.looked += 1;
    if (!e) {
      if (st && !this.skip(p, st.kind)) this.changes.set(p, { kind: 'deleted', state: st });
      else if (remember) this.seen.set(p, null);
      return;
    }
    if (this.skip(p, e.kind)) return;
    if (e.kind === 'dir') {
      if (!st || st.kind !== 'dir') this.changes.set(p, { kind: st ? 'modified' : 'added', entry: e, sha256: '' });
      else if (remember) this.seen.set(p, e);
      return;
    }
    if (st && st.kind === 'file' && sameFingerprint(st, e)) {
      if (remember) this.seen.set(p, e);
      return;
    }
    if (!st) {
      // A new file: hashed when its upload reads it (transfers.ts), not in a read of its own first
      // (a big one while it goes up, before the upload starts otherwise; a first sync of 100,000
      // files no longer holds 100,000 hashes). Whoever needs the hash sooner (a rename, the same
      // path new on the gateway) reads it then.
      this.changes.set(p, { kind: 'added', entry: e, sha256: '' });
      return;
    }
    if (st && st.kind === 'file' && e.size >= HASHED_BY_DELTA) {
      // A big file edited since its version: hashed by the read that makes its delta (send.ts), not
      // by a read of its own before the upload can start (0.6 s per GiB). One only touched goes up
      // as a delta of one COPY, which the gateway finds unchanged (no new version).
      this.changes.set(p, { kind: 'modified', entry: e, sha256: '' });
      return;
    }
    const sha256 = await hashFile(path.join(this.dir, p), e.size).catch(() => null);
    if (sha256 === null) return; // gone meanwhile: the watcher (or the next pass) names it again
    // Still being written (it changed while we read it): the watcher names it again when it settles.
    const after = await statEntry(this.dir, p);
    if (!after || !sameFingerprint(after, e)) return;
    if (st && st.kind === 'file' && st.sha256 === sha256) {
      this.state.put(this.linkId, { ...st, size: e.size, mtimeMs: e.mtimeMs, ino: e.ino }); // touched, not changed
      if (remember) this.seen.set(p, e);
      return;
    }
    this.changes.set(p, { kind: st ? 'modified' : 'added', entry: e, sha256 });
  }

  /** A path a watcher named: the entry, and when it is (or was) a folder everything below it. */
  async path(p: string): Promise<void> {
    const e = await statEntry(this.dir, p);
    await this.one(p, e);
    if (!e || e.kind === 'dir') await this.tree(p, e !== null);
    // A new file in a new folder: the folders above it go first.
    for (let q = path.posix.dirname(p); q !== '.'; q = path.posix.dirname(q)) {
      const st = this.state.file(this.linkId, q);
      if (st?.kind === 'dir') break;
      await this.one(q, await statEntry(this.dir, q), st);
    }
  }

  /**
   * Whether the last tree walk read every folder: then a path it did not meet is not there (or not
   * synced), and the pass need not look again (an initial download of 10,000 files: 10,000 lstats).
   */
  walkedAll = false;

  /**
   * Everything below the folder `top` ('' = the whole folder); `onDisk` false: only what is gone.
   * `wanted`: paths whose entry the pass needs (remote changes), remembered when unchanged.
   */
  async tree(top: string, onDisk = true, wanted?: { has(p: string): boolean }): Promise<void> {
    const present = new Set<string>();
    let complete = onDisk;
    const walk = async (rel: string): Promise<void> => {
      let names: string[];
      try {
        names = await readdir(rel ? path.join(this.dir, rel) : this.dir);
      } catch {
        complete = false;
        return;
      }
      for (const name of names) {
        const child = rel ? `${rel}/${name}` : name;
        const st = await lstat(path.join(this.dir, child)).catch(() => null);
        if (!st || (!st.isFile() && !st.isDirectory())) continue;
        const kind: Kind = st.isDirectory() ? 'dir' : 'file';
        if (ignored(this.ig, child, kind)) continue;
        if (!this.sel.includes(child, kind)) continue; // an unselected folder is not walked
        present.add(child);
        // Unchanged entries are not remembered: a full pass of 100,000 files holds only what changed.
        await this.one(child, { path: child, kind, size: kind === 'file' ? st.size : 0, mtimeMs: Math.trunc(st.mtimeMs), ino: st.ino }, undefined, wanted?.has(child) ?? false);
        if (kind === 'dir') await walk(child);
      }
    };
    if (onDisk) await walk(top);
    this.walkedAll = complete && top === '';
    for (const st of this.state.pagesUnder(this.linkId, top)) {
      if (!present.has(st.path) && !this.changes.has(st.path)) await this.one(st.path, null, st, false);
    }
  }
}
