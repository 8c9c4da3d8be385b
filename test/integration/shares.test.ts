import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shareRoutesUnderTest, type RoutesUnderTest } from '../../protocols/http/shares/testing.js';
import { body, readAll } from '../helpers/core.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let r: RoutesUnderTest;
let base: string;
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const ALICE = basic('alice', 'alice-password');
const BOB = basic('bob', 'bob-password');
const BIG = Buffer.alloc(300_000, 7);

async function api(method: string, p: string, auth: string | null, json?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(base + p, {
    method,
    headers: { ...(auth ? { authorization: auth } : {}), ...(json ? { 'content-type': 'application/json' } : {}) },
    body: json ? JSON.stringify(json) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function share(input: Record<string, unknown>): Promise<{ token: string; id: number; url: string }> {
  const res = await api('POST', '/api/v1/shares', ALICE, { root: 'docs', ...input });
  expect(res.status).toBe(201);
  return { token: res.body.token, id: res.body.share.id, url: res.body.url };
}

/** A request with the path sent exactly as written (fetch would normalise dot segments). */
function raw(method: string, p: string, headers: Record<string, string> = {}, data?: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path: p, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

/** The gateway's clock: expiry tests move it instead of sleeping. */
let skewMs = 0;
beforeAll(async () => {
  t = await startTestGateway({}, { now: () => Date.now() + skewMs });
  r = await shareRoutesUnderTest({ url: t.url, core: t.gw.core, options: t.gw.config.http });
  base = r.url;
  await t.gw.core.accounts.createUser('bob', 'bob-password');
  const s = t.alice.session;
  await t.gw.core.vfs.mkdir(s, 'docs', 'pub');
  await t.gw.core.vfs.mkdir(s, 'docs', 'pub/sub');
  await t.gw.core.vfs.write(s, 'docs', 'pub/a.txt', body('hello'));
  await t.gw.core.vfs.write(s, 'docs', 'pub/sub/big.bin', body(BIG));
  await t.gw.core.vfs.write(s, 'docs', 'pub/été.txt', body('unicode'));
  await t.gw.core.vfs.write(s, 'docs', 'secret.txt', body('TOP-SECRET'));
  await t.gw.core.vfs.mkdir(s, 'docs', 'drop');
  await t.gw.core.vfs.write(s, 'docs', 'drop/existing.txt', body('original'));
});
afterAll(async () => {
  await r?.close();
  await t?.close();
});

describe('share links over HTTP', () => {
  it('shares a file: page, meta, download with Range and Content-Disposition, access log', async () => {
    const { token, id, url } = await share({ path: 'pub/sub/big.bin' });
    expect(url).toMatch(new RegExp(`/s/${token}$`));
    const page = await fetch(`${base}/s/${token}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await page.text()).toContain('/assets/share.js');
    const meta = await (await fetch(`${base}/s/${token}/meta`)).json();
    expect(meta).toMatchObject({ name: 'big.bin', kind: 'file', size: BIG.length, uploadOnly: false, entries: null });
    const full = await fetch(`${base}/s/${token}/download`, { headers: { 'user-agent': 'share-test/1' } });
    expect(full.status).toBe(200);
    expect(full.headers.get('content-disposition')).toBe('attachment; filename=big.bin');
    expect(full.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await full.arrayBuffer()).equals(BIG)).toBe(true);
    const part = await fetch(`${base}/s/${token}/download`, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${BIG.length}`);
    expect((await part.arrayBuffer()).byteLength).toBe(100);
    const bad = await fetch(`${base}/s/${token}/download`, { headers: { range: `bytes=${BIG.length}-` } });
    expect(bad.status).toBe(416);
    const etag = full.headers.get('etag')!;
    expect((await fetch(`${base}/s/${token}/download`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    const head = await fetch(`${base}/s/${token}/download`, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(BIG.length));
    // The log line is written when the response closes, which may be just after the client has it all.
    let log = await api('GET', `/api/v1/shares/${id}/accesses`, ALICE);
    const findDl = () => log.body.accesses.find((a: any) => a.action === 'download' && a.userAgent === 'share-test/1');
    for (let i = 0; i < 100 && !findDl(); i += 1) {
      await new Promise((res) => setTimeout(res, 20));
      log = await api('GET', `/api/v1/shares/${id}/accesses`, ALICE);
    }
    expect(log.status).toBe(200);
    const dl = findDl();
    expect(dl).toMatchObject({ bytes: BIG.length, address: expect.stringContaining('127.0.0.1'), path: '' });
    expect(new Date(dl.at).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(log.body.accesses.some((a: any) => a.action === 'view')).toBe(true);
    const got = await api('GET', `/api/v1/shares/${id}`, ALICE);
    // The full GET and the range both sent content; the 416, the 304 and the HEAD sent none.
    expect(got.body.share).toMatchObject({ downloads: 2, state: 'active', path: 'pub/sub/big.bin', kind: 'file' });
  });

  it('shares a folder: listing, files inside, zip; never reaches outside the shared path', async () => {
    const { token } = await share({ path: 'pub' });
    const meta = await (await fetch(`${base}/s/${token}/meta`)).json();
    expect(meta.entries.map((e: any) => e.name)).toEqual(['a.txt', 'sub', 'été.txt']);
    const sub = await (await fetch(`${base}/s/${token}/meta?dir=sub`)).json();
    expect(sub.entries.map((e: any) => e.path)).toEqual(['sub/big.bin']);
    expect(await (await fetch(`${base}/s/${token}/download/a.txt`)).text()).toBe('hello');
    const uni = await fetch(`${base}/s/${token}/download/${encodeURIComponent('été.txt')}`);
    expect(await uni.text()).toBe('unicode');
    expect(uni.headers.get('content-disposition')).toContain(`filename*=UTF-8''%C3%A9t%C3%A9.txt`);
    const zip = await fetch(`${base}/s/${token}/download`);
    expect(zip.headers.get('content-type')).toBe('application/zip');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'share-zip-'));
    try {
      await writeFile(path.join(dir, 'p.zip'), Buffer.from(await zip.arrayBuffer()));
      execFileSync('unzip', ['-q', 'p.zip', '-d', 'out'], { cwd: dir });
      expect(execFileSync('cat', ['out/a.txt'], { cwd: dir }).toString()).toBe('hello');
      expect(execFileSync('cmp', ['-s', 'out/sub/big.bin', '-'], { cwd: dir, input: BIG }).length).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const hostile = [
      '../secret.txt',
      '..%2Fsecret.txt',
      '%2e%2e/secret.txt',
      '%2E%2E%2Fsecret.txt',
      '%252e%252e%252fsecret.txt',
      'sub/../../secret.txt',
      'sub/..%2F..%2Fsecret.txt',
      '..%5Csecret.txt',
      '%2Fsecret.txt',
      '/../secret.txt',
      'a.txt%00.png',
    ];
    for (const h of hostile) {
      for (const p of [`/s/${token}/download/${h}`, `/s/${token}/meta?dir=${h}`]) {
        const res = await raw('GET', p);
        expect(res.body.toString(), p).not.toContain('TOP-SECRET');
        expect([400, 404], `${p} -> ${res.status}`).toContain(res.status);
      }
    }
    const inRoot = await raw('GET', `/s/${token}/download//secret.txt`);
    expect(inRoot.body.toString()).not.toContain('TOP-SECRET');
  });

  it('expired links answer 404', async () => {
    const { token, id } = await share({ path: 'pub/a.txt', expiresInSec: 1 });
    expect((await fetch(`${base}/s/${token}/download`)).status).toBe(200);
    skewMs += 1100;
    const res = await fetch(`${base}/s/${token}/download`);
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('NOT_FOUND');
    expect((await fetch(`${base}/s/${token}`)).status).toBe(404);
    expect((await api('GET', `/api/v1/shares/${id}`, ALICE)).body.share.state).toBe('expired');
    expect((await api('POST', '/api/v1/shares', ALICE, { root: 'docs', path: 'pub', expiresAt: Date.now() - 1 })).status).toBe(400);
  });

  it('exhausted links answer 403 after the download limit', async () => {
    const { token, id } = await share({ path: 'pub/a.txt', maxDownloads: 1 });
    const meta = await (await fetch(`${base}/s/${token}/meta`)).json();
    expect(meta.downloadsLeft).toBe(1);
    expect((await fetch(`${base}/s/${token}/download`, { headers: { range: 'bytes=1-2' } })).status).toBe(206); // a part sends content: it counts
    const res = await fetch(`${base}/s/${token}/download`);
    expect(res.status).toBe(403);
    expect((await res.json()).error.code).toBe('PERMISSION_DENIED');
    expect((await fetch(`${base}/s/${token}`)).status).toBe(403);
    expect((await api('GET', `/api/v1/shares/${id}`, ALICE)).body.share).toMatchObject({ state: 'exhausted', downloads: 1 });
  });

  it('password links: 401 without or with a wrong password, cookie after /auth, header for scripts; revocation kills the cookie', async () => {
    const { token, id } = await share({ path: 'pub/a.txt', password: 'open sesame' });
    expect((await fetch(`${base}/s/${token}`)).status).toBe(200); // the page asks for the password
    expect((await fetch(`${base}/s/${token}/download`)).status).toBe(401);
    const wrong = await fetch(`${base}/s/${token}/auth`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'nope' }) });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect((await fetch(`${base}/s/${token}/download`, { headers: { 'x-share-password': 'nope' } })).status).toBe(401);
    expect(await (await fetch(`${base}/s/${token}/download`, { headers: { 'x-share-password': 'open sesame' } })).text()).toBe('hello');
    const ok = await fetch(`${base}/s/${token}/auth`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: 'open sesame' }) });
    expect(ok.status).toBe(204);
    const setCookie = ok.headers.get('set-cookie')!;
    expect(setCookie).toMatch(new RegExp(`path=/s/${token}`));
    expect(setCookie).toMatch(/httponly/i);
    expect(setCookie).toMatch(/samesite=strict/i);
    const cookie = setCookie.split(';')[0]!;
    expect(await (await fetch(`${base}/s/${token}/download`, { headers: { cookie } })).text()).toBe('hello');
    // the cookie of one link does not open another
    const other = await share({ path: 'pub/a.txt', password: 'open sesame' });
    expect((await fetch(`${base}/s/${other.token}/download`, { headers: { cookie } })).status).toBe(401);
    expect((await api('DELETE', `/api/v1/shares/${id}`, ALICE)).status).toBe(204);
    expect((await fetch(`${base}/s/${token}/download`, { headers: { cookie } })).status).toBe(404);
    expect((await fetch(`${base}/s/${token}/meta`, { headers: { cookie } })).status).toBe(404);
    expect((await api('GET', `/api/v1/shares/${id}`, ALICE)).body.share.state).toBe('revoked');
    const log = (await api('GET', `/api/v1/shares/${id}/accesses`, ALICE)).body.accesses;
    expect(log.filter((a: any) => a.action === 'password-wrong').length).toBe(2);
  });

  it('upload-only links: upload form data only; no listing, no download, no overwrite', async () => {
    const { token, id } = await share({ path: 'drop', uploadOnly: true });
    const meta = await (await fetch(`${base}/s/${token}/meta`)).json();
    expect(meta).toMatchObject({ uploadOnly: true, entries: null, kind: 'dir' });
    expect(JSON.stringify(meta)).not.toContain('existing');
    expect((await fetch(`${base}/s/${token}/meta?dir=x`)).status).toBe(200);
    expect((await fetch(`${base}/s/${token}/download`)).status).toBe(403);
    expect((await fetch(`${base}/s/${token}/download/existing.txt`)).status).toBe(403);
    const up = await fetch(`${base}/s/${token}/upload?name=existing.txt`, { method: 'POST', body: 'from a stranger' });
    expect(up.status).toBe(201);
    // The answer names what the visitor sent, not the stored "existing (1).txt": no hint of what exists.
    expect(await up.json()).toEqual({ name: 'existing.txt', size: 15 });
    const put = await raw('PUT', `/s/${token}/upload/existing.txt`, {}, Buffer.from('again'));
    expect(put.status).toBe(201);
    expect(JSON.parse(put.body.toString()).name).toBe('existing.txt');
    expect(put.body.toString()).not.toContain('(');
    expect((await raw('PUT', `/s/${token}/upload/..%2Fsecret.txt`, {}, Buffer.from('x'))).status).toBe(400);
    expect((await raw('POST', `/s/${token}/upload?name=../secret.txt`, {}, Buffer.from('x'))).status).toBe(400);
    expect((await raw('POST', `/s/${token}/upload?name=..`, {}, Buffer.from('x'))).status).toBe(400);
    const s = t.alice.session;
    expect((await readAll((await t.gw.core.vfs.read(s, 'docs', 'drop/existing.txt')).stream)).toString()).toBe('original');
    expect((await readAll((await t.gw.core.vfs.read(s, 'docs', 'drop/existing (1).txt')).stream)).toString()).toBe('from a stranger');
    expect((await readAll((await t.gw.core.vfs.read(s, 'docs', 'secret.txt')).stream)).toString()).toBe('TOP-SECRET');
    const log = (await api('GET', `/api/v1/shares/${id}/accesses`, ALICE)).body.accesses;
    expect(log.find((a: any) => a.action === 'upload' && a.path === 'existing (1).txt')).toMatchObject({ bytes: 15 });
    // a read link takes no uploads
    const ro = await share({ path: 'pub' });
    expect((await fetch(`${base}/s/${ro.token}/upload?name=n.txt`, { method: 'POST', body: 'x' })).status).toBe(403);
  });

  it('owners manage their links; other users learn nothing', async () => {
    const { id } = await share({ path: 'pub' });
    expect((await api('POST', '/api/v1/shares', null, { root: 'docs', path: 'pub' })).status).toBe(401);
    expect((await api('POST', '/api/v1/shares', BOB, { root: 'docs', path: 'pub' })).status).toBe(404);
    expect((await api('POST', '/api/v1/shares', BOB, { root: 'nope', path: 'pub' })).status).toBe(404);
    expect((await api('POST', '/api/v1/shares', ALICE, { root: 'docs', path: 'missing' })).status).toBe(404);
    expect((await api('POST', '/api/v1/shares', ALICE, { root: 'docs', path: '../x' })).status).toBe(400);
    expect((await api('POST', '/api/v1/shares', ALICE, { root: 'docs', path: 'pub', maxDownloads: 0 })).status).toBe(400);
    expect((await api('POST', '/api/v1/shares', ALICE, { root: 'docs', path: 'pub/a.txt', uploadOnly: true })).status).toBe(400);
    expect((await api('GET', '/api/v1/shares', BOB)).body.shares).toEqual([]);
    expect((await api('GET', `/api/v1/shares/${id}`, BOB)).status).toBe(404);
    expect((await api('GET', `/api/v1/shares/${id}/accesses`, BOB)).status).toBe(404);
    expect((await api('DELETE', `/api/v1/shares/${id}`, BOB)).status).toBe(404);
    expect((await api('GET', '/api/v1/shares/abc', ALICE)).status).toBe(400);
    const mine = (await api('GET', '/api/v1/shares?root=docs', ALICE)).body.shares;
    expect(mine.some((l: any) => l.id === id && l.hasPassword === false)).toBe(true);
    expect(JSON.stringify(mine)).not.toMatch(/token|hash/i);
    expect((await fetch(`${base}/s/${'A'.repeat(43)}/download`)).status).toBe(404);
    expect((await fetch(`${base}/s/short/download`)).status).toBe(404);
  });
  // Last: it bans 127.0.0.1, for every door's logins too.
  it('wrong passwords count in the brute-force guard', async () => {
    const { token } = await share({ path: 'pub/a.txt', password: 'right-one' });
    let last = 0;
    for (let i = 0; i < 11; i += 1) last = (await fetch(`${base}/s/${token}/download`, { headers: { 'x-share-password': `bad${i}` } })).status;
    expect(last).toBe(429);
    expect((await fetch(`${base}/s/${token}/download`, { headers: { 'x-share-password': 'right-one' } })).status).toBe(429);
  });
});
