import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FAST_KDF } from '../../test/helpers/core.js';
import { ForeignNames } from './foreign-names.js';
import { createCore, type CoreParts } from './index.js';
import { actorOf } from './present.js';
import { systemSession } from './session.js';

describe('names on disk no door can represent', () => {
  let dir: string;
  let core: CoreParts;
  let lines: { msg: string; path?: string; problem?: string }[];
  const rootDir = () => path.join(dir, 'roots', 'docs');
  const docsId = () => core.ctx.roots.all().find((r) => r.name === 'docs')!.id;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'syncgate-foreign-'));
    lines = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        done();
      },
    });
    core = await createCore({
      dataDir: dir,
      dbFile: path.join(dir, 'syncgate.db'),
      log: pino({ level: 'info' }, sink),
      kdf: FAST_KDF,
      guard: { freeAttempts: 3, banAfter: 10, windowMs: 60_000, banMs: 60_000, maxDelayMs: 0 },
    });
    const alice = await core.accounts.createUser('alice', 'alice-password', true);
    await core.roots.create('docs', rootDir(), alice.id);
  });
  afterEach(async () => {
    core.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('tells which names every door can represent', () => {
    expect(ForeignNames.problem('a/b c.txt')).toBeNull();
    expect(ForeignNames.problem('données/é.txt')).toBeNull();
    expect(ForeignNames.problem('a\r\nb')).toMatch(/control/);
    expect(ForeignNames.problem('..\\..\\x')).toMatch(/backslash/);
    expect(ForeignNames.problem('tab\there')).toMatch(/control/);
  });

  it('skips them in scans and reconciles, reporting each once', async () => {
    await writeFile(path.join(rootDir(), 'ok.txt'), 'ok');
    await writeFile(path.join(rootDir(), 'a\r\nb.txt'), 'x');
    await writeFile(path.join(rootDir(), '..\\x'), 'x');
    await mkdir(path.join(rootDir(), 'bad\ndir'));
    await writeFile(path.join(rootDir(), 'bad\ndir', 'inside.txt'), 'x');
    await core.diskEdits.scanRoot(docsId());
    await core.diskEdits.scanRoot(docsId());
    // What the watcher does for an event on each of them.
    for (const rel of ['a\r\nb.txt', '..\\x', 'bad\ndir', 'bad\ndir/inside.txt']) await core.diskEdits.reconcile(docsId(), rel);
    const reports = lines.filter((l) => l.msg === 'name on disk not recorded: no door can represent it');
    expect(reports.map((r) => r.path).sort()).toEqual(['..\\x', 'a\r\nb.txt', 'bad\ndir', 'bad\ndir/inside.txt'].sort());
    expect(core.ctx.files.children(docsId(), '').map((e) => e.name)).toEqual(['ok.txt']);
  });

  it('removes such an entry recorded before this check, with a version in its history', async () => {
    await writeFile(path.join(rootDir(), 'old\nname.txt'), 'x');
    core.ctx.files.record(docsId(), actorOf(systemSession('local')), [
      { path: 'old\nname.txt', kind: 'file', op: 'create', deleted: false, hash: 'h', size: 1, mtimeMs: 1, ino: 0 },
    ]);
    expect(core.ctx.files.children(docsId(), '').map((e) => e.name)).toEqual(['old\nname.txt']);
    await core.diskEdits.scanRoot(docsId());
    expect(core.ctx.files.children(docsId(), '')).toEqual([]);
    expect(core.ctx.files.entry(docsId(), 'old\nname.txt')?.deleted).toBe(true);
  });
});
