import Router from '@koa/router';
import { z } from 'zod';
import { connectionOf, readJson, requireUser, type HttpDeps, type HttpRouter, type HttpState, type OpenApiPaths } from '../context.js';
import { presentRoot } from '../presenters.js';

/**
 * PUT /api/v1/roots/:root/retention: how long a root keeps old versions (the web page's root
 * settings). Thin on purpose: the owner or an admin sets it, the core validates and stores it.
 */
export function retentionRoutes(deps: HttpDeps): HttpRouter {
  const { core, options } = deps;
  const r = new Router<HttpState>({ prefix: '/api/v1' });
  r.put('/roots/:root/retention', requireUser, async (ctx) => {
    const conn = connectionOf(ctx, core);
    // The core checks who may (owner or admin) and what a policy is; an admin may set any root's.
    await conn.requireRootManager(ctx.params.root!, 'the retention policy'); // 404/403 before the body is read
    const policy = await readJson(ctx, z.unknown(), options.maxJsonBytes);
    ctx.body = presentRoot(await conn.setRetention(ctx.params.root!, policy));
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
