import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway } from '../helpers/gateway.js';
import { connectAll, DOORS, type AllDoors, type DoorClient } from './doors.js';
import { recordEvents, recordSyncPush } from './feeds.js';
import { CANNOT_SHOW, snapshot, type DoorView, type Snapshot } from './snapshot.js';

/**
 * The doors compared with each other, not only each with the core: every door does the same work
 * (in a folder of its own, on one gateway), every door looks at every door's result, and the
 * normalised snapshots (tree, history, deleted files, change feed, and what each door lists, stats
 * and reads) must be equal. The only differences allowed are the documented ones: FTP shows no
 * version or hash (CANNOT_SHOW), FTP and WebDAV show times in whole seconds (Door.mtimePrecisionMs).
 */
async function theWork(door: DoorClient, base: string): Promise<void> {
  await door.mkdir(base);
  await door.put(`${base}/a.txt`, Buffer.from('alpha'));
  await door.put(`${base}/a.txt`, Buffer.from('alpha, again'));
  await door.put(`${base}/empty.txt`, Buffer.alloc(0));
  await door.mkdir(`${base}/sub`);
  await door.put(`${base}/sub/b.txt`, Buffer.from('bravo'));
  await door.put(`${base}/sub/c.txt`, Buffer.from('charlie'));
  await door.move(`${base}/sub/b.txt`, `${base}/b-moved.txt`);
  // Not two moves in a row: the feed's lines of one move are told apart from the next one's by what comes between.
  await door.put(`${base}/gone.txt`, Buffer.from('gone soon'));
  await door.move(`${base}/sub`, `${base}/sub-renamed`);
  await door.remove(`${base}/gone.txt`);
  await door.mkdir(`${base}/old-dir`);
  await door.remove(`${base}/old-dir`);
  await door.put(`${base}/Grüße é.txt`, Buffer.from('unicode'));
}

describe('conformance: every door compared with every other door', () => {
  let all: AllDoors;
  const snapshots = new Map<string, Snapshot>();
  beforeAll(async () => {
    all = await connectAll(await startTestGateway());
  });
  afterAll(async () => all?.close());

  /** What a door should show of the tree, from the core's record and the door's documented limits. */
  function expectedView(protocol: string, s: Snapshot): DoorView {
    const hidden = CANNOT_SHOW[protocol] ?? [];
    const view: DoorView = { listings: {}, stats: {}, contents: {} };
    const dirs = ['.', ...s.tree.filter((e) => e.kind === 'dir').map((e) => e.path)];
    for (const d of dirs) view.listings[d] = s.tree.filter((e) => (e.path.includes('/') ? e.path.slice(0, e.path.lastIndexOf('/')) : '.') === d).map((e) => e.path.slice(e.path.lastIndexOf('/') + 1)).sort();
    for (const e of s.tree) {
      view.stats[e.path] = {
        kind: e.kind as 'file' | 'dir',
        size: e.kind === 'dir' ? 0 : e.size,
        version: hidden.includes('version') ? null : e.version,
        hash12: hidden.includes('hash12') || !e.hash ? null : e.hash.slice(0, 12),
        mtimeAsCore: true,
      };
      if (e.kind === 'file') view.contents[e.path] = e.hash;
    }
    return view;
  }

  for (const writer of DOORS) {
    it(`what ${writer.name} does, every door lists, stats and reads as the core records it`, async () => {
      const conn = all.t.gw.core.connect(all.t.alice.session);
      let cursor = 0;
      for (let page = await conn.changes('docs', 0); ; page = await conn.changes('docs', cursor)) {
        cursor = page.cursor;
        if (!page.more) break;
      }
      const base = `work-${writer.protocol}`;
      const live = { syncPush: await recordSyncPush(all.t, cursor), restEvents: await recordEvents(all.t, cursor) };
      await theWork(all.clients.get(writer)!, base);
      const s = await snapshot(all.t, writer, base, all.clients, cursor, live).finally(() => Object.values(live).forEach((r) => r.stop()));
      snapshots.set(writer.name, s);
      for (const reader of DOORS) expect(s.views[reader.name], `${reader.name} looking at ${writer.name}'s work`).toEqual(expectedView(reader.protocol, s));
      // The work, once each and in order (a move: its lines together, named by where things went).
      const opAndPath = (line: string) => /^(\S+) \S+ (.+?) v\d+/.exec(line)!.slice(1);
      const summary = s.feed.map((l) => (l.startsWith('move-') ? `move ${l.split(' + ').map(opAndPath).filter(([op]) => op === 'move-in').map(([, p]) => p).join(', ')}` : opAndPath(l).join(' ')));
      expect(summary).toEqual([
        'mkdir .', 'create a.txt', 'write a.txt', 'create empty.txt', 'mkdir sub', 'create sub/b.txt', 'create sub/c.txt',
        'move b-moved.txt', 'create gone.txt', expect.stringMatching(/^move sub-renamed(, sub-renamed\/c\.txt)?$/), 'delete gone.txt',
        'mkdir old-dir', 'delete old-dir', 'create Grüße é.txt',
      ]);
      // The doors with a feed of their own show the same lines.
      expect(s.feedViews).toEqual({ syncPages: s.feed, syncPush: s.feed, restEvents: s.feed });
      // Every change of the work is this door's, by alice.
      expect(s.feed.every((l) => l.split(' + ').every((half) => half.endsWith('by alice via DOOR'))), s.feed.join('\n')).toBe(true);
    });
  }

  it('the doors\' snapshots are equal to each other (tree, history, deleted files, change feed, every door\'s view)', () => {
    expect([...snapshots.keys()]).toEqual(DOORS.map((d) => d.name));
    const [first, ...rest] = [...snapshots];
    for (const [name, s] of rest) expect(s, `${name} against ${first![0]}`).toEqual(first![1]);
  });
});
