import { Readable } from 'node:stream';
import Router from '@koa/router';
import { z } from 'zod';
import { fail, isCoreError, type EntryInfo, type ListPage } from '../../../src/core/index.js';
import { declaredBodySize } from '../../../src/lib/read-head.js';
import { connectionOf, parseQuery, readJson, requireUser, type HttpContext, type HttpDeps, type HttpRouter, type HttpState } from '../context.js';
import type { DoorMetrics } from '../metrics.js';
import { contentTypeOf } from '../../common/content-type.js';
import { isInlineSafe, safeDownloadHeaders } from '../../common/safe-download.js';
import { presentEntry, presentWrite } from '../presenters.js';
import { decimalInteger } from '../../common/decimal.js';
import { parseByteRange } from '../../common/range.js';
import { rangeApplies } from '../../common/conditional.js';
import { baseVersionOf, notModified } from './conditional.js';

const pathBody = z.object({ path: z.string().max(4096), parents: z.boolean().default(false) });
const moveBody = z.object({
  from: z.string().max(4096),
  to: z.string().max(4096),
  overwrite: z.boolean().default(false),
  /** Move/copy into another root the user may write. */
  toRoot: z.string().min(1).max(64).optional(),
  baseVersion: z.number().int().min(0).optional(),
});
const downloadQuery = z.object({ version: decimalInteger(1).optional(), from: z.string().min(1).max(4096).optional(), inline: z.enum(['0', '1']).optional() });
const uploadQuery = z.object({
  parents: z.enum(['0', '1', 'true', 'false']).default('1'),
  mtimeMs: decimalInteger().optional(),
  baseVersion: decimalInteger().optional(),
  onConflict: z.enum(['copy', 'fail']).optional(),
});

/** The path of a `{/*path}` route ('' = the root). */
export function pathParam(ctx: HttpContext): string {
  return ctx.params.path ?? '';
}

/** `Prefer: conflict=fail` (or ?onConflict=fail) turns an outdated If-Match into 412 instead of a conflict copy. */
function conflictMode(ctx: HttpContext, q: { onConflict?: 'copy' | 'fail' }): 'copy' | 'fail' {
  if (q.onConflict) return q.onConflict;
  return /(^|[,;\s])conflict=fail\b/i.test(ctx.get('prefer')) ? 'fail' : 'copy';
}

async function* listingJson(path: string, first: ListPage | null, rest: AsyncIterable<ListPage>): AsyncGenerator<string> {
  yield `{"path":${JSON.stringify(path)},"entries":[`;
  let sep = '';
  const page = (p: ListPage) => {
    let out = '';
    for (const e of p.entries) {
      out += sep + JSON.stringify(presentEntry(e));
      sep = ',';
    }
    return out;
  };
  if (first) {
    yield page(first);
    if (!first.last) {
      for await (const p of rest) {
        await new Promise((r) => setImmediate(r));
        yield page(p);
      }
    }
  }
  yield ']}';
}

