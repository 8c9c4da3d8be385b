import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdir, rm, symlink, mkdir as fsMkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { body, makeCore, readAll, type TestCore } from '../../test/helpers/core.js';
import { isCoreError, type ErrorCode } from './errors.js';

let t: TestCore;
beforeEach(async () => {
  t = await makeCore();
});
afterEach(async () => {
  await t.close();
});

const code = (c: ErrorCode) => (e: unknown) => isCoreError(e, c);

describe('grants', () => {
  it('hides unshared roots and enforces read-only grants', async () => {
    const bob = await t.session('bob');
    await expect(t.core.vfs.list(bob, 'docs', '')).rejects.toSatisfy(code('NOT_FOUND'));
    expect(t.core.roots.list(bob)).toEqual([]);
    const docs = t.core.ctx.roots.byName('docs')!;
    t.core.ctx.roots.grant(docs.id, bob.user.id, 'read');
    await t.core.vfs.write(t.admin, 'docs', 'x.txt', body('x'));
    expect((await t.core.vfs.list(bob, 'docs', '')).map((e) => e.name)).toEqual(['x.txt']);
    await expect(t.core.vfs.write(bob, 'docs', 'y.txt', body('y'))).rejects.toSatisfy(code('PERMISSION_DENIED'));
    t.core.ctx.roots.grant(docs.id, bob.user.id, 'write');
    expect((await t.core.vfs.write(bob, 'docs', 'y.txt', body('y'))).entry.version).toBe(1);
    expect((await t.core.vfs.history(t.admin, 'docs', 'y.txt'))[0]!.user).toBe('bob');
  });
});

describe('folders', () => {
  it('moves and deletes whole trees with history for every file', async () => {
    const { vfs } = t.core;
    await vfs.mkdir(t.admin, 'docs', 'a');
    await vfs.write(t.admin, 'docs', 'a/one.txt', body('1'));
    await vfs.write(t.admin, 'docs', 'a/sub/two.txt', body('2'), { createParents: true });
    await vfs.move(t.admin, 'docs', 'a', 'b');
    expect((await vfs.list(t.admin, 'docs', 'b/sub')).map((e) => e.name)).toEqual(['two.txt']);
    expect((await vfs.history(t.admin, 'docs', 'b/sub/two.txt'))[0]!.op).toBe('move-in');
    await vfs.delete(t.admin, 'docs', 'b');
    expect((await vfs.deleted(t.admin, 'docs')).map((e) => e.path).sort()).toEqual(['b/one.txt', 'b/sub/two.txt']);
    await vfs.restore(t.admin, 'docs', 'b/sub/two.txt', 1);
    expect((await readAll((await vfs.read(t.admin, 'docs', 'b/sub/two.txt')).stream)).toString()).toBe('2');
  });

  it('copies a tree into independent files', async () => {
    const { vfs } = t.core;
    await vfs.write(t.admin, 'docs', 'src/f.txt', body('orig'), { createParents: true });
    await vfs.copy(t.admin, 'docs', 'src', 'dst');
    await vfs.write(t.admin, 'docs', 'dst/f.txt', body('changed'));
    expect((await readAll((await vfs.read(t.admin, 'docs', 'src/f.txt')).stream)).toString()).toBe('orig');
  });

  it('copies a whole root into a folder of another root', async () => {
    const { vfs } = t.core;
    await t.core.roots.create('backups', path.join(t.dir, 'roots', 'backups'), t.admin.user.id);
    await vfs.write(t.admin, 'docs', 'a/x.txt', body('x'), { createParents: true });
    await vfs.write(t.admin, 'docs', 'top.txt', body('t'));
    await vfs.copy(t.admin, 'docs', '', 'monday', { toRoot: 'backups' });
    expect((await vfs.list(t.admin, 'backups', '')).map((e) => e.name)).toEqual(['monday']);
    expect((await vfs.list(t.admin, 'backups', 'monday')).map((e) => e.name).sort()).toEqual(['a', 'top.txt']);
    expect((await readAll((await vfs.read(t.admin, 'backups', 'monday/a/x.txt')).stream)).toString()).toBe('x');
  });

  it('answers the error codes doors map', async () => {
    const { vfs } = t.core;
    await expect(vfs.write(t.admin, 'docs', 'no/parent.txt', body('x'))).rejects.toSatisfy(code('NOT_FOUND'));
    await vfs.mkdir(t.admin, 'docs', 'd');
    await expect(vfs.mkdir(t.admin, 'docs', 'd')).rejects.toSatisfy(code('ALREADY_EXISTS'));
    await expect(vfs.write(t.admin, 'docs', 'd', body('x'))).rejects.toSatisfy(code('IS_A_DIRECTORY'));
    await vfs.write(t.admin, 'docs', 'f', body('x'));
    await expect(vfs.list(t.admin, 'docs', 'f')).rejects.toSatisfy(code('NOT_A_DIRECTORY'));
    await expect(vfs.move(t.admin, 'docs', 'd', 'd/inside')).rejects.toSatisfy(code('INVALID_INPUT'));
    await expect(vfs.move(t.admin, 'docs', 'f', 'd2', { baseVersion: 7 })).rejects.toSatisfy(code('PRECONDITION_FAILED'));
    await expect(vfs.write(t.admin, 'docs', 'f', body('y'), { createOnly: true })).rejects.toSatisfy(code('ALREADY_EXISTS'));
    await expect(vfs.read(t.admin, 'docs', 'f', { start: 5 })).rejects.toSatisfy(code('RANGE_NOT_SATISFIABLE'));
    await expect(vfs.delete(t.admin, 'docs', '')).rejects.toSatisfy(code('PERMISSION_DENIED'));
  });
});

