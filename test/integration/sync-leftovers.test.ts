/**
 * Part and temporary files of downloads that nothing will resume (an older client's names, a file
 * deleted or changed on the gateway since) are removed by a full pass once an hour old; the part
 * file a download of the pass resumes is kept, however old, and so is one written lately (another
 * client process may be downloading into it) and any '.syncgate-' file this client did not make.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { partOf } from '../../src/client/local.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startTestClient, tree, type TestClient } from '../helpers/sync-client.js';

let t: TestGateway | undefined;
let a: TestClient | undefined;
afterEach(async () => {
  await a?.close();
  await t?.close();
  a = undefined;
  t = undefined;
});

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('leftover part files in a client folder', () => {
  it('a full pass removes those no download wants once an hour old, and resumes the one it wants', async () => {
    t = await startTestGateway();
    const dav = t.gw.core.connect(t.alice.session);
    const put = (p: string, b: Buffer | string) => dav.write('docs', p, Readable.from([Buffer.from(b)]));
    const wanted = randomBytes(64 * 1024);
    await put('wanted.bin', wanted);
    await put('changed.txt', 'first content');
    await put('changed.txt', 'second content');
    await put('gone.txt', 'deleted since');
    await dav.delete('docs', 'gone.txt');

    a = await startTestClient(t, 'a');
    const twoHoursAgo = Date.now() / 1000 - 2 * 3600;
    const leave = async (rel: string, content: Buffer | string, old = true) => {
      await mkdir(path.dirname(path.join(a!.dir, rel)), { recursive: true });
      await writeFile(path.join(a!.dir, rel), content);
      if (old) await utimes(path.join(a!.dir, rel), twoHoursAgo, twoHoursAgo);
    };
    const resumed = partOf('wanted.bin', sha(wanted));
    await leave(resumed, wanted.subarray(0, 40 * 1024)); // a download broken two hours ago
    await leave(`.syncgate-dl-${sha(wanted).slice(0, 24)}.part`, wanted.subarray(0, 10)); // an older client's name
    await leave(partOf('changed.txt', sha('first content')), 'first'); // its content changed since
    await leave(partOf('gone.txt', sha('deleted since')), 'deleted'); // deleted since
    await leave('sub/.syncgate-0123456789ab.tmp', 'a delta download cut short');
    const busy = partOf('elsewhere.bin', sha('another process'));
    await leave(busy, 'another process', false); // written just now: someone's download in progress
    await leave('.syncgate-notes.txt', 'not a name this client makes');

    const r = await a.once();
    expect(r.errors).toEqual([]);
    expect(await readFile(path.join(a.dir, 'wanted.bin'))).toEqual(wanted);
    expect(r.bytesDown).toBe(wanted.length - 40 * 1024 + 'second content'.length); // resumed from the part's end
    expect(await tree(a.dir)).toEqual([busy, '.syncgate-notes.txt', 'changed.txt', 'sub/', 'wanted.bin'].sort());
  });
  // What must never go: a user's file or folder that only looks like ours, a symlink named like a part
  // file (nor what it points to), and the wanted part of a file with spaces, accents and brackets in
  // its name, deep down, however old.
  it('leaves look-alike names, folders and symlinks alone, and finds the wanted part of an odd name', async () => {
    t = await startTestGateway();
    const dav = t.gw.core.connect(t.alice.session);
    const odd = 'deep/er/Ünïcode name #1 [x] (2) 100% ok.part.bin';
    const content = randomBytes(64 * 1024);
    await dav.write('docs', odd, Readable.from([content]), { createParents: true });

    a = await startTestClient(t, 'a');
    const twoHoursAgo = Date.now() / 1000 - 2 * 3600;
    const leave = async (rel: string, data: Buffer | string) => {
      await mkdir(path.dirname(path.join(a!.dir, rel)), { recursive: true });
      await writeFile(path.join(a!.dir, rel), data);
      await utimes(path.join(a!.dir, rel), twoHoursAgo, twoHoursAgo);
    };
    const resumed = partOf(odd, sha(content));
    await leave(resumed, content.subarray(0, 24 * 1024));
    const hex24 = sha('x').slice(0, 24);
    const lookAlikes = [
      `.syncgate-dl-${hex24}-x.part`, // not a name hash
      `.syncgate-dl-${hex24.toUpperCase()}-0123abcd.part`, // upper case: not ours
      '.syncgate-0123456789ab.tmp.bak',
      'notes.syncgate-0123456789ab.tmp',
      `.syncgate-dl-${hex24}-0123abcd.part.txt`,
    ];
    for (const n of lookAlikes) await leave(n, 'a user file');
    // A folder named as our temporary file would be, with a file inside; and a symlink named as a part file.
    await leave('.syncgate-0123456789ab.tmp/inside.txt', 'a user file');
    const outside = path.join(os.tmpdir(), `sg-leftover-target-${process.pid}-${Date.now()}`);
    await writeFile(outside, 'not in the synced folder');
    const link = `.syncgate-dl-${hex24}-0123abcd.part`;
    await symlink(outside, path.join(a.dir, link));

    const r = await a.once();
    expect(r.errors).toEqual([]);
    expect(await readFile(path.join(a.dir, odd))).toEqual(content);
    expect(r.bytesDown).toBe(content.length - 24 * 1024); // resumed from the part's end
    for (const n of lookAlikes) expect(await readFile(path.join(a.dir, n), 'utf8')).toBe('a user file');
    expect(await readFile(path.join(a.dir, '.syncgate-0123456789ab.tmp/inside.txt'), 'utf8')).toBe('a user file');
    expect((await lstat(path.join(a.dir, link))).isSymbolicLink()).toBe(true);
    expect(await readFile(outside, 'utf8')).toBe('not in the synced folder');
    await rm(outside);
  });
});
