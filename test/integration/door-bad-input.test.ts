/**
 * Bad input found by hand at each door (review of session 8): each gets a clear answer in the door's
 * own terms, a 4xx, never a 5xx or a success, and changes nothing.
 */
import path from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCoreError } from '../../src/core/errors.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
const basic = () => `Basic ${Buffer.from('alice:alice-password').toString('base64')}`;
const b64 = (s: string) => Buffer.from(s).toString('base64');

beforeAll(async () => {
  t = await startTestGateway();
  await t.gw.core.vfs.write(t.alice.session, 'docs', 'f.txt', Readable.from([Buffer.from('hello')]));
});
afterAll(async () => {
  await t?.close();
});

async function contentOf(p: string): Promise<string> {
  const r = await fetch(`${t.url}/dav/docs/${p}`, { headers: { authorization: basic() } });
  return r.text();
}

describe('bad input at the doors', () => {
  // VENDOR[name] read inherited properties: 'constructor' is Object, whose specifier is undefined.
  it('a vendor asset named after an Object property is 404, not 500', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect((await fetch(`${t.url}/assets/vendor/${name}`)).status, name).toBe(404);
    }
    expect((await fetch(`${t.url}/assets/vendor/htm.mjs`)).status).toBe(200);
  });

  // koa answers 200 to a body set on its default 404 (the status was never set explicitly).
  it('an unknown sync route is 404, with its error body', async () => {
    const r = await fetch(`${t.url}/sync/v1/no-such-route`);
    expect(r.status).toBe(404);
    expect((await r.json()) as unknown).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  // A time the file system cannot take (utimes EINVAL) failed after the whole body was stored: 500.
  it('a modification time out of range is refused (400) before anything is stored, at every door', async () => {
    const huge = '100000000000000000000';
    const dav = await fetch(`${t.url}/dav/docs/f.txt`, { method: 'PUT', headers: { authorization: basic(), 'x-oc-mtime': huge }, body: 'dav body' });
    expect(dav.status).toBe(400);
    const rest = await fetch(`${t.url}/api/v1/roots/docs/files/f.txt?mtimeMs=${huge}`, { method: 'PUT', headers: { authorization: basic() }, body: 'rest body' });
    expect(rest.status).toBe(400);
    const tus = await fetch(`${t.url}/api/v1/uploads`, {
      method: 'POST',
      headers: { 'tus-resumable': '1.0.0', authorization: basic(), 'upload-length': '3', 'upload-metadata': `root ${b64('docs')},path ${b64('f.txt')},mtimeMs ${b64(huge)}` },
    });
    expect(tus.status).toBe(400);
    expect(await contentOf('f.txt')).toBe('hello');
    // Through the core, for every door: writes, a change of time alone, a resumable upload.
    const { vfs } = t.gw.core;
    const s = t.alice.session;
    const invalid = (e: unknown) => isCoreError(e, 'INVALID_INPUT');
    for (const bad of [1e20, Number.NaN, Number.POSITIVE_INFINITY, -1e20]) {
      await expect(vfs.write(s, 'docs', 'f.txt', Readable.from([Buffer.from('core body')]), { mtimeMs: bad }), String(bad)).rejects.toSatisfy(invalid);
      await expect(vfs.setMtime(s, 'docs', 'f.txt', bad), String(bad)).rejects.toSatisfy(invalid);
      await expect(t.gw.core.connect(s).createUpload({ root: 'docs', path: 'f.txt', length: 3, mtimeMs: bad }), String(bad)).rejects.toSatisfy(invalid);
    }
    expect(await contentOf('f.txt')).toBe('hello');
    // In range, old and new, it is taken.
    const ok = await fetch(`${t.url}/dav/docs/f.txt`, { method: 'PUT', headers: { authorization: basic(), 'x-oc-mtime': '1700000000' }, body: 'dav body' });
    expect(ok.status).toBe(204);
    expect((await vfs.stat(s, 'docs', 'f.txt')).mtimeMs).toBe(1_700_000_000_000);
  });

  // A Destination that is no URL at all is a bad request, not another server (502).
  it('a malformed absolute Destination is 400', async () => {
    for (const destination of ['http://[::1', 'http://', 'http://exa mple.org/dav/docs/g.txt']) {
      const r = await fetch(`${t.url}/dav/docs/f.txt`, { method: 'MOVE', headers: { authorization: basic(), destination } });
      expect(r.status, destination).toBe(400);
    }
    const other = await fetch(`${t.url}/dav/docs/f.txt`, { method: 'COPY', headers: { authorization: basic(), destination: 'http://elsewhere.example/dav/docs/g.txt' } });
    expect(other.status).toBe(502); // RFC 4918 9.8.5: a well-formed URL of another server
    expect(await contentOf('f.txt')).toBe('dav body');
  });
  // An expiry past the Date range was stored, then every presentation of the link threw (toISOString:
  // RangeError): the creation answered 500 and so did the user's list of links, for good.
  it('a share link expiring past the year 9999 is refused, and the list of links still answers', async () => {
    const post = (body: unknown) =>
      fetch(`${t.url}/api/v1/shares`, { method: 'POST', headers: { authorization: basic(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (const expiresAt of [9_000_000_000_000_000, 253_402_300_800_000]) {
      const r = await post({ root: 'docs', path: 'f.txt', expiresAt });
      expect(r.status, String(expiresAt)).toBe(400);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('INVALID_INPUT');
    }
    await expect(t.gw.core.shares.create(t.alice.session, { root: 'docs', path: 'f.txt', expiresAt: 9e15 })).rejects.toSatisfy((e) => isCoreError(e, 'INVALID_INPUT'));
    const list = await fetch(`${t.url}/api/v1/shares`, { headers: { authorization: basic() } });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { shares: unknown[] }).shares).toEqual([]);
    expect((await post({ root: 'docs', path: 'f.txt', expiresAt: 253_402_300_799_999 })).status).toBe(201);
  });

  // An older build stored any safe integer as the expiry (before 3ffb79b): such a row made every
  // presentation of the link throw, so its owner's list answered 500 for good. It now reads as the
  // last expiry a link may have (9999-12-31T23:59:59.999Z), one before the Date range as that range's
  // start: the link behaves as stored (open until then, or expired) and the list answers.
  it('a link stored with an expiry out of the Date range by an older build still lists and opens', async () => {
    const post = (body: unknown) =>
      fetch(`${t.url}/api/v1/shares`, { method: 'POST', headers: { authorization: basic(), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const far = (await post({ root: 'docs', path: 'f.txt', expiresInSec: 3600 })).json() as Promise<{ share: { id: number }; token: string }>;
    const past = (await post({ root: 'docs', path: 'f.txt', expiresInSec: 3600 })).json() as Promise<{ share: { id: number }; token: string }>;
    const [a, b] = [await far, await past];
    // Written the way the older build left it: a plain integer in expires_at, through another connection.
    const db = new Database(path.join(t.dir, 'syncgate.db'));
    try {
      db.prepare('UPDATE share_links SET expires_at = ? WHERE id = ?').run(9_000_000_000_000_000, a.share.id);
      db.prepare('UPDATE share_links SET expires_at = ? WHERE id = ?').run(-9_000_000_000_000_000, b.share.id);
    } finally {
      db.close();
    }
    const list = await fetch(`${t.url}/api/v1/shares`, { headers: { authorization: basic() } });
    expect(list.status).toBe(200);
    const links = ((await list.json()) as { shares: { id: number; expiresAt: string; state: string }[] }).shares;
    expect(links.find((l) => l.id === a.share.id)).toMatchObject({ expiresAt: '9999-12-31T23:59:59.999Z', state: 'active' });
    expect(links.find((l) => l.id === b.share.id)).toMatchObject({ expiresAt: new Date(-8.64e15).toISOString(), state: 'expired' });
    const one = await fetch(`${t.url}/api/v1/shares/${a.share.id}`, { headers: { authorization: basic() } });
    expect(one.status).toBe(200);
    // The visitor's side: the page's metadata and the download still work, the expired one is gone.
    const meta = await fetch(`${t.url}/s/${a.token}/meta`);
    expect(meta.status).toBe(200);
    expect(((await meta.json()) as { expiresAt: string }).expiresAt).toBe('9999-12-31T23:59:59.999Z');
    expect((await fetch(`${t.url}/s/${a.token}/download`)).status).toBe(200);
    expect((await fetch(`${t.url}/s/${b.token}/meta`)).status).toBe(404);
  });

  // Linux takes names of 255 bytes, not characters: 150 x 'é' (300 bytes in UTF-8) passed the
  // path check and failed at the system call: 500 for a REST copy and a WebDAV MOVE, 451 for FTP
  // MKD, and a REST PUT that said the upload was interrupted.
  it('a name over 255 bytes of UTF-8 (under 255 characters) is a bad path at every door', async () => {
    const long = 'é'.repeat(150);
    const enc = encodeURIComponent(long);
    const before = await contentOf('f.txt');
    const json = { authorization: basic(), 'content-type': 'application/json' };
    const put = await fetch(`${t.url}/api/v1/roots/docs/files/${enc}`, { method: 'PUT', headers: { authorization: basic() }, body: 'x' });
    expect(put.status).toBe(400);
    expect(((await put.json()) as { error: { code: string } }).error.code).toBe('INVALID_PATH');
    const copy = await fetch(`${t.url}/api/v1/roots/docs/copy`, { method: 'POST', headers: json, body: JSON.stringify({ from: 'f.txt', to: long }) });
    expect(copy.status).toBe(400);
    const mkdir = await fetch(`${t.url}/api/v1/roots/docs/mkdir`, { method: 'POST', headers: json, body: JSON.stringify({ path: long }) });
    expect(mkdir.status).toBe(400);
    const move = await fetch(`${t.url}/dav/docs/f.txt`, { method: 'MOVE', headers: { authorization: basic(), destination: `${t.url}/dav/docs/${enc}` } });
    expect(move.status).toBe(400);
    const mkcol = await fetch(`${t.url}/dav/docs/${enc}`, { method: 'MKCOL', headers: { authorization: basic() } });
    expect(mkcol.status).toBe(400);
    expect(await contentOf('f.txt')).toBe(before);
    // 255 bytes exactly is a name Linux takes.
    const fits = encodeURIComponent(`${'é'.repeat(127)}a`);
    expect((await fetch(`${t.url}/api/v1/roots/docs/files/${fits}`, { method: 'PUT', headers: { authorization: basic() }, body: 'fits' })).status).toBe(201);
  });

  // The kernel takes a path of 4095 bytes (PATH_MAX with its NUL), the root's own folder included:
  // a path under the 4096-byte limit but too long with the root's folder in front failed at the
  // system call: 'upload interrupted' for a PUT, 500 for a DELETE.
  it('a path too long once under the root\'s folder is a bad path, not an interrupted upload or a 500', async () => {
    const dir = Array.from({ length: 15 }, (_, i) => `${String(i).padStart(2, '0')}${'d'.repeat(253)}`).join('/');
    const mk = await fetch(`${t.url}/api/v1/roots/docs/mkdir`, { method: 'POST', headers: { authorization: basic(), 'content-type': 'application/json' }, body: JSON.stringify({ path: dir, parents: true }) });
    expect(mk.status).toBe(201);
    const file = `${dir}/${'f'.repeat(4090 - dir.length - 1)}`;
    const put = await fetch(`${t.url}/api/v1/roots/docs/files/${file}`, { method: 'PUT', headers: { authorization: basic() }, body: 'x' });
    expect(put.status).toBe(400);
    expect(((await put.json()) as { error: { code: string } }).error.code).toBe('INVALID_PATH');
    expect((await fetch(`${t.url}/api/v1/roots/docs/files/${file}`, { method: 'DELETE', headers: { authorization: basic() } })).status).toBe(400);
    expect((await fetch(`${t.url}/dav/docs/${file}`, { method: 'PUT', headers: { authorization: basic() }, body: 'x' })).status).toBe(400);
  });
});
