import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ContentStore } from './content-store.js';
import { SPARES } from './staging.js';
import { markVolatile } from '../lib/hashed-sink.js';

let dir: string;
let store: ContentStore;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'syncgate-store-'));
  store = new ContentStore(dir);
  await store.init();
});
afterEach(async () => {
  store.close();
  await rm(dir, { recursive: true, force: true });
});

/** Every staging file (spares included), by path: they are spread over the staging folder's sub-folders. */
const stagingFiles = async () => (await readdir(store.tempDir, { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).map((d) => path.join(d.parentPath, d.name));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const chunked = (data: Buffer, size: number) => Readable.from(Array.from({ length: Math.ceil(data.length / size) }, (_, i) => data.subarray(i * size, (i + 1) * size)));

describe('ContentStore.stage', () => {
  // Small uploads are gathered in memory and written in one call; larger ones stream. Both paths
  // must give the same bytes, hash and size, whatever the chunking.
  for (const [label, size] of [
    ['empty', 0],
    ['small', 4096],
    ['at the in-memory limit', 256 << 10],
    ['just past it', (256 << 10) + 1],
    ['large', 3 << 20],
  ] as const) {
    it(`stages a ${label} upload (${size} bytes) whole`, async () => {
      const data = Buffer.alloc(size, 7).fill(9, Math.floor(size / 2));
      const staged = await store.stage(chunked(data, 16 << 10));
      expect(staged.size).toBe(size);
      expect(staged.hash).toBe(sha(data));
      expect((await readFile(staged.tempPath)).equals(data)).toBe(true);
    });
  }

  it('refuses a small upload over maxSize and leaves no staging file', async () => {
    await expect(store.stage(chunked(Buffer.alloc(5000), 1000), { maxSize: 4096 })).rejects.toMatchObject({ code: 'EFBIG' });
    await expect(store.stage(chunked(Buffer.alloc(400 << 10), 64 << 10), { maxSize: 300 << 10 })).rejects.toMatchObject({ code: 'EFBIG' });
    expect(await stagingFiles()).toEqual([]);
  });

  it("runs the caller's checks while a small upload syncs, and before a large one is read past its head", async () => {
    const refused = new Error('the file is locked');
    const refuse = async () => {
      throw refused;
    };
    await expect(store.stage(chunked(Buffer.alloc(4096, 1), 1024), { checks: refuse })).rejects.toBe(refused);
    const left = await stagingFiles();
    expect(left).toHaveLength(SPARES); // the spares made ahead, nothing staged
    for (const f of left) expect((await stat(f)).size).toBe(0);

    let pulled = 0;
    const large = Readable.from(
      (function* () {
        for (let i = 0; i < 64; i += 1, pulled += 1) yield Buffer.alloc(64 << 10, 2);
      })(),
    );
    await expect(store.stage(large, { checks: refuse })).rejects.toBe(refused);
    expect(pulled).toBeLessThan(32); // 4 MiB sent, its first 256 KiB (and what was buffered) read

    let ran = 0;
    const staged = await store.stage(chunked(Buffer.alloc(4096, 3), 4096), { checks: async () => void (ran += 1) });
    expect(ran).toBe(1);
    expect((await readFile(staged.tempPath)).equals(Buffer.alloc(4096, 3))).toBe(true);
  });

  it('with syncLater, hands a small upload over with its sync still to await; a large one is synced first', async () => {
    const small = await store.stage(chunked(Buffer.alloc(4096, 4), 1024), { syncLater: true });
    expect(small.synced).toBeInstanceOf(Promise);
    await small.synced;
    expect((await readFile(small.tempPath)).equals(Buffer.alloc(4096, 4))).toBe(true);
    const large = await store.stage(chunked(Buffer.alloc(300 << 10, 5), 64 << 10), { syncLater: true });
    expect(large.synced).toBeUndefined();
    expect((await stat(large.tempPath)).size).toBe(300 << 10);
    // Refused by the checks: the sync is waited for, the staging file removed, the checks' error told.
    const refused = new Error('the file is locked');
    await expect(store.stage(chunked(Buffer.alloc(4096, 6), 4096), { syncLater: true, checks: () => Promise.reject(refused) })).rejects.toBe(refused);
    const staged = new Set([small.tempPath, large.tempPath]);
    for (const f of await stagingFiles()) if (!staged.has(f)) expect((await stat(f)).size, f).toBe(0);
  });

  it('drops the staging file and releases the source when the source fails midway', async () => {
    for (const failAfter of [1, 10]) {
      let destroyed = false;
      const source = new Readable({
        read() {},
        destroy(err, cb) {
          destroyed = true;
          cb(err);
        },
      });
      const chunk = Buffer.alloc(64 << 10, 1);
      for (let i = 0; i < failAfter; i += 1) source.push(chunk);
      setTimeout(() => source.destroy(new Error('connection reset')), 20);
      await expect(store.stage(source)).rejects.toThrow(/connection reset/);
      expect(destroyed).toBe(true);
      expect(await stagingFiles()).toEqual([]);
    }
  });
});

describe('ContentStore.stage of a source with volatile chunks (a patch with reused buffers)', () => {
  /** Pieces of `data` in one shared buffer, scribbled over once the next piece is asked for. */
  async function* reused(data: Buffer, piece: number, failAt = Infinity): AsyncGenerator<Uint8Array> {
    const shared = Buffer.alloc(piece);
    for (let at = 0; at < data.length; at += piece) {
      if (at >= failAt) throw new Error('corrupt delta');
      const n = data.copy(shared, 0, at, at + piece);
      yield shared.subarray(0, n);
      shared.fill(0xee);
    }
  }

  for (const [label, size, piece] of [
    ['small, in small pieces', 5000, 1000],
    ['large, in big pieces', (5 << 20) + 3, 2 << 20],
    ['large, in small pieces', (3 << 20) + 1, 100_000],
  ] as const) {
    it(`stages every piece before the next is read (${label})`, async () => {
      const data = Buffer.from(Array.from({ length: size }, (_, i) => (i * 7) & 0xff));
      const staged = await store.stage(markVolatile(reused(data, piece)));
      expect(staged.size).toBe(size);
      expect(staged.hash).toBe(sha(data));
      expect(staged.synced).toBeUndefined(); // synced before it returns, whatever its size
      expect(sha(await readFile(staged.tempPath))).toBe(sha(data));
    });
  }

  // An append: the prefix comes from a file, the rest from reused buffers (it went through a
  // Transform that held the pieces, so later pieces overwrote earlier ones before their write).
  it('stages a prefix from a file followed by volatile pieces, and a kept source after a prefix', async () => {
    const prefix = Buffer.from(Array.from({ length: (2 << 20) + 5 }, (_, i) => (i * 13) & 0xff));
    const from = path.join(dir, 'prefix.bin');
    await writeFile(from, Buffer.concat([prefix, Buffer.alloc(1000, 1)])); // only prefixLength counts
    const tail = Buffer.from(Array.from({ length: (3 << 20) + 7 }, (_, i) => (i * 5) & 0xff));
    for (const [label, source] of [
      ['volatile', markVolatile(reused(tail, 100_000))],
      ['kept', chunked(tail, 48 << 10)],
    ] as const) {
      const staged = await store.stage(source, { prefixFrom: from, prefixLength: prefix.length });
      const whole = Buffer.concat([prefix, tail]);
      expect(staged.size, label).toBe(whole.length);
      expect(staged.hash, label).toBe(sha(whole));
      expect(sha(await readFile(staged.tempPath)), label).toBe(sha(whole));
    }
  });

  it('refuses one past maxSize, and drops the staging file when the source fails', async () => {
    const data = Buffer.alloc(3 << 20, 5);
    await expect(store.stage(markVolatile(reused(data, 1 << 20)), { maxSize: 2 << 20 })).rejects.toMatchObject({ code: 'EFBIG' });
    await expect(store.stage(markVolatile(reused(data, 1 << 20, 2 << 20)))).rejects.toThrow(/corrupt delta/);
    expect(await stagingFiles()).toEqual([]);
  });

  it("runs the caller's checks before reading the source, and reads nothing when they refuse", async () => {
    let pulled = 0;
    async function* counted(): AsyncGenerator<Uint8Array> {
      pulled += 1;
      yield Buffer.alloc(10);
    }
    await expect(store.stage(markVolatile(counted()), { checks: async () => Promise.reject(new Error('refused')) })).rejects.toThrow(/refused/);
    expect(pulled).toBe(0);
    expect(await stagingFiles()).toEqual([]);
  });
});

describe('ContentStore spare staging file', () => {
  it('gives every small upload its own staging file, and removes the spares at close', async () => {
    const staged = await Promise.all(Array.from({ length: 12 }, (_, i) => store.stage(chunked(Buffer.from(`upload ${i}`), 4))));
    expect(new Set(staged.map((s) => s.tempPath)).size).toBe(12);
    // Each in its own folder: a rename out of one never waits for a file being made in it.
    expect(new Set(staged.map((s) => path.dirname(s.tempPath))).size).toBe(12);
    for (const [i, s] of staged.entries()) expect(await readFile(s.tempPath, 'utf8')).toBe(`upload ${i}`);
    for (const s of staged) await store.discard(s.tempPath);
    expect(await stagingFiles()).toHaveLength(SPARES); // the spares made for the next uploads
    store.close();
    await expect.poll(stagingFiles).toEqual([]);
  });

  it('keeps spares of both kinds (written alone, written among others) apart, and removes both at close', async () => {
    const alone = await store.stage(chunked(Buffer.from('written alone'), 4), { syncLater: true });
    const among = await Promise.all(Array.from({ length: 3 }, (_, i) => store.stage(chunked(Buffer.from(`among others ${i}`), 4))));
    await alone.synced;
    expect(await readFile(alone.tempPath, 'utf8')).toBe('written alone');
    for (const [i, s] of among.entries()) expect(await readFile(s.tempPath, 'utf8')).toBe(`among others ${i}`);
    for (const s of [alone, ...among]) await store.discard(s.tempPath);
    expect(await stagingFiles()).toHaveLength(2 * SPARES);
    store.close();
    await expect.poll(stagingFiles).toEqual([]);
  });
});

describe('ContentStore.keepBlob', () => {
  it('links a file into a new shard folder once, and accepts the same content again', async () => {
    const file = path.join(dir, 'live.txt');
    await writeFile(file, 'history');
    const hash = sha(Buffer.from('history'));
    await store.keepBlob(hash, file);
    await store.keepBlob(hash, file);
    expect(await readFile(store.blobPath(hash), 'utf8')).toBe('history');
    await expect(store.keepBlob(sha(Buffer.from('x')), path.join(dir, 'missing.txt'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('ContentStore folders awaiting their sync', () => {
  it('follows a folder that is moved before its sync', async () => {
    const live = path.join(dir, 'live');
    await store.makeDir(live);
    await store.makeDir(path.join(live, 'd'));
    await store.makeDir(path.join(live, 'd', 'sub'));
    await store.makeDir(path.join(live, 'd', 'sub', 'x')); // marks live/d/sub
    await store.renameLive(path.join(live, 'd'), path.join(live, 'e'));
    const marked = store.takeUnsyncedDirs();
    expect(marked).toContain(path.join(live, 'e', 'sub'));
    expect(marked.some((m) => m.startsWith(path.join(live, 'd')))).toBe(false);
  });
});

describe('ContentStore.retireLive (a deleted file moves into history)', () => {
  const live = () => path.join(dir, 'roots', 'r', 'a.txt');
  const setup = async (content: string) => {
    await mkdir(path.dirname(live()), { recursive: true });
    await writeFile(live(), content);
    return sha(Buffer.from(content));
  };

  it('renames the file to its blob, with no sync of its own: both folders wait for the group commit', async () => {
    const hash = await setup('kept by a rename');
    const ino = (await stat(live())).ino;
    store.takeUnsyncedDirs();
    await store.retireLive(hash, live());
    await expect(stat(live())).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await stat(store.blobPath(hash))).ino).toBe(ino);
    expect(store.takeUnsyncedDirs().sort()).toEqual([path.dirname(live()), path.dirname(store.blobPath(hash))].sort());
  });

  it('marks only the live folder when the blob exists and is durable', async () => {
    const hash = await setup('kept before');
    await writeFile(path.join(dir, 'other'), 'kept before');
    await store.keepBlob(hash, path.join(dir, 'other'));
    store.takeUnsyncedDirs();
    await store.retireLive(hash, live());
    await expect(stat(live())).rejects.toMatchObject({ code: 'ENOENT' });
    expect(store.takeUnsyncedDirs()).toEqual([path.dirname(live())]);
  });

  it("marks the blob's folder too while a keepBlob that linked the blob is still syncing it: one early sync takes both", async () => {
    const hash = await setup('kept a moment ago');
    await writeFile(path.join(dir, 'other'), 'kept a moment ago');
    store.takeUnsyncedDirs();
    // keepBlob links at once and then waits for its folder's sync: the blob exists, not yet durable.
    const keeping = store.keepBlob(hash, path.join(dir, 'other'));
    const taken: string[][] = [];
    store.onFolderChanged = () => taken.push(store.takeUnsyncedDirs());
    try {
      await store.retireLive(hash, live());
    } finally {
      store.onFolderChanged = null;
    }
    await keeping;
    await expect(stat(live())).rejects.toMatchObject({ code: 'ENOENT' });
    expect(taken[0]!.sort()).toEqual([path.dirname(live()), path.dirname(store.blobPath(hash))].sort());
    // Once that sync is done, a later delete of the same content leaves the blob's folder alone.
    await setup('kept a moment ago');
    await store.retireLive(hash, live());
    expect(store.takeUnsyncedDirs()).toEqual([path.dirname(live())]);
  });

  it('moves a name whose content is kept already into staging, for the flush to unlink while it syncs', async () => {
    const hash = await setup('kept already');
    await writeFile(path.join(dir, 'other'), 'kept already');
    await store.keepBlob(hash, path.join(dir, 'other'));
    const ino = (await stat(live())).ino;
    await store.retireLive(hash, live());
    await expect(stat(live())).rejects.toMatchObject({ code: 'ENOENT' });
    // A rename, not an unlink before the syncs: the inode waits in staging.
    const aside = [];
    for (const f of await stagingFiles()) if ((await stat(f)).ino === ino) aside.push(f);
    expect(aside).toHaveLength(1);
    store.removeSetAside();
    for (const f of await stagingFiles()) expect((await stat(f)).size, f).toBe(0); // the spares only
    expect(await readFile(store.blobPath(hash), 'utf8')).toBe('kept already');
  });

  it('only removes the live name when the blob exists already, or is the same file', async () => {
    const hash = await setup('same bytes');
    await writeFile(path.join(dir, 'other'), 'same bytes');
    await store.keepBlob(hash, path.join(dir, 'other'));
    await store.retireLive(hash, live());
    await expect(stat(live())).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(store.blobPath(hash), 'utf8')).toBe('same bytes');
    // A live file hard-linked as its own blob: rename(2) would leave both names.
    await setup('same bytes');
    await rm(store.blobPath(hash));
    await store.keepBlob(hash, live());
    await store.retireLive(hash, live());
    await expect(stat(live())).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(store.blobPath(hash), 'utf8')).toBe('same bytes');
  });
});
