import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tus from 'tus-js-client';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { client } from './rest-client.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const meta = (m: Record<string, string>) => Object.entries(m).map(([k, v]) => `${k} ${b64(v)}`).join(',');

describe('REST resumable uploads (tus 1.0.0)', () => {
  let t: TestGateway;
  const basic = (u = 'alice', p = 'alice-password') => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
  const alice = () => client(t.url, { basic: ['alice', 'alice-password'] });
  const TUS = { 'tus-resumable': '1.0.0' };

  beforeAll(async () => {
    t = await startTestGateway();
    await t.gw.core.accounts.createUser('bob', 'bob-password');
  });
  afterAll(async () => {
    await t?.close();
  });

  async function create(length: number, m: Record<string, string>, auth = basic()): Promise<string> {
    const r = await fetch(`${t.url}/api/v1/uploads`, { method: 'POST', headers: { ...TUS, authorization: auth, 'upload-length': String(length), 'upload-metadata': meta(m) } });
    expect(r.status).toBe(201);
    return new URL(r.headers.get('location')!, t.url).toString();
  }

  async function offset(url: string): Promise<number> {
    const r = await fetch(url, { method: 'HEAD', headers: { ...TUS, authorization: basic() } });
    expect(r.status).toBe(200);
    return Number(r.headers.get('upload-offset'));
  }

  /** Sends `part` as a PATCH at `at`, then kills the connection before the request ends. */
  function interruptedPatch(url: string, at: number, part: Buffer): Promise<void> {
    return new Promise((resolve) => {
      const u = new URL(url);
      const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'PATCH', headers: { ...TUS, authorization: basic(), 'content-type': 'application/offset+octet-stream', 'upload-offset': String(at), 'content-length': String(part.length * 4) } });
      req.on('error', () => resolve());
      req.write(part, () => setTimeout(() => { req.destroy(); resolve(); }, 100));
    });
  }

  it('OPTIONS advertises the protocol; requests without Tus-Resumable are refused', async () => {
    const o = await fetch(`${t.url}/api/v1/uploads`, { method: 'OPTIONS' });
    expect(o.status).toBe(204);
    expect(o.headers.get('tus-version')).toBe('1.0.0');
    expect(o.headers.get('tus-extension')).toContain('creation');
    const r = await fetch(`${t.url}/api/v1/uploads`, { method: 'POST', headers: { authorization: basic(), 'upload-length': '1' } });
    expect(r.status).toBe(412);
  });

  it('an upload interrupted mid-PATCH resumes from the server offset and commits one version', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const url = await create(data.length, { root: 'docs', path: 'big/resumed.bin' });
    expect(await offset(url)).toBe(0);
    await interruptedPatch(url, 0, data.subarray(0, 1024 * 1024));
    const at = await offset(url);
    // What arrived before the cut is kept (how much depends on the kernel; the tus-js-client test below
    // checks an exact resume point).
    expect(at).toBeGreaterThanOrEqual(0);
    expect(at).toBeLessThanOrEqual(1024 * 1024);
    // A PATCH at the wrong offset is refused with the right one.
    const wrong = await fetch(url, { method: 'PATCH', headers: { ...TUS, authorization: basic(), 'content-type': 'application/offset+octet-stream', 'upload-offset': String(at + 1) }, body: data.subarray(0, 10) });
    expect(wrong.status).toBe(409);
    // On a loaded machine the cut PATCH may reach its handler after the HEAD above (both wait on
    // authentication): then the server's offset has moved on from `at`, never back.
    const settled = Number(wrong.headers.get('upload-offset'));
    expect(settled).toBeGreaterThanOrEqual(at);
    expect(settled).toBeLessThanOrEqual(1024 * 1024);
    // Nothing is visible before the last byte.
    expect((await alice().get('/api/v1/roots/docs/stat/big/resumed.bin')).status).toBe(404);
    const patchFrom = (from: number) => fetch(url, { method: 'PATCH', headers: { ...TUS, authorization: basic(), 'content-type': 'application/offset+octet-stream', 'upload-offset': String(from) }, body: data.subarray(from) });
    let rest = await patchFrom(settled);
    // Like any tus client: if the cut PATCH was still landing bytes, take the server's offset and go on.
    if (rest.status === 409) rest = await patchFrom(Number(rest.headers.get('upload-offset')));
    expect(rest.status).toBe(204);
    expect(Number(rest.headers.get('upload-offset'))).toBe(data.length);
    expect(rest.headers.get('x-syncgate-version')).toBe('1');
    expect((await alice().bytes('/api/v1/roots/docs/files/big/resumed.bin')).equals(data)).toBe(true);
    const hist = await alice().get('/api/v1/roots/docs/history/big/resumed.bin');
    expect(hist.json.versions).toHaveLength(1);
    // The partial is gone.
    expect((await fetch(url, { method: 'HEAD', headers: { ...TUS, authorization: basic() } })).status).toBe(404);
  });

  it('tus-js-client uploads in chunks, and resumes a stopped upload from its URL', async () => {
    const data = randomBytes(2 * 1024 * 1024 + 5);
    const first = new tus.Upload(data, {
      endpoint: `${t.url}/api/v1/uploads`,
      headers: { authorization: basic() },
      metadata: { root: 'docs', path: 'client/tus.bin' },
      chunkSize: 512 * 1024,
      retryDelays: [],
    });
    const stoppedAt = await new Promise<string>((resolve, reject) => {
      first.options.onChunkComplete = (_c, sent) => {
        if (sent >= 1024 * 1024) void first.abort().then(() => resolve(first.url!));
      };
      first.options.onError = reject;
      first.options.onSuccess = () => reject(new Error('should have stopped'));
      first.start();
    });
    expect(await offset(stoppedAt)).toBe(1024 * 1024);
    await new Promise<void>((resolve, reject) => {
      const second = new tus.Upload(data, {
        uploadUrl: stoppedAt,
        headers: { authorization: basic() },
        chunkSize: 512 * 1024,
        retryDelays: [],
        onError: reject,
        onSuccess: () => resolve(),
      });
      second.start();
    });
    expect((await alice().bytes('/api/v1/roots/docs/files/client/tus.bin')).equals(data)).toBe(true);
  });

  it("uploads belong to their creator; a base version conflict makes a conflict copy; termination deletes; bad input is refused", async () => {
    const url = await create(5, { root: 'docs', path: 'x.txt' });
    const bobHead = await fetch(url, { method: 'HEAD', headers: { ...TUS, authorization: basic('bob', 'bob-password') } });
    expect(bobHead.status).toBe(404);
    expect((await fetch(url, { method: 'DELETE', headers: { ...TUS, authorization: basic() } })).status).toBe(204);
    expect((await fetch(url, { method: 'HEAD', headers: { ...TUS, authorization: basic() } })).status).toBe(404);
    // Bob may not even start an upload into alice's root (and learns nothing of it).
    const bob = await fetch(`${t.url}/api/v1/uploads`, { method: 'POST', headers: { ...TUS, authorization: basic('bob', 'bob-password'), 'upload-length': '1', 'upload-metadata': meta({ root: 'docs', path: 'b' }) } });
    expect(bob.status).toBe(404);
    const noMeta = await fetch(`${t.url}/api/v1/uploads`, { method: 'POST', headers: { ...TUS, authorization: basic(), 'upload-length': '1' } });
    expect(noMeta.status).toBe(400);
    const anon = await fetch(`${t.url}/api/v1/uploads`, { method: 'POST', headers: { ...TUS, 'upload-length': '1', 'upload-metadata': meta({ root: 'docs', path: 'b' }) } });
    expect(anon.status).toBe(401);
    await alice().put('/api/v1/roots/docs/files/base.txt', 'v1');
    await alice().put('/api/v1/roots/docs/files/base.txt', 'v2');
    const c = await create(4, { root: 'docs', path: 'base.txt', baseVersion: '1' });
    const done = await fetch(c, { method: 'PATCH', headers: { ...TUS, authorization: basic(), 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' }, body: 'mine' });
    expect(done.status).toBe(204);
    const copy = decodeURIComponent(done.headers.get('x-syncgate-conflict')!);
    expect(copy).toMatch(/^base \(conflict .*\)\.txt$/);
    expect((await alice().bytes('/api/v1/roots/docs/files/base.txt')).toString()).toBe('v2');
    const tooMuch = await create(2, { root: 'docs', path: 'short.txt' });
    const over = await fetch(tooMuch, { method: 'PATCH', headers: { ...TUS, authorization: basic(), 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' }, body: 'abcdef' });
    expect(over.status).toBe(400);
    const badType = await fetch(tooMuch, { method: 'PATCH', headers: { ...TUS, authorization: basic(), 'content-type': 'text/plain', 'upload-offset': '0' }, body: 'ab' });
    expect(badType.status).toBe(415);
  });
});
