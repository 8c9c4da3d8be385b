import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { client } from './rest-client.js';

/**
 * Issue 22 item 13, decided: a link made by a user whose grant is lowered below write (or removed)
 * is revoked for good; raising the grant again does not bring it back. A disabled account only
 * suspends its links (enabling it again brings them back). README "Share links" says the same.
 */
describe('share links and the grant of their creator', () => {
  let t: TestGateway | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function setUp() {
    t = await startTestGateway();
    const core = t.gw.core;
    const bob = await core.accounts.createUser('bob', 'bob-password');
    await core.roots.grant(t.alice.session, 'docs', 'bob', 'write');
    await core.vfs.write(t.alice.session, 'docs', 'report.txt', Readable.from([Buffer.from('quarterly')]));
    const bobSession = { user: { id: bob.id, name: 'bob', isAdmin: false }, device: null, protocol: 'core' as const, requestId: 't' };
    const { token, link } = await core.shares.create(bobSession, { root: 'docs', path: 'report.txt' });
    const download = async () => (await fetch(`${t!.url}/s/${token}/download`)).status;
    const state = async () => (await client(t!.url, { basic: ['alice', 'alice-password'] }).get(`/api/v1/shares/${link.id}`)).json.share.state;
    return { core, download, state };
  }

  it('a grant lowered to read revokes the link; write again does not bring it back', async () => {
    const { core, download, state } = await setUp();
    expect(await download()).toBe(200);
    await core.roots.grant(t!.alice.session, 'docs', 'bob', 'read');
    expect(await download()).toBe(404);
    await core.roots.grant(t!.alice.session, 'docs', 'bob', 'write');
    expect(await download()).toBe(404);
    expect(await state()).toBe('revoked');
  });

  it('a grant removed revokes the link for good too', async () => {
    const { core, download, state } = await setUp();
    await core.roots.revokeGrant(t!.alice.session, 'docs', 'bob');
    await core.roots.grant(t!.alice.session, 'docs', 'bob', 'write');
    expect(await download()).toBe(404);
    expect(await state()).toBe('revoked');
  });

  it('a disabled creator suspends the link; enabled again, it works again', async () => {
    const { core, download, state } = await setUp();
    core.accounts.setDisabled('bob', true);
    expect(await download()).toBe(404);
    core.accounts.setDisabled('bob', false);
    expect(await download()).toBe(200);
    expect(await state()).toBe('active');
  });
});
