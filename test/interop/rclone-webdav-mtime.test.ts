import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/**
 * rclone with an ownCloud-style remote sends each file's time as X-OC-Mtime (whole seconds) and
 * compares times on the next run. A file from before 1970 sends a negative number: it is kept, so
 * a second copy finds the same time and sends nothing (before, it got the upload time and was sent
 * again at every run).
 */
function rclone(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('rclone', [...args, '--config', '/dev/null', '--low-level-retries', '1', '--retries', '1'], { timeout: 60_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

describe('rclone (webdav, vendor owncloud) keeps a time from before 1970', () => {
  let t: TestGateway;
  let tmp: string;
  let env: Record<string, string>;
  const OLD = new Date(Date.UTC(1969, 6, 20, 20, 17, 40));
  const NEW = new Date(Date.UTC(2001, 0, 2, 3, 4, 5));

  beforeAll(async () => {
    t = await startTestGateway();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'syncgate-rclone-mtime-'));
    const pass = (await rclone(['obscure', t.alice.password], {})).out.trim();
    env = {
      RCLONE_CONFIG_SG_TYPE: 'webdav',
      RCLONE_CONFIG_SG_URL: `${t.url}/dav/docs`,
      RCLONE_CONFIG_SG_VENDOR: 'owncloud',
      RCLONE_CONFIG_SG_USER: t.alice.name,
      RCLONE_CONFIG_SG_PASS: pass,
    };
    await mkdir(path.join(tmp, 'src'));
    await writeFile(path.join(tmp, 'src', 'old.txt'), 'from 1969');
    await utimes(path.join(tmp, 'src', 'old.txt'), OLD, OLD);
    await writeFile(path.join(tmp, 'src', 'new.txt'), 'from 2001');
    await utimes(path.join(tmp, 'src', 'new.txt'), NEW, NEW);
  });
  afterAll(async () => {
    await t?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('copies both times in, lists them back, and a second copy sends nothing', async () => {
    const first = await rclone(['copy', path.join(tmp, 'src'), 'sg:times'], env);
    expect(first.code, first.out).toBe(0);
    expect((await t.gw.core.vfs.stat(t.alice.session, 'docs', 'times/old.txt')).mtimeMs).toBe(OLD.getTime());
    expect((await t.gw.core.vfs.stat(t.alice.session, 'docs', 'times/new.txt')).mtimeMs).toBe(NEW.getTime());
    const listed = await rclone(['lsjson', 'sg:times'], env);
    expect(listed.code, listed.out).toBe(0);
    const times = Object.fromEntries((JSON.parse(listed.out) as { Name: string; ModTime: string }[]).map((e) => [e.Name, new Date(e.ModTime).getTime()]));
    expect(times).toEqual({ 'old.txt': OLD.getTime(), 'new.txt': NEW.getTime() });
    const again = await rclone(['copy', '-v', path.join(tmp, 'src'), 'sg:times'], env);
    expect(again.code, again.out).toBe(0);
    expect(again.out).not.toMatch(/Copied \(new\)|Copied \(replaced/);
  });
});