describe('locks', () => {
  it('refuses writes to a locked file without the token, from any door', async () => {
    const { vfs, locks } = t.core;
    await vfs.write(t.admin, 'docs', 'l.txt', body('x'));
    const rootId = t.core.ctx.roots.byName('docs')!.id;
    const lock = locks.lock(t.admin, rootId, 'l.txt', { scope: 'exclusive', depth: '0', timeoutSec: 60, owner: '' });
    await expect(vfs.write({ ...t.admin, protocol: 'ftp' }, 'docs', 'l.txt', body('y'))).rejects.toSatisfy(code('LOCKED'));
    await expect(vfs.delete(t.admin, 'docs', 'l.txt')).rejects.toSatisfy(code('LOCKED'));
    expect(() => locks.lock(t.admin, rootId, 'l.txt', { scope: 'shared', depth: '0', timeoutSec: 60, owner: '' })).toThrow();
    await vfs.write({ ...t.admin, lockTokens: [lock.token] }, 'docs', 'l.txt', body('y'));
    locks.unlock(t.admin, rootId, 'l.txt', lock.token);
    await vfs.write(t.admin, 'docs', 'l.txt', body('z'));
  });
});

describe('retention', () => {
  it('keeps N versions and removes unreferenced blobs, never the head', async () => {
    const { vfs } = t.core;
    t.core.roots.setRetention('docs', { mode: 'count', keep: 2 });
    for (const c of ['a', 'b', 'c', 'd']) await vfs.write(t.admin, 'docs', 'r.txt', body(c));
    const hist = await vfs.history(t.admin, 'docs', 'r.txt');
    expect(hist.map((h) => h.available)).toEqual([true, true, false, false]);
    await expect(vfs.read(t.admin, 'docs', 'r.txt', { version: 1 })).rejects.toSatisfy(code('NOT_FOUND'));
    expect((await readAll((await vfs.read(t.admin, 'docs', 'r.txt', { version: 3 })).stream)).toString()).toBe('c');
    const blobs = (await readdir(t.core.ctx.store.blobDir, { recursive: true })).filter((f) => f.length > 10);
    expect(blobs).toHaveLength(1);
  });
});

