import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Router from '@koa/router';
import { fail, isCoreError, type Session } from '../../../src/core/index.js';
import { randomToken } from '../../../src/lib/ids.js';
import { KeyedMutex } from '../../../src/lib/mutex.js';
import { requireUser, sessionOf, type HttpContext, type HttpDeps, type HttpRouter, type HttpState } from '../context.js';
import type { DoorMetrics } from '../metrics.js';

/**
 * Resumable uploads with the tus 1.0.0 core protocol plus the creation, termination and
 * expiration extensions, implemented here rather than mounting @tus/server: its hooks see a
 * WHATWG Request, not our authenticated session, so every PATCH could not be tied to the user who
 * created the upload without smuggling identity through headers. Partial data lives in the data
 * folder (`uploads/tus/<id>.bin` + `.json`), never in a root; when the last byte arrives the file
 * streams through core.vfs.write (one version, history, conflicts as usual) and the partial is deleted.
 */
const TUS_VERSION = '1.0.0';
const EXPIRE_MS = 24 * 3600_000;
const ID = /^[A-Za-z0-9_-]{20,64}$/;

interface UploadInfo {
  id: string;
  userId: number;
  root: string;
  path: string;
  length: number;
  baseVersion?: number;
  onConflict: 'copy' | 'fail';
  mtimeMs?: number;
  createdAt: number;
  metadata: string;
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

export function tusRoutes(deps: HttpDeps, metrics: DoorMetrics): HttpRouter {
  const { core, options } = deps;
  const dir = path.join(core.ctx.store.uploadDir, 'tus');
  const busy = new Map<string, Promise<void>>();
  const creating = new KeyedMutex();
  const r = new Router<HttpState>({ prefix: '/api/v1/uploads' });
  const ready = mkdir(dir, { recursive: true });

  r.use(async (ctx, next) => {
    ctx.set('Tus-Resumable', TUS_VERSION);
    ctx.set('Cache-Control', 'no-store');
    if (ctx.method !== 'OPTIONS' && ctx.get('tus-resumable') !== TUS_VERSION) {
      ctx.set('Tus-Version', TUS_VERSION);
      ctx.status = 412;
      ctx.body = { error: { code: 'PRECONDITION_FAILED', message: `Tus-Resumable: ${TUS_VERSION} required` } };
      return;
    }
    await ready;
    await next();
  });

  const files = (id: string) => ({ bin: path.join(dir, `${id}.bin`), json: path.join(dir, `${id}.json`) });

  async function load(ctx: HttpContext): Promise<UploadInfo> {
    const id = ctx.params.id ?? '';
    if (!ID.test(id)) fail('NOT_FOUND', 'no such upload');
    const info = JSON.parse(await readFile(files(id).json, 'utf8').catch(() => fail('NOT_FOUND', 'no such upload'))) as UploadInfo;
    if (info.userId !== sessionOf(ctx).user.id) fail('NOT_FOUND', 'no such upload');
    if (Date.now() - info.createdAt > EXPIRE_MS) {
      await remove(id);
      fail('NOT_FOUND', 'the upload expired');
    }
    return info;
  }

  async function remove(id: string): Promise<void> {
    const f = files(id);
    await rm(f.json, { force: true });
    await rm(f.bin, { force: true });
  }

  async function sweep(): Promise<void> {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const st = await stat(path.join(dir, name)).catch(() => null);
      if (st && Date.now() - st.mtimeMs > EXPIRE_MS) await rm(path.join(dir, name), { force: true });
    }
  }

