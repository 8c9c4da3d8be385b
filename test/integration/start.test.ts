import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Starts `tsx src/main.ts` like `npm start` does and waits for its "running" line. */
function start(env: Record<string, string>): Promise<{ child: ChildProcess; out: () => string; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start line:\n${out}`)), 30_000);
    child.stdout!.on('data', () => {
      const m = /syncgate is running: (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, out: () => out, url: m[1]! });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code}:\n${out}`));
    });
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal as unknown as number)));
    child.kill('SIGINT');
  });
}

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('npm start', () => {
  it('starts with the embedded default, prints the admin password once, stops cleanly on SIGINT', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sg-start-'));
    dirs.push(dir);
    const env = { SYNCGATE_DATA__DIR: dir, SYNCGATE_HTTP__PORT: '0', SYNCGATE_FTP__PORT: '0', SYNCGATE_WATCHER__ENABLED: 'false', SYNCGATE_MDNS__ENABLED: 'false' };
    const first = await start(env);
    expect(first.out()).toMatch(/created user "admin" with password/);
    const password = /with password\s+(\S+)/.exec(first.out())![1]!;
    expect(password.length).toBeGreaterThanOrEqual(20);
    expect((await fetch(`${first.url}/health`)).status).toBe(200);
    expect(await stop(first.child)).toBe(0);

    const second = await start(env);
    expect(second.out()).not.toMatch(/created user "admin"/);
    expect(await stop(second.child)).toBe(0);
  });

  it('refuses a bad configuration with every problem listed and a non-zero exit', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, SYNCGATE_HTTP__PORT: 'x', SYNCGATE_LOG__LEVEL: 'loud' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(2);
    expect(err).toMatch(/SYNCGATE_HTTP__PORT/);
    expect(err).toMatch(/log\.level/);
  });

  it('runs our TypeScript as written: tsx, patched at install, does not wrap each function in __name', async () => {
    // esbuild's keepNames (tsx turns it on) calls Object.defineProperty on every closure as it is
    // made; with it, 8 parallel small PUTs did 5-15% fewer per second (patches/tsx+*.patch).
    const dir = await mkdtemp(path.join(os.tmpdir(), 'syncgate-tsx-'));
    try {
      const probe = path.join(dir, 'probe.ts');
      await writeFile(probe, 'export function outer(): () => number {\n  const inner = (): number => 1;\n  return inner;\n}\nconsole.log(outer.toString());\n');
      const printed = execFileSync(process.execPath, ['--import', 'tsx', probe], { cwd: ROOT, encoding: 'utf8' });
      expect(printed).toContain('const inner');
      expect(printed).not.toContain('__name');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
