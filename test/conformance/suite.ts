import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCoreError, type Change } from '../../src/core/index.js';
import { body, readAll } from '../helpers/core.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/** What a test needs from a door: plain file operations through a real client. */
export interface DoorClient {
  put(path: string, data: Buffer): Promise<void>;
  get(path: string): Promise<Buffer>;
  /** Names in a folder. */
  list(dir: string): Promise<string[]>;
  mkdir(path: string): Promise<void>;
  remove(path: string): Promise<void>;
  move(from: string, to: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * "A filesystem reached through a door", described once: every door runs it with its own client
 * against a real gateway, and each result is checked through the core (what one door writes, every
 * other door reads the same). Paths are in root 'docs' of user alice.
 */
export function describeDoor(name: string, protocol: string, connect: (t: TestGateway) => Promise<DoorClient>): void {
  describe(`conformance through ${name}`, () => {
    let t: TestGateway;
    let door: DoorClient;
    const core = () => t.gw.core.vfs;
    const s = () => t.alice.session;
    let n = 0;
    const fresh = (ext = '.txt') => `c${++n}-${randomBytes(3).toString('hex')}${ext}`;

    beforeAll(async () => {
      t = await startTestGateway();
      door = await connect(t);
    });
    afterAll(async () => {
      await door?.close();
      await t?.close();
    });

    it('a file written through the door is read the same through the core, as version 1 by this door', async () => {
      const p = fresh();
      const data = randomBytes(1000);
      await door.put(p, data);
      const r = await core().read(s(), 'docs', p);
      expect((await readAll(r.stream)).equals(data)).toBe(true);
      expect(r.entry.version).toBe(1);
      const [v1] = await core().history(s(), 'docs', p);
      expect(v1!.protocol).toBe(protocol);
      expect(v1!.user).toBe('alice');
    });

    it('a file written through the core is read the same through the door', async () => {
      const p = fresh('.bin');
      const data = randomBytes(70_000);
      await core().write(s(), 'docs', p, body(data));
      expect((await door.get(p)).equals(data)).toBe(true);
    });

    it('an overwrite makes version 2 and keeps version 1 in history', async () => {
      const p = fresh();
      await door.put(p, Buffer.from('first'));
      await door.put(p, Buffer.from('second'));
      const head = await core().stat(s(), 'docs', p);
      expect(head.version).toBe(2);
      const old = await core().read(s(), 'docs', p, { version: 1 });
      expect((await readAll(old.stream)).toString()).toBe('first');
      expect((await door.get(p)).toString()).toBe('second');
    });

    it('folders made through the door list the same everywhere', async () => {
      const dir = fresh('');
      await door.mkdir(dir);
      await door.put(`${dir}/a.txt`, Buffer.from('a'));
      await core().write(s(), 'docs', `${dir}/b.txt`, body('b'));
      expect((await door.list(dir)).sort()).toEqual(['a.txt', 'b.txt']);
      expect((await core().list(s(), 'docs', dir)).map((e) => e.name)).toEqual(['a.txt', 'b.txt']);
      expect(await door.list('')).toContain(dir);
    });

    it('a move through the door is a move everywhere, with history at the new path', async () => {
      const from = fresh();
      const to = fresh();
      await door.put(from, Buffer.from('moving'));
      await door.move(from, to);
      await expect(core().stat(s(), 'docs', from)).rejects.toSatisfy((e) => isCoreError(e, 'NOT_FOUND'));
      const moved = await core().read(s(), 'docs', to);
      expect((await readAll(moved.stream)).toString()).toBe('moving');
      expect((await core().history(s(), 'docs', to))[0]!.op).toBe('move-in');
      expect((await door.get(to)).toString()).toBe('moving');
    });

    it('a delete through the door leaves a restorable tombstone', async () => {
      const p = fresh();
      await door.put(p, Buffer.from('precious'));
      await door.remove(p);
      await expect(core().stat(s(), 'docs', p)).rejects.toSatisfy((e) => isCoreError(e, 'NOT_FOUND'));
      expect((await core().deleted(s(), 'docs')).map((e) => e.path)).toContain(p);
      await core().restore(s(), 'docs', p, 1);
      expect((await door.get(p)).toString()).toBe('precious');
    });

    it('keeps non-ASCII names, empty files and multi-megabyte files intact', async () => {
      const uni = `Grüße-${n}-日本語 é.txt`;
      await door.put(uni, Buffer.from('unicode'));
      expect((await core().stat(s(), 'docs', uni)).size).toBe(7);
      expect(await door.list('')).toContain(uni);
      expect((await door.get(uni)).toString()).toBe('unicode');
      const empty = fresh();
      await door.put(empty, Buffer.alloc(0));
      expect((await core().stat(s(), 'docs', empty)).size).toBe(0);
      expect((await door.get(empty)).length).toBe(0);
      const big = fresh('.bin');
      const data = randomBytes(3 * 1024 * 1024 + 17);
      await door.put(big, data);
      expect((await door.get(big)).equals(data)).toBe(true);
      expect((await core().stat(s(), 'docs', big)).size).toBe(data.length);
    });

    it('refuses paths that leave the root and records nothing', async () => {
      const before = (await core().changes(s(), 'docs', 0, 10_000)).changes.length;
      await expect(door.put('../escape.txt', Buffer.from('x'))).rejects.toBeDefined();
      const after = (await core().changes(s(), 'docs', 0, 10_000)).changes.length;
      expect(after).toBe(before);
    });

    it('a lock taken through the connection (as WebDAV takes them) refuses this door\'s write until it goes', async () => {
      const conn = t.gw.core.connect(s());
      const p = fresh();
      await conn.write('docs', p, body('before'));
      const { lock } = await conn.lock('docs', p, { scope: 'exclusive', depth: '0', timeoutSec: 60, owner: '' });
      await expect(door.put(p, Buffer.from('during'))).rejects.toBeDefined();
      expect((await readAll((await conn.read('docs', p)).stream)).toString()).toBe('before');
      await conn.unlock('docs', p, lock.token);
      await door.put(p, Buffer.from('after'));
      expect((await readAll((await conn.read('docs', p)).stream)).toString()).toBe('after');
    });

    it('the change feed shows this door\'s writes, once each, in order', async () => {
      const conn = t.gw.core.connect(s());
      const seen: Change[] = [];
      const follower = await conn.follow('docs', (c) => seen.push(c));
      const p = fresh();
      await door.put(p, Buffer.from('one'));
      await door.put(p, Buffer.from('two'));
      for (let i = 0; i < 200 && seen.filter((c) => c.path === p).length < 2; i += 1) await new Promise((r) => setTimeout(r, 10));
      follower.stop();
      const mine = seen.filter((c) => c.path === p);
      expect(mine.map((c) => c.version)).toEqual([1, 2]);
      expect(mine.every((c) => c.protocol === protocol)).toBe(true);
      const seqs = seen.map((c) => c.seq);
      expect(new Set(seqs).size).toBe(seqs.length);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    });
  });
}
