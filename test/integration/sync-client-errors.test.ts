/**
 * The client's errors and courtesies with a real gateway: a revoked device is told to log in again
 * (CLI, separate process); an unreachable gateway keeps local edits and retries with backoff until
 * it is back (a TCP relay the test cuts and restores on the same port); conflicts are shown as
 * desktop notifications only when asked, and a failing notifier never fails the sync.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Api } from '../../src/client/api.js';
import { LinkSync } from '../../src/client/engine.js';
import { chosenNotifier, type Notifier } from '../../src/client/notify.js';
import { watchLinks, type Watching } from '../../src/client/watch.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startTestClient, type TestClient } from '../helpers/sync-client.js';
import { tcpRelay, type TcpRelay } from '../helpers/tcp-relay.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/syncgate.js');
let t: TestGateway;
let tmp: string;
const stops: (() => Promise<void>)[] = [];

beforeEach(async () => {
  t = await startTestGateway();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'sg-client-errors-'));
});
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
  await t?.close();
  await rm(tmp, { recursive: true, force: true });
});

/** A relay to the gateway (see tcpRelay), closed when the test ends. */
async function relay(target: URL): Promise<TcpRelay> {
  const r = await tcpRelay(target);
  stops.push(() => r.close());
  return r;
}

describe('client errors', () => {
  it('a revoked device is told to log in again', async () => {
    const env = { ...process.env, SYNCGATE_CLIENT_HOME: path.join(tmp, 'home'), SYNCGATE_PASSWORD: 'alice-password' };
    const cli = async (...args: string[]) => run(process.execPath, [BIN, 'client', ...args], { env, timeout: 60_000 }).then((r) => ({ code: 0, err: r.stderr }), (e: { code: number; stderr: string }) => ({ code: e.code, err: e.stderr }));
    expect((await cli('login', t.url, '--user', 'alice', '--name', 'old-laptop')).code).toBe(0);
    expect((await cli('link', path.join(tmp, 'dir'), 'docs')).code).toBe(0);
    const device = t.gw.core.devices.list(t.alice.session.user.id).find((d) => d.name === 'old-laptop')!;
    t.gw.core.connect(t.alice.session).revokeDevice(device.id);
    const r = await cli('sync');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/refused \(revoked\?\): run `syncgate client login URL` again/);
  }, 60_000);

  it('an unreachable gateway keeps local edits and retries with backoff until it is back', async () => {
    const a = await startTestClient(t, 'laptop');
    stops.push(() => a.close());
    const link = await relay(new URL(t.url));
    const said: string[] = [];
    const sync = new LinkSync(new Api(link.url, a.token), a.state, a.sync.link, a.deviceId);
    const w: Watching = watchLinks([sync], { url: link.url, token: a.token, say: (l) => said.push(l), pollMs: 200 });
    stops.push(() => w.stop());
    await w.ready;
    await link.cut();
    await writeFile(path.join(a.dir, 'offline.txt'), 'written while the gateway was away');
    await expect.poll(() => said.join('\n'), { timeout: 15_000 }).toMatch(/unreachable.*local edits are kept, retrying in \d+s/);
    await link.restore();
    await expect.poll(async () => (await t.gw.core.vfs.stat(t.alice.session, 'docs', 'offline.txt').catch(() => null))?.size, { timeout: 30_000, interval: 100 }).toBe(34);
  }, 60_000);
});

