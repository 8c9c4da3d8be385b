import Router from '@koa/router';
import { connectionOf, requireUser, type HttpDeps, type HttpRouter, type HttpState, type OpenApiPaths } from '../context.js';
import { isoOrNull } from '../presenters.js';

/**
 * What the web page's "Devices" view needs from the sync side: a one-time pairing code for a new
 * companion client, and each device's progress per root (how many changes it is behind). Thin on
 * purpose: the core's Devices service decides; this only presents.
 */
export function deviceRoutes(deps: HttpDeps): HttpRouter {
  const { core } = deps;
  const r = new Router<HttpState>({ prefix: '/api/v1/me' });
  r.post('/pairing-codes', requireUser, async (ctx) => {
    const { code, expiresAt } = connectionOf(ctx, core).pairDevice();
    ctx.status = 201;
    ctx.body = { code, expiresAt: new Date(expiresAt).toISOString() };
  });
  r.get('/device-sync', requireUser, async (ctx) => {
    ctx.body = {
      devices: connectionOf(ctx, core).devices().map((d) => ({
        id: d.id,
        name: d.name,
        lastAddress: d.lastAddress,
        lastSeenAt: isoOrNull(d.lastSeenAt),
        revoked: d.revoked,
        roots: d.roots.map((c) => ({ root: c.root, cursor: c.cursor, seq: c.seq, behind: c.behind, updatedAt: isoOrNull(c.updatedAt) })),
      })),
    };
  });
  return r;
}

const error = { description: 'error' };
export const openapi: OpenApiPaths = {
  '/api/v1/me/pairing-codes': {
    post: {
      summary: 'A one-time code a new companion client logs in with (shown once, expires soon)',
      tags: ['devices'],
      responses: {
        '201': { description: 'the code', content: { 'application/json': { schema: { type: 'object', properties: { code: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } } } } } },
        '401': error,
        '403': { description: 'only a password login may make one, not an API or device token' },
      },
    },
  },
  '/api/v1/me/device-sync': {
    get: {
      summary: 'My devices with, per root, the cursor each applied and how many changes it is behind',
      tags: ['devices'],
      responses: { '200': { description: 'devices', content: { 'application/json': { schema: { type: 'object', properties: { devices: { type: 'array', items: { type: 'object' } } } } } } }, '401': error },
    },
  },
};
