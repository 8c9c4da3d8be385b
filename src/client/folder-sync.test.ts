import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { unsyncedFolders } from './folder-sync.js';
import { install, makeLocalDir, moveLocal, removeLocal } from './local.js';
import { ClientState } from './state.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

test('folders a download, move, removal or new folder changed are synced before the state rows that describe them are committed', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sg-fsync-'));
  const home = await mkdtemp(path.join(os.tmpdir(), 'sg-fsync-home-'));
  dirs.push(dir, home);
  const state = new ClientState(home);
  try {
    state.beginBatch();
    await makeLocalDir(dir, 'a/b');
    await writeFile(path.join(dir, 'a/b/.tmp'), 'x');
    await install(dir, path.join(dir, 'a/b/.tmp'), 'a/b/f.txt', Date.now());
    await moveLocal(dir, 'a/b/f.txt', 'g.txt');
    await writeFile(path.join(dir, 'h.txt'), 'y');
    await removeLocal(dir, 'h.txt', 'file');
    expect(new Set(unsyncedFolders())).toEqual(new Set([path.join(dir, 'a'), path.join(dir, 'a/b'), dir]));
    state.endBatch();
    expect(unsyncedFolders()).toEqual([]);
    expect(await readFile(path.join(dir, 'g.txt'), 'utf8')).toBe('x');
  } finally {
    state.close();
  }
});
