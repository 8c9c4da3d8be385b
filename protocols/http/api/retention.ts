import Router from '@koa/router';
import { fail } from '../../../src/core/index.js';
import { retentionSchema } from '../../../src/core/roots.js';
import { readJson, requireUser, sessionOf, type HttpDeps, type HttpRouter, type HttpState, type OpenApiPaths } from '../context.js';
import { presentRoot } from '../presenters.js';

/**
 * PUT /api/v1/roots/:root/retention: how long a root keeps old versions (the web page's root
 * settings). Thin on purpose: the owner or an admin sets it, the core validates and stores it.
 */
export function retentionRoutes(deps: HttpDeps): HttpRouter {
  const { core, options } = deps;
  const r = new Router<HttpState>({ prefix: '/api/v1' });
  r.put('/roots/:root/retention', requireUser, async (ctx) => {
    const s = sessionOf(ctx);
    const name = ctx.params.root!;
    // An admin manages every root, visible to them or not; anyone else must own it.
    if (!s.user.isAdmin) {
      const h = await core.roots.open(s, name, 'read');
      if (h.access !== 'owner') fail('PERMISSION_DENIED', 'only the owner or an admin sets the retention policy');
    }
    const policy = await readJson(ctx, retentionSchema, options.maxJsonBytes);
    core.roots.setRetention(name, policy);
    const row = core.ctx.roots.byName(name) ?? fail('NOT_FOUND', `root ${name} does not exist`);
    ctx.body = presentRoot(core.roots.info(row, s.user.id === row.ownerId ? 'owner' : 'write'));
  });
  return r;
}

export const openapi: OpenApiPaths = {
  '/api/v1/roots/{root}/retention': {
    parameters: [{ name: 'root', in: 'path', required: true, schema: { type: 'string' } }],
    put: {
      summary: 'Set how long old versions are kept (owner or admin)',
      tags: ['roots'],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              oneOf: [
                { type: 'object', properties: { mode: { const: 'all' } }, required: ['mode'] },
                { type: 'object', properties: { mode: { const: 'count' }, keep: { type: 'integer', minimum: 1 } }, required: ['mode', 'keep'] },
                { type: 'object', properties: { mode: { const: 'days' }, days: { type: 'number' } }, required: ['mode', 'days'] },
                { type: 'object', properties: { mode: { const: 'staggered' }, maxAgeDays: { type: 'number' } }, required: ['mode', 'maxAgeDays'] },
              ],
            },
          },
        },
      },
      responses: {
        '200': { description: 'the root', content: { 'application/json': { schema: { $ref: '#/components/schemas/Root' } } } },
        '400': { description: 'invalid policy' },
        '401': { description: 'no or wrong credentials' },
        '403': { description: 'not the owner or an admin' },
        '404': { description: 'no such root' },
      },
    },
  },
};
