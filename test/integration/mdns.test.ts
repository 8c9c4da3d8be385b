/**
 * mDNS discovery as a user meets it: real gateway processes advertise `_syncgate._tcp`, and
 * `syncgate client discover` / `client login NAME` find them. Everything runs inside network
 * namespaces this file makes (`ip netns add`, loopback only), never on the host's network.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/syncgate.js');
const namespaces: string[] = [];
const children: ChildProcess[] = [];
const dirs: string[] = [];

/** A fresh network namespace with only `lo`, up and able to carry multicast. */
async function netns(): Promise<string> {
  const name = `sg-mdns-${process.pid}-${randomBytes(3).toString('hex')}`;
  await run('ip', ['netns', 'add', name]);
  namespaces.push(name);
  const sh = 'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo';
  await run('ip', ['netns', 'exec', name, 'sh', '-c', sh]);
  return name;
}

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const n of namespaces) await run('ip', ['netns', 'del', n]).catch(() => {});
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** The real gateway (`npm start`'s entry) inside the namespace; resolves with its URL once it runs. */
async function gateway(ns: string, env: Record<string, string>): Promise<{ child: ChildProcess; url: string; out: () => string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sg-mdns-'));
  dirs.push(dir);
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      SYNCGATE_DATA__DIR: dir,
      SYNCGATE_HTTP__PORT: '0',
      SYNCGATE_FTP__ENABLED: 'false',
      SYNCGATE_WATCHER__ENABLED: 'false',
      SYNCGATE_ADMIN__PASSWORD: 'admin-password',
      SYNCGATE_SECURITY__KDF_MEMORY_KI_B: '64',
      SYNCGATE_SECURITY__KDF_ITERATIONS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', () => {
      const m = /syncgate is running: (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`gateway exited ${code}:\n${out}`)));
  });
  return { child, url, out: () => out };
}

/** `syncgate client ARGS` inside the namespace; resolves with its exit code and output. */
async function client(ns: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'sg-mdns-home-'));
  dirs.push(home);
  const r = await run('ip', ['netns', 'exec', ns, process.execPath, BIN, 'client', ...args], { env: { ...process.env, SYNCGATE_CLIENT_HOME: home, ...env } }).then(
    (x) => ({ code: 0, ...x }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
  return r;
}

function stop(child: ChildProcess): Promise<{ code: number | null; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve({ code, ms: Date.now() - t0 }));
    child.kill('SIGTERM');
  });
}

describe('mDNS advertisement and client discover (in a network namespace)', () => {
  it('lists a loopback gateway and one on every interface, by name and usable URL; login takes the name', async () => {
    const ns = await netns();
    const [local, wide] = await Promise.all([
      gateway(ns, { SYNCGATE_MDNS__NAME: 'loopback gateway' }),
      gateway(ns, { SYNCGATE_MDNS__NAME: 'wide gateway', SYNCGATE_HTTP__HOST: '0.0.0.0' }),
    ]);
    const widePort = new URL(wide.url).port;

    const found = await client(ns, ['discover', '--timeout', '3']);
    expect(found.code).toBe(0);
    expect(found.stdout).toContain(`loopback gateway\t${local.url}\t(syncgate `);
    // 0.0.0.0 publishes no URL: the client uses the address the answer came from.
    expect(found.stdout).toContain(`wide gateway\thttp://127.0.0.1:${widePort}\t`);
    expect(found.stdout).toMatch(/found 2 gateways/);

    const login = await client(ns, ['login', 'Loopback Gateway', '--user', 'admin'], { SYNCGATE_PASSWORD: 'admin-password' });
    expect(login.stderr).toBe('');
    expect(login.stdout).toContain(`logged in to ${local.url} as admin`);
    const unknown = await client(ns, ['login', 'no such gateway', '--user', 'admin'], { SYNCGATE_PASSWORD: 'admin-password' });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no gateway named "no such gateway".*found: .*"loopback gateway"/);

    // A clean stop sends the goodbye and closes the multicast socket: quick, nothing left to find.
    for (const g of [local, wide]) {
      const s = await stop(g.child);
      expect(s.code).toBe(0);
      expect(s.ms).toBeLessThan(5000);
    }
    const after = await client(ns, ['discover', '--timeout', '1.5']);
    expect(after.code).toBe(1);
    expect(after.stdout).toMatch(/found no gateway/);
  }, 60_000);

  it('mdns.enabled false: the gateway runs but discover finds nothing', async () => {
    const ns = await netns();
    const g = await gateway(ns, { SYNCGATE_MDNS__ENABLED: 'false', SYNCGATE_MDNS__NAME: 'hidden gateway' });
    const found = await client(ns, ['discover', '--timeout', '2']);
    expect(found.code).toBe(1);
    expect(found.stdout).not.toContain('hidden gateway');
    expect(found.stdout).toMatch(/found no gateway in 2 s/);
    expect((await stop(g.child)).code).toBe(0);
  }, 60_000);

  it('closing a gateway in-process leaves no socket or timer behind (the process ends by itself)', async () => {
    const ns = await netns();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sg-mdns-inproc-'));
    dirs.push(dir);
    const t0 = Date.now();
    const r = await run('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', 'test/fixtures/gateway-advertise-close.ts', dir], { cwd: ROOT, timeout: 30_000 }).catch(
      (e: { stdout: string; stderr: string; killed: boolean; code: unknown; signal: unknown }) => ({ stdout: `failed ${String(e.code)} ${String(e.signal)}${e.killed ? ' (killed: still running after 30 s)' : ''}: ${e.stdout} ${e.stderr}` }),
    );
    expect(r.stdout.trim()).toBe('advertised and closed');
    expect(Date.now() - t0).toBeLessThan(30_000);
  }, 60_000);
});
