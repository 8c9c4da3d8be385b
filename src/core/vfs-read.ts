import { closeFile, openForRead } from '../storage/file-sender.js';
import { fingerprintMatches, toFileStat } from '../storage/fingerprint.js';
import type { EntryRow } from '../db/files-repo.js';
import type { CoreContext } from './context.js';
import { fail } from './errors.js';
import { checkScope, livePath, openLiveForRead, safePath } from './live.js';
import { openedRead, type ReadResult } from './opened-read.js';
import { changeInfo, conflictInfo, entryInfo, rootEntryInfo, versionInfo } from './present.js';
import type { Reconciler } from './reconcile.js';
import type { RootHandle, Roots } from './roots.js';
import type { Session } from './session.js';
import { etagOf } from '../lib/etag.js';
import { type BriefEntry, type Change, type ConflictInfo, type EntryInfo, type VersionInfo } from './types.js';

/** Folder entries read per query by `list` (a few milliseconds each). */
const LIST_PAGE = 1000;

export interface ReadOptions {
  /** An old version; the head when absent. */
  version?: number;
  /** The path that old version had, as history lists it (the file moved here since); needed only when numbers meet. */
  versionPath?: string;
  /** Inclusive byte range. */
  start?: number;
  end?: number;
}

export type { ReadResult } from './opened-read.js';

export interface ChangePage {
  changes: Change[];
  /** Pass back as `after` to get the next page. */
  cursor: number;
  more: boolean;
}

/** The read side of the virtual filesystem. */
export class VfsReader {
  constructor(
    private readonly ctx: CoreContext,
    private readonly roots: Roots,
    private readonly reconciler: Reconciler,
  ) {}

  async stat(session: Session, root: string, rawPath: string): Promise<EntryInfo> {
    const rel = safePath(rawPath);
    const h = await this.roots.open(session, root, 'read');
    checkScope(session, rel, 'read');
    if (rel === '') return rootEntryInfo(h.row.name, this.ctx.files.lastSeq(h.row.id), h.row.createdAt);
    const row = this.ctx.files.entry(h.row.id, rel);
    if (!row || row.deleted) fail('NOT_FOUND', `${rel} does not exist`);
    return entryInfo(h.row.name, row);
  }

  async list(session: Session, root: string, rawPath: string): Promise<EntryInfo[]> {
    // A page at a time, letting other requests in between: one query for a 10k-entry folder held
    // the event loop for 50-70 ms.
    const out: EntryInfo[] = [];
    for await (const page of this.listPages(session, root, rawPath, LIST_PAGE)) {
      out.push(...page.entries);
      if (!page.last) await new Promise((r) => setImmediate(r));
    }
    return out;
  }

  /**
   * A folder's live entries `pageSize` at a time, in name order, one query per page (for doors that
   * send a large listing as it is read). Like readdir(3), not a snapshot of a folder that changes.
   * `projection` 'brief': only name, kind, size and mtime (BriefEntry), for a plain file listing; a
   * 10,000-entry FTP listing spent most of its CPU and garbage on columns and copies it never used.
   */
  listPages(session: Session, root: string, rawPath: string, pageSize: number): AsyncGenerator<{ entries: EntryInfo[]; last: boolean }>;
  listPages(session: Session, root: string, rawPath: string, pageSize: number, projection: 'brief'): AsyncGenerator<{ entries: BriefEntry[]; last: boolean }>;
  async *listPages(session: Session, root: string, rawPath: string, pageSize: number, projection: 'full' | 'brief' = 'full'): AsyncGenerator<{ entries: EntryInfo[] | BriefEntry[]; last: boolean }> {
    const rel = safePath(rawPath);
    const h = await this.roots.open(session, root, 'read');
    checkScope(session, rel, 'read');
    if (rel !== '') {
      const dir = this.ctx.files.entry(h.row.id, rel);
      if (!dir || dir.deleted) fail('NOT_FOUND', `${rel} does not exist`);
      if (dir.kind !== 'dir') fail('NOT_A_DIRECTORY', `${rel} is not a folder`);
    }
    const shown = (e: { name: string }) => !this.ctx.isIgnoredName(e.name);
    for (let after = ''; ; ) {
      let entries: EntryInfo[] | BriefEntry[];
      let lastName: string | undefined;
      let count: number;
      if (projection === 'brief') {
        const rows = this.ctx.files.briefListing(h.row.id, rel, after, pageSize);
        count = rows.length;
        lastName = rows[count - 1]?.name;
        entries = rows.every(shown) ? rows : rows.filter(shown);
      } else {
        const rows = this.ctx.files.listing(h.row.id, rel, after, pageSize);
        count = rows.length;
        lastName = rows[count - 1]?.name;
        entries = rows.filter(shown).map((e) => ({ root: h.row.name, ...e, deleted: false, etag: etagOf(e.version, e.hash) }));
      }
      const last = count < pageSize;
      yield { entries, last };
      if (last) return;
      after = lastName!;
    }
  }

