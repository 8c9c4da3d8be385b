/**
 * Issue 22 item 1 (critical): user content is never served as a live page of the gateway's origin,
 * by any door, and the API cannot turn a host folder into a root.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api } from '../../src/client/api.js';
import { isCoreError } from '../../src/core/index.js';
import { body } from '../helpers/core.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const ALICE = basic('alice', 'alice-password');
const ADMIN = basic('admin', 'admin-password');
const SANDBOX = "sandbox; default-src 'none'";
const PAGE = '<!doctype html><script>fetch("/api/v1/me").then(r=>r.text()).then(t=>fetch("/api/v1/tokens",{method:"POST",body:t}))</script>';

let t: TestGateway;

beforeAll(async () => {
  t = await startTestGateway();
  const s = t.alice.session;
  await t.gw.core.vfs.mkdir(s, 'docs', 'drop');
  await t.gw.core.vfs.mkdir(s, 'docs', 'files');
  for (const [name, content] of Object.entries({
    'page.html': PAGE,
    'logo.svg': '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    'feed.xml': '<?xml version="1.0"?><x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(1)</x:script>',
    'app.js': 'alert(1)',
    'blob.unknownext': PAGE,
    'notes.txt': PAGE,
    'photo.png': '\x89PNG\r\n\x1a\n',
  })) {
    await t.gw.core.vfs.write(s, 'docs', `files/${name}`, body(content));
  }
});
afterAll(async () => {
  await t?.close();
});

/** The directives of a CSP header, in any order. */
const directives = (csp: string | null) => new Set((csp ?? '').split(';').map((d) => d.trim()).filter(Boolean));

