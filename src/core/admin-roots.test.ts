import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { body, makeCore, readAll, type TestCore } from '../../test/helpers/core.js';
import { isCoreError, type ErrorCode } from './errors.js';
import type { Session } from './session.js';

let t: TestCore;
let carol: Session;
let bob: Session;
beforeEach(async () => {
  t = await makeCore();
  // carol: an admin who neither owns nor was granted bob's root.
  const c = await t.core.accounts.createUser('carol', 'carol-password', true);
  carol = { user: { id: c.id, name: c.name, isAdmin: true }, device: null, protocol: 'rest', requestId: 't' };
  bob = await t.session('bob');
  await t.core.roots.create('bobs', path.join(t.dir, 'roots', 'bobs'), bob.user.id, { mode: 'count', keep: 3 });
  await t.core.connect(bob).write('bobs', 'diary.txt', body('dear diary'));
});
afterEach(async () => {
  await t.close();
});

const code = (c: ErrorCode) => (e: unknown) => isCoreError(e, c);

describe('an admin manages every root without reading it', () => {
  it("lists every root with owner, grants and retention, shares and retains another user's root, yet cannot read its files", async () => {
    const admin = t.core.connect(carol);
    await t.core.connect(bob).grant('bobs', 'alice', 'read');
    const all = admin.adminRoots();
    expect(all.map((r) => r.name).sort()).toEqual(['bobs', 'docs']);
    expect(all.find((r) => r.name === 'bobs')).toEqual({ name: 'bobs', owner: 'bob', access: null, retention: { mode: 'count', keep: 3 }, conflictPolicy: 'keep-both', grants: [{ user: 'alice', mode: 'read' }] });
    // Not among the roots carol may open.
    expect(admin.roots().map((r) => r.name)).not.toContain('bobs');

    const dave = await t.session('dave');
    expect(await admin.grant('bobs', 'dave', 'write')).toEqual({ user: 'dave', mode: 'write' });
    expect(await admin.grants('bobs')).toEqual([{ user: 'alice', mode: 'read' }, { user: 'dave', mode: 'write' }]);
    expect((await readAll((await t.core.connect(dave).read('bobs', 'diary.txt')).stream)).toString()).toBe('dear diary');
    await admin.revokeGrant('bobs', 'alice');
    expect((await admin.setRetention('bobs', { mode: 'days', days: 7 })).retention).toEqual({ mode: 'days', days: 7 });
    expect(admin.adminRoots().find((r) => r.name === 'bobs')).toMatchObject({ retention: { mode: 'days', days: 7 }, grants: [{ user: 'dave', mode: 'write' }] });

    // Least privilege: the files stay closed to carol, and she cannot grant them to herself.
    await expect(admin.read('bobs', 'diary.txt')).rejects.toSatisfy(code('NOT_FOUND'));
    await expect(admin.list('bobs', '')).rejects.toSatisfy(code('NOT_FOUND'));
    await expect(admin.stat('bobs', 'diary.txt')).rejects.toSatisfy(code('NOT_FOUND'));
    await expect(admin.write('bobs', 'x.txt', body('x'))).rejects.toSatisfy(code('NOT_FOUND'));
    await expect(admin.root('bobs')).rejects.toSatisfy(code('NOT_FOUND'));
    await expect(admin.grant('bobs', 'carol', 'read')).rejects.toSatisfy(code('PERMISSION_DENIED'));
    await expect(admin.read('bobs', 'diary.txt')).rejects.toSatisfy(code('NOT_FOUND'));
    await expect(admin.grant('ghost', 'dave', 'read')).rejects.toSatisfy(code('NOT_FOUND'));
  });

  it('a non-admin gets PERMISSION_DENIED, and so does a share link made by an admin', async () => {
    expect(() => t.core.connect(bob).adminRoots()).toThrow(expect.objectContaining({ code: 'PERMISSION_DENIED' }));
    // bob still manages his own root, and only it.
    await expect(t.core.connect(bob).grants('docs')).rejects.toSatisfy(code('NOT_FOUND'));
    const docs = t.core.ctx.roots.byName('docs')!;
    const link: Session = { ...t.admin, protocol: 'share', scope: { rootId: docs.id, path: '', mode: 'write' } };
    const viaLink = t.core.connect(link);
    expect(() => viaLink.adminRoots()).toThrow(expect.objectContaining({ code: 'PERMISSION_DENIED' }));
    await expect(viaLink.grant('bobs', 'dave', 'read')).rejects.toSatisfy(code('PERMISSION_DENIED'));
    await expect(viaLink.grants('docs')).rejects.toSatisfy(code('PERMISSION_DENIED'));
  });
});
