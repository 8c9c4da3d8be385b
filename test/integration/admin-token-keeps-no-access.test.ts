/**
 * A leaked admin API token (or device token) must not leave an account of its own behind that
 * outlives its revocation: creating a user (an admin one too), setting a user's password, enabling
 * a disabled user, sharing a root (giving or changing a grant) and creating a root for another owner
 * now need a password session (Basic user:password, the web page's cookie, a login session it
 * opened), as creating API tokens does (token-makes-no-secret.test.ts). What takes access away
 * (disabling, deleting a user, revoking a grant) and share links stay open to tokens: scripts use
 * them. The admin CLI does not go through a door's session and is not refused.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api } from '../../src/client/api.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { client, type Creds } from './rest-client.js';

let t: TestGateway;
let adminToken: string;
let adminDevice: string;
let aliceToken: string;
const adminPassword = (): Creds => ({ basic: ['admin', 'admin-password'] });

beforeAll(async () => {
  t = await startTestGateway();
  adminToken = (await client(t.url, adminPassword()).post('/api/v1/me/tokens', { name: 'ops script' })).json.token;
  adminDevice = (await new Api(t.url, null).login({ uuid: randomUUID(), name: 'admin laptop', user: 'admin', password: 'admin-password' })).token;
  aliceToken = (await client(t.url, { basic: ['alice', 'alice-password'] }).post('/api/v1/me/tokens', { name: 'backup' })).json.token;
  expect((await client(t.url, adminPassword()).post('/api/v1/users', { name: 'bob', password: 'bob-password' })).status).toBe(201);
});
afterAll(async () => {
  await t?.close();
});

async function cookieSession(): Promise<Creds> {
  const res = await client(t.url, null).post('/api/v1/login', { user: 'admin', password: 'admin-password', mode: 'cookie' });
  expect(res.status).toBe(200);
  return { cookie: res.headers.get('set-cookie')!.split(';')[0]!, csrf: res.json.csrfToken };
}

const refused = (res: { status: number; json: any }) => {
  expect(res.status).toBe(403);
  expect(res.json.error.message).toMatch(/needs a password login/);
};

const tokenSessions: [string, () => Creds][] = [
  ['Bearer admin API token', () => ({ bearer: adminToken })],
  ['admin API token as the Basic password', () => ({ basic: ['admin', adminToken] })],
  ['Bearer admin device token', () => ({ bearer: adminDevice })],
];

describe('a leaked admin token keeps no access of its own', () => {
  for (const [label, creds] of tokenSessions) {
    it(`${label}: no new user, no password set, no user enabled, no grant, no root for another owner`, async () => {
      const c = client(t.url, creds());
      refused(await c.post('/api/v1/users', { name: 'eve', password: 'eve-password', isAdmin: true }));
      refused(await c.post('/api/v1/users', { name: 'eve', password: 'eve-password' }));
      refused(await c.patch('/api/v1/users/bob', { password: 'taken-over' }));
      refused(await c.patch('/api/v1/users/admin', { password: 'taken-over' }));
      // Checked before anything is stored: the disable in the same request is not applied either.
      refused(await c.patch('/api/v1/users/bob', { disabled: true, password: 'taken-over' }));
      refused(await c.putJson('/api/v1/roots/default/grants/bob', { mode: 'write' }));
      refused(await c.post('/api/v1/roots', { name: 'eves', dir: path.join(t.dir, 'roots', 'eves'), owner: 'bob' }));

      const admin = client(t.url, adminPassword());
      expect((await admin.get('/api/v1/users')).json.users.map((u: { name: string }) => u.name).sort()).toEqual(['admin', 'alice', 'bob']);
      expect((await admin.get('/api/v1/users/bob')).json.disabled).toBe(false);
      expect((await client(t.url, { basic: ['bob', 'bob-password'] }).get('/api/v1/me')).status).toBe(200);
      expect((await admin.get('/api/v1/roots/default/grants')).json.grants).toEqual([]);
      expect((await admin.get('/api/v1/admin/roots')).json.roots.map((r: { name: string }) => r.name).sort()).toEqual(['default', 'docs']);
    });
  }

  it('a token may still take access away: disable (not enable again), revoke a grant', async () => {
    const c = client(t.url, { bearer: adminToken });
    const admin = client(t.url, adminPassword());
    expect((await c.patch('/api/v1/users/bob', { disabled: true })).status).toBe(200);
    refused(await c.patch('/api/v1/users/bob', { disabled: false }));
    expect((await admin.get('/api/v1/users/bob')).json.disabled).toBe(true);
    expect((await admin.patch('/api/v1/users/bob', { disabled: false })).json.disabled).toBe(false);
    expect((await admin.putJson('/api/v1/roots/default/grants/bob', { mode: 'read' })).status).toBe(200);
    expect((await c.del('/api/v1/roots/default/grants/bob')).status).toBe(204);
    expect((await admin.get('/api/v1/roots/default/grants')).json.grants).toEqual([]);
  });

  it("an owner's API token shares no root either; it still makes share links", async () => {
    const alice = client(t.url, { bearer: aliceToken });
    refused(await alice.putJson('/api/v1/roots/docs/grants/bob', { mode: 'read' }));
    expect((await client(t.url, { basic: ['alice', 'alice-password'] }).get('/api/v1/roots/docs/grants')).json.grants).toEqual([]);
    expect((await alice.put('/api/v1/roots/docs/files/report.txt', 'r')).status).toBe(201);
    const link = await alice.post('/api/v1/shares', { root: 'docs', path: 'report.txt' });
    expect(link.status).toBe(201);
    expect((await client(t.url, null).get(new URL(link.json.downloadUrl).pathname)).text).toBe('r');
  });

  it('a password session does all of it: Basic password, the web page cookie, a login session bearer', async () => {
    const login = await client(t.url, null).post('/api/v1/login', { user: 'admin', password: 'admin-password' });
    let n = 0;
    for (const creds of [adminPassword(), await cookieSession(), { bearer: login.json.token }] as Creds[]) {
      const c = client(t.url, creds);
      const name = `user${++n}`;
      expect((await c.post('/api/v1/users', { name, password: 'first-password', isAdmin: n === 1 })).status).toBe(201);
      expect((await c.patch(`/api/v1/users/${name}`, { disabled: true })).json.disabled).toBe(true);
      expect((await c.patch(`/api/v1/users/${name}`, { disabled: false, password: 'second-password' })).json.disabled).toBe(false);
      expect((await client(t.url, { basic: [name, 'second-password'] }).get('/api/v1/me')).status).toBe(200);
      expect((await c.putJson(`/api/v1/roots/default/grants/${name}`, { mode: 'write' })).status).toBe(200);
      const made = await c.post('/api/v1/roots', { name: `${name}-root`, dir: path.join(t.dir, 'roots', `${name}-root`), owner: name });
      expect(made.status).toBe(201);
    }
    expect((await client(t.url, { basic: ['user1', 'second-password'] }).get('/api/v1/me')).json.user.isAdmin).toBe(true);
    // The root for the admin itself stays open to its token: nobody else is given anything.
    const own = await client(t.url, { bearer: adminToken }).post('/api/v1/roots', { name: 'ops', dir: path.join(t.dir, 'roots', 'ops') });
    expect(own.status).toBe(201);
  });
});
