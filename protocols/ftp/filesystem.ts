import type { Readable } from 'node:stream';
import { FileSystem, type FtpConnection } from 'ftp-srv';
import type { BriefEntry, Connection, Core, EntryInfo, ReadResult, Session, WriteResult } from '../../src/core/index.js';
import { SyncgateError } from '../../src/core/index.js';

/** A resolved client path: `root` null is the top level ('/'), which lists the user's roots. */
export interface FtpTarget {
  /** Normalised absolute virtual path, e.g. '/docs/a/b.txt'. */
  vpath: string;
  root: string | null;
  /** Path inside the root ('' = the root itself). */
  rel: string;
}

/** What listings and SIZE/MDTM need of an entry. */
export interface FtpEntry extends BriefEntry {
  /** Whether the user may change it (MLSD perm fact). */
  writable: boolean;
}

/** Joins and normalises a client path against a virtual cwd; '..' stops at '/'. */
export function resolveVirtual(cwd: string, arg: string): string {
  const input = arg.startsWith('/') ? arg : `${cwd}/${arg}`;
  const out: string[] = [];
  for (const part of input.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

/**
 * Entries per page of a listing sent as it is read: each page is one keyset query, its lines and one
 * write on the data connection. With 1,000 a second session's NOOP waited up to 8.7-12.7 ms during a
 * 10,000-entry LIST (the bound is 10); with 500, 6.4 ms, and the LIST took no longer (25.1 against
 * 25.5 ms). 250 cost a 10,000-entry listing 40 queries and 40 writes (about 6 ms of its 30 ms of CPU).
 */
export const LISTING_PAGE = 500;

const denied = () => new SyncgateError('PERMISSION_DENIED', 'not allowed at the top level');

/**
 * One per logged-in FTP connection (handed to ftp-srv from the `login` event). The user's visible
 * roots are the top-level folders; everything below goes to the core's connection, nothing touches the disk.
 * ftp-srv's own disk-backed methods are overridden so none of them can be reached.
 */
export class FtpFileSystem extends FileSystem {
  private cwdPath = '/';
  private readonly firstRequestId: string;
  /** The core, bound to this control connection's session. */
  readonly conn: Connection;

  constructor(
    connection: FtpConnection,
    core: Core,
    private readonly session: Session,
  ) {
    super(connection, { root: '/', cwd: '/' });
    this.firstRequestId = session.requestId;
    this.conn = core.connect(session);
  }

  /** Set by the dispatcher for each command, so core logs carry it (the connection reads the session on each call). */
  set requestId(id: string) {
    this.session.requestId = id || this.firstRequestId;
  }
  get requestId(): string {
    return this.session.requestId;
  }

  override currentDirectory(): string {
    return this.cwdPath;
  }

  resolve(arg: string | null | undefined): FtpTarget {
    const vpath = resolveVirtual(this.cwdPath, arg ?? '');
    const parts = vpath.split('/').filter(Boolean);
    if (parts.length === 0) return { vpath, root: null, rel: '' };
    return { vpath, root: parts[0]!, rel: parts.slice(1).join('/') };
  }

  async entry(t: FtpTarget): Promise<FtpEntry> {
    if (t.root === null) return { name: '/', kind: 'dir', size: 0, mtimeMs: Date.now(), writable: false };
    const e = await this.conn.stat(t.root, t.rel);
    return this.toEntry(e, t.rel === '' ? t.root : e.name, t.root);
  }

  async entries(t: FtpTarget): Promise<FtpEntry[]> {
    if (t.root === null) {
      const out: FtpEntry[] = [];
      for (const r of this.conn.roots()) {
        const e = await this.conn.stat(r.name, '').catch(() => null);
        out.push({ name: r.name, kind: 'dir', size: 0, mtimeMs: e?.mtimeMs ?? Date.now(), writable: r.access !== 'read' });
      }
      return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    }
    const root = t.root;
    const writable = this.writableRoots().has(root);
    const list = await this.conn.list(root, t.rel);
    return list.map((e) => ({ name: e.name, kind: e.kind, size: e.size, mtimeMs: e.mtimeMs, writable }));
  }

  /** A folder's entries a page at a time, for listings sent as they are read (the top level: one page). */
  async *entryPages(t: FtpTarget): AsyncGenerator<FtpEntry[]> {
    if (t.root === null) {
      yield await this.entries(t);
      return;
    }
    const writable = this.writableRoots().has(t.root);
    for await (const page of this.conn.listPages(t.root, t.rel, LISTING_PAGE, 'brief')) {
      // The core's rows are this listing's own: marked in place rather than copied (less garbage).
      const entries = page.entries as FtpEntry[];
      for (const e of entries) e.writable = writable;
      yield entries;
    }
  }

  async changeDirectory(arg: string): Promise<string> {
    const t = this.resolve(arg);
    const e = await this.entry(t);
    if (e.kind !== 'dir') throw new SyncgateError('NOT_A_DIRECTORY', 'not a folder');
    this.cwdPath = t.vpath;
    return t.vpath;
  }

  openRead(t: FtpTarget, start: number): Promise<ReadResult> {
    if (t.root === null) throw new SyncgateError('IS_A_DIRECTORY', 'the top level is a folder');
    return this.conn.read(t.root, t.rel, start > 0 ? { start } : {});
  }

  store(t: FtpTarget, source: Readable, offset: number): Promise<WriteResult> {
    if (t.root === null || t.rel === '') throw t.root === null ? denied() : new SyncgateError('IS_A_DIRECTORY', 'a root is a folder');
    return this.conn.write(t.root, t.rel, source, offset > 0 ? { offset } : {});
  }

  async makeDirectory(t: FtpTarget): Promise<void> {
    if (t.root === null) throw denied();
    if (t.rel === '') {
      await this.conn.stat(t.root, '');
      throw new SyncgateError('ALREADY_EXISTS', 'exists');
    }
    await this.conn.mkdir(t.root, t.rel);
  }

  async removeFile(t: FtpTarget): Promise<void> {
    if (t.root === null || t.rel === '') throw denied();
    await this.conn.removeFile(t.root, t.rel);
  }

  /** RMD: only an empty folder, like every FTP server (clients recurse themselves). */
  async removeDirectory(t: FtpTarget): Promise<void> {
    if (t.root === null || t.rel === '') throw denied();
    await this.conn.removeEmptyDir(t.root, t.rel);
  }

  async renameEntry(from: FtpTarget, to: FtpTarget): Promise<void> {
    if (from.root === null || from.rel === '' || to.root === null || to.rel === '') throw denied();
    // RNTO onto an existing file replaces it, as on every Unix FTP server (its version stays in history).
    await this.conn.move(from.root, from.rel, to.rel, { overwrite: true, toRoot: to.root === from.root ? undefined : to.root });
  }

  async setModified(t: FtpTarget, mtimeMs: number): Promise<FtpEntry> {
    if (t.root === null || t.rel === '') throw denied();
    const e = await this.conn.setMtime(t.root, t.rel, mtimeMs);
    return this.toEntry(e, e.name, t.root);
  }

  private writableRoots(): Set<string> {
    return new Set(this.conn.roots().filter((r) => r.access !== 'read').map((r) => r.name));
  }

  private toEntry(e: EntryInfo, name: string, root: string): FtpEntry {
    return { name, kind: e.kind, size: e.size, mtimeMs: e.mtimeMs, writable: this.writableRoots().has(root) };
  }

  // ftp-srv's disk-backed API: routed to the core, so no stock code path can reach the disk.
  override async get(fileName: string): Promise<FtpEntry> {
    return this.entry(this.resolve(fileName));
  }
  override async list(path = '.'): Promise<FtpEntry[]> {
    return this.entries(this.resolve(path));
  }
  override async chdir(path = '.'): Promise<string> {
    return this.changeDirectory(path);
  }
  override write(): never {
    throw denied();
  }
  override async read(): Promise<never> {
    throw denied();
  }
  override async delete(path: string): Promise<void> {
    return this.removeFile(this.resolve(path));
  }
  override async mkdir(path: string): Promise<void> {
    return this.makeDirectory(this.resolve(path));
  }
  override async rename(from: string, to: string): Promise<void> {
    return this.renameEntry(this.resolve(from), this.resolve(to));
  }
  override async chmod(): Promise<never> {
    throw denied();
  }
}
