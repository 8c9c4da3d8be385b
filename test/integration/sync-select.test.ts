/**
 * Selective sync through the CLI, as a user runs it (separate processes, a real gateway and
 * folders): `link --only`, `exclude`, `select`, `select --all`. Unselected folders neither download
 * nor upload; excluding removes the local copy and nothing on the gateway; selecting fetches again.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { tree } from '../helpers/sync-client.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/syncgate.js');
let t: TestGateway;
let tmp: string;

beforeEach(async () => {
  t = await startTestGateway();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'sg-select-'));
});
afterEach(async () => {
  await t?.close();
  await rm(tmp, { recursive: true, force: true });
});

async function cli(...args: string[]) {
  const env = { ...process.env, SYNCGATE_CLIENT_HOME: path.join(tmp, 'home'), SYNCGATE_PASSWORD: 'alice-password' };
  try {
    const r = await run(process.execPath, [BIN, 'client', ...args], { env, timeout: 60_000 });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}


const put = (p: string, s: string) => t.gw.core.vfs.write(t.alice.session, 'docs', p, Readable.from([Buffer.from(s)]));
const onGateway = async (p: string) => (await t.gw.core.vfs.stat(t.alice.session, 'docs', p).catch(() => null)) !== null;

describe('selective sync (syncgate client link --only / select / exclude)', () => {
  it('syncs only the chosen sub-folders, both ways; excluding removes only the local copy; selecting fetches it again', async () => {
    for (const d of ['a', 'a/b', 'a/c', 'c']) await t.gw.core.vfs.mkdir(t.alice.session, 'docs', d);
    await put('a/b/1.txt', 'one');
    await put('a/c/2.txt', 'two');
    await put('c/3.txt', 'three');
    await put('top.txt', 'top');
    const dir = path.join(tmp, 'folder');
    expect((await cli('login', t.url, '--user', 'alice')).code).toBe(0);
    const linked = await cli('link', dir, 'docs', '--only', 'a/b', '--only', './c/');
    expect(linked.out).toMatch(/only a\/b, c/);
    expect((await cli('sync')).code).toBe(0);
    expect(await tree(dir)).toEqual(['a/', 'a/b/', 'a/b/1.txt', 'c/', 'c/3.txt']);

    // Outside the selection nothing goes up either; inside it does.
    await writeFile(path.join(dir, 'mine.txt'), 'local only');
    await mkdir(path.join(dir, 'a/c'), { recursive: true });
    await writeFile(path.join(dir, 'a/c/local.txt'), 'local only');
    await writeFile(path.join(dir, 'c/new.txt'), 'goes up');
    expect((await cli('sync')).code).toBe(0);
    expect(await onGateway('mine.txt')).toBe(false);
    expect(await onGateway('a/c/local.txt')).toBe(false);
    expect(await onGateway('c/new.txt')).toBe(true);
    expect((await cli('status')).out).toMatch(/syncs only a\/b, c/);

    // Excluding: the local copy goes, the gateway keeps it.
    expect((await cli('exclude', dir, 'c')).out).toMatch(/only a\/b except c/);
    expect((await cli('sync')).code).toBe(0);
    expect(await tree(dir)).not.toContain('c/3.txt');
    expect(await onGateway('c/3.txt')).toBe(true);
    expect(await onGateway('c/new.txt')).toBe(true);

    // Selecting again fetches the folder whole (the feed after the cursor does not hold it).
    expect((await cli('select', dir, 'c')).code).toBe(0);
    expect((await cli('sync')).code).toBe(0);
    expect(await readFile(path.join(dir, 'c/3.txt'), 'utf8')).toBe('three');
    expect(await readFile(path.join(dir, 'c/new.txt'), 'utf8')).toBe('goes up');

    // Everything again: what was outside comes down, and what was made outside goes up.
    expect((await cli('select', dir, '--all')).out).toMatch(/syncs everything/);
    expect((await cli('sync')).code).toBe(0);
    expect(await readFile(path.join(dir, 'top.txt'), 'utf8')).toBe('top');
    expect(await readFile(path.join(dir, 'a/c/2.txt'), 'utf8')).toBe('two');
    expect(await onGateway('mine.txt')).toBe(true);
    expect(await onGateway('a/c/local.txt')).toBe(true);
  }, 120_000);

  it('refuses a path outside the folder and an unlinked folder', async () => {
    expect((await cli('login', t.url, '--user', 'alice')).code).toBe(0);
    const dir = path.join(tmp, 'folder');
    expect((await cli('link', dir, 'docs')).code).toBe(0);
    expect((await cli('exclude', dir, '../etc')).err).toMatch(/not a sub-folder/);
    expect((await cli('select', path.join(tmp, 'other'), 'a')).err).toMatch(/is not linked/);
  }, 60_000);
});
