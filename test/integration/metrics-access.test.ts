import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { client } from './rest-client.js';

/**
 * Issue 22 item 13: /metrics is not for strangers. Default: an administrator's credentials on the main
 * port, or the metrics token when one is set; or a separate listener (http.metricsPort) instead.
 * The OpenAPI document stays public: it describes routes and shapes, nothing of this server's data.
 */
describe('who reads /metrics', () => {
  let t: TestGateway | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('by default: administrators only, by any of their credentials; the API document stays public', async () => {
    t = await startTestGateway();
    expect((await client(t.url, null).get('/metrics')).status).toBe(401);
    expect((await client(t.url, { basic: ['alice', 'alice-password'] }).get('/metrics')).status).toBe(403);
    const admin = await client(t.url, { basic: ['admin', 'admin-password'] }).get('/metrics');
    expect(admin.status).toBe(200);
    expect(admin.text).toMatch(/^syncgate_http_requests_total/m);
    const adminToken = t.gw.core.accounts.createToken(t.gw.core.accounts.user('admin').id, 'prometheus').token;
    expect((await client(t.url, { bearer: adminToken }).get('/metrics')).status).toBe(200);
    expect((await client(t.url, { bearer: 'sgt_made-up' }).get('/metrics')).status).toBe(401);
    const doc = await client(t.url, null).get('/api/v1/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.text).not.toContain(t.dir);
  });

  it('a metrics token opens /metrics and nothing else', async () => {
    t = await startTestGateway({ http: { metricsToken: 'scrape-secret-1234' } });
    expect((await client(t.url, { bearer: 'scrape-secret-1234' }).get('/metrics')).status).toBe(200);
    expect((await client(t.url, { bearer: 'scrape-secret-1234' }).get('/api/v1/me')).status).toBe(401);
    expect((await client(t.url, { bearer: 'wrong-secret' }).get('/metrics')).status).toBe(401);
    expect((await client(t.url, null).get('/metrics')).status).toBe(401);
  });

  it('with http.metricsPort: served on that listener only, and a 404 on the main port', async () => {
    t = await startTestGateway({ http: { metricsPort: 0 } });
    expect(t.gw.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const side = await fetch(t.gw.metricsUrl!);
    expect(side.status).toBe(200);
    expect(await side.text()).toMatch(/^process_cpu_user_seconds_total/m);
    expect((await fetch(t.gw.metricsUrl!.replace('/metrics', '/api/v1/me'))).status).toBe(404);
    expect((await client(t.url, { basic: ['admin', 'admin-password'] }).get('/metrics')).status).toBe(404);
  });

  it('the separate listener asks for the token when one is set', async () => {
    t = await startTestGateway({ http: { metricsPort: 0, metricsToken: 'scrape-secret-1234' } });
    expect((await fetch(t.gw.metricsUrl!)).status).toBe(401);
    expect((await fetch(t.gw.metricsUrl!, { headers: { authorization: 'Bearer scrape-secret-1234' } })).status).toBe(200);
  });
});
