/**
 * One linked folder kept in step with its root. A pass compares three things per path: the state
 * we last agreed on (ClientState), the folder now (scan), and the root's changes after our cursor;
 * whichever side moved since the state wins, and when both did the gateway decides (our upload
 * names its base version: an outdated one becomes a conflict copy, never an overwrite).
 * Per-file problems are results of the pass; only an unreachable gateway or a refused device stop it.
 */
import path from 'node:path';
import type { Ignore } from 'ignore';
import type { WireChange, WireEntry } from '../sync-wire/index.js';
import { ApiError, type Api } from './api.js';
import { hashFile, ignored, loadIgnore, makeLocalDir, moveLocal, removeLocal, sameFingerprint, scan, statEntry, type LocalEntry } from './local.js';
import type { ClientState, FileState, LinkRow } from './state.js';
import { fetchFile, sendFile, type TransferOptions } from './transfers.js';

export interface PassReport {
  uploaded: number;
  downloaded: number;
  deleted: number;
  moved: number;
  conflicts: string[];
  errors: string[];
  bytesUp: number;
  bytesDown: number;
}

const emptyReport = (): PassReport => ({ uploaded: 0, downloaded: 0, deleted: 0, moved: 0, conflicts: [], errors: [], bytesUp: 0, bytesDown: 0 });

function worked(r: PassReport): boolean {
  return r.uploaded + r.downloaded + r.deleted + r.moved > 0;
}

type Present = { kind: 'added' | 'modified'; entry: LocalEntry; sha256: string };
type Gone = { kind: 'deleted'; state: FileState };
type LocalChange = Present | Gone;

const depth = (p: string) => p.split('/').length;
const fatal = (err: unknown) => err instanceof ApiError && (err.code === 'UNREACHABLE' || err.code === 'UNAUTHENTICATED' || err.code === 'TOO_MANY_ATTEMPTS');

export class LinkSync {
  constructor(
    private readonly api: Api,
    private readonly state: ClientState,
    readonly link: LinkRow,
    private readonly deviceId: number,
    transfer: Omit<TransferOptions, 'resume'> = {},
  ) {
    this.transfer = { ...transfer, resume: { state, linkId: link.id } };
  }

  private readonly transfer: TransferOptions;

  /** Passes until nothing is left to do (our own uploads come back once, as echoes), then saves the cursor. */
  async syncOnce(): Promise<PassReport> {
    const total = emptyReport();
    for (let i = 0; i < 6; i += 1) {
      const r = await this.pass();
      for (const k of ['uploaded', 'downloaded', 'deleted', 'moved', 'bytesUp', 'bytesDown'] as const) total[k] += r[k];
      total.conflicts.push(...r.conflicts);
      total.errors.push(...r.errors);
      if (!worked(r)) break;
    }
    await this.api.setCursor(this.link.root, this.link.cursor).catch((err: unknown) => {
      if (fatal(err)) throw err;
    });
    return total;
  }

  /** The root's changes after the cursor, the last per path (a stale cursor: everything from 0). */
  private async remoteChanges(): Promise<{ byPath: Map<string, WireChange>; cursor: number }> {
    const byPath = new Map<string, WireChange>();
    let after = this.link.cursor;
    for (;;) {
      let page;
      try {
        page = await this.api.changes(this.link.root, after);
      } catch (err) {
        if (err instanceof ApiError && err.code === 'STALE_CURSOR' && after > 0) {
          // The gateway's feed does not reach our cursor (its data was restored): start over from 0,
          // forgetting our bases; local files then upload with base 0 and conflict rather than overwrite.
          this.state.reset(this.link.id);
          this.link.cursor = 0;
          byPath.clear();
          after = 0;
          continue;
        }
        throw err;
      }
      for (const c of page.changes) {
        byPath.delete(c.path);
        byPath.set(c.path, c);
      }
      after = page.cursor;
      if (!page.more) return { byPath, cursor: after };
    }
  }

