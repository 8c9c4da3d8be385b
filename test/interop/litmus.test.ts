import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/** litmus 0.13 (Debian), every suite, against the WebDAV door: 0 failures and 0 warnings per suite. */
const SUITES = ['basic', 'copymove', 'props', 'locks', 'http'];

function run(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: 120_000, maxBuffer: 8 << 20 }, (err, stdout, stderr) => resolve(`${stdout}${stderr}${err && !stdout ? String(err) : ''}`));
  });
}

describe('litmus against /dav/docs/', () => {
  let t: TestGateway;
  let cwd: string;
  let output = '';

  beforeAll(async () => {
    t = await startTestGateway();
    cwd = await mkdtemp(path.join(os.tmpdir(), 'syncgate-litmus-'));
    output = await run('litmus', [`${t.url}/dav/docs/`, t.alice.name, t.alice.password], cwd);
  });
  afterAll(async () => {
    await t?.close();
    if (cwd) await rm(cwd, { recursive: true, force: true });
  });

  for (const suite of SUITES) {
    it(`suite ${suite}: every test passes`, () => {
      const m = new RegExp(`summary for \`${suite}': of (\\d+) tests run: (\\d+) passed, (\\d+) failed`).exec(output);
      expect(m, `no summary for ${suite} in:\n${output.slice(-3000)}`).not.toBeNull();
      expect(Number(m![3]), output).toBe(0);
      expect(Number(m![2])).toBe(Number(m![1]));
    });
  }

  it('issues no warning', () => {
    expect(output).not.toMatch(/WARNING/);
  });
});
