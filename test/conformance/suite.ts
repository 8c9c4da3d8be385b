import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCoreError, type Change } from '../../src/core/index.js';
import { body, readAll } from '../helpers/core.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import type { Door, DoorClient } from './doors.js';

/**
 * "A filesystem reached through a door", described once: every door runs it with its own client
 * against a real gateway, and each result is checked through the core (what one door writes, every
 * other door reads the same). Paths are in root 'docs' of user alice.
 */
export function describeDoor({ name, protocol, connect }: Door): void {
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
      const h = await core().history(s(), 'docs', to);
      expect(h[0]!.op).toBe('move-in');
      // History follows the file: its version from before the move, at its old path, and readable.
      expect(h.map((v) => [v.version, v.path])).toEqual([[2, to], [1, from]]);
      expect(h[0]).toMatchObject({ fromPath: from, fromVersion: 1 });
      expect((await readAll((await core().read(s(), 'docs', to, { version: 1 })).stream)).toString()).toBe('moving');
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

    it('the change feed shows this door\'s writes, moves and deletes once each, in order, with the door and the actor', async () => {
      const conn = t.gw.core.connect(s());
      const seen: Change[] = [];
      const follower = await conn.follow('docs', (c) => seen.push(c));
      const p = fresh();
      const to = fresh();
      await door.put(p, Buffer.from('one'));
      await door.put(p, Buffer.from('two'));
      await door.move(p, to);
      await door.remove(to);
      const mine = () => seen.filter((c) => c.path === p || c.path === to);
      for (let i = 0; i < 300 && !mine().some((c) => c.op === 'delete'); i += 1) await new Promise((r) => setTimeout(r, 10));
      follower.stop();
      const name = (x: string) => (x === p ? 'p' : 'to');
      // In seq order; a move's two halves come together (one seq or two in a row: their order is not a promise).
      const lines = mine().map((c) => `${c.op} ${name(c.path)} v${c.version}${c.oldPath ? ` from ${name(c.oldPath)}` : ''}`);
      const grouped: string[] = [];
      for (const l of lines) {
        const prev = grouped.at(-1);
        if (prev && /^move-/.test(l) && /^move-/.test(prev) && !prev.includes(' + ')) grouped[grouped.length - 1] = [prev, l].sort().join(' + ');
        else grouped.push(l);
      }
      expect(grouped).toEqual([
        'create p v1',
        'write p v2',
        // The file keeps its clock across the move: version 3 on both sides (arrival and departure).
        'move-in to v3 from p + move-out p v3',
        'delete to v4',
      ]);
      expect(mine().every((c) => c.protocol === protocol && c.user === 'alice')).toBe(true);
      const seqs = seen.map((c) => c.seq);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      expect(new Set(mine().map((c) => `${c.seq} ${c.path}`)).size).toBe(mine().length);
    });
  });
}
