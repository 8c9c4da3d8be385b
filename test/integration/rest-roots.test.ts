import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { client } from './rest-client.js';

describe('REST roots, grants and authorisation', () => {
  let t: TestGateway;
  const alice = () => client(t.url, { basic: ['alice', 'alice-password'] });
  const bob = () => client(t.url, { basic: ['bob', 'bob-password'] });
  const admin = () => client(t.url, { basic: ['admin', 'admin-password'] });

  beforeAll(async () => {
    t = await startTestGateway();
    await t.gw.core.accounts.createUser('bob', 'bob-password');
    await alice().put('/api/v1/roots/docs/files/secret/plan.txt', 'top secret');
    await alice().post('/api/v1/roots/docs/mkdir', { path: 'secret/sub' });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Every route that names a root, as bob would call it. */
  const probes = (root: string): [string, string, { json?: unknown; body?: string; headers?: Record<string, string> }?][] => [
    ['GET', `/api/v1/roots/${root}`],
    ['GET', `/api/v1/roots/${root}/list`],
    ['GET', `/api/v1/roots/${root}/list/secret`],
    ['GET', `/api/v1/roots/${root}/stat/secret/plan.txt`],
    ['GET', `/api/v1/roots/${root}/files/secret/plan.txt`],
    ['HEAD', `/api/v1/roots/${root}/files/secret/plan.txt`],
    ['GET', `/api/v1/roots/${root}/files/secret/plan.txt?version=1`],
    ['PUT', `/api/v1/roots/${root}/files/secret/plan.txt`, { body: 'overwrite' }],
    ['PUT', `/api/v1/roots/${root}/files/new.txt`, { body: 'x' }],
    ['DELETE', `/api/v1/roots/${root}/files/secret/plan.txt`],
    ['POST', `/api/v1/roots/${root}/mkdir`, { json: { path: 'x' } }],
    ['POST', `/api/v1/roots/${root}/move`, { json: { from: 'secret/plan.txt', to: 'p.txt' } }],
    ['POST', `/api/v1/roots/${root}/copy`, { json: { from: 'secret/plan.txt', to: 'p.txt' } }],
    ['GET', `/api/v1/roots/${root}/zip`],
    ['GET', `/api/v1/roots/${root}/zip/secret`],
    ['GET', `/api/v1/roots/${root}/history/secret/plan.txt`],
    ['POST', `/api/v1/roots/${root}/restore`, { json: { path: 'secret/plan.txt', version: 1 } }],
    ['GET', `/api/v1/roots/${root}/deleted`],
    ['POST', `/api/v1/roots/${root}/undelete`, { json: { path: 'secret/plan.txt' } }],
    ['GET', `/api/v1/roots/${root}/conflicts`],
    ['POST', `/api/v1/roots/${root}/conflicts/1/resolve`, { json: { resolution: 'keep-both' } }],
    ['GET', `/api/v1/roots/${root}/grants`],
    ['PUT', `/api/v1/roots/${root}/grants/bob`, { json: { mode: 'write' } }],
    ['DELETE', `/api/v1/roots/${root}/grants/bob`],
    ['GET', `/api/v1/roots/${root}/events`],
    ['POST', '/api/v1/uploads', { headers: { 'tus-resumable': '1.0.0', 'upload-length': '3', 'upload-metadata': `root ${Buffer.from(root).toString('base64')},path ${Buffer.from('t.txt').toString('base64')}` } }],
    ['POST', `/api/v1/roots/${root}/move`, { json: { from: 'x', to: 'y', toRoot: root } }],
    ['POST', '/api/v1/shares', { json: { root, path: 'secret/plan.txt' } }],
  ];

  it("a user never reads, lists or learns of another user's unshared root: every route answers exactly as for a root that does not exist", async () => {
    for (const [method, url, opts] of probes('docs')) {
      const real = await bob().call(method, url, opts);
      const ghostUrl = url.replace('/roots/docs', '/roots/ghost');
      const ghostOpts = JSON.parse(JSON.stringify(opts ?? {}).replaceAll('"docs"', '"ghost"').replaceAll(Buffer.from('docs').toString('base64'), Buffer.from('ghost').toString('base64')));
      const ghost = await bob().call(method, ghostUrl, ghostOpts);
      expect({ url, status: real.status }).toEqual({ url, status: ghost.status });
      expect([404, 400]).toContain(real.status);
      if (method !== 'HEAD') expect(real.json?.error?.code, url).toBe(ghost.json?.error?.code);
      expect(real.text).not.toContain('top secret');
      expect(real.text.replaceAll('docs', 'ghost')).toBe(ghost.text);
    }
    const roots = await bob().get('/api/v1/roots');
    expect(roots.json.roots.map((r: { name: string }) => r.name)).not.toContain('docs');
    // Alice's own file is still intact.
    expect((await alice().bytes('/api/v1/roots/docs/files/secret/plan.txt')).toString()).toBe('top secret');
  });

  it('the owner shares read, then write; the user lists shared roots; the owner lists and revokes grants', async () => {
    expect((await alice().putJson('/api/v1/roots/docs/grants/bob', { mode: 'read' })).status).toBe(200);
    const shared = await bob().get('/api/v1/roots?access=shared');
    expect(shared.json.roots).toEqual([expect.objectContaining({ name: 'docs', owner: 'alice', access: 'read' })]);
    expect((await bob().get('/api/v1/roots?access=owner')).json.roots).toEqual([]);
    expect((await bob().bytes('/api/v1/roots/docs/files/secret/plan.txt')).toString()).toBe('top secret');
    const denied = await bob().put('/api/v1/roots/docs/files/bob.txt', 'b');
    expect(denied.status).toBe(403);
    expect((await bob().get('/api/v1/roots/docs/grants')).status).toBe(403);
    expect((await bob().putJson('/api/v1/roots/docs/grants/bob', { mode: 'write' })).status).toBe(403);
    expect((await alice().putJson('/api/v1/roots/docs/grants/bob', { mode: 'write' })).status).toBe(200);
    expect((await bob().put('/api/v1/roots/docs/files/bob.txt', 'b')).status).toBe(201);
    const grants = await alice().get('/api/v1/roots/docs/grants');
    expect(grants.json.grants).toEqual([{ user: 'bob', mode: 'write' }]);
    expect((await alice().putJson('/api/v1/roots/docs/grants/nobody', { mode: 'write' })).status).toBe(404);
    expect((await alice().putJson('/api/v1/roots/docs/grants/alice', { mode: 'write' })).status).toBe(400);
    expect((await alice().putJson('/api/v1/roots/docs/grants/bob', { mode: 'admin' })).status).toBe(400);
    expect((await alice().del('/api/v1/roots/docs/grants/bob')).status).toBe(204);
    expect((await alice().del('/api/v1/roots/docs/grants/bob')).status).toBe(404);
    expect((await bob().get('/api/v1/roots/docs/list')).status).toBe(404);
  });

  it("an admin lists every root and manages another user's root (grants, retention) without reading its files", async () => {
    expect((await alice().get('/api/v1/admin/roots')).status).toBe(403);
    expect((await client(t.url, null).get('/api/v1/admin/roots')).status).toBe(401);
    const listed = await admin().get('/api/v1/admin/roots');
    expect(listed.status).toBe(200);
    expect(listed.json.roots).toContainEqual({ name: 'docs', owner: 'alice', access: null, retention: { mode: 'all' }, conflictPolicy: 'keep-both', grants: [] });
    expect(listed.text).not.toContain('top secret');
    expect((await admin().putJson('/api/v1/roots/docs/grants/bob', { mode: 'read' })).status).toBe(200);
    expect((await admin().get('/api/v1/roots/docs/grants')).json.grants).toEqual([{ user: 'bob', mode: 'read' }]);
    expect((await bob().bytes('/api/v1/roots/docs/files/secret/plan.txt')).toString()).toBe('top secret');
    expect((await admin().putJson('/api/v1/roots/docs/retention', { mode: 'count', keep: 4 })).status).toBe(200);
    expect((await admin().get('/api/v1/admin/roots')).json.roots).toContainEqual(expect.objectContaining({ name: 'docs', retention: { mode: 'count', keep: 4 }, grants: [{ user: 'bob', mode: 'read' }] }));
    // Least privilege: managing is not reading, and the admin cannot grant the root to itself.
    expect((await admin().get('/api/v1/roots/docs/files/secret/plan.txt')).status).toBe(404);
    expect((await admin().get('/api/v1/roots/docs/list')).status).toBe(404);
    expect((await admin().putJson('/api/v1/roots/docs/grants/admin', { mode: 'read' })).status).toBe(403);
    expect((await admin().del('/api/v1/roots/docs/grants/bob')).status).toBe(204);
    expect((await admin().putJson('/api/v1/roots/docs/retention', { mode: 'all' })).status).toBe(200);
    expect((await bob().get('/api/v1/roots/docs/list')).status).toBe(404);
  });

  it('admin creates and removes roots; other users cannot', async () => {
    const dir = path.join(t.dir, 'roots', 'team');
    expect((await alice().post('/api/v1/roots', { name: 'team', dir })).status).toBe(403);
    const made = await admin().post('/api/v1/roots', { name: 'team', dir, owner: 'bob' });
    expect(made.status).toBe(201);
    expect(made.json).toMatchObject({ name: 'team', owner: 'bob', access: 'owner' });
    expect((await admin().post('/api/v1/roots', { name: 'team', dir })).status).toBe(409);
    expect((await admin().post('/api/v1/roots', { name: 'rel', dir: 'relative/dir' })).status).toBe(400);
    expect((await admin().post('/api/v1/roots', { name: 'x', dir: os.tmpdir(), owner: 'nobody' })).status).toBe(404);
    expect((await bob().put('/api/v1/roots/team/files/a.txt', 'a')).status).toBe(201);
    expect((await bob().get('/api/v1/roots/team')).json.access).toBe('owner');
    expect((await bob().del('/api/v1/roots/team')).status).toBe(403);
    expect((await admin().del('/api/v1/roots/team')).status).toBe(204);
    expect((await bob().get('/api/v1/roots/team/list')).status).toBe(404);
    expect((await admin().del('/api/v1/roots/team')).status).toBe(404);
  });
});
