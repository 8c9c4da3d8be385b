/**
 * Two companion clients and one gateway, real folders and sockets: what one client does reaches the
 * other (and the other doors), concurrent edits end in exactly one conflict copy on every side.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { TestGateway } from '../helpers/gateway.js';
import { twoClients, type TestClient, tree } from '../helpers/sync-client.js';

let t: TestGateway;
let a: TestClient;
let b: TestClient;

twoClients((s) => ({ t, a, b } = s));

const read = (c: TestClient, p: string) => readFile(path.join(c.dir, p), 'utf8');
const write = async (c: TestClient, p: string, s: string) => {
  await mkdir(path.dirname(path.join(c.dir, p)), { recursive: true });
  await writeFile(path.join(c.dir, p), s);
};
const serverRead = async (p: string) => {
  const r = await t.gw.core.vfs.read(t.alice.session, 'docs', p);
  const parts: Buffer[] = [];
  for await (const c of r.stream) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
};

describe('two clients, one gateway', () => {
  it('a file, a folder and an edit made on one client reach the other and the core', async () => {
    await write(a, 'notes/todo.txt', 'buy milk');
    await write(a, 'readme.md', '# hello');
    await write(a, 'empty.txt', '');
    const up = await a.once();
    expect(up.errors).toEqual([]);
    expect(up.uploaded).toBeGreaterThanOrEqual(2);
    expect(await serverRead('notes/todo.txt')).toBe('buy milk');

    const down = await b.once();
    expect(down.errors).toEqual([]);
    expect(await read(b, 'notes/todo.txt')).toBe('buy milk');
    expect(await tree(b.dir)).toEqual(['empty.txt', 'notes/', 'notes/todo.txt', 'readme.md']);
    expect(await read(b, 'empty.txt')).toBe('');

    await write(b, 'notes/todo.txt', 'buy milk and eggs');
    await b.once();
    await a.once();
    expect(await read(a, 'notes/todo.txt')).toBe('buy milk and eggs');
    // Nothing left to do on either side: own uploads came back as echoes only.
    expect((await a.once()).uploaded + (await a.once()).downloaded).toBe(0);
    expect((await b.once()).uploaded).toBe(0);
  });

  it('deletes and moves propagate both ways, moves as moves', async () => {
    await write(a, 'docs/a.txt', 'A');
    await write(a, 'docs/b.txt', 'B');
    await a.once();
    await b.once();
    await rename(path.join(b.dir, 'docs/a.txt'), path.join(b.dir, 'docs/renamed.txt'));
    await rm(path.join(b.dir, 'docs/b.txt'));
    const r = await b.once();
    expect(r.moved).toBe(1);
    const hist = await t.gw.core.vfs.history(t.alice.session, 'docs', 'docs/renamed.txt');
    expect(hist[0]!.op).toBe('move-in');
    await a.once();
    expect(await tree(a.dir)).toEqual(['docs/', 'docs/renamed.txt']);
    expect(await read(a, 'docs/renamed.txt')).toBe('A');

    await rename(path.join(a.dir, 'docs'), path.join(a.dir, 'papers'));
    await a.once();
    await b.once();
    expect(await tree(b.dir)).toEqual(['papers/', 'papers/renamed.txt']);
  });

  it('a change made through another door reaches both clients', async () => {
    await a.once();
    await b.once();
    await t.gw.core.vfs.write(t.alice.session, 'docs', 'from-webdav.txt', Readable.from([Buffer.from('via core')]));
    await a.once();
    await b.once();
    expect(await read(a, 'from-webdav.txt')).toBe('via core');
    expect(await read(b, 'from-webdav.txt')).toBe('via core');
  });

  it('concurrent edits of one file: exactly one conflict copy, on both clients and the gateway', async () => {
    await write(a, 'plan.txt', 'v1');
    await a.once();
    await b.once();
    await write(a, 'plan.txt', 'edited on laptop');
    await write(b, 'plan.txt', 'edited on desktop');
    await a.once();
    const rb = await b.once();
    expect(rb.conflicts).toHaveLength(1);
    await a.once();
    const ta = await tree(a.dir);
    const tb = await tree(b.dir);
    expect(ta).toEqual(tb);
    const copies = ta.filter((p) => p.includes('conflict'));
    expect(copies).toHaveLength(1);
    expect(await read(a, 'plan.txt')).toBe('edited on laptop');
    expect(await read(a, copies[0]!)).toBe('edited on desktop');
    expect(await read(b, copies[0]!)).toBe('edited on desktop');
    const listed = (await t.gw.core.vfs.list(t.alice.session, 'docs', '')).map((e) => e.path).sort();
    expect(listed).toEqual(ta);
  });

  it('an edit beats a concurrent delete, both ways', async () => {
    await write(a, 'x.txt', 'one');
    await write(a, 'y.txt', 'one');
    await a.once();
    await b.once();
    // x: deleted on A, edited on B (B syncs second)
    await rm(path.join(a.dir, 'x.txt'));
    await write(b, 'x.txt', 'two');
    // y: edited on A, deleted on B
    await write(a, 'y.txt', 'two');
    await rm(path.join(b.dir, 'y.txt'));
    await a.once();
    await b.once();
    await a.once();
    expect(await read(a, 'x.txt')).toBe('two');
    expect(await read(b, 'x.txt')).toBe('two');
    expect(await read(a, 'y.txt')).toBe('two');
    expect(await read(b, 'y.txt')).toBe('two');
  });

  it('a small edit in a big file travels as a delta both ways', async () => {
    const big = randomBytes(4 * 1024 * 1024);
    await writeFile(path.join(a.dir, 'big.bin'), big);
    await a.once();
    await b.once();
    const fh = await open(path.join(a.dir, 'big.bin'), 'r+');
    await fh.write(Buffer.alloc(4096, 7), 0, 4096, 1_000_000);
    await fh.close();
    const up = await a.once();
    expect(up.uploaded).toBe(1);
    expect(up.bytesUp).toBeLessThan(big.length / 10);
    const down = await b.once();
    expect(down.downloaded).toBe(1);
    expect(down.bytesDown).toBeLessThan(big.length / 10);
    expect((await readFile(path.join(b.dir, 'big.bin'))).equals(await readFile(path.join(a.dir, 'big.bin')))).toBe(true);
    const head = await t.gw.core.connect(t.alice.session).stat('docs', 'big.bin');
    expect(head.version).toBe(2);
  });

  it('offline edits on both sides are replayed on reconnect and converge', async () => {
    await write(a, 'keep.txt', 'k');
    await write(a, 'gone.txt', 'g');
    await write(a, 'shared.txt', 's1');
    await a.once();
    await b.once();
    // B is away; A and another door change things meanwhile, and so does B.
    await write(a, 'from-a.txt', 'new on a');
    await write(a, 'shared.txt', 's2 by a');
    await t.gw.core.connect(t.alice.session).write('docs', 'from-dav.txt', Readable.from([Buffer.from('dav')]));
    await a.once();
    await write(b, 'from-b.txt', 'new on b');
    await rm(path.join(b.dir, 'gone.txt'));
    await write(b, 'shared.txt', 's2 by b');
    await b.once();
    await a.once();
    const ta = await tree(a.dir);
    expect(ta).toEqual(await tree(b.dir));
    expect(ta.filter((p) => !p.includes('conflict'))).toEqual(['from-a.txt', 'from-b.txt', 'from-dav.txt', 'keep.txt', 'shared.txt']);
    expect(ta.filter((p) => p.includes('conflict'))).toHaveLength(1);
    expect(await read(b, 'shared.txt')).toBe('s2 by a');
  });

  // A whole download goes to a part file named after its content (to resume after a crash): two
  // files of one content in one folder, downloaded in the same pass, shared one part file and the
  // second rename found it gone (ENOENT).
  it('downloads two files of the same content in one folder in one pass', async () => {
    const same = randomBytes(300_000);
    await mkdir(path.join(a.dir, 'twins'), { recursive: true });
    for (const name of ['one.bin', 'two.bin', 'three.bin']) await writeFile(path.join(a.dir, 'twins', name), same);
    expect((await a.once()).errors).toEqual([]);
    const down = await b.once();
    expect(down.errors).toEqual([]);
    for (const name of ['one.bin', 'two.bin', 'three.bin']) expect((await readFile(path.join(b.dir, 'twins', name))).equals(same)).toBe(true);
    expect(await tree(path.join(b.dir, 'twins'))).toEqual(['one.bin', 'three.bin', 'two.bin']);
  });

  it('ignores what .syncgateignore names, and the client state never lands in the folder', async () => {
    await write(a, '.syncgateignore', '*.tmp\nbuild/\n');
    await write(a, 'draft.tmp', 'x');
    await write(a, 'build/out.o', 'x');
    await write(a, 'src/main.c', 'int main;');
    await a.once();
    const listed = (await t.gw.core.connect(t.alice.session).list('docs', '')).map((e) => e.path).sort();
    expect(listed).toEqual(['src']);
    await b.once();
    expect(await tree(b.dir)).toEqual(['src/', 'src/main.c']);
  });
});

