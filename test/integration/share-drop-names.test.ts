import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * What an anonymous visitor of a drop link meets when names collide: never an overwrite, never a
 * lost upload because someone else sent the same name at the same moment, and never the owner's
 * folder path or the names already stored (a drop box cannot be listed).
 */
const ALICE = `Basic ${Buffer.from('alice:alice-password').toString('base64')}`;

async function dropLink(t: TestGateway, path: string): Promise<{ token: string; id: number }> {
  const res = await fetch(`${t.url}/api/v1/shares`, {
    method: 'POST',
    headers: { authorization: ALICE, 'content-type': 'application/json' },
    body: JSON.stringify({ root: 'docs', path, uploadOnly: true }),
  });
  expect(res.status).toBe(201);
  const b = (await res.json()) as { token: string; share: { id: number } };
  return { token: b.token, id: b.share.id };
}

async function usesOf(t: TestGateway, id: number): Promise<number> {
  const res = await fetch(`${t.url}/api/v1/shares/${id}`, { headers: { authorization: ALICE } });
  return ((await res.json()) as { share: { downloads: number } }).share.downloads;
}

/**
 * A drop upload whose first byte is sent at once and the rest when finish() is called, from the
 * address `from` (as a trusted proxy names it): one address holds at most half of a link's uploads.
 */
function heldDrop(t: TestGateway, token: string, name: string, data: string, from: string) {
  const u = new URL(t.url);
  let finish = () => {};
  const done = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method: 'PUT', path: `/s/${token}/upload/${encodeURIComponent(name)}`, headers: { 'x-forwarded-for': from } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.write(data.slice(0, 1));
    finish = () => req.end(data.slice(1));
  });
  return { done, finish: () => finish() };
}

describe('drop links: names sent at the same moment', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ http: { trustProxy: true } });
    await t.gw.core.vfs.mkdir(t.alice.session, 'docs', 'Clients/ACME/inbox', { createParents: true });
  });
  afterAll(async () => t?.close());

  it('three visitors dropping "scan.pdf" at once all get 201 and every content is kept under its own name', async () => {
    const { token, id } = await dropLink(t, 'Clients/ACME/inbox');
    const bodies = ['first scan', 'second scan', 'third scan'];
    const drops = bodies.map((b, i) => heldDrop(t, token, 'scan.pdf', b, `203.0.113.${i + 1}`));
    // All three are past the name check (each took its use) before any body is complete.
    for (let i = 0; i < 300 && (await usesOf(t, id)) < 3; i += 1) await new Promise((r) => setTimeout(r, 10));
    for (const d of drops) d.finish();
    const answers = await Promise.all(drops.map((d) => d.done));
    for (const a of answers) {
      expect(a.body).not.toContain('Clients');
      expect(a.status).toBe(201);
      expect(JSON.parse(a.body)).toMatchObject({ name: 'scan.pdf' });
    }
    const stored = await t.gw.core.vfs.list(t.alice.session, 'docs', 'Clients/ACME/inbox');
    expect(stored.map((e) => e.name).sort()).toEqual(['scan (1).pdf', 'scan (2).pdf', 'scan.pdf']);
    const contents = await Promise.all(stored.map(async (e) => (await fetch(`${t.url}/api/v1/roots/docs/files/${e.path.split('/').map(encodeURIComponent).join('/')}`, { headers: { authorization: ALICE } })).text()));
    expect(contents.sort()).toEqual([...bodies].sort());
  });
});
