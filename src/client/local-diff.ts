/**
 * What changed in the linked folder since the state we last agreed on, path by path: a whole tree
 * (a full pass, streamed: only the changes are held, plus the paths seen that have a state row) or
 * just the paths a watcher named. An entry whose fingerprint (size, mtime, inode) matches its state
 * row is not read; one that differs is hashed, and a touch without a new content only refreshes the
 * fingerprint. A full pass may hand new entries to a sink as the walk meets them (NewEntrySink).
 */
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Kind } from '../sync-wire/index.js';
import type { IgnoreRules } from './ignore-rules.js';
import type { Leftover } from './leftovers.js';
import { entryFromStats, hashFile, ignored, isDownloadTemp, nfcName, sameFingerprint, statEntry, type LocalEntry } from './local.js';
import type { Selection } from './selection.js';
import type { ClientState, FileState } from './state.js';

/** Files edited since their version from this size on are hashed as their delta is made. */
export const HASHED_BY_DELTA = 4 << 20;

/** `sha256` '': a new file, or a big edited one, not read yet (hashed as it is sent). */
export type Present = { kind: 'added' | 'modified'; entry: LocalEntry; sha256: string };
export type Gone = { kind: 'deleted'; state: FileState };
export type LocalChange = Present | Gone;

/**
 * Takes a new entry (no state row) that the rest of the pass has no business with, while the walk
 * goes on: a first sync of 100,000 files then holds the few being sent, not a change for each
 * (memory). Only entries below folders the pass leaves alone are offered (see `settled`).
 */
export interface NewEntrySink {
  /** Whether the pass must see `p` with the rest (a remote change of it, or of a folder it is in). */
  held(p: string): boolean;
  /** Whether an entry with this inode may be a renamed one (a state row has it): then it is held. */
  mayBeMoved(ino: number): boolean;
  /** Sends it (waits while the sink is full: the walk goes no faster than the sending). */
  send(c: Present): Promise<void>;
}

export class LocalDiff {
  readonly changes = new Map<string, LocalChange>();
  /** Paths looked at that have not changed, with what is on disk (a remote change may need it). */
  readonly seen = new Map<string, LocalEntry | null>();
  /** Part and temporary files of downloads that a tree walk met (leftovers.ts decides their fate). */
  readonly leftovers: Leftover[] = [];
  /** Entries not synced because their name in NFC is another entry's (see nfcName). */
  readonly twinForms: string[] = [];
  /**
   * Entries that could not be read (permission denied, an I/O error), with the error's code: not
   * synced, and nothing at or below them counts as deleted (a folder made unreadable deleted all
   * its files on the gateway and on every other device). Syncthing reports such an entry as a
   * scan error and leaves it as it was too.
   */
  readonly unreadable: { path: string; code: string }[] = [];
  /** Entries whose name is not valid UTF-8 (shown with U+FFFD): not synced, reported. */
  readonly badNames: string[] = [];
  looked = 0;

  constructor(
    private readonly dir: string,
    private readonly linkId: number,
    private readonly state: ClientState,
    private readonly ig: IgnoreRules,
    private readonly sel: Selection,
    /** A full walk's new entries go there as they are met (see NewEntrySink); none: all are held. */
    private readonly sink?: NewEntrySink,
  ) {}

  /** `known`: whether `p` has a state row (the gateway holds it: default patterns let it through). */
  private skip(p: string, kind: Kind, known: boolean): boolean {
    return ignored(this.ig, p, kind, () => known) || !this.sel.includes(p, kind);
  }

