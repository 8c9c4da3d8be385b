import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { body, readAll } from '../helpers/core.js';
import { hasCommand, run, useFtpInteropDoor } from '../helpers/ftp-interop.js';

const hasLftp = hasCommand('lftp', '--version');

describe('lftp against the FTP door', () => {
  it('finds lftp (installed by .ci/run)', () => expect(hasLftp).toBe(true));
  const door = useFtpInteropDoor('sg-lftp-');
  const core = () => door.vfs;
  const s = () => door.alice.session;

  /** Runs an lftp script; with `tls`, explicit FTPS with protected data connections. */
  const lftp = async (tls: boolean, script: string, cwd = door.tmp) => {
    const settings = [
      'set net:max-retries 1',
      'set net:timeout 15',
      'set cmd:fail-exit true',
      tls ? 'set ftp:ssl-force true; set ftp:ssl-protect-data true; set ssl:verify-certificate no' : 'set ftp:ssl-allow false',
      `open -u ${door.alice.name},${door.alice.password} -p ${door.ftpPort} 127.0.0.1`,
    ];
    return run('lftp', ['-c', `${settings.join('; ')}; ${script}`], { cwd, timeout: 40_000 });
  };

  for (const tls of [false, true]) {
    const mode = tls ? 'explicit FTPS, protected data' : 'plain FTP';
    it(`uploads, lists, downloads, resumes, renames, deletes and makes folders (${mode})`, async () => {
      const dir = tls ? 'tls' : 'plain';
      const data = randomBytes(500_000);
      await writeFile(path.join(door.tmp, `${dir}.bin`), data);
      await lftp(tls, `mkdir -p docs/${dir}/sub; cd docs/${dir}; put ${dir}.bin -o up.bin; mv up.bin sub/moved.bin`);
      expect((await readAll((await core().read(s(), 'docs', `${dir}/sub/moved.bin`)).stream)).equals(data)).toBe(true);

      const { stdout: listing } = await lftp(tls, `cls -l docs/${dir}/sub/`);
      expect(listing).toMatch(/moved\.bin/);

      await lftp(tls, `get docs/${dir}/sub/moved.bin -o ${dir}-down.bin`);
      expect((await readFile(path.join(door.tmp, `${dir}-down.bin`))).equals(data)).toBe(true);

      // get -c continues a partial local copy (REST + RETR).
      await writeFile(path.join(door.tmp, `${dir}-part.bin`), data.subarray(0, 123_456));
      await lftp(tls, `get -c docs/${dir}/sub/moved.bin -o ${dir}-part.bin`);
      expect((await readFile(path.join(door.tmp, `${dir}-part.bin`))).equals(data)).toBe(true);

      // put -c continues a partial server copy (REST + STOR).
      await core().write(s(), 'docs', `${dir}/partial.bin`, body(data.subarray(0, 200_000)));
      await lftp(tls, `cd docs/${dir}; put -c ${dir}.bin -o partial.bin`);
      expect((await readAll((await core().read(s(), 'docs', `${dir}/partial.bin`)).stream)).equals(data)).toBe(true);

      await lftp(tls, `cd docs/${dir}; rm partial.bin; rm -r sub`);
      expect(await core().list(s(), 'docs', dir)).toEqual([]);
      const hist = await core().history(s(), 'docs', `${dir}/sub/moved.bin`);
      expect(hist[0]!.deleted).toBe(true);
    });
  }

  it('mirrors a tree up and down over FTPS', async () => {
    const src = path.join(door.tmp, 'tree');
    await mkdir(path.join(src, 'a', 'b'), { recursive: true });
    await writeFile(path.join(src, 'top.txt'), 'top');
    await writeFile(path.join(src, 'a', 'one.bin'), randomBytes(70_000));
    await writeFile(path.join(src, 'a', 'b', 'two.txt'), 'two');
    await lftp(true, `mirror -R ${src} docs/tree`);
    expect((await core().list(s(), 'docs', 'tree/a/b')).map((e) => e.name)).toEqual(['two.txt']);
    await lftp(true, `mirror docs/tree ${path.join(door.tmp, 'back')}`);
    expect((await readFile(path.join(door.tmp, 'back', 'a', 'one.bin'))).equals(await readFile(path.join(src, 'a', 'one.bin')))).toBe(true);
  });

  it('runs 20 explicit-TLS sessions in a row with protected data', async () => {
    await core().write(s(), 'docs', 'twenty.txt', body('20'));
    let ok = 0;
    for (let i = 0; i < 20; i += 1) {
      const { stdout } = await lftp(true, 'cat docs/twenty.txt');
      if (stdout === '20') ok += 1;
    }
    expect(ok).toBe(20);
  });
});