  async read(session: Session, root: string, rawPath: string, opts: ReadOptions = {}): Promise<ReadResult> {
    const rel = safePath(rawPath);
    const h = await this.roots.open(session, root, 'read');
    checkScope(session, rel, 'read');
    if (opts.version !== undefined) return this.readVersion(h, rel, opts.version, opts);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const row = this.ctx.files.entry(h.row.id, rel);
      if (!row || row.deleted) fail('NOT_FOUND', `${rel} does not exist`);
      if (row.kind === 'dir') fail('IS_A_DIRECTORY', `${rel} is a folder`);
      // Judged before the file is opened: a refusal after open() left the descriptor to the garbage
      // collector (one leaked descriptor per unsatisfiable Range request).
      const [start, end] = range(row.size, opts);
      const quick = openLiveForRead(h, rel);
      const file = quick === 'slow' ? await openForRead(await livePath(h, rel), h.local) : quick;
      if (file) {
        // The open descriptor pins one inode: the reader sees this version whole, whatever follows.
        if (fingerprintMatches(row, toFileStat(file.stat))) {
          return openedRead(entryInfo(h.row.name, row), row.size, start, end, file.fd);
        }
        closeFile(file.fd);
      }
      // Disk and metadata disagree: an edit the watcher has not seen yet. Record it, read again.
      await this.ctx.durable.changeRoot(h.row.id, () => this.reconciler.settle(h, rel));
    }
    fail('ABORTED', `${rel} keeps changing on disk; try again`);
  }

  private async readVersion(h: RootHandle, rel: string, version: number, opts: ReadOptions): Promise<ReadResult> {
    // Along the file's history: a version from before a move is read at its new path.
    const v = this.ctx.history.versionInHistory(h.row.id, rel, version, opts.versionPath === undefined ? undefined : safePath(opts.versionPath));
    if (!v) fail('NOT_FOUND', `${rel} has no version ${version}`);
    if (v.kind !== 'file' || v.deleted) fail('NOT_FOUND', `version ${version} of ${rel} has no content`);
    // Content is found by hash: even a version marked gone reads if the same bytes live on elsewhere.
    const found = await this.locateWith(h, v.hash);
    if (!found) fail('NOT_FOUND', `the content of version ${version} of ${rel} is no longer stored (retention policy, or overwritten on disk by another program)`);
    const [start, end] = range(v.size, opts); // before open(): see read()
    const file = await openForRead(found.path, false);
    // A live file is opened by name after its check: swapped meanwhile (for a link out of the root,
    // say), the inode opened is not the one checked, and nothing of it is served.
    if (file && found.holder && !fingerprintMatches(found.holder, toFileStat(file.stat))) {
      closeFile(file.fd);
      fail('NOT_FOUND', `the content of version ${version} of ${rel} changed on disk while it was read; try again`);
    }
    if (!file) fail('NOT_FOUND', `the content of version ${version} of ${rel} is no longer stored`);
    const head = this.ctx.files.entry(h.row.id, rel);
    const entry = entryInfo(h.row.name, { ...(head ?? ({} as never)), ...v, id: 0, parent: '', name: rel.split('/').pop() ?? rel, ino: 0, ctimeMs: 0, changedAt: v.createdAt });
    return openedRead(entry, v.size, start, end, file.fd);
  }

  /** Where content of `hash` can be read: its blob, or a live head that still holds it. */
  async locate(h: RootHandle, hash: string): Promise<string | null> {
    return (await this.locateWith(h, hash))?.path ?? null;
  }

  /** locate, with the live entry whose file it is (null for a blob): what an open must find there. */
  private async locateWith(h: RootHandle, hash: string): Promise<{ path: string; holder: EntryRow | null } | null> {
    if (await this.ctx.store.hasBlob(hash)) return { path: this.ctx.store.blobPath(hash), holder: null };
    for (const row of this.ctx.files.liveWithHash(hash)) {
      const root = row.rootId === h.row.id ? h : await this.roots.openById(row.rootId);
      const abs = await livePath(root, row.path).catch(() => null);
      const st = abs ? await this.ctx.store.statPath(abs) : null;
      if (abs && st && fingerprintMatches(row, st)) return { path: abs, holder: row };
    }
    return null;
  }

  async history(session: Session, root: string, rawPath: string): Promise<VersionInfo[]> {
    const rel = safePath(rawPath);
    const h = await this.roots.open(session, root, 'read');
    checkScope(session, rel, 'read');
    // The file's history, across the moves that brought it here (each version with its own path).
    const rows = this.ctx.history.lineage(h.row.id, rel);
    if (rows.length === 0) fail('NOT_FOUND', `${rel} has no history`);
    // Lost content (rare) is looked for as a read of the version would: stored again, it reads.
    const stored = new Map<string, boolean>();
    for (const r of rows) {
      if (r.contentLost && !r.contentGone && !stored.has(r.hash)) stored.set(r.hash, (await this.locateWith(h, r.hash)) !== null);
    }
    return rows.map((r) => versionInfo(r, stored.get(r.hash)));
  }

  /** Files deleted below `path` that can be restored. */
  async deleted(session: Session, root: string, rawPath = ''): Promise<EntryInfo[]> {
    const rel = safePath(rawPath);
    const h = await this.roots.open(session, root, 'read');
    checkScope(session, rel, 'read');
    return this.ctx.files.deletedBelow(h.row.id, rel).map((e) => entryInfo(h.row.name, e));
  }

  async changes(session: Session, root: string, after: number, limit = 1000): Promise<ChangePage> {
    const h = await this.roots.open(session, root, 'read');
    const n = Math.max(1, Math.min(limit, 10_000));
    // Only what is durable: a seq a power cut could hand out again must not reach a client's cursor.
    const unflushed = this.ctx.durable.firstUnflushedSeq(h.row.id) ?? Number.POSITIVE_INFINITY;
    const rows = this.ctx.files.feed.after(h.row.id, Math.max(0, after), n + 1).filter((r) => r.seq < unflushed);
    const page = rows.slice(0, n).map((r) => changeInfo(h.row.name, r, { id: r.deviceId, name: r.deviceName }));
    const visible = session.scope ? page.filter((c) => withinScope(session, c.path)) : page;
    return { changes: visible, cursor: page.length ? page[page.length - 1]!.seq : after, more: rows.length > n };
  }

  async conflicts(session: Session, root: string, includeResolved = false): Promise<ConflictInfo[]> {
    const h = await this.roots.open(session, root, 'read');
    return this.ctx.conflicts
      .list(h.row.id, includeResolved)
      .filter((c) => withinScope(session, c.path))
      .map((c) => conflictInfo(h.row.name, c));
  }

  /** Live changes of a root; returns the unsubscribe function. */
  async subscribe(session: Session, root: string, listener: (c: Change) => void): Promise<() => void> {
    const h = await this.roots.open(session, root, 'read');
    return this.ctx.bus.subscribe(h.row.id, (c) => {
      if (withinScope(session, c.path)) listener(c);
    });
  }
}

function withinScope(session: Session, path: string): boolean {
  const s = session.scope;
  return !s || s.path === '' || path === s.path || path.startsWith(`${s.path}/`);
}

function range(size: number, opts: ReadOptions): [number, number] {
  const start = opts.start ?? 0;
  const end = Math.min(opts.end ?? size - 1, size - 1);
  if (start < 0 || (size > 0 && start >= size) || (size === 0 && start > 0) || (opts.end !== undefined && opts.end < start)) {
    fail('RANGE_NOT_SATISFIABLE', `range ${start}-${opts.end ?? ''} is outside the ${size} bytes`, { size });
  }
  return [start, end];
}