describe('path safety on disk', () => {
  it('refuses a symlink that leads out of the root', async () => {
    const outside = await fsMkdirTemp();
    try {
      await writeFile(path.join(outside, 'secret.txt'), 'secret');
      await symlink(outside, path.join(t.rootDir, 'escape'));
      await expect(t.core.vfs.write(t.admin, 'docs', 'escape/new.txt', body('x'))).rejects.toBeDefined();
      await expect(t.core.vfs.read(t.admin, 'docs', 'escape/secret.txt')).rejects.toBeDefined();
      expect(await readdir(outside)).toEqual(['secret.txt']);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});

describe('accounts', () => {
  it('authenticates passwords and API tokens, refuses wrong ones and disabled users', async () => {
    const { accounts } = t.core;
    const u = await accounts.createUser('carol', 'carol-password');
    expect((await accounts.authenticate('carol', 'carol-password', { protocol: 'rest' })).name).toBe('carol');
    await expect(accounts.authenticate('carol', 'nope-nope', { protocol: 'rest' })).rejects.toSatisfy(code('UNAUTHENTICATED'));
    const tok = accounts.createToken(u.id, 'laptop');
    expect(tok.token.length).toBeGreaterThan(40);
    expect((await accounts.authenticate('carol', tok.token, { protocol: 'ftp' })).id).toBe(u.id);
    accounts.revokeToken(u.id, tok.id);
    await expect(accounts.authenticate('carol', tok.token, { protocol: 'ftp' })).rejects.toSatisfy(code('UNAUTHENTICATED'));
    accounts.setDisabled('carol', true);
    await expect(accounts.authenticate('carol', 'carol-password', { protocol: 'rest' })).rejects.toSatisfy(code('UNAUTHENTICATED'));
    expect(t.core.ctx.accounts.userByName('carol')!.passwordHash).toMatch(/^\$argon2id\$/);
  });
});

async function fsMkdirTemp(): Promise<string> {
  const d = path.join(os.tmpdir(), `sg-outside-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  await fsMkdir(d, { recursive: true });
  return d;
}

// The verified-password cache is tested in verified-passwords.test.ts (on the core's clock).

describe('secrets without a user name', () => {
  // Session and device tokens were checked against the login guard by the REST door only; the core
  // now counts every failure itself, whichever door resumes the secret.
  it('count failed session and device tokens toward the address ban', async () => {
    const { accounts } = t.core;
    const u = await accounts.createUser('gus', 'gus-password');
    const good = accounts.openLoginSession(accounts.user('gus'), 60_000, '10.0.0.9');
    for (let i = 0; i < 5; i += 1) {
      expect(() => accounts.resumeLoginSession('sgs_wrong', '10.0.0.9')).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
      expect(() => accounts.deviceSession('sgd_wrong', 'rest', 'r', '10.0.0.9')).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
    }
    expect(() => accounts.resumeLoginSession(good.token, '10.0.0.9')).toThrow(expect.objectContaining({ code: 'TOO_MANY_ATTEMPTS' }));
    expect(accounts.resumeLoginSession(good.token, '10.0.0.10').id).toBe(u.id); // another address is not banned
  });
});

describe('ignored names', () => {
  it('refuses to store a name the server ignores, whatever the door', async () => {
    const { createCore } = await import('./index.js');
    const pino = (await import('pino')).default;
    const dir = path.join(t.dir, 'other');
    const core = await createCore({
      dataDir: dir, dbFile: path.join(dir, 'syncgate.db'), log: pino({ level: 'silent' }), kdf: { memoryKiB: 64, iterations: 1 },
      guard: { freeAttempts: 3, banAfter: 10, windowMs: 60_000, banMs: 60_000, maxDelayMs: 0 }, ignoredNames: ['.DS_Store', '._*'],
    });
    try {
      const u = await core.accounts.createUser('erin', 'erin-password');
      await core.roots.create('mac', path.join(dir, 'roots', 'mac'), u.id);
      const s = { user: { id: u.id, name: 'erin', isAdmin: false }, device: null, protocol: 'ftp' as const, requestId: 't' };
      for (const name of ['.DS_Store', 'sub/._photo.jpg']) {
        await expect(core.vfs.write(s, 'mac', name, body('x'), { createParents: true })).rejects.toSatisfy(code('INVALID_PATH'));
      }
      expect((await core.vfs.write(s, 'mac', 'normal._name', body('x'))).entry.version).toBe(1);
    } finally {
      core.close();
    }
  });
});
