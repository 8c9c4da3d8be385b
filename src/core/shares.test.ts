import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { body, makeCore, readAll, type TestCore } from '../../test/helpers/core.js';
import { isCoreError, type Session } from './index.js';
import { ShareLinks } from './shares.js';

let t: TestCore;
let shares: ShareLinks;
let clock: number;
let alice: Session;

async function code(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'OK';
  } catch (err) {
    if (isCoreError(err)) return err.code;
    throw err;
  }
}

beforeEach(async () => {
  t = await makeCore();
  clock = Date.now();
  shares = new ShareLinks(t.core.ctx, t.core.roots, t.core.accounts, t.core.guard, { now: () => clock, cookieTtlMs: 60_000 });
  alice = { ...t.admin, user: { ...t.admin.user, isAdmin: false } };
  await t.core.vfs.mkdir(alice, 'docs', 'pub');
  await t.core.vfs.write(alice, 'docs', 'pub/a.txt', body('hello'));
  await t.core.vfs.write(alice, 'docs', 'secret.txt', body('secret'));
});
afterEach(async () => t.close());

describe('ShareLinks', () => {
  it('follow what they share when it moves, folder or file', async () => {
    const folder = await shares.create(alice, { root: 'docs', path: 'pub' });
    const file = await shares.create(alice, { root: 'docs', path: 'pub/a.txt' });
    const other = await shares.create(alice, { root: 'docs', path: 'secret.txt' });
    await t.core.vfs.move(alice, 'docs', 'pub', 'public');
    const f = await shares.open(folder.token, {});
    expect(f.session.scope).toMatchObject({ path: 'public' });
    expect((await readAll((await t.core.vfs.read(f.session, f.root, 'public/a.txt')).stream)).toString()).toBe('hello');
    const one = await shares.open(file.token, {});
    expect(one.session.scope).toMatchObject({ path: 'public/a.txt' });
    await t.core.vfs.move(alice, 'docs', 'public/a.txt', 'public/b.txt');
    expect((await shares.open(file.token, {})).session.scope).toMatchObject({ path: 'public/b.txt' });
    expect((await shares.open(other.token, {})).session.scope).toMatchObject({ path: 'secret.txt' });
  });

  it('creates a 256-bit token and stores only its hash', async () => {
    const { link, token } = await shares.create(alice, { root: 'docs', path: 'pub/a.txt' });
    expect(Buffer.from(token, 'base64url').length).toBe(32);
    expect(link).toMatchObject({ root: 'docs', path: 'pub/a.txt', name: 'a.txt', kind: 'file', state: 'active', createdBy: 'alice' });
    const raw = t.core.ctx.db.$client.prepare('select * from share_links').all() as Record<string, unknown>[];
    expect(JSON.stringify(raw)).not.toContain(token);
  });

  it('opens a read-only session confined to the shared path, reading through the core', async () => {
    const { token } = await shares.create(alice, { root: 'docs', path: 'pub' });
    const { session, root } = await shares.open(token, {});
    expect(session.scope).toMatchObject({ path: 'pub', mode: 'read' });
    expect(session.protocol).toBe('share');
    expect((await readAll((await t.core.vfs.read(session, root, 'pub/a.txt')).stream)).toString()).toBe('hello');
    expect(await code(t.core.vfs.read(session, root, 'secret.txt'))).toBe('NOT_FOUND');
    expect(await code(t.core.vfs.list(session, root, ''))).toBe('NOT_FOUND');
    expect(await code(t.core.vfs.read(session, root, 'pub/../secret.txt'))).toBe('INVALID_PATH');
    expect(await code(t.core.vfs.write(session, root, 'pub/b.txt', body('x')))).toBe('PERMISSION_DENIED');
    expect(await code(t.core.vfs.delete(session, root, 'pub/a.txt'))).toBe('PERMISSION_DENIED');
  });

  it('never reaches another root', async () => {
    const bob = await t.session('bob');
    await t.core.roots.create('bobs', `${t.dir}/roots/bobs`, bob.user.id);
    await t.core.vfs.write(bob, 'bobs', 'x.txt', body('bob'));
    const { token } = await shares.create(alice, { root: 'docs', path: '' });
    const { session } = await shares.open(token, {});
    expect(await code(t.core.vfs.read(session, 'bobs', 'x.txt'))).toBe('NOT_FOUND');
    expect(await code(shares.create(bob, { root: 'docs', path: 'pub' }))).toBe('NOT_FOUND');
  });

  it('only owners and write-grant holders may share; links die with the grant', async () => {
    const bob = await t.session('bob');
    t.core.ctx.roots.grant(1, bob.user.id, 'read');
    expect(await code(shares.create(bob, { root: 'docs', path: 'pub' }))).toBe('PERMISSION_DENIED');
    t.core.ctx.roots.grant(1, bob.user.id, 'write');
    const { token, link } = await shares.create(bob, { root: 'docs', path: 'pub' });
    expect((await shares.open(token, {})).session.user.name).toBe('bob');
    expect(shares.list(alice).map((l) => l.id)).toContain(link.id); // the root owner sees it
    t.core.ctx.roots.revoke(1, bob.user.id);
    expect(await code(shares.open(token, {}))).toBe('NOT_FOUND');
  });

  it('refuses unknown, revoked and expired tokens alike', async () => {
    expect(await code(shares.open('x'.repeat(43), {}))).toBe('NOT_FOUND');
    const a = await shares.create(alice, { root: 'docs', path: 'pub', expiresAt: clock + 1000 });
    expect(await code(shares.open(a.token, {}))).toBe('OK');
    clock += 1001;
    expect(await code(shares.open(a.token, {}))).toBe('NOT_FOUND');
    expect(shares.get(alice, a.link.id).state).toBe('expired');
    const b = await shares.create(alice, { root: 'docs', path: 'pub' });
    shares.revoke(alice, b.link.id);
    expect(await code(shares.open(b.token, {}))).toBe('NOT_FOUND');
    expect(shares.get(alice, b.link.id).state).toBe('revoked');
    expect(await code(shares.create(alice, { root: 'docs', path: 'pub', expiresAt: clock - 1 }))).toBe('INVALID_INPUT');
  });

  it('counts downloads atomically and reports exhaustion', async () => {
    const { token, link } = await shares.create(alice, { root: 'docs', path: 'pub/a.txt', maxDownloads: 2 });
    const o = await shares.open(token, {});
    shares.consume(o.link.id);
    shares.consume(o.link.id);
    expect(await code(() => shares.consume(o.link.id))).toBe('PERMISSION_DENIED');
    expect(await code(shares.open(token, {}))).toBe('PERMISSION_DENIED');
    expect(shares.get(alice, link.id)).toMatchObject({ downloads: 2, state: 'exhausted' });
  });

  // The refusal said "download limit" for every kind of link, an upload link's too: it now says
  // what ran out, who set the limit, and that only a new link helps.
  it('says which limit a used-up link reached, in the visitor\'s words', async () => {
    const refusal = async (p: Promise<unknown> | (() => unknown)) => {
      try {
        await (typeof p === 'function' ? p() : p);
      } catch (err) {
        if (isCoreError(err, 'PERMISSION_DENIED')) return { message: err.message, details: err.details };
        throw err;
      }
      throw new Error('not refused');
    };
    const download = await shares.create(alice, { root: 'docs', path: 'pub/a.txt', maxDownloads: 1 });
    shares.consume(download.link.id);
    const d = await refusal(shares.open(download.token, {}));
    expect(d.message).toMatch(/already been downloaded once, as often as the person who shared it allowed; ask them for a new link/);
    expect(d.details).toMatchObject({ reason: 'exhausted', kind: 'downloads', setBy: 'owner', limit: 1 });
    expect((await refusal(() => shares.begin(download.link.id))).message).toBe(d.message);

    const dropper = new ShareLinks(t.core.ctx, t.core.roots, t.core.accounts, t.core.guard, { now: () => clock, vfs: t.core.vfs, dropMaxFiles: 1 });
    const byServer = await dropper.create(alice, { root: 'docs', path: 'pub', uploadOnly: true });
    await dropper.drop(await dropper.open(byServer.token, {}), 'x.txt', Readable.from([Buffer.from('x')]));
    const s = await refusal(dropper.open(byServer.token, {}));
    expect(s.message).toMatch(/upload link has already received 1 file, as many as this server accepts through one link/);
    expect(s.details).toMatchObject({ reason: 'exhausted', kind: 'uploads', setBy: 'server' });

    const byOwner = await dropper.create(alice, { root: 'docs', path: 'pub', uploadOnly: true, maxDownloads: 2 });
    const opened = await dropper.open(byOwner.token, {});
    for (const n of ['y.txt', 'z.txt']) await dropper.drop(opened, n, Readable.from([Buffer.from(n)]));
    const o = await refusal(dropper.drop(opened, 'w.txt', Readable.from([Buffer.from('w')])));
    expect(o.message).toMatch(/upload link has already received 2 files, as many as the person who shared it allowed; ask them for a new link/);
    expect(o.details).toMatchObject({ reason: 'exhausted', kind: 'uploads', setBy: 'owner', limit: 2 });
  });

  it('a use refused because the link was revoked meanwhile says so, not "limit"', async () => {
    const { link } = await shares.create(alice, { root: 'docs', path: 'pub/a.txt', maxDownloads: 5 });
    shares.revoke(alice, link.id);
    expect(await code(() => shares.begin(link.id))).toBe('NOT_FOUND');
  });

  it('a use given back does not count (once), and a drop that fails gives its count back', async () => {
    const { link } = await shares.create(alice, { root: 'docs', path: 'pub/a.txt', maxDownloads: 1 });
    const use = shares.begin(link.id);
    expect(await code(() => shares.begin(link.id))).toBe('PERMISSION_DENIED'); // the last one is taken while under way
    use.cancel();
    use.cancel();
    expect(shares.get(alice, link.id)).toMatchObject({ downloads: 0, state: 'active' });
    shares.begin(link.id);
    expect(shares.get(alice, link.id)).toMatchObject({ downloads: 1, state: 'exhausted' });

    const dropper = new ShareLinks(t.core.ctx, t.core.roots, t.core.accounts, t.core.guard, { now: () => clock, vfs: t.core.vfs, dropMaxFileBytes: 10, dropMaxFiles: 2 });
    await t.core.vfs.mkdir(alice, 'docs', 'inbox');
    const drop = await dropper.create(alice, { root: 'docs', path: 'inbox', uploadOnly: true });
    const opened = await dropper.open(drop.token, {});
    expect(opened.link).toMatchObject({ maxDownloads: 2, state: 'active' });
    expect(await code(dropper.drop(opened, 'big.bin', Readable.from([Buffer.alloc(8), Buffer.alloc(8)])))).toBe('QUOTA_EXCEEDED');
    expect(await code(dropper.drop(opened, 'big.bin', Readable.from([Buffer.alloc(1)]), { declaredSize: 11 }))).toBe('QUOTA_EXCEEDED');
    expect(await code(dropper.drop(opened, '../x.txt', Readable.from([Buffer.alloc(1)])))).toBe('INVALID_PATH');
    expect(await t.core.vfs.list(alice, 'docs', 'inbox')).toEqual([]);
    expect(dropper.get(alice, drop.link.id).downloads).toBe(0);
    expect((await dropper.drop(opened, 'a.txt', Readable.from([Buffer.from('one')]))).entry.path).toBe('inbox/a.txt');
    expect((await dropper.drop(opened, 'a.txt', Readable.from([Buffer.from('two')]))).entry.path).toBe('inbox/a (1).txt');
    expect(await code(dropper.drop(opened, 'b.txt', Readable.from([Buffer.from('3')])))).toBe('PERMISSION_DENIED');
  });

  it('checks passwords with the brute-force guard, and cookies die with revocation', async () => {
    const { token, link } = await shares.create(alice, { root: 'docs', path: 'pub', password: 'pw-123' });
    expect(await code(shares.open(token, {}))).toBe('UNAUTHENTICATED');
    expect(await code(shares.open(token, { password: 'nope' }, { address: '10.0.0.1' }))).toBe('UNAUTHENTICATED');
    expect(await code(shares.open(token, { password: 'pw-123' }, { address: '10.0.0.1' }))).toBe('OK');
    const cookie = shares.issueCookie(token).value;
    expect(await code(shares.open(token, { cookie }))).toBe('OK');
    expect(await code(shares.open(token, { cookie: cookie.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) }))).toBe('UNAUTHENTICATED');
    clock += 61_000;
    expect(await code(shares.open(token, { cookie }))).toBe('UNAUTHENTICATED');
    clock -= 61_000;
    shares.revoke(alice, link.id);
    expect(await code(shares.open(token, { cookie }))).toBe('NOT_FOUND');
    for (let i = 0; i < 12; i += 1) await code(shares.open('y'.repeat(43), {}));
    const other = await shares.create(alice, { root: 'docs', path: 'pub', password: 'pw-123' });
    for (let i = 0; i < 10; i += 1) await code(shares.open(other.token, { password: 'bad' }, { address: '10.0.0.2' }));
    expect(await code(shares.open(other.token, { password: 'pw-123' }, { address: '10.0.0.2' }))).toBe('TOO_MANY_ATTEMPTS');
    expect(shares.accesses(alice, other.link.id).filter((a) => a.action === 'password-wrong').length).toBe(10);
  });

  // A banned address is refused with the right password, and with a login session's cookie
  // (Accounts.bySecret): a share link's password cookie is the same kind of proof, refused the same way.
  it('refuses a password cookie from a banned address, as the password itself', async () => {
    const { token } = await shares.create(alice, { root: 'docs', path: 'pub', password: 'pw-123' });
    const cookie = shares.issueCookie(token).value;
    expect(await code(shares.open(token, { cookie }, { address: '10.0.0.7' }))).toBe('OK');
    for (let i = 0; i < 10; i += 1) await code(shares.open(token, { password: 'bad' }, { address: '10.0.0.7' }));
    expect(await code(shares.open(token, { password: 'pw-123' }, { address: '10.0.0.7' }))).toBe('TOO_MANY_ATTEMPTS');
    expect(await code(shares.open(token, { cookie }, { address: '10.0.0.7' }))).toBe('TOO_MANY_ATTEMPTS');
    expect(await code(shares.open(token, { cookie }, { address: '10.0.0.8' }))).toBe('OK');
  });

  it('upload-only links create new files and cannot list, read or overwrite', async () => {
    const { token } = await shares.create(alice, { root: 'docs', path: 'pub', uploadOnly: true });
    const { session, root } = await shares.open(token, {});
    expect(session.scope?.mode).toBe('upload');
    expect(await code(t.core.vfs.list(session, root, 'pub'))).toBe('PERMISSION_DENIED');
    expect(await code(t.core.vfs.read(session, root, 'pub/a.txt'))).toBe('PERMISSION_DENIED');
    expect(await code(t.core.vfs.write(session, root, 'pub/a.txt', body('evil')))).toBe('ALREADY_EXISTS');
    expect(await code(t.core.vfs.write(session, root, 'pub/new.txt', body('drop')))).toBe('OK');
    expect(await code(t.core.vfs.write(session, root, 'other.txt', body('drop')))).toBe('NOT_FOUND');
    expect((await readAll((await t.core.vfs.read(alice, 'docs', 'pub/a.txt')).stream)).toString()).toBe('hello');
    expect(await code(shares.create(alice, { root: 'docs', path: 'pub/a.txt', uploadOnly: true }))).toBe('INVALID_INPUT');
  });

  it('logs accesses for the owner only', async () => {
    const { token, link } = await shares.create(alice, { root: 'docs', path: 'pub/a.txt' });
    const o = await shares.open(token, {});
    shares.logAccess(o.link.id, { action: 'download', address: '1.2.3.4', userAgent: 'curl/8', bytes: 5, path: 'pub/a.txt' });
    expect(shares.accesses(alice, link.id)).toEqual([{ at: clock, action: 'download', address: '1.2.3.4', userAgent: 'curl/8', bytes: 5, path: 'pub/a.txt' }]);
    const bob = await t.session('bob');
    expect(await code(() => shares.accesses(bob, link.id))).toBe('NOT_FOUND');
    expect(await code(() => shares.revoke(bob, link.id))).toBe('NOT_FOUND');
    expect(shares.list(bob)).toEqual([]);
  });

  it('end with the entry they were made for: a new file or folder at its path is not served', async () => {
    const file = await shares.create(alice, { root: 'docs', path: 'pub/a.txt' });
    const folder = await shares.create(alice, { root: 'docs', path: 'pub' });
    await t.core.vfs.delete(alice, 'docs', 'pub/a.txt');
    await t.core.vfs.write(alice, 'docs', 'pub/a.txt', body('someone else'));
    expect(await code(shares.open(file.token, {}))).toBe('NOT_FOUND');
    expect(shares.get(alice, file.link.id).state).toBe('ended');
    expect(await code(shares.open(folder.token, {}))).toBe('OK'); // deleting a file inside does not end the folder's link
    await t.core.vfs.delete(alice, 'docs', 'pub');
    await t.core.vfs.mkdir(alice, 'docs', 'pub');
    expect(await code(shares.open(folder.token, {}))).toBe('NOT_FOUND');
    // A folder put where a shared file was is not served either.
    const secret = await shares.create(alice, { root: 'docs', path: 'secret.txt' });
    await t.core.vfs.delete(alice, 'docs', 'secret.txt');
    await t.core.vfs.mkdir(alice, 'docs', 'secret.txt');
    expect(await code(shares.open(secret.token, {}))).toBe('NOT_FOUND');
  });

  it('end when a move or copy replaces the shared entry, and when a delete is seen on disk', async () => {
    await t.core.vfs.write(alice, 'docs', 'other.txt', body('other'));
    const replaced = await shares.create(alice, { root: 'docs', path: 'pub/a.txt' });
    const moved = await shares.create(alice, { root: 'docs', path: 'other.txt' });
    await t.core.vfs.move(alice, 'docs', 'other.txt', 'pub/a.txt', { overwrite: true });
    expect(await code(shares.open(replaced.token, {}))).toBe('NOT_FOUND');
    expect((await shares.open(moved.token, {})).session.scope).toMatchObject({ path: 'pub/a.txt' });
    const copied = await shares.create(alice, { root: 'docs', path: 'secret.txt' });
    await t.core.vfs.copy(alice, 'docs', 'pub/a.txt', 'secret.txt', { overwrite: true });
    expect(await code(shares.open(copied.token, {}))).toBe('NOT_FOUND');
    // Another program deletes the file and puts a new one there: the watcher records a delete first.
    await t.core.vfs.write(alice, 'docs', 'local.txt', body('v1'));
    const local = await shares.create(alice, { root: 'docs', path: 'local.txt' });
    await rm(path.join(t.dir, 'roots', 'docs', 'local.txt'));
    await t.core.diskEdits.reconcile(t.core.ctx.roots.byName('docs')!.id, 'local.txt');
    await writeFile(path.join(t.dir, 'roots', 'docs', 'local.txt'), 'v2 by someone else');
    await t.core.diskEdits.reconcile(t.core.ctx.roots.byName('docs')!.id, 'local.txt');
    expect(await code(shares.open(local.token, {}))).toBe('NOT_FOUND');
  });

  it('a link whose entry was deleted unrecorded (a file now a folder) is not served', async () => {
    const link = await shares.create(alice, { root: 'docs', path: 'secret.txt' });
    await t.core.vfs.delete(alice, 'docs', 'secret.txt');
    await t.core.vfs.mkdir(alice, 'docs', 'secret.txt');
    // As a link made before links ended with their entry: nothing marked it.
    t.core.ctx.db.$client.prepare('update share_links set ended_at = null').run();
    expect(await code(shares.open(link.token, {}))).toBe('NOT_FOUND');
    expect(shares.get(alice, link.link.id).state).toBe('ended');
  });

  it('keep the newest entries of a link\'s access log, not every view a stranger makes', async () => {
    // Each anonymous view of a link wrote a row (address, user agent of up to 512 characters, path)
    // for ever: 20,000 views of one public link grew the database by 40 MB, with no end.
    const kept = new ShareLinks(t.core.ctx, t.core.roots, t.core.accounts, t.core.guard, { now: () => clock, accessLogKeep: 20 });
    const { link } = await kept.create(alice, { root: 'docs', path: 'pub' });
    const other = await kept.create(alice, { root: 'docs', path: 'pub/a.txt' });
    kept.logAccess(other.link.id, { action: 'download', address: '192.0.2.9' });
    for (let i = 0; i < 100; i += 1) kept.logAccess(link.id, { action: 'view', address: `192.0.2.${i}`, userAgent: 'x'.repeat(512) });
    const log = kept.accesses(alice, link.id, 10_000);
    expect(log.length).toBeGreaterThanOrEqual(20);
    expect(log.length).toBeLessThanOrEqual(21);
    expect(log[0]).toMatchObject({ address: '192.0.2.99' });
    // Another link's log is its own.
    expect(kept.accesses(alice, other.link.id, 10_000)).toHaveLength(1);
  });
});
