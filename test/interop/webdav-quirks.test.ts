import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateCertificate } from '../../src/lib/tls-cert.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/** Client quirks, driven with curl the way Finder, Windows Explorer and Nextcloud clients send them. */
function curl(args: string[], stdin?: string): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile('curl', ['-s', '-i', ...args], { timeout: 30_000, maxBuffer: 8 << 20 }, (err, stdout) => {
      if (err) return reject(err);
      // Skip interim 100 Continue answers.
      const parts = stdout.split(/\r\n\r\n/);
      while (parts.length > 1 && /^HTTP\/1\.1 100/.test(parts[0]!)) parts.shift();
      const headers = parts.shift() ?? '';
      resolve({ status: Number(/^HTTP\/\S+ (\d+)/.exec(headers)?.[1] ?? 0), headers, body: parts.join('\r\n\r\n') });
    });
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

describe.each([['ignore'], ['store']] as const)('WebDAV client quirks (appleDouble: %s)', (appleDouble) => {
  let t: TestGateway;
  let tmp: string;
  let base: string;
  let user: string;
  const s = () => t.alice.session;

  beforeAll(async () => {
    t = await startTestGateway({ webdav: { appleDouble } });
    tmp = await mkdtemp(path.join(os.tmpdir(), 'syncgate-quirks-'));
    base = `${t.url}/dav/docs`;
    user = `${t.alice.name}:${t.alice.password}`;
  });
  afterAll(async () => {
    await t?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("macOS Finder's chunked PUT without Content-Length stores the whole file", async () => {
    const data = 'x'.repeat(200_000);
    const r = await curl(['-u', user, '-T', '-', '-H', 'Transfer-Encoding: chunked', '-H', 'X-Expected-Entity-Length: 200000', `${base}/finder.txt`], data);
    expect(r.status).toBe(201);
    expect((await t.gw.core.vfs.stat(s(), 'docs', 'finder.txt')).size).toBe(200_000);
  });

  it('X-OC-Mtime keeps the modification time and is acknowledged', async () => {
    const file = path.join(tmp, 'm.txt');
    await writeFile(file, 'mtime');
    const r = await curl(['-u', user, '-T', file, '-H', 'X-OC-Mtime: 1600000000', `${base}/mtime.txt`]);
    expect(r.status).toBe(201);
    expect(r.headers).toMatch(/^X-OC-MTime: accepted/im);
    expect((await t.gw.core.vfs.stat(s(), 'docs', 'mtime.txt')).mtimeMs).toBe(1_600_000_000_000);
    const head = await curl(['-u', user, '-I', `${base}/mtime.txt`]);
    expect(head.headers).toContain('Last-Modified: Sun, 13 Sep 2020 12:26:40 GMT');
    // The same content again with another time: only the time changes.
    const again = await curl(['-u', user, '-T', file, '-H', 'X-OC-Mtime: 1700000000.5', `${base}/mtime.txt`]);
    expect(again.status).toBe(204);
    expect((await t.gw.core.vfs.stat(s(), 'docs', 'mtime.txt')).mtimeMs).toBe(1_700_000_000_500);
  });

  it("Windows' PROPPATCH of Win32* properties is answered with success", async () => {
    await curl(['-u', user, '-T', '-', `${base}/win.txt`], 'w');
    const xml =
      '<?xml version="1.0" encoding="utf-8" ?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop>' +
      '<Z:Win32CreationTime>Mon, 01 Jan 2024 10:00:00 GMT</Z:Win32CreationTime><Z:Win32LastAccessTime>Mon, 01 Jan 2024 10:00:00 GMT</Z:Win32LastAccessTime>' +
      '<Z:Win32LastModifiedTime>Mon, 01 Jan 2024 10:00:00 GMT</Z:Win32LastModifiedTime><Z:Win32FileAttributes>00000020</Z:Win32FileAttributes></D:prop></D:set></D:propertyupdate>';
    const r = await curl(['-u', user, '-X', 'PROPPATCH', '-H', 'Content-Type: text/xml', '--data-binary', xml, `${base}/win.txt`]);
    expect(r.status).toBe(207);
    expect(r.body).toContain('HTTP/1.1 200 OK');
    expect(r.body).not.toMatch(/HTTP\/1\.1 (403|409|424)/);
  });

  it('OPTIONS advertises class 1 and 2 and MS-Author-Via: DAV', async () => {
    const r = await curl(['-u', user, '-X', 'OPTIONS', `${base}/`]);
    expect(r.status).toBe(200);
    expect(r.headers).toMatch(/^DAV: 1, 2/im);
    expect(r.headers).toMatch(/^MS-Author-Via: DAV/im);
    expect(r.headers).not.toMatch(/Access-Control-Allow-Origin/i);
  });

  it(`AppleDouble ._* and .DS_Store files are ${appleDouble === 'ignore' ? 'accepted and dropped' : 'stored'}`, async () => {
    for (const name of ['._report.pdf', '.DS_Store']) {
      const r = await curl(['-u', user, '-T', '-', `${base}/${name}`], 'apple');
      expect(r.status).toBe(201);
      const stored = await t.gw.core.vfs.stat(s(), 'docs', name).then(() => true, () => false);
      expect(stored).toBe(appleDouble === 'store');
      const get = await curl(['-u', user, `${base}/${name}`]);
      expect(get.status).toBe(appleDouble === 'store' ? 200 : 404);
      expect((await curl(['-u', user, '-X', 'DELETE', `${base}/${name}`])).status).toBe(204);
    }
    const listing = await curl(['-u', user, '-X', 'PROPFIND', '-H', 'Depth: 1', `${base}/`]);
    expect(listing.body).not.toContain('._report.pdf');
  });

  it('a name sent in NFD (macOS) is stored in NFC and found under both forms', async () => {
    const nfd = 'Cafe\u0301.txt';
    const nfc = 'Caf\u00e9.txt';
    const r = await curl(['-u', user, '-T', '-', `${base}/${encodeURIComponent(nfd)}`], 'nfd');
    expect(r.status).toBe(201);
    expect((await t.gw.core.vfs.list(s(), 'docs', '')).map((e) => e.name)).toContain(nfc);
    expect((await curl(['-u', user, `${base}/${encodeURIComponent(nfc)}`])).body).toBe('nfd');
    expect((await curl(['-u', user, `${base}/${encodeURIComponent(nfd)}`])).body).toBe('nfd');
    const listing = await curl(['-u', user, '-X', 'PROPFIND', '-H', 'Depth: 1', `${base}/`]);
    expect(listing.body).toContain(encodeURIComponent(nfc));
  });

  it('Range requests with curl return the slice and the total length', async () => {
    await curl(['-u', user, '-T', '-', `${base}/range.txt`], 'abcdefghij');
    const r = await curl(['-u', user, '-r', '3-5', `${base}/range.txt`]);
    expect(r.status).toBe(206);
    expect(r.body).toBe('def');
    expect(r.headers).toMatch(/^Content-Range: bytes 3-5\/10/im);
  });
});

describe('WebDAV over HTTPS', () => {
  let t: TestGateway;
  let tmp: string;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'syncgate-dav-tls-'));
    const pem = await loadOrCreateCertificate({ dir: tmp });
    await writeFile(path.join(tmp, 'cert.pem'), pem.cert);
    await writeFile(path.join(tmp, 'key.pem'), pem.key);
    t = await startTestGateway({ http: { tlsCert: path.join(tmp, 'cert.pem'), tlsKey: path.join(tmp, 'key.pem') } });
  });
  afterAll(async () => {
    await t?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('serves the door with Basic authentication over TLS', async () => {
    expect(t.url.startsWith('https://')).toBe(true);
    const user = `${t.alice.name}:${t.alice.password}`;
    const put = await curl(['--cacert', path.join(tmp, 'cert.pem'), '-u', user, '-T', '-', `${t.url}/dav/docs/tls.txt`], 'over tls');
    expect(put.status).toBe(201);
    const r = await curl(['--cacert', path.join(tmp, 'cert.pem'), '-u', user, '-X', 'PROPFIND', '-H', 'Depth: 1', `${t.url}/dav/docs/`]);
    expect(r.status).toBe(207);
    expect(r.body).toContain('/dav/docs/tls.txt');
    expect((await curl(['--cacert', path.join(tmp, 'cert.pem'), `${t.url}/dav/docs/`])).status).toBe(401);
  });
});
