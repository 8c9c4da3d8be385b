import { rangeApplies } from '../common/conditional.js';
import { parseByteRange } from '../common/range.js';
import { isCoreError, type EntryInfo, type ReadResult } from '../../src/core/index.js';
import { declaredBodySize } from '../../src/lib/read-head.js';
import { DavError } from './errors.js';
import { contentTypeOf } from '../common/content-type.js';
import { isOwnHost } from '../common/own-host.js';
import { safeDownloadHeaders } from '../common/safe-download.js';
import {
  applyIfHeader,
  header,
  baseVersionFor,
  checkConditions,
  hasBody,
  hrefOf,
  httpDate,
  isAppleDouble,
  parseTarget,
  readBody,
  send,
  statOrNull,
  type DavContext,
  type DavTarget,
} from './request.js';
import { escapeXml } from './xml.js';

export const ALLOW = 'OPTIONS, GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK';

export async function options(ctx: DavContext): Promise<void> {
  const { res } = ctx;
  res.setHeader('DAV', '1, 2');
  res.setHeader('MS-Author-Via', 'DAV');
  res.setHeader('Allow', ALLOW);
  res.setHeader('Accept-Ranges', 'bytes');
  send(res, 200);
}

function requireRootTarget(ctx: DavContext): { root: string; path: string } {
  if (ctx.target.root === null) throw new DavError(405, 'the list of roots cannot be changed here');
  return { root: ctx.target.root, path: ctx.target.path };
}

function entryHeaders(ctx: DavContext, entry: EntryInfo): void {
  ctx.res.setHeader('ETag', entry.etag);
  ctx.res.setHeader('Last-Modified', httpDate(entry.mtimeMs));
}


/** Bodies larger than this send their headers before the first read (a small one goes out with them). */
const EARLY_HEADERS_ABOVE = 64 << 10;

