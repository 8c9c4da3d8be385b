import path from 'node:path';
import Router from '@koa/router';
import { z } from 'zod';
import { connectionOf, parseQuery, readJson, requireAdmin, requireUser, type HttpDeps, type HttpRouter, type HttpState } from '../context.js';
import { presentRoot } from '../presenters.js';

const newRootBody = z.object({
  name: z.string().min(1).max(64),
  /** Absolute folder on the server; created if missing. */
  dir: z.string().min(1).max(4096).refine((d) => path.isAbsolute(d), 'dir must be an absolute path'),
  owner: z.string().min(1).max(64).optional(),
});
// A root's settings; each is checked by the core (owner or admin, and its own schema).
const settingsBody = z
  .object({ conflictPolicy: z.unknown().optional(), retention: z.unknown().optional() })
  .strict()
  .refine((b) => b.conflictPolicy !== undefined || b.retention !== undefined, 'give conflictPolicy or retention');
const grantBody = z.object({ mode: z.enum(['read', 'write']) });
const listQuery = z.object({ access: z.enum(['owner', 'shared', 'all']).default('all') });

/** Roots: list what the user may see, admin create/remove, owner grants to other users. */
export function rootRoutes(deps: HttpDeps): HttpRouter {
  const { core, options } = deps;
  const r = new Router<HttpState>({ prefix: '/api/v1' });

  r.get('/roots', requireUser, async (ctx) => {
    const q = parseQuery(ctx, listQuery);
    const roots = connectionOf(ctx, core).roots().filter((x) => q.access === 'all' || (q.access === 'owner' ? x.access === 'owner' : x.access !== 'owner'));
    ctx.body = { roots: roots.map(presentRoot) };
  });

  // Every root with owner, grants and retention, for the admin to manage; not its files.
  r.get('/admin/roots', requireAdmin(core), async (ctx) => {
    ctx.body = { roots: connectionOf(ctx, core).adminRoots() };
  });

  r.post('/roots', requireAdmin(core), async (ctx) => {
    const body = await readJson(ctx, newRootBody, options.maxJsonBytes);
    const root = await connectionOf(ctx, core).createRoot(body.name, body.dir, body.owner);
    ctx.status = 201;
    ctx.body = presentRoot(root);
  });

  r.get('/roots/:root', requireUser, async (ctx) => {
    ctx.body = presentRoot(await connectionOf(ctx, core).root(ctx.params.root!));
  });

  r.patch('/roots/:root', requireUser, async (ctx) => {
    const conn = connectionOf(ctx, core);
    await conn.requireRootManager(ctx.params.root!); // 404/403 before the body is read
    const body = await readJson(ctx, settingsBody, options.maxJsonBytes);
    ctx.body = presentRoot(await conn.updateRoot(ctx.params.root!, body));
  });

  r.delete('/roots/:root', requireAdmin(core), async (ctx) => {
    connectionOf(ctx, core).removeRoot(ctx.params.root!);
    ctx.status = 204;
  });

  // Only the owner (or an admin) manages who a root is shared with: the core refuses the rest.
  r.get('/roots/:root/grants', requireUser, async (ctx) => {
    ctx.body = { grants: await connectionOf(ctx, core).grants(ctx.params.root!) };
  });

  r.put('/roots/:root/grants/:user', requireUser, async (ctx) => {
    const conn = connectionOf(ctx, core);
    await conn.grants(ctx.params.root!); // 403/404 before the body is read
    const body = await readJson(ctx, grantBody, options.maxJsonBytes);
    ctx.body = await conn.grant(ctx.params.root!, ctx.params.user!, body.mode);
  });

  r.delete('/roots/:root/grants/:user', requireUser, async (ctx) => {
    await connectionOf(ctx, core).revokeGrant(ctx.params.root!, ctx.params.user!);
    ctx.status = 204;
  });
  return r;
}
