/**
 * A leaked API token, device token or pairing code must not be able to leave a replacement behind
 * that outlives its revocation. Before, any session (Bearer sgt_, Basic user:sgt_, Bearer sgd_)
 * could create API tokens and pairing codes, and log in (POST /api/v1/login with the token as the
 * password) to a login session; a device token could register another device. Now those need a
 * password session (Basic user:password, the web page's cookie, a login session it opened): 403
 * saying so otherwise. The companion client's own flows are kept: `client login --token sgt_...`
 * (an API token registers a device) and `--code` (a pairing code does).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api } from '../../src/client/api.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { client, type Creds } from './rest-client.js';

let t: TestGateway;
let apiToken: string;
let deviceToken: string;

beforeAll(async () => {
  t = await startTestGateway();
  const password = client(t.url, { basic: ['alice', 'alice-password'] });
  apiToken = (await password.post('/api/v1/me/tokens', { name: 'script' })).json.token;
  deviceToken = (await new Api(t.url, null).login({ uuid: randomUUID(), name: 'laptop', user: 'alice', password: apiToken })).token;
});
afterAll(async () => {
  await t?.close();
});

/** Every way to make a new secret over REST, as `creds` would call it. */
const makers = (creds: Creds) => {
  const c = client(t.url, creds);
  return {
    token: () => c.post('/api/v1/me/tokens', { name: 'replacement' }),
    pairing: () => c.post('/api/v1/me/pairing-codes', {}),
    devicePairing: () => c.post('/api/v1/me/devices/pairing', {}),
  };
};

async function cookieSession(): Promise<Creds> {
  const res = await client(t.url, null).post('/api/v1/login', { user: 'alice', password: 'alice-password', mode: 'cookie' });
  expect(res.status).toBe(200);
  return { cookie: res.headers.get('set-cookie')!.split(';')[0]!, csrf: res.json.csrfToken };
}

describe('a token session makes no new secrets', () => {
  for (const [label, creds] of [
    ['Bearer API token', () => ({ bearer: apiToken })],
    ['API token as the Basic password', () => ({ basic: ['alice', apiToken] })],
    ['Bearer device token', () => ({ bearer: deviceToken })],
  ] as [string, () => Creds][]) {
    it(`${label}: creating an API token or a pairing code is 403, saying a password login is needed`, async () => {
      const m = makers(creds());
      for (const make of [m.token, m.pairing, m.devicePairing]) {
        const res = await make();
        expect(res.status).toBe(403);
        expect(res.json.error.message).toMatch(/needs a password login/);
      }
      // Nothing was made: alice still has her one token.
      const list = await client(t.url, { basic: ['alice', 'alice-password'] }).get('/api/v1/me/tokens');
      expect(list.json.tokens.map((x: { name: string }) => x.name)).toEqual(['script']);
    });
  }

  it('an API token is not a password at POST /api/v1/login: no login session from it', async () => {
    for (const mode of ['token', 'cookie']) {
      const res = await client(t.url, null).post('/api/v1/login', { user: 'alice', password: apiToken, mode });
      expect(res.status).toBe(403);
      expect(res.json.error.message).toMatch(/needs a password login/);
      expect(res.headers.get('set-cookie')).toBeNull();
    }
  });

  it('a device token registers no other device; an API token still does (client login --token)', async () => {
    const byDevice = await client(t.url, { bearer: deviceToken }).post('/api/v1/me/devices', { uuid: randomUUID(), name: 'twin' });
    expect(byDevice.status).toBe(403);
    expect(byDevice.json.error.message).toMatch(/device token cannot make another/);
    const byToken = await client(t.url, { bearer: apiToken }).post('/api/v1/me/devices', { uuid: randomUUID(), name: 'ci' });
    expect(byToken.status).toBe(201);
  });

  it('a password session makes them: Basic password, the web page cookie, a login session bearer', async () => {
    const login = await client(t.url, null).post('/api/v1/login', { user: 'alice', password: 'alice-password' });
    for (const creds of [{ basic: ['alice', 'alice-password'] }, await cookieSession(), { bearer: login.json.token }] as Creds[]) {
      const m = makers(creds);
      const made = await m.token();
      expect(made.status).toBe(201);
      expect(made.json.token).toMatch(/^sgt_/);
      expect((await m.pairing()).status).toBe(201);
      expect((await m.devicePairing()).status).toBe(201);
    }
  });

  it('a pairing code made by a password session still registers the companion client (client login --code)', async () => {
    const code = (await makers({ basic: ['alice', 'alice-password'] }).pairing()).json.code;
    const paired = await new Api(t.url, null).login({ uuid: randomUUID(), name: 'phone', pairingCode: code });
    expect(paired.token).toMatch(/^sgd_/);
    // The paired device, like any device, makes no pairing code of its own.
    expect((await makers({ bearer: paired.token }).pairing()).status).toBe(403);
  });
});
