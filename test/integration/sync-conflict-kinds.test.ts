/**
 * The sync door tells a client what kind of conflict its change met and which policy decided it
 * (WireConflict.kind, .policy, .kept), on uploads, on deletes and in the conflict list.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Api } from '../../src/client/api.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let api: Api;

beforeEach(async () => {
  t = await startTestGateway();
  const login = await new Api(t.url, null).login({ uuid: randomUUID(), name: 'laptop', user: 'alice', password: 'alice-password' });
  api = new Api(t.url, login.token);
});
afterEach(async () => {
  await t?.close();
});

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const put = (path: string, s: string, base?: number) => api.upload('docs', { path, base, sha256: sha(s), mtimeMs: Date.now(), size: Buffer.byteLength(s) }, Readable.from([Buffer.from(s)]));

it('edit-edit under keep-both: the copy, its kind and policy', async () => {
  await put('a.txt', 'one');
  await put('a.txt', 'theirs', 1);
  const res = await put('a.txt', 'mine', 1);
  expect(res.conflict).toMatchObject({ kind: 'edit-edit', policy: 'keep-both', kept: 'server', path: 'a.txt', baseVersion: 1, serverVersion: 2 });
  expect(res.entry.path).toBe(res.conflict!.copyPath);
});

it('delete-edit: nothing deleted, and the record comes with the answer', async () => {
  await put('a.txt', 'one');
  await put('a.txt', 'theirs', 1);
  const res = await api.remove('docs', 'a.txt', 1);
  expect(res).toMatchObject({ deleted: false, head: { path: 'a.txt', version: 2 }, conflict: { kind: 'delete-edit', policy: 'keep-both', kept: 'server', copyPath: '' } });
  expect((await api.remove('docs', 'a.txt', 2)).conflict).toBeNull();
});

it('edit-delete: the file comes back under keep-both, stays deleted under server-wins', async () => {
  await put('a.txt', 'one');
  await api.remove('docs', 'a.txt', 1);
  const back = await put('a.txt', 'mine', 1);
  expect(back.conflict).toMatchObject({ kind: 'edit-delete', policy: 'keep-both', kept: 'incoming', copyPath: '' });
  expect(back.entry).toMatchObject({ path: 'a.txt', version: 3 });

  await t.gw.core.connect(t.alice.session).setConflictPolicy('docs', 'server-wins');
  await api.remove('docs', 'a.txt', 3);
  const held = await put('a.txt', 'mine again', 3);
  expect(held.conflict).toMatchObject({ kind: 'edit-delete', policy: 'server-wins', kept: 'server', copyPath: '' });
  expect(held.entry).toMatchObject({ path: 'a.txt', version: 4 });
  const kinds = (await api.conflicts('docs')).conflicts.map((c) => `${c.kind} ${c.policy} ${c.kept}`);
  expect(kinds).toEqual(['edit-delete keep-both incoming', 'edit-delete server-wins server']);
});

it('delete-edit in a folder: a folder deleted with the cursor it was seen at keeps what came after, each with its record', async () => {
  await put('d/a.txt', 'seen');
  await put('d/sub/b.txt', 'seen too');
  const seq = async () => (await api.roots()).roots.find((r) => r.name === 'docs')!.seq;
  const seen = await seq();
  await put('d/sub/new.txt', 'not seen');
  const res = await api.remove('docs', 'd', undefined, seen);
  expect(res).toMatchObject({ deleted: false, head: { path: 'd', kind: 'dir' }, conflict: null });
  expect(res.kept).toMatchObject([{ entry: { path: 'd/sub/new.txt', version: 1 }, conflict: { kind: 'delete-edit', policy: 'keep-both', kept: 'server', path: 'd/sub/new.txt', copyPath: '' } }]);
  const left = (await api.changes('docs', seen)).changes.filter((c) => c.deleted).map((c) => c.path).sort();
  expect(left).toEqual(['d/a.txt', 'd/sub/b.txt']);
  // Seen whole (or sent without a cursor, as before): the folder goes whole.
  expect(await api.remove('docs', 'd', undefined, await seq())).toEqual({ deleted: true, head: null, conflict: null, kept: [] });
});
