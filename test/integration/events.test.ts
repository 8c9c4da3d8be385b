import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shareRoutesUnderTest, type RoutesUnderTest } from '../../protocols/http/shares/testing.js';
import { body } from '../helpers/core.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let r: RoutesUnderTest;
let fast: RoutesUnderTest;
const auth = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const ALICE = auth('alice', 'alice-password');
const BOB = auth('bob', 'bob-password');

interface SseEvent {
  id: number;
  event: string;
  data: any;
}

/** A raw SSE client: parses frames as they come, collects events and comment lines. */
class Stream {
  events: SseEvent[] = [];
  comments: string[] = [];
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  body = '';
  ended = false;
  private req!: http.ClientRequest;
  private buf = '';
  private waiters: (() => void)[] = [];

  static open(base: string, root: string, headers: Record<string, string>): Promise<Stream> {
    const s = new Stream();
    const u = new URL(base);
    return new Promise((resolve, reject) => {
      s.req = http.get({ host: u.hostname, port: u.port, path: `/api/v1/roots/${encodeURIComponent(root)}/events`, headers }, (res) => {
        s.status = res.statusCode ?? 0;
        s.headers = res.headers;
        res.setEncoding('utf8');
        if (s.status !== 200) {
          res.on('data', (c: string) => (s.body += c));
          res.on('end', () => resolve(s));
          return;
        }
        res.on('data', (c: string) => s.feed(c));
        res.on('end', () => (s.ended = true));
        res.on('error', () => {});
        resolve(s);
      });
      s.req.on('error', reject);
    });
  }

