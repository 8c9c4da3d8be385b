import type { IncomingMessage, ServerResponse } from 'node:http';
import Koa from 'koa';
import Router from '@koa/router';
import type { HttpDoorDeps } from './context.js';

export type { HttpDoorDeps } from './context.js';

export interface HttpDoor {
  handle(req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

/** REST API, share pages, web UI, health and metrics on the main HTTP port. */
export function createHttpDoor(deps: HttpDoorDeps): HttpDoor {
  const app = new Koa();
  const router = new Router();
  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = deps.metrics.contentType;
    ctx.body = await deps.metrics.metrics();
  });
  app.use(router.routes()).use(router.allowedMethods());
  const callback = app.callback();
  return {
    handle: (req, res) => void callback(req, res),
    close: async () => {},
  };
}
