/**
 * The change feed as the doors that have one show it, each read with its real client and put in
 * the core's Change shape for the snapshot's feed lines: the sync protocol's pages and its
 * WebSocket push (the companion client's Api and `ws`), and the REST door's server-sent events.
 * The push and the events are recorders: started before the work, they see it arrive live.
 */
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import { Api } from '../../src/client/api.js';
import type { Change } from '../../src/core/index.js';
import { PREFIX, type ServerMessage, type WireChange } from '../../src/sync-wire/index.js';
import { basicAuth, type TestGateway } from '../helpers/gateway.js';

/** The fields every feed carries; the rest of Change is filled with what the lines never read. */
type FeedChange = Pick<Change, 'seq' | 'path' | 'op' | 'kind' | 'version' | 'deleted' | 'hash' | 'size' | 'oldPath' | 'protocol' | 'user'>;

function asChange(c: FeedChange): Change {
  return { ...c, root: 'docs', mtimeMs: 0, deviceId: null, device: null, createdAt: 0 };
}
function fromWire(c: WireChange): Change {
  return asChange({ seq: c.seq, path: c.path, op: c.op, kind: c.kind, version: c.version, deleted: c.deleted, hash: c.sha256, size: c.size, oldPath: c.oldPath, protocol: c.door, user: c.user });
}

async function deviceToken(t: TestGateway): Promise<string> {
  return (await new Api(t.url, null).login({ uuid: randomUUID(), name: 'feed-reader', user: t.alice.name, password: t.alice.password })).token;
}

/** The sync protocol's paged feed after `after`, up to and including `until`. */
export async function feedViaSync(t: TestGateway, after: number, until: number): Promise<Change[]> {
  const api = new Api(t.url, await deviceToken(t));
  const out: Change[] = [];
  for (let cursor = after; ; ) {
    const page = await api.changes('docs', cursor);
    for (const c of page.changes) {
      if (c.seq > until) return out;
      out.push(fromWire(c));
    }
    cursor = page.cursor;
    if (!page.more) return out;
  }
}

/** A feed being received: what came so far, and a wait for the change with a given seq. */
export interface FeedRecorder {
  /** Everything received up to and including `seq` (waits up to 10 s for it). */
  until(seq: number): Promise<Change[]>;
  stop(): void;
}

function recorder(stop: () => void): { rec: FeedRecorder; add(c: Change): void; fail(err: Error): void } {
  const got: Change[] = [];
  let waiter: { seq: number; resolve: (c: Change[]) => void; reject: (e: Error) => void } | null = null;
  let failed: Error | null = null;
  const settle = () => {
    if (!waiter) return;
    if (failed) waiter.reject(failed);
    else if (got.some((c) => c.seq >= waiter!.seq)) waiter.resolve(got.filter((c) => c.seq <= waiter!.seq));
    else return;
    waiter = null;
  };
  return {
    add: (c) => (got.push(c), settle()),
    fail: (err) => ((failed ??= err), settle()),
    rec: {
      until: (seq) =>
        new Promise<Change[]>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`feed: seq ${seq} did not arrive; got ${got.map((c) => c.seq).join(',')}`)), 10_000);
          waiter = { seq, resolve: (c) => (clearTimeout(timer), resolve(c)), reject: (e) => (clearTimeout(timer), reject(e)) };
          settle();
        }),
      stop,
    },
  };
}

/** The sync protocol's WebSocket push, subscribed from `after` (backlog, then live). */
export async function recordSyncPush(t: TestGateway, after: number): Promise<FeedRecorder> {
  const ws = new WebSocket(`${t.url.replace(/^http/, 'ws')}${PREFIX}/ws`, { headers: { authorization: `Bearer ${await deviceToken(t)}` } });
  const r = recorder(() => ws.close());
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as ServerMessage;
    if (m.type === 'changes') for (const c of m.changes) r.add(fromWire(c));
    else if (m.type === 'error') r.fail(new Error(`push: ${m.code} ${m.message}`));
  });
  ws.on('error', (err) => r.fail(err));
  await new Promise<void>((resolve, reject) => ws.once('open', () => resolve()).once('error', reject));
  // Subscribed (and its backlog read) before the work starts: what follows arrives live.
  const live = new Promise<void>((resolve) => ws.on('message', (d) => (JSON.parse(String(d)) as ServerMessage).type === 'live' && resolve()));
  ws.send(JSON.stringify({ type: 'subscribe', root: 'docs', after }));
  await live;
  return r.rec;
}

/** The REST door's server-sent events, replayed from `after`, then live. */
export async function recordEvents(t: TestGateway, after: number): Promise<FeedRecorder> {
  const ac = new AbortController();
  const r = recorder(() => ac.abort());
  const auth = basicAuth(t.alice);
  const res = await fetch(`${t.url}/api/v1/roots/docs/events?after=${after}`, { headers: { authorization: auth }, signal: ac.signal });
  if (res.status !== 200 || !res.body) throw new Error(`events: ${res.status}`);
  void (async () => {
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
        const frame = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const data = frame.split('\n').find((l) => l.startsWith('data: '));
        if (data && /^event: change$/m.test(frame)) r.add(asChange(JSON.parse(data.slice(6)) as FeedChange));
      }
    }
  })().catch((err: Error) => {
    if (!ac.signal.aborted) r.fail(err);
  });
  return r.rec;
}
