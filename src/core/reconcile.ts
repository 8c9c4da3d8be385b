import path from 'node:path';
import type { ChangeInput, EntryRow, FolderRecord, Recorded } from '../db/files-repo.js';
import { baseName, joinRel } from '../lib/paths.js';
import { isStagingLeftover } from '../storage/content-store.js';
import { fingerprint, fingerprintMatches, type FileStat } from '../storage/fingerprint.js';
import type { CoreContext } from './context.js';
import { actorOf } from './present.js';
import type { RootHandle } from './roots.js';
import { systemSession, type Session } from './session.js';
import { changeInfo } from './present.js';
import { endLinksBelow, endLinksOfDeleted } from './shares.js';
import { ChangeBatch } from './events.js';
import { ForeignNames } from './foreign-names.js';
import { diskPath } from './live.js';

const LOCAL: Session = systemSession('local', 'watcher');
const BATCH = 500;

/**
 * Brings metadata in line with the disk for edits made by other programs, as versions by the
 * `local` actor. Callers hold the root's mutex. Our own writes match their entry (size, mtime,
 * inode), so they cost a stat and record nothing.
 */
export class Reconciler {
  /** Names on disk no door can represent: skipped, reported once. */
  readonly foreignNames: ForeignNames;

  constructor(private readonly ctx: CoreContext) {
    this.foreignNames = new ForeignNames(ctx.log.child({ category: 'reconcile' }));
  }

  /**
   * Changes needed for one path (not its children, except tombstones below a vanished folder).
   * `rehash` reads a file again even when its size and times match its entry.
   */
  async diff(root: RootHandle, rel: string, entry: EntryRow | undefined, rehash = false, seen?: FileStat | null, looks = 1): Promise<ChangeInput[]> {
    const abs = diskPath(root, rel);
    const name = baseName(rel);
    // An unrepresentable name is as good as absent: never recorded (one recorded before is removed).
    // `seen`: the caller's stat of this path a moment ago, its name checked already (a scan looks at
    // each name once, not twice).
    const foreign = rel !== '' && seen === undefined && this.foreignNames.skip({ id: root.row.id, name: root.row.name }, rel);
    const raw = rel === '' || foreign ? null : seen !== undefined ? seen : await this.ctx.store.statPath(abs);
    const st = raw && (raw.kind === 'file' || raw.kind === 'dir') && !this.ctx.isIgnoredName(name) ? raw : null;
    const live = entry && !entry.deleted ? entry : undefined;
    if (rel === '') return [];
    if (!st) {
      if (!live) return [];
      const gone = this.tombstones(root, live);
      // Files removed together (a folder) are not each other's surviving copy: all of them go.
      const paths = new Set(gone.map((g) => g.path));
      for (const g of gone) if (g.kind === 'file') await this.noteLost(root, paths, g.hash);
      return gone;
    }
    if (st.kind === 'dir') {
      if (live?.kind === 'dir') return [];
      const out = live ? this.tombstones(root, live) : [];
      out.push({ path: rel, kind: 'dir', op: 'mkdir', deleted: false, hash: '', size: 0, ...fingerprint(st) });
      return out;
    }
    if (live?.kind === 'file' && !rehash && fingerprintMatches(live, st)) return [];
    const { hash, size } = await this.ctx.store.hashFile(abs, st.size);
    const after = await this.ctx.store.statPath(abs);
    // The file is read by name, following links: swapped meanwhile (a link to a file outside the
    // root put in its place) or still being written, the bytes hashed are not those of the inode
    // looked at. Only a read the lstats before and after agree on is recorded; else look again, and
    // after three looks leave it to the next (its watcher event, the next read or scan).
    if (!after || after.kind !== 'file' || after.size !== size || after.ino !== st.ino || after.mtimeMs !== st.mtimeMs || after.ctimeMs !== st.ctimeMs) {
      return looks < 3 ? this.diff(root, rel, entry, rehash, undefined, looks + 1) : [];
    }
    if (live?.kind === 'file' && live.hash === hash) {
      this.ctx.files.touchFingerprint(live.id, fingerprint(after));
      Object.assign(live, fingerprint(after)); // the caller's row stays true to the database
      return [];
    }
    if (live?.kind === 'file') await this.noteLost(root, new Set([rel]), live.hash);
    const out = live?.kind === 'dir' ? this.tombstones(root, live) : [];
    out.push({ path: rel, kind: 'file', op: live?.kind === 'file' ? 'write' : 'create', deleted: false, hash, size, ...fingerprint(after) });
    return out;
  }

