import type { DeleteResponse, WireChange, WireEntry } from '../sync-wire/index.js';
import { ApiError, type Api } from './api.js';
import { noteConflict } from './conflict-text.js';
import type { PassReport } from './engine.js';
import { makeLocalDir, removeLocal, sameFingerprint, statEntry, type LocalEntry } from './local.js';
import type { LocalChange } from './local-diff.js';
import type { ClientState, FileState, LinkRow } from './state.js';
import { hashOf, sendFile } from './send.js';
import { fetchFile, type TransferOptions } from './transfers.js';

/**
 * One path's work in a pass (LinkSync.pass, engine.ts): our local change goes up, or the root's
 * change comes down, given the state we last agreed on for the path. Its problems are thrown to the
 * pass, which makes them results.
 */
export class PathSync {
  constructor(
    private readonly api: Api,
    private readonly state: ClientState,
    private readonly link: LinkRow,
    private readonly transfer: TransferOptions,
  ) {}

  private remote: ReadonlyMap<string, WireChange> = new Map();
  /** Whether a path is synced here at all (not ignored, selected). */
  private keep: (c: Pick<WireChange, 'path' | 'kind'>) => boolean = () => true;

  async reconcile(p: string, r: WireChange | undefined, l: LocalChange | undefined, st: FileState | undefined, seen: LocalEntry | null, report: PassReport): Promise<void> {
    const id = this.link.id;
    if (r && !l) return this.applyRemote(p, r, st, seen, report);
    if (!l) return;
    if (l.kind === 'deleted') {
      if (r && !r.deleted) return this.applyRemote(p, r, undefined, null, report); // an edit beats a delete
      if (r?.deleted) {
        this.state.drop(id, p);
        return;
      }
      if (await statEntry(this.link.dir, p)) return; // back meanwhile (a download below it)
      // A folder goes with the cursor we had applied: what was put in it since, not here, stays.
      const res = await this.removeRemote(p, st);
      if (res.conflict) noteConflict(report, p, res.conflict);
      if (res.kept.length > 0) {
        for (const k of res.kept) noteConflict(report, k.entry.path, k.conflict);
        for (const k of res.kept) if (this.keep(k.entry)) await this.download(k.entry.path, k.entry, null, report);
        this.state.drop(id, p); // back as a new folder here: the next pass records it
        return;
      }
      if (!res.deleted && res.head) return this.download(p, res.head, null, report); // edited there since: it comes back
      this.state.drop(id, p);
      report.deleted += 1;
      return;
    }
    const e = l.entry;
    if (st && st.kind !== e.kind) {
      await this.replaceKind(p, st, r);
      st = undefined;
      r = undefined;
    }
    if (e.kind === 'dir') {
      if (r && !r.deleted && r.kind === 'dir') {
        this.state.put(id, { path: p, kind: 'dir', version: r.version, sha256: '', size: 0, mtimeMs: e.mtimeMs, ino: e.ino });
        return;
      }
      // A folder there already answers `unchanged`; ALREADY_EXISTS is a file of that name (recorded as
      // our folder, it stayed so for good and nothing below it could go up).
      const res = await this.api.mkdir(this.link.root, p).catch((err: unknown) => {
        if (err instanceof ApiError && err.code === 'ALREADY_EXISTS') throw new Error(`the gateway has a file named ${p} (made elsewhere meanwhile): rename the folder here`);
        throw err;
      });
      this.state.put(id, { path: p, kind: 'dir', version: res.entry.version, sha256: '', size: 0, mtimeMs: e.mtimeMs, ino: e.ino });
      if (!res.unchanged) report.uploaded += 1;
      return;
    }
    // A new big file is hashed while it goes up (local-diff.ts); here its hash is wanted first,
    // unless the change seen there is the very version our edit started from (its own echo).
    const fromHere = r && st?.kind === 'file' && r.kind === 'file' && r.version === st.version && r.sha256 === st.sha256;
    const known = !l.sha256 && r && !r.deleted && r.kind === 'file' && !fromHere ? await hashOf(this.link.dir, e) : l.sha256;
    if (r && !r.deleted && r.kind === 'file' && r.sha256 === known) {
      this.state.put(id, { path: p, kind: 'file', version: r.version, sha256: known, size: e.size, mtimeMs: e.mtimeMs, ino: e.ino });
      return;
    }
    // Our edit goes up with the base we edited; the gateway keeps both when someone else wrote since.
    // A remote change that holds our base's very content under a newer version (a folder move, ours
    // sent earlier in the sync or another device's, carried it as it was) is that base: with the old
    // number, an edit made here after our own folder rename met the rename as a conflict and went to
    // a copy, while the other device's edit of the same file then went up as a clean edit.
    const moved = r && !r.deleted && r.kind === 'file' && st?.kind === 'file' && r.sha256 === st.sha256 && r.version > st.version ? r.version : undefined;
    const base = st?.kind === 'file' ? (moved ?? st.version) : 0;
    const { res, bytes, sha256 } = await sendFile(this.api, this.link.root, this.link.dir, e, known, base, this.lane());
    report.bytesUp += bytes;
    report.uploaded += 1;
    const c = res.conflict;
    if (c) {
      noteConflict(report, p, c);
      if (c.kind === 'edit-delete' && c.kept === 'server') {
        // Deleted there and it stays so (server-wins); our content is held with the record.
        const now = await statEntry(this.link.dir, p);
        if (now && sameFingerprint(now, e)) await removeLocal(this.link.dir, p, 'file');
        this.state.drop(id, p);
        return;
      }
      // Ours became the head (no copy): nothing to fetch.
      if (!c.copyPath && c.kept === 'incoming') {
        this.state.put(id, { path: p, kind: 'file', version: res.entry.version, sha256, size: e.size, mtimeMs: e.mtimeMs, ino: e.ino });
        return;
      }
      // Our content is safe on the gateway (the conflict copy, or held with the record): take the head here.
      await this.download(p, null, e, report);
      return;
    }
    this.state.put(id, { path: p, kind: 'file', version: res.entry.version, sha256, size: e.size, mtimeMs: e.mtimeMs, ino: e.ino });
  }

