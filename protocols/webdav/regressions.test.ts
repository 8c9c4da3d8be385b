import http from 'node:http';
import { symlink, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/app/gateway.js';
import { body } from '../../test/helpers/core.js';
import { basicAuth, startTestGateway, type TestGateway } from '../../test/helpers/gateway.js';
import { httpDate } from './request.js';

/**
 * One test per defect webdav-server 2.6.3 had (STACK-NOTES): each input that crashed, hung or
 * misbehaved there, answered correctly here.
 */
let t: TestGateway;
let auth: string;
const dav = (p: string) => `${t.url}/dav/docs/${p}`;
const req = (method: string, p: string, headers: Record<string, string> = {}, payload?: string) =>
  fetch(dav(p), { method, headers: { authorization: auth, ...headers }, body: payload });
const PROPS = 'xmlns:Z="urn:test:"';

/** A request with the path sent exactly as written (fetch would resolve encoded dots first). */
function raw(method: string, rawPath: string, payload = ''): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(t.url);
    const r = http.request({ host: u.hostname, port: u.port, path: rawPath, method, headers: { authorization: auth, 'content-length': String(payload.length) } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    r.on('error', reject);
    r.end(payload);
  });
}

beforeAll(async () => {
  t = await startTestGateway();
  auth = basicAuth(t.alice);
});
afterAll(async () => {
  await t?.close();
});

