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
  // Every subscribe replays the backlog into the socket's send buffer, which had no bound: a client
  // that sent small subscribes and never read made the gateway hold every replay in memory.
  it('drops a client that never reads once its unsent messages pass a bound', async () => {
    const ws = await open();
    const socket = (ws as unknown as { _socket: Socket })._socket;
    socket.pause(); // reads nothing from here on
    const subscribes = 150;
    for (let i = 0; i < subscribes; i += 1) ws.send(JSON.stringify({ type: 'subscribe', root: 'docs', after: 0 }));
    // Each subscribe is answered with the backlog and 'live'; wait until the gateway is done with them.
    await new Promise((r) => setTimeout(r, 1500));
    let lives = 0;
    ws.on('message', (d) => {
      if ((JSON.parse(String(d)) as ServerMessage).type === 'live') lives += 1;
    });
    const closed = new Promise<boolean>((resolve) => {
      ws.once('close', () => resolve(true));
      ws.on('message', () => {
        if (lives === subscribes) resolve(false);
      });
    });
    ws.on('error', () => undefined);
    socket.resume();
    expect(await closed).toBe(true);
    expect(lives).toBeLessThan(subscribes);
    // Others are served.
    const other = await open();
    other.send(JSON.stringify({ type: 'subscribe', root: 'docs', after: 0 }));
    expect((await next(other)).type).toBe('changes');
    other.close();
  }, 60_000);
});
