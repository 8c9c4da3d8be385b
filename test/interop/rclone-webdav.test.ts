import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/** rclone's WebDAV backend copies a tree in and out; `rclone check` finds no difference. */
function rclone(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('rclone', [...args, '--config', '/dev/null', '--low-level-retries', '1', '--retries', '1'], { timeout: 60_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

describe('rclone (webdav backend) round trip', () => {
  let t: TestGateway;
  let tmp: string;
  let env: Record<string, string>;
  const files = new Map<string, Buffer>();

  beforeAll(async () => {
    t = await startTestGateway();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'syncgate-rclone-'));
    const pass = (await rclone(['obscure', t.alice.password])).out.trim();
    env = {
      RCLONE_CONFIG_SG_TYPE: 'webdav',
      RCLONE_CONFIG_SG_URL: `${t.url}/dav/docs`,
      RCLONE_CONFIG_SG_VENDOR: 'other',
      RCLONE_CONFIG_SG_USER: t.alice.name,
      RCLONE_CONFIG_SG_PASS: pass,
    };
    const src = path.join(tmp, 'src');
    const layout = ['a.txt', 'empty.bin', 'big.bin', 'sub/b.txt', 'sub/deeper/c.dat', 'sub/deeper/Grüße 日本.txt', 'with space/d e.txt', 'odd/x+y&z#1%.txt'];
    for (const rel of layout) {
      const data = rel === 'empty.bin' ? Buffer.alloc(0) : rel === 'big.bin' ? randomBytes(5 * 1024 * 1024 + 3) : randomBytes(1 + (rel.length * 997) % 20_000);
      files.set(rel, data);
      await mkdir(path.dirname(path.join(src, rel)), { recursive: true });
      await writeFile(path.join(src, rel), data);
    }
  });
  afterAll(async () => {
    await t?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('copies a tree in, and the core holds every file byte for byte', async () => {
    const r = await rclone(['copy', path.join(tmp, 'src'), 'sg:tree'], env);
    expect(r.code, r.out).toBe(0);
    for (const [rel, data] of files) {
      const entry = await t.gw.core.vfs.stat(t.alice.session, 'docs', `tree/${rel}`);
      expect(entry.size, rel).toBe(data.length);
    }
  });

  it('rclone check (with --download) reports no difference', async () => {
    const r = await rclone(['check', '--download', path.join(tmp, 'src'), 'sg:tree'], env);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/0 differences found/);
  });

  it('copies the tree back out identical', async () => {
    const out = path.join(tmp, 'out');
    const r = await rclone(['copy', 'sg:tree', out], env);
    expect(r.code, r.out).toBe(0);
    for (const [rel, data] of files) expect((await readFile(path.join(out, rel))).equals(data), rel).toBe(true);
    const check = await rclone(['check', path.join(tmp, 'src'), out], env);
    expect(check.code, check.out).toBe(0);
  });

  it('a second copy transfers nothing (sizes and times match), and sync mirrors a deletion', async () => {
    const again = await rclone(['copy', '-v', path.join(tmp, 'src'), 'sg:tree'], env);
    expect(again.code, again.out).toBe(0);
    expect(again.out).not.toMatch(/Copied \(new\)|Copied \(replaced/);
    await rm(path.join(tmp, 'src', 'a.txt'));
    const sync = await rclone(['sync', path.join(tmp, 'src'), 'sg:tree'], env);
    expect(sync.code, sync.out).toBe(0);
    expect((await t.gw.core.vfs.deleted(t.alice.session, 'docs', 'tree')).map((e) => e.path)).toContain('tree/a.txt');
  });
});