  /**
   * Another program replaced or removed a head we hold no copy of (heads cost no blob): its
   * versions can no longer be read, unless the same content lives on elsewhere. Nor can any other
   * version of that content: those from before the file's moves (listed in its history), and
   * those of other paths and roots (content is one per hash), so all of them are marked.
   * `leaving`: the paths of this root going in the same change, which hold it no longer.
   */
  private async noteLost(root: RootHandle, leaving: Set<string>, hash: string): Promise<void> {
    if (await this.ctx.store.hasBlob(hash)) return;
    // liveWithHash answers 5 rows at most: a full answer may hide one beyond them, so it counts as held.
    const holders = this.ctx.files.liveWithHash(hash);
    if (holders.length >= 5 || holders.some((e) => !(e.rootId === root.row.id && leaving.has(e.path)))) return;
    this.ctx.history.markHashLost(hash);
  }

  /** Deletion records for a live entry and, for a folder, everything below it (deepest first). */
  tombstones(root: RootHandle, live: EntryRow): ChangeInput[] {
    const rows = live.kind === 'dir' ? this.ctx.files.subtree(root.row.id, live.path) : [live];
    return rows.reverse().map((e) => ({ path: e.path, kind: e.kind, op: 'delete', deleted: true, hash: e.hash, size: e.size, mtimeMs: e.mtimeMs, ino: 0 }));
  }

  /** Reconciles one path; returns its entry afterwards. */
  async settle(root: RootHandle, rel: string): Promise<EntryRow | undefined> {
    const entry = this.ctx.files.entry(root.row.id, rel);
    const inputs = await this.diff(root, rel, entry);
    if (inputs.length === 0) return entry; // the usual case: the disk matches, no second read
    this.commit(root, LOCAL, inputs);
    return this.ctx.files.entry(root.row.id, rel);
  }

  /** Reads the given files' content again, whatever their size and times say; records what differs. */
  async verify(root: RootHandle, rows: EntryRow[]): Promise<number> {
    let recorded = 0;
    for (const e of rows) {
      const inputs = await this.diff(root, e.path, e, true);
      if (inputs.length > 0) recorded += this.commit(root, LOCAL, inputs).length;
    }
    return recorded;
  }

  /**
   * True when every folder recorded at or below `rel` holds on disk exactly the names recorded in
   * it: one readdir per folder, no stat of any file. It catches what a watcher cannot have
   * reported: a file or folder made before the watch of its folder was in place (a folder copied in
   * by another program is walked once, when its first event is reconciled, and its watch is added
   * after that walk). Edits of recorded files are the watcher's to report. `dirs`: those folders,
   * when the caller has just read them (DiskWatch.vouchesFor: a 1,000-file folder's are found among
   * its 1,000 entries, about a third of a millisecond).
   */
  async namesMatch(root: RootHandle, rel: string, dirs = this.ctx.files.liveDirsAtOrBelow(root.row.id, rel)): Promise<boolean> {
    for (const dir of dirs) {
      let names: string[];
      try {
        names = await this.ctx.store.readDir(path.join(root.dir, dir));
      } catch {
        return false;
      }
      const recorded = new Set(this.ctx.files.childNames(root.row.id, dir));
      let seen = 0;
      for (const raw of names) {
        const name = raw.normalize('NFC');
        if (this.ctx.isIgnoredName(name) || isStagingLeftover(name)) continue;
        if (!recorded.has(name)) return false;
        seen += 1;
      }
      if (seen !== recorded.size) return false;
    }
    return true;
  }