  private async localChanges(ig: Ignore, files: Map<string, FileState>): Promise<{ changes: Map<string, LocalChange>; scanned: Map<string, LocalEntry> }> {
    const scanned = await scan(this.link.dir, ig);
    const changes = new Map<string, LocalChange>();
    for (const [p, st] of files) {
      if (!scanned.has(p) && !ignored(ig, p, st.kind)) changes.set(p, { kind: 'deleted', state: st });
    }
    for (const [p, e] of scanned) {
      const st = files.get(p);
      if (e.kind === 'dir') {
        if (!st || st.kind !== 'dir') changes.set(p, { kind: st ? 'modified' : 'added', entry: e, sha256: '' });
        continue;
      }
      if (st && st.kind === 'file' && sameFingerprint(st, e)) continue;
      const sha256 = await hashFile(path.join(this.link.dir, p)).catch(() => null);
      if (sha256 === null) continue; // gone meanwhile: the next pass sees it
      if (st && st.kind === 'file' && st.sha256 === sha256) {
        this.state.put(this.link.id, { ...st, size: e.size, mtimeMs: e.mtimeMs, ino: e.ino }); // touched, not changed
        continue;
      }
      changes.set(p, { kind: st ? 'modified' : 'added', entry: e, sha256 });
    }
    return { changes, scanned };
  }

  async pass(): Promise<PassReport> {
    const report = emptyReport();
    const id = this.link.id;
    const remote = await this.remoteChanges();
    const ig = await loadIgnore(this.link.dir);
    const files = this.state.files(id);
    // What we already hold (our own changes coming back, or applied before a crash) needs nothing.
    for (const [p, c] of remote.byPath) {
      const st = files.get(p);
      const echo = st && !c.deleted && st.kind === c.kind && st.version === c.version && st.sha256 === c.sha256;
      if (echo || (!st && c.deleted) || ignored(ig, p, c.kind)) remote.byPath.delete(p);
    }
    const { changes: local, scanned } = await this.localChanges(ig, files);
    await this.applyRemoteMoves(remote.byPath, local, files, report);
    await this.sendLocalMoves(remote.byPath, local, files, report);

    const paths = new Set([...remote.byPath.keys(), ...local.keys()]);
    const isRemoval = (p: string) => {
      const r = remote.byPath.get(p);
      const l = local.get(p);
      return (l?.kind === 'deleted' && (!r || r.deleted)) || (r?.deleted === true && !l);
    };
    const ordered = [...paths].sort((a, b) => {
      const ra = isRemoval(a);
      const rb = isRemoval(b);
      if (ra !== rb) return ra ? 1 : -1;
      return ra ? depth(b) - depth(a) : depth(a) - depth(b) || (a < b ? -1 : 1);
    });
    let remoteFailed = false;
    for (const p of ordered) {
      const r = remote.byPath.get(p);
      const l = local.get(p);
      try {
        await this.reconcile(p, r, l, files.get(p), scanned.get(p) ?? null, report);
      } catch (err) {
        if (fatal(err)) throw err;
        if (r) remoteFailed = true;
        report.errors.push(`${p}: ${(err as Error).message}`);
      }
    }
    // A change that could not be applied is asked for again: the cursor stays before it.
    if (!remoteFailed) {
      this.link.cursor = remote.cursor;
      this.state.setCursor(id, remote.cursor);
    }
    return report;
  }

  /** Remote renames replayed as local renames when our copy is the one that moved (no download). */
  private async applyRemoteMoves(remote: Map<string, WireChange>, local: Map<string, LocalChange>, files: Map<string, FileState>, report: PassReport): Promise<void> {
    const moves = [...remote.values()].filter((c) => c.op === 'move-in' && c.oldPath && !c.deleted).sort((a, b) => a.seq - b.seq);
    for (const c of moves) {
      const from = c.oldPath!;
      const st = files.get(from);
      if (!st || local.has(from) || local.has(c.path) || st.kind !== c.kind || (c.kind === 'file' && st.sha256 !== c.sha256)) continue;
      if (await statEntry(this.link.dir, c.path)) continue;
      if (!(await statEntry(this.link.dir, from))) continue;
      const moved = await moveLocal(this.link.dir, from, c.path);
      this.rename(files, from, c.path);
      this.state.put(this.link.id, { path: c.path, kind: c.kind, version: c.version, sha256: c.sha256, size: moved.size, mtimeMs: moved.mtimeMs, ino: moved.ino });
      files.set(c.path, { path: c.path, kind: c.kind, version: c.version, sha256: c.sha256, size: moved.size, mtimeMs: moved.mtimeMs, ino: moved.ino });
      remote.delete(c.path);
      report.moved += 1;
    }
  }

