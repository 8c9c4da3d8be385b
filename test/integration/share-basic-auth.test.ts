import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { body } from '../helpers/core.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * A link's password from HTTP Basic (`curl -u :PASSWORD`), for scripts that cannot set a header:
 * the same check as X-Share-Password, so a wrong one is a 401 and counts toward the address's ban.
 * Its own gateway: the last test bans 127.0.0.1.
 */
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const ALICE = basic('alice', 'alice-password');
let t: TestGateway;

async function share(password: string): Promise<string> {
  const res = await fetch(`${t.url}/api/v1/shares`, {
    method: 'POST',
    headers: { authorization: ALICE, 'content-type': 'application/json' },
    body: JSON.stringify({ root: 'docs', path: 'a.txt', password }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

const download = (token: string, headers: Record<string, string>) => fetch(`${t.url}/s/${token}/download`, { headers });

beforeAll(async () => {
  t = await startTestGateway({ security: { freeAttempts: 100, banAfter: 4 } });
  await t.gw.core.vfs.write(t.alice.session, 'docs', 'a.txt', body('hello'));
});
afterAll(() => t.close());

describe('share link password from HTTP Basic', () => {
  it('takes the password as Basic password, with an empty or any user name', async () => {
    const token = await share('open sesame');
    const empty = await download(token, { authorization: basic('', 'open sesame') });
    expect(empty.status).toBe(200);
    expect(await empty.text()).toBe('hello');
    // A user name is ignored, even one of a real user with another password: it is not a login.
    expect(await (await download(token, { authorization: basic('alice', 'open sesame') })).text()).toBe('hello');
    expect(await (await download(token, { authorization: basic('anyone', 'open sesame') })).text()).toBe('hello');
    expect((await fetch(`${t.url}/s/${token}/meta`, { headers: { authorization: basic('', 'open sesame') } })).status).toBe(200);
  });

  // Last: it bans 127.0.0.1.
  it('a wrong Basic password is a 401 and counts toward the ban like a wrong X-Share-Password', async () => {
    const token = await share('right-one');
    const statuses: number[] = [];
    // banAfter 4: two wrong headers and two wrong Basic passwords together ban the address.
    statuses.push((await download(token, { 'x-share-password': 'bad0' })).status);
    statuses.push((await download(token, { authorization: basic('', 'bad1') })).status);
    statuses.push((await download(token, { 'x-share-password': 'bad2' })).status);
    statuses.push((await download(token, { authorization: basic('x', 'bad3') })).status);
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect([401, 429]).toContain(statuses[3]);
    expect((await download(token, { authorization: basic('', 'right-one') })).status).toBe(429);
    expect((await download(token, { 'x-share-password': 'right-one' })).status).toBe(429);
  });
});