describe('webdav-server defects, fixed', () => {
  it('a PROPPATCH with two <D:set> blocks answers once and stores both', async () => {
    expect((await req('PUT', 'pp.txt', {}, 'x')).status).toBe(201);
    const xml = `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" ${PROPS}><D:set><D:prop><Z:a>1</Z:a></D:prop></D:set><D:set><D:prop><Z:b>2</Z:b><Z:a>3</Z:a></D:prop></D:set></D:propertyupdate>`;
    const r = await req('PROPPATCH', 'pp.txt', { 'content-type': 'application/xml' }, xml);
    expect(r.status).toBe(207);
    expect(await r.text()).toContain('200 OK');
    const props = t.gw.core.properties.list((await t.gw.core.roots.open(t.alice.session, 'docs', 'read')).row.id, 'pp.txt');
    expect(props.map((p) => `${p.name}=${p.value}`).sort()).toEqual(['a=3', 'b=2']);
  });

  it('an untagged If header is evaluated, not a crash', async () => {
    await req('PUT', 'if.txt', {}, 'x');
    const etag = (await req('HEAD', 'if.txt')).headers.get('etag')!;
    expect((await req('PUT', 'if.txt', { if: `([${etag}])` }, 'y')).status).toBe(204);
    expect((await req('PUT', 'if.txt', { if: `([${etag}])` }, 'z')).status).toBe(412);
    expect((await req('PUT', 'if.txt', { if: '(<urn:uuid:nope>' }, 'z')).status).toBe(400);
    expect(await (await req('GET', 'if.txt')).text()).toBe('y');
  });

  it('GET and HEAD send ETag and Last-Modified; If-None-Match answers 304', async () => {
    await req('PUT', 'tag.txt', {}, 'hello');
    const head = await req('HEAD', 'tag.txt');
    const entry = await t.gw.core.vfs.stat(t.alice.session, 'docs', 'tag.txt');
    expect(head.headers.get('etag')).toBe(entry.etag);
    expect(head.headers.get('last-modified')).toBe(new Date(entry.mtimeMs).toUTCString());
    expect((await req('GET', 'tag.txt', { 'if-none-match': entry.etag })).status).toBe(304);
  });

  it('a PUT with an outdated If-Match answers 412 and changes nothing', async () => {
    await req('PUT', 'cond.txt', {}, 'one');
    const old = (await req('HEAD', 'cond.txt')).headers.get('etag')!;
    await req('PUT', 'cond.txt', {}, 'two');
    expect((await req('PUT', 'cond.txt', { 'if-match': old }, 'three')).status).toBe(412);
    expect(await (await req('GET', 'cond.txt')).text()).toBe('two');
    expect((await t.gw.core.vfs.stat(t.alice.session, 'docs', 'cond.txt')).version).toBe(2);
    const cur = (await req('HEAD', 'cond.txt')).headers.get('etag')!;
    expect((await req('PUT', 'cond.txt', { 'if-match': cur }, 'four')).status).toBe(204);
  });

  it('a PUT with If-None-Match: * never overwrites', async () => {
    expect((await req('PUT', 'once.txt', { 'if-none-match': '*' }, 'first')).status).toBe(201);
    expect((await req('PUT', 'once.txt', { 'if-none-match': '*' }, 'second')).status).toBe(412);
    expect(await (await req('GET', 'once.txt')).text()).toBe('first');
  });

  it('DELETE, MOVE and COPY honour If-Match and If-Unmodified-Since', async () => {
    await req('PUT', 'd.txt', {}, 'd');
    expect((await req('DELETE', 'd.txt', { 'if-match': '"v99-nope"' })).status).toBe(412);
    expect((await req('MOVE', 'd.txt', { destination: dav('d2.txt'), 'if-match': '"v99-nope"' })).status).toBe(412);
    expect((await req('COPY', 'd.txt', { destination: dav('d3.txt'), 'if-unmodified-since': new Date(0).toUTCString() })).status).toBe(412);
    expect((await req('PROPPATCH', 'd.txt', { 'if-match': '"v99-nope"' }, `<D:propertyupdate xmlns:D="DAV:" ${PROPS}><D:set><D:prop><Z:a>1</Z:a></D:prop></D:set></D:propertyupdate>`)).status).toBe(412);
    expect((await req('GET', 'd.txt')).status).toBe(200);
  });

  it('Content-Range carries the total length', async () => {
    await req('PUT', 'range.txt', {}, '0123456789');
    const r = await req('GET', 'range.txt', { range: 'bytes=2-4' });
    expect(r.status).toBe(206);
    expect(r.headers.get('content-range')).toBe('bytes 2-4/10');
    expect(await r.text()).toBe('234');
    const bad = await req('GET', 'range.txt', { range: 'bytes=20-' });
    expect(bad.status).toBe(416);
    expect(bad.headers.get('content-range')).toBe('bytes */10');
  });

  it('a non-PUT body past the bound is refused with 413 before it is read', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL(dav(''));
      const r = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'PROPFIND', headers: { authorization: auth, 'content-length': String(64 << 20), depth: '0' } }, (res) => {
        resolve(res.statusCode!);
        res.resume();
        r.destroy();
      });
      r.on('error', reject);
      r.write('<');
    });
    expect(status).toBe(413);
  });

  it('sends no Access-Control-Allow-Origin', async () => {
    // Another site's page is refused outright since issue 22 (test/integration/webdav-foreign-host.test.ts).
    const r = await req('PROPFIND', '', { depth: '0', origin: 'https://evil.example' });
    expect(r.status).toBe(403);
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
    expect(r.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('dead properties keep their namespace and survive a restart', async () => {
    await req('PUT', 'keep.txt', {}, 'k');
    const xml = `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><p:color xmlns:p="http://example.com/ns/a b">blue <i xmlns="urn:x">!</i></p:color></D:prop></D:set></D:propertyupdate>`;
    expect((await req('PROPPATCH', 'keep.txt', {}, xml)).status).toBe(207);
    const config = t.gw.config;
    await t.gw.close();
    t.gw = await startGateway({ ...config, http: { ...config.http, port: 0 } });
    t.url = t.gw.url;
    const r = await req('PROPFIND', 'keep.txt', { depth: '0' }, `<D:propfind xmlns:D="DAV:"><D:prop><q:color xmlns:q="http://example.com/ns/a b"/></D:prop></D:propfind>`);
    const text = await r.text();
    expect(text).toContain('xmlns:X="http://example.com/ns/a b"');
    expect(text).toMatch(/<X:color [^>]*>blue <i xmlns="urn:x"\/?>/);
    expect(text).toContain('200 OK');
  });

  it('a lock belongs to its token: the same user without the token is refused (423)', async () => {
    await req('PUT', 'locked.txt', {}, 'l');
    const lockXml = `<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>me</D:owner></D:lockinfo>`;
    const l = await req('LOCK', 'locked.txt', { timeout: 'Second-60' }, lockXml);
    expect(l.status).toBe(200);
    const token = l.headers.get('lock-token')!;
    expect((await req('PUT', 'locked.txt', {}, 'other')).status).toBe(423);
    // Every door respects it: a core write (as FTP or REST would make) is refused as well.
    await expect(t.gw.core.vfs.write({ ...t.alice.session, protocol: 'ftp' }, 'docs', 'locked.txt', body('ftp'))).rejects.toMatchObject({ code: 'LOCKED' });
    expect((await req('PUT', 'locked.txt', { if: `(${token})` }, 'mine')).status).toBe(204);
    expect((await req('UNLOCK', 'locked.txt', { 'lock-token': token })).status).toBe(204);
    expect((await req('PUT', 'locked.txt', {}, 'free')).status).toBe(204);
  });

  it('symlinks and encoded dots do not lead out of the root', async () => {
    const rootDir = (await t.gw.core.roots.open(t.alice.session, 'docs', 'read')).dir;
    await mkdir(path.join(t.dir, 'outside'), { recursive: true });
    await writeFile(path.join(t.dir, 'outside', 'secret.txt'), 'secret');
    await symlink(path.join(t.dir, 'outside'), path.join(rootDir, 'link'));
    const r = await req('GET', 'link/secret.txt');
    expect(r.status).not.toBe(200);
    expect(await r.text()).not.toContain('secret\n');
    for (const p of ['%2e%2e/%2e%2e/etc/passwd', '..%2f..%2fetc/passwd', 'a/%2e%2e/%2e%2e/x', '../../../etc/passwd', '%2E%2E/secret', 'x/..%5c..%5cy']) {
      const status = await raw('GET', `/dav/docs/${p}`);
      expect(status, p).toBeGreaterThanOrEqual(400);
      expect(status, p).toBeLessThan(500);
    }
    expect(await raw('PUT', '/dav/docs/%2e%2e/escape.txt', 'x')).toBe(400);
    expect(await raw('PUT', '/dav/docs/sub/../../escape.txt', 'x')).toBe(400);
  });

  it('malformed XML, a DOCTYPE (XXE, entity expansion) and unbound prefixes answer 400', async () => {
    const bodies = [
      '<D:propfind xmlns:D="DAV:"><D:prop>',
      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop>&e;</D:propfind>',
      '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><D:propfind xmlns:D="DAV:">&b;</D:propfind>',
      '<D:propfind xmlns:D="DAV:"><x:prop/></D:propfind>',
      '<D:propfind xmlns:D="DAV:">&unknown;</D:propfind>',
      `<a>${'<b>'.repeat(10_000)}</a>`,
    ];
    for (const b of bodies) expect((await req('PROPFIND', '', { depth: '0' }, b)).status).toBe(400);
    expect((await req('PROPPATCH', 'pp.txt', {}, '<D:propertyupdate xmlns:D="DAV:"><D:set>')).status).toBe(400);
    expect((await req('LOCK', 'pp.txt', {}, '<D:lockinfo xmlns:D="DAV:">')).status).toBe(400);
  });

  it('odd inputs get an answer, never a crash or a hang', async () => {
    const odd: [string, string, Record<string, string>, string?][] = [
      ['COPY', 'pp.txt', {}],
      ['COPY', 'pp.txt', { destination: dav('c.txt'), depth: '1' }],
      ['LOCK', 'pp.txt', {}],
      ['UNLOCK', 'pp.txt', { 'lock-token': 'garbage' }],
      ['PROPFIND', 'pp.txt', { depth: 'two' }],
      ['PUT', 'pp.txt', { if: '<http://x/> ([' }, 'x'],
      ['PUT', 'pp.txt', { if: 'Not' }, 'x'],
      ['GET', '%zz', {}],
      ['BREW', 'pp.txt', {}],
    ];
    for (const [m, p, h, b] of odd) {
      const r = await req(m, p, h, b);
      expect(r.status, `${m} ${p} ${JSON.stringify(h)}`).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
    }
    expect((await req('MOVE', 'pp.txt', { destination: 'http://elsewhere/x' })).status).toBe(502);
    expect((await req('GET', 'pp.txt')).status).toBe(200);
  });

  it('asks for credentials and refuses wrong ones', async () => {
    const none = await fetch(dav(''), { method: 'PROPFIND', headers: { depth: '0' } });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm="syncgate"/);
    const wrong = await fetch(dav(''), { method: 'PROPFIND', headers: { depth: '0', authorization: `Basic ${Buffer.from('alice:nope-nope').toString('base64')}` } });
    expect(wrong.status).toBe(401);
    const token = t.gw.core.accounts.createToken((await t.gw.core.accounts.user('alice')).id, 'dav').token;
    const ok = await fetch(dav(''), { method: 'PROPFIND', headers: { depth: '0', authorization: `Basic ${Buffer.from(`alice:${token}`).toString('base64')}` } });
    expect(ok.status).toBe(207);
  });

  it('COPY and MOVE cross roots through the core; a root the user may not see is 404', async () => {
    const alice = await t.gw.core.accounts.user('alice');
    await t.gw.core.roots.create('notes', path.join(t.dir, 'roots', 'notes'), alice.id);
    await req('PUT', 'cross.txt', {}, 'cross');
    expect((await req('COPY', 'cross.txt', { destination: `${t.url}/dav/notes/copied.txt` })).status).toBe(201);
    expect((await req('MOVE', 'cross.txt', { destination: `${t.url}/dav/notes/moved.txt` })).status).toBe(201);
    expect((await req('GET', 'cross.txt')).status).toBe(404);
    expect(await (await fetch(`${t.url}/dav/notes/moved.txt`, { headers: { authorization: auth } })).text()).toBe('cross');
    expect((await t.gw.core.vfs.stat(t.alice.session, 'notes', 'copied.txt')).size).toBe(5);
    await req('PUT', 'x.txt', {}, 'x');
    expect((await req('COPY', 'x.txt', { destination: `${t.url}/dav/default/x.txt` })).status).toBe(404);
    expect((await fetch(`${t.url}/dav/default/`, { method: 'PROPFIND', headers: { depth: '0', authorization: auth } })).status).toBe(404);
  });

  it('/dav/ lists only the roots the user may see', async () => {
    const r = await fetch(`${t.url}/dav/`, { method: 'PROPFIND', headers: { depth: '1', authorization: auth } });
    const text = await r.text();
    expect(text).toContain('<D:href>/dav/docs/</D:href>');
    expect(text).not.toContain('/dav/default/');
  });
});