  /** Local renames (same inode under a new name) sent as moves, so history follows the file. */
  private async sendLocalMoves(remote: Map<string, WireChange>, local: Map<string, LocalChange>, files: Map<string, FileState>, report: PassReport): Promise<void> {
    const added = [...local.values()].filter((c): c is Present => c.kind === 'added');
    const gone = [...local.values()].filter((c): c is Gone => c.kind === 'deleted').sort((a, b) => depth(a.state.path) - depth(b.state.path));
    for (const d of gone) {
      const from = d.state.path;
      if (!local.has(from) || remote.has(from)) continue; // handled with its folder already
      const to = added.find((a) => local.get(a.entry.path) === a && a.entry.ino === d.state.ino && a.entry.kind === d.state.kind && (a.entry.kind === 'dir' || a.sha256 === d.state.sha256));
      if (!to || remote.has(to.entry.path)) continue;
      try {
        const res = await this.api.move(this.link.root, from, to.entry.path, d.state.kind === 'file' ? d.state.version : undefined);
        this.rename(files, from, to.entry.path);
        this.state.put(this.link.id, { path: to.entry.path, kind: d.state.kind, version: res.entry.version, sha256: d.state.sha256, size: to.entry.size, mtimeMs: to.entry.mtimeMs, ino: to.entry.ino });
        // Everything below a moved folder moved with it.
        for (const p of [...local.keys()]) if (p === from || p.startsWith(`${from}/`) || p === to.entry.path || p.startsWith(`${to.entry.path}/`)) {
          const c = local.get(p)!;
          if (c.kind === 'deleted' || (c.kind === 'added' && files.has(p))) local.delete(p);
        }
        local.delete(from);
        local.delete(to.entry.path);
        report.moved += 1;
      } catch (err) {
        if (fatal(err)) throw err;
        // Refused (changed meanwhile, target exists): sent as a delete and an upload instead.
      }
    }
  }

  /** Rewrites the state of `from` (and below it) to `to`, keeping bases: the gateway moved them as they were. */
  private rename(files: Map<string, FileState>, from: string, to: string): void {
    for (const [p, st] of [...files]) {
      if (p !== from && !p.startsWith(`${from}/`)) continue;
      const np = to + p.slice(from.length);
      this.state.drop(this.link.id, p);
      files.delete(p);
      const moved = { ...st, path: np };
      this.state.put(this.link.id, moved);
      files.set(np, moved);
    }
  }

