import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shareRoutesUnderTest, type RoutesUnderTest } from '../../protocols/http/shares/testing.js';
import { body, readAll } from '../helpers/core.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

// Asynchronous on purpose: the gateway answers from this very process.
const run = promisify(execFile);
const haveWget = existsSync('/usr/bin/wget');
const ALICE = `Basic ${Buffer.from('alice:alice-password').toString('base64')}`;
const DATA = Buffer.alloc(2 * 1024 * 1024 + 17);
for (let i = 0; i < DATA.length; i += 1) DATA[i] = (i * 7 + (i >> 11)) & 0xff;

let t: TestGateway;
let r: RoutesUnderTest;
let dir: string;

async function share(input: Record<string, unknown>): Promise<{ token: string; id: number; url: string }> {
  const res = await fetch(`${r.url}/api/v1/shares`, {
    method: 'POST',
    headers: { authorization: ALICE, 'content-type': 'application/json' },
    body: JSON.stringify({ root: 'docs', ...input }),
  });
  expect(res.status).toBe(201);
  const j = (await res.json()) as { token: string; share: { id: number } };
  return { token: j.token, id: j.share.id, url: `${r.url}/s/${j.token}` };
}

async function fresh(name: string): Promise<string> {
  const d = path.join(dir, name);
  await rm(d, { recursive: true, force: true });
  await mkdir(d, { recursive: true });
  return d;
}

beforeAll(async () => {
  t = await startTestGateway();
  r = await shareRoutesUnderTest({ url: t.url, core: t.gw.core, options: t.gw.config.http });
  dir = await mkdtemp(path.join(os.tmpdir(), 'share-curl-'));
  const s = t.alice.session;
  await t.gw.core.vfs.mkdir(s, 'docs', 'album');
  await t.gw.core.vfs.write(s, 'docs', 'album/photo 1.jpg', body(DATA));
  await t.gw.core.vfs.write(s, 'docs', 'album/notes.txt', body('notes'));
  await t.gw.core.vfs.mkdir(s, 'docs', 'inbox');
});
afterAll(async () => {
  await r?.close();
  await t?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('share links with curl and wget', () => {
  it('curl -OJ saves the file under its own name; curl -C - resumes', async () => {
    const { url } = await share({ path: 'album/photo 1.jpg' });
    const d = await fresh('curl');
    await run('curl', ['-fsS', '-O', '-J', `${url}/download`], { cwd: d });
    expect(await readdir(d)).toEqual(['photo 1.jpg']);
    expect((await readFile(path.join(d, 'photo 1.jpg'))).equals(DATA)).toBe(true);
    await writeFile(path.join(d, 'part'), DATA.subarray(0, 1_000_000));
    await run('curl', ['-fsS', '-C', '-', '-o', 'part', `${url}/download`], { cwd: d });
    expect((await readFile(path.join(d, 'part'))).equals(DATA)).toBe(true);
    const head = await run('curl', ['-fsSI', `${url}/download`]);
    expect(head.stdout).toMatch(/accept-ranges: bytes/i);
    expect(head.stdout).toMatch(/content-disposition: attachment; filename="photo 1.jpg"/i);
  });

  it('wget --content-disposition saves the file; wget -c resumes', async () => {
    expect(haveWget, 'wget is installed by .ci/run').toBe(true);
    const { url } = await share({ path: 'album/photo 1.jpg' });
    const d = await fresh('wget');
    await run('wget', ['-q', '--content-disposition', `${url}/download`], { cwd: d });
    expect(await readdir(d)).toEqual(['photo 1.jpg']);
    expect((await readFile(path.join(d, 'photo 1.jpg'))).equals(DATA)).toBe(true);
    await writeFile(path.join(d, 'part'), DATA.subarray(0, 777_777));
    await run('wget', ['-q', '-c', '-O', 'part', `${url}/download`], { cwd: d });
    expect((await readFile(path.join(d, 'part'))).equals(DATA)).toBe(true);
  });

  it('password links work with a header or curl -u; wrong ones fail; revoked links fail', async () => {
    const { url, id } = await share({ path: 'album/notes.txt', password: 's3cret pass' });
    expect((await run('curl', ['-fsS', '-H', 'X-Share-Password: s3cret pass', `${url}/download`])).stdout).toBe('notes');
    await expect(run('curl', ['-fsS', `${url}/download`])).rejects.toMatchObject({ code: 22, stderr: expect.stringContaining('401') });
    // Or as the password of HTTP Basic, user name empty (README).
    expect((await run('curl', ['-fsS', '-u', ':s3cret pass', `${url}/download`])).stdout).toBe('notes');
    await expect(run('curl', ['-fsS', '-u', ':wrong', `${url}/download`])).rejects.toMatchObject({ code: 22, stderr: expect.stringContaining('401') });
    {
      const d = await fresh('wget-pw');
      await run('wget', ['-q', '--header=X-Share-Password: s3cret pass', '-O', 'n.txt', `${url}/download`], { cwd: d });
      expect((await readFile(path.join(d, 'n.txt'))).toString()).toBe('notes');
    }
    await fetch(`${r.url}/api/v1/shares/${id}`, { method: 'DELETE', headers: { authorization: ALICE } });
    await expect(run('curl', ['-fsS', '-H', 'X-Share-Password: s3cret pass', `${url}/download`])).rejects.toMatchObject({ code: 22, stderr: expect.stringContaining('404') });
  });

  it('a folder link gives single files and a zip', async () => {
    const { url } = await share({ path: 'album' });
    expect((await run('curl', ['-fsS', `${url}/download/notes.txt`])).stdout).toBe('notes');
    const d = await fresh('zip');
    await run('curl', ['-fsS', '-o', 'album.zip', `${url}/download`], { cwd: d });
    await run('unzip', ['-q', 'album.zip', '-d', 'out'], { cwd: d });
    expect((await readdir(path.join(d, 'out'))).sort()).toEqual(['notes.txt', 'photo 1.jpg']);
    expect((await readFile(path.join(d, 'out', 'photo 1.jpg'))).equals(DATA)).toBe(true);
  });

  it('curl -T drops a file into an upload-only link, never overwriting', async () => {
    const { url } = await share({ path: 'inbox', uploadOnly: true });
    const d = await fresh('drop');
    await writeFile(path.join(d, 'report.txt'), 'first');
    await run('curl', ['-fsS', '-T', 'report.txt', `${url}/upload/`], { cwd: d });
    await writeFile(path.join(d, 'report.txt'), 'second');
    const out = await run('curl', ['-fsS', '-T', 'report.txt', `${url}/upload/`], { cwd: d });
    expect(JSON.parse(out.stdout)).toEqual({ name: 'report.txt', size: 6 }); // never the stored "report (1).txt"
    const s = t.alice.session;
    expect((await readAll((await t.gw.core.vfs.read(s, 'docs', 'inbox/report.txt')).stream)).toString()).toBe('first');
    expect((await readAll((await t.gw.core.vfs.read(s, 'docs', 'inbox/report (1).txt')).stream)).toString()).toBe('second');
    await expect(run('curl', ['-fsS', `${url}/download/report.txt`])).rejects.toMatchObject({ code: 22 });
  });
});
