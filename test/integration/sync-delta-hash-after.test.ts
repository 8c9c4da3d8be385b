/**
 * A big file whose size changed since its version is not hashed by the scan: the read that makes
 * its delta hashes it, and the hash goes after the delta (/patch?trailer=sha256). One of the same
 * size is hashed by the scan first: only touched (same bytes, new mtime), it sends nothing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadIgnore } from '../../src/client/local.js';
import { HASHED_BY_DELTA, LocalDiff } from '../../src/client/local-diff.js';
import { Selection } from '../../src/client/selection.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startTestClient, type TestClient } from '../helpers/sync-client.js';

let t: TestGateway;
let a: TestClient | undefined;
afterEach(async () => {
  await a?.close();
  await t?.close();
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function changesOf(c: TestClient) {
  const diff = new LocalDiff(c.dir, c.sync.link.id, c.state, await loadIgnore(c.dir), new Selection());
  await diff.tree('');
  return [...diff.changes.values()];
}

describe('a big edited file hashed by its delta', () => {
  it('the scan leaves it unhashed; the upload names the hash after the delta; a touch makes no version', async () => {
    t = await startTestGateway();
    a = await startTestClient(t, 'a');
    const file = path.join(a.dir, 'big.bin');
    let content = randomBytes(HASHED_BY_DELTA + 12_345);
    await writeFile(file, content);
    expect(await a.once()).toMatchObject({ uploaded: 1, errors: [] });
    const v1 = a.state.file(a.sync.link.id, 'big.bin')!;

    // Grown by 4 KiB at the end: surely an edit, left unhashed by the scan.
    const patchBytes = randomBytes(4096);
    content = Buffer.concat([content, patchBytes]);
    const fh = await open(file, 'r+');
    await fh.write(patchBytes, 0, patchBytes.length, content.length - patchBytes.length);
    await fh.close();
    await utimes(file, new Date(), new Date(Date.now() + 5000));
    expect(await changesOf(a)).toMatchObject([{ kind: 'modified', sha256: '' }]);
    const edit = await a.once();
    expect(edit).toMatchObject({ uploaded: 1, errors: [] });
    expect(edit.bytesUp).toBeLessThan(200_000); // a delta, not the file
    const v2 = a.state.file(a.sync.link.id, 'big.bin')!;
    expect(v2.sha256).toBe(sha(content));
    expect(v2.version).toBe(v1.version + 1);
    const head = await a.api.download('docs', 'big.bin');
    expect(head.entry.sha256).toBe(sha(content));
    (head.body as unknown as { destroy(): void }).destroy();

    await utimes(file, new Date(), new Date(Date.now() + 10_000)); // touched: same bytes
    expect(await changesOf(a)).toEqual([]); // hashed by the scan, found unchanged
    expect(await a.once()).toMatchObject({ errors: [], bytesUp: 0 });
    const v3 = a.state.file(a.sync.link.id, 'big.bin')!;
    expect(v3).toMatchObject({ version: v2.version, sha256: sha(content) });
    expect(await changesOf(a)).toEqual([]); // the new fingerprint is the state's now
  });
});
