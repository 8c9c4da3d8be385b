import Router from '@koa/router';
import type { RouterContext } from '@koa/router';
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { ConflictInfo, Session } from '../../src/core/index.js';
import type { SignatureCache } from '../../src/delta/index.js';
import { DEVICE_TOKEN_PREFIX, PREFIX, type ChangesPage, type CursorResponse, type DeleteResponse, type LoginResponse, type RootsResponse } from '../../src/sync-wire/index.js';
import { decimalInteger } from '../common/decimal.js';
import { safeDownloadHeaders } from '../common/safe-download.js';
import type { SyncCore } from './adapter.js';
import { SyncError } from './errors.js';
import type { SyncOptions } from './options.js';
import { wireChange, wireConflict, wireEntry, wireWrite } from './present.js';
import { parseByteRange } from '../common/range.js';
import { deltaFromVersion, deltaToHead, entryHeaders, headSignature, readBounded, recorded, uploadDelta, uploadWhole } from './transfer.js';

export interface SyncState {
  requestId: string;
  address: string;
  session?: Session;
}
type Ctx = RouterContext<SyncState>;

const MAX_JSON = 64 * 1024;
const uuid = z.string().regex(/^[0-9a-fA-F-]{16,64}$/, 'a device id is a uuid');
const loginBody = z.union([
  z.object({ uuid, name: z.string().min(1).max(100), user: z.string().min(1).max(64), password: z.string().min(1).max(1024) }),
  z.object({ uuid, name: z.string().min(1).max(100), pairingCode: z.string().min(4).max(32) }),
]);
const pathQuery = z.object({ path: z.string().max(4096) });
const changesQuery = z.object({ after: decimalInteger(), limit: decimalInteger(1).pipe(z.number().max(10_000)).optional() });
const cursorBody = z.object({ cursor: z.number().int().min(0) });
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'sha256 is 64 lowercase hex digits');
const uploadQuery = z.object({
  path: z.string().min(1).max(4096),
  base: decimalInteger().optional(),
  sha256,
  mtime: decimalInteger().optional(),
});
/** A delta upload names the result's SHA-256 in the query, or after the delta (`trailer=sha256`), never both. */
const patchQuery = uploadQuery
  .extend({ sha256: sha256.optional(), trailer: z.literal('sha256').optional() })
  .refine((q) => (q.sha256 === undefined) !== (q.trailer === undefined), 'a delta upload names its SHA-256 either in the query or after the delta (trailer=sha256)');
const deleteQuery = z.object({ path: z.string().min(1).max(4096), base: decimalInteger(1).optional(), cursor: decimalInteger().optional() });
const moveBody = z.object({ from: z.string().min(1).max(4096), to: z.string().min(1).max(4096), base: z.number().int().min(1).optional() });
const resolveBody = z.object({ resolution: z.enum(['keep-server', 'keep-incoming', 'keep-both']) });

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw new SyncError(400, 'INVALID_INPUT', r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return r.data;
}

async function json<T extends z.ZodType>(ctx: Ctx, schema: T): Promise<z.infer<T>> {
  const raw = await readBounded(ctx.req, MAX_JSON).catch(() => {
    throw new SyncError(413, 'QUOTA_EXCEEDED', `a JSON body may have at most ${MAX_JSON} bytes`);
  });
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8') || '{}');
  } catch {
    throw new SyncError(400, 'INVALID_INPUT', 'the body is not valid JSON');
  }
  return parse(schema, value);
}

/** The device of a request (Bearer sgd_...); the WebSocket upgrade uses the same check. */
export async function deviceOf(core: SyncCore, authorization: string | undefined, requestId: string, address: string): Promise<Session> {
  const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!m || !m[1]!.startsWith(DEVICE_TOKEN_PREFIX)) throw new SyncError(401, 'UNAUTHENTICATED', 'a device token is required (Authorization: Bearer sgd_...): run `syncgate client login`');
  return await core.deviceSession(m[1]!, requestId, address);
}

