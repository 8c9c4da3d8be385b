import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, startTestGateway, type TestGateway } from '../../test/helpers/gateway.js';

/**
 * GET and HEAD open the file first and judge every condition on the version it holds. They used to
 * read the record (stat), judge If-None-Match, If-Range and the Range on it, and open the file only
 * afterwards: a file changed beside the gateway (not yet seen by a watcher, or with none) got a 304
 * for the client's stale copy, a HEAD with the old length, or a 206 of the new bytes under an
 * If-Range naming the old version. The watcher is off here, so the edit stays unseen until a read.
 */
let t: TestGateway;
let auth: string;
const dav = (p: string) => `${t.url}/dav/docs/${p}`;
const req = (method: string, p: string, headers: Record<string, string> = {}, payload?: string) =>
  fetch(dav(p), { method, headers: { authorization: auth, ...headers }, body: payload });
const onDisk = (p: string) => path.join(t.dir, 'roots', 'docs', p);

beforeAll(async () => {
  t = await startTestGateway();
  auth = basicAuth(t.alice);
});
afterAll(async () => {
  await t?.close();
});

describe('GET and HEAD of a file edited beside the gateway', () => {
  it('HEAD gives the length and ETag of what is on disk', async () => {
    expect((await req('PUT', 'h.txt', {}, '0123456789')).status).toBe(201);
    const before = (await req('HEAD', 'h.txt')).headers.get('etag');
    await writeFile(onDisk('h.txt'), 'edited beside the gateway');
    const r = await req('HEAD', 'h.txt');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-length')).toBe(String('edited beside the gateway'.length));
    expect(r.headers.get('etag')).not.toBe(before);
  });

  it('If-None-Match with the old ETag gets the new content, not a 304', async () => {
    expect((await req('PUT', 'n.txt', {}, 'first')).status).toBe(201);
    const old = (await req('HEAD', 'n.txt')).headers.get('etag')!;
    await writeFile(onDisk('n.txt'), 'second, longer');
    const r = await req('GET', 'n.txt', { 'if-none-match': old });
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('second, longer');
    expect(r.headers.get('etag')).not.toBe(old);
  });

  it('a Range under If-Range with the old ETag gets the whole new content', async () => {
    expect((await req('PUT', 'r.txt', {}, 'abcdefghij')).status).toBe(201);
    const old = (await req('HEAD', 'r.txt')).headers.get('etag')!;
    await writeFile(onDisk('r.txt'), 'ABCDEFGHIJKLMNOP');
    const stale = await req('GET', 'r.txt', { range: 'bytes=2-5', 'if-range': old });
    expect(stale.status).toBe(200);
    expect(await stale.text()).toBe('ABCDEFGHIJKLMNOP');
    const current = stale.headers.get('etag')!;
    const part = await req('GET', 'r.txt', { range: 'bytes=10-', 'if-range': current });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 10-15/16');
    expect(await part.text()).toBe('KLMNOP');
  });

  it('lets the file go on every answer without a body: HEAD, 304, 412, 416', async () => {
    expect((await req('PUT', 'd.txt', {}, 'descriptors')).status).toBe(201);
    const etag = (await req('HEAD', 'd.txt')).headers.get('etag')!;
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    for (let i = 0; i < 50; i += 1) {
      expect((await req('HEAD', 'd.txt')).status).toBe(200);
      expect((await req('GET', 'd.txt', { 'if-none-match': etag })).status).toBe(304);
      expect((await req('GET', 'd.txt', { 'if-match': '"nope"' })).status).toBe(412);
      expect((await req('GET', 'd.txt', { range: 'bytes=100-' })).status).toBe(416);
    }
    for (let i = 0; i < 50 && fds() > before + 5; i += 1) await new Promise((r) => setTimeout(r, 10));
    expect(fds()).toBeLessThanOrEqual(before + 5);
  });
});
