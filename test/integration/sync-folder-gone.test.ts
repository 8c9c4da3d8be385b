/**
 * A linked folder that is not there, or is another folder now, is not a folder whose files were all
 * deleted. Found following the README: `mv ~/work ~/work.old` (or a USB drive not mounted, which
 * leaves its empty mount point) and one `syncgate client sync` deleted the whole root on the gateway,
 * then on every other device, and said "up to date" with exit status 0.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { saveCredentials } from '../../src/client/home.js';
import { FolderUnavailable } from '../../src/client/linked-folder.js';
import type { TestGateway } from '../helpers/gateway.js';
import { twoClients, tree, type TestClient } from '../helpers/sync-client.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/syncgate.js');
let t: TestGateway;
let a: TestClient;
let b: TestClient;

twoClients((s) => ({ t, a, b } = s));

async function twoFilesSynced(): Promise<void> {
  await mkdir(path.join(a.dir, 'sub'));
  await writeFile(path.join(a.dir, 'sub', 'x.txt'), 'x');
  await writeFile(path.join(a.dir, 'top.txt'), 'top');
  await a.once();
  await b.once();
}

const onGateway = async () => (await t.gw.core.vfs.list(t.alice.session, 'docs', '')).map((e) => e.name).sort();

describe('a linked folder that is not there', () => {
  it('moved away: the sync stops with what to do, nothing is deleted anywhere; put back, it syncs on', async () => {
    await twoFilesSynced();
    await rename(a.dir, `${a.dir}.away`);
    try {
      const err = await a.once().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(FolderUnavailable);
      expect((err as Error).message).toMatch(/is not there .*nothing deleted.*syncgate client unlink/);
      expect(await onGateway()).toEqual(['sub', 'top.txt']);
      await b.once();
      expect(await tree(b.dir)).toEqual(['sub/', 'sub/x.txt', 'top.txt']);
    } finally {
      await rename(`${a.dir}.away`, a.dir);
    }
    await writeFile(path.join(a.dir, 'top.txt'), 'edited');
    const r = await a.once();
    expect({ uploaded: r.uploaded, deleted: r.deleted }).toEqual({ uploaded: 1, deleted: 0 });
  });

  it('an empty folder in its place (a mount point without its drive): refused, nothing deleted', async () => {
    await twoFilesSynced();
    await rename(a.dir, `${a.dir}.drive`);
    await mkdir(a.dir);
    try {
      await expect(a.once()).rejects.toThrow(/is not the folder synced before .*unlink.*link/);
      expect(await onGateway()).toEqual(['sub', 'top.txt']);
    } finally {
      await rm(a.dir, { recursive: true });
      await rename(`${a.dir}.drive`, a.dir);
    }
    expect((await a.once()).deleted).toBe(0);
    expect(await onGateway()).toEqual(['sub', 'top.txt']);
    // Emptied by the user (the same folder): that is a delete of everything, and goes through.
    await rm(path.join(a.dir, 'sub'), { recursive: true });
    await rm(path.join(a.dir, 'top.txt'));
    expect((await a.once()).deleted).toBe(3);
    expect(await onGateway()).toEqual([]);
  });

  it('the CLI says so for that folder, syncs the others, and exits 1; status says it too', async () => {
    await twoFilesSynced();
    await saveCredentials(a.home, { url: t.url, token: a.token, user: 'alice', device: { id: a.deviceId, uuid: 'u', name: 'laptop' } });
    a.state.close();
    const other = path.join(path.dirname(a.dir), `${path.basename(a.dir)}-other`);
    await mkdir(other);
    const cli = (...args: string[]) => run(process.execPath, [BIN, 'client', ...args], { env: { ...process.env, SYNCGATE_CLIENT_HOME: a.home }, timeout: 60_000 }).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
    try {
      expect((await cli('link', other, 'docs')).code).toBe(0);
      await rename(a.dir, `${a.dir}.away`);
      const r = await cli('sync');
      expect(r.code).toBe(1);
      expect(r.out).toContain(`${a.dir}: not synced: the linked folder ${a.dir} is not there`);
      expect(await readFile(path.join(other, 'top.txt'), 'utf8')).toBe('top');
      expect((await cli('status')).out).toContain(`${a.dir} <-> docs: not synced: the linked folder`);
      expect(await onGateway()).toEqual(['sub', 'top.txt']);
    } finally {
      await rename(`${a.dir}.away`, a.dir).catch(() => undefined);
      await rm(other, { recursive: true, force: true });
    }
  });
});