describe('conflict notifications', () => {
  let a: TestClient;
  let b: TestClient;
  beforeEach(async () => {
    a = await startTestClient(t, 'laptop');
    b = await startTestClient(t, 'desktop');
    stops.push(() => a.close(), () => b.close());
  });

  /** Both edit plan.txt; b's goes up first; a's watcher starts and meets the conflict. */
  async function conflictWhileWatching(notifier: Notifier | undefined) {
    await writeFile(path.join(a.dir, 'plan.txt'), 'v1');
    await a.once();
    await b.once();
    await writeFile(path.join(b.dir, 'plan.txt'), 'edited on desktop');
    await b.once();
    await writeFile(path.join(a.dir, 'plan.txt'), 'edited on laptop, longer');
    const said: string[] = [];
    const w = watchLinks([a.sync], { url: t.url, token: a.token, say: (l) => said.push(l), notifier });
    stops.push(() => w.stop());
    await w.ready;
    return said;
  }

  it('calls the notifier for a conflict when one is given', async () => {
    const calls: string[][] = [];
    const said = await conflictWhileWatching({ notify: (title, message) => void calls.push([title, message]) });
    expect(said.join('\n')).toMatch(/conflict in .*: plan\.txt: edited on two sides: both kept, the other version is plan \(conflict/);
    expect(calls).toHaveLength(1);
    expect(calls[0]![1]).toMatch(/^plan\.txt: edited on two sides: both kept, the other version is plan \(conflict .*\)\.txt$/);
  });

  it('a notifier that fails never fails the sync', async () => {
    const said = await conflictWhileWatching({ notify: () => { throw new Error('no desktop'); } });
    expect(said.join('\n')).toMatch(/conflict in /);
    expect(said.join('\n')).not.toMatch(/failed|not synced/);
  });

  it('is off by default: only --notify or SYNCGATE_CLIENT_NOTIFY turn it on', () => {
    expect(chosenNotifier(undefined, {})).toBeUndefined();
    expect(chosenNotifier(false, { SYNCGATE_CLIENT_NOTIFY: '0' })).toBeUndefined();
    expect(chosenNotifier(true, {})).toBeDefined();
    expect(chosenNotifier(undefined, { SYNCGATE_CLIENT_NOTIFY: '1' })).toBeDefined();
  });
});

describe('syncgate client conflicts: the text per kind', () => {
  it('an edit-edit conflict names its copy; a delete that met an edit names none', async () => {
    const { conflictLine } = await import('../../src/client/conflict-text.js');
    const a = await startTestClient(t, 'laptop');
    const b = await startTestClient(t, 'desktop');
    stops.push(() => a.close(), () => b.close());
    for (const f of ['both.txt', 'gone.txt', 'back.txt']) await writeFile(path.join(a.dir, f), 'v1');
    await a.once();
    await b.once();
    const base = a.state.file(a.sync.link.id, 'gone.txt')!.version;
    // Both edit both.txt; b edits gone.txt while a deletes it.
    await writeFile(path.join(b.dir, 'both.txt'), 'desktop');
    await writeFile(path.join(b.dir, 'gone.txt'), 'desktop kept editing');
    await b.once();
    const { rm: remove } = await import('node:fs/promises');
    await remove(path.join(b.dir, 'back.txt'));
    await b.once();
    await writeFile(path.join(a.dir, 'both.txt'), 'laptop');
    await writeFile(path.join(a.dir, 'back.txt'), 'laptop edited it');
    const pass = await a.once();
    expect(pass.conflictNotes).toContain('back.txt: edited on one side after it was deleted elsewhere: the edit brought it back, no copy made (keep-theirs deletes it)');
    expect(pass.errors).toEqual([]);
    // A delete sent with the base a had (as a watch pass does before it hears of b's edit).
    expect((await a.api.remove('docs', 'gone.txt', base)).deleted).toBe(false);
    const lines = (await a.api.conflicts('docs')).conflicts.map((c) => conflictLine('docs', c));
    const both = lines.find((l) => l.includes('docs/both.txt ('))!;
    const gone = lines.find((l) => l.includes('docs/gone.txt ('))!;
    expect(both).toMatch(/edited on two sides: both kept, the other version is both \(conflict .*\)\.txt/);
    expect(gone).toMatch(/deleted on one side after an edit it had not seen: not deleted, no copy made/);
    expect(gone).not.toMatch(/other version is/);
    expect(lines.find((l) => l.includes('docs/back.txt ('))).toMatch(/the edit brought it back/);
    expect((await t.gw.core.vfs.stat(t.alice.session, 'docs', 'back.txt')).size).toBe(16);
  });
});
