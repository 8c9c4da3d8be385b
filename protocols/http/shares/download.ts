import type { Readable } from 'node:stream';
import yazl from 'yazl';
import { fail, type EntryInfo, type Connection, type OpenedShare, type ShareUse } from '../../../src/core/index.js';
import { evaluatePreconditions, rangeApplies } from '../../common/conditional.js';
import { parseByteRange } from '../../common/range.js';
import { safeDownloadHeaders } from '../../common/safe-download.js';
import type { HttpContext } from '../context.js';


interface SendDeps {
  /** The link session's connection. */
  conn: Connection;
  /** Counts one use of the link (throws when used up); cancel() when no content could be sent. */
  begin: () => ShareUse;
  /** Called once the response is over, with the payload bytes that left. */
  done: (action: string, bytes: number, path: string) => void;
}

function countBytes(ctx: HttpContext, stream: Readable, onDone: (bytes: number) => void): void {
  let bytes = 0;
  stream.on('data', (c: Buffer) => {
    bytes += c.length;
  });
  ctx.res.once('close', () => onDone(bytes));
}

/** Bytes of a share download between two looks at whether its link is still open. */
const RECHECK_BYTES = 4 * 1024 * 1024;

/**
 * Ends a download whose link was revoked (or expired, or its entry deleted) while it streams, at
 * most RECHECK_BYTES later: a multi-GB file otherwise went on to its end after the owner revoked
 * the link. One look at the link per 4 MiB sent (a SQLite read by primary key).
 */
function cutWhenClosed(stream: Readable, conn: Connection): void {
  let sinceCheck = 0;
  stream.on('data', (c: Buffer) => {
    sinceCheck += c.length;
    if (sinceCheck < RECHECK_BYTES) return;
    sinceCheck = 0;
    try {
      conn.assertShareOpen();
    } catch (err) {
      stream.destroy(err as Error);
    }
  });
}

/** Streams one file of a share (Range, ETag, conditional GET); every GET that sends content counts. */
export async function sendShareFile(ctx: HttpContext, opened: OpenedShare, entry: EntryInfo, io: SendDeps): Promise<void> {
  const { root } = opened;
  ctx.set('ETag', entry.etag);
  ctx.set('Last-Modified', new Date(entry.mtimeMs).toUTCString());
  ctx.set('Accept-Ranges', 'bytes');
  ctx.set('Cache-Control', 'private, no-cache');
  // Shared content is never rendered as a page of this origin: always an opaque attachment.
  ctx.set(safeDownloadHeaders(entry.name));
  // The same preconditions as every HTTP door (protocols/common/conditional.ts); a 304 sends no content and uses nothing.
  const verdict = evaluatePreconditions(ctx.headers, entry, { read: true });
  if (verdict.outcome === 'precondition-failed') fail('PRECONDITION_FAILED', verdict.reason);
  if (verdict.outcome === 'not-modified') {
    ctx.status = 304;
    return;
  }
  let range = rangeApplies(ctx.headers, entry) ? parseByteRange(ctx.get('Range') || undefined, entry.size) : null;
  if (range === 'unsatisfiable') {
    ctx.set('Content-Range', `bytes */${entry.size}`);
    fail('RANGE_NOT_SATISFIABLE', 'the range is outside the file', { size: entry.size });
  }
  if (entry.size === 0) range = null;
  if (ctx.method === 'HEAD') {
    ctx.status = 200;
    ctx.length = entry.size;
    return;
  }
  // Every response that sends content counts, ranges included (the rule is ShareLinks.begin's).
  const use = io.begin();
  const r = await io.conn.read(root, entry.path, range ? { start: range.start, end: range.end } : {}).catch((err: unknown) => {
    use.cancel();
    throw err;
  });
  r.stream.once('error', () => use.cancel());
  cutWhenClosed(r.stream, io.conn);
  if (range) {
    ctx.status = 206;
    ctx.set('Content-Range', `bytes ${r.start}-${r.end}/${r.size}`);
  } else {
    ctx.status = 200;
  }
  ctx.length = r.size === 0 ? 0 : r.end - r.start + 1;
  countBytes(ctx, r.stream, (bytes) => io.done('download', bytes, entry.path));
  ctx.body = r.stream;
}

/** A shared folder as one streamed zip (stored, not compressed: fast, and most big files are compressed already). */
export async function sendShareZip(ctx: HttpContext, opened: OpenedShare, dir: EntryInfo, io: SendDeps): Promise<void> {
  const { root } = opened;

  const files: EntryInfo[] = [];
  const emptyDirs: EntryInfo[] = [];
  const walk = async (path: string): Promise<void> => {
    const children = await io.conn.list(root, path);
    if (children.length === 0 && path !== dir.path) emptyDirs.push({ ...dir, path });
    for (const c of children) {
      if (c.kind === 'dir') await walk(c.path);
      else files.push(c);
    }
  };
  await walk(dir.path);
  const base = dir.path === '' ? '' : `${dir.path}/`;
  const inZip = (p: string) => (base && p.startsWith(base) ? p.slice(base.length) : p);
  ctx.set('Cache-Control', 'private, no-cache');
  ctx.set(safeDownloadHeaders(`${opened.link.name || 'share'}.zip`, { contentType: 'application/zip' }));
  if (ctx.method === 'HEAD') {
    ctx.status = 200;
    return;
  }
  const use = io.begin();
  const zip = new yazl.ZipFile();
  for (const f of files) {
    zip.addReadStreamLazy(inZip(f.path), { mtime: new Date(f.mtimeMs), compress: false, size: f.size }, (cb) => {
      // A link revoked (or expired) while its zip streams adds no further file: the zip is cut.
      Promise.resolve()
        .then(() => io.conn.assertShareOpen())
        .then(() => io.conn.read(root, f.path))
        .then(
          (r) => cb(null, r.stream),
          (err: unknown) => cb(err as Error, undefined as never),
        );
    });
  }
  for (const d of emptyDirs) zip.addEmptyDirectory(inZip(d.path), {});
  zip.end();
  const out = zip.outputStream as unknown as Readable;
  // A zip that fails on our side (a file gone or unreadable midway) did not deliver the folder: the
  // use is given back and the response cut (yazl reports on the ZipFile; unheard, it would throw).
  zip.on('error', (err: Error) => {
    use.cancel();
    out.destroy(err);
  });
  cutWhenClosed(out, io.conn); // a big file inside the zip too
  ctx.status = 200;
  countBytes(ctx, out, (bytes) => io.done('download-zip', bytes, dir.path));
  ctx.body = out;
}
