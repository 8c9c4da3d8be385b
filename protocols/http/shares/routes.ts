import Router from '@koa/router';
import { z } from 'zod';
import { basicAuthPassword } from '../../common/basic-auth.js';
import { decimalInteger } from '../../common/decimal.js';
import { fail, isCoreError, SyncgateError, type OpenedShare, type ShareLinkInfo } from '../../../src/core/index.js';
import { connectionOf, parseQuery, readJson, requireUser, sessionOf, type HttpContext, type HttpDeps, type HttpRouter, type HttpState } from '../context.js';
import { sendShareFile, sendShareZip } from './download.js';
import { securityHeaders, sendPublicFile } from './static.js';

/** Cookie that proves a password was given; its path is /s/<token>, so it goes to that link only. */
const COOKIE = 'sgshare';
/**
 * Scripts (curl, wget) send the password of a protected link in this header, or as the password
 * of HTTP Basic (user name ignored, `curl -u :PASSWORD`); the header wins when both are sent.
 */
const PASSWORD_HEADER = 'X-Share-Password';

const createSchema = z.object({
  root: z.string().min(1).max(200),
  path: z.string().max(4096).default(''),
  /** ISO 8601 date-time or epoch milliseconds. */
  expiresAt: z.union([z.iso.datetime({ offset: true }), z.number().int().positive()]).nullable().optional(),
  /** Alternative to expiresAt: seconds from now. */
  expiresInSec: z.number().int().positive().max(10 * 365 * 86400).optional(),
  password: z.string().min(1).max(1024).nullable().optional(),
  maxDownloads: z.number().int().positive().nullable().optional(),
  uploadOnly: z.boolean().optional(),
});

const idParam = z.object({ id: decimalInteger(1) });
const listQuery = z.object({ root: z.string().min(1).optional() });
const authSchema = z.object({ password: z.string().max(1024) });
const metaQuery = z.object({ dir: z.string().max(4096).default('') });
const uploadQuery = z.object({ name: z.string().min(1).max(255) });

const iso = (ms: number) => new Date(ms).toISOString();

function presentLink(l: ShareLinkInfo) {
  return {
    id: l.id,
    root: l.root,
    path: l.path,
    name: l.name,
    kind: l.kind,
    createdBy: l.createdBy,
    createdAt: iso(l.createdAt),
    expiresAt: l.expiresAt === null ? null : iso(l.expiresAt),
    hasPassword: l.hasPassword,
    maxDownloads: l.maxDownloads,
    downloads: l.downloads,
    uploadOnly: l.uploadOnly,
    revokedAt: l.revokedAt === null ? null : iso(l.revokedAt),
    endedAt: l.endedAt === null ? null : iso(l.endedAt),
    state: l.state,
  };
}

function linkId(ctx: HttpContext): number {
  const p = idParam.safeParse(ctx.params);
  if (!p.success) fail('INVALID_INPUT', 'a share link id is a positive number');
  return p.data.id;
}

function joinShare(base: string, sub: string | undefined): string {
  const s = sub ?? '';
  if (s === '' || s === '/') return base;
  return base === '' ? s : `${base}/${s.replace(/^\/+/, '')}`;
}

/** The path relative to the shared folder, for display and logs. */
function relToShare(base: string, p: string): string {
  return base === '' ? p : p === base ? '' : p.slice(base.length + 1);
}

/**
 * A core error as the link's visitor sees it: the core names paths from the top of the root, and
 * a visitor of a link to Clients/ACME must not learn that Clients exists (nor anything else above
 * the shared entry). Core messages start with the path they are about.
 */
function forVisitor(err: unknown, link: ShareLinkInfo): unknown {
  if (!isCoreError(err) || link.path === '') return err;
  const m = err.message;
  let message: string | null = null;
  if (m.startsWith(`${link.path}/`)) message = m.slice(link.path.length + 1);
  else if (m.startsWith(`${link.path} `)) message = `${link.name}${m.slice(link.path.length)}`;
  return message === null ? err : new SyncgateError(err.code, message, err.details);
}

