import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { body, makeCore, readAll, type TestCore } from '../../test/helpers/core.js';
import { isCoreError } from './errors.js';

let t: TestCore;
beforeEach(async () => {
  t = await makeCore();
});
afterEach(async () => {
  await t.close();
});

describe('versions and sequence numbers', () => {
  it('starts a file at version 1 and adds one per change, with gap-free seq', async () => {
    const { vfs } = t.core;
    const a = await vfs.write(t.admin, 'docs', 'a.txt', body('one'));
    expect(a.entry.version).toBe(1);
    expect(a.created).toBe(true);
    const b = await vfs.write(t.admin, 'docs', 'a.txt', body('two'));
    expect(b.entry.version).toBe(2);
    await vfs.delete(t.admin, 'docs', 'a.txt');
    const c = await vfs.write(t.admin, 'docs', 'a.txt', body('three'));
    expect(c.entry.version).toBe(4);
    const page = await vfs.changes(t.admin, 'docs', 0);
    expect(page.changes.map((ch) => ch.seq)).toEqual([1, 2, 3, 4]);
    expect(page.changes.map((ch) => ch.op)).toEqual(['create', 'write', 'delete', 'create']);
  });

  it('keeps every version readable and restorable', async () => {
    const { vfs } = t.core;
    await vfs.write(t.admin, 'docs', 'a.txt', body('one'));
    await vfs.write(t.admin, 'docs', 'a.txt', body('two'));
    const old = await vfs.read(t.admin, 'docs', 'a.txt', { version: 1 });
    expect((await readAll(old.stream)).toString()).toBe('one');
    const restored = await vfs.restore(t.admin, 'docs', 'a.txt', 1);
    expect(restored.version).toBe(3);
    const head = await vfs.read(t.admin, 'docs', 'a.txt');
    expect((await readAll(head.stream)).toString()).toBe('one');
    const hist = await vfs.history(t.admin, 'docs', 'a.txt');
    expect(hist.map((h) => h.op)).toEqual(['restore', 'write', 'create']);
  });

  it('reads a byte range', async () => {
    await t.core.vfs.write(t.admin, 'docs', 'r.bin', body('0123456789'));
    const r = await t.core.vfs.read(t.admin, 'docs', 'r.bin', { start: 2, end: 5 });
    expect((await readAll(r.stream)).toString()).toBe('2345');
  });
});

describe('conflicts', () => {
  it('turns a write with an outdated base into a conflict copy', async () => {
    const { vfs } = t.core;
    await vfs.write(t.admin, 'docs', 'doc.txt', body('base'));
    await vfs.write(t.admin, 'docs', 'doc.txt', body('server edit'), { baseVersion: 1 });
    const res = await vfs.write({ ...t.admin, device: { id: 9, name: 'laptop' } }, 'docs', 'doc.txt', body('client edit'), { baseVersion: 1 });
    expect(res.conflict).toBeDefined();
    expect(res.entry.path).toMatch(/^doc \(conflict \d{4}-\d{2}-\d{2} \d{6} from laptop\)\.txt$/);
    const head = await vfs.read(t.admin, 'docs', 'doc.txt');
    expect((await readAll(head.stream)).toString()).toBe('server edit');
    const conflicts = await vfs.conflicts(t.admin, 'docs');
    expect(conflicts).toHaveLength(1);
    await vfs.resolveConflict(t.admin, 'docs', conflicts[0]!.id, 'keep-incoming');
    const after = await vfs.read(t.admin, 'docs', 'doc.txt');
    expect((await readAll(after.stream)).toString()).toBe('client edit');
    expect(after.entry.version).toBe(3);
    await expect(vfs.stat(t.admin, 'docs', res.entry.path)).rejects.toSatisfy((e) => isCoreError(e, 'NOT_FOUND'));
  });

  it('does not call identical content a conflict', async () => {
    const { vfs } = t.core;
    await vfs.write(t.admin, 'docs', 'same.txt', body('x'));
    await vfs.write(t.admin, 'docs', 'same.txt', body('y'));
    const res = await vfs.write(t.admin, 'docs', 'same.txt', body('y'), { baseVersion: 1 });
    expect(res.conflict).toBeUndefined();
    expect(res.unchanged).toBe(true);
  });
});

