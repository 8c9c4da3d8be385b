import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { client } from './rest-client.js';

const run = promisify(execFile);
const F = '/api/v1/roots/docs';

describe('REST files', () => {
  let t: TestGateway;
  const alice = () => client(t.url, { basic: ['alice', 'alice-password'] });

  beforeAll(async () => {
    t = await startTestGateway({ http: { maxUploadBytes: 1_000_000 } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('upload creates (201) then replaces (200); download returns the bytes with ETag and Last-Modified', async () => {
    const data = randomBytes(100_000);
    const put = await alice().put(`${F}/files/dir/one.bin`, data);
    expect(put.status).toBe(201);
    expect(put.json.entry).toMatchObject({ path: 'dir/one.bin', kind: 'file', size: 100_000, version: 1 });
    expect(put.headers.get('etag')).toBe(put.json.entry.etag);
    const again = await alice().put(`${F}/files/dir/one.bin`, Buffer.from('v2'));
    expect(again.status).toBe(200);
    expect(again.json.entry.version).toBe(2);
    const got = await alice().bytes(`${F}/files/dir/one.bin`);
    expect(got.toString()).toBe('v2');
    const res = await fetch(`${t.url}${F}/files/dir/one.bin`, { headers: { authorization: `Basic ${Buffer.from('alice:alice-password').toString('base64')}` } });
    expect(res.headers.get('etag')).toBe(again.json.entry.etag);
    expect(res.headers.get('last-modified')).toBeTruthy();
    expect(res.headers.get('content-disposition')).toContain('one.bin');
    await res.arrayBuffer();
  });

  it('upload without parents=1 into a missing folder is 404; over maxUploadBytes is 413', async () => {
    const r = await alice().put(`${F}/files/missing/x.txt?parents=0`, 'x');
    expect(r.status).toBe(404);
    expect(r.json.error.details?.missingParent).toBe(true);
    const big = await alice().put(`${F}/files/big.bin`, randomBytes(1_000_001));
    expect(big.status).toBe(413);
    expect((await alice().get(`${F}/stat/big.bin`)).status).toBe(404);
  });

  it('Range requests: 206 with Content-Range, suffix ranges, 416 outside; If-Range mismatch gives the whole file', async () => {
    const data = randomBytes(5000);
    await alice().put(`${F}/files/range.bin`, data);
    const a = await alice().call('GET', `${F}/files/range.bin`, { headers: { range: 'bytes=100-199' } });
    expect(a.status).toBe(206);
    expect(a.headers.get('content-range')).toBe('bytes 100-199/5000');
    expect((a as any).raw.equals(data.subarray(100, 200))).toBe(true);
    const b = await alice().call('GET', `${F}/files/range.bin`, { headers: { range: 'bytes=-10' } });
    expect((b as any).raw.equals(data.subarray(4990))).toBe(true);
    const c = await alice().call('GET', `${F}/files/range.bin`, { headers: { range: 'bytes=4990-' } });
    expect((c as any).raw.length).toBe(10);
    const d = await alice().call('GET', `${F}/files/range.bin`, { headers: { range: 'bytes=6000-7000' } });
    expect(d.status).toBe(416);
    expect(d.headers.get('content-range')).toBe('bytes */5000');
    const e = await alice().call('GET', `${F}/files/range.bin`, { headers: { range: 'bytes=0-9', 'if-range': '"v9-old"' } });
    expect(e.status).toBe(200);
    expect((e as any).raw.length).toBe(5000);
    const h = await alice().call('HEAD', `${F}/files/range.bin`);
    expect(h.status).toBe(200);
    expect(h.headers.get('content-length')).toBe('5000');
  });

  it('conditional GET: If-None-Match and If-Modified-Since -> 304; If-Match mismatch -> 412', async () => {
    const put = await alice().put(`${F}/files/cond.txt`, 'cond');
    const etag = put.json.entry.etag as string;
    const a = await alice().get(`${F}/files/cond.txt`, { 'if-none-match': etag });
    expect(a.status).toBe(304);
    expect(a.headers.get('etag')).toBe(etag);
    const lm = (await alice().get(`${F}/files/cond.txt`)).headers.get('last-modified')!;
    expect((await alice().get(`${F}/files/cond.txt`, { 'if-modified-since': lm })).status).toBe(304);
    expect((await alice().get(`${F}/files/cond.txt`, { 'if-modified-since': 'Thu, 01 Jan 1998 00:00:00 GMT' })).status).toBe(200);
    expect((await alice().get(`${F}/files/cond.txt`, { 'if-none-match': '"v0-zzz"' })).status).toBe(200);
    expect((await alice().get(`${F}/files/cond.txt`, { 'if-match': '"v0-zzz"' })).status).toBe(412);
  });

  it('If-Match with an outdated version: 409 with the conflict copy by default; Prefer: conflict=fail -> 412; If-None-Match: * -> 412', async () => {
    const v1 = (await alice().put(`${F}/files/notes.txt`, 'base')).json.entry.etag as string;
    const v2 = await alice().put(`${F}/files/notes.txt`, 'server edit', { 'if-match': v1 });
    expect(v2.status).toBe(200);
    expect(v2.json.entry.version).toBe(2);
    const c = await alice().put(`${F}/files/notes.txt`, 'my edit', { 'if-match': v1 });
    expect(c.status).toBe(409);
    expect(c.json.error.code).toBe('CONFLICT');
    expect(c.json.conflict).toMatchObject({ path: 'notes.txt', baseVersion: 1, serverVersion: 2 });
    expect(c.json.entry.path).toMatch(/^notes \(conflict .*\)\.txt$/);
    expect((await alice().bytes(`${F}/files/${encodeURIComponent(c.json.entry.path)}`)).toString()).toBe('my edit');
    expect((await alice().bytes(`${F}/files/notes.txt`)).toString()).toBe('server edit');
    const f = await alice().put(`${F}/files/notes.txt`, 'again', { 'if-match': v1, prefer: 'conflict=fail' });
    expect(f.status).toBe(412);
    expect((await alice().bytes(`${F}/files/notes.txt`)).toString()).toBe('server edit');
    expect((await alice().put(`${F}/files/notes.txt?onConflict=fail`, 'again', { 'if-match': v1 })).status).toBe(412);
    expect((await alice().put(`${F}/files/notes.txt`, 'x', { 'if-none-match': '*' })).status).toBe(412);
    expect((await alice().put(`${F}/files/brand-new.txt`, 'x', { 'if-none-match': '*' })).status).toBe(201);
    // Conflicts are listed and resolved.
    const list = await alice().get(`${F}/conflicts`);
    const conflict = list.json.conflicts.find((x: { path: string }) => x.path === 'notes.txt');
    expect(conflict).toMatchObject({ kind: 'edit-edit' });
    const res = await alice().post(`${F}/conflicts/${conflict.id}/resolve`, { resolution: 'keep-incoming' });
    expect(res.status).toBe(200);
    expect((await alice().bytes(`${F}/files/notes.txt`)).toString()).toBe('my edit');
    expect((await alice().post(`${F}/conflicts/${conflict.id}/resolve`, { resolution: 'keep-incoming' })).status).toBe(409);
    expect((await alice().post(`${F}/conflicts/${conflict.id}/resolve`, { resolution: 'nope' })).status).toBe(400);
    expect((await alice().get(`${F}/conflicts?all=1`)).json.conflicts.some((x: { id: number }) => x.id === conflict.id)).toBe(true);
    const m = await client(t.url, { basic: ['admin', 'admin-password'] }).get('/metrics');
    expect(m.text).toMatch(/syncgate_http_conflicts_total\{door="rest"\} [1-9]/);
  });

  it('list, stat, mkdir, move, copy, delete with their error paths', async () => {
    expect((await alice().post(`${F}/mkdir`, { path: 'm/n', parents: true })).status).toBe(201);
    expect((await alice().post(`${F}/mkdir`, { path: 'm/n' })).status).toBe(409);
    expect((await alice().post(`${F}/mkdir`, { path: 'x/y' })).status).toBe(404);
    expect((await alice().post(`${F}/mkdir`, { path: '../escape' })).status).toBe(400);
    await alice().put(`${F}/files/m/n/f.txt`, 'f');
    const list = await alice().get(`${F}/list/m/n`);
    expect(list.json.entries.map((e: { name: string }) => e.name)).toEqual(['f.txt']);
    expect((await alice().get(`${F}/list`)).json.entries.some((e: { name: string }) => e.name === 'm')).toBe(true);
    expect((await alice().get(`${F}/list/m/n/f.txt`)).status).toBe(409);
    expect((await alice().get(`${F}/stat/m`)).json.kind).toBe('dir');
    expect((await alice().get(`${F}/stat/nope`)).status).toBe(404);
    expect((await alice().get(`${F}/files/m`)).status).toBe(409);
    expect((await alice().post(`${F}/move`, { from: 'm/n/f.txt', to: 'm/g.txt' })).status).toBe(200);
    expect((await alice().post(`${F}/move`, { from: 'm/n/f.txt', to: 'm/h.txt' })).status).toBe(404);
    expect((await alice().post(`${F}/copy`, { from: 'm/g.txt', to: 'm/n/copy.txt' })).status).toBe(201);
    expect((await alice().post(`${F}/copy`, { from: 'm/g.txt', to: 'm/n/copy.txt' })).status).toBe(409);
    expect((await alice().post(`${F}/copy`, { from: 'm/g.txt', to: 'm/n/copy.txt', overwrite: true })).status).toBe(201);
    expect((await alice().post(`${F}/move`, { from: 'm', to: 'm/n/inside' })).status).toBe(400);
    expect((await alice().post(`${F}/move`, { from: 'm/g.txt' })).status).toBe(400);
    expect((await alice().bytes(`${F}/files/m/n/copy.txt`)).toString()).toBe('f');
    const etag = (await alice().get(`${F}/stat/m/g.txt`)).json.etag;
    expect((await alice().del(`${F}/files/m/g.txt`, { 'if-match': '"v99-x"' })).status).toBe(412);
    expect((await alice().del(`${F}/files/m/g.txt`, { 'if-match': etag })).status).toBe(204);
    expect((await alice().del(`${F}/files/m/g.txt`)).status).toBe(404);
    expect((await alice().del(`${F}/files/m`)).status).toBe(204);
    expect((await alice().get(`${F}/stat/m`)).status).toBe(404);
  });

  it('history, old version download, restore; deleted files listed and undeleted', async () => {
    await alice().put(`${F}/files/h.txt`, 'one');
    await alice().put(`${F}/files/h.txt`, 'two');
    const hist = await alice().get(`${F}/history/h.txt`);
    expect(hist.json.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(hist.json.versions[0]).toMatchObject({ user: 'alice', protocol: 'rest', available: true });
    expect((await alice().bytes(`${F}/files/h.txt?version=1`)).toString()).toBe('one');
    expect((await alice().get(`${F}/files/h.txt?version=9`)).status).toBe(404);
    expect((await alice().get(`${F}/files/h.txt?version=x`)).status).toBe(400);
    const r = await alice().post(`${F}/restore`, { path: 'h.txt', version: 1 });
    expect(r.status).toBe(200);
    expect(r.json.version).toBe(3);
    expect((await alice().bytes(`${F}/files/h.txt`)).toString()).toBe('one');
    expect((await alice().get(`${F}/history/never.txt`)).status).toBe(404);
    expect((await alice().post(`${F}/undelete`, { path: 'h.txt' })).status).toBe(409);
    await alice().del(`${F}/files/h.txt`);
    const del = await alice().get(`${F}/deleted`);
    expect(del.json.entries.some((e: { path: string }) => e.path === 'h.txt')).toBe(true);
    const u = await alice().post(`${F}/undelete`, { path: 'h.txt' });
    expect(u.status).toBe(200);
    expect((await alice().bytes(`${F}/files/h.txt`)).toString()).toBe('one');
    expect((await alice().post(`${F}/restore`, { path: 'h.txt' })).status).toBe(400);
  });

  it('history follows a moved file (folder moves too): old versions listed with their path, downloaded and restored at the new path', async () => {
    await alice().put(`${F}/files/hm/a.txt`, 'one');
    await alice().put(`${F}/files/hm/a.txt`, 'two');
    expect((await alice().post(`${F}/move`, { from: 'hm/a.txt', to: 'hm/b.txt' })).status).toBe(200);
    expect((await alice().post(`${F}/move`, { from: 'hm', to: 'hm2' })).status).toBe(200);
    const hist = await alice().get(`${F}/history/hm2/b.txt`);
    expect(hist.status).toBe(200);
    type V = { version: number; path: string; op: string; fromPath: string | null; fromVersion: number | null };
    expect(hist.json.versions.map((v: V) => `${v.version} ${v.path} ${v.op}`)).toEqual(['4 hm2/b.txt move-in', '3 hm/b.txt move-in', '2 hm/a.txt write', '1 hm/a.txt create']);
    expect(hist.json.versions[0]).toMatchObject({ fromPath: 'hm/b.txt', fromVersion: 3 });
    expect((await alice().bytes(`${F}/files/hm2/b.txt?version=1`)).toString()).toBe('one');
    expect((await alice().bytes(`${F}/files/hm2/b.txt?version=1&from=${encodeURIComponent('hm/a.txt')}`)).toString()).toBe('one');
    expect((await alice().get(`${F}/files/hm2/b.txt?version=1&from=elsewhere.txt`)).status).toBe(404);
    const r = await alice().post(`${F}/restore`, { path: 'hm2/b.txt', version: 1, from: 'hm/a.txt' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ path: 'hm2/b.txt', version: 5 });
    expect((await alice().bytes(`${F}/files/hm2/b.txt`)).toString()).toBe('one');
    // Deleted after the move: undelete finds its last content across the move.
    await alice().post(`${F}/move`, { from: 'hm2/b.txt', to: 'hm2/c.txt' });
    await alice().del(`${F}/files/hm2/c.txt`);
    expect((await alice().post(`${F}/undelete`, { path: 'hm2/c.txt' })).status).toBe(200);
    expect((await alice().bytes(`${F}/files/hm2/c.txt`)).toString()).toBe('one');
  });

  it('a folder downloads as a streamed zip that unpacks to identical files', async () => {
    const files: Record<string, Buffer> = { 'z/a.txt': Buffer.from('alpha'), 'z/sub/b.bin': randomBytes(300_000), 'z/sub/deeper/c.txt': Buffer.from('gamma'), 'z/empty.txt': Buffer.alloc(0) };
    for (const [p, d] of Object.entries(files)) await alice().put(`${F}/files/${p}`, d);
    await alice().post(`${F}/mkdir`, { path: 'z/emptydir' });
    const res = await fetch(`${t.url}${F}/zip/z`, { headers: { authorization: `Basic ${Buffer.from('alice:alice-password').toString('base64')}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    const zip = Buffer.from(await res.arrayBuffer());
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sg-zip-'));
    try {
      await writeFile(path.join(dir, 'z.zip'), zip);
      await run('unzip', ['-q', 'z.zip', '-d', 'out'], { cwd: dir });
      for (const [p, d] of Object.entries(files)) expect((await readFile(path.join(dir, 'out', p))).equals(d)).toBe(true);
      const { stdout } = await run('unzip', ['-Z1', 'z.zip'], { cwd: dir });
      expect(stdout).toContain('z/emptydir/');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect((await alice().get(`${F}/zip/z/a.txt`)).status).toBe(409);
    expect((await alice().get(`${F}/zip/nope`)).status).toBe(404);
    const whole = await alice().get(`${F}/zip`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-disposition')).toContain('docs.zip');
  });

  it('an upload cut off mid-body leaves the previous version untouched', async () => {
    await alice().put(`${F}/files/cut.txt`, 'complete old version');
    const http = await import('node:http');
    const u = new URL(`${t.url}${F}/files/cut.txt`);
    await new Promise<void>((resolve) => {
      const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'PUT', headers: { authorization: `Basic ${Buffer.from('alice:alice-password').toString('base64')}`, 'content-length': '100000' } });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(30_000, 1), () => setTimeout(() => { req.destroy(); resolve(); }, 50));
    });
    // The server notices the cut on its own schedule: poll until the write settled (bounded).
    for (let i = 0; i < 50; i += 1) {
      const h = await alice().get(`${F}/history/cut.txt`);
      expect(h.json.versions).toHaveLength(1);
      if (i > 5) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await alice().bytes(`${F}/files/cut.txt`)).toString()).toBe('complete old version');
  });

  it('a wrong method on a route is 405 with a JSON error', async () => {
    const r = await alice().call('PATCH', `${F}/list`);
    expect(r.status).toBe(405);
    expect(r.json.error.code).toBeTruthy();
  });

  it('bad paths are 400 and never reach outside the root', async () => {
    for (const p of ['..%2F..%2Fetc%2Fpasswd', 'a%00b', '%2e%2e%2fx']) {
      const r = await alice().get(`${F}/files/${p}`);
      expect([400, 404]).toContain(r.status);
      expect(r.text).not.toContain('root:');
      expect(r.text).not.toContain(t.dir);
    }
  });
});
