import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { main } from './main.js';

// `syncgate root policy`: the operator sets a root's conflict policy through the core's connection.
let dir: string;
let printed: string[];
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'syncgate-cli-'));
  vi.stubEnv('SYNCGATE_DATA__DIR', dir);
  printed = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => (printed.push(String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => (printed.push(String(s)), true));
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await rm(dir, { recursive: true, force: true });
});

it('sets, shows and refuses a conflict policy', async () => {
  expect(await main(['root', 'add', 'docs', '--dir', path.join(dir, 'docs')])).toBe(0);
  expect(await main(['root', 'policy', 'docs', 'server-wins'])).toBe(0);
  expect(printed.join('')).toContain('root docs: conflict policy server-wins');
  expect(await main(['root', 'policy', 'docs', 'mine-wins'])).toBe(1);
  expect(printed.join('')).toContain('not a conflict policy');
  expect(await main(['root', 'policy', 'nope', 'keep-both'])).toBe(1);
  printed = [];
  expect(await main(['root', 'list'])).toBe(0);
  expect(printed.join('')).toMatch(/^docs\t.*\tconflicts: server-wins\n$/);
});