  /**
   * The gateway said a parent of `p` is not a folder. A folder row at version 0 above it is one
   * an old client recorded over the gateway's file of that name (its mkdir took ALREADY_EXISTS for
   * the folder): a synced folder has a version, and a real folder turned file comes down the feed.
   * The row goes, so the next pass takes the folder here as new and reports the clash; the path is
   * fetched again from the feed's start (our cursor went past the file), so once the folder here is
   * renamed the gateway's file comes down.
   */
  forgetFalseFolder(p: string, err: unknown): void {
    if (!(err instanceof ApiError) || err.code !== 'NOT_A_DIRECTORY') return;
    for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) {
      const st = this.state.file(this.link.id, p.slice(0, i));
      if (st?.kind !== 'dir' || st.version !== 0) continue;
      this.state.drop(this.link.id, st.path);
      this.state.addRefetch(this.link.id, st.path);
    }
  }

  /** The pass's remote changes by path, and what the link syncs (LinkSync.pass sets them before it settles any path). */
  beginPass(remote: ReadonlyMap<string, WireChange>, keep: (c: Pick<WireChange, 'path' | 'kind'>) => boolean): void {
    this.remote = remote;
    this.keep = keep;
  }

  /**
   * Deletes `p` on the gateway: a file if still at the version we had, a folder without what changed
   * in it after the cursor this link had applied when the pass began (DeleteResponse.kept): a file
   * put there since is one this folder never held, whether the pass's feed read came before it (the
   * race with another device) or brought it but could not apply it (its download failed). The
   * pass's own changes after that cursor in the folder are deletes, of the files we had, made first
   * (removals go deepest first). NOT_FOUND: gone already.
   */
  private async removeRemote(p: string, st: FileState | undefined): Promise<DeleteResponse> {
    const file = st?.kind === 'file';
    const res = await this.api.remove(this.link.root, p, file ? st.version : undefined, file ? undefined : this.link.cursor).catch((err: unknown) => {
      if (err instanceof ApiError && err.code === 'NOT_FOUND') return { deleted: true, head: null, conflict: null, kept: [] };
      throw err;
    });
    return { ...res, kept: res.kept ?? [] }; // a gateway from before `cursor` sends none
  }

  /** A path below folder `p` that the gateway holds live, as this pass's remote changes say. */
  private liveBelow(p: string): string | undefined {
    for (const [q, c] of this.remote) if (!c.deleted && q.startsWith(`${p}/`)) return q;
    return undefined;
  }

  /**
   * A file replaced here by a folder of its name, or the reverse: what the gateway holds at the path
   * goes first, as a delete with the base we had (a folder's entries deleted here went before it),
   * then the new entry goes up as new. An edit made there since is not deleted: both are reported.
   */
  private async replaceKind(p: string, st: FileState, r: WireChange | undefined): Promise<void> {
    if (!r?.deleted) {
      // Entries another device put in the gateway's folder that this pass's feed brought and we have
      // not synced yet would go with it, an edit lost to a delete: refused. Those put there after
      // our feed read stay too (the delete names our cursor, removeRemote), and the file is refused.
      const unseen = st.kind === 'dir' ? this.liveBelow(p) : undefined;
      if (unseen) throw new Error(`${p} is a file here but the gateway's folder ${p} holds ${unseen}, not synced here yet: rename the file here`);
      const res = await this.removeRemote(p, st);
      if (!res.deleted) throw new Error(`${p} is a ${st.kind === 'file' ? 'folder' : 'file'} here but was edited on the gateway since: rename one of them`);
    }
    this.state.drop(this.link.id, p);
  }

  /**
   * The gateway made a file of what is a folder here, or the reverse: ours goes first when it is what
   * we last synced (a folder emptied by the deletes before it in the pass); a file edited here or a
   * folder still holding entries is kept and reported.
   */
  private async giveWayTo(p: string, st: FileState, r: WireChange): Promise<void> {
    const now = await statEntry(this.link.dir, p);
    if (now?.kind === st.kind) {
      if (now.kind === 'file' && !sameFingerprint(now, st)) throw new Error(`${p} was edited here but is a folder on the gateway now: rename it`);
      await removeLocal(this.link.dir, p, now.kind);
      if (await statEntry(this.link.dir, p)) throw new Error(`${p} is a ${r.kind} on the gateway now, but the folder here holds entries not synced: rename it`);
    }
    this.state.drop(this.link.id, p);
  }

  private async applyRemote(p: string, r: WireChange, st: FileState | undefined, seen: LocalEntry | null, report: PassReport): Promise<void> {
    const id = this.link.id;
    if (r.deleted) {
      const now = await statEntry(this.link.dir, p);
      if (now && st && now.kind === 'file' && !sameFingerprint(now, st)) return; // edited here meanwhile: next pass uploads it
      if (now) await removeLocal(this.link.dir, p, now.kind);
      this.state.drop(id, p);
      // Nothing was here (the old name of a folder that moved here as a rename, say): no delete to report.
      if (now) report.deleted += 1;
      return;
    }
    if (st && st.kind !== r.kind) {
      await this.giveWayTo(p, st, r);
      st = undefined;
      seen = null;
    }
    if (r.kind === 'dir') {
      const e = await makeLocalDir(this.link.dir, p);
      this.state.put(id, { path: p, kind: 'dir', version: r.version, sha256: '', size: 0, mtimeMs: e.mtimeMs, ino: e.ino });
      return;
    }
    // Our copy may already be that content (moved here with its folder earlier in this pass); with
    // no state row of a file there is nothing to look at (an initial sync: no lstat per file).
    const here = st?.kind === 'file' ? (seen ?? (await statEntry(this.link.dir, p))) : null;
    if (here?.kind === 'file' && st?.kind === 'file' && st.sha256 === r.sha256 && sameFingerprint(here, st)) {
      this.state.put(id, { ...st, version: r.version });
      return;
    }
    // Our copy is still the version last synced here: the gateway can make the delta from it alone.
    const base = here?.kind === 'file' && st?.kind === 'file' && sameFingerprint(here, st) ? st.version : undefined;
    await this.download(p, null, seen, report, r.sha256, base);
  }

  /** Options for one transfer: its own progress bar beside those of the transfers running with it. */
  private lane(): TransferOptions {
    const progress = this.transfer.progress;
    return progress?.lane ? { ...this.transfer, progress: progress.lane() } : this.transfer;
  }

  /**
   * Brings the head of `p` here. `seen` is the local file as scanned: it must still be so at the
   * rename, or a local edit made meanwhile would be lost (then nothing is replaced: the next pass
   * sends that edit with its base, and the gateway keeps both).
   */
  private async download(p: string, _head: WireEntry | null, seen: LocalEntry | null, report: PassReport, expect?: string, base?: number): Promise<void> {
    const stillOk = async () => {
      const now = await statEntry(this.link.dir, p);
      if (!seen) return now === null;
      return now !== null && sameFingerprint(now, seen);
    };
    const got = await fetchFile(this.api, this.link.root, this.link.dir, p, seen, stillOk, this.lane(), expect, base);
    if (!got) return;
    report.downloaded += 1;
    report.bytesDown += got.bytes;
    this.state.put(this.link.id, { path: p, kind: 'file', version: got.entry.version, sha256: got.entry.sha256, size: got.local.size, mtimeMs: got.local.mtimeMs, ino: got.local.ino });
  }
}
