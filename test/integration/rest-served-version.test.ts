import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * REST GET and HEAD judge every condition and the range on the version they open (as WebDAV's do:
 * protocols/webdav/get-served-version.test.ts). They used to stat the record first: a file changed
 * beside the gateway and not yet recorded (the watcher is off here) got a HEAD with the old length,
 * a 304 for a stale copy, or a 206 of new bytes under an If-Range naming the old version.
 */
let t: TestGateway;
let auth: string;
const req = (method: string, p: string, headers: Record<string, string> = {}, payload?: string) =>
  fetch(`${t.url}/api/v1/roots/docs/files/${p}`, { method, headers: { authorization: auth, ...headers }, body: payload });
const onDisk = (p: string) => path.join(t.dir, 'roots', 'docs', p);
const put = async (p: string, content: string) => expect((await req('PUT', p, {}, content)).status).toBeLessThan(300);

beforeAll(async () => {
  t = await startTestGateway();
  auth = basicAuth(t.alice);
});
afterAll(async () => {
  await t?.close();
});

describe('REST GET and HEAD of a file edited beside the gateway', () => {
  it('HEAD gives the length and ETag of what is on disk', async () => {
    await put('h.txt', '0123456789');
    const before = (await req('HEAD', 'h.txt')).headers.get('etag');
    await writeFile(onDisk('h.txt'), 'edited beside the gateway');
    const r = await req('HEAD', 'h.txt');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-length')).toBe(String('edited beside the gateway'.length));
    expect(r.headers.get('etag')).not.toBe(before);
  });

  it('If-None-Match with the old ETag and a Range gets the new bytes, not a 304', async () => {
    await put('n.txt', 'first');
    const old = (await req('HEAD', 'n.txt')).headers.get('etag')!;
    await writeFile(onDisk('n.txt'), 'second, longer');
    const r = await req('GET', 'n.txt', { 'if-none-match': old, range: 'bytes=0-5' });
    expect(r.status).toBe(206);
    expect(await r.text()).toBe('second');
    expect(r.headers.get('etag')).not.toBe(old);
  });

  it('a Range under If-Range with the old ETag gets the whole new content', async () => {
    await put('r.txt', 'abcdefghij');
    const old = (await req('HEAD', 'r.txt')).headers.get('etag')!;
    await writeFile(onDisk('r.txt'), 'ABCDEFGHIJKLMNOP');
    const stale = await req('GET', 'r.txt', { range: 'bytes=2-5', 'if-range': old });
    expect(stale.status).toBe(200);
    expect(await stale.text()).toBe('ABCDEFGHIJKLMNOP');
    const part = await req('GET', 'r.txt', { range: 'bytes=10-', 'if-range': stale.headers.get('etag')! });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 10-15/16');
    expect(await part.text()).toBe('KLMNOP');
  });

  it('lets the file go on every answer without a body: HEAD, 304, 416', async () => {
    await put('d.txt', 'descriptors');
    const etag = (await req('HEAD', 'd.txt')).headers.get('etag')!;
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    for (let i = 0; i < 50; i += 1) {
      expect((await req('HEAD', 'd.txt')).status).toBe(200);
      expect((await req('GET', 'd.txt', { 'if-none-match': etag, range: 'bytes=0-1' })).status).toBe(304);
      expect((await req('GET', 'd.txt', { range: 'bytes=100-' })).status).toBe(416);
    }
    for (let i = 0; i < 50 && fds() > before + 5; i += 1) await new Promise((r) => setTimeout(r, 10));
    expect(fds()).toBeLessThanOrEqual(before + 5);
  });
});
