/**
 * The sync door on the wire: device login (password, API token, pairing code), revocation, cursors
 * in the device list, pushed changes resumable from a cursor, and every bad input with its error.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Api, ApiError } from '../../src/client/api.js';
import type { ServerMessage, WireChange } from '../../src/sync-wire/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let api: Api;
let token: string;

beforeEach(async () => {
  t = await startTestGateway();
  const login = await new Api(t.url, null).login({ uuid: randomUUID(), name: 'laptop', user: 'alice', password: 'alice-password' });
  token = login.token;
  api = new Api(t.url, token);
});
afterEach(async () => {
  await t?.close();
});

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const put = (path: string, s: string, base?: number) => api.upload('docs', { path, base, sha256: sha(s), mtimeMs: Date.now(), size: Buffer.byteLength(s) }, Readable.from([Buffer.from(s)]));
async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected a failure');
}

describe('devices', () => {
  it('log in with an API token or a single-use pairing code; a revoked device is refused', async () => {
    const apiToken = t.gw.core.accounts.createToken(t.alice.session.user.id, 'script').token;
    const viaToken = await new Api(t.url, null).login({ uuid: randomUUID(), name: 'ci', user: 'alice', password: apiToken });
    expect(viaToken.token).toMatch(/^sgd_/);

    const { code } = t.gw.core.devices.pair(t.alice.session.user.id);
    const uuid = randomUUID();
    const paired = await new Api(t.url, null).login({ uuid, name: 'phone', pairingCode: code.toLowerCase() });
    expect(paired.user).toBe('alice');
    const again = await failure(new Api(t.url, null).login({ uuid: randomUUID(), name: 'thief', pairingCode: code }));
    expect(again.code).toBe('UNAUTHENTICATED');
    expect(again.status).toBe(401);

    const phone = new Api(t.url, paired.token);
    expect((await phone.roots()).roots.map((r) => r.name)).toContain('docs');
    t.gw.core.connect(t.alice.session).revokeDevice(paired.device.id);
    const refused = await failure(phone.roots());
    expect(refused.code).toBe('UNAUTHENTICATED');
    expect((await failure(new Api(t.url, 'sgd_nonsense').roots())).code).toBe('UNAUTHENTICATED');
    expect((await failure(new Api(t.url, null).roots())).message).toMatch(/device token/);
  });

  it('an expired pairing code is refused', async () => {
    const { code } = t.gw.core.devices.pair(t.alice.session.user.id, -1);
    expect((await failure(new Api(t.url, null).login({ uuid: randomUUID(), name: 'late', pairingCode: code }))).code).toBe('UNAUTHENTICATED');
  });

  it('the device list (REST) shows each device\'s cursor per root and how far behind it is', async () => {
    await put('a.txt', 'a');
    await put('b.txt', 'b');
    const page = await api.changes('docs', 0);
    await api.setCursor('docs', page.changes[0]!.seq);
    const res = await fetch(`${t.url}/api/v1/me/devices`, { headers: { authorization: `Basic ${Buffer.from('alice:alice-password').toString('base64')}` } });
    const body = (await res.json()) as { devices: { name: string; roots: { root: string; cursor: number; behind: number }[]; lastSeenAt: string | null }[] };
    const laptop = body.devices.find((d) => d.name === 'laptop')!;
    expect(laptop.lastSeenAt).not.toBeNull();
    expect(laptop.roots).toEqual([expect.objectContaining({ root: 'docs', cursor: page.changes[0]!.seq, behind: page.seq - page.changes[0]!.seq })]);
    expect(laptop.roots[0]!.behind).toBeGreaterThan(0);
    // The web page makes pairing codes too.
    const pairing = await fetch(`${t.url}/api/v1/me/devices/pairing`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from('alice:alice-password').toString('base64')}` } });
    expect(pairing.status).toBe(201);
    const { code } = (await pairing.json()) as { code: string };
    expect((await new Api(t.url, null).login({ uuid: randomUUID(), name: 'tablet', pairingCode: code })).user).toBe('alice');
  });
});

describe('changes', () => {
  it('pages after a cursor, each change with its door and device; a cursor beyond the feed asks for a rescan', async () => {
    const w = await put('n.txt', 'one');
    await t.gw.core.connect(t.alice.session).write('docs', 'm.txt', Readable.from([Buffer.from('core')]));
    const page = await api.changes('docs', 0, 1);
    expect(page.more).toBe(true);
    expect(page.changes).toHaveLength(1);
    const rest = await api.changes('docs', page.cursor);
    const all = [...page.changes, ...rest.changes];
    const n = all.find((c) => c.path === 'n.txt')!;
    expect(n).toMatchObject({ door: 'sync', device: 'laptop', version: w.entry.version, sha256: sha('one') });
    expect(n.deviceId).toEqual(expect.any(Number));
    expect(all.find((c) => c.path === 'm.txt')).toMatchObject({ door: 'core', deviceId: null });
    const stale = await failure(api.changes('docs', rest.seq + 100));
    expect(stale.code).toBe('STALE_CURSOR');
    expect(stale.status).toBe(410);
    expect((await failure(api.setCursor('docs', rest.seq + 100))).code).toBe('STALE_CURSOR');
  });

  it('the WebSocket replays after the cursor then pushes live changes, no gap, no duplicate', async () => {
    await put('1.txt', '1');
    await put('2.txt', '2');
    const first = (await api.changes('docs', 0)).changes[0]!.seq;
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/sync/v1/ws`, { headers: { authorization: `Bearer ${token}` } });
    const got: WireChange[] = [];
    let live = false;
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as ServerMessage;
      if (m.type === 'changes') got.push(...m.changes);
      if (m.type === 'live') live = true;
    });
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'subscribe', root: 'docs', after: first }));
    await expect.poll(() => live).toBe(true);
    await put('3.txt', '3');
    await t.gw.core.connect(t.alice.session).write('docs', '4.txt', Readable.from([Buffer.from('4')]));
    await expect.poll(() => got.map((c) => c.path)).toEqual(['2.txt', '3.txt', '4.txt']);
    const seqs = got.map((c) => c.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);
    ws.close();
  });

  it('the WebSocket pushes a folder move (one feed record) as every path, from a cursor inside an earlier one', async () => {
    const core = t.gw.core.connect(t.alice.session);
    for (const p of ['wm/1.txt', 'wm/s/2.txt']) await core.write('docs', p, Readable.from([Buffer.from(p)]), { createParents: true });
    await core.move('docs', 'wm', 'wm2');
    const before = (await api.changes('docs', 0)).changes;
    // Inside the record: after the arrival of wm2 and wm2/1.txt.
    const inside = before.find((c) => c.path === 'wm2/1.txt')!.seq;
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/sync/v1/ws`, { headers: { authorization: `Bearer ${token}` } });
    const got: WireChange[] = [];
    let live = false;
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as ServerMessage;
      if (m.type === 'changes') got.push(...m.changes);
      if (m.type === 'live') live = true;
    });
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'subscribe', root: 'docs', after: inside }));
    await expect.poll(() => live).toBe(true);
    await core.move('docs', 'wm2', 'wm3');
    const all = (await api.changes('docs', inside)).changes;
    expect(all.at(-1)!.path).toBe('wm2');
    await expect.poll(() => got.length).toBe(all.length);
    expect(got.map((c) => `${c.seq} ${c.op} ${c.path}`)).toEqual(all.map((c) => `${c.seq} ${c.op} ${c.path}`));
    expect(got.map((c) => c.seq)).toEqual(got.map((_, i) => inside + 1 + i));
    ws.close();
  });

  it('refuses a WebSocket without a valid device token', async () => {
    const ws = new WebSocket(`${t.url.replace('http', 'ws')}/sync/v1/ws`, { headers: { authorization: 'Bearer sgd_wrong' } });
    const status = await new Promise<number>((r) => ws.once('unexpected-response', (_req, res) => r(res.statusCode ?? 0)));
    expect(status).toBe(401);
  });
});

describe('bad input', () => {
  it('a content whose SHA-256 is not the announced one records nothing', async () => {
    const err = await failure(api.upload('docs', { path: 'h.txt', sha256: sha('other'), mtimeMs: 0, size: 4 }, Readable.from([Buffer.from('real')])));
    expect(err.code).toBe('HASH_MISMATCH');
    expect(err.status).toBe(422);
    expect(await t.gw.core.connect(t.alice.session).statOrNull('docs', 'h.txt')).toBeNull();
  });

  it('a corrupt or truncated delta records nothing and leaves the head as it was', async () => {
    const w = await put('d.txt', 'x'.repeat(100_000));
    const corrupt = await failure(api.uploadDelta('docs', { path: 'd.txt', base: w.entry.version, sha256: sha('y'), mtimeMs: 0 }, Readable.from([Buffer.from('not a delta at all')])));
    expect(corrupt.code).toBe('CORRUPT_DELTA');
    const truncated = await failure(api.uploadDelta('docs', { path: 'd.txt', base: w.entry.version, sha256: sha('y'), mtimeMs: 0 }, Readable.from([Buffer.from([0x72, 0x73, 0x02, 0x36, 0x41])])));
    expect(truncated.code).toBe('CORRUPT_DELTA');
    const head = await t.gw.core.connect(t.alice.session).stat('docs', 'd.txt');
    expect(head.version).toBe(w.entry.version);
    expect(head.hash).toBe(sha('x'.repeat(100_000)));
  });

  it('paths outside the root, a garbage signature and malformed queries are refused in the protocol\'s terms', async () => {
    for (const p of ['../etc/passwd', '/abs/../../x', 'a/../../b', 'nul\u0000byte']) {
      const err = await failure(put(p, 'x'));
      expect(['INVALID_PATH', 'INVALID_INPUT']).toContain(err.code);
      expect(err.status).toBe(400);
    }
    await put('s.txt', 'content');
    expect((await failure(api.deltaDownload('docs', 's.txt', Buffer.from('garbage')))).code).toBe('CORRUPT_DELTA');
    const res = await fetch(`${t.url}/sync/v1/roots/docs/changes?after=-3`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INVALID_INPUT');
    expect((await failure(api.download('nope', 'x'))).code).toBe('NOT_FOUND');
  });

  it('integer query values are plain decimal digits: 1e3, 0x10, a sign or spaces are 400, and nothing is deleted', async () => {
    const v = await put('d.txt', 'keep me');
    const bearer = { authorization: `Bearer ${token}` };
    for (const bad of ['1e3', '0x10', '+1', ' 1', '1.0', '']) {
      const q = encodeURIComponent(bad);
      const changes = await fetch(`${t.url}/sync/v1/roots/docs/changes?after=${q}`, { headers: bearer });
      expect(changes.status, `after=${JSON.stringify(bad)}`).toBe(400);
      // base=1e0 would read as version 1, the head: a delete that must not happen.
      const del = await fetch(`${t.url}/sync/v1/roots/docs/file?path=d.txt&base=${bad === '1e3' ? '1e0' : q}`, { method: 'DELETE', headers: bearer });
      expect(del.status, `base=${JSON.stringify(bad)}`).toBe(400);
      expect(((await del.json()) as { error: { code: string } }).error.code).toBe('INVALID_INPUT');
    }
    expect((await api.download('docs', 'd.txt')).entry.version).toBe(v.entry.version);
    const limit = await fetch(`${t.url}/sync/v1/roots/docs/changes?after=0&limit=1e1`, { headers: bearer });
    expect(limit.status).toBe(400);
    expect((await fetch(`${t.url}/sync/v1/roots/docs/changes?after=0&limit=10001`, { headers: bearer })).status).toBe(400);
    expect((await fetch(`${t.url}/sync/v1/roots/docs/changes?after=0&limit=10000`, { headers: bearer })).status).toBe(200);
  });

  it('a delete whose base is older than the head deletes nothing', async () => {
    const v1 = await put('e.txt', 'one');
    await put('e.txt', 'two', v1.entry.version);
    const res = await api.remove('docs', 'e.txt', v1.entry.version);
    expect(res.deleted).toBe(false);
    expect(res.head?.sha256).toBe(sha('two'));
  });
});
