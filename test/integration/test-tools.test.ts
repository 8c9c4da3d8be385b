import { spawnSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const script = join(import.meta.dirname, '../../scripts/test-tools.mjs');

function run(args: string[], path?: string) {
  const env = { ...process.env, ...(path === undefined ? {} : { PATH: path }) };
  const started = performance.now();
  const r = spawnSync(process.execPath, [script, ...args], { env, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - started };
}

describe('npm test checks the tools the interop tests drive (scripts/test-tools.mjs)', () => {
  it('passes silently and at once when every tool is there', () => {
    const r = run([]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.ms).toBeLessThan(2_000);
  });

  it('stops with one line naming the missing tools and the command that installs them, when it cannot install', () => {
    // A PATH with node alone: no tool, and no apt-get, so nothing can be installed.
    const bin = mkdtempSync(join(tmpdir(), 'sg-tools-'));
    symlinkSync(process.execPath, join(bin, 'node'));
    const r = run([], bin);
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^test tools missing: litmus lftp rclone /);
    expect(lines[0]).toContain('apt-get update && apt-get install -y --no-install-recommends litmus lftp rclone');
    expect(lines[0]).toContain('diffutils');
    expect(r.ms).toBeLessThan(5_000);
  });

  it('is the one list CI installs from', () => {
    const list = run(['--list']).stdout.trim().split(' ');
    expect(list).toEqual(expect.arrayContaining(['litmus', 'pure-ftpd', 'chromium', 'syncthing', 'diffutils']));
    const ci = readFileSync(join(import.meta.dirname, '../../.ci/run'), 'utf8');
    expect(ci).toContain('scripts/test-tools.mjs --ci');
    expect(ci).not.toMatch(/apt-get install/);
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8'));
    expect(pkg.scripts.pretest).toBe('node scripts/test-tools.mjs');
  });
});
