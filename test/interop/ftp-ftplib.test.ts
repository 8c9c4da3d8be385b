/**
 * Python's ftplib.FTP_TLS against the FTP door: a strict TLS client (like FileZilla) that wants a
 * close_notify at the end of every protected data connection, empty transfers included, and reads
 * each transfer's final reply before the next command (so a lost one shows as a reply out of step).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hasCommand, run, useFtpInteropDoor } from '../helpers/ftp-interop.js';

const hasPython = hasCommand('python3', '--version');
const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'ftplib-session.py');

interface Step {
  step: string;
  ok: boolean;
  value?: unknown;
  error?: string;
}

describe('Python ftplib.FTP_TLS against the FTP door (PROT P)', () => {
  it('finds python3', () => expect(hasPython).toBe(true));
  const door = useFtpInteropDoor('sg-ftplib-');

  it('stores and retrieves 0 bytes, 1 byte and 200 MB, each followed by more commands on the same session', async () => {
    await door.vfs.mkdir(door.alice.session, 'docs', 'py');
    const sizes = [0, 1, 200 * 1024 * 1024];
    const { stdout } = await run('python3', [script, '127.0.0.1', String(door.ftpPort), door.alice.name, door.alice.password, '/docs/py', door.tmp, sizes.join(',')], {
      maxBuffer: 1 << 20,
      timeout: 120_000,
    });
    const result = JSON.parse(stdout) as { steps: Step[] } & Record<string, string>;
    const byName = new Map(result.steps.map((s) => [s.step, s]));
    // Every step ok: a failure names its step and error here.
    expect(result.steps.filter((s) => !s.ok)).toEqual([]);
    for (const n of sizes) {
      expect(byName.get(`STOR ${n}`)!.value).toMatch(/^226 /);
      expect(byName.get(`SIZE ${n}`)!.value).toBe(n);
      expect(byName.get(`RETR ${n}`)!.value).toEqual({ reply: expect.stringMatching(/^226 /), bytes: n, sha256: result[`sha256 ${n}`] });
      // In step: NOOP gets its own 200, not a transfer's leftover reply.
      expect(byName.get(`NOOP after ${n}`)!.value).toMatch(/^200 /);
      const stat = await door.vfs.stat(door.alice.session, 'docs', `py/f${n}.bin`);
      expect(stat.size).toBe(n);
    }
    expect(byName.get('LIST')!.value).toBe(3);
    expect(byName.get('NLST')!.value).toEqual(['f0.bin', 'f1.bin', 'f209715200.bin']);
    expect(byName.get('MLSD')!.value).toEqual(['.', 'f0.bin', 'f1.bin', 'f209715200.bin']);
    expect(byName.get('PWD')!.value).toBe('/docs/py');
    expect(byName.get('QUIT')!.value).toMatch(/^221/);
  }, 180_000);

  it('moves the same 0-byte and 1-byte files with curl and lftp over protected data connections', async () => {
    await door.vfs.mkdir(door.alice.session, 'docs', 'peers');
    for (const n of [0, 1]) await writeFile(path.join(door.tmp, `p${n}.bin`), Buffer.alloc(n, 0x61));
    const url = (p: string) => `ftp://127.0.0.1:${door.ftpPort}/docs/peers/${p}`;
    const curl = (...args: string[]) => run('curl', ['-sS', '--max-time', '20', '--ssl-reqd', '-k', '-u', `${door.alice.name}:${door.alice.password}`, ...args]);
    for (const n of [0, 1]) {
      await curl('-T', path.join(door.tmp, `p${n}.bin`), url(`curl${n}.bin`));
      await curl('-o', path.join(door.tmp, `curl-back${n}.bin`), url(`curl${n}.bin`));
      expect((await readFile(path.join(door.tmp, `curl-back${n}.bin`))).length).toBe(n);
    }
    // One lftp session: puts, gets and a listing after the empty transfers.
    const { stdout } = await run(
      'lftp',
      [
        '-c',
        [
          'set net:max-retries 1; set net:timeout 15; set cmd:fail-exit true',
          'set ftp:ssl-force true; set ftp:ssl-protect-data true; set ssl:verify-certificate no',
          `open -u ${door.alice.name},${door.alice.password} -p ${door.ftpPort} 127.0.0.1`,
          'cd docs/peers; put p0.bin -o lftp0.bin; put p1.bin -o lftp1.bin',
          'get lftp0.bin -o lftp-back0.bin; get lftp1.bin -o lftp-back1.bin; cls -1',
        ].join('; '),
      ],
      { cwd: door.tmp, timeout: 40_000 },
    );
    expect(stdout.split(/\r?\n/).filter(Boolean).sort()).toEqual(['curl0.bin', 'curl1.bin', 'lftp0.bin', 'lftp1.bin']);
    for (const n of [0, 1]) expect((await readFile(path.join(door.tmp, `lftp-back${n}.bin`))).length).toBe(n);
  }, 60_000);
});