export async function get(ctx: DavContext, head: boolean): Promise<void> {
  const { req, res, conn, target } = ctx;
  if (target.root === null) return listing(ctx, head, null);
  // One read, first: the file opened and checked against its record, and every condition judged on
  // the version it holds. A stat before the read judged If-Range and If-None-Match on one version and
  // could then send bytes of the next, and looked the root and the entry up twice.
  let r: ReadResult;
  try {
    r = await conn.read(target.root, target.path);
  } catch (err) {
    if (isCoreError(err, 'IS_A_DIRECTORY')) return listing(ctx, head, await conn.stat(target.root, target.path));
    throw err;
  }
  let sending = false;
  try {
    const entry = r.entry;
    entryHeaders(ctx, entry);
    if (checkConditions(req, entry, true) === 'not-modified') {
      res.statusCode = 304;
      res.end();
      return;
    }
    res.setHeader('Accept-Ranges', 'bytes');
    // The real type (clients rely on it), inline only for inline-safe types: HTML, SVG, XML, scripts
    // and anything unknown go out as attachments, sandboxed (protocols/common/safe-download.ts).
    for (const [name, value] of Object.entries(safeDownloadHeaders(entry.name, { contentType: contentTypeOf(entry.name), inline: true }))) res.setHeader(name, value);
    let range = parseByteRange(req.headers.range, r.size);
    if (range && !rangeApplies(req.headers, entry)) range = null;
    if (range === 'unsatisfiable') {
      res.setHeader('Content-Range', `bytes */${r.size}`);
      send(res, 416);
      return;
    }
    res.statusCode = range ? 206 : 200;
    if (range) res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${r.size}`);
    const length = range ? range.end - range.start + 1 : r.size;
    res.setHeader('Content-Length', length);
    if (head || length === 0) {
      res.end();
      return;
    }
    // The file is open and verified: the headers need not wait for its first read (a trip through the
    // thread pool, 0.5 ms and more on a loaded machine). A small body still leaves with them in one write.
    if (length > EARLY_HEADERS_ABOVE) res.flushHeaders();
    // Straight from the file to the socket with two reused buffers (core ReadResult.sendTo).
    sending = true;
    try {
      await r.sendTo(res, range ?? undefined);
    } catch (err) {
      if (!res.destroyed) res.destroy(err as Error);
      return;
    }
    res.end();
  } finally {
    if (!sending) r.close();
  }
}

const LISTING_CSP = "sandbox allow-downloads; default-src 'none'; frame-ancestors 'none'";

/** A small HTML page for a browser pointed at a collection. */
async function listing(ctx: DavContext, head: boolean, entry: EntryInfo | null): Promise<void> {
  const { conn, target, res, prefix } = ctx;
  const rows =
    target.root === null
      ? conn.roots().map((r) => ({ href: hrefOf(prefix, r.name, '', true), name: `${r.name}/` }))
      : (await conn.list(target.root, target.path)).map((e) => ({
          href: hrefOf(prefix, target.root, e.path, e.kind === 'dir'),
          name: e.kind === 'dir' ? `${e.name}/` : e.name,
        }));
  if (entry) entryHeaders(ctx, entry);
  const title = escapeXml(target.root === null ? '/' : `/${target.root}/${target.path}`);
  const body = `<!doctype html><meta charset="utf-8"><title>${title}</title><h1>${title}</h1><ul>${rows
    .map((r) => `<li><a href="${escapeXml(r.href)}">${escapeXml(r.name)}</a></li>`)
    .join('')}</ul>\n`;
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  // Still sandboxed and script-free, but a click on a file must download it: a sandboxed page
  // without allow-downloads has every download it starts refused by Chromium.
  res.setHeader('Content-Security-Policy', LISTING_CSP);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(head ? undefined : body);
}

/** Discards a request body (an ignored AppleDouble file, an error before the body was read). */
function drain(ctx: DavContext): Promise<void> {
  return new Promise((resolve) => {
    if (ctx.req.complete) return resolve();
    ctx.req.on('end', resolve).on('error', () => resolve()).on('close', resolve);
    ctx.req.resume();
  });
}

/**
 * X-OC-Mtime (ownCloud/Nextcloud clients, rclone): seconds since 1970, whole or with a fraction.
 * Other text is 400 (Number() took '1e9', '0x10' and ' ' as times); a time no file can have is the
 * core's INVALID_INPUT, 400 too. Before 1970 is negative and kept (rclone sends a pre-1970 file's
 * time so; dropped, the file got the upload time and every sync saw another time). Exactly 0 stays
 * "no time given" (the upload time, no 'accepted'): clients that know no time send 0, and Nextcloud
 * refuses times within a day of 1970, so no client meets 1970-01-01T00:00:00 as a real time.
 */
function mtimeOf(req: DavContext['req']): number | undefined {
  const text = header(req, 'x-oc-mtime');
  if (text === undefined) return undefined;
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw new DavError(400, 'X-OC-Mtime must be seconds since 1970 (digits, with an optional fraction)');
  const sec = Number(text);
  // + 0: a tiny negative fraction rounds to -0, which is 0 ms, not a second zero.
  return sec === 0 ? undefined : Math.round(sec * 1000) + 0;
}

export async function put(ctx: DavContext): Promise<void> {
  const { req, res, conn } = ctx;
  const { root, path } = requireRootTarget(ctx);
  if (path === '') throw new DavError(405, 'the root is a collection');
  if (isAppleDouble(ctx)) {
    await drain(ctx);
    send(res, 201);
    return;
  }
  if (req.headers['content-range'] !== undefined) throw new DavError(400, 'partial PUT (Content-Range) is not supported');
  // The current entry matters only to conditional headers; without them the core's own checks
  // (a folder at this path: 405) are enough, and a plain PUT saves a lookup.
  const conditional = ['if', 'if-match', 'if-none-match', 'if-unmodified-since'].some((h) => req.headers[h] !== undefined);
  const entry = conditional ? await statOrNull(ctx) : null;
  if (entry?.kind === 'dir') throw new DavError(405, 'a collection exists at this URL');
  await applyIfHeader(ctx);
  checkConditions(req, entry, false);
  const baseVersion = baseVersionFor(req, entry);
  const mtimeMs = mtimeOf(req);
  const result = await conn.write(root, path, req, {
    baseVersion,
    onConflict: 'fail',
    createOnly: req.headers['if-none-match']?.trim() === '*',
    mtimeMs,
    declaredSize: declaredBodySize(req.headers),
  });
  // Same content sent again with another X-OC-Mtime (a client fixing times): record the time.
  const entryNow = result.unchanged && mtimeMs !== undefined && result.entry.mtimeMs !== mtimeMs ? await conn.setMtime(root, path, mtimeMs) : result.entry;
  entryHeaders(ctx, entryNow);
  res.setHeader('OC-ETag', entryNow.etag);
  if (mtimeMs !== undefined) res.setHeader('X-OC-MTime', 'accepted');
  send(res, result.created ? 201 : 204);
}

export async function remove(ctx: DavContext): Promise<void> {
  const { req, res, conn } = ctx;
  const { root, path } = requireRootTarget(ctx);
  const depth = header(req, 'depth');
  if (depth !== undefined && depth.toLowerCase() !== 'infinity') throw new DavError(400, 'DELETE needs Depth: infinity');
  if (isAppleDouble(ctx)) {
    send(res, 204);
    return;
  }
  const entry = await conn.stat(root, path);
  await applyIfHeader(ctx);
  checkConditions(req, entry, false);
  await conn.delete(root, path, { baseVersion: baseVersionFor(req, entry) });
  send(res, 204);
}

export async function mkcol(ctx: DavContext): Promise<void> {
  const { res, conn } = ctx;
  const { root, path } = requireRootTarget(ctx);
  if (hasBody(ctx.req) && (await readBody(ctx)).length > 0) throw new DavError(415, 'MKCOL with a body is not supported');
  await applyIfHeader(ctx);
  checkConditions(ctx.req, await statOrNull(ctx), false);
  await conn.mkdir(root, path);
  send(res, 201);
}

function destinationOf(ctx: DavContext): DavTarget {
  const dest = header(ctx.req, 'destination');
  if (!dest) throw new DavError(400, 'a Destination header is required');
  // RFC 4918 9.8.5 / 9.9.4: a Destination on another server is 502 (Bad Gateway), never carried
  // out here under the same path.
  if (/^[a-z][a-z0-9+.-]*:/i.test(dest)) {
    // A value that is no URL at all (`http://[::1`) is the client's mistake, not another server.
    if (!URL.canParse(dest)) throw new DavError(400, 'the Destination is not a valid URL');
    if (!isOwnHost(dest, ctx.req.headers.host, ctx.publicUrl)) throw new DavError(502, 'the Destination is on another server');
  }
  const target = parseTarget(ctx.prefix, dest);
  if (target.root === null) throw new DavError(403, 'the list of roots cannot be changed here');
  return target;
}

