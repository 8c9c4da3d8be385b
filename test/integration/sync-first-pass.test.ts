/**
 * What a first sync of many new files holds: the scan reads none of them (each is hashed when its
 * upload reads it), and the changes coming back as echoes of its own uploads are dropped page by page
 * as they arrive, not held until the pass compares them with the state; and the walk hands the new
 * files over as it meets them, holding none of them.
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadIgnore } from '../../src/client/local.js';
import { LocalDiff, sortedHas, type NewEntrySink, type Present } from '../../src/client/local-diff.js';
import { fetchChanges, heldBy } from '../../src/client/remote-feed.js';
import { Selection } from '../../src/client/selection.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startTestClient, type TestClient } from '../helpers/sync-client.js';

let t: TestGateway;
let a: TestClient | undefined;
let b: TestClient | undefined;
afterEach(async () => {
  await a?.close();
  await b?.close();
  b = undefined;
  await t?.close();
});

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const N = 300;

describe('a first sync of many new files', () => {
  it('the scan holds no hash for a new file; an edited one it hashes; each upload names the hash it read', async () => {
    t = await startTestGateway();
    a = await startTestClient(t, 'a');
    await mkdir(path.join(a.dir, 'd'));
    for (let i = 0; i < N; i += 1) await writeFile(path.join(a.dir, 'd', `f${i}.txt`), `file ${i}`);
    const diff = new LocalDiff(a.dir, a.sync.link.id, a.state, await loadIgnore(a.dir), new Selection());
    await diff.tree('');
    const files = [...diff.changes.values()].filter((c): c is Present => c.kind === 'added' && c.entry.kind === 'file');
    expect(files).toHaveLength(N);
    expect(files.every((c) => c.sha256 === '')).toBe(true);

    const first = await a.once();
    expect(first).toMatchObject({ uploaded: N + 1, errors: [] });
    for (const i of [0, 17, N - 1]) expect(a.state.file(a.sync.link.id, `d/f${i}.txt`)?.sha256).toBe(sha(`file ${i}`));

    await writeFile(path.join(a.dir, 'd', 'f3.txt'), 'edited, and longer');
    const again = new LocalDiff(a.dir, a.sync.link.id, a.state, await loadIgnore(a.dir), new Selection());
    await again.tree('');
    expect([...again.changes.values()]).toMatchObject([{ kind: 'modified', sha256: sha('edited, and longer') }]);
  });

  it('the echoes of its own uploads are dropped as their pages arrive', async () => {
    t = await startTestGateway();
    a = await startTestClient(t, 'a');
    for (let i = 0; i < N; i += 1) await writeFile(path.join(a.dir, `f${i}.txt`), `file ${i}`);
    await a.once();
    const link = { ...a.sync.link, cursor: 0 };
    const all = await fetchChanges(a.api, a.state, link, () => true);
    expect(all.byPath.size).toBe(N);
    const held = heldBy(a.state, link.id);
    expect((await fetchChanges(a.api, a.state, link, () => true, held)).byPath.size).toBe(0);
    // An echo followed by another device's change of the same path: that change is kept.
    b = await startTestClient(t, 'b');
    await b.once();
    await writeFile(path.join(b.dir, 'f5.txt'), 'from elsewhere');
    expect((await b.once()).uploaded).toBe(1);
    const after = await fetchChanges(a.api, a.state, link, () => true, held);
    expect([...after.byPath.keys()]).toEqual(['f5.txt']);
  });

  it('a full walk hands each new entry over as it meets it, its folder first; a possible rename and what a remote change is about stay with the pass', async () => {
    t = await startTestGateway();
    a = await startTestClient(t, 'a');
    const id = a.sync.link.id;
    await mkdir(path.join(a.dir, 'd'));
    for (let i = 0; i < N; i += 1) await writeFile(path.join(a.dir, 'd', `f${i}.txt`), `file ${i}`);
    // `done`: each entry's state row is written as it is handed over, as a finished upload's is.
    const walk = async (held: (p: string) => boolean, done = false) => {
      const sent: string[] = [];
      const sink: NewEntrySink = {
        held,
        mayBeMoved: (ino) => sortedHas(a!.state.inodes(id), ino),
        send: async ({ entry: e }) => {
          sent.push(e.path);
          if (done) a!.state.put(id, { path: e.path, kind: e.kind, version: 1, sha256: '', size: e.size, mtimeMs: e.mtimeMs, ino: e.ino });
        },
      };
      const diff = new LocalDiff(a!.dir, id, a!.state, await loadIgnore(a!.dir), new Selection(), sink);
      await diff.tree('');
      return { sent, changes: diff.changes };
    };
    const first = await walk(() => false);
    expect(first.changes.size).toBe(0);
    expect(first.sent).toHaveLength(N + 1);
    expect(first.sent[0]).toBe('d');
    // A remote change of the folder: everything new in it waits for the pass's order.
    const heldFolder = await walk((p) => p === 'd');
    expect(heldFolder.sent).toEqual([]);
    expect(heldFolder.changes.size).toBe(N + 1);

    expect(await a.once()).toMatchObject({ uploaded: N + 1, errors: [] });
    await rename(path.join(a.dir, 'd', 'f0.txt'), path.join(a.dir, 'd', 'renamed.txt'));
    await writeFile(path.join(a.dir, 'd', 'new.txt'), 'new');
    const second = await walk(() => false);
    expect(second.sent).toEqual(['d/new.txt']);
    expect(new Map([...second.changes].map(([p, c]) => [p, c.kind]))).toEqual(new Map([['d/renamed.txt', 'added'], ['d/f0.txt', 'deleted']]));
    // What was handed over has a state row by the walk's end, under a path the walk saw no row of:
    // it is not taken for a gone file (100,000 of them, in a first sync).
    const recorded = await walk(() => false, true);
    expect(recorded.sent).toEqual(['d/new.txt']);
    expect([...recorded.changes.keys()].sort()).toEqual(['d/f0.txt', 'd/renamed.txt']);
    a.state.drop(id, 'd/new.txt');
    expect(await a.once()).toMatchObject({ moved: 1, uploaded: 1, deleted: 0, errors: [] });
    expect(a.state.file(id, 'd/renamed.txt')?.sha256).toBe(sha('file 0'));
    expect(a.state.file(id, 'd/f0.txt')).toBeUndefined();
    expect(a.state.count(id)).toBe(N + 2);
  });
});
