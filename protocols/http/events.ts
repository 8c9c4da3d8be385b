import Router from '@koa/router';
import { z } from 'zod';
import { fail, type Change } from '../../src/core/index.js';
import { decimalInteger, DECIMAL_RULE, parseDecimal } from '../common/decimal.js';
import { connectionOf, parseQuery, requireUser, type HttpDeps, type HttpRouter, type HttpState, type OpenApiPaths } from './context.js';

export interface EventStreamOptions {
  /** A comment line this often keeps proxies and idle timers from cutting the stream. */
  heartbeatMs?: number;
  /** A client that stops reading is cut off past this many buffered bytes; it resumes with Last-Event-ID. */
  maxBufferedBytes?: number;
  /** How often (at most) the user's access to the root is checked again; a lost grant ends the stream. */
  accessCheckMs?: number;
}

const query = z.object({ after: decimalInteger().optional() });

function frame(c: Change): string {
  const data = {
    seq: c.seq,
    root: c.root,
    path: c.path,
    op: c.op,
    kind: c.kind,
    version: c.version,
    deleted: c.deleted,
    hash: c.hash,
    size: c.size,
    mtime: new Date(c.mtimeMs).toISOString(),
    oldPath: c.oldPath,
    protocol: c.protocol,
    user: c.user,
    at: new Date(c.createdAt).toISOString(),
  };
  return `id: ${c.seq}\nevent: change\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * GET /api/v1/roots/:root/events: server-sent events, one `change` per committed change, `id` = the
 * root's sequence number. With Last-Event-ID (or ?after=N) the stream first replays the change feed
 * after that number, then goes live; events arriving during the replay are held back and released
 * in order, so there is no gap and no duplicate.
 */
export function eventRoutes(deps: HttpDeps, opts: EventStreamOptions = {}): HttpRouter {
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const maxBuffered = opts.maxBufferedBytes ?? 8 << 20;
  const router = new Router<HttpState>();

  router.get('/api/v1/roots/:root/events', requireUser, async (ctx) => {
    ctx.state.door = 'events';
    const conn = connectionOf(ctx, deps.core);
    const root = String(ctx.params.root);
    const q = parseQuery(ctx, query);
    const header = ctx.get('Last-Event-ID');
    let after: number | undefined = q.after;
    if (header) {
      const parsed = parseDecimal(header.trim());
      if (parsed === null) fail('INVALID_INPUT', `Last-Event-ID ${DECIMAL_RULE} (a sequence number)`);
      after = parsed;
    }

    const res = ctx.res;
    let closed = false;
    // Refuses (404) a root the user may not see, before any byte is sent; changes start on the next turn.
    const follower = await conn.follow(
      root,
      (c) => {
        if (closed) return;
        res.write(frame(c));
        if (res.writableLength > maxBuffered) stop();
      },
      {
        ...(after !== undefined ? { after } : {}),
        ...(opts.accessCheckMs !== undefined ? { accessCheckMs: opts.accessCheckMs } : {}),
        onEnd: (err) => {
          if (err) ctx.state.log?.warn({ err }, 'event replay failed');
          stop();
        },
      },
    );
    const timer = setInterval(() => {
      if (follower.stillAllowed()) res.write(': ping\n\n');
      else stop();
    }, heartbeatMs);
    timer.unref();
    function stop() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      follower.stop();
      if (!res.writableEnded) res.end();
    }
    ctx.req.once('close', stop);
    ctx.res.once('close', stop);

    // The stream is written straight to the socket, past koa's response handling: a client that
    // goes away is the normal end of an event stream, not an error.
    ctx.status = 200;
    ctx.respond = false;
    ctx.req.socket.setNoDelay(true);
    ctx.req.socket.setTimeout(0);
    res.writeHead(200, {
      ...ctx.response.headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    });
    res.write(`retry: 3000\n: syncgate events for ${encodeURIComponent(root)}\n\n`);
  });

  return router;
}

export const openapi: OpenApiPaths = {
  '/api/v1/roots/{root}/events': {
    get: {
      summary: 'Live changes of a root as server-sent events (id = sequence number; resumable with Last-Event-ID)',
      tags: ['events'],
      parameters: [
        { name: 'root', in: 'path', required: true, schema: { type: 'string' } },
        { name: 'after', in: 'query', required: false, schema: { type: 'integer', minimum: 0 }, description: 'replay changes after this sequence number (as Last-Event-ID)' },
        { name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' } },
      ],
      responses: {
        '200': { description: 'an endless text/event-stream of `change` events', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        '401': { description: 'not logged in' },
        '404': { description: 'no such root (or not visible to the user)' },
      },
    },
  },
};
