import { createHash, randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { body, makeCore, readAll, type TestCore } from '../../test/helpers/core.js';
import { fingerprintMatches, toFileStat } from '../storage/fingerprint.js';
import { isCoreError } from './errors.js';
import { markVolatile } from '../lib/hashed-sink.js';

let t: TestCore;
beforeEach(async () => {
  t = await makeCore();
});
afterEach(async () => {
  await t.close();
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const partial = (id: string) => path.join(t.dir, 'uploads', 'tus', `${id}.bin`);

describe('finishing a resumable upload', () => {
  it('records the partial file itself (linked, not copied: the live file is its inode), hashed as it arrived', async () => {
    const alice = t.core.connect(t.admin);
    const data = randomBytes(3 << 20);
    const up = await alice.createUpload({ root: 'docs', path: 'big.bin', length: data.length, sha256: sha(data) });
    await alice.appendUpload(up.id, 0, body(data.subarray(0, 1 << 20)));
    await alice.appendUpload(up.id, 1 << 20, body(data.subarray(1 << 20)));
    const ino = (await stat(partial(up.id))).ino;
    const result = await alice.finishUpload(up.id);
    expect(result.entry.hash).toBe(sha(data));
    expect((await stat(path.join(t.rootDir, 'big.bin'))).ino).toBe(ino);
    expect((await readAll((await alice.read('docs', 'big.bin')).stream)).equals(data)).toBe(true);
    expect(await readdir(path.join(t.dir, 'uploads', 'tus'))).toEqual([]);
  });

  it('records the fingerprint the live file keeps: the partial\'s own name is gone first, so the next read does not take it for an edit made on disk', async () => {
    const alice = t.core.connect(t.admin);
    const data = randomBytes(2 << 20);
    const up = await alice.createUpload({ root: 'docs', path: 'fp.bin', length: data.length, sha256: sha(data) });
    await alice.appendUpload(up.id, 0, body(data));
    await alice.finishUpload(up.id);
    // The partial's unlink after the record changed the inode's ctime: the read then hashed the
    // whole file again and recorded the same content as the watcher's.
    const live = await stat(path.join(t.rootDir, 'fp.bin'));
    expect(live.nlink).toBe(1);
    const rootId = t.core.ctx.roots.byName('docs')!.id;
    expect(fingerprintMatches(t.core.ctx.files.entry(rootId, 'fp.bin')!, toFileStat(live))).toBe(true);
    (await alice.read('docs', 'fp.bin')).close();
    expect((await alice.history('docs', 'fp.bin')).map((v) => v.version)).toEqual([1]);
  });

  it('checks the announced SHA-256 of a partial whose bytes arrived over two processes (hashed from the file) and refuses another content', async () => {
    const data = randomBytes(2 << 20);
    await t.close();
    t = await makeCore({ keepDir: true });
    const alice = t.core.connect(t.admin);
    const good = await alice.createUpload({ root: 'docs', path: 'good.bin', length: data.length, sha256: sha(data) });
    const bad = await alice.createUpload({ root: 'docs', path: 'bad.bin', length: data.length, sha256: sha(Buffer.from('other')) });
    for (const id of [good.id, bad.id]) await alice.appendUpload(id, 0, body(data.subarray(0, 1000)));
    // A restarted gateway: same data folder, no hash kept in memory.
    t.core.close();
    t = await makeCore({ dir: t.dir });
    const again = t.core.connect(t.admin);
    for (const id of [good.id, bad.id]) await again.appendUpload(id, 1000, body(data.subarray(1000)));
    expect((await again.finishUpload(good.id)).entry.hash).toBe(sha(data));
    await expect(again.finishUpload(bad.id)).rejects.toSatisfy((e) => isCoreError(e, 'PRECONDITION_FAILED'));
    await expect(again.stat('docs', 'bad.bin')).rejects.toSatisfy((e) => isCoreError(e, 'NOT_FOUND'));
    expect((await readAll((await again.read('docs', 'good.bin')).stream)).equals(data)).toBe(true);
  });

  it('a broken append is not trusted for the hash: what was kept is hashed from the file at finish', async () => {
    const alice = t.core.connect(t.admin);
    const data = randomBytes(1 << 20);
    const up = await alice.createUpload({ root: 'docs', path: 'cut.bin', length: data.length, sha256: sha(data) });
    async function* cut(): AsyncGenerator<Uint8Array> {
      yield data.subarray(0, 300_000);
      throw new Error('connection reset');
    }
    const r = await alice.appendUpload(up.id, 0, cut());
    expect(r.interrupted).toBe(true);
    await alice.appendUpload(up.id, r.offset, body(data.subarray(r.offset)));
    expect((await alice.finishUpload(up.id)).entry.hash).toBe(sha(data));
  });

  it('refuses bytes past the upload length, and takes a source whose pieces are reused after each one (a patch\'s buffers)', async () => {
    const alice = t.core.connect(t.admin);
    const data = randomBytes(3 << 20);
    const up = await alice.createUpload({ root: 'docs', path: 'long.bin', length: data.length, sha256: sha(data) });
    await expect(alice.appendUpload(up.id, 0, body(Buffer.concat([data, Buffer.from('x')])))).rejects.toSatisfy((e) => isCoreError(e, 'INVALID_INPUT'));
    const at = (await alice.upload(up.id)).offset;
    expect(at).toBeLessThanOrEqual(data.length);
    // Each piece is scribbled over once the next is asked for: what was written must not change.
    const piece = Buffer.alloc(100_000);
    async function* reused(): AsyncGenerator<Uint8Array> {
      for (let i = at; i < data.length; i += piece.length) {
        const n = Math.min(piece.length, data.length - i);
        data.copy(piece, 0, i, i + n);
        yield piece.subarray(0, n);
        piece.fill(0xee);
      }
    }
    const volatile = markVolatile(reused());
    expect((await alice.appendUpload(up.id, at, volatile)).offset).toBe(data.length);
    expect((await alice.finishUpload(up.id)).entry.hash).toBe(sha(data));
    expect((await readAll((await alice.read('docs', 'long.bin')).stream)).equals(data)).toBe(true);
  });
});
