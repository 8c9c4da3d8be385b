/**
 * What `syncgate client sync` prints about a name is readable on a terminal whatever the name holds.
 * Seen following the README: a file named `car\rret.txt` (valid on Linux, refused by the gateway)
 * was reported as `not synced: edge/carret.txt: ...` (the carriage return drew over the line's
 * start), and one named with a line break split its report over two lines; neither said what to do.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { saveCredentials } from '../../src/client/home.js';
import type { TestGateway } from '../helpers/gateway.js';
import { twoClients, type TestClient } from '../helpers/sync-client.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/syncgate.js');
let t: TestGateway;
let a: TestClient;

twoClients((s) => ({ t, a } = s));

describe('names in what the CLI prints', () => {
  it('control characters are shown escaped, one line per name, with what to do', async () => {
    await writeFile(path.join(a.dir, 'car\rret.txt'), 'cr');
    await writeFile(path.join(a.dir, 'new\nline.txt'), 'lf');
    await saveCredentials(a.home, { url: t.url, token: a.token, user: 'alice', device: { id: a.deviceId, uuid: 'u', name: 'laptop' } });
    const r = await run(process.execPath, [BIN, 'client', 'sync'], { env: { ...process.env, SYNCGATE_CLIENT_HOME: a.home }, timeout: 60_000 }).then(
      () => null,
      (e: { code: number; stdout: string }) => e,
    );
    expect(r?.code).toBe(1);
    const lines = r!.stdout.split('\n').filter((l) => l.includes('not synced'));
    expect(lines.sort()).toEqual(['  not synced: car\\rret.txt: invalid path: path contains a control character: the gateway takes no such name; rename it here, or name it in .syncgateignore', '  not synced: new\\nline.txt: invalid path: path contains a control character: the gateway takes no such name; rename it here, or name it in .syncgateignore']);
    expect(r!.stdout).not.toMatch(/\r/);
  });
});
