/**
 * What a user met following the README with two real clients on one gateway (real folders, real
 * sockets): each refused name is reported once per sync, a name in another Unicode form (NFD, as
 * macOS writes it) stays one file, and a folder renamed elsewhere arrives as a move, not as deletes.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
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