  /** One path as it is now against its state row (`row` null: looked up already, there is none). */
  async one(p: string, e: LocalEntry | null, row?: FileState | null, remember = true): Promise<void> {
    if (this.changes.has(p)) return;
    const st = row === undefined ? this.state.file(this.linkId, p) : (row ?? undefined);
    this.looked += 1;
    if (!e) {
      if (this.unknown(p)) return;
      if (st && !this.skip(p, st.kind, true)) this.changes.set(p, { kind: 'deleted', state: st });
      else if (remember) this.seen.set(p, null);
      return;
    }
    if (this.skip(p, e.kind, st !== undefined)) return;
    if (e.kind === 'dir') {
      if (!st && (await this.offer({ kind: 'added', entry: e, sha256: '' }))) return;
      if (!st || st.kind !== 'dir') this.changes.set(p, { kind: st ? 'modified' : 'added', entry: e, sha256: '' });
      else {
        if (this.sink && this.settled.has(parentOf(p)) && !this.sink.held(p)) this.settled.add(p);
        if (remember) this.seen.set(p, e);
      }
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
      const c: Present = { kind: 'added', entry: e, sha256: '' };
      if (!(await this.offer(c))) this.changes.set(p, c);
      return;
    }
    if (st && st.kind === 'file' && e.size >= HASHED_BY_DELTA && e.size !== st.size) {
      // A big file whose size changed is surely edited: hashed by the read that makes its delta
      // (send.ts), not by a read of its own before the upload can start (0.6 s per GiB). One of the
      // same size may only have been touched (a checkout, a copy tool keeping bytes): hashed here
      // first, as a delta of one COPY would make the gateway write and sync the whole file again
      // only to find it unchanged.
      this.changes.set(p, { kind: 'modified', entry: e, sha256: '' });
      return;
    }
    const sha256 = await hashFile(path.join(this.dir, p), e.size).catch((err: unknown) => {
      if (!gone(err)) this.cannotRead(p, err);
      return null;
    });
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

  /**
   * Folders the pass leaves alone (unchanged, no remote change at or above them) or sent to the sink:
   * new entries below them may go to the sink. Only a full walk with a sink fills it.
   */
  private readonly settled = new Set<string>();
  /** Inodes of the entries the sink took (their state rows appear while the walk goes on). */
  private sent = new Float64Array(1024);
  private sentCount = 0;

  /** Hands a new entry to the sink if the pass has nothing else to do with it. */
  private async offer(c: Present): Promise<boolean> {
    const p = c.entry.path;
    if (!this.sink || !this.settled.has(parentOf(p)) || this.sink.held(p) || this.sink.mayBeMoved(c.entry.ino)) return false;
    if (this.sentCount === this.sent.length) {
      const more = new Float64Array(this.sent.length * 2);
      more.set(this.sent);
      this.sent = more;
    }
    this.sent[this.sentCount++] = c.entry.ino;
    if (c.entry.kind === 'dir') this.settled.add(p);
    await this.sink.send(c);
    return true;
  }

  /** A path a watcher named: the entry, and when it is (or was) a folder everything below it. */
  async path(p: string): Promise<void> {
    const segments = p.split('/');
    const odd = segments.findIndex((n) => n !== n.normalize('NFC'));
    // A name in another Unicode form: the walk of its folder renames it (nfcName); the rename is named again.
    if (odd >= 0) return this.tree(segments.slice(0, odd).join('/'));
    const e = await lstat(path.join(this.dir, p)).then((s) => entryFromStats(p, s), (err: unknown) => {
      if (gone(err)) return null;
      this.cannotRead(p, err);
      return undefined;
    });
    if (e === undefined) return;
    await this.one(p, e);
    if (!e || e.kind === 'dir') await this.tree(p, e !== null);
    // A new file in a new folder: the folders above it go first.
    for (let q = path.posix.dirname(p); q !== '.'; q = path.posix.dirname(q)) {
      const st = this.state.file(this.linkId, q);
      if (st?.kind === 'dir') break;
      await this.one(q, await statEntry(this.dir, q), st ?? null);
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
    // Only paths with a state row can be gone: a first sync of 100,000 new files holds none here.
    const present = new Set<string>();
    let complete = onDisk;
    if (top === '') this.settled.add('');
    const walk = async (rel: string): Promise<void> => {
      let names: string[];
      try {
        names = await readdir(rel ? path.join(this.dir, rel) : this.dir);
      } catch (err) {
        complete = false;
        if (!gone(err)) this.cannotRead(rel, err);
        return;
      }
      for (const raw of names) {
        // Nearly every name is in NFC already: no await per entry of a walk for them.
        const name = raw.normalize('NFC') === raw ? raw : await nfcName(this.dir, rel, raw, names);
        if (name === null) {
          this.twinForms.push(rel ? `${rel}/${raw}` : raw);
          continue;
        }
        const child = rel ? `${rel}/${name}` : name;
        const st = await lstat(path.join(this.dir, child)).catch((err: unknown) => {
          if (!gone(err)) this.cannotRead(child, err);
          // A name that is not UTF-8 (Latin-1 from an old archive or disk) reads back with U+FFFD
          // in place of its bytes: no path reaches it, and it was passed over without a word.
          else if (name.includes('\uFFFD')) this.badNames.push(child);
          return null;
        });
        if (!st || (!st.isFile() && !st.isDirectory())) continue;
        const kind: Kind = st.isDirectory() ? 'dir' : 'file';
        if (kind === 'file' && isDownloadTemp(name)) this.leftovers.push({ path: child, mtimeMs: st.mtimeMs });
        if (ignored(this.ig, child, kind, () => this.state.file(this.linkId, child) !== undefined)) continue;
        if (!this.sel.includes(child, kind)) continue; // an unselected folder is not walked
        const row = this.state.file(this.linkId, child);
        if (row) present.add(child);
        // Unchanged entries are not remembered: a full pass of 100,000 files holds only what changed.
        await this.one(child, { path: child, kind, size: kind === 'file' ? st.size : 0, mtimeMs: Math.trunc(st.mtimeMs), ino: st.ino }, row ?? null, wanted?.has(child) ?? false);
        if (kind === 'dir') await walk(child);
      }
    };
    if (onDisk) await walk(top);
    this.walkedAll = complete && top === '';
    // The sink's entries get state rows meanwhile, under paths not in `present`: known by their inode
    // (no row had it before: mayBeMoved), not by a set of 100,000 paths.
    const sent = this.sent.subarray(0, this.sentCount).sort();
    for (const st of this.state.pagesUnder(this.linkId, top)) {
      if (!present.has(st.path) && !this.changes.has(st.path) && !sortedHas(sent, st.ino)) await this.one(st.path, null, st, false);
    }
  }

  private cannotRead(p: string, err: unknown): void {
    if (!this.unknown(p)) this.unreadable.push({ path: p, code: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
  }

  /** Whether `p` is, or is below, an entry that could not be read. */
  private unknown(p: string): boolean {
    return this.unreadable.some((u) => u.path === '' || p === u.path || p.startsWith(`${u.path}/`));
  }
}

/** The error of an entry that is not there (or no longer a folder): only then is it gone. */
function gone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function parentOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

/** Whether the sorted `a` holds `x`. */
export function sortedHas(a: Float64Array, x: number): boolean {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo < a.length && a[lo] === x;
}