describe('disk edits and safety', () => {
  it('records an edit made on disk before replacing it', async () => {
    const { vfs } = t.core;
    await vfs.write(t.admin, 'docs', 'e.txt', body('gateway'));
    await writeFile(path.join(t.rootDir, 'e.txt'), 'edited on disk!');
    const res = await vfs.write(t.admin, 'docs', 'e.txt', body('new'));
    expect(res.entry.version).toBe(3);
    const hist = await vfs.history(t.admin, 'docs', 'e.txt');
    expect(hist[1]!.user).toBe('local');
    const v2 = await vfs.read(t.admin, 'docs', 'e.txt', { version: 2 });
    expect((await readAll(v2.stream)).toString()).toBe('edited on disk!');
  });

  it('records an edit made on disk while an upload was under way, after the upload was checked', async () => {
    const { vfs } = t.core;
    await mkdir(path.join(t.rootDir, 'p'));
    await vfs.write(t.admin, 'docs', 'p/u.bin', body('gateway'), { createParents: true });
    // A large body is checked after its first 256 KiB; the rest waits while another program
    // rewrites the file. The write must still find that edit under the root's lock.
    const upload = new PassThrough();
    const done = vfs.write(t.admin, 'docs', 'p/u.bin', upload);
    upload.write(Buffer.alloc(300 << 10, 1));
    await new Promise((r) => setTimeout(r, 100));
    await writeFile(path.join(t.rootDir, 'p', 'u.bin'), 'edited on disk meanwhile');
    upload.end(Buffer.alloc(10, 2));
    expect((await done).entry.version).toBe(3);
    const hist = await vfs.history(t.admin, 'docs', 'p/u.bin');
    expect(hist.map((v) => v.user)).toEqual([t.admin.user.name, 'local', t.admin.user.name]);
    const v2 = await vfs.read(t.admin, 'docs', 'p/u.bin', { version: 2 });
    expect((await readAll(v2.stream)).toString()).toBe('edited on disk meanwhile');
  });

  it('refuses hostile paths', async () => {
    for (const p of ['../x', 'a/../../x', '%2e%2e/x', 'a\\b', 'a\u0000b', 'a/./b']) {
      await expect(t.core.vfs.write(t.admin, 'docs', p, body('x'))).rejects.toSatisfy((e) => isCoreError(e, 'INVALID_PATH'));
    }
  });

  it('keeps the previous version when the upload stream fails half-way', async () => {
    const { vfs } = t.core;
    await vfs.write(t.admin, 'docs', 'k.txt', body('keep me'));
    async function* broken() {
      yield Buffer.from('partial');
      throw new Error('connection reset');
    }
    await expect(vfs.write(t.admin, 'docs', 'k.txt', broken())).rejects.toSatisfy((e) => isCoreError(e, 'ABORTED'));
    expect(await readFile(path.join(t.rootDir, 'k.txt'), 'utf8')).toBe('keep me');
    expect((await vfs.stat(t.admin, 'docs', 'k.txt')).version).toBe(1);
  });
});

describe('folder listings', () => {
  it('lists a folder larger than one page whole, in name order, once each', async () => {
    const dir = path.join(t.rootDir, 'big');
    await mkdir(dir);
    const names = Array.from({ length: 2345 }, (_, i) => `f-${String(i).padStart(5, '0')}.txt`);
    await Promise.all(names.map((n) => writeFile(path.join(dir, n), n)));
    await writeFile(path.join(dir, '.DS_Store'), 'ignored by listings when configured; kept here');
    await t.core.diskEdits.scanRoot(t.core.ctx.roots.byName('docs')!.id);
    const listed = (await t.core.vfs.list(t.admin, 'docs', 'big')).map((e) => e.name);
    expect(listed.filter((n) => n !== '.DS_Store')).toEqual(names);
    expect(new Set(listed).size).toBe(listed.length);
  });
});
