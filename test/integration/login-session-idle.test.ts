import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { client } from './rest-client.js';

/** Issue 22 item 13: a cookie session ends after http.sessionIdleHours unused, not only after 30 days. */
describe('login sessions end when left idle', () => {
  let t: TestGateway | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('a cookie (and a bearer session) in use lives on; one idle past sessionIdleHours is refused and deleted', async () => {
    let now = Date.now();
    const HOUR = 3600_000;
    t = await startTestGateway({ http: { sessionIdleHours: 12, sessionTtlHours: 720 } }, { now: () => now });
    const login = await client(t.url, null).post('/api/v1/login', { user: 'alice', password: 'alice-password', mode: 'cookie' });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const bearer = (await client(t.url, null).post('/api/v1/login', { user: 'alice', password: 'alice-password' })).json.token as string;
    const me = (creds: Parameters<typeof client>[1]) => client(t!.url, creds).get('/api/v1/me');

    // Used every 11 hours: alive after 33 hours, more than the idle timeout thrice over.
    for (let i = 0; i < 3; i += 1) {
      now += 11 * HOUR;
      expect((await me({ cookie })).status).toBe(200);
    }
    // The bearer session was not used all that time.
    expect((await me({ bearer })).status).toBe(401);
    now += 12 * HOUR + 60_000;
    const idle = await me({ cookie });
    expect(idle.status).toBe(401);
    expect(idle.headers.get('set-cookie')).toMatch(/sg_session=;/); // the browser forgets it
    now -= 12 * HOUR; // the row is gone: turning the clock back does not revive it
    expect((await me({ cookie })).status).toBe(401);
  });

  it('the absolute lifetime still ends a session in constant use', async () => {
    let now = Date.now();
    t = await startTestGateway({ http: { sessionIdleHours: 12, sessionTtlHours: 24 } }, { now: () => now });
    const token = (await client(t.url, null).post('/api/v1/login', { user: 'alice', password: 'alice-password' })).json.token as string;
    for (let i = 0; i < 2; i += 1) {
      now += 11 * 3600_000;
      expect((await client(t.url, { bearer: token }).get('/api/v1/me')).status).toBe(200);
    }
    now += 2 * 3600_000 + 1; // idle two hours only, but 24 hours old
    expect((await client(t.url, { bearer: token }).get('/api/v1/me')).status).toBe(401);
  });
});
