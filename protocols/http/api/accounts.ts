import Router from '@koa/router';
import { z } from 'zod';
import { fail } from '../../../src/core/index.js';
import { parseDecimal } from '../../common/decimal.js';
import { clearSessionCookie, csrfTokenOf, setSessionCookie } from '../auth.js';
import { connectionOf, readJson, requireAdmin, requireUser, sessionOf, type HttpDeps, type HttpRouter, type HttpState } from '../context.js';
import { isoOrNull, presentUser } from '../presenters.js';

const loginBody = z.object({
  user: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
  /** 'cookie' for browsers (HttpOnly session cookie + CSRF token), 'token' for scripts (bearer). */
  mode: z.enum(['cookie', 'token']).default('token'),
});
const passwordBody = z.object({ current: z.string().min(1).max(1024), password: z.string().min(8).max(1024) });
const newUserBody = z.object({ name: z.string().min(1).max(64), password: z.string().min(8).max(1024), isAdmin: z.boolean().default(false) });
const patchUserBody = z.object({ disabled: z.boolean().optional(), password: z.string().min(8).max(1024).optional() });
const tokenBody = z.object({ name: z.string().min(1).max(100) });
const deviceBody = z.object({ uuid: z.string().min(16).max(64), name: z.string().min(1).max(100) });
function id(raw: string | undefined): number {
  const n = parseDecimal(raw ?? '', 1);
  if (n === null) fail('INVALID_INPUT', 'the id must be a positive decimal integer');
  return n;
}

/** Login and logout, the current user, password change, API tokens, devices, and user admin. */
export function accountRoutes(deps: HttpDeps): HttpRouter {
  const { core, options } = deps;
  const r = new Router<HttpState>({ prefix: '/api/v1' });
  const max = options.maxJsonBytes;
  const ttlMs = options.sessionTtlHours * 3600_000;

  r.post('/login', async (ctx) => {
    const body = await readJson(ctx, loginBody, max);
    const session = await core.authenticate({ kind: 'password', user: body.user, secret: body.password }, { address: ctx.state.address, protocol: 'rest', requestId: ctx.state.requestId });
    const { user } = session;
    const { token, expiresAt } = core.connect(session).openLoginSession(ttlMs);
    const out = { user: { id: user.id, name: user.name, isAdmin: user.isAdmin }, expiresAt: new Date(expiresAt).toISOString() };
    if (body.mode === 'cookie') {
      setSessionCookie(ctx, token, expiresAt, deps.secure);
      ctx.body = { ...out, csrfToken: csrfTokenOf(token) };
    } else {
      ctx.body = { ...out, token };
    }
  });

  r.post('/logout', requireUser, async (ctx) => {
    if (ctx.state.loginToken) connectionOf(ctx, core).closeLoginSession(ctx.state.loginToken);
    if (ctx.state.authVia === 'cookie') clearSessionCookie(ctx, deps.secure);
    ctx.status = 204;
  });

  r.get('/me', requireUser, async (ctx) => {
    const s = sessionOf(ctx);
    ctx.body = {
      user: { id: s.user.id, name: s.user.name, isAdmin: s.user.isAdmin },
      device: s.device,
      via: ctx.state.authVia,
      ...(ctx.state.authVia === 'cookie' && ctx.state.loginToken ? { csrfToken: csrfTokenOf(ctx.state.loginToken) } : {}),
    };
  });

  r.put('/me/password', requireUser, async (ctx) => {
    const body = await readJson(ctx, passwordBody, max);
    await connectionOf(ctx, core).changePassword(body.current, body.password);
    if (ctx.state.authVia === 'cookie') clearSessionCookie(ctx, deps.secure);
    ctx.status = 204;
  });

  r.get('/me/tokens', requireUser, async (ctx) => {
    ctx.body = { tokens: connectionOf(ctx, core).tokens().map((t) => ({ id: t.id, name: t.name, createdAt: isoOrNull(t.createdAt), lastUsedAt: isoOrNull(t.lastUsedAt) })) };
  });
  r.post('/me/tokens', requireUser, async (ctx) => {
    const body = await readJson(ctx, tokenBody, max);
    const t = connectionOf(ctx, core).createToken(body.name);
    ctx.status = 201;
    ctx.body = { id: t.id, name: t.name, token: t.token };
  });
  r.delete('/me/tokens/:id', requireUser, async (ctx) => {
    connectionOf(ctx, core).revokeToken(id(ctx.params.id));
    ctx.status = 204;
  });

  r.get('/me/devices', requireUser, async (ctx) => {
    const devices = connectionOf(ctx, core).devices();
    ctx.body = { devices: devices.map((d) => ({ ...d, lastSeenAt: isoOrNull(d.lastSeenAt), roots: d.roots.map((r) => ({ ...r, updatedAt: isoOrNull(r.updatedAt) })) })) };
  });
  r.post('/me/devices/pairing', requireUser, async (ctx) => {
    const p = connectionOf(ctx, core).pairDevice();
    ctx.status = 201;
    ctx.body = { code: p.code, expiresAt: new Date(p.expiresAt).toISOString() };
  });
  r.post('/me/devices', requireUser, async (ctx) => {
    const body = await readJson(ctx, deviceBody, max);
    const d = connectionOf(ctx, core).registerDevice(body.uuid, body.name);
    ctx.status = 201;
    ctx.body = { id: d.id, uuid: d.uuid, name: d.name, token: d.token };
  });
  r.delete('/me/devices/:id', requireUser, async (ctx) => {
    connectionOf(ctx, core).revokeDevice(id(ctx.params.id));
    ctx.status = 204;
  });

  r.get('/users', requireAdmin(core), async (ctx) => {
    ctx.body = { users: connectionOf(ctx, core).users().map(presentUser) };
  });
  r.post('/users', requireAdmin(core), async (ctx) => {
    const body = await readJson(ctx, newUserBody, max);
    ctx.status = 201;
    ctx.body = presentUser(await connectionOf(ctx, core).createUser(body.name, body.password, body.isAdmin));
  });
  r.get('/users/:name', requireAdmin(core), async (ctx) => {
    ctx.body = presentUser(connectionOf(ctx, core).user(ctx.params.name!));
  });
  r.patch('/users/:name', requireAdmin(core), async (ctx) => {
    const body = await readJson(ctx, patchUserBody, max);
    ctx.body = presentUser(await connectionOf(ctx, core).updateUser(ctx.params.name!, body));
  });
  r.delete('/users/:name', requireAdmin(core), async (ctx) => {
    connectionOf(ctx, core).deleteUser(ctx.params.name!);
    ctx.status = 204;
  });
  return r;
}