describe('metrics', () => {
  it('counts requests by method and status, an unknown method as OTHER', async () => {
    const count = async (labels: string) => {
      const admin = `Basic ${Buffer.from(`${t.admin.name}:${t.admin.password}`).toString('base64')}`;
      const text = await (await fetch(`${t.url}/metrics`, { headers: { authorization: admin } })).text();
      return Number(new RegExp(`^syncgate_webdav_requests_total\\{${labels}\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    };
    const created = await count('method="PUT",status="201"');
    const odd = await count('method="OTHER",status="405"');
    for (let i = 0; i < 3; i += 1) expect((await req('PUT', `counted-${i}.txt`, {}, 'x')).status).toBe(201);
    expect((await req('PATCH', 'counted-0.txt')).status).toBe(405);
    expect(await count('method="PUT",status="201"')).toBe(created + 3);
    expect(await count('method="OTHER",status="405"')).toBe(odd + 1);
  });
});

describe('httpDate', () => {
  it('formats each time to its own second, though it keeps the last one formatted', () => {
    const t = Date.UTC(2020, 8, 13, 12, 26, 40);
    expect(httpDate(t)).toBe('Sun, 13 Sep 2020 12:26:40 GMT');
    expect(httpDate(t + 999)).toBe('Sun, 13 Sep 2020 12:26:40 GMT');
    expect(httpDate(t + 1000)).toBe('Sun, 13 Sep 2020 12:26:41 GMT');
    expect(httpDate(t)).toBe('Sun, 13 Sep 2020 12:26:40 GMT');
  });
});
