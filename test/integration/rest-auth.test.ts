import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { client } from './rest-client.js';

describe('REST accounts, authentication and protection', () => {
  let t: TestGateway;
  const alice = () => client(t.url, { basic: ['alice', 'alice-password'] });
  const admin = () => client(t.url, { basic: ['admin', 'admin-password'] });
  const anon = () => client(t.url, null);

  beforeAll(async () => {
    t = await startTestGateway({ http: { maxJsonBytes: 4096 } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('Basic with a password works; no credentials -> 401 with WWW-Authenticate; a wrong password -> 401', async () => {
    const me = await alice().get('/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.json.user).toMatchObject({ name: 'alice', isAdmin: false });
    const none = await anon().get('/api/v1/me');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect(none.json.error.code).toBe('UNAUTHENTICATED');
    const wrong = await client(t.url, { basic: ['alice', 'nope-nope'] }).get('/api/v1/me');
    expect(wrong.status).toBe(401);
    expect(wrong.json).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.any(String) } });
    const scheme = await anon().call('GET', '/api/v1/me', { headers: { authorization: 'Digest x' } });
    expect(scheme.status).toBe(401);
  });

  it('login in token mode gives an sgs_ bearer; logout ends it', async () => {
    const login = await anon().post('/api/v1/login', { user: 'alice', password: 'alice-password' });
    expect(login.status).toBe(200);
    expect(login.json.token).toMatch(/^sgs_/);
    const c = client(t.url, { bearer: login.json.token });
    expect((await c.get('/api/v1/me')).json.via).toBe('login-session');
    expect((await c.post('/api/v1/logout')).status).toBe(204);
    expect((await c.get('/api/v1/me')).status).toBe(401);
    expect((await anon().post('/api/v1/login', { user: 'alice', password: 'bad-password' })).status).toBe(401);
    expect((await anon().post('/api/v1/login', { user: 'alice' })).status).toBe(400);
  });

  it('login in cookie mode sets an HttpOnly SameSite=Strict cookie; unsafe requests need the CSRF token', async () => {
    const login = await anon().post('/api/v1/login', { user: 'alice', password: 'alice-password', mode: 'cookie' });
    expect(login.status).toBe(200);
    const setCookie = login.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/sg_session=sgs_/);
    expect(setCookie.toLowerCase()).toContain('httponly');
    expect(setCookie.toLowerCase()).toContain('samesite=strict');
    expect(setCookie.toLowerCase()).not.toContain('secure');
    expect(login.json.token).toBeUndefined();
    const cookie = setCookie.split(';')[0]!;
    const noCsrf = client(t.url, { cookie });
    const me = await noCsrf.get('/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.json.csrfToken).toBe(login.json.csrfToken);
    const forged = await noCsrf.put('/api/v1/roots/docs/files/csrf.txt', 'x');
    expect(forged.status).toBe(403);
    expect((await client(t.url, { cookie, csrf: 'wrong' }).put('/api/v1/roots/docs/files/csrf.txt', 'x')).status).toBe(403);
    const ok = client(t.url, { cookie, csrf: login.json.csrfToken });
    expect((await ok.put('/api/v1/roots/docs/files/csrf.txt', 'x')).status).toBe(201);
    const out = await ok.post('/api/v1/logout');
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/sg_session=;/);
    expect((await noCsrf.get('/api/v1/me')).status).toBe(401);
  });

  it('unsafe requests from another site are refused even with valid Basic credentials', async () => {
    const evil = await alice().put('/api/v1/roots/docs/files/xsite.txt', 'x', { origin: 'https://evil.example' });
    expect(evil.status).toBe(403);
    expect((await alice().put('/api/v1/roots/docs/files/xsite.txt', 'x', { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await alice().put('/api/v1/roots/docs/files/xsite.txt', 'x', { origin: t.url })).status).toBe(201);
    expect((await alice().get('/api/v1/me', { origin: 'https://evil.example' })).status).toBe(200);
  });

  it('personal API tokens: create, use as bearer and as Basic password, list, revoke', async () => {
    const created = await alice().post('/api/v1/me/tokens', { name: 'laptop rclone' });
    expect(created.status).toBe(201);
    const token: string = created.json.token;
    expect(token).toMatch(/^sgt_/);
    expect((await client(t.url, { bearer: token }).get('/api/v1/me')).json.via).toBe('token');
    expect((await client(t.url, { basic: ['alice', token] }).get('/api/v1/me')).status).toBe(200);
    const list = await alice().get('/api/v1/me/tokens');
    expect(list.json.tokens.map((x: { name: string }) => x.name)).toContain('laptop rclone');
    expect(JSON.stringify(list.json)).not.toContain(token);
    expect((await alice().del(`/api/v1/me/tokens/${created.json.id}`)).status).toBe(204);
    expect((await client(t.url, { bearer: token }).get('/api/v1/me')).status).toBe(401);
    expect((await alice().del("/api/v1/me/tokens/999999")).status).toBe(404);
    expect((await alice().del('/api/v1/me/tokens/abc')).status).toBe(400);
    expect((await alice().post('/api/v1/me/tokens', { name: '' })).status).toBe(400);
  });

  it('devices: register gives an sgd_ token that authenticates as the device; list shows last address; revoke', async () => {
    const uuid = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';
    const reg = await alice().post('/api/v1/me/devices', { uuid, name: 'Laptop' });
    expect(reg.status).toBe(201);
    expect(reg.json.token).toMatch(/^sgd_/);
    const dev = client(t.url, { bearer: reg.json.token });
    const me = await dev.get('/api/v1/me');
    expect(me.json.device).toMatchObject({ name: 'Laptop' });
    expect((await dev.put('/api/v1/roots/docs/files/from-device.txt', 'd')).status).toBe(201);
    const [v] = (await alice().get('/api/v1/roots/docs/history/from-device.txt')).json.versions;
    expect(v).toMatchObject({ device: 'Laptop', protocol: 'rest' });
    const list = await alice().get('/api/v1/me/devices');
    const d = list.json.devices.find((x: { uuid: string }) => x.uuid === uuid);
    expect(d).toMatchObject({ name: 'Laptop', lastAddress: '127.0.0.1', revoked: false });
    expect(d.lastSeenAt).toBeTruthy();
    expect((await alice().del(`/api/v1/me/devices/${reg.json.id}`)).status).toBe(204);
    expect((await dev.get('/api/v1/me')).status).toBe(401);
    expect((await alice().post('/api/v1/me/devices', { uuid: 'not a uuid!', name: 'x' })).status).toBe(400);
  });

  it('admin creates, lists, disables, enables and deletes users; others get 403', async () => {
    expect((await alice().get('/api/v1/users')).status).toBe(403);
    expect((await alice().post('/api/v1/users', { name: 'mallory', password: 'mallory-password' })).status).toBe(403);
    const made = await admin().post('/api/v1/users', { name: 'carol', password: 'carol-password' });
    expect(made.status).toBe(201);
    expect(made.json).toMatchObject({ name: 'carol', isAdmin: false, disabled: false });
    expect(JSON.stringify(made.json)).not.toMatch(/hash|argon/i);
    expect((await admin().post('/api/v1/users', { name: 'carol', password: 'carol-password' })).status).toBe(409);
    expect((await admin().post('/api/v1/users', { name: 'dave', password: 'short' })).status).toBe(400);
    const names = (await admin().get('/api/v1/users')).json.users.map((u: { name: string }) => u.name);
    expect(names).toEqual(expect.arrayContaining(['admin', 'alice', 'carol']));
    const carol = client(t.url, { basic: ['carol', 'carol-password'] });
    expect((await carol.get('/api/v1/me')).status).toBe(200);
    expect((await admin().patch('/api/v1/users/carol', { disabled: true })).json.disabled).toBe(true);
    expect((await carol.get('/api/v1/me')).status).toBe(401);
    expect((await admin().patch('/api/v1/users/carol', { disabled: false, password: 'carol-new-password' })).status).toBe(200);
    expect((await client(t.url, { basic: ['carol', 'carol-new-password'] }).get('/api/v1/me')).status).toBe(200);
    expect((await admin().get('/api/v1/users/carol')).json.name).toBe('carol');
    expect((await admin().del('/api/v1/users/carol')).status).toBe(204);
    expect((await admin().get('/api/v1/users/carol')).status).toBe(404);
    expect((await admin().del('/api/v1/users/admin')).status).toBe(400);
  });

  it('password change needs the current password and ends login sessions', async () => {
    await admin().post('/api/v1/users', { name: 'erin', password: 'erin-password' });
    const erin = client(t.url, { basic: ['erin', 'erin-password'] });
    const sess = (await client(t.url, null).post('/api/v1/login', { user: 'erin', password: 'erin-password' })).json.token;
    expect((await erin.putJson('/api/v1/me/password', { current: 'wrong-pass', password: 'erin-password-2' })).status).toBe(401);
    expect((await erin.putJson('/api/v1/me/password', { current: 'erin-password', password: 'x' })).status).toBe(400);
    expect((await erin.putJson('/api/v1/me/password', { current: 'erin-password', password: 'erin-password-2' })).status).toBe(204);
    expect((await erin.get('/api/v1/me')).status).toBe(401);
    expect((await client(t.url, { bearer: sess }).get('/api/v1/me')).status).toBe(401);
    expect((await client(t.url, { basic: ['erin', 'erin-password-2'] }).get('/api/v1/me')).status).toBe(200);
  });

  it('JSON bodies over maxJsonBytes -> 413; invalid JSON -> 400; unknown routes -> 404 JSON', async () => {
    const big = await alice().post('/api/v1/me/tokens', { name: 'x'.repeat(10_000) });
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe('QUOTA_EXCEEDED');
    const bad = await alice().call('POST', '/api/v1/me/tokens', { body: '{nope', headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('INVALID_INPUT');
    const none = await alice().get('/api/v1/no/such/route');
    expect(none.status).toBe(404);
    expect(none.json.error.code).toBe('NOT_FOUND');
  });

  it('every answer has a request id and security headers; a sane client id is echoed', async () => {
    const a = await anon().get('/health');
    expect(a.headers.get('x-request-id')).toMatch(/[0-9a-f-]{36}/);
    expect(a.headers.get('x-content-type-options')).toBe('nosniff');
    expect(a.headers.get('x-frame-options')).toBe('DENY');
    expect(a.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(a.headers.get('referrer-policy')).toBe('no-referrer');
    const b = await anon().get('/health', { 'x-request-id': 'trace-123' });
    expect(b.headers.get('x-request-id')).toBe('trace-123');
    const c = await anon().get('/health', { 'x-request-id': 'bad id\twith junk' });
    expect(c.headers.get('x-request-id')).not.toContain('junk');
  });

  it('/metrics counts requests, bytes, versions and active sessions per door', async () => {
    await alice().put('/api/v1/roots/docs/files/metric.txt', 'metric');
    const m = await admin().get('/metrics'); // an administrator's, since issue 22 item 13
    expect(m.status).toBe(200);
    expect(m.text).toMatch(/syncgate_http_requests_total\{door="rest",method="PUT",status="201"\} \d+/);
    expect(m.text).toMatch(/syncgate_http_bytes_total\{door="rest",direction="out"\} [1-9]/);
    expect(m.text).toMatch(/syncgate_http_versions_recorded_total\{door="rest"\} [1-9]/);
    expect(m.text).toMatch(/syncgate_http_active_sessions\{door="rest"\} [1-9]/);
  });
});

describe('REST brute-force protection', () => {
  let t: TestGateway;
  afterEach(async () => {
    await t?.close();
  });

  it('repeated failures ban the user and address with 429 + Retry-After, even for the right password; the ban expires', async () => {
    let skewMs = 0;
    t = await startTestGateway({ security: { freeAttempts: 1, banAfter: 3, banSec: 1, windowSec: 60, maxDelayMs: 0 } }, { now: () => Date.now() + skewMs });
    const wrong = client(t.url, { basic: ['alice', 'wrong-password'] });
    expect((await wrong.get('/api/v1/me')).status).toBe(401);
    expect((await wrong.get('/api/v1/me')).status).toBe(401);
    expect((await wrong.get('/api/v1/me')).status).toBe(401);
    const banned = await client(t.url, { basic: ['alice', 'alice-password'] }).get('/api/v1/me');
    expect(banned.status).toBe(429);
    expect(banned.json.error.code).toBe('TOO_MANY_ATTEMPTS');
    expect(Number(banned.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const login = await client(t.url, null).post('/api/v1/login', { user: 'alice', password: 'alice-password' });
    expect(login.status).toBe(429);
    // Bad bearer secrets count against the address too.
    expect((await client(t.url, { bearer: 'sgs_nothing' }).get('/api/v1/me')).status).toBe(429);
    skewMs += 1100; // the ban (1 s) is over
    expect((await client(t.url, { basic: ['alice', 'alice-password'] }).get('/api/v1/me')).status).toBe(200);
  });
});

describe('REST over HTTPS', () => {
  let t: TestGateway;
  let certDir: string | undefined;
  afterEach(async () => {
    await t?.close();
    if (certDir) await (await import('node:fs/promises')).rm(certDir, { recursive: true, force: true });
  });

  it('the session cookie is Secure and HSTS is sent when the port speaks HTTPS', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const os = await import('node:os');
    const path = await import('node:path');
    const https = await import('node:https');
    const { loadOrCreateCertificate } = await import('../../src/lib/tls-cert.js');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sg-tls-'));
    certDir = dir;
    const pem = await loadOrCreateCertificate({ dir });
    await writeFile(path.join(dir, 'c.pem'), pem.cert);
    await writeFile(path.join(dir, 'k.pem'), pem.key);
    t = await startTestGateway({ http: { tlsCert: path.join(dir, 'c.pem'), tlsKey: path.join(dir, 'k.pem') } });
    expect(t.url.startsWith('https:')).toBe(true);
    const res = await new Promise<{ headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
      const req = https.request(`${t.url}/api/v1/login`, { method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'application/json' } }, (r) => {
        r.resume();
        r.on('end', () => resolve({ headers: r.headers }));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ user: 'alice', password: 'alice-password', mode: 'cookie' }));
    });
    const cookie = String(res.headers['set-cookie']);
    expect(cookie.toLowerCase()).toContain('secure');
    expect(cookie.toLowerCase()).toContain('httponly');
    expect(res.headers['strict-transport-security']).toBeTruthy();
  });
});
