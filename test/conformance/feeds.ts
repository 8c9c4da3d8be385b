/**
 * The change feed as the doors that have one show it: the REST door's server-sent events
 * (GET /api/v1/roots/docs/events) and the sync protocol's pages (the companion client's Api),
 * each read with its real client and put in the core's Change shape for the snapshot's feed lines.
 */
import { randomUUID } from 'node:crypto';
import { Api } from '../../src/client/api.js';
import type { Change } from '../../src/core/index.js';
import type { TestGateway } from '../helpers/gateway.js';

/** The fields every feed carries; the rest of Change is filled with what the lines never read. */
type FeedChange = Pick<Change, 'seq' | 'path' | 'op' | 'kind' | 'version' | 'deleted' | 'hash' | 'size' | 'oldPath' | 'protocol' | 'user'>;

function asChange(c: FeedChange): Change {
  return { ...c, root: 'docs', mtimeMs: 0, deviceId: null, device: null, createdAt: 0 };
}

/** The sync protocol's feed after `after`, up to and including `until`. */
export async function feedViaSync(t: TestGateway, after: number, until: number): Promise<Change[]> {
  const login = await new Api(t.url, null).login({ uuid: randomUUID(), name: 'feed-reader', user: t.alice.name, password: t.alice.password });
  const api = new Api(t.url, login.token);
  const out: Change[] = [];
  for (let cursor = after; ; ) {
    const page = await api.changes('docs', cursor);
    for (const c of page.changes) {
      if (c.seq > until) return out;
      out.push(asChange({ seq: c.seq, path: c.path, op: c.op, kind: c.kind, version: c.version, deleted: c.deleted, hash: c.sha256, size: c.size, oldPath: c.oldPath, protocol: c.door, user: c.user }));
    }
    cursor = page.cursor;
    if (!page.more) return out;
  }
}

/** The REST door's event stream replayed from `after`, read until the event with seq `until`. */
export async function feedViaEvents(t: TestGateway, after: number, until: number): Promise<Change[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 10_000);
  const auth = `Basic ${Buffer.from(`${t.alice.name}:${t.alice.password}`).toString('base64')}`;
  const out: Change[] = [];
  try {
    const res = await fetch(`${t.url}/api/v1/roots/docs/events?after=${after}`, { headers: { authorization: auth }, signal: ac.signal });
    if (res.status !== 200 || !res.body) throw new Error(`events: ${res.status}`);
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const frame = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const data = frame.split('\n').find((l) => l.startsWith('data: '));
        if (!data || !/^event: change$/m.test(frame)) continue;
        const c = JSON.parse(data.slice(6)) as FeedChange;
        out.push(asChange(c));
        if (c.seq >= until) return out;
      }
    }
    return out;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}
