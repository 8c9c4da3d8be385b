import { chmod, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/app/gateway.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

/** Issue 22 item 13: syncgate.db holds the password hashes; nobody but its owner reads the data folder. */
const mode = async (p: string) => (await stat(p)).mode & 0o777;

describe('the data folder is its owner\'s only', () => {
  let t: TestGateway | undefined;
  let again: Awaited<ReturnType<typeof startGateway>> | undefined;
  afterEach(async () => {
    await again?.close();
    await t?.close();
    again = undefined;
    t = undefined;
  });

  it('makes the folder 0700 and syncgate.db with its -wal and -shm 0600, and tightens an older install', async () => {
    t = await startTestGateway();
    const db = path.join(t.dir, 'syncgate.db');
    await t.gw.core.vfs.write(t.alice.session, 'docs', 'a.txt', (await import('node:stream')).Readable.from([Buffer.from('x')]));
    expect(await mode(t.dir)).toBe(0o700);
    const files = (await readdir(t.dir)).filter((f) => f.startsWith('syncgate.db'));
    expect(files).toEqual(expect.arrayContaining(['syncgate.db', 'syncgate.db-wal', 'syncgate.db-shm']));
    for (const f of files) expect([f, await mode(path.join(t.dir, f))]).toEqual([f, 0o600]);

    // A data folder left by an older version: 0755 and a 0644 database.
    const config = t.gw.config;
    await t.gw.close();
    await chmod(t.dir, 0o755);
    for (const f of files) await chmod(path.join(t.dir, f), 0o644).catch(() => undefined);
    again = await startGateway(config, { log: pino({ level: 'silent' }) });
    expect(await mode(t.dir)).toBe(0o700);
    expect(await mode(db)).toBe(0o600);
    for (const f of (await readdir(t.dir)).filter((x) => x.startsWith('syncgate.db'))) expect([f, await mode(path.join(t.dir, f))]).toEqual([f, 0o600]);
  });

  it('a database made by an admin command before the first start is 0600 too', async () => {
    t = await startTestGateway();
    const extra = path.join(t.dir, 'other.db');
    await writeFile(path.join(t.dir, 'placeholder'), '');
    const { openDb, closeDb } = await import('../../src/db/index.js');
    const db = openDb(extra);
    closeDb(db);
    expect(await mode(extra)).toBe(0o600);
  });
});
