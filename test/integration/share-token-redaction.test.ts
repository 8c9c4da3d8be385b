/**
 * Issue 22 item 9: a share link's token (its only secret) never reaches the logs in full.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactSharePath } from '../../protocols/http/shares/redact.js';
import { body } from '../helpers/core.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const ALICE = `Basic ${Buffer.from('alice:alice-password').toString('base64')}`;
const lines: string[] = [];
let t: TestGateway;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  t = await startTestGateway({ log: { level: 'debug' } }, { log: pino({ level: 'debug' }, sink) });
  await t.gw.core.vfs.mkdir(t.alice.session, 'docs', 'pub');
  await t.gw.core.vfs.write(t.alice.session, 'docs', 'pub/a.txt', body('hello'));
});
afterAll(async () => {
  await t?.close();
});

describe('share tokens in logs (issue 22 item 9)', () => {
  it('redactSharePath keeps four characters of the token and nothing else of it', () => {
    expect(redactSharePath('/s/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abc/download/x.txt')).toBe('/s/AbCd…/download/x.txt');
    expect(redactSharePath('/s/AbCdEfGhIjKlMnOpQrStUvWxYz')).toBe('/s/AbCd…');
    expect(redactSharePath('/api/v1/shares')).toBe('/api/v1/shares');
    expect(redactSharePath('/dav/s/secret')).toBe('/dav/s/secret');
    expect(redactSharePath('http://h:1/s/AbCdEfGh?x=1')).toBe('http://h:1/s/AbCd…?x=1');
    expect(redactSharePath(42)).toBe(42);
  });

  it('no request to a share link logs its token: page, meta, download, upload, wrong token, password', async () => {
    const make = async (input: Record<string, unknown>) => {
      const res = await fetch(`${t.url}/api/v1/shares`, { method: 'POST', headers: { authorization: ALICE, 'content-type': 'application/json' }, body: JSON.stringify({ root: 'docs', ...input }) });
      expect(res.status).toBe(201);
      return (await res.json()) as { token: string; url: string };
    };
    const folder = await make({ path: 'pub' });
    const drop = await make({ path: 'pub', uploadOnly: true });
    const locked = await make({ path: 'pub/a.txt', password: 'open sesame' });
    const unknown = 'Z'.repeat(43);
    for (const [method, url, init] of [
      ['GET', `${folder.url}`, {}],
      ['GET', `${folder.url}/meta`, {}],
      ['GET', `${folder.url}/download/a.txt`, {}],
      ['GET', `${folder.url}/download`, {}],
      ['PUT', `${drop.url}/upload/new.txt`, { body: 'x' }],
      ['GET', `${t.url}/s/${unknown}/meta`, {}],
      ['POST', `${locked.url}/auth`, { body: JSON.stringify({ password: 'wrong' }), headers: { 'content-type': 'application/json' } }],
      ['GET', `${t.url}/s/${folder.token}%ZZ/meta`, {}],
    ] as const) {
      const res = await fetch(url, { method, ...init });
      await res.arrayBuffer();
    }
    // The request line is logged when the response closes, which may follow the client's read.
    const shareLines = () => lines.filter((l) => l.includes('"/s/'));
    for (let i = 0; i < 200 && shareLines().length < 8; i += 1) await new Promise((r) => setTimeout(r, 10));
    expect(shareLines().length).toBeGreaterThanOrEqual(8);
    for (const token of [folder.token, drop.token, locked.token, unknown]) {
      expect(lines.filter((l) => l.includes(token))).toEqual([]);
      expect(lines.some((l) => l.includes(`"/s/${token.slice(0, 4)}…`))).toBe(true);
    }
  });
});
