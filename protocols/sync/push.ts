/**
 * Pushed changes over a WebSocket: per root, the backlog after the client's cursor, then live
 * changes, with no gap and no duplicate (live changes are held while the backlog is read, then
 * those already sent are dropped by seq). Pings keep idle connections open through proxies.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Change, Session } from '../../src/core/index.js';
import type { ClientMessage, ServerMessage } from '../../src/sync-wire/index.js';
import type { SyncCore } from './adapter.js';
import { wireError } from './errors.js';
import type { SyncOptions } from './options.js';
import { wireChange } from './present.js';

/**
 * Unsent bytes a connection may hold before it is dropped (the SSE events stream's bound). Each
 * subscribe replays the backlog into the send buffer: without a bound, a client sending small
 * subscribes and reading nothing had the gateway keep every replay in memory until the ping
 * timeout. A client that reads keeps far below it (a backlog message is pageSize changes).
 */
const MAX_BUFFERED_BYTES = 8 << 20;

export class PushServer {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private readonly timer: NodeJS.Timeout;
  private readonly alive = new WeakMap<WebSocket, boolean>();

  constructor(
    private readonly core: SyncCore,
    private readonly options: SyncOptions,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => this.pingAll(), options.pingIntervalSec * 1000);
    this.timer.unref();
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, session: Session): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.serve(ws, session));
  }

  private pingAll(): void {
    for (const ws of this.wss.clients) {
      if (this.alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      this.alive.set(ws, false);
      ws.ping();
    }
  }

  private serve(ws: WebSocket, session: Session): void {
    const subs = new Map<string, () => void>();
    // The latest subscribe or unsubscribe per root: a subscription still being set up when a later
    // one came is stopped as soon as it is ready (two sent back to back both started, and the first,
    // overwritten unstopped, pushed every change a second time and outlived the connection).
    const latest = new Map<string, object>();
    this.alive.set(ws, true);
    ws.on('pong', () => this.alive.set(ws, true));
    // A frame past maxPayload or text that is not UTF-8 is an 'error' on this socket (ws then closes
    // it with 1009 or 1007): unheard, it was an uncaught exception that ended the gateway's process.
    ws.on('error', (err) => this.log.info({ err: err.message, requestId: session.requestId }, 'push client sent a bad frame'));
    const send = (m: ServerMessage) => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(JSON.stringify(m));
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        this.log.warn({ requestId: session.requestId, buffered: ws.bufferedAmount }, 'push client dropped: it reads nothing');
        ws.terminate();
      }
    };
    ws.on('message', (data, isBinary) => {
      let msg: ClientMessage;
      try {
        if (isBinary) throw new Error('binary');
        msg = JSON.parse(String(data)) as ClientMessage;
      } catch {
        send({ type: 'error', code: 'INVALID_INPUT', message: 'messages are JSON text frames' });
        return;
      }
      if (msg?.type === 'unsubscribe' && typeof msg.root === 'string') {
        latest.set(msg.root, {});
        subs.get(msg.root)?.();
        subs.delete(msg.root);
      } else if (msg?.type === 'subscribe' && typeof msg.root === 'string' && Number.isSafeInteger(msg.after) && msg.after >= 0) {
        const mine = {};
        latest.set(msg.root, mine);
        subs.get(msg.root)?.();
        subs.delete(msg.root);
        this.follow(session, msg.root, msg.after, send)
          .then((stop) => {
            if (ws.readyState !== ws.OPEN || latest.get(msg.root) !== mine) stop();
            else subs.set(msg.root, stop);
          })
          .catch((err: unknown) => {
            const w = wireError(err);
            if (!w) this.log.error({ err, requestId: session.requestId }, 'push subscription failed');
            send({ type: 'error', root: msg.root, code: w?.body.error.code ?? 'INTERNAL', message: w?.body.error.message ?? 'internal error' });
          });
      } else {
        send({ type: 'error', code: 'INVALID_INPUT', message: 'expected {"type":"subscribe","root":NAME,"after":CURSOR} or {"type":"unsubscribe","root":NAME}' });
      }
    });
    ws.on('close', () => {
      for (const stop of subs.values()) stop();
      subs.clear();
    });
  }

  /**
   * Backlog after `after`, then live (the core's follower: no gap, no duplicate); returns the stop
   * function. Changes are batched per event-loop turn so a big backlog goes out in few messages.
   */
  private async follow(session: Session, root: string, after: number, send: (m: ServerMessage) => void): Promise<() => void> {
    const seq = await this.core.seq(session, root);
    if (after > seq) {
      send({ type: 'error', root, code: 'STALE_CURSOR', message: `cursor ${after} is beyond the root's feed (${seq}): rescan from 0` });
      return () => {};
    }
    let batch: Change[] = [];
    let live = false;
    let stopped = false;
    const flush = () => {
      const out = batch;
      batch = [];
      if (out.length && !stopped) send({ type: 'changes', root, changes: out.map(wireChange), cursor: out[out.length - 1]!.seq });
    };
    const follower = await this.core.follow(session, root, after, (c) => {
      if (batch.length === 0) setImmediate(flush);
      batch.push(c);
      if (batch.length >= this.options.pageSize) flush();
    }, (err) => {
      flush();
      const w = err ? wireError(err) : null;
      send({ type: 'error', root, code: w?.body.error.code ?? 'PERMISSION_DENIED', message: w?.body.error.message ?? 'the subscription ended: access to the root was lost' });
    });
    // The replay is delivered from the next turn on, in order; 'live' follows what it had then.
    setImmediate(() => {
      flush();
      if (!live && !stopped) send({ type: 'live', root, cursor: Math.max(after, follower.last) });
      live = true;
    });
    return () => {
      stopped = true;
      follower.stop();
    };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
  }
}
