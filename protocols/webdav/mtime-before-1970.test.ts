import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, startTestGateway, type TestGateway } from '../../test/helpers/gateway.js';

/**
 * X-OC-Mtime before 1970 (negative seconds, as rclone sends a file's time from then) is the file's
 * time like any other: stored, answered 'accepted', and shown by PROPFIND. Before, it was dropped and
 * the file got the upload time, so rclone saw another time at every sync. 0 still means no time.
 */
let t: TestGateway;
let auth: string;
const dav = (p: string) => `${t.url}/dav/docs/${p}`;
const PROPFIND = '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getlastmodified/></D:prop></D:propfind>';

async function lastModified(p: string): Promise<string> {
  const r = await fetch(dav(p), { method: 'PROPFIND', headers: { authorization: auth, depth: '0', 'content-type': 'application/xml' }, body: PROPFIND });
  expect(r.status).toBe(207);
  const m = /<[^>]*getlastmodified[^>]*>([^<]*)</.exec(await r.text());
  return m?.[1] ?? '';
}

beforeAll(async () => {
  t = await startTestGateway();
  auth = basicAuth(t.alice);
});
afterAll(async () => {
  await t?.close();
});

describe('X-OC-Mtime before 1970', () => {
  it('a negative time is stored, acknowledged and listed by PROPFIND', async () => {
    const moonLanding = Date.UTC(1969, 6, 20, 20, 17, 40);
    const r = await fetch(dav('old.txt'), { method: 'PUT', headers: { authorization: auth, 'x-oc-mtime': String(moonLanding / 1000) }, body: 'one small step' });
    expect(r.status).toBe(201);
    expect(r.headers.get('x-oc-mtime')).toBe('accepted');
    expect((await t.gw.core.vfs.stat(t.alice.session, 'docs', 'old.txt')).mtimeMs).toBe(moonLanding);
    expect(await lastModified('old.txt')).toBe(new Date(moonLanding).toUTCString());
    // With a fraction, and sent again with the same content: the time is still recorded.
    const again = await fetch(dav('old.txt'), { method: 'PUT', headers: { authorization: auth, 'x-oc-mtime': '-1.5' }, body: 'one small step' });
    expect(again.status).toBe(204);
    expect(again.headers.get('x-oc-mtime')).toBe('accepted');
    expect((await t.gw.core.vfs.stat(t.alice.session, 'docs', 'old.txt')).mtimeMs).toBe(-1500);
  });

  it('0 is still no time given: the upload time, and no acknowledgement', async () => {
    const before = Date.now();
    const r = await fetch(dav('zero.txt'), { method: 'PUT', headers: { authorization: auth, 'x-oc-mtime': '0' }, body: 'z' });
    expect(r.status).toBe(201);
    expect(r.headers.get('x-oc-mtime')).toBeNull();
    expect((await t.gw.core.vfs.stat(t.alice.session, 'docs', 'zero.txt')).mtimeMs).toBeGreaterThanOrEqual(before - 1000);
  });

  it('a negative time past the Date range is 400, and nothing is stored', async () => {
    const r = await fetch(dav('ancient.txt'), { method: 'PUT', headers: { authorization: auth, 'x-oc-mtime': '-8640000000001' }, body: 'a' });
    expect(r.status).toBe(400);
    expect((await fetch(dav('ancient.txt'), { headers: { authorization: auth } })).status).toBe(404);
  });
});