  /** Unfinished, unexpired uploads of one user (creations are rare: reading the records is fine). */
  async function openUploadsOf(userId: number): Promise<number> {
    let n = 0;
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!name.endsWith('.json')) continue;
      const info = await readFile(path.join(dir, name), 'utf8').then((t) => JSON.parse(t) as UploadInfo, () => null);
      if (info?.userId === userId && Date.now() - info.createdAt <= EXPIRE_MS) n += 1;
    }
    return n;
  }

  async function offsetOf(id: string): Promise<number> {
    return (await stat(files(id).bin).catch(() => ({ size: 0 }))).size;
  }

  r.options('/', async (ctx) => {
    ctx.set('Tus-Version', TUS_VERSION);
    ctx.set('Tus-Extension', 'creation,termination,expiration');
    if (options.maxUploadBytes > 0) ctx.set('Tus-Max-Size', String(options.maxUploadBytes));
    ctx.status = 204;
  });

  r.post('/', requireUser, async (ctx) => {
    const s = sessionOf(ctx);
    if (ctx.get('upload-defer-length')) fail('INVALID_INPUT', 'Upload-Defer-Length is not supported');
    const length = Number(ctx.get('upload-length'));
    if (!ctx.get('upload-length') || !Number.isSafeInteger(length) || length < 0) fail('INVALID_INPUT', 'Upload-Length required');
    if (options.maxUploadBytes > 0 && length > options.maxUploadBytes) fail('QUOTA_EXCEEDED', 'the file is larger than this server accepts');
    const metadata = ctx.get('upload-metadata');
    const meta = parseMetadata(metadata);
    if (!meta.root || !meta.path) fail('INVALID_INPUT', 'Upload-Metadata needs root and path');
    await core.roots.open(s, meta.root, 'write'); // invisible roots are NOT_FOUND, read-only 403, before any byte
    const baseVersion = meta.baseVersion !== undefined && meta.baseVersion !== '' ? Number(meta.baseVersion) : undefined;
    if (baseVersion !== undefined && (!Number.isInteger(baseVersion) || baseVersion < 0)) fail('INVALID_INPUT', 'baseVersion must be an integer');
    const mtimeMs = meta.mtimeMs ? Number(meta.mtimeMs) : undefined;
    const info: UploadInfo = {
      id: randomToken(24),
      userId: s.user.id,
      root: meta.root,
      path: meta.path,
      length,
      ...(baseVersion !== undefined ? { baseVersion } : {}),
      onConflict: meta.onConflict === 'fail' ? 'fail' : 'copy',
      ...(mtimeMs !== undefined && Number.isFinite(mtimeMs) ? { mtimeMs } : {}),
      createdAt: Date.now(),
      metadata,
    };
    void sweep();
    const f = files(info.id);
    // Counted and recorded one creation at a time per user: parallel creations cannot pass the cap together.
    await creating.run(String(s.user.id), async () => {
      if ((await openUploadsOf(s.user.id)) >= options.maxOpenUploadsPerUser) {
        fail('TOO_MANY_ATTEMPTS', `at most ${options.maxOpenUploadsPerUser} unfinished uploads at once: finish or delete one first`, { reason: 'open-uploads' });
      }
      await writeFile(f.bin, '');
      await writeFile(f.json, JSON.stringify(info));
    });
    ctx.status = 201;
    ctx.set('Location', `/api/v1/uploads/${info.id}`);
    ctx.set('Upload-Expires', new Date(info.createdAt + EXPIRE_MS).toUTCString());
    if (length === 0) await commit(ctx, info);
  });

  r.head('/:id', requireUser, async (ctx) => {
    const info = await load(ctx);
    await busy.get(info.id); // an interrupted PATCH still draining settles the offset first
    ctx.set('Upload-Offset', String(await offsetOf(info.id)));
    ctx.set('Upload-Length', String(info.length));
    if (info.metadata) ctx.set('Upload-Metadata', info.metadata);
    ctx.set('Upload-Expires', new Date(info.createdAt + EXPIRE_MS).toUTCString());
    ctx.status = 200; // no body: koa answers HEAD with headers only
  });

  r.patch('/:id', requireUser, async (ctx) => {
    const info = await load(ctx);
    if (ctx.get('content-type') !== 'application/offset+octet-stream') {
      ctx.status = 415;
      ctx.body = { error: { code: 'INVALID_INPUT', message: 'Content-Type: application/offset+octet-stream required' } };
      return;
    }
    // One PATCH per upload at a time: a retry after a broken connection waits for the old one to end.
    const before = busy.get(info.id) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((res) => (release = res));
    const chain = before.then(() => mine);
    busy.set(info.id, chain);
    await before;
    try {
      const offset = await offsetOf(info.id);
      const claimed = Number(ctx.get('upload-offset'));
      if (!Number.isSafeInteger(claimed) || claimed !== offset) {
        ctx.set('Upload-Offset', String(offset));
        fail('CONFLICT', `the upload is at offset ${offset}`);
      }
      const room = info.length - offset;
      let got = 0;
      const bound = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          got += chunk.length;
          if (got > room) cb(Object.assign(new Error('too long'), { tooLong: true }));
          else cb(null, chunk);
        },
      });
      try {
        await pipeline(ctx.req, bound, createWriteStream(files(info.id).bin, { flags: 'a' }));
      } catch (err) {
        if ((err as { tooLong?: boolean }).tooLong) fail('INVALID_INPUT', 'more bytes than Upload-Length');
        // A broken connection keeps what arrived: the client resumes from the new offset.
        ctx.state.log.info({ upload: info.id, received: got }, 'upload interrupted');
        return;
      }
      const now = offset + got;
      ctx.set('Upload-Offset', String(now));
      ctx.set('Upload-Expires', new Date(info.createdAt + EXPIRE_MS).toUTCString());
      ctx.status = 204;
      if (now === info.length) await commit(ctx, info);
    } finally {
      release();
      if (busy.get(info.id) === chain) busy.delete(info.id);
    }
  });

  r.delete('/:id', requireUser, async (ctx) => {
    const info = await load(ctx);
    await remove(info.id);
    ctx.status = 204;
  });

  /** The last byte arrived: one write through the core, then the partial goes away. */
  async function commit(ctx: HttpContext, info: UploadInfo): Promise<void> {
    const s: Session = sessionOf(ctx);
    try {
      const result = await core.vfs.write(s, info.root, info.path, createReadStream(files(info.id).bin), {
        ...(info.baseVersion !== undefined ? { baseVersion: info.baseVersion, onConflict: info.onConflict } : {}),
        createParents: true,
        ...(info.mtimeMs !== undefined ? { mtimeMs: info.mtimeMs } : {}),
      });
      if (!result.unchanged) metrics.versions.inc({ door: 'rest' });
      if (result.conflict) {
        metrics.conflicts.inc({ door: 'rest' });
        ctx.set('X-Syncgate-Conflict', encodeURIComponent(result.entry.path));
      }
      ctx.set('X-Syncgate-Path', encodeURIComponent(result.entry.path));
      ctx.set('X-Syncgate-Version', String(result.entry.version));
      ctx.set('ETag', result.entry.etag);
    } catch (err) {
      // Storage trouble may pass; anything else (conflict refused, root gone) never will.
      if (!isCoreError(err, 'INSUFFICIENT_STORAGE')) await remove(info.id);
      throw err;
    }
    await remove(info.id);
  }
  return r;
}
