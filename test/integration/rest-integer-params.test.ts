/**
 * Integer parameters of the REST API (query values, ids in paths, tus headers and metadata) are
 * plain decimal digits, through a real gateway and fetch. They were read with Number()/z.coerce,
 * which take '1e3' as 1000 and '0x10' as 16: ?version=0x10 downloaded version 16. Anything but
 * digits (no sign, exponent, hex, point, spaces) or past the safe integer range is 400, its body
 * saying which parameter and why, and nothing changes.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
const auth = { authorization: `Basic ${Buffer.from('alice:alice-password').toString('base64')}` };
const files = () => `${t.url}/api/v1/roots/docs/files`;
const NOT_DECIMAL = ['1e3', '0x10', '+16', '-1', '16.0', ' 16', '16 ', '', '1_0', '９'];

async function refused(url: string, init: RequestInit = {}): Promise<{ status: number; message: string }> {
  const r = await fetch(url, { ...init, headers: { ...auth, ...(init.headers as Record<string, string>) } });
  const body = (await r.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  return { status: r.status, message: `${body.error?.code} ${body.error?.message}` };
}

beforeAll(async () => {
  t = await startTestGateway();
  // Versions 1..16 of v.txt, so ?version=0x10 (16) or 1e1 (10) would name a real one.
  for (let i = 1; i <= 16; i += 1) await t.gw.core.vfs.write(t.alice.session, 'docs', 'v.txt', Readable.from([Buffer.from(`v${i}`)]));
});
afterAll(async () => {
  await t?.close();
});

describe('integer parameters of the REST API', () => {
  it('?version= takes plain decimal digits only; anything else is 400 saying why', async () => {
    const ok = await fetch(`${files()}/v.txt?version=16`, { headers: auth });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('v16');
    expect(await (await fetch(`${files()}/v.txt?version=0010`, { headers: auth })).text()).toBe('v10');
    for (const bad of [...NOT_DECIMAL, '1e1']) {
      const r = await refused(`${files()}/v.txt?version=${encodeURIComponent(bad)}`);
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.message).toMatch(/^INVALID_INPUT version: must be a plain decimal integer \(digits only/);
    }
    for (const [bad, why] of [['9007199254740993', 'must be at most 9007199254740991'], ['0', 'must be at least 1']]) {
      const r = await refused(`${files()}/v.txt?version=${bad}`);
      expect(r.status, bad).toBe(400);
      expect(r.message).toContain(`version: ${why}`);
    }
  });

  it('other integer parameters use the same parser: mtimeMs, baseVersion, after, ids, tus headers', async () => {
    const before = await t.gw.core.vfs.stat(t.alice.session, 'docs', 'v.txt');
    for (const bad of ['1e3', '0x10']) {
      const q = encodeURIComponent(bad);
      for (const param of ['mtimeMs', 'baseVersion']) {
        const put = await refused(`${files()}/v.txt?${param}=${q}`, { method: 'PUT', body: 'changed' });
        expect(put.status, `${param}=${bad}`).toBe(400);
        expect(put.message).toContain(`${param}: must be a plain decimal integer`);
      }
      const events = await refused(`${t.url}/api/v1/roots/docs/events?after=${q}`);
      expect(events.status, `after=${bad}`).toBe(400);
      for (const url of [`${t.url}/api/v1/shares/${q}`, `${t.url}/api/v1/me/tokens/${q}`, `${t.url}/api/v1/roots/docs/conflicts/${q}/resolve`]) {
        const method = url.includes('tokens') ? 'DELETE' : url.endsWith('resolve') ? 'POST' : 'GET';
        expect((await refused(url, { method, headers: { 'content-type': 'application/json' }, ...(method === 'POST' ? { body: '{"resolution":"keep-both"}' } : {}) })).status, url).toBe(400);
      }
      const tus = await refused(`${t.url}/api/v1/uploads`, { method: 'POST', headers: { 'tus-resumable': '1.0.0', 'upload-length': bad } });
      expect(tus.status, `Upload-Length ${bad}`).toBe(400);
      expect(tus.message).toContain('Upload-Length must be a plain decimal integer');
      const b64 = (s: string) => Buffer.from(s).toString('base64');
      const meta = await refused(`${t.url}/api/v1/uploads`, {
        method: 'POST',
        headers: { 'tus-resumable': '1.0.0', 'upload-length': '3', 'upload-metadata': `root ${b64('docs')},path ${b64('v.txt')},baseVersion ${b64(bad)}` },
      });
      expect(meta.status, `tus baseVersion ${bad}`).toBe(400);
      expect(meta.message).toContain('Upload-Metadata baseVersion must be a plain decimal integer');
    }
    const after = await t.gw.core.vfs.stat(t.alice.session, 'docs', 'v.txt');
    expect(after.version).toBe(before.version);
    expect(after.mtimeMs).toBe(before.mtimeMs);
  });
});
