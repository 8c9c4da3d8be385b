/**
 * Revoking an API token ends the devices it registered. Before, a device registered with a token
 * (`syncgate client login --token`, or POST /api/v1/me/devices with a Bearer token) kept its own
 * device token after the token was revoked, so revoking a leaked token left what it made working.
 * Now the device records the token, and revoking the token revokes it in the same transaction: its
 * next sync request is 401 UNAUTHENTICATED, which the companion client reports as 'this device was
 * refused (revoked?)'. Devices registered by a password, or by another token, are untouched.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, ApiError } from '../../src/client/api.js';
import { runClient } from '../../src/client/main.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { client } from './rest-client.js';

let t: TestGateway;
const password = () => client(t.url, { basic: ['alice', 'alice-password'] });

beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(async () => {
  await t?.close();
});

async function newToken(name: string): Promise<{ id: number; token: string }> {
  const made = await password().post('/api/v1/me/tokens', { name });
  expect(made.status).toBe(201);
  return made.json;
}

/** The sync door's answer to the device's next request: 'ok', or the client's error. */
async function nextRequest(deviceToken: string): Promise<'ok' | { code: string; status: number }> {
  try {
    await new Api(t.url, deviceToken).roots();
    return 'ok';
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { code: err.code, status: err.status };
  }
}

describe('revoking an API token revokes the devices it registered', () => {
  it('client login --token and POST /me/devices with the token: refused (401) after the revoke; password and other-token devices work', async () => {
    const leaked = await newToken('leaked');
    const kept = await newToken('kept');
    const byLogin = (await new Api(t.url, null).login({ uuid: randomUUID(), name: 'laptop', user: 'alice', password: leaked.token })).token;
    const byRest = await client(t.url, { bearer: leaked.token }).post('/api/v1/me/devices', { uuid: randomUUID(), name: 'ci' });
    expect(byRest.status).toBe(201);
    const byPassword = (await new Api(t.url, null).login({ uuid: randomUUID(), name: 'desktop', user: 'alice', password: 'alice-password' })).token;
    const byOther = (await new Api(t.url, null).login({ uuid: randomUUID(), name: 'tablet', user: 'alice', password: kept.token })).token;
    for (const d of [byLogin, byRest.json.token, byPassword, byOther]) expect(await nextRequest(d)).toBe('ok');

    expect((await password().del(`/api/v1/me/tokens/${leaked.id}`)).status).toBe(204);

    // What main.ts and watch.ts take for 'this device was refused (revoked?)'.
    expect(await nextRequest(byLogin)).toEqual({ code: 'UNAUTHENTICATED', status: 401 });
    expect(await nextRequest(byRest.json.token)).toEqual({ code: 'UNAUTHENTICATED', status: 401 });
    expect(await nextRequest(byPassword)).toBe('ok');
    expect(await nextRequest(byOther)).toBe('ok');
    const listed = (await password().get('/api/v1/me/device-sync')).json.devices as { name: string; revoked: boolean }[];
    expect(listed.filter((d) => d.revoked).map((d) => d.name).sort()).toEqual(['ci', 'laptop']);
  });

  it('a device first registered by a token, then again by a password, outlives the token', async () => {
    const token = await newToken('first');
    const uuid = randomUUID();
    await new Api(t.url, null).login({ uuid, name: 'phone', user: 'alice', password: token.token });
    const again = (await new Api(t.url, null).login({ uuid, name: 'phone', user: 'alice', password: 'alice-password' })).token;
    expect((await password().del(`/api/v1/me/tokens/${token.id}`)).status).toBe(204);
    expect(await nextRequest(again)).toBe('ok');
  });

  it('the companion client logged in with --token says its device was refused once the token is revoked', async () => {
    const token = await newToken('client');
    const home = await mkdtemp(path.join(os.tmpdir(), 'sg-token-device-home-'));
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sg-token-device-dir-'));
    const was = process.env.SYNCGATE_CLIENT_HOME;
    process.env.SYNCGATE_CLIENT_HOME = home;
    // runClient writes its error to stderr: read it there for the one failing call, then put write back.
    const write = process.stderr.write.bind(process.stderr);
    let stderr = '';
    try {
      const out = () => {};
      expect(await runClient(['login', t.url, '--user', 'alice', '--token', token.token, '--name', 'cli'], out)).toBe(0);
      expect(await runClient(['link', dir, 'docs'], out)).toBe(0);
      expect((await password().del(`/api/v1/me/tokens/${token.id}`)).status).toBe(204);
      process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
      const code = await runClient(['sync'], out);
      process.stderr.write = write;
      expect(code).toBe(1);
      expect(stderr).toContain('this device was refused (revoked?): run `syncgate client login URL` again');
    } finally {
      process.stderr.write = write;
      if (was === undefined) delete process.env.SYNCGATE_CLIENT_HOME;
      else process.env.SYNCGATE_CLIENT_HOME = was;
      await rm(home, { recursive: true, force: true });
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('deleting a user with a token-registered device removes both (the token reference does not block it)', async () => {
    await t.gw.core.accounts.createUser('carol', 'carol-password');
    const made = await client(t.url, { basic: ['carol', 'carol-password'] }).post('/api/v1/me/tokens', { name: 'carol-script' });
    const device = (await new Api(t.url, null).login({ uuid: randomUUID(), name: 'carol-laptop', user: 'carol', password: made.json.token })).token;
    expect(await nextRequest(device)).toBe('ok');
    expect((await client(t.url, { basic: ['admin', 'admin-password'] }).del('/api/v1/users/carol')).status).toBe(204);
    expect(await nextRequest(device)).toEqual({ code: 'UNAUTHENTICATED', status: 401 });
  });
});
