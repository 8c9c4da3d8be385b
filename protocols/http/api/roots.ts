import path from 'node:path';
import Router from '@koa/router';
import { z } from 'zod';
import { fail } from '../../../src/core/index.js';
import { parseQuery, readJson, requireAdmin, requireUser, sessionOf, type HttpDeps, type HttpRouter, type HttpState } from '../context.js';
import { presentRoot } from '../presenters.js';

const newRootBody = z.object({
  name: z.string().min(1).max(64),
  /** Absolute folder on the server; created if missing. */
  dir: z.string().min(1).max(4096).refine((d) => path.isAbsolute(d), 'dir must be an absolute path'),
  owner: z.string().min(1).max(64).optional(),
});
const grantBody = z.object({ mode: z.enum(['read', 'write']) });
const listQuery = z.object({ access: z.enum(['owner', 'shared', 'all']).default('all') });

/** Roots: list what the user may see, admin create/remove, owner grants to other users. */
export function rootRoutes(deps: HttpDeps): HttpRouter {
  const { core, options } = deps;
  const r = new Router<HttpState>({ prefix: '/api/v1' });

  r.get('/roots', requireUser, async (ctx) => {
    const q = parseQuery(ctx, listQuery);
    const roots = core.roots.list(sessionOf(ctx)).filter((x) => q.access === 'all' || (q.access === 'owner' ? x.access === 'owner' : x.access !== 'owner'));
    ctx.body = { roots: roots.map(presentRoot) };
  });

  r.post('/roots', requireAdmin, async (ctx) => {
    const body = await readJson(ctx, newRootBody, options.maxJsonBytes);
    const owner = body.owner ? core.accounts.user(body.owner) : sessionOf(ctx).user;
    const row = await core.roots.create(body.name, body.dir, owner.id);
    ctx.status = 201;
    ctx.body = presentRoot(core.roots.info(row, 'owner'));
  });

  r.get('/roots/:root', requireUser, async (ctx) => {
    const h = await core.roots.open(sessionOf(ctx), ctx.params.root!, 'read');
    ctx.body = presentRoot(core.roots.info(h.row, h.access));
  });

  r.delete('/roots/:root', requireAdmin, async (ctx) => {
    core.roots.remove(ctx.params.root!);
    ctx.status = 204;
  });

  /** Only the owner (or an admin) manages who a root is shared with; others get 403 or 404. */
  async function ownedRoot(ctx: Parameters<Parameters<typeof r.get>[1]>[0]) {
    const s = sessionOf(ctx);
    const h = await core.roots.open(s, ctx.params.root!, 'read');
    if (h.access !== 'owner' && !s.user.isAdmin) fail('PERMISSION_DENIED', 'only the owner shares a root');
    return h;
  }

  r.get('/roots/:root/grants', requireUser, async (ctx) => {
    const h = await ownedRoot(ctx);
    ctx.body = { grants: core.ctx.roots.grantsOfRoot(h.row.id).map((g) => ({ user: g.userName, mode: g.mode })) };
  });

  r.put('/roots/:root/grants/:user', requireUser, async (ctx) => {
    const h = await ownedRoot(ctx);
    const body = await readJson(ctx, grantBody, options.maxJsonBytes);
    const user = core.accounts.user(ctx.params.user!);
    if (user.id === h.row.ownerId) fail('INVALID_INPUT', 'the owner already has full access');
    core.ctx.roots.grant(h.row.id, user.id, body.mode);
    ctx.body = { user: user.name, mode: body.mode };
  });

  r.delete('/roots/:root/grants/:user', requireUser, async (ctx) => {
    const h = await ownedRoot(ctx);
    const user = core.accounts.user(ctx.params.user!);
    if (!core.ctx.roots.grantOf(h.row.id, user.id)) fail('NOT_FOUND', `root ${h.row.name} is not shared with ${user.name}`);
    core.ctx.roots.revoke(h.row.id, user.id);
    ctx.status = 204;
  });
  return r;
}
