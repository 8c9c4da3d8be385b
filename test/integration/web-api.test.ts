import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/** What the web page needs from the API beyond plain REST (issue 26). */
let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(async () => {
  await t.close();
});

const ADMIN = `Basic ${Buffer.from('admin:admin-password').toString('base64')}`;
const ALICE = `Basic ${Buffer.from('alice:alice-password').toString('base64')}`;

async function cookieLogin(): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(`${t.url}/api/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-requested-with': 'fetch' },
    body: JSON.stringify({ user: 'alice', password: 'alice-password', mode: 'cookie' }),
  });
  expect(res.status).toBe(200);
  return { cookie: res.headers.get('set-cookie')!.split(';')[0]!, csrf: ((await res.json()) as { csrfToken: string }).csrfToken };
}

describe('REST for the web page', () => {
  it('logging in again while an old session cookie is still sent needs no CSRF token', async () => {
    const { cookie } = await cookieLogin();
    const again = await fetch(`${t.url}/api/v1/login`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', 'x-requested-with': 'fetch' },
      body: JSON.stringify({ user: 'alice', password: 'alice-password', mode: 'cookie' }),
    });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { csrfToken: string }).csrfToken).toMatch(/^[0-9a-f]{40}$/);
    // Every other unsafe request on the cookie still needs it.
    const mkdir = await fetch(`${t.url}/api/v1/roots/docs/mkdir`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ path: 'x' }) });
    expect(mkdir.status).toBe(403);
  });

  it('no Basic challenge for the page (X-Requested-With or Sec-Fetch-Site: same-origin), one for scripts and Basic clients', async () => {
    const challenge = async (headers: Record<string, string>) => (await fetch(`${t.url}/api/v1/roots/docs/list`, { headers })).headers.get('www-authenticate');
    expect(await challenge({})).toMatch(/^Basic/);
    expect(await challenge({ 'x-requested-with': 'fetch' })).toBeNull();
    expect(await challenge({ 'sec-fetch-site': 'same-origin' })).toBeNull(); // EventSource, download links
    expect(await challenge({ cookie: 'sg_session=sgs_revoked', 'sec-fetch-site': 'same-origin' })).toBeNull();
    expect(await challenge({ authorization: `Basic ${Buffer.from('alice:wrong-password').toString('base64')}`, 'x-requested-with': 'fetch' })).toMatch(/^Basic/);
  });

  it('serves the page libraries from the installed packages, bare imports rewritten, and a favicon', async () => {
    for (const name of ['preact.mjs', 'hooks.mjs', 'htm.mjs', 'tus.min.js']) {
      const res = await fetch(`${t.url}/assets/vendor/${name}`);
      expect(res.status, name).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
      const body = await res.text();
      expect(body).not.toMatch(/from\s*"preact"/);
    }
    expect((await fetch(`${t.url}/assets/vendor/..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${t.url}/assets/vendor/axe.js`)).status).toBe(404);
    const icon = await fetch(`${t.url}/favicon.ico`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
  });

  it('PUT /roots/:root/retention: the owner or an admin sets the policy, others may not, bad policies are 400', async () => {
    const put = (auth: string, body: unknown) =>
      fetch(`${t.url}/api/v1/roots/docs/retention`, { method: 'PUT', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const ok = await put(ALICE, { mode: 'count', keep: 5 });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { retention: unknown }).retention).toEqual({ mode: 'count', keep: 5 });
    expect((await put(ADMIN, { mode: 'days', days: 30 })).status).toBe(200);
    expect((await put(ALICE, { mode: 'count', keep: 0 })).status).toBe(400);
    expect((await put(ALICE, { mode: 'forever' })).status).toBe(400);
    await t.gw.core.accounts.createUser('bob', 'bob-password');
    const bob = `Basic ${Buffer.from('bob:bob-password').toString('base64')}`;
    expect([403, 404]).toContain((await put(bob, { mode: 'all' })).status);
    expect((await put(ALICE, { mode: 'all' })).status).toBe(200);
  });
});

describe('GET /api/v1/session', () => {
  it('answers 200 with user null when nobody is logged in, and the user with a CSRF token for a cookie', async () => {
    const anon = await fetch(`${t.url}/api/v1/session`);
    expect(anon.status).toBe(200);
    expect(anon.headers.get('www-authenticate')).toBeNull();
    expect(await anon.json()).toEqual({ user: null });
    const { cookie, csrf } = await cookieLogin();
    const me = (await (await fetch(`${t.url}/api/v1/session`, { headers: { cookie } })).json()) as { user: { name: string }; csrfToken: string };
    expect(me.user.name).toBe('alice');
    expect(me.csrfToken).toBe(csrf);
    const basic = (await (await fetch(`${t.url}/api/v1/session`, { headers: { authorization: ALICE } })).json()) as { user: { name: string }; csrfToken?: string };
    expect(basic.user.name).toBe('alice');
    expect(basic.csrfToken).toBeUndefined();
  });
});

describe('pairing codes and device progress for the page', () => {
  it('POST /me/pairing-codes gives a one-time code a device logs in with; GET /me/device-sync shows how far behind it is', async () => {
    const created = await fetch(`${t.url}/api/v1/me/pairing-codes`, { method: 'POST', headers: { authorization: ALICE } });
    expect(created.status).toBe(201);
    const { code, expiresAt } = (await created.json()) as { code: string; expiresAt: string };
    expect(code).toMatch(/^[A-Z0-9]{5}-[A-Z0-9]+$/);
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now());
    const device = await t.gw.core.devices.login({ pairingCode: code }, { uuid: '0123456789abcdef0123', name: 'laptop', address: '127.0.0.1' });
    expect(device.user).toBe('alice');
    await expect(t.gw.core.devices.login({ pairingCode: code }, { uuid: '0123456789abcdef0124', name: 'again', address: null })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const list = (await (await fetch(`${t.url}/api/v1/me/device-sync`, { headers: { authorization: ALICE } })).json()) as { devices: { name: string; revoked: boolean; roots: unknown[] }[] };
    expect(list.devices.find((d) => d.name === 'laptop')).toMatchObject({ revoked: false, roots: expect.any(Array) });
    expect((await fetch(`${t.url}/api/v1/me/pairing-codes`, { method: 'POST' })).status).toBe(401);
  });
});
