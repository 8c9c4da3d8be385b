/**
 * The companion client following folder records (FOLDER_RECORD, src/db/schema/files.ts) over the sync
 * protocol, with pages of 3 changes so that every record is cut across pages and the client's
 * cursor lands inside one: folder moves and deletes made through another door and by the other
 * client reach the client whole, empty folders included, and a pass after them has nothing to do.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { TestGateway } from '../helpers/gateway.js';
import { twoClients, type TestClient, tree } from '../helpers/sync-client.js';

let t: TestGateway;
let a: TestClient;
let b: TestClient;

twoClients((s) => ({ t, a, b } = s), { sync: { pageSize: 3 } });

const write = async (c: TestClient, p: string, s: string) => {
  await mkdir(path.dirname(path.join(c.dir, p)), { recursive: true });
  await writeFile(path.join(c.dir, p), s);
};
/** The gateway's live tree of the root, as `tree` lists a client's folder. */
async function serverTree(): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    for (const e of await t.gw.core.vfs.list(t.alice.session, 'docs', rel)) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.kind === 'dir') {
        out.push(`${p}/`);
        await walk(p);
      } else out.push(p);
    }
  };
  await walk('');
  return out.sort();
}

describe('a client following folder records in small pages', () => {
  it('applies folder moves and deletes made elsewhere, with their empty folders, and then has nothing to do', async () => {
    for (const p of ['proj/a.txt', 'proj/src/b.txt', 'proj/src/deep/c.txt', 'proj/docs/d.txt', 'keep.txt']) await write(a, p, p);
    await mkdir(path.join(a.dir, 'proj/empty/inner'), { recursive: true });
    await a.once();
    await b.once();
    expect(await tree(b.dir)).toEqual(await tree(a.dir));

    // Through another door: a move into a new folder, a nested move, a delete.
    const core = t.gw.core.vfs;
    await core.mkdir(t.alice.session, 'docs', 'archive');
    await core.move(t.alice.session, 'docs', 'proj', 'archive/proj');
    await core.write(t.alice.session, 'docs', 'archive/proj/a.txt', Readable.from([Buffer.from('edited after the move')]));
    await core.move(t.alice.session, 'docs', 'archive/proj/src', 'src');
    await core.delete(t.alice.session, 'docs', 'archive/proj/docs');
    await b.once();
    expect(await tree(b.dir)).toEqual(await serverTree());
    expect(await tree(b.dir)).toContain('archive/proj/empty/inner/');
    expect(await readFile(path.join(b.dir, 'archive/proj/a.txt'), 'utf8')).toBe('edited after the move');
    expect(await readFile(path.join(b.dir, 'src/deep/c.txt'), 'utf8')).toBe('proj/src/deep/c.txt');

    // By the other client: a folder renamed on disk is one move on the gateway, and reaches b.
    await a.once();
    await rename(path.join(a.dir, 'archive'), path.join(a.dir, 'attic'));
    await a.once();
    await b.once();
    expect(await tree(b.dir)).toEqual(await serverTree());
    expect(await tree(a.dir)).toEqual(await serverTree());
    expect(await tree(b.dir)).toContain('attic/proj/empty/inner/');

    // Nothing left to do on either side, and the gateway's history is unchanged by it.
    const seq = (await t.gw.core.vfs.changes(t.alice.session, 'docs', 0, 10_000)).cursor;
    await a.once();
    await b.once();
    expect((await t.gw.core.vfs.changes(t.alice.session, 'docs', 0, 10_000)).cursor).toBe(seq);
  });
});
