import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawFtp } from '../../protocols/ftp/raw-ftp.test-support.js';
import { body } from '../helpers/core.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * A share link belongs to the entry it was made for, whatever door changes it: it follows the entry
 * through a rename or move (WebDAV MOVE, FTP RNFR/RNTO, REST move), and ends when the entry is
 * deleted (WebDAV DELETE, FTP DELE, REST DELETE): new content put at the old path is not served.
 */
let t: TestGateway;
const ALICE = `Basic ${Buffer.from('alice:alice-password').toString('base64')}`;

async function share(path: string): Promise<string> {
  const res = await fetch(`${t.url}/api/v1/shares`, {
    method: 'POST',
    headers: { authorization: ALICE, 'content-type': 'application/json' },
    body: JSON.stringify({ root: 'docs', path }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

async function download(token: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${t.url}/s/${token}/download`);
  return { status: res.status, text: await res.text() };
}

async function ftp<T>(fn: (c: RawFtp) => Promise<T>): Promise<T> {
  const c = await RawFtp.connect(t.ftpPort!);
  try {
    await c.login();
    return await fn(c);
  } finally {
    c.close();
  }
}

/** Each door's rename and delete of a path in root 'docs'. */
const doors: Record<string, { move(from: string, to: string): Promise<void>; remove(p: string): Promise<void> }> = {
  webdav: {
    async move(from, to) {
      const res = await fetch(`${t.url}/dav/docs/${from}`, { method: 'MOVE', headers: { authorization: ALICE, destination: `${t.url}/dav/docs/${to}` } });
      expect(res.status).toBe(201);
    },
    async remove(p) {
      const res = await fetch(`${t.url}/dav/docs/${p}`, { method: 'DELETE', headers: { authorization: ALICE } });
      expect(res.status).toBe(204);
    },
  },
  ftp: {
    move: (from, to) =>
      ftp(async (c) => {
        expect((await c.cmd(`RNFR /docs/${from}`)).code).toBe(350);
        expect((await c.cmd(`RNTO /docs/${to}`)).code).toBe(250);
      }),
    remove: (p) =>
      ftp(async (c) => {
        expect((await c.cmd(`DELE /docs/${p}`)).code).toBe(250);
      }),
  },
  rest: {
    async move(from, to) {
      const res = await fetch(`${t.url}/api/v1/roots/docs/move`, {
        method: 'POST',
        headers: { authorization: ALICE, 'content-type': 'application/json' },
        body: JSON.stringify({ from, to }),
      });
      expect(res.status).toBe(200);
    },
    async remove(p) {
      const res = await fetch(`${t.url}/api/v1/roots/docs/files/${p}`, { method: 'DELETE', headers: { authorization: ALICE } });
      expect(res.status).toBe(204);
    },
  },
};

beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(async () => t?.close());

describe('a share link follows its entry through every door', () => {
  for (const [door, ops] of Object.entries(doors)) {
    it(`${door}: follows a rename, ends with a delete; new content at the path is not served`, async () => {
      const s = t.alice.session;
      await t.gw.core.vfs.write(s, 'docs', `${door}-report.txt`, body(`report via ${door}`));
      const token = await share(`${door}-report.txt`);
      await ops.move(`${door}-report.txt`, `${door}-renamed.txt`);
      expect(await download(token)).toEqual({ status: 200, text: `report via ${door}` });
      await ops.remove(`${door}-renamed.txt`);
      expect((await download(token)).status).toBe(404);
      await t.gw.core.vfs.write(s, 'docs', `${door}-renamed.txt`, body('not what was shared'));
      expect((await download(token)).status).toBe(404);
      expect((await fetch(`${t.url}/s/${token}/meta`)).status).toBe(404);
    });
  }
});
