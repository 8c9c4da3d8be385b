/**
 * One file, three HTTP doors (REST, WebDAV, a share link), the same conditional headers: the same
 * answer from each (protocols/common/conditional.ts). Before, the share route knew only an exact
 * If-None-Match, REST ignored If-Unmodified-Since, and each door read If-Range its own way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { body } from '../helpers/core.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let doors: Record<'rest' | 'webdav' | 'share', string>;
let etag: string;
let lastModified: string;
const ALICE = `Basic ${Buffer.from('alice:alice-password').toString('base64')}`;

beforeAll(async () => {
  t = await startTestGateway();
  await t.gw.core.vfs.write(t.alice.session, 'docs', 'c.txt', body('0123456789'));
  const created = await fetch(`${t.url}/api/v1/shares`, {
    method: 'POST',
    headers: { authorization: ALICE, 'content-type': 'application/json' },
    body: JSON.stringify({ root: 'docs', path: 'c.txt' }),
  });
  const share = (await created.json()) as { url: string };
  doors = { rest: `${t.url}/api/v1/roots/docs/files/c.txt`, webdav: `${t.url}/dav/docs/c.txt`, share: `${new URL(share.url, t.url)}/download` };
  const head = await fetch(doors.rest, { headers: { authorization: ALICE } });
  etag = head.headers.get('etag')!;
  lastModified = head.headers.get('last-modified')!;
  await head.arrayBuffer();
});
afterAll(async () => {
  await t.close();
});

/** Status (and body for 200/206) of a GET through each door. */
async function each(headers: Record<string, string>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [door, url] of Object.entries(doors)) {
    const res = await fetch(url, { headers: { ...headers, ...(door === 'share' ? {} : { authorization: ALICE }) } });
    const text = await res.text();
    out[door] = res.status === 200 || res.status === 206 ? `${res.status} ${text}` : String(res.status);
  }
  return out;
}
const all = (answer: string) => ({ rest: answer, webdav: answer, share: answer });
const before = (sec: number) => new Date(Date.parse(lastModified) - sec * 1000).toUTCString();

describe('conditional GETs answer the same through REST, WebDAV and a share link', () => {
  it('If-None-Match and If-Modified-Since: 304 for the current copy', async () => {
    expect(await each({ 'if-none-match': etag })).toEqual(all('304'));
    expect(await each({ 'if-none-match': `"x", W/${etag}` })).toEqual(all('304'));
    expect(await each({ 'if-modified-since': lastModified })).toEqual(all('304'));
    expect(await each({ 'if-none-match': '"v1-other"', 'if-modified-since': lastModified })).toEqual(all('200 0123456789'));
  });

  it('If-Match and If-Unmodified-Since: 412 when the file is not the one named', async () => {
    expect(await each({ 'if-match': '"v9-other"' })).toEqual(all('412'));
    expect(await each({ 'if-unmodified-since': before(60) })).toEqual(all('412'));
    expect(await each({ 'if-match': etag, 'if-unmodified-since': before(60) })).toEqual(all('200 0123456789'));
  });

  it('If-Range: the range for the current tag or date, the whole file otherwise', async () => {
    expect(await each({ range: 'bytes=2-4', 'if-range': etag })).toEqual(all('206 234'));
    expect(await each({ range: 'bytes=2-4', 'if-range': lastModified })).toEqual(all('206 234'));
    expect(await each({ range: 'bytes=2-4', 'if-range': '"v1-other"' })).toEqual(all('200 0123456789'));
    expect(await each({ range: 'bytes=2-4', 'if-range': before(60) })).toEqual(all('200 0123456789'));
  });

  it('writes: If-Unmodified-Since, If-None-Match and If-Match: * refuse the same way through REST and WebDAV', async () => {
    const put = async (door: 'rest' | 'webdav', name: string, headers: Record<string, string>) => {
      const url = door === 'rest' ? `${t.url}/api/v1/roots/docs/files/${name}` : `${t.url}/dav/docs/${name}`;
      const res = await fetch(url, { method: 'PUT', headers: { authorization: ALICE, ...headers }, body: 'new' });
      await res.arrayBuffer();
      return res.status;
    };
    for (const door of ['rest', 'webdav'] as const) {
      expect(await put(door, 'c.txt', { 'if-unmodified-since': before(60) })).toBe(412);
      expect(await put(door, 'c.txt', { 'if-none-match': `"x", ${etag}` })).toBe(412);
      expect(await put(door, 'c.txt', { 'if-none-match': '*' })).toBe(412);
      expect(await put(door, `missing-${door}.txt`, { 'if-match': '*' })).toBe(412);
    }
    const now = await fetch(doors.rest, { headers: { authorization: ALICE } });
    expect([now.headers.get('etag'), await now.text()]).toEqual([etag, '0123456789']); // nothing was written
  });
});
