import Router from '@koa/router';
import { z } from 'zod';
import { fail } from '../../../src/core/index.js';
import { parseDecimal } from '../../common/decimal.js';
import { connectionOf, parseQuery, readJson, requireUser, type HttpDeps, type HttpRouter, type HttpState } from '../context.js';
import type { DoorMetrics } from '../metrics.js';
import { presentConflict, presentEntry, presentVersion } from '../presenters.js';
import { pathParam } from './files.js';

/** `from`: the path the version had, as history lists it (a version from before a move). */
const restoreBody = z.object({ path: z.string().min(1).max(4096), version: z.number().int().positive(), from: z.string().min(1).max(4096).optional() });
const undeleteBody = z.object({ path: z.string().min(1).max(4096), version: z.number().int().positive().optional() });
const resolveBody = z.object({ resolution: z.enum(['keep-server', 'keep-incoming', 'keep-both']) });
const conflictsQuery = z.object({ all: z.enum(['0', '1', 'true', 'false']).default('0') });

/** History, restore, conflicts, deleted files. Old versions download via GET /files/{path}?version=N. */
export function historyRoutes(deps: HttpDeps, metrics: DoorMetrics): HttpRouter {
  const { core, options } = deps;
  const r = new Router<HttpState>({ prefix: '/api/v1/roots/:root' });
  r.use(requireUser);

  r.get('/history/*path', async (ctx) => {
    const versions = await connectionOf(ctx, core).history(ctx.params.root!, pathParam(ctx));
    ctx.body = { path: pathParam(ctx), versions: versions.map(presentVersion) };
  });

  r.post('/restore', async (ctx) => {
    const body = await readJson(ctx, restoreBody, options.maxJsonBytes);
    const e = await connectionOf(ctx, core).restore(ctx.params.root!, body.path, body.version, body.from);
    metrics.versions.inc({ door: 'rest' });
    ctx.body = presentEntry(e);
  });

  r.get('/deleted{/*path}', async (ctx) => {
    const entries = await connectionOf(ctx, core).deleted(ctx.params.root!, pathParam(ctx));
    ctx.body = { path: pathParam(ctx), entries: entries.map(presentEntry) };
  });

  /** Brings a deleted file back: its last version with content, or the one named. */
  r.post('/undelete', async (ctx) => {
    const conn = connectionOf(ctx, core);
    const root = ctx.params.root!;
    const body = await readJson(ctx, undeleteBody, options.maxJsonBytes);
    let version = body.version;
    let from: string | undefined;
    if (version === undefined) {
      const versions = await conn.history(root, body.path);
      if (versions[0] && !versions[0].deleted) fail('ALREADY_EXISTS', `${body.path} is not deleted`);
      const last = versions.find((v) => v.kind === 'file' && !v.deleted && v.available) ?? fail('NOT_FOUND', `${body.path} has no restorable version`);
      // It may be from before the file moved here: named with its own path.
      [version, from] = [last.version, last.path];
    }
    const e = await conn.restore(root, body.path, version, from);
    metrics.versions.inc({ door: 'rest' });
    ctx.body = presentEntry(e);
  });

  r.get('/conflicts', async (ctx) => {
    const q = parseQuery(ctx, conflictsQuery);
    const all = q.all === '1' || q.all === 'true';
    ctx.body = { conflicts: (await connectionOf(ctx, core).conflicts(ctx.params.root!, all)).map(presentConflict) };
  });

  r.post('/conflicts/:id/resolve', async (ctx) => {
    const id = parseDecimal(ctx.params.id ?? '', 1);
    if (id === null) fail('INVALID_INPUT', 'the id must be a positive decimal integer');
    const body = await readJson(ctx, resolveBody, options.maxJsonBytes);
    const e = await connectionOf(ctx, core).resolveConflict(ctx.params.root!, id, body.resolution);
    metrics.versions.inc({ door: 'rest' });
    ctx.body = { resolution: body.resolution, entry: e ? presentEntry(e) : null };
  });
  return r;
}
