/**
 * A device catching up on a big file it has an older copy of: the client asks the gateway for the
 * delta from the version it holds (POST .../delta?base=, no signature sent), patches its copy and
 * checks the SHA-256; bytes on the wire both ways stay far below the file's size. When that
 * version's content is gone on the gateway, the client sends its copy's signature instead.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { fetchFile } from '../../src/client/transfers.js';
import { resolveSignatureParams } from '../../src/delta/index.js';
import { weakTwin } from '../../src/delta/testing.js';
import { SIGNATURE } from '../../src/sync-wire/index.js';
import { statEntry } from '../../src/client/local.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startTestClient, type TestClient } from '../helpers/sync-client.js';

/** A TCP proxy to the gateway that counts the bytes each way (what crossed the wire). */
async function countingProxy(port: number): Promise<{ url: string; up: number; down: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((c) => {
    const s = net.connect(port, '127.0.0.1');
    sockets.add(c).add(s);
    c.on('data', (d) => (p.up += d.length));
    s.on('data', (d) => (p.down += d.length));
    c.pipe(s).on('error', () => s.destroy());
    s.pipe(c).on('error', () => c.destroy());
    c.on('error', () => s.destroy());
    s.on('error', () => c.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const p = {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    up: 0,
    down: 0,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
  return p;
}

const MIB = 1 << 20;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
let t: TestGateway;
let a: TestClient;
let b: TestClient;
let proxy: Awaited<ReturnType<typeof countingProxy>>;

beforeEach(async () => {
  t = await startTestGateway();
  proxy = await countingProxy(Number(new URL(t.url).port));
  a = await startTestClient(t, 'laptop');
  b = await startTestClient({ ...t, url: proxy.url }, 'desktop');
});
afterEach(async () => {
  await a?.close();
  await b?.close();
  await proxy?.close();
  await t.close();
});

async function overwrite(file: string, at: number, n: number): Promise<void> {
  const fh = await open(file, 'r+');
  await fh.write(randomBytes(n), 0, n, at);
  await fh.close();
}

describe('delta downloads', () => {
  it('a device that was away for several edits catches up with one delta from the version it holds: no signature sent, far fewer bytes than the file', async () => {
    const file = path.join(a.dir, 'big.bin');
    await writeFile(file, randomBytes(8 * MIB));
    await a.once();
    await b.once();
    // Three edits while B is away: B's copy is two versions behind the next one it sees.
    for (const at of [1 * MIB, 4 * MIB + 123, 7 * MIB]) {
      await overwrite(file, at, 4096);
      expect((await a.once()).uploaded).toBe(1);
    }
    proxy.up = 0;
    proxy.down = 0;
    const r = await b.once();
    expect(r.downloaded).toBe(1);
    expect(r.bytesDown).toBeLessThan(200_000);
    const want = await readFile(file);
    expect(sha(await readFile(path.join(b.dir, 'big.bin')))).toBe(sha(want));
    // No signature went up (8 MiB has one of about 40 KB): only the requests themselves.
    expect(proxy.up).toBeLessThan(10_000);
    expect(proxy.up + proxy.down).toBeLessThan(want.length / 20);
    expect(b.state.file(b.sync.link.id, 'big.bin')?.sha256).toBe(sha(want));
  });

  it('when the version it holds is not on the gateway, the client sends its copy\'s signature and still gets a delta', async () => {
    const file = path.join(a.dir, 'big.bin');
    await writeFile(file, randomBytes(2 * MIB));
    await a.once();
    await b.once();
    await overwrite(file, MIB, 4096);
    await a.once();
    proxy.up = 0;
    proxy.down = 0;
    const have = (await statEntry(b.dir, 'big.bin'))!;
    // Version 99 never existed: NOT_FOUND, then the signature route.
    const got = await fetchFile(b.api, 'docs', b.dir, 'big.bin', have, async () => true, {}, undefined, 99);
    expect(got?.entry.sha256).toBe(sha(await readFile(file)));
    expect(sha(await readFile(path.join(b.dir, 'big.bin')))).toBe(got?.entry.sha256);
    expect(got!.bytes).toBeLessThan(100_000);
    expect(proxy.up).toBeGreaterThan(5_000); // the signature went up this time
    expect(proxy.up + proxy.down).toBeLessThan(2 * MIB / 10);
  });

  it('a head with a block that collides with the held version by weak sum: the gateway\'s quick delta is wrong, the client sees it by SHA-256 and sends its signature', async () => {
    const file = path.join(a.dir, 'big.bin');
    const old = randomBytes(2 * MIB);
    await writeFile(file, old);
    await a.once();
    await b.once();
    const { blockLen } = resolveSignatureParams({ ...SIGNATURE, fileSize: old.length });
    const head = Buffer.from(old);
    weakTwin(old.subarray(5 * blockLen, 6 * blockLen)).copy(head, 5 * blockLen);
    // A whole upload: no delta is kept for this pair, so the gateway makes one from its signature.
    const v = b.state.file(b.sync.link.id, 'big.bin')!.version;
    await a.api.upload('docs', { path: 'big.bin', base: v, sha256: sha(head), mtimeMs: Date.now(), size: head.length }, Readable.from([head]));
    proxy.up = 0;
    proxy.down = 0;
    const have = (await statEntry(b.dir, 'big.bin'))!;
    const got = await fetchFile(b.api, 'docs', b.dir, 'big.bin', have, async () => true, {}, undefined, v);
    expect(got?.entry.sha256).toBe(sha(head));
    expect(sha(await readFile(path.join(b.dir, 'big.bin')))).toBe(sha(head));
    expect(proxy.up).toBeGreaterThan(5_000); // the signature went up after the quick delta failed
  });
});