function expectSafe(res: Response, disposition: 'attachment' | 'inline', what: string): void {
  expect(res.status, what).toBeLessThan(300);
  expect(directives(res.headers.get('content-security-policy')), what).toEqual(directives(SANDBOX));
  expect(res.headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(res.headers.get('content-disposition') ?? '', what).toMatch(new RegExp(`^${disposition}; filename=`));
}

async function shareLink(input: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${t.url}/api/v1/shares`, {
    method: 'POST',
    headers: { authorization: ALICE, 'content-type': 'application/json' },
    body: JSON.stringify({ root: 'docs', ...input }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { url: string }).url;
}

describe('safe downloads (issue 22 item 1)', () => {
  it('an anonymous drop-link upload of invoice.html, opened under /dav/ with Basic, is a sandboxed attachment', async () => {
    const drop = await shareLink({ path: 'drop', uploadOnly: true });
    const up = await fetch(`${drop}/upload/invoice.html`, { method: 'PUT', body: PAGE });
    expect(up.status).toBe(201);
    for (const method of ['GET', 'HEAD']) {
      const res = await fetch(`${t.url}/dav/docs/drop/invoice.html`, { method, headers: { authorization: ALICE } });
      expectSafe(res, 'attachment', `${method} /dav`);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/); // the real type, for WebDAV clients
      expect(res.headers.get('content-disposition')).toMatch(/filename="?invoice\.html"?(;|$)/);
      if (method === 'GET') expect(await res.text()).toBe(PAGE);
    }
  });

  it('WebDAV GET/HEAD: active types are attachments, inline-safe ones inline, all sandboxed', async () => {
    const cases: [string, 'attachment' | 'inline'][] = [
      ['page.html', 'attachment'],
      ['logo.svg', 'attachment'],
      ['feed.xml', 'attachment'],
      ['app.js', 'attachment'],
      ['blob.unknownext', 'attachment'],
      ['notes.txt', 'inline'],
      ['photo.png', 'inline'],
    ];
    for (const [name, disposition] of cases) {
      for (const method of ['GET', 'HEAD']) {
        const res = await fetch(`${t.url}/dav/docs/files/${name}`, { method, headers: { authorization: ALICE } });
        expectSafe(res, disposition, `${method} /dav/${name}`);
        await res.arrayBuffer();
      }
    }
    // A range of an active file is as safe as the whole of it.
    const part = await fetch(`${t.url}/dav/docs/files/page.html`, { headers: { authorization: ALICE, range: 'bytes=0-9' } });
    expect(part.status).toBe(206);
    expectSafe(part, 'attachment', 'ranged GET');
    // The collection listing (our own HTML) is sandboxed too, with downloads allowed (its links).
    const listing = await fetch(`${t.url}/dav/docs/files/`, { headers: { authorization: ALICE } });
    expect(directives(listing.headers.get('content-security-policy'))).toEqual(directives("sandbox allow-downloads; default-src 'none'; frame-ancestors 'none'"));
    expect(listing.headers.get('x-content-type-options')).toBe('nosniff');
    // Nor may another site's page load /dav/ content into its own process (as the HTTP door).
    expect(listing.headers.get('cross-origin-resource-policy')).toBe('same-origin');
  });

  it('REST downloads: attachments unless ?inline=1 asks for an inline-safe type; zips too', async () => {
    for (const name of ['page.html', 'logo.svg', 'notes.txt']) {
      const res = await fetch(`${t.url}/api/v1/roots/docs/files/files/${name}`, { headers: { authorization: ALICE } });
      expectSafe(res, 'attachment', `REST ${name}`);
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      await res.arrayBuffer();
    }
    const svgInline = await fetch(`${t.url}/api/v1/roots/docs/files/files/logo.svg?inline=1`, { headers: { authorization: ALICE } });
    expectSafe(svgInline, 'attachment', 'REST svg ?inline=1');
    expect(svgInline.headers.get('content-type')).toBe('application/octet-stream');
    await svgInline.arrayBuffer();
    const pngInline = await fetch(`${t.url}/api/v1/roots/docs/files/files/photo.png?inline=1`, { headers: { authorization: ALICE } });
    expectSafe(pngInline, 'inline', 'REST png ?inline=1');
    expect(pngInline.headers.get('content-type')).toBe('image/png');
    await pngInline.arrayBuffer();
    const zip = await fetch(`${t.url}/api/v1/roots/docs/zip/files`, { headers: { authorization: ALICE } });
    expectSafe(zip, 'attachment', 'REST zip');
    expect(zip.headers.get('content-type')).toBe('application/zip');
    await zip.arrayBuffer();
  });

  it('share downloads: a single file and a folder zip are sandboxed attachments', async () => {
    const file = await shareLink({ path: 'files/page.html' });
    for (const method of ['GET', 'HEAD']) {
      const res = await fetch(`${file}/download`, { method });
      expectSafe(res, 'attachment', `share file ${method}`);
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      await res.arrayBuffer();
    }
    const folder = await shareLink({ path: 'files' });
    for (const url of [`${folder}/download`, `${folder}/download/logo.svg`]) {
      const res = await fetch(url);
      expectSafe(res, 'attachment', url);
      await res.arrayBuffer();
    }
  });
});

describe('safe downloads through the sync door (issue 22 item 1)', () => {
  it('a file fetched with a device token is a sandboxed attachment too', async () => {
    const login = await new Api(t.url, null).login({ uuid: randomUUID(), name: 'laptop', user: 'alice', password: 'alice-password' });
    const res = await fetch(`${t.url}/sync/v1/roots/docs/file?path=${encodeURIComponent('files/page.html')}`, { headers: { authorization: `Bearer ${login.token}` } });
    expectSafe(res, 'attachment', 'sync file');
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(await res.text()).toBe(PAGE);
  });
});

describe('roots.allowedParents (issue 22 item 1)', () => {
  it('POST /api/v1/roots outside the data folder is refused by default; inside it is made', async () => {
    const outside = await mkdtemp(path.join(os.tmpdir(), 'syncgate-host-'));
    try {
      const post = (name: string, dir: string) =>
        fetch(`${t.url}/api/v1/roots`, { method: 'POST', headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ name, dir }) });
      const refused = await post('host', outside);
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'PERMISSION_DENIED' });
      expect((await post('etc', '/etc')).status).toBe(403);
      // A symlink inside the data folder to a host folder is outside too.
      await mkdir(path.join(t.dir, 'links'), { recursive: true });
      await symlink(outside, path.join(t.dir, 'links', 'host'));
      expect((await post('sneaky', path.join(t.dir, 'links', 'host', 'sub'))).status).toBe(403);
      expect(t.gw.core.ctx.roots.byName('host')).toBeUndefined();
      expect((await post('inside', path.join(t.dir, 'roots', 'inside'))).status).toBe(201);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('with roots.allowedParents set, the API makes roots only inside those folders; the operator (CLI) anywhere', async () => {
    const allowed = await mkdtemp(path.join(os.tmpdir(), 'syncgate-allowed-'));
    const other = await mkdtemp(path.join(os.tmpdir(), 'syncgate-other-'));
    const g = await startTestGateway({ roots: { allowedParents: [allowed] } });
    try {
      const post = (name: string, dir: string) =>
        fetch(`${g.url}/api/v1/roots`, { method: 'POST', headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ name, dir }) });
      expect((await post('team', path.join(allowed, 'team'))).status).toBe(201);
      expect((await post('other', other)).status).toBe(403);
      expect((await post('dotdot', `${allowed}/../${path.basename(other)}`)).status).toBe(403);
      // The data folder is no longer implied once parents are listed.
      expect((await post('data', path.join(g.dir, 'roots', 'data'))).status).toBe(403);
      // The core refuses the same for any caller but the operator.
      await expect(g.gw.core.roots.create('direct', other, null)).rejects.toSatisfy((e) => isCoreError(e, 'PERMISSION_DENIED'));
      const made = await g.gw.core.roots.create('operator', other, null, undefined, { operator: true });
      expect(made.name).toBe('operator');
    } finally {
      await g.close();
      await rm(allowed, { recursive: true, force: true });
      await rm(other, { recursive: true, force: true });
    }
  });
});
