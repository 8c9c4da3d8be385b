import type { Readable } from 'node:stream';
import Router from '@koa/router';
import { ZipFile } from 'yazl';
import { fail, type Connection, type EntryInfo } from '../../../src/core/index.js';
import { safeDownloadHeaders } from '../../common/safe-download.js';
import { connectionOf, requireUser, type HttpDeps, type HttpRouter, type HttpState } from '../context.js';
import { pathParam } from './files.js';

const MAX_ENTRIES = 200_000;

/** Every entry below `dir`, depth first, read from the core's metadata (no disk walk). */
async function walk(conn: Connection, root: string, dir: string, out: EntryInfo[]): Promise<void> {
  for await (const page of conn.listPages(root, dir)) {
    for (const e of page.entries) {
      if (out.length >= MAX_ENTRIES) fail('QUOTA_EXCEEDED', `a zip holds at most ${MAX_ENTRIES} entries`);
      out.push(e);
      if (e.kind === 'dir') await walk(conn, root, e.path, out);
    }
  }
}

/** A folder as a zip, streamed: entries are listed first, each file is opened only when yazl reaches it. */
export function zipRoutes(deps: HttpDeps): HttpRouter {
  const { core } = deps;
  const r = new Router<HttpState>({ prefix: '/api/v1/roots/:root' });
  r.get('/zip{/*path}', requireUser, async (ctx) => {
    const conn = connectionOf(ctx, core);
    const root = ctx.params.root!;
    const dir = pathParam(ctx);
    const top = await conn.stat(root, dir);
    if (top.kind !== 'dir') fail('NOT_A_DIRECTORY', 'only a folder downloads as a zip');
    const entries: EntryInfo[] = [];
    await walk(conn, root, dir, entries);
    const base = top.path === '' ? root : top.name;
    const strip = top.path === '' ? 0 : top.path.length + 1;
    const zip = new ZipFile();
    for (const e of entries) {
      const name = `${base}/${e.path.slice(strip)}`;
      const mtime = new Date(e.mtimeMs);
      if (e.kind === 'dir') {
        zip.addEmptyDirectory(name, { mtime });
        continue;
      }
      zip.addReadStreamLazy(name, { mtime, compress: false }, (cb) => {
        conn.read(root, e.path).then((res) => cb(null, res.stream), (err: unknown) => cb(err, undefined as never));
      });
    }
    zip.on('error', (err: Error) => (zip.outputStream as Readable).destroy(err));
    zip.end();
    ctx.set(safeDownloadHeaders(`${base}.zip`, { contentType: 'application/zip' }));
    ctx.body = zip.outputStream as Readable;
  });
  return r;
}
