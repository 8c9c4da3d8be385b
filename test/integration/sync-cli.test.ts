/**
 * The companion client as a user runs it: separate processes (`syncgate client ...`), each with its
 * own state folder, against a real gateway; `sync --watch` in real time, a WebDAV edit reaching both.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/syncgate.js');

let t: TestGateway;
let tmp: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  t = await startTestGateway();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'sg-cli-'));
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null) {
      c.kill('SIGTERM');
      await new Promise((r) => c.once('exit', r));
    }
  }
  await t?.close();
  await rm(tmp, { recursive: true, force: true });
});

function client(name: string) {
  const env = { ...process.env, SYNCGATE_CLIENT_HOME: path.join(tmp, `${name}-home`), SYNCGATE_PASSWORD: 'alice-password' };
  const dir = path.join(tmp, name);
  return {
    dir,
    home: env.SYNCGATE_CLIENT_HOME,
    cli: async (...args: string[]) => {
      try {
        const r = await run(process.execPath, [BIN, 'client', ...args], { env, timeout: 60_000 });
        return { code: 0, out: r.stdout, err: r.stderr };
      } catch (e) {
        const x = e as { code: number; stdout: string; stderr: string };
        return { code: x.code, out: x.stdout, err: x.stderr };
      }
    },
    watch: () => {
      const c = spawn(process.execPath, [BIN, 'client', 'sync', '--watch'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(c);
      let out = '';
      c.stdout!.on('data', (d) => (out += String(d)));
      c.stderr!.on('data', (d) => (out += String(d)));
      return { proc: c, ready: () => expect.poll(() => out, { timeout: 30_000 }).toMatch(/watching 1 folder/), output: () => out };
    },
  };
}

const eventually = (fn: () => Promise<unknown>, timeout = 15_000) => expect.poll(fn, { timeout, interval: 50 });
const content = (p: string) => readFile(p, 'utf8').catch(() => null);

describe('syncgate client (separate processes)', () => {
  it('login, link, sync once, status; then two watchers propagate edits both ways and a WebDAV write reaches both', async () => {
    const a = client('a');
    const b = client('b');
    const login = await a.cli('login', t.url, '--user', 'alice', '--name', 'laptop');
    expect(login.err).toBe('');
    expect(login.out).toMatch(/logged in .* as alice, device "laptop"/);
    expect((await stat(path.join(a.home, 'credentials.json'))).mode & 0o777).toBe(0o600);
    expect((await a.cli('link', a.dir, 'docs')).code).toBe(0);
    await writeFile(path.join(a.dir, 'hello.txt'), 'hello from a');
    const once = await a.cli('sync');
    expect(once.out).toMatch(/1 up/);
    expect((await a.cli('status')).out).toMatch(/up to date/);

    const { code } = t.gw.core.devices.pair(t.alice.session.user.id);
    expect((await b.cli('login', t.url, '--code', code, '--name', 'desktop')).code).toBe(0);
    expect((await b.cli('link', b.dir, 'docs')).code).toBe(0);
    const wa = a.watch();
    const wb = b.watch();
    await wa.ready();
    await wb.ready();
    expect(await content(path.join(b.dir, 'hello.txt'))).toBe('hello from a');

    await writeFile(path.join(a.dir, 'live.txt'), 'typed on a');
    await eventually(() => content(path.join(b.dir, 'live.txt'))).toBe('typed on a');
    await writeFile(path.join(b.dir, 'live.txt'), 'answered on b');
    await eventually(() => content(path.join(a.dir, 'live.txt'))).toBe('answered on b');

    const dav = await fetch(`${t.url}/dav/docs/from-dav.txt`, { method: 'PUT', body: 'via webdav', headers: { authorization: `Basic ${Buffer.from('alice:alice-password').toString('base64')}` } });
    expect(dav.status).toBeLessThan(300);
    await eventually(() => content(path.join(a.dir, 'from-dav.txt'))).toBe('via webdav');
    await eventually(() => content(path.join(b.dir, 'from-dav.txt'))).toBe('via webdav');
    await rm(path.join(b.dir, 'hello.txt'));
    await eventually(() => content(path.join(a.dir, 'hello.txt'))).toBeNull();
    expect(wa.output()).not.toMatch(/not synced|failed/);
  }, 120_000);

  it('clear errors: wrong URL, bad password, unreachable gateway, not logged in', async () => {
    const c = client('c');
    expect((await c.cli('sync')).err).toMatch(/not logged in/);
    const bad = await c.cli('login', t.url, '--user', 'alice', '--password', 'wrong-password');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/wrong user name or password/);
    const notOurs = await c.cli('login', `${t.url}/nothing-here`, '--user', 'alice');
    expect(notOurs.err).toMatch(/is it a syncgate gateway|no such sync route/);
    const down = await c.cli('login', 'http://127.0.0.1:1', '--user', 'alice');
    expect(down.code).toBe(3);
    expect(down.err).toMatch(/unreachable/);
  }, 60_000);
});
