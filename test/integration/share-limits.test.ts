import http from 'node:http';
import { Readable } from 'node:stream';
import { Client } from 'basic-ftp';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { body } from '../helpers/core.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * Limits of share links and uploads (issue 22 items 5 and 8): drop links cap each file, the number
 * of files and the uploads under way; tus has a Tus-Max-Size and a cap on unfinished uploads per
 * user by default; a link's limit counts every access that sends content (ranges included) and only
 * successes (a refused drop or a failed zip gives its count back).
 */
const ALICE = `Basic ${Buffer.from('alice:alice-password').toString('base64')}`;

async function share(t: TestGateway, input: Record<string, unknown>): Promise<{ token: string; id: number }> {
  const res = await fetch(`${t.url}/api/v1/shares`, {
    method: 'POST',
    headers: { authorization: ALICE, 'content-type': 'application/json' },
    body: JSON.stringify({ root: 'docs', ...input }),
  });
  expect(res.status).toBe(201);
  const b = (await res.json()) as { token: string; share: { id: number } };
  return { token: b.token, id: b.share.id };
}

async function linkState(t: TestGateway, id: number): Promise<{ downloads: number; maxDownloads: number | null; state: string }> {
  const res = await fetch(`${t.url}/api/v1/shares/${id}`, { headers: { authorization: ALICE } });
  return ((await res.json()) as { share: { downloads: number; maxDownloads: number | null; state: string } }).share;
}

/**
 * A drop upload over a real socket. `declare` sends a Content-Length (else the body is chunked);
 * `hold` keeps the request open after the first part until the returned finish() is called.
 */
function dropUpload(t: TestGateway, token: string, name: string, data: Buffer, opts: { declare?: boolean; hold?: boolean } = {}) {
  const u = new URL(t.url);
  let finish = () => {};
  const done = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, method: 'PUT', path: `/s/${token}/upload/${encodeURIComponent(name)}`, headers: opts.declare ? { 'content-length': String(data.length) } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    if (opts.hold) {
      req.write(data.subarray(0, 1));
      finish = () => req.end(data.subarray(1));
    } else req.end(data);
  });
  return { done, finish: () => finish() };
}

describe('drop links: size, count and open-upload caps (small values in this test config)', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ shares: { dropMaxFileBytes: 1000, dropMaxFiles: 3, dropMaxOpenUploads: 1 } });
    await t.gw.core.vfs.mkdir(t.alice.session, 'docs', 'drop');
  });
  afterAll(async () => t?.close());

  const dropped = async () => (await t.gw.core.vfs.list(t.alice.session, 'docs', 'drop')).map((e) => e.name).sort();

  it('a drop over the per-file cap gets 413, leaves nothing, and does not use up the link', async () => {
    const { token, id } = await share(t, { path: 'drop', uploadOnly: true, maxDownloads: 1 });
    const declared = await dropUpload(t, token, 'big.bin', Buffer.alloc(1001, 1), { declare: true }).done;
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body).error.code).toBe('QUOTA_EXCEEDED');
    const chunked = await dropUpload(t, token, 'big.bin', Buffer.alloc(50_000, 2)).done;
    expect(chunked.status).toBe(413);
    expect(await dropped()).toEqual([]);
    expect((await readdir(t.gw.core.ctx.store.tempDir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile())).toEqual([]);
    expect((await linkState(t, id)).downloads).toBe(0);
    // The refused uploads used none of the link's one upload: a good one still goes in.
    expect((await dropUpload(t, token, 'ok.txt', Buffer.from('small'), { declare: true }).done).status).toBe(201);
    expect(await dropped()).toEqual(['ok.txt']);
    expect((await dropUpload(t, token, 'more.txt', Buffer.from('x'), { declare: true }).done).status).toBe(403);
  });

  it('a drop link without a limit of its own takes dropMaxFiles files, one upload at a time', async () => {
    await t.gw.core.vfs.mkdir(t.alice.session, 'docs', 'inbox');
    const { token, id } = await share(t, { path: 'inbox', uploadOnly: true });
    expect(await linkState(t, id)).toMatchObject({ maxDownloads: 3, state: 'active' });
    const slow = dropUpload(t, token, 'slow.txt', Buffer.from('slowly'), { hold: true });
    // Once the first is under way (it took its count before reading the body), a second is refused.
    for (let i = 0; i < 200 && (await linkState(t, id)).downloads === 0; i += 1) await new Promise((r) => setTimeout(r, 10));
    const second = await dropUpload(t, token, 'second.txt', Buffer.from('2'), { declare: true }).done;
    expect(second.status).toBe(429);
    expect(JSON.parse(second.body).error.details.reason).toBe('open-uploads');
    slow.finish();
    expect((await slow.done).status).toBe(201);
    expect((await dropUpload(t, token, 'a.txt', Buffer.from('a'), { declare: true }).done).status).toBe(201);
    expect((await dropUpload(t, token, 'a.txt', Buffer.from('b'), { declare: true }).done).status).toBe(201);
    const fourth = await dropUpload(t, token, 'c.txt', Buffer.from('c'), { declare: true }).done;
    expect(fourth.status).toBe(403);
    expect(JSON.parse(fourth.body).error.details.reason).toBe('exhausted');
    expect((await t.gw.core.vfs.list(t.alice.session, 'docs', 'inbox')).map((e) => e.name).sort()).toEqual(['a (1).txt', 'a.txt', 'slow.txt']);
    expect(await linkState(t, id)).toMatchObject({ downloads: 3, state: 'exhausted' });
  });
});

