import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('gateway', () => {
  it('starts on a free port with a health endpoint and the default root', async () => {
    t = await startTestGateway();
    const res = await fetch(`${t.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
    expect(t.gw.core.ctx.roots.all().map((r) => r.name).sort()).toEqual(['default', 'docs']);
  });
});
