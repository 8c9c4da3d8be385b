/**
 * An upload whose socket closes mid-body, through the one writer (Staging.stage, lib/hashed-sink.ts):
 * the previous version stays whole and alone in history, and staging holds nothing of it (only the
 * empty spares made ahead for small uploads), for WebDAV and REST PUTs past the in-memory size.
 */
import http from 'node:http';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SPARES } from '../../src/storage/staging.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
const ALICE = `Basic ${Buffer.from('alice:alice-password').toString('base64')}`;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(async () => {
  await t?.close();
});

/** Sends the headers of a `total`-byte PUT and `sent` bytes of it, then closes the socket; resolves once it is closed. */
function cutPut(url: string, total: number, sent: number): Promise<void> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'PUT', headers: { authorization: ALICE, 'content-length': String(total) } });
    req.on('error', () => {});
    req.on('close', () => resolve());
    req.write(Buffer.alloc(sent, 'n'), () => setImmediate(() => req.destroy()));
  });
}

async function stagingFiles(): Promise<number[]> {
  const dir = t.gw.core.ctx.store.tempDir;
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((d) => d.isFile());
  return Promise.all(files.map(async (f) => (await stat(path.join(f.parentPath, f.name))).size));
}

describe('an upload cut mid-body', () => {
  for (const [door, url] of [
    ['WebDAV', (p: string) => `${t.url}/dav/docs/${p}`],
    ['REST', (p: string) => `${t.url}/api/v1/roots/docs/files/${p}`],
  ] as const) {
    it(`keeps the previous version and leaves staging empty (${door})`, async () => {
      const name = `cut-${door}.bin`;
      await t.gw.core.vfs.write(t.alice.session, 'docs', name, Readable.from([Buffer.from('previous')]));
      for (const [total, sent] of [
        [8 << 20, 3 << 20],
        [(256 << 10) + 10, 256 << 10],
        [1000, 10],
      ]) {
        await cutPut(url(name), total!, sent!);
        // The gateway hears of the close on its own time: poll until staging holds no content of it.
        await expect.poll(async () => (await stagingFiles()).filter((size) => size > 0), { timeout: 10_000 }).toEqual([]);
        expect((await stagingFiles()).length).toBeLessThanOrEqual(SPARES);
        const r = await t.gw.core.vfs.read(t.alice.session, 'docs', name);
        const parts: Buffer[] = [];
        for await (const c of r.stream) parts.push(c as Buffer);
        expect(Buffer.concat(parts).toString()).toBe('previous');
        expect(await t.gw.core.vfs.history(t.alice.session, 'docs', name)).toHaveLength(1);
      }
    });
  }
});