describe('tus and download limits with the default settings', () => {
  let t: TestGateway;
  const TUS = { 'tus-resumable': '1.0.0', authorization: ALICE };
  const meta = (p: string) => `root ${Buffer.from('docs').toString('base64')},path ${Buffer.from(p).toString('base64')}`;
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(async () => t?.close());

  it('tus advertises a Tus-Max-Size and refuses a creation that declares more', async () => {
    const o = await fetch(`${t.url}/api/v1/uploads`, { method: 'OPTIONS' });
    const max = Number(o.headers.get('tus-max-size'));
    expect(max).toBe(t.gw.config.http.maxUploadBytes);
    expect(max).toBeGreaterThan(0);
    const r = await fetch(`${t.url}/api/v1/uploads`, { method: 'POST', headers: { ...TUS, 'upload-length': String(max + 1), 'upload-metadata': meta('huge.bin') } });
    expect(r.status).toBe(413);
    const tb = await fetch(`${t.url}/api/v1/uploads`, { method: 'POST', headers: { ...TUS, 'upload-length': String(1024 ** 4), 'upload-metadata': meta('tb.bin') } });
    expect(tb.status).toBe(413);
  });

  it('the (max+1)th unfinished tus upload of a user is refused; finishing one makes room', async () => {
    const max = t.gw.config.http.maxOpenUploadsPerUser;
    const created: string[] = [];
    const results = await Promise.all(
      Array.from({ length: max + 3 }, (_, i) => fetch(`${t.url}/api/v1/uploads`, { method: 'POST', headers: { ...TUS, 'upload-length': '1000', 'upload-metadata': meta(`open/${i}.bin`) } })),
    );
    for (const r of results) if (r.status === 201) created.push(new URL(r.headers.get('location')!, t.url).toString());
    expect(created.length).toBe(max);
    expect(results.filter((r) => r.status === 429).length).toBe(3);
    expect((await fetch(created[0]!, { method: 'DELETE', headers: TUS })).status).toBe(204);
    const again = await fetch(`${t.url}/api/v1/uploads`, { method: 'POST', headers: { ...TUS, 'upload-length': '1000', 'upload-metadata': meta('open/again.bin') } });
    expect(again.status).toBe(201);
  });

  it('a download limit counts every response that sends content, ranges included', async () => {
    await t.gw.core.vfs.write(t.alice.session, 'docs', 'film.bin', body(Buffer.alloc(10_000, 3)));
    const { token, id } = await share(t, { path: 'film.bin', maxDownloads: 2 });
    const url = `${t.url}/s/${token}/download`;
    expect((await fetch(url, { method: 'HEAD' })).status).toBe(200); // no content: not counted
    const a = await fetch(url, { headers: { range: 'bytes=100-199' } });
    expect(a.status).toBe(206);
    expect((await a.arrayBuffer()).byteLength).toBe(100);
    const b = await fetch(url, { headers: { range: 'bytes=5000-' } });
    expect(b.status).toBe(206);
    await b.arrayBuffer();
    expect((await fetch(url)).status).toBe(403);
    expect(await linkState(t, id)).toMatchObject({ downloads: 2, state: 'exhausted' });
  });

  it('a zip that fails on the server does not use up the link; the next one is whole', async () => {
    const s = t.alice.session;
    await t.gw.core.vfs.mkdir(s, 'docs', 'album');
    await t.gw.core.vfs.write(s, 'docs', 'album/one.jpg', body(Buffer.alloc(200_000, 4)));
    await t.gw.core.vfs.write(s, 'docs', 'album/two.jpg', body(Buffer.alloc(200_000, 5)));
    const { token, id } = await share(t, { path: 'album', maxDownloads: 1 });
    // Another program grows a file behind the gateway's back (watcher off): the zip, which
    // announced the recorded size, fails midway.
    await writeFile(path.join(t.dir, 'roots', 'docs', 'album', 'two.jpg'), Buffer.alloc(300_000, 6));
    const failed = await fetch(`${t.url}/s/${token}/download`).then(
      async (r) => ({ status: r.status, whole: await r.arrayBuffer().then(() => true, () => false) }),
      () => ({ status: 0, whole: false }),
    );
    expect(failed.whole).toBe(false);
    expect((await linkState(t, id)).downloads).toBe(0);
    const ok = await fetch(`${t.url}/s/${token}/download`);
    expect(ok.status).toBe(200);
    expect((await ok.arrayBuffer()).byteLength).toBeGreaterThan(500_000);
    expect(await linkState(t, id)).toMatchObject({ downloads: 1, state: 'exhausted' });
  });
});