/** Runs a visitor's request on an opened link, its errors in the link's terms (forVisitor). */
async function asVisitor<T>(o: OpenedShare, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw forVisitor(err, o.link);
  }
}

/** API under /api/v1/shares and the public /s/<token> page, downloads and drop uploads. */
export function shareRoutes(deps: HttpDeps): HttpRouter {
  const { core } = deps;
  const router = new Router<HttpState>();
  const maxJson = deps.options.maxJsonBytes;

  const meta = (ctx: HttpContext) => ({ address: ctx.state.address, userAgent: ctx.get('User-Agent') || null, requestId: ctx.state.requestId });

  /** Opens the link of the request: password header or Basic, or the cookie of a password given earlier. */
  const openShare = async (ctx: HttpContext): Promise<OpenedShare> => {
    ctx.state.door = 'share';
    securityHeaders(ctx);
    ctx.set('Cache-Control', 'no-store');
    const token = String(ctx.params.token ?? '');
    const password = ctx.get(PASSWORD_HEADER) || basicAuthPassword(ctx.get('authorization')) || undefined;
    const cookie = ctx.cookies.get(COOKIE) ?? undefined;
    return core.openShare(token, { password, cookie }, meta(ctx));
  };

  const logAccess = (ctx: HttpContext, o: OpenedShare) => (action: string, bytes: number, path: string) => {
    try {
      // Byte metrics are counted per request by the door (ctx.state.door = 'share').
      core.connect(o.session).logShareAccess({ ...meta(ctx), action, bytes, path: relToShare(o.link.path, path) });
    } catch (err) {
      ctx.state.log?.warn({ err, share: o.link.id }, 'share access not logged');
    }
  };

  // ---- API for owners ----
  router.post('/api/v1/shares', requireUser, async (ctx) => {
    const input = await readJson(ctx, createSchema, maxJson);
    // "In N seconds" is counted by the core, on its clock (the one that later says the link expired).
    const expiresAt = typeof input.expiresAt === 'string' ? Date.parse(input.expiresAt) : input.expiresAt;
    const { link, token } = await connectionOf(ctx, core).createShare({ ...input, expiresAt });
    const url = `${deps.publicUrl.replace(/\/+$/, '')}/s/${token}`;
    ctx.status = 201;
    ctx.body = { share: presentLink(link), token, url, downloadUrl: link.uploadOnly ? null : `${url}/download` };
  });

  router.get('/api/v1/shares', requireUser, async (ctx) => {
    const q = parseQuery(ctx, listQuery);
    ctx.body = { shares: connectionOf(ctx, core).shares(q.root).map(presentLink) };
  });

  router.get('/api/v1/shares/:id', requireUser, async (ctx) => {
    ctx.body = { share: presentLink(connectionOf(ctx, core).share(linkId(ctx))) };
  });

  router.delete('/api/v1/shares/:id', requireUser, async (ctx) => {
    connectionOf(ctx, core).revokeShare(linkId(ctx));
    ctx.status = 204;
  });

  router.get('/api/v1/shares/:id/accesses', requireUser, async (ctx) => {
    ctx.body = { accesses: connectionOf(ctx, core).shareAccesses(linkId(ctx)).map((a) => ({ ...a, at: iso(a.at) })) };
  });

  // ---- the public side ----
  router.get('/s/:token', async (ctx) => {
    let status = 200;
    try {
      await openShare(ctx);
    } catch (err) {
      if (!isCoreError(err)) throw err;
      status = err.code === 'NOT_FOUND' ? 404 : err.code === 'PERMISSION_DENIED' ? 403 : err.code === 'TOO_MANY_ATTEMPTS' ? 429 : 200;
    }
    ctx.state.door = 'share';
    await sendPublicFile(ctx, 'share.html');
    ctx.set('Cache-Control', 'no-store');
    ctx.status = status;
  });

  router.post('/s/:token/auth', async (ctx) => {
    ctx.state.door = 'share';
    securityHeaders(ctx);
    const { password } = await readJson(ctx, authSchema, 8192);
    const token = String(ctx.params.token);
    const o = await core.openShare(token, { password }, meta(ctx));
    if (o.link.hasPassword) {
      const c = core.connect(o.session).issueShareCookie(token);
      ctx.cookies.set(COOKIE, c.value, {
        path: `/s/${token}`,
        httpOnly: true,
        sameSite: 'strict',
        secure: deps.secure,
        maxAge: c.maxAgeSec * 1000,
        overwrite: true,
      });
    }
    logAccess(ctx, o)('password-ok', 0, o.link.path);
    ctx.status = 204;
  });

  /** What the page shows: the file, the folder's entries, or (drop links) only that uploads are welcome. */
  router.get('/s/:token/meta', async (ctx) => {
    const o = await openShare(ctx);
    const { link } = o;
    const q = parseQuery(ctx, metaQuery);
    const base = {
      name: link.name,
      kind: link.kind,
      uploadOnly: link.uploadOnly,
      hasPassword: link.hasPassword,
      expiresAt: link.expiresAt === null ? null : iso(link.expiresAt),
      downloadsLeft: link.maxDownloads === null ? null : Math.max(0, link.maxDownloads - link.downloads),
    };
    if (link.uploadOnly) {
      logAccess(ctx, o)('view', 0, link.path);
      ctx.body = { ...base, size: null, entries: null };
      return;
    }
    const target = joinShare(link.path, q.dir);
    const conn = core.connect(o.session);
    const entry = await asVisitor(o, () => conn.stat(o.root, target));
    const entries =
      entry.kind === 'dir'
        ? (await asVisitor(o, () => conn.list(o.root, target))).map((e) => ({
            name: e.name,
            path: relToShare(link.path, e.path),
            kind: e.kind,
            size: e.size,
            mtime: iso(e.mtimeMs),
          }))
        : null;
    logAccess(ctx, o)('view', 0, target);
    ctx.body = { ...base, dir: relToShare(link.path, target), size: entry.kind === 'file' ? entry.size : null, mtime: iso(entry.mtimeMs), entries };
  });

  const download = async (ctx: HttpContext) => {
    const o = await openShare(ctx);
    if (o.link.uploadOnly) fail('PERMISSION_DENIED', 'this link only accepts uploads');
    const target = joinShare(o.link.path, typeof ctx.params.path === 'string' ? ctx.params.path : undefined);
    const conn = core.connect(o.session);
    await asVisitor(o, async () => {
      const entry = await conn.stat(o.root, target);
      const io = { conn, begin: () => conn.beginShareUse(), done: logAccess(ctx, o) };
      if (entry.kind === 'dir') await sendShareZip(ctx, o, entry, io);
      else await sendShareFile(ctx, o, entry, io);
    });
  };
  router.get('/s/:token/download', download);
  router.get('/s/:token/download/{*path}', download);

  /** Drop links only: the core names, caps and counts the file (its drop rules); here only the wire. */
  const upload = async (ctx: HttpContext, name: string) => {
    const o = await openShare(ctx);
    const declared = ctx.get('content-length') === '' ? undefined : Number(ctx.get('content-length'));
    const r = await asVisitor(o, () => core.connect(o.session).dropIntoShare(o.link, name, ctx.req, {
      ...meta(ctx),
      maxSize: deps.options.maxUploadBytes || undefined,
      ...(declared !== undefined && Number.isSafeInteger(declared) ? { declaredSize: declared } : {}),
    }));
    ctx.status = 201;
    // The visitor's own name back, never the stored one: "name (2)" would tell a drop-box
    // visitor that "name" and "name (1)" already exist in a folder they may not list.
    ctx.body = { name, size: r.entry.size };
  };
  router.put('/s/:token/upload/:name', (ctx) => upload(ctx, String(ctx.params.name)));
  router.post('/s/:token/upload', (ctx) => upload(ctx, parseQuery(ctx, uploadQuery).name));

  return router;
}
