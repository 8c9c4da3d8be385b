/**
 * A long sync shows how far it is. Seen following the README: the first `client sync` of 20,000
 * small files (and three of 200 MiB) showed the three bars, then nothing for the rest of the minute
 * it took, as no small file is big enough for a bar of its own. Now a status line counts the whole
 * sync's files and bytes as they go (as rclone -P and Syncthing's completion do), and goes at the end.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LinkSync } from '../../src/client/engine.js';
import { terminalProgress, type Progress } from '../../src/client/progress.js';
import type { TestGateway } from '../helpers/gateway.js';
import { twoClients, type TestClient } from '../helpers/sync-client.js';

let t: TestGateway;
let a: TestClient;
let b: TestClient;

twoClients((s) => ({ t, a, b } = s));

describe('the status line of a sync', () => {
  it('counts files as they go, both ways, and ends', async () => {
    await mkdir(path.join(a.dir, 'notes'));
    for (let i = 0; i < 12; i += 1) await writeFile(path.join(a.dir, 'notes', `n${i}.txt`), `note ${i}`);
    const lines: (string | null)[] = [];
    const progress: Progress = { start: () => undefined, stop() {}, status: (text) => lines.push(text) };
    const sync = (c: TestClient) => new LinkSync(c.api, c.state, c.state.links()[0]!, c.deviceId, { progress, concurrency: 2 }).syncOnce();
    const up = await sync(a);
    expect(up.uploaded).toBe(13);
    expect(lines.at(-1)).toBeNull();
    const shown = lines.filter((l): l is string => l !== null);
    expect(shown.length).toBeGreaterThanOrEqual(13);
    expect(shown.some((l) => l.startsWith(`${a.dir}: 5 up, 0 down, 0 deleted, 0 moved (`))).toBe(true);
    expect(shown.at(-1)).toMatch(/: 13 up, 0 down, 0 deleted, 0 moved \(0\.0 MiB sent, 0\.0 MiB received\)$/);

    lines.length = 0;
    await sync(b);
    expect(lines.filter((l) => l?.includes(': 0 up, 12 down,')).length).toBeGreaterThan(0);
    expect(lines.at(-1)).toBeNull();
    expect(t.url).toBeTruthy();
  });

  it('is drawn on a terminal with the transfer bars, and taken away at the end', async () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true, columns: 100 }) as unknown as NodeJS.WriteStream;
    let out = '';
    (tty as unknown as PassThrough).on('data', (d) => (out += String(d)));
    const progress = terminalProgress(tty)!;
    progress.status!('/home/me/work: 7 up, 0 down');
    progress.status!('/home/me/work: 8 up, 0 down');
    await expect.poll(() => out, { timeout: 5000, interval: 20 }).toContain('/home/me/work: 8 up, 0 down');
    progress.status!(null);
    // Gone from the screen: the last drawing clears below the cursor and gives the cursor back.
    expect(out.slice(out.lastIndexOf('8 up, 0 down'))).toMatch(/\u001b\[0J.*\u001b\[\?25h/s);
  });
});

describe('a sync stopped while its bars are drawn', () => {
  it('gives the terminal its cursor and line wrap back (end)', async () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true, columns: 100 }) as unknown as NodeJS.WriteStream;
    let out = '';
    (tty as unknown as PassThrough).on('data', (d) => (out += String(d)));
    const progress = terminalProgress(tty)!;
    progress.status!('/home/me/work: 7 up, 0 down');
    progress.lane!().start('↑ big.bin', 64 << 20)!.add(1 << 20);
    expect(out).toContain('\u001b[?25l'); // hidden while drawing
    progress.end!();
    expect(out.slice(out.lastIndexOf('\u001b[?25l'))).toContain('\u001b[?25h');
    expect(out.slice(out.lastIndexOf('\u001b[?7l'))).toContain('\u001b[?7h');
  });
});
