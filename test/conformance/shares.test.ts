import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Change } from '../../src/core/index.js';
import { startTestGateway } from '../helpers/gateway.js';
import { connectAll, DOORS, type AllDoors, type Door } from './doors.js';
import { feedViaSync, recordEvents } from './feeds.js';

/**
 * Share links seen against every door: a link belongs to its entry, so what a door writes shows
 * through the link, a move through any door keeps the link working, and a delete through any door
 * ends it; what a visitor drops through an upload-only link is a file every door reads, with its
 * version and actor. Links are made through the REST API (files) and the connection (folders).
 */
describe('conformance: share links and every door', () => {
  let all: AllDoors;
  beforeAll(async () => {
    all = await connectAll(await startTestGateway());
  });
  afterAll(async () => all?.close());

  const auth = () => ({ authorization: `Basic ${Buffer.from(`${all.t.alice.name}:${all.t.alice.password}`).toString('base64')}` });
  const conn = () => all.t.gw.core.connect(all.t.alice.session);

  async function restLink(path: string, extra: Record<string, unknown> = {}): Promise<{ id: number; token: string }> {
    const res = await fetch(`${all.t.url}/api/v1/shares`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ root: 'docs', path, ...extra }) });
    expect(res.status).toBe(201);
    const b = (await res.json()) as { share: { id: number }; token: string };
    return { id: b.share.id, token: b.token };
  }
  async function download(token: string, sub = ''): Promise<{ status: number; text: string }> {
    const res = await fetch(`${all.t.url}/s/${token}/download${sub ? `/${sub.split('/').map(encodeURIComponent).join('/')}` : ''}`);
    return { status: res.status, text: await res.text() };
  }
  async function meta(token: string): Promise<{ name: string; entries: { name: string }[] | null }> {
    const res = await fetch(`${all.t.url}/s/${token}/meta`);
    expect(res.status).toBe(200);
    return (await res.json()) as { name: string; entries: { name: string }[] | null };
  }
  async function state(id: number): Promise<string> {
    const res = await fetch(`${all.t.url}/api/v1/shares/${id}`, { headers: auth() });
    return ((await res.json()) as { share: { state: string } }).share.state;
  }

  for (const door of DOORS) {
    const client = (d: Door = door) => all.clients.get(d)!;

    it(`a link to a file shows what ${door.name} writes, follows its move and ends with its delete`, async () => {
      const dir = `file-link-${door.protocol}`;
      await client().mkdir(dir);
      await client().put(`${dir}/report.txt`, Buffer.from('one'));
      const link = await restLink(`${dir}/report.txt`);
      expect(await download(link.token)).toEqual({ status: 200, text: 'one' });
      await client().put(`${dir}/report.txt`, Buffer.from('two'));
      expect(await download(link.token)).toEqual({ status: 200, text: 'two' });

      await client().move(`${dir}/report.txt`, `${dir}/renamed.txt`);
      expect((await meta(link.token)).name).toBe('renamed.txt');
      expect(await download(link.token)).toEqual({ status: 200, text: 'two' });
      await client().put(`${dir}/renamed.txt`, Buffer.from('three'));
      expect(await download(link.token)).toEqual({ status: 200, text: 'three' });
      // What is put later at the old path is another entry: the link never serves it.
      await client().put(`${dir}/report.txt`, Buffer.from('a stranger'));
      expect(await download(link.token)).toEqual({ status: 200, text: 'three' });

      await client().remove(`${dir}/renamed.txt`);
      expect((await download(link.token)).status).toBe(404);
      expect(await state(link.id)).toBe('ended');
      await client().put(`${dir}/renamed.txt`, Buffer.from('back at the path'));
      expect((await download(link.token)).status).toBe(404);
    });

    it(`a link to a folder lists and serves what ${door.name} puts in it, follows its move and ends with its delete`, async () => {
      const dir = `folder-link-${door.protocol}`;
      await client().mkdir(dir);
      await client().put(`${dir}/a.txt`, Buffer.from('alpha'));
      const { link, token } = await conn().createShare({ root: 'docs', path: dir });
      expect((await meta(token)).entries?.map((e) => e.name)).toEqual(['a.txt']);
      await client().put(`${dir}/b.txt`, Buffer.from('bravo'));
      expect((await meta(token)).entries?.map((e) => e.name).sort()).toEqual(['a.txt', 'b.txt']);
      expect(await download(token, 'b.txt')).toEqual({ status: 200, text: 'bravo' });

      await client().move(dir, `${dir}-moved`);
      expect((await meta(token)).name).toBe(`${dir}-moved`);
      expect(await download(token, 'a.txt')).toEqual({ status: 200, text: 'alpha' });

      await client().remove(`${dir}-moved`);
      expect((await download(token, 'a.txt')).status).toBe(404);
      expect((await fetch(`${all.t.url}/s/${token}/meta`)).status).toBe(404);
      expect(conn().share(link.id).state).toBe('ended');
    });
  }

  it('a file dropped through an upload-only link is read the same through every door, as version 1 by the link\'s creator through the share door', async () => {
    await conn().mkdir('docs', 'inbox');
    const link = await restLink('inbox', { uploadOnly: true });
    const data = Buffer.from('dropped by a visitor');
    const up = await fetch(`${all.t.url}/s/${link.token}/upload/note.txt`, { method: 'PUT', body: data });
    expect(up.status).toBe(201);
    // A second drop of the same name never overwrites: it gets its own name.
    expect((await fetch(`${all.t.url}/s/${link.token}/upload/note.txt`, { method: 'PUT', body: 'second' })).status).toBe(201);

    for (const [door, client] of all.clients) {
      expect((await client.get('inbox/note.txt')).equals(data), door.name).toBe(true);
      expect((await client.list('inbox')).sort(), door.name).toEqual(['note (1).txt', 'note.txt']);
      const st = await client.stat('inbox/note.txt');
      expect(st.size, door.name).toBe(data.length);
      // Doors that show a version (all but FTP) show version 1.
      if (st.version !== null) expect(st.version, door.name).toBe(1);
    }
    const [v] = await conn().history('docs', 'inbox/note.txt');
    expect({ version: v!.version, user: v!.user, protocol: v!.protocol, op: v!.op }).toEqual({ version: 1, user: 'alice', protocol: 'share', op: 'create' });
    // The REST API's history and the change feed (the core's, REST's events, the sync protocol's) say the same.
    const rest = (await (await fetch(`${all.t.url}/api/v1/roots/docs/history/inbox/note.txt`, { headers: auth() })).json()) as { versions: { version: number; user: string; protocol: string }[] };
    expect(rest.versions.map((x) => [x.version, x.user, x.protocol])).toEqual([[1, 'alice', 'share']]);
    const feed = (await conn().changes('docs', 0, 10_000)).changes;
    const drop = (cs: Change[]) => cs.filter((c) => c.path === 'inbox/note.txt').map((c) => [c.op, c.version, c.user, c.protocol]);
    expect(drop(feed)).toEqual([['create', 1, 'alice', 'share']]);
    expect(drop(await feedViaSync(all.t, 0, feed.at(-1)!.seq))).toEqual(drop(feed));
    const events = await recordEvents(all.t, 0);
    try {
      expect(drop(await events.until(feed.at(-1)!.seq))).toEqual(drop(feed));
    } finally {
      events.stop();
    }
  });
});
