import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, startTestGateway, type TestGateway } from '../../test/helpers/gateway.js';

/**
 * What the client got wrong is 400 Bad Request (RFC 7231 6.5.1), as at the REST and sync doors
 * (FTP: 501); 403 stays for a request that is well formed but not allowed (RFC 4918 9.8.5, 9.9.4).
 */
let t: TestGateway;
let auth: string;
const dav = (p: string) => `${t.url}/dav/docs/${p}`;
const req = (method: string, p: string, headers: Record<string, string> = {}, payload?: string) =>
  fetch(dav(p), { method, headers: { authorization: auth, ...headers }, body: payload });
const LOCKINFO = '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>';

beforeAll(async () => {
  t = await startTestGateway();
  auth = basicAuth(t.alice);
});
afterAll(async () => {
  await t?.close();
});

describe('malformed request headers are 400', () => {
  // Number() read these as times ('1e9' as 1e9 s, '0x10' as 16 s, ' ' as 0) or they were dropped
  // silently: the file was stored with a time its client never meant.
  it('an X-OC-Mtime that is not a number of seconds is 400, and nothing is stored', async () => {
    for (const mtime of ['yesterday', '1e9', '0x10', '17000000OO', '1700000000,5', 'Infinity']) {
      const r = await req('PUT', 'm.txt', { 'x-oc-mtime': mtime }, 'body');
      expect(r.status, mtime).toBe(400);
      expect(await r.text(), mtime).toContain('X-OC-Mtime');
    }
    expect((await req('GET', 'm.txt')).status).toBe(404);
    // Seconds, whole or with a fraction, are taken.
    expect((await req('PUT', 'm.txt', { 'x-oc-mtime': '1700000000.25' }, 'body')).status).toBe(201);
    expect((await t.gw.core.vfs.stat(t.alice.session, 'docs', 'm.txt')).mtimeMs).toBe(1_700_000_000_250);
  });

  // Past the Date range: the core's INVALID_INPUT, which this door now answers as 400 itself.
  it('an X-OC-Mtime no file can have is 400 (the core refuses it)', async () => {
    expect((await req('PUT', 'm2.txt', { 'x-oc-mtime': '100000000000000000000' }, 'body')).status).toBe(400);
    expect((await req('GET', 'm2.txt')).status).toBe(404);
  });

  // Answered as if absent (an hour), the lock lasted a time nobody asked for.
  it('a Timeout with no time in it is 400; one understood alternative among others is enough', async () => {
    expect((await req('PUT', 'l.txt', {}, 'x')).status).toBe(201);
    for (const timeout of ['Second-', 'Second-abc', 'forever', 'Second-1e3', 'Second--5']) {
      const r = await req('LOCK', 'l.txt', { timeout, 'content-type': 'application/xml' }, LOCKINFO);
      expect(r.status, timeout).toBe(400);
    }
    const ok = await req('LOCK', 'l.txt', { timeout: 'Extend-1, Second-120', 'content-type': 'application/xml' }, LOCKINFO);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('timeout')).toBe('Second-120');
  });

  it('Depth, Overwrite and Destination that mean nothing are 400', async () => {
    expect((await req('PROPFIND', '', { depth: '2' })).status).toBe(400);
    expect((await req('COPY', 'l.txt', { destination: dav('c.txt'), overwrite: 'maybe' })).status).toBe(400);
    expect((await req('MOVE', 'l.txt', { destination: dav('c.txt'), depth: '0' })).status).toBe(400);
    expect((await req('COPY', 'l.txt', { destination: 'http://[::1' })).status).toBe(400);
  });
});

describe('well formed but not allowed stays 403', () => {
  it('a collection copied or moved into itself is 403, as Apache mod_dav answers', async () => {
    expect((await req('MKCOL', 'c')).status).toBe(201);
    expect((await req('MOVE', 'c', { destination: dav('c/inside') })).status).toBe(403);
    expect((await req('COPY', 'c', { destination: dav('c/inside') })).status).toBe(403);
    expect((await req('MOVE', 'c', { destination: dav('c') })).status).toBe(403);
    expect((await req('PROPFIND', 'c', { depth: '0' })).status).toBe(207);
  });

  // The mirror case: the destination holds the source. Replacing it (Overwrite: T) would first
  // remove the destination, the source with it, and then have nothing left to move or copy.
  it('a collection is not replaced by a collection it holds: 403, as Apache mod_dav answers, and nothing is removed', async () => {
    expect((await req('MKCOL', 'p')).status).toBe(201);
    expect((await req('MKCOL', 'p/inner')).status).toBe(201);
    expect((await req('PUT', 'p/inner/keep.txt', {}, 'kept')).status).toBe(201);
    expect((await req('PUT', 'p/beside.txt', {}, 'beside')).status).toBe(201);
    for (const method of ['MOVE', 'COPY']) {
      const r = await req(method, 'p/inner', { destination: dav('p'), overwrite: 'T' });
      expect(r.status, method).toBe(403);
      expect(await (await req('GET', 'p/inner/keep.txt')).text(), method).toBe('kept');
      expect(await (await req('GET', 'p/beside.txt')).text(), method).toBe('beside');
    }
  });
});
