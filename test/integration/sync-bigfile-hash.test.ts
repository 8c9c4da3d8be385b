/**
 * A new big file (at least RESUMABLE_MIN_SIZE) is not hashed by the scan: its resumable upload
 * hashes it as it reads it and names the SHA-256 at the finish, where the gateway checks it. What
 * needs the hash sooner reads it then (a rename, the same path new on the gateway), and a file that
 * changes while it goes up is not recorded.
 */
import { appendFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/client/api.js';
import { statEntry } from '../../src/client/local.js';
import { ChangedWhileSent, sendFile } from '../../src/client/send.js';
import { RESUMABLE_MIN_SIZE } from '../../src/sync-wire/index.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startTestClient, type TestClient } from '../helpers/sync-client.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const BIG = RESUMABLE_MIN_SIZE + 3 * 65536 + 17;

let t: TestGateway;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await t?.close();
});

async function client(name: string): Promise<TestClient> {
  const c = await startTestClient(t, name);
  clients.push(c);
  return c;
}

describe('a new big file hashed as it is sent', () => {
  it('goes up with its SHA-256 named at the finish: the state row has it, and another device receives it', async () => {
    t = await startTestGateway();
    const a = await client('a');
    const b = await client('b');
    const data = randomBytes(BIG);
    await writeFile(path.join(a.dir, 'big.bin'), data);
    const up = await a.once();
    expect(up.uploaded).toBe(1);
    expect(up.errors).toEqual([]);
    expect(a.state.file(a.sync.link.id, 'big.bin')?.sha256).toBe(sha(data));
    expect((await b.once()).downloaded).toBe(1);
    expect(sha(await readFile(path.join(b.dir, 'big.bin')))).toBe(sha(data));
  });

  it('the gateway refuses a finish whose SHA-256 is not the content\'s, or not the one announced at creation, and records nothing', async () => {
    t = await startTestGateway();
    const a = await client('a');
    const data = randomBytes(100_000);
    const unnamed = await a.api.createUpload('docs', { path: 'x.bin', mtimeMs: Date.now(), length: data.length });
    await a.api.appendUpload('docs', unnamed.id, 0, async (out) => void out.write(data), data.length);
    await expect(a.api.finishUpload('docs', unnamed.id, sha(randomBytes(8)))).rejects.toMatchObject({ code: 'HASH_MISMATCH' });
    const named = await a.api.createUpload('docs', { path: 'y.bin', sha256: sha(data), mtimeMs: Date.now(), length: data.length });
    await a.api.appendUpload('docs', named.id, 0, async (out) => void out.write(data), data.length);
    await expect(a.api.finishUpload('docs', named.id, sha(randomBytes(8)))).rejects.toMatchObject({ code: 'HASH_MISMATCH' });
    for (const p of ['x.bin', 'y.bin']) await expect(a.api.download('docs', p)).rejects.toBeInstanceOf(ApiError);
  });

  it('a file that grows while it goes up is not recorded; the next pass sends it as it is then', async () => {
    t = await startTestGateway();
    const a = await client('a');
    const file = path.join(a.dir, 'growing.bin');
    await writeFile(file, randomBytes(BIG));
    const seen = (await statEntry(a.dir, 'growing.bin'))!;
    let grown = false;
    const progress = {
      start: () => ({
        add: () => {
          if (!grown) appendFileSync(file, randomBytes(4096));
          grown = true;
        },
      }),
      stop: () => {},
    };
    await expect(sendFile(a.api, 'docs', a.dir, seen, '', 0, { progress, resume: { state: a.state, linkId: a.sync.link.id } })).rejects.toBeInstanceOf(ChangedWhileSent);
    await expect(a.api.download('docs', 'growing.bin')).rejects.toBeInstanceOf(ApiError);
    const pass = await a.once();
    expect(pass.uploaded).toBe(1);
    expect(a.state.file(a.sync.link.id, 'growing.bin')?.sha256).toBe(sha(await readFile(file)));
  });

  it('a renamed big file still goes as a move, and the same new file on both sides is not sent', async () => {
    t = await startTestGateway();
    const a = await client('a');
    const b = await client('b');
    const data = randomBytes(BIG);
    await writeFile(path.join(a.dir, 'one.bin'), data);
    await a.once();
    await rename(path.join(a.dir, 'one.bin'), path.join(a.dir, 'two.bin'));
    const moved = await a.once();
    expect(moved).toMatchObject({ moved: 1, uploaded: 0, bytesUp: 0 });
    expect(a.state.file(a.sync.link.id, 'two.bin')?.sha256).toBe(sha(data));

    await writeFile(path.join(b.dir, 'two.bin'), data);
    const same = await b.once();
    expect(same).toMatchObject({ uploaded: 0, downloaded: 0, bytesUp: 0, errors: [] });
    expect(b.state.file(b.sync.link.id, 'two.bin')?.sha256).toBe(sha(data));
  });
});