  private feed(chunk: string): void {
    this.buf += chunk;
    let i: number;
    while ((i = this.buf.indexOf('\n\n')) >= 0) {
      const block = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      const ev: Partial<SseEvent> = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
        else if (line.startsWith('id: ')) ev.id = Number(line.slice(4));
        else if (line.startsWith('event: ')) ev.event = line.slice(7);
        else if (line.startsWith('data: ')) ev.data = JSON.parse(line.slice(6));
      }
      if (ev.id !== undefined) this.events.push(ev as SseEvent);
    }
    for (const w of this.waiters.splice(0)) w();
  }

  async until(pred: (s: Stream) => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!pred(this)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; have ${JSON.stringify(this.events.map((e) => e.id))}`);
      await new Promise<void>((res) => {
        this.waiters.push(res);
        setTimeout(res, 200);
      });
    }
  }

  close(): void {
    this.req.destroy();
  }
}

function listeners(rootId: number): number {
  return (t.gw.core.ctx.bus as unknown as { emitter: { listenerCount(k: string): number } }).emitter.listenerCount(`root:${rootId}`);
}

const rootId = () => t.gw.core.ctx.roots.byName('docs')!.id;
const write = (p: string, text = p) => t.gw.core.vfs.write(t.alice.session, 'docs', p, body(text));

beforeAll(async () => {
  t = await startTestGateway();
  r = await shareRoutesUnderTest({ url: t.url, core: t.gw.core, options: t.gw.config.http });
  fast = await shareRoutesUnderTest({ url: t.url, core: t.gw.core, options: t.gw.config.http }, { ownApp: true, events: { heartbeatMs: 50, accessCheckMs: 0 } });
  await t.gw.core.accounts.createUser('bob', 'bob-password');
});
afterAll(async () => {
  await fast?.close();
  await r?.close();
  await t?.close();
});

describe('live events (SSE)', () => {
  it('needs a user, and hides roots the user may not see', async () => {
    const anon = await Stream.open(r.url, 'docs', {});
    expect(anon.status).toBe(401);
    const hidden = await Stream.open(r.url, 'docs', { authorization: BOB });
    const missing = await Stream.open(r.url, 'no-such-root', { authorization: BOB });
    expect(hidden.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(JSON.parse(hidden.body).error.code).toBe(JSON.parse(missing.body).error.code);
    expect(hidden.body.replace('docs', 'X')).toBe(missing.body.replace('no-such-root', 'X'));
    const bad = await Stream.open(r.url, 'docs', { authorization: ALICE, 'last-event-id': 'abc' });
    expect(bad.status).toBe(400);
  });

  it('streams changes as they commit, with id = sequence number', async () => {
    const s = await Stream.open(r.url, 'docs', { authorization: ALICE });
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toMatch(/^text\/event-stream/);
    await s.until((x) => x.comments.length > 0, 'the opening comment');
    await write('live-1.txt');
    await write('live-2.txt');
    await t.gw.core.vfs.delete(t.alice.session, 'docs', 'live-1.txt');
    await s.until((x) => x.events.length >= 3, 'three events');
    expect(s.events.map((e) => [e.data.path, e.data.op])).toEqual([
      ['live-1.txt', 'create'],
      ['live-2.txt', 'create'],
      ['live-1.txt', 'delete'],
    ]);
    const ids = s.events.map((e) => e.id);
    expect(ids[1]).toBe(ids[0]! + 1);
    expect(ids[2]).toBe(ids[0]! + 2);
    expect(s.events.every((e) => e.event === 'change' && e.data.seq === e.id)).toBe(true);
    s.close();
  });

  it('resumes with Last-Event-ID: the missed changes, then live ones, no gap and no duplicate', async () => {
    const first = await Stream.open(r.url, 'docs', { authorization: ALICE });
    await first.until((x) => x.comments.length > 0, 'connected');
    await write('r-1.txt');
    await first.until((x) => x.events.length >= 1, 'one event');
    const lastId = first.events.at(-1)!.id;
    first.close();
    await write('r-2.txt');
    await write('r-3.txt');
    const again = await Stream.open(r.url, 'docs', { authorization: ALICE, 'last-event-id': String(lastId) });
    // Writes racing with the replay must come out once each, in order.
    const racing = (async () => {
      for (let i = 4; i <= 12; i += 1) await write(`r-${i}.txt`);
    })();
    await racing;
    await again.until((x) => x.events.some((e) => e.data.path === 'r-12.txt'), 'r-12');
    const ids = again.events.map((e) => e.id);
    expect(ids[0]).toBe(lastId + 1);
    expect(ids).toEqual(ids.map((_, i) => lastId + 1 + i));
    expect(again.events.map((e) => e.data.path)).toEqual(Array.from({ length: 11 }, (_, i) => `r-${i + 2}.txt`));
    again.close();
  });

  it('streams a folder move (one feed record) as every path, live and resumed from inside it', async () => {
    for (const p of ['fm/1.txt', 'fm/s/2.txt', 'fm/s/3.txt']) await t.gw.core.vfs.write(t.alice.session, 'docs', p, body(p), { createParents: true });
    const live = await Stream.open(r.url, 'docs', { authorization: ALICE });
    await live.until((x) => x.comments.length > 0, 'connected');
    await t.gw.core.vfs.move(t.alice.session, 'docs', 'fm', 'fm2');
    await write('fm2/1.txt', 'after the move');
    await live.until((x) => x.events.length >= 11, 'the move and the edit');
    const feed = (await t.gw.core.vfs.changes(t.alice.session, 'docs', live.events[0]!.id - 1)).changes;
    const lines = (es: SseEvent[]) => es.map((e) => `${e.id} ${e.data.op} ${e.data.path}`);
    expect(lines(live.events)).toEqual(feed.map((c) => `${c.seq} ${c.op} ${c.path}`));
    expect(live.events.map((e) => e.id)).toEqual(live.events.map((_, i) => live.events[0]!.id + i));
    live.close();
    // Resumed from a cursor inside the record: the rest of it once, then the edit.
    const inside = live.events[3]!.id;
    const again = await Stream.open(r.url, 'docs', { authorization: ALICE, 'last-event-id': String(inside) });
    await again.until((x) => x.events.some((e) => e.data.path === 'fm2/1.txt' && e.data.op !== 'move-in'), 'the edit');
    expect(lines(again.events)).toEqual(lines(live.events.slice(4)));
    again.close();
  });

  it('replays from zero with ?after=0 and sends heartbeats', async () => {
    const u = new URL(fast.url);
    const events: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const req = http.get({ host: u.hostname, port: u.port, path: '/api/v1/roots/docs/events?after=0', headers: { authorization: ALICE } }, (res) => {
        res.setEncoding('utf8');
        let text = '';
        res.on('data', (c: string) => {
          text += c;
          if ((text.match(/: ping/g) ?? []).length >= 2) {
            events.push(...text.split('\n').filter((l) => l.startsWith('id: ')));
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', reject);
    });
    const ids = events.map((l) => Number(l.slice(4)));
    expect(ids[0]).toBe(1);
    expect(ids).toEqual(ids.map((_, i) => i + 1));
  });

  it('a user with a read grant can follow a shared root; disconnects clean up', async () => {
    const bob = (await t.gw.core.accounts.users()).find((u) => u.name === 'bob')!;
    t.gw.core.ctx.roots.grant(rootId(), bob.id, 'read');
    const s = await Stream.open(r.url, 'docs', { authorization: BOB });
    expect(s.status).toBe(200);
    await s.until((x) => x.comments.length > 0, 'connected');
    const connected = listeners(rootId());
    expect(connected).toBeGreaterThan(0);
    await write('for-bob.txt');
    await s.until((x) => x.events.some((e) => e.data.path === 'for-bob.txt'), 'for-bob');
    s.close();
    const deadline = Date.now() + 10_000;
    while (listeners(rootId()) !== connected - 1 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    expect(listeners(rootId())).toBe(connected - 1);
    t.gw.core.ctx.roots.revoke(rootId(), bob.id);
  });

  it('a stream ends when the user loses access to the root', async () => {
    const bob = t.gw.core.accounts.users().find((u) => u.name === 'bob')!;
    t.gw.core.ctx.roots.grant(rootId(), bob.id, 'read');
    const s = await Stream.open(fast.url, 'docs', { authorization: BOB });
    expect(s.status).toBe(200);
    await write('before-revoke.txt');
    await s.until((x) => x.events.some((e) => e.data.path === 'before-revoke.txt'), 'before-revoke');
    let ended = false;
    t.gw.core.ctx.roots.revoke(rootId(), bob.id);
    await write('after-revoke.txt');
    const deadline = Date.now() + 10_000;
    while (!ended && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 50));
      ended = s.ended;
    }
    expect(ended).toBe(true);
    expect(s.events.some((e) => e.data.path === 'after-revoke.txt')).toBe(false);
    s.close();
  });
});
