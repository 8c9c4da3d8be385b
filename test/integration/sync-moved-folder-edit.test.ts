/**
 * A file edited on one client inside a folder it renamed, and edited on the other at its old path:
 * the same outcome as a plain concurrent edit of one file, whichever client syncs first. The edit
 * that reached the gateway first is the head, the other is a conflict copy named after its device,
 * and the client whose edit became the copy says so in its report.
 */
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TestGateway } from '../helpers/gateway.js';
import { twoClients, type TestClient } from '../helpers/sync-client.js';

let t: TestGateway;
let a: TestClient;
let b: TestClient;

twoClients((s) => ({ t, a, b } = s));

const read = (c: TestClient, p: string) => readFile(path.join(c.dir, p), 'utf8');

/** proj/readme.md synced on both; then a renames proj and edits the file there, b edits it at proj. */
async function bothEdit(): Promise<void> {
  await mkdir(path.join(a.dir, 'proj'));
  await writeFile(path.join(a.dir, 'proj', 'readme.md'), 'v1');
  await a.once();
  await b.once();
  await rename(path.join(a.dir, 'proj'), path.join(a.dir, 'moved'));
  await writeFile(path.join(a.dir, 'moved', 'readme.md'), 'edited on laptop after the rename');
  await writeFile(path.join(b.dir, 'proj', 'readme.md'), 'edited on desktop at the old path');
}

/** What each client and the gateway hold in the moved folder, once both synced twice. */
async function settled(): Promise<{ head: string; copies: Record<string, string> }> {
  await a.once();
  await b.once();
  const names = await readdir(path.join(a.dir, 'moved'));
  const copies: Record<string, string> = {};
  for (const n of names.filter((n) => n !== 'readme.md')) copies[n.replace(/ \(conflict .* from /, ' (conflict from ')] = await read(a, `moved/${n}`);
  for (const c of [a, b]) expect((await readdir(path.join(c.dir, 'moved'))).sort()).toEqual(names.sort());
  const head = await read(a, 'moved/readme.md');
  expect(await read(b, 'moved/readme.md')).toBe(head);
  const gw = await t.gw.core.vfs.read(t.alice.session, 'docs', 'moved/readme.md');
  gw.close();
  return { head, copies };
}

describe('an edit inside a folder renamed elsewhere meets an edit at the old path', () => {
  it('the renaming client first: its edit is the head, the other is the copy from desktop, and desktop reports it', async () => {
    await bothEdit();
    const ra = await a.once();
    expect({ conflicts: ra.conflicts, errors: ra.errors }).toEqual({ conflicts: [], errors: [] });
    const rb = await b.once();
    expect(rb.errors).toEqual([]);
    expect(rb.conflicts).toEqual([expect.stringMatching(/^moved\/readme \(conflict .* from desktop\)\.md$/)]);
    expect(await settled()).toEqual({ head: 'edited on laptop after the rename', copies: { 'readme (conflict from desktop).md': 'edited on desktop at the old path' } });
  });

  it('the editing client first: its edit is the head, the other is the copy from laptop, and laptop reports it', async () => {
    await bothEdit();
    const rb = await b.once();
    expect({ conflicts: rb.conflicts, errors: rb.errors }).toEqual({ conflicts: [], errors: [] });
    const ra = await a.once();
    expect(ra.errors).toEqual([]);
    expect(ra.conflicts).toEqual([expect.stringMatching(/^moved\/readme \(conflict .* from laptop\)\.md$/)]);
    expect(await settled()).toEqual({ head: 'edited on desktop at the old path', copies: { 'readme (conflict from laptop).md': 'edited on laptop after the rename' } });
  });
});
