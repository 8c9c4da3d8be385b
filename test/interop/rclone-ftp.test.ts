import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasCommand, run, useFtpInteropDoor } from '../helpers/ftp-interop.js';

const hasRclone = hasCommand('rclone', 'version');

describe('rclone FTP backend against the FTP door', () => {
  it('finds rclone (installed by .ci/run)', () => expect(hasRclone).toBe(true));
  const door = useFtpInteropDoor('sg-rclone-');
  let env: NodeJS.ProcessEnv;

  const rclone = (explicitTls: boolean, ...args: string[]) =>
    run('rclone', ['--config', '/dev/null', '--retries', '1', '--low-level-retries', '2', ...args], {
      env: { ...env, RCLONE_CONFIG_X_EXPLICIT_TLS: String(explicitTls) },
      timeout: 50_000,
    });

  // After the door's own beforeAll (hooks run in the order they are registered).
  beforeAll(async () => {
    const { stdout: obscured } = await run('rclone', ['obscure', door.alice.password]);
    env = {
      ...process.env,
      RCLONE_CONFIG_X_TYPE: 'ftp',
      RCLONE_CONFIG_X_HOST: '127.0.0.1',
      RCLONE_CONFIG_X_PORT: String(door.ftpPort),
      RCLONE_CONFIG_X_USER: door.alice.name,
      RCLONE_CONFIG_X_PASS: obscured.trim(),
      RCLONE_CONFIG_X_NO_CHECK_CERTIFICATE: 'true',
    };
    const src = path.join(door.tmp, 'src');
    await mkdir(path.join(src, 'a', 'b'), { recursive: true });
    await mkdir(path.join(src, 'ünïcode dir'), { recursive: true });
    await writeFile(path.join(src, 'top.txt'), 'top');
    await writeFile(path.join(src, 'empty.txt'), '');
    await writeFile(path.join(src, 'a', 'one.bin'), randomBytes(1_500_000));
    await writeFile(path.join(src, 'a', 'b', 'two.txt'), 'two');
    await writeFile(path.join(src, 'ünïcode dir', 'naïve file.txt'), 'unicode');
  });

  for (const tls of [true, false]) {
    it(`copies a tree in and out with no difference (${tls ? 'explicit FTPS' : 'plain FTP'})`, async () => {
      const remote = `X:docs/${tls ? 'tls' : 'plain'}`;
      const src = path.join(door.tmp, 'src');
      await rclone(tls, 'copy', src, remote);
      const check = await rclone(tls, 'check', src, remote);
      expect(check.stderr).toMatch(/0 differences found/);
      expect(check.stderr).toMatch(/7 matching files|5 matching files/);

      const back = path.join(door.tmp, tls ? 'back-tls' : 'back-plain');
      const out = await rclone(tls, 'copy', remote, back);
      expect(out.stderr).not.toMatch(/ERROR/);
      const checkBack = await rclone(tls, 'check', src, back);
      expect(checkBack.stderr).toMatch(/0 differences found/);
      expect((await readFile(path.join(back, 'a', 'one.bin'))).equals(await readFile(path.join(src, 'a', 'one.bin')))).toBe(true);

      // Every file arrived as a version recorded by the ftp door.
      const hist = await door.vfs.history(door.alice.session, 'docs', `${tls ? 'tls' : 'plain'}/a/b/two.txt`);
      expect(hist[hist.length - 1]!.protocol).toBe('ftp');
    });
  }
});