export function syncRoutes(core: SyncCore, signatures: SignatureCache, options: SyncOptions): Router<SyncState> {
  const r = new Router<SyncState>({ prefix: PREFIX });
  const session = async (ctx: Ctx): Promise<Session> => (ctx.state.session ??= await deviceOf(core, ctx.get('authorization'), ctx.state.requestId, ctx.state.address));
  const root = (ctx: Ctx) => ctx.params.root!;

  r.post('/login', async (ctx) => {
    const body = await json(ctx, loginBody);
    const creds = 'pairingCode' in body ? { pairingCode: body.pairingCode } : { user: body.user, password: body.password };
    const d = await core.login(creds, { uuid: body.uuid, name: body.name, address: ctx.state.address });
    const out: LoginResponse = { device: { id: d.id, uuid: d.uuid, name: d.name }, user: d.user, token: d.token };
    ctx.body = out;
  });

  r.get('/roots', async (ctx) => {
    const out: RootsResponse = { roots: core.roots(await session(ctx)).map((x) => ({ name: x.name, access: x.access, seq: x.seq })) };
    ctx.body = out;
  });

  r.get('/roots/:root/changes', async (ctx) => {
    const s = await session(ctx);
    const q = parse(changesQuery, ctx.query);
    const seq = await core.seq(s, root(ctx));
    if (q.after > seq) throw new SyncError(410, 'STALE_CURSOR', `cursor ${q.after} is beyond the root's feed (${seq}): rescan from 0`, { seq });
    const page = await core.changes(s, root(ctx), q.after, q.limit ?? options.pageSize);
    const out: ChangesPage = { root: root(ctx), changes: page.changes.map(wireChange), cursor: page.cursor, more: page.more, seq };
    ctx.body = out;
  });

  r.put('/roots/:root/cursor', async (ctx) => {
    const s = await session(ctx);
    const body = await json(ctx, cursorBody);
    const c = await core.setCursor(s, root(ctx), body.cursor).catch((err: { details?: { reason?: string } }) => {
      if (err.details?.reason === 'stale-cursor') throw new SyncError(410, 'STALE_CURSOR', 'the cursor is beyond the root\'s feed: rescan from 0');
      throw err;
    });
    const out: CursorResponse = { root: c.root, cursor: c.cursor, seq: c.seq, behind: c.behind };
    ctx.body = out;
  });

  r.get('/roots/:root/file', async (ctx) => {
    const s = await session(ctx);
    const { path } = parse(pathQuery, ctx.query);
    const header = ctx.get('range') || undefined;
    const range = header ? parseByteRange(header, (await core.stat(s, root(ctx), path)).size) : null;
    if (range === 'unsatisfiable') throw new SyncError(416, 'RANGE_NOT_SATISFIABLE', `the range ${header} is outside the content`);
    const res = await core.read(s, root(ctx), path, range ?? {});
    entryHeaders(ctx, res.entry);
    ctx.set('Accept-Ranges', 'bytes');
    if (range) {
      ctx.status = 206;
      ctx.set('Content-Range', `bytes ${res.start}-${res.end}/${res.size}`);
    }
    // As every door hands out user content: an opaque, sandboxed attachment (protocols/common).
    ctx.set(safeDownloadHeaders(res.entry.name));
    ctx.length = res.size === 0 ? 0 : res.end - res.start + 1;
    // Straight from the file to the socket with two reused buffers (core ReadResult.sendTo, as the
    // WebDAV GET does): a new 1 MiB buffer per read of a stream cost a tenth of a big download's CPU.
    ctx.status = range ? 206 : 200;
    ctx.respond = false;
    if (ctx.method === 'HEAD') {
      res.close();
      ctx.res.end();
      return;
    }
    try {
      await res.sendTo(ctx.res);
    } catch (err) {
      if (!ctx.res.destroyed) ctx.res.destroy(err as Error);
      return;
    }
    ctx.res.end();
  });

  r.post('/roots/:root/delta', async (ctx) => {
    const s = await session(ctx);
    const { path } = parse(pathQuery, ctx.query);
    // With `base`, the client still has that version unchanged: the gateway's cached signature of it
    // stands in for one the client would compute and send (the body is then empty).
    const { base } = parse(z.object({ base: decimalInteger(1).optional() }), { base: ctx.query.base });
    const { entry, body } = base !== undefined
      ? await deltaFromVersion(core, signatures, s, root(ctx), path, base)
      : await deltaToHead(core, s, root(ctx), path, ctx.req, options.maxSignatureBytes);
    entryHeaders(ctx, entry);
    ctx.type = 'application/vnd.librsync.delta';
    ctx.body = Readable.from(body);
  });

  r.get('/roots/:root/signature', async (ctx) => {
    const s = await session(ctx);
    const { path } = parse(pathQuery, ctx.query);
    const { entry, body } = await headSignature(core, signatures, s, root(ctx), path);
    entryHeaders(ctx, entry);
    ctx.type = 'application/vnd.librsync.signature';
    ctx.body = body;
  });

  r.put('/roots/:root/file', async (ctx) => {
    const s = await session(ctx);
    const q = parse(uploadQuery, ctx.query);
    const result = await uploadWhole(core, s, root(ctx), { path: q.path, base: q.base, sha256: q.sha256, mtimeMs: q.mtime }, ctx.req);
    // A conflict is a success too: the content is kept (a copy, the head, or with the record, by the
    // root's policy) and WriteResponse.conflict says which, with its kind.
    ctx.body = wireWrite(result);
  });

  // Resumable uploads for big files: create (with the SHA-256 the whole will have, or without when the
  // client hashes while it sends), append at the offset the gateway has, finish (with the SHA-256 if
  // not given at creation; checked, then recorded as one version with its base).
  r.post('/roots/:root/uploads', async (ctx) => {
    const s = await session(ctx);
    const q = parse(uploadQuery.extend({ length: decimalInteger(), sha256: sha256.optional() }), ctx.query);
    const u = await core.createUpload(s, { root: root(ctx), path: q.path, length: q.length, baseVersion: q.base, mtimeMs: q.mtime, sha256: q.sha256 });
    ctx.status = 201;
    ctx.body = { id: u.id, offset: u.offset, length: u.length };
  });
  r.get('/roots/:root/uploads/:id', async (ctx) => {
    const u = await core.upload(await session(ctx), ctx.params.id!);
    ctx.body = { id: u.id, offset: u.offset, length: u.length };
  });
  r.patch('/roots/:root/uploads/:id', async (ctx) => {
    const s = await session(ctx);
    const { offset } = parse(z.object({ offset: decimalInteger() }), ctx.query);
    const res = await core.appendUpload(s, ctx.params.id!, offset, ctx.req).catch((err: { code?: string; details?: { offset?: number } }) => {
      if (err.code === 'CONFLICT') throw new SyncError(409, 'CONFLICT', `the upload is at offset ${err.details?.offset}`, { offset: err.details?.offset });
      throw err;
    });
    ctx.body = { id: ctx.params.id, offset: res.offset, interrupted: res.interrupted };
  });
  r.post('/roots/:root/uploads/:id/finish', async (ctx) => {
    const s = await session(ctx);
    const q = parse(z.object({ sha256: sha256.optional() }), ctx.query);
    ctx.body = wireWrite(await recorded({}, core.finishUpload(s, ctx.params.id!, q.sha256)));
  });

  r.post('/roots/:root/patch', async (ctx) => {
    const s = await session(ctx);
    const q = parse(patchQuery, ctx.query);
    if (q.base === undefined || q.base < 1) throw new SyncError(400, 'INVALID_INPUT', 'a delta upload names the version it was made against (base)');
    // `trailer=sha256`: the result's SHA-256 is the body's last 32 bytes, after the delta.
    const result = await uploadDelta(core, s, root(ctx), { path: q.path, base: q.base, sha256: q.trailer ? 'trailer' : q.sha256!, mtimeMs: q.mtime }, ctx.req, signatures);
    ctx.body = wireWrite(result);
  });

  r.delete('/roots/:root/file', async (ctx) => {
    const s = await session(ctx);
    const q = parse(deleteQuery, ctx.query);
    let out: DeleteResponse;
    try {
      // `cursor`: a folder's files changed after it stay, each with its delete-edit record.
      const res = await core.delete(s, root(ctx), q.path, { version: q.base, seq: q.cursor });
      const kept = res.kept.map((e, i) => ({ entry: wireEntry(e), conflict: wireConflict(res.conflicts[i]!) }));
      out = kept.length === 0 ? { deleted: true, head: null, conflict: null, kept } : { deleted: false, head: wireEntry(await core.stat(s, root(ctx), q.path)), conflict: null, kept };
    } catch (err) {
      // A delete whose base is not the head deletes nothing: the edit it did not see wins, and the
      // core's delete-edit record comes back with it (the client prints it by its kind).
      const e = err as { code?: string; details?: { conflict?: ConflictInfo } };
      if (e.code !== 'PRECONDITION_FAILED') throw err;
      const conflict = e.details?.conflict ? wireConflict(e.details.conflict) : null;
      out = { deleted: false, head: wireEntry(await core.stat(s, root(ctx), q.path)), conflict, kept: [] };
    }
    ctx.body = out;
  });

  r.post('/roots/:root/mkdir', async (ctx) => {
    const s = await session(ctx);
    const { path } = parse(pathQuery, ctx.query);
    // A folder that is there already (two devices made it) is no error; a file of that name stays one,
    // so the client does not take it for the folder it made.
    let unchanged = false;
    const e = await core.mkdir(s, root(ctx), path).catch(async (err: { code?: string }) => {
      const there = err.code === 'ALREADY_EXISTS' ? await core.stat(s, root(ctx), path).catch(() => null) : null;
      if (there?.kind !== 'dir') throw err;
      unchanged = true;
      return there;
    });
    ctx.body = { entry: wireEntry(e), unchanged, conflict: null };
  });

  r.post('/roots/:root/move', async (ctx) => {
    const s = await session(ctx);
    const body = await json(ctx, moveBody);
    const e = await core.move(s, root(ctx), body.from, body.to, body.base).catch((err: { code?: string; message?: string }) => {
      if (err.code === 'PRECONDITION_FAILED') throw new SyncError(409, 'CONFLICT', `${body.from} changed since version ${body.base}: fetch it before moving`);
      throw err;
    });
    ctx.body = { entry: wireEntry(e), unchanged: false, conflict: null };
  });

  r.get('/roots/:root/conflicts', async (ctx) => {
    ctx.body = { conflicts: (await core.conflicts(await session(ctx), root(ctx))).map(wireConflict) };
  });

  r.post('/roots/:root/conflicts/:id', async (ctx) => {
    const s = await session(ctx);
    const id = parse(decimalInteger(1), ctx.params.id);
    const body = await json(ctx, resolveBody);
    await core.resolve(s, root(ctx), id, body.resolution);
    ctx.status = 204;
  });
  return r;
}
