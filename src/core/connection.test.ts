import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { body, makeCore, readAll, type TestCore } from '../../test/helpers/core.js';
import { isCoreError, type ErrorCode } from './errors.js';
import type { Change } from './types.js';

let t: TestCore;
let clock = 1_700_000_000_000;
beforeEach(async () => {
  clock = 1_700_000_000_000;
  t = await makeCore({ now: () => clock });
});
afterEach(async () => {
  await t.close();
});

const code = (c: ErrorCode) => (e: unknown) => isCoreError(e, c);
const turn = () => new Promise((r) => setImmediate(r));

async function until(pred: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !pred(); i += 1) await new Promise((r) => setTimeout(r, 5));
  expect(pred()).toBe(true);
}

describe('the change feed follower', () => {
  it('replays after a cursor, then goes live, with no gap and no duplicate', async () => {
    const alice = t.core.connect(t.admin);
    for (let i = 0; i < 5; i += 1) await alice.write('docs', `f${i}.txt`, body(`${i}`));
    const seen: Change[] = [];
    const follower = await alice.follow('docs', (c) => seen.push(c), { after: 2, pageSize: 1 });
    // Written while the replay pages through the feed: delivered once, after the replayed changes.
    const late = [alice.write('docs', 'late-1.txt', body('l1')), alice.write('docs', 'late-2.txt', body('l2'))];
    await Promise.all(late);
    await until(() => seen.length === 5);
    await alice.write('docs', 'live.txt', body('live'));
    await until(() => seen.length === 6);
    expect(seen.map((c) => c.seq)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(seen.at(-1)!.path).toBe('live.txt');
    expect(follower.last).toBe(8);
    follower.stop();
    await alice.write('docs', 'after-stop.txt', body('x'));
    await turn();
    expect(seen).toHaveLength(6);
  });

  it('refuses a root the session may not see and ends when the grant goes', async () => {
    const bob = t.core.connect(await t.session('bob'));
    await expect(bob.follow('docs', () => {})).rejects.toSatisfy(code('NOT_FOUND'));
    const alice = t.core.connect(t.admin);
    await alice.grant('docs', 'bob', 'read');
    let ended = false;
    const seen: Change[] = [];
    const follower = await bob.follow('docs', (c) => seen.push(c), { accessCheckMs: 1000, onEnd: () => (ended = true) });
    await alice.write('docs', 'a.txt', body('a'));
    await until(() => seen.length === 1);
    await alice.revokeGrant('docs', 'bob');
    clock += 1001;
    await alice.write('docs', 'b.txt', body('b'));
    await turn();
    expect(seen).toHaveLength(1);
    expect(ended).toBe(true);
    expect(follower.stopped).toBe(true);
  });
});

describe('resumable uploads', () => {
  it('appends at the offset, finishes into one write, and a stale base version makes a conflict copy', async () => {
    const alice = t.core.connect(t.admin);
    const v1 = await alice.write('docs', 'r.txt', body('one'));
    await alice.write('docs', 'r.txt', body('two'));
    const up = await alice.createUpload({ root: 'docs', path: 'r.txt', length: 10, baseVersion: v1.entry.version });
    expect(up.offset).toBe(0);
    expect((await alice.appendUpload(up.id, 0, body('hello'))).offset).toBe(5);
    await expect(alice.appendUpload(up.id, 3, body('xx'))).rejects.toSatisfy((e) => isCoreError(e, 'CONFLICT') && (e as { details: Record<string, unknown> }).details.offset === 5);
    await expect(alice.finishUpload(up.id)).rejects.toSatisfy(code('CONFLICT'));
    await expect(alice.appendUpload(up.id, 5, body('world!'))).rejects.toSatisfy(code('INVALID_INPUT'));
    expect((await alice.upload(up.id)).offset).toBe(5);
    await alice.appendUpload(up.id, 5, body('world'));
    const result = await alice.finishUpload(up.id);
    expect(result.conflict).toBeDefined();
    expect((await readAll((await alice.read('docs', result.entry.path)).stream)).toString()).toBe('helloworld');
    expect((await readAll((await alice.read('docs', 'r.txt')).stream)).toString()).toBe('two');
    await expect(alice.upload(up.id)).rejects.toSatisfy(code('NOT_FOUND'));
  });

  it('belongs to its creator and expires by the core clock', async () => {
    const alice = t.core.connect(t.admin);
    const bobSession = await t.session('bob');
    await alice.grant('docs', 'bob', 'write');
    const up = await alice.createUpload({ root: 'docs', path: 'x.bin', length: 3 });
    await expect(t.core.connect(bobSession).appendUpload(up.id, 0, body('abc'))).rejects.toSatisfy(code('NOT_FOUND'));
    await expect(t.core.connect(await t.session('carol')).createUpload({ root: 'docs', path: 'y', length: 1 })).rejects.toSatisfy(code('NOT_FOUND'));
    clock += 24 * 3600_000 + 1;
    await expect(alice.upload(up.id)).rejects.toSatisfy(code('NOT_FOUND'));
  });
});

describe('rules held by the connection', () => {
  it('lets only the owner or an admin grant a root', async () => {
    const alice = t.core.connect(t.admin);
    const bob = t.core.connect(await t.session('bob'));
    await t.session('carol');
    await alice.grant('docs', 'bob', 'write');
    await expect(bob.grant('docs', 'carol', 'read')).rejects.toSatisfy(code('PERMISSION_DENIED'));
    await expect(bob.grants('docs')).rejects.toSatisfy(code('PERMISSION_DENIED'));
    await expect(bob.revokeGrant('docs', 'bob')).rejects.toSatisfy(code('PERMISSION_DENIED'));
    expect(await alice.grants('docs')).toEqual([{ user: 'bob', mode: 'write' }]);
    await expect(alice.grant('docs', 'alice', 'read')).rejects.toSatisfy(code('INVALID_INPUT'));
    // An admin manages the grants of every root, also one it cannot open (see admin-roots.test.ts).
    const dave = await t.core.accounts.createUser('dave', 'dave-password', true);
    const daveConn = t.core.connect({ user: { id: dave.id, name: 'dave', isAdmin: true }, device: null, protocol: 'rest', requestId: 't' });
    await daveConn.grant('docs', 'carol', 'read');
    expect((await alice.grants('docs')).map((g) => g.user).sort()).toEqual(['bob', 'carol']);
    await expect(daveConn.stat('docs', '')).rejects.toSatisfy(code('NOT_FOUND'));
  });

  it('keeps an admin from disabling or deleting their own account, and non-admins out', async () => {
    const alice = t.core.connect(t.admin);
    expect(() => alice.setUserDisabled('alice', true)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => alice.deleteUser('alice')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    const bob = t.core.connect(await t.session('bob'));
    expect(() => bob.users()).toThrow(expect.objectContaining({ code: 'PERMISSION_DENIED' }));
    expect(() => bob.deleteUser('alice')).toThrow(expect.objectContaining({ code: 'PERMISSION_DENIED' }));
    expect(alice.setUserDisabled('bob', true).disabled).toBe(true);
    alice.deleteUser('bob');
    expect(alice.users().map((u) => u.name)).toEqual(['alice']);
  });

  it('changes dead properties only with write access and the locks held', async () => {
    const alice = t.core.connect(t.admin);
    await alice.write('docs', 'p.txt', body('p'));
    const prop = { namespace: 'urn:x', name: 'colour', value: 'red' };
    const bob = t.core.connect(await t.session('bob'));
    await alice.grant('docs', 'bob', 'read');
    await expect(bob.patchProperties('docs', 'p.txt', [prop], [])).rejects.toSatisfy(code('PERMISSION_DENIED'));
    const { lock } = await alice.lock('docs', 'p.txt', { scope: 'exclusive', depth: '0', timeoutSec: 60, owner: '' });
    await expect(alice.patchProperties('docs', 'p.txt', [prop], [])).rejects.toSatisfy(code('LOCKED'));
    await expect(alice.patchProperties('docs', 'missing.txt', [prop], [])).rejects.toSatisfy(code('NOT_FOUND'));
    const holder = t.core.connect({ ...t.admin, lockTokens: [lock.token] });
    await holder.patchProperties('docs', 'p.txt', [prop], []);
    expect(await alice.properties('docs', 'p.txt')).toEqual([prop]);
  });

  it('locks a new path by creating its empty file, or not at all', async () => {
    const alice = t.core.connect(t.admin);
    const req = { scope: 'exclusive' as const, depth: '0' as const, timeoutSec: 60, owner: '' };
    const made = await alice.lock('docs', 'new.txt', req);
    expect(made.created).toBe(true);
    expect((await alice.stat('docs', 'new.txt')).size).toBe(0);
    expect((await alice.locksOn('docs', 'new.txt')).map((l) => l.token)).toEqual([made.lock.token]);
    await expect(alice.lock('docs', 'no-folder/new.txt', req)).rejects.toSatisfy(code('NOT_FOUND'));
    expect(await alice.locksOfRoot('docs')).toHaveLength(1);
    expect(await alice.statOrNull('docs', 'no-folder/new.txt')).toBeNull();
  });

  it('removes a folder only when it is empty, as one step', async () => {
    const alice = t.core.connect(t.admin);
    await alice.mkdir('docs', 'full');
    await alice.write('docs', 'full/a.txt', body('a'));
    await alice.write('docs', 'file.txt', body('f'));
    await alice.mkdir('docs', 'empty');
    await expect(alice.removeEmptyDir('docs', 'full')).rejects.toSatisfy(code('NOT_EMPTY'));
    await expect(alice.removeEmptyDir('docs', 'file.txt')).rejects.toSatisfy(code('NOT_A_DIRECTORY'));
    await alice.removeEmptyDir('docs', 'empty');
    expect(await alice.statOrNull('docs', 'empty')).toBeNull();
    expect((await alice.stat('docs', 'full/a.txt')).size).toBe(1);
  });

  it('keeps a share-link session inside its link', async () => {
    const alice = t.core.connect(t.admin);
    await alice.mkdir('docs', 'shared');
    await alice.write('docs', 'shared/in.txt', body('in'));
    await alice.write('docs', 'out.txt', body('out'));
    const rootId = t.core.ctx.roots.byName('docs')!.id;
    const link = t.core.connect({ ...t.admin, protocol: 'share', scope: { rootId, path: 'shared', mode: 'read' } });
    expect((await link.list('docs', 'shared')).map((e) => e.name)).toEqual(['in.txt']);
    await expect(link.stat('docs', 'out.txt')).rejects.toSatisfy(code('NOT_FOUND'));
    await expect(link.write('docs', 'shared/new.txt', body('n'))).rejects.toSatisfy(code('PERMISSION_DENIED'));
    expect(() => link.users()).toThrow(expect.objectContaining({ code: 'PERMISSION_DENIED' }));
    expect(() => link.createToken('x')).toThrow(expect.objectContaining({ code: 'PERMISSION_DENIED' }));
    await expect(link.grant('docs', 'alice', 'read')).rejects.toSatisfy(code('PERMISSION_DENIED'));
    await expect(link.createUpload({ root: 'docs', path: 'shared/u.txt', length: 1 })).rejects.toSatisfy(code('PERMISSION_DENIED'));
  });
});

describe('the session kind: what opened a session decides whether it may make new secrets', () => {
  it('a password session makes API tokens, pairing codes and login sessions; a token, device or pairing-code session does not', async () => {
    const carol = await t.core.accounts.createUser('carol', 'carol-password');
    const meta = { protocol: 'rest' as const, requestId: 'r' };
    const byPassword = await t.core.authenticate({ kind: 'password', user: 'carol', secret: 'carol-password' }, meta);
    expect(byPassword.credential).toBe('password');
    const asPassword = t.core.connect(byPassword);
    const apiToken = asPassword.createToken('script').token;
    const code = asPassword.pairDevice().code;
    const login = asPassword.openLoginSession(60_000).token;
    expect((await t.core.authenticate({ kind: 'login-session', token: login }, meta)).credential).toBe('login-session');

    const device = t.core.accounts.registerDevice({ id: carol.id, name: 'carol', isAdmin: false }, '0123456789abcdef0123', 'laptop', null).token;
    const others = [
      await t.core.authenticate({ kind: 'token', token: apiToken }, meta),
      await t.core.authenticate({ kind: 'password', user: 'carol', secret: apiToken }, meta),
      await t.core.authenticate({ kind: 'device', token: device }, meta),
      await t.core.authenticate({ kind: 'pairing-code', code }, meta),
    ];
    expect(others.map((s) => s.credential)).toEqual(['token', 'token', 'device', 'pairing-code']);
    for (const s of others) {
      const c = t.core.connect(s);
      for (const make of [() => c.createToken('replacement'), () => c.pairDevice(), () => c.openLoginSession(60_000)]) {
        expect(make).toThrow(expect.objectContaining({ code: 'PERMISSION_DENIED', message: expect.stringMatching(/needs a password login/) }));
      }
    }
    // A device registers no other device; an API token and a pairing code do (the companion client's login).
    expect(() => t.core.connect(others[2]!).registerDevice('fedcba98765432100000', 'twin')).toThrow(expect.objectContaining({ code: 'PERMISSION_DENIED' }));
    expect(t.core.connect(others[0]!).registerDevice('fedcba98765432100001', 'ci').token).toMatch(/^sgd_/);
    expect(t.core.connect(others[3]!).registerDevice('fedcba98765432100002', 'phone').token).toMatch(/^sgd_/);
  });
});
