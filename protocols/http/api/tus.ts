import Router from '@koa/router';
import { fail, type UploadInfo } from '../../../src/core/index.js';
import { decimalProblem, parseDecimal } from '../../common/decimal.js';
import { connectionOf, requireUser, type HttpContext, type HttpDeps, type HttpRouter, type HttpState } from '../context.js';
import type { DoorMetrics } from '../metrics.js';

/**
 * Resumable uploads with the tus 1.0.0 core protocol plus the creation, termination and
 * expiration extensions, implemented here rather than mounting @tus/server: its hooks see a
 * WHATWG Request, not our authenticated session, so every PATCH could not be tied to the user who
 * created the upload without smuggling identity through headers. This file is only tus's wire
 * format: the core's resumable uploads keep the partial content, check who appends, and finish
 * into one write (version, history, conflicts through the base version as usual).
 */
const TUS_VERSION = '1.0.0';

/** An integer in Upload-Metadata (baseVersion, mtimeMs), read as strictly as query parameters. */
function metaInteger(name: string, text: string): number {
  const problem = decimalProblem(text);
  if (problem !== null) fail('INVALID_INPUT', `Upload-Metadata ${name} ${problem}`);
  return Number(text);
}

function parseMetadata(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of header.split(',')) {
    const [k, v] = pair.trim().split(' ');
    if (!k) continue;
    out[k] = v ? Buffer.from(v, 'base64').toString('utf8') : '';
  }
  return out;
}

const expires = (u: UploadInfo) => new Date(u.expiresAt).toUTCString();

export function tusRoutes(deps: HttpDeps, metrics: DoorMetrics): HttpRouter {
  const { core, options } = deps;
  const r = new Router<HttpState>({ prefix: '/api/v1/uploads' });

  r.use(async (ctx, next) => {
    ctx.set('Tus-Resumable', TUS_VERSION);
    ctx.set('Cache-Control', 'no-store');
    if (ctx.method !== 'OPTIONS' && ctx.get('tus-resumable') !== TUS_VERSION) {
      ctx.set('Tus-Version', TUS_VERSION);
      ctx.status = 412;
      ctx.body = { error: { code: 'PRECONDITION_FAILED', message: `Tus-Resumable: ${TUS_VERSION} required` } };
      return;
    }
    await next();
  });

  r.options('/', async (ctx) => {
    ctx.set('Tus-Version', TUS_VERSION);
    ctx.set('Tus-Extension', 'creation,termination,expiration');
    if (options.maxUploadBytes > 0) ctx.set('Tus-Max-Size', String(options.maxUploadBytes));
    ctx.status = 204;
  });

  r.post('/', requireUser, async (ctx) => {
    if (ctx.get('upload-defer-length')) fail('INVALID_INPUT', 'Upload-Defer-Length is not supported');
    const length = parseDecimal(ctx.get('upload-length'));
    if (length === null) fail('INVALID_INPUT', ctx.get('upload-length') ? `Upload-Length ${decimalProblem(ctx.get('upload-length'))}` : 'Upload-Length required');
    if (options.maxUploadBytes > 0 && length > options.maxUploadBytes) fail('QUOTA_EXCEEDED', 'the file is larger than this server accepts');
    const metadata = ctx.get('upload-metadata');
    const meta = parseMetadata(metadata);
    if (!meta.root || !meta.path) fail('INVALID_INPUT', 'Upload-Metadata needs root and path');
    const baseVersion = meta.baseVersion !== undefined && meta.baseVersion !== '' ? metaInteger('baseVersion', meta.baseVersion) : undefined;
    const mtimeMs = meta.mtimeMs ? metaInteger('mtimeMs', meta.mtimeMs) : undefined;
    const conn = connectionOf(ctx, core);
    const upload = await conn.createUpload({
      root: meta.root,
      path: meta.path,
      length,
      ...(baseVersion !== undefined ? { baseVersion } : {}),
      onConflict: meta.onConflict === 'fail' ? 'fail' : 'copy',
      ...(mtimeMs !== undefined ? { mtimeMs } : {}),
      metadata,
    });
    ctx.status = 201;
    ctx.set('Location', `/api/v1/uploads/${upload.id}`);
    ctx.set('Upload-Expires', expires(upload));
    if (length === 0) await finish(ctx, upload.id);
  });

  r.head('/:id', requireUser, async (ctx) => {
    const upload = await connectionOf(ctx, core).upload(ctx.params.id ?? '');
    ctx.set('Upload-Offset', String(upload.offset));
    ctx.set('Upload-Length', String(upload.length));
    if (upload.metadata) ctx.set('Upload-Metadata', upload.metadata);
    ctx.set('Upload-Expires', expires(upload));
    ctx.status = 200; // no body: koa answers HEAD with headers only
  });

  r.patch('/:id', requireUser, async (ctx) => {
    const conn = connectionOf(ctx, core);
    const id = ctx.params.id ?? '';
    const upload = await conn.upload(id);
    if (ctx.get('content-type') !== 'application/offset+octet-stream') {
      ctx.status = 415;
      ctx.body = { error: { code: 'INVALID_INPUT', message: 'Content-Type: application/offset+octet-stream required' } };
      return;
    }
    const claimed = parseDecimal(ctx.get('upload-offset'));
    if (claimed === null) fail('INVALID_INPUT', `Upload-Offset ${decimalProblem(ctx.get('upload-offset'))}`);
    let result;
    try {
      result = await conn.appendUpload(id, claimed, ctx.req);
    } catch (err) {
      const at = (err as { details?: { offset?: number } }).details?.offset;
      if (at !== undefined) ctx.set('Upload-Offset', String(at));
      throw err;
    }
    if (result.interrupted) {
      // A broken connection keeps what arrived: the client resumes from the new offset.
      ctx.state.log.info({ upload: id, offset: result.offset }, 'upload interrupted');
      return;
    }
    ctx.set('Upload-Offset', String(result.offset));
    ctx.set('Upload-Expires', expires(upload));
    ctx.status = 204;
    if (result.offset === upload.length) await finish(ctx, id);
  });

  r.delete('/:id', requireUser, async (ctx) => {
    await connectionOf(ctx, core).cancelUpload(ctx.params.id ?? '');
    ctx.status = 204;
  });

  /** The last byte arrived: the core writes it as one version. */
  async function finish(ctx: HttpContext, id: string): Promise<void> {
    const result = await connectionOf(ctx, core).finishUpload(id);
    if (!result.unchanged) metrics.versions.inc({ door: 'rest' });
    if (result.conflict) {
      metrics.conflicts.inc({ door: 'rest' });
      ctx.set('X-Syncgate-Conflict', encodeURIComponent(result.entry.path));
    }
    ctx.set('X-Syncgate-Path', encodeURIComponent(result.entry.path));
    ctx.set('X-Syncgate-Version', String(result.entry.version));
    ctx.set('ETag', result.entry.etag);
  }
  return r;
}
