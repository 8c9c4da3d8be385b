/**
 * What a user met following the README with two real clients on one gateway (real folders, real
 * sockets): each refused name is reported once per sync, a name in another Unicode form (NFD, as
 * macOS writes it) stays one file, a folder renamed elsewhere arrives as a move, not as deletes,
 * a used pairing code says what to do, and a watching client that lost the gateway says when it is back.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Api } from '../../src/client/api.js';
import { LinkSync } from '../../src/client/engine.js';
import { statEntry } from '../../src/client/local.js';
import { watchLinks } from '../../src/client/watch.js';
import type { TestGateway } from '../helpers/gateway.js';
import { startTestClient, twoClients, type TestClient, tree } from '../helpers/sync-client.js';
import { tcpRelay } from '../helpers/tcp-relay.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/syncgate.js');
let t: TestGateway;
let a: TestClient;
let b: TestClient;

twoClients((s) => ({ t, a, b } = s));

describe('a user tour of the companion client', () => {
  it('a name the gateway refuses is reported once by a sync, however many passes it makes', async () => {
    await writeFile(path.join(a.dir, 'back\\slash.txt'), 'x');
    await writeFile(path.join(a.dir, 'fine.txt'), 'y');
    const r = await a.once();
    expect(r.uploaded).toBe(1);
    expect(r.errors).toEqual([expect.stringMatching(/^back\\slash\.txt: .*backslash/)]);
    expect(r.failed).toEqual(['back\\slash.txt']);
  });

  it('a file named in NFD (as macOS writes it) stays one file on every side', async () => {
    const nfd = 'Cafe\u0301.txt';
    const nfc = nfd.normalize('NFC');
    await writeFile(path.join(a.dir, nfd), 'decomposed');
    await a.once();
    await a.once();
    await b.once();
    const names = (await readdir(a.dir)).map((n) => n.normalize('NFC'));
    expect(names).toEqual([nfc]);
    expect(await tree(b.dir)).toEqual([nfc]);
    expect((await t.gw.core.vfs.stat(t.alice.session, 'docs', nfc)).size).toBe(10);
  });

  it('an NFD name beside its NFC twin is not synced and is reported; one made while watching is renamed too', async () => {
    const nfd = 'Cafe\u0301.txt';
    await writeFile(path.join(a.dir, nfd), 'decomposed');
    await writeFile(path.join(a.dir, nfd.normalize('NFC')), 'composed');
    const r = await a.once();
    expect(r.errors).toEqual([`${nfd}: another name in its folder differs from it only in Unicode form (NFC/NFD): rename one of them`]);
    expect((await readdir(a.dir)).sort()).toEqual([nfd.normalize('NFC'), nfd].sort());
    expect((await t.gw.core.vfs.stat(t.alice.session, 'docs', nfd.normalize('NFC'))).size).toBe(8);

    await a.watch();
    const dir = 'Re\u0301sume\u0301s';
    await mkdir(path.join(a.dir, dir));
    await writeFile(path.join(a.dir, dir, 'n\u0303.txt'), 'tilde');
    const nfc = `${dir}/n\u0303.txt`.normalize('NFC');
    await expect.poll(async () => (await t.gw.core.vfs.stat(t.alice.session, 'docs', nfc).catch(() => null))?.size, { timeout: 15_000, interval: 100 }).toBe(5);
    await b.once();
    expect(await tree(b.dir)).toEqual([nfd.normalize('NFC'), `${dir.normalize('NFC')}/`, nfc].sort());
    expect(await tree(a.dir)).toEqual([nfd.normalize('NFC'), nfd, `${dir.normalize('NFC')}/`, nfc].sort());
  });

  it('a folder renamed on one client arrives at the other as one move, nothing deleted', async () => {
    await mkdir(path.join(a.dir, 'sub dir'));
    await writeFile(path.join(a.dir, 'sub dir', 'x.txt'), 'x');
    await a.once();
    await b.once();
    await rename(path.join(a.dir, 'sub dir'), path.join(a.dir, 'renamed dir'));
    await a.once();
    const r = await b.once();
    expect(await tree(b.dir)).toEqual(['renamed dir/', 'renamed dir/x.txt']);
    expect({ moved: r.moved, deleted: r.deleted }).toEqual({ moved: 1, deleted: 0 });
  });

  it('a file replaced by a folder of its name, and a folder by a file, reach the gateway and the other client', async () => {
    await writeFile(path.join(a.dir, 'notes'), 'a file first');
    await mkdir(path.join(a.dir, 'photos'));
    await writeFile(path.join(a.dir, 'photos', 'one.jpg'), 'jpg');
    await a.once();
    await b.once();
    await rm(path.join(a.dir, 'notes'));
    await mkdir(path.join(a.dir, 'notes'));
    await writeFile(path.join(a.dir, 'notes', 'inner.txt'), 'now a folder');
    await rm(path.join(a.dir, 'photos'), { recursive: true });
    await writeFile(path.join(a.dir, 'photos'), 'now a file');
    const r = await a.once();
    expect(r.errors).toEqual([]);
    expect((await a.once()).uploaded).toBe(0);
    await b.once();
    expect(await tree(b.dir)).toEqual(['notes/', 'notes/inner.txt', 'photos']);
    expect(await readFile(path.join(b.dir, 'photos'), 'utf8')).toBe('now a file');
    expect((await t.gw.core.vfs.stat(t.alice.session, 'docs', 'notes')).kind).toBe('dir');
  });

  it('a folder replaced here by a file does not take with it what another client put in it meanwhile', async () => {
    await mkdir(path.join(a.dir, 'photos'));
    await writeFile(path.join(a.dir, 'photos', 'one.jpg'), 'jpg');
    await a.once();
    await b.once();
    await writeFile(path.join(b.dir, 'photos', 'two.jpg'), 'added by b');
    await b.once();
    await rm(path.join(a.dir, 'photos'), { recursive: true });
    await writeFile(path.join(a.dir, 'photos'), 'now a file');
    const r = await a.once();
    expect(r.errors.join('\n')).toMatch(/photos is a file here but the gateway's folder photos holds photos\/two\.jpg, not synced here yet: rename the file here/);
    expect((await t.gw.core.vfs.stat(t.alice.session, 'docs', 'photos/two.jpg')).kind).toBe('file');
    // The user renames the file as told: both arrive everywhere.
    await rename(path.join(a.dir, 'photos'), path.join(a.dir, 'photos.txt'));
    expect((await a.once()).errors).toEqual([]);
    await b.once();
    for (const c of [a, b]) expect(await tree(c.dir)).toEqual(['photos.txt', 'photos/', 'photos/two.jpg']);
    expect(await readFile(path.join(b.dir, 'photos.txt'), 'utf8')).toBe('now a file');
  });

  it('a file edited (or added, or deleted) on one client inside a folder renamed on the other lands in the renamed folder, no conflict', async () => {
    await mkdir(path.join(a.dir, 'proj'));
    await writeFile(path.join(a.dir, 'proj', 'readme.md'), 'v1');
    await writeFile(path.join(a.dir, 'proj', 'other.md'), 'o');
    await a.once();
    await b.once();
    await rename(path.join(a.dir, 'proj'), path.join(a.dir, 'proj-renamed'));
    await a.once();
    await writeFile(path.join(b.dir, 'proj', 'readme.md'), 'v2 from b');
    await writeFile(path.join(b.dir, 'proj', 'new.md'), 'new in b');
    await writeFile(path.join(a.dir, 'proj-renamed', 'from-a.md'), 'added in a after the rename');
    await a.once();
    await rm(path.join(b.dir, 'proj', 'other.md'));
    const r = await b.once();
    expect({ errors: r.errors, conflicts: r.conflicts.length, moved: r.moved }).toEqual({ errors: [], conflicts: 0, moved: 1 });
    await a.once();
    for (const c of [a, b]) {
      expect(await tree(c.dir)).toEqual(['proj-renamed/', 'proj-renamed/from-a.md', 'proj-renamed/new.md', 'proj-renamed/readme.md']);
      expect(await readFile(path.join(c.dir, 'proj-renamed', 'readme.md'), 'utf8')).toBe('v2 from b');
    }
  });

  it('a folder made on two clients at once is one folder; a folder named as a file made elsewhere is reported, not taken for synced', async () => {
    await mkdir(path.join(a.dir, 'shared'));
    await writeFile(path.join(a.dir, 'shared', 'a.txt'), 'a');
    await mkdir(path.join(b.dir, 'shared'));
    await writeFile(path.join(b.dir, 'shared', 'b.txt'), 'b');
    await writeFile(path.join(a.dir, 'x'), 'a file');
    await mkdir(path.join(b.dir, 'x'));
    await writeFile(path.join(b.dir, 'x', 'in.txt'), 'in a folder');
    expect((await a.once()).errors).toEqual([]);
    const refused = ['x: the gateway has a file named x (made elsewhere meanwhile): rename the folder here', 'x/in.txt: x is not a folder'];
    expect((await b.once()).errors).toEqual(refused);
    expect((await b.once()).errors).toEqual(refused); // still said: the folder was not recorded as synced
    await a.once();
    expect(await tree(a.dir)).toEqual(['shared/', 'shared/a.txt', 'shared/b.txt', 'x']);
    expect((await t.gw.core.vfs.stat(t.alice.session, 'docs', 'x')).kind).toBe('file');
  });

  it('two devices that log in under one name get names that tell them apart (conflict copies and device list)', async () => {
    const c = await startTestClient(t, 'laptop');
    try {
      const names = t.gw.core.devices.list(t.alice.session.user.id).map((d) => d.name).sort();
      expect(names).toEqual(['desktop', 'laptop', 'laptop (2)']);
      await writeFile(path.join(a.dir, 'same.txt'), 'base');
      await a.once();
      await c.once();
      await writeFile(path.join(a.dir, 'same.txt'), 'from the first laptop');
      await writeFile(path.join(c.dir, 'same.txt'), 'from the second laptop');
      await a.once();
      await c.once();
      expect((await tree(c.dir)).filter((n) => n.includes('conflict'))).toEqual([expect.stringMatching(/^same \(conflict .* from laptop \(2\)\)\.txt$/)]);
    } finally {
      await c.close();
    }
  });

  it('https:// given for a plain HTTP gateway says to try http://', async () => {
    const https = t.url.replace(/^http:/, 'https:');
    await expect(new Api(https, null).roots()).rejects.toThrow(`the gateway at ${https} is unreachable (EPROTO); does it speak plain HTTP? try ${t.url}`);
  });

  it('a folder an old client recorded as synced over a file of that name (version 0) heals: the clash is reported, not only its children', async () => {
    await writeFile(path.join(a.dir, 'x'), 'a file');
    expect((await a.once()).errors).toEqual([]);
    await mkdir(path.join(b.dir, 'x'));
    await writeFile(path.join(b.dir, 'x', 'in.txt'), 'in a folder');
    await writeFile(path.join(b.dir, 'x', 'two.txt'), 'also');
    // As a client before 8866211 left it: x recorded as its synced folder at version 0, its cursor past the file.
    const here = (await statEntry(b.dir, 'x'))!;
    b.state.put(b.sync.link.id, { path: 'x', kind: 'dir', version: 0, sha256: '', size: 0, mtimeMs: here.mtimeMs, ino: here.ino });
    const cursor = (await b.api.changes('docs', 0)).cursor;
    b.sync.link.cursor = cursor;
    b.state.setCursor(b.sync.link.id, cursor);
    const children = ['x/in.txt: x is not a folder', 'x/two.txt: x is not a folder'];
    // Paths settle several at once: their errors come in any order.
    const errors = async () => (await b.once()).errors.sort();
    expect(await errors()).toEqual(children); // the pass that finds it, and drops the false row
    expect(b.state.file(b.sync.link.id, 'x')).toBeUndefined();
    const clash = [...children, 'x: the gateway has a file named x (made elsewhere meanwhile): rename the folder here'].sort();
    expect(await errors()).toEqual(clash);
    expect(await errors()).toEqual(clash); // said each sync until renamed, and never recorded as synced again
    expect(b.state.file(b.sync.link.id, 'x')).toBeUndefined();
    await rename(path.join(b.dir, 'x'), path.join(b.dir, 'x folder'));
    expect((await b.once()).errors).toEqual([]);
    expect(await tree(b.dir)).toEqual(['x', 'x folder/', 'x folder/in.txt', 'x folder/two.txt']); // the file, skipped by the old cursor, comes down
    expect(await readFile(path.join(b.dir, 'x'), 'utf8')).toBe('a file');
    await a.once();
    expect(await tree(a.dir)).toEqual(['x', 'x folder/', 'x folder/in.txt', 'x folder/two.txt']);
    expect((await b.once()).errors).toEqual([]);
  });

  it('a used pairing code says what to do next', async () => {
    const code = t.gw.core.connect(t.alice.session).pairDevice().code;
    const cli = (home: string) => run(process.execPath, [BIN, 'client', 'login', t.url, '--code', code], { env: { ...process.env, SYNCGATE_CLIENT_HOME: home }, timeout: 60_000 }).then((r) => ({ code: 0, err: r.stderr }), (e: { code: number; stderr: string }) => ({ code: e.code, err: e.stderr }));
    expect((await cli(path.join(a.home, 'first'))).code).toBe(0);
    const again = await cli(path.join(a.home, 'second'));
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/used or expired pairing code; make a new one on the gateway \(`syncgate device pair USER`\), or log in with --user/);
  }, 60_000);

  it('a one-shot sync that loses the gateway says that nothing is lost and what to do', async () => {
    const relay = await tcpRelay(new URL(t.url));
    try {
      const env = { ...process.env, SYNCGATE_CLIENT_HOME: path.join(a.home, 'cli'), SYNCGATE_PASSWORD: t.alice.password };
      const cli = (...args: string[]) => run(process.execPath, [BIN, 'client', ...args], { env, timeout: 60_000 }).then((r) => ({ code: 0, err: r.stderr }), (e: { code: number; stderr: string }) => ({ code: e.code, err: e.stderr }));
      expect((await cli('login', relay.url, '--user', t.alice.name)).code).toBe(0);
      expect((await cli('link', path.join(a.home, 'folder'), 'docs')).code).toBe(0);
      await relay.cut();
      const r = await cli('sync');
      expect(r.code).toBe(3);
      expect(r.err).toMatch(/unreachable \(ECONNREFUSED\); local edits are kept and a transfer cut off goes on from where it stopped: run `syncgate client sync` again/);
    } finally {
      await relay.close();
    }
  }, 60_000);

  it('a watching client that lost the gateway says when it is back', async () => {
    const relay = await tcpRelay(new URL(t.url));
    const said: string[] = [];
    const sync = new LinkSync(new Api(relay.url, a.token), a.state, a.sync.link, a.deviceId);
    const w = watchLinks([sync], { url: relay.url, token: a.token, say: (l) => said.push(l), pollMs: 200 });
    try {
      await w.ready;
      await relay.cut();
      await writeFile(path.join(a.dir, 'offline.txt'), 'written while away');
      await expect.poll(() => said.join('\n'), { timeout: 15_000 }).toMatch(/unreachable/);
      await relay.restore();
      await expect.poll(() => said.join('\n'), { timeout: 30_000, interval: 100 }).toMatch(new RegExp(`the gateway at ${relay.url} is reachable again: 1 up, 0 down`));
    } finally {
      await w.stop();
      await relay.close();
    }
  }, 60_000);
});
