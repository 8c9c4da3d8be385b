/**
 * Issue 22 items 1 and 7: WebDAV requests naming another site or server. A browser page of another
 * site (or a sandboxed one, `Origin: null`) is refused; a COPY/MOVE whose Destination is on another
 * server is 502 (RFC 4918 9.8.5, 9.9.4), never carried out here; an absolute-form request target
 * that cannot be handled is a 4xx, never 501.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCoreError } from '../../src/core/index.js';
import { body } from '../helpers/core.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const ALICE = `Basic ${Buffer.from('alice:alice-password').toString('base64')}`;

let t: TestGateway;

beforeAll(async () => {
  t = await startTestGateway({ http: { publicUrl: 'https://files.example.org' } });
  await t.gw.core.vfs.write(t.alice.session, 'docs', 'a.txt', body('A'));
});
afterAll(async () => {
  await t?.close();
});

/** One request written by hand (fetch cannot send an absolute-form target); the status line's code. */
function rawStatus(requestLine: string, headers: Record<string, string> = {}): Promise<number> {
  const u = new URL(t.url);
  const lines = [requestLine, `Host: ${u.host}`, `Authorization: ${ALICE}`, 'Content-Length: 0', 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(u.port), u.hostname, () => s.write(`${lines.join('\r\n')}\r\n\r\n`));
    let out = '';
    s.setEncoding('latin1');
    s.on('data', (c: string) => (out += c));
    s.on('error', reject);
    s.on('close', () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(out);
      m ? resolve(Number(m[1])) : reject(new Error(`no answer to ${requestLine}: ${JSON.stringify(out)}`));
    });
  });
}

const exists = (p: string) => t.gw.core.vfs.stat(t.alice.session, 'docs', p).then(() => true, (e) => (isCoreError(e, 'NOT_FOUND') ? false : Promise.reject(e)));

describe('WebDAV and other servers (issue 22 items 1 and 7)', () => {
  it('COPY and MOVE with a Destination on another host answer 502 and change nothing', async () => {
    for (const method of ['COPY', 'MOVE']) {
      for (const destination of ['http://elsewhere.example/dav/docs/b.txt', `ftp://${new URL(t.url).host}/dav/docs/b.txt`]) {
        const res = await fetch(`${t.url}/dav/docs/a.txt`, { method, headers: { authorization: ALICE, destination } });
        expect(res.status, `${method} to ${destination}`).toBe(502);
      }
    }
    expect(await exists('b.txt')).toBe(false);
    expect(await exists('a.txt')).toBe(true);
    // This server, named by its Host or by its public URL, is not another host.
    const own = await fetch(`${t.url}/dav/docs/a.txt`, { method: 'COPY', headers: { authorization: ALICE, destination: `${t.url}/dav/docs/c.txt` } });
    expect(own.status).toBe(201);
    const pub = await fetch(`${t.url}/dav/docs/c.txt`, { method: 'MOVE', headers: { authorization: ALICE, destination: 'https://files.example.org/dav/docs/d.txt' } });
    expect(pub.status).toBe(201);
    expect(await exists('d.txt')).toBe(true);
  });

  it('MKCOL with an absolute-form target: made on this host, 4xx (never 501) otherwise', async () => {
    const u = new URL(t.url);
    expect(await rawStatus(`MKCOL http://${u.host}/dav/docs/abs HTTP/1.1`)).toBe(201);
    expect(await exists('abs')).toBe(true);
    const elsewhere = await rawStatus('MKCOL http://elsewhere.example/dav/docs/abs2 HTTP/1.1');
    expect(elsewhere).toBe(400);
    expect(await exists('abs2')).toBe(false);
    expect(await rawStatus(`MKCOL ftp://${u.host}/dav/docs/abs3 HTTP/1.1`)).toBe(400);
    expect(await exists('abs3')).toBe(false);
    for (const line of [`CONNECT ${u.host} HTTP/1.1`, 'MKCOL * HTTP/1.1', `MKCOL http://${u.host}/not-dav HTTP/1.1`, 'MKCOL http://elsewhere.example/x HTTP/1.1', 'MKCOL /api/v1/roots HTTP/1.1', `PROPFIND http://${u.host}/api/v1/roots HTTP/1.1`]) {
      const status = await rawStatus(line);
      expect(status, line).toBeGreaterThanOrEqual(400);
      expect(status, line).toBeLessThan(500);
    }
  });

  it('refuses (403) a request whose Origin is another site or opaque; its own origin and none pass', async () => {
    const get = (origin?: string) => fetch(`${t.url}/dav/docs/a.txt`, { headers: { authorization: ALICE, ...(origin ? { origin } : {}) } });
    expect((await get('http://evil.example')).status).toBe(403);
    expect((await get('null')).status).toBe(403); // a sandboxed document's fetch
    expect((await get(new URL(t.url).origin.replace('127.0.0.1', 'localhost'))).status).toBe(403);
    expect((await get()).status).toBe(200);
    expect((await get(new URL(t.url).origin)).status).toBe(200);
    expect((await get('https://files.example.org')).status).toBe(200);
    const put = await fetch(`${t.url}/dav/docs/evil.txt`, { method: 'PUT', headers: { authorization: ALICE, origin: 'http://evil.example' }, body: 'x' });
    expect(put.status).toBe(403);
    expect(await exists('evil.txt')).toBe(false);
  });
});
