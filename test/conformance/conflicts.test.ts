import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { createClient } from 'webdav';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api } from '../../src/client/api.js';
import { isConflictCopy } from '../../src/core/conflict-name.js';
import { body, readAll } from '../helpers/core.js';
import { startTestGateway } from '../helpers/gateway.js';
import { connectAll, ftpDoor, type AllDoors } from './doors.js';

/**
 * Two writers, one base. A door that names the version it edited (REST If-Match, the sync
 * protocol's base) and is late gets a conflict copy `name (conflict YYYY-MM-DD HHMMSS from DEVICE).ext`
 * and a conflict record, both seen through every other door, and loses nothing; resolving it
 * through REST shows the same everywhere. WebDAV's If-Match is an HTTP precondition: a stale one is
 * 412 and changes nothing (RFC 9110 13.1.1 forbids doing the write any other way). FTP has no base:
 * the last writer wins and the version it replaced stays in history.
 */
describe('conformance: conflicts through a base version or If-Match', () => {
  let all: AllDoors;
  let sync: Api;
  beforeAll(async () => {
    all = await connectAll(await startTestGateway());
    const login = await new Api(all.t.url, null).login({ uuid: randomUUID(), name: 'laptop', user: all.t.alice.name, password: all.t.alice.password });
    sync = new Api(all.t.url, login.token);
  });
  afterAll(async () => all?.close());

  const conn = () => all.t.gw.core.connect(all.t.alice.session);
  const auth = () => ({ authorization: `Basic ${Buffer.from(`${all.t.alice.name}:${all.t.alice.password}`).toString('base64')}` });
  const rest = (p: string) => `${all.t.url}/api/v1/roots/docs/${p}`;
  const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

  /** v1 'base' (the version both writers start from), then v2 'server' by another writer. */
  async function twoWriters(path: string): Promise<{ etag1: string }> {
    const v1 = await conn().write('docs', path, body('base'));
    await conn().write('docs', path, body('server'));
    return { etag1: v1.entry.etag };
  }

  async function everyDoorReads(path: string, text: string): Promise<void> {
    for (const [door, client] of all.clients) expect((await client.get(path)).toString(), `${door.name} reads ${path}`).toBe(text);
  }
  async function everyDoorLists(dir: string): Promise<string[]> {
    const seen = new Set<string>();
    for (const [door, client] of all.clients) {
      const names = (await client.list(dir)).sort();
      seen.add(JSON.stringify(names));
      expect(seen.size, `${door.name} lists ${dir} as the others do`).toBe(1);
    }
    return JSON.parse([...seen][0]!) as string[];
  }
  /** The conflict record as the core, the REST API and the sync protocol show it (unresolved ones). */
  async function recordsEverywhere(path: string) {
    const core = (await conn().conflicts('docs')).filter((c) => c.path === path);
    const viaRest = ((await (await fetch(rest('conflicts'), { headers: auth() })).json()) as { conflicts: { id: number; path: string; copyPath: string }[] }).conflicts.filter((c) => c.path === path);
    const viaSync = (await sync.conflicts('docs')).conflicts.filter((c) => c.path === path);
    expect(viaRest.map((c) => [c.id, c.copyPath])).toEqual(core.map((c) => [c.id, c.copyPath]));
    expect(viaSync.map((c) => [c.id, c.copyPath])).toEqual(core.map((c) => [c.id, c.copyPath]));
    return core;
  }
  function expectCopyName(copyPath: string, dir: string, stem: string, device: string, from: number, to: number) {
    const m = new RegExp(`^${dir}/${stem} \\(conflict (\\d{4}-\\d{2}-\\d{2}) (\\d{2})(\\d{2})(\\d{2}) from ${device}\\)\\.txt$`).exec(copyPath);
    expect(m, copyPath).not.toBeNull();
    expect(isConflictCopy(copyPath)).toBe(true);
    const at = Date.parse(`${m![1]}T${m![2]}:${m![3]}:${m![4]}Z`);
    expect(at).toBeGreaterThanOrEqual(Math.floor(from / 1000) * 1000);
    expect(at).toBeLessThanOrEqual(to);
  }

  it('REST: a stale If-Match gives a conflict copy and a record every door sees; resolving it (keep incoming) through REST shows everywhere', async () => {
    await conn().mkdir('docs', 'by-rest');
    const { etag1 } = await twoWriters('by-rest/plan.txt');
    const before = Date.now();
    const res = await fetch(rest('files/by-rest/plan.txt'), { method: 'PUT', headers: { ...auth(), 'if-match': etag1 }, body: 'mine' });
    expect(res.status).toBe(409);
    const answer = (await res.json()) as { entry: { path: string }; conflict: { id: number; copyPath: string } };
    expect(answer.entry.path).toBe(answer.conflict.copyPath);
    expectCopyName(answer.conflict.copyPath, 'by-rest', 'plan', 'alice via rest', before, Date.now());

    // Nothing lost, nothing overwritten: the head is the server's edit, the late one is the copy.
    await everyDoorReads('by-rest/plan.txt', 'server');
    await everyDoorReads(answer.conflict.copyPath, 'mine');
    expect(await everyDoorLists('by-rest')).toEqual(['plan.txt', answer.conflict.copyPath.slice('by-rest/'.length)].sort());
    const [record] = await recordsEverywhere('by-rest/plan.txt');
    expect({ id: record!.id, kind: record!.kind, base: record!.baseVersion, server: record!.serverVersion, hash: record!.incomingHash }).toEqual({ id: answer.conflict.id, kind: 'edit-edit', base: 1, server: 2, hash: sha('mine') });

    const resolved = await fetch(rest(`conflicts/${record!.id}/resolve`), { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ resolution: 'keep-incoming' }) });
    expect(resolved.status).toBe(200);
    await everyDoorReads('by-rest/plan.txt', 'mine');
    expect(await everyDoorLists('by-rest')).toEqual(['plan.txt']);
    expect(await recordsEverywhere('by-rest/plan.txt')).toEqual([]);
    const history = (await conn().history('docs', 'by-rest/plan.txt')).sort((a, b) => a.version - b.version);
    expect(history.map((v) => [v.version, v.op, v.hash])).toEqual([[1, 'create', sha('base')], [2, 'write', sha('server')], [3, 'resolve', sha('mine')]]);
    expect((await conn().conflicts('docs', true)).find((c) => c.id === record!.id)?.resolution).toBe('keep-incoming');
  });

  it('the sync protocol: a stale base gives a conflict copy from the device and a record every door sees; keep both through REST keeps both everywhere', async () => {
    await conn().mkdir('docs', 'by-sync');
    await twoWriters('by-sync/plan.txt');
    const before = Date.now();
    const mine = Buffer.from('mine, offline');
    const w = await sync.upload('docs', { path: 'by-sync/plan.txt', base: 1, sha256: sha(mine), mtimeMs: Date.now(), size: mine.length }, Readable.from([mine]));
    expect(w.conflict).not.toBeNull();
    expect(w.entry.path).toBe(w.conflict!.copyPath);
    expectCopyName(w.conflict!.copyPath, 'by-sync', 'plan', 'laptop', before, Date.now());

    await everyDoorReads('by-sync/plan.txt', 'server');
    await everyDoorReads(w.conflict!.copyPath, 'mine, offline');
    expect(await everyDoorLists('by-sync')).toEqual(['plan.txt', w.conflict!.copyPath.slice('by-sync/'.length)].sort());
    const [record] = await recordsEverywhere('by-sync/plan.txt');
    expect([record!.id, record!.device, record!.baseVersion, record!.serverVersion]).toEqual([w.conflict!.id, 'laptop', 1, 2]);

    const resolved = await fetch(rest(`conflicts/${record!.id}/resolve`), { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ resolution: 'keep-both' }) });
    expect(resolved.status).toBe(200);
    await everyDoorReads('by-sync/plan.txt', 'server');
    await everyDoorReads(w.conflict!.copyPath, 'mine, offline');
    expect(await everyDoorLists('by-sync')).toHaveLength(2);
    expect(await recordsEverywhere('by-sync/plan.txt')).toEqual([]);
  });

  it('WebDAV: a stale If-Match is 412 (an HTTP precondition) and changes nothing anywhere: no copy, no record', async () => {
    await conn().mkdir('docs', 'by-webdav');
    const { etag1 } = await twoWriters('by-webdav/plan.txt');
    const feedBefore = (await conn().changes('docs', 0, 10_000)).changes.length;
    const dav = createClient(`${all.t.url}/dav/docs`, { username: all.t.alice.name, password: all.t.alice.password });
    const refused = await dav.putFileContents('/by-webdav/plan.txt', 'mine', { headers: { 'If-Match': etag1 } }).then(() => 0, (e: { status?: number }) => e.status);
    expect(refused).toBe(412);
    await everyDoorReads('by-webdav/plan.txt', 'server');
    expect(await everyDoorLists('by-webdav')).toEqual(['plan.txt']);
    expect(await recordsEverywhere('by-webdav/plan.txt')).toEqual([]);
    expect((await conn().changes('docs', 0, 10_000)).changes.length).toBe(feedBefore);
    // With the current tag the write goes through, as version 3.
    const current = (await conn().stat('docs', 'by-webdav/plan.txt')).etag;
    await dav.putFileContents('/by-webdav/plan.txt', 'mine', { headers: { 'If-Match': current } });
    await everyDoorReads('by-webdav/plan.txt', 'mine');
    expect((await conn().stat('docs', 'by-webdav/plan.txt')).version).toBe(3);
  });

  it('FTP (no base): the last writer wins, the version it replaced stays in history, no conflict is recorded', async () => {
    const ftp = all.clients.get(ftpDoor)!;
    await conn().mkdir('docs', 'by-ftp');
    await ftp.put('by-ftp/plan.txt', Buffer.from('base'));
    await conn().write('docs', 'by-ftp/plan.txt', body('server'));
    await ftp.put('by-ftp/plan.txt', Buffer.from('mine'));
    await everyDoorReads('by-ftp/plan.txt', 'mine');
    expect(await everyDoorLists('by-ftp')).toEqual(['plan.txt']);
    expect(await recordsEverywhere('by-ftp/plan.txt')).toEqual([]);
    const history = (await conn().history('docs', 'by-ftp/plan.txt')).sort((a, b) => a.version - b.version);
    expect(history.map((v) => [v.version, v.protocol, v.hash])).toEqual([[1, 'ftp', sha('base')], [2, 'core', sha('server')], [3, 'ftp', sha('mine')]]);
    // The replaced version is still there to read, through the core and through REST.
    expect((await readAll((await conn().read('docs', 'by-ftp/plan.txt', { version: 2 })).stream)).toString()).toBe('server');
    expect(await (await fetch(rest('files/by-ftp/plan.txt?version=2'), { headers: auth() })).text()).toBe('server');
  });

  it('an outdated delete (sync base, REST If-Match) deletes nothing; the sync door\'s leaves a record every door with records shows', async () => {
    await conn().mkdir('docs', 'deletes');
    const { etag1 } = await twoWriters('deletes/kept.txt');
    const gone = await sync.remove('docs', 'deletes/kept.txt', 1);
    expect(gone.deleted).toBe(false);
    expect(gone.head?.version).toBe(2);
    const viaRest = await fetch(rest('files/deletes/kept.txt'), { method: 'DELETE', headers: { ...auth(), 'if-match': etag1 } });
    expect(viaRest.status).toBe(412);
    await everyDoorReads('deletes/kept.txt', 'server');
    const records = await recordsEverywhere('deletes/kept.txt');
    expect(records.map((c) => [c.kind, c.baseVersion, c.serverVersion, c.device])).toEqual([['delete-edit', 1, 2, 'laptop']]);
  });

  it('an edit through the sync door whose base was deleted since brings the file back, with a record every door with records shows', async () => {
    await conn().mkdir('docs', 'revived');
    await conn().write('docs', 'revived/note.txt', body('base'));
    await conn().delete('docs', 'revived/note.txt');
    const mine = Buffer.from('edited offline');
    const w = await sync.upload('docs', { path: 'revived/note.txt', base: 1, sha256: sha(mine), mtimeMs: Date.now(), size: mine.length }, Readable.from([mine]));
    expect(w.entry.path).toBe('revived/note.txt');
    await everyDoorReads('revived/note.txt', 'edited offline');
    expect(await everyDoorLists('revived')).toEqual(['note.txt']);
    expect((await recordsEverywhere('revived/note.txt')).map((c) => c.kind)).toEqual(['edit-delete']);
  });
});