describe('the largest upload (http.maxUploadBytes) holds for every door', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ http: { maxUploadBytes: 1000 } });
  });
  afterAll(async () => t?.close());

  it('WebDAV PUT, REST PUT and FTP STOR of a file over the cap are refused and leave nothing', async () => {
    const big = Buffer.alloc(5000, 7);
    const dav = await fetch(`${t.url}/dav/docs/big-dav.bin`, { method: 'PUT', headers: { authorization: ALICE }, body: big });
    expect(dav.status).toBe(507);
    const rest = await fetch(`${t.url}/api/v1/roots/docs/files/big-rest.bin`, { method: 'PUT', headers: { authorization: ALICE }, body: big });
    expect(rest.status).toBe(413);
    const client = new Client(10_000);
    try {
      await client.access({ host: '127.0.0.1', port: t.ftpPort!, user: 'alice', password: 'alice-password' });
      const err = await client.uploadFrom(Readable.from([big.subarray(0, 2500), big.subarray(2500)]), '/docs/big-ftp.bin').then(() => null, (e: { code?: number }) => e);
      expect(err?.code).toBe(552);
    } finally {
      client.close();
    }
    expect((await t.gw.core.vfs.list(t.alice.session, 'docs', '')).map((e) => e.name)).toEqual([]);
    const ok = await fetch(`${t.url}/dav/docs/small.bin`, { method: 'PUT', headers: { authorization: ALICE }, body: Buffer.alloc(1000, 1) });
    expect(ok.status).toBe(201);
  });
});
