import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { client } from './rest-client.js';

/** Issue 22 item 12: a stranger's JSON costs little: small bodies before login, no deep nesting. */
let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(async () => {
  await t.close();
});

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const raw = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(t.url + path, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

describe('JSON bodies before and after login (issue 22 item 12)', () => {
  it('the login takes at most 8 KB; a signed-in request keeps the larger limit', async () => {
    const pad = 'p'.repeat(9000);
    const anonymous = await raw('/api/v1/login', JSON.stringify({ user: 'alice', password: 'alice-password', pad }));
    expect(anonymous.status).toBe(413);
    expect((await anonymous.json()).error.code).toBe('QUOTA_EXCEEDED');
    // The same size without a Content-Length (chunked) is cut while reading.
    const chunked = await fetch(`${t.url}/api/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Blob([JSON.stringify({ user: 'alice', password: 'alice-password', pad })]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    const small = await client(t.url, null).post('/api/v1/login', { user: 'alice', password: 'alice-password' });
    expect(small.status).toBe(200);
    const signedIn = await client(t.url, { basic: ['alice', 'alice-password'] }).post('/api/v1/me/tokens', { name: 'laptop', pad });
    expect(signedIn.status).toBe(201);
  });

  it('deep JSON is refused with 400 before it is parsed, with or without login', async () => {
    const login = await raw('/api/v1/login', `{"user":"alice","password":"alice-password","x":${nested(1000)}}`);
    expect(login.status).toBe(400);
    expect((await login.json()).error.message).toMatch(/nests deeper/);
    const basic = { authorization: `Basic ${Buffer.from('alice:alice-password').toString('base64')}` };
    const deep = await raw('/api/v1/me/tokens', `{"name":"t","x":${nested(400_000)}}`, basic);
    expect(deep.status).toBe(400);
    // Brackets inside strings are text, not nesting.
    const inString = await raw('/api/v1/me/tokens', JSON.stringify({ name: `${'['.repeat(60)}\\"{{{` }), basic);
    expect(inString.status).toBe(201);
    // Still 32 levels of honest nesting pass the scan (the schema then judges the shape).
    expect((await raw('/api/v1/me/tokens', `{"name":"ok","x":${nested(31)}}`, basic)).status).toBe(201);
    expect((await client(t.url, null).get('/health')).status).toBe(200);
  });
});
