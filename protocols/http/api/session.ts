import Router from '@koa/router';
import { csrfTokenOf } from '../auth.js';
import type { HttpDeps, HttpRouter, HttpState, OpenApiPaths } from '../context.js';

/**
 * GET /api/v1/session: who the browser is, asked by the web page when it opens. Unlike /me it
 * answers 200 with `user: null` when nobody is logged in: the page's first question is not an
 * error (a 401 would be one in the browser's console), and it never carries a challenge.
 */
export function sessionRoutes(_deps: HttpDeps): HttpRouter {
  const r = new Router<HttpState>({ prefix: '/api/v1' });
  r.get('/session', async (ctx) => {
    const s = ctx.state.session;
    ctx.body = s
      ? {
          user: { id: s.user.id, name: s.user.name, isAdmin: s.user.isAdmin },
          ...(ctx.state.authVia === 'cookie' && ctx.state.loginToken ? { csrfToken: csrfTokenOf(ctx.state.loginToken) } : {}),
        }
      : { user: null };
  });
  return r;
}

export const openapi: OpenApiPaths = {
  '/api/v1/session': {
    get: {
      summary: 'The logged-in user of this browser, or user: null (never 401)',
      tags: ['accounts'],
      responses: {
        '200': {
          description: 'the session',
          content: { 'application/json': { schema: { type: 'object', properties: { user: { type: ['object', 'null'] }, csrfToken: { type: 'string' } } } } },
        },
      },
    },
  },
};
