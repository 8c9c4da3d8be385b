import { createClient } from 'webdav';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway } from '../helpers/gateway.js';
import { connectAll, DOORS, webdavDoor, type AllDoors } from './doors.js';

/**
 * A lock taken by a WebDAV client (a real LOCK, with the `webdav` package) is seen from every door:
 * while it lives, no other door writes, moves or deletes the file (not even WebDAV without the
 * lock's token), and every door still reads the content from before; UNLOCK lets every door write.
 */
describe('conformance: a WebDAV lock seen from every door', () => {
  let all: AllDoors;
  beforeAll(async () => {
    all = await connectAll(await startTestGateway());
  });
  afterAll(async () => all?.close());

  const dav = () => createClient(`${all.t.url}/dav/docs`, { username: all.t.alice.name, password: all.t.alice.password });

  it('refuses writes, moves and deletes through every door until the lock is released, then takes one write from each', async () => {
    const core = all.clients.get(DOORS[0]!)!;
    await core.put('locked.txt', Buffer.from('before'));
    const { token } = await dav().lock('/locked.txt', { timeout: 'Second-600' });
    expect(token).toMatch(/\S/);
    const refused: string[] = [];
    for (const [door, client] of all.clients) {
      // Each attempt must fail; an attempt that went through shows as a door's name below.
      for (const [what, attempt] of [
        ['write', () => client.put('locked.txt', Buffer.from(`during ${door.protocol}`))],
        ['move', () => client.move('locked.txt', `moved-by-${door.protocol}.txt`)],
        ['delete', () => client.remove('locked.txt')],
      ] as const) {
        const ok = await attempt().then(() => true, () => false);
        if (ok) refused.push(`${door.name} ${what} went through`);
      }
      expect((await client.get('locked.txt')).toString(), door.name).toBe('before');
    }
    expect(refused).toEqual([]);
    const conn = all.t.gw.core.connect(all.t.alice.session);
    expect((await conn.stat('docs', 'locked.txt')).version).toBe(1);
    expect((await conn.list('docs', '')).map((e) => e.name).filter((n) => n.startsWith('moved-by-'))).toEqual([]);

    // The lock holder itself may write (its token in the If header).
    await dav().putFileContents('/locked.txt', Buffer.from('by the holder'), { headers: { If: `(<${token}>)` } });
    expect((await conn.stat('docs', 'locked.txt')).version).toBe(2);

    await dav().unlock('/locked.txt', token);
    for (const [door, client] of all.clients) {
      await client.put('locked.txt', Buffer.from(`after ${door.protocol}`));
      expect((await client.get('locked.txt')).toString()).toBe(`after ${door.protocol}`);
    }
    const history = await conn.history('docs', 'locked.txt');
    const byVersion = [...history].sort((a, b) => a.version - b.version);
    expect(byVersion.map((v) => `${v.version} ${v.protocol}`)).toEqual(['1 core', '2 webdav', ...DOORS.map((d, i) => `${i + 3} ${d.protocol}`)]);
  });

  it('a lock on a folder covers what is in it, for every door', async () => {
    const core = all.clients.get(DOORS[0]!)!;
    await core.mkdir('locked-dir');
    await core.put('locked-dir/inside.txt', Buffer.from('inside'));
    const { token } = await dav().lock('/locked-dir', { timeout: 'Second-600' });
    for (const [door, client] of all.clients) {
      const wrote = await client.put(`locked-dir/new-by-${door.protocol}.txt`, Buffer.from('x')).then(() => true, () => false);
      const changed = await client.put('locked-dir/inside.txt', Buffer.from('changed')).then(() => true, () => false);
      expect({ door: door.name, wrote, changed }).toEqual({ door: door.name, wrote: false, changed: false });
      expect((await client.list('locked-dir')).sort(), door.name).toEqual(['inside.txt']);
    }
    await dav().unlock('/locked-dir', token);
    for (const [door, client] of all.clients) await client.put(`locked-dir/new-by-${door.protocol}.txt`, Buffer.from('x'));
    expect((await all.clients.get(webdavDoor)!.list('locked-dir')).length).toBe(1 + DOORS.length);
  });
});