  private async reconcile(p: string, r: WireChange | undefined, l: LocalChange | undefined, st: FileState | undefined, seen: LocalEntry | null, report: PassReport): Promise<void> {
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
      const res = await this.api.remove(this.link.root, p, st?.kind === 'file' ? st.version : undefined).catch((err: unknown) => {
        if (err instanceof ApiError && err.code === 'NOT_FOUND') return { deleted: true, head: null };
        throw err;
      });
      if (!res.deleted && res.head) return this.download(p, res.head, null, report); // edited there since: it comes back
      this.state.drop(id, p);
      report.deleted += 1;
      return;
    }
    const e = l.entry;
    if (e.kind === 'dir') {
      if (r && !r.deleted && r.kind === 'dir') {
        this.state.put(id, { path: p, kind: 'dir', version: r.version, sha256: '', size: 0, mtimeMs: e.mtimeMs, ino: e.ino });
        return;
      }
      const res = await this.api.mkdir(this.link.root, p).catch((err: unknown) => {
        if (err instanceof ApiError && err.code === 'ALREADY_EXISTS') return null;
        throw err;
      });
      this.state.put(id, { path: p, kind: 'dir', version: res?.entry.version ?? 0, sha256: '', size: 0, mtimeMs: e.mtimeMs, ino: e.ino });
      if (res) report.uploaded += 1;
      return;
    }
    if (r && !r.deleted && r.kind === 'file' && r.sha256 === l.sha256) {
      this.state.put(id, { path: p, kind: 'file', version: r.version, sha256: l.sha256, size: e.size, mtimeMs: e.mtimeMs, ino: e.ino });
      return;
    }
    // Our edit goes up with the base we edited; the gateway keeps both when someone else wrote since.
    const base = st?.kind === 'file' ? st.version : 0;
    const { res, bytes } = await sendFile(this.api, this.link.root, this.link.dir, e, l.sha256, base, this.transfer);
    report.bytesUp += bytes;
    report.uploaded += 1;
    if (res.conflict) {
      report.conflicts.push(res.conflict.copyPath);
      // Our content is safe on the gateway as the conflict copy: take the head it kept here.
      await this.download(p, null, e, report);
      return;
    }
    this.state.put(id, { path: p, kind: 'file', version: res.entry.version, sha256: l.sha256, size: e.size, mtimeMs: e.mtimeMs, ino: e.ino });
  }

  private async applyRemote(p: string, r: WireChange, st: FileState | undefined, seen: LocalEntry | null, report: PassReport): Promise<void> {
    const id = this.link.id;
    if (r.deleted) {
      const now = await statEntry(this.link.dir, p);
      if (now && st && now.kind === 'file' && !sameFingerprint(now, st)) return; // edited here meanwhile: next pass uploads it
      if (now) await removeLocal(this.link.dir, p, now.kind);
      this.state.drop(id, p);
      report.deleted += 1;
      return;
    }
    if (r.kind === 'dir') {
      const e = await makeLocalDir(this.link.dir, p);
      this.state.put(id, { path: p, kind: 'dir', version: r.version, sha256: '', size: 0, mtimeMs: e.mtimeMs, ino: e.ino });
      return;
    }
    // Our copy may already be that content (moved here with its folder earlier in this pass).
    const here = seen ?? (await statEntry(this.link.dir, p));
    if (here?.kind === 'file' && st?.kind === 'file' && st.sha256 === r.sha256 && sameFingerprint(here, st)) {
      this.state.put(id, { ...st, version: r.version });
      return;
    }
    await this.download(p, null, seen, report, r.sha256);
  }

  /**
   * Brings the head of `p` here. `seen` is the local file as scanned: it must still be so at the
   * rename, or a local edit made meanwhile would be lost (then nothing is replaced: the next pass
   * sends that edit with its base, and the gateway keeps both).
   */
  private async download(p: string, _head: WireEntry | null, seen: LocalEntry | null, report: PassReport, expect?: string): Promise<void> {
    const stillOk = async () => {
      const now = await statEntry(this.link.dir, p);
      if (!seen) return now === null;
      return now !== null && sameFingerprint(now, seen);
    };
    const got = await fetchFile(this.api, this.link.root, this.link.dir, p, seen, stillOk, this.transfer, expect);
    if (!got) return;
    report.downloaded += 1;
    report.bytesDown += got.bytes;
    this.state.put(this.link.id, { path: p, kind: 'file', version: got.entry.version, sha256: got.entry.sha256, size: got.local.size, mtimeMs: got.local.mtimeMs, ino: got.local.ino });
  }

  /** Local changes not sent yet (for status), without sending anything. */
  async pendingLocal(): Promise<number> {
    const ig = await loadIgnore(this.link.dir);
    return (await this.localChanges(ig, this.state.files(this.link.id))).changes.size;
  }

  /** Whether a change pushed by the gateway concerns us (not our own echo). */
  isForeign(c: WireChange): boolean {
    return c.deviceId !== this.deviceId;
  }
}
