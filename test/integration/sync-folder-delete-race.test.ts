/**
 * A folder deleted on one client while another device writes into it: the write lands between the
 * deleting client's read of the feed and its delete call, driven there by a hook on that client's
 * feed read (no timing). The delete goes with the cursor of that read, so the file it never saw
 * stays on the gateway with a delete-edit record, the client reports it and gets it back, and the
 * rest of the folder is deleted (invariant 9: an edit is never lost to a delete).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import { Api } from '../../src/client/api.js';
import { LinkSync } from '../../src/client/engine.js';
import { IGNORE_FILE } from '../../src/client/local.js';
import type { ChangesPage } from '../../src/sync-wire/index.js';
import type { TestGateway } from '../helpers/gateway.js';
import { tree, twoClients, type TestClient } from '../helpers/sync-client.js';

let t: TestGateway;
let a: TestClient;
let b: TestClient;

twoClients((s) => ({ t, a, b } = s));

/** The client's own Api, which runs `afterFeed` once, right after the last page of a feed read. */
class FeedHook extends Api {
  afterFeed: (() => Promise<void>) | null = null;

  override async changes(root: string, after: number, limit?: number): Promise<ChangesPage> {
    const page = await super.changes(root, after, limit);
    const hook = this.afterFeed;
    if (hook && !page.more) {
      this.afterFeed = null;
      await hook();
    }
    return page;
  }
}

/** shared/a.txt and shared/sub/b.txt synced on both; then laptop deletes shared, through a client with a hook on its feed reads. */
async function deletedOnLaptop(): Promise<{ api: FeedHook; laptop: LinkSync }> {
  await mkdir(path.join(a.dir, 'shared', 'sub'), { recursive: true });
  await writeFile(path.join(a.dir, 'shared', 'a.txt'), 'seen by both');
  await writeFile(path.join(a.dir, 'shared', 'sub', 'b.txt'), 'seen by both too');
  await a.once();
  await b.once();
  expect(await tree(b.dir)).toEqual(['shared/', 'shared/a.txt', 'shared/sub/', 'shared/sub/b.txt']);
  const api = new FeedHook(t.url, a.token);
  const laptop = new LinkSync(api, a.state, a.sync.link, a.deviceId);
  await rm(path.join(a.dir, 'shared'), { recursive: true });
  return { api, laptop };
}

it('a file written into a folder between the deleting client\'s feed read and its delete is kept, reported and brought back; the rest goes', async () => {
  const { api, laptop } = await deletedOnLaptop();
  api.afterFeed = async () => {
    await writeFile(path.join(b.dir, 'shared', 'sub', 'new.txt'), 'written on desktop meanwhile');
    expect((await b.once()).uploaded).toBe(1);
  };
  const r = await laptop.syncOnce();
  expect(api.afterFeed).toBeNull(); // the hook ran

  expect(r.errors).toEqual([]);
  expect(r.conflicts).toEqual(['shared/sub/new.txt']);
  const [c, ...more] = await t.gw.core.vfs.conflicts(t.alice.session, 'docs');
  expect(more).toEqual([]);
  expect(c).toMatchObject({ kind: 'delete-edit', path: 'shared/sub/new.txt', device: 'laptop' });
  const gw = await t.gw.core.vfs.read(t.alice.session, 'docs', 'shared/sub/new.txt');
  gw.close();
  expect(gw.entry.version).toBe(1);
  for (const x of [a, b]) await x.once();
  for (const x of [a, b]) {
    expect(await tree(x.dir)).toEqual(['shared/', 'shared/sub/', 'shared/sub/new.txt']);
    expect(await readFile(path.join(x.dir, 'shared', 'sub', 'new.txt'), 'utf8')).toBe('written on desktop meanwhile');
  }
});

it('a kept file the deleting client ignores is kept on the gateway and reported, not brought back there', async () => {
  await writeFile(path.join(a.dir, IGNORE_FILE), '*.log\n');
  const { api, laptop } = await deletedOnLaptop();
  api.afterFeed = async () => {
    await writeFile(path.join(b.dir, 'shared', 'sub', 'new.txt'), 'written on desktop meanwhile');
    await writeFile(path.join(b.dir, 'shared', 'sub', 'build.log'), 'a log, ignored on laptop');
    expect((await b.once()).uploaded).toBe(2);
  };
  const r = await laptop.syncOnce();
  expect(r.conflicts.sort()).toEqual(['shared/sub/build.log', 'shared/sub/new.txt']);
  await a.once();
  expect(await tree(a.dir)).toEqual([IGNORE_FILE, 'shared/', 'shared/sub/', 'shared/sub/new.txt']);
  const listed = await t.gw.core.vfs.list(t.alice.session, 'docs', 'shared/sub');
  expect(listed.map((e) => e.name).sort()).toEqual(['build.log', 'new.txt']);
});

it('a folder replaced here by a file of its name: a file written into the folder after the feed read stays, and the swap is refused', async () => {
  const { api, laptop } = await deletedOnLaptop();
  await writeFile(path.join(a.dir, 'shared'), 'now a file');
  api.afterFeed = async () => {
    await writeFile(path.join(b.dir, 'shared', 'sub', 'new.txt'), 'written on desktop meanwhile');
    expect((await b.once()).uploaded).toBe(1);
  };
  const r = await laptop.syncOnce();
  // Said at once; the next passes meet the folder in the feed and say what the user is to do.
  expect(r.errors[0]).toBe('shared: shared is a file here but was edited on the gateway since: rename one of them');
  expect(r.errors).toContain('shared: shared is a file here but the gateway\'s folder shared holds shared/sub/new.txt, not synced here yet: rename the file here');
  const gw = await t.gw.core.vfs.read(t.alice.session, 'docs', 'shared/sub/new.txt');
  gw.close();
  expect((await t.gw.core.vfs.conflicts(t.alice.session, 'docs')).map((c) => `${c.kind} ${c.path}`)).toEqual(['delete-edit shared/sub/new.txt']);
});