export async function copyOrMove(ctx: DavContext, move: boolean): Promise<void> {
  const { req, res, conn } = ctx;
  const { root, path } = requireRootTarget(ctx);
  const dest = destinationOf(ctx);
  const ow = (header(req, 'overwrite') ?? 'T').toUpperCase();
  if (ow !== 'T' && ow !== 'F') throw new DavError(400, 'Overwrite must be T or F');
  const depthHeader = (header(req, 'depth') ?? 'infinity').toLowerCase();
  if (move ? depthHeader !== 'infinity' : depthHeader !== '0' && depthHeader !== 'infinity') throw new DavError(400, 'invalid Depth');
  if (isAppleDouble(ctx)) {
    send(res, 201);
    return;
  }
  const entry = await conn.stat(root, path);
  if (dest.root === root && dest.path === entry.path) throw new DavError(403, 'source and destination are the same');
  await applyIfHeader(ctx);
  checkConditions(req, entry, false);
  const existed = (await statOrNull(ctx, dest)) !== null;
  if (existed && ow === 'F') throw new DavError(412, 'the destination exists and Overwrite is F');
  const toRoot = dest.root === root ? undefined : dest.root!;
  if (move) {
    await conn.move(root, path, dest.path, { overwrite: ow === 'T', baseVersion: baseVersionFor(req, entry), toRoot });
  } else {
    await conn.copy(root, path, dest.path, { overwrite: ow === 'T', depth: depthHeader as '0' | 'infinity', toRoot });
  }
  send(res, existed ? 204 : 201);
}
