/**
 * What one door's work looks like from everywhere, reduced to what must not depend on the door:
 * the tree (kind, size, version, hash), each file's history, the deleted paths and the change feed
 * as the core records them, plus each door's own view (listing, stat, content) of the same tree.
 * Door names, times and sequence numbers are normalised away, so the snapshots of two doors that
 * did the same work must be equal.
 */
import { createHash } from 'node:crypto';
import type { Change, EntryInfo } from '../../src/core/index.js';
import type { TestGateway } from '../helpers/gateway.js';
import type { Door, DoorClient, DoorStat } from './doors.js';
import { feedViaSync, type FeedRecorder } from './feeds.js';

/** What a door has no way to show (the documented differences between doors). */
export const CANNOT_SHOW: Readonly<Record<string, readonly ('version' | 'hash12')[]>> = {
  // MLST/MDTM/SIZE carry no version and no hash.
  ftp: ['version', 'hash12'],
};

export interface DoorView {
  /** Folder (relative to the case's folder) -> names, sorted. */
  listings: Record<string, string[]>;
  /** Path -> what the door's stat shows, with the modification time checked against the core's at the door's precision. */
  stats: Record<string, Omit<DoorStat, 'mtimeMs'> & { mtimeAsCore: boolean }>;
  /** File path -> SHA-256 of what the door reads. */
  contents: Record<string, string>;
}

export interface Snapshot {
  tree: { path: string; kind: string; size: number; version: number; hash: string }[];
  history: Record<string, { version: number; op: string; size: number; hash: string; user: string; door: string }[]>;
  deleted: string[];
  feed: string[];
  /** The same feed as the doors that have one show it: the sync protocol's pages, and the live recorders given (its push, REST's events). */
  feedViews: Record<string, string[]>;
  /** Door name -> its view. */
  views: Record<string, DoorView>;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The door's name becomes DOOR, so the same work by two doors reads the same. */
function doorOf(protocol: string, writer: Door): string {
  return protocol === writer.protocol ? 'DOOR' : protocol;
}

/** The whole subtree under `base`, folders first by path. */
async function walk(t: TestGateway, base: string): Promise<EntryInfo[]> {
  const conn = t.gw.core.connect(t.alice.session);
  const out: EntryInfo[] = [];
  const visit = async (dir: string) => {
    for (const e of await conn.list('docs', dir)) {
      out.push(e);
      if (e.kind === 'dir') await visit(e.path);
    }
  };
  await visit(base);
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/**
 * The feed of the subtree in seq order, one line per change; the changes of one move (a file's two
 * halves, a folder's halves and its children's, under one seq or several in a row) are sorted
 * together into one line, since their order inside the move is no promise.
 */
function feedLines(changes: Change[], rel: (p: string) => string, writer: Door): string[] {
  const out: string[][] = [];
  for (const c of changes) {
    const line = `${c.op} ${c.kind} ${rel(c.path)} v${c.version}${c.deleted ? ' deleted' : ''}${c.oldPath ? ` from ${rel(c.oldPath)}` : ''} ${c.size}B ${c.hash.slice(0, 8)} by ${c.user} via ${doorOf(c.protocol, writer)}`;
    const prev = out.at(-1);
    if (prev && c.op.startsWith('move-') && prev[0]!.startsWith('move-')) prev.push(line);
    else out.push([line]);
  }
  return out.map((group) => group.sort().join(' + '));
}

async function viewThrough(reader: Door, client: DoorClient, base: string, tree: EntryInfo[]): Promise<DoorView> {
  const rel = (p: string) => p.slice(base.length + 1);
  const view: DoorView = { listings: {}, stats: {}, contents: {} };
  for (const dir of [base, ...tree.filter((e) => e.kind === 'dir').map((e) => e.path)]) {
    view.listings[dir === base ? '.' : rel(dir)] = (await client.list(dir)).sort();
  }
  const hidden = CANNOT_SHOW[reader.protocol] ?? [];
  for (const e of tree) {
    const st = await client.stat(e.path);
    const step = reader.mtimePrecisionMs;
    const { mtimeMs, ...shown } = st;
    view.stats[rel(e.path)] = { ...shown, mtimeAsCore: Math.floor(mtimeMs / step) === Math.floor(e.mtimeMs / step) };
    for (const h of hidden) if (view.stats[rel(e.path)]![h] !== null) throw new Error(`${reader.name} shows a ${h}: take it out of CANNOT_SHOW`);
    if (e.kind === 'file') view.contents[rel(e.path)] = sha(await client.get(e.path));
  }
  return view;
}

/**
 * The snapshot of the work `writer` did under `base` after feed cursor `feedAfter`, seen through the
 * core, through every door in `readers`, and through the feed recorders in `live` (started before the work).
 */
export async function snapshot(t: TestGateway, writer: Door, base: string, readers: Map<Door, DoorClient>, feedAfter: number, live: Record<string, FeedRecorder>): Promise<Snapshot> {
  const conn = t.gw.core.connect(t.alice.session);
  const rel = (p: string) => (p === base ? '.' : p.startsWith(`${base}/`) ? p.slice(base.length + 1) : `(outside) ${p}`);
  const tree = await walk(t, base);
  const deleted = (await conn.deleted('docs', base)).map((e) => e.path).sort();
  const history: Snapshot['history'] = {};
  for (const p of [...tree.filter((e) => e.kind === 'file').map((e) => e.path), ...deleted]) {
    const versions = (await conn.history('docs', p)).sort((a, b) => a.version - b.version);
    history[rel(p)] = versions.map((v) => ({ version: v.version, op: v.op, size: v.size, hash: v.hash, user: v.user, door: doorOf(v.protocol, writer) }));
  }
  const inBase = (c: Change) => c.path === base || c.path.startsWith(`${base}/`) || c.oldPath?.startsWith(`${base}/`) === true;
  const changes = (await conn.changes('docs', feedAfter, 10_000)).changes.filter(inBase);
  const until = changes.at(-1)?.seq ?? feedAfter;
  const feedViews: Record<string, string[]> = { syncPages: feedLines((await feedViaSync(t, feedAfter, until)).filter(inBase), rel, writer) };
  for (const [name, rec] of Object.entries(live)) feedViews[name] = feedLines((await rec.until(until)).filter(inBase), rel, writer);
  const views: Snapshot['views'] = {};
  for (const [reader, client] of readers) views[reader.name] = await viewThrough(reader, client, base, tree);
  return {
    tree: tree.map((e) => ({ path: rel(e.path), kind: e.kind, size: e.size, version: e.version, hash: e.hash })),
    history,
    deleted: deleted.map(rel),
    feed: feedLines(changes, rel, writer),
    feedViews,
    views,
  };
}
