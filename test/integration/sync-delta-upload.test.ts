/**
 * The client's delta upload matches runs of unchanged blocks by their weak sums alone (trustRuns).
 * A block whose weak sum collides with the basis block it stands in for makes that delta wrong: the
 * gateway must refuse it by the announced SHA-256 (nothing recorded), and the client must send the
 * file again with every block checked in full, so that the head ends up the very file. An edit not
 * hashed yet sends its SHA-256 after the delta (/patch?trailer=sha256), hashed by the read that made it.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Api } from '../../src/client/api.js';
import { statEntry } from '../../src/client/local.js';
import { ChangedWhileSent, sendFile } from '../../src/client/send.js';
import { bufferBasis, delta, parseSignature, patch } from '../../src/delta/index.js';
import { chunksOf, collect, weakTwin } from '../../src/delta/testing.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway | undefined;
let dir: string | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function setup(old: Buffer): Promise<{ api: Api; version: number; blockLen: number; sig: ReturnType<typeof parseSignature>; sigBytes: number }> {
  t = await startTestGateway();
  const login = await new Api(t.url, null).login({ uuid: randomUUID(), name: 'laptop', user: 'alice', password: 'alice-password' });
  const api = new Api(t.url, login.token);
  dir = await mkdtemp(path.join(os.tmpdir(), 'sg-delta-up-'));
  const v1 = await api.upload('docs', { path: 'k.bin', sha256: sha(old), mtimeMs: 0, size: old.length }, Readable.from([old]));
  const body = Buffer.from((await api.signature('docs', 'k.bin')).body);
  const sig = parseSignature(body);
  return { api, version: v1.entry.version, blockLen: sig.params.blockLen, sig, sigBytes: body.length };
}

async function send(api: Api, content: Buffer, base: number): Promise<{ sha256: string; bytes: number }> {
  await writeFile(path.join(dir!, 'k.bin'), content);
  const local = (await statEntry(dir!, 'k.bin'))!;
  const { res, bytes } = await sendFile(api, 'docs', dir!, local, sha(content), base);
  return { sha256: res.entry.sha256, bytes };
}

describe('delta upload with runs matched by weak sums', () => {
  it('an ordinary edit goes up once, as a delta', async () => {
    const old = randomBytes(800_000);
    const { api, version, sig, sigBytes } = await setup(old);
    const edited = Buffer.concat([old.subarray(0, 300_001), randomBytes(5000), old.subarray(300_001)]);
    const d = await collect(delta(sig, chunksOf(edited)));
    const { sha256, bytes } = await send(api, edited, version);
    expect(sha256).toBe(sha(edited));
    expect(bytes).toBe(d.length + sigBytes);
    expect(bytes).toBeLessThan(50_000);
  });

  it('a block that collides with the basis by weak sum: refused by its SHA-256, then sent again checked in full', async () => {
    const old = randomBytes(800_000);
    const { api, version, blockLen, sig, sigBytes } = await setup(old);
    const edited = Buffer.from(old);
    weakTwin(old.subarray(2 * blockLen, 3 * blockLen)).copy(edited, 2 * blockLen);
    const trusted = await collect(delta(sig, chunksOf(edited), { trustRuns: true }));
    expect(sha(await collect(patch(bufferBasis(old), chunksOf(trusted))))).not.toBe(sha(edited)); // the first try is wrong
    const full = await collect(delta(sig, chunksOf(edited)));
    const { sha256, bytes } = await send(api, edited, version);
    expect(sha256).toBe(sha(edited));
    expect(bytes).toBe(trusted.length + full.length + sigBytes); // both tries crossed the wire
    const head = await api.download('docs', 'k.bin');
    expect(sha(await collect(head.body as AsyncIterable<Uint8Array>))).toBe(sha(edited));
  });

  it('a big edit the scan did not hash: hashed by the read that makes its delta, the hash sent after it', async () => {
    const old = randomBytes(800_000);
    const { api, version, blockLen, sig, sigBytes } = await setup(old);
    const edited = Buffer.from(old);
    randomBytes(3000).copy(edited, 100_000);
    const d = await collect(delta(sig, chunksOf(edited), { trustRuns: true }));
    await writeFile(path.join(dir!, 'k.bin'), edited);
    const local = (await statEntry(dir!, 'k.bin'))!;
    const sent = await sendFile(api, 'docs', dir!, local, '', version);
    expect(sent.sha256).toBe(sha(edited));
    expect(sent.res.entry.sha256).toBe(sha(edited));
    expect(sent.bytes).toBe(d.length + 32 + sigBytes);
    // A weak-sum twin with the hash at the end: refused by it, then sent again checked in full.
    const twin = Buffer.from(edited);
    weakTwin(edited.subarray(4 * blockLen, 5 * blockLen)).copy(twin, 4 * blockLen);
    const sig2 = parseSignature(Buffer.from((await api.signature('docs', 'k.bin')).body));
    expect(sha(await collect(patch(bufferBasis(edited), chunksOf(await collect(delta(sig2, chunksOf(twin), { trustRuns: true }))))))).not.toBe(sha(twin));
    await writeFile(path.join(dir!, 'k.bin'), twin);
    const again = await sendFile(api, 'docs', dir!, (await statEntry(dir!, 'k.bin'))!, '', sent.res.entry.version);
    expect(again.res.entry.sha256).toBe(sha(twin));
    const head = await api.download('docs', 'k.bin');
    expect(sha(await collect(head.body as AsyncIterable<Uint8Array>))).toBe(sha(twin));
  });

  it('a file that changed since the pass saw it: the hash is not sent, and nothing is recorded', async () => {
    const old = randomBytes(400_000);
    const { api, version } = await setup(old);
    const edited = Buffer.from(old);
    randomBytes(1000).copy(edited, 5000);
    await writeFile(path.join(dir!, 'k.bin'), edited);
    const now = (await statEntry(dir!, 'k.bin'))!;
    const seen = { ...now, mtimeMs: now.mtimeMs - 60_000 }; // what the pass saw, before the last write
    await expect(sendFile(api, 'docs', dir!, seen, '', version)).rejects.toBeInstanceOf(ChangedWhileSent);
    expect((await api.signature('docs', 'k.bin')).entry.version).toBe(version);
  });

  it('/patch?trailer=sha256: a wrong, missing or doubly named hash records nothing', async () => {
    const old = randomBytes(300_000);
    const { api, version, sig } = await setup(old);
    const edited = Buffer.concat([old.subarray(0, 1000), randomBytes(2000), old.subarray(1000)]);
    const d = await collect(delta(sig, chunksOf(edited)));
    const token = (api as unknown as { token: string }).token;
    const post = (query: string, body: Buffer) =>
      fetch(`${t!.url}/sync/v1/roots/docs/patch?path=k.bin&base=${version}&${query}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: new Uint8Array(body) });
    const wrong = await post('trailer=sha256', Buffer.concat([d, randomBytes(32)]));
    expect(wrong.status).toBe(422);
    expect((await wrong.json()).error.code).toBe('HASH_MISMATCH');
    const missing = await post('trailer=sha256', d); // the delta's last 32 bytes taken for the hash
    expect(missing.status).toBeGreaterThanOrEqual(400);
    const short = await post('trailer=sha256', Buffer.alloc(10));
    expect(short.status).toBeGreaterThanOrEqual(400);
    const both = await post(`trailer=sha256&sha256=${sha(edited)}`, Buffer.concat([d, createHash('sha256').update(edited).digest()]));
    expect(both.status).toBe(400);
    expect((await api.signature('docs', 'k.bin')).entry.version).toBe(version);
    const right = await post('trailer=sha256', Buffer.concat([d, createHash('sha256').update(edited).digest()]));
    expect(right.status).toBe(200);
    const head = await api.download('docs', 'k.bin');
    expect(sha(await collect(head.body as AsyncIterable<Uint8Array>))).toBe(sha(edited));
  });
});
