import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { client } from './rest-client.js';

// The REST face of the root's conflict policy: PATCH/GET on the root, and what an outdated If-Match
// answers under each policy (the rules themselves: src/core/conflict-policy.test.ts).
describe('REST: a root\'s conflict policy', () => {
  let t: TestGateway;
  const alice = () => client(t.url, { basic: ['alice', 'alice-password'] });
  const bob = () => client(t.url, { basic: ['bob', 'bob-password'] });
  const carol = () => client(t.url, { basic: ['carol', 'carol-password'] });
  const admin = () => client(t.url, { basic: ['admin', 'admin-password'] });

  beforeAll(async () => {
    t = await startTestGateway();
    await t.gw.core.accounts.createUser('bob', 'bob-password');
    await t.gw.core.accounts.createUser('carol', 'carol-password');
    expect((await alice().putJson('/api/v1/roots/docs/grants/bob', { mode: 'write' })).status).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is set with PATCH by the owner or an admin, shown by GET, and checked whole before anything is stored', async () => {
    expect((await alice().get('/api/v1/roots/docs')).json.conflictPolicy).toBe('keep-both');
    expect((await bob().patch('/api/v1/roots/docs', { conflictPolicy: 'server-wins' })).status).toBe(403);
    expect((await carol().patch('/api/v1/roots/docs', { conflictPolicy: 'server-wins' })).status).toBe(404);
    const bad = await alice().patch('/api/v1/roots/docs', { retention: { mode: 'count', keep: 3 }, conflictPolicy: 'mine-wins' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain('keep-both, newest-wins, server-wins');
    expect((await alice().get('/api/v1/roots/docs')).json).toMatchObject({ conflictPolicy: 'keep-both', retention: { mode: 'all' } });
    expect((await alice().patch('/api/v1/roots/docs', {})).status).toBe(400);
    const set = await alice().patch('/api/v1/roots/docs', { conflictPolicy: 'newest-wins' });
    expect(set.status).toBe(200);
    expect(set.json).toMatchObject({ name: 'docs', conflictPolicy: 'newest-wins' });
    expect((await bob().get('/api/v1/roots')).json.roots).toContainEqual(expect.objectContaining({ name: 'docs', conflictPolicy: 'newest-wins' }));
    expect((await admin().patch('/api/v1/roots/docs', { conflictPolicy: 'keep-both' })).json.conflictPolicy).toBe('keep-both');
  });

  it('an outdated If-Match: 409 while the server keeps its version, 200 with the record when newest-wins takes yours', async () => {
    const v1 = await alice().put('/api/v1/roots/docs/files/plan.txt', 'one');
    const etag = v1.headers.get('etag')!;
    await bob().put('/api/v1/roots/docs/files/plan.txt', 'theirs');

    await alice().patch('/api/v1/roots/docs', { conflictPolicy: 'server-wins' });
    const held = await alice().put('/api/v1/roots/docs/files/plan.txt', 'mine', { 'if-match': etag });
    expect(held.status).toBe(409);
    expect(held.json.conflict).toMatchObject({ kind: 'edit-edit', policy: 'server-wins', kept: 'server', copyPath: '' });
    expect((await alice().bytes('/api/v1/roots/docs/files/plan.txt')).toString()).toBe('theirs');

    await alice().patch('/api/v1/roots/docs', { conflictPolicy: 'newest-wins' });
    const won = await alice().put('/api/v1/roots/docs/files/plan.txt', 'mine again', { 'if-match': etag });
    expect(won.status).toBe(200);
    expect(won.json.conflict).toMatchObject({ kind: 'edit-edit', policy: 'newest-wins', kept: 'incoming' });
    expect((await alice().bytes('/api/v1/roots/docs/files/plan.txt')).toString()).toBe('mine again');
    await alice().patch('/api/v1/roots/docs', { conflictPolicy: 'keep-both' });
  });
});