/** List, stat, download, upload, delete, mkdir, move, copy. */
export function fileRoutes(deps: HttpDeps, metrics: DoorMetrics): HttpRouter {
  const { core, options } = deps;
  const r = new Router<HttpState>({ prefix: '/api/v1/roots/:root' });
  r.use(requireUser);

  // Sent as it is read, a page at a time: a 100,000-entry folder is never one JSON.stringify.
  r.get('/list{/*path}', async (ctx) => {
    const path = pathParam(ctx);
    const pages = connectionOf(ctx, core).listPages(ctx.params.root!, path);
    const first = await pages.next(); // a missing folder or root is answered before any byte
    ctx.type = 'application/json';
    ctx.body = Readable.from(listingJson(path, first.done ? null : first.value, pages));
  });

  r.get('/stat{/*path}', async (ctx) => {
    const e = await connectionOf(ctx, core).stat(ctx.params.root!, pathParam(ctx));
    ctx.set('ETag', e.etag);
    ctx.body = presentEntry(e);
  });

  // GET and HEAD: a file's content (head or ?version=N), with Range and conditional requests. One
  // read first (the file opened and checked against its record), then every condition and the range
  // judged on the version it holds: a stat before the read judged them on one version and could then
  // send the next (an edit beside the gateway not recorded yet: a 304 for a stale copy, a HEAD with
  // the old length, a 206 of new bytes under an If-Range naming the old version).
  r.get('/files{/*path}', async (ctx) => {
    const conn = connectionOf(ctx, core);
    const q = parseQuery(ctx, downloadQuery);
    const res = await conn.read(ctx.params.root!, pathParam(ctx), q.version === undefined ? {} : { version: q.version, ...(q.from !== undefined ? { versionPath: q.from } : {}) });
    let sending = false;
    try {
      // An old version is not what If-None-Match or If-Range speak of: only the head's are judged.
      const current = q.version === undefined;
      if (current && notModified(ctx, res.entry)) {
        notModifiedAnswer(ctx, res.entry);
        return;
      }
      const rangeHeader = ctx.get('range');
      const range = rangeHeader && (!current || rangeApplies(ctx.headers, res.entry)) ? parseByteRange(rangeHeader, res.size) : null;
      if (range === 'unsatisfiable') fail('RANGE_NOT_SATISFIABLE', 'range outside the file', { size: res.size });
      sendHeaders(ctx, res.entry, res.size, range, q.inline === '1');
      if (ctx.method === 'HEAD') return; // koa sends the headers only (no body set: a null body would turn this into 204)
      if (!range) {
        sending = true;
        ctx.body = res.stream;
        return;
      }
      // A part: straight from the file to the socket (core ReadResult.sendTo), past koa's body handling.
      sending = true;
      ctx.respond = false;
      ctx.res.statusCode = 206;
      try {
        await res.sendTo(ctx.res, range);
      } catch (err) {
        if (!ctx.res.destroyed) ctx.res.destroy(err as Error);
        return;
      }
      ctx.res.end();
    } finally {
      if (!sending) res.close();
    }
  });

  function notModifiedAnswer(ctx: HttpContext, e: EntryInfo) {
    ctx.status = 304;
    ctx.set('Cache-Control', 'private, no-cache');
    ctx.set('ETag', e.etag);
    ctx.set('Last-Modified', new Date(e.mtimeMs).toUTCString());
  }

  function sendHeaders(ctx: HttpContext, e: EntryInfo, size: number, range: { start: number; end: number } | null, inline: boolean) {
    ctx.set('ETag', e.etag);
    ctx.set('Last-Modified', new Date(e.mtimeMs).toUTCString());
    ctx.set('Accept-Ranges', 'bytes');
    ctx.set('Cache-Control', 'private, no-cache');
    // Uploaded content is never run as a page of this origin. ?inline=1 shows inline-safe types
    // (text, images, audio, video) with their real type; anything else stays an opaque attachment.
    const shown = inline && isInlineSafe(contentTypeOf(e.name));
    ctx.set(safeDownloadHeaders(e.name, shown ? { contentType: contentTypeOf(e.name), inline: true } : {}));
    if (range) {
      ctx.status = 206;
      ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
      ctx.length = Math.max(0, range.end - range.start + 1);
    } else {
      ctx.status = 200;
      ctx.length = size;
    }
  }

  r.put('/files/*path', async (ctx) => {
    const conn = connectionOf(ctx, core);
    const root = ctx.params.root!;
    const path = pathParam(ctx);
    const q = parseQuery(ctx, uploadQuery);
    const declared = Number(ctx.get('content-length') || '0');
    if (options.maxUploadBytes > 0 && declared > options.maxUploadBytes) fail('QUOTA_EXCEEDED', 'the file is larger than this server accepts');
    const current = () => conn.stat(root, path).catch((err) => (isCoreError(err, 'NOT_FOUND') ? null : Promise.reject(err)));
    const baseVersion = await baseVersionOf(ctx, current, q.baseVersion);
    const createOnly = ctx.get('if-none-match').trim() === '*';
    const mode = conflictMode(ctx, q);
    let result;
    try {
      result = await conn.write(root, path, ctx.req, {
        ...(baseVersion !== undefined ? { baseVersion, onConflict: mode } : {}),
        createOnly,
        createParents: q.parents === '1' || q.parents === 'true',
        ...(q.mtimeMs !== undefined ? { mtimeMs: q.mtimeMs } : {}),
        ...(options.maxUploadBytes > 0 ? { maxSize: options.maxUploadBytes } : {}),
        declaredSize: declaredBodySize(ctx.req.headers),
      });
    } catch (err) {
      if (isCoreError(err, 'ALREADY_EXISTS') && createOnly) fail('PRECONDITION_FAILED', 'the file exists (If-None-Match: *)');
      throw err;
    }
    if (!result.unchanged) metrics.versions.inc({ door: 'rest' });
    if (result.conflict) metrics.conflicts.inc({ door: 'rest' });
    // 409 when the file does not show this content (the root's conflict policy kept the server's);
    // when the policy made it the head (newest-wins), a success that still names its record.
    if (result.conflict?.kept === 'server') {
      const where = result.conflict.copyPath ? `as ${result.conflict.copyPath}` : `with conflict ${result.conflict.id} (policy ${result.conflict.policy}; resolve it to use yours)`;
      ctx.status = 409;
      ctx.body = {
        error: { code: 'CONFLICT', message: `the file changed since version ${baseVersion}: your content was kept ${where}` },
        ...presentWrite(result),
      };
      return;
    }
    ctx.set('ETag', result.entry.etag);
    ctx.status = result.created ? 201 : 200;
    ctx.body = presentWrite(result);
  });

  r.delete('/files/*path', async (ctx) => {
    const conn = connectionOf(ctx, core);
    const root = ctx.params.root!;
    const path = pathParam(ctx);
    const baseVersion = await baseVersionOf(ctx, () => conn.stat(root, path).catch((err) => (isCoreError(err, 'NOT_FOUND') ? null : Promise.reject(err))));
    await conn.delete(root, path, baseVersion !== undefined ? { baseVersion } : {});
    metrics.versions.inc({ door: 'rest' });
    ctx.status = 204;
  });

  r.post('/mkdir', async (ctx) => {
    const body = await readJson(ctx, pathBody, options.maxJsonBytes);
    const e = await connectionOf(ctx, core).mkdir(ctx.params.root!, body.path, { createParents: body.parents });
    ctx.status = 201;
    ctx.body = presentEntry(e);
  });

  r.post('/move', async (ctx) => {
    const body = await readJson(ctx, moveBody, options.maxJsonBytes);
    const e = await connectionOf(ctx, core).move(ctx.params.root!, body.from, body.to, {
      overwrite: body.overwrite,
      ...(body.toRoot ? { toRoot: body.toRoot } : {}),
      ...(body.baseVersion !== undefined ? { baseVersion: body.baseVersion } : {}),
    });
    metrics.versions.inc({ door: 'rest' });
    ctx.body = presentEntry(e);
  });

  r.post('/copy', async (ctx) => {
    const body = await readJson(ctx, moveBody.omit({ baseVersion: true }), options.maxJsonBytes);
    const e = await connectionOf(ctx, core).copy(ctx.params.root!, body.from, body.to, {
      overwrite: body.overwrite,
      depth: 'infinity',
      ...(body.toRoot ? { toRoot: body.toRoot } : {}),
    });
    metrics.versions.inc({ door: 'rest' });
    ctx.status = 201;
    ctx.body = presentEntry(e);
  });
  return r;
}
