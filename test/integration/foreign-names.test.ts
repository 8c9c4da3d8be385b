/**
 * Names made on disk by other programs that no door can represent (CR/LF, backslashes): never
 * recorded, so they never reach an FTP listing as an extra line nor break a REST list or zip.
 * Checked through the doors, after a scan and through the watcher.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawFtp, readSocket } from '../../protocols/ftp/raw-ftp.test-support.js';
import { startWatcher, type RootWatcher } from '../../src/core/watcher.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { client } from './rest-client.js';

const INJECTED = 'evil\r\n-rw-r--r-- 1 ftp ftp 1 Jan  1 00:00 injected.txt';
const BACKSLASHED = '..\\..\\x';
const LF_ONLY = 'line\nfeed.txt';

/** Files another program made: two good ones, three no door can represent, one inside a bad folder. */
async function makeOnDisk(dir: string, prefix: string): Promise<void> {
  await mkdir(path.join(dir, prefix, 'sub'), { recursive: true });
  await writeFile(path.join(dir, prefix, 'ok.txt'), 'ok');
  await writeFile(path.join(dir, prefix, INJECTED), 'x');
  await writeFile(path.join(dir, prefix, BACKSLASHED), 'x');
  await writeFile(path.join(dir, prefix, 'sub', LF_ONLY), 'x');
  await writeFile(path.join(dir, prefix, 'sub', 'fine.txt'), 'fine');
  await mkdir(path.join(dir, prefix, 'bad\rdir'));
  await writeFile(path.join(dir, prefix, 'bad\rdir', 'inside.txt'), 'x');
}

async function ftpListings(port: number, dir: string): Promise<{ list: string; mlsd: string; nlst: string }> {
  const c = await RawFtp.connect(port);
  try {
    await c.login();
    const out: Record<string, string> = {};
    for (const verb of ['LIST', 'MLSD', 'NLST']) {
      const sock = await c.pasv();
      const reply = await c.cmd(`${verb} /docs/${dir}`);
      expect(reply.code).toBe(150);
      out[verb.toLowerCase()] = (await readSocket(sock)).toString();
      expect((await c.next()).code).toBe(226);
    }
    return out as { list: string; mlsd: string; nlst: string };
  } finally {
    c.close();
  }
}

/** Entry names of a zip's central directory (yazl writes no data descriptors for stored files). */
function zipNames(zip: Buffer): string[] {
  const names: string[] = [];
  for (let i = zip.indexOf('PK\x01\x02'); i >= 0; i = zip.indexOf('PK\x01\x02', i + 4)) {
    const len = zip.readUInt16LE(i + 28);
    names.push(zip.subarray(i + 46, i + 46 + len).toString('utf8'));
  }
  return names.sort();
}

for (const how of ['scan', 'watcher'] as const) {
  describe(`names no door can represent, found by the ${how}`, () => {
    let t: TestGateway;
    let watcher: RootWatcher | null = null;
    const rootDir = () => path.join(t.dir, 'roots', 'docs');
    beforeAll(async () => {
      t = await startTestGateway();
      if (how === 'watcher') watcher = await startWatcher(t.gw.core, { maxWatchedFiles: 0, debounceMs: 30, rootPollMs: 0 });
    });
    afterAll(async () => {
      await watcher?.close();
      await t.close();
    });

    it('are not recorded; FTP LIST, MLSD and NLST and REST list and zip show only the good names', async () => {
      await makeOnDisk(rootDir(), 'f');
      const docs = t.gw.core.ctx.roots.all().find((r) => r.name === 'docs')!;
      if (how === 'scan') await t.gw.core.diskEdits.scanRoot(docs.id);
      else {
        // The watcher records the good files; the bad ones must still be absent once it is idle.
        const until = Date.now() + 20_000;
        while (Date.now() < until) {
          const names = await t.gw.core.vfs.list(t.alice.session, 'docs', 'f/sub').catch(() => []);
          if (names.some((e) => e.name === 'fine.txt')) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        await watcher!.idle();
      }
      const { list, mlsd, nlst } = await ftpListings(t.ftpPort!, 'f');
      expect(list.split('\r\n').filter(Boolean).map((l) => l.split(/\s+/).slice(8).join(' ')).sort()).toEqual(['ok.txt', 'sub']);
      expect(list).not.toContain('injected');
      expect(mlsd.split('\r\n').filter(Boolean).map((l) => l.slice(l.indexOf(' ') + 1)).sort()).toEqual(['.', 'ok.txt', 'sub']);
      expect(nlst).toBe('ok.txt\r\nsub\r\n');
      const sub = await ftpListings(t.ftpPort!, 'f/sub');
      expect(sub.nlst).toBe('fine.txt\r\n');

      const rest = client(t.url, { basic: ['alice', 'alice-password'] });
      const listed = await rest.get('/api/v1/roots/docs/list/f');
      expect(listed.status).toBe(200);
      expect(listed.json.entries.map((e: { name: string }) => e.name).sort()).toEqual(['ok.txt', 'sub']);
      const zip = await rest.call('GET', '/api/v1/roots/docs/zip/f');
      expect(zip.status).toBe(200);
      expect(zipNames((zip as unknown as { raw: Buffer }).raw)).toEqual(['f/ok.txt', 'f/sub/', 'f/sub/fine.txt']);
    });
  });
}
