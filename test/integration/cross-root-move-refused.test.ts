/**
 * A move into another root is a copy there and a delete here. Before, the delete's checks (write on
 * the source, its locks, its base version) came after the copy: a user who could only read the
 * source got 403 with the file already copied into the destination. Every check the whole move
 * needs now comes first: a refused move leaves both roots as they were.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawFtp } from '../../protocols/ftp/raw-ftp.test-support.js';
import { isCoreError } from '../../src/core/index.js';
import type { Session } from '../../src/core/session.js';
import { body } from '../helpers/core.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const basic = (user: string) => `Basic ${Buffer.from(`${user}:${user}-password`).toString('base64')}`;
const LOCK_BODY = '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>alice</D:owner></D:lockinfo>';

let t: TestGateway;
let bob: Session;

beforeAll(async () => {
  t = await startTestGateway();
  const b = await t.gw.core.accounts.createUser('bob', 'bob-password');
  bob = { user: { id: b.id, name: 'bob', isAdmin: false }, device: null, protocol: 'core', requestId: 'test' };
  await t.gw.core.roots.create('mine', path.join(t.dir, 'roots', 'mine'), b.id, undefined, { operator: true });
  await t.gw.core.vfs.write(t.alice.session, 'docs', 'plan.txt', body('the plan'));
  await t.gw.core.vfs.mkdir(t.alice.session, 'docs', 'shared');
  await t.gw.core.vfs.write(t.alice.session, 'docs', 'shared/held.txt', body('held'));
  await t.gw.core.roots.grant(t.alice.session, 'docs', 'bob', 'read');
});
afterAll(async () => {
  await t?.close();
});

const exists = (root: string, p: string) => t.gw.core.vfs.stat(bob, root, p).then(() => true, (e) => (isCoreError(e, 'NOT_FOUND') ? false : Promise.reject(e)));
const restMove = (user: string, json: unknown) =>
  fetch(`${t.url}/api/v1/roots/docs/move`, { method: 'POST', headers: { authorization: basic(user), 'content-type': 'application/json' }, body: JSON.stringify(json) });

describe('a move into another root that is refused changes neither root', () => {
  it('WebDAV MOVE by a user who may only read the source: 403, nothing in the destination', async () => {
    const res = await fetch(`${t.url}/dav/docs/plan.txt`, { method: 'MOVE', headers: { authorization: basic('bob'), destination: `${t.url}/dav/mine/plan.txt` } });
    expect(res.status).toBe(403);
    expect(await exists('mine', 'plan.txt')).toBe(false);
    expect((await t.gw.core.vfs.list(bob, 'mine', '')).length).toBe(0);
    expect(await exists('docs', 'plan.txt')).toBe(true);
  });

  it('WebDAV MOVE of a folder the user may only read: 403, nothing in the destination', async () => {
    const res = await fetch(`${t.url}/dav/docs/shared/`, { method: 'MOVE', headers: { authorization: basic('bob'), destination: `${t.url}/dav/mine/shared/` } });
    expect(res.status).toBe(403);
    expect((await t.gw.core.vfs.list(bob, 'mine', '')).length).toBe(0);
    expect(await exists('docs', 'shared/held.txt')).toBe(true);
  });

  it('REST move with toRoot by a user who may only read the source: 403, nothing in the destination', async () => {
    const res = await restMove('bob', { from: 'plan.txt', to: 'by-rest.txt', toRoot: 'mine' });
    expect(res.status).toBe(403);
    expect(await exists('mine', 'by-rest.txt')).toBe(false);
    expect((await t.gw.core.vfs.list(bob, 'mine', '')).length).toBe(0);
    expect(await exists('docs', 'plan.txt')).toBe(true);
  });

  it('FTP RNFR/RNTO into another root by a user who may only read the source: 550, nothing in the destination', async () => {
    const c = await RawFtp.connect(t.ftpPort!);
    try {
      await c.login('bob', 'bob-password');
      expect((await c.cmd('RNFR /docs/plan.txt')).code).toBe(350);
      expect((await c.cmd('RNTO /mine/by-ftp.txt')).code).toBe(550);
    } finally {
      c.socket.destroy();
    }
    expect(await exists('mine', 'by-ftp.txt')).toBe(false);
    expect(await exists('docs', 'plan.txt')).toBe(true);
  });

  it("REST move with toRoot of a source at another version than the writer's base: 412, nothing copied", async () => {
    await t.gw.core.roots.grant(t.alice.session, 'docs', 'bob', 'write');
    try {
      const res = await restMove('bob', { from: 'plan.txt', to: 'outdated.txt', toRoot: 'mine', baseVersion: 7 });
      expect(res.status).toBe(412);
      expect(await exists('mine', 'outdated.txt')).toBe(false);
      expect(await exists('docs', 'plan.txt')).toBe(true);
    } finally {
      await t.gw.core.roots.grant(t.alice.session, 'docs', 'bob', 'read');
    }
  });

  it("WebDAV MOVE of a file another user has locked, by a write-grantee: 423, nothing copied", async () => {
    await t.gw.core.roots.grant(t.alice.session, 'docs', 'bob', 'write');
    const lock = await fetch(`${t.url}/dav/docs/plan.txt`, { method: 'LOCK', headers: { authorization: basic('alice'), timeout: 'Second-600', 'content-type': 'application/xml' }, body: LOCK_BODY });
    expect(lock.status).toBe(200);
    try {
      const res = await fetch(`${t.url}/dav/docs/plan.txt`, { method: 'MOVE', headers: { authorization: basic('bob'), destination: `${t.url}/dav/mine/locked.txt` } });
      expect(res.status).toBe(423);
      expect(await exists('mine', 'locked.txt')).toBe(false);
      expect(await exists('docs', 'plan.txt')).toBe(true);
    } finally {
      await fetch(`${t.url}/dav/docs/plan.txt`, { method: 'UNLOCK', headers: { authorization: basic('alice'), 'lock-token': lock.headers.get('lock-token')! } });
      await t.gw.core.roots.grant(t.alice.session, 'docs', 'bob', 'read');
    }
  });

  it('a move the user may make still goes through: the file is in the destination and gone from the source', async () => {
    await t.gw.core.vfs.write(t.alice.session, 'docs', 'go.txt', body('go'));
    await t.gw.core.roots.grant(t.alice.session, 'docs', 'bob', 'write');
    const res = await fetch(`${t.url}/dav/docs/go.txt`, { method: 'MOVE', headers: { authorization: basic('bob'), destination: `${t.url}/dav/mine/go.txt` } });
    expect(res.status).toBe(201);
    expect(await exists('mine', 'go.txt')).toBe(true);
    expect(await exists('docs', 'go.txt')).toBe(false);
  });
});
