/**
 * What a user met following the README with two real clients on one gateway (real folders, real
 * sockets): each refused name is reported once per sync, a name in another Unicode form (NFD, as
 * macOS writes it) stays one file, and a folder renamed elsewhere arrives as a move, not as deletes.
 */
import { mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startTestClient, type TestClient, tree } from '../helpers/sync-client.js';

let t: TestGateway;
let a: TestClient;
let b: TestClient;

beforeEach(async () => {
  t = await startTestGateway();
  a = await startTestClient(t, 'laptop');
  b = await startTestClient(t, 'desktop');
});
afterEach(async () => {
  await a?.close();
  await b?.close();
  await t.close();
});

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
});
