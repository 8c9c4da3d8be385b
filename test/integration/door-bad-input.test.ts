/**
 * Bad input found by hand at each door (review of session 8): each gets a clear answer in the door's
 * own terms, a 4xx, never a 5xx or a success, and changes nothing.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
const basic = () => `Basic ${Buffer.from('alice:alice-password').toString('base64')}`;

beforeAll(async () => {
  t = await startTestGateway();
  await t.gw.core.vfs.write(t.alice.session, 'docs', 'f.txt', Readable.from([Buffer.from('hello')]));
});
afterAll(async () => {
  await t?.close();
});

async function contentOf(p: string): Promise<string> {
  const r = await fetch(`${t.url}/dav/docs/${p}`, { headers: { authorization: basic() } });
  return r.text();
}

describe('bad input at the doors', () => {
  // VENDOR[name] read inherited properties: 'constructor' is Object, whose specifier is undefined.
  it('a vendor asset named after an Object property is 404, not 500', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect((await fetch(`${t.url}/assets/vendor/${name}`)).status, name).toBe(404);
    }
    expect((await fetch(`${t.url}/assets/vendor/htm.mjs`)).status).toBe(200);
  });

  // koa answers 200 to a body set on its default 404 (the status was never set explicitly).
  it('an unknown sync route is 404, with its error body', async () => {
    const r = await fetch(`${t.url}/sync/v1/no-such-route`);
    expect(r.status).toBe(404);
    expect((await r.json()) as unknown).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });
});
