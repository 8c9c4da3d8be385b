import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { body, readAll } from '../helpers/core.js';
import { hasCommand, run, useFtpInteropDoor } from '../helpers/ftp-interop.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const hasCurl = hasCommand('curl', '--version');

describe('curl against the FTP door', () => {
  it('finds curl (installed by .ci/run)', () => expect(hasCurl).toBe(true));
  const door = useFtpInteropDoor('sg-curl-');
  const url = (p: string) => `ftp://127.0.0.1:${door.ftpPort}/${p}`;
  const auth = () => ['-u', `${door.alice.name}:${door.alice.password}`];
  const curl = (tls: boolean, ...args: string[]) => run('curl', ['-sS', '--max-time', '20', ...(tls ? ['--ssl-reqd', '-k'] : []), ...auth(), ...args]);
  const core = () => door.vfs;
  const s = () => door.alice.session;

  for (const tls of [false, true]) {
    const mode = tls ? 'explicit FTPS, protected data' : 'plain FTP';
    it(`uploads, lists, downloads, resumes, renames, deletes and makes folders (${mode})`, async () => {
      const dir = tls ? 'tls' : 'plain';
      const data = randomBytes(600_000);
      const local = path.join(door.tmp, `${dir}-up.bin`);
      await writeFile(local, data);
      await curl(tls, '--ftp-create-dirs', '-T', local, url(`docs/${dir}/up.bin`));
      expect((await readAll((await core().read(s(), 'docs', `${dir}/up.bin`)).stream)).equals(data)).toBe(true);

      const { stdout: list } = await curl(tls, url(`docs/${dir}/`));
      expect(list).toMatch(/^-rw-r--r-- .* 600000 .* up\.bin\r?\n$/);
      const { stdout: names } = await curl(tls, '-l', url(`docs/${dir}/`));
      expect(names.trim()).toBe('up.bin');

      const out = path.join(door.tmp, `${dir}-down.bin`);
      await curl(tls, '-o', out, url(`docs/${dir}/up.bin`));
      expect((await readFile(out)).equals(data)).toBe(true);

      // Download resume: keep the first 100 kB locally, continue from there (REST + RETR).
      await writeFile(out, data.subarray(0, 100_000));
      await curl(tls, '-C', '-', '-o', out, url(`docs/${dir}/up.bin`));
      expect((await readFile(out)).equals(data)).toBe(true);

      // Upload resume: the server has a prefix, curl asks SIZE and appends the rest (APPE).
      await core().write(s(), 'docs', `${dir}/resume.bin`, body(data.subarray(0, 250_000)));
      await curl(tls, '-C', '-', '-T', local, url(`docs/${dir}/resume.bin`));
      expect((await readAll((await core().read(s(), 'docs', `${dir}/resume.bin`)).stream)).equals(data)).toBe(true);

      await curl(tls, url(`docs/${dir}/`), '-Q', `-RNFR /docs/${dir}/up.bin`, '-Q', `-RNTO /docs/${dir}/moved.bin`, '-Q', `-MKD /docs/${dir}/sub`, '-Q', `-DELE /docs/${dir}/resume.bin`);
      const names2 = (await core().list(s(), 'docs', dir)).map((e) => e.name);
      expect(names2).toEqual(['moved.bin', 'sub']);
      const hist = await core().history(s(), 'docs', `${dir}/resume.bin`);
      expect(hist[0]!.deleted).toBe(true);
      expect(hist.some((v) => v.protocol === 'ftp')).toBe(true);
    });
  }

  it('runs 20 explicit-TLS sessions in a row without a failed handshake', async () => {
    await core().write(s(), 'docs', 'tls20.txt', body('twenty'));
    let ok = 0;
    for (let i = 0; i < 20; i += 1) {
      const { stdout } = await curl(true, url('docs/tls20.txt'));
      if (stdout === 'twenty') ok += 1;
    }
    expect(ok).toBe(20);
  });

  it('reports a missing file as an error with no server path', async () => {
    const err = await curl(false, url('docs/nope.txt')).catch((e: { stderr: string; code: number }) => e);
    expect((err as { code: number }).code).toBe(78); // CURLE_REMOTE_FILE_NOT_FOUND
    expect((err as { stderr: string }).stderr).not.toContain(door.dir);
  });
});

describe('curl against an FTP door that requires TLS, with implicit FTPS', () => {
  let t: TestGateway;

  beforeAll(async () => {
    const implicit = 20000 + Math.floor(Math.random() * 20000);
    t = await startTestGateway({ ftp: { requireTls: true, implicitTlsPort: implicit } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses a plain login and accepts explicit and implicit TLS', async () => {
    await t.gw.core.vfs.write(t.alice.session, 'docs', 'secret.txt', body('only over TLS'));
    const user = `${t.alice.name}:${t.alice.password}`;
    const plain = await run('curl', ['-sS', '--max-time', '10', '-u', user, `ftp://127.0.0.1:${t.ftpPort}/docs/secret.txt`]).catch((e: { code: number }) => e);
    expect((plain as { code: number }).code).toBe(67); // CURLE_LOGIN_DENIED
    const explicit = await run('curl', ['-sS', '--max-time', '10', '--ssl-reqd', '-k', '-u', user, `ftp://127.0.0.1:${t.ftpPort}/docs/secret.txt`]);
    expect(explicit.stdout).toBe('only over TLS');
    const port = t.gw.ftp!.implicitTlsAddress!.port;
    const implicit = await run('curl', ['-sS', '--max-time', '10', '-k', '-u', user, `ftps://127.0.0.1:${port}/docs/secret.txt`]);
    expect(implicit.stdout).toBe('only over TLS');
  });
});
