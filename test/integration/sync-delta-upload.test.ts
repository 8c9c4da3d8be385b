/**
 * The client's delta upload matches runs of unchanged blocks by their weak sums alone (trustRuns).
 * A block whose weak sum collides with the basis block it stands in for makes that delta wrong: the
 * gateway must refuse it by the announced SHA-256 (nothing recorded), and the client must send the
 * file again with every block checked in full, so that the head ends up the very file.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Api } from '../../src/client/api.js';
import { statEntry } from '../../src/client/local.js';
import { sendFile } from '../../src/client/send.js';
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
});
