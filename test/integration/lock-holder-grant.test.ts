import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * A WebDAV lock lasts as long as its holder may write the root. Before, the locks of a user whose
 * grant was removed (or lowered to read) outlived it: the owner's own file answered 423 at every
 * door for up to the 7-day lock timeout, and nothing let the owner break it.
 */
const basic = (user: string) => `Basic ${Buffer.from(`${user}:${user}-password`).toString('base64')}`;
const LOCK_BODY = '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>bob</D:owner></D:lockinfo>';

describe('the locks of a user who lost write access', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
    await t.gw.core.accounts.createUser('bob', 'bob-password');
  });
  afterAll(async () => t?.close());

  const grant = (mode: 'read' | 'write' | null) =>
    fetch(`${t.url}/api/v1/roots/docs/grants/bob`, {
      method: mode === null ? 'DELETE' : 'PUT',
      headers: { authorization: basic('alice'), 'content-type': 'application/json' },
      ...(mode === null ? {} : { body: JSON.stringify({ mode }) }),
    });
  const ownerPut = (name: string, body: string) => fetch(`${t.url}/api/v1/roots/docs/files/${name}`, { method: 'PUT', headers: { authorization: basic('alice') }, body });
  const bobLocks = (name: string) =>
    fetch(`${t.url}/dav/docs/${name}`, { method: 'LOCK', headers: { authorization: basic('bob'), depth: 'infinity', timeout: 'Infinite', 'content-type': 'application/xml' }, body: LOCK_BODY });

  for (const [label, after] of [['removed', null], ['lowered to read', 'read']] as const) {
    it(`stop holding the owner's file once the grant is ${label}`, async () => {
      const name = `held-${after ?? 'none'}.txt`;
      expect((await ownerPut(name, 'v1')).status).toBe(201);
      expect((await grant('write')).status).toBe(200);
      expect((await bobLocks(name)).status).toBe(200);
      expect((await ownerPut(name, 'v2')).status).toBe(423);
      expect((await grant(after)).status).toBe(after === null ? 204 : 200);
      expect((await ownerPut(name, 'v3')).status).toBe(200);
      const dav = await fetch(`${t.url}/dav/docs/${name}`, { method: 'PUT', headers: { authorization: basic('alice') }, body: 'v4' });
      expect(dav.status).toBeLessThan(300);
    });
  }

  it("lets the root's owner break a write-grantee's lock it can see (a crashed editor's)", async () => {
    const name = 'stuck.docx';
    expect((await ownerPut(name, 'v1')).status).toBe(201);
    expect((await grant('write')).status).toBe(200);
    const locked = await bobLocks(name);
    expect(locked.status).toBe(200);
    const token = locked.headers.get('lock-token')!;
    // The owner reads the token from the lock discovery, as a WebDAV client does.
    const found = await fetch(`${t.url}/dav/docs/${name}`, { method: 'PROPFIND', headers: { authorization: basic('alice'), depth: '0' } });
    expect(await found.text()).toContain(token.replace(/[<>]/g, ''));
    const unlock = await fetch(`${t.url}/dav/docs/${name}`, { method: 'UNLOCK', headers: { authorization: basic('alice'), 'lock-token': token } });
    expect(unlock.status).toBe(204);
    expect((await ownerPut(name, 'v2')).status).toBe(200);
    // Another write-grantee may not.
    await t.gw.core.accounts.createUser('carol', 'carol-password');
    await fetch(`${t.url}/api/v1/roots/docs/grants/carol`, { method: 'PUT', headers: { authorization: basic('alice'), 'content-type': 'application/json' }, body: JSON.stringify({ mode: 'write' }) });
    const again = (await bobLocks(name)).headers.get('lock-token')!;
    const byCarol = await fetch(`${t.url}/dav/docs/${name}`, { method: 'UNLOCK', headers: { authorization: basic('carol'), 'lock-token': again } });
    expect(byCarol.status).toBe(403);
  });
});
