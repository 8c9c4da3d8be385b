/**
 * The sync door's delta transfers on the wire (protocols/sync/transfer.ts): a download delta against
 * a signature streamed in as the request body, a signature over the limit refused while it streams,
 * and the head's signature served from the cache per content hash.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Api, ApiError } from '../../src/client/api.js';
import { bufferBasis, patch, signature } from '../../src/delta/index.js';
import { collect, chunksOf } from '../../src/delta/testing.js';
import { SIGNATURE } from '../../src/sync-wire/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function setup(overrides: Parameters<typeof startTestGateway>[0] = {}): Promise<{ t: TestGateway; api: Api; token: string }> {
  t = await startTestGateway(overrides);
  const login = await new Api(t.url, null).login({ uuid: randomUUID(), name: 'laptop', user: 'alice', password: 'alice-password' });
  return { t, api: new Api(t.url, login.token), token: login.token };
}

async function sigOf(content: Uint8Array): Promise<Buffer> {
  return collect(signature(chunksOf(content), { ...SIGNATURE, fileSize: content.length }));
}

describe('sync door: delta transfers', () => {
  it('a download delta against a signature sent in small pieces rebuilds the head exactly', async () => {
    const { api, t: gw, token } = await setup();
    const old = randomBytes(600_000);
    const head = Buffer.concat([old.subarray(0, 250_000), randomBytes(5000), old.subarray(250_000)]);
    await api.upload('docs', { path: 'big.bin', sha256: sha(head), mtimeMs: 0, size: head.length }, Readable.from([head]));
    const sig = await sigOf(old);
    // The body arrives in 97-byte pieces: the gateway reads the signature as it comes.
    const res = await fetch(`${gw.url}/sync/v1/roots/docs/delta?path=big.bin`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/vnd.librsync.signature' },
      body: Readable.toWeb(Readable.from(chunksOf(sig, 97))) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(200);
    const d = Buffer.from(await res.arrayBuffer());
    expect(d.length).toBeLessThan(20_000); // the 5,000 new bytes and a few blocks, not the 600 KB
    const rebuilt = await collect(patch(bufferBasis(old), chunksOf(d)));
    expect(sha(rebuilt)).toBe(sha(head));
  });

  it('with base=VERSION the client sends no signature: the delta is made against the gateway\'s cached signature of that version', async () => {
    const { api, t: gw, token } = await setup();
    const old = randomBytes(600_000);
    const head = Buffer.concat([old.subarray(0, 100_000), randomBytes(3000), old.subarray(100_000)]);
    const v1 = await api.upload('docs', { path: 'big.bin', sha256: sha(old), mtimeMs: 0, size: old.length }, Readable.from([old]));
    // An editor fetched v1's signature (now cached) and sent its edit as v2.
    await api.signature('docs', 'big.bin');
    await api.upload('docs', { path: 'big.bin', base: v1.entry.version, sha256: sha(head), mtimeMs: 0, size: head.length }, Readable.from([head]));
    const ask = (base: number) => fetch(`${gw.url}/sync/v1/roots/docs/delta?path=big.bin&base=${base}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    const res = await ask(v1.entry.version);
    expect(res.status).toBe(200);
    const d = Buffer.from(await res.arrayBuffer());
    expect(d.length).toBeLessThan(20_000);
    expect(sha(await collect(patch(bufferBasis(old), chunksOf(d))))).toBe(sha(head));
    expect((await readdir(path.join(gw.dir, 'cache', 'signatures'))).filter((f) => f.endsWith('.sig'))).toHaveLength(1); // v1's, computed once
    const missing = await ask(99);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    const bad = await ask(0);
    expect(bad.status).toBe(400);
  });

  it('a signature over sync.maxSignatureBytes is refused (413 QUOTA_EXCEEDED); a garbage one is CORRUPT_DELTA', async () => {
    const { api } = await setup({ sync: { maxSignatureBytes: 1000 } });
    const content = randomBytes(200_000);
    await api.upload('docs', { path: 'f.bin', sha256: sha(content), mtimeMs: 0, size: content.length }, Readable.from([content]));
    const sig = await sigOf(content);
    expect(sig.length).toBeGreaterThan(1000);
    const err = await api.deltaDownload('docs', 'f.bin', sig).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('QUOTA_EXCEEDED');
    expect((err as ApiError).status).toBe(413);
    const bad = await api.deltaDownload('docs', 'f.bin', Buffer.from('garbage, not a signature')).catch((e: unknown) => e);
    expect((bad as ApiError).code).toBe('CORRUPT_DELTA');
  });

  it('the head signature is computed once per content and then served from the cache', async () => {
    const { api, t: gw } = await setup();
    const content = randomBytes(300_000);
    await api.upload('docs', { path: 'a.bin', sha256: sha(content), mtimeMs: 0, size: content.length }, Readable.from([content]));
    await api.upload('docs', { path: 'copy-of-a.bin', sha256: sha(content), mtimeMs: 0, size: content.length }, Readable.from([content]));
    const s1 = await api.signature('docs', 'a.bin');
    const s2 = await api.signature('docs', 'copy-of-a.bin');
    const s3 = await api.signature('docs', 'a.bin');
    expect(Buffer.from(s1.body).equals(await sigOf(content))).toBe(true);
    expect(Buffer.from(s2.body).equals(Buffer.from(s1.body))).toBe(true);
    expect(Buffer.from(s3.body).equals(Buffer.from(s1.body))).toBe(true);
    const cached = await readdir(path.join(gw.dir, 'cache', 'signatures'));
    expect(cached.filter((f) => f.endsWith('.sig'))).toHaveLength(1);
  });
});
