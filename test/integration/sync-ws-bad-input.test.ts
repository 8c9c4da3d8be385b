/**
 * The sync door's WebSocket (/sync/v1/ws) against clients that misbehave: malformed frames, huge
 * messages, a client that never reads. Each gets a clear answer or is dropped; the gateway's memory
 * stays bounded and other clients are served.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Api } from '../../src/client/api.js';
import type { ServerMessage } from '../../src/sync-wire/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let token: string;
const BACKLOG = 300;

beforeAll(async () => {
  t = await startTestGateway();
  token = (await new Api(t.url, null).login({ uuid: randomUUID(), name: 'laptop', user: 'alice', password: 'alice-password' })).token;
  // A backlog of long names: each replay of it is a few hundred KB of JSON.
  const conn = t.gw.core.connect(t.alice.session);
  for (let i = 0; i < BACKLOG; i += 1) await conn.write('docs', `${String(i).padStart(4, '0')}-${'n'.repeat(240)}.txt`, Readable.from([Buffer.from('x')]));
}, 60_000);
afterAll(async () => {
  await t?.close();
});

function open(): Promise<WebSocket> {
  const ws = new WebSocket(`${t.url.replace('http', 'ws')}/sync/v1/ws`, { headers: { authorization: `Bearer ${token}` } });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function next(ws: WebSocket): Promise<ServerMessage> {
  return new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)) as ServerMessage)));
}

describe('the sync WebSocket against bad clients', () => {
  // A subscribe replaced the root's subscription only once the earlier one was set up: two sent
  // back to back both started, the first was overwritten without being stopped, and every change was
  // pushed twice (and the first follower outlived the connection).
  it('pushes each change once after two subscribes to one root sent back to back', async () => {
    const ws = await open();
    const got: string[] = [];
    let lives = 0;
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as ServerMessage;
      if (m.type === 'changes') got.push(...m.changes.map((c) => c.path));
      if (m.type === 'live') lives += 1;
    });
    const latest = (await new Api(t.url, token).changes('docs', 0, 10_000)).cursor;
    ws.send(JSON.stringify({ type: 'subscribe', root: 'docs', after: latest }));
    ws.send(JSON.stringify({ type: 'subscribe', root: 'docs', after: latest }));
    await expect.poll(() => lives).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 200));
    await t.gw.core.connect(t.alice.session).write('docs', 'once.txt', Readable.from([Buffer.from('1')]));
    await expect.poll(() => got).toContain('once.txt');
    await new Promise((r) => setTimeout(r, 200));
    expect(got.filter((p) => p === 'once.txt')).toHaveLength(1);
    ws.close();
  });

  it('answers malformed and unexpected messages with an error, closes on an oversized or invalid frame', async () => {
    const ws = await open();
    const bad = ['not json', 'null', '[]', '{"type":"subscribe"}', '{"type":"subscribe","root":"docs","after":-1}', '{"type":"subscribe","root":"docs","after":1e400}',
      '{"type":"subscribe","root":"docs","after":"0"}', '{"type":"subscribe","root":{"x":1},"after":0}', '{"type":"__proto__"}', '{"type":"unsubscribe"}'];
    for (const m of bad) {
      ws.send(m);
      expect(await next(ws), m).toMatchObject({ type: 'error', code: 'INVALID_INPUT' });
    }
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await next(ws)).toMatchObject({ type: 'error', code: 'INVALID_INPUT' });
    ws.send(JSON.stringify({ type: 'subscribe', root: 'no-such-root', after: 0 }));
    expect(await next(ws)).toMatchObject({ type: 'error', root: 'no-such-root', code: 'NOT_FOUND' });
    ws.send(JSON.stringify({ type: 'subscribe', root: 'docs', after: 2 ** 52 }));
    expect(await next(ws)).toMatchObject({ type: 'error', root: 'docs', code: 'STALE_CURSOR' });
    // Still served after all that.
    ws.send(JSON.stringify({ type: 'subscribe', root: 'docs', after: 0 }));
    expect((await next(ws)).type).toBe('changes');
    // A frame past the 64 KiB limit closes the connection with 1009 (message too big).
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send(JSON.stringify({ type: 'subscribe', root: 'x'.repeat(70 * 1024), after: 0 }));
    expect(await closed).toBe(1009);
    // Text that is not UTF-8: 1007.
    const other = await open();
    const closedToo = new Promise<number>((r) => other.once('close', (code) => r(code)));
    other.send(Buffer.from([0xff, 0xfe, 0xfd]), { binary: false });
    expect(await closedToo).toBe(1007);
  });

  // Every subscribe replays the backlog into the socket's send buffer, which had no bound: a client
  // that sent small subscribes and never read made the gateway hold every replay in memory.
  it('drops a client that never reads once its unsent messages pass a bound', async () => {
    const ws = await open();
    let closed = false;
    let lives = 0;
    ws.on('close', () => (closed = true));
    ws.on('error', () => undefined);
    ws.on('message', (d) => {
      if ((JSON.parse(String(d)) as ServerMessage).type === 'live') lives += 1;
    });
    const socket = (ws as unknown as { _socket: Socket })._socket;
    socket.pause(); // reads nothing from here on
    // Each subscribe is answered with the backlog (about 150 KB) and 'live'; spaced, as one replacing
    // another still being set up is stopped before its replay.
    const subscribes = 150;
    for (let i = 0; i < subscribes && !closed; i += 1) {
      ws.send(JSON.stringify({ type: 'subscribe', root: 'docs', after: 0 }));
      await new Promise((r) => setTimeout(r, 15));
    }
    await new Promise((r) => setTimeout(r, 500));
    // Read again: a connection the gateway kept delivers every replay, then goes quiet.
    socket.resume();
    let seen = -1;
    while (!closed && seen !== lives) {
      seen = lives;
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(closed).toBe(true);
    expect(lives).toBeLessThan(subscribes);
    // Others are served.
    const other = await open();
    other.send(JSON.stringify({ type: 'subscribe', root: 'docs', after: 0 }));
    expect((await next(other)).type).toBe('changes');
    other.close();
  }, 60_000);
});