  /**
   * Walks the disk below `rel` (inclusive), recording every difference in batches. `shallow`: only
   * `rel`'s own children, and the trees of folders not recorded yet.
   */
  async scan(root: RootHandle, rel: string, onProgress?: (paths: number) => void, shallow = false): Promise<number> {
    let pending: ChangeInput[] = [];
    let seen = 0;
    let recorded = 0;
    const flush = () => {
      if (pending.length === 0) return;
      recorded += this.commit(root, LOCAL, pending).length;
      pending = [];
    };
    const visit = async (dirRel: string): Promise<void> => {
      const abs = dirRel === '' ? root.dir : path.join(root.dir, dirRel);
      let names: string[] = [];
      try {
        names = await this.ctx.store.readDir(abs);
      } catch {
        return;
      }
      const known = new Map(this.ctx.files.children(root.row.id, dirRel).map((e) => [e.name, e]));
      for (const name of names.map((n) => n.normalize('NFC'))) {
        // Our copy for a cross-filesystem install, left by a crash (installs hold this root's mutex).
        if (isStagingLeftover(name)) await this.ctx.store.discard(path.join(abs, name));
        if (this.ctx.isIgnoredName(name)) continue;
        const childRel = joinRel(dirRel, name);
        if (this.foreignNames.skip({ id: root.row.id, name: root.row.name }, childRel)) continue;
        const st = await this.ctx.store.statPath(path.join(abs, name));
        const entry = known.get(name);
        known.delete(name);
        // The usual case, a file as recorded, decided here: a folder's delete or move scans its tree first.
        if (st?.kind === 'file' && entry?.kind === 'file' && !entry.deleted && fingerprintMatches(entry, st)) {
          seen += 1;
          continue;
        }
        pending.push(...(await this.diff(root, childRel, entry, false, st)));
        seen += 1;
        if (pending.length >= BATCH) flush();
        // `shallow`: a folder already recorded is not entered (its own watch reports what changes in it).
        if (st?.kind === 'dir' && !(shallow && entry?.kind === 'dir' && !entry.deleted)) {
          flush(); // children need their parent recorded first
          await visit(childRel);
        }
      }
      for (const gone of known.values()) pending.push(...this.tombstones(root, gone));
      onProgress?.(seen);
    };
    if (rel !== '') {
      const st = await this.settle(root, rel);
      if (!st || st.deleted || st.kind !== 'dir') return recorded;
    }
    await visit(rel);
    flush();
    return recorded;
  }

  /**
   * Publishes a folder's move or removal, recorded as one feed record (FilesRepo.recordTree*): its
   * per-path changes (with the device of their versions, as the feed reads them) are made when a
   * listener asks, and only its folders' for a listener of folders (ChangeBatch). `removed`: the
   * folder's path when it was deleted, whose links end with it and everything in it.
   */
  publishedFolder(root: RootHandle, rec: FolderRecord, removed?: string): void {
    if (removed !== undefined) endLinksBelow(this.ctx, root.row.id, removed);
    const { name } = root.row;
    const files = this.ctx.files;
    const read = (foldersOnly: boolean) => files.feed.ofFolder(rec, 0, foldersOnly).map((r) => changeInfo(name, r, { id: r.deviceId, name: r.deviceName }));
    this.ctx.durable.recorded(root.row.id, [new ChangeBatch(rec.firstSeq, read)]);
  }

  commit(root: RootHandle, session: Session, inputs: ChangeInput[]): Recorded[] {
    const recorded = this.ctx.files.record(root.row.id, actorOf(session), inputs);
    // Every recorded delete passes here (every door, the watcher, replacing moves and copies).
    endLinksOfDeleted(this.ctx, root.row.id, inputs);
    this.ctx.durable.recorded(
      root.row.id,
      recorded.map((r) => changeInfo(root.row.name, r.change, { id: session.device?.id ?? null, name: session.device?.name ?? null })),
    );
    return recorded;
  }
}
