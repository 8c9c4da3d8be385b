/**
 * Entries of a linked folder the client may not read (a folder or file made chmod 000, another
 * user's files) are reported and left as they are on the gateway. Found following the README as a
 * plain user: `chmod 000 sub` then `client sync` deleted sub's files on the gateway (and so on every
 * other device) and exited 0; an edited file made unreadable was skipped without a word.
 * A name that is not UTF-8 was passed over without a word too.
 * The client runs as its own process, as an unprivileged user (nobody when the tests run as root,
 * who reads everything), like a user's.
 */
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { saveCredentials } from '../../src/client/home.js';
import type { TestGateway } from '../helpers/gateway.js';
import { twoClients, tree, type TestClient } from '../helpers/sync-client.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/syncgate.js');
const asRoot = process.getuid?.() === 0;
let t: TestGateway;
let a: TestClient;
let b: TestClient;

twoClients((s) => ({ t, a, b } = s));

async function chownTree(p: string): Promise<void> {
  await chown(p, 65534, 65534);
  if ((await stat(p)).isDirectory()) for (const n of await readdir(p)) await chownTree(path.join(p, n));
}

/** `syncgate client ...` as a user who is not root. */
async function cli(...args: string[]): Promise<{ code: number; out: string }> {
  const user = asRoot ? { uid: 65534, gid: 65534 } : {};
  return run(process.execPath, [BIN, 'client', ...args], { ...user, env: { ...process.env, SYNCGATE_CLIENT_HOME: a.home }, timeout: 60_000 }).then(
    (r) => ({ code: 0, out: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
  );
}

describe('entries the client may not read', () => {
  it('are reported with what to do, nothing of them is deleted anywhere, and they sync once readable', async () => {
    await mkdir(path.join(a.dir, 'sub'));
    await writeFile(path.join(a.dir, 'sub', 'x.txt'), 'x');
    await writeFile(path.join(a.dir, 'sub', 'y.txt'), 'y');
    await writeFile(path.join(a.dir, 'top.txt'), 'top');
    await a.once();
    await b.once();
    await saveCredentials(a.home, { url: t.url, token: a.token, user: 'alice', device: { id: a.deviceId, uuid: 'u', name: 'laptop' } });
    a.state.close();
    if (asRoot) {
      await chownTree(a.home);
      await chownTree(a.dir);
    }
    await writeFile(path.join(a.dir, 'top.txt'), 'edited');
    await chmod(path.join(a.dir, 'sub'), 0o000);
    await chmod(path.join(a.dir, 'top.txt'), 0o000);
    try {
      const r = await cli('sync');
      expect(r.code).toBe(1);
      expect(r.out).toContain('not synced: sub: cannot be read here (permission denied): not synced, and nothing in it is deleted on the gateway; give this user access to it, or name it in .syncgateignore');
      expect(r.out).toContain('not synced: top.txt: cannot be read here (permission denied)');
      expect(r.out).toMatch(/0 up, 0 down, 0 deleted/);
      await b.once();
      expect(await tree(b.dir)).toEqual(['sub/', 'sub/x.txt', 'sub/y.txt', 'top.txt']);
    } finally {
      await chmod(path.join(a.dir, 'sub'), 0o755);
      await chmod(path.join(a.dir, 'top.txt'), 0o644);
    }
    const r = await cli('sync');
    expect(r.out).toMatch(/1 up, 0 down, 0 deleted/);
    expect(r.code).toBe(0);
    await b.once();
    expect(await readFile(path.join(b.dir, 'top.txt'), 'utf8')).toBe('edited');
    expect(await tree(b.dir)).toEqual(['sub/', 'sub/x.txt', 'sub/y.txt', 'top.txt']);
  });

  it('a name that is not valid UTF-8 (Latin-1 from an old disk) is reported, not passed over without a word', async () => {
    await writeFile(Buffer.from(`${a.dir}/caf\xe9.txt`, 'latin1'), 'latin-1 name');
    await writeFile(path.join(a.dir, 'fine.txt'), 'fine');
    const r = await a.once();
    expect(r.uploaded).toBe(1);
    expect(r.errors).toEqual(['caf\uFFFD.txt: its name is not valid UTF-8 (shown here with \uFFFD; the gateway keeps names in UTF-8): not synced; rename it (convmv -f latin1 -t utf-8 renames such names)']);
  });
});
