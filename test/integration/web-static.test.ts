import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
  await t.gw.core.vfs.mkdir(t.alice.session, 'docs', 'inbox');
});
afterAll(async () => {
  await t.close();
});

async function cookieLogin(): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(`${t.url}/api/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-requested-with': 'fetch' },
    body: JSON.stringify({ user: 'alice', password: 'alice-password', mode: 'cookie' }),
  });
  expect(res.status).toBe(200);
  const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  return { cookie, csrf: ((await res.json()) as { csrfToken: string }).csrfToken };
}

describe('web UI on the gateway', () => {
  it('serves the pages and their assets with security headers', async () => {
    for (const p of ['/', '/assets/app/main.js', '/assets/share.js', '/assets/style.css']) {
      const res = await fetch(`${t.url}${p}`);
      expect(res.status, p).toBe(200);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('lets a logged-in browser drop a file through an upload-only link (no API CSRF on /s/)', async () => {
    const { cookie, csrf } = await cookieLogin();
    const created = await fetch(`${t.url}/api/v1/shares`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ root: 'docs', path: 'inbox', uploadOnly: true }),
    });
    expect(created.status).toBe(201);
    const { url } = (await created.json()) as { url: string };
    const page = await fetch(url, { headers: { cookie } });
    expect(page.status).toBe(200);
    const put = await fetch(`${url}/upload/hello.txt`, { method: 'PUT', headers: { cookie }, body: 'dropped' });
    expect(put.status).toBeLessThan(300);
    expect((await t.gw.core.vfs.list(t.alice.session, 'docs', 'inbox')).map((e) => e.name)).toEqual(['hello.txt']);
  });

  it('challenges scripts but not the page or the login route', async () => {
    expect((await fetch(`${t.url}/api/v1/me`)).headers.get('www-authenticate')).toMatch(/^Basic/);
    expect((await fetch(`${t.url}/api/v1/me`, { headers: { 'x-requested-with': 'fetch' } })).headers.get('www-authenticate')).toBeNull();
    const bad = await fetch(`${t.url}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'alice', password: 'wrong-password', mode: 'cookie' }) });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toBeNull();
  });
});
