import http from 'node:http';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, startTestGateway, type TestGateway } from '../../test/helpers/gateway.js';

/**
 * webdav-server 2.6.3 built a Depth 1 PROPFIND of a large folder in one block (seconds, event loop
 * stalled). Here it comes from one metadata query and is streamed with back-pressure: while the
 * client has not read it, other requests are still answered.
 */
const N = 3000;
let t: TestGateway;
let auth: string;

beforeAll(async () => {
  t = await startTestGateway();
  auth = basicAuth(t.alice);
  const h = await t.gw.core.roots.open(t.alice.session, 'docs', 'write');
  await mkdir(path.join(h.dir, 'big'));
  for (let i = 0; i < N; i += 1) await writeFile(path.join(h.dir, 'big', `file-${String(i).padStart(5, '0')}.txt`), `content ${i}`);
  await writeFile(path.join(h.dir, 'small.txt'), 'small');
  await t.gw.core.diskEdits.scanRoot(h.row.id);
});
afterAll(async () => {
  await t?.close();
});

function open(method: string, p: string, headers: Record<string, string>): Promise<http.IncomingMessage> {
  const u = new URL(t.url);
  return new Promise((resolve, reject) => {
    const r = http.request({ host: u.hostname, port: u.port, path: p, method, headers: { authorization: auth, ...headers } }, resolve);
    r.on('error', reject);
    r.end();
  });
}

async function text(res: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('PROPFIND Depth 1 on a large folder', () => {
  it('streams every entry, and a small GET is answered while the listing is still unread', async () => {
    const listing = await open('PROPFIND', '/dav/docs/big/', { depth: '1' });
    expect(listing.statusCode).toBe(207);
    expect(listing.headers['content-length']).toBeUndefined();
    listing.pause();
    const small = await open('GET', '/dav/docs/small.txt', {});
    expect(small.statusCode).toBe(200);
    expect(await text(small)).toBe('small');
    const xml = await text(listing);
    expect(xml.match(/<D:response>/g)?.length).toBe(N + 1);
    expect(xml).toContain('<D:href>/dav/docs/big/file-02999.txt</D:href>');
    expect(xml.trimEnd().endsWith('</D:multistatus>')).toBe(true);
  });

  it('yields between pages even when the client reads as fast as it is written (loopback drains on the next tick)', async () => {
    const order: string[] = [];
    const listing = await open('PROPFIND', '/dav/docs/big/', { depth: '1' });
    const done = text(listing).then(() => order.push('propfind'));
    const small = await open('GET', '/dav/docs/small.txt', {});
    await text(small);
    order.push('get');
    await done;
    expect(order).toEqual(['get', 'propfind']);
  });

  it('answers a named-property PROPFIND with the core metadata of every entry', async () => {
    const res = await open('PROPFIND', '/dav/docs/big/', { depth: '1', 'content-type': 'application/xml' });
    const xml = await text(res);
    const entry = await t.gw.core.vfs.stat(t.alice.session, 'docs', 'big/file-00042.txt');
    expect(xml).toContain(`<D:getetag>${entry.etag.replace(/"/g, '&quot;')}</D:getetag>`);
    expect(xml.match(/<D:getcontentlength>/g)?.length).toBe(N);
  });
});
