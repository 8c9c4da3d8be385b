/**
 * The durable floor: the least a PUT that is durable when answered costs in Node on this machine.
 * Nothing of syncgate: node:http, one Basic credential compared, and only the steps syncgate's
 * promise needs (a new file renamed into place while its content syncs, a version recorded in SQLite,
 * the answer once the content, the WAL and the folder are synced, group commit across concurrent
 * requests; see core/durability.ts). The small-file benchmarks run it beside syncgate and rclone:
 * syncgate/floor is our own overhead, floor/rclone what durability costs against a server that syncs
 * nothing (rclone never does).
 *
 * Mode `serial` (bench/durability-floor.ts) is the order syncgate keeps for a file that replaces
 * another, and kept for every write before: the content synced before the rename, so two syncs one
 * after the other per PUT.
 * Usage (spawned by startDurableFloor): tsx bench/lib/durable-floor.ts <folder> <port> <user> <pass> [design|serial]
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { closeSync, fdatasync, fsync, lstatSync, mkdirSync, open, openSync, renameSync, writeSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';

const [folder, port, user, pass, mode = 'design'] = process.argv.slice(2) as [string, string, string, string, string?];
const serial = mode === 'serial';
const syncData = promisify(fdatasync);
const syncAll = promisify(fsync);
const openFd = promisify(open);
const files = path.join(folder, 'files');
const staging = path.join(folder, 'staging');
mkdirSync(files, { recursive: true });
// 16 staging folders in turn, as syncgate's (a rename out of a folder waits while a file is made in it).
const FOLDERS = 16;
for (let i = 0; i < FOLDERS; i += 1) mkdirSync(path.join(staging, String(i)), { recursive: true });

const db = new Database(path.join(folder, 'floor.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL'); // the WAL is synced by the flush below, once for many requests
db.exec(`
  CREATE TABLE entries (path TEXT PRIMARY KEY, kind TEXT, size INT, mtime INT, ino INT, hash TEXT, version INT, seq INT);
  CREATE TABLE versions (path TEXT, version INT, seq INT, hash TEXT, size INT, user TEXT, at INT, PRIMARY KEY (path, version));
  CREATE INDEX versions_hash ON versions (hash);
  CREATE TABLE changes (seq INTEGER PRIMARY KEY, path TEXT, op TEXT, version INT, hash TEXT, size INT, at INT);`);
const lastSeq = db.prepare('SELECT max(seq) AS seq FROM changes');
const entryOf = db.prepare('SELECT version FROM entries WHERE path = ?');
const putEntry = db.prepare('INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
const addVersion = db.prepare('INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?)');
const addChange = db.prepare('INSERT INTO changes VALUES (?, ?, ?, ?, ?, ?, ?)');
const record = db.transaction((rel: string, kind: string, hash: string, size: number, mtime: number, ino: number) => {
  const seq = ((lastSeq.get() as { seq: number | null }).seq ?? 0) + 1;
  const version = ((entryOf.get(rel) as { version: number } | undefined)?.version ?? 0) + 1;
  const now = Date.now();
  putEntry.run(rel, kind, size, mtime, ino, hash, version, seq);
  addVersion.run(rel, version, seq, hash, size, user, now);
  addChange.run(seq, rel, kind === 'dir' ? 'mkdir' : 'write', version, hash, size, now);
});

// Group commit: one flush syncs the WAL and every folder renamed into since the one before.
let dirty = new Set<string>();
let running: Promise<void> | null = null;
let next: Promise<void> | null = null;
async function syncOnce(): Promise<void> {
  const dirs = [...dirty];
  dirty = new Set();
  const syncPath = async (p: string, flags: string, dataOnly: boolean) => {
    const fd = openSync(p, flags);
    try {
      await (dataOnly ? syncData(fd) : syncAll(fd));
    } finally {
      closeSync(fd);
    }
  };
  await Promise.all([syncPath(path.join(folder, 'floor.db-wal'), 'r+', true), ...dirs.map((d) => syncPath(d, 'r', false))]);
}
function flush(): Promise<void> {
  if (next) return next;
  const start = () => (running = syncOnce().finally(() => (running = null)));
  if (!running) return start();
  next = running.then(
    () => ((next = null), start()),
    () => ((next = null), start()),
  );
  return next;
}

// Staging files created ahead, as syncgate does (creating a file can wait for the disk).
let made = 0;
const spare = () => {
  made += 1;
  const p = path.join(staging, String(made % FOLDERS), `s${made}`);
  return openFd(p, 'w').then((fd) => ({ p, fd }));
};
const spares = Array.from({ length: 4 }, spare);

const expected = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

async function put(rel: string, body: Buffer): Promise<void> {
  const s = spares.shift()!;
  spares.push(spare());
  const { p, fd } = await s;
  const live = path.join(files, rel);
  let synced: Promise<void> = Promise.resolve();
  try {
    writeSync(fd, body);
    synced = syncData(fd);
    if (serial) await synced;
    renameSync(p, live);
    const st = lstatSync(live);
    dirty.add(path.dirname(live));
    record(rel, 'file', createHash('sha256').update(body).digest('hex'), body.length, st.mtimeMs, st.ino);
    await Promise.all([synced, flush()]);
  } finally {
    await synced.catch(() => {});
    closeSync(fd);
  }
}

async function mkcol(rel: string): Promise<void> {
  const live = path.join(files, rel);
  mkdirSync(live);
  const st = lstatSync(live);
  dirty.add(path.dirname(live));
  record(rel, 'dir', '', 0, st.mtimeMs, st.ino);
  await flush();
}

const server = http.createServer((req, res) => {
  const answer = (status: number) => {
    res.writeHead(status, { 'Content-Length': 0 });
    res.end();
  };
  if (req.headers.authorization !== expected) return answer(401);
  const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+|\/+$/g, '');
  if (rel.split('/').includes('..')) return answer(400);
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const work = req.method === 'PUT' ? put(rel, Buffer.concat(chunks)) : req.method === 'MKCOL' ? mkcol(rel) : Promise.resolve();
    work.then(
      () => answer(req.method === 'PUT' || req.method === 'MKCOL' ? 201 : 200),
      () => answer(500),
    );
  });
});
server.listen(Number(port), '127.0.0.1');
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  db.close();
  process.exit(0);
});
